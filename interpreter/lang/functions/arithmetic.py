"""Arithmetic functions: ``min``, ``max``, ``abs``, ``round``, ``sqrt``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from ...codes import Code
from ...values.numbers import DECIMAL_CONTEXT
from ...values.types import NUMBER
from .arguments import kind_error, numeric_args
from .registry import ArgInfo, Resolved, SignatureError, function

# -- implementations (never called with UNKNOWN) ---------------------------------------------------


def _min(*xs: Decimal) -> Decimal:
    return min(xs)


def _max(*xs: Decimal) -> Decimal:
    return max(xs)


def _abs(x: Decimal) -> Decimal:
    return x.copy_abs()


def _round(x: Decimal, exp: Decimal) -> Decimal:
    return x.quantize(exp, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)


def _sqrt(x: Decimal) -> Decimal:
    return DECIMAL_CONTEXT.sqrt(x)


# -- resolvers -------------------------------------------------------------------------------------


@function(
    "min",
    arity=(2, 8),
    signature="(x, y, ...) -> number | quantity",
    doc="The smallest argument. Quantities must share a dimension; the result is in the first "
    "quantity's unit.",
)
def _resolve_min(name: str, args: Sequence[ArgInfo]) -> Resolved:
    t, factors = numeric_args(name, args)
    return Resolved(t, _min, tuple(range(len(args))), factors)


@function(
    "max",
    arity=(2, 8),
    signature="(x, y, ...) -> number | quantity",
    doc="The largest argument. Quantities must share a dimension; the result is in the first "
    "quantity's unit.",
)
def _resolve_max(name: str, args: Sequence[ArgInfo]) -> Resolved:
    t, factors = numeric_args(name, args)
    return Resolved(t, _max, tuple(range(len(args))), factors)


@function("abs", arity=(1, 1), signature="(x) -> same as x", doc="The absolute value.")
def _resolve_abs(name: str, args: Sequence[ArgInfo]) -> Resolved:
    t, _ = numeric_args(name, args)
    return Resolved(t, _abs, (0,), (None,))


@function(
    "round",
    arity=(1, 2),
    signature="(x, digits=0) -> same as x",
    doc="Rounds half UP (clinical rounding: round(2.5) = 3, round(-2.5) = -3, round(0.125, 2) = 0.13); "
    "digits is "
    "an integer literal from -6 to 12.",
)
def _resolve_round(name: str, args: Sequence[ArgInfo]) -> Resolved:
    t, _ = numeric_args(name, args[:1])
    digits = 0
    if len(args) == 2:
        d = args[1]
        if (
            d.type.kind != "number"
            or not d.constant
            or not isinstance(d.value, Decimal)
            or d.value != d.value.to_integral_value()
            or not -6 <= d.value <= 12
        ):
            raise SignatureError(
                Code.EXPR_TYPE, f"{name}(): digits must be an integer literal from -6 to 12", arg=1
            )
        digits = int(d.value)
    return Resolved(t, _round, (0,), (None,), extra=(Decimal(1).scaleb(-digits, DECIMAL_CONTEXT),))


@function(
    "sqrt",
    arity=(1, 1),
    signature="(x: number) -> number",
    doc="The square root (28 significant digits); a negative argument is an evaluation error.",
)
def _resolve_sqrt(name: str, args: Sequence[ArgInfo]) -> Resolved:
    if args[0].type.kind != "number":
        kind_error(name, 0, args[0], "a number (the square root of a quantity has no unit here)")
    return Resolved(NUMBER, _sqrt, (0,), (None,))
