"""A CDS Hooks 2.0 service for the guideline interpreter (issue 10, part 3): discovery, ``patient-view`` and
``order-sign`` services generated from each guideline's FHIR bindings, cards, feedback, SQLite storage and JWT
authentication. Needs the ``service`` extra (``pip install 'guideline-interpreter[service]'``); the core never
imports this package. ``guideline serve`` runs it under uvicorn.

    from interpreter.ext.cdshooks import ServiceConfig, create_app
"""

from __future__ import annotations

from .app import ServiceConfig, create_app
from .auth import Issuer
from .storage import Storage, load_or_create_key

__all__ = ["Issuer", "ServiceConfig", "Storage", "create_app", "load_or_create_key"]
