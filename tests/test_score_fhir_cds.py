"""The score in the FHIR GuidanceResponse / RequestGroup and in the CDS Hooks card detail (Khorana review
finding 7): the value (or bounds) and each item's points, as data (Parameters) and in words (notes, card)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import interpreter

pytest.importorskip("fastapi")

from interpreter.ext.cdshooks.cards import cannot_decide_card, recommendation_card
from interpreter.ext.fhir.evaluate import FhirEvaluation
from interpreter.ext.fhir.outputs import fhir_bundle

ROOT = Path(__file__).resolve().parent.parent
KHORANA = interpreter.load(str(ROOT / "guidelines/khorana/khorana.guideline.yaml"))
AT = datetime(2026, 11, 24, 9, tzinfo=UTC)
DRAWN = "2026-11-23T08:00:00Z"


def q(value: float, unit: str) -> dict[str, object]:
    return {"value": value, "unit": unit, "at": DRAWN}


HIGH = {"on_anticoagulant": False, "inpatient": False, "pre_chemotherapy_counts": True, "age": 60,
        "site": "stomach", "platelets": q(420, "10*9/L"), "hemoglobin": q(12, "g/dL"),
        "red_cell_growth_factors": False, "leukocytes": q(8, "10*9/L"), "bmi": q(25, "kg/m2")}


def _resources(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}


def test_guidance_response_has_the_score_as_parameters_and_notes() -> None:
    bundle = fhir_bundle(KHORANA.evaluate(HIGH, as_of=AT))
    res = _resources(bundle)
    params = res["Parameters"]
    gr = res["GuidanceResponse"]
    url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is params)
    assert gr["outputParameters"] == {"reference": url}
    [score] = params["parameter"]
    assert score["name"] == "khorana"
    assert score["part"][0] == {"name": "value", "valueDecimal": 3}
    items = [p for p in score["part"] if p["name"] == "item"]
    assert [i["part"][1] for i in items] == [{"name": "points", "valueDecimal": v} for v in (2, 1, 0, 0, 0)]
    assert items[1]["part"][0] == {"name": "label", "valueString": "platelets 350 x10^9/L or more"}
    note = gr["note"][-1]["text"]
    assert note.startswith("Score khorana = 3; 2 points: primary site") and "1 point: platelets 350" in note
    assert res["RequestGroup"]["note"] == [{"text": note}]


def test_unknown_items_carry_bounds_and_needs() -> None:
    facts = {k: v for k, v in HIGH.items() if k not in ("bmi", "leukocytes")}
    res = _resources(fhir_bundle(KHORANA.evaluate(facts, as_of=AT)))
    [score] = res["Parameters"]["parameter"]
    assert [p["name"] for p in score["part"][:2]] == ["min", "max"]  # no value: not every item known
    bmi = [p for p in score["part"] if p["name"] == "item"][4]["part"]
    assert {"name": "needs", "valueString": "bmi"} in bmi and {"name": "max", "valueDecimal": 1} in bmi
    assert "khorana = 3 to 5 (not every item is known)" in res["GuidanceResponse"]["note"][-1]["text"]


def test_a_guideline_without_scores_has_no_parameters() -> None:
    leuk = interpreter.load(str(ROOT / "guidelines/leukopenia/leukopenia.guideline.yaml"))
    bundle = fhir_bundle(leuk.evaluate({}, as_of=AT))
    assert "Parameters" not in _resources(bundle)
    assert "outputParameters" not in _resources(bundle)["GuidanceResponse"]


def _ev_and_service(facts: dict[str, Any]) -> tuple[Any, Any]:
    fhir = SimpleNamespace(provenance={}, asserted=set(facts), notes=(), bindings_hash="sha256:x")
    ev = FhirEvaluation(KHORANA.evaluate(facts, as_of=AT), fhir)
    service = SimpleNamespace(id="khorana", hook="patient-view", guideline=KHORANA,
                              bindings=SimpleNamespace(bindings={}))
    return ev, service


def test_the_card_detail_shows_the_score_and_each_items_points() -> None:
    ev, service = _ev_and_service(HIGH)
    [rec] = ev.result.recommendations
    card, _ = recommendation_card(rec, ev, service, None)
    detail = card["detail"]
    assert "**Score**: khorana = 3" in detail
    assert "- 2 points: primary site" in detail and "- 1 point: platelets 350 x10^9/L or more" in detail
    assert "- 0 points: BMI 35 kg/m2 or more" in detail


def test_the_cannot_decide_card_shows_the_bounds() -> None:
    ev, service = _ev_and_service({k: v for k, v in HIGH.items() if k not in ("site",)})
    card, _ = cannot_decide_card(ev, service)
    assert "**Score**: khorana = 1 to 3 (not every item is known)" in card["detail"]
    assert "- 0-2 points (unknown, needs site): primary site" in card["detail"]
