"""Series functions: ``latest``, the day counts ``consecutive_days_at_or_above`` / ``consecutive_days_above``,
the three-valued day predicates ``at_or_above_on_days`` / ``above_on_days``, and ``count_within``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final

from ...codes import Code
from ...values.durations import duration_parts
from ...values.text import echo
from ...values.types import BOOLEAN, NUMBER, Series, ValueType
from ...values.unknown import UNKNOWN
from .arguments import series_unit, threshold_factor
from .registry import ArgInfo, Resolved, SignatureError, function

__all__ = ["MAX_DAYS", "MAX_WINDOW", "parse_window"]

#: Largest ``days`` of ``at_or_above_on_days`` / ``above_on_days``.
MAX_DAYS: Final = 30
#: Longest window of ``count_within``: 100 years (of 365.25 days).
MAX_WINDOW: Final = timedelta(days=36525)

_ONE_DAY = timedelta(days=1)

# -- implementations (never called with UNKNOWN) ---------------------------------------------------


def _latest(series: Series) -> object:
    return series[-1][1] if series else UNKNOWN


def _by_local_day(series: Series, threshold: Decimal, strict: bool) -> dict[date, bool]:
    """Calendar date of each result -> whether every result of that day is >= (strict: >) the threshold.

    The fact checker has converted every time to the evaluation's one calendar (the time zone the host
    states, else the offset of the as-of time), so the date never depends on how a result was written."""
    by_day: dict[date, bool] = {}
    for at, value in series:
        day = at.date()  # the date in the evaluation's calendar
        ok = value > threshold if strict else value >= threshold
        by_day[day] = by_day.get(day, True) and ok
    return by_day


def _consecutive(series: Series, threshold: Decimal, strict: bool) -> Decimal:
    by_day = _by_local_day(series, threshold, strict)
    if not by_day:
        return Decimal(0)
    day = max(by_day)
    count = 0
    while by_day.get(day, False):
        count += 1
        if day == date.min:  # no day before 1 January of year 1
            break
        day -= _ONE_DAY
    return Decimal(count)


def _consecutive_at_or_above(series: Series, threshold: Decimal) -> Decimal:
    return _consecutive(series, threshold, False)


def _consecutive_above(series: Series, threshold: Decimal) -> Decimal:
    return _consecutive(series, threshold, True)


def _on_days(series: Series, threshold: Decimal, days: int, strict: bool) -> object:
    """Three-valued: every one of the ``days`` most recent calendar days has results, all passing.

    The days are consecutive dates (in the evaluation's calendar) ending at the newest date with results.
    False as soon as one result on those days fails; otherwise UNKNOWN when one of the days has no result (a
    gap, or a series that does not reach back that far); otherwise True.
    """
    by_day = _by_local_day(series, threshold, strict)
    if not by_day:
        return UNKNOWN
    day = max(by_day)
    complete = True
    for k in range(days):
        ok = by_day.get(day)
        if ok is False:
            return False
        if ok is None:
            complete = False
        if k + 1 < days:
            if day == date.min:  # the days asked for reach before year 1: they have no results
                return UNKNOWN
            day -= _ONE_DAY
    return True if complete else UNKNOWN


def _at_or_above_on_days(series: Series, threshold: Decimal, days: int) -> object:
    return _on_days(series, threshold, days, False)


def _above_on_days(series: Series, threshold: Decimal, days: int) -> object:
    return _on_days(series, threshold, days, True)


def _count_within(now: datetime, series: Series, window: timedelta) -> Decimal:
    end = now.astimezone(UTC)  # by instant: comparisons within one ZoneInfo would be by wall clock
    try:
        start = end - window
    except OverflowError:  # an as-of time within the window of year 1: every earlier result is inside
        start = datetime.min.replace(tzinfo=UTC)
    return Decimal(sum(1 for at, _ in series if start <= at.astimezone(UTC) <= end))


def parse_window(text: str) -> timedelta:
    """A window of ``count_within``: ISO 8601 PnW, PnD, PTnH, PTnM (and combinations), checked.

    Raises ``SignatureError``: ``expr-type`` when it is no such duration, ``expr-bad-number`` when a part has
    more than 5 digits or the whole is longer than 100 years (``P999999D`` would overflow a date).
    """
    parts = duration_parts(text)
    if parts is None:
        raise SignatureError(
            Code.EXPR_TYPE, f"'{echo(text)}' is not an ISO 8601 duration (PnW, PnD, PTnH, PTnM)", arg=1
        )
    if any(g is not None and len(g) > 5 for g in parts):
        raise SignatureError(
            Code.EXPR_BAD_NUMBER,
            f"'{echo(text)}' has a part of more than 5 digits; a window is at most 100 years",
            arg=1,
        )
    w, d, h, mi = (int(g) if g else 0 for g in parts)
    window = timedelta(weeks=w, days=d, hours=h, minutes=mi)
    if window > MAX_WINDOW:
        raise SignatureError(
            Code.EXPR_BAD_NUMBER, f"'{echo(text)}' is longer than 100 years (36525 days)", arg=1
        )
    return window


# -- resolvers -------------------------------------------------------------------------------------


@function(
    "latest",
    arity=(1, 1),
    signature="(s: series) -> quantity [unit of s]",
    doc="The most recent value of the series; unknown when the series is empty.",
)
def _resolve_latest(name: str, args: Sequence[ArgInfo]) -> Resolved:
    unit = series_unit(name, args)
    return Resolved(ValueType("quantity", unit), _latest, (0,), (None,), may_return_unknown=True)


def _consecutive_call(name: str, args: Sequence[ArgInfo], impl: Callable[..., object]) -> Resolved:
    unit = series_unit(name, args)
    return Resolved(NUMBER, impl, (0, 1), (None, threshold_factor(name, unit, args[1], 1)))


@function(
    "consecutive_days_at_or_above",
    arity=(2, 2),
    signature="(s: series, threshold) -> number",
    doc="A LOWER BOUND, for display: counting back from the most recent calendar day that has results "
    "(each time stamp's date in the evaluation's calendar), the number of consecutive days on which "
    "ALL results are >= threshold. The run ends at a day with a result below the threshold, at a day "
    "without results and at the start of the series, so a gap or a short series gives a smaller count, "
    "not an unknown. 0 for an empty series. For decisions use at_or_above_on_days.",
)
def _resolve_consecutive_at_or_above(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _consecutive_call(name, args, _consecutive_at_or_above)


@function(
    "consecutive_days_above",
    arity=(2, 2),
    signature="(s: series, threshold) -> number",
    doc="As consecutive_days_at_or_above, with every result strictly > threshold (a lower bound; for "
    "decisions use above_on_days).",
)
def _resolve_consecutive_above(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _consecutive_call(name, args, _consecutive_above)


def _on_days_call(name: str, args: Sequence[ArgInfo], impl: Callable[..., object]) -> Resolved:
    unit = series_unit(name, args)
    factor = threshold_factor(name, unit, args[1], 1)
    d = args[2]
    if (
        d.type.kind != "number"
        or not d.constant
        or not isinstance(d.value, Decimal)
        or d.value != d.value.to_integral_value()
        or not 1 <= d.value <= MAX_DAYS
    ):
        raise SignatureError(
            Code.EXPR_TYPE, f"{name}(): days must be an integer literal from 1 to {MAX_DAYS}", arg=2
        )
    return Resolved(BOOLEAN, impl, (0, 1), (None, factor), extra=(int(d.value),), may_return_unknown=True)


@function(
    "at_or_above_on_days",
    arity=(3, 3),
    signature="(s: series, threshold, days: integer literal 1..30) -> boolean",
    doc="Three-valued, for decisions. The days are the `days` consecutive calendar dates ending at the "
    "newest date with results (each result's date in the evaluation's calendar: the time zone the host "
    "states, else the offset of the as-of time). True when every "
    "one of those days has results and all of them are >= threshold; false when any result on those "
    "days is below it; unknown otherwise (a day without results, a series that does not reach back "
    "that far, an empty series).",
)
def _resolve_at_or_above_on_days(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _on_days_call(name, args, _at_or_above_on_days)


@function(
    "above_on_days",
    arity=(3, 3),
    signature="(s: series, threshold, days: integer literal 1..30) -> boolean",
    doc="As at_or_above_on_days, with every result strictly > threshold (false when a result on those days "
    "is at or below it).",
)
def _resolve_above_on_days(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _on_days_call(name, args, _above_on_days)


@function(
    "count_within",
    arity=(2, 2),
    signature="(s: series, window: 'ISO 8601 duration') -> number",
    doc="The number of results timed within the window before the as-of time (as_of - window <= t <= as_of, "
    "by instant). The window is at most 5 digits per part and 100 years in total.",
)
def _resolve_count_within(name: str, args: Sequence[ArgInfo]) -> Resolved:
    series_unit(name, args)
    w = args[1]
    if w.type.kind != "string" or not w.constant or not isinstance(w.value, str):
        raise SignatureError(
            Code.EXPR_TYPE,
            f"{name}(): the window must be an ISO 8601 duration in quotes, e.g. 'P7D'",
            arg=1,
        )
    try:
        window = parse_window(w.value)
    except SignatureError as exc:
        raise SignatureError(exc.code, f"{name}(): {exc.message}", arg=1) from None
    return Resolved(NUMBER, _count_within, (0,), (None,), extra=(window,), needs_now=True)
