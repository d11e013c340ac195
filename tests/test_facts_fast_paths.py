"""The fact checker's fast paths (issue 12) give exactly what the full paths give: the same values, times
(with their offsets), echoes, and the same errors (code, message, path, hint), on common and hostile input.

The series check reads a result that is a plain ``dict`` inline and leaves anything else to the full
per-result check; a ``MappingProxyType`` around the same result is a ``Mapping`` but not a ``dict``, so it
takes the full path: the two must agree on every input. ``fact_time`` tries ``common_time`` first; where
it answers, it must equal the full parse and conversion. ``decimal_text`` returns ``str(d)`` when that is
already the normalized plain text.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from helpers import make_input
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.errors import FactsError
from interpreter.facts.checker import FactChecker, FactsLimits
from interpreter.facts.values import (
    BadFact,
    _in_calendar,
    _parse_time,
    common_time,
    decimal_text,
    evaluation_calendar,
    fact_time,
)
from interpreter.values.numbers import CONVERSION_CONTEXT

AS_OF = datetime(2026, 11, 24, 8, tzinfo=timezone(timedelta(hours=1)))
CHECKER = FactChecker({
    "s": make_input("s", "series", unit="10*9/L", accepted_units=("/uL", "10*3/uL", "10*6/mL", "/mm3"),
                    plausible=(0, 100), max_age="PT72H"),
    "b": make_input("b", "series", unit="a", bare_number=True, plausible=(0, 130)),
})
LIMITS = FactsLimits(max_series=12)

NUMBERS = st.one_of(
    st.integers(-3, 120_000),
    st.sampled_from([0, -0.0, 0.0, 1e15, -1e15, 10**15, 10**15 + 1, 1e-301, 5e-324, 1e300, 100.0, 100,
                     99.99999999999999, 100.00000000000001, True, False, None, "1.5", [1], math.nan, math.inf,
                     -math.inf, 1e-300, 4.5e-5]),
    st.floats(-10, 150_000, allow_nan=False),
)
UNITS = st.sampled_from(["10*9/L", "/uL", "10*3/uL", "10*6/mL", "/mm3", "10*3/mm3", "/L", "kg", "a", "K/uL",
                         "", None, 1, ["/uL"]])
TIMES = st.one_of(
    st.sampled_from([
        "2026-11-23T08:00:00Z", "2026-11-23T08:00:00+00:00", "2026-11-23T08:00:00-00:00",
        "2026-11-23T09:00:00+01:00", "2026-11-23T03:00:00-05:00", "2026-11-23T08:00Z", "2026-11-23T08Z",
        "2026-11-23T08:00:00.5+05:30", "2026-11-23T08:00:00", "2026-11-23 08:00:00Z", "20261123T080000Z",
        "2026-11-24T08:00:00.000001+01:00", "2026-11-24T07:00:00Z", "2026-11-24T07:00:00.000001Z",
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-01:00", "0002-01-01T00:00:00+23:59",
        "2026-13-01T00:00:00Z", "2026-11-23T08:00:00+24:00", "x" * 30, "2026-11-23T08:00:00+01:00:30",
        "2026-W48-1T08:00:00Z", "2026-11-23t08:00:00z", "",
    ]),
    st.datetimes(min_value=datetime(2026, 11, 19), max_value=datetime(2026, 11, 25),
                 timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])
                 ).map(lambda t: t.isoformat()),
    st.integers(),
)
EXTRA = st.sampled_from([{}, {"note": 1}, {"at": None}, {"unit": None}, {"value": None}])


@st.composite
def results(draw: st.DrawFn) -> Any:
    item: dict[str, Any] = {}
    for key, values in (("value", NUMBERS), ("unit", UNITS), ("at", TIMES)):
        if draw(st.integers(0, 9)):  # mostly present
            item[key] = draw(values)
    item.update(draw(EXTRA) if draw(st.integers(0, 5)) == 0 else {})
    return item


VALID = st.fixed_dictionaries({
    "value": st.one_of(st.integers(0, 100), st.floats(0, 100), st.sampled_from([1500, 2e4, 45.0, 1e-5])),
    "unit": st.sampled_from(["10*9/L", "/uL", "10*3/uL", "10*6/mL", "/mm3", "a"]),
    "at": st.datetimes(min_value=datetime(2026, 11, 19), max_value=datetime(2026, 11, 25),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))
    .map(lambda t: t.isoformat()),
})


def _outcome(facts: dict[str, Any], cal: str | None) -> Any:
    try:
        checked = CHECKER.check(facts, AS_OF, time_zone=cal, limits=LIMITS)
    except FactsError as exc:
        return [(d.code, d.message, d.path, d.hint) for d in exc.diagnostics]
    values = {k: [(t, t.utcoffset(), v) for t, v in s] if isinstance(s, tuple) else s
              for k, s in checked.values.items()}
    return values, dict(checked.unknown), dict(checked.shown)


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.one_of(VALID, results()), max_size=8),
       cal=st.sampled_from([None, "America/New_York", "UTC"]), name=st.sampled_from(["s", "b"]))
def test_the_inline_series_check_is_the_full_check(items: list[dict[str, Any]], cal: str | None,
                                                   name: str) -> None:
    fast = _outcome({name: items}, cal)
    full = _outcome({name: [MappingProxyType(i) for i in items]}, cal)
    assert fast == full


def test_the_inline_series_check_keeps_the_order_of_results_at_one_instant() -> None:
    """Two results at one instant: the one kept, and the error of two different values, as the full path."""
    same = [{"value": 2000, "unit": "/uL", "at": "2026-11-23T09:00:00+01:00"},
            {"value": 2, "unit": "10*9/L", "at": "2026-11-23T08:00:00Z"},
            {"value": 1, "unit": "10*9/L", "at": "2026-11-22T08:00:00Z"}]
    for items in (same, same[::-1]):
        fast = _outcome({"s": items}, None)
        assert fast == _outcome({"s": [MappingProxyType(i) for i in items]}, None)
        assert fast[2]["s"]["value"][1] == {"value": "2", "at": "2026-11-23T09:00:00+01:00"}
    differ = [{"value": 3, "unit": "10*9/L", "at": "2026-11-23T03:00:00-05:00"}, *same]
    fast = _outcome({"s": differ}, None)
    assert fast == _outcome({"s": [MappingProxyType(i) for i in differ]}, None)
    assert fast[0][0] == "fact-malformed" and "results 0 and 2: two results at" in fast[0][1]


CALENDARS: list[tzinfo] = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30)),
                           ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")]


@settings(max_examples=200, deadline=None)
@given(raw=TIMES, cal=st.sampled_from(CALENDARS))
def test_common_time_is_the_full_parse(raw: object, cal: tzinfo) -> None:
    try:
        full: Any = _in_calendar(_parse_time(raw, "the time"), cal, raw, "the time")
    except BadFact as bad:
        full = (bad.code, bad.message)
    fast = common_time(raw, cal)
    if fast is not None:
        assert isinstance(full, datetime)
        assert (fast, fast.utcoffset(), type(fast.tzinfo), fast.isoformat()) == (
            full, full.utcoffset(), type(full.tzinfo), full.isoformat())
    try:
        whole: Any = fact_time(raw, "the time", cal)
    except BadFact as bad:
        whole = (bad.code, bad.message)
    assert whole == full
    if isinstance(whole, datetime):
        assert whole.isoformat() == full.isoformat()


def test_common_time_answers_the_common_forms_and_leaves_the_rest() -> None:
    paris = ZoneInfo("Europe/Paris")
    t = common_time("2026-11-23T03:00:00-05:00", paris)
    assert t is not None and t.isoformat() == "2026-11-23T09:00:00+01:00" and type(t.tzinfo) is timezone
    assert common_time("2026-11-23T08:00:00Z", UTC) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    for other in ("2026-11-23T08:00:00", "0001-01-01T00:00:00+01:00", "2026-11-23 08:00:00Z", 5,
                  datetime(2026, 11, 23, tzinfo=UTC), "2026-11-23T08:00:00+01:00" + " " * 20):
        assert common_time(other, UTC) is None


DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(-10**25, 10**25), st.integers(-40, 40)),
    st.sampled_from([Decimal(x) for x in ("0", "-0", "0E-5", "1E+2", "100", "100.0", "56.180", "1E-7",
                                          "0.000001", "1." + "1" * 130, "1." + "0" * 130, "Infinity")]),
)


@settings(max_examples=200, deadline=None)
@given(d=DECIMALS)
def test_decimal_text_is_the_normalized_plain_text(d: Decimal) -> None:
    expected = "0" if d == 0 else format(d.normalize(CONVERSION_CONTEXT), "f")
    assert decimal_text(d) == expected


def test_the_times_of_a_series_share_one_tzinfo_per_offset() -> None:
    """Every time in the calendar's offset carries one tzinfo object (comparisons then never ask it), also
    a time sent at that offset already, and in a calendar with daylight saving."""
    times = ("2026-11-23T09:00:00+01:00", "2026-11-23T07:00:00Z", "2026-11-22T09:00:00+01:00",
             "2026-07-01T08:00:00Z")
    items = [{"value": 1, "unit": "10*9/L", "at": at} for at in times]
    checked = CHECKER.check({"s": items}, AS_OF, limits=LIMITS)
    series = checked.values["s"]
    assert isinstance(series, tuple)
    assert len({id(t.tzinfo) for t, _ in series}) == 1
    paris = CHECKER.check({"s": items}, AS_OF, time_zone="Europe/Paris", limits=LIMITS).values["s"]
    assert isinstance(paris, tuple)
    zones = {t.utcoffset(): t.tzinfo for t, _ in paris}
    assert len(zones) == 2 and all(t.tzinfo is zones[t.utcoffset()] for t, _ in paris)


def test_the_as_of_time_and_the_facts_share_the_calendars_tzinfo() -> None:
    """evaluate() reads the calendar of the as-of time, then the checker reads it again: one tzinfo object
    for one offset, so the walk compares the facts' times with the as-of time without asking it."""
    as_of, cal = evaluation_calendar(AS_OF)
    again, cal2 = evaluation_calendar(as_of)
    assert cal is cal2 and again.tzinfo is as_of.tzinfo is cal
    series = CHECKER.check({"s": [{"value": 1, "unit": "/uL", "at": "2026-11-23T03:00:00-05:00"}]},
                           as_of, limits=LIMITS).values["s"]
    assert isinstance(series, tuple) and series[0][0].tzinfo is cal
