"""Evaluate a guideline from FHIR: the adapter's facts, plus the facts a user asserts, through the same
evaluator; the result carries the bindings hash, the provenance of each fact and the adapter's notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...codes import Code
from ...errors import Diagnostic, FactsError, Location
from ...result import Result
from .adapter import FhirFacts, facts_from_resources
from .bindings import BindingSet

__all__ = ["FhirEvaluation", "evaluate_fhir"]


@dataclass(frozen=True, slots=True)
class FhirEvaluation:
    result: Result
    fhir: FhirFacts
    site_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        j = self.result.to_json()
        f = self.fhir.to_json()
        j["fhir"] = {
            "bindings_hash": f["bindings_hash"],
            "site_file": self.site_file,
            "provenance": f["provenance"],
            "notes": f["notes"],
            "asserted": f["asserted"],
            "missing": f["missing"],
        }
        return j


def evaluate_fhir(
    bindings: BindingSet,
    resources: Sequence[Mapping[str, Any]],
    as_of: datetime | None,
    *,
    asserted: Mapping[str, Any] | None = None,
    time_zone: str | None = None,
    patient_id: str | None = None,
    trace: bool = True,
    server_base: str | None = None,
    partial: Mapping[str, str] | None = None,
    file: str = "<bundle>",
) -> FhirEvaluation:
    """Evaluate ``bindings.guideline`` on the facts found in ``resources`` and the ``asserted`` facts. A fact
    asserted for an input that FHIR answers is refused (``FactsError``, ``fact-malformed``): the record
    decides. ``patient_id``, ``server_base``, ``partial`` and ``file``: see ``facts_from_resources`` (without
    ``patient_id``, the Bundle's only Patient; ``FactsError`` when there is none or several)."""
    as_of = as_of if as_of is not None else datetime.now(UTC)
    fhir = facts_from_resources(
        bindings,
        resources,
        as_of,
        time_zone=time_zone,
        patient_id=patient_id,
        server_base=server_base,
        partial=partial,
        file=file,
    )
    asserted = dict(asserted or {})
    clash = sorted(n for n in asserted if n in bindings.bindings and not bindings.bindings[n].asserted)
    if clash:
        raise FactsError(
            [
                Diagnostic(
                    Code.FACT_MALFORMED,
                    f"fact '{n}' is read from FHIR and cannot also be asserted",
                    Location("<facts>", 1, 1),
                    path=(n,),
                    hint="leave it out of the asserted facts, or bind it as `asserted: true` in a site file",
                )
                for n in clash
            ]
        )
    result = bindings.guideline.evaluate({**asserted, **fhir.facts}, as_of, time_zone=time_zone, trace=trace)
    return FhirEvaluation(result, fhir, bindings.site_file)
