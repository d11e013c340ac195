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

from .codes import CODES, Stage
from .textsafe import safe_line

__all__ = [
    "INTERNAL_EVALUATION_CODES",
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
    """Base class of every error this package raises on purpose.

    Every one pickles and unpickles to an equal object (equality is by class and data, not identity), so a
    multiprocessing or distributed host can ship it back to its caller.
    """

    def _data(self) -> tuple[Any, ...]:
        return self.args

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, InterpreterError)
        return self._data() == other._data()

    def __hash__(self) -> int:
        return hash((self.__class__, self._data()))


class _DiagnosticsError(InterpreterError):
    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sort_diagnostics(diagnostics))
        first = self.diagnostics[0].format() if self.diagnostics else "no details"
        more = len(self.diagnostics) - 1
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(first + suffix)

    def _data(self) -> tuple[Any, ...]:
        return (self.diagnostics,)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.diagnostics,))


class GuidelineError(_DiagnosticsError):
    """A guideline file could not be loaded: it has at least one error diagnostic."""


class FactsError(_DiagnosticsError):
    """The facts given for an evaluation are malformed; each diagnostic names a fact."""


#: ``EvaluationError`` codes that are bugs of the interpreter or of the host's code, never caused by a
#: guideline and a patient's facts alone: the CLI exits 3 for these ("internal error"), 2 for every other
#: code.
INTERNAL_EVALUATION_CODES = frozenset(
    code
    for code, info in CODES.items()
    if info.internal and info.stage in (Stage.EXPRESSION, Stage.EVALUATION)
)


class EvaluationError(InterpreterError):
    """The guideline could not be applied to these facts: an expression or a dose failed at run time (division
    by zero, the square root of a negative number, a dose of zero or less), a walk exceeded the step limit, or
    the as-of time does not fit the guideline.

    Carries the code, the node id, the expression text and, for a failure inside the guideline, the
    ``location`` (file, line, column) of the expression, dose or node; ``str()`` is then
    ``file:line:col: error[code]: message``, like a diagnostic.
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
        self.message = message
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" in node '{self.node_id}'" if self.node_id else ""
        expr = f" evaluating `{self.expression}`" if self.expression else ""
        if self.location is not None:
            return f"{self.location}: error[{self.code}]: {self.message}{where}{expr}"
        return f"{self.code}: {self.message}{where}{expr}"

    @property
    def internal(self) -> bool:
        """True for the codes that mean a bug (``INTERNAL_EVALUATION_CODES``), not a guideline problem."""
        return self.code in INTERNAL_EVALUATION_CODES

    def diagnostic(self) -> Diagnostic:
        """This error as a diagnostic (located at the guideline file when no better place is known)."""
        where = f" in node '{self.node_id}'" if self.node_id else ""
        expr = f" evaluating `{self.expression}`" if self.expression else ""
        location = self.location or Location("<evaluation>")
        return Diagnostic(self.code, f"{self.message}{where}{expr}", location)

    def located(self, location: Location, node_id: str | None = None) -> EvaluationError:
        """The same error at ``location`` (and ``node_id``, when given)."""
        return EvaluationError(
            self.code,
            self.message,
            node_id if node_id is not None else self.node_id,
            self.expression,
            location,
        )

    def _data(self) -> tuple[Any, ...]:
        return (self.code, self.message, self.node_id, self.expression, self.location)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._data())
