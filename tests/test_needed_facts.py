"""Needed facts are the facts that could settle an undecided condition (Khorana clinical review, finding 5):
a fact that cannot change the answer, whatever the others turn out to be, is not asked for. Past the
completion bounds (or where a fact has no completion domain) every unknown fact is asked for, as before."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime
from typing import Any

import pytest

import interpreter
from interpreter.runtime.completion import deciding

AT = datetime(2026, 11, 24, 9, tzinfo=UTC)

HEAD = """\
id: needs
version: "1.0.0"
title: Needed facts
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test Author}]
references: {EX: {citation: Example.}}
inputs:
  a: {type: boolean, description: a}
  b: {type: boolean, description: b}
  c: {type: boolean, description: c}
  n: {type: number, description: n, plausible: {min: 0, max: 10}}
  x: {type: number, description: x, plausible: {min: 0, max: 10}}
  site: {type: code, description: site, values: [lung, stomach, other]}
scores:
  sc:
    description: a score
    items:
      - {label: site, input: site, points: {stomach: 2, lung: 1}}
      - {label: a or b, when: a or b, points: 1}
      - {label: c, when: c, points: 1}
start: n1
nodes:
  - {id: n1, kind: collect, branches: [{when: "COND", then: [ra]}], otherwise: [rb]}
recommendations:
  - {id: ra, text: A., cite: [EX]}
  - {id: rb, text: B., cite: [EX]}
"""


def evaluate(tmp_path: pathlib.Path, cond: str, facts: dict[str, Any]) -> dict[str, Any]:
    f = tmp_path / "g.guideline.yaml"
    f.write_text(HEAD.replace("COND", cond), "utf-8")
    result = interpreter.load(f).evaluate(facts, AT)
    data: dict[str, Any] = json.loads(json.dumps(result.to_json(), default=str))
    return data


def needs(data: dict[str, Any]) -> list[str]:
    return [n["name"] for n in data["needed_facts"]]


@pytest.mark.parametrize(("cond", "facts", "want", "before"), [
    # a known fact makes another irrelevant, though the condition still reads it
    ("a or (n > 5 and b)", {"n": 3}, ["a"], ["a", "b"]),
    # b cancels out: (a and b) or (a and not b) is a
    ("(a and b) or (a and not b)", {}, ["a"], ["a", "b"]),
    # through a score: with a true, the "a or b" item gives its point whatever b is
    ("sc >= 3", {"a": True, "site": "lung"}, ["c"], ["b", "c"]),
    ("sc >= 3", {"b": True}, ["c", "site"], ["a", "c", "site"]),
    # every unknown fact can matter: all are asked
    ("a and b", {}, ["a", "b"], ["a", "b"]),
    # x has no completion domain (arithmetic): every unknown fact, as before
    ("(a and b) or (a and not b) or x * 2 > 4", {}, ["a", "b", "x"], ["a", "b", "x"]),
])
def test_only_the_facts_that_could_settle_it(tmp_path: pathlib.Path, cond: str, facts: dict[str, Any],
                                             want: list[str], before: list[str]) -> None:
    # ``before``: what the engine asked for when every unknown fact read was needed (for the reader)
    all_facts = {"a": None, "b": None, "c": None, "n": None, "x": None, "site": None, **facts}
    data = evaluate(tmp_path, cond, {k: v for k, v in all_facts.items() if v is not None})
    assert data["status"] == "incomplete"
    assert needs(data) == want
    assert [c["needs"] for c in data["cannot_decide"]] == [want]
    assert set(want) <= set(before)


def test_a_score_item_lists_the_facts_that_change_its_points(tmp_path: pathlib.Path) -> None:
    data = evaluate(tmp_path, "sc >= 3", {"site": "lung"})
    items = {i["label"]: i for i in data["scores"][0]["items"]}
    assert items["a or b"].get("needs") == ["a", "b"]
    assert data["scores"][0]["needs"] == ["a", "b", "c"]


def test_deciding_over_a_table() -> None:
    # outcome = p, whatever q is
    rows = [((p, q), p) for p in (False, True) for q in (False, True)]
    assert deciding(("p", "q"), rows) == ("p",)
    # outcome = p xor q: both matter
    rows = [((p, q), p != q) for p in (False, True) for q in (False, True)]
    assert deciding(("p", "q"), rows) == ("p", "q")


KHORANA_BASE: dict[str, Any] = {
    "on_anticoagulant": False, "inpatient": False, "pre_chemotherapy_counts": True, "age": 60,
    "site": "lung",
    "leukocytes": {"value": 8, "unit": "10*9/L", "at": "2026-11-23T08:00:00Z"},
    "bmi": {"value": 25, "unit": "kg/m2", "at": "2026-11-20T10:00:00Z"},
}


@pytest.mark.parametrize("extra", [
    {"red_cell_growth_factors": True},  # haemoglobin missing: the item gives its point anyway
    {"hemoglobin": {"value": 9, "unit": "g/dL", "at": "2026-11-23T08:00:00Z"}},  # growth factors missing
])
def test_khorana_asks_only_for_what_can_change_the_band(extra: dict[str, Any]) -> None:
    result = interpreter.load("khorana").evaluate({**KHORANA_BASE, **extra}, AT)
    data = result.to_json()
    assert [n["name"] for n in data["needed_facts"]] == ["platelets"]
    assert [c["needs"] for c in data["cannot_decide"]] == [["platelets"]]
    assert [a["needs"] for a in data["conditional"]] == [["platelets"]]
