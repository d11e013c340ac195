"""Issue 8 section 7: thresholds outside the plausible range, constant conditions, chains mixing == and !=
(interpreter/analysis/conditions.py), through the real loader."""

from __future__ import annotations

import pathlib

import pytest

from interpreter.analysis import conditions
from interpreter.compiler.loader import analyze_file

GUIDELINE = """\
id: conditions-test
version: "1.0.0"
title: Conditions test
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test Author}]
references: {EX: {citation: Example.}}
inputs:
  anc:
    {type: quantity, description: ANC, unit: "10*9/L", accepted_units: [/uL], plausible: {min: 0, max: 100}}
  wbc: {type: quantity, description: WBC, unit: "10*9/L", plausible: {min: 0, max: 500}}
  age: {type: number, description: Age in years, plausible: {min: 0, max: 130}}
  fever: {type: boolean, description: Fever}
  cause: {type: code, description: Cause, values: [chemotherapy, clozapine, other]}
  last_chemo_at: {type: datetime, description: Last chemotherapy}
  history:
    type: series
    description: ANC history
    unit: 10*9/L
    plausible: {min: 0, max: 100}
derived:
  high: {description: High, type: boolean, expr: wbc > 11}
  ratio:
    description: Ratio
    type: number
    expr: "anc / q(1, '10*9/L')"
start: n
nodes:
  - id: n
    kind: collect
    branches:
      - when: "COND"
        then: r
      - when: anc < 1 and wbc < 2 and age < 50 and fever and cause == 'other'
          and hours_since(last_chemo_at) < 1
        then: s
recommendations:
  - {id: r, text: R., cite: [EX]}
  - {id: s, text: S., cite: [EX]}
"""


def codes_for(tmp_path: pathlib.Path, cond: str) -> list[tuple[str, str, str | None]]:
    f = tmp_path / "c.guideline.yaml"
    f.write_text(GUIDELINE.replace("COND", cond), "utf-8")
    analysis = analyze_file(f)
    return [(d.code, d.message, d.hint) for d in analysis.diagnostics
            if d.code not in ("unused-input",) and (d.path[:3] == ("nodes", 0, "branches") or not d.path)]


DEAD_FALSE = ["1 > 2", "false", "cause in []", "anc < 0", "anc > 100", "not fever and fever",
              "cause == 'chemotherapy' and cause == 'other'", "anc < 0.5 and (anc > 1 or wbc < 0)",
              "age < 0 and fever", "anc < q(0, '/uL')", "high and not high", "cause not in ['chemotherapy', "
              "'clozapine', 'other']"]
DEAD_TRUE = ["anc >= 0", "anc <= 100", "fever or not fever", "anc < 0.5 or anc >= 0.5", "1 < 2",
             "cause in ['chemotherapy', 'clozapine', 'other']", "cause != 'other' or cause == 'other'",
             "0 <= age <= 130", "age >= 0 or hours_since(last_chemo_at) < 24",
             "anc < 1 or anc >= 1 or at_or_above_on_days(history, 1.5, 3)"]
ALIVE = ["anc < 0.5", "anc <= 0", "anc >= 100", "anc == 0", "0 < anc < 100", "fever", "cause == 'other'",
         "cause in []  or fever", "anc < 0.5 or wbc > 11", "age < 65 and not fever", "high",
         "ratio < 1", "anc * 2 < 1", "hours_since(last_chemo_at) < 24",
         "at_or_above_on_days(history, 1.5, 3)",
         "latest(history) < 0.5", "anc < q(500, '/uL')", "anc < wbc", "anc < 0.5 and anc < wbc"]


@pytest.mark.parametrize("cond", DEAD_FALSE)
def test_always_false_is_refused(tmp_path: pathlib.Path, cond: str) -> None:
    found = codes_for(tmp_path, cond)
    assert [c for c, _, _ in found] in (["condition-constant"], ["threshold-implausible"]), found
    if found[0][0] == "condition-constant":
        assert "always false" in found[0][1]


@pytest.mark.parametrize("cond", DEAD_TRUE)
def test_always_true_is_refused(tmp_path: pathlib.Path, cond: str) -> None:
    found = codes_for(tmp_path, cond)
    assert [c for c, _, _ in found] == ["condition-constant"], found
    assert "always true" in found[0][1] and '"true"' in (found[0][2] or "")


@pytest.mark.parametrize("cond", ALIVE)
def test_a_condition_that_can_go_both_ways_is_accepted(tmp_path: pathlib.Path, cond: str) -> None:
    assert codes_for(tmp_path, cond) == []


def test_the_literal_catch_all_is_allowed(tmp_path: pathlib.Path) -> None:
    assert codes_for(tmp_path, "true") == []


def test_a_threshold_in_the_wrong_unit_names_the_unit_that_fits(tmp_path: pathlib.Path) -> None:
    [(code, message, hint)] = codes_for(tmp_path, "anc < 500")
    assert code == "threshold-implausible"
    assert "500" in message and "0 to 100" in message
    assert hint is not None and "q(500, '/uL')" in hint


def test_an_implausible_threshold_no_unit_explains_gets_a_plain_hint(tmp_path: pathlib.Path) -> None:
    [(code, _, hint)] = codes_for(tmp_path, "anc > -1")
    assert code == "threshold-implausible"
    assert hint is not None and "q(" not in hint.split(";")[0] and "10*9/L" in hint


def test_impossible_conditions_are_reported_once_as_errors(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "c.guideline.yaml"
    f.write_text(GUIDELINE.replace("COND", "anc < 0.5 and anc > 1"), "utf-8")
    found = [d for d in analyze_file(f).diagnostics if d.path[:2] == ("nodes", 0)]
    assert [(d.code, d.severity) for d in found] == [("threshold-impossible", "error")]


@pytest.mark.parametrize("cond", ["0.2 != anc == 0.3", "anc == 0.3 != wbc", "fever == high != fever"])
def test_chains_mixing_equal_and_not_equal_are_refused(tmp_path: pathlib.Path, cond: str) -> None:
    found = codes_for(tmp_path, cond)
    assert "chained-equality" in [c for c, _, _ in found], found


def test_chains_of_one_kind_are_fine(tmp_path: pathlib.Path) -> None:
    assert codes_for(tmp_path, "0.2 < anc <= 0.3") == []


def test_past_the_combination_bound_nothing_is_said(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                                     ) -> None:
    cond = "anc < 0.5 or anc >= 0.5 or (fever and cause == 'other')"
    assert [c for c, _, _ in codes_for(tmp_path, cond)] == ["condition-constant"]
    # 3 cells of anc (0, 0.5, 100 and two midpoints: 5 values) x 2 x 3 = 30 combinations
    monkeypatch.setattr(conditions, "MAX_COMBINATIONS", 29)
    assert codes_for(tmp_path, cond) == []


def test_past_the_guideline_budget_nothing_is_said(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                                   ) -> None:
    monkeypatch.setattr(conditions, "MAX_EVALUATIONS", 1)
    assert codes_for(tmp_path, "fever or not fever") == []


def test_the_bundled_guidelines_have_no_dead_condition() -> None:
    root = pathlib.Path(__file__).resolve().parent.parent / "guidelines"
    for f in root.rglob("*.guideline.yaml"):
        codes = {d.code for d in analyze_file(f).diagnostics}
        assert not codes & {"condition-constant", "threshold-implausible", "chained-equality",
                            "threshold-impossible"}, (f, codes)


@pytest.mark.parametrize(("item", "code"), [
    ('{when: "anc >= 0", points: 1}', "condition-constant"),
    ('{when: "fever or not fever", points: 1}', "condition-constant"),
    ('{bands: [{when: "anc < 0.5", points: 2}, {when: "cause in []", points: 1}]}', "condition-constant"),
    ('{when: "anc < 500", points: 1}', "threshold-implausible"),
    ('{bands: [{when: "anc < 0.5", points: 2}, {when: "age > 200", points: 1}]}', "threshold-implausible"),
])
def test_score_item_conditions_get_the_same_checks(tmp_path: pathlib.Path, item: str, code: str) -> None:
    text = GUIDELINE.replace("COND", "fever").replace(
        "start: n", f"scores:\n  s:\n    description: S\n    items:\n      - {item}\n"
        "      - {input: fever, points: 1}\nstart: n")
    f = tmp_path / "c.guideline.yaml"
    f.write_text(text, "utf-8")
    found = [(d.code, d.path[:2]) for d in analyze_file(f).diagnostics if d.code != "unused-input"]
    assert found == [(code, ("scores", "s"))], found


def test_score_item_conditions_that_can_go_both_ways_are_accepted(tmp_path: pathlib.Path) -> None:
    text = GUIDELINE.replace("COND", "fever").replace(
        "start: n", "scores:\n  s:\n    description: S\n    items:\n"
        '      - {bands: [{when: "anc < 0.5", points: 2}, {when: "anc < 1", points: 1}]}\n'
        '      - {when: "age >= 65 or fever", points: 1}\nstart: n')
    f = tmp_path / "c.guideline.yaml"
    f.write_text(text, "utf-8")
    assert [d.code for d in analyze_file(f).diagnostics if d.code != "unused-input"] == []


def test_an_implausible_threshold_on_a_plain_number_is_reported(tmp_path: pathlib.Path) -> None:
    """A number input has no unit: the hint says so (it used to fail an internal assertion)."""
    [(code, message, hint)] = codes_for(tmp_path, "age > 200")
    assert code == "threshold-implausible" and "0 to 130" in message
    assert hint == "'age' takes values from 0 to 130: check the number and the comparison sign"
