"""The schema fast path: a compiled yes/no check of the keywords the guideline schema uses.

jsonschema's ``iter_errors`` costs about 4 microseconds per instance node (it builds a validator per step),
which made schema validation most of the time spent on a valid file. Most files in CI are valid, so a
compiled check answers "valid?" first and jsonschema runs only to explain a "no" (``explain.py``).

``KEYWORDS`` holds one small compiler per JSON-Schema keyword (as python-jsonschema's ``_keywords.py``):
given the keyword's value and the schema object that holds it, it returns a ``Check`` closure. Only the
keywords in the table are supported: compiling any other keyword raises ``NotImplementedError``, and then
jsonschema always runs. Where a check cannot be sure (e.g. uniqueness of non-text items) it answers "no",
which only sends the file to jsonschema. A differential test (tests/test_schema.py) holds it to
jsonschema's answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["KEYWORDS", "Check", "compile_schema"]

#: Whether an instance is valid.
Check = Callable[[Any], bool]
#: Compiles one keyword: (the keyword's value, the schema object that holds it) -> its check.
KeywordCompiler = Callable[[Any, dict[str, Any]], Check]

#: Keywords with no check of their own (``then``/``else`` are compiled by ``if``).
_NOT_COMPILED = frozenset({"$schema", "$id", "title", "description", "examples", "default", "$comment",
                           "then", "else"})


def _always(x: Any) -> bool:
    return True


def _never(x: Any) -> bool:
    return False


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


def _all(checks: Sequence[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)
    if len(frozen) == 2:  # the usual pair (type and one more): no loop at all
        first, second = frozen

        def both(x: Any) -> bool:
            return first(x) and second(x)
        return both

    def check(x: Any) -> bool:  # loops, not all(generator): the checks run once per document node
        for c in frozen:  # noqa: SIM110 (a loop: all() of a generator costs more)
            if not c(x):
                return False
        return True

    return check


def compile_schema(schema: Any) -> Check:
    """The check of a schema (``True``, ``False`` or an object of the keywords in ``KEYWORDS``)."""
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise TypeError(f"not a schema: {schema!r}")
    checks = []
    for key, value in schema.items():
        if key in _NOT_COMPILED:
            continue
        compile_keyword = KEYWORDS.get(key)
        if compile_keyword is None:
            raise NotImplementedError(f"keyword {key!r}")
        checks.append(compile_keyword(value, schema))
    return _all(checks)


# --------------------------------------------------------------------------------------------------
# one compiler per keyword


def _type(value: Any, schema: dict[str, Any]) -> Check:
    tests = tuple(_PY_TYPES[n] for n in ([value] if isinstance(value, str) else value))
    if len(tests) == 1:
        return tests[0]

    def type_(x: Any) -> bool:
        return any(t(x) for t in tests)
    return type_


def _properties(value: Any, schema: dict[str, Any]) -> Check:
    props = tuple((k, compile_schema(v)) for k, v in value.items())

    def properties(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for k, f in props:  # noqa: SIM110 (a loop: all() of a generator costs more)
            if k in x and not f(x[k]):
                return False
        return True
    return properties


def _additional_properties(value: Any, schema: dict[str, Any]) -> Check:
    if "patternProperties" in schema:
        raise NotImplementedError("patternProperties")
    known = frozenset(schema.get("properties", {}))
    if value is False:
        def closed(x: Any) -> bool:
            return not isinstance(x, dict) or known.issuperset(x)
        return closed
    extra = compile_schema(value)

    def additional(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for n, v in x.items():  # noqa: SIM110 (a loop: all() of a generator costs more)
            if n not in known and not extra(v):
                return False
        return True
    return additional


def _required(value: Any, schema: dict[str, Any]) -> Check:
    names = tuple(value)

    def required(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for n in names:  # noqa: SIM110 (a loop: all() of a generator costs more)
            if n not in x:
                return False
        return True
    return required


def _property_names(value: Any, schema: dict[str, Any]) -> Check:
    name_check = compile_schema(value)

    def property_names(x: Any) -> bool:
        return not isinstance(x, dict) or all(name_check(n) for n in x)
    return property_names


def _at_least(kind: type[dict[Any, Any]] | type[list[Any]] | type[str]) -> KeywordCompiler:
    """``minProperties`` / ``minItems`` / ``minLength``: a size bound on instances of ``kind``."""
    def compile_bound(value: Any, schema: dict[str, Any]) -> Check:
        n = int(value)

        def size(x: Any) -> bool:
            return not isinstance(x, kind) or len(x) >= n
        return size
    return compile_bound


def _max_length(value: Any, schema: dict[str, Any]) -> Check:
    n = int(value)

    def size(x: Any) -> bool:
        return not isinstance(x, str) or len(x) <= n
    return size


def _items(value: Any, schema: dict[str, Any]) -> Check:
    item = compile_schema(value)

    def items(x: Any) -> bool:
        if not isinstance(x, list):
            return True
        for v in x:  # noqa: SIM110 (a loop: all() of a generator costs more)
            if not item(v):
                return False
        return True
    return items


def _unique_items(value: Any, schema: dict[str, Any]) -> Check:
    def unique(x: Any) -> bool:  # only text items are compared here; anything else goes to jsonschema
        if not value or not isinstance(x, list):
            return True
        return all(isinstance(v, str) for v in x) and len(set(x)) == len(x)
    return unique


def _one_of_texts(allowed: Sequence[Any]) -> Check:
    if not all(isinstance(a, str) for a in allowed):
        raise NotImplementedError("enum of non-text values")
    allowed_set = frozenset(allowed)

    def enum(x: Any) -> bool:
        return isinstance(x, str) and x in allowed_set
    return enum


def _enum(value: Any, schema: dict[str, Any]) -> Check:
    return _one_of_texts(list(value))


def _const(value: Any, schema: dict[str, Any]) -> Check:
    return _one_of_texts([value])


def _pattern(value: Any, schema: dict[str, Any]) -> Check:
    rx = re.compile(value)

    def pattern(x: Any) -> bool:
        return not isinstance(x, str) or rx.search(x) is not None
    return pattern


def _number_bound(holds: Callable[[Any, Any], bool]) -> KeywordCompiler:
    """``minimum`` / ``maximum`` / ``exclusiveMinimum`` / ``exclusiveMaximum``: ``holds(instance, bound)``."""
    def compile_bound(value: Any, schema: dict[str, Any]) -> Check:
        def bound(x: Any) -> bool:
            return not _is_number(x) or holds(x, value)
        return bound
    return compile_bound


def _all_of(value: Any, schema: dict[str, Any]) -> Check:
    return _all([compile_schema(v) for v in value])


def _any_of(value: Any, schema: dict[str, Any]) -> Check:
    subs = tuple(compile_schema(v) for v in value)

    def any_of(x: Any) -> bool:
        return any(f(x) for f in subs)
    return any_of


def _one_of(value: Any, schema: dict[str, Any]) -> Check:
    subs = tuple(compile_schema(v) for v in value)

    def one_of(x: Any) -> bool:
        return sum(1 for f in subs if f(x)) == 1
    return one_of


def _not(value: Any, schema: dict[str, Any]) -> Check:
    inner = compile_schema(value)

    def not_(x: Any) -> bool:
        return not inner(x)
    return not_


def _if(value: Any, schema: dict[str, Any]) -> Check:
    cond = compile_schema(value)
    then, other = compile_schema(schema.get("then", True)), compile_schema(schema.get("else", True))

    def if_(x: Any) -> bool:
        return then(x) if cond(x) else other(x)
    return if_


#: Every supported keyword and its compiler.
KEYWORDS: dict[str, KeywordCompiler] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "required": _required,
    "propertyNames": _property_names,
    "minProperties": _at_least(dict),
    "minItems": _at_least(list),
    "minLength": _at_least(str),
    "maxLength": _max_length,
    "items": _items,
    "uniqueItems": _unique_items,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minimum": _number_bound(lambda a, b: a >= b),
    "maximum": _number_bound(lambda a, b: a <= b),
    "exclusiveMinimum": _number_bound(lambda a, b: a > b),
    "exclusiveMaximum": _number_bound(lambda a, b: a < b),
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}
