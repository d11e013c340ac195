"""A host's broken tzinfo is a located refusal, never a bare Python error (review 1, F6).

``Guideline.evaluate(facts, as_of, time_zone=<tzinfo whose utcoffset returns None>)`` raised ValueError, and a
tzinfo whose utcoffset raises did the same (RuntimeError) given as ``time_zone`` or inside ``as_of``. Now:
``eval-bad-time-zone`` for the time zone, ``eval-bad-time`` for the as-of time, ``fact-bad-time`` for a fact.
"""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

import interpreter
from interpreter.errors import EvaluationError, FactsError
from interpreter.facts.values import evaluation_calendar

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
FACTS = {
    "anc": {"value": 0.7, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "febrile": False,
    "weight": {"value": 70, "unit": "kg"},
    "height": {"value": 170, "unit": "cm"},
    "cause": "other",
}


class NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


class Raises(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        raise RuntimeError("boom")

    def dst(self, dt: datetime | None) -> timedelta | None:
        raise RuntimeError("boom")


class TooFar(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return timedelta(hours=30)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return timedelta(0)


class NotATimedelta(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return "+01:00"  # type: ignore[return-value]

    def dst(self, dt: datetime | None) -> timedelta | None:
        return timedelta(0)


class NoDst(tzinfo):
    """utcoffset works, dst gives None: the default fromutc refuses it (ValueError)."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


class FromUtcRaises(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return timedelta(0)

    def fromutc(self, dt: datetime) -> datetime:
        raise KeyError("boom")


class FailsBefore2026(tzinfo):
    """Works for the as-of time; fails for an older fact time (only found when the facts are converted)."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is not None and dt.year < 2026:
            raise ZeroDivisionError("boom")
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return timedelta(0)


BROKEN_ZONES = [NoOffset(), Raises(), TooFar(), NotATimedelta(), NoDst(), FromUtcRaises()]
BROKEN_AS_OF = [Raises(), TooFar(), NotATimedelta()]


@pytest.mark.parametrize("zone", BROKEN_ZONES, ids=lambda z: type(z).__name__)
def test_a_broken_time_zone_is_eval_bad_time_zone(zone: tzinfo) -> None:
    g = interpreter.load(MINI)
    with pytest.raises(EvaluationError) as info:
        g.evaluate(FACTS, AS_OF, time_zone=zone)
    assert info.value.code == "eval-bad-time-zone"
    assert type(zone).__name__ in info.value.message and "boom" not in info.value.message
    with pytest.raises(EvaluationError) as direct:
        evaluation_calendar(AS_OF, zone)
    assert direct.value.code == "eval-bad-time-zone"


@pytest.mark.parametrize("zone", BROKEN_AS_OF, ids=lambda z: type(z).__name__)
def test_a_broken_tzinfo_in_as_of_is_eval_bad_time(zone: tzinfo) -> None:
    g = interpreter.load(MINI)
    as_of = datetime(2026, 11, 24, 9, tzinfo=zone)
    with pytest.raises(EvaluationError) as info:
        g.evaluate(FACTS, as_of)
    assert info.value.code == "eval-bad-time"
    assert type(zone).__name__ in info.value.message
    with pytest.raises(EvaluationError) as direct:
        evaluation_calendar(as_of, "Europe/Paris")
    assert direct.value.code == "eval-bad-time"


def test_an_as_of_whose_tzinfo_gives_no_offset_is_naive() -> None:
    with pytest.raises(EvaluationError) as info:
        interpreter.load(MINI).evaluate(FACTS, datetime(2026, 11, 24, 9, tzinfo=NoOffset()))
    assert info.value.code == "eval-naive-time"


def test_a_time_zone_that_fails_only_for_a_fact_time_is_eval_bad_time_zone() -> None:
    g = interpreter.load(MINI)
    facts = {**FACTS, "anc": {"value": 0.7, "unit": "10*9/L", "at": "2025-12-31T22:00:00Z"}}
    with pytest.raises(EvaluationError) as info:
        g.evaluate(facts, datetime(2026, 1, 1, 9, tzinfo=UTC), time_zone=FailsBefore2026())
    assert info.value.code == "eval-bad-time-zone"


def test_a_fact_datetime_with_a_broken_tzinfo_is_fact_bad_time() -> None:
    g = interpreter.load(MINI)
    at = datetime(2026, 11, 24, 6, tzinfo=Raises())
    facts = {**FACTS, "anc": {"value": 0.7, "unit": "10*9/L", "at": at}}
    with pytest.raises(FactsError) as info:
        g.evaluate(facts, AS_OF)
    assert [d.code for d in info.value.diagnostics] == ["fact-bad-time"]


def test_a_working_host_tzinfo_still_sets_the_calendar() -> None:
    """A tzinfo subclass that works is used as before: the as-of time in its calendar, a fixed offset."""

    class Plus5(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta | None:
            return timedelta(hours=5)

        def dst(self, dt: datetime | None) -> timedelta | None:
            return timedelta(0)

    local, cal = evaluation_calendar(AS_OF, Plus5())
    assert isinstance(cal, Plus5)
    assert local == AS_OF and local.utcoffset() == timedelta(hours=5) and type(local.tzinfo) is timezone
    r = interpreter.load(MINI).evaluate(FACTS, datetime(2026, 11, 24, 14, tzinfo=Plus5()))
    assert r.as_of == AS_OF and r.as_of.utcoffset() == timedelta(hours=5)
