"""The runtime's tracers: a tracer never changes a result; coverage as a tracer counts exactly what the
recorded traces of the successful evaluations show; a failed evaluation counts for nothing."""

from __future__ import annotations

import pathlib
from datetime import datetime
from typing import Any

import pytest

import interpreter
from interpreter.compiler.guideline import CompiledGuideline
from interpreter.errors import InterpreterError
from interpreter.loading.source import load_yaml
from interpreter.result import Result
from interpreter.runtime import doses as doses_module
from interpreter.runtime.evaluate import evaluate
from interpreter.runtime.trace import NULL_TRACER, CoverageTracer, RecordingTracer

REPO = pathlib.Path(__file__).resolve().parent.parent
GUIDELINE = REPO / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml"
TESTS = REPO / "guidelines" / "leukopenia" / "leukopenia.tests.yaml"


@pytest.fixture(scope="module")
def g() -> CompiledGuideline:
    return interpreter.load(GUIDELINE).compiled


def cases() -> list[tuple[dict[str, Any], datetime]]:
    doc, _, _ = load_yaml(TESTS.read_bytes(), str(TESTS))
    assert isinstance(doc, dict)
    return [(c["facts"], datetime.fromisoformat(c.get("at", doc["at"]))) for c in doc["cases"]]


def coverage_from_traces(g: CompiledGuideline, results: list[Result]) -> dict[str, Any]:
    """The coverage as it was computed before it became a tracer: read back from each result's trace."""
    cov = CoverageTracer(g)  # only for its empty tables and its to_json
    for result in results:
        for step in result.trace:
            cov.nodes[step.node] = True
            for b in step.branches:
                if b.outcome == "true":
                    cov.branches[f"{step.node}#{b.index}"] = True
                elif b.outcome == "otherwise":
                    cov.branches[f"{step.node}#otherwise"] = True
                elif b.outcome == "unknown":
                    cov.unknown_paths.add(step.node)
        for r in result.recommendations:
            cov.recommendations[r.id] = True
    return cov.to_json()


def test_coverage_tracer_counts_what_the_traces_show(g: CompiledGuideline) -> None:
    tracer = CoverageTracer(g)
    results = []
    for facts, as_of in cases():
        try:
            traced = evaluate(g, facts, as_of, trace=True, tracer=tracer)  # recording and coverage at once
        except InterpreterError:
            continue
        assert traced == evaluate(g, facts, as_of, trace=True)
        results.append(traced)
    assert len(results) > 50
    assert tracer.to_json() == coverage_from_traces(g, results)
    assert tracer.unknown_paths  # the cases exercise cannot-decide paths


def test_no_tracer_and_the_null_tracer_walk_the_same(g: CompiledGuideline) -> None:
    for facts, as_of in cases()[:20]:
        try:
            plain = evaluate(g, facts, as_of, trace=False)
        except InterpreterError:
            continue
        assert plain.trace == ()
        assert plain == evaluate(g, facts, as_of, trace=False, tracer=NULL_TRACER)
        assert plain.to_json() | {"trace": []} == evaluate(g, facts, as_of).to_json() | {"trace": []}


def test_a_failed_evaluation_counts_for_nothing(
    g: CompiledGuideline, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_dose = [(facts, as_of) for facts, as_of in cases() if _computes_a_dose(g, facts, as_of)]
    assert with_dose
    facts, as_of = with_dose[0]
    tracer = CoverageTracer(g)
    empty = tracer.to_json()

    def broken(*args: object, **kwargs: object) -> object:
        raise ArithmeticError

    with monkeypatch.context() as patch:
        patch.setattr(doses_module, "compute_dose", broken)
        with pytest.raises(InterpreterError):  # fails after the walk, while the result is assembled
            evaluate(g, facts, as_of, trace=False, tracer=tracer)
    assert tracer.to_json() == empty
    evaluate(g, facts, as_of, trace=False, tracer=tracer)
    assert tracer.to_json()["nodes"]["reached"] > 0


def test_the_recorded_trace_is_built_once(g: CompiledGuideline) -> None:
    facts, as_of = cases()[0]
    result = evaluate(g, facts, as_of)
    assert isinstance(result.trace_source, RecordingTracer)
    assert result.trace is result.trace and result.trace


def _computes_a_dose(g: CompiledGuideline, facts: dict[str, Any], as_of: datetime) -> bool:
    try:
        result = evaluate(g, facts, as_of, trace=False)
    except InterpreterError:
        return False
    actions = [a for r in result.recommendations for a in r.actions]
    return any(a.dose is not None and a.dose.value is not None for a in actions)


def test_the_traced_walker_has_its_own_handler_for_every_node_kind() -> None:
    """A handler added to ``Walker`` for a new kind must be traced too: ``TracedWalker`` overrides every one
    (mypy flags ``Walker.visit``'s ``match`` for a new kind; this test flags the traced twin)."""
    from typing import get_args

    from interpreter.loading.model import NodeKind
    from interpreter.runtime.walker import TracedWalker, Walker

    for kind in get_args(NodeKind):
        assert hasattr(Walker, kind), f"Walker has no handler for {kind!r}"
        traced = getattr(TracedWalker, kind)
        assert traced is not getattr(Walker, kind), f"TracedWalker does not trace {kind!r}"
