"""Quantity functions: the quantity literal ``q`` (compile time only) and ``bsa``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ...codes import Code
from ...values import units
from ...values.numbers import DECIMAL_CONTEXT
from ...values.types import ValueType
from .arguments import exact_factor
from .registry import ArgInfo, Resolved, SignatureError, function

_SECONDS_PER_HOUR = Decimal(3600)


def _bsa(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    context = DECIMAL_CONTEXT
    return context.sqrt(context.divide(context.multiply(height_cm, weight_kg), _SECONDS_PER_HOUR))


@function(
    "q",
    arity=(2, 2),
    signature="(value: number literal, unit: 'UCUM') -> quantity",
    doc="A quantity literal, e.g. q(820, '/mm3'); converted exactly at load time to the unit of what it is "
    "compared with or added to.",
    compile_time_only=True,
)
def _resolve_q(name: str, args: Sequence[ArgInfo]) -> Resolved:
    value, unit = args
    if value.type.kind != "number" or not value.constant or not isinstance(value.value, Decimal):
        raise SignatureError(
            Code.EXPR_TYPE, f"{name}(): the value must be a number literal, e.g. q(820, '/mm3')", arg=0
        )
    if unit.type.kind != "string" or not unit.constant or not isinstance(unit.value, str):
        raise SignatureError(
            Code.EXPR_TYPE, f"{name}(): the unit must be a UCUM code in quotes, e.g. q(820, '/mm3')", arg=1
        )
    try:
        units.check_unit(unit.value)
    except units.UnitError as exc:
        code = units.unit_code(exc, Code.EXPR_UNKNOWN_UNIT)
        raise SignatureError(code, f"{name}(): {exc.message}", arg=1) from None
    return Resolved(ValueType("quantity", unit.value), None, constant=value.value)


@function(
    "bsa",
    arity=(2, 2),
    signature="(height: length, weight: mass) -> quantity [m2]",
    doc="Body surface area by Mosteller: sqrt(height[cm] * weight[kg] / 3600) m2. Height and weight are "
    "converted "
    "exactly to cm and kg first.",
)
def _resolve_bsa(name: str, args: Sequence[ArgInfo]) -> Resolved:
    factors: list[Decimal | None] = []
    for i, (a, target, what) in enumerate(zip(args, ("cm", "kg"), ("height", "weight"), strict=True)):
        if a.type.kind != "quantity" or a.type.unit is None:
            raise SignatureError(
                Code.EXPR_TYPE,
                f"{name}(): {what} must be a quantity with a unit (e.g. {target}), not {a.type.describe()}",
                arg=i,
            )
        f = exact_factor(a.type.unit, target, f"{name}() {what}", i)
        factors.append(None if f == 1 else f)
    return Resolved(ValueType("quantity", "m2"), _bsa, (0, 1), tuple(factors))
