"""CDS Hooks 2.0 cards from one evaluation (docs/integration.md, "Cards").

* One card per recommendation: ``summary`` is its title (checked at load to fit one line of < 140
  characters), ``detail`` is Markdown (the text, each action with its dose calculation, the facts used with
  their FHIR sources, citations, the disclaimer, and the guideline's id, version, content hash and bindings
  hash), ``indicator`` comes from the recommendation (``warning`` for a caution or a stop/hold of a drug, else
  ``info``), and ``source`` names the guideline (``topic``: the recommendation).
* A result that could not decide everything gives one more card, ``warning``, naming the facts needed (and
  which of them no FHIR query answers), the decisions left open, the adapter's notes on the resources
  dropped, and the conditional advice when the result has it.
* A suggestion (a draft MedicationRequest, ``create``) only for a medication action whose dose was computed
  and
  which is coded (RxNorm drug, SNOMED CT route, a frequency with ``timing.repeat``); ``selectionBehavior``
  whenever there are suggestions; ``overrideReasons`` from HL7's non-adherence reason codes, each with its
  display.

Every text an author or a FHIR resource wrote is escaped for Markdown (``output.render.md_*``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ...output.render import md_block, md_inline
from ...result import ActionResult, RecommendationResult
from ..fhir.evaluate import FhirEvaluation
from ..fhir.outputs import FREQUENCIES, ROUTES, medication_request, score_item_lines, score_line
from .services import Service
from .storage import IssuedCard

__all__ = [
    "OVERRIDE_REASONS",
    "SUMMARY_MAX",
    "Card",
    "cannot_decide_card",
    "cards_for",
    "recommendation_card",
]

SUMMARY_MAX = 139
#: http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes, as published with CDS Hooks 2.0
#: (HL7/cds-hooks input/vocabulary/CodeSystem-non-adherence-reason-codes.json)
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("patient-contraindication", "Patient has contraindication to recommended action"),
    ("patient-ineligible", "Patient does not meet eligibility for recommended action"),
    ("action-completed", "Recommended action was already completed"),
    ("risk-benefit-ratio", "Recipient assessment of risk/benefit ratio"),
    ("policy-contradicts", "Institutional policy/guideline contradicts the recommended action"),
    (
        "need-more-info",
        "Could not address recommended action due to need for more information/pending results/"
        "pending consult",
    ),
    ("patient-refuses", "Patient refuses/declines (no context given)"),
)
TOPIC_SYSTEM = "urn:guideline-interpreter:recommendation"

Card = tuple[dict[str, Any], IssuedCard]


def override_reasons() -> list[dict[str, str]]:
    return [{"system": NON_ADHERENCE, "code": c, "display": d} for c, d in OVERRIDE_REASONS]


def fit_summary(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= SUMMARY_MAX else one[: SUMMARY_MAX - 1].rstrip() + "…"


def _indicator(rec: RecommendationResult) -> str:
    """``critical`` for an ``urgency: immediate`` recommendation (where the guideline language has urgency),
    ``warning`` for ``urgent``, a caution, or a stop/hold of a drug; else ``info``."""
    urgency = getattr(rec, "urgency", None)
    if urgency == "immediate":
        return "critical"
    if urgency == "urgent" or rec.category == "caution" \
            or any(a.type in ("stop-drug", "caution") for a in rec.actions):
        return "warning"
    return "info"


def coded(action: ActionResult) -> bool:
    """A medication action that can become an order: dose computed, drug in RxNorm, route and frequency
    coded."""
    f = action.fields
    return (
        action.type == "medication"
        and action.dose is not None
        and action.dose.value is not None
        and bool(f.get("rxnorm"))
        and f.get("route") in ROUTES
        and (f.get("frequency") or "").strip().lower() in FREQUENCIES
    )


def _action_md(a: ActionResult) -> list[str]:
    f = dict(a.fields)
    if a.type == "medication":
        head = f.get("drug", "")
        parts = [x for x in (a.dose.display if a.dose else None, f.get("route"), f.get("frequency")) if x]
        lines = [f"- **{md_inline(head)}**: {md_inline(', '.join(parts))}"]
        if a.dose is not None:
            lines += [f"  - dose: {md_inline(a.dose.prescribed)} → {md_inline(a.dose.display)}"]
            lines += [f"  - calculation: {md_inline(step)}" for step in a.dose.calculation]
            lines += [f"  - **warning**: {md_inline(w)}" for w in a.dose.warnings]
        for k in ("timing", "until", "target", "infusion", "note"):
            if f.get(k):
                lines.append(f"  - {k}: {md_inline(f[k])}")
        return lines
    label = {
        "monitoring": "Monitor",
        "stop-drug": "Stop",
        "procedure": "Procedure",
        "referral": "Refer",
        "caution": "Caution",
    }.get(a.type, a.type)
    main = f.get("test") or f.get("drug") or f.get("name") or f.get("text") or ""
    rest = [f"{k}: {v}" for k, v in f.items() if v and v != main and k != "rxnorm"]
    return [
        f"- **{md_inline(label)}**: {md_inline(main)}" + (f" ({md_inline('; '.join(rest))})" if rest else "")
    ]


def _fact_md(name: str, value: Any, ev: FhirEvaluation, service: Service) -> str:
    sources = ev.fhir.provenance.get(name, ())
    where = ", ".join(s.reference for s in sources)
    b = service.bindings.bindings.get(name)
    if not where and b is not None and b.absent_is_false and not b.asserted:
        where = f"no matching active {'/'.join(b.resources)}: absence read as false"
    elif not where:
        where = "asserted" if name in ev.fhir.asserted else "no FHIR source"
    shown = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return f"- `{md_inline(name)}` = {md_inline(shown)} (from {md_inline(where)})"


def _footer(ev: FhirEvaluation) -> list[str]:
    g = ev.result.guideline
    out = [
        "",
        f"**Guideline**: {md_inline(g.id)} {md_inline(g.version)} ({md_inline(g.status)}), "
        f"content {md_inline(g.content_hash)}, FHIR bindings {md_inline(ev.fhir.bindings_hash)}; "
        f"evaluated at {ev.result.as_of.isoformat()}.",
    ]
    if ev.result.disclaimer:
        out += ["", f"**Disclaimer**: {md_inline(ev.result.disclaimer)}"]
    return out


def _facts_md(ev: FhirEvaluation, service: Service) -> list[str]:
    facts = ev.result.to_json()["facts"]
    if not facts:
        return []
    return ["", "**Facts used**:", *(_fact_md(n, v, ev, service) for n, v in facts.items())]


def _scores_md(ev: FhirEvaluation) -> list[str]:
    """Each score's value (or bounds) and each item's points, so the clinician need not add them up."""
    lines: list[str] = []
    for sc in ev.result.scores:
        lines += ["", f"**Score**: {md_inline(score_line(sc))}"]
        lines += [f"- {md_inline(item)}" for item in score_item_lines(sc)]
    return lines


def _source(service: Service) -> dict[str, Any]:
    g = service.guideline
    return {"label": f"{g.title} ({g.id} {g.version})"[:200]}


def recommendation_card(
    rec: RecommendationResult, ev: FhirEvaluation, service: Service, patient_id: str | None
) -> Card:
    lines = [md_block(rec.text)]
    if rec.actions:
        lines += ["", "**Actions**:"]
        for a in rec.actions:
            lines += _action_md(a)
    lines += _scores_md(ev)
    lines += _facts_md(ev, service)
    if rec.citations:
        lines += ["", "**References**:"]
        for c in rec.citations:
            url = f" <{c.url}>" if c.url and c.url.startswith(("https://", "http://")) else ""
            lines.append(f"- [{md_inline(c.key)}] {md_inline(c.citation)}{url}")
    lines += _footer(ev)
    card_uuid = str(uuid.uuid4())
    suggestions = []
    for a in rec.actions:
        if not coded(a):
            continue
        mr = medication_request(a, patient_id, rec.id)
        assert mr is not None and a.dose is not None
        mr["id"] = str(uuid.uuid4())
        label = (
            f"Draft order: {a.fields.get('drug')} {a.dose.display} {a.fields.get('route')} "
            f"{a.fields.get('frequency')}"
        )
        suggestions.append(
            {
                "label": fit_summary(label),
                "uuid": str(uuid.uuid4()),
                "actions": [{"type": "create", "description": fit_summary(label), "resource": mr}],
            }
        )
    card: dict[str, Any] = {
        "uuid": card_uuid,
        "summary": fit_summary(rec.title or rec.id),
        "detail": "\n".join(lines),
        "indicator": _indicator(rec),
        "source": _source(service)
        | {"topic": {"system": TOPIC_SYSTEM, "code": rec.id, "display": fit_summary(rec.title or rec.id)}},
        "overrideReasons": override_reasons(),
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one" if len(suggestions) == 1 else "any"
    return card, _issued(card, service, ev, rec.id, "recommendation")


def _issued(
    card: Mapping[str, Any], service: Service, ev: FhirEvaluation, rec: str | None, kind: str
) -> IssuedCard:
    g = ev.result.guideline
    return IssuedCard(
        uuid=card["uuid"],
        service=service.id,
        hook=service.hook,
        guideline_id=g.id,
        guideline_version=g.version,
        content_hash=g.content_hash,
        bindings_hash=ev.fhir.bindings_hash,
        recommendation=rec,
        kind=kind,
        indicator=card["indicator"],
        suggestions=tuple(s["uuid"] for s in card.get("suggestions", ())),
        override_reasons=tuple((r["system"], r["code"]) for r in card.get("overrideReasons", ())),
    )


def _needed_md(ev: FhirEvaluation, service: Service) -> list[str]:
    lines = []
    for n in ev.result.needed_facts:
        b = service.bindings.bindings.get(n.name)
        if b is None or b.asserted:
            how = (
                "no FHIR query answers it (asserted by the user): enter it where your EHR records it, or "
                "evaluate with the command line or API"
            )
        else:
            codes = ", ".join(f"{s}|{c}" for s, c in sorted(b.all_codes()))
            how = f"read from {'/'.join(b.resources)}" + (f" ({codes})" if codes else "")
        lines.append(
            f"- `{md_inline(n.name)}` ({md_inline(n.reason)}): {md_inline(n.description)}; {md_inline(how)}"
        )
        lines += [f"  - note: {md_inline(note.text())}" for note in ev.fhir.notes if note.input == n.name]
    return lines


def _conditional_md(conditional: Sequence[Mapping[str, Any]]) -> list[str]:
    """The result's conditional advice (when it has a ``conditional`` section): each open question with its
    alternatives, set apart under "If ..." headings."""
    lines = [
        "",
        "**Conditional advice** (not firm recommendations: which applies depends on the facts above):",
    ]
    for item in conditional:
        question = item.get("question") or item.get("node") or ""
        lines.append(f"- {md_inline(question)}")
        for alt in item.get("alternatives", ()) or ():
            when = alt.get("label") or alt.get("when") or ""
            recs = alt.get("recommendations", ()) or ()
            titles = "; ".join(str(r.get("title") or r.get("id")) for r in recs if isinstance(r, Mapping))
            lines.append(f"  - If {md_inline(when)}: {md_inline(titles or 'nothing further')}")
    return lines


def cannot_decide_card(ev: FhirEvaluation, service: Service) -> Card:
    r = ev.result
    names = [n.name for n in r.needed_facts] or sorted({f for c in r.cannot_decide for f in c.needs})
    shown = ", ".join(names)
    summary = f"Cannot decide all of {service.guideline.id}: needs {shown}"
    if len(summary) > SUMMARY_MAX:
        summary = f"Cannot decide all of {service.guideline.id}: {len(names)} facts needed (see details)"
    lines = [
        "The guideline could not decide everything for this patient: the facts below are missing, stale "
        "or could not be read. Nothing was guessed.",
        "",
        "**Facts needed**:",
    ]
    lines += _needed_md(ev, service)
    if r.cannot_decide:
        lines += ["", "**Decisions left open**:"]
        lines += [f"- {md_inline(c.label or c.node)}: `{md_inline(c.condition)}`" for c in r.cannot_decide]
    conditional = r.to_json().get("conditional")
    if isinstance(conditional, list) and conditional:
        lines += _conditional_md(conditional)
    lines += _scores_md(ev)
    other_notes = [n for n in ev.fhir.notes if n.input not in names]
    if other_notes:
        lines += ["", "**Resources not used**:"]
        lines += [f"- {md_inline(n.text())}" for n in other_notes]
    lines += _facts_md(ev, service)
    lines += _footer(ev)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": fit_summary(summary),
        "detail": "\n".join(lines),
        "indicator": "warning",
        "source": _source(service),
        "overrideReasons": override_reasons(),
    }
    return card, _issued(card, service, ev, None, "cannot-decide")


def cards_for(ev: FhirEvaluation, service: Service, patient_id: str | None) -> list[Card]:
    """The cards of one patient-view evaluation."""
    out = [recommendation_card(rec, ev, service, patient_id) for rec in ev.result.recommendations]
    if not ev.result.complete:
        out.append(cannot_decide_card(ev, service))
    return out
