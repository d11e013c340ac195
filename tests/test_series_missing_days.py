"""A day-window function unknown because a day has no result: the needed fact names the missing day(s)
(issue 9, noise list: "a series with a missing day names the missing day")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import interpreter

AT = datetime(2026, 11, 24, 9, tzinfo=UTC)

GUIDE = """\
id: series-days
version: "0.1.0"
title: series days (tests only)
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test}]
references: {X: {citation: test only}}
inputs:
  anc_history: {type: series, description: ANC results, unit: 10*9/L, plausible: {min: 0, max: 100}}
  fever: {type: boolean, description: fever}
derived:
  recovered: {type: boolean, description: recovered, expr: "at_or_above_on_days(anc_history, 1.5, 3)"}
start: n
nodes:
  - id: n
    kind: choice
    branches:
      - {when: "recovered or (fever and above_on_days(anc_history, 5, 2))", then: stop}
    otherwise: go
    unknown: cannot-decide
recommendations:
  - {id: stop, text: stop, cite: [X]}
  - {id: go, text: go, cite: [X]}
"""


@pytest.fixture(scope="module")
def g(tmp_path_factory: pytest.TempPathFactory) -> interpreter.Guideline:
    p = tmp_path_factory.mktemp("series") / "s.guideline.yaml"
    p.write_text(GUIDE, encoding="utf-8")
    return interpreter.load(p)


def _anc(*days: int) -> list[dict[str, object]]:
    return [{"value": 2.0, "unit": "10*9/L", "at": f"2026-11-{d:02d}T06:00:00Z"} for d in days]


def test_the_missing_day_is_named(g: interpreter.Guideline) -> None:
    r = g.evaluate({"anc_history": _anc(21, 23, 24), "fever": False}, AT)
    assert r.status == "incomplete"
    (need,) = r.needed_facts
    assert (need.name, need.reason) == ("anc_history", "insufficient")
    assert need.detail == "anc_history has no result on 2026-11-22"
    assert r.to_json()["needed_facts"][0]["detail"] == "anc_history has no result on 2026-11-22"


def test_every_missing_day_of_the_longest_window_is_named(g: interpreter.Guideline) -> None:
    (need,) = g.evaluate({"anc_history": _anc(24), "fever": False}, AT).needed_facts
    assert need.detail == "anc_history has no result on 2026-11-22, 2026-11-23"


def test_an_empty_series_keeps_the_general_detail(g: interpreter.Guideline) -> None:
    (need,) = g.evaluate({"anc_history": [], "fever": False}, AT).needed_facts
    assert need.detail == "the value given is not enough (e.g. an empty series)"


def test_a_complete_window_needs_nothing(g: interpreter.Guideline) -> None:
    r = g.evaluate({"anc_history": _anc(22, 23, 24), "fever": False}, AT)
    assert r.status == "complete" and r.recommendation_ids() == ["stop"]
