"""The CDS Services of a set of guidelines: one per guideline and hook (``patient-view``, ``order-sign``),
each with prefetch templates generated from the guideline's FHIR bindings.

A prefetch key serves the inputs whose bindings make the same query; ``PrefetchTemplate.inputs`` says which.
Templates use only what CDS Hooks 2.0 allows in prefetch ("Prefetch query restrictions"): an instance read
of the Patient, type searches on ``patient={{context.patientId}}``, token equality on ``code`` (a list of
``system|code``), ``_sort=-date`` and ``_count``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ...analysis.rules import MAX_TITLE_CHARS
from ...codes import Code
from ...errors import Diagnostic, GuidelineError, Location
from ..fhir.bindings import Binding, BindingSet

__all__ = ["HOOKS", "PrefetchTemplate", "Service", "build_services", "summary_problems"]

HOOKS = ("patient-view", "order-sign")
PATIENT_TOKEN = "{{context.patientId}}"
#: _count of a search for one newest value, of a series, and of medications or conditions. A single value
#: asks for 10, not 1: the adapter reads it only when the page reaches past the newest time (so a rival result
#: at that time is on the page); a page that is partial otherwise leaves the fact missing.
COUNT_ONE = 10
COUNT_SERIES = 100
COUNT_LIST = 50


@dataclass(frozen=True, slots=True)
class PrefetchTemplate:
    key: str
    resource_type: str
    query: str
    #: the inputs this query answers
    inputs: tuple[str, ...]

    def url_for(self, patient_id: str) -> str:
        """The relative FHIR URL for one patient (the id is checked as a FHIR id by the caller)."""
        return self.query.replace(PATIENT_TOKEN, patient_id)


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    bindings: BindingSet
    prefetch: tuple[PrefetchTemplate, ...]

    @property
    def guideline(self) -> Any:
        return self.bindings.guideline

    def discovery(self) -> dict[str, Any]:
        g = self.guideline
        what = "at chart opening" if self.hook == "patient-view" else "when orders are signed (checks "
        if self.hook == "order-sign":
            what += "each draft medication order's dose, route, frequency and timing against the guideline)"
        d: dict[str, Any] = {
            "hook": self.hook,
            "id": self.id,
            "title": f"{g.title} ({g.version})"[:200],
            "description": f"{g.id} {g.version} ({g.content_hash}), {what}. Status: {g.status}.",
            "usageRequirements": "Facts no FHIR query answers (asserted in the guideline's bindings) cannot "
            "be sent over CDS Hooks: a decision that needs them comes back as a 'cannot decide' card.",
        }
        if self.prefetch:
            d["prefetch"] = {t.key: t.query for t in self.prefetch}
        return d


def _code_param(codes: frozenset[tuple[str, str]]) -> str:
    return ",".join(f"{s}|{c}" for s, c in sorted(codes))


def _query(b: Binding, resource: str) -> str | None:
    if resource == "Patient":
        return f"Patient/{PATIENT_TOKEN}"
    codes = b.all_codes()
    if not codes:
        return None
    if resource == "Observation":  # the newest first: `date` is Observation's effective time
        count = b.count or (COUNT_SERIES if b.input.type == "series" else COUNT_ONE)
        return f"{resource}?patient={PATIENT_TOKEN}&code={_code_param(codes)}&_sort=-date&_count={count}"
    count = b.count or COUNT_LIST  # every match (the adapter decides which are active)
    return f"{resource}?patient={PATIENT_TOKEN}&code={_code_param(codes)}&_count={count}"


def prefetch_templates(bindings: BindingSet) -> tuple[PrefetchTemplate, ...]:
    by_query: dict[str, list[Any]] = {}
    for name, b in bindings.bindings.items():
        if b.asserted:
            continue
        for resource in b.resources:
            q = _query(b, resource)
            if q is None:
                continue
            entry = by_query.setdefault(q, [None, resource, []])
            if entry[0] is None:
                entry[0] = (
                    "patient"
                    if resource == "Patient"
                    else (name if len(b.resources) == 1 else f"{name}-{resource}")
                )
            entry[2].append(name)
    return tuple(PrefetchTemplate(k, r, q, tuple(ins)) for q, (k, r, ins) in by_query.items())


def summary_problems(bindings: BindingSet) -> list[Diagnostic]:
    """Recommendations whose card summary (the title, else the id) would not fit CDS Hooks' one line of
    fewer than 140 characters: the service refuses to serve such a guideline."""
    g = bindings.guideline
    out = []
    for i, r in enumerate(g.compiled.model.recommendations):
        summary = r.title or r.id
        if len(summary) > MAX_TITLE_CHARS or "\n" in summary:
            out.append(
                Diagnostic(
                    Code.RECOMMENDATION_TITLE_LONG,
                    f"recommendation '{r.id}': its card summary has {len(summary)} characters; CDS Hooks "
                    f"allows one line of at most {MAX_TITLE_CHARS}",
                    r.location if r.location else Location(g.file, 1, 1),
                    path=("recommendations", i, "title"),
                    hint="shorten the title; the text says the rest",
                )
            )
    return out


def build_services(binding_sets: Sequence[BindingSet]) -> Mapping[str, Service]:
    """One service per guideline and hook, by id ``<guideline>-<hook>``. Raises ``GuidelineError`` when a
    guideline's titles do not fit a card summary or two guidelines share an id."""
    out: dict[str, Service] = {}
    problems: list[Diagnostic] = []
    for b in binding_sets:
        problems.extend(summary_problems(b))
        templates = prefetch_templates(b)
        for hook in HOOKS:
            sid = f"{b.guideline.id}-{hook}"
            if sid in out:
                problems.append(
                    Diagnostic(
                        Code.USAGE_ERROR,
                        f"two guidelines would serve '{sid}': serve one version of each guideline",
                        Location(b.guideline.file, 1, 1),
                    )
                )
                continue
            out[sid] = Service(sid, hook, b, templates)
    if problems:
        raise GuidelineError(problems)
    return MappingProxyType(out)
