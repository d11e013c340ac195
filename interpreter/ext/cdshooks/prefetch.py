"""The patient's resources for one CDS Hooks call: the prefetch the client sent, and what is missing fetched
from its ``fhirServer`` (CDS Hooks 2.0, "Providing FHIR Resources to a CDS Service").

Each prefetch key of the service is read as the spec says:

* key absent: the client did not run the query -> fetched from ``fhirServer``;
* ``null``: the query ran and found nothing -> no resources (the facts it answers are missing);
* an ``OperationOutcome``: the query failed -> fetched from ``fhirServer``;
* a Bundle (searchset) or a resource -> its resources.

What can be had neither way raises ``PreconditionFailed`` (HTTP 412). A fetch uses the token of
``fhirAuthorization`` (sent only to that server, never logged or stored), a tight timeout, no redirects, and
reads at most ``MAX_BUNDLE_BYTES``; ``fhirServer`` must be https, except on a loopback address or when the
service allows plain http (local testing).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from ...errors import FactsError
from ..fhir.adapter import MAX_BUNDLE_BYTES, parse_bundle, resources_of_bundle
from .services import PrefetchTemplate, Service

__all__ = ["FHIR_ID", "Gathered", "PreconditionFailed", "fhir_server_problem", "gather"]

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
FETCH_TIMEOUT_S = 2.0


class PreconditionFailed(Exception):
    """The data a service needs could be had neither from the prefetch nor from the FHIR server."""

    def __init__(self, keys: Sequence[str], reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.keys = tuple(keys)
        self.reasons = tuple(reasons)


@dataclass
class Gathered:
    resources: list[Mapping[str, Any]] = field(default_factory=list)
    #: key -> "prefetch", "no data" or "fetched"
    sources: dict[str, str] = field(default_factory=dict)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def fhir_server_problem(url: Any, allow_http: bool) -> str | None:
    """Why ``url`` cannot be used as a FHIR base URL, or None."""
    if not isinstance(url, str) or len(url) > 2048:
        return "fhirServer is not a URL"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "fhirServer is not an http(s) URL"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "fhirServer must be a plain base URL"
    if parts.scheme == "http" and not (allow_http or _loopback(parts.hostname)):
        return "fhirServer must be https"
    return None


def _outcome(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome"


def _resources_of(value: Any, template: PrefetchTemplate) -> list[Mapping[str, Any]]:
    """The resources of one prefetch value (a Bundle, or one resource). ``FactsError`` when it is neither."""
    if isinstance(value, Mapping) and value.get("resourceType") == "Bundle":
        return resources_of_bundle(value, f"<prefetch {template.key}>")
    if isinstance(value, Mapping) and value.get("resourceType") == template.resource_type:
        return [value]
    raise FactsError([])


def _fetch(
    client: httpx.Client, base: str, template: PrefetchTemplate, patient_id: str, token: str | None
) -> list[Mapping[str, Any]] | None:
    url = base.rstrip("/") + "/" + template.url_for(patient_id)
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                return None
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BUNDLE_BYTES:
                    return None
    except httpx.HTTPError:
        return None
    try:
        doc = parse_bundle(data, f"<fetched {template.key}>")
        if _outcome(doc):
            return None
        return _resources_of(doc, template)
    except FactsError:
        return None


def gather(
    service: Service,
    request: Mapping[str, Any],
    patient_id: str,
    *,
    allow_http: bool = False,
    timeout_s: float = FETCH_TIMEOUT_S,
    transport: httpx.BaseTransport | None = None,
) -> Gathered:
    """The resources for ``service`` from ``request`` (its ``prefetch``, then its ``fhirServer``)."""
    prefetch = request.get("prefetch")
    prefetch = prefetch if isinstance(prefetch, Mapping) else {}
    out = Gathered()
    to_fetch: list[PrefetchTemplate] = []
    for t in service.prefetch:
        if t.key not in prefetch or _outcome(prefetch[t.key]):
            to_fetch.append(t)
            continue
        value = prefetch[t.key]
        if value is None:
            out.sources[t.key] = "no data"
            continue
        try:
            out.resources.extend(_resources_of(value, t))
        except FactsError:  # neither a Bundle nor the resource asked for: an error, as an OperationOutcome
            to_fetch.append(t)
            continue
        out.sources[t.key] = "prefetch"
    if not to_fetch:
        return out
    keys = [t.key for t in to_fetch]
    server = request.get("fhirServer")
    if server is None:
        raise PreconditionFailed(
            keys, [f"prefetch '{k}' is missing or failed, and no fhirServer" for k in keys]
        )
    problem = fhir_server_problem(server, allow_http)
    if problem is not None:
        raise PreconditionFailed(keys, [problem])
    auth = request.get("fhirAuthorization")
    token = auth.get("access_token") if isinstance(auth, Mapping) else None
    token = token if isinstance(token, str) else None
    failed: list[str] = []
    with httpx.Client(timeout=timeout_s, follow_redirects=False, transport=transport) as client:
        for t in to_fetch:
            got = _fetch(client, server, t, patient_id, token)
            if got is None:
                failed.append(t.key)
            else:
                out.resources.extend(got)
                out.sources[t.key] = "fetched"
    if failed:
        raise PreconditionFailed(failed, [f"'{k}' could not be fetched from fhirServer" for k in failed])
    return out


def dedupe(resources: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Resources with the same type, id and version once (a resource answered by two queries)."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for r in resources:
        rid = r.get("id")
        meta = r.get("meta")
        version = meta.get("versionId") if isinstance(meta, Mapping) else None
        if isinstance(rid, str):
            key = (r.get("resourceType"), rid, version if isinstance(version, str) else None)
            if key in seen:
                continue
            seen.add(key)
        out.append(r)
    return out
