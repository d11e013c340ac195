"""The CDS Hooks 2.0 service: an ASGI app (FastAPI on Starlette, served by uvicorn).

FastAPI is used for its routing and its OpenAPI document (``/openapi.json``, which the schemathesis fuzz
reads); the request bodies are read by hand (bounded, parsed strictly: exact decimals, no duplicate keys,
nesting scanned first) and checked against the schemas of ``schemas.py``, which are also the OpenAPI
document's, so the two never drift. Every endpoint authenticates first (``auth.py``; 401 without detail).

Errors are answered with an ``OperationOutcome``: 400 (the request does not follow CDS Hooks), 404 (no such
service or card), 412 (the data can be had neither from the prefetch nor from ``fhirServer``), 413 (too
large), 503 (over the time limit). Nothing about the patient (ids, values, tokens) is logged.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from jsonschema import Draft202012Validator
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from ...errors import EvaluationError, FactsError
from ...values.jsonscan import nested_deeper
from ..fhir.bindings import BindingSet
from ..fhir.evaluate import evaluate_fhir
from .auth import AuthError, Issuer, JwksCache, Verifier
from .cards import Card, cards_for, fit_summary, override_reasons
from .ordersign import order_sign_cards
from .prefetch import (
    FETCH_DEADLINE_S,
    MAX_CONCURRENT_FETCHES,
    DeadlinePassed,
    PreconditionFailed,
    dedupe,
    gather,
)
from .schemas import (
    CARDS_RESPONSE,
    DISCOVERY_RESPONSE,
    FEEDBACK_REQUEST,
    FEEDBACK_RESPONSE,
    HOOK_REQUEST,
    OPERATION_OUTCOME,
)
from .services import Service, build_services
from .storage import FeedbackConflict, FeedbackItem, IssuedCard, Storage

__all__ = ["ServiceConfig", "create_app"]

log = logging.getLogger("interpreter.cdshooks")

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BODY_DEPTH = 64
REQUEST_TIME_LIMIT_S = 10.0
#: how far in the future an outcomeTimestamp may be (clock skew), and how far in the past
FEEDBACK_FUTURE_LEEWAY = timedelta(minutes=5)
FEEDBACK_MAX_AGE = timedelta(days=366)


@dataclass(frozen=True)
class ServiceConfig:
    """Everything ``create_app`` needs. ``public_url`` is the base URL clients call (``aud`` of their JWTs is
    this plus the endpoint's path); it is configured, never read from the request."""

    binding_sets: tuple[BindingSet, ...]
    storage: Storage
    public_url: str
    issuers: Mapping[str, Issuer] = field(default_factory=dict)
    allow_unsigned: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES
    time_limit_s: float = REQUEST_TIME_LIMIT_S
    fetch_timeout_s: float = 2.0
    #: the total time for all the fetches of one call (within ``time_limit_s``)
    fetch_deadline_s: float = FETCH_DEADLINE_S
    max_concurrent_fetches: int = MAX_CONCURRENT_FETCHES
    allow_http_fhir: bool = False
    #: fetch-on-miss to loopback, private and link-local addresses (tests, a FHIR server on the same host)
    allow_private_fhir: bool = False
    #: serve /openapi.json without authentication
    public_openapi: bool = False
    jwt_leeway_s: int = 30
    time_zone: str | None = None
    jwks_cache: JwksCache | None = None
    #: for tests: the transport of the FHIR client (None: the network)
    fhir_transport: httpx.BaseTransport | None = None


class _Problem(Exception):
    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


def outcome(status: int, code: str, text: str) -> JSONResponse:
    return JSONResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "details": {"text": text}}],
        },
        status_code=status,
        media_type="application/fhir+json",
    )


def _json_body(schema: dict[str, Any], responses: Mapping[int, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {
            str(code): {"description": d, "content": {"application/json": {"schema": s}}}
            for code, (d, s) in responses.items()
        },
    }


_ERRORS = {
    400: ("The request does not follow CDS Hooks", OPERATION_OUTCOME),
    401: ("Authentication failed", {"type": "object"}),
    404: ("No such service or card", OPERATION_OUTCOME),
    409: ("The feedback contradicts the outcome given for a card", OPERATION_OUTCOME),
    413: ("The request is too large", OPERATION_OUTCOME),
}


class _Service:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.services = build_services(config.binding_sets)
        self.storage = config.storage
        self.base = config.public_url.rstrip("/")
        self.verifier = Verifier(
            config.issuers,
            self.storage.first_use_of_jti,
            leeway_s=config.jwt_leeway_s,
            cache=config.jwks_cache,
        )
        self.fetch_slots = threading.BoundedSemaphore(config.max_concurrent_fetches)
        self.hook_validator = Draft202012Validator(HOOK_REQUEST)
        self.feedback_validator = Draft202012Validator(FEEDBACK_REQUEST)

    # ------------------------------------------------------------------------------------------- helpers

    async def authenticate(self, request: Request) -> None:
        if self.config.allow_unsigned:
            return
        audience = self.base + request.url.path
        try:
            await run_in_threadpool(self.verifier.check, request.headers.get("authorization"), audience)
        except AuthError as exc:
            log.info("401 on %s: %s", request.url.path, exc)
            raise _Problem(401, "login", "") from None

    async def body(self, request: Request, validator: Draft202012Validator) -> Any:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise _Problem(413, "too-costly", f"the request is larger than {limit} bytes")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise _Problem(413, "too-costly", f"the request is larger than {limit} bytes")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise _Problem(400, "structure", "the request is not UTF-8 JSON") from None
        if nested_deeper(text, MAX_BODY_DEPTH):
            raise _Problem(400, "structure", f"the request nests deeper than {MAX_BODY_DEPTH} levels")
        from ..fhir.adapter import parse_bundle

        try:
            doc = parse_bundle(text, "<request>")
        except FactsError:
            raise _Problem(400, "structure", "the request is not valid JSON") from None
        error = next(iter(validator.iter_errors(doc)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)[:200]
            raise _Problem(
                400,
                "structure",
                f"the request does not follow CDS Hooks 2.0 at '{where}': {error.validator} failed",
            )
        return doc

    # ------------------------------------------------------------------------------------------ the hook

    def evaluate(self, service: Service, doc: Mapping[str, Any], deadline: float) -> list[Card]:
        """The cards of one call; ``DeadlinePassed`` (nothing stored) when ``deadline`` (monotonic) passes."""
        context = doc["context"]
        patient_id = context["patientId"]
        gathered = gather(
            service,
            doc,
            patient_id,
            allow_http=self.config.allow_http_fhir,
            allow_private=self.config.allow_private_fhir,
            timeout_s=self.config.fetch_timeout_s,
            deadline=min(deadline, time.monotonic() + self.config.fetch_deadline_s),
            limiter=self.fetch_slots,
            transport=self.config.fhir_transport,
        )
        server = doc.get("fhirServer")
        try:
            ev = evaluate_fhir(
                service.bindings,
                dedupe(gathered.resources),
                datetime.now(UTC),
                time_zone=self.config.time_zone,
                patient_id=patient_id,
                trace=False,
                server_base=server if isinstance(server, str) else None,
                partial=gathered.partial,
            )
        except (EvaluationError, FactsError) as exc:
            return [self.error_card(service, exc)]
        if service.hook == "order-sign":
            cards = order_sign_cards(ev, service, context, patient_id)
        else:
            cards = cards_for(ev, service, patient_id)
        if time.monotonic() > deadline:
            raise DeadlinePassed  # the caller has had its 503: the cards were never received, not stored
        if cards:
            self.storage.save_cards([c[1] for c in cards], patient_id, doc["hookInstance"])
        return cards

    def error_card(self, service: Service, exc: Exception) -> Card:
        g = service.guideline
        code = getattr(exc, "code", None) or type(exc).__name__
        card = {
            "uuid": __import__("uuid").uuid4().__str__(),
            "summary": fit_summary(f"{g.id} could not be applied to this patient's data ({code})"),
            "detail": f"The guideline {g.id} {g.version} could not be applied: `{code}`. No advice was "
            "given; nothing was guessed.",
            "indicator": "warning",
            "source": {"label": f"{g.title} ({g.id} {g.version})"[:200]},
            "overrideReasons": override_reasons(),
        }
        issued = IssuedCard(
            card["uuid"],
            service.id,
            service.hook,
            g.id,
            g.version,
            g.content_hash,
            service.bindings.hash,
            None,
            "error",
            "warning",
            (),
            (),
        )
        return card, issued

    # -------------------------------------------------------------------------------------------- feedback

    def feedback(self, service: Service, doc: Mapping[str, Any]) -> dict[str, int]:
        items = []
        for i, f in enumerate(doc["feedback"]):
            card = self.storage.card(f["card"])
            if card is None or card.service != service.id:
                raise _Problem(404, "not-found", f"feedback[{i}]: no card {f['card'][:64]!r} of this service")
            accepted = tuple(s["id"] for s in f.get("acceptedSuggestions", ()))
            unknown = [s for s in accepted if s not in card.suggestions]
            if unknown:
                raise _Problem(400, "value", f"feedback[{i}]: the card has no suggestion {unknown[0][:64]!r}")
            when = _outcome_time(f["outcomeTimestamp"], i)
            reason = (f.get("overrideReason") or {}).get("reason") or {}
            if reason and (reason.get("system"), reason.get("code")) not in card.override_reasons:
                raise _Problem(400, "value", f"feedback[{i}]: the override reason is not one of the card's")
            if reason and f["outcome"] != "overridden":
                raise _Problem(
                    400, "value", f"feedback[{i}]: an override reason needs the outcome overridden"
                )
            items.append(
                FeedbackItem(
                    card.uuid,
                    f["outcome"],
                    accepted,
                    reason.get("system"),
                    reason.get("code"),
                    (f.get("overrideReason") or {}).get("userComment"),
                    when,
                )
            )
        try:
            stored, duplicates = self.storage.add_feedback(items)
        except FeedbackConflict:
            raise _Problem(
                409, "conflict", "a card has one outcome: this feedback contradicts the outcome given for it"
            ) from None
        return {"stored": stored, "duplicates": duplicates}


def _outcome_time(text: str, i: int) -> str:
    """``outcomeTimestamp`` as UTC text (so one instant is one text, whatever its offset): it must carry an
    offset and lie between ``FEEDBACK_MAX_AGE`` ago and ``FEEDBACK_FUTURE_LEEWAY`` ahead."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Problem(400, "value", f"feedback[{i}]: outcomeTimestamp is not an ISO 8601 time") from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise _Problem(400, "value", f"feedback[{i}]: outcomeTimestamp has no time zone offset")
    now = datetime.now(UTC)
    if not now - FEEDBACK_MAX_AGE <= t <= now + FEEDBACK_FUTURE_LEEWAY:
        raise _Problem(400, "value", f"feedback[{i}]: outcomeTimestamp is in the future or over a year old")
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def create_app(config: ServiceConfig) -> FastAPI:
    """The ASGI app of the service. Raises ``GuidelineError`` when a guideline cannot be served."""
    svc = _Service(config)
    app = FastAPI(
        title="guideline-interpreter CDS Hooks service",
        version="2.0",
        description="CDS Hooks 2.0: discovery, patient-view and order-sign services, feedback.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, behind authentication unless public_openapi
        redirect_slashes=False,  # no redirect answered before authentication
    )
    if config.allow_unsigned:
        log.warning("UNSIGNED MODE: every request is accepted without authentication; for local testing only")
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )

    async def guarded(request: Request, work: Any) -> Response:
        start = time.monotonic()
        try:
            await svc.authenticate(request)
            result = await asyncio.wait_for(work(), timeout=config.time_limit_s)
        except _Problem as p:
            if p.status == 401:
                return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return outcome(p.status, p.code, p.text)
        except PreconditionFailed as exc:
            return outcome(
                412,
                "not-found",
                "the data this service needs could be had neither from the "
                "prefetch nor from fhirServer: " + "; ".join(exc.reasons),
            )
        except (TimeoutError, DeadlinePassed):
            log.warning("%s over the time limit of %ss", request.url.path, config.time_limit_s)
            return outcome(503, "timeout", f"no answer within {config.time_limit_s} s")
        log.info("%s %s in %.1f ms", request.method, request.url.path, (time.monotonic() - start) * 1000)
        return JSONResponse(result)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        async def work() -> dict[str, Any]:
            return app.openapi()

        if config.public_openapi:
            return JSONResponse(app.openapi())
        return await guarded(request, work)

    @app.get("/cds-services/", include_in_schema=False)
    async def discovery_slash(request: Request) -> Response:
        return await discovery(request)

    @app.get(
        "/cds-services",
        responses={
            200: {
                "description": "The services",
                "content": {"application/json": {"schema": DISCOVERY_RESPONSE}},
            },
            401: {"description": "Authentication failed"},
        },
    )
    async def discovery(request: Request) -> Response:
        async def work() -> dict[str, Any]:
            return {"services": [s.discovery() for s in svc.services.values()]}

        return await guarded(request, work)

    @app.post(
        "/cds-services/{service_id}",
        openapi_extra=_json_body(
            HOOK_REQUEST,
            {
                200: ("Cards", CARDS_RESPONSE),
                **_ERRORS,
                412: ("The data can be had neither from the prefetch nor from fhirServer", OPERATION_OUTCOME),
            },
        ),
    )
    async def call(service_id: str, request: Request) -> Response:
        async def work() -> dict[str, Any]:
            service = svc.services.get(service_id)
            if service is None:
                raise _Problem(404, "not-found", "no such service")
            doc = await svc.body(request, svc.hook_validator)
            if doc["hook"] != service.hook:
                raise _Problem(400, "value", f"this service answers the hook '{service.hook}'")
            deadline = (
                time.monotonic() + config.time_limit_s
            )  # the thread stops by it, and stores nothing after
            cards = await run_in_threadpool(svc.evaluate, service, doc, deadline)
            return {"cards": [c[0] for c in cards]}

        return await guarded(request, work)

    @app.post(
        "/cds-services/{service_id}/feedback",
        openapi_extra=_json_body(
            FEEDBACK_REQUEST, {200: ("Feedback stored (each item once)", FEEDBACK_RESPONSE), **_ERRORS}
        ),
    )
    async def feedback(service_id: str, request: Request) -> Response:
        async def work() -> dict[str, Any]:
            service = svc.services.get(service_id)
            if service is None:
                raise _Problem(404, "not-found", "no such service")
            doc = await svc.body(request, svc.feedback_validator)
            return await run_in_threadpool(svc.feedback, service, doc)

        return await guarded(request, work)

    app.state.service = svc
    return app
