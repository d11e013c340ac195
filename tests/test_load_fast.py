"""The parser's fast paths agree with the slow checks they stand in for (issue 12: load speed).

``_may_have_token_problem`` decides when Python's tokenizer must run; ``_tree_shape`` says whether every node
is allowed (then ``_disallowed`` is not run); ``_NOT_PLAIN_ASCII`` is the per-character test.
"""

from __future__ import annotations

import ast
import pathlib
import random

import pytest

from interpreter.lang import parse as P

ROOT = pathlib.Path(__file__).resolve().parent.parent

_ALPHABET = list("0123456789") * 3 + list("abejxoJEXO_.#'\" +-()[]<=,")


def test_token_prefilter_never_skips_a_problem() -> None:
    rnd = random.Random(12)
    skipped = 0
    for _ in range(4000):
        text = "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, 10)))
        if not P._may_have_token_problem(text):
            skipped += 1
            assert P._token_problem(text, 0) is None, text
    assert skipped > 500  # the fast path is taken often, so the comparison means something


@pytest.mark.parametrize("text", ["1abc", "007", "0x1for", "1.2.3", "x.5abc", "1e5x", "a # b", "1_000x",
                                  "1jx", "00.5x", "'a' 1if"])
def test_token_prefilter_sends_problem_texts_to_the_tokenizer(text: str) -> None:
    assert P._may_have_token_problem(text)


@pytest.mark.parametrize("text", ["anc < 1.0037 and wbc >= q(2.5, '10*9/L')", "x in ['a', 'b']", "0 < a",
                                  "days_since(t) <= 14"])
def test_token_prefilter_skips_plain_conditions(text: str) -> None:
    assert not P._may_have_token_problem(text)
    assert P._token_problem(text, 0) is None


@pytest.mark.parametrize("text", ["a < 1", "f(x)[0]", "[x for x in y]", "f(a=1)", "a if b else c", "{1: 2}",
                                  "not (a and b or -c)", "lambda: 1", "f'{a}'", "a.b < (c := 1)"])
def test_tree_shape_agrees_with_the_walks_it_replaces(text: str) -> None:
    tree = ast.parse(text, mode="eval")
    count, depth, clean = P._tree_shape(tree)
    nodes = list(ast.walk(tree))
    assert count == len(nodes)
    assert clean == (P._disallowed(tree) == [])

    def height(node: ast.AST) -> int:
        return 1 + max((height(c) for c in ast.iter_child_nodes(node)), default=0)

    assert depth == height(tree)


def test_plain_ascii_pattern_is_the_character_rule() -> None:
    for code in range(0x3100):
        ch = chr(code)
        allowed = ch.isascii() and (ch.isprintable() or ch in " \t\n\r")
        assert (P._NOT_PLAIN_ASCII.search(ch) is None) == allowed, hex(code)


@pytest.mark.parametrize(("one", "other"), [
    ("f(1)", "f(True)"), ("f(1)", "f(1.0)"), ("f(a, b)", "f(a)(b)"), ("[a, [b]]", "[[a], b]"),
    ("f([a], b)", "f([a, b])"), ("a < b", "a <= b"), ("'a' + b", "a + 'b'"), ("f(None)", "f('None')"),
])
def test_the_code_shape_key_tells_different_trees_apart(one: str, other: str) -> None:
    from interpreter.lang.codegen import _shape_and_locate

    def key(text: str) -> str:
        return _shape_and_locate(ast.parse(text, mode="eval").body)

    assert key(one) == key(one)
    assert key(one) != key(other)


@pytest.mark.parametrize("text", ["a < 1 and f(b, [1, 2, 'x']) or not c in ['a', 'b']", "x",
                                  "q(1, 'mg') <= a < 3", "-(a * 2 + 3) / b != c == d"])
def test_the_rules_walk_is_ast_walk(text: str) -> None:
    from interpreter.analysis.trees import walk

    tree = ast.parse(text, mode="eval")
    assert walk(tree) == list(ast.walk(tree))


def test_the_source_map_makes_locations_when_read() -> None:
    import pickle

    from interpreter.errors import Location
    from interpreter.loading.source import LocationTable, load_yaml

    _, sm, diags = load_yaml(b"a: 1\nb:\n  - x\n", "g.yaml")
    assert not diags
    assert isinstance(sm.values, LocationTable)
    assert sm.values[("b", 0)] == Location("g.yaml", 3, 5)
    assert sm.values.get(("c",)) is None and sm.values.get(("c",), 7) == 7
    assert ("a",) in sm.keys and ("c",) not in sm.keys and len(sm.keys) == 2
    assert dict(sm.keys) == {("a",): Location("g.yaml", 1, 1), ("b",): Location("g.yaml", 2, 1)}
    assert pickle.loads(pickle.dumps(sm.values)) == sm.values  # (a SourceMap itself never pickled)


def test_content_hash_is_the_hash_of_the_canonical_copy() -> None:
    import hashlib
    import json
    import pathlib
    from decimal import Decimal

    from interpreter.loading.model import _canonical, content_hash
    from interpreter.loading.source import load_yaml

    def canonical_hash(data: object) -> str:
        text = json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    root = pathlib.Path(__file__).resolve().parent.parent / "guidelines"
    docs: list[object] = [load_yaml(p.read_bytes(), str(p))[0]
                          for p in sorted(root.rglob("*.guideline.yaml"))]
    docs += [{"b": [1, {"a": Decimal("1.10")}], "c": (Decimal("1e3"),), "é": None}, [Decimal(2), True]]
    for doc in docs:
        assert content_hash(doc) == canonical_hash(doc)


@pytest.mark.parametrize("text", ["anc < 1", "anc < 1_0", " anc < 2.5", "anc < -3", "  anc < 1_000.5",
                                  "anc < 0x1f"])
def test_number_literal_reads_the_segment_as_get_source_segment(text: str) -> None:
    from interpreter.analysis.thresholds import _number_literal

    node = ast.parse(text.strip(), mode="eval").body.comparators[0]  # type: ignore[attr-defined]
    inner = node.operand if isinstance(node, ast.UnaryOp) else node
    segment = ast.get_source_segment(text, inner)
    assert _number_literal(node, text) == (segment is not None and "_" not in segment)


@pytest.mark.parametrize("text", ["f(1, [a, 'x'], None)", "a < b <= 2.5", "not (x or y) and z in ['p', 'q']"])
def test_the_iterative_shape_writes_the_recursive_definition(text: str) -> None:
    from interpreter.lang.codegen import _CLASS_CODES, _shape_and_locate

    def reference(node: object, out: list[str]) -> None:  # _shape's definition, written recursively
        if isinstance(node, ast.AST):
            out.append(_CLASS_CODES[node.__class__])
            for f in node._fields:
                reference(getattr(node, f, None), out)
        elif node.__class__ is list:
            out.append("[")
            for x in node:  # type: ignore[attr-defined]
                reference(x, out)
            out.append("]")
        else:
            out.append(f"{node.__class__.__name__}:{node!r}\0")

    tree = ast.parse(text, mode="eval").body
    out: list[str] = []
    reference(tree, out)
    assert _shape_and_locate(tree) == "".join(out)
    assert all(getattr(n, "lineno", 1) == 1 for n in ast.walk(tree))


@pytest.mark.parametrize("condition", ["1e5and febrile", "anc<1.0and febrile", "0x1for febrile"])
def test_a_number_run_into_a_name_gives_its_error_and_no_python_warning(condition: str) -> None:
    # issue 12 review: the static analyses re-parsed such a condition and Python printed a SyntaxWarning
    import warnings

    from interpreter.compiler.loader import analyze_bytes

    text = (ROOT / "tools" / "bench" / "host.guideline.yaml").read_text()
    text = text.replace("      - when: anc < 1.0 and febrile", f'      - when: "{condition}"', 1)
    assert condition in text
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        a = analyze_bytes(text.encode(), "g.guideline.yaml")
    assert [d.code for d in a.diagnostics if d.is_error] == ["expr-syntax"]
    assert not [w for w in seen if issubclass(w.category, SyntaxWarning)]
