"""Score checks: the numeric bands of a score item are checked for gaps and overlaps like the branches of a
choice node (the first band that holds counts), with the same codes (``threshold-gap``,
``threshold-overlap``, ``threshold-impossible``). A band that earlier bands entirely cover can never award
its points: an error (``threshold-impossible``), where a choice node's shadowed branch is a warning."""

from __future__ import annotations

from collections.abc import Iterator

from ..codes import Code
from ..errors import Diagnostic, Path
from ..loading.model import MAX_SCORES, Branch, GuidelineModel, Node, ScoreBand
from .intervals import Interval, union
from .registry import CheckInfo, report, rule
from .rules import words_in
from .thresholds import _choice_overlaps, _gaps, branch_interval

__all__: list[str] = []


@rule(Code.THRESHOLD_OVERLAP)
def _score_bands(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    if len(model.scores) > MAX_SCORES:
        return  # score-too-large (compiler/scores.py): no work on them
    for score in model.scores.values():
        if not score.within_bounds:
            continue
        for item in score.items:
            if not item.bands:
                continue
            label = f"score {score.name}, item {item.index + 1}"
            branches = tuple(Branch(b.index, b.when, (), b.location, b.path) for b in item.bands)
            node = Node(label, "choice", branches, item.location, item.path, otherwise=("0",))
            analysed: dict[str, list[tuple[Branch, Interval]]] = {}
            opaque: set[str] = set()
            for b in branches:
                when_path: Path = (*b.path, "when")
                found = branch_interval(b.when, info.thresholds.get(when_path), info.trees)
                if found is None:
                    names = info.expr_names.get(when_path)
                    opaque |= set(names) if names is not None else words_in(b.when)
                    continue
                name, interval = found
                if interval.empty:
                    yield report(model, Code.THRESHOLD_IMPOSSIBLE,
                                 f"in {label}, the band `{b.when}` can never be true", when_path,
                                 "check the comparison signs and numbers")
                    continue
                analysed.setdefault(name, []).append((b, interval))
            for name, items in analysed.items():
                if name not in opaque:
                    yield from _gaps(model, node, name, items)
                dead = list(_dead_bands(model, label, item.bands, items))
                yield from dead
                dead_paths = {d.path for d in dead}
                yield from (d for d in _choice_overlaps(model, node, name, items) if d.path not in dead_paths)


def _dead_bands(model: GuidelineModel, label: str, bands: tuple[ScoreBand, ...],
                items: list[tuple[Branch, Interval]]) -> Iterator[Diagnostic]:
    """A band whose every value an earlier band already takes can never award its points: an error
    (``threshold-impossible``), like a condition that is always false (a gap stays a warning, as in a choice
    node)."""
    for j, (bj, ij) in enumerate(items):
        earlier = [i for _, i in items[:j]]
        if earlier and any(m.contains(ij) for m in union(earlier)):
            points = bands[bj.index].points
            yield report(model, Code.THRESHOLD_IMPOSSIBLE,
                         f"in {label}, the band `{bj.when}` can never award its {points} points: earlier "
                         "bands already take every value it covers (the first band that holds counts)",
                         (*bj.path, "when"), "reorder the bands (the narrower first) or fix the thresholds")
