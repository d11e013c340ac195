"""Tracers: what the walk reports about each node it visits (as zen-engine's tracer and OPA's cover do).

The protocol has three calls: ``begin`` when an evaluation starts, ``step`` once per node visited and ``end``
when the evaluation succeeded, with the recommendations it gave. A tracer never changes the walk.

- ``NullTracer``: nothing is recorded. ``evaluate`` then runs the plain walker, which makes no tracer call
  at all (the walk pays nothing per node for a disabled tracer).
- ``RecordingTracer``: the lazy trace of one evaluation (``Result.trace``); the ``TraceStep`` objects are
  built on first read, so an evaluation whose trace is unread pays little.
- ``CoverageTracer``: the nodes, branches and recommendations that a set of evaluations reached (the coverage
  of ``guideline test``); an evaluation that fails counts for nothing.
- ``TeeTracer``: two tracers at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Protocol

from ..compiler.guideline import CompiledGuideline, CompiledNode
from ..result import BranchTrace, TraceStep, branch_json, display_decimal, format_decimal, step_json
from ..values.unknown import UNKNOWN

__all__ = [
    "NULL_TRACER",
    "CoverageTracer",
    "NullTracer",
    "RecordingTracer",
    "StepRecord",
    "TeeTracer",
    "Tracer",
    "display_value",
]

#: One node visited, as the walk reports it: (node, the outcome of each branch tested, in order; whether the
#: node fell through to ``otherwise``; the node's outcome: "branch", "none", "otherwise" or "cannot-decide";
#: the targets taken). A branch outcome is ``True``, ``False`` or ``UNKNOWN``.
StepRecord = tuple[CompiledNode, list[Any], bool, str, tuple[str, ...]]


class Tracer(Protocol):
    def begin(self) -> None:
        """An evaluation starts (its facts are checked; the walk comes next)."""

    def step(self, record: StepRecord, /) -> None:
        """The walk visited a node (in the depth-first pre-order of a recursive walk)."""

    def end(self, recommendations: Iterable[str], /) -> None:
        """The evaluation succeeded and gave ``recommendations`` (ids, in order); never called when it
        failed."""


class NullTracer:
    """Records nothing; with it ``evaluate`` runs the walker that makes no tracer call."""

    __slots__ = ()

    def begin(self) -> None:
        pass

    def step(self, record: StepRecord, /) -> None:
        pass

    def end(self, recommendations: Iterable[str], /) -> None:
        pass


NULL_TRACER = NullTracer()


def _show(value: Any) -> Any:
    """A value as the trace shows it (JSON-ready)."""
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        # a series' (time, number) results directly; anything else item by item
        return [
            [v[0].isoformat(), format_decimal(v[1])]
            if v.__class__ is tuple and len(v) == 2 and v[0].__class__ is datetime
            and v[1].__class__ is Decimal else _show(v)
            for v in value
        ]
    return str(value)


#: The most results of a series an explanation shows (the newest ones).
SHOWN_SERIES_RESULTS = 10


def display_value(value: Any, unit: str | None, derived: bool) -> str:
    """A value as an explanation shows it to a clinician: ``true``/``false``, ``unknown``, a number with its
    unit (a derived one rounded by ``display_decimal``: ``~1.82 m2``), a series as its newest results by
    calendar date."""
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    suffix = f" {unit}" if unit else ""
    if isinstance(value, Decimal):
        return (display_decimal(value) if derived else format_decimal(value)) + suffix
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):  # a series: (time, value) pairs, oldest first
        items = [f"{t.date().isoformat()}: {format_decimal(v)}" for t, v in value[-SHOWN_SERIES_RESULTS:]]
        more = len(value) - len(items)
        head = f"{more} earlier, " if more > 0 else ""
        return f"[{head}{', '.join(items)}]{suffix}" if items else "[no results]"
    return str(value)


class RecordingTracer:
    """The trace of one evaluation over ``values``, and the ``trace_source`` of its ``Result``: called, it
    builds the ``TraceStep`` objects (once). With ``g``, each value also gets its display text (units of
    inputs and derived values, derived numbers rounded)."""

    __slots__ = ("_built", "_g", "_raw", "_settled", "_values", "step")

    def __init__(
        self, values: Mapping[str, Any], settled: Mapping[tuple[str, int], tuple[str, ...]] | None = None,
        g: CompiledGuideline | None = None,
    ) -> None:
        self._raw: list[StepRecord] = []
        self._values = values
        #: (node id, branch index) -> the unknown facts a condition was decided over (``completion.py``)
        self._settled = settled if settled is not None else {}
        self._g = g
        self._built: tuple[TraceStep, ...] | None = None
        #: the walk's records are kept as they come: one list append per node, no Python call
        self.step: Callable[[StepRecord], None] = self._raw.append

    def begin(self) -> None:
        pass

    def end(self, recommendations: Iterable[str], /) -> None:
        pass

    def __call__(self) -> tuple[TraceStep, ...]:
        built = self._built
        if built is None:
            shown = _ShownValues(self._values)
            built = tuple(self._trace_step(shown, *r) for r in self._raw)
            self._built = built
        return built

    def _trace_step(
        self, shown: _ShownValues, node: CompiledNode, outcomes: list[Any], otherwise: bool, outcome: str,
        taken: tuple[str, ...],
    ) -> TraceStep:
        branches = [
            BranchTrace(
                b.index,
                b.when.source,
                "true" if r is True else "false" if r is False else "unknown",
                shown.of(b.when.names),
                b.label,
                self._settled.get((node.id, b.index), ()) if r is True or r is False else (),
                _Display(self, b.when.names),
            )
            for b, r in zip(node.branches, outcomes, strict=False)
        ]
        if otherwise:
            branches.append(BranchTrace(-1, "otherwise", "otherwise", {}, None))
        return TraceStep(node.id, node.kind, tuple(branches), outcome, tuple(taken), node.title)

    def trace_json(self) -> list[dict[str, Any]]:
        """The trace as ``Result.to_json`` gives it (``[step.to_json() for step in trace]``), made straight
        from the walk's records when the ``TraceStep`` objects are not built (the host path's case): one
        dict per node and per branch, nothing else. tests/test_walker_fast.py checks the two are equal."""
        built = self._built
        if built is not None:
            return [step.to_json() for step in built]
        shown = _ShownValues(self._values)
        settled = self._settled
        out: list[dict[str, Any]] = []
        for node, outcomes, otherwise, outcome, taken in self._raw:
            branches = [
                branch_json(
                    b.index, b.label, b.when.source,
                    "true" if r is True else "false" if r is False else "unknown",
                    shown.of(b.when.names),
                    # decided by completion (rare)
                    settled.get((node.id, b.index), ()) if settled and (r is True or r is False) else (),
                )
                for b, r in zip(node.branches, outcomes, strict=False)
            ]
            if otherwise:
                branches.append(branch_json(-1, None, "otherwise", "otherwise", {}))
            out.append(step_json(node.id, node.kind, node.title, outcome, taken, branches))
        return out


    def _display(self, name: str) -> str:
        value = self._values.get(name, UNKNOWN)
        g = self._g
        if g is None:
            return display_value(value, None, False)
        inp = g.model.inputs.get(name)
        if inp is not None:
            return display_value(value, inp.unit, False)
        d = g.model.derived.get(name)
        return display_value(value, d.unit if d is not None else None, True)


class _ShownValues:
    """The values of one evaluation as a trace shows them (``_show``), each name's made once per trace
    (a name read by many conditions is formatted once); a list (a series) is made afresh for each branch, so
    no two branches share a mutable value."""

    __slots__ = ("_done", "_values")

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values
        self._done: dict[str, Any] = {}

    def of(self, names: frozenset[str]) -> dict[str, Any]:
        done = self._done
        out: dict[str, Any] = {}
        for n in sorted(names):
            v = done.get(n, done)
            if v is done:
                v = _show(self._values.get(n, UNKNOWN))
                if not isinstance(v, list):
                    done[n] = v
            out[n] = v
        return out


class _Display(Mapping[str, str]):
    """``BranchTrace.shown``: each value a branch read as a clinician reads it (``display_value``), made on
    first read (only the text output reads it; the JSON never does). Made whole at once, so two threads
    reading it at once make equal dicts and either is kept."""

    __slots__ = ("_made", "_names", "_tracer")

    def __init__(self, tracer: RecordingTracer, names: frozenset[str]) -> None:
        self._tracer = tracer
        self._names = names
        self._made: dict[str, str] | None = None

    def _dict(self) -> dict[str, str]:
        made = self._made
        if made is None:
            display = self._tracer._display
            made = {n: display(n) for n in sorted(self._names)}
            self._made = made
        return made

    def __getitem__(self, name: str) -> str:
        return self._dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(MappingProxyType(self._dict()))


class CoverageTracer:
    """What the successful evaluations of one guideline reached: its nodes, branches ("node#index" or
    "node#otherwise") and recommendations, and the nodes whose "cannot decide" path some evaluation took."""

    __slots__ = ("_pending", "branches", "guideline", "nodes", "recommendations", "step", "unknown_paths")

    def __init__(self, g: CompiledGuideline) -> None:
        self.guideline = g.model.file
        self.nodes: dict[str, bool] = {}
        self.branches: dict[str, bool] = {}
        self.recommendations: dict[str, bool] = {}
        self.unknown_paths: set[str] = set()
        for n in g.model.nodes:
            self.nodes[n.id] = False
            for b in n.branches:
                self.branches[f"{n.id}#{b.index}"] = False
            if n.otherwise:
                self.branches[f"{n.id}#otherwise"] = False
        for r in g.model.recommendations:
            self.recommendations[r.id] = False
        #: the steps of the evaluation under way, counted only when it succeeds
        self._pending: list[StepRecord] = []
        self.step: Callable[[StepRecord], None] = self._pending.append

    def begin(self) -> None:
        self._pending.clear()

    def end(self, recommendations: Iterable[str], /) -> None:
        for node, outcomes, otherwise, _, _ in self._pending:
            self.nodes[node.id] = True
            for b, r in zip(node.branches, outcomes, strict=False):
                if r is True:
                    self.branches[f"{node.id}#{b.index}"] = True
                elif r is not False:
                    self.unknown_paths.add(node.id)
            if otherwise:
                self.branches[f"{node.id}#otherwise"] = True
        self._pending.clear()
        for rid in recommendations:
            self.recommendations[rid] = True

    @property
    def total(self) -> int:
        return len(self.nodes) + len(self.branches) + len(self.recommendations)

    @property
    def reached(self) -> int:
        return sum(self.nodes.values()) + sum(self.branches.values()) + sum(self.recommendations.values())

    @property
    def percent(self) -> float:
        """Nodes, branches and recommendations reached, over all of them."""
        return 100.0 * self.reached / self.total if self.total else 100.0

    def missed(self) -> dict[str, list[str]]:
        return {
            "nodes": [k for k, v in self.nodes.items() if not v],
            "branches": [k for k, v in self.branches.items() if not v],
            "recommendations": [k for k, v in self.recommendations.items() if not v],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "percent": round(self.percent, 2),
            "nodes": {"reached": sum(self.nodes.values()), "total": len(self.nodes)},
            "branches": {"reached": sum(self.branches.values()), "total": len(self.branches)},
            "recommendations": {
                "reached": sum(self.recommendations.values()),
                "total": len(self.recommendations),
            },
            "missed": self.missed(),
            "unknown_paths": sorted(self.unknown_paths),
        }


class TeeTracer:
    """Reports to two tracers, ``first`` then ``second``."""

    __slots__ = ("first", "second")

    def __init__(self, first: Tracer, second: Tracer) -> None:
        self.first = first
        self.second = second

    def begin(self) -> None:
        self.first.begin()
        self.second.begin()

    def step(self, record: StepRecord, /) -> None:
        self.first.step(record)
        self.second.step(record)

    def end(self, recommendations: Iterable[str], /) -> None:
        recommendations = tuple(recommendations)
        self.first.end(recommendations)
        self.second.end(recommendations)
