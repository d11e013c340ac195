"""The expression language: compile once at load, evaluate many times, fast and thread-safe.

``compile_expression`` parses the text with Python's own parser (``ast.parse(mode='eval')``), refuses every
construct that is not on a short allow-list, type- and unit-checks the tree against the declared inputs
and derived values, folds constants, and generates a small Python function for it.

Generated code. The body of the generated function is built only from AST nodes this module creates
itself (never from the author's tree): reads of the values mapping (``v['anc']``), comparisons, Decimal
context methods, the registered function implementations and the ``UNKNOWN`` singleton. It is compiled
with ``compile()`` and executed with empty ``__builtins__``; constants and helpers are closure variables.
Temporaries (``_t1 := ...``) are locals of the generated function, so one compiled expression may be
evaluated from any number of threads at once: there is no shared mutable state.

Semantics:

* Numbers and quantities are ``Decimal``; numeric literals are read exactly from the source text (never
  through ``float``). Booleans are never numbers. Arithmetic uses ``functions.DECIMAL_CONTEXT``
  (28 significant digits, half even, trapping overflow, invalid operations and division by zero).
* A quantity compares with a quantity of the same dimension (converted by an exact factor chosen at load
  time) or with a number *constant*, which is read in the quantity's declared unit. ``q(820, '/mm3')`` is
  a quantity literal converted at load time: ``anc < q(820, '/mm3')`` with ``anc`` in ``10*9/L`` becomes
  exactly ``anc < 0.82``.
* ``+``/``-`` need numbers or quantities of one dimension (result in the left operand's unit); ``*`` and
  ``/`` of a quantity and a number keep the unit; a quantity times or divided by a quantity gives a plain
  number computed from the values in their declared units (for one dimension the right operand is first
  converted to the left's unit, so ``weight_a / weight_b`` is a true ratio); a number divided by a
  quantity is refused.
* Three-valued logic (Kleene): ``false and unknown`` is false, ``true or unknown`` is true, every other
  use of unknown gives unknown; comparisons, arithmetic and function calls with an unknown argument give
  unknown. Python's ``and``/``or`` are never applied to possibly-unknown values.
"""

from __future__ import annotations

import ast
import io
import re
import threading
import tokenize
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import (
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Subnormal,
    Underflow,
)
from fractions import Fraction
from types import CodeType
from typing import Any, Final

from ..errors import Diagnostic, EvaluationError, Location, Path
from ..values import units
from ..values.numbers import CONVERSION_CONTEXT, DECIMAL_CONTEXT
from ..values.suggest import did_you_mean
from ..values.text import echo
from ..values.types import BOOLEAN, NUMBER, STRING, ValueType
from ..values.unknown import UNKNOWN
from .functions import REGISTRY, ArgInfo, SignatureError

__all__ = [
    "DEFAULT_LIMITS",
    "EVALUATION_EXCEPTIONS",
    "CompiledExpression",
    "ExpressionLimits",
    "Threshold",
    "compile_expression",
    "evaluation_error",
]


@dataclass(frozen=True, slots=True)
class ExpressionLimits:
    """Limits checked at compile time (an expression over a limit is refused with a diagnostic)."""

    #: characters of source text (``expr-too-long``)
    max_length: int = 2000
    #: nesting depth of the syntax tree, and of brackets (``expr-too-deep``)
    max_depth: int = 32
    #: syntax-tree nodes (``expr-too-long``)
    max_nodes: int = 600
    #: strings in an ``in [...]`` list (``expr-too-long``)
    max_list_items: int = 200
    #: significant digits of a numeric literal (``expr-bad-number``); equals the arithmetic precision
    max_number_digits: int = 28
    #: largest |exponent| of a numeric literal in scientific form (``expr-bad-number``)
    max_number_exponent: int = 100


DEFAULT_LIMITS: Final = ExpressionLimits()


@dataclass(frozen=True, slots=True)
class Threshold:
    """One ``name OP constant`` comparison, with the constant in the name's declared unit.

    For static analysis (gaps and overlaps between branches). ``op`` is normalised so the name is on the
    left: ``0.5 > anc`` is recorded as ``anc < 0.5``.
    """

    name: str
    op: str
    value: Decimal
    unit: str | None
    column: int


#: What a compiled function may raise; ``evaluation_error`` turns each into an ``EvaluationError``.
EVALUATION_EXCEPTIONS = (DecimalException, KeyError, TypeError, AttributeError)


def evaluation_error(exc: Exception, source: str) -> EvaluationError:
    """The ``EvaluationError`` for an exception raised by ``CompiledExpression.fn``."""
    return _evaluation_error(exc, source)


def _evaluation_error(exc: Exception, source: str) -> EvaluationError:
    if isinstance(exc, DivisionByZero):
        return EvaluationError("expr-division-by-zero", "division by zero", expression=source)
    if isinstance(exc, Overflow | Underflow | Subnormal):
        return EvaluationError(
            "expr-overflow", "a number went out of range (beyond 1e999 or below 1e-999)", expression=source
        )
    if isinstance(exc, InvalidOperation):
        return EvaluationError(
            "expr-invalid-operation",
            "an invalid arithmetic operation (0/0, the square root of a negative number, or a "
            "result with more than 28 digits)",
            expression=source,
        )
    if isinstance(exc, KeyError):
        return EvaluationError(
            "expr-missing-value", f"no value was supplied for {echo(str(exc))}", expression=source
        )
    if isinstance(exc, TypeError | AttributeError):
        return EvaluationError(
            "expr-bad-value",
            f"a value of the wrong type was supplied ({echo(str(exc))}); values must be checked by the "
            "FactChecker",
            expression=source,
        )
    return EvaluationError(
        "expr-invalid-operation", f"{type(exc).__name__}: {echo(str(exc))}", expression=source
    )


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """An expression checked and compiled at load time. Immutable; ``evaluate`` is thread-safe."""

    source: str
    #: the input and derived-value names it reads
    names: frozenset[str]
    #: the static type of its result
    type: ValueType
    #: the validated syntax tree (Python ``ast``), for static analysis; never executed
    tree: ast.Expression = field(repr=False, compare=False)
    #: the registered functions it calls
    functions: frozenset[str] = frozenset()
    #: ``name OP constant`` comparisons, constants in the name's unit
    thresholds: tuple[Threshold, ...] = ()
    #: the value, when the expression is a constant (e.g. ``true``, ``2 * 3``)
    constant: object = field(default=UNKNOWN, compare=False)
    _fn: Callable[[Mapping[str, object], datetime], object] = field(
        default=None,
        repr=False,  # type: ignore[assignment]
        compare=False,
    )

    @property
    def is_constant(self) -> bool:
        return self.constant is not UNKNOWN

    def evaluate(self, values: Mapping[str, object], as_of: datetime) -> object:
        """The value (``Decimal``, ``bool``, ``str``, ``datetime`` ...) or ``UNKNOWN``.

        ``values`` maps every name in ``names`` to its run-time value or ``UNKNOWN``; ``as_of`` is the
        evaluation time (timezone-aware). Raises ``EvaluationError``: ``expr-division-by-zero``,
        ``expr-overflow``, ``expr-invalid-operation``; and ``expr-missing-value`` / ``expr-bad-value`` when
        ``values`` lacks a name or holds a value of the wrong type (a programming error of the caller).
        """
        try:
            return self._fn(values, as_of)
        except EVALUATION_EXCEPTIONS as exc:
            raise _evaluation_error(exc, self.source) from None

    @property
    def fn(self) -> Callable[[Mapping[str, object], datetime], object]:
        """The compiled function itself, for the evaluator's hot loop: it raises the raw
        ``EVALUATION_EXCEPTIONS``, which the caller turns into errors with ``evaluation_error``."""
        return self._fn


# --------------------------------------------------------------------------------------------------
# diagnostics helpers

_CONSTRUCTS: dict[type, str] = {
    ast.Attribute: "attribute access (`.`)",
    ast.Subscript: "indexing or slicing (`[...]`)",
    ast.Slice: "slicing",
    ast.Lambda: "lambda",
    ast.IfExp: "an `x if condition else y` expression",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Starred: "`*` unpacking",
    ast.Dict: "a dictionary",
    ast.Set: "a set literal (use a list after `in`)",
    ast.NamedExpr: "assignment `:=`",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_OPERATORS: dict[type, tuple[str, str | None]] = {
    ast.Pow: ("the power operator `**`", "use sqrt() for square roots"),
    ast.Mod: ("the operator `%`", None),
    ast.FloorDiv: ("the operator `//`", "use / and round()"),
    ast.MatMult: ("the operator `@`", None),
    ast.LShift: ("the operator `<<`", None),
    ast.RShift: ("the operator `>>`", None),
    ast.BitOr: ("the operator `|`", "use `or`"),
    ast.BitAnd: ("the operator `&`", "use `and`"),
    ast.BitXor: ("the operator `^`", None),
    ast.Invert: ("the operator `~`", "use `not`"),
    ast.Is: ("`is`", "use =="),
    ast.IsNot: ("`is not`", "use !="),
}
_CMP_TEXT: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_FLIP: dict[str, str] = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_ARITH_TEXT: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_NUMBER_RE = re.compile(r"(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?")
_LITERAL_NAMES: dict[str, bool] = {"true": True, "false": False}
_EXACT = Context(
    prec=400, traps=[Inexact, Overflow, InvalidOperation, DivisionByZero], Emax=999_999, Emin=-999_999
)


class _Refused(Exception):
    """Raised inside the compiler for an error that stops compilation (already recorded)."""


_NC: Final = object()  # "not a constant"


@dataclass(slots=True)
class _T:
    """A checked sub-expression: type, generated code, and what we know about it."""

    type: ValueType
    code: ast.expr
    nullable: bool
    const: Any = _NC
    #: a plain number constant written without unit (read in a quantity's unit when compared)
    bare: bool = False
    #: the input/derived name when the expression is just that name
    name: str | None = None

    @property
    def is_const(self) -> bool:
        return self.const is not _NC


_ERROR_TYPE = ValueType("string", None, frozenset({"<error>"}))


def _describe(t: ValueType) -> str:
    return t.describe()


def _is_num(t: ValueType) -> bool:
    return t.kind in ("number", "quantity")


# --------------------------------------------------------------------------------------------------
# the compiler


class _Compiler:
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
        self.bindings: dict[str, object] = {"_U": UNKNOWN}
        self._const_ids: dict[tuple[type, str], str] = {}
        self._tmp = 0

    # -- diagnostics -------------------------------------------------------------------------------
    def loc(self, node: ast.AST | None) -> Location:
        base = self.location
        if node is None or not hasattr(node, "col_offset"):
            return base
        col = self.shift + int(getattr(node, "col_offset", 0))
        if self.at is not None:
            return self.at(col)
        return Location(base.file, base.line, base.column + col if base.column else 0)

    def error(self, code: str, message: str, node: ast.AST | None = None, hint: str | None = None) -> _T:
        self.diagnostics.append(Diagnostic(code, message, self.loc(node), path=self.path, hint=hint))
        return _T(_ERROR_TYPE, ast.Constant(None), False)

    # -- code helpers ------------------------------------------------------------------------------
    def bind(self, value: object, prefix: str = "_k") -> ast.expr:
        if isinstance(value, bool | str) or value is None:
            return ast.Constant(value)
        key = (type(value), repr(value))
        name = self._const_ids.get(key)
        if name is None:
            name = f"{prefix}{len(self.bindings)}"
            self._const_ids[key] = name
            self.bindings[name] = value
        return ast.Name(name, ast.Load())

    def helper(self, name: str, obj: object) -> ast.expr:
        self.bindings.setdefault(name, obj)
        return ast.Name(name, ast.Load())

    def temp(self) -> str:
        self._tmp += 1
        return f"_t{self._tmp}"

    def const(self, t: ValueType, value: object, *, bare: bool = False) -> _T:
        return _T(t, self.bind(value), False, value, bare)

    def fold(self, code: ast.expr, node: ast.AST) -> object:
        """Evaluate generated code whose operands are all constants (at load time)."""
        expr = ast.fix_missing_locations(ast.Expression(code))
        compiled = compile(expr, "<constant>", "eval")
        scope: dict[str, Any] = {"__builtins__": {}, **self.bindings}
        try:
            return eval(compiled, scope)
        except DecimalException as exc:
            err = _evaluation_error(exc, self.source)
            self.error(err.code, f"{err.message} (in a constant part of the expression)", node)
            raise _Refused from None

    def guarded(
        self, operands: Sequence[tuple[ast.expr, bool]], build: Callable[[list[ast.expr]], ast.expr]
    ) -> ast.expr:
        """``_U if any operand is UNKNOWN else build(operands)``; every operand evaluated exactly once."""
        refs: list[ast.expr] = []
        tests: list[ast.expr] = []
        for code, nullable in operands:
            if not nullable:
                refs.append(code)
                continue
            if isinstance(code, ast.Name) and code.id.startswith("_t"):
                name = code.id
                target: ast.expr = ast.Name(name, ast.Load())
            else:
                name = self.temp()
                target = ast.NamedExpr(ast.Name(name, ast.Store()), code)
            tests.append(ast.Compare(target, [ast.Is()], [ast.Name("_U", ast.Load())]))
            refs.append(ast.Name(name, ast.Load()))
        body = build(refs)
        if not tests:
            return body
        test = tests[0]
        for t in tests[1:]:
            test = ast.BinOp(test, ast.BitOr(), t)
        return ast.IfExp(test, ast.Name("_U", ast.Load()), body)

    def call(self, helper: str, obj: object, args: Sequence[ast.expr]) -> ast.expr:
        return ast.Call(self.helper(helper, obj), list(args), [])

    def scale(self, t: _T, factor: Decimal | None, node: ast.AST) -> _T:
        """``t`` multiplied by an exact conversion factor (folded when ``t`` is constant)."""
        if factor is None or factor == 1:
            return t
        if t.is_const:
            assert isinstance(t.const, Decimal)
            try:
                value = _EXACT.multiply(t.const, factor)
            except DecimalException:
                self.error(
                    "expr-inexact-conversion", "the unit conversion of this constant is not exact", node
                )
                raise _Refused from None
            return _T(t.type, self.bind(value), False, value, t.bare)
        mul = CONVERSION_CONTEXT.multiply
        code = self.guarded(
            [(t.code, t.nullable)], lambda r: self.call("_cmul", mul, [r[0], self.bind(factor)])
        )
        return _T(t.type, code, t.nullable)

    # -- entry -------------------------------------------------------------------------------------
    def compile(self, tree: ast.Expression, expect: ValueType | None) -> tuple[_T, ast.expr]:
        result = self.visit(tree.body)
        if result.type is _ERROR_TYPE:
            raise _Refused
        result = self.expect(result, expect, tree.body)
        return result, result.code

    def expect(self, r: _T, expect: ValueType | None, node: ast.AST) -> _T:
        if expect is None:
            return r
        if expect.kind == "boolean":
            if r.type.kind != "boolean":
                self.error(
                    "expr-expected-boolean",
                    f"this expression gives {_describe(r.type)}, but a condition must be true or false",
                    node,
                    hint=_boolean_hint(r.type),
                )
                raise _Refused
            return r
        if expect.kind == "number":
            if r.type.kind != "number":
                hint = (
                    "a quantity keeps its unit; divide by q(1, 'unit') to get a plain number"
                    if r.type.kind == "quantity"
                    else None
                )
                self.error(
                    "expr-type",
                    f"this expression gives {_describe(r.type)}, but a number is expected",
                    node,
                    hint=hint,
                )
                raise _Refused
            return r
        if expect.kind == "quantity" and expect.unit is not None:
            if r.type.kind == "number" and r.is_const:
                return _T(expect, r.code, False, r.const)
            if r.type.kind != "quantity" or r.type.unit is None:
                self.error(
                    "expr-type",
                    f"this expression gives {_describe(r.type)}, but a quantity [{expect.unit}] is expected",
                    node,
                )
                raise _Refused
            if r.type.unit == expect.unit:
                return r
            factor = self.factor(r.type.unit, expect.unit, node, "the result")
            out = self.scale(r, factor, node)
            return _T(expect, out.code, out.nullable, out.const)
        if r.type.kind != expect.kind:
            self.error(
                "expr-type",
                f"this expression gives {_describe(r.type)}, but {_describe(expect)} is expected",
                node,
            )
            raise _Refused
        return r

    def factor(self, from_unit: str, to_unit: str, node: ast.AST, what: str) -> Decimal:
        try:
            return units.conversion_factor(from_unit, to_unit)
        except units.UnitError as exc:
            if exc.code == "unit-inexact":
                self.error(
                    "expr-inexact-conversion",
                    f"{what}: '{from_unit}' to '{to_unit}' has no exact decimal factor",
                    node,
                    hint=f"write it in '{to_unit}'",
                )
            else:
                self.unit_error(exc, node, what, f"write it in '{to_unit}'")
            raise _Refused from None

    def ratio(self, from_unit: str, to_unit: str, node: ast.AST, what: str, hint: str) -> Fraction:
        """The exact ratio between two units of one dimension, or a diagnostic (never a raw UnitError)."""
        try:
            return units.exact_ratio(from_unit, to_unit)
        except units.UnitError as exc:
            self.unit_error(exc, node, what, hint)
            raise _Refused from None

    def unit_error(self, exc: units.UnitError, node: ast.AST | None, what: str, hint: str | None) -> _T:
        """A ``UnitError`` of the unit library as an ``expr-unit-mismatch`` diagnostic with its message."""
        if exc.code == "unit-not-multiplicative":
            extra = "offset units such as Cel and [degF] are never converted"
            hint = f"{hint} ({extra})" if hint else extra
        code = units.unit_code(exc, "expr-unit-mismatch")
        return self.error(code, f"{what}: {exc.message}", node, hint=hint)

    # -- visitors ----------------------------------------------------------------------------------
    def visit(self, node: ast.expr) -> _T:
        try:
            if isinstance(node, ast.Constant):
                return self.constant(node)
            if isinstance(node, ast.Name):
                return self.name(node)
            if isinstance(node, ast.BoolOp):
                return self.boolop(node)
            if isinstance(node, ast.UnaryOp):
                return self.unary(node)
            if isinstance(node, ast.BinOp):
                return self.binop(node)
            if isinstance(node, ast.Compare):
                return self.compare(node)
            if isinstance(node, ast.Call):
                return self.call_node(node)
            if isinstance(node, ast.List | ast.Tuple):
                return self.error(
                    "expr-not-allowed",
                    "a list is only allowed after `in`, e.g. `severity in ['moderate', 'severe']`",
                    node,
                )
            return self.not_allowed(node)
        except _Refused:
            return _T(_ERROR_TYPE, ast.Constant(None), False)
        except units.UnitError as exc:
            # a unit problem not caught where it arose: still a diagnostic at this node, never a raw error
            return self.unit_error(exc, node, "units", "write the value in the unit it is compared with")

    def not_allowed(self, node: ast.AST) -> _T:
        what = _CONSTRUCTS.get(type(node), type(node).__name__)
        return self.error("expr-not-allowed", f"{what} is not allowed in an expression", node)

    def constant(self, node: ast.Constant) -> _T:
        value = node.value
        if isinstance(value, bool):
            return self.const(BOOLEAN, value)
        if isinstance(value, int | float):
            return self.number(node)
        if isinstance(value, str):
            return self.const(STRING, value)
        if value is None:
            return self.error(
                "expr-not-allowed",
                "None is not allowed",
                node,
                hint="a missing fact is unknown automatically; there is no None",
            )
        what = {complex: "a complex number", bytes: "a bytes literal"}.get(type(value), echo(repr(value)))
        return self.error("expr-not-allowed", f"{what} is not allowed in an expression", node)

    def number(self, node: ast.Constant) -> _T:
        text = ast.get_source_segment(self.source, node) or ""
        if not _NUMBER_RE.fullmatch(text):
            return self.error(
                "expr-bad-number",
                f"'{echo(text)}' is not a decimal number",
                node,
                hint="write numbers in decimal, e.g. 0.5 or 1500",
            )
        d = Decimal(text.replace("_", ""))
        digits = len(d.as_tuple().digits) if d else 1
        if digits > self.limits.max_number_digits:
            return self.error(
                "expr-bad-number",
                f"'{echo(text)}' has more than {self.limits.max_number_digits} significant digits",
                node,
            )
        if d and abs(d.adjusted()) > self.limits.max_number_exponent:
            return self.error(
                "expr-bad-number",
                f"'{echo(text)}' is out of range (exponent beyond ±{self.limits.max_number_exponent})",
                node,
            )
        return self.const(NUMBER, d, bare=True)

    def name(self, node: ast.Name) -> _T:
        name = node.id
        if name in _LITERAL_NAMES:
            return self.const(BOOLEAN, _LITERAL_NAMES[name])
        t = self.env.get(name)
        if t is None:
            if name in REGISTRY:
                return self.error(
                    "expr-unknown-name",
                    f"'{name}' is a function; call it with arguments, "
                    f"e.g. {REGISTRY[name].signature.split(' ->')[0]}",
                    node,
                )
            hint = None
            if name in ("None", "null", "none", "nil"):
                hint = "a missing fact is unknown automatically; there is no null"
            else:
                close = did_you_mean(name, [*self.env, *_LITERAL_NAMES])
                if close:
                    hint = f"did you mean '{close}'?"
            return self.error(
                "expr-unknown-name",
                f"'{echo(name)}' is not a declared input or derived value",
                node,
                hint=hint,
            )
        self.names.add(name)
        code = ast.Subscript(ast.Name("v", ast.Load()), ast.Constant(name), ast.Load())
        return _T(t, code, True, name=name)

    # -- logic -------------------------------------------------------------------------------------
    def boolean_operand(self, node: ast.expr, op: str) -> _T:
        t = self.visit(node)
        if t.type is _ERROR_TYPE:
            return t
        if t.type.kind != "boolean":
            return self.error(
                "expr-type",
                f"`{op}` needs true/false operands; this is {_describe(t.type)}",
                node,
                hint=_boolean_hint(t.type),
            )
        return t

    def boolop(self, node: ast.BoolOp) -> _T:
        is_and = isinstance(node.op, ast.And)
        op = "and" if is_and else "or"
        parts = [self.boolean_operand(v, op) for v in node.values]
        if any(p.type is _ERROR_TYPE for p in parts):
            raise _Refused
        return self.kleene(parts, is_and)

    def kleene(self, parts: list[_T], is_and: bool) -> _T:
        """Kleene `and` / `or`, evaluating operands left to right and stopping at a deciding value.

        For `and` the deciding value is False and the identity True; for `or` the reverse. When no operand
        decides, the result is UNKNOWN if any operand was unknown, else the identity.
        """
        identity = is_and
        decider = not is_and
        live: list[_T] = []
        for p in parts:
            if p.is_const:
                if p.const is identity:
                    continue
                # a constant deciding value: the whole is that constant (operands are checked, not evaluated)
                return self.const(BOOLEAN, decider)
            live.append(p)
        if not live:
            return self.const(BOOLEAN, identity)
        if len(live) == 1:
            return live[0]
        # (_t1 := A) is decider -> decider, else (_t2 := B) is decider -> decider, ..., else the identity
        # when every operand IS the identity, else UNKNOWN. Only the True/False objects count (identity
        # tests): a value that is neither (the fact checker never produces one) gives UNKNOWN, never a branch.
        names = [self.temp() for _ in live]
        all_identity: ast.expr | None = None
        for name in names:
            c = ast.Compare(ast.Name(name, ast.Load()), [ast.Is()], [ast.Constant(identity)])
            all_identity = c if all_identity is None else ast.BinOp(all_identity, ast.BitAnd(), c)
        assert all_identity is not None
        tail: ast.expr = ast.IfExp(all_identity, ast.Constant(identity), ast.Name("_U", ast.Load()))
        for p, name in reversed(list(zip(live, names, strict=True))):
            bound = ast.NamedExpr(ast.Name(name, ast.Store()), p.code)
            tail = ast.IfExp(
                ast.Compare(bound, [ast.Is()], [ast.Constant(decider)]), ast.Constant(decider), tail
            )
        return _T(BOOLEAN, tail, True)

    def unary(self, node: ast.UnaryOp) -> _T:
        if isinstance(node.op, ast.Not):
            t = self.boolean_operand(node.operand, "not")
            if t.type is _ERROR_TYPE:
                raise _Refused
            if t.is_const:
                return self.const(BOOLEAN, not t.const)
            # False if t is True, True if t is False, else UNKNOWN (identity tests only, as in `kleene`)
            name = self.temp()
            bound = ast.NamedExpr(ast.Name(name, ast.Store()), t.code)
            negated = ast.IfExp(
                ast.Compare(bound, [ast.Is()], [ast.Constant(True)]),
                ast.Constant(False),
                ast.IfExp(
                    ast.Compare(ast.Name(name, ast.Load()), [ast.Is()], [ast.Constant(False)]),
                    ast.Constant(True),
                    ast.Name("_U", ast.Load()),
                ),
            )
            return _T(BOOLEAN, negated, True)
        if isinstance(node.op, ast.Invert):
            what, hint = _OPERATORS[ast.Invert]
            return self.error("expr-not-allowed", f"{what} is not allowed", node, hint=hint)
        t = self.visit(node.operand)
        if t.type is _ERROR_TYPE:
            raise _Refused
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        if not _is_num(t.type):
            return self.error(
                "expr-type",
                f"unary `{sign}` needs a number or a quantity, not {_describe(t.type)}",
                node,
                hint="true/false are not numbers" if t.type.kind == "boolean" else None,
            )
        fn = DECIMAL_CONTEXT.minus if sign == "-" else DECIMAL_CONTEXT.plus
        code = self.guarded(
            [(t.code, t.nullable)], lambda r: self.call("_neg" if sign == "-" else "_pos", fn, r)
        )
        if t.is_const:
            return _T(t.type, self.bind(v := self.fold(code, node)), False, v, t.bare)
        return _T(t.type, code, t.nullable)

    # -- arithmetic --------------------------------------------------------------------------------
    def binop(self, node: ast.BinOp) -> _T:
        op_type = type(node.op)
        if op_type not in _ARITH_TEXT:
            what, hint = _OPERATORS.get(op_type, (op_type.__name__, None))
            if op_type is ast.Mod:
                hint = "string formatting and remainders are not part of the language"
            return self.error("expr-not-allowed", f"{what} is not allowed", node, hint=hint)
        op = _ARITH_TEXT[op_type]
        left = self.visit(node.left)
        right = self.visit(node.right)
        if left.type is _ERROR_TYPE or right.type is _ERROR_TYPE:
            raise _Refused
        for side in (left, right):
            if not _is_num(side.type):
                extra = " (true/false are not numbers)" if side.type.kind == "boolean" else ""
                hint = (
                    "use hours_since(t) or days_since(t)"
                    if side.type.kind == "datetime"
                    else "use latest(series)"
                    if side.type.kind == "series"
                    else None
                )
                return self.error(
                    "expr-type",
                    f"`{op}` needs numbers or quantities; {_describe(side.type)} is not one{extra}",
                    node,
                    hint=hint,
                )
        ctx = DECIMAL_CONTEXT
        result_type: ValueType
        if op in "+-":
            left, right, unit = self.unify(left, right, node, f"`{op}`", arithmetic=True)
            result_type = NUMBER if unit is None else ValueType("quantity", unit)
            fn, helper = (ctx.add, "_add") if op == "+" else (ctx.subtract, "_sub")
        elif op == "*":
            lq, rq = left.type.kind == "quantity", right.type.kind == "quantity"
            if lq and rq:
                right = self.same_dim_to_left(left, right, node)
                result_type = NUMBER
            else:
                result_type = left.type if lq else right.type if rq else NUMBER
            fn, helper = ctx.multiply, "_mul"
        else:  # "/"
            lq, rq = left.type.kind == "quantity", right.type.kind == "quantity"
            if rq and not lq:
                return self.error(
                    "expr-type",
                    f"dividing a number by a quantity [{right.type.unit}] is not "
                    "supported (the unit would be inverted)",
                    node,
                )
            if lq and rq:
                right = self.same_dim_to_left(left, right, node)
                result_type = NUMBER
            else:
                result_type = left.type
            if right.is_const and right.const == 0:
                return self.error("expr-division-by-zero", "division by zero", node.right)
            fn, helper = ctx.divide, "_div"
        code = self.guarded(
            [(left.code, left.nullable), (right.code, right.nullable)], lambda r: self.call(helper, fn, r)
        )
        bare = left.bare and right.bare
        if left.is_const and right.is_const:
            value = self.fold(code, node)
            return _T(result_type, self.bind(value), False, value, bare)
        return _T(result_type, code, left.nullable or right.nullable, bare=bare)

    def same_dim_to_left(self, left: _T, right: _T, node: ast.AST) -> _T:
        """For quantity * or / quantity: convert a same-dimension right operand into the left's unit."""
        lu, ru = left.type.unit, right.type.unit
        assert lu is not None and ru is not None
        if lu == ru or not units.same_dimension(lu, ru):
            return right
        return self.scale(right, self.factor(ru, lu, node, "converting the right operand"), node)

    def unify(
        self, left: _T, right: _T, node: ast.AST, what: str, *, arithmetic: bool
    ) -> tuple[_T, _T, str | None]:
        """Bring two numeric operands to one unit (exactly). Returns (left, right, unit or None)."""
        lk, rk = left.type.kind, right.type.kind
        if lk == "number" and rk == "number":
            return left, right, None
        if (lk == "quantity" and rk == "number") or (lk == "number" and rk == "quantity"):
            q, n = (left, right) if lk == "quantity" else (right, left)
            if not n.is_const:
                self.error(
                    "expr-unit-mismatch",
                    f"{what}: a quantity [{q.type.unit}] and a plain number without unit",
                    node,
                    hint=f"a number literal is read in '{q.type.unit}'; for a computed number, give it "
                    "a unit",
                )
                raise _Refused
            n = _T(q.type, n.code, False, n.const, n.bare)
            return (q, n, q.type.unit) if lk == "quantity" else (n, q, q.type.unit)
        lu, ru = left.type.unit, right.type.unit
        assert lu is not None and ru is not None
        if lu == ru:
            return left, right, lu
        if not units.same_dimension(lu, ru):
            self.error(
                "expr-unit-mismatch",
                f"{what}: '{lu}' ({units.dimension(lu)}) and '{ru}' ({units.dimension(ru)}) are different "
                "kinds of quantity",
                node,
            )
            raise _Refused
        if right.is_const and not left.is_const:
            hint = f"write the threshold in the input's unit: '{lu}'"
        elif left.is_const and not right.is_const:
            hint = f"write the threshold in the input's unit: '{ru}'"
        else:
            hint = "declare both in the same unit"
        r_to_l = self.ratio(ru, lu, node, what, hint)
        r_dec, l_dec = _terminating(r_to_l), _terminating(1 / r_to_l)
        # constants are converted at load time; otherwise convert the side whose factor is exact
        if right.is_const and r_dec is not None:
            return left, self.scale(right, r_dec, node), lu
        if left.is_const and l_dec is not None:
            return self.scale(left, l_dec, node), right, ru
        if r_dec is not None:
            return left, self.scale(right, r_dec, node), lu
        if l_dec is not None:
            return self.scale(left, l_dec, node), right, ru
        if arithmetic:
            self.error(
                "expr-inexact-conversion",
                f"{what}: '{ru}' to '{lu}' has no exact decimal factor",
                node,
                hint="declare both in the same unit",
            )
            raise _Refused
        # a comparison: compare left * denominator with right * numerator (exact integer factors)
        left = self.scale(left, Decimal(r_to_l.denominator), node)
        right = self.scale(right, Decimal(r_to_l.numerator), node)
        return left, right, None

    # -- comparisons -------------------------------------------------------------------------------
    def compare(self, node: ast.Compare) -> _T:
        for op in node.ops:
            if isinstance(op, ast.Is | ast.IsNot):
                what, hint = _OPERATORS[type(op)]
                return self.error("expr-not-allowed", f"{what} is not allowed", node, hint=hint)
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if len(node.ops) > 1:
                return self.error("expr-not-allowed", "`in` cannot be chained with other comparisons", node)
            return self.membership(node)
        operands = [self.visit(node.left), *(self.visit(c) for c in node.comparators)]
        if any(o.type is _ERROR_TYPE for o in operands):
            raise _Refused
        nodes: list[ast.expr] = [node.left, *node.comparators]
        # in a chain `a < b < c` the middle operand is evaluated once: the first comparison binds it to a
        # temporary (both operands of a comparison are always evaluated) and the next one reads it
        as_right: list[_T] = list(operands)
        as_left: list[_T] = list(operands)
        for k in range(1, len(operands) - 1):
            o = operands[k]
            if not o.is_const:
                name = self.temp()
                as_right[k] = _T(
                    o.type, ast.NamedExpr(ast.Name(name, ast.Store()), o.code), o.nullable, name=o.name
                )
                as_left[k] = _T(o.type, ast.Name(name, ast.Load()), o.nullable, name=o.name)
        pieces: list[_T] = []
        for i, op in enumerate(node.ops):
            where: ast.AST = node
            if len(node.ops) > 1:
                where = ast.copy_location(ast.Compare(nodes[i], [op], [nodes[i + 1]]), nodes[i])
            pieces.append(self.comparison(where, _CMP_TEXT[type(op)], as_left[i], as_right[i + 1]))
        if any(p.type is _ERROR_TYPE for p in pieces):
            raise _Refused
        if len(pieces) == 1:
            return pieces[0]
        return self.kleene(pieces, True)

    def comparison(self, node: ast.AST, op: str, left: _T, right: _T) -> _T:
        lk, rk = left.type.kind, right.type.kind
        desc = f"`{op}`"
        if _is_num(left.type) and _is_num(right.type):
            orig_l, orig_r = left, right
            left, right, _unit = self.unify(left, right, node, desc, arithmetic=False)
            self.record_threshold(op, orig_l, orig_r, left, right, node)
        elif (lk == "boolean" and rk == "boolean") or (lk == "datetime" and rk == "datetime"):
            if lk == "boolean" and op not in ("==", "!="):
                return self.error("expr-type", f"{desc} cannot order true/false values", node)
        elif lk == "code" or rk == "code":
            if op not in ("==", "!="):
                return self.error("expr-type", f"{desc} cannot order codes; use == or `in`", node)
            other, code_t = (right, left) if lk == "code" else (left, right)
            values = code_t.type.values or frozenset()
            if other.type.kind == "string" and other.is_const:
                if other.const not in values:
                    close = did_you_mean(str(other.const), sorted(values))
                    return self.error(
                        "expr-unknown-code",
                        f"'{echo(str(other.const))}' is not one of the values of "
                        f"{code_t.name or 'this code'}: {', '.join(sorted(values))}",
                        node,
                        hint=f"did you mean '{close}'?" if close else None,
                    )
            elif other.type.kind == "code":
                if not (values & (other.type.values or frozenset())):
                    return self.error(
                        "expr-type", "these two codes have no value in common; they are never equal", node
                    )
            else:
                return self.error(
                    "expr-type",
                    f"{desc}: a code compares only with a quoted value from its list, "
                    f"not with {_describe(other.type)}",
                    node,
                )
        else:
            hint = None
            if lk == "string" and rk == "string":
                msg = f"{desc}: comparing two strings is not allowed"
                hint = "strings are only used as code values, units and durations"
            elif "series" in (lk, rk):
                msg = f"{desc}: a series cannot be compared"
                hint = "use latest(series) or consecutive_days_at_or_above(series, threshold)"
            elif "boolean" in (lk, rk):
                msg = f"{desc}: cannot compare {_describe(left.type)} with {_describe(right.type)}"
                hint = "true/false are not numbers"
            else:
                msg = f"{desc}: cannot compare {_describe(left.type)} with {_describe(right.type)}"
            return self.error("expr-type", msg, node, hint=hint)
        if left.is_const and right.is_const:
            return self.const(BOOLEAN, _compare_values(op, left.const, right.const))
        op_node = _CMP_NODES[op]()
        code = self.guarded(
            [(left.code, left.nullable), (right.code, right.nullable)],
            lambda r: ast.Compare(r[0], [op_node], [r[1]]),
        )
        return _T(BOOLEAN, code, left.nullable or right.nullable)

    def record_threshold(self, op: str, orig_l: _T, orig_r: _T, left: _T, right: _T, node: ast.AST) -> None:
        if orig_l.name is not None and right.is_const and left is orig_l and isinstance(right.const, Decimal):
            self.thresholds.append(
                Threshold(orig_l.name, op, right.const, orig_l.type.unit, self.loc(node).column)
            )
        elif (
            orig_r.name is not None and left.is_const and right is orig_r and isinstance(left.const, Decimal)
        ):
            self.thresholds.append(
                Threshold(orig_r.name, _FLIP[op], left.const, orig_r.type.unit, self.loc(node).column)
            )

    def membership(self, node: ast.Compare) -> _T:
        negate = isinstance(node.ops[0], ast.NotIn)
        word = "not in" if negate else "in"
        left = self.visit(node.left)
        if left.type is _ERROR_TYPE:
            raise _Refused
        lst = node.comparators[0]
        if not isinstance(lst, ast.List | ast.Tuple):
            return self.error(
                "expr-not-allowed",
                f"`{word}` needs a literal list of quoted values, e.g. ['moderate', 'severe']",
                lst,
            )
        if len(lst.elts) > self.limits.max_list_items:
            return self.error(
                "expr-too-long", f"the list has more than {self.limits.max_list_items} items", lst
            )
        items: list[str] = []
        for e in lst.elts:
            if not (isinstance(e, ast.Constant) and isinstance(e.value, str)):
                return self.error(
                    "expr-not-allowed", f"the list after `{word}` may only hold quoted values", e
                )
            items.append(e.value)
        if left.type.kind != "code":
            return self.error(
                "expr-type", f"`{word}` needs a code input on the left, not {_describe(left.type)}", node.left
            )
        values = left.type.values or frozenset()
        for e, item in zip(lst.elts, items, strict=True):
            if item not in values:
                close = did_you_mean(item, sorted(values))
                return self.error(
                    "expr-unknown-code",
                    f"'{echo(item)}' is not one of the values of "
                    f"{left.name or 'this code'}: {', '.join(sorted(values))}",
                    e,
                    hint=f"did you mean '{close}'?" if close else None,
                )
        members = frozenset(items)
        if left.is_const:
            return self.const(BOOLEAN, (left.const in members) != negate)
        op_node: ast.cmpop = ast.NotIn() if negate else ast.In()
        code = self.guarded(
            [(left.code, left.nullable)], lambda r: ast.Compare(r[0], [op_node], [self.bind(members, "_s")])
        )
        return _T(BOOLEAN, code, left.nullable)

    # -- calls -------------------------------------------------------------------------------------
    def call_node(self, node: ast.Call) -> _T:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                return self.not_allowed(node.func)
            return self.error("expr-not-allowed", "only registered functions can be called, by name", node)
        fname = node.func.id
        if node.keywords:
            return self.error(
                "expr-not-allowed",
                f"keyword arguments are not allowed ({echo(fname)}(...))",
                node.keywords[0].value,
                hint="pass arguments by position",
            )
        for a in node.args:
            if isinstance(a, ast.Starred):
                return self.not_allowed(a)
        fn = REGISTRY.get(fname)
        if fn is None:
            if fname in self.env:
                return self.error(
                    "expr-unknown-function", f"'{echo(fname)}' is an input, not a function", node.func
                )
            close = did_you_mean(fname, list(REGISTRY))
            known = ", ".join(sorted(REGISTRY))
            return self.error(
                "expr-unknown-function",
                f"'{echo(fname)}' is not a function of the language",
                node.func,
                hint=f"did you mean '{close}'?" if close else f"the functions are: {known}",
            )
        n = len(node.args)
        if not fn.min_args <= n <= fn.max_args:
            want = str(fn.min_args) if fn.min_args == fn.max_args else f"{fn.min_args} to {fn.max_args}"
            return self.error(
                "expr-arity",
                f"{fname}() takes {want} argument{'s' if want != '1' else ''}, {n} given",
                node,
                hint=fn.signature,
            )
        self.functions.add(fname)
        args = [self.visit(a) for a in node.args]
        if any(a.type is _ERROR_TYPE for a in args):
            raise _Refused
        infos = [ArgInfo(a.type, a.is_const, a.const if a.is_const else None) for a in args]
        try:
            res = fn.resolve(infos)
        except SignatureError as exc:
            where = node.args[exc.arg] if exc.arg is not None and exc.arg < n else node
            return self.error(exc.code, exc.message, where, hint=exc.hint)
        if res.impl is None:
            return _T(res.result, self.bind(res.constant), False, res.constant)
        passed = [self.scale(args[i], f, node.args[i]) for i, f in zip(res.args, res.factors, strict=True)]
        impl, extra, needs_now = res.impl, res.extra, res.needs_now
        helper = f"_f_{fname}"

        def build(refs: list[ast.expr]) -> ast.expr:
            call_args: list[ast.expr] = []
            if needs_now:
                call_args.append(ast.Name("now", ast.Load()))
            call_args.extend(refs)
            call_args.extend(self.bind(e) for e in extra)
            return self.call(helper, impl, call_args)

        code = self.guarded([(p.code, p.nullable) for p in passed], build)
        nullable = any(p.nullable for p in passed) or res.may_return_unknown
        if all(p.is_const for p in passed) and not needs_now:
            value = self.fold(code, node)
            if value is UNKNOWN:
                return _T(res.result, ast.Name("_U", ast.Load()), True)
            return _T(res.result, self.bind(value), False, value)
        return _T(res.result, code, nullable)


_CMP_NODES: dict[str, type[ast.cmpop]] = {
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
}


def _compare_values(op: str, a: Any, b: Any) -> bool:
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    if op == "==":
        return bool(a == b)
    return bool(a != b)


def _terminating(f: Fraction) -> Decimal | None:
    d = f.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return None
    return _EXACT.divide(Decimal(f.numerator), Decimal(f.denominator))


def _boolean_hint(t: ValueType) -> str | None:
    if t.kind in ("number", "quantity"):
        return "compare it, e.g. `x < 0.5`; a number is never true or false by itself"
    if t.kind == "code":
        return "compare it with one of its values, e.g. `x == 'severe'`"
    if t.kind == "series":
        return "use a series function, e.g. `latest(x) < 0.5`"
    return None


# --------------------------------------------------------------------------------------------------
# parsing and validation before type checking


_ALLOWED_NODES: tuple[type, ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.UnaryOp,
    ast.BinOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Load,
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.In,
    ast.NotIn,
)


def _syntax_error(source: str, exc: SyntaxError) -> tuple[str, str, int, str | None]:
    """(code, message, column offset, hint) for a source Python refuses in eval mode."""
    col = max((exc.offset or 1) - 1, 0) if (exc.lineno or 1) == 1 else 0
    try:
        module = ast.parse(source, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        module = None
    if module is not None:
        body = module.body
        if len(body) > 1:
            second = body[1]
            return (
                "expr-syntax",
                "only one expression is allowed; `;` and new statements are not",
                getattr(second, "col_offset", col),
                "combine conditions with `and` / `or`",
            )
        if body and isinstance(body[0], ast.Assign | ast.AugAssign | ast.AnnAssign):
            stmt = body[0]
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
            end = getattr(target, "end_col_offset", None) or col
            return (
                "expr-syntax",
                "`=` assigns; an expression cannot assign",
                end,
                "use == to compare, e.g. `anc == 500`",
            )
        if body and not isinstance(body[0], ast.Expr):
            return (
                "expr-syntax",
                f"a statement ({type(body[0]).__name__.lower()}) is not an expression",
                getattr(body[0], "col_offset", 0),
                None,
            )
    msg = echo(exc.msg or "invalid syntax", 80)
    hint = None
    if "'='" in msg or ("==" in msg and "=" in source):
        hint = "use == to compare"
    return "expr-syntax", f"not a valid expression: {msg}", col, hint


def _lexical_depth(source: str) -> int:
    depth = best = 0
    for ch in source:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def _tree_shape(tree: ast.AST) -> tuple[int, int]:
    """(node count, depth), iteratively (never recursion)."""
    count = 0
    best = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        count += 1
        best = max(best, d)
        for child in ast.iter_child_nodes(node):
            stack.append((child, d + 1))
    return count, best


_SKIP_NODES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)


def _disallowed(tree: ast.AST) -> list[ast.AST]:
    """The outermost nodes that are not on the allow-list (operators are checked by the compiler)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, _SKIP_NODES):
            continue
        if not isinstance(node, _ALLOWED_NODES):
            found.append(node)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


#: Successful compilations by (source, expected type, limits, the declared type of every identifier in the
#: source). A compiled expression holds no location, so one that compiled without any diagnostic can be
#: shared: guidelines repeat conditions (``anc < 1.0``), and versions of a guideline repeat most of them.
#: Load-time only, bounded, guarded by a lock; never touched while evaluating.
_EXPR_CACHE: dict[tuple[object, ...], CompiledExpression] = {}
_EXPR_CACHE_MAX = 8192
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def clear_caches() -> None:
    """Forget every memoized compilation (for benchmarks that measure a cold start)."""
    with _CODE_LOCK:
        _EXPR_CACHE.clear()
        _CODE_CACHE.clear()


def compile_expression(
    source: str,
    env: Mapping[str, ValueType],
    *,
    location: Location,
    path: Path = (),
    expect: ValueType | None = None,
    limits: ExpressionLimits = DEFAULT_LIMITS,
    position: Callable[[int], Location] | None = None,
) -> tuple[CompiledExpression | None, list[Diagnostic]]:
    """Parse, check and compile ``source`` against ``env`` (see ``_compile_expression``); memoized.

    ``position(offset)``, when given, maps a character offset of ``source`` to its place in the file (for
    expressions written in quotes or over several lines); otherwise columns are counted from ``location``.
    """
    if len(source) > limits.max_length:
        return _compile_expression(
            source, env, location=location, path=path, expect=expect, limits=limits, position=position
        )
    key = (source, expect, limits, *((n, env.get(n)) for n in sorted(set(_IDENTIFIER.findall(source)))))
    hit = _EXPR_CACHE.get(key)
    if hit is not None:
        return hit, []
    compiled, diags = _compile_expression(
        source, env, location=location, path=path, expect=expect, limits=limits, position=position
    )
    if compiled is not None and not diags:
        with _CODE_LOCK:
            if len(_EXPR_CACHE) < _EXPR_CACHE_MAX:
                _EXPR_CACHE[key] = compiled
    return compiled, diags


def _compile_expression(
    source: str,
    env: Mapping[str, ValueType],
    *,
    location: Location,
    path: Path = (),
    expect: ValueType | None = None,
    limits: ExpressionLimits = DEFAULT_LIMITS,
    position: Callable[[int], Location] | None = None,
) -> tuple[CompiledExpression | None, list[Diagnostic]]:
    """Parse, check and compile ``source`` against ``env`` (name -> type of every input and derived value).

    Returns (compiled expression or None, diagnostics); never raises for bad text. ``location`` is where
    the expression text starts; each diagnostic adds the column of the offending part. ``expect``:
    BOOLEAN for conditions (``expr-expected-boolean`` otherwise), NUMBER, or a quantity type (the result
    is converted exactly to its unit).
    """

    def at(offset: int) -> Location:
        if position is not None:
            return position(offset)
        return Location(location.file, location.line, location.column + offset if location.column else 0)

    def fail(code: str, message: str, col: int = 0, hint: str | None = None) -> tuple[None, list[Diagnostic]]:
        return None, [Diagnostic(code, message, at(col), path=path, hint=hint)]

    if not isinstance(source, str):
        return fail("expr-syntax", f"an expression must be text, not {type(source).__name__}")
    if len(source) > limits.max_length:
        return fail(
            "expr-too-long", f"the expression has {len(source)} characters; the limit is {limits.max_length}"
        )
    for i, ch in enumerate(source):
        if not (ch.isascii() and (ch.isprintable() or ch in " \t\n\r")):
            return fail(
                "expr-syntax",
                f"the character {ch!r} is not allowed (expressions are plain ASCII)",
                i,
                hint="look for a pasted symbol such as ≤ or a non-breaking space",
            )
    # one logical line: newlines (from YAML block scalars) become spaces; offsets are kept
    flat = source.replace("\r\n", "  ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    text = flat.lstrip()
    shift = len(flat) - len(text)
    if not text.strip():
        return fail("expr-syntax", "the expression is empty")
    if _lexical_depth(text) > limits.max_depth:
        return fail("expr-too-deep", f"brackets are nested more than {limits.max_depth} deep")
    try:
        previous: tokenize.TokenInfo | None = None
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if (
                previous is not None
                and previous.type == tokenize.NUMBER
                and tok.type in (tokenize.NAME, tokenize.NUMBER)
                and tok.start == previous.end
            ):
                # `1abc`, `0x1for`: Python's parser would print a SyntaxWarning before failing
                return fail(
                    "expr-syntax",
                    f"`{echo(previous.string + tok.string)}` is not a number",
                    shift + previous.start[1],
                    hint="put a space between a number and a name",
                )
            previous = tok
            if tok.type == tokenize.COMMENT:
                return fail(
                    "expr-not-allowed",
                    "`#` starts a comment, which would silently cut the expression short",
                    shift + tok.start[1],
                    hint="remove the # and what follows",
                )
    except (tokenize.TokenError, SyntaxError):
        pass  # the parser reports it
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        code, message, col, hint = _syntax_error(text, exc)
        return fail(code, message, shift + col, hint)
    except (RecursionError, MemoryError):
        return fail("expr-too-deep", "the expression is nested too deeply to parse")
    except ValueError as exc:
        return fail("expr-syntax", f"not a valid expression: {echo(str(exc), 80)}")
    count, depth = _tree_shape(tree)
    if depth > limits.max_depth:
        return fail(
            "expr-too-deep", f"the expression is nested {depth} levels deep; the limit is {limits.max_depth}"
        )
    if count > limits.max_nodes:
        return fail("expr-too-long", f"the expression has {count} parts; the limit is {limits.max_nodes}")
    comp = _Compiler(text, env, location, path, limits, shift, at)
    bad = _disallowed(tree)
    if bad:
        for node in bad:
            if isinstance(node, ast.keyword):
                comp.error(
                    "expr-not-allowed",
                    "keyword arguments are not allowed",
                    node.value,
                    hint="pass arguments by position",
                )
            else:
                comp.not_allowed(node)
        return None, comp.diagnostics
    try:
        result, body = comp.compile(tree, expect)
    except _Refused:
        return None, comp.diagnostics
    except (RecursionError, MemoryError):
        return fail("expr-too-deep", "the expression is nested too deeply")
    except units.UnitError as exc:  # a last guard: every unit problem is a diagnostic
        code = units.unit_code(exc, "expr-unit-mismatch")
        return fail(code, exc.message, hint="write the value in the unit it is compared with")
    if comp.diagnostics:
        return None, comp.diagnostics
    fn = _generate(body, comp.bindings)
    compiled = CompiledExpression(
        source=source,
        names=frozenset(comp.names),
        type=result.type,
        tree=tree,
        functions=frozenset(comp.functions),
        thresholds=tuple(comp.thresholds),
        constant=result.const if result.is_const else UNKNOWN,
        _fn=fn,
    )
    return compiled, []


#: Code objects by the shape of the generated function (the body's structure and the closure names).
#: Constants and helpers are closure variables, so ``anc < 1.0`` and ``anc < 1.5`` share one code object.
#: A load-time memo of immutable objects, bounded, guarded by a lock; never touched while evaluating.
_CODE_CACHE: dict[tuple[object, ...], CodeType] = {}
_CODE_CACHE_MAX = 4096
_CODE_LOCK = threading.Lock()


def _locate(node: ast.AST) -> None:
    """Give every generated node a location (``compile`` needs one); faster than fix_missing_locations."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n._attributes:
            n.lineno = n.end_lineno = 1  # type: ignore[attr-defined]
            n.col_offset = n.end_col_offset = 0  # type: ignore[attr-defined]
        for f in n._fields:
            v = getattr(n, f, None)
            if v.__class__ is list:
                stack.extend(x for x in v if isinstance(x, ast.AST))
            elif isinstance(v, ast.AST):
                stack.append(v)


def _shape(node: object) -> object:
    """A hashable structural key of a generated tree (cheaper than ``ast.dump``)."""
    if isinstance(node, ast.AST):
        return (node.__class__, *(_shape(getattr(node, f, None)) for f in node._fields))
    if isinstance(node, list):
        return tuple(_shape(x) for x in node)
    return (node.__class__, node)


def _generate(
    body: ast.expr, bindings: Mapping[str, object]
) -> Callable[[Mapping[str, object], datetime], object]:
    """Build ``def _make(<bindings>): def _f(v, now): return <body>; return _f`` and call it."""
    names = sorted(bindings)
    key = (*names, _shape(body))
    code = _CODE_CACHE.get(key)
    if code is None:
        inner = ast.FunctionDef(
            name="_f",
            args=ast.arguments(
                posonlyargs=[],
                args=[ast.arg("v"), ast.arg("now")],
                kwonlyargs=[],
                kw_defaults=[],
                defaults=[],
            ),
            body=[ast.Return(body)],
            decorator_list=[],
        )
        outer = ast.FunctionDef(
            name="_make",
            args=ast.arguments(
                posonlyargs=[],
                args=[ast.arg(n) for n in names],
                kwonlyargs=[],
                kw_defaults=[],
                defaults=[],
            ),
            body=[inner, ast.Return(ast.Name("_f", ast.Load()))],
            decorator_list=[],
        )
        module = ast.Module(body=[outer], type_ignores=[])
        _locate(module)
        code = compile(module, "<expression>", "exec")
        with _CODE_LOCK:
            if len(_CODE_CACHE) < _CODE_CACHE_MAX:
                _CODE_CACHE[key] = code
    scope: dict[str, Any] = {"__builtins__": {}}
    exec(code, scope)
    fn: Callable[[Mapping[str, object], datetime], object] = scope.pop("_make")(*(bindings[n] for n in names))
    return fn
