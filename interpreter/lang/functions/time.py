"""Time functions, read against the evaluation's as-of time: ``hours_since``, ``days_since``,
``hours_until``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ...values.numbers import DECIMAL_CONTEXT
from ...values.types import NUMBER
from .arguments import kind_error
from .registry import ArgInfo, Resolved, function

_SECONDS_PER_HOUR = Decimal(3600)
_SECONDS_PER_DAY = Decimal(86400)


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


def _time_call(name: str, args: Sequence[ArgInfo], impl: Callable[[datetime, datetime], Decimal]) -> Resolved:
    if args[0].type.kind != "datetime":
        kind_error(name, 0, args[0], "a datetime input")
    return Resolved(NUMBER, impl, (0,), (None,), needs_now=True)


@function(
    "hours_since",
    arity=(1, 1),
    signature="(t: datetime) -> number",
    doc="Hours from t to the as-of time (fractional; negative when t is later).",
)
def _resolve_hours_since(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _time_call(name, args, _hours_since)


@function(
    "days_since",
    arity=(1, 1),
    signature="(t: datetime) -> number",
    doc="Days (of 24 h) from t to the as-of time (fractional; negative when t is later).",
)
def _resolve_days_since(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _time_call(name, args, _days_since)


@function(
    "hours_until",
    arity=(1, 1),
    signature="(t: datetime) -> number",
    doc="Hours from the as-of time to t (fractional; negative when t is earlier).",
)
def _resolve_hours_until(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _time_call(name, args, _hours_until)
