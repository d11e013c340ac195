"""The walk's inlined loops (``Walker.run``, ``TracedWalker.run``) against the handlers they inline
(``run_handlers``: ``visit``, ``choice``, ``collect``, ``unknown``): the same results, traces and errors on
every bundled test case and on generated patients; the trace's JSON made from the walk's records is the JSON
of the built trace; the completer is built only when a condition is unknown;
the memos of the completion are keyed by the objects they depend on and bounded."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import pathlib
import sys
from datetime import datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

import interpreter
from interpreter.errors import InterpreterError
from interpreter.loading.source import load_yaml
from interpreter.runtime import completion
from interpreter.runtime import evaluate as evaluate_module
from interpreter.runtime.completion import number_domain_of
from interpreter.runtime.evaluate import evaluate
from interpreter.runtime.trace import RecordingTracer
from interpreter.runtime.walker import TracedWalker, Walker

REPO = pathlib.Path(__file__).resolve().parent.parent
GUIDELINES = [
    REPO / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml",
    REPO / "guidelines" / "leukopenia" / "leukopenia-1.0.0.guideline.yaml",
    REPO / "guidelines" / "khorana" / "khorana.guideline.yaml",
    REPO / "tools" / "bench" / "host.guideline.yaml",
    REPO / "tools" / "bench" / "decision.guideline.yaml",
]


def _gen_patients() -> ModuleType:
    if "gen_patients" in sys.modules:
        return sys.modules["gen_patients"]
    spec = importlib.util.spec_from_file_location("gen_patients", REPO / "tools" / "gen_patients.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_patients"] = module
    spec.loader.exec_module(module)
    return module


class HandlerWalker(Walker):
    """The plain walk by its handlers (a subclass runs ``run_handlers``)."""

    __slots__ = ()


class HandlerTracedWalker(TracedWalker):
    """The traced walk by its handlers."""

    __slots__ = ()


def _inputs(path: pathlib.Path, g: interpreter.Guideline) -> list[tuple[dict[str, Any], datetime]]:
    """About 30 cases of the test file beside the guideline (all of khorana's, which exercise conditions
    decided by completion; they reach every node and unknown paths) and 20 generated patients (missing,
    stale and undated facts, values on the thresholds): under a second per guideline."""
    out: list[tuple[dict[str, Any], datetime]] = []
    tests = path.with_name(path.name.replace(".guideline.yaml", ".tests.yaml"))
    if tests.exists():
        doc, _, _ = load_yaml(tests.read_bytes(), str(tests))
        assert isinstance(doc, dict)
        cases = doc["cases"][:: max(1, len(doc["cases"]) // 30)]
        out += [(c["facts"], datetime.fromisoformat(str(c.get("at", doc["at"])))) for c in cases]
    gen = _gen_patients().Generator(g, seed=5)
    for i in range(20):
        row = gen.generate(i)
        assert isinstance(row, dict)
        out.append((row["facts"], datetime.fromisoformat(row["as_of"]) if "as_of" in row else gen.base))
    return out


def _outcome(g: interpreter.Guideline, facts: dict[str, Any], as_of: datetime, trace: bool) -> object:
    try:
        result = evaluate(g.compiled, facts, as_of, trace=trace)
    except InterpreterError as exc:
        return ("error", type(exc).__name__, str(exc))
    text = json.dumps(result.to_json())  # the trace's JSON made from the walk's records (nothing built yet)
    if trace:
        assert isinstance(result.trace_source, RecordingTracer) and result.trace_source._built is None
    direct = json.dumps(result.trace_json())
    # the same as the JSON of the built TraceStep objects, key order included
    assert direct == json.dumps([step.to_json() for step in result.trace])
    assert direct == json.dumps(result.trace_json())  # now from the built objects
    return result, text


@pytest.mark.parametrize("path", GUIDELINES, ids=[p.name for p in GUIDELINES])
def test_the_inlined_walks_do_what_the_handlers_do(
    path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = interpreter.load(path)
    inputs = _inputs(path, g)
    fast = [(_outcome(g, f, a, False), _outcome(g, f, a, True)) for f, a in inputs]
    monkeypatch.setattr(evaluate_module, "Walker", HandlerWalker)
    monkeypatch.setattr(evaluate_module, "TracedWalker", HandlerTracedWalker)
    slow = [(_outcome(g, f, a, False), _outcome(g, f, a, True)) for f, a in inputs]
    assert fast == slow  # results equal field by field and trace by trace, and the same JSON text
    results = [o for pair in fast for o in pair if isinstance(o, tuple) and o[0] != "error"]
    assert len(results) > len(inputs)  # most inputs give a result (the comparison is not of errors only)


def test_a_walk_whose_conditions_are_known_builds_no_completer() -> None:
    g = interpreter.load(REPO / "tools" / "bench" / "decision.guideline.yaml").compiled
    as_of = datetime.fromisoformat("2026-11-24T09:00:00+00:00")
    known = {"anc": Decimal("0.8"), "wbc": Decimal(2), "febrile": False, "age": Decimal(40), "cause": "other"}
    w = Walker(g, dict(known), as_of)
    w.run(g.model.start)
    assert list(w.applied) == ["r7"] and w._completer is None
    unknown = {**known, "febrile": interpreter.UNKNOWN}
    w = Walker(g, unknown, as_of)
    w.run(g.model.start)
    assert w._completer is not None and w.cannot  # "febrile and anc <= 0.1" needed completing
    assert w.completer is w._completer


def test_the_completion_memos_answer_for_the_objects_they_were_asked_about() -> None:
    host = interpreter.load(GUIDELINES[3]).compiled
    expr = next(b.when for n in host.nodes.values() for b in n.branches if b.when.source == "anc < 1.0")
    assert completion.direct_thresholds(expr, "anc") == (expr.thresholds[0].value,)
    # one compiled expression (shared by guidelines), two declarations of the input: each gets the domain
    # of its own plausible range
    ranged = host.model.inputs["anc"]
    other = dataclasses.replace(ranged, plausible_max=Decimal(50))
    threshold = (expr.thresholds[0].value,)
    for inp in (ranged, other, ranged, other):
        assert number_domain_of(expr, "anc", inp) == completion.DOMAINS[inp.type](inp, threshold)
    assert number_domain_of(expr, "anc", other) != number_domain_of(expr, "anc", ranged)


def test_the_number_domain_memo_is_bounded_and_keyed_by_exact_texts() -> None:
    assert completion._number_domain_memo.cache_info().maxsize == completion._NUMBER_DOMAIN_MEMO_MAX
    host = interpreter.load(GUIDELINES[3]).compiled
    expr = next(b.when for n in host.nodes.values() for b in n.branches if b.when.source == "anc < 1.0")
    inp = host.model.inputs["anc"]
    # equal bounds written differently are different keys: each domain keeps the digits it was given
    tens = dataclasses.replace(inp, plausible_min=Decimal("0"), plausible_max=Decimal("50"))
    tenths = dataclasses.replace(inp, plausible_min=Decimal("0.0"), plausible_max=Decimal("50.0"))
    a, b = number_domain_of(expr, "anc", tens), number_domain_of(expr, "anc", tenths)
    assert a == b and a is not None and b is not None
    assert [str(x) for x in (a[0], a[-1])] == ["0", "50"]
    assert [str(x) for x in (b[0], b[-1])] == ["0.0", "50.0"]
    assert number_domain_of(expr, "anc", dataclasses.replace(inp, plausible_max=None)) is None


def test_the_display_text_of_a_trace_is_made_when_read() -> None:
    g = interpreter.load(GUIDELINES[3])
    facts = {"anc": {"value": 0.8, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"}, "cause": "clozapine",
             "on_filgrastim": False, "wbc": {"value": 1.5, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"}}
    result = evaluate(g.compiled, facts, datetime.fromisoformat("2026-11-24T09:00:00+00:00"))
    branch = next(b for step in result.trace for b in step.branches if "anc" in b.values)
    assert branch.shown._made is None  # type: ignore[attr-defined]
    assert dict(branch.shown)["anc"] == "0.8 10*9/L" and branch.shown._made is not None  # type: ignore[attr-defined]
    assert repr(branch.shown).startswith("mappingproxy({") and len(branch.shown) == len(branch.values)


def test_a_series_in_the_trace_is_shown_as_before() -> None:
    from datetime import UTC, timedelta

    from interpreter.result import format_decimal
    from interpreter.runtime.trace import _show

    t0 = datetime(2026, 11, 24, 8, tzinfo=UTC)
    series = ((t0, Decimal("1.50")), (t0 + timedelta(hours=1), Decimal("2E+1")), (t0, True), ("x", 1))
    assert _show(series) == [
        [t0.isoformat(), format_decimal(Decimal("1.50"))],
        [(t0 + timedelta(hours=1)).isoformat(), format_decimal(Decimal("2E+1"))],
        [t0.isoformat(), True],
        ["x", 1],
    ]
    assert _show(()) == [] and _show(interpreter.UNKNOWN) == "unknown"
