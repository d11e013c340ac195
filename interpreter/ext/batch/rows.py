"""One input row to one output record, and the tally of a partition's records. No Dask, no Arrow here.

A row is ``{"id": ..., "facts": {...}, "as_of"?: "<ISO time>", "time_zone"?: "<IANA name>"}``. It is parsed
exactly as ``guideline evaluate`` reads a facts file (``parse_facts_json``: exact numbers, duplicate keys,
non-finite numbers, bounded size and nesting) and evaluated by ``Guideline.evaluate``, the function every
single evaluation uses, so a batch row is identical to a single evaluation of the same facts at the same
as-of time. A row never raises: it becomes an ``ok`` record with the result, or an ``error`` record with
the coded error. A bug (an unexpected exception) becomes an ``error`` record of kind ``internal``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...api import Guideline
from ...codes import Code
from ...errors import Diagnostic, EvaluationError, FactsError, Location
from ...facts.checker import DEFAULT_FACTS_LIMITS, FactsLimits
from ...facts.json import parse_facts_json
from ...result import Result

if TYPE_CHECKING:
    from .fhir_rows import FhirRows

__all__ = ["ROW_KEYS", "RowOptions", "Tally", "evaluate_fields", "evaluate_line", "record_json"]

#: The keys a row may have; any other key is refused (a misspelt ``asof`` must not silently mean "now").
ROW_KEYS = frozenset({"id", "facts", "as_of", "time_zone"})
#: The longest id kept (a longer one is refused: ids are echoed in every output).
MAX_ID_CHARS = 256
#: The longest as-of text read.
MAX_TIME_CHARS = 64


@dataclass(frozen=True, slots=True)
class RowOptions:
    """What every row of a run shares: the default as-of time and calendar, the trace, the input's name."""

    at: datetime
    time_zone: str | None = None
    trace: bool = False
    source: str = "<input>"
    #: bounds on one row: the facts limits, one level deeper for the row around the facts
    limits: FactsLimits = field(default_factory=lambda: _row_limits(DEFAULT_FACTS_LIMITS))
    #: a FHIR run (``guideline batch --fhir``): rows hold a Bundle each (``fhir_rows.py``); None: facts rows
    fhir: FhirRows | None = None


def _row_limits(facts: FactsLimits) -> FactsLimits:
    from dataclasses import replace

    return replace(facts, max_depth=facts.max_depth + 1)


class _RowError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _error(
    row_id: object, row: int, kind: str, diagnostics: list[dict[str, Any]], message: str
) -> dict[str, Any]:
    code = diagnostics[0]["code"] if diagnostics else Code.INTERNAL_ERROR.value
    return {
        "id": row_id,
        "row": row,
        "outcome": "error",
        "error": {"kind": kind, "code": code, "message": message, "diagnostics": diagnostics},
    }


def _diagnostics(diags: Sequence[Diagnostic], *, facts: bool) -> list[dict[str, Any]]:
    out = []
    for d in sorted(diags, key=lambda d: d.code == Code.FACT_TOO_MANY_ERRORS):
        data = d.to_json()
        if facts and d.path and isinstance(d.path[0], str):
            data["fact"] = d.path[0]
        out.append(data)
    return out


def _row_invalid(row_id: object, row: int, options: RowOptions, exc: _RowError) -> dict[str, Any]:
    d = Diagnostic(Code.BATCH_ROW_INVALID, exc.message, Location(options.source, row), hint=exc.hint)
    return _error(row_id, row, "row", [d.to_json()], "the row was refused; nothing was evaluated")


def _check_id(value: object) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _RowError(
            "the row's `id` must be text or a whole number", 'give every row an id: {"id": "p1", ...}'
        )
    if isinstance(value, str) and not 0 < len(value) <= MAX_ID_CHARS:
        raise _RowError(f"the row's `id` must be 1 to {MAX_ID_CHARS} characters")
    if isinstance(value, int) and abs(value) >= 1 << 63:
        raise _RowError("the row's `id` is a number beyond 64 bits")
    return value


def _as_of(value: object, options: RowOptions) -> datetime:
    if value is None:
        return options.at
    if not isinstance(value, str) or len(value) > MAX_TIME_CHARS:
        raise _RowError(
            "the row's `as_of` must be an ISO 8601 time with an offset",
            'e.g. "as_of": "2026-11-24T09:00:00Z"',
        )
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(
            "the row's `as_of` is not an ISO 8601 time", 'e.g. "as_of": "2026-11-24T09:00:00Z"'
        ) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise _RowError("the row's `as_of` needs a time zone offset", "e.g. 2026-11-24T09:00:00+01:00")
    return at


def _evaluate(
    g: Guideline,
    row_id: object,
    row: int,
    facts: object,
    as_of: datetime,
    time_zone: str | None,
    options: RowOptions,
) -> dict[str, Any]:
    if not isinstance(facts, Mapping):
        raise _RowError(
            "the row's `facts` must be a JSON object of name: value", '{"id": ..., "facts": {...}}'
        )
    try:
        result = g.evaluate(
            facts, as_of, trace=options.trace, facts_source=options.source, time_zone=time_zone
        )
    except FactsError as exc:
        return _error(
            row_id,
            row,
            "facts",
            _diagnostics(exc.diagnostics, facts=True),
            "the facts were refused; nothing was evaluated",
        )
    except EvaluationError as exc:
        diag = (
            exc.diagnostic()
            if exc.location is not None
            else Diagnostic(exc.code, exc.message, Location(g.file))
        )
        data = diag.to_json()
        if exc.node_id:
            data["node"] = exc.node_id
        return _error(row_id, row, "internal" if exc.internal else "evaluation", [data], "evaluation failed")
    return ok_record(row_id, row, result)


def ok_record(row_id: object, row: int, result: Result) -> dict[str, Any]:
    return {"id": row_id, "row": row, "outcome": "ok", "status": result.status, "result": result.to_json()}


def _internal(row_id: object, row: int, options: RowOptions, exc: Exception) -> dict[str, Any]:
    message = f"internal error: {type(exc).__name__}: {str(exc)[:500]}"
    d = Diagnostic(
        Code.INTERNAL_ERROR,
        message,
        Location(options.source, row),
        hint="please report this with the guideline and the row that caused it",
    )
    return _error(row_id, row, "internal", [d.to_json()], message)


def evaluate_line(g: Guideline, raw: bytes | str, row: int, options: RowOptions) -> dict[str, Any]:
    """One NDJSON line (row number ``row``, 1-based) to its record. Never raises."""
    row_id: object = None
    try:
        try:
            doc = parse_facts_json(raw, file=f"{options.source}:{row}", limits=options.limits)
        except FactsError as exc:
            return _error(
                None,
                row,
                "facts",
                _diagnostics(exc.diagnostics, facts=False),
                "the row is not a JSON object that can be read; nothing was evaluated",
            )
        if "id" in doc:
            row_id = (
                doc["id"] if isinstance(doc["id"], str | int) and not isinstance(doc["id"], bool) else None
            )
        extra = sorted(set(doc) - ROW_KEYS)
        if extra:
            raise _RowError(
                f"the row has unknown keys: {', '.join(repr(k[:64]) for k in extra[:5])}",
                "a row with a FHIR Bundle needs `guideline batch --fhir`" if "bundle" in extra
                else "a row has id, facts, and optionally as_of and time_zone",
            )
        if "id" not in doc:
            raise _RowError("the row has no `id`", 'give every row an id: {"id": "p1", ...}')
        row_id = _check_id(doc["id"])
        if "facts" not in doc:
            raise _RowError("the row has no `facts`", '{"id": ..., "facts": {...}}')
        tz = doc.get("time_zone")
        if tz is not None and not isinstance(tz, str):
            raise _RowError("the row's `time_zone` must be an IANA name such as Europe/Paris")
        return _evaluate(
            g, row_id, row, doc["facts"], _as_of(doc.get("as_of"), options), tz or options.time_zone, options
        )
    except _RowError as exc:
        return _row_invalid(row_id, row, options, exc)
    except Exception as exc:  # a bug: recorded, never stops the run
        return _internal(row_id, row, options, exc)


def evaluate_fields(
    g: Guideline,
    row_id: object,
    facts_text: object,
    as_of: object,
    time_zone: object,
    row: int,
    options: RowOptions,
) -> dict[str, Any]:
    """One row given as columns (Parquet, Arrow): ``facts_text`` is the facts as JSON text. Never raises."""
    checked_id: object = None
    try:
        checked_id = _check_id(row_id)
        if not isinstance(facts_text, str | bytes):
            raise _RowError("the row's `facts` must be the facts as JSON text", "a string column `facts`")
        try:
            facts = parse_facts_json(facts_text, file=f"{options.source}:{row}", limits=options.limits)
        except FactsError as exc:
            return _error(
                checked_id,
                row,
                "facts",
                _diagnostics(exc.diagnostics, facts=True),
                "the facts were refused; nothing was evaluated",
            )
        if isinstance(as_of, datetime):
            if as_of.tzinfo is None:
                raise _RowError("the row's `as_of` needs a time zone", "a timestamp column with a time zone")
            at = as_of
        else:
            at = _as_of(as_of, options)
        if time_zone is not None and not isinstance(time_zone, str):
            raise _RowError("the row's `time_zone` must be an IANA name such as Europe/Paris")
        return _evaluate(g, checked_id, row, facts, at, time_zone or options.time_zone, options)
    except _RowError as exc:
        return _row_invalid(checked_id, row, options, exc)
    except Exception as exc:  # a bug: recorded, never stops the run
        return _internal(checked_id, row, options, exc)


def record_json(record: Mapping[str, Any]) -> str:
    """One output line: compact JSON, ASCII only (a lone surrogate of the input is escaped: it encodes)."""
    return json.dumps(record, separators=(",", ":"))


@dataclass(slots=True)
class Tally:
    """Counts over records; small, merged on the client (never the records themselves)."""

    rows: int = 0
    complete: int = 0
    incomplete: int = 0
    errors: int = 0
    internal: int = 0
    error_codes: Counter[str] = field(default_factory=Counter)
    recommendations: Counter[str] = field(default_factory=Counter)
    needed_facts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, record: Mapping[str, Any]) -> None:
        self.rows += 1
        if record["outcome"] == "ok":
            result = record["result"]
            if result["status"] == "complete":
                self.complete += 1
            else:
                self.incomplete += 1
            self.recommendations.update(r["id"] for r in result["recommendations"])
            self.needed_facts.update(n["name"] for n in result["needed_facts"])
        else:
            self.errors += 1
            self.error_codes[record["error"]["code"]] += 1
            if record["error"]["kind"] == "internal":
                self.internal += 1

    def merge(self, other: Tally) -> None:
        self.rows += other.rows
        self.complete += other.complete
        self.incomplete += other.incomplete
        self.errors += other.errors
        self.internal += other.internal
        self.error_codes.update(other.error_codes)
        self.recommendations.update(other.recommendations)
        self.needed_facts.update(other.needed_facts)
        self.seconds += other.seconds
