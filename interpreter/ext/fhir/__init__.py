"""FHIR R4 for the guideline interpreter (issue 10): bindings, the adapter (resources -> facts with
provenance)
and the FHIR outputs (GuidanceResponse, RequestGroup, MedicationRequest). Uses nothing beyond the core.

    from interpreter.ext.fhir import bindings_for, facts_from_resources, parse_bundle, resources_of_bundle
"""

from __future__ import annotations

from .adapter import (
    FhirFacts,
    Note,
    SourceRef,
    exact_age,
    facts_from_resources,
    parse_bundle,
    resources_of_bundle,
)
from .bindings import BindingSet, SiteBindings, bindings_for, bundled_site_bindings, load_site_bindings
from .evaluate import FhirEvaluation, evaluate_fhir

__all__ = [
    "BindingSet",
    "FhirEvaluation",
    "FhirFacts",
    "Note",
    "SiteBindings",
    "SourceRef",
    "bindings_for",
    "bundled_site_bindings",
    "evaluate_fhir",
    "exact_age",
    "facts_from_resources",
    "load_site_bindings",
    "parse_bundle",
    "resources_of_bundle",
]
