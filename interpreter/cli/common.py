"""What the commands share: exit codes, the error reports (text on standard error, and the JSON error
document under ``--format json``), guideline references typed on the command line, and the ``--at`` time."""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..codes import Code
from ..errors import Diagnostic, EvaluationError, GuidelineError, Location
from ..textsafe import escape_surrogates, safe_line

if TYPE_CHECKING:
    from ..api import Guideline

__all__ = [
    "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "echo_json", "error_document",
    "internal_errors", "load_reference", "parse_at", "print_diagnostics", "refuse", "wants_json",
]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

Command = TypeVar("Command", bound=Callable[..., Any])


def internal_errors(fn: Command) -> Command:
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
                echo_json(error_document("internal", message, (), EXIT_INTERNAL, fn.__name__))
            click.echo(safe_line(message), err=True)
            click.echo("please report this with the guideline and facts that caused it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def print_diagnostics(diags: Sequence[Diagnostic]) -> None:
    for d in diags:
        click.echo(d.format(), err=True)


def echo_json(data: Any) -> None:
    """JSON on standard output; lone surrogates from the input are escaped so that it always encodes."""
    click.echo(escape_surrogates(json.dumps(data, indent=2, ensure_ascii=False)))


def _diagnostic_json(d: Diagnostic, kind: str) -> dict[str, Any]:
    data = d.to_json()
    if kind == "facts" and d.path and isinstance(d.path[0], str):
        data["fact"] = d.path[0]
    return data


def error_document(
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


def refuse(
    fmt: str, kind: str, message: str, diagnostics: Sequence[Diagnostic], command: str,
    exit_code: int = EXIT_USAGE, extra: Sequence[dict[str, Any]] = (),
) -> None:
    """Report a refused input: text on standard error, and the JSON error document under --format json."""
    if fmt == "json":
        echo_json(error_document(kind, message, diagnostics, exit_code, command, extra))
    click.echo(safe_line(message), err=True)
    print_diagnostics(diagnostics)
    sys.exit(exit_code)


def wants_json(command: click.Command | None, args: Sequence[str]) -> bool:
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


def load_reference(
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
    from ..api import load
    from ..loading.library import looks_like_path

    where = Location("<command line>")
    problem: Diagnostic | None = None
    if bundled and looks_like_path(ref):
        problem = Diagnostic(
            Code.GUIDELINE_REF_INVALID,
            f"--bundled takes a guideline id, but {ref!r} is written as a file path",
            where,
            hint="drop --bundled to load the file, or give the id alone (e.g. `leukopenia`)",
        )
    elif not bundled and not looks_like_path(ref) and pathlib.Path(ref).is_file():
        problem = Diagnostic(
            Code.GUIDELINE_REF_AMBIGUOUS,
            f"{ref!r} is both a bundled guideline id and the name of a file in the current folder",
            where,
            hint=f"write ./{ref} to use the file, or add --bundled to use the bundled guideline {ref}",
        )
    try:
        if problem is not None:
            raise GuidelineError([problem])
        return load(ref, version, allow_retired=allow_retired)
    except GuidelineError as exc:
        refuse(fmt, "guideline", f"cannot use guideline {ref!r}:", exc.diagnostics, command)
        raise  # pragma: no cover - _refuse exits


def parse_at(text: str | None, time_zone: str | None = None) -> datetime | None:
    """The ``--at`` time, checked with the ``--time-zone`` calendar (a usage error, exit 2, when either is
    bad: no offset, outside years 1..9999 in UTC or in the calendar, an unknown zone)."""
    from ..facts.values import evaluation_calendar

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
            exc.message, param_hint="--time-zone" if exc.code == Code.EVAL_BAD_TIME_ZONE else "--at"
        ) from None
    return at
