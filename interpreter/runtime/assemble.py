"""Build the ``Result`` of one evaluation from its walk: recommendations with their actions and doses,
cautions, cannot-decide entries, the facts needed and the status.

Precedence, in this order:

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
from datetime import datetime
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
    SupersededResult,
    TraceStep,
    UnrecognizedFact,
)
from ..values.unknown import UNKNOWN
from .conditional import conditional_advice
from .doses import action_result
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
) -> Result:
    """The result of ``walk`` (finished) over ``values`` (the checked facts and the derived values).

    Doses are computed here, for the recommendations applied: run it in the evaluation's Decimal context.
    """
    recs: list[RecommendationResult] = []
    cautions: list[CautionResult] = []
    dose_needs: dict[str, list[str]] = {}
    doses_missing = False  # a dose that could not be computed keeps the result incomplete
    applied = walk.applied
    superseded, shown = _precedence(g, applied)
    for rid in shown:
        via = applied[rid]
        rec = g.recommendations[rid]
        cites = g.citations[rid]
        actions = g.rec_actions.get(rid)
        if actions is None:  # a recommendation with a dose: computed for this patient
            actions = tuple(action_result(g, a, values, as_of, rid, checked.shown) for a in rec.actions)
            for a in actions:
                if a.dose is not None and a.dose.value is None:
                    doses_missing = True
                    for n in a.dose.needs:
                        dose_needs.setdefault(n, []).append(rid)
        cautions.extend(g.rec_cautions[rid])
        recs.append(
            RecommendationResult(
                rid, rec.text, cites, actions, via, rec.title, rec.strength, rec.category, rec.urgency
            )
        )
    if len(cautions) > 1:  # each caution once (compared without case and extra spaces), at its first place
        once: dict[str, CautionResult] = {}
        for c in cautions:
            once.setdefault(" ".join(c.text.split()).casefold(), c)
        cautions = list(once.values())
    needed = _needed_facts(g, checked, values, walk.needs, dose_needs)
    incomplete = bool(walk.cannot or needed or doses_missing)
    return Result(
        guideline=g.info,
        as_of=as_of,
        status="incomplete" if incomplete else "complete",
        recommendations=tuple(recs),
        cautions=tuple(cautions),
        cannot_decide=tuple(walk.cannot),
        needed_facts=needed,
        unrecognized_facts=tuple(UnrecognizedFact(n, s) for n, s in checked.unrecognized),
        facts=checked.shown,
        trace_source=trace_source,
        disclaimer=g.model.disclaimer,
        scores=scores,
        superseded=superseded,
        assumed=tuple(AssumedValue(*a) for a in checked.assumed),
        conditional=conditional_advice(g, values, as_of, walk.undecided, checked.shown, walk.completer),
    )


def _precedence(
    g: CompiledGuideline, applied: dict[str, tuple[str, ...]]
) -> tuple[tuple[SupersededResult, ...], list[str]]:
    """The recommendations superseded (in the walk's order) and the ids shown, ordered by urgency then by
    the walk (see the module's doc)."""
    superseded: list[SupersededResult] = []
    shown: list[str] = []
    by_map, ranks = g.superseded_by, g.urgency_rank
    for rid in applied:
        by = by_map.get(rid)
        if by is not None:
            active = tuple((i, reason) for i, reason in by if i in applied)
            if active:
                superseded.append(SupersededResult(rid, g.recommendations[rid].title, active))
                continue
        shown.append(rid)
    if ranks:
        shown.sort(key=lambda rid: ranks.get(rid, 2))
    return tuple(superseded), shown


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
    needed: list[NeededFact] = []
    for name in sorted(needed_by):
        status = checked.unknown.get(name)
        inp = g.model.inputs[name]
        reason = status.reason if status is not None else "insufficient"
        detail = "the value given is not enough (e.g. an empty series)" if status is None else status.detail
        needers = tuple(dict.fromkeys(needed_by[name]))
        needed.append(NeededFact(name, reason, inp.description, detail, needers))
    return tuple(needed)
