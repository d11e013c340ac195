"""The load-time conflict analysis (``recommendation-conflict``) and the ``supersedes`` checks."""

from __future__ import annotations

import json
import pathlib

import pytest

from interpreter.analysis import conflicts
from interpreter.analysis.checks import run_checks
from interpreter.analysis.registry import CheckInfo
from interpreter.compiler.loader import load_guideline_file
from interpreter.loading.model import build_model
from interpreter.loading.schema import validate_document
from interpreter.loading.source import load_yaml

REPO = pathlib.Path(__file__).parent.parent

HEAD = """\
id: conflict-test
version: "0.1.0"
title: Conflict test
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: A. Author}]
references:
  REF: {citation: Example.}
inputs:
  anc: {type: quantity, unit: 10*9/L, plausible: {min: 0, max: 100}, description: ANC}
  fever: {type: boolean, description: fever}
  cause: {type: code, values: [chemo, drug, other], description: cause}
start: top
"""

GIVE_5 = ("{type: medication, drug: Filgrastim, dose: {amount: 5, unit: ug}, route: subcutaneous, "
          "frequency: once daily}")
GIVE_10 = ("{type: medication, drug: filgrastim, dose: {amount: 10, unit: ug}, route: subcutaneous, "
           "frequency: once daily}")
HOLD = "{type: stop-drug, drug: filgrastim, mode: hold}"


def write(tmp_path: pathlib.Path, nodes: str, a_action: str, b_action: str,
          extra_b: str = "") -> pathlib.Path:
    text = HEAD + "nodes:\n" + nodes + f"""
recommendations:
  - id: rec-a
    text: A.
    cite: [REF]
    actions: [{a_action}]
  - id: rec-b
    text: B.
    cite: [REF]
{extra_b}    actions: [{b_action}]
  - id: rec-n
    text: Nothing.
    cite: [REF]
"""
    path = tmp_path / "g.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def conflict_diags(path: pathlib.Path) -> list[str]:
    """The messages of ``recommendation-conflict`` (other findings, e.g. an unused input, do not matter)."""
    data, sm, diags = load_yaml(path.read_bytes(), str(path))
    assert data is not None and not diags and validate_document(data, sm) == []
    model, diags = build_model(data, sm)
    assert model is not None and not diags
    found = [d for d in run_checks(model, CheckInfo()) if d.code == "recommendation-conflict"]
    assert all(d.severity == "warning" for d in found)
    return [d.message for d in found]


COLLECT_BOTH = """\
  - id: top
    kind: collect
    branches:
      - {when: anc < 1.0, then: rec-a}
      - {when: fever, then: rec-b}
"""


@pytest.mark.parametrize(
    ("a", "b", "what"),
    [
        (GIVE_5, GIVE_10, "different dose"),
        (GIVE_5, HOLD, "the other says hold filgrastim"),
        ("{type: monitoring, test: CBC, interval: daily}", "{type: monitoring, test: cbc, interval: weekly}",
         "CBC at different intervals"),
        (GIVE_5, GIVE_5.replace("subcutaneous", "intravenous"), "different route"),
        (GIVE_5, GIVE_5.replace("once daily", "twice daily"), "different frequency"),
    ],
)
def test_each_kind_of_conflict_is_found(tmp_path: pathlib.Path, a: str, b: str, what: str) -> None:
    found = conflict_diags(write(tmp_path, COLLECT_BOTH, a, b))
    assert len(found) == 1 and what in found[0] and "'rec-a' and 'rec-b'" in found[0], found


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (GIVE_5, GIVE_5),  # the same medication is no conflict
        # no dose given: not compared
        (GIVE_5, "{type: medication, drug: filgrastim, frequency: once daily}"),
        ("{type: monitoring, test: CBC, interval: daily}",
         "{type: monitoring, test: ANC, interval: weekly}"),
        (GIVE_5, "{type: stop-drug, drug: clozapine, mode: hold}"),
    ],
)
def test_actions_that_do_not_conflict(tmp_path: pathlib.Path, a: str, b: str) -> None:
    assert conflict_diags(write(tmp_path, COLLECT_BOTH, a, b)) == []


def test_supersedes_resolves_a_conflict_either_way(tmp_path: pathlib.Path) -> None:
    assert conflict_diags(write(tmp_path, COLLECT_BOTH, GIVE_5, HOLD, "    supersedes: [rec-a]\n")) == []


@pytest.mark.parametrize(
    "nodes",
    [
        # two branches of one choice node: one evaluation takes one
        """\
  - id: top
    kind: choice
    branches:
      - {when: anc < 1.0, then: rec-a}
      - {when: fever, then: rec-b}
    otherwise: rec-n
    unknown: cannot-decide
""",
        # ranges of one fact that do not meet, in different nodes
        """\
  - id: top
    kind: collect
    branches:
      - {when: "true", then: [left, right]}
  - id: left
    kind: collect
    branches:
      - {when: anc < 1.0 and fever, then: rec-a}
  - id: right
    kind: collect
    branches:
      - {when: "anc >= q(1500, '/uL')", then: rec-b}
""",
        # codes that exclude each other; an earlier branch false in a choice node
        """\
  - id: top
    kind: collect
    branches:
      - {when: cause == 'chemo', then: rec-a}
      - {when: "true", then: pick}
  - id: pick
    kind: choice
    branches:
      - {when: "cause in ['chemo', 'drug']", then: rec-n}
      - {when: fever, then: rec-b}
    otherwise: rec-n
    unknown: cannot-decide
""",
        # a boolean fact true on one path and false on the other (`not (a or b)`)
        """\
  - id: top
    kind: collect
    branches:
      - {when: fever and anc < 2, then: rec-a}
      - {when: "true", then: other}
  - id: other
    kind: collect
    branches:
      - {when: "not (fever or cause == 'drug')", then: rec-b}
      - {when: cause == 'drug', then: rec-n}
""",
    ],
)
def test_recommendations_that_cannot_apply_together_are_not_reported(
        tmp_path: pathlib.Path, nodes: str) -> None:
    assert conflict_diags(write(tmp_path, nodes, GIVE_5, HOLD)) == []


def test_unknown_targets_count_as_applying(tmp_path: pathlib.Path) -> None:
    nodes = """\
  - id: top
    kind: choice
    branches:
      - {when: anc < 1.0, then: rec-a}
    otherwise: rec-n
    unknown: [rec-b]
"""
    # rec-b applies when `anc < 1.0` is unknown, rec-a when it is true: one choice node, exclusive
    assert conflict_diags(write(tmp_path, nodes, GIVE_5, HOLD)) == []
    nodes2 = """\
  - id: top
    kind: collect
    branches:
      - {when: "true", then: [first, second]}
  - id: first
    kind: choice
    branches:
      - {when: anc < 1.0, then: rec-a}
    otherwise: rec-n
    unknown: cannot-decide
  - id: second
    kind: choice
    branches:
      - {when: fever, then: rec-n}
    otherwise: rec-n
    unknown: [rec-b]
"""
    found = conflict_diags(write(tmp_path, nodes2, GIVE_5, HOLD))
    assert len(found) == 1 and "top > second" in found[0], found


def test_the_path_bound_keeps_the_analysis_conservative(tmp_path: pathlib.Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = """\
  - id: top
    kind: collect
    branches:
      - {when: anc < 1.0, then: [mid1, mid2]}
      - {when: anc > 2.0, then: rec-b}
  - id: mid1
    kind: collect
    branches:
      - {when: fever, then: rec-a}
  - id: mid2
    kind: collect
    branches:
      - {when: fever, then: rec-a}
"""
    path = write(tmp_path, nodes, GIVE_5, HOLD)
    assert conflict_diags(path) == []  # anc < 1.0 and anc > 2.0 never meet
    # two paths reach rec-a; with a bound of one, one path that excludes nothing stands for both
    monkeypatch.setattr(conflicts, "MAX_PATHS", 1)
    found = conflict_diags(path)
    assert len(found) == 1
    monkeypatch.setattr(conflicts, "MAX_PATHS", 64)
    monkeypatch.setattr(conflicts, "MAX_PATH_PAIRS", 0)
    found = conflict_diags(path)
    assert len(found) == 1 and "not ruled out" in found[0]


def test_leukopenia_1_0_0_loads_and_reports_its_conflicts_as_warnings() -> None:
    path = REPO / "guidelines" / "leukopenia" / "leukopenia-1.0.0.guideline.yaml"
    g = load_guideline_file(path)  # warnings do not stop loading
    found = conflicts.find_conflicts(g.model)
    pairs = {(c.first.id, c.second.id) for c in found}
    # M13 of the clinical review: "give G-CSF now" beside "hold filgrastim around chemotherapy"
    assert ("fn-high-risk-gcsf-now", "gcsf-hold-around-chemo") in pairs
    # exclusive by the ANC: febrile neutropenia needs ANC < 1.0, the chemotherapy stop rule ANC >= 1.5
    assert ("fn-high-risk-gcsf-now", "gcsf-chemo-stop") not in pairs
    # exclusive by the treatment line (one choice node)
    assert not any("gcsf-chemo-not-yet" in p and "gcsf-hold-around-chemo" in p for p in pairs)
    assert len(found) == 11


def test_guideline_test_reports_the_conflict_pairs_its_cases_reached(tmp_path: pathlib.Path) -> None:
    from interpreter.output.test_reports import json_report, text_report
    from interpreter.tooling.testing import run_tests

    fixture = REPO / "tests" / "fixtures" / "invalid" / "recommendation-conflict" / "guideline.yaml"
    (tmp_path / "c.guideline.yaml").write_bytes(fixture.read_bytes())
    (tmp_path / "c.tests.yaml").write_text("""\
guideline: c.guideline.yaml
at: "2026-03-01T09:00:00Z"
cases:
  - name: both apply
    facts:
      {anc: {value: 1, unit: 10*9/L}, on_clozapine: true, fever: false, chain: false,
       weight: {value: 70, unit: kg}}
    expect: {includes: [counts-3-months, clozapine-hold]}
  - name: only the counts
    facts:
      {anc: {value: 3, unit: 10*9/L}, on_clozapine: false, fever: false, chain: false,
       weight: {value: 70, unit: kg}}
    expect: {excludes: [clozapine-hold]}
""", encoding="utf-8")
    report = run_tests([tmp_path])
    assert report.passed == 2 and report.failed == 0
    (f,) = report.files
    assert [c.conflicts for c in f.cases] == [(("counts-3-months", "clozapine-hold"),), ()]
    assert f.conflicts_reached() == {("counts-3-months", "clozapine-hold"): ["both apply"]}
    text = text_report(report)
    assert "conflict reached: counts-3-months / clozapine-hold (recommendation-conflict) in 1 case(s)" in text
    assert "both apply" in text and "only the counts" not in text
    data = json.loads(json_report(report))
    assert data["files"][0]["conflicts_reached"] == [
        {"recommendations": ["counts-3-months", "clozapine-hold"], "cases": ["both apply"]}
    ]
