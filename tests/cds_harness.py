"""Test harness for the CDS Hooks service: the real app under uvicorn on a loopback port (in a thread), a
loopback FHIR server serving fixture resources, a loopback JWKS server, and a CDS Client's JWT signer."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec

GCSF = Path(__file__).parent / "fixtures" / "cdshooks" / "gcsf.guideline.yaml"
UCUM = "http://unitsofmeasure.org"
ISS = "https://ehr.test.example/"


def now_text(hours: float = -1) -> str:
    return (
        (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def observation(oid: str, code: str, value: Any, unit: str, patient: str, **extra: Any) -> dict[str, Any]:
    r = {
        "resourceType": "Observation",
        "id": oid,
        "meta": {"versionId": "1"},
        "status": "final",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": now_text(),
        "valueQuantity": {"value": value, "system": UCUM, "code": unit},
    }
    r.update(extra)
    return r


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def patient(pid: str, birth: str = "1970-05-05") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": birth}


def prefetch(pid: str, anc: Any = 0.4, weight: Any = 70, chemo: bool = False) -> dict[str, Any]:
    chemo_bundle = (
        searchset(
            {
                "resourceType": "MedicationRequest",
                "id": "chemo-1",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{pid}"},
                "medicationCodeableConcept": {
                    "coding": [{"system": "http://example.org/chemo", "code": "chemo-now"}]
                },
            }
        )
        if chemo
        else None
    )
    return {
        "anc": searchset(observation("anc-1", "751-8", anc, "10*9/L", pid)),
        "weight": searchset(observation("wt-1", "29463-7", weight, "kg", pid)),
        "patient": patient(pid),
        "chemo_within_24h": chemo_bundle,
    }


def hook_request(hook: str, pid: str, pre: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"patientId": pid, "userId": "Practitioner/1"},
    }
    if pre is not None:
        body["prefetch"] = pre
    body.update(extra)
    return body


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def run_app(make_app: Callable[[str], Any]) -> Iterator[str]:
    """Serve ``make_app(base_url)`` under uvicorn on a loopback port; yields the base URL."""
    sock = _free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(make_app(base), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


class FhirServer:
    """A loopback FHIR server: answers searches and reads from ``resources`` (by type), filtering by
    ``patient`` and ``code``; records the Authorization header of each request."""

    def __init__(self) -> None:
        self.resources: dict[str, list[dict[str, Any]]] = {}
        self.seen: list[tuple[str, str | None]] = []
        self.fail: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                outer.seen.append((self.path, self.headers.get("Authorization")))
                path = parts.path.removeprefix("/fhir/")
                q = parse_qs(parts.query)
                rtype = path.split("/")[0]
                if rtype in outer.fail:
                    self._send(500, {"resourceType": "OperationOutcome", "issue": []})
                    return
                if "/" in path:
                    rid = path.split("/")[1]
                    found = [r for r in outer.resources.get(rtype, []) if r.get("id") == rid]
                    self._send(
                        200 if found else 404, found[0] if found else {"resourceType": "OperationOutcome"}
                    )
                    return
                pid = q.get("patient", [""])[0]
                codes = {c.split("|")[-1] for c in q.get("code", [""])[0].split(",") if c}
                hits = [
                    r
                    for r in outer.resources.get(rtype, [])
                    if r.get("subject", {}).get("reference") == f"Patient/{pid}"
                    and (not codes or codes & {c.get("code") for c in _codes(r)})
                ]
                self._send(200, searchset(*hits))

            def _send(self, status: int, doc: Any) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FhirServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _codes(r: dict[str, Any]) -> list[dict[str, Any]]:
    concept = r.get("code") or r.get("medicationCodeableConcept") or {}
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


class Signer:
    """A CDS Client's key pair (ES384), its JWK Set, and tokens for an endpoint."""

    def __init__(self, kid: str = "client-key-1") -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP384R1())
        public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = {"keys": [public_jwk | {"kid": kid, "use": "sig", "alg": "ES384"}]}

    def token(
        self,
        aud: str,
        *,
        iss: str = ISS,
        jku: str | None = None,
        exp_in: int = 120,
        iat_shift: int = 0,
        jti: str | None = None,
        kid: str | None = None,
        alg: str = "ES384",
    ) -> str:
        now = int(time.time()) + iat_shift
        payload = {"iss": iss, "aud": aud, "iat": now, "exp": now + exp_in, "jti": jti or str(uuid.uuid4())}
        headers: dict[str, Any] = {"kid": kid or self.kid, "typ": "JWT"}
        if jku is not None:
            headers["jku"] = jku
        return jwt.encode(payload, self.private, algorithm=alg, headers=headers)


class JwksServer:
    """A loopback server publishing a JWK Set (the pinned jku)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits += 1
                data = json.dumps(jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
