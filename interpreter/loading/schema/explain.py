"""Explain jsonschema errors as located, readable ``schema-*`` diagnostics.

``SchemaExplainer.explain(error)`` turns one ``jsonschema`` ``ValidationError`` into diagnostics located
through the document's ``SourceMap``: an unknown key at the key, a wrong value at the value, a missing key at
the mapping that lacks it. The handler is chosen by the failing keyword (``EXPLAIN``, a table keyed by the
jsonschema validator keyword; a keyword without an entry gets the generic ``schema-invalid``). For
``oneOf``/``anyOf`` the branch the author evidently meant is chosen (the one whose discriminating ``type``
matches) and its errors are reported; otherwise ``best_match`` decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from ...codes import Code
from ...errors import Diagnostic, Location, Path, Severity
from ...values.suggest import did_you_mean
from ..source import SourceMap

__all__ = ["EXPLAIN", "SchemaExplainer", "format_path"]

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



def format_path(path: Sequence[str | int]) -> str:
    """``("nodes", 0, "branches", 1, "then")`` -> ``nodes[0].branches[1].then``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _join_or(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


class SchemaExplainer:
    """Explains the jsonschema errors of one document (``schema``: the schema it was validated against)."""

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

    def explain(self, error: ValidationError, extra_hint: str | None = None) -> Iterator[Diagnostic]:
        """The diagnostics of one jsonschema error, by the handler of its keyword in ``EXPLAIN``."""
        handler = EXPLAIN.get(str(error.validator), SchemaExplainer.invalid_value)
        return handler(self, error, tuple(error.absolute_path), extra_hint)

    # -- rules -------------------------------------------------------------------------------------

    def unknown_keys(self, error: ValidationError, path: Path, extra_hint: str | None,
                      ) -> Iterator[Diagnostic]:
        if keyword_value(error) is not False:  # additionalProperties with a schema: a value is wrong
            yield self.invalid(error, path)
            return
        allowed = sorted((_schema_of(error).get("properties") or {}).keys())
        instance = error.instance if isinstance(error.instance, dict) else {}
        for key in instance:
            if key in allowed:
                continue
            guess = did_you_mean(key, allowed)
            hint = f"did you mean '{guess}'? " if guess else ""
            hint += "allowed keys here: " + ", ".join(allowed)
            where = self.where(path)
            yield self.diag(Code.SCHEMA_UNKNOWN_KEY, f"unknown key '{key}' in {where}",
                            self.sm.key_at((*path, key)), (*path, key), hint)

    def required(self, error: ValidationError, path: Path, extra_hint: str | None) -> Iterator[Diagnostic]:
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [k for k in keyword_value(error) if k not in instance]
        cond = self.condition(error)
        for key in missing:
            msg = f"{self.where(path)} is missing the required key '{key}'"
            if cond:
                msg += f" (required {cond})"
            desc = ((_schema_of(error).get("properties") or {}).get(key) or {}).get("description")
            if desc is None:
                desc = self.property_description(error, key)
            yield self.diag(Code.SCHEMA_REQUIRED, msg, self.sm.at(path), (*path, key),
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

    def type_error(self, error: ValidationError, path: Path, extra_hint: str | None) -> Iterator[Diagnostic]:
        expected = keyword_value(error)
        types = [expected] if isinstance(expected, str) else list(expected)
        words = _join_or([_TYPE_WORDS.get(t, t) for t in types])
        got = self.describe(error.instance, path)
        msg = f"{self.where(path)}: expected {words}, got {got}"
        hint = self.type_hint(types, error.instance, path, _schema_of(error).get("pattern"))
        yield self.diag(Code.SCHEMA_TYPE, msg, self.sm.at(path), path, hint)

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

    def enum_error(self, error: ValidationError, path: Path, extra_hint: str | None) -> Iterator[Diagnostic]:
        allowed = [keyword_value(error)] if error.validator == "const" else list(keyword_value(error))
        shown = [str(a) for a in allowed]
        got = self.describe(error.instance, path)
        msg = f"{self.where(path)}: {got} is not one of: {', '.join(shown)}"
        hint = extra_hint
        if isinstance(error.instance, str):
            guess = did_you_mean(error.instance, shown)
            if guess:
                hint = f"did you mean '{guess}'?"
        yield self.diag(Code.SCHEMA_ENUM, msg, self.sm.at(path), path, hint)

    def pattern_error(self, error: ValidationError, path: Path, extra_hint: str | None,
                      ) -> Iterator[Diagnostic]:
        pattern = str(keyword_value(error))
        words = _PATTERN_WORDS.get(pattern)
        if "propertyNames" in error.absolute_schema_path:
            key = str(error.instance)
            msg = f"the name '{key}' in {self.where(path)} is not {words or f'of the form {pattern}'}"
            yield self.diag(Code.SCHEMA_PATTERN, msg, self.sm.key_at((*path, key)), (*path, key), extra_hint)
            return
        got = self.describe(error.instance, path)
        msg = f"{self.where(path)}: {got} is not {words or f'of the form {pattern}'}"
        hint = extra_hint
        examples = [str(e) for e in _schema_of(error).get("examples", ())]
        if isinstance(error.instance, str) and (guess := did_you_mean(error.instance, examples)):
            hint = f"did you mean '{guess}'?"
        if hint is None and not words:
            hint = _schema_of(error).get("description")
        yield self.diag(Code.SCHEMA_PATTERN, msg, self.sm.at(path), path, hint)

    def not_allowed(self, error: ValidationError, path: Path, extra_hint: str | None) -> Iterator[Diagnostic]:
        instance = error.instance if isinstance(error.instance, dict) else {}
        forbidden: list[str] = []

        def collect(s: Any) -> None:
            if isinstance(s, dict):
                forbidden.extend(k for k in s.get("required", ()) if k not in forbidden)
                for sub in [*s.get("anyOf", ()), *s.get("oneOf", ()), *s.get("allOf", ())]:
                    collect(sub)

        collect(keyword_value(error))
        present = [k for k in forbidden if k in instance]
        cond = self.condition(error)
        if not present:  # pragma: no cover - every `not` in the schema forbids keys
            yield self.invalid(error, path)
            return
        for key in present:
            if cond and cond.startswith("unless "):
                msg = f"'{key}' is only allowed {cond.replace('unless ', 'when ', 1)}"
            elif cond:
                msg = f"'{key}' is not allowed {cond}"
            else:
                msg = f"'{key}' is not allowed here"
            msg = f"{self.where(path)}: {msg}"
            yield self.diag(Code.SCHEMA_KEY_NOT_ALLOWED, msg, self.sm.key_at((*path, key)), (*path, key),
                            f"remove `{key}:` or change the kind of this entry")

    def range_error(self, error: ValidationError, path: Path, extra_hint: str | None) -> Iterator[Diagnostic]:
        bound = keyword_value(error)
        words = {
            "minimum": f"at least {bound}",
            "maximum": f"at most {bound}",
            "exclusiveMinimum": f"greater than {bound}",
            "exclusiveMaximum": f"less than {bound}",
        }[str(error.validator)]
        msg = f"{self.where(path)}: must be {words}, got {self.describe(error.instance, path)}"
        yield self.diag(Code.SCHEMA_RANGE, msg, self.sm.at(path), path, _schema_of(error).get("description"))

    def invalid_value(self, error: ValidationError, path: Path, extra_hint: str | None,
                      ) -> Iterator[Diagnostic]:
        yield self.invalid(error, path)

    def invalid(self, error: ValidationError, path: Path) -> Diagnostic:
        """``schema-invalid``: in words for the keywords of ``_INVALID_WORDS``, else jsonschema's message."""
        words = _INVALID_WORDS.get(str(error.validator))
        problem = error.message if words is None else words(keyword_value(error), error.instance)
        msg = f"{self.where(path)}: {problem}"
        return self.diag(
            Code.SCHEMA_INVALID, msg, self.sm.at(path), path, _schema_of(error).get("description"))

    # -- oneOf / anyOf -----------------------------------------------------------------------------

    def alternatives(self, error: ValidationError, path: Path, extra_hint: str | None,
                      ) -> Iterator[Diagnostic]:
        if not error.context:  # oneOf matched more than one branch
            yield self.invalid(error, path)
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
                yield from self.explain(e, description)
            return
        if not candidates:
            yield self.no_branch_matches(error, branches, depth)
            return
        # Several plausible branches: a missing key common to all of them, else the best match.
        common_missing = None
        for errs in candidates.values():
            keys = {m for e in errs if e.validator == "required" and tuple(e.absolute_path)[depth:] == ()
                    for m in keyword_value(e) if isinstance(e.instance, dict) and m not in e.instance}
            common_missing = keys if common_missing is None else common_missing & keys
        if common_missing:
            key = sorted(common_missing)[0]
            yield self.diag(Code.SCHEMA_REQUIRED, f"{self.where(path)} is missing the required key '{key}'",
                            self.sm.at(path), (*path, key), f"add `{key}:`")
            return
        constants = [str(keyword_value(e)) for errs in candidates.values() for e in errs
                     if e.validator == "const" and tuple(e.absolute_path)[depth:] == ()]
        extra_hint = None
        if constants and isinstance(error.instance, str):
            guess = did_you_mean(error.instance, constants)
            if guess:
                extra_hint = f"did you mean '{guess}'?"
        best = best_match([e for errs in candidates.values() for e in errs])
        if best is None:  # pragma: no cover - candidates are never empty here
            yield self.invalid(error, path)
            return
        yield from self.explain(best, extra_hint)

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
                    vals = [keyword_value(e)] if e.validator == "const" else list(keyword_value(e))
                    allowed.extend(str(v) for v in vals if str(v) not in allowed)
        if type_path is not None:
            instance = error.instance.get("type") if isinstance(error.instance, dict) else None
            got = self.describe(instance, type_path)
            msg = f"{self.where(type_path)}: {got} is not one of: {', '.join(allowed)}"
            guess = did_you_mean(instance, allowed) if isinstance(instance, str) else None
            return self.diag(Code.SCHEMA_ENUM, msg, self.sm.at(type_path), type_path,
                             f"did you mean '{guess}'?" if guess else None)
        types: list[str] = []
        for errs in branches.values():
            for e in errs:
                if tuple(e.absolute_path)[depth:] == () and e.validator == "type":
                    vv = keyword_value(e)
                    for t in [vv] if isinstance(vv, str) else vv:
                        if t not in types:
                            types.append(t)
        words = _join_or([_TYPE_WORDS.get(t, t) for t in types])
        msg = f"{self.where(path)}: expected {words}, got {self.describe(error.instance, path)}"
        hint = self.type_hint(types, error.instance, path) or _schema_of(error).get("description")
        return self.diag(Code.SCHEMA_TYPE, msg, self.sm.at(path), path, hint)


def keyword_value(error: ValidationError) -> Any:
    """The value of the failing keyword in the schema (e.g. the list of ``required``; typed loosely)."""
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


#: What is wrong, in words, for a keyword explained as ``schema-invalid``: (keyword value, instance) -> text.
_INVALID_WORDS: dict[str, Callable[[Any, Any], str]] = {
    "minItems": lambda n, _: f"the list must have at least {n} item{'s' if n != 1 else ''}",
    "minLength": lambda n, _: "the text must not be empty" if n == 1 else
    f"the text must be at least {n} characters long",
    "maxLength": lambda n, _: f"the text is longer than {n} characters",
    "minProperties": lambda n, _: f"must have at least {n} entr{'ies' if n != 1 else 'y'}",
    "uniqueItems": lambda _, items: "the list repeats " + ", ".join(f"'{d}'" for d in _duplicates(items)),
}

#: How each failing jsonschema keyword is explained (a keyword without an entry: ``invalid_value``).
Handler = Callable[[SchemaExplainer, ValidationError, Path, str | None], Iterator[Diagnostic]]
EXPLAIN: dict[str, Handler] = {
    "oneOf": SchemaExplainer.alternatives,
    "anyOf": SchemaExplainer.alternatives,
    "additionalProperties": SchemaExplainer.unknown_keys,
    "required": SchemaExplainer.required,
    "type": SchemaExplainer.type_error,
    "enum": SchemaExplainer.enum_error,
    "const": SchemaExplainer.enum_error,
    "pattern": SchemaExplainer.pattern_error,
    "not": SchemaExplainer.not_allowed,
    "minimum": SchemaExplainer.range_error,
    "maximum": SchemaExplainer.range_error,
    "exclusiveMinimum": SchemaExplainer.range_error,
    "exclusiveMaximum": SchemaExplainer.range_error,
}
