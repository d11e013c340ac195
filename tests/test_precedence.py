"""Precedence between recommendations at evaluation: ``supersedes``, ``urgency``, each caution once."""

from __future__ import annotations

import json
import pathlib
import pickle
from datetime import UTC, datetime

import jsonschema
import pytest

import interpreter
from interpreter.output.results import result_text

HERE = pathlib.Path(__file__).parent
GUIDELINE = HERE / "fixtures" / "eval" / "precedence.guideline.yaml"
RESULT_SCHEMA = json.loads((HERE.parent / "schema" / "result.schema.json").read_text("utf-8"))
AS_OF = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load(GUIDELINE)


def facts(**over: object) -> dict[str, object]:
    d: dict[str, object] = {
        "anc": {"value": 3, "unit": "10*9/L"},
        "on_clozapine": False,
        "fever": False,
        "chain": False,
        "weight": {"value": 70, "unit": "kg"},
    }
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def test_without_the_superseding_recommendation_nothing_is_hidden(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(), AS_OF)
    assert r.recommendation_ids() == ["counts-3-months", "caution-holder"]
    assert r.superseded == ()
    assert "superseded" not in r.to_json()


def test_superseded_recommendation_is_hidden_and_listed_with_its_reason(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(on_clozapine=True, anc={"value": 1, "unit": "10*9/L"}), AS_OF)
    assert "counts-3-months" not in r.recommendation_ids()
    assert r.recommendation_ids() == ["clozapine-hold", "caution-holder"]
    assert [(s.id, s.by) for s in r.superseded] == [
        ("counts-3-months", (("clozapine-hold", "the drug rule sets the count schedule"),))
    ]
    js = r.to_json()
    assert js["superseded"] == [
        {
            "id": "counts-3-months",
            "title": "Counts every 3 months",
            "superseded_by": [{"id": "clozapine-hold", "reason": "the drug rule sets the count schedule"}],
        }
    ]
    jsonschema.validate(js, RESULT_SCHEMA)
    text = result_text(r)
    assert "SUPERSEDED" in text
    assert "[counts-3-months] superseded by [clozapine-hold]: the drug rule sets the count schedule" in text


def test_superseded_cautions_are_not_shown_and_its_dose_not_needed(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(on_clozapine=True, anc={"value": 1, "unit": "10*9/L"}, weight=None), AS_OF)
    # the superseded recommendation's dose would need the weight: it is neither computed nor asked for
    assert r.status == "complete"
    assert [n.name for n in r.needed_facts] == []
    texts = [c.text for c in r.cautions]
    assert "Only from the superseded one." not in texts
    # without the superseding recommendation the same dose needs the weight
    r2 = g.evaluate(facts(weight=None), AS_OF)
    assert r2.status == "incomplete" and [n.name for n in r2.needed_facts] == ["weight"]


def test_urgency_orders_results_then_walk_order(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(on_clozapine=True, anc={"value": 1, "unit": "10*9/L"}, fever=True), AS_OF)
    # the walk: caution-holder, clozapine-hold (urgent), antibiotics, cultures (both immediate)
    assert r.recommendation_ids() == ["antibiotics", "cultures", "clozapine-hold", "caution-holder"]
    js = r.to_json()
    assert [x.get("urgency") for x in js["recommendations"]] == ["immediate", "immediate", "urgent", None]
    jsonschema.validate(js, RESULT_SCHEMA)


def test_each_caution_is_shown_once_at_its_first_place(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(), AS_OF)
    texts = [(c.recommendation, c.text) for c in r.cautions]
    assert texts == [
        ("counts-3-months", "Same caution."),
        ("counts-3-months", "Only from the superseded one."),
        ("caution-holder", "Another caution."),
    ]
    # with the clozapine rule: counts-3-months is superseded; the first "Same caution." is caution-holder's
    r2 = g.evaluate(facts(on_clozapine=True, anc={"value": 1, "unit": "10*9/L"}), AS_OF)
    assert [(c.recommendation, c.text) for c in r2.cautions] == [
        ("clozapine-hold", "Same caution."),
        ("caution-holder", "Another caution."),
    ]


def test_a_superseded_recommendation_still_supersedes(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(anc={"value": 5, "unit": "10*9/L"}, chain=True), AS_OF)
    assert r.recommendation_ids() == ["rec-a"]
    assert [(s.id, s.by) for s in r.superseded] == [
        ("rec-c", (("rec-b", None),)),
        ("rec-b", (("rec-a", None),)),
    ]
    js = r.to_json()
    assert js["recommendations"][0].get("urgency") is None
    jsonschema.validate(js, RESULT_SCHEMA)


def test_result_with_superseded_pickles_equal(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(on_clozapine=True, anc={"value": 1, "unit": "10*9/L"}), AS_OF)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(r, protocol))
        assert back == r and back.superseded == r.superseded
    other = g.evaluate(facts(), AS_OF)
    assert other != r


CONDITIONAL = """\
id: precedence-conditional
version: "0.1.0"
title: Precedence inside conditional advice (tests only)
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: A. Author}]
references:
  REF: {citation: Example reference.}
inputs:
  anc: {type: quantity, unit: 10*9/L, plausible: {min: 0, max: 100}, description: ANC.}
  on_clozapine: {type: boolean, description: Taking clozapine.}
  fever: {type: boolean, description: Fever.}
start: all
nodes:
  - id: all
    kind: collect
    branches:
      - when: on_clozapine
        then: clozapine-hold
      - when: fever
        then: severity
  - id: severity
    kind: choice
    branches:
      - when: anc < 0.5
        then: [counts-3-months, inner-hold, antibiotics]
      - when: anc < 1
        then: [counts-3-months, later]
    otherwise: counts-3-months
    unknown: cannot-decide
  - id: later
    kind: choice
    branches:
      - when: anc < 0.8
        then: counts-3-months
    otherwise: inner-hold
    unknown: cannot-decide
recommendations:
  - id: counts-3-months
    text: Count every 3 months.
    cite: [REF]
    actions:
      - {type: monitoring, test: CBC, interval: every 3 months}
      - {type: caution, text: Only from the superseded one.}
  - id: clozapine-hold
    text: Hold clozapine; count daily.
    cite: [REF]
    supersedes:
      - {id: counts-3-months, reason: the drug rule sets the count schedule}
  - id: inner-hold
    text: Count daily while neutropenic.
    cite: [REF]
    supersedes: [counts-3-months]
  - id: antibiotics
    text: Antibiotics now.
    cite: [REF]
    urgency: immediate
"""


@pytest.fixture(scope="module")
def gc(tmp_path_factory: pytest.TempPathFactory) -> interpreter.Guideline:
    p = tmp_path_factory.mktemp("precedence") / "c.guideline.yaml"
    p.write_text(CONDITIONAL, encoding="utf-8")
    return interpreter.load(p)


def _alternatives(r: interpreter.Result) -> dict[str, tuple[list[str], list[str], list[str]]]:
    """when -> (ids shown, ids superseded, caution texts) of the first undecided node's alternatives."""
    (advice,) = r.conditional
    return {
        a.when: (
            [x.id for x in a.recommendations], [s.id for s in a.superseded], [c.text for c in a.cautions]
        )
        for a in advice.alternatives
    }


def test_an_alternative_never_shows_what_a_firm_recommendation_supersedes(gc: interpreter.Guideline) -> None:
    r = gc.evaluate({"on_clozapine": True, "fever": True}, AS_OF)
    assert r.recommendation_ids() == ["clozapine-hold"] and r.status == "incomplete"
    alts = _alternatives(r)
    # the firm hold supersedes the 3-monthly counts in every alternative: shown in none, listed in each,
    # its caution gone; the urgent antibiotics come first (the same urgency order as the firm result)
    assert alts["anc < 0.5"] == (["antibiotics", "inner-hold"], ["counts-3-months"], [])
    assert alts["anc < 1"] == ([], ["counts-3-months"], [])
    assert alts["otherwise"] == ([], ["counts-3-months"], [])
    first = r.conditional[0].alternatives[0].superseded[0]
    assert first.by == (("clozapine-hold", "the drug rule sets the count schedule"), ("inner-hold", None))
    jsonschema.validate(r.to_json(), RESULT_SCHEMA)


def test_a_superseder_in_the_same_or_an_enclosing_alternative_hides_it(gc: interpreter.Guideline) -> None:
    r = gc.evaluate({"on_clozapine": False, "fever": True}, AS_OF)
    alts = _alternatives(r)
    assert alts["anc < 0.5"] == (["antibiotics", "inner-hold"], ["counts-3-months"], [])
    assert alts["otherwise"] == (["counts-3-months"], [], ["Only from the superseded one."])
    # anc < 1 applies the counts, and its nested node `later` is undecided too: its alternatives apply
    # beside the enclosing one, so the counts it applies are shown (nothing there supersedes them) ...
    (middle,) = [a for a in r.conditional[0].alternatives if a.when == "anc < 1"]
    assert [x.id for x in middle.recommendations] == ["counts-3-months"]
    (nested,) = middle.conditional
    inner = {
        a.when: ([x.id for x in a.recommendations], [s.id for s in a.superseded]) for a in nested.alternatives
    }
    assert inner == {"anc < 0.8": (["counts-3-months"], []), "otherwise": (["inner-hold"], [])}
    js = r.to_json()
    jsonschema.validate(js, RESULT_SCHEMA)
    # the key is present only where something is superseded
    alternatives = js["conditional"][0]["alternatives"]
    assert ["superseded" in a for a in alternatives] == [True, False, False]


def test_without_precedence_the_alternative_shape_is_unchanged(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(anc=None), AS_OF)
    for advice in r.to_json()["conditional"]:
        for a in advice["alternatives"]:
            assert "superseded" not in a
