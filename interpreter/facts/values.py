"""The values of facts: exact numbers, times in the evaluation's one calendar, and their echoes in messages.

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

Renderings: ``echo_given`` (what the host sent, short and safe, for messages), ``decimal_text`` and
``iso_text`` (the exact value and the time shown in ``CheckedFacts.shown``), ``range_text``,
``duration_text``. A bad value raises ``BadFact``, which the checker turns into one diagnostic naming the
fact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..codes import Code
from ..errors import EvaluationError, Path
from ..values.numbers import CONVERSION_CONTEXT
from ..values.text import echo, echo_number, quote

__all__ = [
    "FINITE_MAX",
    "FINITE_MIN",
    "MAX_DIGITS",
    "MAX_MAGNITUDE",
    "BadFact",
    "common_time",
    "decimal_text",
    "duration_text",
    "echo_given",
    "evaluation_calendar",
    "fact_number",
    "fact_time",
    "host_offset",
    "iso_text",
    "range_text",
]

#: Largest magnitude of a finite fact number; a non-zero number below FINITE_MIN is refused too.
FINITE_MAX: Final = Decimal("1e300")
FINITE_MIN: Final = Decimal("1e-300")
#: Most significant digits of a fact number: no measurement is more precise (conversion keeps 120 digits and
#: display 28, so a longer number could compare differently in two units).
MAX_DIGITS: Final = 20
#: Largest magnitude of a fact number (1e15): beyond it the input is not a measurement.
MAX_MAGNITUDE: Final = 10**15
_MAX_MAGNITUDE_DECIMAL: Final = Decimal(MAX_MAGNITUDE)
_FAR_TOO_LARGE_INT: Final = 10**300  # an int beyond it is not finite (as a Decimal beyond FINITE_MAX)
_INFINITY: Final = float("inf")
_MAX_TEXT = 200  # longest string accepted as a time
_MAX_ZONE_NAME = 64  # longest IANA time-zone name accepted


class BadFact(Exception):
    """One bad fact: its code, message, the path under the fact's name (``sub``) and a hint.

    Internal to the facts package: the checker collects each into one diagnostic naming the fact.
    """

    def __init__(self, code: str, message: str, sub: Path = (), hint: str | None = None) -> None:
        self.code = code
        self.message = message
        self.sub = sub
        self.hint = hint


def decimal_text(d: Decimal) -> str:
    """``d`` in plain notation without trailing zeros (``0`` for any zero)."""
    if d == 0:
        return "0"
    s = str(d)
    if "E" not in s and len(s) < 100 and (s[-1] != "0" or "." not in s):
        # plain notation, nothing to strip: what the line below gives (str writes a finite Decimal of
        # exponent <= 0 and adjusted >= -6 with exactly its digits; under 100 characters normalize never
        # rounds at 120 digits)
        return s
    return format(d.normalize(CONVERSION_CONTEXT), "f")  # exact (120 digits), never the thread's context


def echo_given(raw: object) -> str:
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


def _within_precision(d: Decimal) -> Decimal:
    """``d`` (finite, 1e-300..1e300), unless it is beyond 1e15 or has more than 20 significant digits."""
    if d.adjusted() >= 15 and d.copy_abs() > _MAX_MAGNITUDE_DECIMAL:
        raise BadFact(
            Code.FACT_IMPLAUSIBLE,
            f"{echo_given(d)} is beyond 1e15 in magnitude; not a measurement",
            hint="check the value and its unit",
        )
    digits = len(d.as_tuple().digits)
    if digits > MAX_DIGITS:
        raise BadFact(
            Code.FACT_TOO_PRECISE,
            f"{echo_given(d)} has {digits} significant digits; no measurement has that precision "
            f"(at most {MAX_DIGITS})",
            hint="send the value as the laboratory reported it",
        )
    return d


def fact_number(raw: object) -> Decimal:
    """A JSON number as an exact Decimal, or BadFact."""
    t = type(raw)
    if t is Decimal:
        d: Decimal = raw  # type: ignore[assignment]
        if d.is_finite() and -300 <= d.adjusted() < 300:
            return _within_precision(d)
        if not d.is_finite():
            raise BadFact(Code.FACT_NOT_FINITE, f"{echo_given(raw)} is not a finite number")
        if not d:
            return d
    elif t is int:
        i: int = raw  # type: ignore[assignment]
        if -MAX_MAGNITUDE <= i <= MAX_MAGNITUDE:
            return Decimal(i)
        if -_FAR_TOO_LARGE_INT < i < _FAR_TOO_LARGE_INT:
            raise BadFact(
                Code.FACT_IMPLAUSIBLE,
                f"{echo_given(i)} is beyond 1e15 in magnitude; not a measurement",
                hint="check the value and its unit",
            )
        raise BadFact(Code.FACT_NOT_FINITE, "the number is far too large to be a measurement")
    elif t is float:
        x: float = raw  # type: ignore[assignment]
        if math.isnan(x) or x in (_INFINITY, -_INFINITY):
            raise BadFact(Code.FACT_NOT_FINITE, f"{x!r} is not a finite number")
        d = Decimal(repr(x))
        if not d or -300 <= d.adjusted() < 15:
            return d  # at most 17 significant digits, below 1e15: nothing more to check
    elif isinstance(raw, bool):
        raise BadFact(Code.FACT_WRONG_TYPE, f"{echo_given(raw)} is a boolean, not a number")
    elif isinstance(raw, str):
        raise BadFact(
            Code.FACT_WRONG_TYPE,
            f"the text {echo_given(raw)} is not a number",
            hint="send numbers as JSON numbers, without quotes",
        )
    elif isinstance(raw, int | Decimal | float):  # subclasses (an IntEnum, numpy.float64)
        return fact_number(
            int(raw) if isinstance(raw, int) else float(raw) if isinstance(raw, float) else Decimal(raw)
        )
    else:
        raise BadFact(Code.FACT_WRONG_TYPE, f"{echo_given(raw)} is not a number")
    if d and not -300 <= d.adjusted() < 300:
        raise BadFact(
            Code.FACT_NOT_FINITE,
            f"{echo_given(d)} is out of the range of finite measurements (1e-300 to 1e300)"
        )
    return _within_precision(d)


def _parse_iso(raw: str) -> datetime | None:
    """A well-formed ISO time with an offset, as a fixed-offset datetime; None otherwise (``common_time``
    answers the common case first: no memo)."""
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        return None
    offset = t.utcoffset() if t.tzinfo is not None else None
    return None if offset is None else _fixed_offset(t, offset)


def fact_time(raw: object, what: str, cal: tzinfo) -> datetime:
    """``raw`` as an aware datetime in the evaluation's calendar ``cal`` (a fixed offset), or BadFact."""
    t = common_time(raw, cal)
    return t if t is not None else _in_calendar(_parse_time(raw, what), cal, raw, what)


_fromisoformat: Final = datetime.fromisoformat


def common_time(raw: object, cal: tzinfo) -> datetime | None:
    """The common case of ``fact_time``, or None for ``fact_time``'s full path (which then decides).

    The common case: ISO text of the shape ``_parse_time`` reads first (16 to 40 characters, a ``T`` at
    index 10), with an offset, years 2 to 9998, and a calendar that is a ``timezone`` or a ``ZoneInfo``.
    Its result is exactly the full path's: ``_parse_iso``'s datetime (``fromisoformat`` gives a
    ``timezone``: ``_fixed_offset`` keeps it), then ``_in_calendar`` (no overflow is possible: an offset is
    under a day), except that a time already at the calendar's offset gets the calendar's tzinfo object
    (an equal one: the same instant, offset and text). Anything else (a datetime object, a naive or
    malformed text, years 1 and 9999, a host's tzinfo) is None, never an error: the full path reports it.
    No memo: times are mostly unique.
    """
    if type(raw) is not str or not 16 <= len(raw) <= 40 or raw[10] != "T":
        return None
    try:
        t = _fromisoformat(raw)
    except ValueError:
        return None
    tz = t.tzinfo
    if type(tz) is not timezone or not 1 < t.year < 9999:
        return None
    if type(cal) is timezone:
        # the calendar's own tzinfo object even when the text's is equal to it: the same instant and text,
        # and datetimes sharing one tzinfo compare without asking it (a series sorts about 8 times faster)
        return t if tz is cal else t.astimezone(cal)
    if type(cal) is ZoneInfo:
        return _to_calendar(t, cal)
    return None


def _in_calendar(t: datetime, cal: tzinfo, raw: object, what: str) -> datetime:
    """``t`` (fixed offset) converted to the calendar ``cal``, kept with a fixed offset (the calendar's offset
    at that instant). BadFact (``fact-bad-time``) when the instant, in UTC or in the calendar, is outside the
    years 1 to 9999 that Python's datetime can represent (every later step works on both)."""
    if type(cal) is timezone and t.tzinfo == cal and 1 < t.year < 9999:
        return t
    try:
        if t.year in (1, 9999):
            t.astimezone(UTC)  # an OverflowError here: the instant is outside years 1..9999 in UTC
        return _to_calendar(t, cal)
    except OverflowError:
        raise BadFact(
            Code.FACT_BAD_TIME,
            f"{what} {echo_given(raw)} is outside the years 1 to 9999 in UTC or in the evaluation's calendar",
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
        return u if type(u.tzinfo) is timezone else _fixed_offset(u, u.utcoffset() or timedelta(0))
    try:
        u = t.astimezone(cal)
        offset = u.utcoffset()
    except OverflowError:
        raise
    except Exception:  # any failure of host code: refused, never a traceback
        offset = None
    if not isinstance(offset, timedelta):
        raise EvaluationError(
            Code.EVAL_BAD_TIME_ZONE,
            f"the time zone (a tzinfo of type {echo(type(cal).__name__[:64])}) failed to convert "
            f"{iso_text(t)}: it gave no valid UTC offset; give an IANA time-zone name such as 'Europe/Paris'",
        )
    return _fixed_offset(u, offset)


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
    if isinstance(raw, datetime):
        t = raw
    elif isinstance(raw, str):
        if type(raw) is str and 16 <= len(raw) <= 40 and raw[10] == "T":
            fast = _parse_iso(raw)
            if fast is not None:
                return fast
        elif len(raw) > _MAX_TEXT or "T" not in raw:
            raise BadFact(
                Code.FACT_BAD_TIME,
                f"{what} {echo_given(raw)} is not an ISO 8601 time with a time of day and offset",
                hint="write e.g. 2026-11-20T08:00:00Z",
            )
        try:
            t = datetime.fromisoformat(raw)
        except ValueError:
            raise BadFact(
                Code.FACT_BAD_TIME,
                f"{what} {echo_given(raw)} is not an ISO 8601 time",
                hint="write e.g. 2026-11-20T08:00:00Z",
            ) from None
    else:
        raise BadFact(Code.FACT_BAD_TIME, f"{what} {echo_given(raw)} is not an ISO 8601 time")
    try:
        offset = host_offset(t, Code.FACT_BAD_TIME, what)
    except EvaluationError as exc:
        raise BadFact(Code.FACT_BAD_TIME, exc.message, hint="send e.g. 2026-11-20T08:00:00Z") from None
    if offset is None:
        raise BadFact(
            Code.FACT_BAD_TIME,
            f"{what} {echo_given(raw)} has no time zone offset",
            hint="add Z (UTC) or an offset such as +01:00",
        )
    return _fixed_offset(t, offset)


def _fixed_offset(t: datetime, offset: timedelta) -> datetime:
    """``t`` with a FIXED-offset time zone of its own offset (a plain ``datetime``; same instant, same wall
    clock). Arithmetic is then by instant, even for a ZoneInfo with daylight saving (Python subtracts two
    datetimes that share a tzinfo by wall clock), and the local offset as sent is kept (local calendar days).
    """
    if type(t) is datetime and type(t.tzinfo) is timezone:
        return t  # already a fixed offset (every time parsed from ISO text)
    tz = UTC if not offset else _fixed_zone(offset)
    return datetime(t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond, tzinfo=tz)


@lru_cache(maxsize=256)
def _fixed_zone(offset: timedelta) -> timezone:
    """``timezone(offset)``, one object per offset (a pure, bounded, thread-safe memo: the times converted to
    one calendar, and the as-of time, share their tzinfo, so comparing them never asks it)."""
    return timezone(offset)


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
    offset = host_offset(as_of, Code.EVAL_BAD_TIME, "the as-of time") if isinstance(as_of, datetime) else None
    if offset is None:
        what = "a naive datetime" if isinstance(as_of, datetime) else type(as_of).__name__
        raise EvaluationError(
            Code.EVAL_BAD_TIME, f"the as-of time must be a timezone-aware datetime, not {what}"
        )
    assert isinstance(as_of, datetime)
    zone = as_of.tzinfo
    as_of = _fixed_offset(as_of, offset)  # the host's tzinfo is never asked again
    cal: tzinfo
    if time_zone is None:
        # the host's ZoneInfo states a zone (with its daylight saving); any other tzinfo: its offset now
        # (one tzinfo object per offset: the calendar of the as-of time evaluate() reads and the checker's,
        # and so the times of the facts and the as-of time, share it, and compare without asking it)
        cal = zone if type(zone) is ZoneInfo else UTC if not offset else _fixed_zone(offset)
    elif isinstance(time_zone, str):
        cal = _iana_zone(time_zone)
    elif isinstance(time_zone, tzinfo):
        cal = time_zone
    else:
        raise EvaluationError(
            Code.EVAL_BAD_TIME_ZONE,
            f"the time zone must be an IANA name such as 'Europe/Paris', not {type(time_zone).__name__}",
        )
    try:
        as_of.astimezone(UTC)
        local = _to_calendar(as_of, cal)
    except OverflowError:
        raise EvaluationError(
            Code.EVAL_BAD_TIME,
            f"the as-of time {iso_text(as_of)} is outside the years 1 to 9999 in UTC or in the evaluation's "
            "calendar",
        ) from None
    return local, cal


def _iana_zone(name: str) -> tzinfo:
    if not 0 < len(name) <= _MAX_ZONE_NAME or not name.isprintable():
        raise EvaluationError(Code.EVAL_BAD_TIME_ZONE, f"{echo_given(name)} is not an IANA time-zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise EvaluationError(
            Code.EVAL_BAD_TIME_ZONE,
            f"{echo_given(name)} is not a known IANA time-zone name",
        ) from None


def range_text(lo: Decimal | None, hi: Decimal | None) -> str:
    low = echo_number(lo) if lo is not None else "-inf"
    high = echo_number(hi) if hi is not None else "inf"
    return f"{low} to {high}"


def iso_text(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def duration_text(td: timedelta) -> str:
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

