"""order-sign: each draft MedicationRequest of ``context.draftOrders`` checked against what the guideline
computes for this patient (docs/integration.md, "order-sign").

A draft order concerns the guideline when its drug is one the guideline names (an RxNorm coding equal to an
action's ``rxnorm``, or the drug's name as the order's text or coding display, compared without case). For
such an order, from the evaluation:

* a recommendation that applies now stops or holds the drug (for example "no filgrastim within 24 hours of
  chemotherapy", which is how the guideline decides the order's timing against chemotherapy): one
  ``critical`` card;
* else the order is compared with each medication action for the drug whose dose was computed: the dose
  (converted exactly to the action's unit), the route (SNOMED CT) and the frequency (``timing.repeat``). An
  order that matches one action gets no card; otherwise one ``warning`` card lists every difference, with an
  ``update`` suggestion setting the computed dose, route and frequency on the draft order when the action is
  coded;
* else (the guideline recommends no such drug now, or could not decide, or could not compute the dose): one
  ``warning`` card saying the order cannot be confirmed, and why.

A draft order the guideline cannot match to one of its drugs (another RxNorm code, such as a product's
SCD/SBD code, a brand name, free text) is never passed over in silence: it gets one ``warning`` card,
"Cannot check this order", naming the RxNorm codes and names the guideline matches (and saying so when the
order's name mentions one of its drugs as a word, as "filgrastim 0.3 MG/ML Injectable Solution" does).
No product-to-ingredient table is shipped: a site that orders by product codes sees these cards until the
guideline's actions carry those codes.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ...output.render import md_inline
from ...result import ActionResult, RecommendationResult, format_decimal
from ...values.units import UnitError, conversion_factor
from ..fhir.bindings import UCUM_SYSTEM
from ..fhir.evaluate import FhirEvaluation
from ..fhir.outputs import FREQUENCIES, ROUTES, RXNORM, SNOMED, medication_request
from .cards import Card, _facts_md, _footer, _issued, _source, coded, fit_summary, override_reasons
from .services import Service

__all__ = ["draft_medication_requests", "order_sign_cards"]

MAX_DRAFT_ORDERS = 100


def draft_medication_requests(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    bundle = context.get("draftOrders")
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        return []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    out = []
    for e in entries[:MAX_DRAFT_ORDERS]:
        r = e.get("resource") if isinstance(e, Mapping) else None
        if isinstance(r, Mapping) and r.get("resourceType") == "MedicationRequest":
            out.append(r)
    return out


def _codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping) or not isinstance(concept.get("coding"), list):
        return []
    return [c for c in concept["coding"] if isinstance(c, Mapping)]


def _order_drug(order: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(RxNorm codes, lower-case names) of the order's medicationCodeableConcept."""
    concept = order.get("medicationCodeableConcept")
    codes = {str(c.get("code")) for c in _codings(concept) if c.get("system") == RXNORM and c.get("code")}
    names = {str(c.get("display")).strip().lower() for c in _codings(concept) if c.get("display")}
    if isinstance(concept, Mapping) and isinstance(concept.get("text"), str):
        names.add(concept["text"].strip().lower())
    return codes, names


def _concerns(action: ActionResult | Any, codes: set[str], names: set[str]) -> bool:
    fields = (
        action.fields
        if isinstance(action, ActionResult)
        else {"drug": getattr(action, "drug", None), "rxnorm": getattr(action, "rxnorm", None)}
    )
    rx = fields.get("rxnorm")
    drug = (fields.get("drug") or "").strip().lower()
    return bool((rx and rx in codes) or (drug and drug in names))


def _dosage(order: Mapping[str, Any]) -> Mapping[str, Any]:
    d = order.get("dosageInstruction")
    return d[0] if isinstance(d, list) and d and isinstance(d[0], Mapping) else {}


def _dose_quantity(order: Mapping[str, Any]) -> tuple[Decimal, str] | None:
    dr = _dosage(order).get("doseAndRate")
    q = dr[0].get("doseQuantity") if isinstance(dr, list) and dr and isinstance(dr[0], Mapping) else None
    if not isinstance(q, Mapping):
        return None
    value, unit = q.get("value"), q.get("code") if q.get("system") == UCUM_SYSTEM else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float) or not isinstance(unit, str):
        return None
    try:
        return Decimal(str(value)), unit
    except InvalidOperation:
        return None


def _differences(order: Mapping[str, Any], action: ActionResult) -> list[str]:
    """What of the order differs from ``action`` (empty: it matches)."""
    assert action.dose is not None and action.dose.value is not None
    out = []
    want = action.dose.value
    got = _dose_quantity(order)
    if got is None:
        out.append(f"dose: the order has no UCUM doseQuantity; the guideline computes {action.dose.display}")
    else:
        value, unit = got
        try:
            converted = value * conversion_factor(unit, action.dose.unit)
        except UnitError:
            converted = None
        if converted is None or converted != want:
            out.append(
                f"dose: ordered {format_decimal(value)} {unit}, the guideline computes {action.dose.display}"
            )
    route = action.fields.get("route") or ""
    if route in ROUTES:
        codes = {
            str(c.get("code")) for c in _codings(_dosage(order).get("route")) if c.get("system") == SNOMED
        }
        if ROUTES[route][0] not in codes:
            out.append(f"route: the guideline gives it {route} (SNOMED CT {ROUTES[route][0]})")
    freq = (action.fields.get("frequency") or "").strip().lower()
    if freq in FREQUENCIES:
        timing = _dosage(order).get("timing")
        repeat = timing.get("repeat") if isinstance(timing, Mapping) else None
        repeat = repeat if isinstance(repeat, Mapping) else {}
        wanted = FREQUENCIES[freq]
        if any(repeat.get(k) != v for k, v in wanted.items()):
            out.append(f"frequency: the guideline gives it {freq}")
    return out


def _updated(
    order: Mapping[str, Any], action: ActionResult, patient_id: str | None, rec_id: str
) -> dict[str, Any]:
    proposal = medication_request(action, patient_id, rec_id)
    assert proposal is not None
    new = copy.deepcopy(dict(order))
    new["dosageInstruction"] = proposal["dosageInstruction"]
    new["note"] = list(new.get("note") or []) + proposal["note"]
    return new


def _card(
    service: Service,
    ev: FhirEvaluation,
    summary: str,
    lines: list[str],
    indicator: str,
    rec: str | None,
    suggestions: Sequence[dict[str, Any]] = (),
) -> Card:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": fit_summary(summary),
        "detail": "\n".join([*lines, *_facts_md(ev, service), *_footer(ev)]),
        "indicator": indicator,
        "source": _source(service),
        "overrideReasons": override_reasons(),
    }
    if suggestions:
        card["suggestions"] = list(suggestions)
        card["selectionBehavior"] = "at-most-one"
    return card, _issued(card, service, ev, rec, "order-check")


def _check_one(
    order: Mapping[str, Any], drug: str, ev: FhirEvaluation, service: Service, patient_id: str | None
) -> Card | None:
    codes, names = _order_drug(order)
    applied: list[tuple[RecommendationResult, ActionResult]] = [
        (r, a) for r in ev.result.recommendations for a in r.actions if _concerns(a, codes, names)
    ]
    stops = [(r, a) for r, a in applied if a.type == "stop-drug"]
    if stops:
        r, a = stops[0]
        lines = [
            f"The guideline says: {md_inline(r.title or r.id)}. {md_inline(r.text)}",
            "",
            f"- {md_inline(a.fields.get('mode', 'stop'))} {md_inline(drug)}"
            + (f"; resume: {md_inline(a.fields['resume_when'])}" if a.fields.get("resume_when") else ""),
        ]
        return _card(
            service, ev, f"Do not sign this {drug} order now: {r.title or r.id}", lines, "critical", r.id
        )
    meds = [
        (r, a)
        for r, a in applied
        if a.type == "medication" and a.dose is not None and a.dose.value is not None
    ]
    for _r, a in meds:
        if not _differences(order, a):
            return None
    if meds:
        r, a = meds[0]
        diffs = _differences(order, a)
        lines = [
            f"This draft {md_inline(drug)} order differs from the guideline's recommendation "
            f'"{md_inline(r.title or r.id)}":',
            *(f"- {md_inline(d)}" for d in diffs),
        ]
        assert a.dose is not None
        lines += [f"- calculation: {md_inline(step)}" for step in a.dose.calculation]
        suggestions = []
        if coded(a) and isinstance(order.get("id"), str):
            label = fit_summary(
                f"Set {drug} to {a.dose.display} {a.fields.get('route')} {a.fields.get('frequency')}"
            )
            suggestions.append(
                {
                    "label": label,
                    "uuid": str(uuid.uuid4()),
                    "actions": [
                        {
                            "type": "update",
                            "description": label,
                            "resource": _updated(order, a, patient_id, r.id),
                        }
                    ],
                }
            )
        what = [d.split(":")[0] for d in diffs]
        return _card(
            service,
            ev,
            f"Check this {drug} order: its {', '.join(what)} "
            + ("differs" if len(what) == 1 else "differ")
            + " from the guideline",
            lines,
            "warning",
            r.id,
            suggestions,
        )
    pending = [a for _r, a in applied if a.type == "medication"]
    if pending and pending[0].dose is not None and pending[0].dose.needs:
        why = f"the dose cannot be computed: it needs {', '.join(pending[0].dose.needs)}"
    elif not ev.result.complete:
        why = "the guideline could not decide: it needs " + ", ".join(n.name for n in ev.result.needed_facts)
    else:
        why = f"the guideline recommends no {drug} for this patient now"
    return _card(
        service,
        ev,
        f"This {drug} order cannot be confirmed: {why}",
        [f"This draft {md_inline(drug)} order cannot be confirmed against the guideline: {md_inline(why)}."],
        "warning",
        None,
    )


def _cannot_match(
    order: Mapping[str, Any], known: Sequence[Any], ev: FhirEvaluation, service: Service
) -> Card:
    """The card for a draft order the guideline cannot match to one of its drugs."""
    _codes, names = _order_drug(order)
    drugs = sorted({(str(a.drug), str(getattr(a, "rxnorm", None) or "")) for a in known})
    mentioned = sorted(
        {d for d, _rx in drugs if any(re.search(rf"\b{re.escape(d.lower())}\b", n) for n in names)}
    )
    listed = "; ".join(f"{md_inline(d)} (RxNorm {md_inline(rx)})" if rx else md_inline(d) for d, rx in drugs)
    lines = [
        f"This draft order could not be matched to a drug of {md_inline(service.guideline.title)}, so it was "
        "not checked: its dose, route, frequency and timing are unconfirmed.",
        "",
        "- the guideline matches an order by the RxNorm code of its drug, or by the drug's exact name: "
        + listed,
    ]
    if mentioned:
        lines.append(
            f"- the order's name mentions {', '.join(md_inline(m) for m in mentioned)}, but its code is not "
            "one the guideline names (a product or brand code): check it by hand"
        )
    return _card(
        service,
        ev,
        f"Cannot check this order against {service.guideline.title}: its drug is not one the guideline codes",
        lines,
        "warning",
        None,
    )


def order_sign_cards(
    ev: FhirEvaluation, service: Service, context: Mapping[str, Any], patient_id: str | None
) -> list[Card]:
    model = service.guideline.compiled.model
    known = [a for r in model.recommendations for a in r.actions if a.type in ("medication", "stop-drug")]
    out = []
    for order in draft_medication_requests(context):
        codes, names = _order_drug(order)
        ours = [a for a in known if _concerns(a, codes, names)]
        if not ours:
            if known:  # never silence: an order the guideline cannot match is said to be unchecked
                out.append(_cannot_match(order, known, ev, service))
            continue
        card = _check_one(order, str(ours[0].drug), ev, service, patient_id)
        if card is not None:
            out.append(card)
    return out
