"""Build the ``Result`` of one evaluation from its walk: recommendations with their actions and doses,
cautions, cannot-decide entries, the facts needed and the status.

Precedence, in this order (``precedence.apply_precedence``, shared with conditional advice):

1. **Superseded.** A recommendation that applied is not shown when another one that applied names it in
   ``supersedes`` (decided on every recommendation that applied, before any is hidden: if ``a`` supersedes
   ``b`` and ``b`` supersedes ``c`` and all three apply, only ``a`` is shown). It is listed under
   ``superseded`` with every recommendation that superseded it and the author's reasons; its actions, dose
   and cautions are not shown, and its dose is not computed (a fact only its dose needs is not asked for).
2. **Urgency.** The recommendations shown are ordered by urgency (immediate, urgent, routine; routine when
   not declared), and within one level in the order of the walk (a stable sort).
3. **Cautions.** In the order of the recommendations shown, each caution text once (the first kept; texts
   that differ only in case and white space are the same caution).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from ..compiler.guideline import CompiledGuideline
from ..facts.checker import CheckedFacts
from ..result import (
    AssumedValue,
    CautionResult,
    NeededFact,
    RecommendationResult,
    Result,
    ScoreResult,
    TraceStep,
    UnrecognizedFact,
)
from ..values.unknown import UNKNOWN
from .conditional import conditional_advice
from .doses import action_result
from .precedence import apply_precedence
from .walker import Walker

__all__ = ["assemble"]


def assemble(
    g: CompiledGuideline,
    checked: CheckedFacts,
    values: dict[str, Any],
    as_of: datetime,
    walk: Walker,
    trace_source: Callable[[], tuple[TraceStep, ...]] | None,
    scores: tuple[ScoreResult, ...] = (),
    calendar: tzinfo | None = None,
) -> Result:
    """The result of ``walk`` (finished) over ``values`` (the checked facts and the derived values);
    ``calendar``: the evaluation's (its wall clock at each instant shows an action's earliest start).

    Doses are computed here, for the recommendations applied: run it in the evaluation's Decimal context.
    """
    recs: list[RecommendationResult] = []
    cautions: list[CautionResult] = []
    dose_needs: dict[str, list[str]] = {}
    doses_missing = False  # a dose that could not be computed keeps the result incomplete
    applied = walk.applied
    superseded, shown = apply_precedence(g, applied)
    recommendations, rec_actions, rec_cautions, citations = (
        g.recommendations, g.rec_actions, g.rec_cautions, g.citations)
    for rid in shown:
        rec = recommendations[rid]
        actions = rec_actions.get(rid)
        if actions is None:  # a recommendation with a dose: computed for this patient
            actions = tuple([
                action_result(g, a, values, as_of, rid, checked.shown, calendar) for a in rec.actions
            ])
            for a in actions:
                if a.dose is not None and a.dose.value is None:
                    doses_missing = True
                    for n in a.dose.needs:
                        dose_needs.setdefault(n, []).append(rid)
                if a.has_not_before and a.not_before is None:  # an earliest start that cannot be computed
                    doses_missing = True
                    for n in a.not_before_needs:
                        dose_needs.setdefault(n, []).append(rid)
        rec_caution = rec_cautions[rid]
        if rec_caution:
            cautions.extend(rec_caution)
        recs.append(
            RecommendationResult(
                rid, rec.text, citations[rid], actions, applied[rid], rec.title, rec.strength, rec.category,
                rec.urgency,
            )
        )
    if len(cautions) > 1:  # each caution once (compared without case and extra spaces), at its first place
        once: dict[str, CautionResult] = {}
        for c in cautions:
            once.setdefault(" ".join(c.text.split()).casefold(), c)
        cautions = list(once.values())
    needed = _needed_facts(g, checked, values, walk.needs, dose_needs)
    incomplete = bool(walk.cannot or needed or doses_missing)
    unrecognized, assumed = checked.unrecognized, checked.assumed
    return Result(
        guideline=g.info,
        as_of=as_of,
        status="incomplete" if incomplete else "complete",
        recommendations=tuple(recs),
        cautions=tuple(cautions),
        cannot_decide=tuple(walk.cannot),
        needed_facts=needed,
        unrecognized_facts=tuple([UnrecognizedFact(n, s) for n, s in unrecognized]) if unrecognized else (),
        facts=checked.shown,
        trace_source=trace_source,
        disclaimer=g.model.disclaimer,
        scores=scores,
        superseded=superseded,
        assumed=tuple([AssumedValue(*a) for a in assumed]) if assumed else (),
        conditional=conditional_advice(g, values, as_of, walk.undecided, checked.shown, walk.completer,
                                       firm=applied, calendar=calendar) if walk.undecided else (),
    )


def _needed_facts(
    g: CompiledGuideline,
    checked: CheckedFacts,
    values: dict[str, Any],
    walk_needs: dict[str, list[str]],
    dose_needs: dict[str, list[str]],
) -> tuple[NeededFact, ...]:
    """Every fact that would settle an unknown: those the walk and the doses need, then the required inputs
    that are unknown; by name, each with what needs it (node ids, recommendation ids, "required")."""
    needed_by: dict[str, list[str]] = {}
    for src in (walk_needs, dose_needs):
        for n, by in src.items():
            needed_by.setdefault(n, []).extend(by)
    for name in g.required_inputs:
        if values[name] is UNKNOWN:
            needed_by.setdefault(name, []).append("required")
    if not needed_by:
        return ()
    needed: list[NeededFact] = []
    for name in sorted(needed_by):
        status = checked.unknown.get(name)
        inp = g.model.inputs[name]
        reason = status.reason if status is not None else "insufficient"
        needers = tuple(dict.fromkeys(needed_by[name]))
        detail = "the value given is not enough (e.g. an empty series)" if status is None else status.detail
        if status is None and inp.type == "series":
            days = _missing_days(g, name, values.get(name), needers)
            if days:
                detail = f"{name} has no result on {', '.join(d.isoformat() for d in days)}"
        needed.append(NeededFact(name, reason, inp.description, detail, needers))
    return tuple(needed)




def _missing_days(g: CompiledGuideline, name: str, series: object, needers: tuple[str, ...]) -> list[date]:
    """The days without a result, in the windows the day-window calls on series ``name`` of the needing
    nodes' conditions look at: the ``days`` consecutive dates ending at the newest date with results (as
    ``lang/functions/series.py`` defines them). Empty when no such call needs it, or the series is empty."""
    if not isinstance(series, tuple) or not series:
        return []
    derived = dict(g.derived)
    exprs = [b.when for nid in needers if (node := g.nodes.get(nid)) is not None for b in node.branches]
    read: set[str] = set()
    longest = 0
    while exprs:  # the conditions, and the derived values they read (transitively)
        expr = exprs.pop()
        for n in expr.name_ids:
            if n in derived and n not in read:
                read.add(n)
                exprs.append(derived[n])
        for series_name, days in expr.day_windows:  # read from the syntax tree at load (lang/uses.py)
            if series_name == name:
                longest = max(longest, days)
    seen = {at.date() for at, _ in series}  # dates in the evaluation's calendar, as the functions read them
    newest = max(seen)
    missing: list[date] = []
    for k in range(min(longest, (newest - date.min).days + 1)):
        day = newest - timedelta(days=k)
        if day not in seen:
            missing.append(day)
    return sorted(missing)
