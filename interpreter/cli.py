"""The `guideline` command line. The only module that imports click.

Exit codes: 0 ok, 1 findings / failed tests / incomplete result, 2 usage or bad input, 3 internal error.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

import click

from .errors import Diagnostic, EvaluationError, FactsError, GuidelineError, Location
from .result import Result

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

F = TypeVar("F", bound=Callable[..., Any])


def _internal_errors(fn: F) -> F:
    """Turn an unexpected exception into exit code 3 with a short message (no raw traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:
            click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("please report this with the guideline and facts that caused it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _print_diagnostics(diags: Sequence[Diagnostic]) -> None:
    for d in diags:
        click.echo(d.format(), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guideline-interpreter")
def main() -> None:
    """Validate, evaluate and test clinical guidelines written as YAML decision trees."""


# validate ---------------------------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="The approved-content lock file (default: the nearest approved.lock above each file).",
)
@_internal_errors
def validate(paths: tuple[pathlib.Path, ...], fmt: str, strict: bool, lock_path: pathlib.Path | None) -> None:
    """Check guideline files and folders (*.guideline.yaml): schema, expressions, tree, lifecycle, lock."""
    from .reporters import REPORTERS
    from .validate import validate_paths

    report = validate_paths(list(paths), strict=strict, lock_path=lock_path)
    click.echo(REPORTERS[fmt](report), nl=False)
    sys.exit(report.exit_code)


# evaluate ---------------------------------------------------------------------------------------------
def _parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not an ISO 8601 time", param_hint="--at") from None
    if at.tzinfo is None:
        raise click.BadParameter(f"'{text}' needs a time zone offset, e.g. {text}+00:00", param_hint="--at")
    return at


def _render_text(result: Result, explain: bool) -> str:
    from .render import result_text

    return result_text(result, explain=explain)


@main.command()
@click.argument("guideline_ref", metavar="GUIDELINE")
@click.argument("facts_file", metavar="FACTS", type=click.File("rb"))
@click.option("--version", "version", default=None, help="Pin the guideline version (bundled ids).")
@click.option("--at", "at", default=None, help="As-of time, ISO 8601 with offset (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--explain", is_flag=True, help="Show why: every decision with the values it used.")
@_internal_errors
def evaluate(
    guideline_ref: str, facts_file: Any, version: str | None, at: str | None, fmt: str, explain: bool
) -> None:
    """Evaluate GUIDELINE (a file, or a bundled id such as `leukopenia`) against FACTS (a JSON file, or -).

    Exits 0 when the result is complete, 1 when it is incomplete (some decision needs more facts),
    2 for bad facts or a guideline that cannot be used, 3 for an internal error.
    """
    from .api import load
    from .facts import parse_facts_json

    as_of = _parse_at(at)
    try:
        g = load(guideline_ref, version)
    except GuidelineError as exc:
        click.echo(f"cannot use guideline '{guideline_ref}':", err=True)
        _print_diagnostics(exc.diagnostics)
        sys.exit(EXIT_USAGE)
    name = getattr(facts_file, "name", "<stdin>")
    fname = "<stdin>" if name in ("-", "<stdin>") else str(name)
    try:
        raw = facts_file.read()
        facts = parse_facts_json(raw.decode("utf-8") if isinstance(raw, bytes) else raw, file=fname)
        result = g.evaluate(facts, as_of, trace=True, facts_source=fname)
    except UnicodeDecodeError:
        _print_diagnostics([Diagnostic("fact-encoding", "the facts file is not UTF-8", Location(fname))])
        sys.exit(EXIT_USAGE)
    except FactsError as exc:
        click.echo("the facts were refused; nothing was evaluated:", err=True)
        _print_diagnostics(exc.diagnostics)
        sys.exit(EXIT_USAGE)
    except EvaluationError as exc:
        click.echo(f"evaluation failed: {exc}", err=True)
        usage = exc.code.startswith("guideline-") or exc.code == "eval-naive-time"
        sys.exit(EXIT_USAGE if usage else EXIT_INTERNAL)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(_render_text(result, explain), nl=False)
    sys.exit(EXIT_OK if result.complete else EXIT_FINDINGS)


# test -------------------------------------------------------------------------------------------------
@main.command("test")
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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_internal_errors
def test_cmd(
    paths: tuple[pathlib.Path, ...], show_coverage: bool, min_coverage: float | None, fmt: str
) -> None:
    """Run guideline test files (*.tests.yaml) under PATHS (default: guidelines/)."""
    from .testing import run_tests

    targets = list(paths) or [pathlib.Path("guidelines")]
    for p in targets:
        if not p.exists():
            raise click.BadParameter(f"'{p}' does not exist", param_hint="PATHS")
    report = run_tests(targets)
    show_coverage = show_coverage or min_coverage is not None
    low = [
        c for c in report.coverage.values() if min_coverage is not None and c.percent + 1e-9 < min_coverage
    ]
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "passed": report.passed,
                    "failed": report.failed,
                    "errors": [d.to_json() for d in report.errors],
                    "files": [
                        {
                            "file": f.file,
                            "cases": [
                                {
                                    "name": c.name,
                                    "passed": c.passed,
                                    "line": c.location.line,
                                    "diff": list(c.diff),
                                }
                                for c in f.cases
                            ],
                        }
                        for f in report.files
                    ],
                    "coverage": [c.to_json() for c in report.coverage.values()],
                },
                indent=2,
            )
        )
    else:
        for f in report.files:
            _print_diagnostics(f.diagnostics)
            for c in f.cases:
                if not c.passed:
                    click.echo(f"FAIL {c.location}: {c.name}")
                    for line in c.diff:
                        click.echo(f"    {line}")
        if show_coverage:
            for cov in report.coverage.values():
                click.echo(
                    f"coverage {cov.guideline}: {cov.percent:.1f}% "
                    f"(nodes {sum(cov.nodes.values())}/{len(cov.nodes)}, "
                    f"branches {sum(cov.branches.values())}/{len(cov.branches)}, "
                    f"recommendations {sum(cov.recommendations.values())}/{len(cov.recommendations)})"
                )
                for kind, items in cov.missed().items():
                    if items:
                        click.echo(f"  not reached ({kind}): {', '.join(items)}")
        click.echo(
            f"{report.passed} passed, {report.failed} failed"
            + (f", {len(report.errors)} file errors" if report.errors else "")
        )
        for cov in low:
            click.echo(
                f"coverage of {cov.guideline} is {cov.percent:.1f}%, below the minimum {min_coverage:g}%",
                err=True,
            )
    if not report.files:
        click.echo("no test files found", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if report.ok and not low else EXIT_FINDINGS)


# lock -------------------------------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="The lock file to write (default: the nearest approved.lock, or a new one in the first folder).",
)
@_internal_errors
def lock(paths: tuple[pathlib.Path, ...], lock_path: pathlib.Path | None) -> None:
    """Record the content hash of every approved guideline version under PATHS that is not locked yet.

    Every file is validated first; nothing is written if any has an error. Existing entries are never
    rewritten: changed approved content must get a new version number.
    """
    from .validate import lock_paths

    report = lock_paths(list(paths), lock_path=lock_path)
    _print_diagnostics(report.diagnostics)
    for entry in report.added:
        click.echo(f"locked {entry.id} {entry.version} {entry.content_hash}")
    if not report.added and report.exit_code == EXIT_OK:
        click.echo("nothing to lock: every approved version is already locked")
    for f in report.lock_files:
        click.echo(f"wrote {f}")
    sys.exit(report.exit_code)


# render -----------------------------------------------------------------------------------------------
@main.command()
@click.argument("guideline_ref", metavar="GUIDELINE")
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "mermaid"]), default="markdown", show_default=True
)
@_internal_errors
def render(guideline_ref: str, fmt: str) -> None:
    """Render GUIDELINE (file or bundled id) for review: Markdown with a diagram, or a Mermaid flowchart."""
    from .api import load
    from .render import guideline_markdown, guideline_mermaid

    try:
        g = load(guideline_ref, allow_retired=True)
    except GuidelineError as exc:
        _print_diagnostics(exc.diagnostics)
        sys.exit(EXIT_USAGE)
    model = g.compiled.model
    click.echo(guideline_markdown(model) if fmt == "markdown" else guideline_mermaid(model), nl=False)


# list -------------------------------------------------------------------------------------------------
@main.command("list")
@_internal_errors
def list_cmd() -> None:
    """List the bundled guidelines: id, version, status, file."""
    from .library import list_guidelines

    for e in list_guidelines():
        click.echo(f"{e.id}\t{e.version}\t{e.status}\t{e.path.name}")


# examples ---------------------------------------------------------------------------------------------
@main.command("examples")
@click.argument("name", required=False)
@click.option("--path", "path_only", is_flag=True, help="Print where example NAME is, not its facts.")
@_internal_errors
def examples_cmd(name: str | None, path_only: bool) -> None:
    """List the bundled example patients (name and file), or print the facts of example NAME.

    \b
    Evaluate one:
      guideline examples NAME | guideline evaluate leukopenia - --at 2026-11-24T09:00:00Z
    """
    from .bundled import example_files

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


def run() -> None:  # pragma: no cover - console entry for `python -m interpreter`
    main(prog_name="guideline")


if __name__ == "__main__":  # pragma: no cover
    run()


__all__ = ["main"]
