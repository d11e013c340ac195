"""The shortcuts taken while building and serialising a result (issue 12) give exactly what the general code
gives: conditional advice for an alternative that leads straight to recommendations (no walk), and
``to_json`` hands out fresh containers on every call (a caller may change what it gets)."""

from __future__ import annotations

import json
import pathlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import interpreter
from interpreter.runtime import conditional as conditional_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _patients(g: interpreter.Guideline, n: int, seed: int) -> list[dict[str, Any]]:
    """Facts with some inputs left out (so that nodes stay undecided), values spread over each input's
    plausible range and its accepted codes."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        facts: dict[str, Any] = {}
        for name, inp in g.inputs.items():
            if rng.random() < 0.3:
                continue
            if inp.type == "boolean":
                facts[name] = rng.random() < 0.5
            elif inp.type == "code" and inp.values:
                facts[name] = rng.choice(list(inp.values))
            elif inp.type == "quantity" and inp.plausible_min is not None and inp.plausible_max is not None:
                lo, hi = float(inp.plausible_min), float(inp.plausible_max)
                facts[name] = {"value": round(rng.uniform(lo, min(hi, lo + 200)), 1), "unit": inp.unit,
                               "at": (AS_OF - timedelta(hours=rng.randint(1, 30))).isoformat()}
        out.append(facts)
    return out


def _evaluate_all(g: interpreter.Guideline, patients: list[dict[str, Any]]) -> list[str]:
    out = []
    for facts in patients:
        try:
            out.append(json.dumps(g.evaluate(facts, AS_OF, trace=False).to_json()))
        except (interpreter.FactsError, interpreter.EvaluationError) as exc:
            out.append(f"error {exc}")
    return out


@pytest.mark.parametrize("path", [
    ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml",
    ROOT / "tests" / "fixtures" / "eval" / "conditional.guideline.yaml",
])
def test_an_alternative_of_recommendations_only_is_shown_as_the_walk_shows_it(
    path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = interpreter.load(path)
    patients = _patients(g, 60, seed=12)
    taken = []
    real = conditional_module._only_recommendations

    def counting(nodes: Any, then: tuple[str, ...]) -> bool:
        answer = real(nodes, then)
        taken.append(answer)
        return answer

    monkeypatch.setattr(conditional_module, "_only_recommendations", counting)
    fast = _evaluate_all(g, patients)
    assert any(taken), "no alternative led straight to recommendations: the shortcut was not exercised"
    monkeypatch.setattr(conditional_module, "_only_recommendations", lambda nodes, then: False)
    walked = _evaluate_all(g, patients)
    assert fast == walked
    assert sum('"conditional": [{' in r for r in fast) >= 5  # conditional advice was actually shown


def _clear(doc: Any) -> None:
    """Empty every dict and list in ``doc``, innermost first (what a careless caller could do)."""
    if isinstance(doc, dict):
        for v in doc.values():
            _clear(v)
        doc.clear()
    elif isinstance(doc, list):
        for v in doc:
            _clear(v)
        doc.clear()


def test_to_json_gives_fresh_containers_every_time() -> None:
    g = interpreter.load(ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml")
    shown = 0
    for facts in _patients(g, 40, seed=3):
        try:
            r = g.evaluate(facts, AS_OF, trace=True)
        except (interpreter.FactsError, interpreter.EvaluationError):
            continue
        first = r.to_json()
        text = json.dumps(first)
        shown += bool(first["recommendations"] or first["conditional"])
        _clear(first)
        assert json.dumps(r.to_json()) == text  # the same result, after its earlier JSON was emptied
        again = g.evaluate(facts, AS_OF, trace=True).to_json()
        assert json.dumps(again) == text  # and a new evaluation
    assert shown >= 10
