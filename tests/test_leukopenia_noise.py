"""Leukopenia 1.1.0, issue 9 noise items, third part: a FHIR host can send the set `causes` (bound,
asserted, with a note), and a series with a missing day names the day in the needed facts."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime
from typing import Any

import interpreter
from interpreter.ext.fhir import bindings_for, bundled_site_bindings, evaluate_fhir

ROOT = pathlib.Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"


def _observation(rid: str, code: str, at: str, value: float, unit: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "subject": {"reference": "Patient/p"}, "code": {"coding": [{"system": LOINC, "code": code}]},
            "effectiveDateTime": at,
            "valueQuantity": {"value": value, "system": UCUM, "code": unit}}


def test_every_input_of_1_1_0_is_bound_and_causes_is_asserted_with_a_note() -> None:
    g = interpreter.load("leukopenia")
    site = bundled_site_bindings(g)
    assert site is not None
    b = bindings_for(g, site)
    assert b.unbound == ()  # before: ('causes',)
    assert b.bindings["causes"].asserted
    site_file = ROOT / "interpreter" / "ext" / "fhir" / "sites" / "leukopenia-1.1.0.bindings.yaml"
    written = "causes:\n    asserted: true\n    note:" in site_file.read_text("utf-8")
    assert written or "note" in json.loads(b.bindings["causes"].canonical)


def test_a_fhir_host_sends_causes_and_gets_the_drug_rule() -> None:
    g = interpreter.load("leukopenia")
    site = bundled_site_bindings(g)
    assert site is not None
    resources = [
        {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01"},
        _observation("anc", "751-8", "2026-11-24T06:00:00Z", 0.8, "10*9/L"),
        _observation("wbc", "6690-2", "2026-11-24T06:00:00Z", 1.8, "10*9/L"),
        _observation("w", "29463-7", "2026-11-20T08:00:00Z", 70, "kg"),
    ]
    # on_filgrastim is read from FHIR (no active filgrastim order here: missing, never false)
    asserted = {"cause": "chemotherapy", "causes": ["clozapine"],
                "febrile": {"value": False, "at": "2026-11-24T08:00:00Z"}, "aml": False,
                "long_acting_gcsf_this_cycle": False, "last_chemo_at": "2026-11-22T09:00:00Z",
                "next_chemo_scheduled": False}
    out = evaluate_fhir(bindings_for(g, site), resources, AS_OF, asserted=asserted)
    ids = out.result.recommendation_ids()
    assert "clozapine-discontinue-permanently" in ids
    assert "causes" in out.fhir.asserted and "causes" not in out.fhir.unbound
    # the same facts without the set: no clozapine rule (the set is what brought it)
    alone = g.evaluate({**asserted, "causes": [], **out.fhir.facts}, AS_OF).recommendation_ids()
    assert "clozapine-discontinue-permanently" not in alone


def test_a_series_with_a_missing_day_names_the_day() -> None:
    g = interpreter.load("leukopenia")
    facts = {
        "anc": {"value": 1.8, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
        "anc_history": [{"value": 1.6, "unit": "10*9/L", "at": "2026-11-21T06:00:00Z"},
                        {"value": 1.8, "unit": "10*9/L", "at": "2026-11-22T06:00:00Z"},
                        {"value": 1.8, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"}],
        "cause": "chemotherapy", "on_filgrastim": True,
        "weight": {"value": 70, "unit": "kg", "at": "2026-11-20T08:00:00Z"},
        "last_chemo_at": "2026-11-14T09:00:00Z", "next_chemo_scheduled": False,
        "febrile": {"value": False, "at": "2026-11-24T08:00:00Z"},
    }
    r = g.evaluate(facts, AS_OF)
    need = {n.name: n for n in r.needed_facts}
    assert list(need) == ["anc_history"]
    assert need["anc_history"].detail == "anc_history has no result on 2026-11-23"
