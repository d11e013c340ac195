"""FHIR R4 outputs of a result (issue 10, part 2): a Bundle of a GuidanceResponse (`success` or
`data-required`
with a dataRequirement per needed fact), a RequestGroup of the recommendations, and a draft MedicationRequest
(intent `proposal`) for each medication action whose dose was computed.

Codes shipped, and where each was checked (docs/integration.md, "Codes shipped"): SNOMED CT routes 34206005
(subcutaneous route), 47625008 (intravenous route) and 26643006 (oral route) appear with those meanings in the
DICOM CID 11 value set (bvdh/dicom-terminology-in-fhir) and the ONCOFAIR route code system. RxNorm codes are
the guideline's own (`rxnorm:` on an action); a drug without one is written as text only and gets no
suggestion. Frequencies map to `timing.repeat` only for the texts listed in ``FREQUENCIES``; any other text
stays text (never guessed).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ...result import ActionResult, Result, ScoreResult, format_decimal
from .bindings import UCUM_SYSTEM, BindingSet

__all__ = [
    "FREQUENCIES", "ROUTES", "fhir_bundle", "medication_request", "score_item_lines", "score_line",
]

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ROUTES: Mapping[str, tuple[str, str]] = {
    "subcutaneous": ("34206005", "Subcutaneous route"),
    "intravenous": ("47625008", "Intravenous route"),
    "oral": ("26643006", "Oral route"),
}
#: frequency text -> timing.repeat
FREQUENCIES: Mapping[str, dict[str, Any]] = {
    "once daily": {"frequency": 1, "period": 1, "periodUnit": "d"},
    "twice daily": {"frequency": 2, "period": 1, "periodUnit": "d"},
    "three times daily": {"frequency": 3, "period": 1, "periodUnit": "d"},
    "every 12 hours": {"frequency": 1, "period": 12, "periodUnit": "h"},
}
DOSE_TYPE = "http://terminology.hl7.org/CodeSystem/dose-rate-type"


def _id(seed: str, *parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join([seed, *map(str, parts)])))


def _num(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def medication_request(action: ActionResult, patient: str | None, rec_id: str) -> dict[str, Any] | None:
    """A draft MedicationRequest for one medication action, or None when its dose was not computed."""
    dose = action.dose
    if action.type != "medication" or dose is None or dose.value is None:
        return None
    f = action.fields
    med: dict[str, Any] = {"text": f.get("drug", "")}
    if f.get("rxnorm"):
        med["coding"] = [{"system": RXNORM, "code": f["rxnorm"], "display": f.get("drug")}]
    dosage: dict[str, Any] = {
        "text": " ".join(x for x in (dose.display, f.get("route"), f.get("frequency")) if x),
        "doseAndRate": [
            {
                "type": {"coding": [{"system": DOSE_TYPE, "code": "calculated", "display": "Calculated"}]},
                "doseQuantity": {
                    "value": _num(str(dose.value)),
                    "unit": dose.unit,
                    "system": UCUM_SYSTEM,
                    "code": dose.unit,
                },
            }
        ],
    }
    route = f.get("route")
    if isinstance(route, str) and route in ROUTES:
        code, display = ROUTES[route]
        dosage["route"] = {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": route}
    freq = (f.get("frequency") or "").strip().lower()
    if freq in FREQUENCIES:
        dosage["timing"] = {"repeat": dict(FREQUENCIES[freq])}
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": med,
        "dosageInstruction": [dosage],
        "note": [{"text": "Calculation: " + "; ".join(dose.calculation)}],
        "reasonCode": [{"text": f"guideline recommendation {rec_id}"}],
    }
    if dose.warnings:
        res["note"].append({"text": "Warnings: " + "; ".join(dose.warnings)})
    if patient:
        res["subject"] = {"reference": f"Patient/{patient}"}
    return res


def _data_requirement(name: str, bindings: BindingSet | None) -> dict[str, Any]:
    b = bindings.bindings.get(name) if bindings is not None else None
    if b is None or b.asserted:
        return {"type": "Basic", "mustSupport": [name]}  # asserted by the user: no FHIR query answers it
    req: dict[str, Any] = {"type": b.resources[0], "mustSupport": [name]}
    codes = sorted(b.all_codes())
    if codes:
        req["codeFilter"] = [{"path": "code", "code": [{"system": s, "code": c} for s, c in codes]}]
    return req


def score_line(score: ScoreResult) -> str:
    """``khorana = 3``, or ``khorana = 3 to 6 (not every item is known)``: the score as one line."""
    if score.value is not None:
        return f"{score.name} = {format_decimal(score.value)}"
    low, high = format_decimal(score.min), format_decimal(score.max)
    return f"{score.name} = {low} to {high} (not every item is known)"


def score_item_lines(score: ScoreResult) -> list[str]:
    """Each item's part: ``1 point: platelets 350 x10^9/L or more``, or ``0-1 points (unknown, needs
    leukocytes): ...``."""
    out = []
    for item in score.items:
        if item.points is not None:
            unit = "point" if item.points == 1 else "points"
            out.append(f"{format_decimal(item.points)} {unit}: {item.label}")
        else:
            needs = ", ".join(item.needs)
            low, high = format_decimal(item.min), format_decimal(item.max)
            out.append(f"{low}-{high} points (unknown, needs {needs}): {item.label}")
    return out


def _score_parameters(result: Result, url: str) -> dict[str, Any]:
    """The scores as a FHIR Parameters resource (GuidanceResponse.outputParameters): per score its value (or
    minimum and maximum) and per item its label and points (or minimum, maximum and the facts it needs)."""
    params = []
    for score in result.scores:
        parts: list[dict[str, Any]] = []
        if score.value is not None:
            parts.append({"name": "value", "valueDecimal": _num(format_decimal(score.value))})
        parts += [{"name": "min", "valueDecimal": _num(format_decimal(score.min))},
                  {"name": "max", "valueDecimal": _num(format_decimal(score.max))}]
        for item in score.items:
            item_parts: list[dict[str, Any]] = [{"name": "label", "valueString": item.label}]
            if item.points is not None:
                item_parts.append({"name": "points", "valueDecimal": _num(format_decimal(item.points))})
            else:
                item_parts += [{"name": "min", "valueDecimal": _num(format_decimal(item.min))},
                               {"name": "max", "valueDecimal": _num(format_decimal(item.max))}]
                item_parts += [{"name": "needs", "valueString": n} for n in item.needs]
            parts.append({"name": "item", "part": item_parts})
        params.append({"name": score.name, "part": parts})
    return {"resourceType": "Parameters", "id": url.rsplit(":", 1)[1], "parameter": params}


def fhir_bundle(
    result: Result, bindings: BindingSet | None = None, patient: str | None = None
) -> dict[str, Any]:
    """The result as a FHIR R4 Bundle (type collection): GuidanceResponse, RequestGroup, MedicationRequests.
    Identifiers are name-based UUIDs of the guideline hash, the as-of time and the position, so the same
    result
    gives the same Bundle."""
    j = result.to_json()
    g = j["guideline"]
    seed = f"{g['content_hash']}|{j['as_of']}|{patient or ''}"
    entries: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for i, rec in enumerate(result.recommendations):
        item: dict[str, Any] = {"title": rec.title or rec.id, "description": rec.text, "id": rec.id}
        subs = []
        for k, act in enumerate(rec.actions):
            mr = medication_request(act, patient, rec.id)
            if mr is None:
                continue
            full = "urn:uuid:" + _id(seed, i, k)
            mr["id"] = full.rsplit(":", 1)[1]
            entries.append({"fullUrl": full, "resource": mr})
            subs.append({"resource": {"reference": full}})
        if subs:
            item["action"] = subs
        actions.append(item)
    rg_url = "urn:uuid:" + _id(seed, "request-group")
    request_group: dict[str, Any] = {
        "resourceType": "RequestGroup",
        "id": rg_url.rsplit(":", 1)[1],
        "status": "draft",
        "intent": "proposal",
        "authoredOn": j["as_of"],
        "action": actions,
        "instantiatesUri": [f"urn:guideline:{g['id']}:{g['version']}"],
    }
    if patient:
        request_group["subject"] = {"reference": f"Patient/{patient}"}
    needed = [n["name"] for n in j["needed_facts"]]
    gr_url = "urn:uuid:" + _id(seed, "guidance-response")
    guidance: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "id": gr_url.rsplit(":", 1)[1],
        "requestIdentifier": {"value": _id(seed, "request")},
        "moduleUri": f"urn:guideline:{g['id']}:{g['version']}",
        "status": "success" if result.complete else "data-required",
        "occurrenceDateTime": j["as_of"],
        "result": {"reference": rg_url},
        "note": [
            {"text": f"{g['id']} {g['version']} ({g['content_hash']}). {j.get('disclaimer') or ''}".strip()}
        ],
    }
    if needed:
        guidance["dataRequirement"] = [_data_requirement(n, bindings) for n in needed]
    extra: list[dict[str, Any]] = []
    if result.scores:  # the score's value and each item's points, as data and in words
        params_url = "urn:uuid:" + _id(seed, "scores")
        guidance["outputParameters"] = {"reference": params_url}
        extra.append({"fullUrl": params_url, "resource": _score_parameters(result, params_url)})
        notes = [{"text": "Score " + "; ".join([score_line(sc), *score_item_lines(sc)])}
                 for sc in result.scores]
        guidance["note"] += notes
        request_group["note"] = notes
    if patient:
        guidance["subject"] = {"reference": f"Patient/{patient}"}
    head = [{"fullUrl": gr_url, "resource": guidance}, {"fullUrl": rg_url, "resource": request_group}]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": j["as_of"],
            "entry": head + extra + entries}
