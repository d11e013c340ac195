"""Deep trees and long chains of derived values: no recursion proportional to depth anywhere.

Every test runs the load, validation and evaluation with the interpreter's recursion limit lowered to the
current stack depth plus ``HEADROOM`` frames, far less than the depth of the trees: a walk, a check or an
ordering that recursed once per node would fail with ``RecursionError``. The only bound on depth is the
documented step limit (``MAX_STEPS`` visits, ``eval-step-limit``), which is a located error with exit 2.
"""

from __future__ import annotations

import contextlib
import pathlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.compiler.loader import analyze_file
from interpreter.errors import EvaluationError
from interpreter.loading.source import DEFAULT_LIMITS
from interpreter.runtime.walker import MAX_STEPS

AS_OF = datetime(2024, 1, 1, tzinfo=UTC)
AT = "2024-01-01T00:00:00Z"
#: frames allowed above the test's own depth: enough for the pipeline's bounded recursion (YAML nesting,
#: JSON Schema, expression trees: all capped at a few dozen levels), far below the depth of these trees
HEADROOM = 150

HEAD = """id: deep
version: "1.0.0"
title: Deep tree (test fixture)
status: draft
effective: {start: "2020-01-01"}
last_updated: "2020-01-01"
authors: [{name: Test Author}]
references:
  "1": {citation: Test reference}
inputs:
  x:
    type: number
    description: A number
    plausible: {min: -1000000, max: 1000000}
"""
RECS = """recommendations:
  - {id: done, text: Reached the end., cite: ["1"]}
  - {id: stop, text: Stopped early., cite: ["1"]}
"""


@contextlib.contextmanager
def shallow_stack(headroom: int = HEADROOM) -> Iterator[None]:
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@pytest.fixture(autouse=True, scope="module")
def _warm() -> None:
    """Import and cache everything once at full stack, so only the work itself runs with the low limit."""
    interpreter.load(pathlib.Path(__file__).parent / "fixtures" / "eval" / "mini.guideline.yaml")


def choice_chain(n: int) -> str:
    """n choice nodes: node i goes on to node i+1 when ``x > i``, else to ``stop``; the last to ``done``."""
    lines = [HEAD, "start: n0\nnodes:\n"]
    for i in range(n):
        nxt = f"n{i + 1}" if i + 1 < n else "done"
        lines.append(
            f"  - {{id: n{i}, kind: choice, branches: [{{when: 'x > {i}', then: {nxt}}}], otherwise: stop, "
            "unknown: cannot-decide}\n"
        )
    return "".join(lines) + RECS


def collect_chain(n: int) -> str:
    """n collect nodes: node i goes on to node i+1 when ``x > i``, else to ``stop``: a walk with x = k visits
    k + 1 nodes (n at most)."""
    lines = [HEAD, "start: n0\nnodes:\n"]
    for i in range(n):
        nxt = f"n{i + 1}" if i + 1 < n else "done"
        lines.append(
            f"  - {{id: n{i}, kind: collect, branches: [{{when: 'x > {i}', then: {nxt}}}], "
            "otherwise: stop}\n"
        )
    return "".join(lines) + RECS


def diamonds(layers: int) -> str:
    """Collect nodes whose two branches both go to the next layer: 2**layers paths through a small tree."""
    lines = [HEAD, "start: n0\nnodes:\n"]
    for i in range(layers):
        nxt = f"n{i + 1}" if i + 1 < layers else "done"
        lines.append(
            f"  - {{id: n{i}, kind: collect, branches: [{{when: 'x > 0', then: {nxt}}}, "
            f"{{when: 'x > 1', then: {nxt}}}], otherwise: stop}}\n"
        )
    return "".join(lines) + RECS


def derived_reverse(n: int) -> str:
    """n derived values, each written before the one it reads: d0 = d1 + 1, ..., d(n-1) = x + 1."""
    lines = [HEAD, "derived:\n"]
    for i in range(n):
        src = f"d{i + 1} + 1" if i + 1 < n else "x + 1"
        lines.append(f"  d{i}: {{type: number, description: step {i}, expr: '{src}'}}\n")
    lines.append(
        "start: n0\nnodes:\n"
        "  - {id: n0, kind: choice, branches: [{when: 'd0 > 0', then: done}], otherwise: stop, "
        "unknown: cannot-decide}\n"
    )
    return "".join(lines) + RECS


def write(tmp_path: pathlib.Path, name: str, text: str) -> pathlib.Path:
    p = tmp_path / f"{name}.guideline.yaml"
    p.write_text(text)
    assert p.stat().st_size <= DEFAULT_LIMITS.max_bytes, "a generated file must stay within the loader limit"
    return p


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_a_chain_of_5000_choice_nodes_validates_and_evaluates(tmp_path: pathlib.Path) -> None:
    p = write(tmp_path, "chain", choice_chain(5000))
    with shallow_stack():
        analysis = analyze_file(p)
        assert [d.format() for d in analysis.diagnostics] == []
        g = interpreter.load(p)
        full = g.evaluate({"x": 5000}, AS_OF)
        part = g.evaluate({"x": 2500}, AS_OF)
        unknown = g.evaluate({}, AS_OF)
    assert full.recommendation_ids() == ["done"]
    assert full.recommendations[0].via == tuple(f"n{i}" for i in range(5000))
    assert len(full.trace) == 5000 and full.trace[-1].node == "n4999"
    assert full.to_json()["status"] == "complete"
    # x > i holds for i < 2500: n2500 is the first node that takes `otherwise`
    assert part.recommendation_ids() == ["stop"]
    assert len(part.recommendations[0].via) == 2501 and part.trace[-1].outcome == "otherwise"
    assert unknown.status == "incomplete" and [c.node for c in unknown.cannot_decide] == ["n0"]


def test_the_cli_evaluates_a_deep_chain(tmp_path: pathlib.Path) -> None:
    p = write(tmp_path, "chain", choice_chain(2000))
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 3000}')
    with shallow_stack():
        code, out, err = cli("evaluate", str(p), str(facts), "--at", AT, "--format", "json")
    assert (code, err) == (0, "")
    assert '"id": "done"' in out


def test_the_step_limit_is_the_only_bound_on_depth(tmp_path: pathlib.Path) -> None:
    p = write(tmp_path, "deep", collect_chain(MAX_STEPS + 1))
    with shallow_stack():
        g = interpreter.load(p)  # valid: the limit is on a walk, and a walk need not go that deep
        at_limit = g.evaluate({"x": MAX_STEPS - 1}, AS_OF)  # n0 .. n9999: exactly MAX_STEPS visits
        with pytest.raises(EvaluationError) as info:
            g.evaluate({"x": MAX_STEPS}, AS_OF)  # one visit more
        assert g.evaluate({"x": 0}, AS_OF).recommendation_ids() == ["stop"]
    assert at_limit.recommendation_ids() == ["stop"]
    assert at_limit.recommendations[0].via == tuple(f"n{i}" for i in range(MAX_STEPS))
    err = info.value
    assert (err.code, err.node_id) == ("eval-step-limit", f"n{MAX_STEPS}")
    assert err.location is not None and err.location.file == str(p)
    # node n10000 is written on its own line after the head and "start:", "nodes:"
    assert err.location.line == HEAD.count("\n") + 2 + MAX_STEPS + 1
    assert str(err).startswith(f"{p}:{err.location.line}:{err.location.column}: error[eval-step-limit]: ")


def test_a_tree_with_exponentially_many_paths_stops_at_the_step_limit_located(tmp_path: pathlib.Path) -> None:
    p = write(tmp_path, "diamonds", diamonds(40))  # 2**40 paths: only the step limit ends the walk
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 5}')
    with shallow_stack():
        code, out, err = cli("evaluate", str(p), str(facts), "--at", AT)
    assert code == 2 and out == ""
    assert f"{p}:" in err and "error[eval-step-limit]" in err and "internal error" not in err


def test_1500_derived_values_in_reverse_order_load_and_evaluate(tmp_path: pathlib.Path) -> None:
    n = 1500
    p = write(tmp_path, "derived", derived_reverse(n))
    with shallow_stack():
        analysis = analyze_file(p)
        assert [d.format() for d in analysis.diagnostics] == []
        g = interpreter.load(p)
        result = g.evaluate({"x": 7}, AS_OF)
    assert result.recommendation_ids() == ["done"]
    assert result.trace[0].branches[0].values == {"d0": str(7 + n)}
    # every derived value comes after the ones it reads
    order = [name for name, _ in g.compiled.derived]
    assert order == [f"d{i}" for i in reversed(range(n))]
    # and the inputs a condition rests on are found through the whole chain
    assert g.compiled.nodes["n0"].branches[0].inputs == frozenset({"x"})


def test_a_long_cycle_of_derived_values_is_reported_once_where_it_closes(tmp_path: pathlib.Path) -> None:
    n = 1500
    last = f"d{n - 1}: {{type: number, description: step {n - 1}, expr: 'x + 1'}}"
    text = derived_reverse(n).replace(last, last.replace("'x + 1'", "'d0 + 1'"))
    p = write(tmp_path, "cycle", text)
    with shallow_stack():
        analysis = analyze_file(p)
    cycles = [d for d in analysis.diagnostics if d.code == "derived-cycle"]
    assert len(cycles) == 1
    assert cycles[0].path == ("derived", "d0", "expr")
    assert cycles[0].message.endswith(f"d{n - 1} -> d0")
    assert cycles[0].location.line == HEAD.count("\n") + 2  # d0 is the first derived value


def test_a_derived_value_that_reads_itself_is_a_cycle(tmp_path: pathlib.Path) -> None:
    p = write(tmp_path, "self", derived_reverse(1).replace("expr: 'x + 1'", "expr: 'd0 + 1'"))
    diags = [d for d in analyze_file(p).diagnostics if d.code == "derived-cycle"]
    assert [d.message for d in diags] == ["derived values depend on each other in a cycle: d0 -> d0"]


def test_the_walk_keeps_depth_first_order(tmp_path: pathlib.Path) -> None:
    """Recommendations, cannot-decide entries and the trace come in the order a recursive walk gives:
    each taken target fully, in order, then each undecided branch (its entry, then its `unknown` targets)."""
    text = HEAD.replace("inputs:\n", "inputs:\n  y:\n    type: boolean\n    description: y\n") + (
        "start: top\nnodes:\n"
        "  - id: top\n    kind: collect\n    unknown: [u1]\n    branches:\n"
        "      - {when: 'x > 0', then: [a, r1]}\n"
        "      - {when: 'y', then: r9}\n"
        "      - {when: 'x > 1', then: b}\n"
        "      - {when: 'not y', then: r8}\n"
        "  - {id: a, kind: choice, branches: [{when: 'x > 5', then: r2}], otherwise: r3,\n"
        "     unknown: cannot-decide}\n"
        "  - {id: b, kind: choice, branches: [{when: 'y', then: r4}], otherwise: r5, unknown: [r6]}\n"
        "  - {id: u1, kind: choice, branches: [{when: 'x > 0', then: r7}], otherwise: r3,\n"
        "     unknown: cannot-decide}\n"
        "recommendations:\n"
        + "".join(f"  - {{id: r{i}, text: R{i}., cite: [\"1\"]}}\n" for i in range(1, 10))
    )
    p = write(tmp_path, "order", text)
    g = interpreter.load(p)
    result = g.evaluate({"x": 2}, AS_OF)  # y unknown
    assert result.recommendation_ids() == ["r3", "r1", "r6", "r7"]
    assert [(c.node, c.branch) for c in result.cannot_decide] == [("b", 0), ("top", 1), ("top", 3)]
    assert [t.node for t in result.trace] == ["top", "a", "b", "u1", "u1"]  # u1 once per undecided branch
    assert [r.via for r in result.recommendations] == [("top", "a"), ("top",), ("top", "b"), ("top", "u1")]
