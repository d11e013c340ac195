"""The checked tree and the checker's state: ``CheckedNode`` (type, generated code, constant value),
``NOT_CONSTANT``, ``ERROR_TYPE``, ``Refused``, and ``CheckerBase`` (diagnostics at a column, constants,
constant folding). ``quantities.QuantityChecker`` and ``check.ExpressionChecker`` build on it."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import DecimalException
from typing import TYPE_CHECKING, Any, Final

from ..errors import Diagnostic, Location, Path
from ..values.types import ValueType
from .codegen import CodeBuilder, evaluation_error, fold_constant
from .parse import ExpressionLimits

if TYPE_CHECKING:  # quantities builds on this module
    from .quantities import Threshold

__all__ = ["ERROR_TYPE", "NOT_CONSTANT", "CheckedNode", "CheckerBase", "Refused"]


class Refused(Exception):
    """Raised inside the checker for an error that stops compilation (already recorded)."""


#: The ``const`` of a ``CheckedNode`` whose value is known only at run time.
NOT_CONSTANT: Final = object()


@dataclass(slots=True)
class CheckedNode:
    """A checked sub-expression: type, generated code, and what we know about it."""

    type: ValueType
    code: ast.expr
    #: the code may give UNKNOWN
    nullable: bool
    const: Any = NOT_CONSTANT
    #: a plain number constant written without unit (read in a quantity's unit when compared)
    bare: bool = False
    #: the input/derived name when the expression is just that name
    name: str | None = None

    @property
    def is_const(self) -> bool:
        return self.const is not NOT_CONSTANT


#: The type of a sub-expression that was refused (its diagnostic is recorded).
ERROR_TYPE = ValueType("string", None, frozenset({"<error>"}))


class CheckerBase:
    """What the checker of one expression accumulates: diagnostics, the names and functions it reads, the
    thresholds it compares with, and the generated code's closure (``builder``)."""

    def __init__(
        self,
        source: str,
        env: Mapping[str, ValueType],
        location: Location,
        path: Path,
        limits: ExpressionLimits,
        shift: int = 0,
        at: Callable[[int], Location] | None = None,
    ) -> None:
        self.source = source
        self.shift = shift
        self.at = at
        self.env = env
        self.location = location
        self.path = path
        self.limits = limits
        self.diagnostics: list[Diagnostic] = []
        self.names: set[str] = set()
        self.functions: set[str] = set()
        self.thresholds: list[Threshold] = []
        self.builder = CodeBuilder()

    def loc(self, node: ast.AST | None) -> Location:
        base = self.location
        if node is None or not hasattr(node, "col_offset"):
            return base
        col = self.shift + int(getattr(node, "col_offset", 0))
        if self.at is not None:
            return self.at(col)
        return Location(base.file, base.line, base.column + col if base.column else 0)

    def error(
        self, code: str, message: str, node: ast.AST | None = None, hint: str | None = None
    ) -> CheckedNode:
        self.diagnostics.append(Diagnostic(code, message, self.loc(node), path=self.path, hint=hint))
        return CheckedNode(ERROR_TYPE, ast.Constant(None), False)

    def const(self, t: ValueType, value: object, *, bare: bool = False) -> CheckedNode:
        return CheckedNode(t, self.builder.bind(value), False, value, bare)

    def fold(self, code: ast.expr, node: ast.AST) -> object:
        """Evaluate generated code whose operands are all constants (at load time)."""
        try:
            return fold_constant(code, self.builder.bindings)
        except DecimalException as exc:
            err = evaluation_error(exc, self.source)
            self.error(err.code, f"{err.message} (in a constant part of the expression)", node)
            raise Refused from None
