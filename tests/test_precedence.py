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
