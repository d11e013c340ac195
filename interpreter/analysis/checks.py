"""Static structural checks over a guideline model: one small generator per rule, registered in ``RULES``.

``run_checks(model, info)`` runs every rule and returns the diagnostics sorted by location. ``info`` carries
what only the compiler knows (the names each expression reads); a rule never raises for bad content.

Rules (codes documented in docs/diagnostics.md):

* ``duplicate-id``, ``reserved-id``: node and recommendation ids share one namespace.
* ``unknown-target``, ``unknown-citation``: references to ids / reference keys that do not exist.
* ``cycle``, ``unreachable-node``: the node graph from ``start``.
* ``choice-missing-otherwise``, ``choice-missing-unknown``: a choice node must say what happens when no
  condition holds and when a deciding fact is unknown.
* ``lifecycle-approved-needs-reviewers``, ``lifecycle-approved-needs-approval-date``, ``lifecycle-dates``.
* warnings ``threshold-gap``, ``threshold-overlap``, ``threshold-impossible`` (see ``_threshold_rule``) and
  ``unused-input``.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from ..errors import Diagnostic, Location, Path, Severity, sort_diagnostics
from ..loading.model import Branch, GuidelineModel, Node
from ..values.suggest import did_you_mean_hint

__all__ = ["RULES", "CheckInfo", "Interval", "branch_interval", "run_checks"]

#: The keyword of ``unknown:`` that means "report what is needed"; never usable as an id.
RESERVED_IDS = frozenset({"cannot-decide"})


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What the compiler learned that the structural checks need."""

    #: The names (inputs and derived values) each successfully compiled expression reads, by the path of the
    #: expression's value, e.g. ``("nodes", 3, "branches", 0, "when")`` or ``("derived", "bsa", "expr")``.
    #: An expression that failed to compile is absent.
    expr_names: Mapping[Path, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))


Rule = Callable[[GuidelineModel, CheckInfo], Iterator[Diagnostic]]


def run_checks(model: GuidelineModel, info: CheckInfo) -> list[Diagnostic]:
    """Run every rule of ``RULES`` over ``model``; diagnostics sorted by location."""
    out: list[Diagnostic] = []
    for _code, rule in RULES:
        out.extend(rule(model, info))
    return sort_diagnostics(out)


# --------------------------------------------------------------------------------------------------
# helpers


def _error(model: GuidelineModel, code: str, message: str, path: Path, hint: str | None = None,
           related: Sequence[Location] = (), *, key: bool = False, severity: Severity = Severity.ERROR,
           ) -> Diagnostic:
    sm = model.source_map
    location = sm.key_at(path) if key else sm.at(path)
    return Diagnostic(code, message, location, severity, path, hint, tuple(related))


def _target_paths(model: GuidelineModel, base: Path, targets: Sequence[str]) -> list[tuple[str, Path]]:
    """Pair each target id with the path of its value (``base`` for one id, ``base + (i,)`` for a list)."""
    if (*base, 0) in model.source_map.values:
        return [(t, (*base, i)) for i, t in enumerate(targets)]
    return [(t, base) for t in targets]


def _edges(model: GuidelineModel, node: Node) -> list[tuple[str, Path]]:
    """Every target a node points at, with the path where it is written."""
    out: list[tuple[str, Path]] = []
    for b in node.branches:
        out.extend(_target_paths(model, (*b.path, "then"), b.then))
    if node.otherwise is not None:
        out.extend(_target_paths(model, (*node.path, "otherwise"), node.otherwise))
    if node.unknown:
        out.extend(_target_paths(model, (*node.path, "unknown"), node.unknown))
    return out


def _all_ids(model: GuidelineModel) -> list[str]:
    return [n.id for n in model.nodes] + [r.id for r in model.recommendations]


# --------------------------------------------------------------------------------------------------
# identity and references


def _duplicate_ids(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    seen: dict[str, tuple[str, Path]] = {}
    items = [("node", n.id, n.path) for n in model.nodes] + [
        ("recommendation", r.id, r.path) for r in model.recommendations]
    for kind, ident, path in items:
        id_path: Path = (*path, "id")
        if ident in seen:
            first_kind, first_path = seen[ident]
            first = model.source_map.at(first_path)
            yield _error(model, "duplicate-id",
                         f"id '{ident}' of this {kind} is already used by the {first_kind} at line "
                         f"{first.line}",
                         id_path, "nodes and recommendations share one set of ids; rename one of them",
                         (first,))
        else:
            seen[ident] = (kind, id_path)


def _reserved_ids(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    items = [("node", n.id, n.path) for n in model.nodes] + [
        ("recommendation", r.id, r.path) for r in model.recommendations]
    for kind, ident, path in items:
        if ident in RESERVED_IDS:
            yield _error(model, "reserved-id", f"'{ident}' cannot be the id of a {kind}: it is a keyword of "
                         "`unknown:`", (*path, "id"), "choose another id")


def _unknown_targets(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    ids = _all_ids(model)
    known = set(ids)
    node_ids = [n.id for n in model.nodes]
    if model.start not in node_ids:
        what = "a recommendation" if model.start in known else "no node"
        yield _error(model, "unknown-target", f"start '{model.start}' names {what}; it must name a node",
                     ("start",), did_you_mean_hint(model.start, node_ids))
    for node in model.nodes:
        for target, path in _edges(model, node):
            if target not in known:
                yield _error(model, "unknown-target",
                             f"node '{node.id}' points to '{target}', which is no node or recommendation",
                             path, did_you_mean_hint(target, ids))


def _unknown_citations(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    keys = list(model.references)
    for rec in model.recommendations:
        for i, key in enumerate(rec.cite):
            if key not in model.references:
                hint = did_you_mean_hint(key, keys) or ("references: " + ", ".join(keys))
                yield _error(model, "unknown-citation",
                             f"recommendation '{rec.id}' cites '{key}', which is not a key of `references`",
                             (*rec.path, "cite", i), hint)


# --------------------------------------------------------------------------------------------------
# graph


def _cycles(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    nodes = model.node_by_id()
    graph = {n.id: [t for t, _ in _edges(model, n) if t in nodes] for n in model.nodes}
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()
    found: list[list[str]] = []

    # iterative DFS: the graph is small but a guideline should never be able to exhaust the stack
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        on_path = [root]
        state[root] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                state[current] = 2
                continue
            if state.get(child) == 1:
                cycle = on_path[on_path.index(child):]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    found.append(cycle)
            elif not state.get(child):
                state[child] = 1
                on_path.append(child)
                stack.append((child, iter(graph[child])))
    for cycle in found:
        first = min(cycle, key=lambda i: nodes[i].path)
        k = cycle.index(first)
        ordered = cycle[k:] + cycle[:k]
        text = " -> ".join([*ordered, ordered[0]])
        related = tuple(nodes[i].location for i in ordered[1:])
        yield _error(model, "cycle", f"nodes form a cycle: {text}", (*nodes[first].path, "id"),
                     "a guideline is a tree walked once; point one of these nodes at a recommendation or "
                     "another node instead", related)


def _unreachable(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    nodes = model.node_by_id()
    if model.start not in nodes:
        return  # reported as unknown-target; everything would look unreachable
    seen = {model.start}
    todo = [model.start]
    while todo:
        current = todo.pop()
        node = nodes.get(current)
        if node is None:
            continue
        for target, _ in _edges(model, node):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for n in model.nodes:
        if n.id not in seen:
            yield _error(model, "unreachable-node",
                         f"node '{n.id}' cannot be reached from start '{model.start}'",
                         (*n.path, "id"), "point a branch at it, or remove it")
    for r in model.recommendations:
        if r.id not in seen:
            yield _error(model, "unreachable-node",
                         f"recommendation '{r.id}' cannot be reached from start '{model.start}'",
                         (*r.path, "id"), "point a branch at it, or remove it")


def _choice_otherwise(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for n in model.nodes:
        if n.kind == "choice" and n.otherwise is None:
            yield _error(model, "choice-missing-otherwise",
                         f"choice node '{n.id}' has no `otherwise`: what applies when no condition holds?",
                         (*n.path, "id"),
                         "add `otherwise:` with a node or recommendation id (a not-covered recommendation if "
                         "the source says nothing)")


def _choice_unknown(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for n in model.nodes:
        if n.kind == "choice" and not n.unknown_given:
            yield _error(model, "choice-missing-unknown",
                         f"choice node '{n.id}' has no `unknown`: what happens when a fact it needs is "
                         "missing or stale?", (*n.path, "id"),
                         "add `unknown: cannot-decide` (report what is needed) or target ids to apply as "
                         "well")


# --------------------------------------------------------------------------------------------------
# lifecycle


def _approved_reviewers(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    if model.status == "approved" and not model.reviewers:
        yield _error(model, "lifecycle-approved-needs-reviewers",
                     "an approved guideline must name its reviewers", ("status",),
                     "add `reviewers:` with at least one person, or set `status: in-review`")


def _approved_date(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    if model.status == "approved" and model.approval_date is None:
        yield _error(model, "lifecycle-approved-needs-approval-date",
                     "an approved guideline must give its `approval_date`", ("status",),
                     "add `approval_date: YYYY-MM-DD`, or set `status: in-review`")


def _lifecycle_dates(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    sm = model.source_map
    if model.effective_end is not None and model.effective_end < model.effective_start:
        yield _error(model, "lifecycle-dates",
                     f"effective.end {model.effective_end} is before effective.start {model.effective_start}",
                     ("effective", "end"), "the end is the last day the guideline applies",
                     (sm.at(("effective", "start")),))
    nxt, last = model.next_review, model.last_reviewed
    if nxt is not None and last is not None and nxt < last:
        yield _error(model, "lifecycle-dates",
                     f"next_review {nxt} is before last_reviewed {last}",
                     ("next_review",), None, (sm.at(("last_reviewed",)),))
    if (model.status == "approved" and model.approval_date is not None
            and model.last_updated > model.approval_date):
        yield _error(model, "lifecycle-dates",
                     f"last_updated {model.last_updated} is after approval_date {model.approval_date}: the "
                     "approval does not cover the current content", ("last_updated",),
                     "changed content needs a new review: set `status: in-review` and raise the version",
                     (sm.at(("approval_date",)),))


# --------------------------------------------------------------------------------------------------
# unused inputs


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expression_paths(model: GuidelineModel) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = [((*d.path, "expr"), d.expr) for d in model.derived.values()]
    for n in model.nodes:
        out.extend(((*b.path, "when"), b.when) for b in n.branches)
    for r in model.recommendations:
        for a in r.actions:
            if a.dose is not None and isinstance(a.dose.amount, str):
                out.append(((*a.dose.path, "amount"), a.dose.amount))
    return out


def _unused_inputs(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    used: set[str] = set()
    for path, text in _expression_paths(model):
        names = info.expr_names.get(path)
        if names is None:
            # failed to compile: count every word in it as read, so no input is wrongly called unused
            used.update(_NAME.findall(text))
        else:
            used.update(names)
    for r in model.recommendations:
        for a in r.actions:
            if a.dose is not None and a.dose.basis:
                used.add(a.dose.basis)
    for name, inp in model.inputs.items():
        if name not in used:
            yield _error(model, "unused-input",
                         f"input '{name}' is declared but no condition, derived value or dose reads it",
                         inp.path, "remove it, or use it; hosts would be asked for a fact nobody reads",
                         key=True, severity=Severity.WARNING)


# --------------------------------------------------------------------------------------------------
# thresholds


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of numbers: ``lo``/``hi`` None for unbounded; ``lo_closed``/``hi_closed`` whether included."""

    lo: Decimal | None = None
    lo_closed: bool = False
    hi: Decimal | None = None
    hi_closed: bool = False

    @property
    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def intersect(self, other: Interval) -> Interval:
        lo, lo_c = self.lo, self.lo_closed
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and not other.lo_closed)):
            lo, lo_c = other.lo, other.lo_closed
        hi, hi_c = self.hi, self.hi_closed
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and not other.hi_closed)):
            hi, hi_c = other.hi, other.hi_closed
        return Interval(lo, lo_c, hi, hi_c)

    def contains(self, other: Interval) -> bool:
        """Whether ``other`` is a subset of this interval (``other`` not empty)."""
        if self.lo is not None and (other.lo is None or other.lo < self.lo
                                    or (other.lo == self.lo and other.lo_closed and not self.lo_closed)):
            return False
        if self.hi is None:
            return True
        return not (other.hi is None or other.hi > self.hi
                    or (other.hi == self.hi and other.hi_closed and not self.hi_closed))

    def describe(self, name: str) -> str:
        if self.lo is not None and self.hi is not None and self.lo == self.hi:
            return f"{name} = {self.lo}"
        parts = []
        if self.lo is not None:
            parts.append(f"{self.lo} {'<=' if self.lo_closed else '<'} ")
        parts.append(name)
        if self.hi is not None:
            parts.append(f" {'<=' if self.hi_closed else '<'} {self.hi}")
        return "".join(parts)


def _union(intervals: Sequence[Interval]) -> list[Interval]:
    """Merge into disjoint intervals, sorted."""
    def key(i: Interval) -> tuple[int, Decimal, int]:
        return (0, Decimal(0), 0) if i.lo is None else (1, i.lo, 0 if i.lo_closed else 1)

    merged: list[Interval] = []
    for cur in sorted((i for i in intervals if not i.empty), key=key):
        if merged:
            last = merged[-1]
            touches = last.hi is None or cur.lo is None or cur.lo < last.hi or (
                cur.lo == last.hi and (last.hi_closed or cur.lo_closed))
            if touches:
                if last.hi is None or (cur.hi is not None and (cur.hi < last.hi or (
                        cur.hi == last.hi and (last.hi_closed or not cur.hi_closed)))):
                    continue  # cur ends inside last
                merged[-1] = Interval(last.lo, last.lo_closed, cur.hi, cur.hi_closed)
                continue
        merged.append(cur)
    return merged


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


def _names_in(text: str) -> set[str]:
    return set(_NAME.findall(text))


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
                opaque_names |= set(names) if names is not None else _names_in(b.when)
                continue
            name, interval = found
            if interval.empty:
                yield _error(model, "threshold-impossible",
                             f"in node '{node.id}', the condition `{b.when}` can never be true",
                             when_path, "check the comparison signs and numbers", severity=Severity.WARNING)
                continue
            analysed.setdefault(name, []).append((b, interval))
        for name, items in analysed.items():
            if name not in opaque_names:
                yield from _gaps(model, node, name, items)
            if node.kind == "choice":
                yield from _choice_overlaps(model, node, name, items)
            else:
                yield from _collect_overlaps(model, node, name, items)


def _gaps(model: GuidelineModel, node: Node, name: str,
          items: Sequence[tuple[Branch, Interval]]) -> Iterator[Diagnostic]:
    merged = _union([i for _, i in items])
    for left, right in itertools.pairwise(merged):
        assert left.hi is not None and right.lo is not None
        gap = Interval(left.hi, not left.hi_closed, right.lo, not right.lo_closed)
        # the two branches bordering the gap: the one ending at left.hi and the one starting at right.lo
        ends = [b for b, i in items if i.hi == left.hi and i.hi_closed == left.hi_closed]
        starts = [b for b, i in items if i.lo == right.lo and i.lo_closed == right.lo_closed]
        pair = sorted({*ends[:1], *starts[:1]}, key=lambda b: b.index)
        at, other = pair[-1], pair[0]
        where = "go to `otherwise`" if node.otherwise is not None else "match no branch"
        yield _error(model, "threshold-gap",
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
        if any(m.contains(ij) for m in _union([i for _, i in earlier])):
            firsts = [b for b, i in earlier if not i.intersect(ij).empty]
            yield _error(model, "threshold-overlap",
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
            yield _error(model, "threshold-overlap",
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
                yield _error(model, "threshold-overlap",
                             f"in node '{node.id}', {both.describe(name)} satisfies both branch "
                             f"{bi.index + 1} (`{bi.when}`) and branch {bj.index + 1} (`{bj.when}`), so both "
                             "apply at that value", (*bj.path, "when"),
                             "if only one should apply at the boundary, use < on one side and >= on the "
                             "other",
                             (model.source_map.at((*bi.path, "when")),), severity=Severity.WARNING)


# --------------------------------------------------------------------------------------------------

#: Every rule, with the main code it reports (several rules may report more than one code).
# --------------------------------------------------------------------------------------------------
# dose-number-range: every number a guideline gives that flows into arithmetic is bounded at load

#: (lowest, highest, the finest decimal place allowed, most significant digits) per kind of number; see
#: docs/diagnostics.md. Amounts are per unit of basis or fixed, in the dose's unit; limits in the total's
#: unit.
DOSE_NUMBER_BOUNDS: Mapping[str, tuple[Decimal, Decimal, int, int]] = {
    "amount": (Decimal(0), Decimal(1_000_000), -4, 6),
    "min": (Decimal(0), Decimal(1_000_000), -4, 6),
    "max": (Decimal(0), Decimal(1_000_000), -4, 6),
    "warn_below": (Decimal(0), Decimal(1_000_000), -4, 6),
    "warn_above": (Decimal(0), Decimal(1_000_000), -4, 6),
    "round_to": (Decimal("0.001"), Decimal(1000), -3, 3),
}
#: Plausible ranges of inputs: compared with facts (exactly), never multiplied.
PLAUSIBLE_BOUNDS = (Decimal(-1_000_000_000), Decimal(1_000_000_000), -9, 12)


def _number_problem(value: Decimal, bounds: tuple[Decimal, Decimal, int, int]) -> str | None:
    low, high, finest, digits = bounds
    if not value.is_finite() or not low <= value <= high:
        return f"must lie between {low} and {high}"
    if value.is_zero():
        return None
    _, digit_tuple, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    if exponent < finest:
        return f"must not be finer than {Decimal(1).scaleb(finest):f}"
    if len(digit_tuple) > digits:
        return f"must have at most {digits} significant digits"
    return None


def dose_number_problem(value: Decimal, key: str = "amount") -> str | None:
    """What is wrong with a dose number under ``DOSE_NUMBER_BOUNDS[key]`` ("must lie between ..."), or None.

    Shared by the load-time check (plain numbers here, an amount expression that folds to a constant in the
    compiler) and the run-time check of every computed dose (``dose-out-of-range``, interpreter/evaluate.py).
    """
    return _number_problem(value, DOSE_NUMBER_BOUNDS[key])


def _dose_numbers(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """Dose numbers and plausible ranges within sane bounds (``dose-number-range``), checked before any
    arithmetic: ``round_to: 1e-999`` or ``amount: 1e999`` would overflow or print a dose of 1,000 digits."""
    for r in model.recommendations:
        for a in r.actions:
            d = a.dose
            if d is None:
                continue
            for key, bounds in DOSE_NUMBER_BOUNDS.items():
                value = getattr(d, key)
                if not isinstance(value, Decimal):
                    continue  # absent, or an expression (folded: the compiler; else checked when computed)
                problem = _number_problem(value, bounds)
                if problem is not None:
                    shown = model.source_map.text_at((*d.path, key)) or str(value)
                    hint = (f"write {key} as a plain number between {bounds[0]} and {bounds[1]}, with at "
                            f"most {bounds[3]} significant digits, in the dose's unit")
                    yield _error(model, "dose-number-range", f"dose {key} {shown[:40]} {problem}",
                                 (*d.path, key), hint)
    for i in model.inputs.values():
        for key, value in (("min", i.plausible_min), ("max", i.plausible_max)):
            if value is None:
                continue
            problem = _number_problem(value, PLAUSIBLE_BOUNDS)
            if problem is not None:
                shown = model.source_map.text_at((*i.path, "plausible", key)) or str(value)
                yield _error(model, "dose-number-range",
                             f"plausible {key} {shown[:40]} of {i.name} {problem}",
                             (*i.path, "plausible", key),
                             "a plausible range is a few digits in the input's unit")


RULES: tuple[tuple[str, Rule], ...] = (
    ("duplicate-id", _duplicate_ids),
    ("reserved-id", _reserved_ids),
    ("unknown-target", _unknown_targets),
    ("unknown-citation", _unknown_citations),
    ("cycle", _cycles),
    ("unreachable-node", _unreachable),
    ("choice-missing-otherwise", _choice_otherwise),
    ("choice-missing-unknown", _choice_unknown),
    ("lifecycle-approved-needs-reviewers", _approved_reviewers),
    ("lifecycle-approved-needs-approval-date", _approved_date),
    ("lifecycle-dates", _lifecycle_dates),
    ("threshold-gap", _threshold_rule),
    ("unused-input", _unused_inputs),
    ("dose-number-range", _dose_numbers),
)
