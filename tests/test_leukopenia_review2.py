"""Leukopenia 1.1.0 after the second clinical review (findings_revl): the parts of the fixes that are
action fields and texts rather than which recommendations apply (those are the `R2-*` cases in
leukopenia.tests.yaml)."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime
from typing import Any

import interpreter
from interpreter.compiler.loader import load_guideline_file

REPO = pathlib.Path(__file__).resolve().parent.parent

AS_OF = datetime(2026, 11, 24, 10, tzinfo=UTC)


def _rec(result: Any, rid: str) -> dict[str, Any]:
    recs = json.loads(json.dumps(result.to_json()))["recommendations"]
    return next(r for r in recs if r["id"] == rid)


def _aml_48h(next_chemo_at: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "anc": {"value": 0.4, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "wbc": {"value": 1.5, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "cause": "chemotherapy",
        "on_filgrastim": False,
        "age": 50,
        "weight": {"value": 70, "unit": "kg", "at": "2026-11-22T10:00:00Z"},
        "height": {"value": 175, "unit": "cm"},
        "febrile": {"value": False, "at": "2026-11-24T09:00:00Z"},
        "last_chemo_at": "2026-11-22T10:00:00Z",
        "long_acting_gcsf_this_cycle": False,
        "aml": True,
        "next_chemo_scheduled": next_chemo_at is not None,
    }
    if next_chemo_at is not None:
        facts["next_chemo_at"] = next_chemo_at
    return facts


def test_finding_14_sargramostim_stops_24_hours_before_the_next_chemotherapy_dose() -> None:
    g = interpreter.load("leukopenia")
    r = g.evaluate(_aml_48h("2026-11-25T16:00:00Z"), as_of=AS_OF)
    (action,) = _rec(r, "sargramostim-alternative")["actions"]
    assert action["drug"] == "sargramostim"
    assert "no later than 24 hours before" in action["until"]


def test_finding_9_gcsf_now_says_what_to_do_when_no_protocol_is_shown() -> None:
    g = interpreter.load("leukopenia")
    facts = {
        "anc": {"value": 0.05, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "wbc": {"value": 1.5, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "cause": "transplant",
        "on_filgrastim": False,
        "age": 50,
        "weight": {"value": 70, "unit": "kg", "at": "2026-11-22T10:00:00Z"},
        "febrile": {"value": True, "at": "2026-11-24T09:00:00Z"},
        "transplant_at": "2026-10-10T10:00:00Z",
    }
    r = g.evaluate(facts, as_of=AS_OF)
    ids = [x["id"] for x in json.loads(json.dumps(r.to_json()))["recommendations"]]
    assert "nc-bmt-after-window" in ids
    assert "If no G-CSF protocol is shown" in _rec(r, "fn-high-risk-gcsf-now")["text"]


def test_finding_15_last_chemo_at_is_the_end_of_administration() -> None:
    g = load_guideline_file(REPO / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml")
    assert "end of the infusion" in g.model.inputs["last_chemo_at"].description


def test_finding_10_c3_the_dose_warning_uses_the_reviewers_wording_for_small_subcutaneous_doses() -> None:
    """C3 / second review finding 10: a child's 72 ug subcutaneous dose is flagged with what to do (the
    syringe's limit, the vial or a pharmacy-prepared dose, never rounding up or omitting), not "review before
    giving"."""
    g = interpreter.load("leukopenia")
    facts = {
        "anc": {"value": 0.2, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "wbc": {"value": 3.0, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "cause": "congenital",
        "on_filgrastim": False,
        "age": 2,
        "weight": {"value": 12, "unit": "kg", "at": "2026-11-22T10:00:00Z"},
        "febrile": {"value": False, "at": "2026-11-24T09:00:00Z"},
    }
    r = g.evaluate(facts, as_of=AS_OF)
    warnings = [w for rec in r.recommendations for a in rec.actions if a.dose for w in a.dose.warnings]
    assert warnings == [
        "72 ug is below 180 ug: the prefilled syringe cannot accurately deliver less than 0.3 mL (180 mcg); "
        "use the vial or a pharmacy-prepared dose; do not round up or omit"
    ]
    # 1.0.0 keeps its own wording (its file, and so its hash, is unchanged)
    old = interpreter.load("leukopenia", version="1.0.0")
    assert old.content_hash != g.content_hash


def test_a_dose_warning_without_the_authors_words_says_review_before_giving() -> None:
    g = interpreter.load("leukopenia", version="1.0.0")
    facts = {
        "anc": {"value": 0.2, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "wbc": {"value": 3.0, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"},
        "cause": "congenital",
        "on_filgrastim": False,
        "age": 2,
        "weight": {"value": 12, "unit": "kg", "at": "2026-11-22T10:00:00Z"},
        "febrile": {"value": False, "at": "2026-11-24T09:00:00Z"},
        "on_prophylaxis": False,
        "luq_or_shoulder_pain": False,
    }
    r = g.evaluate(facts, as_of=AS_OF)
    warnings = [w for rec in r.recommendations for a in rec.actions if a.dose for w in a.dose.warnings]
    assert warnings and all(w.endswith(": review before giving") for w in warnings)
