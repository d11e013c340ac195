"""JSON Schema validation of a parsed guideline document, with diagnostics at the right line.

The package's API is here; ``fast.py`` is the compiled yes/no check (a table of one compiler per JSON-Schema
keyword), ``explain.py`` turns jsonschema's errors into ``schema-*`` diagnostics (a table of one handler per
failing keyword).

The schema (``schema/guideline.schema.json``, bundled as ``interpreter.bundled.schema``) is read and its
Draft 2020-12 validator built once per process (``functools.cache``; the validator is read-only and safe
to share between threads). A document the fast check accepts is valid; any other goes through jsonschema,
and every error it finds becomes a ``schema-*`` diagnostic located through the document's ``SourceMap``.

Numbers from the strict loader are ``int`` or ``Decimal``; both count as JSON numbers, ``bool`` does not.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from ...codes import Code
from ...errors import Diagnostic, Path, sort_diagnostics
from ..resources import read_text
from ..source import SourceMap
from .fast import Check, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "MAX_SCHEMA_DIAGNOSTICS",
    "SCHEMA_FILE",
    "bundled_schema",
    "bundled_validator",
    "fast_validity_check",
    "guideline_schema",
    "guideline_validator",
    "validate_document",
    "validate_with",
]

SCHEMA_FILE = "guideline.schema.json"

#: The most schema diagnostics collected for one document: past it the check stops (the caller reports
#: ``too-many-diagnostics``), so that a file of a million unknown keys costs no more than a few hundred.
MAX_SCHEMA_DIAGNOSTICS = 200


@functools.cache
def bundled_schema(name: str) -> dict[str, Any]:
    """A bundled JSON Schema by file name (``guideline.schema.json``, ``tests.schema.json``), parsed once."""
    schema: dict[str, Any] = json.loads(read_text("schema", name))
    return schema


@functools.cache
def bundled_validator(name: str) -> Draft202012Validator:
    """The Draft 2020-12 validator of a bundled schema, built once (read-only, thread-safe). jsonschema is
    imported here, on first need: a valid guideline never needs it (the fast check answers)."""
    from jsonschema import Draft202012Validator

    schema = bundled_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def guideline_schema() -> dict[str, Any]:
    """The guideline JSON Schema (parsed once)."""
    return bundled_schema(SCHEMA_FILE)


def guideline_validator() -> Draft202012Validator:
    """The Draft 2020-12 validator of the guideline schema, built once (read-only, thread-safe)."""
    return bundled_validator(SCHEMA_FILE)


@functools.cache
def fast_validity_check() -> Check | None:
    """The compiled yes/no check of the guideline schema (None if the schema uses a keyword it lacks)."""
    try:
        return compile_schema(guideline_schema())
    except (NotImplementedError, KeyError, TypeError, re.error):
        return None


def validate_document(
    data: Any, source_map: SourceMap, max_diagnostics: int = MAX_SCHEMA_DIAGNOSTICS
) -> list[Diagnostic]:
    """Validate ``data`` against the guideline schema; one diagnostic per problem, sorted by location.

    Stops after ``max_diagnostics + 1`` diagnostics (so a caller can tell that there were more).
    """
    fast = fast_validity_check()
    if fast is not None and fast(data):
        return []
    return validate_with(SCHEMA_FILE, data, source_map, max_diagnostics)


def validate_with(
    schema_name: str, data: Any, source_map: SourceMap, max_diagnostics: int = MAX_SCHEMA_DIAGNOSTICS
) -> list[Diagnostic]:
    """Validate ``data`` against the bundled schema ``schema_name`` (e.g. ``tests.schema.json``), with the
    same ``schema-*`` diagnostics as guideline files; sorted by location. Stops early after
    ``max_diagnostics + 1`` diagnostics."""
    from .explain import SchemaExplainer  # imports jsonschema: only an invalid document gets here

    explainer = SchemaExplainer(source_map, bundled_schema(schema_name))
    out: list[Diagnostic] = []
    seen: set[tuple[str, Path, str]] = set()
    for error in bundled_validator(schema_name).iter_errors(data):
        for diag in explainer.explain(error):
            key = (diag.code, diag.path, diag.message)
            if key not in seen:
                seen.add(key)
                out.append(diag)
            if len(out) > max_diagnostics:
                break
        if len(out) > max_diagnostics:
            break
    # a value of the wrong type also fails its enum/pattern/range: say only what matters
    wrong_type = {d.path for d in out if d.code == Code.SCHEMA_TYPE}
    out = [d for d in out if d.code == Code.SCHEMA_TYPE or d.path not in wrong_type]
    return sort_diagnostics(out)
