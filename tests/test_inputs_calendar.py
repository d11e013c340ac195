"""Calendar time (issue 8 §6), end to end: a date input, calendar months, typed durations in a guideline."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import interpreter
from interpreter.errors import FactsError, GuidelineError
from interpreter.lang.functions.time import add_months, months_between

GUIDELINE = """\
id: calendar-example
version: "1.0.0"
title: Calendar time (for tests only)
status: draft
effective:
  start: 2026-01-01
last_updated: 2026-01-01
authors:
  - name: Test Author
references:
  EXAMPLE:
    citation: An example reference used by the tests; not a clinical source.
inputs:
  treatment_start:
    type: date
    description: First day of treatment.
    time: past
  last_count_at:
    type: datetime
    description: Time of the last blood count.
    time: past
start: phase
nodes:
  - id: phase
    kind: choice
    branches:
      - when: within_months(treatment_start, 6) and hours_since(last_count_at) >= q(7, 'd')
        then: weekly-due
      - when: within_months(treatment_start, 6)
        then: weekly
    otherwise: monthly
    unknown: cannot-decide
recommendations:
  - id: weekly-due
    text: First 6 months - a weekly count is due.
    cite: [EXAMPLE]
  - id: weekly
    text: First 6 months - weekly counts.
    cite: [EXAMPLE]
  - id: monthly
    text: After 6 months - monthly counts.
    cite: [EXAMPLE]
"""


@pytest.fixture(scope="module")
def guideline(tmp_path_factory: pytest.TempPathFactory) -> interpreter.Guideline:
    path = tmp_path_factory.mktemp("cal") / "cal.guideline.yaml"
    path.write_text(GUIDELINE, encoding="utf-8")
    return interpreter.load(path)


@pytest.mark.parametrize(
    ("start", "last", "expected"),
    [
        ("2026-05-25", "2026-11-20T09:00:00Z", "weekly"),  # the last day of the first 6 months
        ("2026-05-24", "2026-11-20T09:00:00Z", "monthly"),  # 6 months ago today: the first day after
        ("2026-05-25", "2026-11-17T09:00:00Z", "weekly-due"),  # exactly 7 days = 168 h
        ("2026-05-25", "2026-11-17T09:00:01Z", "weekly"),  # one second short of 7 days
    ],
)
def test_the_first_six_months_by_the_calendar(
    guideline: interpreter.Guideline, start: str, last: str, expected: str
) -> None:
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    result = guideline.evaluate({"treatment_start": start, "last_count_at": last}, as_of=at)
    assert [r.id for r in result.recommendations] == [expected]
    assert result.to_json()["facts"]["treatment_start"] == {"value": start}


def test_the_calendar_date_is_the_evaluations(guideline: interpreter.Guideline) -> None:
    # 23:30 on 23 November in New York is already 24 November in UTC: the day is read in New York
    at = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    facts = {"treatment_start": "2026-05-24", "last_count_at": "2026-11-20T09:00:00Z"}
    in_utc = guideline.evaluate(facts, as_of=at)
    in_new_york = guideline.evaluate(facts, as_of=at, time_zone="America/New_York")
    assert [r.id for r in in_utc.recommendations] == ["monthly"]
    assert [r.id for r in in_new_york.recommendations] == ["weekly"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-11-25", "fact-implausible"),  # time: past, after the as-of date
        ("2026-13-01", "fact-bad-time"),
        ("24/11/2026", "fact-bad-time"),
        ("2026-11-24T00:00:00Z", "fact-bad-time"),
        ("x" * 100_000, "fact-bad-time"),
        (["2026-11-24"], "fact-bad-time"),
    ],
)
def test_bad_dates_are_located_fact_errors(
    guideline: interpreter.Guideline, value: object, code: str
) -> None:
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    with pytest.raises(FactsError) as exc:
        guideline.evaluate({"treatment_start": value}, as_of=at)
    [d] = exc.value.diagnostics
    assert d.code == code and d.path[0] == "treatment_start" and len(d.message) < 300


def test_a_date_compared_with_a_time_is_a_located_load_error(tmp_path: Path) -> None:
    text = GUIDELINE.replace(
        "      - when: within_months(treatment_start, 6)\n        then: weekly\n",
        "      - when: treatment_start < last_count_at\n        then: weekly\n",
    )
    path = tmp_path / "bad.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GuidelineError) as exc:
        interpreter.load(path)
    [d] = exc.value.diagnostics
    assert (
        d.code == "expr-type"
        and d.location.line == text.splitlines().index("      - when: treatment_start < last_count_at") + 1
    )


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 11, 24), 6, date(2027, 5, 24)),
    ],
)
def test_calendar_month_arithmetic(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_months_between_is_the_largest_whole_count_on_every_day_of_four_years() -> None:
    start = date(2024, 1, 31)
    day = date(2023, 12, 1)
    for _ in range(4 * 366):
        n = months_between(start, day)
        assert add_months(start, n) <= day < add_months(start, n + 1)
        day = date.fromordinal(day.toordinal() + 1)


def test_the_window_never_overflows_past_year_9999() -> None:
    with pytest.raises(OverflowError):
        add_months(date(9999, 12, 1), 1)
