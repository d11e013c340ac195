"""Locations, diagnostics and the exception tree.

This module imports nothing else from the package but ``textsafe``, so every stage can use it.
A diagnostic has a stable kebab-case ``code`` (documented in ``docs/diagnostics.md``),
a severity, a message, a location (file, line, column; 1-based) and an optional hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .textsafe import safe_line

__all__ = [
    "Diagnostic",
    "EvaluationError",
    "FactsError",
    "GuidelineError",
    "InterpreterError",
    "Location",
    "Path",
    "Severity",
    "sort_diagnostics",
]

#: A path into a parsed document: mapping keys (str) and list indexes (int).
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a source file. ``line`` and ``column`` are 1-based; 0 means unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a guideline, a test file or a set of facts."""

    code: str
    message: str
    location: Location
    severity: Severity = Severity.ERROR
    path: Path = ()
    hint: str | None = None
    related: tuple[Location, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """``file:line:col: severity[code]: message`` followed by an indented hint line.

        Echoed text (file name, message, hint) is escaped so that each stays on its line (``textsafe``).
        """
        where, code = safe_line(self.location), safe_line(self.code)
        text = f"{where}: {self.severity}[{code}]: {safe_line(self.message)}"
        if self.hint:
            text += f"\n    hint: {safe_line(self.hint)}"
        return text

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": list(self.path),
        }
        if self.hint:
            data["hint"] = self.hint
        if self.related:
            data["related"] = [{"file": r.file, "line": r.line, "column": r.column} for r in self.related]
        return data

    def as_warning(self) -> Diagnostic:
        return Diagnostic(
            self.code, self.message, self.location, Severity.WARNING, self.path, self.hint, self.related
        )

    def as_error(self) -> Diagnostic:
        return Diagnostic(
            self.code, self.message, self.location, Severity.ERROR, self.path, self.hint, self.related
        )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by file, line, column, then code, so output is stable."""
    return sorted(
        diagnostics,
        key=lambda d: (d.location.file, d.location.line, d.location.column, d.code, d.message),
    )


class InterpreterError(Exception):
    """Base class of every error this package raises on purpose."""


class _DiagnosticsError(InterpreterError):
    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sort_diagnostics(diagnostics))
        first = self.diagnostics[0].format() if self.diagnostics else "no details"
        more = len(self.diagnostics) - 1
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(first + suffix)


class GuidelineError(_DiagnosticsError):
    """A guideline file could not be loaded: it has at least one error diagnostic."""


class FactsError(_DiagnosticsError):
    """The facts given for an evaluation are malformed; each diagnostic names a fact."""


class EvaluationError(InterpreterError):
    """An expression failed at run time (division by zero, overflow, a limit).

    Carries the node id and the expression text so the author can find it.
    """

    def __init__(
        self,
        code: str,
        message: str,
        node_id: str | None = None,
        expression: str | None = None,
        location: Location | None = None,
    ) -> None:
        self.code = code
        self.node_id = node_id
        self.expression = expression
        self.location = location
        where = f" in node '{node_id}'" if node_id else ""
        expr = f" evaluating `{expression}`" if expression else ""
        super().__init__(f"{code}: {message}{where}{expr}")
        self.message = message
