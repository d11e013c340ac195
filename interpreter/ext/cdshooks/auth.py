"""JWT authentication of CDS Clients, as CDS Hooks 2.0 "Trusting CDS Clients" says, with PyJWT.

Every request carries ``Authorization: Bearer <JWT>``. The token is accepted only when all of these hold;
any failure is one answer, 401 without detail (the reason goes to the log, never the token or claims):

* the header's ``alg`` is asymmetric (RS/PS/ES 256-512, EdDSA): ``none`` and every HMAC algorithm are refused
  before any key is looked at, so a public key can never serve as an HMAC secret;
* ``typ`` is ``JWT``; ``kid`` is present;
* the unverified ``iss`` is on the allowlist; the header's ``jku``, when present, is exactly the URL pinned
  for that issuer (a token never chooses where its key comes from);
* the key with that ``kid`` is in the issuer's JWK Set (a file, or the pinned URL fetched with a short timeout
  and cached; an unknown ``kid`` refreshes the cache at most once per ``JWKS_MIN_REFRESH_S``) and its type
  fits the algorithm;
* the signature verifies; ``aud`` is this endpoint's URL (the configured public base URL plus the path, never
  the request's Host header); ``exp``, ``iat`` and ``jti`` are present; ``exp`` and ``iat`` hold with
  ``leeway`` seconds; the token lives at most ``MAX_LIFETIME_S`` (``exp - iat``; the spec's clients use 5
  minutes);
* the (``iss``, ``jti``) pair has not been seen before (stored as a keyed hash until the token expires).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

__all__ = ["ASYMMETRIC_ALGORITHMS", "AuthError", "Issuer", "JwksCache", "Verifier"]

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
MAX_LIFETIME_S = 600
JWKS_TTL_S = 300.0
JWKS_MIN_REFRESH_S = 30.0
JWKS_TIMEOUT_S = 2.0
JWKS_MAX_BYTES = 256 * 1024
MAX_TOKEN_BYTES = 8 * 1024


class AuthError(Exception):
    """Why a token was refused (logged; the client sees 401 only)."""


@dataclass(frozen=True, slots=True)
class Issuer:
    """A trusted CDS Client: its ``iss``, and where its keys are: the pinned ``jku`` URL, or a JWK Set file
    agreed out of band (then a token carrying a ``jku`` header is refused)."""

    iss: str
    jku: str | None = None
    jwks_file: str | None = None


@dataclass
class _Entry:
    keys: dict[str, tuple[jwt.PyJWK, str | None]]
    fetched_at: float


@dataclass
class JwksCache:
    """JWK Sets by issuer, fetched from the pinned URL (or read from the file) and kept ``JWKS_TTL_S``."""

    timeout_s: float = JWKS_TIMEOUT_S
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _load(self, issuer: Issuer) -> dict[str, tuple[jwt.PyJWK, str | None]]:
        if issuer.jwks_file is not None:
            with open(issuer.jwks_file, "rb") as f:
                raw = f.read(JWKS_MAX_BYTES + 1)
        else:
            assert issuer.jku is not None
            with httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client:
                response = client.get(issuer.jku, headers={"Accept": "application/json"})
            if response.status_code != 200:
                raise AuthError(f"JWKS of {issuer.iss}: HTTP {response.status_code}")
            raw = response.content
        if len(raw) > JWKS_MAX_BYTES:
            raise AuthError(f"JWKS of {issuer.iss} is larger than {JWKS_MAX_BYTES} bytes")
        doc = json.loads(raw)
        out: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        for k in doc.get("keys", []) if isinstance(doc, dict) else []:
            if not isinstance(k, dict) or not isinstance(k.get("kid"), str) or "d" in k:
                continue  # a key without kid cannot be chosen; a private key is never used
            try:
                declared = k.get("alg")
                out[k["kid"]] = (jwt.PyJWK(k), declared if isinstance(declared, str) else None)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
                continue
        return out

    def key(self, issuer: Issuer, kid: str) -> tuple[jwt.PyJWK, str | None]:
        """The key ``kid`` of ``issuer`` and the algorithm its JWK declares (``alg``), if any."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(issuer.iss)
            stale = entry is None or now - entry.fetched_at > JWKS_TTL_S
            may_refresh = entry is None or now - entry.fetched_at > JWKS_MIN_REFRESH_S
            if stale or (kid not in entry.keys and may_refresh):  # type: ignore[union-attr]
                try:
                    entry = _Entry(self._load(issuer), now)
                except (OSError, httpx.HTTPError, ValueError) as exc:
                    raise AuthError(f"JWKS of {issuer.iss} unavailable: {type(exc).__name__}") from None
                self._entries[issuer.iss] = entry
            assert entry is not None
            found = entry.keys.get(kid)
        if found is None:
            raise AuthError(f"no key '{kid[:64]}' in the JWKS of {issuer.iss}")
        return found


class Verifier:
    """Checks the bearer token of one request (``check``); raises ``AuthError``."""

    def __init__(
        self,
        issuers: Mapping[str, Issuer],
        first_use: Callable[[str, str, float], bool],
        *,
        leeway_s: int = 30,
        cache: JwksCache | None = None,
    ) -> None:
        self.issuers = dict(issuers)
        self.first_use = first_use
        self.leeway_s = leeway_s
        self.cache = cache if cache is not None else JwksCache()

    def check(self, authorization: str | None, audience: str) -> dict[str, Any]:
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():  # the scheme is case-insensitive (RFC 7235)
            raise AuthError("no bearer token")
        token = token.strip()
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthError("token too large")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"unreadable token: {type(exc).__name__}") from None
        alg = header.get("alg")
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise AuthError(f"algorithm {str(alg)[:16]!r} refused: only asymmetric algorithms")
        if header.get("typ") not in ("JWT", None) and str(header.get("typ")).upper() != "JWT":
            raise AuthError("typ is not JWT")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no kid")
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError("issuer not on the allowlist")
        jku = header.get("jku")
        if jku is not None and jku != issuer.jku:
            raise AuthError("jku is not the URL pinned for this issuer")
        key, declared = self.cache.key(issuer, kid)
        if key.key_type != _KEY_TYPES.get(alg[:2], "") or declared not in (None, alg):
            raise AuthError("the key does not fit the algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer.iss,
                leeway=self.leeway_s,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"token refused: {type(exc).__name__}") from None
        now = time.time()
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise AuthError("exp or iat is not a number")
        if iat > now + self.leeway_s:
            raise AuthError("issued in the future")
        if exp - iat > MAX_LIFETIME_S:
            raise AuthError("token lifetime too long")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise AuthError("bad jti")
        if not self.first_use(issuer.iss, jti, float(exp) + self.leeway_s):
            raise AuthError("jti replayed")
        return claims
