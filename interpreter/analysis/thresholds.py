"""Threshold checks: gaps and overlaps between sibling branches that compare one name with numbers."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import assert_never

from ..codes import Code
from ..errors import Diagnostic, Location, Path
from ..lang.compile import compile_expression
from ..lang.parse import quiet_tree
from ..lang.quantities import Threshold
from ..loading.model import Branch, GuidelineModel, Node
from ..values.types import NUMBER
from .intervals import Interval, bound, union
from .registry import CheckInfo, report, rule
from .rules import words_in

__all__ = ["branch_interval"]


_OP_TEXT: dict[type[ast.cmpop], str] = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
}
#: The comparison with its operands swapped (the name goes on the left, as in ``Threshold.op``).
_FLIPPED: dict[str, str] = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _number_literal(node: ast.expr, text: str) -> bool:
    """Whether ``node`` is a number literal (optionally signed) written without ``_``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool) or not isinstance(
            node.value, int | float):
        return False
    if node.lineno == node.end_lineno == 1 and text.isascii() and "\n" not in text and "\r" not in text:
        segment: str | None = text[node.col_offset:node.end_col_offset]  # get_source_segment's answer here
    else:
        segment = ast.get_source_segment(text, node)
    return segment is not None and "_" not in segment


def _quantity_literal(node: ast.expr) -> bool:
    """Whether ``node`` is ``q(number, 'unit')``."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "q"
            and len(node.args) == 2 and not node.keywords
            and all(isinstance(a, ast.Constant) for a in node.args))



def _shortest(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and without an exponent (a converted ``0.500`` reads ``0.5``)."""
    short = value.normalize()
    return short.quantize(Decimal(1)) if short.as_tuple().exponent > 0 else short  # type: ignore[operator]


def _comparisons(text: str, trees: dict[str, ast.Expression | None] | None = None,
                 ) -> list[tuple[str, str, bool]] | None:
    """The ``(name, op, written as a number)`` of each comparison of a condition that is only comparisons of
    a name with a number or ``q(...)`` literal joined by ``and`` (chains included), name on the left; None for
    any other condition."""
    stripped = text.strip()
    tree: ast.Expression | None
    if trees is not None and stripped in trees:
        tree = trees[stripped]
    else:
        tree = quiet_tree(stripped)
        if trees is not None:
            trees[stripped] = tree
    if tree is None:
        return None
    body = tree.body
    parts = list(body.values) if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) else [body]
    found: list[tuple[str, str, bool]] = []
    for part in parts:
        if not isinstance(part, ast.Compare):
            return None
        operands = [part.left, *part.comparators]
        for cmpop, left, right in zip(part.ops, operands, operands[1:], strict=False):
            op = _OP_TEXT.get(type(cmpop))
            if op is None:
                return None
            if isinstance(left, ast.Name) and not isinstance(right, ast.Name):
                name, constant = left.id, right
            elif isinstance(right, ast.Name) and not isinstance(left, ast.Name):
                name, constant, op = right.id, left, _FLIPPED[op]
            else:
                return None
            literal = _number_literal(constant, text)
            if not (literal or _quantity_literal(constant)):
                return None
            found.append((name, op, literal))
    return found


def branch_interval(text: str, thresholds: Sequence[Threshold] | None = None,
                    trees: dict[str, ast.Expression | None] | None = None) -> tuple[str, Interval] | None:
    """The (name, interval) a condition selects, when it is only comparisons of one name with number or
    ``q(...)`` literals joined by ``and`` (chains like ``1.0 <= anc < 1.5`` included); None for anything else.

    The syntax tree gives the structure; the values (in the name's declared unit) come from ``thresholds``,
    the condition's compiled ``CompiledExpression.thresholds``, matched one to one with its comparisons
    (same count, same name, same operator) -- when they do not match, None. Without ``thresholds`` the
    condition is compiled here with every name it reads a plain number. ``trees`` (``CheckInfo.trees``) is
    a memo of parsed texts.
    """
    comparisons = _comparisons(text, trees)
    if not comparisons:
        return None
    if thresholds is None:
        compiled, _ = compile_expression(text, dict.fromkeys((n for n, _, _ in comparisons), NUMBER),
                                         location=Location("<condition>"))
        if compiled is None:
            return None
        thresholds = compiled.thresholds
    if len(thresholds) != len(comparisons):
        return None
    name = comparisons[0][0]
    interval = Interval()
    for (var, op, literal), threshold in zip(comparisons, thresholds, strict=True):
        if var != name or threshold.name != var or threshold.op != op:
            return None
        part = bound(op, threshold.value if literal else _shortest(threshold.value))
        if part is None:
            return None
        interval = interval.intersect(part)
    return name, interval


@rule(Code.THRESHOLD_GAP)
def _threshold_rule(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """Gaps and overlaps between sibling threshold branches on the same input.

    Only branches that compiled and whose whole condition is ``name <op> number`` or ``name <op> q(...)``
    comparisons joined by ``and`` are analysed, with the compiled thresholds (every value in the name's
    declared unit); functions, arithmetic, ``or``, ``not`` make a branch opaque. For each node and each name:

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
            found = branch_interval(b.when, info.thresholds.get(when_path), info.trees)
            if found is None:
                names = info.expr_names.get(when_path)
                opaque_names |= set(names) if names is not None else words_in(b.when)
                continue
            name, interval = found
            if interval.empty:
                yield report(model, Code.THRESHOLD_IMPOSSIBLE,
                             f"in node '{node.id}', the condition `{b.when}` can never be true",
                             when_path, "check the comparison signs and numbers")
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
                     )


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
                         )
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
                         (model.source_map.at((*bi.path, "when")),))


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
                             (model.source_map.at((*bi.path, "when")),))
