"""JSON Schema validation of a parsed guideline document, with diagnostics at the right line.

The schema (``schema/guideline.schema.json``, bundled as ``interpreter.bundled.schema``) is read and its
Draft 2020-12 validator built once per process (``functools.cache``; the validator is read-only and safe
to share between threads). Every schema error becomes a ``schema-*`` diagnostic located through the
document's ``SourceMap``: an unknown key at the key, a wrong value at the value, a missing key at the
mapping that lacks it. For ``oneOf``/``anyOf`` the branch the author evidently meant is chosen (the one
whose discriminating ``type`` matches) and its errors are reported; otherwise ``best_match`` decides.

Numbers from the strict loader are ``int`` or ``Decimal``; both count as JSON numbers, ``bool`` does not.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..errors import Diagnostic, Location, Path, Severity, sort_diagnostics
from ..values.suggest import did_you_mean
from .resources import read_text
from .source import SourceMap

__all__ = [
    "bundled_schema",
    "bundled_validator",
    "fast_validity_check",
    "format_path",
    "guideline_schema",
    "guideline_validator",
    "validate_document",
    "validate_with",
]

SCHEMA_FILE = "guideline.schema.json"

_TYPE_WORDS = {
    "string": "text",
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}

#: Human descriptions of the patterns the schema uses (by pattern text).
_PATTERN_WORDS = {
    r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$":
        "an id in kebab-case: lower-case letters and digits separated by single hyphens, starting with a "
        "letter (e.g. severe-neutropenia)",
    r"^[a-z][a-z0-9_]*$":
        "a name in snake_case: lower-case letters, digits and underscores, starting with a letter "
        "(e.g. anc, body_weight)",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$":
        "a reference key: letters, digits, '_', '.', '-', starting with a letter or digit (e.g. NCCN2024)",
    r"^\d{4}-\d{2}-\d{2}$": "a date written YYYY-MM-DD (e.g. 2026-03-01)",
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$":
        "a semantic version MAJOR.MINOR.PATCH (e.g. \"1.2.0\")",
    r"^P(?!$)(\d{1,5}W)?(\d{1,5}D)?(T(?=\d)(\d{1,5}H)?(\d{1,5}M)?)?$":
        "an ISO 8601 duration in weeks, days, hours or minutes, at most 5 digits each (e.g. PT48H, P2D, P1W)",
    r"^https?://": "a web address starting with http:// or https://",
}

_NUMBERISH = re.compile(r"[-+]?[0-9._:xXa-fA-F]*[0-9][0-9._:xXa-fA-FeE+-]*|[-+]?\.[0-9]+|[-+]?[0-9]+\.")
_BOOLISH = {"yes", "no", "on", "off", "y", "n", "true", "false"}


@functools.cache
def bundled_schema(name: str) -> dict[str, Any]:
    """A bundled JSON Schema by file name (``guideline.schema.json``, ``tests.schema.json``), parsed once."""
    schema: dict[str, Any] = json.loads(read_text("schema", name))
    return schema


@functools.cache
def bundled_validator(name: str) -> Draft202012Validator:
    """The Draft 2020-12 validator of a bundled schema, built once (read-only, thread-safe)."""
    schema = bundled_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def guideline_schema() -> dict[str, Any]:
    """The guideline JSON Schema (parsed once)."""
    return bundled_schema(SCHEMA_FILE)


def guideline_validator() -> Draft202012Validator:
    """The Draft 2020-12 validator of the guideline schema, built once (read-only, thread-safe)."""
    return bundled_validator(SCHEMA_FILE)


# --------------------------------------------------------------------------------------------------
# fast path: a compiled yes/no check of the keywords the guideline schema uses
#
# jsonschema's iter_errors costs about 4 microseconds per instance node (it builds a validator per step),
# which made schema validation most of the time spent on a valid file. Most files in CI are valid, so a
# compiled check answers "valid?" first and jsonschema runs only to explain a "no". The compiled check
# supports only the keywords below (compiling any other keyword raises, and then jsonschema always runs);
# where it cannot be sure (e.g. uniqueness of non-text items) it answers "no", which only sends the file to
# jsonschema. A differential test (tests/test_schema.py) holds it to jsonschema's answer.

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "examples", "default", "$comment",
                          "then", "else"})


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | Decimal) and not isinstance(x, bool)


_PY_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": lambda a, b: a >= b,
    "maximum": lambda a, b: a <= b,
    "exclusiveMinimum": lambda a, b: a > b,
    "exclusiveMaximum": lambda a, b: a < b,
}


def _all(checks: Sequence[Check]) -> Check:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def check(x: Any) -> bool:
        return all(c(x) for c in frozen)

    return check


def _keyword(key: str, value: Any, schema: dict[str, Any]) -> Check:  # one branch per keyword
    if key == "type":
        tests = tuple(_PY_TYPES[n] for n in ([value] if isinstance(value, str) else value))

        def type_(x: Any) -> bool:
            return any(t(x) for t in tests)
        return type_
    if key == "properties":
        props = tuple((k, _compile(v)) for k, v in value.items())

        def properties(x: Any) -> bool:
            return not isinstance(x, dict) or all(f(x[k]) for k, f in props if k in x)
        return properties
    if key == "additionalProperties":
        if "patternProperties" in schema:
            raise NotImplementedError("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if value is False:
            def closed(x: Any) -> bool:
                return not isinstance(x, dict) or all(n in known for n in x)
            return closed
        extra = _compile(value)

        def additional(x: Any) -> bool:
            return not isinstance(x, dict) or all(extra(v) for n, v in x.items() if n not in known)
        return additional
    if key == "required":
        names = tuple(value)

        def required(x: Any) -> bool:
            return not isinstance(x, dict) or all(n in x for n in names)
        return required
    if key == "propertyNames":
        name_check = _compile(value)

        def property_names(x: Any) -> bool:
            return not isinstance(x, dict) or all(name_check(n) for n in x)
        return property_names
    if key in ("minProperties", "minItems", "minLength", "maxLength"):
        n = int(value)
        kind: type[dict[Any, Any]] | type[list[Any]] | type[str] = (
            dict if key == "minProperties" else list if key == "minItems" else str)
        at_most = key == "maxLength"

        def size(x: Any) -> bool:
            if not isinstance(x, kind):
                return True
            return len(x) <= n if at_most else len(x) >= n
        return size
    if key == "items":
        item = _compile(value)

        def items(x: Any) -> bool:
            return not isinstance(x, list) or all(item(v) for v in x)
        return items
    if key == "uniqueItems":
        def unique(x: Any) -> bool:  # only text items are compared here; anything else goes to jsonschema
            if not value or not isinstance(x, list):
                return True
            return all(isinstance(v, str) for v in x) and len(set(x)) == len(x)
        return unique
    if key in ("enum", "const"):
        allowed = [value] if key == "const" else list(value)
        if not all(isinstance(a, str) for a in allowed):
            raise NotImplementedError("enum of non-text values")
        allowed_set = frozenset(allowed)

        def enum(x: Any) -> bool:
            return isinstance(x, str) and x in allowed_set
        return enum
    if key == "pattern":
        rx = re.compile(value)

        def pattern(x: Any) -> bool:
            return not isinstance(x, str) or rx.search(x) is not None
        return pattern
    if key in _COMPARE:
        op = _COMPARE[key]

        def bound(x: Any) -> bool:
            return not _is_number(x) or op(x, value)
        return bound
    if key in ("allOf", "anyOf", "oneOf"):
        subs = tuple(_compile(v) for v in value)
        if key == "allOf":
            return _all(subs)
        if key == "anyOf":
            def any_of(x: Any) -> bool:
                return any(f(x) for f in subs)
            return any_of

        def one_of(x: Any) -> bool:
            return sum(1 for f in subs if f(x)) == 1
        return one_of
    if key == "not":
        inner = _compile(value)

        def not_(x: Any) -> bool:
            return not inner(x)
        return not_
    if key == "if":
        cond = _compile(value)
        then, other = _compile(schema.get("then", True)), _compile(schema.get("else", True))

        def if_(x: Any) -> bool:
            return then(x) if cond(x) else other(x)
        return if_
    raise NotImplementedError(f"keyword {key!r}")


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda x: True
    if schema is False:
        return lambda x: False
    if not isinstance(schema, dict):
        raise TypeError(f"not a schema: {schema!r}")
    return _all([_keyword(k, v, schema) for k, v in schema.items() if k not in _ANNOTATIONS])


@functools.cache
def fast_validity_check() -> Check | None:
    """The compiled yes/no check of the guideline schema (None if the schema uses a keyword it lacks)."""
    try:
        return _compile(guideline_schema())
    except (NotImplementedError, KeyError, TypeError, re.error):
        return None


def format_path(path: Sequence[str | int]) -> str:
    """``("nodes", 0, "branches", 1, "then")`` -> ``nodes[0].branches[1].then``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


#: The most schema diagnostics collected for one document: past it the check stops (the caller reports
#: ``too-many-diagnostics``), so that a file of a million unknown keys costs no more than a few hundred.
MAX_SCHEMA_DIAGNOSTICS = 200


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
    converter = _Converter(source_map, bundled_schema(schema_name))
    out: list[Diagnostic] = []
    seen: set[tuple[str, Path, str]] = set()
    for error in bundled_validator(schema_name).iter_errors(data):
        for diag in converter.convert(error):
            key = (diag.code, diag.path, diag.message)
            if key not in seen:
                seen.add(key)
                out.append(diag)
            if len(out) > max_diagnostics:
                break
        if len(out) > max_diagnostics:
            break
    # a value of the wrong type also fails its enum/pattern/range: say only what matters
    wrong_type = {d.path for d in out if d.code == "schema-type"}
    out = [d for d in out if d.code == "schema-type" or d.path not in wrong_type]
    return sort_diagnostics(out)


# --------------------------------------------------------------------------------------------------


#: The did-you-mean search compares at most this many candidates, each and the word cut to this length.
def _join_or(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


class _Converter:
    def __init__(self, source_map: SourceMap, schema: Mapping[str, Any]) -> None:
        self.sm = source_map
        self.schema = schema

    # -- helpers -----------------------------------------------------------------------------------

    def diag(self, code: str, message: str, location: Location, path: Path,
             hint: str | None = None) -> Diagnostic:
        return Diagnostic(code, message, location, Severity.ERROR, path, hint)

    def describe(self, value: Any, path: Path) -> str:
        """How a value reads in a message: ``the number 1.10``, ``the text 'yes'``."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "nothing (an empty value)"
        if isinstance(value, int | Decimal):
            return f"the number {self.sm.text_at(path) or value}"
        if isinstance(value, str):
            shown = value if len(value) <= 60 else value[:57] + "..."
            return f"the text '{shown}'"
        if isinstance(value, dict):
            return "a mapping"
        if isinstance(value, list):
            return "a list"
        return repr(value)  # pragma: no cover - the loader produces nothing else

    def schema_at(self, schema_path: Iterable[Any]) -> Any:
        node: Any = self.schema
        for part in schema_path:
            node = node[part]
        return node

    def condition(self, error: ValidationError) -> str | None:
        """For an error inside ``then``/``else``: the ``if`` condition, in words (with its polarity)."""
        parts = list(error.absolute_schema_path)
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] in ("then", "else"):
                try:
                    if_schema = self.schema_at([*parts[:i], "if"])
                except (KeyError, IndexError, TypeError):
                    return None
                words = []
                for name, sub in (if_schema.get("properties") or {}).items():
                    if "const" in sub:
                        words.append(f"{name} is {sub['const']}")
                    elif "enum" in sub:
                        words.append(f"{name} is {_join_or([str(v) for v in sub['enum']])}")
                if not words:
                    return None
                text = " and ".join(words)
                return ("when " if parts[i] == "then" else "unless ") + text
        return None

    def where(self, path: Path) -> str:
        return format_path(path)

    # -- dispatch ----------------------------------------------------------------------------------

    def convert(self, error: ValidationError, extra_hint: str | None = None) -> Iterator[Diagnostic]:
        validator = error.validator
        path: Path = tuple(error.absolute_path)
        if validator in ("oneOf", "anyOf"):
            yield from self.alternatives(error)
        elif validator == "additionalProperties" and _vv(error) is False:
            yield from self.unknown_keys(error, path)
        elif validator == "required":
            yield from self.required(error, path)
        elif validator == "type":
            yield self.type_error(error, path)
        elif validator in ("enum", "const"):
            yield self.enum_error(error, path, extra_hint)
        elif validator == "pattern":
            yield self.pattern_error(error, path, extra_hint)
        elif validator == "not":
            yield from self.not_allowed(error, path)
        elif validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            yield self.range_error(error, path)
        else:
            yield self.other(error, path)

    # -- rules -------------------------------------------------------------------------------------

    def unknown_keys(self, error: ValidationError, path: Path) -> Iterator[Diagnostic]:
        allowed = sorted((_schema_of(error).get("properties") or {}).keys())
        instance = error.instance if isinstance(error.instance, dict) else {}
        for key in instance:
            if key in allowed:
                continue
            guess = did_you_mean(key, allowed)
            hint = f"did you mean '{guess}'? " if guess else ""
            hint += "allowed keys here: " + ", ".join(allowed)
            where = self.where(path)
            yield self.diag("schema-unknown-key", f"unknown key '{key}' in {where}",
                            self.sm.key_at((*path, key)), (*path, key), hint)

    def required(self, error: ValidationError, path: Path) -> Iterator[Diagnostic]:
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [k for k in _vv(error) if k not in instance]
        cond = self.condition(error)
        for key in missing:
            msg = f"{self.where(path)} is missing the required key '{key}'"
            if cond:
                msg += f" (required {cond})"
            desc = ((_schema_of(error).get("properties") or {}).get(key) or {}).get("description")
            if desc is None:
                desc = self.property_description(error, key)
            yield self.diag("schema-required", msg, self.sm.at(path), (*path, key),
                            f"add `{key}:` ({desc})" if desc else f"add `{key}:`")

    def property_description(self, error: ValidationError, key: str) -> str | None:
        """The description of ``key`` in the object schema that holds the ``then`` with this error."""
        parts = list(error.absolute_schema_path)
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] == "allOf":
                try:
                    owner = self.schema_at(parts[:i])
                except (KeyError, IndexError, TypeError):
                    return None
                desc = ((owner.get("properties") or {}).get(key) or {}).get("description")
                return str(desc) if desc else None
        return None

    def type_error(self, error: ValidationError, path: Path) -> Diagnostic:
        expected = _vv(error)
        types = [expected] if isinstance(expected, str) else list(expected)
        words = _join_or([_TYPE_WORDS.get(t, t) for t in types])
        got = self.describe(error.instance, path)
        msg = f"{self.where(path)}: expected {words}, got {got}"
        hint = self.type_hint(types, error.instance, path, _schema_of(error).get("pattern"))
        return self.diag("schema-type", msg, self.sm.at(path), path, hint)

    def type_hint(self, types: Sequence[str], instance: Any, path: Path,
                  pattern: str | None = None) -> str | None:
        if "string" in types and "number" not in types and isinstance(instance, int | Decimal | bool):
            text = self.sm.text_at(path) or str(instance)
            kind = "boolean" if isinstance(instance, bool) else "number"
            hint = f'quote it: "{text}" (unquoted, YAML reads it as a {kind})'
            if pattern is not None and re.search(pattern, text) is None:
                # quoted, it would still not have the required form: say which form
                hint += f"; it must also be {_PATTERN_WORDS.get(pattern, f'of the form {pattern}')}"
            return hint
        if "string" in types and instance is None:
            written = self.sm.text_at(path)
            if written:
                return f'quote it: "{written}"'
            return "write the value after the colon"
        if "number" in types and isinstance(instance, str) and _NUMBERISH.fullmatch(instance.strip()):
            return (f"'{instance}' is not read as a number: write plain decimal digits with no leading "
                    "zeros, underscores, '+', hexadecimal or ':' (e.g. 10, 0.5, 1.25, 1e3); at most 64 "
                    "characters")
        if "boolean" in types and isinstance(instance, str) and instance.lower() in _BOOLISH:
            return "write true or false, in lower case"
        return None

    def enum_error(self, error: ValidationError, path: Path, extra_hint: str | None = None) -> Diagnostic:
        allowed = [_vv(error)] if error.validator == "const" else list(_vv(error))
        shown = [str(a) for a in allowed]
        got = self.describe(error.instance, path)
        msg = f"{self.where(path)}: {got} is not one of: {', '.join(shown)}"
        hint = extra_hint
        if isinstance(error.instance, str):
            guess = did_you_mean(error.instance, shown)
            if guess:
                hint = f"did you mean '{guess}'?"
        return self.diag("schema-enum", msg, self.sm.at(path), path, hint)

    def pattern_error(self, error: ValidationError, path: Path, extra_hint: str | None = None) -> Diagnostic:
        pattern = str(_vv(error))
        words = _PATTERN_WORDS.get(pattern)
        if "propertyNames" in error.absolute_schema_path:
            key = str(error.instance)
            msg = f"the name '{key}' in {self.where(path)} is not {words or f'of the form {pattern}'}"
            return self.diag("schema-pattern", msg, self.sm.key_at((*path, key)), (*path, key), extra_hint)
        got = self.describe(error.instance, path)
        msg = f"{self.where(path)}: {got} is not {words or f'of the form {pattern}'}"
        hint = extra_hint
        examples = [str(e) for e in _schema_of(error).get("examples", ())]
        if isinstance(error.instance, str) and (guess := did_you_mean(error.instance, examples)):
            hint = f"did you mean '{guess}'?"
        if hint is None and not words:
            hint = _schema_of(error).get("description")
        return self.diag("schema-pattern", msg, self.sm.at(path), path, hint)

    def not_allowed(self, error: ValidationError, path: Path) -> Iterator[Diagnostic]:
        instance = error.instance if isinstance(error.instance, dict) else {}
        forbidden: list[str] = []

        def collect(s: Any) -> None:
            if isinstance(s, dict):
                forbidden.extend(k for k in s.get("required", ()) if k not in forbidden)
                for sub in [*s.get("anyOf", ()), *s.get("oneOf", ()), *s.get("allOf", ())]:
                    collect(sub)

        collect(_vv(error))
        present = [k for k in forbidden if k in instance]
        cond = self.condition(error)
        if not present:  # pragma: no cover - every `not` in the schema forbids keys
            yield self.other(error, path)
            return
        for key in present:
            if cond and cond.startswith("unless "):
                msg = f"'{key}' is only allowed {cond.replace('unless ', 'when ', 1)}"
            elif cond:
                msg = f"'{key}' is not allowed {cond}"
            else:
                msg = f"'{key}' is not allowed here"
            msg = f"{self.where(path)}: {msg}"
            yield self.diag("schema-key-not-allowed", msg, self.sm.key_at((*path, key)), (*path, key),
                            f"remove `{key}:` or change the kind of this entry")

    def range_error(self, error: ValidationError, path: Path) -> Diagnostic:
        bound = _vv(error)
        words = {
            "minimum": f"at least {bound}",
            "maximum": f"at most {bound}",
            "exclusiveMinimum": f"greater than {bound}",
            "exclusiveMaximum": f"less than {bound}",
        }[str(error.validator)]
        msg = f"{self.where(path)}: must be {words}, got {self.describe(error.instance, path)}"
        return self.diag("schema-range", msg, self.sm.at(path), path, _schema_of(error).get("description"))

    def other(self, error: ValidationError, path: Path) -> Diagnostic:
        v = error.validator
        value = _vv(error)
        where = self.where(path)
        if v == "minItems":
            msg = f"{where}: the list must have at least {value} item{'s' if value != 1 else ''}"
        elif v == "minLength":
            msg = f"{where}: the text must not be empty" if value == 1 else \
                f"{where}: the text must be at least {value} characters long"
        elif v == "maxLength":
            msg = f"{where}: the text is longer than {value} characters"
        elif v == "minProperties":
            msg = f"{where}: must have at least {value} entr{'ies' if value != 1 else 'y'}"
        elif v == "uniqueItems":
            dupes = _duplicates(error.instance)
            msg = f"{where}: the list repeats " + ", ".join(f"'{d}'" for d in dupes)
        else:
            msg = f"{where}: {error.message}"
        return self.diag("schema-invalid", msg, self.sm.at(path), path, _schema_of(error).get("description"))

    # -- oneOf / anyOf -----------------------------------------------------------------------------

    def alternatives(self, error: ValidationError) -> Iterator[Diagnostic]:
        path: Path = tuple(error.absolute_path)
        if not error.context:  # oneOf matched more than one branch
            yield self.other(error, path)
            return
        depth = len(error.absolute_path)
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)

        def mismatch(errs: list[ValidationError]) -> bool:
            for e in errs:
                rel = tuple(e.absolute_path)[depth:]
                if rel == () and e.validator == "type":
                    return True
                if rel == ("type",) and e.validator in ("const", "enum"):
                    return True
            return False

        candidates = {i: errs for i, errs in branches.items() if not mismatch(errs)}
        if len(candidates) == 1:
            (errs,) = candidates.values()
            description = _schema_of(error).get("description")
            for e in errs:
                yield from self.convert(e, description)
            return
        if not candidates:
            yield self.no_branch_matches(error, branches, depth)
            return
        # Several plausible branches: a missing key common to all of them, else the best match.
        common_missing = None
        for errs in candidates.values():
            keys = {m for e in errs if e.validator == "required" and tuple(e.absolute_path)[depth:] == ()
                    for m in _vv(e) if isinstance(e.instance, dict) and m not in e.instance}
            common_missing = keys if common_missing is None else common_missing & keys
        if common_missing:
            key = sorted(common_missing)[0]
            yield self.diag("schema-required", f"{self.where(path)} is missing the required key '{key}'",
                            self.sm.at(path), (*path, key), f"add `{key}:`")
            return
        constants = [str(_vv(e)) for errs in candidates.values() for e in errs
                     if e.validator == "const" and tuple(e.absolute_path)[depth:] == ()]
        extra_hint = None
        if constants and isinstance(error.instance, str):
            guess = did_you_mean(error.instance, constants)
            if guess:
                extra_hint = f"did you mean '{guess}'?"
        best = best_match([e for errs in candidates.values() for e in errs])
        if best is None:  # pragma: no cover - candidates are never empty here
            yield self.other(error, path)
            return
        yield from self.convert(best, extra_hint)

    def no_branch_matches(self, error: ValidationError, branches: Mapping[int, list[ValidationError]],
                          depth: int) -> Diagnostic:
        path: Path = tuple(error.absolute_path)
        # discriminated objects (actions): the `type` value is wrong
        allowed: list[str] = []
        type_path: Path | None = None
        for errs in branches.values():
            for e in errs:
                rel = tuple(e.absolute_path)[depth:]
                if rel == ("type",) and e.validator in ("const", "enum"):
                    type_path = tuple(e.absolute_path)
                    vals = [_vv(e)] if e.validator == "const" else list(_vv(e))
                    allowed.extend(str(v) for v in vals if str(v) not in allowed)
        if type_path is not None:
            instance = error.instance.get("type") if isinstance(error.instance, dict) else None
            got = self.describe(instance, type_path)
            msg = f"{self.where(type_path)}: {got} is not one of: {', '.join(allowed)}"
            guess = did_you_mean(instance, allowed) if isinstance(instance, str) else None
            return self.diag("schema-enum", msg, self.sm.at(type_path), type_path,
                             f"did you mean '{guess}'?" if guess else None)
        types: list[str] = []
        for errs in branches.values():
            for e in errs:
                if tuple(e.absolute_path)[depth:] == () and e.validator == "type":
                    vv = _vv(e)
                    for t in [vv] if isinstance(vv, str) else vv:
                        if t not in types:
                            types.append(t)
        words = _join_or([_TYPE_WORDS.get(t, t) for t in types])
        msg = f"{self.where(path)}: expected {words}, got {self.describe(error.instance, path)}"
        hint = self.type_hint(types, error.instance, path) or _schema_of(error).get("description")
        return self.diag("schema-type", msg, self.sm.at(path), path, hint)


def _vv(error: ValidationError) -> Any:
    """The value of the failing keyword (typed loosely on purpose)."""
    return error.validator_value


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    schema = error.schema
    return schema if isinstance(schema, Mapping) else {}


def _duplicates(items: Any) -> list[str]:
    seen: list[Any] = []
    dupes: list[str] = []
    for item in items if isinstance(items, list) else []:
        if item in seen and str(item) not in dupes:
            dupes.append(str(item))
        seen.append(item)
    return dupes
