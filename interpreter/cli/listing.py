"""``guideline list``: the bundled guidelines."""

from __future__ import annotations

import click

from .common import internal_errors


@click.command("list")
@internal_errors
def list_cmd() -> None:
    """List the bundled guidelines: id, version, status, file."""
    from ..loading.library import list_guidelines

    for e in list_guidelines():
        click.echo(f"{e.id}\t{e.version}\t{e.status}\t{e.path.name}")
