"""``guideline examples``: the bundled example patients."""

from __future__ import annotations

import sys

import click

from .common import EXIT_USAGE, internal_errors


@click.command("examples")
@click.argument("name", required=False)
@click.option("--path", "path_only", is_flag=True, help="Print where example NAME is, not its facts.")
@internal_errors
def examples_cmd(name: str | None, path_only: bool) -> None:
    """List the bundled example patients (name and file), or print the facts of example NAME.

    \b
    Evaluate one:
      guideline examples NAME | guideline evaluate leukopenia - --at 2026-11-24T09:00:00Z
    """
    from ..loading.resources import example_files

    found = example_files()
    if name is None and path_only:
        click.echo("error: --path needs the NAME of an example", err=True)
        sys.exit(EXIT_USAGE)
    if name is None:
        for key, file in found.items():
            click.echo(f"{key}\t{file}")
        return
    path = found.get(name.removesuffix(".json"))
    if path is None:
        known = ", ".join(found) or "none"
        message = f"no bundled example is named {name[:80]!a}; known: {known}"
        click.echo(f"error[example-not-found]: {message}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(str(path) if path_only else path.read_text(encoding="utf-8"), nl=path_only)
