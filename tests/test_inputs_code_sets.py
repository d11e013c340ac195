"""Sets of codes (issue 8 §3), end to end: a guideline with a ``code-set`` input, loaded and evaluated."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

import interpreter
from interpreter.errors import FactsError, GuidelineError

AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)

GUIDELINE = """\
id: code-set-example
version: "1.0.0"
title: Code sets (for tests only)
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
  causes:
    type: code-set
    description: Every cause that applies.
    values: [chemotherapy, clozapine, radiation]
start: causes-node
nodes:
  - id: causes-node
    kind: collect
    branches:
      - when: "'clozapine' in causes"
        then: clozapine
      - when: "any_of(causes, 'chemotherapy', 'radiation')"
        then: cytotoxic
    unknown: cannot-decide
recommendations:
  - id: clozapine
    text: Clozapine - counts daily.
    cite: [EXAMPLE]
  - id: cytotoxic
    text: Chemotherapy or radiation.
    cite: [EXAMPLE]
"""


@pytest.fixture(scope="module")
def guideline(tmp_path_factory: pytest.TempPathFactory) -> interpreter.Guideline:
    path = tmp_path_factory.mktemp("cs") / "cs.guideline.yaml"
    path.write_text(GUIDELINE, encoding="utf-8")
    return interpreter.load(path)


def _ids(result: interpreter.Result) -> list[str]:
    return sorted(r.id for r in result.recommendations)


def test_a_chemotherapy_patient_who_also_takes_clozapine_gets_both_rules(
    guideline: interpreter.Guideline,
) -> None:
    result = guideline.evaluate({"causes": ["chemotherapy", "clozapine"]}, as_of=AS_OF)
    assert result.status == "complete"
    assert _ids(result) == ["clozapine", "cytotoxic"]
    assert result.to_json()["facts"]["causes"] == {"value": ["chemotherapy", "clozapine"]}


def test_an_empty_set_is_known_and_decides(guideline: interpreter.Guideline) -> None:
    result = guideline.evaluate({"causes": []}, as_of=AS_OF)
    assert result.status == "complete" and _ids(result) == []


def test_a_missing_set_cannot_decide(guideline: interpreter.Guideline) -> None:
    result = guideline.evaluate({}, as_of=AS_OF)
    assert result.status == "incomplete"
    assert [n.name for n in result.needed_facts] == ["causes"]


def test_an_unknown_word_is_refused_with_a_suggestion(guideline: interpreter.Guideline) -> None:
    with pytest.raises(FactsError) as exc:
        guideline.evaluate({"causes": ["chemotherapy", "clozapin"]}, as_of=AS_OF)
    [d] = exc.value.diagnostics
    assert d.code == "fact-unknown-code" and d.path == ("causes", 1)
    assert "'causes'" in d.message and '"clozapin"' in d.message
    assert d.hint == "did you mean 'clozapine'?"


def test_a_huge_list_is_refused_before_reading(guideline: interpreter.Guideline) -> None:
    with pytest.raises(FactsError) as exc:
        guideline.evaluate({"causes": ["nonsense"] * 5000}, as_of=AS_OF)
    assert [d.code for d in exc.value.diagnostics] == ["fact-too-large"]


def test_the_guideline_with_a_code_set_pickles(guideline: interpreter.Guideline) -> None:
    again = pickle.loads(pickle.dumps(guideline))
    facts = {"causes": ["clozapine"]}
    assert again.evaluate(facts, as_of=AS_OF) == guideline.evaluate(facts, as_of=AS_OF)


def test_a_misspelt_word_in_a_condition_is_a_located_load_error(tmp_path: Path) -> None:
    text = GUIDELINE.replace(
        "any_of(causes, 'chemotherapy', 'radiation')", "any_of(causes, 'chemotherapy', 'radiaton')"
    )
    path = tmp_path / "bad.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GuidelineError) as exc:
        interpreter.load(path)
    [d] = exc.value.diagnostics
    line = text.splitlines().index("      - when: \"any_of(causes, 'chemotherapy', 'radiaton')\"") + 1
    assert d.code == "expr-unknown-code" and d.location.line == line
    assert d.hint == "did you mean 'radiation'?"


def test_a_code_set_with_a_plausible_range_is_refused_by_the_schema(tmp_path: Path) -> None:
    text = GUIDELINE.replace(
        "    values: [chemotherapy, clozapine, radiation]\n",
        "    values: [chemotherapy, clozapine, radiation]\n    plausible: {min: 0, max: 1}\n",
    )
    path = tmp_path / "bad.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GuidelineError) as exc:
        interpreter.load(path)
    assert [d.code for d in exc.value.diagnostics] == ["schema-key-not-allowed"]
