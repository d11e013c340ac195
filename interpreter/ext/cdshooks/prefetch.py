"""The patient's resources for one CDS Hooks call: the prefetch the client sent, and what is missing fetched
from its ``fhirServer`` (CDS Hooks 2.0, "Providing FHIR Resources to a CDS Service").

Each prefetch key of the service is read as the spec says:

* key absent: the client did not run the query -> fetched from ``fhirServer``;
* ``null``: the query ran and found nothing -> no resources (the facts it answers are missing);
* an ``OperationOutcome``: the query failed -> fetched from ``fhirServer``;
* a Bundle (searchset) or a resource -> its resources.

A search Bundle may be one page of many: a ``link`` with relation ``next``, or a ``total`` over its matches.
A fetched search follows its ``next`` links on the same server, at most ``MAX_PAGES`` pages; a page that is
still partial (or a partial prefetch page) is passed on as *partial* for the inputs of that query, and the
adapter never reads absence or a series from it (docs/integration.md, "Search pages").

What can be had neither way raises ``PreconditionFailed`` (HTTP 412). A fetch uses the token of
``fhirAuthorization`` (sent only to that server, never logged or stored), no redirects, no proxies from the
environment, at most ``MAX_BUNDLE_BYTES`` per page, and one total deadline for all the fetches of the call
(checked on every chunk; each read waits at most the per-read timeout and never past the deadline). At most
``MAX_CONCURRENT_FETCHES`` calls fetch at once (per service); a call that cannot get a slot before its
deadline fails as unfetched. ``fhirServer`` must be https; its host is resolved and every address must be
public (not loopback, private, link-local, shared, multicast or reserved), and the connection goes to the
checked address, unless the operator allows private addresses (``--allow-private-fhir``, for tests).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ...errors import FactsError
from ..fhir.adapter import MAX_BUNDLE_BYTES, parse_bundle, resources_of_bundle
from .services import PrefetchTemplate, Service

__all__ = [
    "FHIR_ID",
    "Gathered",
    "PreconditionFailed",
    "address_problem",
    "fhir_server_problem",
    "gather",
    "page_partial",
]

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
FETCH_TIMEOUT_S = 2.0
#: the total time for all the fetches of one call
FETCH_DEADLINE_S = 5.0
#: the pages of one search followed through ``next`` links
MAX_PAGES = 5
#: calls fetching from fhirServer at once, per service process
MAX_CONCURRENT_FETCHES = 16


class PreconditionFailed(Exception):
    """The data a service needs could be had neither from the prefetch nor from the FHIR server."""

    def __init__(self, keys: Sequence[str], reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.keys = tuple(keys)
        self.reasons = tuple(reasons)


class DeadlinePassed(Exception):
    """The call's deadline passed: nothing more is fetched, and nothing is stored."""


@dataclass
class Gathered:
    resources: list[Mapping[str, Any]] = field(default_factory=list)
    #: key -> "prefetch", "no data" or "fetched"
    sources: dict[str, str] = field(default_factory=dict)
    #: input -> why its search result may be incomplete
    partial: dict[str, str] = field(default_factory=dict)


def address_problem(address: str, allow_private: bool) -> str | None:
    """Why fetch-on-miss may not connect to ``address`` (an IP address), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return "fhirServer does not resolve to an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_private:
        return None
    if not ip.is_global or ip.is_multicast:
        return "fhirServer resolves to a loopback, private, link-local or reserved address"
    return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to an address that ``address_problem`` accepts, resolved here (so a second DNS answer
    cannot point the connection elsewhere); TLS still checks the certificate against the host name."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        if not addresses or any(address_problem(a, self.allow_private) for a in addresses):
            raise httpcore.ConnectError("fhirServer address refused")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


def checked_transport(allow_private: bool) -> httpx.HTTPTransport:
    """An httpx transport whose connections go only to checked addresses (``_CheckedBackend``)."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(  # the public API has no resolver hook
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=10,
        network_backend=_CheckedBackend(allow_private),
    )
    return transport


def fhir_server_problem(
    url: Any, allow_http: bool, allow_private: bool = False, *, resolve: bool = True
) -> str | None:
    """Why ``url`` cannot be used as a FHIR base URL, or None (with ``resolve``, the host's addresses are
    checked too; the connection checks them again)."""
    if not isinstance(url, str) or len(url) > 2048:
        return "fhirServer is not a URL"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "fhirServer is not an http(s) URL"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "fhirServer must be a plain base URL"
    if parts.scheme == "http" and not allow_http:
        return "fhirServer must be https"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "fhirServer has a bad port"
    if not resolve:
        return None
    addresses = _resolve(parts.hostname, port)
    if not addresses:
        return "fhirServer's host cannot be resolved"
    for a in addresses:
        problem = address_problem(a, allow_private)
        if problem:
            return problem
    return None


def _outcome(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome"


def page_partial(doc: Any) -> str | None:
    """Why a search Bundle may be only part of the answer (a ``next`` link, or ``total`` over its matches),
    or None."""
    if not isinstance(doc, Mapping) or doc.get("resourceType") != "Bundle":
        return None
    if _next_link(doc) is not None:
        return "the search result has a next page (Bundle.link next)"
    total = doc.get("total")
    entries: list[Any] = doc["entry"] if isinstance(doc.get("entry"), list) else []
    matches = sum(
        1
        for e in entries
        if isinstance(e, Mapping)
        and not (isinstance(e.get("search"), Mapping) and e["search"].get("mode") == "include")
    )
    if isinstance(total, int) and not isinstance(total, bool) and total > matches:
        return f"the search result holds {matches} of its {total} matches (Bundle.total)"
    return None


def _next_link(doc: Mapping[str, Any]) -> Any:
    links = doc.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == "next":
            return link.get("url")
    return None


def _resources_of(value: Any, template: PrefetchTemplate) -> list[Mapping[str, Any]]:
    """The resources of one prefetch value (a Bundle, or one resource). ``FactsError`` when it is neither."""
    if isinstance(value, Mapping) and value.get("resourceType") == "Bundle":
        return resources_of_bundle(value, f"<prefetch {template.key}>")
    if isinstance(value, Mapping) and value.get("resourceType") == template.resource_type:
        return [value]
    raise FactsError([])


@dataclass
class _Fetcher:
    client: httpx.Client
    base: str
    token: str | None
    deadline: float
    per_read_s: float

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed
        return left

    def get(self, url: str, key: str) -> Any:
        """The parsed document at ``url``, or None (an error, too large, not FHIR JSON)."""
        headers = {"Accept": "application/fhir+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            wait = min(self.per_read_s, self.remaining())
            with self.client.stream("GET", url, headers=headers, timeout=httpx.Timeout(wait)) as response:
                if response.status_code != 200:
                    return None
                data = bytearray()
                for chunk in response.iter_bytes():
                    self.remaining()  # the total deadline, on every chunk (a slow drip cannot hold us)
                    data += chunk
                    if len(data) > MAX_BUNDLE_BYTES:
                        return None
        except httpx.HTTPError:
            self.remaining()
            return None
        try:
            return parse_bundle(bytes(data), f"<fetched {key}>")
        except FactsError:
            return None

    def fetch(
        self, template: PrefetchTemplate, patient_id: str
    ) -> tuple[list[Mapping[str, Any]], str | None] | None:
        """(resources, why partial or None) of one template, following ``next`` links on the same server."""
        root = self.base.rstrip("/") + "/"
        url = root + template.url_for(patient_id)
        out: list[Mapping[str, Any]] = []
        for _page in range(MAX_PAGES):
            doc = self.get(url, template.key)
            if doc is None or _outcome(doc):
                return None
            try:
                out.extend(_resources_of(doc, template))
            except FactsError:
                return None
            partial = page_partial(doc)
            if partial is None:
                return out, None
            nxt = _next_link(doc)
            if not isinstance(nxt, str) or not nxt.startswith(root) or len(nxt) > 4096:
                return out, partial + "; its next page is not on fhirServer"
            url = nxt
        return out, f"the search result has more than {MAX_PAGES} pages"


def _mark_partial(out: Gathered, template: PrefetchTemplate, why: str) -> None:
    for name in template.inputs:
        out.partial.setdefault(name, f"'{template.key}' may be incomplete: {why}")


def gather(
    service: Service,
    request: Mapping[str, Any],
    patient_id: str,
    *,
    allow_http: bool = False,
    allow_private: bool = False,
    timeout_s: float = FETCH_TIMEOUT_S,
    deadline: float | None = None,
    limiter: threading.BoundedSemaphore | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Gathered:
    """The resources for ``service`` from ``request`` (its ``prefetch``, then its ``fhirServer``).
    ``deadline`` (``time.monotonic()``) bounds all the fetches together (default: ``FETCH_DEADLINE_S`` from
    now); ``DeadlinePassed`` when it passes."""
    deadline = deadline if deadline is not None else time.monotonic() + FETCH_DEADLINE_S
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
        why = page_partial(value)
        if why is not None:
            _mark_partial(out, t, why)
        out.sources[t.key] = "prefetch"
    if not to_fetch:
        return out
    keys = [t.key for t in to_fetch]
    server = request.get("fhirServer")
    if server is None:
        raise PreconditionFailed(
            keys, [f"prefetch '{k}' is missing or failed, and no fhirServer" for k in keys]
        )
    # an injected transport (tests) decides where requests go: no address to check
    problem = fhir_server_problem(server, allow_http, allow_private, resolve=transport is None)
    if problem is not None:
        raise PreconditionFailed(keys, [problem])
    auth = request.get("fhirAuthorization")
    token = auth.get("access_token") if isinstance(auth, Mapping) else None
    token = token if isinstance(token, str) else None
    failed: list[str] = []
    if limiter is not None and not limiter.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise PreconditionFailed(keys, ["too many calls are fetching from FHIR servers; try again"])
    try:
        with httpx.Client(
            follow_redirects=False,
            trust_env=False,
            transport=transport if transport is not None else checked_transport(allow_private),
        ) as client:
            fetcher = _Fetcher(client, server, token, deadline, timeout_s)
            for t in to_fetch:
                got = fetcher.fetch(t, patient_id)
                if got is None:
                    failed.append(t.key)
                    continue
                resources, why = got
                out.resources.extend(resources)
                if why is not None:
                    _mark_partial(out, t, why)
                out.sources[t.key] = "fetched"
    finally:
        if limiter is not None:
            limiter.release()
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
