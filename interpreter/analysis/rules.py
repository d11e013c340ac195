"""The structural rules: identity and references, the node graph, choice completeness, lifecycle, unused
inputs. One generator per rule, registered with ``@rule`` (codes documented in docs/diagnostics.md):

* ``duplicate-id``, ``reserved-id``: node and recommendation ids share one namespace.
* ``unknown-target``, ``unknown-citation``: references to ids / reference keys that do not exist.
* ``cycle``, ``unreachable-node``: the node graph from ``start``.
* ``choice-missing-otherwise``, ``choice-missing-unknown``: a choice node must say what happens when no
  condition holds and when a deciding fact is unknown.
* ``lifecycle-approved-needs-reviewers``, ``lifecycle-approved-needs-approval-date``, ``lifecycle-dates``.
* the warning ``unused-input``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import assert_never

from ..codes import Code
from ..errors import Diagnostic, Path
from ..loading.model import GuidelineModel, Node
from ..values.graphs import depth_first
from ..values.suggest import did_you_mean_hint
from .registry import CheckInfo, report, rule

__all__ = ["RESERVED_IDS", "words_in"]

#: The keyword of ``unknown:`` that means "report what is needed"; never usable as an id.
RESERVED_IDS = frozenset({"cannot-decide"})


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


def _first_match_wins(node: Node) -> bool:
    """Whether the node takes one branch (so it must say what applies when none holds, or when unknown)."""
    match node.kind:
        case "choice":
            return True
        case "collect":  # every branch that holds applies; none holding is an outcome of its own
            return False
        case _:
            assert_never(node.kind)


def _all_ids(model: GuidelineModel) -> list[str]:
    return [n.id for n in model.nodes] + [r.id for r in model.recommendations]


# --------------------------------------------------------------------------------------------------
# identity and references


@rule(Code.DUPLICATE_ID)
def _duplicate_ids(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    seen: dict[str, tuple[str, Path]] = {}
    items = [("node", n.id, n.path) for n in model.nodes] + [
        ("recommendation", r.id, r.path) for r in model.recommendations]
    for kind, ident, path in items:
        id_path: Path = (*path, "id")
        if ident in seen:
            first_kind, first_path = seen[ident]
            first = model.source_map.at(first_path)
            yield report(model, Code.DUPLICATE_ID,
                         f"id '{ident}' of this {kind} is already used by the {first_kind} at line "
                         f"{first.line}",
                         id_path, "nodes and recommendations share one set of ids; rename one of them",
                         (first,))
        else:
            seen[ident] = (kind, id_path)


@rule(Code.RESERVED_ID)
def _reserved_ids(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    items = [("node", n.id, n.path) for n in model.nodes] + [
        ("recommendation", r.id, r.path) for r in model.recommendations]
    for kind, ident, path in items:
        if ident in RESERVED_IDS:
            yield report(model,
                Code.RESERVED_ID, f"'{ident}' cannot be the id of a {kind}: it is a keyword of "
                         "`unknown:`", (*path, "id"), "choose another id")


@rule(Code.UNKNOWN_TARGET)
def _unknown_targets(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    ids = _all_ids(model)
    known = set(ids)
    node_ids = [n.id for n in model.nodes]
    if model.start not in node_ids:
        what = "a recommendation" if model.start in known else "no node"
        yield report(model, Code.UNKNOWN_TARGET, f"start '{model.start}' names {what}; it must name a node",
                     ("start",), did_you_mean_hint(model.start, node_ids))
    for node in model.nodes:
        for target, path in _edges(model, node):
            if target not in known:
                yield report(model, Code.UNKNOWN_TARGET,
                             f"node '{node.id}' points to '{target}', which is no node or recommendation",
                             path, did_you_mean_hint(target, ids))


@rule(Code.UNKNOWN_CITATION)
def _unknown_citations(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    keys = list(model.references)
    for rec in model.recommendations:
        for i, key in enumerate(rec.cite):
            if key not in model.references:
                hint = did_you_mean_hint(key, keys) or ("references: " + ", ".join(keys))
                yield report(model, Code.UNKNOWN_CITATION,
                             f"recommendation '{rec.id}' cites '{key}', which is not a key of `references`",
                             (*rec.path, "cite", i), hint)


# --------------------------------------------------------------------------------------------------
# graph


@rule(Code.CYCLE)
def _cycles(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    nodes = model.node_by_id()
    graph = {n.id: [t for t, _ in _edges(model, n) if t in nodes] for n in model.nodes}
    reported: set[frozenset[str]] = set()
    found: list[list[str]] = []
    for cycle in depth_first(graph)[0]:
        if frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            found.append(cycle)
    for cycle in found:
        first = min(cycle, key=lambda i: nodes[i].path)
        k = cycle.index(first)
        ordered = cycle[k:] + cycle[:k]
        text = " -> ".join([*ordered, ordered[0]])
        related = tuple(nodes[i].location for i in ordered[1:])
        yield report(model, Code.CYCLE, f"nodes form a cycle: {text}", (*nodes[first].path, "id"),
                     "a guideline is a tree walked once; point one of these nodes at a recommendation or "
                     "another node instead", related)


@rule(Code.UNREACHABLE_NODE)
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
            yield report(model, Code.UNREACHABLE_NODE,
                         f"node '{n.id}' cannot be reached from start '{model.start}'",
                         (*n.path, "id"), "point a branch at it, or remove it")
    for r in model.recommendations:
        if r.id not in seen:
            yield report(model, Code.UNREACHABLE_NODE,
                         f"recommendation '{r.id}' cannot be reached from start '{model.start}'",
                         (*r.path, "id"), "point a branch at it, or remove it")


@rule(Code.CHOICE_MISSING_OTHERWISE)
def _choice_otherwise(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for n in model.nodes:
        if _first_match_wins(n) and n.otherwise is None:
            yield report(model, Code.CHOICE_MISSING_OTHERWISE,
                         f"choice node '{n.id}' has no `otherwise`: what applies when no condition holds?",
                         (*n.path, "id"),
                         "add `otherwise:` with a node or recommendation id (a not-covered recommendation if "
                         "the source says nothing)")


@rule(Code.CHOICE_MISSING_UNKNOWN)
def _choice_unknown(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for n in model.nodes:
        if _first_match_wins(n) and not n.unknown_given:
            yield report(model, Code.CHOICE_MISSING_UNKNOWN,
                         f"choice node '{n.id}' has no `unknown`: what happens when a fact it needs is "
                         "missing or stale?", (*n.path, "id"),
                         "add `unknown: cannot-decide` (report what is needed) or target ids to apply as "
                         "well")


# --------------------------------------------------------------------------------------------------
# lifecycle


@rule(Code.LIFECYCLE_APPROVED_NEEDS_REVIEWERS)
def _approved_reviewers(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    if model.status == "approved" and not model.reviewers:
        yield report(model, Code.LIFECYCLE_APPROVED_NEEDS_REVIEWERS,
                     "an approved guideline must name its reviewers", ("status",),
                     "add `reviewers:` with at least one person, or set `status: in-review`")


@rule(Code.LIFECYCLE_APPROVED_NEEDS_APPROVAL_DATE)
def _approved_date(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    if model.status == "approved" and model.approval_date is None:
        yield report(model, Code.LIFECYCLE_APPROVED_NEEDS_APPROVAL_DATE,
                     "an approved guideline must give its `approval_date`", ("status",),
                     "add `approval_date: YYYY-MM-DD`, or set `status: in-review`")


@rule(Code.LIFECYCLE_DATES)
def _lifecycle_dates(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    sm = model.source_map
    if model.effective_end is not None and model.effective_end < model.effective_start:
        yield report(model, Code.LIFECYCLE_DATES,
                     f"effective.end {model.effective_end} is before effective.start {model.effective_start}",
                     ("effective", "end"), "the end is the last day the guideline applies",
                     (sm.at(("effective", "start")),))
    nxt, last = model.next_review, model.last_reviewed
    if nxt is not None and last is not None and nxt < last:
        yield report(model, Code.LIFECYCLE_DATES,
                     f"next_review {nxt} is before last_reviewed {last}",
                     ("next_review",), None, (sm.at(("last_reviewed",)),))
    if (model.status == "approved" and model.approval_date is not None
            and model.last_updated > model.approval_date):
        yield report(model, Code.LIFECYCLE_DATES,
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
    for s in model.scores.values():
        for it in s.items:
            if it.input is not None:
                out.append(((*it.path, "input"), it.input))
            if it.when is not None:
                out.append(((*it.path, "when"), it.when))
            out.extend(((*b.path, "when"), b.when) for b in it.bands)
    return out


def words_in(text: str) -> set[str]:
    """Every name-like word of an expression's text (for one that failed to compile)."""
    return set(_NAME.findall(text))


@rule(Code.UNUSED_INPUT)
def _unused_inputs(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    used: set[str] = set()
    for path, text in _expression_paths(model):
        names = info.expr_names.get(path)
        if names is None:
            # failed to compile: count every word in it as read, so no input is wrongly called unused
            used.update(words_in(text))
        else:
            used.update(names)
    for r in model.recommendations:
        for a in r.actions:
            if a.dose is not None and a.dose.basis:
                used.add(a.dose.basis)
    for name, inp in model.inputs.items():
        if name not in used:
            yield report(model, Code.UNUSED_INPUT,
                         f"input '{name}' is declared but no condition, derived value or dose reads it",
                         inp.path, "remove it, or use it; hosts would be asked for a fact nobody reads",
                         key=True)


#: A card summary in CDS Hooks 2.0 is one sentence of fewer than 140 characters; the service shows a
#: recommendation's title there (issue 10), so a title must fit.
MAX_TITLE_CHARS = 139


@rule(Code.RECOMMENDATION_TITLE_LONG)
def _long_titles(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for r in model.recommendations:
        title = r.title
        if title is None:
            continue
        if len(title) > MAX_TITLE_CHARS or "\n" in title:
            yield report(model, Code.RECOMMENDATION_TITLE_LONG,
                         f"recommendation '{r.id}': its title has {len(title)} characters"
                         + (" and a line break" if "\n" in title else "")
                         + f"; a summary holds one line of at most {MAX_TITLE_CHARS}",
                         (*r.path, "title"),
                         "shorten it (the text says the rest); the CDS Hooks service refuses to serve a "
                         "guideline whose titles do not fit a card summary")
