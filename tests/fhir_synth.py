"""Test helper: a guideline test case's facts turned into a FHIR R4 Bundle, by the bindings in effect.

Each FHIR-bound fact becomes the resource its binding reads (an Observation per quantity or series result, a
Patient with the birth date that gives the age, an active MedicationRequest or Condition for true or for a
code); asserted and unbound facts are returned apart, as the user would assert them. A boolean bound to a
resource that is absent from the facts becomes a MedicationRequest of status `unknown` (so the fact stays
missing whatever `absent_is_false` says).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from interpreter.ext.fhir.bindings import UCUM_SYSTEM, Binding, BindingSet

_ids = itertools.count(1)


def _coding(pair: tuple[str, str]) -> dict[str, Any]:
    return {"system": pair[0], "code": pair[1]}


def observation(binding: Binding, value: Any, unit: str, at: str | None, **extra: Any) -> dict[str, Any]:
    code = sorted(binding.codes)[0]
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{next(_ids)}",
        "meta": {"versionId": "1"},
        "status": "final",
        "code": {"coding": [_coding(code)]},
        "valueQuantity": {"value": value, "system": UCUM_SYSTEM, "code": unit, "unit": unit},
    }
    if at is not None:
        res["effectiveDateTime"] = at
    res.update(extra)
    return res


def birth_date_for(age: Decimal, on: date) -> str:
    years = int(age)
    days = round((age - years) * 365)
    try:
        born = on.replace(year=on.year - years)
    except ValueError:  # 29 February
        born = date(on.year - years, 3, 1)
    return (born - timedelta(days=days)).isoformat()


def to_bundle(
    bindings: BindingSet, facts: dict[str, Any], as_of: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Bundle, asserted facts) for ``facts``."""
    entries: list[dict[str, Any]] = []
    asserted: dict[str, Any] = {}
    for name, value in facts.items():
        b = bindings.bindings.get(name)
        if b is None or b.asserted:
            asserted[name] = value
            continue
        if value is None:
            continue
        kind = b.resources[0]
        inp = b.input
        if kind == "Observation":
            items = value if inp.type == "series" else [value]
            for item in items:
                if isinstance(item, dict):
                    entries.append(observation(b, item["value"], item.get("unit", inp.unit), item.get("at")))
                elif inp.bare_number:
                    entries.append(observation(b, item, inp.unit, None))
                else:  # a bare number where a unit is required: a valueQuantity without a unit
                    obs = observation(b, item, "", None)
                    obs["valueQuantity"] = {"value": item}
                    entries.append(obs)
        elif kind == "Patient":
            years = Decimal(str(value["value"] if isinstance(value, dict) else value))
            entries.append(
                {"resourceType": "Patient", "id": "p1", "birthDate": birth_date_for(years, as_of.date())}
            )
        elif inp.type == "boolean":
            if not isinstance(value, bool):
                raise TypeError(f"{name}: a {type(value).__name__} cannot be a FHIR resource's presence")
            if value is True:
                entries.append(
                    {
                        "resourceType": kind,
                        "id": f"m-{next(_ids)}",
                        "status": "active",
                        "intent": "order",
                        "medicationCodeableConcept": {"coding": [_coding(sorted(b.codes)[0])]},
                    }
                    if kind.startswith("Medication")
                    else {
                        "resourceType": "Condition",
                        "id": f"c-{next(_ids)}",
                        "clinicalStatus": {"coding": [{"code": "active"}]},
                        "code": {"coding": [_coding(sorted(b.codes)[0])]},
                    }
                )
        else:  # a code
            entries.append(
                {
                    "resourceType": "Condition",
                    "id": f"c-{next(_ids)}",
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "code": {"coding": [_coding(sorted(b.values[value])[0])]},
                }
            )
    for name, b in bindings.bindings.items():
        if (
            not b.asserted
            and b.input.type == "boolean"
            and facts.get(name) is None
            and b.resources[0] != "Patient"
        ):
            entries.append(
                {
                    "resourceType": b.resources[0],
                    "id": f"u-{next(_ids)}",
                    "status": "unknown",
                    "intent": "order",
                    "medicationCodeableConcept": {"coding": [_coding(sorted(b.codes)[0])]},
                }
            )
    if not any(e["resourceType"] == "Patient" for e in entries):
        entries.append({"resourceType": "Patient", "id": "p1"})
    for e in entries:
        if e["resourceType"] != "Patient":
            e["subject"] = {"reference": "Patient/p1"}
        if e["resourceType"] == "MedicationStatement" and e.get("status") == "active":
            e.pop("intent", None)  # a MedicationStatement is current while its period covers the as-of time
            e["effectivePeriod"] = {"start": (as_of - timedelta(days=30)).isoformat()}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }, asserted
