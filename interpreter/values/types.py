"""Static types of values in expressions, inputs and derived values.

At run time values are represented as:

=========  ==========================================================
kind       Python value
=========  ==========================================================
number     ``decimal.Decimal`` (never float, never bool)
quantity   ``decimal.Decimal`` in the declared ``unit`` (converted at the boundary)
boolean    ``bool``
code       ``str``, one of ``values``
code-set   ``frozenset[str]``, each one of ``values`` (possibly empty: a known empty set)
datetime   timezone-aware ``datetime.datetime``
date       ``datetime.date`` (a whole calendar day, no time of day)
series     ``Series``: a tuple of ``(datetime, Decimal)`` sorted by time, values in ``unit``
string     ``str`` (only string literals inside expressions)
=========  ==========================================================

A missing, stale or undated fact is the ``UNKNOWN`` singleton (see ``interpreter.values.unknown``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

__all__ = ["BOOLEAN", "NUMBER", "STRING", "Kind", "Series", "ValueType"]

Kind = Literal[
    "number", "quantity", "boolean", "code", "datetime", "series", "string", "code-set", "date"
]

#: A time series of quantities, oldest first, values in the input's canonical unit.
Series = tuple[tuple[datetime, Decimal], ...]


@dataclass(frozen=True, slots=True)
class ValueType:
    kind: Kind
    #: The UCUM unit, for quantity and series.
    unit: str | None = None
    #: The allowed values, for code.
    values: frozenset[str] | None = None

    def describe(self) -> str:
        if self.kind in ("quantity", "series") and self.unit:
            return f"{self.kind} [{self.unit}]"
        if self.kind in ("code", "code-set") and self.values:
            return f"{self.kind} (" + ", ".join(sorted(self.values)) + ")"
        return self.kind


NUMBER = ValueType("number")
BOOLEAN = ValueType("boolean")
STRING = ValueType("string")
