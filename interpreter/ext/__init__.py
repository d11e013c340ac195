"""Integrations (FHIR, CDS Hooks, batch, diff), each behind an extra. The core never imports this package."""
