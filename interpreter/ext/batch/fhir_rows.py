"""FHIR rows of ``guideline batch --fhir``: one FHIR R4 Bundle per patient, through the same adapter as
``guideline evaluate --fhir`` (issue 11, "Or FHIR Bundles per patient").

A row is one NDJSON line::

    {"id": "p1", "bundle": {"resourceType": "Bundle", ...}, "facts"?: {...}, "as_of"?: "<ISO time>",
     "time_zone"?: "<IANA name>", "patient"?: "<Patient.id>"}

``bundle`` is what ``evaluate --fhir BUNDLE`` reads, ``facts`` what it reads as FACTS (the facts the user
asserts), ``patient`` its ``--patient``. So that a record is identical to a single evaluation, each of them
is read from its own text in the line by the very parser the single evaluation uses on a file:
``parse_bundle`` for the Bundle (its size and nesting limits, exact decimals, duplicate keys refused),
``parse_facts_json`` for the asserted facts. The line is first split into its top-level values
(``split_row``, after the nesting of the whole line is bounded), then each value is parsed on its own. The
bindings are the guideline's, with the site file in effect (``--bindings``, else the one shipped with a
bundled guideline), built once per partition. Never raises: a bad row or Bundle is an ``error`` record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...api import Guideline
from ...codes import Code
from ...errors import Diagnostic, EvaluationError, FactsError, GuidelineError, Location
from ...facts.checker import DEFAULT_FACTS_LIMITS
from ...facts.json import parse_facts_json
from ...loading.source import read_capped
from ...values.jsonscan import nested_deeper
from ..fhir import BindingSet, SiteBindings, bindings_for, evaluate_fhir, parse_bundle, resources_of_bundle
from ..fhir.adapter import MAX_BUNDLE_BYTES, MAX_BUNDLE_DEPTH
from ..fhir.bindings import bundled_site_file, parse_site_bindings
from .rows import (
    RowOptions,
    _as_of,
    _check_id,
    _diagnostics,
    _error,
    _internal,
    _row_invalid,
    _RowError,
)

__all__ = [
    "FHIR_ROW_KEYS", "MAX_FHIR_ROW_BYTES", "FhirRows", "evaluate_fhir_line", "row_bindings", "split_row",
    "too_long",
]

#: The keys a FHIR row may have.
FHIR_ROW_KEYS = frozenset({"id", "bundle", "facts", "as_of", "time_zone", "patient"})
#: The longest FHIR row read: a Bundle at its own limit, and asserted facts at theirs.
MAX_FHIR_ROW_BYTES = MAX_BUNDLE_BYTES + DEFAULT_FACTS_LIMITS.max_bytes + 64 * 1024
#: The longest ``patient`` id kept.
MAX_PATIENT_CHARS = 64

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


@dataclass(frozen=True, slots=True)
class FhirRows:
    """A FHIR run: the site binding file in effect, as its name and bytes (None: the guideline's own bindings
    only). Travels with each task; the workers need not have the file."""

    file: str | None = None
    data: bytes | None = None

    @classmethod
    def from_file(cls, path: str | None) -> FhirRows:
        """The site file at ``path`` read once (``GuidelineError`` when it cannot be read)."""
        if path is None:
            return cls()
        data, problem = read_capped(path)
        if problem is not None:
            raise GuidelineError([problem])
        return cls(path, data)

    @classmethod
    def for_guideline(cls, g: Guideline, path: str | None) -> FhirRows:
        """The site file in effect for ``g`` (``path``, else the one shipped for a bundled guideline, else
        none), read once and checked against ``g`` as ``evaluate --fhir`` checks it (``GuidelineError``)."""
        rows = cls.from_file(path or bundled_site_file(g))
        bindings_for(g, rows.site())
        return rows

    def site(self) -> SiteBindings | None:
        """The site bindings, parsed and checked (``GuidelineError`` when refused)."""
        if self.file is None or self.data is None:
            return None
        return parse_site_bindings(self.data, self.file)


def row_bindings(g: Guideline, fhir: FhirRows) -> BindingSet:
    """The bindings of the run, built once per partition (the client checked them before the run)."""
    return bindings_for(g, fhir.site())


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def split_row(text: str) -> dict[str, str]:
    """The top-level keys of a JSON object and the exact text of each value (``ValueError`` for text that
    is not one JSON object, or a key written twice). Bound the nesting of ``text`` before calling."""
    i = _skip(text, 0)
    if not text.startswith("{", i):
        raise ValueError("the row is not a JSON object")
    out: dict[str, str] = {}
    i = _skip(text, i + 1)
    if text.startswith("}", i):
        i += 1
    else:
        while True:
            if not text.startswith('"', i):
                raise ValueError(f"a key was expected at character {i + 1}")
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if not text.startswith(":", i):
                raise ValueError(f"':' was expected at character {i + 1}")
            start = _skip(text, i + 1)
            _, end = _DECODER.raw_decode(text, start)
            if key in out:
                raise ValueError(f"the key '{str(key)[:64]}' appears twice in the row")
            out[key] = text[start:end]
            i = _skip(text, end)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
                continue
            if text.startswith("}", i):
                i += 1
                break
            raise ValueError(f"',' or '}}' was expected at character {i + 1}")
    if _skip(text, i) != len(text):
        raise ValueError("text follows the row's object")
    return out


def _text_field(values: dict[str, str], key: str, what: str) -> str | None:
    if key not in values:
        return None
    try:
        value = json.loads(values[key])
    except ValueError:  # pragma: no cover - split_row has read it as JSON
        value = object()
    if value is None:
        return None
    if not isinstance(value, str):
        raise _RowError(f"the row's `{key}` must be {what}")
    return value


def _unreadable(row: int, code: str, message: str, options: RowOptions) -> dict[str, Any]:
    d = Diagnostic(code, message, Location(f"{options.source}:{row}"), hint='{"id": ..., "bundle": {...}}')
    return _error(None, row, "facts", [d.to_json()],
                  "the row is not a JSON object that can be read; nothing was evaluated")


def too_long(row: int, options: RowOptions) -> dict[str, Any]:
    """The record of a line longer than ``MAX_FHIR_ROW_BYTES`` (skipped unread)."""
    message = f"the row is larger than {MAX_FHIR_ROW_BYTES} bytes"
    return _unreadable(row, Code.FACT_TOO_LARGE, message, options)


def evaluate_fhir_line(
    g: Guideline, bindings: BindingSet, raw: bytes | str, row: int, options: RowOptions
) -> dict[str, Any]:
    """One FHIR row (row number ``row``, 1-based) to its record. Never raises."""
    row_id: object = None
    file = f"{options.source}:{row}"
    try:
        if len(raw) > MAX_FHIR_ROW_BYTES:
            return too_long(row, options)
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            return _unreadable(row, Code.FACT_ENCODING, "the row is not UTF-8 text", options)
        if nested_deeper(text, MAX_BUNDLE_DEPTH + 1):
            return _unreadable(row, Code.FACT_MALFORMED,
                               f"the row nests deeper than {MAX_BUNDLE_DEPTH + 1} levels", options)
        try:
            values = split_row(text)
        except ValueError as exc:
            return _unreadable(row, Code.FACT_MALFORMED, f"the row is not valid JSON: {str(exc)[:200]}",
                               options)
        if "id" in values:
            try:
                row_id = _check_id(json.loads(values["id"]))
            except _RowError:
                row_id = None
        extra = sorted(set(values) - FHIR_ROW_KEYS)
        if extra:
            raise _RowError(
                f"the row has unknown keys: {', '.join(repr(k[:64]) for k in extra[:5])}",
                "a FHIR row has id, bundle, and optionally facts, as_of, time_zone and patient",
            )
        if "id" not in values:
            raise _RowError("the row has no `id`", 'give every row an id: {"id": "p1", ...}')
        row_id = _check_id(json.loads(values["id"]))
        if "bundle" not in values:
            raise _RowError("the row has no `bundle`",
                            '{"id": ..., "bundle": {"resourceType": "Bundle", ...}}')
        as_of = _as_of(json.loads(values["as_of"]) if "as_of" in values else None, options)
        tz = _text_field(values, "time_zone", "an IANA name such as Europe/Paris")
        patient = _text_field(values, "patient", "a Patient.id (text)")
        if patient is not None and not 0 < len(patient) <= MAX_PATIENT_CHARS:
            raise _RowError(f"the row's `patient` must be 1 to {MAX_PATIENT_CHARS} characters")
        try:
            resources = resources_of_bundle(parse_bundle(values["bundle"], file), file)
            asserted = parse_facts_json(values["facts"], file=file) if "facts" in values else {}
            evaluation = evaluate_fhir(
                bindings, resources, as_of, asserted=asserted, time_zone=tz or options.time_zone,
                patient_id=patient, trace=options.trace, file=file,
            )
        except FactsError as exc:
            return _error(row_id, row, "facts", _diagnostics(exc.diagnostics, facts=True),
                          "the facts were refused; nothing was evaluated")
        except EvaluationError as exc:
            diag = (exc.diagnostic() if exc.location is not None
                    else Diagnostic(exc.code, exc.message, Location(g.file)))
            data = diag.to_json()
            if exc.node_id:
                data["node"] = exc.node_id
            return _error(row_id, row, "internal" if exc.internal else "evaluation", [data],
                          "evaluation failed")
        result = evaluation.result
        return {"id": row_id, "row": row, "outcome": "ok", "status": result.status,
                "result": evaluation.to_json()}
    except _RowError as exc:
        return _row_invalid(row_id, row, options, exc)
    except Exception as exc:  # a bug: recorded, never stops the run
        return _internal(row_id, row, options, exc)
