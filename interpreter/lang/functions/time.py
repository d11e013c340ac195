"""Time functions, read against the evaluation's as-of time.

Elapsed time, typed: ``hours_since(t)`` and ``hours_until(t)`` are quantities in ``h``, ``days_since(t)`` a
quantity in ``d`` (24 hours). A bare number compared with them is read in their unit, as with inputs
(``hours_since(t) < 24`` is 24 h), and a quantity in another unit of time is converted exactly
(``hours_since(t) < q(3, 'd')`` is 72 h). For a ``date`` (a whole day), ``days_since(d)`` is the number of
calendar days from that date to the as-of date, a whole number of ``d``; ``hours_since``/``hours_until`` of a
date are refused (a date has no time of day).

Calendar months and years (never UCUM's ``mo`` or ``a``, which are mean lengths): adding *n* months to a date
moves the month and keeps the day, or takes the last day of the month when it is shorter (31 January + 1 month
is 28 February, or 29 in a leap year; 29 February + 12 months is 28 February). Every calendar function works
on dates in the evaluation's calendar (a datetime is first read as its date there):

* ``months_since(d)`` / ``years_since(d)``: the number of whole calendar months / years from ``d`` to the
  as-of date (the largest n with d + n months <= the as-of date); negative when ``d`` is later.
* ``within_months(start, n)`` / ``within_years(start, n)``: the as-of date is on or after ``start`` and
  before ``start + n`` calendar months / years (the first n months of a treatment: the day n months after
  the start is the first day *outside*). ``n`` is a whole-number literal, 1 to 1200 months or 1 to 100 years.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, Overflow

from ...codes import Code
from ...values import units
from ...values.numbers import DECIMAL_CONTEXT
from ...values.types import BOOLEAN, NUMBER, ValueType
from .arguments import kind_error
from .registry import ArgInfo, Resolved, SignatureError, function

__all__ = ["add_months", "calendar_date", "months_between"]

_SECONDS_PER_HOUR = Decimal(3600)
_SECONDS_PER_DAY = Decimal(86400)
HOURS = ValueType("quantity", "h")
DAYS = ValueType("quantity", "d")


def _seconds(td: timedelta) -> Decimal:
    whole = Decimal(td.days * 86400 + td.seconds)
    if td.microseconds:
        return DECIMAL_CONTEXT.add(whole, Decimal(td.microseconds).scaleb(-6, DECIMAL_CONTEXT))
    return whole


def _elapsed(start: datetime, end: datetime) -> timedelta:
    """``end - start`` by instant, for any aware datetimes.

    Python subtracts two datetimes that share one ``tzinfo`` object by wall clock, which is wrong across a
    daylight-saving change (ZoneInfo): both are converted to UTC first.
    """
    return end.astimezone(UTC) - start.astimezone(UTC)


def _hours_since(now: datetime, t: datetime) -> Decimal:
    return DECIMAL_CONTEXT.divide(_seconds(_elapsed(t, now)), _SECONDS_PER_HOUR)


def _days_since(now: datetime, t: datetime) -> Decimal:
    return DECIMAL_CONTEXT.divide(_seconds(_elapsed(t, now)), _SECONDS_PER_DAY)


def _hours_until(now: datetime, t: datetime) -> Decimal:
    return DECIMAL_CONTEXT.divide(_seconds(_elapsed(now, t)), _SECONDS_PER_HOUR)


def calendar_date(now: datetime, t: date) -> date:
    """The calendar date of ``t`` in the evaluation's calendar (the as-of time ``now`` carries its offset)."""
    if isinstance(t, datetime):
        return t.astimezone(now.tzinfo).date()
    return t


def _days_since_date(now: datetime, d: date) -> Decimal:
    return Decimal((now.date() - d).days)


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months: the same day, or the last day of a shorter month.

    ``OverflowError`` beyond the years 1 to 9999."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    return date(year, month + 1, min(d.day, monthrange(year, month + 1)[1]))


def months_between(start: date, end: date) -> int:
    """The largest n with ``add_months(start, n) <= end`` (negative when ``end`` is before ``start``)."""
    n = (end.year - start.year) * 12 + (end.month - start.month)
    # add_months never overflows here: start + n months is in the month of `end`
    if add_months(start, n) > end:
        n -= 1
    return n


def _months_since(now: datetime, t: date) -> Decimal:
    return Decimal(months_between(calendar_date(now, t), now.date()))


def _years_since(now: datetime, t: date) -> Decimal:
    return Decimal(months_between(calendar_date(now, t), now.date()) // 12)


def _within_months(now: datetime, t: date, months: int) -> bool:
    start = calendar_date(now, t)
    today = now.date()
    if today < start:
        return False
    try:
        return today < add_months(start, months)
    except OverflowError:  # the window ends after the year 9999: today is within it
        return True


def _when_arg(name: str, args: Sequence[ArgInfo], what: str = "a datetime or date input") -> str:
    kind = args[0].type.kind
    if kind not in ("datetime", "date"):
        kind_error(name, 0, args[0], what)
    return kind


def _time_call(
    name: str, args: Sequence[ArgInfo], impl: Callable[[datetime, datetime], Decimal], result: ValueType
) -> Resolved:
    kind = _when_arg(name, args, "a datetime input")
    if kind == "date":
        raise SignatureError(
            Code.EXPR_TYPE,
            f"{name}(): a date has no time of day, so hours cannot be counted from it",
            arg=0,
            hint="use days_since(d) (whole calendar days), or declare the input as a datetime",
        )
    return Resolved(result, impl, (0,), (None,), needs_now=True)


@function(
    "hours_since",
    arity=(1, 1),
    signature="(t: datetime) -> quantity [h]",
    doc="Hours from t to the as-of time, a quantity in h (fractional; negative when t is later).",
)
def _resolve_hours_since(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _time_call(name, args, _hours_since, HOURS)


@function(
    "days_since",
    arity=(1, 1),
    signature="(t: datetime or date) -> quantity [d]",
    doc="Days (of 24 h) from t to the as-of time, a quantity in d (fractional; negative when t is later). "
    "For a date: whole calendar days from the date to the as-of date.",
)
def _resolve_days_since(name: str, args: Sequence[ArgInfo]) -> Resolved:
    if _when_arg(name, args) == "date":
        return Resolved(DAYS, _days_since_date, (0,), (None,), needs_now=True)
    return _time_call(name, args, _days_since, DAYS)


@function(
    "hours_until",
    arity=(1, 1),
    signature="(t: datetime) -> quantity [h]",
    doc="Hours from the as-of time to t, a quantity in h (fractional; negative when t is earlier).",
)
def _resolve_hours_until(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _time_call(name, args, _hours_until, HOURS)


@function(
    "months_since",
    arity=(1, 1),
    signature="(t: datetime or date) -> number",
    doc="Whole calendar months from the date of t to the as-of date (31 January + 1 month is the last day "
    "of February); negative when t is later. A number: a calendar month is not UCUM's mean month 'mo'.",
)
def _resolve_months_since(name: str, args: Sequence[ArgInfo]) -> Resolved:
    _when_arg(name, args)
    return Resolved(NUMBER, _months_since, (0,), (None,), needs_now=True)


@function(
    "years_since",
    arity=(1, 1),
    signature="(t: datetime or date) -> number",
    doc="Whole calendar years from the date of t to the as-of date (an age from a birth date; 29 February "
    "+ 1 year is 28 February); negative when t is later.",
)
def _resolve_years_since(name: str, args: Sequence[ArgInfo]) -> Resolved:
    _when_arg(name, args)
    return Resolved(NUMBER, _years_since, (0,), (None,), needs_now=True)


def _count_literal(name: str, args: Sequence[ArgInfo], most: int, what: str) -> int:
    a = args[1]
    value = a.value
    if (
        a.type.kind != "number"
        or not a.constant
        or not isinstance(value, Decimal)
        or value != value.to_integral_value()
        or not 1 <= value <= most
    ):
        raise SignatureError(
            Code.EXPR_TYPE,
            f"{name}(): the number of {what} must be a whole number from 1 to {most}, written as a number",
            arg=1,
        )
    return int(value)


@function(
    "within_months",
    arity=(2, 2),
    signature="(start: datetime or date, months: integer literal 1..1200) -> boolean",
    doc="True when the as-of date is on or after the date of start and before start + months calendar "
    "months (the first 6 months of a treatment: within_months(start, 6)).",
)
def _resolve_within_months(name: str, args: Sequence[ArgInfo]) -> Resolved:
    _when_arg(name, args)
    months = _count_literal(name, args, 1200, "months")
    return Resolved(BOOLEAN, _within_months, (0,), (None,), extra=(months,), needs_now=True)


@function(
    "within_years",
    arity=(2, 2),
    signature="(start: datetime or date, years: integer literal 1..100) -> boolean",
    doc="True when the as-of date is on or after the date of start and before start + years calendar years.",
)
def _resolve_within_years(name: str, args: Sequence[ArgInfo]) -> Resolved:
    _when_arg(name, args)
    years = _count_literal(name, args, 100, "years")
    return Resolved(BOOLEAN, _within_months, (0,), (None,), extra=(12 * years,), needs_now=True)


_MICROSECONDS = Decimal(1_000_000)


def _time_after(t: datetime, seconds: Decimal) -> datetime:
    """``t`` plus ``seconds`` (negative: before), to the microsecond (half even); beyond the years 1 to
    9999 it is ``expr-overflow``."""
    micro = DECIMAL_CONTEXT.multiply(seconds, _MICROSECONDS).to_integral_value(rounding=ROUND_HALF_EVEN)
    try:
        return t + timedelta(microseconds=int(micro))
    except OverflowError:
        raise Overflow("the time is beyond the years 1 to 9999") from None


@function(
    "time_after",
    arity=(2, 2),
    signature="(t: datetime, duration: quantity of time) -> datetime",
    doc="The time `duration` after t (before it when negative), e.g. time_after(last_chemo_at, q(24, 'h')); "
    "exact to the microsecond, in the evaluation's calendar. Calendar months are not durations: use "
    "within_months for them.",
)
def _resolve_time_after(name: str, args: Sequence[ArgInfo]) -> Resolved:
    t, duration = args
    if t.type.kind != "datetime":
        hint = "a date has no time of day; declare the input as a datetime" if t.type.kind == "date" else None
        raise SignatureError(Code.EXPR_TYPE, f"{name}(): t must be a datetime, not {t.type.describe()}",
                             arg=0, hint=hint)
    unit = duration.type.unit
    if duration.type.kind != "quantity" or unit is None or not units.same_dimension(unit, "s"):
        raise SignatureError(
            Code.EXPR_TYPE,
            f"{name}(): the duration must be a quantity of time, e.g. q(24, 'h'), not "
            f"{duration.type.describe()}",
            arg=1, hint="write it with a unit of time: q(24, 'h'), q(30, 'min'), q(2, 'd')",
        )
    if unit in _CALENDAR_UNITS:
        raise SignatureError(
            Code.EXPR_TYPE, f"{name}(): '{unit}' is UCUM's mean month or year, not a calendar one", arg=1,
            hint="give the duration in h, d or wk; for calendar months use within_months(start, n)",
        )
    ratio = units.exact_ratio(unit, "s")
    factor = DECIMAL_CONTEXT.divide(Decimal(ratio.numerator), Decimal(ratio.denominator))
    return Resolved(ValueType("datetime"), _time_after, (0, 1), (None, factor))


#: UCUM's mean months and years: durations of a varying calendar length, refused by ``time_after``.
_CALENDAR_UNITS = frozenset({"mo", "mo_j", "mo_g", "mo_s", "a", "a_j", "a_g", "a_t"})
