"""The fast paths of reading facts JSON (``facts/json.py``, ``values/jsonscan.py``) against the full ones.

``parse_facts_json`` skips its node-by-node check (and the copy into plain dicts) when a quick scan shows no
node can fail it; ``nested_deeper`` measures nesting with the regex engine instead of a step per token. Both
must answer exactly as the full versions do, errors included, on ordinary and hostile texts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import interpreter.facts.json as fj
from interpreter.errors import FactsError
from interpreter.facts.checker import DEFAULT_FACTS_LIMITS
from interpreter.values.jsonscan import nested_deeper, nested_deeper_reference


def _full(text: str) -> Any:
    """parse_facts_json with the full check always run (the behaviour before the fast path)."""
    saved = fj._needs_full_check, fj._object
    fj._needs_full_check, fj._object = (lambda *a: True), fj._JsonObject  # type: ignore[assignment]
    try:
        return _outcome(text)
    finally:
        fj._needs_full_check, fj._object = saved


def _outcome(text: str) -> Any:
    try:
        data = fj.parse_facts_json(text)
    except FactsError as exc:
        return ("error", [(d.code, d.message, d.path) for d in exc.diagnostics])
    assert all(type(d) is dict for d in _dicts(data))
    return ("ok", json.dumps(data, default=str), repr(data))


def _dicts(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [data, *(x for v in data.values() for x in _dicts(v))]
    if isinstance(data, list):
        return [x for v in data for x in _dicts(v)]
    return []


_atoms = st.sampled_from(["1", "-0", "0.5", "1e400", "-1e-400", "1e300", "1e-300", "NaN", "Infinity",
                          "-Infinity", "true", "null", '"x"', '"[{"', '"\\"]"', "7" * 301, "0.0"])


def _json(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return _atoms
    inner = _json(depth - 1)
    keys = st.sampled_from(['"a"', '"b"', '"a"', '"[x"', '"}"'])
    obj = st.lists(st.tuples(keys, inner), max_size=4).map(
        lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")
    arr = st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
    return st.one_of(_atoms, obj, arr)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(['"anc"', '"wbc"', '"anc"', '"w"']), _json(9)), max_size=4))
def test_parse_facts_json_answers_as_the_full_check(pairs: list[tuple[str, str]]) -> None:
    text = "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    assert _outcome(text) == _full(text)


_D = DEFAULT_FACTS_LIMITS.max_depth


@pytest.mark.parametrize("text", [
    '{"anc": {"value": 0.4, "unit": "10*9/L", "at": "2026-11-24T07:00:00Z"}}',
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "b": NaN}}',
    '{"a": [1e400]}',
    '{"a": ' + "[" * (_D - 1) + "1" + "]" * (_D - 1) + "}",
    '{"a": ' + "[" * _D + "1" + "]" * _D + "}",
    '{"a": ' + "[" * _D + "]" * _D + "}",
])
def test_known_texts_answer_as_the_full_check(text: str) -> None:
    assert _outcome(text) == _full(text)


def test_the_fast_path_is_taken_for_ordinary_facts() -> None:
    data = fj.parse_facts_json('{"anc": {"value": 0.4, "unit": "10*9/L"}, "wbc": [1, 2]}')
    assert type(data) is dict and type(data["anc"]) is dict
    assert not fj._needs_full_check(data, 0, DEFAULT_FACTS_LIMITS.max_depth)


_texty = st.text(alphabet='[]{}"\\ab:,\n', max_size=60)


@settings(max_examples=2000, deadline=None)
@given(_texty, st.integers(min_value=0, max_value=6))
def test_nested_deeper_answers_as_the_token_scan(text: str, most: int) -> None:
    assert nested_deeper(text, most) == nested_deeper_reference(text, most)
