"""What a loaded guideline keeps (issue 12, memory): the locations the runtime reports errors at, not the
whole source map; compact keys in the code-object memo."""

from __future__ import annotations

import ast
import pathlib
import pickle
import sys
from datetime import UTC, datetime

import pytest

import interpreter
import interpreter.lang.compile as compile_module
from interpreter.compiler.guideline import runtime_paths
from interpreter.compiler.loader import analyze_file
from interpreter.lang.codegen import _shape
from interpreter.lang.compile import CompiledExpression
from interpreter.lang.parse import DEFAULT_LIMITS, Parsed, parse_expression

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parent.parent / "examples").glob("*.json"))
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def loaded() -> interpreter.Guideline:
    return interpreter.load("leukopenia")


def test_a_loaded_guideline_keeps_only_the_runtime_locations(loaded: interpreter.Guideline) -> None:
    kept = loaded.compiled.model.source_map
    full = analyze_file(loaded.file).model.source_map  # type: ignore[union-attr]
    paths = runtime_paths(loaded.compiled.model)
    assert set(kept.values) <= set(paths)
    assert not kept.keys and not kept.plain_text and not kept.segments
    assert len(kept.values) * 4 < len(full.values)
    # every located run-time error is where the full map put it (the nearest recorded ancestor included)
    assert all(kept.at(p) == full.at(p) for p in paths)
    assert kept.file == full.file


def test_every_place_the_runtime_locates_is_kept(loaded: interpreter.Guideline) -> None:
    """The paths `runtime/` passes to `locate` (walker, derived values, scores, doses, earliest starts)."""
    model = loaded.compiled.model
    kept = set(runtime_paths(model))
    node = model.nodes[0]
    assert {node.path, (*node.path, "id"), (*node.branches[0].path, "when")} <= kept
    assert {(*d.path, "expr") for d in model.derived.values()} <= kept
    doses = [a.dose for r in model.recommendations for a in r.actions if a.dose is not None]
    assert doses
    assert {(*d.path, end) for d in doses for end in ("amount", "round_to")} <= kept
    assert {(*a.path, "not_before") for r in model.recommendations for a in r.actions} <= kept


def test_an_unpickled_guideline_keeps_the_same_locations(loaded: interpreter.Guideline) -> None:
    again = pickle.loads(pickle.dumps(loaded))
    assert dict(again.compiled.model.source_map.values) == dict(loaded.compiled.model.source_map.values)


def _name(n: str) -> ast.Name:
    return ast.Name(n, ast.Load())


@pytest.mark.parametrize(("one", "other"), [
    (ast.Constant(1), ast.Constant(True)),
    (ast.Constant(1), ast.Constant("1")),
    (ast.Constant(1), ast.Constant(1.0)),
    (_name("a"), _name("b")),
    (_name("a"), ast.Name("a", ast.Store())),
    # list boundaries count: without them both would read "f a b"
    (ast.Call(_name("f"), [_name("a"), _name("b")], []), ast.Call(_name("f"), [_name("a")], [_name("b")])),  # type: ignore[list-item]
    (ast.Compare(_name("a"), [ast.Lt()], [_name("b")]), ast.Compare(_name("a"), [ast.LtE()], [_name("b")])),
])
def test_the_code_memo_key_tells_different_trees_apart(one: ast.AST, other: ast.AST) -> None:
    assert _shape(one) != _shape(other)


def test_the_code_memo_key_is_the_same_for_the_same_structure_and_compact() -> None:
    def tree() -> ast.expr:
        compare = ast.Compare(_name("_c0"), [ast.Lt()], [ast.Constant(None)])
        return ast.BoolOp(ast.And(), [compare, _name("x")])

    key = _shape(tree())
    assert isinstance(key, str) and key == _shape(tree())
    assert key.isascii() or max(map(ord, key)) < 0x100  # one byte per character
    assert sys.getsizeof(key) < 200  # a nested tuple per node took 1014 bytes for this tree


def _expressions(g: interpreter.Guideline) -> list[CompiledExpression]:
    c = g.compiled
    found = [e for _, e in c.derived]
    found += [b.when for n in c.nodes.values() for b in n.branches]
    found += [d.amount for d in c.doses.values() if isinstance(d.amount, CompiledExpression)]
    found += list(c.not_before.values())
    found += [e for s in c.scores for item in s.items for e, _ in item.rules]
    return found


@pytest.mark.parametrize("ref", ["leukopenia", "khorana"])
def test_a_loaded_guideline_holds_no_syntax_tree_and_tools_still_get_it(ref: str) -> None:
    exprs = _expressions(interpreter.load(ref))
    assert len(exprs) > 10
    assert all(e._tree is None for e in exprs)
    for e in exprs:  # parsed again on demand, exactly as it was parsed when compiled
        parsed = parse_expression(e.source, DEFAULT_LIMITS)
        assert isinstance(parsed, Parsed)
        assert ast.dump(e.tree, include_attributes=True) == ast.dump(parsed.tree, include_attributes=True)


def test_evaluating_never_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the runtime reads of a tree (completion, needed facts, missing days) was read at load."""
    g = interpreter.load("leukopenia")
    results = [g.evaluate(_facts(p), AS_OF).to_json() for p in EXAMPLES]
    assert any(r["status"] == "incomplete" for r in results)  # completion and needed facts ran

    def refuse(source: str) -> ast.Expression:
        raise AssertionError(f"parsed {source!r} while evaluating")

    monkeypatch.setattr(compile_module, "syntax_tree", refuse)
    assert [g.evaluate(_facts(p), AS_OF).to_json() for p in EXAMPLES] == results


def _facts(path: pathlib.Path) -> dict[str, object]:
    return interpreter.parse_facts_json(path.read_text(encoding="utf-8"))


def test_equal_strings_of_a_loaded_guideline_are_one_object(loaded: interpreter.Guideline) -> None:
    types = [i.type for i in loaded.inputs.values() if i.type == "boolean"]
    assert len(types) > 3
    assert len({id(t) for t in types}) == 1
    categories = [r.category for r in loaded.compiled.model.recommendations if r.category == "monitoring"]
    assert len(categories) > 3 and len({id(c) for c in categories}) == 1


def test_generated_functions_share_one_namespace_without_builtins(loaded: interpreter.Guideline) -> None:
    fns = [e._fn for e in _expressions(loaded)]
    assert len({id(f.__globals__) for f in fns}) == 1
    assert fns[0].__globals__ == {"__builtins__": {}}
