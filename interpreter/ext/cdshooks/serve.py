"""Running the service: ``ServeOptions`` (what ``guideline serve`` was given) -> ``ServiceConfig`` -> the app
under uvicorn. With several workers, uvicorn imports ``app_factory`` in each worker process, which reads the
options from the environment variable ``GUIDELINE_SERVE_OPTIONS`` (JSON; it holds file names and URLs, no
secret: the hashing key stays in its file)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ...api import load
from ..fhir.bindings import bindings_for, bundled_site_bindings, load_site_bindings
from .app import ServiceConfig, create_app
from .auth import Issuer
from .storage import Storage, load_or_create_key

__all__ = ["ENV", "ServeOptions", "app_factory", "config_from", "read_issuers", "run"]

ENV = "GUIDELINE_SERVE_OPTIONS"


@dataclass
class ServeOptions:
    guidelines: list[str]
    db: str
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    bindings: list[str] = field(default_factory=list)
    trust_file: str | None = None
    allow_unsigned: bool = False
    allow_http_fhir: bool = False
    allow_private_fhir: bool = False
    public_openapi: bool = False
    cors_origins: list[str] = field(default_factory=list)
    key_file: str | None = None
    workers: int = 1
    time_zone: str | None = None
    max_body_bytes: int = 4 * 1024 * 1024
    time_limit_s: float = 10.0

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (self.public_url or f"http://{host}:{self.port}").rstrip("/")


def read_issuers(path: str) -> dict[str, Issuer]:
    """The trusted clients: a JSON file ``{"issuers": [{"iss": ..., "jku": ... | "jwks_file": ...}]}``;
    ``jwks_file`` is relative to the file. ``ValueError`` when it is not so."""
    with open(path, "rb") as f:
        doc = json.loads(f.read(1024 * 1024))
    items = doc.get("issuers") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise ValueError(f'{path}: expected {{"issuers": [{{"iss": ..., "jku": ...}}]}}')
    out = {}
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("iss"), str):
            raise ValueError(f"{path}: issuers[{i}] has no iss")
        jku, jwks_file = it.get("jku"), it.get("jwks_file")
        if (jku is None) == (jwks_file is None):
            raise ValueError(f"{path}: issuers[{i}] needs exactly one of jku (the pinned URL) and jwks_file")
        if jku is not None and not (isinstance(jku, str) and jku.startswith(("https://", "http://"))):
            raise ValueError(f"{path}: issuers[{i}].jku is not a URL")
        if jwks_file is not None:
            jwks_file = os.path.join(os.path.dirname(os.path.abspath(path)), str(jwks_file))
        out[it["iss"]] = Issuer(it["iss"], jku, jwks_file)
    return out


def config_from(o: ServeOptions) -> ServiceConfig:
    """Load the guidelines and bindings and open the storage. Raises ``GuidelineError`` (bad guideline or
    bindings) or ``ValueError`` / ``OSError`` (bad trust file, database)."""
    sites = [load_site_bindings(b) for b in o.bindings]
    sets = []
    for ref in o.guidelines:
        g = load(ref)
        site = next((s for s in sites if s.guideline == g.id), None) or bundled_site_bindings(g)
        sets.append(bindings_for(g, site))
    unused = [s.file for s in sites if s.guideline not in {b.guideline.id for b in sets}]
    if unused:
        raise ValueError(f"binding file {unused[0]} is for no guideline served")
    if not o.allow_unsigned and not o.trust_file:
        raise ValueError(
            "give --trust FILE (the issuers allowed to call), or --allow-unsigned for local testing"
        )
    issuers = read_issuers(o.trust_file) if o.trust_file else {}
    key = load_or_create_key(o.key_file or o.db + ".key")
    return ServiceConfig(
        binding_sets=tuple(sets),
        storage=Storage(o.db, key),
        public_url=o.base_url,
        issuers=issuers,
        allow_unsigned=o.allow_unsigned,
        cors_origins=tuple(o.cors_origins),
        max_body_bytes=o.max_body_bytes,
        time_limit_s=o.time_limit_s,
        allow_http_fhir=o.allow_http_fhir or o.allow_unsigned,
        allow_private_fhir=o.allow_private_fhir,
        public_openapi=o.public_openapi,
        time_zone=o.time_zone,
    )


def app_factory() -> Any:
    """For uvicorn workers: the app built from ``GUIDELINE_SERVE_OPTIONS``."""
    options = ServeOptions(**json.loads(os.environ[ENV]))
    return create_app(config_from(options))


def run(o: ServeOptions) -> None:
    """Check everything once (errors surface before uvicorn starts), then serve."""
    import uvicorn

    config = config_from(o)
    app = create_app(config)  # refuses a guideline that cannot be served, before uvicorn starts
    log_config = None
    if o.workers > 1:
        os.environ[ENV] = json.dumps(asdict(o))
        uvicorn.run(
            "interpreter.ext.cdshooks.serve:app_factory",
            factory=True,
            host=o.host,
            port=o.port,
            workers=o.workers,
            log_config=log_config,
            access_log=False,
            limit_concurrency=1000,
            timeout_keep_alive=5,
        )
    else:
        uvicorn.run(
            app,
            host=o.host,
            port=o.port,
            log_config=log_config,
            access_log=False,
            limit_concurrency=1000,
            timeout_keep_alive=5,
        )
