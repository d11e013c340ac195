"""Argument checks shared by the resolvers: kinds, numbers and quantities of one dimension, series,
thresholds, and exact unit factors (every failure a ``SignatureError`` with an ``expr-*`` code)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NoReturn

from ...codes import Code
from ...values import units
from ...values.types import NUMBER, ValueType
from .registry import ArgInfo, SignatureError

__all__ = ["exact_factor", "kind_error", "numeric_args", "series_unit", "threshold_factor"]


def exact_factor(from_unit: str, to_unit: str, what: str, arg: int | None = None) -> Decimal:
    """The exact factor from ``from_unit`` to ``to_unit`` or a SignatureError naming ``what`` (at ``arg``)."""
    try:
        return units.conversion_factor(from_unit, to_unit)
    except units.UnitError as exc:
        if isinstance(exc, units.UnitLibraryError):
            raise SignatureError(exc.code, f"{what}: {exc.message}", arg=arg) from None
        if exc.code == Code.UNIT_INEXACT:
            raise SignatureError(
                Code.EXPR_INEXACT_CONVERSION,
                f"{what}: converting '{from_unit}' to '{to_unit}' has no exact decimal factor",
                arg=arg,
                hint=f"write it in '{to_unit}'",
            ) from None
        if exc.code == Code.UNIT_UNKNOWN:
            raise SignatureError(Code.EXPR_UNKNOWN_UNIT, f"{what}: {exc.message}", arg=arg) from None
        if exc.code != Code.UNIT_INCOMPATIBLE:  # an offset or log scale (Cel, [degF]), or a library failure
            raise SignatureError(
                Code.EXPR_UNIT_MISMATCH,
                f"{what}: {exc.message}",
                arg=arg,
                hint=f"write it in '{to_unit}' (offset units such as Cel and [degF] are never converted)",
            ) from None
        raise SignatureError(
            Code.EXPR_UNIT_MISMATCH,
            f"{what}: {units.dimension(from_unit)} '{from_unit}' is not "
            f"{units.dimension(to_unit)} '{to_unit}'",
            arg=arg,
        ) from None


def kind_error(name: str, i: int, arg: ArgInfo, expected: str) -> NoReturn:
    raise SignatureError(
        Code.EXPR_TYPE, f"{name}(): argument {i + 1} must be {expected}, not {arg.type.describe()}", arg=i
    )


def numeric_args(name: str, args: Sequence[ArgInfo]) -> tuple[ValueType, tuple[Decimal | None, ...]]:
    """Arguments that are all numbers, or quantities of one dimension (number constants read in the unit).

    Returns the common type (the unit of the first quantity) and a factor per argument.
    """
    unit: str | None = None
    for i, a in enumerate(args):
        if a.type.kind == "quantity":
            unit = a.type.unit
            break
        if a.type.kind != "number":
            kind_error(name, i, a, "a number or a quantity")
    if unit is None:
        return NUMBER, tuple(None for _ in args)
    factors: list[Decimal | None] = []
    for i, a in enumerate(args):
        if a.type.kind == "quantity":
            assert a.type.unit is not None
            factors.append(
                None
                if a.type.unit == unit
                else exact_factor(a.type.unit, unit, f"{name}() argument {i + 1}", i)
            )
        elif a.type.kind == "number":
            if not a.constant:
                raise SignatureError(
                    Code.EXPR_UNIT_MISMATCH,
                    f"{name}(): argument {i + 1} is a plain number but the others are quantities "
                    f"[{unit}]; only a number literal is read in the quantities' unit",
                    arg=i,
                )
            factors.append(None)
        else:
            kind_error(name, i, a, "a number or a quantity")
    return ValueType("quantity", unit), tuple(factors)


def series_unit(name: str, args: Sequence[ArgInfo]) -> str:
    """The unit of the series that must be the first argument."""
    a = args[0]
    if a.type.kind != "series" or a.type.unit is None:
        kind_error(name, 0, a, "a series input")
    return a.type.unit


def threshold_factor(name: str, series_unit: str, a: ArgInfo, i: int) -> Decimal | None:
    """Factor for a threshold argument compared with a series in ``series_unit``."""
    if a.type.kind == "quantity":
        assert a.type.unit is not None
        return (
            None
            if a.type.unit == series_unit
            else exact_factor(a.type.unit, series_unit, f"{name}() threshold", i)
        )
    if a.type.kind == "number" and a.constant:
        return None
    if a.type.kind == "number":
        raise SignatureError(
            Code.EXPR_UNIT_MISMATCH,
            f"{name}(): the threshold is a plain number; write a literal (read in "
            f"'{series_unit}') or a quantity",
            arg=i,
        )
    kind_error(name, i, a, f"a quantity comparable with [{series_unit}] or a number literal")
