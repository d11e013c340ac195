"""Precedence between recommendations: ``supersedes`` must name recommendations and must not loop.

* ``supersedes-unknown``: an id in ``supersedes`` that is no recommendation (a node, a typo, itself).
* ``supersedes-cycle``: recommendations that supersede each other in a cycle (``a`` supersedes ``b``,
  ``b`` supersedes ``a``): when all apply, none could be shown.

The conflict analysis (``recommendation-conflict``) is in ``conflicts.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..codes import Code
from ..errors import Diagnostic
from ..loading.model import GuidelineModel
from ..values.graphs import depth_first
from ..values.suggest import did_you_mean_hint
from .registry import CheckInfo, report, rule

__all__ = ["supersedes_graph"]


def supersedes_graph(model: GuidelineModel) -> dict[str, list[str]]:
    """Recommendation id -> the recommendation ids it supersedes (only ids that are recommendations)."""
    recs = {r.id for r in model.recommendations}
    graph: dict[str, list[str]] = {r.id: [] for r in model.recommendations}
    for r in model.recommendations:
        for s in r.supersedes:
            if s.id in recs and s.id != r.id and s.id not in graph[r.id]:
                graph[r.id].append(s.id)
    return graph


@rule(Code.SUPERSEDES_UNKNOWN)
def _supersedes_unknown(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    rec_ids = [r.id for r in model.recommendations]
    known = set(rec_ids)
    nodes = {n.id for n in model.nodes}
    for r in model.recommendations:
        for s in r.supersedes:
            if s.id == r.id:
                yield report(model, Code.SUPERSEDES_UNKNOWN,
                             f"recommendation '{r.id}' supersedes itself", s.path,
                             "name another recommendation, or remove the entry")
            elif s.id in nodes:
                yield report(model, Code.SUPERSEDES_UNKNOWN,
                             f"recommendation '{r.id}' supersedes '{s.id}', which is a node, not a "
                             "recommendation", s.path,
                             "name the recommendations of that node that this one replaces")
            elif s.id not in known:
                yield report(model, Code.SUPERSEDES_UNKNOWN,
                             f"recommendation '{r.id}' supersedes '{s.id}', which is no recommendation",
                             s.path, did_you_mean_hint(s.id, [i for i in rec_ids if i != r.id]))


@rule(Code.SUPERSEDES_CYCLE)
def _supersedes_cycle(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    recs = model.recommendation_by_id()
    reported: set[frozenset[str]] = set()
    for cycle in depth_first(supersedes_graph(model))[0]:
        if frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        first = min(cycle, key=lambda i: recs[i].path)
        k = cycle.index(first)
        ordered = cycle[k:] + cycle[:k]
        text = " -> ".join([*ordered, ordered[0]])
        entry = next(s for s in recs[first].supersedes if s.id == ordered[(1 % len(ordered))])
        related = tuple(recs[i].location for i in ordered[1:])
        yield report(model, Code.SUPERSEDES_CYCLE,
                     f"recommendations supersede each other in a cycle: {text}; when all of them apply, "
                     "none could be shown", entry.path,
                     "decide which one takes precedence and remove the other `supersedes` entry", related)
