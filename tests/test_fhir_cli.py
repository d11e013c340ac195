"""`guideline fhir-facts`, `guideline evaluate --fhir` and `--format fhir` (issue 10, parts 2 and 4)."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner

from interpreter.cli import main

HERE = pathlib.Path(__file__).resolve().parent
DEMO = str(HERE / "fixtures" / "fhir" / "demo.guideline.yaml")
AT = ["--at", "2026-11-24T09:00:00Z"]
LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"


def _bundle(tmp_path: pathlib.Path, anc: float = 0.4) -> str:
    entries = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "1955-03-02"},
        {
            "resourceType": "Observation",
            "id": "anc1",
            "meta": {"versionId": "2"},
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": LOINC, "code": "751-8"}]},
            "effectiveDateTime": "2026-11-24T06:00:00Z",
            "valueQuantity": {"value": anc, "system": UCUM, "code": "10*9/L"},
        },
        {
            "resourceType": "Observation",
            "id": "bad",
            "status": "entered-in-error",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": LOINC, "code": "751-8"}]},
            "effectiveDateTime": "2026-11-24T07:00:00Z",
            "valueQuantity": {"value": 4, "system": UCUM, "code": "10*9/L"},
        },
        {
            "resourceType": "Observation",
            "id": "w1",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
            "effectiveDateTime": "2026-11-20T08:00:00Z",
            "valueQuantity": {"value": 154, "unit": "lbs"},
        },
    ]
    p = tmp_path / "bundle.json"
    p.write_text(
        json.dumps(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}
        ),
        encoding="utf-8",
    )
    return str(p)


def test_fhir_facts_prints_facts_provenance_and_notes(tmp_path: pathlib.Path) -> None:
    r = CliRunner().invoke(main, ["fhir-facts", DEMO, _bundle(tmp_path), *AT])
    assert r.exit_code == 0, r.output
    assert "anc = " in r.output and "Observation/anc1/_history/2" in r.output
    assert "status 'entered-in-error'" in r.output and "asserted by the user: febrile" in r.output
    r = CliRunner().invoke(main, ["fhir-facts", DEMO, _bundle(tmp_path), *AT, "--format", "json"])
    doc = json.loads(r.output)
    assert doc["facts"]["weight"] == {"value": 154, "unit": "[lb_av]", "at": "2026-11-20T08:00:00Z"}
    assert doc["provenance"]["age"] == [{"resourceType": "Patient", "id": "p1"}]
    assert doc["bindings_hash"].startswith("sha256:")


def test_an_unreadable_bundle_is_exit_2_never_a_traceback(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "x.json"
    for text in ("{", '{"resourceType": "Patient"}', "[" * 200):
        p.write_text(text, encoding="utf-8")
        r = CliRunner().invoke(main, ["fhir-facts", DEMO, str(p), *AT])
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output


def test_bad_site_bindings_are_exit_2_located(tmp_path: pathlib.Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("guideline: fhir-demo\nbindings:\n  anc: {resource: Patient}\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["fhir-facts", DEMO, _bundle(tmp_path), *AT, "--bindings", str(site)])
    assert r.exit_code == 2 and "site.yaml:3" in r.output and "input-fhir-binding" in r.output


def test_evaluate_from_fhir_json_carries_the_bindings_hash_and_provenance(tmp_path: pathlib.Path) -> None:
    asserted = tmp_path / "asserted.json"
    asserted.write_text('{"febrile": {"value": true, "at": "2026-11-24T08:00:00Z"}}', encoding="utf-8")
    r = CliRunner().invoke(
        main, ["evaluate", DEMO, str(asserted), "--fhir", _bundle(tmp_path), *AT, "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert [x["id"] for x in doc["recommendations"]] == ["severe"]
    assert doc["fhir"]["bindings_hash"].startswith("sha256:")
    assert doc["fhir"]["provenance"]["anc"][0]["id"] == "anc1"
    from interpreter.loading.schema import bundled_validator

    bundled_validator("result.schema.json").validate(doc)
    asserted.write_text(
        '{"anc": {"value": 3, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"}}', encoding="utf-8"
    )
    r = CliRunner().invoke(main, ["evaluate", DEMO, str(asserted), "--fhir", _bundle(tmp_path), *AT])
    assert r.exit_code == 2 and "read from FHIR" in r.output


def test_format_fhir_gives_guidance_response_request_group_and_draft_medication_request(
    tmp_path: pathlib.Path,
) -> None:
    asserted = tmp_path / "asserted.json"
    asserted.write_text('{"febrile": {"value": true, "at": "2026-11-24T08:00:00Z"}}', encoding="utf-8")
    r = CliRunner().invoke(
        main, ["evaluate", DEMO, str(asserted), "--fhir", _bundle(tmp_path), *AT, "--format", "fhir"]
    )
    doc = json.loads(r.output)
    kinds = [e["resource"]["resourceType"] for e in doc["entry"]]
    assert kinds == ["GuidanceResponse", "RequestGroup", "MedicationRequest"]
    gr, rg, mr = (e["resource"] for e in doc["entry"])
    assert gr["status"] == "success" and gr["result"]["reference"] == doc["entry"][1]["fullUrl"]
    assert rg["action"][0]["action"][0]["resource"]["reference"] == doc["entry"][2]["fullUrl"]
    assert (mr["status"], mr["intent"]) == ("draft", "proposal")
    assert mr["medicationCodeableConcept"]["coding"][0]["code"] == "68442"
    dosage = mr["dosageInstruction"][0]
    assert dosage["route"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "34206005",
        "display": "Subcutaneous route",
    }
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    assert dosage["doseAndRate"][0]["type"]["coding"][0]["code"] == "calculated"
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 349  # 5 ug/kg x 154 lb (69.853 kg)
    assert "Calculation" in mr["note"][0]["text"]


def test_format_fhir_without_facts_is_data_required(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "empty.json"
    p.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}', encoding="utf-8")
    r = CliRunner().invoke(main, ["evaluate", DEMO, "--fhir", str(p), *AT, "--format", "fhir"])
    assert r.exit_code == 2 and "--patient" in r.output  # no Patient: whose facts is not known
    r = CliRunner().invoke(
        main, ["evaluate", DEMO, "--fhir", str(p), "--patient", "p1", *AT, "--format", "fhir"]
    )
    assert r.exit_code == 1
    gr = json.loads(r.output)["entry"][0]["resource"]
    assert gr["status"] == "data-required"
    anc = next(d for d in gr["dataRequirement"] if d["mustSupport"] == ["anc"])
    assert anc["type"] == "Observation" and anc["codeFilter"][0]["code"] == [
        {"system": LOINC, "code": "751-8"}
    ]


def test_evaluate_needs_facts_or_fhir() -> None:
    r = CliRunner().invoke(main, ["evaluate", DEMO, *AT])
    assert r.exit_code == 2 and "--fhir" in r.output


def _mixed(tmp_path: pathlib.Path, *patients: str) -> str:
    """A Bundle with the given Patients, an ANC of 3.0 for p1 and a newer ANC of 0.3 for p2."""

    def anc(oid: str, pid: str, value: float, at: str) -> dict:
        return {
            "resourceType": "Observation",
            "id": oid,
            "status": "final",
            "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": LOINC, "code": "751-8"}]},
            "effectiveDateTime": at,
            "valueQuantity": {"value": value, "system": UCUM, "code": "10*9/L"},
        }

    entries = [{"resourceType": "Patient", "id": p, "birthDate": "1955-03-02"} for p in patients]
    entries += [anc("a1", "p1", 3.0, "2026-11-24T06:00:00Z"), anc("a2", "p2", 0.3, "2026-11-24T08:00:00Z")]
    p = tmp_path / "mixed.json"
    p.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in entries]}))
    return str(p)


def test_another_patients_resources_are_never_read_as_this_patients(tmp_path: pathlib.Path) -> None:
    # finding 1: the Bundle's only Patient is p1; p2's newer ANC of 0.3 is dropped with a note
    r = CliRunner().invoke(main, ["fhir-facts", DEMO, _mixed(tmp_path, "p1"), *AT, "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["patient"] == "p1" and doc["facts"]["anc"]["value"] == 3
    assert any(n["resource"] == "Observation/a2" and "another subject" in n["reason"] for n in doc["notes"])
    asserted = tmp_path / "asserted.json"
    asserted.write_text('{"febrile": false}')
    r = CliRunner().invoke(
        main, ["evaluate", DEMO, str(asserted), "--fhir", _mixed(tmp_path, "p1"), *AT, "--format", "json"]
    )
    assert json.loads(r.output)["fhir"]["provenance"]["anc"] == [{"resourceType": "Observation", "id": "a1"}]


@pytest.mark.parametrize("patients", [(), ("p1", "p2")])
def test_no_patient_or_several_need_the_patient_option(tmp_path: pathlib.Path, patients: tuple) -> None:
    bundle = _mixed(tmp_path, *patients)
    for cmd in (["fhir-facts", DEMO, bundle], ["evaluate", DEMO, "--fhir", bundle]):
        r = CliRunner().invoke(main, [*cmd, *AT])
        assert r.exit_code == 2 and "--patient" in r.output and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(main, ["fhir-facts", DEMO, bundle, "--patient", "p2", *AT, "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["facts"]["anc"]["value"] == 0.3
