"""Check a patient's facts against the guideline's declared inputs, at the boundary.

``FactChecker(inputs)`` is built once, at load time: per input it precomputes a small checker function
and the exact conversion factor of every accepted unit. ``check(raw, as_of)`` then turns the host's raw
facts into run-time values (``Decimal`` in the input's canonical unit, ``bool``, ``str``, aware
``datetime``, or a series tuple), or ``UNKNOWN`` with a reason:

* ``missing``: not given, or ``null``;
* ``stale``: the measurement time ``at`` is older than the input's ``max_age`` at the as-of time;
* ``undated``: ``max_age`` is set but the fact has no ``at``.

Every *malformed* fact is an error, never a silent unknown: all of them are reported at once in one
``FactsError`` (one diagnostic per bad fact, ``path`` = (fact name, ...)). Codes:

``fact-wrong-type``, ``fact-not-finite``, ``fact-too-precise``, ``fact-unknown-unit``, ``fact-unit-mismatch``,
``fact-missing-unit``, ``fact-implausible``, ``fact-unknown-code``, ``fact-bad-time``, ``fact-future``,
``fact-malformed``, ``fact-too-large``, ``fact-too-many-errors``; and from ``parse_facts_json``:
``fact-duplicate-key``, ``fact-not-finite``, ``fact-malformed``, ``fact-encoding``, ``fact-too-large``.
Values echoed in messages are cut to about 40 characters.

Numbers: JSON numbers only (``"1500"`` is text, ``true`` is not 1). Floats are read through their
shortest ``repr`` (``0.1`` is exactly ``Decimal('0.1')``); better, parse the JSON with
``parse_facts_json``, which reads every number exactly. ``0`` and ``0.0`` are values like any other,
never "missing". A value whose magnitude is beyond 1e300 (or a non-zero value below 1e-300) is refused as
not finite: it cannot be a measurement and would overflow a double in the host. Before any conversion, a
value beyond 1e15 in magnitude is refused as implausible (``fact-implausible``) and one with more than 20
significant digits as ``fact-too-precise``: no measurement has that precision, and such a number could
compare differently in two units (conversion keeps 120 digits, display 28).

Times: every datetime a fact carries (a datetime value, an ``at``, a series time) and the as-of time are
converted to the evaluation's ONE calendar (``evaluation_calendar``: the IANA ``time_zone`` the host states,
else the as-of time's ``ZoneInfo``, else its UTC offset) and kept with a FIXED offset (the calendar's offset
at that instant): arithmetic and comparisons are by instant (Python subtracts two datetimes that share a
tzinfo by wall clock), and a series function reads each result's date in that calendar, never the offset
the host happened to write. A time outside years 1..9999 in UTC or in the calendar is ``fact-bad-time``.
A datetime input declared ``time: past`` refuses a value after the as-of time, ``time: future`` one before
it (``fact-implausible``). A series is sorted by instant, value and what was given (never by list order);
two results at the same instant keep one when their values are equal and are refused (``fact-malformed``)
when they differ.

Limits (``FactsLimits``; docs/api.md, "Limits"): bytes read, JSON nesting (measured before parsing), number
of facts, series length (``fact-too-large``), errors reported (``fact-too-many-errors``), did-you-mean
suggestions.

Units: a quantity fact is ``{"value": n, "unit": "UCUM"}``. The unit must be the input's unit, one of its
``accepted_units``, or another spelling of one of these with a factor of exactly 1 (``10*3/uL`` for
``10*9/L``). The value is converted with the exact factor and then checked against the plausible range,
which is what catches 400 cells/uL sent as ``10*9/L``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import IO, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Diagnostic, EvaluationError, FactsError, Location, Path, sort_diagnostics
from ..loading.model import Input
from ..values import units
from ..values.numbers import CONVERSION_CONTEXT, DECIMAL_CONTEXT
from ..values.suggest import did_you_mean
from ..values.text import echo, echo_number, quote
from ..values.types import Series
from ..values.unknown import UNKNOWN

__all__ = [
    "DEFAULT_FACTS_LIMITS",
    "CheckedFacts",
    "FactChecker",
    "FactStatus",
    "FactsLimits",
    "evaluation_calendar",
    "parse_facts_json",
    "read_facts",
]

Reason = Literal["missing", "stale", "undated"]

_BIG: Final = Decimal("1e300")
_SMALL: Final = Decimal("1e-300")
#: Most significant digits of a fact number: no measurement is more precise (conversion keeps 120 digits and
#: display 28, so a longer number could compare differently in two units).
MAX_DIGITS: Final = 20
#: Largest magnitude of a fact number (1e15): beyond it the input is not a measurement.
MAX_MAGNITUDE: Final = 10**15
_MAX_MAGNITUDE_DEC: Final = Decimal(MAX_MAGNITUDE)
_MAX_TEXT = 200  # longest string accepted as a time or code
_MAX_DEPTH = 16  # deepest JSON nesting accepted by parse_facts_json
_MAX_ZONE_NAME = 64  # longest IANA time-zone name accepted


@dataclass(frozen=True, slots=True)
class FactsLimits:
    """Bounds on the facts of one evaluation, enforced before the work they bound (docs/api.md, "Limits").

    Beyond ``max_bytes``, ``max_facts`` or ``max_series`` the facts are refused (``fact-too-large``); beyond
    ``max_depth`` (``fact-malformed``). At most ``max_errors`` fact errors are reported, then one
    ``fact-too-many-errors`` saying how many more there were. Only the first ``max_suggestions`` unknown
    fact names (in sorted order) get a did-you-mean suggestion.
    """

    #: Largest facts text, in bytes (UTF-8); a stream is never read past this + 1 byte.
    max_bytes: int = 1 << 20
    #: Deepest JSON nesting (a fact is depth 1, a series result 2, its keys 3).
    max_depth: int = _MAX_DEPTH
    #: Most facts (names) in one evaluation, declared or not.
    max_facts: int = 10_000
    #: Most results in one series fact.
    max_series: int = 10_000
    #: Most fact errors reported; the rest are counted in one final diagnostic.
    max_errors: int = 100
    #: Most unknown fact names that get a did-you-mean suggestion.
    max_suggestions: int = 20

    def __post_init__(self) -> None:
        for f in fields(self):
            name, value = f.name, getattr(self, f.name)
            if type(value) is not int or value < 0:
                raise ValueError(f"FactsLimits.{name} must be a whole number >= 0, not {value!r}")
        if not 1 <= self.max_depth <= 100:
            raise ValueError("FactsLimits.max_depth must be from 1 to 100")


DEFAULT_FACTS_LIMITS: Final = FactsLimits()


@dataclass(frozen=True, slots=True)
class FactStatus:
    """Why a fact is unknown."""

    reason: Reason
    detail: str


_MISSING: Final = FactStatus("missing", "not given")


@dataclass(frozen=True, slots=True)
class CheckedFacts:
    #: every declared input -> its run-time value or UNKNOWN
    values: Mapping[str, object]
    #: the unknown inputs and why
    unknown: Mapping[str, FactStatus]
    #: facts given that no input declares: (name, closest declared name or None)
    unrecognized: tuple[tuple[str, str | None], ...]
    #: JSON-able account of every fact given: value (string, canonical unit), unit, given (if converted), at
    shown: Mapping[str, Any]


class _Bad(Exception):
    """One bad fact (internal; collected into diagnostics)."""

    def __init__(self, code: str, message: str, sub: Path = (), hint: str | None = None) -> None:
        self.code = code
        self.message = message
        self.sub = sub
        self.hint = hint


def _fmt(d: Decimal) -> str:
    if d == 0:
        return "0"
    return format(d.normalize(CONVERSION_CONTEXT), "f")  # exact (120 digits), never the thread's context


def _given(raw: object) -> str:
    """A short, safe rendering of what the host sent (never a huge or slow repr)."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, Decimal):
        return echo_number(raw)
    if isinstance(raw, int):
        return echo_number(Decimal(raw)) if raw.bit_length() <= 200 else "a very large integer"
    if isinstance(raw, float):
        return echo(repr(raw))
    if isinstance(raw, str):
        return quote(raw)
    if raw is None:
        return "null"
    if isinstance(raw, Mapping):
        return f"an object with {len(raw)} key(s)"
    if isinstance(raw, list | tuple):
        return f"a list of {len(raw)} item(s)"
    return f"a value of type {type(raw).__name__}"




def _sane(d: Decimal) -> Decimal:
    """``d`` (finite, 1e-300..1e300), unless it is beyond 1e15 or has more than 20 significant digits."""
    if d.adjusted() >= 15 and d.copy_abs() > _MAX_MAGNITUDE_DEC:
        raise _Bad(
            "fact-implausible",
            f"{_given(d)} is beyond 1e15 in magnitude; not a measurement",
            hint="check the value and its unit",
        )
    digits = len(d.as_tuple().digits)
    if digits > MAX_DIGITS:
        raise _Bad(
            "fact-too-precise",
            f"{_given(d)} has {digits} significant digits; no measurement has that precision "
            f"(at most {MAX_DIGITS})",
            hint="send the value as the laboratory reported it",
        )
    return d


def _number(raw: object) -> Decimal:
    """A JSON number as an exact Decimal, or _Bad."""
    t = type(raw)
    if t is Decimal:
        d: Decimal = raw  # type: ignore[assignment]
        if d.is_finite() and -300 <= d.adjusted() < 300:
            return _sane(d)
        if not d.is_finite():
            raise _Bad("fact-not-finite", f"{_given(raw)} is not a finite number")
        if not d:
            return d
    elif t is int:
        i: int = raw  # type: ignore[assignment]
        if -MAX_MAGNITUDE <= i <= MAX_MAGNITUDE:
            return Decimal(i)
        if -_BIG_INT < i < _BIG_INT:
            raise _Bad(
                "fact-implausible",
                f"{_given(i)} is beyond 1e15 in magnitude; not a measurement",
                hint="check the value and its unit",
            )
        raise _Bad("fact-not-finite", "the number is far too large to be a measurement")
    elif t is float:
        x: float = raw  # type: ignore[assignment]
        if x != x or x in (_INF, -_INF):
            raise _Bad("fact-not-finite", f"{x!r} is not a finite number")
        d = Decimal(repr(x))
        if not d or -300 <= d.adjusted() < 15:
            return d  # at most 17 significant digits, below 1e15: nothing more to check
    elif isinstance(raw, bool):
        raise _Bad("fact-wrong-type", f"{_given(raw)} is a boolean, not a number")
    elif isinstance(raw, str):
        raise _Bad(
            "fact-wrong-type",
            f"the text {_given(raw)} is not a number",
            hint="send numbers as JSON numbers, without quotes",
        )
    elif isinstance(raw, int | Decimal | float):  # subclasses (an IntEnum, numpy.float64)
        return _number(
            int(raw) if isinstance(raw, int) else float(raw) if isinstance(raw, float) else Decimal(raw)
        )
    else:
        raise _Bad("fact-wrong-type", f"{_given(raw)} is not a number")
    if d and not -300 <= d.adjusted() < 300:
        raise _Bad(
            "fact-not-finite", f"{_given(d)} is out of the range of finite measurements (1e-300 to 1e300)"
        )
    return _sane(d)


_INF: Final = float("inf")
_BIG_INT: Final = 10**300


@lru_cache(maxsize=4096)
def _parse_iso(raw: str) -> datetime | None:
    """A well-formed ISO time with an offset, as a fixed-offset datetime; None otherwise. Memoized: hosts
    repeat one draw time across many results (datetimes are immutable, lru_cache is thread-safe)."""
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        return None
    offset = t.utcoffset() if t.tzinfo is not None else None
    return None if offset is None else _fixed(t, offset)


def _time(raw: object, what: str, cal: tzinfo) -> datetime:
    """``raw`` as an aware datetime in the evaluation's calendar ``cal`` (a fixed offset), or _Bad."""
    return _in_calendar(_parse_time(raw, what), cal, raw, what)


def _in_calendar(t: datetime, cal: tzinfo, raw: object, what: str) -> datetime:
    """``t`` (fixed offset) converted to the calendar ``cal``, kept with a fixed offset (the calendar's offset
    at that instant). _Bad (``fact-bad-time``) when the instant, in UTC or in the calendar, is outside the
    years 1 to 9999 that Python's datetime can represent (every later step works on both)."""
    if type(cal) is timezone and t.tzinfo == cal and 1 < t.year < 9999:
        return t
    try:
        if t.year in (1, 9999):
            t.astimezone(UTC)  # an OverflowError here: the instant is outside years 1..9999 in UTC
        return _to_calendar(t, cal)
    except OverflowError:
        raise _Bad(
            "fact-bad-time",
            f"{what} {_given(raw)} is outside the years 1 to 9999 in UTC or in the evaluation's calendar",
            hint="check the date",
        ) from None


def _to_calendar(t: datetime, cal: tzinfo) -> datetime:
    """``t`` (a fixed offset) in the calendar ``cal``, with a fixed offset (the calendar's at that instant).

    ``OverflowError``: the instant is outside the years 1 to 9999 in the calendar. A calendar that is not a
    ``timezone`` or a ``ZoneInfo`` is a host's ``tzinfo``: whatever it does wrong (its ``utcoffset``,
    ``dst`` or ``fromutc`` raises, gives no offset, or one of a day or more) is ``eval-bad-time-zone``,
    never a bare Python error.
    """
    if type(cal) is timezone or type(cal) is ZoneInfo:
        u = t.astimezone(cal)
        return u if type(u.tzinfo) is timezone else _fixed(u, u.utcoffset() or timedelta(0))
    try:
        u = t.astimezone(cal)
        offset = u.utcoffset()
    except OverflowError:
        raise
    except Exception:  # any failure of host code: refused, never a traceback
        offset = None
    if not isinstance(offset, timedelta):
        raise EvaluationError(
            "eval-bad-time-zone",
            f"the time zone (a tzinfo of type {echo(type(cal).__name__[:64])}) failed to convert "
            f"{_iso(t)}: it gave no valid UTC offset; give an IANA time-zone name such as 'Europe/Paris'",
        )
    return _fixed(u, offset)


def host_offset(t: datetime, code: str, what: str) -> timedelta | None:
    """``t.utcoffset()`` (None for a naive time), a failure of a host's ``tzinfo`` (it raises, or gives an
    offset of a day or more) turned into ``EvaluationError(code)`` about ``what``."""
    if t.tzinfo is None or type(t.tzinfo) is timezone or type(t.tzinfo) is ZoneInfo:
        return t.utcoffset()
    try:
        return t.utcoffset()
    except Exception:  # any failure of host code: refused, never a traceback
        raise EvaluationError(
            code,
            f"{what} has a time zone (a tzinfo of type {echo(type(t.tzinfo).__name__[:64])}) that fails to "
            "give its UTC offset; use datetime.timezone or zoneinfo.ZoneInfo",
        ) from None


def _parse_time(raw: object, what: str) -> datetime:
    if type(raw) is str and 16 <= len(raw) <= 40 and raw[10] == "T":
        fast = _parse_iso(raw)
        if fast is not None:
            return fast
        try:
            t = datetime.fromisoformat(raw)
        except ValueError:
            raise _Bad(
                "fact-bad-time",
                f"{what} {_given(raw)} is not an ISO 8601 time",
                hint="write e.g. 2026-11-20T08:00:00Z",
            ) from None
    elif isinstance(raw, datetime):
        t = raw
    elif isinstance(raw, str):
        if len(raw) > _MAX_TEXT or "T" not in raw:
            raise _Bad(
                "fact-bad-time",
                f"{what} {_given(raw)} is not an ISO 8601 time with a time of day and offset",
                hint="write e.g. 2026-11-20T08:00:00Z",
            )
        try:
            t = datetime.fromisoformat(raw)
        except ValueError:
            raise _Bad(
                "fact-bad-time",
                f"{what} {_given(raw)} is not an ISO 8601 time",
                hint="write e.g. 2026-11-20T08:00:00Z",
            ) from None
    else:
        raise _Bad("fact-bad-time", f"{what} {_given(raw)} is not an ISO 8601 time")
    try:
        offset = host_offset(t, "fact-bad-time", what)
    except EvaluationError as exc:
        raise _Bad("fact-bad-time", exc.message, hint="send e.g. 2026-11-20T08:00:00Z") from None
    if offset is None:
        raise _Bad(
            "fact-bad-time",
            f"{what} {_given(raw)} has no time zone offset",
            hint="add Z (UTC) or an offset such as +01:00",
        )
    return _fixed(t, offset)


def _fixed(t: datetime, offset: timedelta) -> datetime:
    """``t`` with a FIXED-offset time zone of its own offset (a plain ``datetime``; same instant, same wall
    clock). Arithmetic is then by instant, even for a ZoneInfo with daylight saving (Python subtracts two
    datetimes that share a tzinfo by wall clock), and the local offset as sent is kept (local calendar days).
    """
    if type(t) is datetime and type(t.tzinfo) is timezone:
        return t  # already a fixed offset (every time parsed from ISO text)
    tz = UTC if not offset else timezone(offset)
    return datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond, tzinfo=tz)


def evaluation_calendar(as_of: object, time_zone: str | tzinfo | None = None) -> tuple[datetime, tzinfo]:
    """(the as-of time in the evaluation's calendar, that calendar): the ONE calendar of an evaluation.

    The calendar decides the date of every time (the day predicates count calendar days): the IANA time zone
    ``time_zone`` the host states (``"Europe/Paris"``, read with ``zoneinfo``), else the ``ZoneInfo`` of the
    as-of time when it has one, else the fixed UTC offset of the as-of time. Every fact time is converted
    to it, so a result's date never depends on the offset it was written with. The as-of time is returned
    with a fixed offset (the calendar's at that instant).

    Raises ``EvaluationError``: ``eval-bad-time`` (not a datetime, naive, outside the years 1 to 9999 in
    UTC or in the calendar, or its tzinfo fails), ``eval-bad-time-zone`` (not a known IANA time-zone name,
    or a host tzinfo that fails to convert a time).
    """
    offset = host_offset(as_of, "eval-bad-time", "the as-of time") if isinstance(as_of, datetime) else None
    if offset is None:
        what = "a naive datetime" if isinstance(as_of, datetime) else type(as_of).__name__
        raise EvaluationError(
            "eval-bad-time", f"the as-of time must be a timezone-aware datetime, not {what}"
        )
    assert isinstance(as_of, datetime)
    zone = as_of.tzinfo
    as_of = _fixed(as_of, offset)  # the host's tzinfo is never asked again
    cal: tzinfo
    if time_zone is None:
        # the host's ZoneInfo states a zone (with its daylight saving); any other tzinfo: its offset now
        cal = zone if type(zone) is ZoneInfo else UTC if not offset else timezone(offset)
    elif isinstance(time_zone, str):
        cal = _zone(time_zone)
    elif isinstance(time_zone, tzinfo):
        cal = time_zone
    else:
        raise EvaluationError(
            "eval-bad-time-zone",
            f"the time zone must be an IANA name such as 'Europe/Paris', not {type(time_zone).__name__}",
        )
    try:
        as_of.astimezone(UTC)
        local = _to_calendar(as_of, cal)
    except OverflowError:
        raise EvaluationError(
            "eval-bad-time",
            f"the as-of time {_iso(as_of)} is outside the years 1 to 9999 in UTC or in the evaluation's "
            "calendar",
        ) from None
    return local, cal


def _zone(name: str) -> tzinfo:
    if not 0 < len(name) <= _MAX_ZONE_NAME or not name.isprintable():
        raise EvaluationError("eval-bad-time-zone", f"{_given(name)} is not an IANA time-zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise EvaluationError(
            "eval-bad-time-zone",
            f"{_given(name)} is not a known IANA time-zone name",
        ) from None


def _range(lo: Decimal | None, hi: Decimal | None) -> str:
    low = echo_number(lo) if lo is not None else "-inf"
    high = echo_number(hi) if hi is not None else "inf"
    return f"{low} to {high}"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _duration_text(td: timedelta) -> str:
    secs = int(td.total_seconds())
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    out = "P"
    if days:
        out += f"{days}D"
    if hours or minutes:
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return out if out != "P" else "PT0M"


#: What was given, when it was converted: (value as given, unit as given).
_Given = tuple[Decimal, str] | None


class _Ctx:
    """What a per-input checker needs of one evaluation: the as-of time, the calendar, the series bound."""

    __slots__ = ("as_of", "cal", "max_series")

    def __init__(self, as_of: datetime, cal: tzinfo, max_series: int) -> None:
        self.as_of = as_of
        self.cal = cal
        self.max_series = max_series


#: A per-input checker: (raw, ctx) -> (value, measurement time or None, given). Raises _Bad.
_Check = Callable[[object, _Ctx], tuple[object, datetime | None, Any]]


class _Quantity:
    """Converts a value in a given unit to the canonical unit, exactly, and checks plausibility."""

    __slots__ = ("factors", "hi", "lo", "unit")

    def __init__(self, inp: Input) -> None:
        assert inp.unit is not None
        self.unit: str = inp.unit
        self.lo = inp.plausible_min
        self.hi = inp.plausible_max
        factors: dict[str, Decimal | Fraction | None] = {inp.unit: None}
        for u in inp.accepted_units:
            ratio = units.exact_ratio(u, inp.unit)  # raises UnitError for a bad model
            factors[u] = _exact_or_fraction(ratio)
        self.factors = factors

    def factor(self, unit: object) -> Decimal | Fraction | None:
        """The factor of a unit not in the table (the table is read first, in ``convert``)."""
        accepted = ", ".join(self.factors)
        if not isinstance(unit, str):
            raise _Bad(
                "fact-unknown-unit",
                f"the unit {_given(unit)} is not a UCUM code in quotes; accepted: {accepted}",
                ("unit",),
            )
        try:
            units.check_unit(unit)
        except units.UnitLibraryError:
            raise  # reported as unit-library-failed by the caller, naming the fact
        except units.UnitError:
            raise _Bad(
                "fact-unknown-unit", f"'{echo(unit)}' is not a UCUM unit; accepted: {accepted}", ("unit",)
            ) from None
        try:
            ratio = units.exact_ratio(unit, self.unit)
        except units.UnitLibraryError:
            raise
        except units.UnitError:
            raise _Bad(
                "fact-unit-mismatch",
                f"'{unit}' ({units.dimension(unit)}) cannot be converted to "
                f"'{self.unit}' ({units.dimension(self.unit)}); accepted: {accepted}",
                ("unit",),
            ) from None
        for f in self.factors.values():
            # another spelling of an accepted unit (the same quantity: the same factor)
            known = Fraction(1) if f is None else Fraction(f) if isinstance(f, Decimal) else f
            if ratio == known:
                return f
        raise _Bad(
            "fact-unit-mismatch",
            f"'{unit}' is not an accepted unit for this input; accepted: {accepted}",
            ("unit",),
            hint="send the value in one of the accepted units",
        )

    def convert(self, value: Decimal, unit: object) -> tuple[Decimal, _Given]:
        """(value in the canonical unit, (value, unit) as given when converted)."""
        if unit is None or unit == self.unit:
            out = value
            given: _Given = None
        else:
            try:
                f = self.factors[unit]  # type: ignore[index]
            except (KeyError, TypeError):
                f = self.factor(unit)
            if f is None:
                out = value
            elif isinstance(f, Decimal):
                out = _CMUL(value, f)
            else:
                out = DECIMAL_CONTEXT.divide(_CMUL(value, Decimal(f.numerator)), Decimal(f.denominator))
            given = (value, unit)  # type: ignore[assignment]
        lo, hi = self.lo, self.hi
        if (lo is not None and out < lo) or (hi is not None and out > hi):
            where = f"{echo_number(value)} {unit}" if given else f"{echo_number(value)} {self.unit}"
            conv = f" = {echo_number(out)} {self.unit}" if given else ""
            raise _Bad(
                "fact-implausible",
                f"{where}{conv} is outside the plausible range {_range(lo, hi)} {self.unit}",
                hint="check the value and its unit (a factor of 1000 is a unit mix-up)",
            )
        return out, given


_CMUL = CONVERSION_CONTEXT.multiply


def _exact_or_fraction(ratio: Fraction) -> Decimal | Fraction | None:
    if ratio == 1:
        return None
    exact = units.exact_decimal(ratio)
    return ratio if exact is None else exact


_OBJ_KEYS_PLAIN: Final = frozenset({"value", "at"})
_OBJ_KEYS_UNIT: Final = frozenset({"value", "unit", "at"})


def _split(raw: object, with_unit: bool) -> tuple[object, object, object, bool]:
    """(value, unit, at, was_object) from a bare value or a {value, unit?, at?} object."""
    if type(raw) is dict or isinstance(raw, Mapping):
        allowed = _OBJ_KEYS_UNIT if with_unit else _OBJ_KEYS_PLAIN
        if not raw.keys() <= allowed:
            extra = sorted(str(k) for k in raw if k not in allowed)
            raise _Bad(
                "fact-malformed",
                f"unexpected key(s) {echo(', '.join(extra))}; a fact object has {', '.join(sorted(allowed))}",
                (echo(extra[0]),),
            )
        if "value" not in raw:
            raise _Bad("fact-malformed", "the fact object has no `value`")
        value = raw["value"]
        if value is None:
            raise _Null
        return value, raw.get("unit"), raw.get("at"), True
    return raw, None, None, False


class _Null(Exception):
    """A fact object whose value is null: the fact is missing."""


def _at(at: object, cal: tzinfo) -> datetime | None:
    if at is None:
        return None
    try:
        return _time(at, "the time `at`", cal)
    except _Bad as bad:
        bad.sub = ("at",)
        raise


class _Shown(Mapping[str, Any]):
    """The JSON-able account of the facts given, formatted on access (the hot path only records)."""

    __slots__ = ("_records",)

    def __init__(
        self, records: dict[str, tuple[str, object, str | None, Any, datetime | None, str | None]]
    ) -> None:
        self._records = records

    def __getitem__(self, name: str) -> dict[str, Any]:
        kind, value, unit, given, at, unknown = self._records[name]
        out: dict[str, Any]
        if kind == "series":
            items = []
            series: Series = value  # type: ignore[assignment]
            for k, (t, v) in enumerate(series):
                item: dict[str, Any] = {"value": _fmt(v), "at": _iso(t)}
                g = given[k] if given else None
                if g is not None:
                    item["given"] = f"{_fmt(g[0])} {g[1]}"
                items.append(item)
            out = {"value": items, "unit": unit}
        else:
            if isinstance(value, Decimal):
                shown: object = _fmt(value)
            elif isinstance(value, datetime):
                shown = _iso(value)
            else:
                shown = value
            out = {"value": shown}
            if unit is not None:
                out["unit"] = unit
            if given is not None:
                out["given"] = f"{_fmt(given[0])} {given[1]}"
        if at is not None:
            out["at"] = _iso(at)
        if unknown is not None:
            out["unknown"] = unknown
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return repr(dict(self))


def _bounded(errors: list[Diagnostic], most: int, where: Location) -> list[Diagnostic]:
    """At most ``most`` diagnostics, then one ``fact-too-many-errors`` counting the rest."""
    if len(errors) <= most:
        return errors
    rest = len(errors) - most
    return [
        *sort_diagnostics(errors)[:most],  # the first in the stable order, never by the order sent
        Diagnostic(
            "fact-too-many-errors",
            f"... and {rest} more fact error(s), not shown (at most {most} are reported)",
            where,
        ),
    ]


def _fact_error(
    name: str, code: str, message: str, file: str, sub: tuple[str | int, ...], hint: str | None = None
) -> Diagnostic:
    """A diagnostic naming the fact: ``fact 'anc': <message>``, at path (name, *sub)."""
    return Diagnostic(code, f"fact '{name}': {message}", Location(file), path=(name, *sub), hint=hint)


class FactChecker:
    """Checks raw facts against the declared inputs.

    Built once; ``check`` is thread-safe (it keeps no state between calls).
    """

    def __init__(self, inputs: Mapping[str, Input], *, file: str = "<facts>") -> None:
        self.inputs: Mapping[str, Input] = MappingProxyType(dict(inputs))
        self.file = file
        self._names: frozenset[str] = frozenset(inputs)
        self._sorted_names: tuple[str, ...] = tuple(sorted(inputs))
        self._checks: tuple[tuple[str, str, str | None, timedelta | None, str, _Check], ...] = tuple(
            (
                name,
                inp.type,
                inp.unit,
                inp.max_age,
                inp.max_age_text or _duration_text(inp.max_age) if inp.max_age else "",
                self._make(inp),
            )
            for name, inp in inputs.items()
        )

    # -- per-type checkers (built once) -------------------------------------------------------------
    def _make(self, inp: Input) -> _Check:
        kind = inp.type
        if kind == "quantity":
            return _make_quantity(inp)
        if kind == "series":
            return _make_series(inp)
        if kind == "number":
            return _make_number(inp)
        if kind == "boolean":
            return _check_boolean
        if kind == "code":
            return _make_code(inp)
        if kind == "datetime":
            return _make_datetime(inp)
        raise ValueError(f"input '{inp.name}' has an unknown type {kind!r}")

    # -- the hot path --------------------------------------------------------------------------------
    def check(
        self,
        raw: Mapping[str, Any],
        as_of: datetime,
        *,
        file: str | None = None,
        time_zone: str | tzinfo | None = None,
        limits: FactsLimits = DEFAULT_FACTS_LIMITS,
    ) -> CheckedFacts:
        """Check ``raw`` facts at ``as_of`` (timezone-aware). Raises ``FactsError`` listing every bad fact.

        ``as_of`` must be a timezone-aware ``datetime`` (``EvaluationError('eval-bad-time')`` otherwise); it
        is read with a fixed offset, so every comparison and age is by instant. Every fact time is converted
        to the evaluation's calendar (``time_zone``, else the offset of ``as_of``; see
        ``evaluation_calendar``), so the calendar date of a result never depends on how it was written.
        """
        as_of, cal = evaluation_calendar(as_of, time_zone)
        where = Location(file or self.file)
        if not isinstance(raw, Mapping):
            raise FactsError(
                [
                    Diagnostic(
                        "fact-malformed",
                        f"the facts must be an object of name: value, not {type(raw).__name__}",
                        where,
                    )
                ]
            )
        if len(raw) > limits.max_facts:
            raise FactsError(
                [
                    Diagnostic(
                        "fact-too-large",
                        f"{len(raw)} facts; at most {limits.max_facts} are accepted",
                        where,
                        hint="send the facts the guideline declares (guideline render lists them)",
                    )
                ]
            )
        ctx = _Ctx(as_of, cal, limits.max_series)
        values: dict[str, object] = {}
        unknown: dict[str, FactStatus] = {}
        records: dict[str, tuple[str, object, str | None, Any, datetime | None, str | None]] = {}
        errors: list[Diagnostic] | None = None
        get = raw.get
        for name, kind, unit, max_age, age_text, fn in self._checks:
            r = get(name)
            if r is None:
                values[name] = UNKNOWN
                unknown[name] = _MISSING
                continue
            try:
                value, at, given = fn(r, ctx)
            except _Null:
                values[name] = UNKNOWN
                unknown[name] = _NULL
                continue
            except _Bad as bad:
                errors = errors or []
                errors.append(_fact_error(name, bad.code, bad.message, file or self.file, bad.sub, bad.hint))
                continue
            except units.UnitError as exc:
                errors = errors or []
                code = units.unit_code(exc, "fact-unknown-unit")
                errors.append(_fact_error(name, code, exc.message, file or self.file, ("unit",)))
                continue
            if at is not None and kind != "series" and at > as_of:
                errors = errors or []
                message = f"measured {_iso(at)}, after the as-of time {_iso(as_of)}"
                errors.append(_fact_error(name, "fact-future", message, file or self.file, ("at",)))
                continue
            status: FactStatus | None = None
            if max_age is not None:
                if at is None:
                    status = (
                        _NO_RESULTS
                        if kind == "series"
                        else FactStatus(
                            "undated", f"no measurement time `at`; values older than {age_text} are not used"
                        )
                    )
                elif as_of - at > max_age:
                    status = FactStatus(
                        "stale", f"measured {_iso(at)}, older than {age_text} at {_iso(as_of)}"
                    )
            if status is None:
                values[name] = value
            else:
                values[name] = UNKNOWN
                unknown[name] = status
            records[name] = (
                kind,
                value,
                unit,
                given,
                at if kind != "series" else None,
                None if status is None else status.reason,
            )
        unrecognized: tuple[tuple[str, str | None], ...] = ()
        if not raw.keys() <= self._names:
            extra: list[str] = []
            for k in raw:
                if k in self._names:
                    continue
                if not isinstance(k, str):
                    errors = errors or []
                    errors.append(
                        Diagnostic(
                            "fact-malformed", f"fact names must be text, not a {type(k).__name__}", where
                        )
                    )
                    continue
                extra.append(k)
            extra.sort()
            # did-you-mean for the first names only (sorted: never by the order sent), each name cut
            budget = limits.max_suggestions
            names = self._sorted_names
            unrecognized = tuple(
                (k, did_you_mean(k, names) if i < budget else None) for i, k in enumerate(extra)
            )
        if errors:
            raise FactsError(_bounded(errors, limits.max_errors, where))
        return CheckedFacts(
            MappingProxyType(values), MappingProxyType(unknown), unrecognized, _Shown(records)
        )


_NULL: Final = FactStatus("missing", "given as null")
_NO_RESULTS: Final = FactStatus("missing", "no results")


def _make_number(inp: Input) -> _Check:
    lo, hi = inp.plausible_min, inp.plausible_max

    def check(raw: object, ctx: _Ctx) -> tuple[object, datetime | None, Any]:
        if type(raw) is dict:
            value, _, at, _ = _split(raw, False)
            t = _at(at, ctx.cal)
        else:
            value, t = raw, None
        d = _number(value)
        if (lo is not None and d < lo) or (hi is not None and d > hi):
            raise _Bad(
                "fact-implausible", f"{echo_number(d)} is outside the plausible range {_range(lo, hi)}"
            )
        return d, t, None

    return check


def _make_quantity(inp: Input) -> _Check:
    q = _Quantity(inp)
    bare_ok = inp.bare_number
    unit_name = q.unit
    convert = q.convert

    def check(raw: object, ctx: _Ctx) -> tuple[object, datetime | None, Any]:
        if type(raw) is dict and raw.keys() <= _OBJ_KEYS_UNIT and raw.get("value") is not None:
            value, unit, at, was_obj = raw["value"], raw.get("unit"), raw.get("at"), True
        else:
            value, unit, at, was_obj = _split(raw, True)
        d = _number(value)
        if unit is None and not bare_ok:
            if was_obj:
                raise _Bad(
                    "fact-missing-unit",
                    f"the value {_given(value)} has no unit; expected "
                    f'{{"value": ..., "unit": "{unit_name}"}}',
                    hint=f'add "unit": "{unit_name}"',
                )
            raise _Bad(
                "fact-missing-unit",
                f"a bare number {_given(value)} where a quantity with a unit is "
                f'required; expected {{"value": ..., "unit": "{unit_name}"}}',
                hint=f'send {{"value": {_given(value)}, "unit": "{unit_name}"}}',
            )
        out, given = convert(d, unit)
        return out, (_at(at, ctx.cal) if at is not None else None), given

    return check


def _make_series(inp: Input) -> _Check:
    q = _Quantity(inp)
    bare_ok = inp.bare_number
    unit_name = q.unit
    convert = q.convert

    def check(raw: object, ctx: _Ctx) -> tuple[object, datetime | None, Any]:
        if not isinstance(raw, list | tuple):
            raise _Bad(
                "fact-wrong-type",
                f"{_given(raw)} is not a list of results "
                f'[{{"value": ..., "unit": "{unit_name}", "at": "..."}}, ...]',
            )
        if len(raw) > ctx.max_series:
            raise _Bad(
                "fact-too-large",
                f"{len(raw)} results; a series has at most {ctx.max_series}",
                hint="send the recent results the guideline needs",
            )
        as_of, cal = ctx.as_of, ctx.cal
        items: list[tuple[datetime, Decimal, _Given, int]] = []
        for i, item in enumerate(raw):
            try:
                if not isinstance(item, Mapping):
                    raise _Bad(
                        "fact-malformed",
                        f"{_given(item)} is not an object "
                        f'{{"value": ..., "unit": "{unit_name}", "at": "..."}}',
                    )
                try:
                    value, unit, at, _ = _split(item, True)
                except _Null:
                    raise _Bad(
                        "fact-malformed", "a null value; leave the result out instead", ("value",)
                    ) from None
                if at is None:
                    raise _Bad("fact-malformed", "no `at` time")
                d = _number(value)
                if unit is None and not bare_ok:
                    raise _Bad("fact-missing-unit", f'no unit; expected "unit": "{unit_name}"')
                out, given = convert(d, unit)
                try:
                    t = _time(at, "the time `at`", cal)
                except _Bad as bad:
                    bad.sub = ("at",)
                    raise
            except _Bad as bad:
                bad.sub = (i, *bad.sub)
                bad.message = f"result {i}: {bad.message}"
                raise
            if t > as_of:
                raise _Bad(
                    "fact-future",
                    f"result {i} is timed {_iso(t)}, after the as-of time {_iso(as_of)}",
                    (i, "at"),
                )
            items.append((t, out, given, i))
        # by instant, then by value and by what was given: never by the order of the list (of two equal
        # results at one instant, the one kept is the same whatever the order; every time is already in
        # the evaluation's calendar, so which offset it was written with no longer matters)
        items.sort(key=_canonical)
        kept: list[tuple[datetime, Decimal, _Given, int]] = []
        for item in items:
            if kept and kept[-1][0] == item[0]:  # the same instant (offsets may differ)
                if kept[-1][1] == item[1]:
                    continue  # the same result sent twice: keep one
                (t1, v1, _, first), (t2, v2, _, second) = sorted((kept[-1], item), key=_index)
                when = _iso(t1) if t1.utcoffset() == t2.utcoffset() else f"{_iso(t1)} (= {_iso(t2)})"
                raise _Bad(
                    "fact-malformed",
                    f"results {first} and {second}: two results at {when} with different values "
                    f"({echo_number(v1)} and {echo_number(v2)} {unit_name})",
                    (second, "at"),
                    hint="send each result once; a result cannot have two values",
                )
            kept.append(item)
        items = kept
        series = tuple((t, v) for t, v, _, _ in items)
        givens = tuple(g for _, _, g, _ in items) if any(g is not None for _, _, g, _ in items) else None
        return series, (series[-1][0] if series else None), givens

    return check


def _canonical(item: tuple[datetime, Decimal, _Given, int]) -> tuple[datetime, Decimal, str]:
    given = item[2]
    return item[0], item[1], "" if given is None else f"{given[0]} {given[1]}"


def _index(item: tuple[datetime, Decimal, _Given, int]) -> int:
    return item[3]


def _check_boolean(raw: object, ctx: _Ctx) -> tuple[object, datetime | None, Any]:
    if raw is True or raw is False:
        return raw, None, None
    value, _, at, _ = _split(raw, False)
    if value is not True and value is not False:
        raise _Bad("fact-wrong-type", f"{_given(value)} is not true or false")
    return value, _at(at, ctx.cal), None


def _make_code(inp: Input) -> _Check:
    allowed = frozenset(inp.values)
    listed = ", ".join(inp.values)

    def check(raw: object, ctx: _Ctx) -> tuple[object, datetime | None, Any]:
        if type(raw) is str and raw in allowed:
            return raw, None, None
        value, _, at, _ = _split(raw, False)
        if not isinstance(value, str):
            raise _Bad("fact-wrong-type", f"{_given(value)} is not one of the quoted values {listed}")
        if value not in allowed:
            close = did_you_mean(value, inp.values)
            raise _Bad(
                "fact-unknown-code",
                f"{_given(value)} is not one of: {listed}",
                hint=f"did you mean '{close}'?" if close else None,
            )
        return value, _at(at, ctx.cal), None

    return check


def _make_datetime(inp: Input) -> _Check:
    when = inp.time

    def check(raw: object, ctx: _Ctx) -> tuple[object, datetime | None, Any]:
        value, _, at, _ = _split(raw, False)
        t = _time(value, "the value", ctx.cal)
        as_of = ctx.as_of
        if when == "past" and t > as_of:
            raise _Bad(
                "fact-implausible",
                f"{_iso(t)} is after the as-of time {_iso(as_of)}; it must be a past time",
                hint="check the date (and its offset)",
            )
        if when == "future" and t < as_of:
            raise _Bad(
                "fact-implausible",
                f"{_iso(t)} is before the as-of time {_iso(as_of)}; it must be a future time",
                hint="check the date (and its offset)",
            )
        return t, _at(at, ctx.cal), None

    return check


# --------------------------------------------------------------------------------------------------
# JSON


class _NonFinite:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        # NaN, Infinity or -Infinity as written in the JSON text
        self.text = text


class _Obj(dict[str, Any]):
    """A JSON object that remembers keys given more than once (and the values they hid)."""

    __slots__ = ("duplicates", "hidden")

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.duplicates: list[str] = []
        self.hidden: list[tuple[str, Any]] = []
        for k, v in pairs:
            if k in self:
                self.duplicates.append(k)
                self.hidden.append((k, self[k]))
            self[k] = v


def _parse_int(text: str) -> int | Decimal:
    if len(text.lstrip("-")) > 300:
        return Decimal(text)  # refused below as out of range; never int() of a huge digit string
    return int(text)


def _walk(data: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    stack: list[tuple[Path, Any]] = [(path, data)]
    while stack:
        p, d = stack.pop()
        yield p, d
        if isinstance(d, dict):
            stack.extend(((*p, k), v) for k, v in d.items())
            if isinstance(d, _Obj):
                stack.extend(((*p, k), v) for k, v in d.hidden)
        elif isinstance(d, list):
            stack.extend(((*p, i), v) for i, v in enumerate(d))


def _too_large(size: str, limits: FactsLimits, file: str) -> FactsError:
    return FactsError(
        [
            Diagnostic(
                "fact-too-large",
                f"the facts are {size}; at most {limits.max_bytes} bytes are read",
                Location(file),
                hint="send the facts the guideline declares, with recent results only",
            )
        ]
    )


def read_facts(
    stream: IO[bytes] | IO[str], *, file: str = "<facts>", limits: FactsLimits = DEFAULT_FACTS_LIMITS
) -> dict[str, Any]:
    """Read and parse a facts JSON stream (a file, stdin, a pipe, ``/dev/zero``) within ``limits``.

    A regular file larger than ``limits.max_bytes`` is refused before it is read; any other stream is read
    to at most ``max_bytes + 1`` bytes, never further (``fact-too-large``). Then as ``parse_facts_json``.
    """
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > limits.max_bytes:
        raise _too_large(f"{st.st_size} bytes", limits, file)
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise _too_large(f"more than {limits.max_bytes} bytes", limits, file)
    return parse_facts_json(data, file=file, limits=limits)


#: A JSON string or a bracket: enough to measure nesting before the JSON is parsed.
_JSON_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _nesting(text: str, most: int) -> bool:
    """True when ``text`` nests brackets deeper than ``most`` (strings skipped), counted before parsing."""
    if text.count("[") + text.count("{") <= most:
        return False
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c == "[" or c == "{":
            depth += 1
            if depth > most:
                return True
        elif c == "]" or c == "}":
            depth -= 1
    return False


def parse_facts_json(
    text: str | bytes, *, file: str = "<facts>", limits: FactsLimits = DEFAULT_FACTS_LIMITS
) -> dict[str, Any]:
    """Parse a JSON object of facts exactly: numbers as ``int``/``Decimal`` (never float).

    Raises ``FactsError`` (all problems at once, at most ``limits.max_errors``) for text beyond
    ``limits.max_bytes`` (``fact-too-large``, before parsing), nesting beyond ``limits.max_depth``
    (``fact-malformed``, before building any value), invalid JSON (``fact-malformed``, with line and column),
    a top level that is not an object (``fact-malformed``), keys given twice (``fact-duplicate-key``), and
    NaN, Infinity, -Infinity or numbers beyond 1e300 such as 1e400 (``fact-not-finite``).
    """
    if len(text) > limits.max_bytes:
        raise _too_large(f"{len(text)} {'bytes' if isinstance(text, bytes | bytearray) else 'characters'}",
                         limits, file)
    if isinstance(text, str) and 4 * len(text) > limits.max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_bytes:
            raise _too_large(f"{size} bytes", limits, file)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FactsError(
                [Diagnostic("fact-encoding", f"the facts are not UTF-8: {exc.reason}", Location(file))]
            ) from None
    if _nesting(text, limits.max_depth + 1):
        raise FactsError(
            [
                Diagnostic(
                    "fact-malformed",
                    f"the facts are nested more than {limits.max_depth} deep",
                    Location(file),
                )
            ]
        )
    try:
        data = json.loads(
            text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_NonFinite, object_pairs_hook=_Obj
        )
    except json.JSONDecodeError as exc:
        raise FactsError(
            [
                Diagnostic(
                    "fact-malformed",
                    f"the facts are not valid JSON: {exc.msg}",
                    Location(file, exc.lineno, exc.colno),
                )
            ]
        ) from None
    except (RecursionError, ValueError, InvalidOperation) as exc:
        raise FactsError(
            [
                Diagnostic(
                    "fact-malformed", f"the facts could not be read: {type(exc).__name__}", Location(file)
                )
            ]
        ) from None
    where = Location(file)
    if not isinstance(data, dict):
        raise FactsError(
            [Diagnostic("fact-malformed", "the facts must be a JSON object of name: value", where)]
        )
    errors: list[Diagnostic] = []
    for path, node in _walk(data, ()):
        if len(path) > limits.max_depth:
            raise FactsError(
                [
                    Diagnostic(
                        "fact-malformed",
                        f"the facts are nested more than {limits.max_depth} deep",
                        where,
                        path=path[:2],
                    )
                ]
            )
        name = echo(str(path[0])) if path else "<facts>"
        if isinstance(node, _Obj) and node.duplicates:
            for k in sorted(set(node.duplicates)):
                errors.append(
                    Diagnostic(
                        "fact-duplicate-key",
                        f"'{echo(k)}' is given more than once" + (f" in fact '{name}'" if path else ""),
                        where,
                        path=(*path, k),
                    )
                )
        elif isinstance(node, _NonFinite):
            errors.append(
                Diagnostic(
                    "fact-not-finite", f"fact '{name}': {node.text} is not a finite number", where, path=path
                )
            )
        elif isinstance(node, Decimal) and node and (node.copy_abs() > _BIG or node.copy_abs() < _SMALL):
            errors.append(
                Diagnostic(
                    "fact-not-finite",
                    f"fact '{name}': {echo_number(node)} is out of the range of finite measurements "
                    "(1e-300 to 1e300)",
                    where,
                    path=path,
                )
            )
    if errors:
        raise FactsError(_bounded(errors, limits.max_errors, where))
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(data: Any) -> Any:
    """Replace the internal dict subclass by plain dicts."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data
