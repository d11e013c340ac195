"""The `guideline` command line. The only module that imports click.

Exit codes: 0 ok, 1 findings / failed tests / incomplete result, 2 usage or bad input, 3 internal error.

Errors: always as text on standard error. With ``--format json``, a command that refuses its input (exit 2)
or fails (exit 3) also prints one JSON error document on standard output (``schema/error.schema.json``),
so that a host reading one stream always gets JSON. Echoed text is escaped (``textsafe``).
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .errors import Diagnostic, EvaluationError, FactsError, GuidelineError, Location
from .result import Result
from .textsafe import escape_surrogates, safe_line

if TYPE_CHECKING:
    from .api import Guideline

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
            message = f"internal error: {type(exc).__name__}: {exc}"
            if kwargs.get("fmt") == "json":
                _echo_json(_error_document("internal", message, (), EXIT_INTERNAL, fn.__name__))
            click.echo(safe_line(message), err=True)
            click.echo("please report this with the guideline and facts that caused it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _print_diagnostics(diags: Sequence[Diagnostic]) -> None:
    for d in diags:
        click.echo(d.format(), err=True)


def _echo_json(data: Any) -> None:
    """JSON on standard output; lone surrogates from the input are escaped so that it always encodes."""
    click.echo(escape_surrogates(json.dumps(data, indent=2, ensure_ascii=False)))


def _diagnostic_json(d: Diagnostic, kind: str) -> dict[str, Any]:
    data = d.to_json()
    if kind == "facts" and d.path and isinstance(d.path[0], str):
        data["fact"] = d.path[0]
    return data


def _error_document(
    kind: str, message: str, diagnostics: Sequence[Diagnostic], exit_code: int, command: str | None = None,
    extra: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The ``--format json`` error document (``schema/error.schema.json``)."""
    doc: dict[str, Any] = {
        "format_version": 1,
        "error": True,
        "kind": kind,
        "message": message.rstrip(":"),
        "exit_code": exit_code,
        "diagnostics": [_diagnostic_json(d, kind) for d in diagnostics] + list(extra),
    }
    if command:
        doc["command"] = command
    return doc


def _refuse(
    fmt: str, kind: str, message: str, diagnostics: Sequence[Diagnostic], command: str,
    exit_code: int = EXIT_USAGE, extra: Sequence[dict[str, Any]] = (),
) -> None:
    """Report a refused input: text on standard error, and the JSON error document under --format json."""
    if fmt == "json":
        _echo_json(_error_document(kind, message, diagnostics, exit_code, command, extra))
    click.echo(safe_line(message), err=True)
    _print_diagnostics(diagnostics)
    sys.exit(exit_code)


def _wants_json(command: click.Command | None, args: Sequence[str]) -> bool:
    """Whether ``args`` ask ``command`` for ``--format json`` (and the command offers it)."""
    if command is None:
        return False
    offers = any(
        isinstance(p, click.Option) and "--format" in p.opts and isinstance(p.type, click.Choice)
        and "json" in p.type.choices
        for p in command.params
    )
    if not offers:
        return False
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--format=json" or (arg == "--format" and i + 1 < len(args) and args[i + 1] == "json"):
            return True
    return False


class _Main(click.Group):
    """The command group; under ``--format json`` a command-line error is also printed as a JSON error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["guideline.raw_args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raw: list[str] = ctx.meta.get("guideline.raw_args", [])
            name = next((a for a in raw if a in self.commands), None)
            if name is not None and _wants_json(self.commands[name], raw[raw.index(name) + 1 :]):
                option = getattr(exc, "param_hint", None)
                param = getattr(exc, "param", None)
                if not isinstance(option, str) and param is not None:
                    option = (getattr(param, "opts", None) or [param.name or ""])[0]
                code = exc.exit_code if exc.exit_code in (EXIT_USAGE, EXIT_INTERNAL) else EXIT_USAGE
                usage: dict[str, Any] = {
                    "code": "usage-error", "severity": "error", "message": exc.format_message(),
                    "file": "<command line>", "line": 0, "column": 0, "path": [],
                }
                if isinstance(option, str) and option:
                    usage["option"] = option
                _echo_json(_error_document("usage", exc.format_message(), (), code, name, [usage]))
            raise


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guideline-interpreter")
def main() -> None:
    """Validate, evaluate and test clinical guidelines written as YAML decision trees."""


# guideline references ----------------------------------------------------------------------------------
def _load_reference(
    ref: str,
    version: str | None,
    *,
    bundled: bool,
    allow_retired: bool = False,
    fmt: str = "text",
    command: str = "render",
) -> Guideline:
    """``api.load`` for a reference typed on the command line; exits 2 with the diagnostics when refused.

    On top of the API's rules, a bare id that also names a file in the current folder is ambiguous here (the
    user may mean the file): refused (``guideline-ref-ambiguous``) unless ``--bundled`` says it is the id.
    """
    from .api import load
    from .loading.library import looks_like_path

    where = Location("<command line>")
    problem: Diagnostic | None = None
    if bundled and looks_like_path(ref):
        problem = Diagnostic(
            "guideline-ref-invalid",
            f"--bundled takes a guideline id, but {ref!r} is written as a file path",
            where,
            hint="drop --bundled to load the file, or give the id alone (e.g. `leukopenia`)",
        )
    elif not bundled and not looks_like_path(ref) and pathlib.Path(ref).is_file():
        problem = Diagnostic(
            "guideline-ref-ambiguous",
            f"{ref!r} is both a bundled guideline id and the name of a file in the current folder",
            where,
            hint=f"write ./{ref} to use the file, or add --bundled to use the bundled guideline {ref}",
        )
    try:
        if problem is not None:
            raise GuidelineError([problem])
        return load(ref, version, allow_retired=allow_retired)
    except GuidelineError as exc:
        _refuse(fmt, "guideline", f"cannot use guideline {ref!r}:", exc.diagnostics, command)
        raise  # pragma: no cover - _refuse exits


BUNDLED_OPTION = click.option(
    "--bundled",
    is_flag=True,
    help="GUIDELINE is a bundled guideline id, even if a file of that name is in the current folder.",
)


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
    from .output.reporters import REPORTERS
    from .tooling.validate import validate_paths

    report = validate_paths(list(paths), strict=strict, lock_path=lock_path)
    click.echo(REPORTERS[fmt](report), nl=False)
    sys.exit(report.exit_code)


# evaluate ---------------------------------------------------------------------------------------------
def _parse_at(text: str | None, time_zone: str | None = None) -> datetime | None:
    """The ``--at`` time, checked with the ``--time-zone`` calendar (a usage error, exit 2, when either is
    bad: no offset, outside years 1..9999 in UTC or in the calendar, an unknown zone)."""
    from .errors import EvaluationError
    from .facts.values import evaluation_calendar

    shown = json.dumps(text[:64] + ("..." if len(text) > 64 else ""), ensure_ascii=True) if text else ""
    at: datetime | None = None
    if text is not None:
        try:
            at = datetime.fromisoformat(text) if len(text) <= 64 else None
        except ValueError:
            at = None
        if at is None:
            raise click.BadParameter(f"{shown} is not an ISO 8601 time", param_hint="--at")
        if at.tzinfo is None or at.utcoffset() is None:
            raise click.BadParameter(f"{shown} needs a time zone offset, e.g. +00:00", param_hint="--at")
    try:
        evaluation_calendar(at if at is not None else datetime.now(UTC), time_zone)
    except EvaluationError as exc:
        raise click.BadParameter(
            exc.message, param_hint="--time-zone" if exc.code == "eval-bad-time-zone" else "--at"
        ) from None
    return at


def _render_text(result: Result, explain: bool) -> str:
    from .output.render import result_text

    return result_text(result, explain=explain)


@main.command()
@click.argument("guideline_ref", metavar="GUIDELINE")
@click.argument("facts_file", metavar="FACTS", type=click.File("rb"))
@click.option("--version", "version", default=None, help="Pin the guideline version (bundled ids).")
@click.option("--at", "at", default=None, help="As-of time, ISO 8601 with offset (default: now).")
@click.option(
    "--time-zone",
    "time_zone",
    default=None,
    help="IANA time zone of the calendar days (e.g. Europe/Paris; default: the offset of --at, UTC for now).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--explain", is_flag=True, help="Show why: every decision with the values it used.")
@BUNDLED_OPTION
@_internal_errors
def evaluate(
    guideline_ref: str,
    facts_file: Any,
    version: str | None,
    at: str | None,
    time_zone: str | None,
    fmt: str,
    explain: bool,
    bundled: bool,
) -> None:
    """Evaluate GUIDELINE (a bundled id such as `leukopenia`, or a file) against FACTS (a JSON file, or -).

    GUIDELINE is a bundled guideline id (`leukopenia`) or a file path. It is a path only when written as one:
    with a folder separator (`./leukopenia`, `dir/x`) or ending in .yaml/.yml. An id that is also the name
    of a file in the current folder is refused as ambiguous: write `./NAME` for the file, or add --bundled.

    Exits 0 when the result is complete, 1 when it is incomplete (some decision needs more facts),
    2 for bad facts or a guideline that cannot be used, 3 for an internal error.
    """
    from .facts.json import read_facts

    as_of = _parse_at(at, time_zone)
    g = _load_reference(guideline_ref, version, bundled=bundled, fmt=fmt, command="evaluate")
    name = getattr(facts_file, "name", "<stdin>")
    fname = "<stdin>" if name in ("-", "<stdin>") else str(name)
    try:
        facts = read_facts(facts_file, file=fname)  # bounded: never reads past the size limit
        result = g.evaluate(facts, as_of, trace=True, facts_source=fname, time_zone=time_zone)
    except FactsError as exc:
        # the count of the errors not shown ("... and N more") comes last
        diags = sorted(exc.diagnostics, key=lambda d: d.code == "fact-too-many-errors")
        _refuse(fmt, "facts", "the facts were refused; nothing was evaluated:", diags, "evaluate")
        raise  # pragma: no cover - _refuse exits
    except EvaluationError as exc:
        # a guideline that fails for these facts (division by zero, a dose of zero or less, the step limit)
        # is a located guideline error, exit 2; exit 3 only for the codes that mean a bug
        code = EXIT_INTERNAL if exc.internal else EXIT_USAGE
        kind = "internal" if exc.internal else "evaluation"
        located = exc.location is not None
        diag = exc.diagnostic() if located else Diagnostic(exc.code, exc.message, Location(g.file))
        node = {"node": exc.node_id} if exc.node_id else {}
        if fmt == "json":
            extra = [{**diag.to_json(), **node}]
            _echo_json(_error_document(kind, "evaluation failed", (), code, "evaluate", extra))
        if located:
            click.echo("evaluation failed; nothing was recommended:", err=True)
            _print_diagnostics([diag])
        else:
            click.echo(safe_line(f"evaluation failed: {exc}"), err=True)
        sys.exit(code)
    if fmt == "json":
        _echo_json(result.to_json())
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
    from .tooling.testing import run_tests

    targets = list(paths) or [pathlib.Path("guidelines")]
    for p in targets:
        if not p.exists():
            raise click.BadParameter(f"'{safe_line(p)}' does not exist", param_hint="PATHS")
    report = run_tests(targets)
    show_coverage = show_coverage or min_coverage is not None
    low = [
        c for c in report.coverage.values() if min_coverage is not None and c.percent + 1e-9 < min_coverage
    ]
    if fmt == "json" and not report.files:
        missing = Diagnostic("usage-error", "no test files found under the paths given", Location(""))
        _refuse(fmt, "usage", "no test files found", (), "test", extra=[missing.to_json()])
    if fmt == "json":
        _echo_json(

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
                }

        )
    else:
        for f in report.files:
            _print_diagnostics(f.diagnostics)
            for c in f.cases:
                if not c.passed:
                    click.echo(f"FAIL {safe_line(c.location)}: {safe_line(c.name)}")
                    for line in c.diff:
                        click.echo(f"    {safe_line(line)}")
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
                        click.echo(f"  not reached ({kind}): {safe_line(', '.join(items))}")
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
    from .tooling.validate import lock_paths

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
@BUNDLED_OPTION
@_internal_errors
def render(guideline_ref: str, fmt: str, bundled: bool) -> None:
    """Render GUIDELINE (bundled id or file) for review: Markdown with a diagram, or a Mermaid flowchart.

    GUIDELINE is a bundled guideline id (`leukopenia`) or a file path. It is a path only when written as one:
    with a folder separator (`./leukopenia`, `dir/x`) or ending in .yaml/.yml. An id that is also the name
    of a file in the current folder is refused as ambiguous: write `./NAME` for the file, or add --bundled.
    """
    from .output.render import guideline_markdown, guideline_mermaid

    g = _load_reference(guideline_ref, None, bundled=bundled, allow_retired=True)
    model = g.compiled.model
    click.echo(guideline_markdown(model) if fmt == "markdown" else guideline_mermaid(model), nl=False)


# list -------------------------------------------------------------------------------------------------
@main.command("list")
@_internal_errors
def list_cmd() -> None:
    """List the bundled guidelines: id, version, status, file."""
    from .loading.library import list_guidelines

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
