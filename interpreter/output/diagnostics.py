"""Diagnostic formats of a ``ValidationReport`` (registered in ``registry.DIAGNOSTIC_FORMATS``; SARIF is in
``sarif.py``):

* ``text``: ``file:line:col: severity[code]: message``, an indented ``hint:`` line, then a summary line.
* ``json``: ``ValidationReport.to_json()`` (documented in docs/diagnostics.md), keys sorted, 2-space indent.
* ``github``: GitHub Actions workflow commands (``::error file=...,line=...,col=...,title=code::message``),
  so problems show as annotations on the pull request, then a plain summary line.

Echoed text is made safe for its format (``textsafe``): one line per diagnostic line in ``text`` (control
characters, line breaks, bidi controls and lone surrogates escaped), one workflow command per diagnostic in
``github`` (line breaks as ``%0A``, everything else as in ``text``); in ``json``, lone
surrogates become ``\\uXXXX`` escapes so that the output is valid JSON and always encodes as UTF-8.

Formatters return text; only the CLI prints it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..textsafe import escape_surrogates, safe_block, safe_line
from .options import PLAIN, FormatOptions

if TYPE_CHECKING:
    from ..errors import Diagnostic
    from ..tooling.validate import ValidationReport

__all__ = ["github_report", "json_report", "summary_line", "text_report"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: ValidationReport) -> str:
    files = _plural(len(report.files), "file")
    if not report.diagnostics:
        return f"{files} checked: no problems found"
    text = f"{files} checked: {_plural(report.errors, 'error')}, {_plural(report.warnings, 'warning')}"
    if report.truncated_files:
        text += (f" (more not shown: {_plural(report.truncated_files, 'file')} had too many problems "
                 "to list; see too-many-diagnostics)")
    return text


def text_report(report: ValidationReport, options: FormatOptions = PLAIN) -> str:
    lines = [d.format() for d in report.diagnostics]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def json_report(report: ValidationReport, options: FormatOptions = PLAIN) -> str:
    text = json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False)
    return escape_surrogates(text) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_line(d: Diagnostic) -> str:
    props = [f"file={_escape_property(safe_line(d.location.file))}"]
    if d.location.line:
        props.append(f"line={d.location.line}")
        if d.location.column:
            props.append(f"col={d.location.column}")
    props.append(f"title={_escape_property(safe_line(d.code))}")
    # line breaks are kept (GitHub shows them; they are %0A on the line), other controls are escaped
    message = safe_block(d.message, "") + (f"\nhint: {safe_block(d.hint, '')}" if d.hint else "")
    command = "error" if d.is_error else "warning"
    return f"::{command} {','.join(props)}::{_escape_data(message)}"


def github_report(report: ValidationReport, options: FormatOptions = PLAIN) -> str:
    lines = [_github_line(d) for d in report.diagnostics]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"

