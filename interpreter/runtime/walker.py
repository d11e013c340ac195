"""The walk over a compiled decision tree: an explicit stack and one handler per node kind.

No global mutable state: every evaluation builds its own walker; the compiled guideline is read only.
Three-valued conditions: a branch condition is ``True``, ``False`` or ``UNKNOWN``; unknown is never tested
for truth. In a choice node an unknown condition before the first true one cannot be decided: the walk
records it, names the facts that would settle it and applies the node's ``unknown`` targets (if any).

Two variants, chosen once per evaluation: ``Walker`` makes no tracer call at all; ``TracedWalker`` reports
every node visited to a tracer (``trace.py``). Both call each compiled condition directly
(``CompiledBranch.test``), with no function in between. A new node kind fails type-checking in ``visit``
until both variants have a handler for it.

Each variant's ``run`` is one loop with ``visit``, ``choice`` and ``push`` inlined and
the walk's state in local variables: the handlers' steps in the same order, without a Python call per item.
The handlers remain the reference (``run_handlers``; a subclass, such as ``runtime.conditional``'s, which
counts visits, runs them), and tests/test_walker_fast.py checks that loops and handlers give the same
results and traces. The ``Completer`` is built only when a condition is unknown (unless one is given).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, assert_never, cast

from ..codes import Code
from ..compiler.guideline import CompiledBranch, CompiledGuideline, CompiledNode
from ..errors import EvaluationError
from ..lang.codegen import EVALUATION_EXCEPTIONS, evaluation_error
from ..result import CannotDecide
from ..values.unknown import UNKNOWN
from .completion import Completer
from .locate import locate, node_path
from .trace import StepRecord, Tracer

__all__ = ["MAX_STEPS", "TracedWalker", "Walker"]

#: The most nodes one evaluation may visit (the tree is checked for cycles at load; this is a second guard).
MAX_STEPS = 10_000

#: A marker on the walk's stack: leave the innermost node (pop it from ``via``).
_LEAVE = object()


class Walker:
    """One walk over the tree with an explicit stack, never Python recursion: the only bound on the depth of a
    tree is ``MAX_STEPS``. Everything it records (recommendations applied and their ``via``, cannot-decide
    entries, the facts they need) comes in the depth-first pre-order of a recursive walk."""

    __slots__ = (
        "_completer", "_via_tuple", "applied", "as_of", "cannot", "g", "needs", "stack", "steps", "undecided",
        "values",
        "via",
    )

    def __init__(
        self, g: CompiledGuideline, values: dict[str, Any], as_of: datetime,
        completer: Completer | None = None,
    ) -> None:
        self.g = g
        #: the ``completer`` given, else None until a condition is unknown (see ``completer``)
        self._completer = completer
        self.values = values
        self.as_of = as_of
        #: recommendation id -> the node ids that led to it, in the order applied
        self.applied: dict[str, tuple[str, ...]] = {}
        self.cannot: list[CannotDecide] = []
        #: fact name -> the nodes that could not decide without it
        self.needs: dict[str, list[str]] = {}
        #: each undecided node with the path to it, once per undecided branch (``runtime.conditional`` turns
        #: them into conditional advice)
        self.undecided: list[tuple[CompiledNode, tuple[str, ...]]] = []
        self.steps = 0
        #: the node ids from the start to the node being visited
        self.via: list[str] = []
        #: ``tuple(via)`` while ``via`` is unchanged: recommendations reached from one node share one tuple
        self._via_tuple: tuple[str, ...] | None = None
        #: work still to do, next item last: a target id, ``_LEAVE``, or (collect node, index of an undecided
        #: branch)
        self.stack: list[object] = []

    @property
    def completer(self) -> Completer:
        """Decides an unknown condition when every value of its unknown facts gives the same answer; the one
        given, else built on first use (a walk whose conditions are all known builds none)."""
        completer = self._completer
        if completer is None:
            completer = self._completer = Completer(self.g, self.values, self.as_of)
        return completer

    def run(self, start: str) -> None:
        """Walk from ``start``: ``run_handlers`` with ``visit``, ``choice`` and ``push`` inlined (``collect``
        is called) and the walk's state in local variables, the same steps in the same order
        (tests/test_walker_fast.py compares the two). A subclass (``runtime.conditional``'s, which counts
        visits against its budget) runs the handlers."""
        if type(self) is not Walker:
            self.run_handlers(start)
            return
        nodes_get = self.g.nodes.get
        values, as_of = self.values, self.as_of
        applied, via = self.applied, self.via
        stack = self.stack
        pop, push, extend = stack.pop, stack.append, stack.extend
        leave = _LEAVE
        steps = self.steps
        via_tuple: tuple[str, ...] | None = None
        push(start)
        try:
            while stack:
                item = pop()
                if item is leave:
                    via.pop()
                    via_tuple = None
                    continue
                if item.__class__ is tuple:  # (collect node, index of an undecided branch)
                    self.unknown(*item)
                    continue
                tid: str = item  # type: ignore[assignment]
                node = nodes_get(tid)
                if node is None:  # a recommendation
                    if tid not in applied:
                        if via_tuple is None:
                            via_tuple = tuple(via)
                        applied[tid] = via_tuple
                    continue
                steps += 1
                if steps > MAX_STEPS:
                    raise self.too_many_steps(tid)
                via.append(tid)
                via_tuple = None
                targets: tuple[str, ...] | None = None
                match node.kind:
                    case "choice":
                        for b in node.branches:
                            try:
                                r = b.test(values, as_of)
                            except EVALUATION_EXCEPTIONS as exc:
                                raise self.failed(node, b, exc) from exc
                            if r is False:
                                continue
                            if r is not True:
                                if r is not UNKNOWN:
                                    raise self.not_boolean(node, b, r)
                                r = self.complete(node, b)
                                if r is False:
                                    continue
                                if r is not True:
                                    push(leave)
                                    self.unknown(node, b.index)
                                    break
                            targets = b.then
                            break
                        else:
                            targets = node.otherwise
                    case "collect":
                        push(leave)
                        self.collect(node)
                    case _:
                        assert_never(node.kind)
                if targets is not None:
                    if len(targets) == 1 and nodes_get(targets[0]) is None:
                        # one recommendation: what popping it next would do, without the stack (applied
                        # with the path to this node, then the node is left)
                        if targets[0] not in applied:
                            applied[targets[0]] = tuple(via)
                        via.pop()
                    else:
                        push(leave)
                        extend(reversed(targets))
        finally:
            self.steps = steps

    def run_handlers(self, start: str) -> None:
        """The walk, one handler call per item (``visit``, ``choice``, ``collect``, ``unknown``): the
        reference the loop of ``run`` is checked against, and the walk of a subclass that overrides a
        handler."""
        stack = self.stack
        stack.append(start)
        while stack:
            item = stack.pop()
            if item is _LEAVE:
                self.via.pop()
                self._via_tuple = None
            elif isinstance(item, str):
                self.visit(item)
            else:
                node, index = cast(tuple[CompiledNode, int], item)
                self.unknown(node, index)

    def push(self, tids: tuple[str, ...] | list[str]) -> None:
        """Visit ``tids`` next, in their order (before anything already waiting)."""
        self.stack.extend(reversed(tids))

    def visit(self, tid: str) -> None:
        node = self.g.nodes.get(tid)
        if node is None:  # a recommendation
            if tid not in self.applied:
                via = self._via_tuple
                if via is None:
                    via = self._via_tuple = tuple(self.via)
                self.applied[tid] = via
            return
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise self.too_many_steps(tid)
        self.via.append(tid)
        self._via_tuple = None
        self.stack.append(_LEAVE)
        match node.kind:
            case "choice":
                self.choice(node)
            case "collect":
                self.collect(node)
            case _:
                assert_never(node.kind)

    def choice(self, node: CompiledNode) -> None:
        """The first branch whose condition holds is taken, else ``otherwise``; an unknown condition before
        it cannot be decided."""
        values, as_of = self.values, self.as_of
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                raise self.failed(node, b, exc) from exc
            if r is not True and r is not False:
                if r is not UNKNOWN:
                    raise self.not_boolean(node, b, r)
                r = self.complete(node, b)
            if r is True:
                self.push(b.then)
                return
            if r is not False:
                self.unknown(node, b.index)
                return
        self.push(node.otherwise)

    def complete(self, node: CompiledNode, b: CompiledBranch) -> object:
        """An unknown condition, decided when every value of its unknown facts gives the same answer
        (``completion.py``; only reached when the three-valued evaluation gave unknown)."""
        settled = self.completer.settle(b.when)
        if settled is None:
            return UNKNOWN
        self.completer.settled[(node.id, b.index)] = settled[1]
        return settled[0]

    def collect(self, node: CompiledNode) -> None:
        """Every branch whose condition holds is taken; ``otherwise`` when none holds and none is unknown."""
        taken: list[str] = []
        undecided: list[int] = []
        values, as_of = self.values, self.as_of
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                raise self.failed(node, b, exc) from exc
            if r is not True and r is not False:
                if r is not UNKNOWN:
                    raise self.not_boolean(node, b, r)
                r = self.complete(node, b)
            if r is True:
                taken.extend(b.then)
            elif r is not False:
                undecided.append(b.index)
        if not taken and not undecided and node.otherwise:
            taken.extend(node.otherwise)
        # the taken targets first, then each undecided branch (its cannot-decide entry, then its targets)
        stack = self.stack
        if undecided:
            stack.extend([(node, i) for i in reversed(undecided)])
        stack.extend(reversed(taken))

    def unknown(self, node: CompiledNode, index: int) -> None:
        """Branch ``index`` of ``node`` cannot be decided: record it, apply the node's ``unknown`` targets."""
        b = node.branches[index]
        needs = self.completer.needed(b.when, b.inputs)
        for n in needs:
            self.needs.setdefault(n, []).append(node.id)
        self.cannot.append(CannotDecide(node.id, index, b.when.source, tuple(needs), b.label, node.unknown))
        self.undecided.append((node, tuple(self.via)))
        self.push(node.unknown)

    # --- errors (built only when raised)
    def too_many_steps(self, tid: str) -> EvaluationError:
        path = node_path(self.g, tid)
        return locate(
            self.g,
            EvaluationError(
                Code.EVAL_STEP_LIMIT,
                f"the walk would visit more than {MAX_STEPS} nodes (a node reached along several paths "
                "is visited once per path)",
            ),
            (*path, "id") if path is not None else None,
            tid,
        )

    def failed(self, node: CompiledNode, b: CompiledBranch, exc: Exception) -> EvaluationError:
        err = evaluation_error(exc, b.when.source)
        path = node_path(self.g, node.id)
        return locate(
            self.g,
            EvaluationError(err.code, err.message, node_id=node.id, expression=b.when.source),
            (*path, "branches", b.index, "when") if path is not None else None,
            node.id,
        )

    def not_boolean(self, node: CompiledNode, b: CompiledBranch, r: object) -> EvaluationError:
        path = node_path(self.g, node.id)
        return locate(
            self.g,
            EvaluationError(
                Code.EVAL_NOT_BOOLEAN,
                f"condition gave {r!r}, not true, false or unknown",
                node_id=node.id,
                expression=b.when.source,
            ),
            (*path, "branches", b.index, "when") if path is not None else None,
            node.id,
        )


class TracedWalker(Walker):
    """The walk reporting every node visited to ``tracer``: the same handlers, each also keeping the outcome
    of every branch it tested and reporting one ``StepRecord``."""

    __slots__ = ("record",)

    def __init__(
        self, g: CompiledGuideline, values: dict[str, Any], as_of: datetime, tracer: Tracer,
        completer: Completer | None = None,
    ) -> None:
        super().__init__(g, values, as_of, completer)
        #: the tracer's ``step``, looked up once
        self.record = tracer.step

    def run(self, start: str) -> None:
        """``Walker.run`` reporting each node as ``choice`` and ``collect`` here do (the same records in the
        same order; tests/test_walker_fast.py compares the two); a subclass runs the handlers."""
        if type(self) is not TracedWalker:
            self.run_handlers(start)
            return
        nodes_get = self.g.nodes.get
        values, as_of = self.values, self.as_of
        applied, via = self.applied, self.via
        stack = self.stack
        pop, push, extend = stack.pop, stack.append, stack.extend
        record = self.record
        leave = _LEAVE
        steps = self.steps
        via_tuple: tuple[str, ...] | None = None
        push(start)
        try:
            while stack:
                item = pop()
                if item is leave:
                    via.pop()
                    via_tuple = None
                    continue
                if item.__class__ is tuple:  # (collect node, index of an undecided branch)
                    self.unknown(*item)
                    continue
                tid: str = item  # type: ignore[assignment]
                node = nodes_get(tid)
                if node is None:  # a recommendation
                    if tid not in applied:
                        if via_tuple is None:
                            via_tuple = tuple(via)
                        applied[tid] = via_tuple
                    continue
                steps += 1
                if steps > MAX_STEPS:
                    raise self.too_many_steps(tid)
                via.append(tid)
                via_tuple = None
                targets: tuple[str, ...] | None = None
                match node.kind:
                    case "choice":
                        outcomes: list[Any] = []
                        for b in node.branches:
                            try:
                                r = b.test(values, as_of)
                            except EVALUATION_EXCEPTIONS as exc:
                                raise self.failed(node, b, exc) from exc
                            if r is not True and r is not False:
                                if r is not UNKNOWN:
                                    raise self.not_boolean(node, b, r)
                                r = self.complete(node, b)
                            outcomes.append(r)
                            if r is False:
                                continue
                            if r is not True:
                                record((node, outcomes, False, "cannot-decide", node.unknown))
                                push(leave)
                                self.unknown(node, b.index)
                                break
                            targets = b.then
                            record((node, outcomes, False, "branch", targets))
                            break
                        else:
                            targets = node.otherwise
                            record((node, outcomes, True, "otherwise", targets))
                    case "collect":
                        push(leave)
                        self.collect(node)
                    case _:
                        assert_never(node.kind)
                if targets is not None:
                    if len(targets) == 1 and nodes_get(targets[0]) is None:  # as in ``Walker.run``
                        if targets[0] not in applied:
                            applied[targets[0]] = tuple(via)
                        via.pop()
                    else:
                        push(leave)
                        extend(reversed(targets))
        finally:
            self.steps = steps

    def choice(self, node: CompiledNode) -> None:
        outcomes: list[Any] = []
        values, as_of = self.values, self.as_of
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                raise self.failed(node, b, exc) from exc
            if r is not True and r is not False:
                if r is not UNKNOWN:
                    raise self.not_boolean(node, b, r)
                r = self.complete(node, b)
            outcomes.append(r)
            if r is True:
                self.record((node, outcomes, False, "branch", b.then))
                self.push(b.then)
                return
            if r is not False:
                self.record((node, outcomes, False, "cannot-decide", node.unknown))
                self.unknown(node, b.index)
                return
        self.record((node, outcomes, True, "otherwise", node.otherwise))
        self.push(node.otherwise)

    def collect(self, node: CompiledNode) -> None:
        outcomes: list[Any] = []
        taken: list[str] = []
        undecided: list[int] = []
        values, as_of = self.values, self.as_of
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                raise self.failed(node, b, exc) from exc
            if r is not True and r is not False:
                if r is not UNKNOWN:
                    raise self.not_boolean(node, b, r)
                r = self.complete(node, b)
            outcomes.append(r)
            if r is True:
                taken.extend(b.then)
            elif r is not False:
                undecided.append(b.index)
        record: StepRecord
        if taken:
            record = (node, outcomes, False, "branch", tuple(taken))
        elif undecided:
            record = (node, outcomes, False, "cannot-decide", ())
        elif node.otherwise:
            taken.extend(node.otherwise)
            record = (node, outcomes, True, "otherwise", tuple(taken))
        else:
            record = (node, outcomes, False, "none", ())
        self.record(record)
        # the taken targets first, then each undecided branch (its cannot-decide entry, then its targets)
        stack = self.stack
        if undecided:
            stack.extend([(node, i) for i in reversed(undecided)])
        stack.extend(reversed(taken))
