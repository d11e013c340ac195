"""Conditional advice: what an undecided node would recommend, alternative by alternative.

A node whose condition is unknown still fails closed (no branch is taken, the result is incomplete, the facts
it needs are listed), but the result also shows what each still-possible alternative would lead to, computed
from the facts that are known: the condition that selects it (as written), the recommendations with their
doses, cautions, and, recursively, the nodes below it that the known facts cannot decide either.

An alternative is left out when the known facts make its condition false. In a choice node the alternatives
are the branches from the first unknown one up to and including the first one that holds (later ones cannot
be taken), then ``otherwise`` when none holds; in a collect node, each undecided branch (independently), and
``otherwise`` when no branch holds and it has one.

Each alternative is explored by a walk of its own over the same values (``_HypotheticalWalker``: no tracer,
so neither the trace nor coverage counts it). Nothing it finds is added to the firm recommendations. The work
is bounded per evaluation (docs/api.md, "Limits"): ``MAX_CONDITIONAL_DEPTH`` levels of nesting,
``MAX_CONDITIONAL_ALTERNATIVES`` alternatives and ``MAX_CONDITIONAL_STEPS`` node visits in all; past a bound
the advice says what was not shown. A condition or dose that fails for these facts inside an alternative does
not fail the evaluation (the firm part succeeded): the alternative says it cannot be shown, and why.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Literal

from ..compiler.guideline import CompiledGuideline, CompiledNode
from ..errors import EvaluationError
from ..lang.codegen import EVALUATION_EXCEPTIONS, evaluation_error
from ..result import (
    CautionResult,
    ConditionalAdvice,
    ConditionalAlternative,
    RecommendationResult,
    SupersededResult,
)
from ..values.unknown import UNKNOWN
from .completion import Completer
from .doses import action_result
from .precedence import apply_precedence
from .walker import Walker

__all__ = [
    "MAX_CONDITIONAL_ALTERNATIVES",
    "MAX_CONDITIONAL_DEPTH",
    "MAX_CONDITIONAL_STEPS",
    "conditional_advice",
]

#: Levels of conditional advice: an undecided node under an alternative is one level deeper.
MAX_CONDITIONAL_DEPTH = 3
#: Alternatives shown in one result, all levels together.
MAX_CONDITIONAL_ALTERNATIVES = 64
#: Node visits of the walks of every alternative of one result, together.
MAX_CONDITIONAL_STEPS = 1_000


class _OutOfSteps(Exception):
    """The node-visit budget of conditional advice is spent."""


class _Budget:
    """What is left of the bounds of one evaluation's conditional advice (local to the evaluation)."""

    __slots__ = ("alternatives", "steps")

    def __init__(self) -> None:
        self.alternatives = MAX_CONDITIONAL_ALTERNATIVES
        self.steps = MAX_CONDITIONAL_STEPS


class _HypotheticalWalker(Walker):
    """The plain walk, each node visit counted against the shared budget (never a trace)."""

    __slots__ = ("budget",)

    def __init__(
        self, g: CompiledGuideline, values: dict[str, Any], as_of: datetime, budget: _Budget,
        via: tuple[str, ...], completer: Completer,
    ) -> None:
        super().__init__(g, values, as_of, completer)
        self.budget = budget
        self.via = list(via)

    def visit(self, tid: str) -> None:
        if tid in self.g.nodes:
            if self.budget.steps <= 0:
                raise _OutOfSteps
            self.budget.steps -= 1
        super().visit(tid)


def conditional_advice(
    g: CompiledGuideline,
    values: dict[str, Any],
    as_of: datetime,
    undecided: Sequence[tuple[CompiledNode, tuple[str, ...]]],
    shown: Mapping[str, Any],
    completer: Completer | None = None,
    *,
    firm: Collection[str] = (),
    calendar: tzinfo | None = None,
) -> tuple[ConditionalAdvice, ...]:
    """The conditional advice of the ``undecided`` nodes of a walk over ``values`` (``shown``: the facts as
    the result shows them, for doses; ``completer``: the walk's, so that a condition every completion of its
    unknown facts decides is decided here too, within the same budget; ``firm``: the recommendations the
    walk applied, which supersede in every alternative as they do in the firm result). Run it in the
    evaluation's Decimal context."""
    if not undecided:
        return ()
    builder = _Builder(g, values, as_of, shown, completer or Completer(g, values, as_of), calendar)
    return builder.advice(undecided, 1, frozenset(firm))


#: One possible alternative before it is explored: (branch index or -1, condition text, label, targets).
_Open = tuple[int, str, str | None, tuple[str, ...]]


class _Builder:
    __slots__ = ("as_of", "budget", "calendar", "completer", "g", "shown", "values")

    def __init__(
        self, g: CompiledGuideline, values: dict[str, Any], as_of: datetime, shown: Mapping[str, Any],
        completer: Completer, calendar: tzinfo | None = None,
    ) -> None:
        self.calendar = calendar
        self.completer = completer
        self.g = g
        self.values = values
        self.as_of = as_of
        self.shown = shown
        self.budget = _Budget()

    def advice(
        self, undecided: Sequence[tuple[CompiledNode, tuple[str, ...]]], depth: int, beside: frozenset[str]
    ) -> tuple[ConditionalAdvice, ...]:
        """``beside``: the recommendations that apply with these nodes' alternatives (the firm ones and those
        of the alternatives they are nested in)."""
        out: list[ConditionalAdvice] = []
        seen: set[str] = set()
        for node, via in undecided:
            if node.id not in seen:  # a collect node has one entry per undecided branch; a node, one advice
                seen.add(node.id)
                out.append(self.node_advice(node, via, depth, beside))
        return tuple(out)

    def node_advice(
        self, node: CompiledNode, via: tuple[str, ...], depth: int, beside: frozenset[str]
    ) -> ConditionalAdvice:
        selects: Literal["first", "each"] = "first" if node.kind == "choice" else "each"
        open_, needs, note = self.open_alternatives(node)
        alternatives: list[ConditionalAlternative] = []
        omitted = 0
        for branch, when, label, then in open_:
            if self.budget.alternatives <= 0:
                omitted += 1
                continue
            self.budget.alternatives -= 1
            alternatives.append(self.explore(branch, when, label, then, via, depth, beside))
        if omitted:
            note = _join(note, f"{omitted} more alternative(s) not shown: at most "
                               f"{MAX_CONDITIONAL_ALTERNATIVES} alternatives are shown per result")
        return ConditionalAdvice(node.id, node.title, selects, tuple(sorted(needs)), via, tuple(alternatives),
                                 omitted, note)

    def open_alternatives(self, node: CompiledNode) -> tuple[list[_Open], set[str], str | None]:
        """The alternatives the known facts leave open, the facts that would decide them, and a note when a
        condition fails for these facts (the alternatives after it are then not listed)."""
        values, as_of = self.values, self.as_of
        open_: list[_Open] = []
        needs: set[str] = set()
        choice = node.kind == "choice"
        held = False
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                err = evaluation_error(exc, b.when.source)
                return open_, needs, (f"the alternatives from `{b.when.source}` on cannot be shown: the "
                                      f"condition fails for these facts ({err.code}: {err.message})")
            if r is UNKNOWN:  # decided when every value of its unknown facts gives the same answer
                settled = self.completer.settle(b.when)
                if settled is not None:
                    r = settled[0]
            if r is True:
                held = True
                if choice:  # the first that holds ends the list: later branches cannot be taken
                    open_.append((b.index, b.when.source, b.label, b.then))
                    break
            elif r is UNKNOWN:
                needs.update(self.completer.needed(b.when, b.inputs))
                open_.append((b.index, b.when.source, b.label, b.then))
            elif r is not False:
                return open_, needs, (f"the alternatives from `{b.when.source}` on cannot be shown: the "
                                      "condition gave no true, false or unknown")
        if not held and node.otherwise:
            open_.append((-1, "otherwise", None, node.otherwise))
        return open_, needs, None

    def explore(
        self, branch: int, when: str, label: str | None, then: tuple[str, ...], via: tuple[str, ...],
        depth: int, beside: frozenset[str],
    ) -> ConditionalAlternative:
        """What alternative ``then`` leads to for the known facts."""
        g = self.g
        if _only_recommendations(g.nodes, then):  # applied as the walk would apply them, without a walk
            try:
                recs, cautions, superseded = self.recommendations(dict.fromkeys(then, via), beside)
            except EvaluationError as exc:
                return ConditionalAlternative(
                    branch, when, label,
                    note=f"cannot be shown: it fails for these facts ({exc.code}: {exc.message})",
                )
            return ConditionalAlternative(branch, when, label, recs, cautions, (), None, superseded)
        walk = _HypotheticalWalker(g, self.values, self.as_of, self.budget, via, self.completer)
        try:
            for tid in then:
                walk.run(tid)
            recs, cautions, superseded = self.recommendations(walk.applied, beside)
        except _OutOfSteps:
            return ConditionalAlternative(
                branch, when, label,
                note=f"not shown: conditional advice visits at most {MAX_CONDITIONAL_STEPS} nodes per result",
            )
        except EvaluationError as exc:
            return ConditionalAlternative(
                branch, when, label,
                note=f"cannot be shown: it fails for these facts ({exc.code}: {exc.message})",
            )
        note: str | None = None
        nested: tuple[ConditionalAdvice, ...] = ()
        if walk.undecided:
            if depth < MAX_CONDITIONAL_DEPTH:
                nested = self.advice(walk.undecided, depth + 1, beside | set(walk.applied))
            else:
                ids = ", ".join(dict.fromkeys(n.id for n, _ in walk.undecided))
                note = (f"further decisions under it ({ids}) cannot be made from the known facts; "
                        f"conditional advice is shown {MAX_CONDITIONAL_DEPTH} levels deep")
        return ConditionalAlternative(branch, when, label, recs, cautions, nested, note, superseded)

    def recommendations(
        self, applied: Mapping[str, tuple[str, ...]], beside: frozenset[str]
    ) -> tuple[tuple[RecommendationResult, ...], tuple[CautionResult, ...], tuple[SupersededResult, ...]]:
        """The recommendations of one alternative, in the shape of firm ones (doses computed where the known
        facts allow), their cautions, and those superseded (by the precedence rule of the firm result,
        ``beside`` applying too: their actions, doses and cautions are not shown)."""
        g = self.g
        recs: list[RecommendationResult] = []
        cautions: list[CautionResult] = []
        superseded, shown = apply_precedence(g, applied, beside)
        for rid in shown:
            via = applied[rid]
            rec = g.recommendations[rid]
            actions = g.rec_actions.get(rid)
            if actions is None:
                actions = tuple(
                    action_result(g, a, self.values, self.as_of, rid, self.shown, self.calendar)
                    for a in rec.actions
                )
            cautions.extend(g.rec_cautions[rid])
            recs.append(RecommendationResult(rid, rec.text, g.citations[rid], actions, via, rec.title,
                                             rec.strength, rec.category))
        return tuple(recs), tuple(cautions), superseded


def _only_recommendations(nodes: Mapping[str, CompiledNode], then: tuple[str, ...]) -> bool:
    """Whether every target of ``then`` is a recommendation (no node to walk): the walk would apply each once,
    in order, with the path to the undecided node, and visit no node (nothing counted against the budget)."""
    return not any(tid in nodes for tid in then)


def _join(first: str | None, second: str) -> str:
    return second if first is None else f"{first}; {second}"
