"""An independent reference evaluator (a test oracle) for the expression language, built on simpleeval.

The engine compiles each expression to Python code (``interpreter/lang/``). This module evaluates
the same text a second, deliberately naive way, straight from the documented semantics in
``docs/language.md``: it walks the syntax tree with simpleeval's node dispatch and shares none of the
engine's parser, checker or code generator. The tests compare the two (``tests/test_conformance.py`` and
``tests/test_expressions_fuzz.py``); any disagreement is a bug in one of them.

What it implements:

* three-valued (Kleene) logic: ``false and unknown`` is false, ``true or unknown`` is true, everything
  else that touches UNKNOWN is UNKNOWN; ``and`` / ``or`` / chained comparisons stop at the first operand
  that decides, left to right; every operand of an arithmetic operator or a function is evaluated;
* exact decimals: numeric literals are read from the source text (never through ``float``); ``+ - * /``,
  unary minus, ``sqrt``, ``round`` and the time functions round to 28 significant digits (half even,
  ``round`` half up); a result beyond the range 1e-999 .. 1e999 is ``expr-overflow``, a division by zero
  ``expr-division-by-zero``, 0/0, the square root of a negative number or a rounding that needs more than
  28 digits ``expr-invalid-operation``;
* quantities: a value carries its UCUM unit; a bare number meeting a quantity is read in that quantity's
  unit; comparisons between units are exact (rational arithmetic on the exact factor); sums convert one
  operand exactly to the other's unit; ``quantity * quantity`` and ``quantity / quantity`` are plain numbers
  (the right operand first converted to the left's unit when both have one dimension);
* every function of the language (``min max abs round sqrt q bsa hours_since days_since hours_until
  latest count_within consecutive_days_at_or_above consecutive_days_above at_or_above_on_days
  above_on_days``), written from their documentation.

It reuses one piece of the project: the exact unit-conversion factors
(``interpreter.values.units.exact_ratio``), which are data, not semantics. It does not check types, names or
units: it evaluates only expressions the engine has accepted, and raises ``OracleBug`` (never a verdict) on
anything else. It is test-only code.

A fresh ``ReferenceEvaluator`` is made for every evaluation (simpleeval instances keep per-run state).
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from functools import lru_cache
from typing import Any, Final

from simpleeval import EvalWithCompoundTypes

from interpreter.values import units  # exact conversion factors only (data, not semantics)

__all__ = [
    "UNKNOWN",
    "Completion",
    "Decl",
    "OracleBug",
    "OracleError",
    "OracleUndefined",
    "Quantity",
    "ReferenceEvaluator",
    "ScoreItem",
    "Series",
    "evaluate",
    "in_unit",
    "score_items",
]


class _Unknown:
    """The oracle's own UNKNOWN (the engine's sentinel is mapped to it at the boundary)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise OracleBug("UNKNOWN has no truth value")


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str
    #: written in the expression (``q(820, '/mm3')``, or arithmetic on such literals only), not a fact
    literal: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Series:
    points: tuple[tuple[datetime, Decimal], ...]
    unit: str


class OracleError(Exception):
    """A run-time error the documented semantics require, with the engine's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class OracleUndefined(Exception):
    """The documentation does not define a result here (e.g. ``latest`` of two different values at one
    instant). Never a verdict: the caller must list such cases explicitly."""


class OracleBug(Exception):
    """The oracle was given something outside the language (the engine should have refused it)."""


# 28 significant digits, half even, on a wide exponent range: the documented range (1e-999 .. 1e999) is
# checked explicitly after each operation by ``_ranged``, so that it is read from the documentation and not
# from a decimal context's Emin/Emax subtleties (subnormals, clamping).
_ARITH: Final = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999_999,
    Emin=-999_999_999,
    traps=[DivisionByZero, InvalidOperation, Overflow],
)
_RANGE_MAX: Final = 999  # adjusted exponent: |x| < 1e1000
_RANGE_MIN: Final = -999  # adjusted exponent: |x| >= 1e-999, or x == 0


def _ranged(x: Decimal) -> Decimal:
    if x and not _RANGE_MIN <= x.adjusted() <= _RANGE_MAX:
        raise OracleError("expr-overflow")
    return x


def _arith(fn: Callable[[Decimal, Decimal], Decimal], a: Decimal, b: Decimal) -> Decimal:
    try:
        return _ranged(fn(a, b))
    except DivisionByZero:
        raise OracleError("expr-division-by-zero") from None
    except InvalidOperation:  # 0/0 and friends
        raise OracleError("expr-invalid-operation") from None


# -- exact units ------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _ratio(from_unit: str, to_unit: str) -> Fraction | None:
    """The exact factor from one unit to another, or None when the dimensions differ."""
    if from_unit == to_unit:
        return Fraction(1)
    try:
        return units.exact_ratio(from_unit, to_unit)
    except units.UnitError as exc:
        if exc.code == "unit-incompatible":
            return None
        raise OracleBug(f"unit conversion {from_unit} -> {to_unit}: {exc.message}") from None


def _exact_decimal(f: Fraction) -> Decimal | None:
    """``f`` as an exact Decimal, or None when its decimal expansion does not terminate."""
    den = f.denominator
    k = 0
    while den % 10 == 0:
        den //= 10
        k += 1
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    extra = max(twos, fives)
    # f = num / (10**k * 2**twos * 5**fives): scale the numerator up to a power of ten
    num = f.numerator * (2 ** (extra - twos)) * (5 ** (extra - fives))
    sign = 1 if num < 0 else 0
    return Decimal((sign, tuple(int(c) for c in str(abs(num))), -(k + extra)))


def in_unit(q: Quantity, unit: str) -> Decimal:
    """The value of ``q`` in ``unit``, exactly (OracleBug when that is not a terminating decimal)."""
    r = _ratio(q.unit, unit)
    if r is None:
        raise OracleBug(f"{q.unit} is not of the dimension of {unit}")
    if r == 1:
        return q.value
    d = _exact_decimal(Fraction(q.value) * r)
    if d is None:
        raise OracleBug(f"{q.value} {q.unit} has no exact decimal value in {unit}")
    return d


def _convertible(x: Quantity, unit: str) -> Decimal | None:
    """``x`` in ``unit`` exactly, or None: for a literal when its value converts to an exact decimal, for a
    value when the unit's factor is an exact decimal (the unit of a sum never depends on a fact's value)."""
    r = _ratio(x.unit, unit) or Fraction(0)
    if not x.literal and _exact_decimal(r) is None:
        return None
    return _exact_decimal(Fraction(x.value) * r)


def _exact(x: Decimal | Quantity, unit: str | None) -> Fraction:
    """A numeric operand as an exact rational, a bare number read in ``unit``."""
    if isinstance(x, Quantity):
        if unit is None or unit == x.unit:
            return Fraction(x.value)
        r = _ratio(x.unit, unit)
        if r is None:
            raise OracleBug(f"{x.unit} compared with {unit}")
        return Fraction(x.value) * r
    return Fraction(x)


def _unit_of(*xs: object) -> str | None:
    for x in xs:
        if isinstance(x, Quantity):
            return x.unit
    return None


# -- operators --------------------------------------------------------------------------------------------


def _is_unknown(*xs: object) -> bool:
    return any(x is UNKNOWN for x in xs)


def _numeric(x: object) -> Decimal | Quantity:
    if isinstance(x, bool) or not isinstance(x, Decimal | Quantity):
        raise OracleBug(f"not a number: {x!r}")
    return x


def _additive(fn: Callable[[Decimal, Decimal], Decimal]) -> Callable[[object, object], object]:
    def op(a: object, b: object) -> object:
        if _is_unknown(a, b):
            return UNKNOWN
        a, b = _numeric(a), _numeric(b)
        if isinstance(a, Quantity) and isinstance(b, Quantity):
            literal = a.literal and b.literal
            if b.unit != a.unit:
                # the sum is in the unit of the value that is not written in the expression, as a
                # threshold is read in the input's unit; between two values (or two literals), in the
                # left one's unit; either way only by an exact decimal factor
                # a literal converts when its value is exact in the other unit, a value (known only at
                # evaluation) when the conversion factor is exact
                to_b = a.literal and not b.literal
                left_in_b = _convertible(a, b.unit)
                right_in_a = _convertible(b, a.unit)
                if (to_b and left_in_b is not None) or right_in_a is None:
                    a = Quantity(in_unit(a, b.unit), b.unit)
                else:
                    b = Quantity(right_in_a, a.unit)
            return Quantity(_arith(fn, a.value, b.value), a.unit, literal)
        if isinstance(a, Quantity):  # a bare number is read in the quantity's unit
            assert isinstance(b, Decimal)
            return Quantity(_arith(fn, a.value, b), a.unit, a.literal)
        if isinstance(b, Quantity):
            return Quantity(_arith(fn, a, b.value), b.unit, b.literal)
        return _arith(fn, a, b)

    return op


def _mul(a: object, b: object) -> object:
    if _is_unknown(a, b):
        return UNKNOWN
    a, b = _numeric(a), _numeric(b)
    if isinstance(a, Quantity) and isinstance(b, Quantity):
        r = _ratio(b.unit, a.unit)
        bv = b.value if r is None else in_unit(b, a.unit)
        return _arith(_ARITH.multiply, a.value, bv)
    if isinstance(a, Quantity):
        assert isinstance(b, Decimal)
        return Quantity(_arith(_ARITH.multiply, a.value, b), a.unit, a.literal)
    if isinstance(b, Quantity):
        return Quantity(_arith(_ARITH.multiply, a, b.value), b.unit, b.literal)
    return _arith(_ARITH.multiply, a, b)


def _div(a: object, b: object) -> object:
    if _is_unknown(a, b):
        return UNKNOWN
    a, b = _numeric(a), _numeric(b)
    if isinstance(a, Quantity) and isinstance(b, Quantity):
        r = _ratio(b.unit, a.unit)
        bv = b.value if r is None else in_unit(b, a.unit)
        return _arith(_ARITH.divide, a.value, bv)
    if isinstance(b, Quantity):
        raise OracleBug("a number divided by a quantity")
    if isinstance(a, Quantity):
        return Quantity(_arith(_ARITH.divide, a.value, b), a.unit, a.literal)
    return _arith(_ARITH.divide, a, b)


_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
}


def _comparison(op: str) -> Callable[[object, object], object]:
    test = _ORDER[op]

    def compare(a: object, b: object) -> object:
        if _is_unknown(a, b):
            return UNKNOWN
        if isinstance(a, bool) or isinstance(b, bool):
            if not (isinstance(a, bool) and isinstance(b, bool)) or op not in ("==", "!="):
                raise OracleBug(f"{a!r} {op} {b!r}")
            return test(a, b)
        if isinstance(a, Decimal | Quantity) and isinstance(b, Decimal | Quantity):
            unit = _unit_of(a, b)
            return test(_exact(a, unit), _exact(b, unit))
        if isinstance(a, datetime) and isinstance(b, datetime):
            return test(a.astimezone(UTC), b.astimezone(UTC))
        if type(a) is date and type(b) is date:  # two whole days
            return test(a.toordinal(), b.toordinal())
        if isinstance(a, str) and isinstance(b, str) and op in ("==", "!="):
            return test(a, b)
        raise OracleBug(f"{a!r} {op} {b!r}")

    return compare


def _membership(negate: bool) -> Callable[[object, object], object]:
    def member(a: object, items: object) -> object:
        if a is UNKNOWN or items is UNKNOWN:
            return UNKNOWN
        if isinstance(items, set | frozenset):  # a set-of-codes input: the words it holds
            items = sorted(items)
        if not isinstance(a, str) or not isinstance(items, list | tuple):
            raise OracleBug(f"{a!r} in {items!r}")
        found = any(a == item for item in items)
        return (not found) if negate else found

    return member


def _not(a: object) -> object:
    if a is UNKNOWN:
        return UNKNOWN
    if not isinstance(a, bool):
        raise OracleBug(f"not {a!r}")
    return not a


def _neg(a: object) -> object:
    if a is UNKNOWN:
        return UNKNOWN
    a = _numeric(a)
    if isinstance(a, Quantity):
        return Quantity(_ranged(_ARITH.minus(a.value)), a.unit, a.literal)
    return _ranged(_ARITH.minus(a))


def _pos(a: object) -> object:
    if a is UNKNOWN:
        return UNKNOWN
    a = _numeric(a)
    if isinstance(a, Quantity):
        return Quantity(_ranged(_ARITH.plus(a.value)), a.unit, a.literal)
    return _ranged(_ARITH.plus(a))


OPERATORS: Final[dict[type, Callable[..., object]]] = {
    ast.Add: _additive(_ARITH.add),
    ast.Sub: _additive(_ARITH.subtract),
    ast.Mult: _mul,
    ast.Div: _div,
    ast.Lt: _comparison("<"),
    ast.LtE: _comparison("<="),
    ast.Gt: _comparison(">"),
    ast.GtE: _comparison(">="),
    ast.Eq: _comparison("=="),
    ast.NotEq: _comparison("!="),
    ast.In: _membership(False),
    ast.NotIn: _membership(True),
    ast.Not: _not,
    ast.USub: _neg,
    ast.UAdd: _pos,
}


# -- functions --------------------------------------------------------------------------------------------


def _min_max(pick: Callable[[Sequence[Fraction]], Fraction]) -> Callable[..., object]:
    def fn(*xs: object) -> object:
        nums = [_numeric(x) for x in xs]
        unit = _unit_of(*nums)
        exact = [_exact(x, unit) for x in nums]
        i = exact.index(pick(exact))
        chosen = nums[i]
        if unit is None:
            return chosen
        return Quantity(chosen.value if isinstance(chosen, Decimal) else in_unit(chosen, unit), unit)

    return fn


def _abs(x: object) -> object:
    x = _numeric(x)
    if isinstance(x, Quantity):
        return Quantity(abs(x.value), x.unit)
    return abs(x)


def _round(x: object, digits: object = Decimal(0)) -> object:
    x = _numeric(x)
    if not isinstance(digits, Decimal):
        raise OracleBug(f"round digits {digits!r}")
    value = x.value if isinstance(x, Quantity) else x
    exp = Decimal((0, (1,), -int(digits)))
    try:
        out = _ranged(value.quantize(exp, rounding=ROUND_HALF_UP, context=_ARITH))
    except InvalidOperation:  # the result needs more than 28 digits
        raise OracleError("expr-invalid-operation") from None
    return Quantity(out, x.unit) if isinstance(x, Quantity) else out


def _sqrt(x: object) -> object:
    x = _numeric(x)
    if isinstance(x, Quantity):
        raise OracleBug("sqrt of a quantity")
    if x < 0:
        raise OracleError("expr-invalid-operation")
    return _ranged(_ARITH.sqrt(x))


def _bsa(height: object, weight: object) -> object:
    """Mosteller: sqrt(height [cm] * weight [kg] / 3600), in m2."""
    if not isinstance(height, Quantity) or not isinstance(weight, Quantity):
        raise OracleBug("bsa of plain numbers")
    h, w = in_unit(height, "cm"), in_unit(weight, "kg")
    product = _arith(_ARITH.multiply, h, w)
    return Quantity(_sqrt(_arith(_ARITH.divide, product, Decimal(3600))), "m2")  # type: ignore[arg-type]


def _seconds_between(start: datetime, end: datetime) -> Fraction:
    delta = end.astimezone(UTC) - start.astimezone(UTC)
    micro = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Fraction(micro, 1_000_000)


def _per(seconds: Fraction, unit_seconds: int) -> Decimal:
    f = seconds / unit_seconds
    return _arith(_ARITH.divide, Decimal(f.numerator), Decimal(f.denominator))


def _datetime(t: object) -> datetime:
    if not isinstance(t, datetime) or t.tzinfo is None:
        raise OracleBug(f"not an aware datetime: {t!r}")
    return t


def _days_since(now: datetime, t: object) -> object:
    """Elapsed days in d: by instant for a time, whole calendar days for a date (the as-of date minus it)."""
    if type(t) is date:
        return Quantity(Decimal(now.date().toordinal() - t.toordinal()), "d")
    return Quantity(_per(_seconds_between(_datetime(t), now), 86_400), "d")


def _day(now: datetime, t: object) -> date:
    """The calendar date of a date or a time, in the calendar of the as-of time."""
    if isinstance(t, datetime):
        return t.astimezone(now.tzinfo).date()
    if type(t) is date:
        return t
    raise OracleBug(f"not a date or time: {t!r}")


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def _whole_months(start: date, end: date) -> int:
    """Whole calendar months from start to end, written from the rule in docs/language.md: start + m months
    lands in end's month on day min(start.day, that month's length); it counts when that day is <= end.day."""
    m = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < min(start.day, _month_length(end.year, end.month)):
        m -= 1
    return m


def _within(now: datetime, t: object, months: int) -> bool:
    start, today = _day(now, t), now.date()
    return start <= today and _whole_months(start, today) < months


def _series(s: object) -> Series:
    if not isinstance(s, Series):
        raise OracleBug(f"not a series: {s!r}")
    return s


def _latest(s: object) -> object:
    s = _series(s)
    if not s.points:
        return UNKNOWN  # documented: an empty series has no latest value
    newest = max(t.astimezone(UTC) for t, _ in s.points)
    values = {v for t, v in s.points if t.astimezone(UTC) == newest}
    if len(values) > 1:
        raise OracleUndefined("latest(): different values at the same newest instant")
    return Quantity(values.pop(), s.unit)


_WINDOW: Final = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


def _window(text: str) -> timedelta:
    m = _WINDOW.fullmatch(text)
    if not m or not any(m.groups()):
        raise OracleBug(f"window {text!r}")
    w, d, h, mi = (int(g or 0) for g in m.groups())
    return timedelta(weeks=w, days=d, hours=h, minutes=mi)


def _threshold(s: Series, threshold: object) -> Fraction:
    """A threshold in the series' unit: a bare number is read in it, a quantity converted exactly."""
    return _exact(_numeric(threshold), s.unit)


def _days(s: Series, threshold: object, strict: bool) -> dict[date, bool]:
    """Each local calendar date (the date of the time stamp as sent) -> whether all its results pass."""
    limit = _threshold(s, threshold)
    out: dict[date, bool] = {}
    for t, v in s.points:
        ok = Fraction(v) > limit if strict else Fraction(v) >= limit
        out[t.date()] = out.get(t.date(), True) and ok
    return out


def _consecutive(strict: bool) -> Callable[..., object]:
    def fn(s: object, threshold: object) -> object:
        days = _days(_series(s), threshold, strict)
        if not days:
            return Decimal(0)
        day, n = max(days), 0
        while days.get(day) is True:
            n += 1
            day -= timedelta(days=1)
        return Decimal(n)

    return fn


def _on_days(strict: bool) -> Callable[..., object]:
    def fn(s: object, threshold: object, count: object) -> object:
        if not isinstance(count, Decimal) or count != count.to_integral_value() or not 1 <= count <= 30:
            raise OracleBug(f"days {count!r}")
        days = _days(_series(s), threshold, strict)
        if not days:
            return UNKNOWN
        newest = max(days)
        wanted = [days.get(newest - timedelta(days=i)) for i in range(int(count))]
        if False in wanted:
            return False
        return UNKNOWN if None in wanted else True

    return fn


@dataclass(frozen=True)
class _Fn:
    impl: Callable[..., object]
    #: passes the as-of time first
    needs_now: bool = False


def _count_within(now: datetime, s: object, window: object) -> object:
    if not isinstance(window, str):
        raise OracleBug(f"window {window!r}")
    series, span = _series(s), _window(window)
    width = Fraction(span.days * 86_400 + span.seconds)
    # inclusive at both ends: a result exactly one window before the as-of time counts
    return Decimal(sum(1 for t, _ in series.points if 0 <= _seconds_between(t, now) <= width))


def _time_after(t: object, duration: object) -> object:
    """t plus the duration (exact seconds, then rounded half even to the microsecond); beyond the years 1
    to 9999, expr-overflow."""
    if t is UNKNOWN or duration is UNKNOWN:
        return UNKNOWN
    if not isinstance(t, datetime) or not isinstance(duration, Quantity):
        raise OracleBug(f"time_after({t!r}, {duration!r})")
    seconds = Fraction(duration.value) * (_ratio(duration.unit, "s") or Fraction(0))
    micro = round(seconds * 1_000_000)  # Fraction.__round__: half to even
    try:
        return t + timedelta(microseconds=micro)
    except OverflowError:
        raise OracleError("expr-overflow") from None


def _words_in(pick: Callable[[Any], bool]) -> Callable[..., object]:
    """any_of / all_of: the set (a set-of-codes input) against the quoted words after it."""

    def fn(held: object, *words: object) -> object:
        if not isinstance(held, set | frozenset) or not all(isinstance(w, str) for w in words):
            raise OracleBug(f"{held!r} with {words!r}")
        return pick([w in held for w in words])

    return fn


FUNCTIONS: Final[dict[str, _Fn]] = {
    "min": _Fn(_min_max(min)),
    "max": _Fn(_min_max(max)),
    "abs": _Fn(_abs),
    "round": _Fn(_round),
    "sqrt": _Fn(_sqrt),
    "q": _Fn(lambda v, u: Quantity(_numeric(v), u, literal=True)),  # type: ignore[arg-type]
    "bsa": _Fn(_bsa),
    "hours_since": _Fn(
        lambda now, t: Quantity(_per(_seconds_between(_datetime(t), now), 3600), "h"), needs_now=True
    ),
    "days_since": _Fn(_days_since, needs_now=True),
    "hours_until": _Fn(
        lambda now, t: Quantity(_per(_seconds_between(now, _datetime(t)), 3600), "h"), needs_now=True
    ),
    "months_since": _Fn(lambda now, t: Decimal(_whole_months(_day(now, t), now.date())), needs_now=True),
    "years_since": _Fn(lambda now, t: Decimal(_whole_months(_day(now, t), now.date()) // 12), needs_now=True),
    "within_months": _Fn(lambda now, t, n: _within(now, t, int(n)), needs_now=True),
    "within_years": _Fn(lambda now, t, n: _within(now, t, 12 * int(n)), needs_now=True),
    "latest": _Fn(_latest),
    "count_within": _Fn(_count_within, needs_now=True),
    "consecutive_days_at_or_above": _Fn(_consecutive(False)),
    "consecutive_days_above": _Fn(_consecutive(True)),
    "at_or_above_on_days": _Fn(_on_days(False)),
    "above_on_days": _Fn(_on_days(True)),
    "time_after": _Fn(_time_after),
    "any_of": _Fn(_words_in(any)),
    "all_of": _Fn(_words_in(all)),
}


# -- the evaluator ----------------------------------------------------------------------------------------


class ReferenceEvaluator(EvalWithCompoundTypes):  # type: ignore[misc]
    """simpleeval's tree walker with the language's node semantics. One instance per evaluation."""

    def __init__(self, names: Mapping[str, object], as_of: datetime) -> None:
        super().__init__(operators=dict(OPERATORS), functions={}, names=dict(names))
        self.as_of = as_of
        self.text = ""
        # only the nodes of the language; anything else is refused by simpleeval (FeatureNotAvailable)
        self.nodes = {
            ast.Expr: self._eval_expr,
            ast.Name: self._eval_name,
            ast.Constant: self._eval_constant,
            ast.UnaryOp: self._eval_unaryop,
            ast.BinOp: self._eval_binop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
            ast.Call: self._eval_call,
            ast.List: self._eval_list,
            ast.Tuple: self._eval_tuple,
        }

    def eval(self, expr: str, previously_parsed: Any = None) -> object:
        # an expression may span lines (YAML block text): parse it as one bracketed expression; number
        # literals are read back from this text by their source offsets
        self.text = f"(\n{expr}\n)"
        tree = previously_parsed or ast.parse(self.text, mode="eval").body
        return super().eval(expr, tree)

    def _eval_constant(self, node: ast.Constant) -> object:  # type: ignore[override]
        v = node.value
        if isinstance(v, bool | str):
            return v
        if isinstance(v, int | float):
            text = ast.get_source_segment(self.text, node)
            if text is None:
                raise OracleBug("a number without source text")
            return Decimal(text.replace("_", ""))  # exactly as written, never through float
        raise OracleBug(f"literal {v!r}")

    def _eval_name(self, node: ast.Name) -> object:
        if node.id in ("true", "false"):
            return node.id == "true"
        if node.id not in self.names:
            raise OracleBug(f"name {node.id!r}")
        return self.names[node.id]

    def _eval_boolop(self, node: ast.BoolOp) -> object:
        """Kleene: the first false decides ``and``, the first true decides ``or``; else any UNKNOWN.

        Operands are evaluated left to right, except that constant operands (no input in them) come first:
        ``x / y > 1 and false`` is false even when y is 0 (the engine folds constants at load time; the
        documentation is silent on it; see docs/internals.md).
        """
        decisive = isinstance(node.op, ast.Or)
        folded = None if _constant(node) else self._folded(node)
        if folded is not None:
            return folded
        unknown = False
        for operand in sorted(node.values, key=lambda n: not _constant(n)):
            v = self._eval(operand)
            if v is UNKNOWN:
                unknown = True
            elif not isinstance(v, bool):
                raise OracleBug(f"{v!r} in and/or")
            elif v is decisive:
                return decisive
        return UNKNOWN if unknown else (not decisive)

    def _folded(self, node: ast.AST) -> bool | None:
        """The truth value of a condition that is decided when the guideline is loaded, whatever the inputs: a
        constant (no input in it), or an ``and``/``or`` with an operand so decided to its deciding value
        (``fever or true`` is true), or ``not`` of one. None when the inputs matter. The engine folds these at
        load time, so an operand that would fail for these facts is never evaluated (docs/internals.md)."""
        if _constant(node):
            if isinstance(node, ast.Name) and node.id in ("true", "false"):
                return node.id == "true"
            if isinstance(node, ast.Constant) and isinstance(node.value, bool):
                return node.value
            if isinstance(node, ast.BoolOp | ast.UnaryOp | ast.Compare):
                try:
                    value = self._eval(node)
                except OracleError:
                    return None
                return value if isinstance(value, bool) else None
            return None
        if isinstance(node, ast.BoolOp):
            decisive = isinstance(node.op, ast.Or)
            values = [self._folded(v) for v in node.values]
            if any(v is decisive for v in values):
                return decisive
            if all(v is (not decisive) for v in values):
                return not decisive
            return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self._folded(node.operand)
            return None if inner is None else not inner
        return None

    def _eval_compare(self, node: ast.Compare) -> object:
        """A chain ``a < b < c`` is ``a < b and b < c`` (Kleene), with ``b`` evaluated once; a constant
        link that is false decides first, as in ``and``."""
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            if _constant(operands[i]) and _constant(operands[i + 1]):
                link = self.operators[type(op)](self._eval(operands[i]), self._eval(operands[i + 1]))
                if link is False:
                    return False
        left = self._eval(node.left)
        unknown = False
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comparator)
            v = self.operators[type(op)](left, right)
            if v is False:
                return False
            if v is UNKNOWN:
                unknown = True
            left = right
        return UNKNOWN if unknown else True

    def _eval_call(self, node: ast.Call) -> object:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise OracleBug(f"call {ast.dump(node.func)}")
        fn = FUNCTIONS[node.func.id]
        args = [self._eval(a) for a in node.args]  # every argument is evaluated
        if _is_unknown(*args):
            return UNKNOWN
        if fn.needs_now:
            return fn.impl(self.as_of, *args)
        return fn.impl(*args)


def _constant(node: ast.AST) -> bool:
    """No input and no as-of time in it: its value is known when the guideline is loaded."""
    callees = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}  # `q` of q(...) is no input
    return not any(
        (isinstance(n, ast.Name) and n.id not in ("true", "false") and id(n) not in callees)
        or (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and FUNCTIONS.get(n.func.id, _NOW).needs_now
        )
        for n in ast.walk(node)
    )


_NOW: Final = _Fn(lambda: None, needs_now=True)



def evaluate(source: str, names: Mapping[str, object], as_of: datetime) -> object:
    """The value of ``source`` (Decimal, Quantity, bool, str, datetime, Series) or ``UNKNOWN``.

    Raises ``OracleError`` (with the engine's ``expr-*`` code) for a documented run-time error,
    ``OracleUndefined`` where the documentation defines no result, ``OracleBug`` for input outside the
    language.
    """
    return ReferenceEvaluator(names, as_of).eval(source)


def bind(
    decls: Mapping[str, tuple[str, str | None]], values: Mapping[str, object], engine_unknown: object
) -> dict[str, object]:
    """The oracle's names from run-time values as the engine takes them: ``decls`` maps a name to its
    (kind, unit); ``engine_unknown`` is the engine's UNKNOWN sentinel (mapped to the oracle's own)."""
    out: dict[str, object] = {}
    for name, (kind, unit) in decls.items():
        v = values.get(name, engine_unknown)
        if v is engine_unknown:
            out[name] = UNKNOWN
        elif kind == "quantity":
            assert unit is not None and isinstance(v, Decimal)
            out[name] = Quantity(v, unit)
        elif kind == "series":
            assert unit is not None
            out[name] = Series(tuple(v), unit)  # type: ignore[call-overload]
        else:
            out[name] = v
    return out


# -- scores and completion ----------------------------------------------------------------------------------
#
# Written from docs/language.md "Scores" and "When a fact is missing", by brute force and nothing cleverer: a
# condition is decided when every value of its unknown inputs gives the same answer. The domains are the
# documented ones (booleans both values, codes every word, code sets every subset of the words, numbers and
# quantities the plausible bounds, every constant the input is compared with and a point between each two
# neighbours, and nothing for other types or inputs used any other way). A score read by a condition is
# computed again from its items for every joint value of all the inputs it and the condition read (the engine
# completes a score over its reachable sums, independently of the condition's other inputs: where that is
# less precise the corpus says so). No bound on the work: the corpus keeps its cases small.


@dataclass(frozen=True)
class Decl:
    """What the oracle needs of an input to complete it."""

    kind: str
    unit: str | None = None
    values: tuple[str, ...] = ()
    low: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True)
class ScoreItem:
    #: (condition, points): the first that holds gives its points; none: ``otherwise``
    rules: tuple[tuple[str, Decimal], ...]
    otherwise: Decimal


def score_items(spec: Mapping[str, Any], decls: Mapping[str, Decl]) -> tuple[ScoreItem, ...]:
    """A score as a guideline writes it (``items:``), as (condition, points) rules of the oracle's own."""
    out: list[ScoreItem] = []
    for it in spec["items"]:
        if "bands" in it:
            rules = tuple((b["when"], Decimal(str(b["points"]))) for b in it["bands"])
            out.append(ScoreItem(rules, Decimal(str(it.get("otherwise", 0)))))
        elif "when" in it:
            out.append(ScoreItem(((it["when"], Decimal(str(it["points"]))),), Decimal(0)))
        elif decls[it["input"]].kind == "boolean":
            out.append(ScoreItem(((it["input"], Decimal(str(it["points"]))),), Decimal(0)))
        else:  # a code input: one rule per word, compared with ==
            name = it["input"]
            rules = tuple((f"{name} == '{w}'", Decimal(str(p))) for w, p in it["points"].items())
            out.append(ScoreItem(rules, Decimal(0)))
    return tuple(out)


def _read_names(source: str) -> set[str]:
    tree = ast.parse(f"(\n{source}\n)", mode="eval")
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {
        n.id for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in ("true", "false") and id(n) not in callees
    }


class Completion:
    """Scores and completed conditions over one set of bindings (the oracle's values of every input)."""

    def __init__(
        self, decls: Mapping[str, Decl], scores: Mapping[str, tuple[ScoreItem, ...]], as_of: datetime
    ) -> None:
        self.decls, self.scores, self.as_of = decls, scores, as_of

    # ---- plain evaluation
    def _plain(self, source: str, names: Mapping[str, object]) -> object:
        return evaluate(source, names, self.as_of)

    def _item_plain(self, item: ScoreItem, names: Mapping[str, object]) -> object:
        for cond, points in item.rules:
            r = self._plain(cond, names)
            if r is True:
                return points
            if r is not False:
                return UNKNOWN
        return item.otherwise

    def _with_plain_scores(self, names: Mapping[str, object]) -> dict[str, object]:
        out = dict(names)
        for name, items in self.scores.items():
            total: object = Decimal(0)
            for item in items:
                p = self._item_plain(item, names)
                total = UNKNOWN if p is UNKNOWN or total is UNKNOWN else total + p  # type: ignore[operator]
            out[name] = total
        return out

    # ---- domains
    def _thresholds(self, name: str, sources: Sequence[str]) -> list[Decimal] | None:
        """Every constant ``name`` is compared with in ``sources``; None when it is used any other way."""
        decl = self.decls[name]
        found: list[Decimal] = []
        for source in sources:
            text = f"(\n{source}\n)"
            tree = ast.parse(text, mode="eval")
            occurrences = sum(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))
            direct = 0
            for node in ast.walk(tree):
                if not isinstance(node, ast.Compare):
                    continue
                operands = [node.left, *node.comparators]
                for k, operand in enumerate(operands):
                    if not (isinstance(operand, ast.Name) and operand.id == name):
                        continue
                    neighbours = [operands[j] for j in (k - 1, k + 1) if 0 <= j < len(operands)]
                    if not all(_constant(m) for m in neighbours):
                        return None
                    direct += 1
                    for m in neighbours:
                        segment = ast.get_source_segment(text, m)
                        assert segment is not None
                        v = evaluate(segment, {}, self.as_of)
                        if isinstance(v, Quantity):
                            try:
                                v = in_unit(v, decl.unit or v.unit)
                            except OracleBug:
                                return None  # no exact value in the input's unit
                        if not isinstance(v, Decimal):
                            return None
                        found.append(v)
            if direct != occurrences:
                return None
        return found

    def _domain(self, name: str, sources: Sequence[str]) -> list[object] | None:
        d = self.decls[name]
        if d.kind == "boolean":
            return [False, True]
        if d.kind == "code":
            return list(d.values) or None
        if d.kind == "code-set":
            words = list(d.values)
            return [
                frozenset(w for i, w in enumerate(words) if mask >> i & 1) for mask in range(2 ** len(words))
            ]
        if d.kind not in ("number", "quantity") or d.low is None or d.high is None:
            return None
        found = self._thresholds(name, sources)
        if found is None:
            return None
        points = sorted({d.low, d.high, *(t for t in found if d.low <= t <= d.high)})
        out: list[Decimal] = []
        for a, b in itertools.pairwise(points):
            middle = _exact_decimal((Fraction(a) + Fraction(b)) / 2)
            assert middle is not None  # half of a sum of two terminating decimals terminates
            out += [a, middle]
        out.append(points[-1])
        return [Quantity(v, d.unit) if d.kind == "quantity" and d.unit else v for v in out]

    def _enumerate(self, unknown: Sequence[str], sources: Sequence[str], names: Mapping[str, object]
                   ) -> list[dict[str, object]] | None:
        domains = []
        for n in unknown:
            dom = self._domain(n, sources)
            if dom is None:
                return None
            domains.append(dom)
        trials: list[dict[str, object]] = [dict(names)]
        for n, dom in zip(unknown, domains, strict=True):
            trials = [{**t, n: v} for t in trials for v in dom]
        return trials

    # ---- scores
    def item_points(self, item: ScoreItem, names: Mapping[str, object]) -> tuple[object, Decimal, Decimal]:
        """(the points, or UNKNOWN; the least and most points over every value of its unknown inputs)."""
        sources = [c for c, _ in item.rules]
        unknown = sorted(n for s in sources for n in _read_names(s) if names.get(n) is UNKNOWN)
        unknown = sorted(set(unknown))
        declared = sorted({item.otherwise, *(p for _, p in item.rules)})
        if not unknown:
            p = self._item_plain(item, names)
            return (p, p, p) if isinstance(p, Decimal) else (UNKNOWN, declared[0], declared[-1])
        trials = self._enumerate(unknown, sources, names)
        if trials is None:
            return UNKNOWN, declared[0], declared[-1]
        seen: set[Decimal] = set()
        for t in trials:
            try:
                p = self._item_plain(item, t)
            except OracleError:
                return UNKNOWN, declared[0], declared[-1]
            if not isinstance(p, Decimal):
                return UNKNOWN, declared[0], declared[-1]
            seen.add(p)
        low, high = min(seen), max(seen)
        return (low if low == high else UNKNOWN), low, high

    def score(self, name: str, names: Mapping[str, object]) -> tuple[object, Decimal, Decimal]:
        """(the score's value or UNKNOWN, its minimum, its maximum)."""
        total: object = Decimal(0)
        low = high = Decimal(0)
        for item in self.scores[name]:
            p, lo, hi = self.item_points(item, names)
            low, high = low + lo, high + hi
            total = UNKNOWN if p is UNKNOWN or total is UNKNOWN else total + p  # type: ignore[operator]
        return total, low, high

    def bind_scores(self, names: Mapping[str, object]) -> dict[str, object]:
        return {**names, **{s: self.score(s, names)[0] for s in self.scores}}

    # ---- conditions
    def completed(self, source: str, names: Mapping[str, object]) -> object:
        """True or False when every value of the unknown inputs ``source`` reads (directly or through a
        score) gives that answer; UNKNOWN otherwise (or when an unknown input has no domain)."""
        bound = self.bind_scores(names)
        plain = self._plain(source, bound)
        if plain is not UNKNOWN:
            return plain
        read = _read_names(source)
        sources = [source]
        inputs = {n for n in read if n in self.decls}
        for s in sorted(read & set(self.scores)):
            if bound[s] is UNKNOWN:
                for item in self.scores[s]:
                    for cond, _ in item.rules:
                        sources.append(cond)
                        inputs |= _read_names(cond) & set(self.decls)
        unknown = sorted(n for n in inputs if names.get(n) is UNKNOWN)
        trials = self._enumerate(unknown, sources, names)
        if not unknown or trials is None:
            return UNKNOWN
        answers: set[object] = set()
        for t in trials:
            try:
                answers.add(self._plain(source, self._with_plain_scores(t)))
            except OracleError:
                return UNKNOWN
            if len(answers) > 1 or UNKNOWN in answers:
                return UNKNOWN
        (answer,) = answers
        return answer
