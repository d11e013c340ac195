"""SARIF 2.1.0 of a ``ValidationReport``: what code scanners read (GitHub code scanning, GitLab, IDEs).

One run: ``tool.driver`` names the interpreter, its version and one rule per diagnostic code found (sorted);
each diagnostic is one result with its ``ruleId`` (and ``ruleIndex``), ``level`` (``error`` or ``warning``),
``message.text`` (the message, then ``hint: ...`` on its own line) and, when it has a file, a physical
location (``artifactLocation.uri``, and ``region.startLine``/``startColumn`` when known). Related locations
become ``relatedLocations``. Echoed text is made safe as in the ``github`` format (controls and invisible
characters escaped, line breaks kept); lone surrogates become JSON escapes.
"""

from __future__ import annotations

import json
import pathlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..codes import CODES, Code
from ..textsafe import escape_surrogates, safe_block
from .options import PLAIN, FormatOptions

if TYPE_CHECKING:
    from ..errors import Diagnostic, Location
    from ..tooling.validate import ValidationReport

__all__ = ["SARIF_SCHEMA", "sarif_report"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "guideline-interpreter"


def _tool_version() -> str:
    from importlib import metadata  # on first need: importlib.metadata costs ~20 ms at every CLI start

    try:
        return metadata.version(TOOL_NAME)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def rule_summary(code: str) -> str:
    """The one-line description of a diagnostic code (the code registry's summary), for
    ``rules[].shortDescription``."""
    try:
        return CODES[Code(code)].summary
    except ValueError:  # not a registered code: tests/test_codes.py makes this unreachable for our own
        return code.replace("-", " ").capitalize()


def _uri(file: str) -> str | None:
    """A URI reference for ``file``; ``None`` for pseudo-files (``<command line>``, ``<stdin>``, empty)."""
    if not file or file.startswith("<"):
        return None
    path = pathlib.Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix(), safe="/")


def _location(where: Location) -> dict[str, Any] | None:
    uri = _uri(where.file)
    if uri is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if where.line:
        region = {"startLine": where.line}
        if where.column:
            region["startColumn"] = where.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    message = safe_block(d.message, "") + (f"\nhint: {safe_block(d.hint, '')}" if d.hint else "")
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "error" if d.is_error else "warning",
        "message": {"text": message},
    }
    location = _location(d.location)
    if location is not None:
        result["locations"] = [location]
    related = [loc for loc in map(_location, d.related) if loc is not None]
    if related:
        result["relatedLocations"] = [{"id": i, **loc} for i, loc in enumerate(related)]
    return result


def sarif_document(report: ValidationReport) -> dict[str, Any]:
    """The SARIF log as data."""
    codes = sorted({d.code for d in report.diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    rules = [{"id": code, "shortDescription": {"text": rule_summary(code)}} for code in codes]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": _tool_version(), "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": report.exit_code in (0, 1)}],
            "results": [_result(d, index[d.code]) for d in report.diagnostics],
        }],
    }


def sarif_report(report: ValidationReport, options: FormatOptions = PLAIN) -> str:
    text = json.dumps(sarif_document(report), indent=2, ensure_ascii=False)
    return escape_surrogates(text) + "\n"
