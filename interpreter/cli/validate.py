"""``guideline validate``: check guideline files and folders, report every problem in one report."""

from __future__ import annotations

import pathlib
import sys

import click

from ..output.registry import DIAGNOSTIC_FORMATS
from .common import internal_errors
from .options import format_option, lock_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@format_option(DIAGNOSTIC_FORMATS)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@lock_option("The approved-content lock file (default: the nearest approved.lock above each file).")
@internal_errors
def validate(paths: tuple[pathlib.Path, ...], fmt: str, strict: bool, lock_path: pathlib.Path | None) -> None:
    """Check guideline files and folders (*.guideline.yaml): schema, expressions, tree, lifecycle, lock."""
    from ..tooling.validate import validate_paths

    report = validate_paths(list(paths), strict=strict, lock_path=lock_path)
    click.echo(DIAGNOSTIC_FORMATS[fmt](report), nl=False)
    sys.exit(report.exit_code)
