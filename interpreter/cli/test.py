"""``guideline test``: run guideline test files, report failures and coverage."""

from __future__ import annotations

import pathlib
import sys

import click

from ..codes import Code
from ..errors import Diagnostic, Location
from ..output.options import FormatOptions
from ..output.registry import TEST_REPORT_FORMATS
from ..output.test_reports import below_minimum_text
from ..textsafe import safe_line
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, internal_errors, print_diagnostics, refuse
from .options import format_option


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=pathlib.Path))
@click.option(
    "--coverage", "show_coverage", is_flag=True, help="Report nodes, branches and recommendations reached."
)
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    help="Fail when coverage of any guideline is below this percentage (implies --coverage).",
)
@click.option(
    "--min-condition-coverage",
    type=click.FloatRange(0, 100),
    default=None,
    help="Fail when condition coverage (every atomic condition seen true, false and unknown) of any "
    "guideline is below this percentage (implies --coverage).",
)
@format_option(TEST_REPORT_FORMATS)
@internal_errors
def test_cmd(
    paths: tuple[pathlib.Path, ...], show_coverage: bool, min_coverage: float | None,
    min_condition_coverage: float | None, fmt: str,
) -> None:
    """Run guideline test files (*.tests.yaml) under PATHS (default: guidelines/)."""
    from ..tooling.testing import run_tests

    targets = list(paths) or [pathlib.Path("guidelines")]
    for p in targets:
        if not p.exists():
            raise click.BadParameter(f"'{safe_line(p)}' does not exist", param_hint="PATHS")
    wanted = show_coverage or min_coverage is not None or min_condition_coverage is not None
    report = run_tests(targets, conditions=wanted)
    if not report.files and fmt != "text":
        missing = Diagnostic(Code.USAGE_ERROR, "no test files found under the paths given", Location(""))
        refuse(fmt, "usage", "no test files found", (), "test", extra=[missing.to_json()])
    options = FormatOptions(show_coverage=wanted)
    below = [] if min_coverage is None else [
        c for c in report.coverage.values() if c.percent + 1e-9 < min_coverage
    ]
    below_conditions = [] if min_condition_coverage is None else [
        c for c in report.conditions.values() if c.percent + 1e-9 < min_condition_coverage
    ]
    if fmt == "text":  # the test files that could not be run, on standard error
        print_diagnostics(report.errors)
    click.echo(TEST_REPORT_FORMATS[fmt](report, options), nl=False)
    if min_coverage is not None and fmt != "json":  # the JSON report has the coverage; exit 1 says it is low
        click.echo(below_minimum_text(below, min_coverage), nl=False, err=True)
    if min_condition_coverage is not None and fmt != "json":
        click.echo(below_minimum_text(below_conditions, min_condition_coverage, "condition coverage"),
                   nl=False, err=True)
    if not report.files:
        click.echo("no test files found", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if report.ok and not below and not below_conditions else EXIT_FINDINGS)
