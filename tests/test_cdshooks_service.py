"""The CDS Hooks 2.0 service over HTTP: the real app under uvicorn on loopback, signed calls (ES384, a pinned
jku on a loopback JWKS server), a loopback FHIR server for fetch-on-miss (issue 10, parts 3-4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from interpreter import load
from interpreter.errors import GuidelineError
from interpreter.ext.cdshooks import Issuer, ServiceConfig, Storage, create_app
from interpreter.ext.cdshooks.schemas import CARD
from interpreter.ext.cdshooks.services import build_services
from interpreter.ext.fhir import bindings_for
from tests.cds_harness import (
    GCSF,
    ISS,
    FhirServer,
    JwksServer,
    Signer,
    hook_request,
    now_text,
    observation,
    prefetch,
    run_app,
    searchset,
)

PID = "patient-zz-4471"
TOKEN = "fhir-access-token-do-not-store-9931"
PV = "/cds-services/gcsf-demo-patient-view"
OS = "/cds-services/gcsf-demo-order-sign"
CARD_CHECK = Draft202012Validator(CARD, format_checker=FormatChecker())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("cds")
    signer = Signer()
    jwks = JwksServer(signer.jwks)
    storage = Storage(str(tmp / "cds.sqlite"), b"k" * 32)
    sets = (bindings_for(load(str(GCSF))),)

    apps: list[Any] = []

    def make(base: str) -> Any:
        apps.append(make_app(base))
        return apps[0]

    def make_app(base: str) -> Any:
        return create_app(
            ServiceConfig(
                sets,
                storage,
                base,
                issuers={ISS: Issuer(ISS, jku=jwks.url)},
                allow_http_fhir=True,  # the test FHIR server is plain http on loopback
                allow_private_fhir=True,
            )
        )

    with FhirServer() as fhir, run_app(make) as base:
        client = httpx.Client(base_url=base, timeout=10)

        class Env:
            pass

        e = Env()
        e.base, e.client, e.signer, e.jwks, e.fhir, e.storage = base, client, signer, jwks, fhir, storage
        e.app_service = apps[0].state.service
        yield e
        client.close()
    jwks.close()


def call(env: Any, path: str, body: Any = None, token: str | None = None, **kw: Any) -> httpx.Response:
    tok = token if token is not None else env.signer.token(env.base + path, jku=env.jwks.url)
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    if body is None:
        return env.client.get(path, headers=headers)
    return env.client.post(path, json=body, headers=headers, **kw)


def check_card_rules(card: dict[str, Any]) -> None:
    """The spec's rules for a card (CDS Hooks 2.0, "Card Attributes")."""
    assert list(CARD_CHECK.iter_errors(card)) == []
    assert len(card["summary"]) < 140 and "\n" not in card["summary"]
    assert str(uuid.UUID(card["uuid"])) == card["uuid"]
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for s in card["suggestions"]:
            uuid.UUID(s["uuid"])
    for r in card["overrideReasons"]:
        assert r["display"] and r["code"] and r["system"]
    for v in card.values():  # no null or empty values (spec, "Use of JSON")
        assert v not in (None, "", [], {})


# ------------------------------------------------------------------------------------------ discovery


def test_discovery_lists_both_hooks_with_prefetch_from_the_bindings(env: Any) -> None:
    r = call(env, "/cds-services")
    assert r.status_code == 200
    services = {s["id"]: s for s in r.json()["services"]}
    assert set(services) == {"gcsf-demo-patient-view", "gcsf-demo-order-sign"}
    pv = services["gcsf-demo-patient-view"]
    assert pv["hook"] == "patient-view" and pv["description"]
    assert pv["prefetch"]["anc"] == (
        "Observation?patient={{context.patientId}}&code=http://loinc.org|751-8&_sort=-date&_count=10"
    )
    assert pv["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert "sort:desc" not in json.dumps(pv)
    assert services["gcsf-demo-order-sign"]["hook"] == "order-sign"


# ----------------------------------------------------------------------------------- patient-view


def test_complete_prefetch_gives_one_card_per_recommendation_with_a_coded_draft_order(env: Any) -> None:
    r = call(env, PV, hook_request("patient-view", PID, prefetch(PID)))
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    for c in cards:
        check_card_rules(c)
    by_rec = {c["source"]["topic"]["code"]: c for c in cards}
    assert set(by_rec) == {"give-gcsf", "caution-bone-pain"}
    give = by_rec["give-gcsf"]
    assert give["summary"] == "Severe neutropenia - filgrastim 5 mcg/kg/day"
    assert give["indicator"] == "info" and by_rec["caution-bone-pain"]["indicator"] == "warning"
    assert "5 ug/kg x 70 kg = 350 ug" in give["detail"]
    assert "Observation/anc-1/_history/1" in give["detail"] and "Test reference one." in give["detail"]
    assert "gcsf-demo 0.1.0" in give["detail"] and "sha256:" in give["detail"]
    assert "TEST FIXTURE, NOT CLINICAL ADVICE." in give["detail"]
    [s] = give["suggestions"]
    mr = s["actions"][0]["resource"]
    assert s["actions"][0]["type"] == "create" and give["selectionBehavior"] == "at-most-one"
    assert (mr["status"], mr["intent"]) == ("draft", "proposal")
    assert mr["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 350
    assert mr["dosageInstruction"][0]["route"]["coding"][0]["code"] == "34206005"
    assert mr["subject"] == {"reference": f"Patient/{PID}"}
    assert "suggestions" not in by_rec["caution-bone-pain"]
    stored = env.storage.card(give["uuid"])
    assert (
        stored is not None
        and stored.guideline_id == "gcsf-demo"
        and stored.content_hash.startswith("sha256:")
    )
    assert stored.suggestions == (s["uuid"],)


def test_null_prefetch_means_no_data_and_gives_one_cannot_decide_card_naming_the_facts(env: Any) -> None:
    pre = prefetch(PID)
    pre["anc"] = None
    r = call(env, PV, hook_request("patient-view", PID, pre))
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    check_card_rules(card)
    assert card["indicator"] == "warning" and "anc" in card["summary"]
    assert "`anc` (missing)" in card["detail"] and "http://loinc.org|751-8" in card["detail"]
    assert "suggestions" not in card


def test_a_dropped_resource_is_noted_on_the_cannot_decide_card(env: Any) -> None:
    pre = prefetch(PID)
    pre["anc"] = searchset(observation("anc-9", "751-8", 0.4, "10*9/L", PID, status="preliminary"))
    [card] = call(env, PV, hook_request("patient-view", PID, pre)).json()["cards"]
    assert "preliminary" in card["detail"] and "Observation/anc-9" in card["detail"]


def test_partial_prefetch_is_completed_from_the_fhir_server_with_the_token(env: Any) -> None:
    env.fhir.resources = {"Observation": [observation("wt-srv", "29463-7", 80, "kg", PID)]}
    pre = prefetch(PID)
    del pre["weight"]
    body = hook_request(
        "patient-view",
        PID,
        pre,
        fhirServer=env.fhir.base,
        fhirAuthorization={
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Observation.read",
            "subject": "cds",
        },
    )
    r = call(env, PV, body)
    assert r.status_code == 200, r.text
    give = next(c for c in r.json()["cards"] if c["source"].get("topic", {}).get("code") == "give-gcsf")
    assert "5 ug/kg x 80 kg = 400 ug" in give["detail"] and "Observation/wt-srv" in give["detail"]
    path, auth = env.fhir.seen[-1]
    assert path.startswith("/fhir/Observation?patient=patient-zz-4471&code=http://loinc.org|29463-7")
    assert auth == f"Bearer {TOKEN}"


def test_an_operation_outcome_in_prefetch_is_an_error_fetched_again(env: Any) -> None:
    env.fhir.resources = {"Observation": [observation("anc-srv", "751-8", 2.5, "10*9/L", PID)]}
    pre = prefetch(PID)
    pre["anc"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    r = call(env, PV, hook_request("patient-view", PID, pre, fhirServer=env.fhir.base))
    assert r.status_code == 200, r.text
    assert [c["source"]["topic"]["code"] for c in r.json()["cards"]] == ["observe"]


@pytest.mark.parametrize(
    "case",
    [
        "missing key, no fhirServer",
        "OperationOutcome, no fhirServer",
        "fhirServer fails",
        "fhirServer not https",
    ],
)
def test_412_when_the_data_can_be_had_neither_way(env: Any, case: str) -> None:
    pre = prefetch(PID)
    extra: dict[str, Any] = {}
    if case == "missing key, no fhirServer":
        del pre["weight"]
    elif case == "OperationOutcome, no fhirServer":
        pre["weight"] = {"resourceType": "OperationOutcome", "issue": []}
    elif case == "fhirServer fails":
        del pre["weight"]
        env.fhir.fail = {"Observation"}
        extra["fhirServer"] = env.fhir.base
    else:
        del pre["weight"]
        extra["fhirServer"] = "http://fhir.example.org/r4"
    try:
        r = call(env, PV, hook_request("patient-view", PID, pre, **extra))
    finally:
        env.fhir.fail = set()
    assert r.status_code == 412, r.text
    assert r.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "body",
    [
        {"hook": "patient-view"},
        {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "../../etc"}},
        {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "p"}},
        {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p"}, "prefetch": {"anc": 5}},
    ],
)
def test_a_request_that_does_not_follow_the_spec_is_400(env: Any, body: dict[str, Any]) -> None:
    r = call(env, PV, body)
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"


def test_duplicate_keys_and_oversized_bodies_are_refused(env: Any) -> None:
    tok = env.signer.token(env.base + PV, jku=env.jwks.url)
    r = env.client.post(
        PV,
        content=b'{"hook": "patient-view", "hook": "order-sign"}',
        headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    tok = env.signer.token(env.base + PV, jku=env.jwks.url)
    r = env.client.post(
        PV,
        content=b"[" * 10 + b" " * (5 * 1024 * 1024),
        headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_unknown_service_is_404(env: Any) -> None:
    assert call(env, "/cds-services/nope", hook_request("patient-view", PID, None)).status_code == 404


# ---------------------------------------------------------------------------------------- order-sign


def draft_order(dose: Any, unit: str = "ug", route: str = "34206005", freq: int = 1) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "draft-1",
                    "status": "draft",
                    "intent": "order",
                    "subject": {"reference": f"Patient/{PID}"},
                    "medicationCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                "code": "68442",
                                "display": "filgrastim",
                            }
                        ]
                    },
                    "dosageInstruction": [
                        {
                            "route": {"coding": [{"system": "http://snomed.info/sct", "code": route}]},
                            "timing": {"repeat": {"frequency": freq, "period": 1, "periodUnit": "d"}},
                            "doseAndRate": [
                                {
                                    "doseQuantity": {
                                        "value": dose,
                                        "unit": unit,
                                        "system": "http://unitsofmeasure.org",
                                        "code": unit,
                                    }
                                }
                            ],
                        }
                    ],
                }
            }
        ],
    }


def order_sign(env: Any, order: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    body = hook_request("order-sign", PID, prefetch(PID, **kw))
    body["context"]["draftOrders"] = order
    r = call(env, OS, body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    for c in cards:
        check_card_rules(c)
    return cards


def test_order_sign_accepts_the_computed_dose_in_another_unit(env: Any) -> None:
    assert order_sign(env, draft_order(350)) == []
    assert order_sign(env, draft_order(0.35, unit="mg")) == []


def test_order_sign_catches_a_wrong_dose_and_suggests_the_update(env: Any) -> None:
    [card] = order_sign(env, draft_order(480))
    assert card["indicator"] == "warning" and "dose" in card["summary"]
    assert "ordered 480 ug, the guideline computes 350 ug" in card["detail"]
    [s] = card["suggestions"]
    action = s["actions"][0]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-1"
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 350


def test_order_sign_catches_route_and_frequency(env: Any) -> None:
    [card] = order_sign(env, draft_order(350, route="47625008", freq=2))
    assert "route: the guideline gives it subcutaneous" in card["detail"]
    assert "frequency: the guideline gives it once daily" in card["detail"]


def test_order_sign_timing_against_chemotherapy_is_critical(env: Any) -> None:
    [card] = order_sign(env, draft_order(350), chemo=True)
    assert card["indicator"] == "critical" and "Do not sign" in card["summary"]


def test_order_sign_without_a_recommendation_for_the_drug_cannot_confirm_it(env: Any) -> None:
    [card] = order_sign(env, draft_order(350), anc=3.0)
    assert card["indicator"] == "warning" and "recommends no filgrastim" in card["summary"]


@pytest.mark.parametrize(
    "concept",
    [
        {"text": "paracetamol"},
        {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "1000001",
                    "display": "filgrastim 0.3 MG/ML Injectable Solution",
                }
            ]
        },
        {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1000002"}],
            "text": "Neupogen",
        },
    ],
)
def test_order_sign_never_stays_silent_on_an_order_it_cannot_match(env: Any, concept: dict) -> None:
    # finding 4: a product-coded filgrastim order for 9999 mcg got no card at all
    order = draft_order(9999)
    order["entry"][0]["resource"]["medicationCodeableConcept"] = concept
    [card] = order_sign(env, order)
    check_card_rules(card)
    assert card["indicator"] == "warning" and card["summary"].startswith("Cannot check this order")
    assert "68442" in card["detail"]  # the codes the guideline matches are named
    if "filgrastim" in json.dumps(concept):
        assert "mentions filgrastim" in card["detail"]


# ------------------------------------------------------------------------------------------ feedback


def _cards(env: Any) -> list[dict[str, Any]]:
    return call(env, PV, hook_request("patient-view", PID, prefetch(PID))).json()["cards"]


def test_feedback_is_stored_once_and_counted(env: Any) -> None:
    give = next(c for c in _cards(env) if "suggestions" in c)
    before = env.storage.feedback_counts()
    accepted = {
        "card": give["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": now_text(-1),
        "acceptedSuggestions": [{"id": give["suggestions"][0]["uuid"]}],
    }
    r = call(env, PV + "/feedback", {"feedback": [accepted]})
    assert r.status_code == 200 and r.json() == {"stored": 1, "duplicates": 0}
    assert call(env, PV + "/feedback", {"feedback": [accepted]}).json() == {"stored": 0, "duplicates": 1}
    reason = give["overrideReasons"][0]
    other = next(c for c in _cards(env) if "suggestions" in c)  # one outcome per card: another card
    over = {
        "card": other["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": now_text(-0.5),
        "overrideReason": {"reason": reason, "userComment": f"patient {PID} declined"},
    }
    assert call(env, PV + "/feedback", {"feedback": [over]}).json() == {"stored": 1, "duplicates": 0}
    after = env.storage.feedback_counts()
    assert after["total"] == before["total"] + 2
    assert after["by_outcome"]["accepted"] == before["by_outcome"].get("accepted", 0) + 1
    assert after["by_reason"][f"{reason['system']}|{reason['code']}"] >= 1


@pytest.mark.parametrize(
    "bad",
    [
        "unknown card",
        "unknown suggestion",
        "accepted without suggestions",
        "bad timestamp",
        "no offset",
        "in the future",
        "years ago",
        "made-up override reason",
    ],
)
def test_bad_feedback_stores_nothing(env: Any, bad: str) -> None:
    give = next(c for c in _cards(env) if "suggestions" in c)
    item: dict[str, Any] = {
        "card": give["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": now_text(-1),
        "acceptedSuggestions": [{"id": give["suggestions"][0]["uuid"]}],
    }
    if bad == "unknown card":
        item["card"] = str(uuid.uuid4())
    elif bad == "unknown suggestion":
        item["acceptedSuggestions"] = [{"id": str(uuid.uuid4())}]
    elif bad == "accepted without suggestions":
        del item["acceptedSuggestions"]
    elif bad == "no offset":
        item["outcomeTimestamp"] = now_text(-1).rstrip("Z")
    elif bad == "in the future":
        item["outcomeTimestamp"] = "2999-01-01T00:00:00Z"
    elif bad == "years ago":
        item["outcomeTimestamp"] = "2001-01-01T00:00:00Z"
    elif bad == "made-up override reason":
        del item["acceptedSuggestions"]
        item["outcome"] = "overridden"
        item["overrideReason"] = {"reason": {"system": "http://evil", "code": "made-up"}}
    else:
        item["outcomeTimestamp"] = "yesterday"
    before = env.storage.feedback_counts()["total"]
    r = call(env, PV + "/feedback", {"feedback": [item]})
    assert r.status_code in (400, 404)
    assert env.storage.feedback_counts()["total"] == before


def test_concurrent_feedback_stores_each_row_exactly_once(env: Any) -> None:
    cards = [c for _ in range(3) for c in _cards(env)]
    items = [
        {"card": c["uuid"], "outcome": "overridden", "outcomeTimestamp": now_text(-1 - k / 60)}
        for c in cards
        for k in range(2)
    ]
    before = env.storage.feedback_counts()["total"]
    # every item posted four times, from 16 threads at once
    posts = [items[i] for i in range(len(items)) for _ in range(4)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda it: call(env, PV + "/feedback", {"feedback": [it]}).json(), posts))
    assert sum(r["stored"] for r in results) == len(items)
    assert sum(r["duplicates"] for r in results) == 3 * len(items)
    assert env.storage.feedback_counts()["total"] == before + len(items)


def test_one_instant_is_one_feedback_and_a_card_has_one_outcome(env: Any) -> None:
    card = next(c for c in _cards(env) if "suggestions" in c)
    utc = now_text(-2)  # ...Z; the same instant written at +01:00:
    shifted = datetime.fromisoformat(utc).astimezone(timezone(timedelta(hours=1))).isoformat()
    before = env.storage.feedback_counts()["total"]
    items = [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": t} for t in (utc, shifted)]
    r = call(env, PV + "/feedback", {"feedback": items})
    assert r.json() == {"stored": 1, "duplicates": 1}
    accepted = {
        "card": card["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": now_text(-1),
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
    }
    r = call(env, PV + "/feedback", {"feedback": [accepted]})
    assert r.status_code == 409 and env.storage.feedback_counts()["total"] == before + 1


def test_no_token_or_patient_identifier_is_stored_in_clear(env: Any) -> None:
    text = env.storage.dump_text()
    assert text  # cards, feedback and JWT ids were stored by the tests above
    assert PID not in text and TOKEN not in text and "declined" not in text


# --------------------------------------------------------------------------------------- JWT attacks


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    sig = hmac.new(key, signing.encode(), hashlib.sha256).digest() if key is not None else b""
    return f"{signing}.{_b64(sig)}"


def attack_token(env: Any, attack: str, aud: str) -> str:
    import time

    now = int(time.time())
    claims = {"iss": ISS, "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    if attack == "none":
        return _forge({"alg": "none", "typ": "JWT", "kid": env.signer.kid}, claims, None)
    if attack == "HS256 signed with the public key":
        from cryptography.hazmat.primitives import serialization

        pem = env.signer.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return _forge({"alg": "HS256", "typ": "JWT", "kid": env.signer.kid, "jku": env.jwks.url}, claims, pem)
    if attack == "wrong aud":
        return str(env.signer.token(env.base + "/cds-services/other-service", jku=env.jwks.url))
    if attack == "expired":
        return str(env.signer.token(aud, jku=env.jwks.url, iat_shift=-400, exp_in=120))
    if attack == "unknown iss":
        return str(env.signer.token(aud, iss="https://evil.example/", jku=env.jwks.url))
    if attack == "jku not pinned":
        return str(env.signer.token(aud, jku="http://127.0.0.1:9/evil-jwks.json"))
    if attack == "signed by another key with the same kid":
        return str(Signer(env.signer.kid).token(aud, jku=env.jwks.url))
    if attack == "no kid":
        return str(jwt_without_kid(env, aud))
    raise AssertionError(attack)


def jwt_without_kid(env: Any, aud: str) -> str:
    import time

    import jwt

    now = int(time.time())
    return jwt.encode(
        {"iss": ISS, "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())},
        env.signer.private,
        algorithm="ES384",
    )


ATTACKS = [
    "none",
    "HS256 signed with the public key",
    "wrong aud",
    "expired",
    "unknown iss",
    "jku not pinned",
    "signed by another key with the same kid",
    "no kid",
]


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("path", ["/cds-services", PV, PV + "/feedback"])
def test_jwt_attacks_get_401_without_detail(env: Any, attack: str, path: str) -> None:
    body = (
        None
        if path == "/cds-services"
        else (
            {"feedback": [{"card": "x", "outcome": "overridden", "outcomeTimestamp": "2026-03-01T10:00:00Z"}]}
            if path.endswith("feedback")
            else hook_request("patient-view", PID, prefetch(PID))
        )
    )
    r = call(env, path, body, token=attack_token(env, attack, env.base + path))
    assert r.status_code == 401 and r.content == b""


def test_a_replayed_jti_gets_401(env: Any) -> None:
    tok = env.signer.token(env.base + "/cds-services", jku=env.jwks.url)
    assert call(env, "/cds-services", token=tok).status_code == 200
    assert call(env, "/cds-services", token=tok).status_code == 401


def test_no_token_gets_401(env: Any) -> None:
    assert env.client.get("/cds-services").status_code == 401
    assert env.client.post(PV, json={}).status_code == 401


def test_the_jwks_is_cached(env: Any) -> None:
    hits = env.jwks.hits
    for _ in range(3):
        assert call(env, "/cds-services").status_code == 200
    assert env.jwks.hits == hits


# --------------------------------------------------------------------------------- load and command


def test_a_title_that_does_not_fit_a_summary_is_refused_at_load() -> None:
    fixture = Path(__file__).parent / "fixtures" / "invalid" / "recommendation-title-long" / "guideline.yaml"
    with pytest.raises(GuidelineError) as exc:
        build_services([bindings_for(load(str(fixture)))])
    assert [d.code for d in exc.value.diagnostics] == ["recommendation-title-long"]


def test_serve_without_the_extra_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None\nfrom interpreter.cli import main\n"
        f"main(['serve', 'leukopenia', '--db', {str(tmp_path / 'x.sqlite')!r}, '--allow-unsigned'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "guideline-interpreter[service]" in out.stderr


def test_serve_refuses_to_start_without_trust_or_allow_unsigned(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "interpreter", "serve", "leukopenia", "--db", str(tmp_path / "x.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "--trust" in out.stderr


def test_guideline_help_does_not_import_the_service() -> None:
    code = (
        "import sys, runpy\nsys.argv = ['guideline', '--help']\ntry:\n"
        "    runpy.run_module('interpreter', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'jwt', 'httpx', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_indicator_follows_urgency_and_category() -> None:
    from types import SimpleNamespace

    from interpreter.ext.cdshooks.cards import _indicator

    def rec(**kw: Any) -> Any:
        return SimpleNamespace(**({"category": "treatment", "actions": ()} | kw))

    assert _indicator(rec()) == "info"
    assert _indicator(rec(category="caution")) == "warning"
    assert _indicator(rec(urgency="urgent")) == "warning"
    assert _indicator(rec(urgency="immediate")) == "critical"
    assert _indicator(rec(actions=(SimpleNamespace(type="stop-drug"),))) == "warning"


# ------------------------------------------------------------------ adversarial review of issue 10 (findings)


def test_a_subject_given_by_identifier_only_is_not_this_patient(env: Any) -> None:
    # finding 2: an identifier-only subject read as this patient's ANC
    pre = prefetch(PID)
    pre["anc"] = searchset(
        observation("anc-id", "751-8", 0.1, "10*9/L", PID, subject={"identifier": {"value": "MRN2"}})
    )
    [card] = call(env, PV, hook_request("patient-view", PID, pre)).json()["cards"]
    assert "`anc` (missing)" in card["detail"] and "not a literal reference" in card["detail"]


def test_a_partial_prefetch_page_never_gives_absence_or_a_cut_answer(env: Any) -> None:
    # finding 6: a page with a next link (or total over its entries) is not the whole answer
    pre = prefetch(PID)
    pre["chemo_within_24h"] = searchset() | {"total": 3}
    pre["anc"]["link"] = [{"relation": "next", "url": "https://ehr.example/fhir/Observation?page=2"}]
    [card] = call(env, PV, hook_request("patient-view", PID, pre)).json()["cards"]
    assert "`anc` (missing)" in card["detail"] and "may be incomplete" in card["detail"]


def test_fetched_search_pages_are_followed_within_a_bound() -> None:
    from interpreter.ext.cdshooks.prefetch import MAX_PAGES, gather

    service = build_services((bindings_for(load(str(GCSF))),))["gcsf-demo-patient-view"]
    pages = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        pages["n"] += 1
        page = int(request.url.params.get("page", "1"))
        oid = f"w{page}-{pages['n']}"
        doc = searchset(observation(oid, "29463-7", 70, "kg", PID))
        if page < limit:
            doc["link"] = [
                {"relation": "next", "url": f"https://ehr.example/fhir/Observation?page={page + 1}"}
            ]
        return httpx.Response(200, json=doc)

    pre = prefetch(PID)
    del pre["weight"]
    body = hook_request("patient-view", PID, pre, fhirServer="https://ehr.example/fhir")
    limit = 3
    got = gather(service, body, PID, transport=httpx.MockTransport(handler))
    assert pages["n"] == 3 and got.partial == {} and len(got.resources) > 3
    limit, pages["n"] = MAX_PAGES + 5, 0
    got = gather(service, body, PID, transport=httpx.MockTransport(handler))
    assert pages["n"] == MAX_PAGES and "weight" in got.partial


def test_fetch_on_miss_has_one_total_deadline_and_a_cap(tmp_path: Path) -> None:
    # finding 5: a server dripping one byte at a time held a thread for minutes
    import socket
    import threading
    import time

    from interpreter.ext.cdshooks.prefetch import PreconditionFailed, gather

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    closed: list[float] = []

    def drip() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 100000\r\n\r\n"
        )
        try:
            for _ in range(200):
                conn.sendall(b" ")
                time.sleep(0.1)
        except OSError:
            closed.append(time.monotonic())
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    service = build_services((bindings_for(load(str(GCSF))),))["gcsf-demo-patient-view"]
    pre = prefetch(PID)
    del pre["weight"]
    base = f"http://127.0.0.1:{listener.getsockname()[1]}/fhir"
    body = hook_request("patient-view", PID, pre, fhirServer=base)
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        gather(service, body, PID, allow_http=True, allow_private=True, deadline=start + 1.0, timeout_s=0.5)
    assert type(info.value).__name__ in ("DeadlinePassed", "PreconditionFailed")
    assert time.monotonic() - start < 2.0  # the per-read timeout never stretched the total
    listener.close()
    # the cap: no slot before the deadline, no fetch
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    with pytest.raises(PreconditionFailed, match="too many"):
        gather(
            service,
            body,
            PID,
            allow_http=True,
            allow_private=True,
            limiter=slots,
            deadline=time.monotonic() + 0.2,
        )


def test_no_card_is_stored_after_the_deadline(env: Any) -> None:
    import time

    from interpreter.ext.cdshooks.prefetch import DeadlinePassed

    svc = env.app_service
    service = svc.services["gcsf-demo-patient-view"]
    before = env.storage.dump_text().count("gcsf-demo-patient-view")
    with pytest.raises(DeadlinePassed):
        svc.evaluate(service, hook_request("patient-view", PID, prefetch(PID)), time.monotonic() - 0.001)
    assert env.storage.dump_text().count("gcsf-demo-patient-view") == before


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/fhir",
        "https://169.254.169.254/latest",
        "https://127.0.0.1/fhir",
        "https://[::1]/fhir",
        "https://[::ffff:192.168.1.1]/fhir",
        "https://100.64.0.1/fhir",
        "http://127.0.0.1:8080/fhir",
    ],
)
def test_fetch_on_miss_refuses_internal_addresses(url: str) -> None:
    # finding 10: the fhirAuthorization token would be sent to an internal address
    from interpreter.ext.cdshooks.prefetch import fhir_server_problem

    assert fhir_server_problem(url, allow_http=False) is not None
    if url.startswith("https"):
        assert fhir_server_problem(url, allow_http=False, allow_private=True) is None


def test_fetch_on_miss_to_loopback_is_refused_before_connecting(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path / "c.sqlite"), b"k" * 32)
    sets = (bindings_for(load(str(GCSF))),)
    with FhirServer() as fhir:
        fhir.resources = {"Observation": [observation("wt-srv", "29463-7", 80, "kg", PID)]}

        def make(url: str) -> Any:
            return create_app(ServiceConfig(sets, storage, url, allow_unsigned=True, allow_http_fhir=True))

        with run_app(make) as base:
            pre = prefetch(PID)
            del pre["weight"]
            body = hook_request(
                "patient-view",
                PID,
                pre,
                fhirServer=fhir.base,
                fhirAuthorization={
                    "access_token": TOKEN,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "s",
                    "subject": "c",
                },
            )
            r = httpx.post(base + PV, json=body, timeout=10)
        assert r.status_code == 412 and "loopback" in r.text
        assert fhir.seen == []  # nothing, and no token, was sent


def test_auth_edges(env: Any) -> None:
    # finding 12: the scheme is case-insensitive; /openapi.json is behind auth; no redirect before auth
    tok = env.signer.token(env.base + "/cds-services", jku=env.jwks.url)
    assert env.client.get("/cds-services", headers={"Authorization": f"bearer {tok}"}).status_code == 200
    assert env.client.get("/openapi.json").status_code == 401
    assert call(env, "/openapi.json").status_code == 200
    r = env.client.get("/cds-services/")
    assert r.status_code == 401 and "location" not in r.headers
    assert call(env, "/cds-services/").json()["services"]
