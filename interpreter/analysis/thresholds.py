"""Threshold checks: gaps and overlaps between sibling branches that compare one name with numbers."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import assert_never

from ..codes import Code
from ..errors import Diagnostic, Path, Severity
from ..loading.model import Branch, GuidelineModel, Node
from .intervals import Interval, union
from .registry import CheckInfo, report, rule
from .rules import words_in

__all__ = ["branch_interval"]


_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq}


def _literal(node: ast.expr, text: str) -> Decimal | None:
    """An exact number literal (optionally negated), read from the source text."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return None
    if not isinstance(node.value, int | float):
        return None
    segment = ast.get_source_segment(text, node)
    if segment is None:
        return None
    if "_" in segment:  # 1_000 is not part of the expression language
        return None
    try:
        value = Decimal(segment)
    except InvalidOperation:
        return None
    return -value if sign < 0 else value


def _bound(op: ast.cmpop, value: Decimal) -> Interval | None:
    """The set of x with ``x <op> value``."""
    if isinstance(op, ast.Lt):
        return Interval(hi=value, hi_closed=False)
    if isinstance(op, ast.LtE):
        return Interval(hi=value, hi_closed=True)
    if isinstance(op, ast.Gt):
        return Interval(lo=value, lo_closed=False)
    if isinstance(op, ast.GtE):
        return Interval(lo=value, lo_closed=True)
    if isinstance(op, ast.Eq):
        return Interval(value, True, value, True)
    return None


def branch_interval(text: str) -> tuple[str, Interval] | None:
    """The (name, interval) a condition selects, when it is only comparisons of one name with number literals
    joined by ``and`` (chains like ``1.0 <= anc < 1.5`` included); None for anything else."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None
    parts: list[ast.expr]
    body = tree.body
    parts = list(body.values) if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) else [body]
    name: str | None = None
    interval = Interval()
    for part in parts:
        if not isinstance(part, ast.Compare):
            return None
        operands = [part.left, *part.comparators]
        for op, left, right in zip(part.ops, operands, operands[1:], strict=False):
            if isinstance(left, ast.Name) and (value := _literal(right, text)) is not None:
                var, cmp = left.id, op
            elif isinstance(right, ast.Name) and (value := _literal(left, text)) is not None:
                flipped = _FLIP.get(type(op))
                if flipped is None:
                    return None
                var, cmp = right.id, flipped()
            else:
                return None
            if var in ("true", "false") or (name is not None and var != name):
                return None
            name = var
            bound = _bound(cmp, value)
            if bound is None:
                return None
            interval = interval.intersect(bound)
    if name is None:
        return None
    return name, interval


@rule(Code.THRESHOLD_GAP)
def _threshold_rule(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """Gaps and overlaps between sibling threshold branches on the same input.

    Only branches whose whole condition is ``name <op> number`` comparisons joined by ``and`` are analysed
    (``q(...)`` literals, functions, ``or``, ``not`` make a branch opaque). For each node and each name:

    * ``threshold-impossible``: a condition no value satisfies (``anc < 0.5 and anc > 1``).
    * ``threshold-gap``: values *between* the lowest and highest threshold on that name that no threshold
      branch of the node covers (``anc < 0.5`` then ``anc > 0.5`` misses 0.5). Reported even when the node
      has ``otherwise``, because those values silently take ``otherwise``; values beyond the outermost
      thresholds are what ``otherwise`` is for and are not reported. Skipped when an opaque branch of the
      node also reads the name (it may cover the gap).
    * ``threshold-overlap``: for a choice node (first match wins), a later branch every value of which an
      earlier branch already takes (it can never be chosen), or a later branch whose written bounds reach into
      an earlier branch without containing it (``anc <= 0.5`` then ``0.5 <= anc < 1``: at 0.5 the first wins).
      A later branch that contains an earlier one is the usual "ladder" (``anc < 0.5``, then ``anc < 1``)
      and is not reported. For a collect node (every holding branch applies) overlaps are intended, except two
      branches that meet at one shared boundary value (``anc <= 0.5`` and ``anc >= 0.5``), which is reported.
    """
    for node in model.nodes:
        analysed: dict[str, list[tuple[Branch, Interval]]] = {}
        opaque_names: set[str] = set()
        for b in node.branches:
            when_path: Path = (*b.path, "when")
            found = branch_interval(b.when)
            if found is None:
                names = info.expr_names.get(when_path)
                opaque_names |= set(names) if names is not None else words_in(b.when)
                continue
            name, interval = found
            if interval.empty:
                yield report(model, Code.THRESHOLD_IMPOSSIBLE,
                             f"in node '{node.id}', the condition `{b.when}` can never be true",
                             when_path, "check the comparison signs and numbers", severity=Severity.WARNING)
                continue
            analysed.setdefault(name, []).append((b, interval))
        for name, items in analysed.items():
            if name not in opaque_names:
                yield from _gaps(model, node, name, items)
            match node.kind:
                case "choice":
                    yield from _choice_overlaps(model, node, name, items)
                case "collect":
                    yield from _collect_overlaps(model, node, name, items)
                case _:
                    assert_never(node.kind)


def _gaps(model: GuidelineModel, node: Node, name: str,
          items: Sequence[tuple[Branch, Interval]]) -> Iterator[Diagnostic]:
    merged = union([i for _, i in items])
    for left, right in itertools.pairwise(merged):
        assert left.hi is not None and right.lo is not None
        gap = Interval(left.hi, not left.hi_closed, right.lo, not right.lo_closed)
        # the two branches bordering the gap: the one ending at left.hi and the one starting at right.lo
        ends = [b for b, i in items if i.hi == left.hi and i.hi_closed == left.hi_closed]
        starts = [b for b, i in items if i.lo == right.lo and i.lo_closed == right.lo_closed]
        pair = sorted({*ends[:1], *starts[:1]}, key=lambda b: b.index)
        at, other = pair[-1], pair[0]
        where = "go to `otherwise`" if node.otherwise is not None else "match no branch"
        yield report(model, Code.THRESHOLD_GAP,
                     f"in node '{node.id}', no branch covers {gap.describe(name)}: such values {where}",
                     (*at.path, "when"),
                     "make neighbouring thresholds meet: use < on one side and >= on the other at the same "
                     "value",
                     (model.source_map.at((*other.path, "when")),) if other is not at else (),
                     severity=Severity.WARNING)


def _choice_overlaps(model: GuidelineModel, node: Node, name: str,
                     items: Sequence[tuple[Branch, Interval]]) -> Iterator[Diagnostic]:
    for j, (bj, ij) in enumerate(items):
        earlier = items[:j]
        if not earlier:
            continue
        if any(m.contains(ij) for m in union([i for _, i in earlier])):
            firsts = [b for b, i in earlier if not i.intersect(ij).empty]
            yield report(model, Code.THRESHOLD_OVERLAP,
                         f"in node '{node.id}', branch {bj.index + 1} (`{bj.when}`) can never be chosen: "
                         f"earlier branches already take every value it covers",
                         (*bj.path, "when"), "a choice node takes the first branch that holds; reorder or "
                         "fix the thresholds", tuple(model.source_map.at((*b.path, "when")) for b in firsts),
                         severity=Severity.WARNING)
            continue
        for bi, ii in earlier:
            both = ii.intersect(ij)
            if both.empty or ij.contains(ii):
                continue
            yield report(model, Code.THRESHOLD_OVERLAP,
                         f"in node '{node.id}', {both.describe(name)} satisfies both branch {bi.index + 1} "
                         f"(`{bi.when}`) and branch {bj.index + 1} (`{bj.when}`); the first one wins",
                         (*bj.path, "when"),
                         "make neighbouring thresholds meet without overlapping: use < on one side and >= on "
                         "the other at the same value",
                         (model.source_map.at((*bi.path, "when")),), severity=Severity.WARNING)


def _collect_overlaps(model: GuidelineModel, node: Node, name: str,
                      items: Sequence[tuple[Branch, Interval]]) -> Iterator[Diagnostic]:
    for j, (bj, ij) in enumerate(items):
        for bi, ii in items[:j]:
            both = ii.intersect(ij)
            point = both.lo is not None and both.lo == both.hi and not both.empty
            if point and not ii.contains(ij) and not ij.contains(ii):
                yield report(model, Code.THRESHOLD_OVERLAP,
                             f"in node '{node.id}', {both.describe(name)} satisfies both branch "
                             f"{bi.index + 1} (`{bi.when}`) and branch {bj.index + 1} (`{bj.when}`), so both "
                             "apply at that value", (*bj.path, "when"),
                             "if only one should apply at the boundary, use < on one side and >= on the "
                             "other",
                             (model.source_map.at((*bi.path, "when")),), severity=Severity.WARNING)
