"""The registry of functions an expression may call, and the ``UNKNOWN`` singleton.

Every function is pure and deterministic (no randomness, no clock: the time functions read the
evaluation's as-of time, passed in explicitly). Each entry has a name, an arity, a readable signature,
a doc string, a compile-time *resolver* and a run-time implementation.

The resolver sees the static type of every argument (and its value when it is a compile-time constant)
and returns a ``Resolved``: the result type, the implementation, which arguments are passed at run time,
the exact unit-conversion factor to apply to each, and constant extra arguments (a rounding exponent, a
window length). So ``bsa(height, weight)`` with height in ``[in_i]`` multiplies height by exactly 2.54
before the call, and ``count_within(series, 'P7D')`` parses the window once, at load.

Run-time implementations never see ``UNKNOWN`` arguments: the compiled expression returns ``UNKNOWN``
before calling a function when any argument is unknown. A function may itself return ``UNKNOWN`` only
when its entry says so (``latest`` of an empty series).

Arithmetic uses ``DECIMAL_CONTEXT`` (28 significant digits, ROUND_HALF_EVEN, trapping overflow, invalid
operations and division by zero) through explicit context methods; the caller's thread context is never
read or changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import (
    ROUND_HALF_UP,
    Decimal,
)
from types import MappingProxyType
from typing import Any, Final, NoReturn

from ..values import units
from ..values.durations import duration_parts
from ..values.numbers import DECIMAL_CONTEXT
from ..values.text import echo
from ..values.types import BOOLEAN, NUMBER, Series, ValueType
from ..values.unknown import UNKNOWN

__all__ = [
    "REGISTRY",
    "ArgInfo",
    "Function",
    "Resolved",
    "SignatureError",
    "exact_factor",
    "parse_window",
]



_C = DECIMAL_CONTEXT

@dataclass(frozen=True, slots=True)
class ArgInfo:
    """What the compiler knows about one argument: its static type and, if constant, its value."""

    type: ValueType
    constant: bool = False
    value: object = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """How to call a function, decided at compile time."""

    result: ValueType
    #: The run-time implementation (None when the result is the compile-time ``constant``).
    impl: Callable[..., object] | None
    #: Indexes of the arguments passed at run time, in order.
    args: tuple[int, ...] = ()
    #: Exact factor to multiply each passed argument by (unit conversion), or None.
    factors: tuple[Decimal | None, ...] = ()
    #: Constant extra arguments appended after the run-time ones.
    extra: tuple[object, ...] = ()
    #: Pass the evaluation's as-of time as the first argument.
    needs_now: bool = False
    #: The function may return UNKNOWN even when every argument is known.
    may_return_unknown: bool = False
    #: For compile-time-only functions (``q``): the value.
    constant: object = None


class SignatureError(Exception):
    """A call does not fit the function's signature; ``code`` is an ``expr-*`` diagnostic code."""

    def __init__(self, code: str, message: str, arg: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.arg = arg
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int
    #: e.g. ``round(x: number | quantity, digits: integer literal = 0) -> same as x``
    signature: str
    doc: str
    resolve: Callable[[Sequence[ArgInfo]], Resolved]
    #: True for functions evaluated entirely at compile time (``q``).
    compile_time_only: bool = False


# --------------------------------------------------------------------------------------------------
# helpers for resolvers


def exact_factor(from_unit: str, to_unit: str, what: str, arg: int | None = None) -> Decimal:
    """The exact factor from ``from_unit`` to ``to_unit`` or a SignatureError naming ``what`` (at ``arg``)."""
    try:
        return units.conversion_factor(from_unit, to_unit)
    except units.UnitError as exc:
        if isinstance(exc, units.UnitLibraryError):
            raise SignatureError(exc.code, f"{what}: {exc.message}", arg=arg) from None
        if exc.code == "unit-inexact":
            raise SignatureError(
                "expr-inexact-conversion",
                f"{what}: converting '{from_unit}' to '{to_unit}' has no exact decimal factor",
                arg=arg,
                hint=f"write it in '{to_unit}'",
            ) from None
        if exc.code == "unit-unknown":
            raise SignatureError("expr-unknown-unit", f"{what}: {exc.message}", arg=arg) from None
        if exc.code != "unit-incompatible":  # an offset or log scale (Cel, [degF]), or a library failure
            raise SignatureError(
                "expr-unit-mismatch",
                f"{what}: {exc.message}",
                arg=arg,
                hint=f"write it in '{to_unit}' (offset units such as Cel and [degF] are never converted)",
            ) from None
        raise SignatureError(
            "expr-unit-mismatch",
            f"{what}: {units.dimension(from_unit)} '{from_unit}' is not "
            f"{units.dimension(to_unit)} '{to_unit}'",
            arg=arg,
        ) from None


def _kind_error(name: str, i: int, arg: ArgInfo, expected: str) -> NoReturn:
    raise SignatureError(
        "expr-type", f"{name}(): argument {i + 1} must be {expected}, not {arg.type.describe()}", arg=i
    )


def _numeric(name: str, args: Sequence[ArgInfo]) -> tuple[ValueType, tuple[Decimal | None, ...]]:
    """Arguments that are all numbers, or quantities of one dimension (number constants read in the unit).

    Returns the common type (the unit of the first quantity) and a factor per argument.
    """
    unit: str | None = None
    for i, a in enumerate(args):
        if a.type.kind == "quantity":
            unit = a.type.unit
            break
        if a.type.kind != "number":
            _kind_error(name, i, a, "a number or a quantity")
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
                    "expr-unit-mismatch",
                    f"{name}(): argument {i + 1} is a plain number but the others are quantities "
                    f"[{unit}]; only a number literal is read in the quantities' unit",
                    arg=i,
                )
            factors.append(None)
        else:
            _kind_error(name, i, a, "a number or a quantity")
    return ValueType("quantity", unit), tuple(factors)


def _series_arg(name: str, args: Sequence[ArgInfo]) -> str:
    a = args[0]
    if a.type.kind != "series" or a.type.unit is None:
        _kind_error(name, 0, a, "a series input")
    return a.type.unit


def _threshold(name: str, series_unit: str, a: ArgInfo, i: int) -> Decimal | None:
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
            "expr-unit-mismatch",
            f"{name}(): the threshold is a plain number; write a literal (read in "
            f"'{series_unit}') or a quantity",
            arg=i,
        )
    _kind_error(name, i, a, f"a quantity comparable with [{series_unit}] or a number literal")


# --------------------------------------------------------------------------------------------------
# implementations (never called with UNKNOWN)


def _min(*xs: Decimal) -> Decimal:
    return min(xs)


def _max(*xs: Decimal) -> Decimal:
    return max(xs)


def _abs(x: Decimal) -> Decimal:
    return x.copy_abs()


def _round(x: Decimal, exp: Decimal) -> Decimal:
    return x.quantize(exp, rounding=ROUND_HALF_UP, context=_C)


def _sqrt(x: Decimal) -> Decimal:
    return _C.sqrt(x)


_ONE_DAY = timedelta(days=1)
_3600 = Decimal(3600)
_86400 = Decimal(86400)


def _bsa(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    return _C.sqrt(_C.divide(_C.multiply(height_cm, weight_kg), _3600))


def _seconds(td: timedelta) -> Decimal:
    whole = Decimal(td.days * 86400 + td.seconds)
    if td.microseconds:
        return _C.add(whole, Decimal(td.microseconds).scaleb(-6, _C))
    return whole


def _elapsed(start: datetime, end: datetime) -> timedelta:
    """``end - start`` by instant, for any aware datetimes.

    Python subtracts two datetimes that share one ``tzinfo`` object by wall clock, which is wrong across a
    daylight-saving change (ZoneInfo): both are converted to UTC first.
    """
    return end.astimezone(UTC) - start.astimezone(UTC)


def _hours_since(now: datetime, t: datetime) -> Decimal:
    return _C.divide(_seconds(_elapsed(t, now)), _3600)


def _days_since(now: datetime, t: datetime) -> Decimal:
    return _C.divide(_seconds(_elapsed(t, now)), _86400)


def _hours_until(now: datetime, t: datetime) -> Decimal:
    return _C.divide(_seconds(_elapsed(now, t)), _3600)


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


# --------------------------------------------------------------------------------------------------
# resolvers


def _r_minmax(name: str, impl: Callable[..., object]) -> Callable[[Sequence[ArgInfo]], Resolved]:
    def resolve(args: Sequence[ArgInfo]) -> Resolved:
        t, factors = _numeric(name, args)
        return Resolved(t, impl, tuple(range(len(args))), factors)

    return resolve


def _r_abs(args: Sequence[ArgInfo]) -> Resolved:
    t, _ = _numeric("abs", args)
    return Resolved(t, _abs, (0,), (None,))


def _r_round(args: Sequence[ArgInfo]) -> Resolved:
    t, _ = _numeric("round", args[:1])
    digits = 0
    if len(args) == 2:
        d = args[1]
        if (
            d.type.kind != "number"
            or not d.constant
            or not isinstance(d.value, Decimal)
            or d.value != d.value.to_integral_value()
            or not -6 <= d.value <= 12
        ):
            raise SignatureError(
                "expr-type", "round(): digits must be an integer literal from -6 to 12", arg=1
            )
        digits = int(d.value)
    return Resolved(t, _round, (0,), (None,), extra=(Decimal(1).scaleb(-digits, _C),))


def _r_sqrt(args: Sequence[ArgInfo]) -> Resolved:
    if args[0].type.kind != "number":
        _kind_error("sqrt", 0, args[0], "a number (the square root of a quantity has no unit here)")
    return Resolved(NUMBER, _sqrt, (0,), (None,))


def _r_q(args: Sequence[ArgInfo]) -> Resolved:
    value, unit = args
    if value.type.kind != "number" or not value.constant or not isinstance(value.value, Decimal):
        raise SignatureError(
            "expr-type", "q(): the value must be a number literal, e.g. q(820, '/mm3')", arg=0
        )
    if unit.type.kind != "string" or not unit.constant or not isinstance(unit.value, str):
        raise SignatureError(
            "expr-type", "q(): the unit must be a UCUM code in quotes, e.g. q(820, '/mm3')", arg=1
        )
    try:
        units.check_unit(unit.value)
    except units.UnitError as exc:
        code = units.unit_code(exc, "expr-unknown-unit")
        raise SignatureError(code, f"q(): {exc.message}", arg=1) from None
    return Resolved(ValueType("quantity", unit.value), None, constant=value.value)


def _r_bsa(args: Sequence[ArgInfo]) -> Resolved:
    factors: list[Decimal | None] = []
    for i, (a, target, what) in enumerate(zip(args, ("cm", "kg"), ("height", "weight"), strict=True)):
        if a.type.kind != "quantity" or a.type.unit is None:
            raise SignatureError(
                "expr-type",
                f"bsa(): {what} must be a quantity with a unit (e.g. {target}), not {a.type.describe()}",
                arg=i,
            )
        f = exact_factor(a.type.unit, target, f"bsa() {what}", i)
        factors.append(None if f == 1 else f)
    return Resolved(ValueType("quantity", "m2"), _bsa, (0, 1), tuple(factors))


def _r_time(name: str, impl: Callable[..., object]) -> Callable[[Sequence[ArgInfo]], Resolved]:
    def resolve(args: Sequence[ArgInfo]) -> Resolved:
        if args[0].type.kind != "datetime":
            _kind_error(name, 0, args[0], "a datetime input")
        return Resolved(NUMBER, impl, (0,), (None,), needs_now=True)

    return resolve


def _r_latest(args: Sequence[ArgInfo]) -> Resolved:
    unit = _series_arg("latest", args)
    return Resolved(ValueType("quantity", unit), _latest, (0,), (None,), may_return_unknown=True)


def _r_consecutive(name: str, impl: Callable[..., object]) -> Callable[[Sequence[ArgInfo]], Resolved]:
    def resolve(args: Sequence[ArgInfo]) -> Resolved:
        unit = _series_arg(name, args)
        return Resolved(NUMBER, impl, (0, 1), (None, _threshold(name, unit, args[1], 1)))

    return resolve


#: Largest ``days`` of ``at_or_above_on_days`` / ``above_on_days``.
MAX_DAYS: Final = 30
#: Longest window of ``count_within``: 100 years (of 365.25 days).
MAX_WINDOW: Final = timedelta(days=36525)


def _r_on_days(name: str, impl: Callable[..., object]) -> Callable[[Sequence[ArgInfo]], Resolved]:
    def resolve(args: Sequence[ArgInfo]) -> Resolved:
        unit = _series_arg(name, args)
        factor = _threshold(name, unit, args[1], 1)
        d = args[2]
        if (
            d.type.kind != "number"
            or not d.constant
            or not isinstance(d.value, Decimal)
            or d.value != d.value.to_integral_value()
            or not 1 <= d.value <= MAX_DAYS
        ):
            raise SignatureError(
                "expr-type", f"{name}(): days must be an integer literal from 1 to {MAX_DAYS}", arg=2
            )
        return Resolved(BOOLEAN, impl, (0, 1), (None, factor), extra=(int(d.value),), may_return_unknown=True)

    return resolve


def parse_window(text: str) -> timedelta:
    """A window of ``count_within``: ISO 8601 PnW, PnD, PTnH, PTnM (and combinations), checked.

    Raises ``SignatureError``: ``expr-type`` when it is no such duration, ``expr-bad-number`` when a part has
    more than 5 digits or the whole is longer than 100 years (``P999999D`` would overflow a date).
    """
    parts = duration_parts(text)
    if parts is None:
        raise SignatureError(
            "expr-type", f"'{echo(text)}' is not an ISO 8601 duration (PnW, PnD, PTnH, PTnM)", arg=1
        )
    if any(g is not None and len(g) > 5 for g in parts):
        raise SignatureError(
            "expr-bad-number",
            f"'{echo(text)}' has a part of more than 5 digits; a window is at most 100 years",
            arg=1,
        )
    w, d, h, mi = (int(g) if g else 0 for g in parts)
    window = timedelta(weeks=w, days=d, hours=h, minutes=mi)
    if window > MAX_WINDOW:
        raise SignatureError(
            "expr-bad-number", f"'{echo(text)}' is longer than 100 years (36525 days)", arg=1
        )
    return window


def _r_count_within(args: Sequence[ArgInfo]) -> Resolved:
    _series_arg("count_within", args)
    w = args[1]
    if w.type.kind != "string" or not w.constant or not isinstance(w.value, str):
        raise SignatureError(
            "expr-type",
            "count_within(): the window must be an ISO 8601 duration in quotes, e.g. 'P7D'",
            arg=1,
        )
    try:
        window = parse_window(w.value)
    except SignatureError as exc:
        raise SignatureError(exc.code, f"count_within(): {exc.message}", arg=1) from None
    return Resolved(NUMBER, _count_within, (0,), (None,), extra=(window,), needs_now=True)


_F = Function
_FUNCTIONS = (
    _F(
        "min",
        2,
        8,
        "min(x, y, ...) -> number | quantity",
        "The smallest argument. Quantities must share a dimension; the result is in the first "
        "quantity's unit.",
        _r_minmax("min", _min),
    ),
    _F(
        "max",
        2,
        8,
        "max(x, y, ...) -> number | quantity",
        "The largest argument. Quantities must share a dimension; the result is in the first "
        "quantity's unit.",
        _r_minmax("max", _max),
    ),
    _F("abs", 1, 1, "abs(x) -> same as x", "The absolute value.", _r_abs),
    _F(
        "round",
        1,
        2,
        "round(x, digits=0) -> same as x",
        "Rounds half UP (clinical rounding: round(2.5) = 3, round(-2.5) = -3, round(0.125, 2) = 0.13); "
        "digits is "
        "an integer literal from -6 to 12.",
        _r_round,
    ),
    _F(
        "sqrt",
        1,
        1,
        "sqrt(x: number) -> number",
        "The square root (28 significant digits); a negative argument is an evaluation error.",
        _r_sqrt,
    ),
    _F(
        "q",
        2,
        2,
        "q(value: number literal, unit: 'UCUM') -> quantity",
        "A quantity literal, e.g. q(820, '/mm3'); converted exactly at load time to the unit of what it is "
        "compared with or added to.",
        _r_q,
        compile_time_only=True,
    ),
    _F(
        "bsa",
        2,
        2,
        "bsa(height: length, weight: mass) -> quantity [m2]",
        "Body surface area by Mosteller: sqrt(height[cm] * weight[kg] / 3600) m2. Height and weight are "
        "converted "
        "exactly to cm and kg first.",
        _r_bsa,
    ),
    _F(
        "hours_since",
        1,
        1,
        "hours_since(t: datetime) -> number",
        "Hours from t to the as-of time (fractional; negative when t is later).",
        _r_time("hours_since", _hours_since),
    ),
    _F(
        "days_since",
        1,
        1,
        "days_since(t: datetime) -> number",
        "Days (of 24 h) from t to the as-of time (fractional; negative when t is later).",
        _r_time("days_since", _days_since),
    ),
    _F(
        "hours_until",
        1,
        1,
        "hours_until(t: datetime) -> number",
        "Hours from the as-of time to t (fractional; negative when t is earlier).",
        _r_time("hours_until", _hours_until),
    ),
    _F(
        "latest",
        1,
        1,
        "latest(s: series) -> quantity [unit of s]",
        "The most recent value of the series; unknown when the series is empty.",
        _r_latest,
    ),
    _F(
        "consecutive_days_at_or_above",
        2,
        2,
        "consecutive_days_at_or_above(s: series, threshold) -> number",
        "A LOWER BOUND, for display: counting back from the most recent calendar day that has results "
        "(each time stamp's date in the evaluation's calendar), the number of consecutive days on which "
        "ALL results are >= threshold. The run ends at a day with a result below the threshold, at a day "
        "without results and at the start of the series, so a gap or a short series gives a smaller count, "
        "not an unknown. 0 for an empty series. For decisions use at_or_above_on_days.",
        _r_consecutive("consecutive_days_at_or_above", _consecutive_at_or_above),
    ),
    _F(
        "consecutive_days_above",
        2,
        2,
        "consecutive_days_above(s: series, threshold) -> number",
        "As consecutive_days_at_or_above, with every result strictly > threshold (a lower bound; for "
        "decisions use above_on_days).",
        _r_consecutive("consecutive_days_above", _consecutive_above),
    ),
    _F(
        "at_or_above_on_days",
        3,
        3,
        "at_or_above_on_days(s: series, threshold, days: integer literal 1..30) -> boolean",
        "Three-valued, for decisions. The days are the `days` consecutive calendar dates ending at the "
        "newest date with results (each result's date in the evaluation's calendar: the time zone the host "
        "states, else the offset of the as-of time). True when every "
        "one of those days has results and all of them are >= threshold; false when any result on those "
        "days is below it; unknown otherwise (a day without results, a series that does not reach back "
        "that far, an empty series).",
        _r_on_days("at_or_above_on_days", _at_or_above_on_days),
    ),
    _F(
        "above_on_days",
        3,
        3,
        "above_on_days(s: series, threshold, days: integer literal 1..30) -> boolean",
        "As at_or_above_on_days, with every result strictly > threshold (false when a result on those days "
        "is at or below it).",
        _r_on_days("above_on_days", _above_on_days),
    ),
    _F(
        "count_within",
        2,
        2,
        "count_within(s: series, window: 'ISO 8601 duration') -> number",
        "The number of results timed within the window before the as-of time (as_of - window <= t <= as_of, "
        "by instant). The window is at most 5 digits per part and 100 years in total.",
        _r_count_within,
    ),
)

#: name -> Function; read only.
REGISTRY: Mapping[str, Function] = MappingProxyType({f.name: f for f in _FUNCTIONS})


def describe_functions() -> list[dict[str, Any]]:
    """The registry as plain data (for documentation)."""
    return [{"name": f.name, "signature": f.signature, "doc": f.doc} for f in _FUNCTIONS]
