"""SQLite storage of the CDS Hooks service (the standard library's ``sqlite3``, WAL journal): the cards
issued (keyed by their uuid, with the guideline id, version and content hash behind each), the feedback on
them (append-only; a repeated feedback is ignored), and the JWT ids seen (replay protection).

No token and no patient identifier is stored in clear: the patient id, the hook instance and the JWT id are
stored as keyed hashes (HMAC-SHA256 with the service's key), and a user's override comment only as its keyed
hash (it may name the patient). Every connection is opened for one operation, so the storage is safe to use
from many threads and from several uvicorn worker processes at once (WAL, a busy timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["FeedbackConflict", "FeedbackItem", "IssuedCard", "Storage", "load_or_create_key"]


class FeedbackConflict(Exception):
    """Feedback that contradicts the outcome already stored for a card (one outcome per card)."""

    def __init__(self, card: str) -> None:
        super().__init__(card)
        self.card = card


SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
    uuid TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    hook TEXT NOT NULL,
    guideline_id TEXT NOT NULL,
    guideline_version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    bindings_hash TEXT NOT NULL,
    recommendation TEXT,
    kind TEXT NOT NULL,
    indicator TEXT NOT NULL,
    suggestions TEXT NOT NULL,
    override_reasons TEXT NOT NULL,
    patient_hash TEXT,
    hook_instance_hash TEXT NOT NULL,
    issued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup TEXT NOT NULL UNIQUE,
    card TEXT NOT NULL REFERENCES cards(uuid),
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    accepted_suggestions TEXT NOT NULL,
    reason_system TEXT,
    reason_code TEXT,
    comment_hash TEXT,
    outcome_timestamp TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS feedback_append_only_u BEFORE UPDATE ON feedback
    BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
CREATE TRIGGER IF NOT EXISTS feedback_append_only_d BEFORE DELETE ON feedback
    BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
CREATE TABLE IF NOT EXISTS jwt_ids (
    jti_hash TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
"""

BUSY_TIMEOUT_S = 10.0


def load_or_create_key(path: str) -> bytes:
    """The service's hashing key: read from ``path``, or created there (32 random bytes, mode 0600)."""
    try:
        with open(path, "rb") as f:
            key = f.read(64)
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


@dataclass(frozen=True, slots=True)
class IssuedCard:
    uuid: str
    service: str
    hook: str
    guideline_id: str
    guideline_version: str
    content_hash: str
    bindings_hash: str
    recommendation: str | None
    kind: str
    indicator: str
    suggestions: tuple[str, ...]
    override_reasons: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    card: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    reason_system: str | None
    reason_code: str | None
    comment: str | None
    outcome_timestamp: str


class Storage:
    """The service's database. ``path`` ``:memory:`` is refused: every operation opens its own connection."""

    def __init__(self, path: str, key: bytes) -> None:
        if path == ":memory:" or not path:
            raise ValueError("the CDS Hooks storage needs a file (WAL is shared between connections)")
        self.path = path
        self._key = key
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Storage, (self.path, self._key))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    def keyed_hash(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    # ---------------------------------------------------------------------------------------------- cards

    def save_cards(self, cards: Sequence[IssuedCard], patient_id: str | None, hook_instance: str) -> None:
        now = time.time()
        patient_h = self.keyed_hash("patient|" + patient_id) if patient_id else None
        instance_h = self.keyed_hash("hookInstance|" + hook_instance)
        rows = [
            (
                c.uuid,
                c.service,
                c.hook,
                c.guideline_id,
                c.guideline_version,
                c.content_hash,
                c.bindings_hash,
                c.recommendation,
                c.kind,
                c.indicator,
                json.dumps(list(c.suggestions)),
                json.dumps([list(r) for r in c.override_reasons]),
                patient_h,
                instance_h,
                now,
            )
            for c in cards
        ]
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            db.execute("COMMIT")

    def card(self, uuid: str) -> IssuedCard | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT uuid, service, hook, guideline_id, guideline_version, content_hash, bindings_hash, "
                "recommendation, kind, indicator, suggestions, override_reasons FROM cards WHERE uuid = ?",
                (uuid,),
            ).fetchone()
        if row is None:
            return None
        fields: list[Any] = list(row[:10])
        fields.append(tuple(json.loads(row[10])))
        fields.append(tuple((s, c) for s, c in json.loads(row[11])))
        return IssuedCard(*fields)

    # ------------------------------------------------------------------------------------------- feedback

    def add_feedback(self, items: Sequence[FeedbackItem]) -> tuple[int, int]:
        """Store each item once, in one transaction: (stored, duplicates ignored). A duplicate is the same
        card, outcome, accepted suggestions, reason and outcome time (CDS Hooks lets a client repeat
        feedback; the repeat is not a second event). A card has one outcome: feedback whose outcome differs
        from one stored (or sent in the same batch) for the card raises ``FeedbackConflict`` and nothing of
        the batch is stored."""
        now = time.time()
        stored = 0
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                outcomes: dict[str, set[str]] = {}
                for it in items:
                    if it.card not in outcomes:
                        rows = db.execute("SELECT DISTINCT outcome FROM feedback WHERE card = ?", (it.card,))
                        outcomes[it.card] = {r[0] for r in rows}
                    outcomes[it.card].add(it.outcome)
                    if len(outcomes[it.card]) > 1:
                        raise FeedbackConflict(it.card)
                for it in items:
                    accepted = sorted(set(it.accepted_suggestions))
                    comment_h = self.keyed_hash("comment|" + it.comment) if it.comment else None
                    dedup = hashlib.sha256(
                        json.dumps(
                            [
                                it.card,
                                it.outcome,
                                accepted,
                                it.reason_system,
                                it.reason_code,
                                comment_h,
                                it.outcome_timestamp,
                            ],
                            separators=(",", ":"),
                        ).encode()
                    ).hexdigest()
                    cur = db.execute(
                        "INSERT OR IGNORE INTO feedback (dedup, card, outcome, accepted_suggestions, "
                        "reason_system, reason_code, comment_hash, outcome_timestamp, received_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?)",
                        (
                            dedup,
                            it.card,
                            it.outcome,
                            json.dumps(accepted),
                            it.reason_system,
                            it.reason_code,
                            comment_h,
                            it.outcome_timestamp,
                            now,
                        ),
                    )
                    stored += cur.rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return stored, len(items) - stored

    def feedback_counts(self) -> dict[str, Any]:
        """Feedback rows by outcome, by override reason and by guideline recommendation."""
        with self._connect() as db:
            total = db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
            by_outcome = dict(
                db.execute("SELECT outcome, COUNT(*) FROM feedback GROUP BY outcome").fetchall()
            )
            by_reason = {
                f"{s}|{c}": n
                for s, c, n in db.execute(
                    "SELECT reason_system, reason_code, COUNT(*) FROM feedback WHERE reason_code IS NOT NULL "
                    "GROUP BY reason_system, reason_code"
                ).fetchall()
            }
            by_rec = {
                f"{g} {v} {r}|{o}": n
                for g, v, r, o, n in db.execute(
                    "SELECT c.guideline_id, c.guideline_version, COALESCE(c.recommendation, c.kind), "
                    "f.outcome, COUNT(*) FROM feedback f JOIN cards c ON c.uuid = f.card GROUP BY 1, 2, 3, 4"
                ).fetchall()
            }
        return {"total": total, "by_outcome": by_outcome, "by_reason": by_reason, "by_recommendation": by_rec}

    # ------------------------------------------------------------------------------------------- JWT ids

    def first_use_of_jti(self, issuer: str, jti: str, expires_at: float) -> bool:
        """True the first time (issuer, jti) is seen; False for a replay. Expired ids are pruned."""
        h = self.keyed_hash(f"jti|{issuer}|{jti}")
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM jwt_ids WHERE expires_at < ?", (now,))
            cur = db.execute("INSERT OR IGNORE INTO jwt_ids VALUES (?, ?)", (h, expires_at))
            db.execute("COMMIT")
        return cur.rowcount == 1

    def dump_text(self) -> str:
        """Every stored value as text (for the test that no identifier is stored in clear)."""
        with self._connect() as db:
            parts = []
            for table in ("cards", "feedback", "jwt_ids"):
                for row in db.execute(f"SELECT * FROM {table}").fetchall():
                    parts.append(json.dumps(row))
        return "\n".join(parts)
