"""Exact decimal arithmetic: the one decimal context of expressions and the one of unit conversion (L0).

Every computation names its context explicitly (``DECIMAL_CONTEXT.multiply(a, b)``), so results never depend
on the caller's thread-local decimal context.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, DivisionByZero, InvalidOperation, Overflow, Subnormal, Underflow
from typing import Final

__all__ = ["CONVERSION_CONTEXT", "DECIMAL_CONTEXT"]

#: Arithmetic of expressions: 28 significant digits, banker's rounding, errors trapped, and an exponent range
#: (1e-999 to 1e999) far beyond any clinical value, so a runaway computation fails loudly (``expr-overflow``)
#: instead of silently growing or underflowing to zero.
DECIMAL_CONTEXT: Final = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    # Subnormal too: an exact result below 1e-999 (1e-500 * 1e-500) is out of range like an inexact one
    traps=[Overflow, Underflow, Subnormal, InvalidOperation, DivisionByZero],
    Emax=999,
    Emin=-999,
)
#: Multiplication by an exact unit-conversion factor: wide enough that converting any fact value is exact.
CONVERSION_CONTEXT: Final = Context(
    prec=120,
    rounding=ROUND_HALF_EVEN,
    traps=[Overflow, Underflow, InvalidOperation, DivisionByZero],
    Emax=9_999,
    Emin=-9_999,
)
