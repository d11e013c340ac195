"""The FHIR adapter's rules (issue 10, part 1), one behaviour per test, on
tests/fixtures/fhir/demo.guideline.yaml
(its bindings are in the guideline itself) and on leukopenia 1.0.0's shipped site file."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

import interpreter
from interpreter.errors import FactsError, GuidelineError
from interpreter.ext.fhir import (
    bindings_for,
    bundled_site_bindings,
    exact_age,
    facts_from_resources,
    load_site_bindings,
    parse_bundle,
    resources_of_bundle,
)
from interpreter.ext.fhir.bindings import UCUM_SYSTEM

HERE = pathlib.Path(__file__).resolve().parent
DEMO = HERE / "fixtures" / "fhir" / "demo.guideline.yaml"
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(scope="module")
def demo() -> Any:
    return bindings_for(interpreter.load(DEMO))


def obs(
    code: str = "751-8",
    value: Any = Decimal("0.4"),
    unit: str | None = "10*9/L",
    *,
    at: str | None = "2026-11-24T06:00:00Z",
    status: str = "final",
    rid: str = "o1",
    **extra: Any,
) -> dict:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "meta": {"versionId": "3"},
        "status": status,
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
    }
    if value is not None:
        q: dict[str, Any] = {"value": value}
        if unit is not None:
            q |= {"system": UCUM_SYSTEM, "code": unit}
        res["valueQuantity"] = q
    if at is not None:
        res["effectiveDateTime"] = at
    res.update(extra)
    return res


def run(b: Any, *resources: dict, **kw: Any) -> Any:
    kw.setdefault("patient_id", "p1")
    return facts_from_resources(b, list(resources), kw.pop("as_of", AS_OF), **kw)


def reasons(out: Any, name: str) -> str:
    return " | ".join(n.reason for n in out.notes if n.input == name)


# ---------------------------------------------------------------- statuses, values, provenance
def test_a_final_observation_becomes_the_fact_with_its_provenance(demo: Any) -> None:
    out = run(demo, obs())
    assert out.facts["anc"] == {"value": Decimal("0.4"), "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"}
    [src] = out.provenance["anc"]
    assert (src.resource_type, src.id, src.version) == ("Observation", "o1", "3")
    assert out.bindings_hash.startswith("sha256:")


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_amended_and_corrected_count(demo: Any, status: str) -> None:
    assert "anc" in run(demo, obs(status=status)).facts


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "preliminary", "registered"])
def test_other_statuses_are_dropped_and_recorded(demo: Any, status: str) -> None:
    out = run(demo, obs(status=status))
    assert "anc" not in out.facts
    assert f"status '{status}'" in reasons(out, "anc")


def test_a_dropped_newer_preliminary_does_not_hide_the_final(demo: Any) -> None:
    out = run(demo, obs(), obs(value=Decimal("3"), status="preliminary", at="2026-11-24T08:00:00Z", rid="o2"))
    assert out.facts["anc"]["value"] == Decimal("0.4")


def test_data_absent_reason_means_missing(demo: Any) -> None:
    out = run(demo, obs(value=None, dataAbsentReason={"coding": [{"code": "error"}]}))
    assert "anc" not in out.facts and "dataAbsentReason" in reasons(out, "anc")


def test_a_comparator_means_unknown_never_the_number(demo: Any) -> None:
    o = obs()
    o["valueQuantity"]["comparator"] = "<"
    out = run(demo, o)
    assert "anc" not in out.facts and "comparator" in reasons(out, "anc")


def test_a_value_that_is_not_a_quantity_drops_the_resource(demo: Any) -> None:
    o = obs(value=None, valueString="0.4")
    out = run(demo, o)
    assert "anc" not in out.facts and "valueString" in reasons(out, "anc")


# ---------------------------------------------------------------- times
def test_effective_instant_then_period_end_never_issued(demo: Any) -> None:
    o = obs(at=None, effectiveInstant="2026-11-24T05:00:00Z", issued="2026-11-24T08:59:00Z")
    assert run(demo, o).facts["anc"]["at"] == "2026-11-24T05:00:00Z"
    o = obs(
        at=None,
        effectivePeriod={"start": "2026-11-23T05:00:00Z", "end": "2026-11-23T06:00:00Z"},
        issued="2026-11-24T08:00:00Z",
    )
    assert run(demo, o).facts["anc"]["at"] == "2026-11-23T06:00:00Z"
    o = obs(at=None, issued="2026-11-24T08:00:00Z")  # only `issued`: no measurement time, dropped
    out = run(demo, o)
    assert "anc" not in out.facts and "no effective[x]" in reasons(out, "anc")


def test_an_observation_without_a_time_is_dropped_even_alone_and_without_max_age(demo: Any) -> None:
    # weight has no max_age in the demo: an undated value was used before (finding 8)
    out = run(demo, obs("29463-7", 70, "kg", at=None, issued="2020-06-10"))
    assert "weight" not in out.facts and "no effective[x]" in reasons(out, "weight")
    # an undated result next to a dated one may be the newest: the fact is missing, never guessed
    out = run(demo, obs(rid="a"), obs(rid="b", value=Decimal("2.0"), at=None))
    assert "anc" not in out.facts


def test_two_effective_times_make_the_resource_bad(demo: Any) -> None:
    o = obs(effectiveInstant="2026-11-24T05:00:00Z")  # and effectiveDateTime 06:00: invalid R4
    out = run(demo, o)
    assert "anc" not in out.facts and "more than one effective[x]" in reasons(out, "anc")


def test_a_date_only_time_counts_only_when_the_whole_day_is_inside_max_age(demo: Any) -> None:
    g = interpreter.load(DEMO)
    inside = run(demo, obs(at="2026-11-22"))  # 22 Nov 00:00 is 57 h before the as-of time (max 72 h)
    assert inside.facts["anc"]["at"] == "2026-11-22T00:00:00Z"
    assert "anc" not in {n.name for n in g.evaluate(inside.facts, as_of=AS_OF).needed_facts}
    straddling = run(demo, obs(at="2026-11-21"))  # 21 Nov 09:00 is exactly 72 h; the day starts before
    needed = {n.name: n.reason for n in g.evaluate(straddling.facts, as_of=AS_OF).needed_facts}
    assert needed["anc"] == "stale"
    exact = run(demo, obs(at="2026-11-21T09:30:00Z"))  # a timed result that day is inside
    assert "anc" not in {n.name for n in g.evaluate(exact.facts, as_of=AS_OF).needed_facts}


def test_a_time_without_offset_or_in_the_future_drops_the_resource(demo: Any) -> None:
    out = run(demo, obs(at="2026-11-24T06:00:00"))
    assert "anc" not in out.facts and "no time zone offset" in reasons(out, "anc")
    out = run(demo, obs(at="2026-11-24T10:00:00Z"))
    assert "anc" not in out.facts and "after the as-of time" in reasons(out, "anc")


# ---------------------------------------------------------------- choosing
def test_the_newest_result_wins(demo: Any) -> None:
    out = run(demo, obs(value=Decimal("2.0"), at="2026-11-23T06:00:00Z", rid="old"), obs(rid="new"))
    assert out.facts["anc"]["value"] == Decimal("0.4") and out.provenance["anc"][0].id == "new"


def test_same_instant_with_different_values_is_unknown(demo: Any) -> None:
    out = run(
        demo, obs(rid="a"), obs(value=Decimal("500"), unit="/uL", at="2026-11-24T07:00:00+01:00", rid="b")
    )
    assert "anc" not in out.facts and "different value" in reasons(out, "anc")


def test_same_instant_same_value_in_other_units_is_one_result(demo: Any) -> None:
    out = run(demo, obs(rid="a"), obs(value=400, unit="/uL", rid="b"))
    assert "anc" in out.facts and {s.id for s in out.provenance["anc"]} == {"a", "b"}


def test_a_date_only_result_that_may_be_as_new_with_another_value_is_unknown(demo: Any) -> None:
    out = run(demo, obs(rid="timed"), obs(value=Decimal("2.0"), at="2026-11-24", rid="dated"))
    assert "anc" not in out.facts


def test_a_bad_resource_that_may_be_newest_makes_the_fact_missing(demo: Any) -> None:
    older = obs(value=Decimal("2.0"), at="2026-11-23T06:00:00Z", rid="old")
    out = run(demo, older, obs(value="lots", rid="bad"))
    assert "anc" not in out.facts and "not a number" in reasons(out, "anc")
    out = run(demo, obs(rid="new"), obs(value="lots", at="2026-11-22T06:00:00Z", rid="bad-old"))
    assert out.facts["anc"]["value"] == Decimal("0.4")  # an older bad one only drops itself
    assert "dropped" in reasons(out, "anc")


def test_an_implausible_result_drops_only_itself_and_never_refuses(demo: Any) -> None:
    out = run(demo, obs(value=400, unit="10*9/L"))
    assert "anc" not in out.facts and "plausible" in reasons(out, "anc")
    interpreter.load(DEMO).evaluate(out.facts, as_of=AS_OF)  # no FactsError


def test_series_take_every_result_in_the_window_deduplicated(demo: Any) -> None:
    out = run(
        demo,
        obs(value=Decimal("1.6"), at="2026-11-23T06:00:00Z", rid="a"),
        obs(value=1600, unit="/uL", at="2026-11-23T06:00:00Z", rid="a-copy"),
        obs(value=Decimal("1.7"), rid="b"),
        obs(value=Decimal("0.1"), at="2026-11-10T06:00:00Z", rid="outside-window"),
    )
    assert [x["value"] for x in out.facts["anc_history"]] == [Decimal("1.6"), Decimal("1.7")]
    assert [s.id for s in out.provenance["anc_history"]] == ["a", "a-copy", "b"]
    r = interpreter.load(DEMO).evaluate(out.facts | {"anc": None}, as_of=AS_OF)
    assert r.status == "incomplete"


def test_a_series_with_a_comparator_result_is_missing(demo: Any) -> None:
    low = obs(value=Decimal("0.1"), at="2026-11-23T06:00:00Z", rid="low")
    low["valueQuantity"]["comparator"] = "<"
    out = run(demo, low, obs(value=Decimal("1.7"), rid="b"))
    assert "anc_history" not in out.facts


# ---------------------------------------------------------------- units
def test_ucum_code_is_used_when_the_system_is_ucum(demo: Any) -> None:
    out = run(demo, obs(value=400, unit="/uL"))
    assert out.facts["anc"]["unit"] == "/uL"


def test_non_ucum_units_go_through_the_alias_table_never_guessed(demo: Any) -> None:
    o = obs(value=400)
    o["valueQuantity"] = {"value": 400, "unit": "cells/uL"}
    assert run(demo, o).facts["anc"]["unit"] == "/uL"
    o["valueQuantity"] = {
        "value": 0.4,
        "unit": "K/uL",
        "system": "http://example.org/lab-units",
        "code": "K/uL",
    }
    assert run(demo, o).facts["anc"]["unit"] == "10*3/uL"
    o["valueQuantity"] = {"value": 0.4, "unit": "G/L"}  # UCUM reads G as gauss: not in the table
    out = run(demo, o)
    assert "anc" not in out.facts and "never guessed" in reasons(out, "anc")


def test_a_site_alias_table_extends_the_defaults(tmp_path: pathlib.Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text('guideline: fhir-demo\nunit_aliases:\n  "G/L": "10*9/L"\n', encoding="utf-8")
    g = interpreter.load(DEMO)
    b = bindings_for(g, load_site_bindings(site))
    o = obs()
    o["valueQuantity"] = {"value": 0.4, "unit": "G/L"}
    assert run(b, o).facts["anc"]["unit"] == "10*9/L"
    assert b.hash != bindings_for(g).hash


# ---------------------------------------------------------------- age
@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        ("1961-11-24", "2026-11-24", "65"),
        ("1961-11-25", "2026-11-24", "64.997260"),
        ("1961-11-23", "2026-11-24", "65.002739"),
        ("2000-02-29", "2026-02-28", "25.997260"),
        ("2000-02-29", "2026-03-01", "26"),
        ("2000-02-29", "2028-02-29", "28"),
    ],
)
def test_age_is_calendar_exact(born: str, on: str, age: str) -> None:
    assert exact_age(date.fromisoformat(born), date.fromisoformat(on)) == Decimal(age)


def test_age_from_birth_date_and_partial_birth_dates_are_missing(demo: Any) -> None:
    out = run(demo, {"resourceType": "Patient", "id": "p1", "birthDate": "1961-11-24"})
    assert out.facts["age"] == {"value": Decimal("65"), "unit": "a"}
    for partial in ("1961", "1961-11"):
        out = run(demo, {"resourceType": "Patient", "id": "p1", "birthDate": partial})
        assert "age" not in out.facts and "partial" in reasons(out, "age")


# ---------------------------------------------------------------- medications, conditions, asserted
def med(status: str, code: str = "68442", rt: str = "MedicationRequest", **extra: Any) -> dict:
    return {
        "resourceType": rt,
        "id": f"m-{status}",
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
        **extra,
    }


def test_an_active_medication_request_or_statement_is_true(demo: Any) -> None:
    assert run(demo, med("active")).facts["on_filgrastim"] is True
    current = {"start": "2026-11-01", "end": "2026-12-01"}
    assert run(demo, med("active", rt="MedicationStatement", effectivePeriod=current)).facts["on_filgrastim"]
    assert run(demo, med("completed")).facts["on_filgrastim"] is False  # absent_is_false in the binding
    out = run(demo, med("unknown"))
    assert "on_filgrastim" not in out.facts
    out = run(demo, med("entered-in-error"))
    assert out.facts["on_filgrastim"] is False and "entered-in-error" in reasons(out, "on_filgrastim")


def test_a_medication_reference_is_resolved_or_leaves_the_fact_missing(demo: Any) -> None:
    m = {
        "resourceType": "Medication",
        "id": "filg",
        "code": {"coding": [{"system": RXNORM, "code": "68442"}]},
    }
    req = med("active")
    del req["medicationCodeableConcept"]
    req["medicationReference"] = {"reference": "Medication/filg"}
    assert run(demo, req, m).facts["on_filgrastim"] is True
    assert "on_filgrastim" not in run(demo, req).facts  # cannot be resolved: not read as false


def test_absence_is_missing_unless_the_binding_says_false() -> None:
    g = interpreter.load("leukopenia", version="1.0.0")
    b = bindings_for(g, bundled_site_bindings(g))
    out = run(b)
    assert "on_filgrastim" not in out.facts and "on_filgrastim" in out.missing


def test_conditions_give_booleans_and_codes(demo: Any) -> None:
    def cond(code: str, system: str, clinical: str = "active", verification: str | None = None) -> dict:
        c: dict[str, Any] = {
            "resourceType": "Condition",
            "id": code,
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": system, "code": code}]},
            "clinicalStatus": {"coding": [{"code": clinical}]},
        }
        if verification:
            c["verificationStatus"] = {"coding": [{"code": verification}]}
        return c

    out = run(
        demo, cond("aml", "http://example.org/condition"), cond("congenital", "http://example.org/cause")
    )
    assert out.facts["aml"] is True and out.facts["cause"] == "congenital"
    out = run(demo, cond("chemo", "http://example.org/cause"), cond("congenital", "http://example.org/cause"))
    assert "cause" not in out.facts and "more than one value" in reasons(out, "cause")
    out = run(demo, cond("chemo", "http://example.org/cause", "resolved"))
    assert "cause" not in out.facts
    out = run(demo, cond("aml", "http://example.org/condition", verification="provisional"))
    assert "aml" not in out.facts


def test_asserted_inputs_are_listed_not_queried(demo: Any) -> None:
    out = run(demo)
    assert out.asserted == ("febrile",) and "febrile" not in out.facts


def test_resources_about_another_patient_are_dropped(demo: Any) -> None:
    out = run(demo, obs(subject={"reference": "Patient/other"}), patient_id="p1")
    assert "anc" not in out.facts and "another subject" in reasons(out, "anc")


# ---------------------------------------------------------------- documents and limits
def test_parse_bundle_is_strict_and_bounded() -> None:
    with pytest.raises(FactsError, match="twice"):
        parse_bundle('{"resourceType": "Bundle", "entry": [], "entry": []}')
    with pytest.raises(FactsError, match="not valid JSON"):
        parse_bundle('{"a": NaN}')
    with pytest.raises(FactsError, match="nests deeper"):
        parse_bundle("[" * 100 + "]" * 100)
    with pytest.raises(FactsError, match="not a FHIR Bundle"):
        resources_of_bundle(parse_bundle('{"resourceType": "Patient"}'))
    doc = parse_bundle(
        json.dumps(
            {
                "resourceType": "Bundle",
                "entry": [{"resource": {"resourceType": "Patient"}}, {"nothing": 1}, 5],
            }
        )
    )
    assert resources_of_bundle(doc) == [{"resourceType": "Patient"}]


def test_hostile_resources_never_raise(demo: Any) -> None:
    weird: list[Any] = [
        {"resourceType": "Observation", "code": None},
        {"resourceType": "Observation", "code": {"coding": 5}},
        obs(effectiveDateTime=5, at=None),
        obs(effectivePeriod={"end": "9999-12-31"}, at=None),
        obs(at="0001-01-01"),
        obs(value=True),
        obs(valueQuantity=[1]),
        obs(value=Decimal("1e999999")),
        {"resourceType": "Patient", "birthDate": 19611124},
        {"resourceType": "Patient", "birthDate": "2027-01-01"},
        {"resourceType": "MedicationRequest", "medicationReference": {"reference": "#x"}, "contained": 5},
        {"resourceType": "Condition", "clinicalStatus": "active", "code": {"coding": [{"system": 1}]}},
    ]
    out = run(demo, *weird)
    interpreter.load(DEMO).evaluate(out.facts, as_of=AS_OF)


def test_site_files_are_checked_and_located(tmp_path: pathlib.Path) -> None:
    g = interpreter.load(DEMO)
    site = tmp_path / "site.yaml"
    site.write_text(
        "guideline: fhir-demo\nbindings:\n  anc:\n    resource: Patient\n  anx:\n    asserted: true\n",
        encoding="utf-8",
    )
    with pytest.raises(GuidelineError) as info:
        bindings_for(g, load_site_bindings(site))
    got = [(d.code, d.location.line, d.message) for d in info.value.diagnostics]
    assert got[0][:2] == ("input-fhir-binding", 4) and "Patient" in got[0][2]
    assert got[1][:2] == ("input-fhir-binding", 5) and "did you mean 'anc'" in (
        info.value.diagnostics[1].hint or ""
    )
    site.write_text("guideline: leukopenia\n", encoding="utf-8")
    with pytest.raises(GuidelineError, match="not 'fhir-demo'"):
        bindings_for(g, load_site_bindings(site))
    site.write_text("guideline: fhir-demo\nbindings: {anc: {resource: Blood}}\n", encoding="utf-8")
    with pytest.raises(GuidelineError) as info:
        load_site_bindings(site)
    assert info.value.diagnostics[0].code.startswith("schema-")


def test_a_site_binding_replaces_the_guideline_binding_and_changes_the_hash(tmp_path: pathlib.Path) -> None:
    g = interpreter.load(DEMO)
    site = tmp_path / "site.yaml"
    site.write_text(
        "guideline: fhir-demo\nbindings:\n  anc:\n    resource: Observation\n    codes:\n"
        "      - {system: 'http://loinc.org', code: 26499-4}\n",
        encoding="utf-8",
    )
    b = bindings_for(g, load_site_bindings(site))
    assert b.bindings["anc"].origin == "site.yaml"
    assert "anc" not in run(b, obs()).facts and "anc" in run(b, obs(code="26499-4")).facts
    assert b.hash != bindings_for(g).hash


# ---------------------------------------------------------------- adversarial review of issue 10 (findings)
def test_the_patient_is_the_bundles_only_patient_and_others_are_dropped(demo: Any) -> None:
    p1 = {"resourceType": "Patient", "id": "p1", "birthDate": "1961-11-24"}
    mine = obs(rid="a", value=Decimal("3.0"), at="2026-11-24T06:00:00Z")
    theirs = obs(
        rid="b", value=Decimal("0.3"), at="2026-11-24T08:00:00Z", subject={"reference": "Patient/p2"}
    )
    out = facts_from_resources(demo, [p1, mine, theirs], AS_OF)  # no patient_id: the only Patient
    assert out.patient_id == "p1" and out.facts["anc"]["value"] == Decimal("3.0")
    assert "about another subject" in reasons(out, "anc")
    # a lone Observation of another patient, or two Patients, or none: never read as someone's facts
    with pytest.raises(FactsError, match="no Patient"):
        facts_from_resources(demo, [theirs], AS_OF)
    with pytest.raises(FactsError, match="2 Patient resources"):
        facts_from_resources(demo, [p1, {"resourceType": "Patient", "id": "p2"}, mine], AS_OF)
    out = facts_from_resources(
        demo, [p1, {"resourceType": "Patient", "id": "p2"}, theirs], AS_OF, patient_id="p2"
    )
    assert out.facts["anc"]["value"] == Decimal("0.3") and "age" not in out.facts
    with pytest.raises(FactsError, match="not a FHIR id"):
        facts_from_resources(demo, [p1], AS_OF, patient_id="p1/../x")


@pytest.mark.parametrize(
    "subject",
    [None, {"identifier": {"value": "MRN2"}}, {"reference": 5}, {"reference": "Group/g1"}, "Patient/p1"],
)
def test_a_subject_that_is_not_a_reference_to_the_patient_is_dropped(demo: Any, subject: Any) -> None:
    o = obs()
    if subject is None:
        del o["subject"]
    else:
        o["subject"] = subject
    m = med("active")
    m["subject"] = o.get("subject")
    out = run(demo, o, m)
    assert "anc" not in out.facts and "not known to be about Patient/p1" in reasons(out, "anc")
    assert out.facts.get("on_filgrastim") is not True and "not known to be about" in reasons(
        out, "on_filgrastim"
    )


def test_an_absolute_subject_counts_only_on_the_servers_base(demo: Any) -> None:
    o = obs(subject={"reference": "https://ehr.example/fhir/Patient/p1"})
    assert "anc" not in run(demo, o).facts
    assert "anc" in run(demo, o, server_base="https://ehr.example/fhir/").facts
    assert "anc" not in run(demo, o, server_base="https://other.example/fhir").facts


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"intent": "proposal"}, "not an order"),
        ({"intent": "plan"}, "not an order"),
        ({"doNotPerform": True}, "doNotPerform"),
    ],
)
def test_a_medication_request_that_is_not_an_order_to_give_it_is_not_receiving(
    demo: Any, extra: dict, why: str
) -> None:
    out = run(demo, med("active", **extra))
    assert out.facts["on_filgrastim"] is False and why in reasons(out, "on_filgrastim")


@pytest.mark.parametrize(
    "intent", ["order", "original-order", "reflex-order", "filler-order", "instance-order"]
)
def test_every_order_intent_counts(demo: Any, intent: str) -> None:
    assert run(demo, med("active", intent=intent)).facts["on_filgrastim"] is True


def test_a_medication_statement_counts_only_while_its_period_covers_the_as_of_time(demo: Any) -> None:
    def stmt(**extra: Any) -> dict:
        return med("active", rt="MedicationStatement", **extra)

    out = run(demo, stmt(effectivePeriod={"start": "2019-01-01", "end": "2020-01-01"}))
    assert out.facts["on_filgrastim"] is False and "does not cover" in reasons(out, "on_filgrastim")
    out = run(demo, stmt(effectivePeriod={"start": "2027-01-01"}))
    assert out.facts["on_filgrastim"] is False
    assert run(demo, stmt(effectivePeriod={"start": "2026-11-20T00:00:00Z"})).facts["on_filgrastim"] is True
    for unsure in ({}, {"effectiveDateTime": "2026-11-20"}, {"effectivePeriod": {"end": "2027-01-01"}}):
        out = run(demo, stmt(**unsure))
        assert "on_filgrastim" not in out.facts, unsure  # not known to be current: missing, never false


def test_a_unit_code_that_contradicts_the_unit_text_drops_the_result(demo: Any) -> None:
    o = obs(value=1200, unit=None, valueQuantity={"value": 1200, "code": "10*9/L", "unit": "cells/uL"})
    out = run(demo, o)
    assert "anc" not in out.facts and "name different units" in reasons(out, "anc")
    # the same unit spelled two ways is fine
    o = obs(unit=None, valueQuantity={"value": Decimal("1.2"), "code": "10*3/uL", "unit": "K/uL"})
    assert run(demo, o).facts["anc"]["value"] == Decimal("1.2")


def test_of_two_versions_the_highest_version_wins_with_a_note(demo: Any) -> None:
    v1 = obs(rid="o1", value=Decimal("1.2"), at="2026-11-24T06:00:00Z", meta={"versionId": "1"})
    v2 = obs(
        rid="o1", value=Decimal("5.0"), at="2026-11-24T05:00:00Z", status="corrected", meta={"versionId": "2"}
    )
    for order in ([v1, v2], [v2, v1]):
        out = run(demo, *order)
        assert out.facts["anc"]["value"] == Decimal("5.0") and out.facts["anc_history"] == [out.facts["anc"]]
        assert any("2 versions of Observation/o1" in n.reason for n in out.notes)
    # by lastUpdated when there is no numeric versionId
    a = obs(rid="o1", value=Decimal("1.2"), meta={"lastUpdated": "2026-11-24T07:00:00Z"})
    b = obs(rid="o1", value=Decimal("5.0"), meta={"lastUpdated": "2026-11-24T08:00:00Z"})
    assert run(demo, a, b).facts["anc"]["value"] == Decimal("5.0")
    # versions that cannot be ordered: none is used
    c = obs(rid="o1", value=Decimal("1.2"), meta={})
    out = run(demo, c, b)
    assert "anc" not in out.facts and any("cannot be ordered" in n.reason for n in out.notes)
    m1 = med("active", id="m1", meta={"versionId": "1"})
    m2 = med("completed", id="m1", meta={"versionId": "2"})
    assert run(demo, m1, m2).facts["on_filgrastim"] is False


def test_a_partial_search_never_reads_absence_or_a_cut_series(demo: Any) -> None:
    page = "the search page is partial (Bundle.link next)"
    out = run(demo, med("completed"), partial={"on_filgrastim": page, "anc_history": page})
    assert "on_filgrastim" not in out.facts and page in reasons(out, "on_filgrastim")
    out = run(demo, obs(), partial={"anc_history": page})
    assert "anc_history" not in out.facts and "anc" in out.facts
    # a single value: kept only when the page reaches past the newest time
    out = run(demo, obs(), partial={"anc": page})
    assert "anc" not in out.facts
    older = obs(rid="o0", value=Decimal("2.0"), at="2026-11-23T06:00:00Z")
    assert run(demo, obs(), older, partial={"anc": page}).facts["anc"]["value"] == Decimal("0.4")
