"""``guideline lock``: record the content hash of every approved guideline version not locked yet."""

from __future__ import annotations

import pathlib
import sys

import click

from .common import EXIT_OK, internal_errors, print_diagnostics
from .options import lock_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@lock_option("The lock file to write (default: the nearest approved.lock, or a new one in the first folder).")
@internal_errors
def lock(paths: tuple[pathlib.Path, ...], lock_path: pathlib.Path | None) -> None:
    """Record the content hash of every approved guideline version under PATHS that is not locked yet.

    Every file is validated first; nothing is written if any has an error. Existing entries are never
    rewritten: changed approved content must get a new version number.
    """
    from ..tooling.validate import lock_paths

    report = lock_paths(list(paths), lock_path=lock_path)
    print_diagnostics(report.diagnostics)
    for entry in report.added:
        click.echo(f"locked {entry.id} {entry.version} {entry.content_hash}")
    if not report.added and report.exit_code == EXIT_OK:
        click.echo("nothing to lock: every approved version is already locked")
    for f in report.lock_files:
        click.echo(f"wrote {f}")
    sys.exit(report.exit_code)
