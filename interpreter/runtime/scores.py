"""Compute the scores of one evaluation: each item's points (or, when unknown, every number of points it can
still give), the score's value when every item is known, else its minimum, maximum and every sum it can
still reach (the completion domain of the score, ``completion.py``).

An item is a list of (condition, points) rules: the first rule whose condition holds gives its points, a rule
whose condition is false passes to the next, none holding gives ``otherwise``. An unknown condition is first
completed (``Completer.settle``); if it stays unknown the item is unknown, and the points it can still give
are found by running the item over every completion of its unknown facts (within the completion bounds;
beyond them, every points value the item declares, which is a safe superset).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..compiler.guideline import CompiledGuideline
from ..compiler.scores import CompiledScore, CompiledScoreItem
from ..errors import EvaluationError
from ..lang.codegen import EVALUATION_EXCEPTIONS, evaluation_error
from ..result import ScoreItemResult, ScoreResult
from ..values.unknown import UNKNOWN
from .completion import Completer, deciding
from .locate import insufficient, locate

__all__ = ["MAX_SCORE_SUMS", "compute_scores"]

#: The most distinct sums kept for a score with unknown items; beyond, conditions on it stay unknown.
MAX_SCORE_SUMS = 4096


def _run(item: CompiledScoreItem, values: Mapping[str, Any], as_of: datetime) -> Decimal | None:
    """The item's points over ``values`` without completion; None when a condition is unknown."""
    for expr, points in item.rules:
        r = expr.fn(values, as_of)
        if r is True:
            return points
        if r is not False:
            return None
    return item.otherwise


def _item_points(
    g: CompiledGuideline, score: CompiledScore, item: CompiledScoreItem, completer: Completer
) -> tuple[Decimal | None, tuple[Decimal, ...], tuple[str, ...]]:
    """(the points, or None when unknown; every number of points the item can give; when unknown, the facts
    that could change its points)."""
    values, as_of = completer.values, completer.as_of
    for expr, points in item.rules:
        try:
            r = expr.fn(values, as_of)
        except EVALUATION_EXCEPTIONS as exc:
            err = evaluation_error(exc, expr.source)
            path = g.model.scores[score.name].items[item.index].path
            raise locate(g, EvaluationError(err.code, err.message, expression=expr.source), path,
                         f"score:{score.name}") from exc
        if r is UNKNOWN:
            settled = completer.settle(expr)
            if settled is not None:
                r = settled[0]
        if r is True:
            return points, (points,), ()
        if r is not False:
            return (None, *_possible(g, item, completer))
    return item.otherwise, (item.otherwise,), ()


def _possible(
    g: CompiledGuideline, item: CompiledScoreItem, completer: Completer
) -> tuple[tuple[Decimal, ...], tuple[str, ...]]:
    """Every number of points ``item`` gives over the completions of its unknowns, and the facts whose value
    changes them for some completion of the others (``completion.deciding``); else every number it declares
    and every unknown fact it reads."""
    every = item.possible, tuple(insufficient(g, item.inputs, completer.values))
    found = completer.trials([e for e, _ in item.rules])
    if found is None:
        return every
    trials, names = found
    seen: set[Decimal] = set()
    rows: list[tuple[tuple[object, ...], object]] = []
    try:
        for trial in trials:
            p = _run(item, trial, completer.as_of)
            if p is None:
                return every
            seen.add(p)
            rows.append((tuple(trial[n] for n in names), p))
    except (*EVALUATION_EXCEPTIONS, EvaluationError):
        return every
    facts = deciding(names, rows)
    if not seen or not facts or any(n not in g.model.inputs for n in facts):
        return every
    return tuple(sorted(seen)), facts


def compute_scores(g: CompiledGuideline, completer: Completer) -> tuple[ScoreResult, ...]:
    """Set every score's value in ``completer.values`` (a number, or unknown with its reachable sums in
    ``completer.score_domains``) and return what the result shows of each."""
    values = completer.values
    out: list[ScoreResult] = []
    for score in g.scores:
        items: list[ScoreItemResult] = []
        sums: set[Decimal] | None = {Decimal(0)}
        total = Decimal(0)
        low = high = Decimal(0)
        known = True
        for item in score.items:
            points, possible, item_needs = _item_points(g, score, item, completer)
            low += possible[0]
            high += possible[-1]
            if points is not None:
                total += points
                items.append(ScoreItemResult(item.label, points, points, points, (),
                                             facts=tuple(sorted(item.inputs))))
            else:
                known = False
                items.append(ScoreItemResult(item.label, None, possible[0], possible[-1], item_needs,
                                             possible, tuple(sorted(item.inputs))))
            if sums is not None:
                sums = {s + p for s in sums for p in possible}
                if len(sums) > MAX_SCORE_SUMS:
                    sums = None
        if known:
            values[score.name] = total
            out.append(ScoreResult(score.name, total, total, total, tuple(items)))
        else:
            values[score.name] = UNKNOWN
            if sums is not None:
                completer.score_domains[score.name] = tuple(sorted(sums))
            needs = tuple(sorted({n for i in items for n in i.needs}))
            completer.score_needs[score.name] = needs
            out.append(ScoreResult(score.name, None, low, high, tuple(items), needs))
    return tuple(out)
