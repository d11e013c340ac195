"""Echoing host or author text in messages: short, exact, never huge (L0)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Final

__all__ = ["ECHO_LIMIT", "echo", "echo_number", "quote"]

#: Longest rendering of a value echoed in a message (a fact as given, a literal, a name).
ECHO_LIMIT: Final = 40


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to about ``limit`` characters, with ``...`` when cut (never a huge message)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def echo_number(d: Decimal) -> str:
    """A short, exact rendering of a number for a message: plain when short, else scientific with the
    mantissa cut (never rounded, never read through the thread's decimal context).

    ``1E+308`` instead of 309 digits; ``499.9999999999999999999999999999999999...`` for an absurdly
    precise value (never ``500``); ``9.99999999999999999999999999999...E+4999``.
    """
    if not d.is_finite():
        return str(d)
    if not d:
        return "0"
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    n = len(digits)
    while n > 1 and digits[n - 1] == 0:  # trailing zeros
        n -= 1
    exp += len(digits) - n
    digits = digits[:n]
    adjusted = exp + n - 1
    if -ECHO_LIMIT < adjusted < ECHO_LIMIT:
        plain = format(Decimal((sign, digits, exp)), "f")  # exact: built from the tuple, formatted as is
        if len(plain) <= ECHO_LIMIT:
            return plain
        if abs(adjusted) < 6:  # too many digits, not too large or too small: cut the plain form
            return echo(plain)
    text = "".join(map(str, digits[:ECHO_LIMIT]))
    mantissa = ("-" if sign else "") + text[0] + ("." + text[1:] if len(text) > 1 else "")
    exponent = f"{adjusted:+d}"
    return echo(mantissa, ECHO_LIMIT - len(exponent) - 1) + "E" + exponent


def quote(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` in JSON quotes, escaped, cut to about ``limit`` characters."""
    out: list[str] = []
    size = 2
    for ch in text[:limit]:
        piece = json.dumps(ch)[1:-1]
        if size + len(piece) > limit:
            return '"' + "".join(out) + '..."'
        out.append(piece)
        size += len(piece)
    return '"' + "".join(out) + ('..."' if len(text) > limit else '"')
