"""Issue 8 section 8: condition coverage (every atomic condition seen true, false and unknown)."""

from __future__ import annotations

import ast
import json
import pathlib

import pytest
from click.testing import CliRunner

from interpreter.cli import main
from interpreter.compiler.loader import load_guideline_file
from interpreter.tooling.condition_coverage import ConditionCoverage, atom_texts
from interpreter.tooling.testing import run_test_file, run_tests

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "fixtures" / "valid" / "example.guideline.yaml"


@pytest.mark.parametrize(("cond", "atoms"), [
    ("anc < 0.5", ["anc < 0.5"]),
    ("0.5 <= anc < 1.0", ["0.5 <= anc", "anc < 1.0"]),
    ("anc < 1.0 and (fever or not x)", ["anc < 1.0", "fever", "x"]),
    ("cause in ['a', 'b'] or at_or_above_on_days(h, 1.5, 3)", ["cause in ['a', 'b']",
                                                              "at_or_above_on_days(h, 1.5, 3)"]),
    ("true", []),
    ("fever or fever", ["fever"]),
    ("anc <= q(820, '/mm3')", ["anc <= q(820, '/mm3')"]),
])
def test_atoms(cond: str, atoms: list[str]) -> None:
    assert atom_texts(cond, ast.parse(cond, mode="eval")) == atoms


def write_cases(tmp_path: pathlib.Path, cases: str) -> pathlib.Path:
    f = tmp_path / "example.tests.yaml"
    f.write_text(f'guideline: {EXAMPLE}\nat: "2026-03-01T09:00:00Z"\ncases:\n{cases}', "utf-8")
    return f


CASE = """  - name: {name}
    facts: {facts}
    expect: {{status: {status}}}
"""
ANC = '{{value: {v}, unit: 10*9/L, at: "2026-03-01T08:00:00Z"}}'


def test_one_case_does_not_cover_a_condition(tmp_path: pathlib.Path) -> None:
    facts = "{anc: " + ANC.format(v=0.3) + ", fever: true, weight: {value: 70, unit: kg}}"
    f = write_cases(tmp_path, CASE.format(name="one", facts=facts,
                                          status="complete"))
    conditions: dict[str, ConditionCoverage] = {}
    outcome = run_test_file(f, {}, conditions=conditions)
    assert outcome.ok
    [cc] = conditions.values()
    missed = cc.missed()
    # severity#0 (anc < 0.5) was true only; severity#1 was not tested (the choice stopped at #0)
    assert missed["severity#0: anc < 0.5"] == ["false", "unknown"]
    assert missed["severity#1: anc >= 0.5"] == ["true", "false", "unknown"]
    assert missed["supportive#1: fever"] == ["false", "unknown"]
    assert 0 < cc.percent < 50


def test_true_false_and_unknown_cover_an_atom(tmp_path: pathlib.Path) -> None:
    cases = "".join(CASE.format(name=f"c{i}", facts=f, status=s) for i, (f, s) in enumerate([
        ("{anc: " + ANC.format(v=0.3) + ", fever: true, weight: {value: 70, unit: kg}}", "complete"),
        ("{anc: " + ANC.format(v=0.7) + ", fever: false}", "complete"),
        ("{anc: " + ANC.format(v=2) + "}", "complete"),
        ("{fever: true}", "incomplete"),
    ]))
    conditions: dict[str, ConditionCoverage] = {}
    assert run_test_file(write_cases(tmp_path, cases), {}, conditions=conditions).ok
    [cc] = conditions.values()
    missed = cc.missed()
    assert "severity#0: anc < 0.5" not in missed
    assert missed["supportive#1: fever"] == ["unknown"]  # no case reached it with fever missing
    assert cc.reached <= cc.total == 3 * len(cc.all_atoms())


def test_atoms_are_compiled_only_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    monkeypatch.setattr(ConditionCoverage, "__init__", lambda self, g: made.append(g))
    report = run_tests([ROOT / "guidelines"])
    assert report.conditions == {} and made == []


def test_the_cli_reports_and_enforces_condition_coverage() -> None:
    runner = CliRunner()
    low = runner.invoke(main, ["test", str(ROOT / "guidelines"), "--min-condition-coverage", "100"])
    assert low.exit_code == 1
    assert "condition coverage of" in low.output and "below the minimum 100%" in low.output
    ok = runner.invoke(main, ["test", str(ROOT / "guidelines"), "--min-condition-coverage", "50"])
    assert ok.exit_code == 0 and "condition coverage " in ok.output and "atoms" in ok.output
    js = runner.invoke(main, ["test", str(ROOT / "guidelines"), "--coverage", "--format", "json"])
    data = json.loads(js.output)
    assert data["condition_coverage"]
    for cc in data["condition_coverage"]:
        assert cc["outcomes"] == 3 * cc["atoms"] and 0 < cc["percent"] <= 100
    junit = runner.invoke(main, ["test", str(ROOT / "guidelines"), "--coverage", "--format", "junit"])
    assert '<property name="condition-coverage' in junit.output


def test_a_failed_evaluation_counts_nothing(tmp_path: pathlib.Path) -> None:
    f = write_cases(tmp_path, """  - name: bad
    facts: {anc: {value: 4000, unit: 10*9/L, at: "2026-03-01T08:00:00Z"}}
    expect: {error: {code: fact-implausible, fact: anc}}
""")
    conditions: dict[str, ConditionCoverage] = {}
    assert run_test_file(f, {}, conditions=conditions).ok
    [cc] = conditions.values()
    assert cc.reached == 0


def test_leukopenia_condition_coverage_is_measured() -> None:
    g = load_guideline_file(ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml")
    cc = ConditionCoverage(g)
    assert len(cc.all_atoms()) > 30


def test_conditions_on_scores_are_atoms_and_are_covered() -> None:
    report = run_tests([ROOT / "guidelines" / "khorana"], conditions=True)
    [cc] = report.conditions.values()
    # the branch conditions (the scope gate and the bands on the score), and the written conditions of the
    # score's items (the site item gives points to words of a code input: its rules are generated, not
    # written, so they are no atoms)
    assert {a.text for a in cc.all_atoms()} == {
        "khorana >= 3", "khorana >= 1", "on_anticoagulant", "inpatient", "pre_chemotherapy_counts",
        "age < 18", "site in ['myeloma', 'leukemia', 'other_hematologic']",
        "platelets >= 350", "hemoglobin < 10", "red_cell_growth_factors", "leukocytes > 11", "bmi >= 35",
    }
    assert cc.percent == 100.0, cc.missed()


SCORED = """id: scored
version: "1.0.0"
title: Score item coverage
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test Author}]
references: {EX: {citation: Example.}}
inputs:
  sbp: {type: quantity, description: SBP, unit: "mm[Hg]", plausible: {min: 20, max: 300}}
  fever: {type: boolean, description: Fever}
scores:
  s:
    description: a score with bands
    items:
      - bands:
          - {when: sbp < 90, points: 2}
          - {when: sbp < 100 and fever, points: 1}
start: n
nodes:
  - id: n
    kind: choice
    branches:
      - {when: s >= 2, then: r}
    otherwise: r
    unknown: cannot-decide
recommendations:
  - {id: r, text: R., cite: [EX]}
"""


def test_score_bands_are_tested_in_order_like_branches(tmp_path: pathlib.Path) -> None:
    """A band after the first that holds (or is unknown) is not tested, as the score computes it."""
    (tmp_path / "s.guideline.yaml").write_text(SCORED, encoding="utf-8")
    (tmp_path / "s.tests.yaml").write_text(
        'guideline: s.guideline.yaml\nat: "2026-03-01T09:00:00Z"\ncases:\n'
        "  - {name: low, facts: {sbp: {value: 80, unit: 'mm[Hg]'}, fever: true}, "
        "expect: {recommendations: [r]}}\n", encoding="utf-8")
    report = run_tests([tmp_path], conditions=True)
    [cc] = report.conditions.values()
    seen = {a.key: sorted(a.seen) for a in cc.all_atoms()}
    assert seen == {
        "n#0: s >= 2": ["true"],
        "score s item 1#0: sbp < 90": ["true"],
        "score s item 1#1: sbp < 100": [],
        "score s item 1#1: fever": [],
    }
