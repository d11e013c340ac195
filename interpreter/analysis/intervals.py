"""Intervals of numbers and their arithmetic (intersection, containment, union), for the threshold checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Interval", "bound", "union"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of numbers: ``lo``/``hi`` None for unbounded; ``lo_closed``/``hi_closed`` whether included."""

    lo: Decimal | None = None
    lo_closed: bool = False
    hi: Decimal | None = None
    hi_closed: bool = False

    @property
    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def intersect(self, other: Interval) -> Interval:
        lo, lo_c = self.lo, self.lo_closed
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and not other.lo_closed)):
            lo, lo_c = other.lo, other.lo_closed
        hi, hi_c = self.hi, self.hi_closed
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and not other.hi_closed)):
            hi, hi_c = other.hi, other.hi_closed
        return Interval(lo, lo_c, hi, hi_c)

    def contains(self, other: Interval) -> bool:
        """Whether ``other`` is a subset of this interval (``other`` not empty)."""
        if self.lo is not None and (other.lo is None or other.lo < self.lo
                                    or (other.lo == self.lo and other.lo_closed and not self.lo_closed)):
            return False
        if self.hi is None:
            return True
        return not (other.hi is None or other.hi > self.hi
                    or (other.hi == self.hi and other.hi_closed and not self.hi_closed))

    def describe(self, name: str) -> str:
        if self.lo is not None and self.hi is not None and self.lo == self.hi:
            return f"{name} = {self.lo}"
        parts = []
        if self.lo is not None:
            parts.append(f"{self.lo} {'<=' if self.lo_closed else '<'} ")
        parts.append(name)
        if self.hi is not None:
            parts.append(f" {'<=' if self.hi_closed else '<'} {self.hi}")
        return "".join(parts)


def bound(op: str, value: Decimal) -> Interval | None:
    """The set of x with ``x <op> value`` (None for ``!=`` and anything else that is not one interval)."""
    match op:
        case "<":
            return Interval(hi=value, hi_closed=False)
        case "<=":
            return Interval(hi=value, hi_closed=True)
        case ">":
            return Interval(lo=value, lo_closed=False)
        case ">=":
            return Interval(lo=value, lo_closed=True)
        case "==":
            return Interval(value, True, value, True)
        case _:
            return None


def union(intervals: Sequence[Interval]) -> list[Interval]:
    """Merge into disjoint intervals, sorted."""
    def key(i: Interval) -> tuple[int, Decimal, int]:
        return (0, Decimal(0), 0) if i.lo is None else (1, i.lo, 0 if i.lo_closed else 1)

    merged: list[Interval] = []
    for cur in sorted((i for i in intervals if not i.empty), key=key):
        if merged:
            last = merged[-1]
            touches = last.hi is None or cur.lo is None or cur.lo < last.hi or (
                cur.lo == last.hi and (last.hi_closed or cur.lo_closed))
            if touches:
                if last.hi is None or (cur.hi is not None and (cur.hi < last.hi or (
                        cur.hi == last.hi and (last.hi_closed or not cur.hi_closed)))):
                    continue  # cur ends inside last
                merged[-1] = Interval(last.lo, last.lo_closed, cur.hi, cur.hi_closed)
                continue
        merged.append(cur)
    return merged
