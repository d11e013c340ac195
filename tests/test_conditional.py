"""Conditional advice (issue 8 §5): an undecided node lists the alternatives the known facts leave open, each
with what it would recommend, set apart from the firm recommendations; the result stays incomplete."""

from __future__ import annotations

import json
import pathlib
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from helpers import run_in_threads

import interpreter
from interpreter.output.results import result_text
from interpreter.result import ConditionalAdvice, Result
from interpreter.runtime import conditional as conditional_module

HERE = pathlib.Path(__file__).parent
FIXTURE = HERE / "fixtures" / "eval" / "conditional.guideline.yaml"
SCHEMA = json.loads((HERE.parent / "schema" / "result.schema.json").read_text(encoding="utf-8"))
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load(FIXTURE)


def facts(**over: Any) -> dict[str, Any]:
    """Known: weight, height, and every fact the tests below do not leave open; ``None`` removes one."""
    f: dict[str, Any] = {
        "weight": {"value": 70, "unit": "kg"},
        "height": {"value": 170, "unit": "cm"},
        "anc": {"value": Decimal("0.3"), "unit": "10*9/L"},
        "next_chemo_soon": False,
        "febrile": False,
        "divisor": 2,
        "a": False,
        "e": False,
    }
    f.update(over)
    return {k: v for k, v in f.items() if v is not None}


def advice(r: Result, node: str) -> ConditionalAdvice:
    return next(a for a in r.conditional if a.node == node)


def test_a_complete_result_has_no_conditional_advice(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(), AS_OF)
    assert r.status == "complete"
    assert r.conditional == ()
    assert r.to_json()["conditional"] == []
    assert "CONDITIONAL ADVICE" not in result_text(r)


def test_missing_timing_fact_gives_both_alternatives_with_the_dose(g: interpreter.Guideline) -> None:
    """The issue's example: without the next-chemotherapy fact, "if no chemotherapy is due within 24 h:
    filgrastim 350 ug ...; otherwise defer"."""
    r = g.evaluate(facts(next_chemo_soon=None), AS_OF)
    assert r.status == "incomplete"
    assert r.recommendation_ids() == ["profound", "no-fever-care", "watch"]  # firm ones only
    a = advice(r, "timing")
    assert (a.selects, a.needs, a.question) == ("first", ("next_chemo_soon",), "When to start filgrastim?")
    assert a.via == ("top", "severity", "timing")
    assert [(x.branch, x.when) for x in a.alternatives] == [(0, "not next_chemo_soon"), (-1, "otherwise")]
    now, defer = a.alternatives
    assert [rec.id for rec in now.recommendations] == ["filgrastim-now"]
    dose = now.recommendations[0].actions[0].dose
    assert dose is not None and dose.value == Decimal(350) and dose.status == "computed"
    assert [c.text for c in now.cautions] == ["Not within 24 hours of chemotherapy."]
    assert [rec.id for rec in defer.recommendations] == ["defer"]
    # never firm
    assert "filgrastim-now" not in r.recommendation_ids() and "defer" not in r.recommendation_ids()
    assert all(c.recommendation != "filgrastim-now" for c in r.cautions)
    # the cannot-decide entry and the needed fact are still there
    assert [c.node for c in r.cannot_decide] == ["timing"]
    assert [n.name for n in r.needed_facts] == ["next_chemo_soon"]


def test_alternatives_false_for_the_known_facts_are_left_out_and_the_first_true_ends_them(
    g: interpreter.Guideline,
) -> None:
    r = g.evaluate(facts(anc=None), AS_OF)
    a = advice(r, "severity")
    # anc < 0.5 (unknown), weight > 300 (false: left out), anc < 1.0 (unknown), weight > 10 (true: the last
    # one that can be taken; anc < 1.5 and otherwise cannot be)
    assert [x.when for x in a.alternatives] == ["anc < 0.5", "anc < 1.0", "weight > 10"]
    assert a.needs == ("anc",)
    profound, severe, watch = a.alternatives
    assert [x.id for x in profound.recommendations] == ["filgrastim-now", "profound"]
    # under "anc < 1.0" the timing node decides with the known facts: firm within the alternative
    assert [x.id for x in severe.recommendations] == ["filgrastim-now"]
    assert severe.conditional == ()
    assert [x.id for x in watch.recommendations] == ["watch"]


def test_otherwise_is_an_alternative_when_no_later_branch_holds(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(anc=None, weight={"value": 5, "unit": "kg"}), AS_OF)
    a = advice(r, "severity")
    assert [x.when for x in a.alternatives] == ["anc < 0.5", "anc < 1.0", "anc < 1.5", "otherwise"]
    assert [x.id for x in a.alternatives[-1].recommendations] == ["not-covered"]


def test_nested_undecided_nodes_are_conditional_inside_the_alternative(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(anc=None, next_chemo_soon=None), AS_OF)
    severe = advice(r, "severity").alternatives[1]
    assert severe.recommendations == ()
    (nested,) = severe.conditional
    assert nested.node == "timing" and nested.needs == ("next_chemo_soon",)
    assert [x.when for x in nested.alternatives] == ["not next_chemo_soon", "otherwise"]
    # severity is undecided, so timing is reached only inside its alternatives, never at the top level
    assert [x.node for x in r.conditional] == ["severity", "fever"]


def test_collect_node_lists_each_undecided_branch_and_otherwise(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(febrile=None, anc=None), AS_OF)
    a = advice(r, "fever")
    assert a.selects == "each"
    assert a.needs == ("anc", "febrile")
    assert [x.when for x in a.alternatives] == ["febrile", "anc < 0.1", "otherwise"]
    dose = a.alternatives[1].recommendations[0].actions[0].dose
    assert dose is not None and dose.status == "computed"


def test_collect_node_with_a_branch_taken_has_no_otherwise_alternative(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(febrile=True, anc=None), AS_OF)
    a = advice(r, "fever")
    assert [x.when for x in a.alternatives] == ["anc < 0.1"]
    assert "cultures" in r.recommendation_ids()


def test_dose_needing_a_missing_fact_is_cannot_compute_inside_the_alternative(
    g: interpreter.Guideline,
) -> None:
    r = g.evaluate(facts(next_chemo_soon=None, weight=None), AS_OF)
    dose = advice(r, "timing").alternatives[0].recommendations[0].actions[0].dose
    assert dose is not None and dose.status == "cannot-compute" and dose.needs == ("weight",)


def test_depth_limit_is_reported(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(a=None), AS_OF)
    top = advice(r, "deep-a")
    b = top.alternatives[0].conditional[0]
    c = b.alternatives[0].conditional[0]
    assert (top.node, b.node, c.node) == ("deep-a", "deep-b", "deep-c")
    deepest = c.alternatives[0]
    assert deepest.conditional == ()
    assert deepest.note is not None and "deep-d" in deepest.note
    assert f"{conditional_module.MAX_CONDITIONAL_DEPTH} levels" in deepest.note


def test_a_condition_failing_inside_an_alternative_does_not_fail_the_evaluation(
    g: interpreter.Guideline,
) -> None:
    r = g.evaluate(facts(e=None, divisor=0), AS_OF)
    a = advice(r, "split")
    failing, otherwise = a.alternatives
    assert failing.recommendations == () and failing.note is not None
    assert "expr-division-by-zero" in failing.note
    assert [x.id for x in otherwise.recommendations] == ["watch"]
    # the same facts with e true fail the evaluation, as before
    with pytest.raises(interpreter.EvaluationError):
        g.evaluate(facts(e=True, divisor=0), AS_OF)


def test_alternative_limit(g: interpreter.Guideline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conditional_module, "MAX_CONDITIONAL_ALTERNATIVES", 2)
    r = g.evaluate(facts(anc=None), AS_OF)
    a = advice(r, "severity")
    assert len(a.alternatives) == 2 and a.omitted == 1
    assert a.note is not None and "at most 2 alternatives" in a.note
    assert r.to_json()["conditional"][0]["omitted"] == 1


def test_step_limit(g: interpreter.Guideline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conditional_module, "MAX_CONDITIONAL_STEPS", 1)
    r = g.evaluate(facts(anc=None), AS_OF)
    notes = [x.note for x in advice(r, "severity").alternatives]
    # the first alternative's walk visits one node (timing); the next one finds the budget spent
    assert notes[0] is None
    assert notes[1] is not None and "at most 1 nodes" in notes[1]


def test_json_matches_the_schema_and_text_sets_it_apart(g: interpreter.Guideline) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    r = g.evaluate(facts(anc=None, next_chemo_soon=None, febrile=None, a=None, e=None, divisor=0), AS_OF)
    data = r.to_json()
    assert not list(validator.iter_errors(data))
    text = result_text(r)
    firm, _, rest = text.partition("IF ... - CONDITIONAL ADVICE")
    assert rest, "the conditional section is missing"
    assert "filgrastim-now" not in firm  # never among the firm recommendations
    conditional, _, _ = rest.partition("MISSING - cannot decide")
    assert "If `anc < 0.5` (profound):" in conditional
    assert "Else if `anc < 1.0` (severe):" in conditional
    assert "If `not next_chemo_soon` (no chemotherapy due within 24 h):" in conditional
    assert "Otherwise:" in conditional
    assert "If none of the above holds:" in conditional
    assert "give filgrastim" not in firm


def test_trace_and_coverage_do_not_count_alternatives(g: interpreter.Guideline) -> None:
    r = g.evaluate(facts(next_chemo_soon=None), AS_OF)
    visited = [s.node for s in r.trace]
    assert "timing" in visited
    assert r.trace[visited.index("timing")].outcome == "cannot-decide"
    assert visited.count("timing") == 1  # the alternatives' walks are not traced


def test_pickles_and_is_stable_across_threads(g: interpreter.Guideline) -> None:
    f = facts(anc=None, next_chemo_soon=None, febrile=None, a=None)
    expected = g.evaluate(f, AS_OF)
    assert expected.conditional
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(expected, protocol=protocol))
        assert back == expected and back.conditional == expected.conditional
        assert back.to_json() == expected.to_json()
    results = run_in_threads(lambda i: g.evaluate(f, AS_OF))
    assert all(x == expected for x in results)


def test_leukopenia_missing_anc_shows_the_severe_branch_as_conditional() -> None:
    """The leukopenia case of issue 8 §5: a chemotherapy patient without an ANC gets the filgrastim dose as
    conditional advice under "if G-CSF is indicated", and nothing firm."""
    leuk = interpreter.load("leukopenia", version="1.0.0")
    example = json.loads((HERE.parent / "examples" / "missing-anc.json").read_text(encoding="utf-8"))
    r = leuk.evaluate(interpreter.parse_facts_json(json.dumps(example)), AS_OF)
    assert r.status == "incomplete" and r.recommendations == ()
    treatment = advice(r, "treatment")
    first = treatment.alternatives[0]
    assert first.when == "gcsf_indicated"
    dose = first.recommendations[0].actions[0].dose
    assert dose is not None and dose.value == Decimal(350)
