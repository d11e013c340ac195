"""The result of an evaluation: plain frozen data, convertible to JSON (``schema/result.schema.json``).

Every class pickles and unpickles to an equal object (read-only mappings travel as plain dicts and are made
read-only again; a ``Result``'s trace travels built), so a multiprocessing or distributed host can ship them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "ACTION_TEXT_FIELDS",
    "ActionResult",
    "AssumedValue",
    "BranchTrace",
    "CannotDecide",
    "CautionResult",
    "Citation",
    "ConditionalAdvice",
    "ConditionalAlternative",
    "DoseResult",
    "GuidelineInfo",
    "NeededFact",
    "RecommendationResult",
    "Result",
    "ScoreItemResult",
    "ScoreResult",
    "SupersededResult",
    "TraceStep",
    "UnrecognizedFact",
    "display_decimal",
    "format_decimal",
]

RESULT_FORMAT = "guideline-result/1"


#: Formatting never depends on the caller's thread decimal context (a host may have lowered its precision).
_FORMAT_CONTEXT = Context(prec=100)


def format_decimal(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: 350, 0.82, 349.27."""
    return format(value.normalize(_FORMAT_CONTEXT), "f")


def brief_decimal(value: Decimal) -> str:
    """``format_decimal`` for a number of at most 20 characters, else about 6 significant digits
    (``about 3.52e+102``, ``about 23.4667``): an error message never prints a number of 100 digits."""
    text = format_decimal(value)
    return text if len(text) <= 20 else f"about {value:.6g}"


def display_decimal(value: Decimal, digits: int = 3, finest: int | None = None) -> str:
    """A computed number as a person reads it (docs/api.md, "Display of computed numbers"): rounded half
    even to ``digits`` significant digits, never dropping a whole digit (``503.455...`` -> ``503``), and no
    place finer than ``10**finest`` when ``finest`` is given; prefixed ``~`` when that changed the number
    (``~2.01``). The exact value stays in the JSON."""
    if not value.is_finite() or value.is_zero():
        return str(value) if not value.is_finite() else "0"
    if value.adjusted() >= 28:  # beyond any measurement: never 1,000 digits
        return f"~{value:.{digits}g}"
    # whole digits are kept: 503.455 -> 503, 2.0138 -> 2.01, 0.045671 -> 0.0457
    place = 0 if value.adjusted() >= digits - 1 else value.adjusted() - digits + 1
    if finest is not None:
        place = max(place, finest)
    shown = value.quantize(Decimal(1).scaleb(place), context=_FORMAT_CONTEXT)
    text = format_decimal(shown)
    return text if shown == value else f"~{text}"


def _num(value: Decimal) -> float | int:
    if value == value.to_integral_value():
        return int(value)
    return float(format_decimal(value))


@dataclass(frozen=True, slots=True)
class GuidelineInfo:
    id: str
    version: str
    title: str
    status: str
    content_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "status": self.status,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True, slots=True)
class Citation:
    key: str
    citation: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"key": self.key, "citation": self.citation}
        if self.url:
            d["url"] = self.url
        return d


@dataclass(frozen=True, slots=True)
class DoseResult:
    """A computed dose, or why it could not be computed. ``value`` is None when it could not be."""

    status: Literal["computed", "cannot-compute"]
    unit: str
    value: Decimal | None
    #: the dose as prescribed per basis, e.g. "5 ug/kg"
    prescribed: str
    #: each step of the calculation, in words
    calculation: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        if self.value is None:
            return f"cannot compute (needs {', '.join(self.needs)})"
        return f"{format_decimal(self.value)} {self.unit}"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "value": None if self.value is None else _num(self.value),
            "value_text": None if self.value is None else format_decimal(self.value),
            "unit": self.unit,
            "prescribed": self.prescribed,
            "display": self.display,
            "calculation": list(self.calculation),
            "needs": list(self.needs),
            "warnings": list(self.warnings),
        }


ACTION_TEXT_FIELDS = (
    "drug",
    "route",
    "frequency",
    "timing",
    "infusion",
    "until",
    "target",
    "test",
    "interval",
    "mode",
    "resume_when",
    "name",
    "text",
    "note",
    "rxnorm",
)


@dataclass(frozen=True, slots=True)
class ActionResult:
    type: str
    fields: Mapping[str, str]
    dose: DoseResult | None = None
    #: the earliest start (``not_before:``), in the evaluation's calendar; None when the action has none or
    #: it could not be computed (then ``not_before_needs`` names the facts)
    not_before: datetime | None = None
    #: the facts the earliest start needs, when they are unknown (the result is then incomplete)
    not_before_needs: tuple[str, ...] = ()
    #: whether the action declares an earliest start
    has_not_before: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (_action_result, (self.type, dict(self.fields), self.dose, self.not_before,
                                 self.not_before_needs, self.has_not_before))

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        for k in ACTION_TEXT_FIELDS:
            if k in self.fields:
                d[k] = self.fields[k]
        if self.dose is not None:
            d["dose"] = self.dose.to_json()
        if self.has_not_before:  # ISO 8601 with the offset of the evaluation's calendar; null: not computed
            d["not_before"] = None if self.not_before is None else self.not_before.isoformat()
            if self.not_before is None:
                d["not_before_needs"] = list(self.not_before_needs)
        return d


@dataclass(frozen=True, slots=True)
class RecommendationResult:
    id: str
    text: str
    citations: tuple[Citation, ...]
    actions: tuple[ActionResult, ...]
    #: the node ids on the path that led here
    via: tuple[str, ...]
    title: str | None = None
    strength: str | None = None
    category: str | None = None
    #: the urgency the guideline declares (None: not declared, routine)
    urgency: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "strength": self.strength,
            "category": self.category,
            "citations": [c.to_json() for c in self.citations],
            "actions": [a.to_json() for a in self.actions if a.type != "caution"],
            "via": list(self.via),
        }
        if self.urgency is not None:
            d["urgency"] = self.urgency
        return d


@dataclass(frozen=True, slots=True)
class SupersededResult:
    """A recommendation that applied but is not shown, because another one that applied supersedes it."""

    id: str
    title: str | None
    #: (superseding recommendation id, the author's reason or None), in the order of the result
    by: tuple[tuple[str, str | None], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "superseded_by": [{"id": i, "reason": r} for i, r in self.by],
        }


@dataclass(frozen=True, slots=True)
class CautionResult:
    recommendation: str
    text: str
    citations: tuple[Citation, ...]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "recommendation": self.recommendation,
            "text": self.text,
            "citations": [c.to_json() for c in self.citations],
        }
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True, slots=True)
class CannotDecide:
    """A decision that could not be made because a condition was unknown."""

    node: str
    branch: int
    condition: str
    needs: tuple[str, ...]
    label: str | None = None
    #: targets applied anyway, as the node's ``unknown`` says
    applied: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "branch": self.branch,
            "label": self.label,
            "condition": self.condition,
            "needs": list(self.needs),
            "applied": list(self.applied),
        }


@dataclass(frozen=True, slots=True)
class ConditionalAlternative:
    """One way an undecided node can go once its facts are known: the condition that selects it (as written;
    ``otherwise`` when no condition holds), and what would then apply, computed from the known facts."""

    #: the branch index, -1 for ``otherwise``
    branch: int
    #: the condition as written in the guideline, or "otherwise"
    when: str
    label: str | None
    recommendations: tuple[RecommendationResult, ...] = ()
    cautions: tuple[CautionResult, ...] = ()
    #: the nodes under this alternative that the known facts cannot decide either
    conditional: tuple[ConditionalAdvice, ...] = ()
    #: why something under this alternative is not shown (a limit reached, a condition or dose that fails
    #: for these facts); None when everything is shown
    note: str | None = None
    #: the recommendations it would apply that are superseded (by one of its own, a firm one or one of an
    #: enclosing alternative), as in the firm result
    superseded: tuple[SupersededResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "branch": self.branch,
            "when": self.when,
            "label": self.label,
            "recommendations": [r.to_json() for r in self.recommendations],
            "cautions": [c.to_json() for c in self.cautions],
            "conditional": [c.to_json() for c in self.conditional],
            "note": self.note,
        }
        if self.superseded:  # only when something is superseded (the shape is otherwise unchanged)
            d["superseded"] = [s.to_json() for s in self.superseded]
        return d


@dataclass(frozen=True, slots=True)
class ConditionalAdvice:
    """An undecided node made useful: its possible alternatives (those the known facts leave open), each with
    what it would recommend. Never part of the firm recommendations."""

    node: str
    #: the node's title: the question it answers
    question: str | None
    #: "first": the first alternative whose condition holds applies (a choice node); "each": every one whose
    #: condition holds applies (a collect node)
    selects: Literal["first", "each"]
    #: the facts that would decide it
    needs: tuple[str, ...]
    via: tuple[str, ...]
    alternatives: tuple[ConditionalAlternative, ...]
    #: alternatives not shown (a limit was reached; see ``note``)
    omitted: int = 0
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "question": self.question,
            "selects": self.selects,
            "needs": list(self.needs),
            "via": list(self.via),
            "alternatives": [a.to_json() for a in self.alternatives],
            "omitted": self.omitted,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class NeededFact:
    name: str
    reason: Literal["missing", "stale", "undated", "insufficient"]
    description: str
    detail: str
    needed_by: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reason": self.reason,
            "description": self.description,
            "detail": self.detail,
            "needed_by": list(self.needed_by),
        }


@dataclass(frozen=True, slots=True)
class AssumedValue:
    """A value assumed for an absent fact: the input's ``default:`` (docs/language.md, "Defaults")."""

    fact: str
    #: as in ``facts``: a decimal string, true/false, a word, or a list of words
    value: Any
    unit: str | None
    #: why it was assumed: "not given" or "given as null"
    reason: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact, "value": self.value}
        if self.unit is not None:
            out["unit"] = self.unit
        out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class UnrecognizedFact:
    name: str
    suggestion: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "suggestion": self.suggestion}


@dataclass(frozen=True, slots=True)
class ScoreItemResult:
    """One item of a score: its points, or (unknown) the least and most it can give and the facts it needs."""

    label: str
    points: Decimal | None
    min: Decimal
    max: Decimal
    needs: tuple[str, ...] = ()
    #: when unknown: every number of points it can still give, ascending
    possible: tuple[Decimal, ...] = ()
    #: the inputs the item reads (directly or through derived values), for display with their values
    facts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"label": self.label}
        if self.points is not None:
            d["points"] = _num(self.points)
        else:
            d["points"] = None
            d["min"] = _num(self.min)
            d["max"] = _num(self.max)
            d["possible"] = [_num(p) for p in self.possible]
            d["needs"] = list(self.needs)
        return d

    def display(self) -> str:
        if self.points is not None:
            return format_decimal(self.points)
        needs = ", ".join(self.needs)
        return f"unknown: {format_decimal(self.min)} to {format_decimal(self.max)} (needs {needs})"


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A score: its value when every item is known, else its minimum and maximum; each item's part."""

    name: str
    value: Decimal | None
    min: Decimal
    max: Decimal
    items: tuple[ScoreItemResult, ...]
    needs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": None if self.value is None else _num(self.value),
            "min": _num(self.min),
            "max": _num(self.max),
            "needs": list(self.needs),
            "items": [i.to_json() for i in self.items],
        }

    def display(self, settled: bool = False) -> str:
        """The value, or the bounds and the facts they need. ``settled``: the unknown items could not change
        the result, so they are not presented as needed."""
        if self.value is not None:
            return format_decimal(self.value)
        low, high = format_decimal(self.min), format_decimal(self.max)
        if settled:
            return (f"{low} to {high}; not every item is known, and the result is the same whatever "
                    f"{', '.join(self.needs)} are")
        return f"unknown, between {low} and {high}; needs {', '.join(self.needs)}"


@dataclass(frozen=True, slots=True)
class BranchTrace:
    index: int  # -1 for "otherwise"
    condition: str
    outcome: Literal["true", "false", "unknown", "otherwise"]
    values: Mapping[str, Any]
    label: str | None = None
    #: decided although these facts are unknown: the same outcome for every value of them
    decided_over: tuple[str, ...] = ()
    #: each value as a clinician reads it (text output only; the exact ``values`` go to JSON):
    #: ``true``/``false``, quantities with their unit, derived numbers rounded (docs/api.md, "Display of
    #: computed numbers")
    shown: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _branch_trace,
            (self.index, self.condition, self.outcome, dict(self.values), self.label, self.decided_over,
             dict(self.shown)),
        )

    def to_json(self) -> dict[str, Any]:
        return branch_json(self.index, self.label, self.condition, self.outcome, dict(self.values),
                           self.decided_over)


def branch_json(
    index: int, label: str | None, condition: str, outcome: str, values: dict[str, Any],
    decided_over: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One branch of a trace step as JSON (``BranchTrace.to_json``; the runtime's recording tracer makes the
    same from its records without a ``BranchTrace``)."""
    d: dict[str, Any] = {
        "index": index,
        "label": label,
        "condition": condition,
        "outcome": outcome,
        "values": values,
    }
    if decided_over:
        d["decided_for_every_value_of"] = list(decided_over)
    return d


@dataclass(frozen=True, slots=True)
class TraceStep:
    node: str
    kind: str
    branches: tuple[BranchTrace, ...]
    #: "branch", "otherwise", "cannot-decide", "none" (collect node where nothing applied)
    outcome: str
    taken: tuple[str, ...]
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        return step_json(self.node, self.kind, self.title, self.outcome, self.taken,
                         [b.to_json() for b in self.branches])


def step_json(
    node: str, kind: str, title: str | None, outcome: str, taken: tuple[str, ...],
    branches: list[dict[str, Any]],
) -> dict[str, Any]:
    """One step of a trace as JSON (``TraceStep.to_json``, ``branches`` already JSON)."""
    return {
        "node": node,
        "kind": kind,
        "title": title,
        "outcome": outcome,
        "taken": list(taken),
        "branches": branches,
    }


@dataclass(frozen=True, slots=True)
class Result:
    guideline: GuidelineInfo
    as_of: datetime
    status: Literal["complete", "incomplete"]
    recommendations: tuple[RecommendationResult, ...]
    cautions: tuple[CautionResult, ...]
    cannot_decide: tuple[CannotDecide, ...]
    needed_facts: tuple[NeededFact, ...]
    unrecognized_facts: tuple[UnrecognizedFact, ...]
    facts: Mapping[str, Any]
    #: builds the trace on first read (see ``trace``); None when the evaluation ran without a trace
    trace_source: Callable[[], tuple[TraceStep, ...]] | None = field(default=None, repr=False, compare=False)
    disclaimer: str | None = None
    #: the guideline's scores (empty when it has none)
    scores: tuple[ScoreResult, ...] = ()
    #: recommendations that applied but are superseded by another that applied (not in ``recommendations``)
    superseded: tuple[SupersededResult, ...] = ()
    #: the values assumed for absent facts (inputs' defaults), by fact name
    assumed: tuple[AssumedValue, ...] = ()
    #: advice that depends on facts not known: one entry per undecided node (never firm recommendations)
    conditional: tuple[ConditionalAdvice, ...] = ()

    def __eq__(self, other: object) -> bool:
        """Equal when every field and the trace are equal (two results with different traces differ)."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Result)
        same = all(getattr(self, f) == getattr(other, f) for f in _RESULT_FIELDS)
        return same and self.trace == other.trace

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its trace built (the lazy builder refers to compiled code, which does not pickle)."""
        state = {f: getattr(self, f) for f in _RESULT_FIELDS}
        state["facts"] = dict(self.facts)
        return (_result, (state, self.trace))

    @property
    def trace(self) -> tuple[TraceStep, ...]:
        """Every node visited: each condition, the values it read, its outcome (empty without trace)."""
        return self.trace_source() if self.trace_source is not None else ()

    def trace_json(self) -> list[dict[str, Any]]:
        """``[step.to_json() for step in self.trace]``; a ``trace_source`` with a ``trace_json`` method (the
        runtime's recording tracer) makes it without building the ``TraceStep`` objects."""
        source = self.trace_source
        if source is None:
            return []
        direct = getattr(source, "trace_json", None)
        if direct is not None:
            made: list[dict[str, Any]] = direct()
            return made
        return [t.to_json() for t in source()]

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def recommendation_ids(self) -> list[str]:
        return [r.id for r in self.recommendations]

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": RESULT_FORMAT,
            "guideline": self.guideline.to_json(),
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "recommendations": [r.to_json() for r in self.recommendations],
            "cautions": [c.to_json() for c in self.cautions],
            "conditional": [c.to_json() for c in self.conditional],
            "cannot_decide": [c.to_json() for c in self.cannot_decide],
            "needed_facts": [n.to_json() for n in self.needed_facts],
            "unrecognized_facts": [u.to_json() for u in self.unrecognized_facts],
            "facts": dict(self.facts),
            "trace": self.trace_json(),
            "disclaimer": self.disclaimer,
        } | ({"scores": [sc.to_json() for sc in self.scores]} if self.scores else {})
        if self.superseded:  # absent when nothing was superseded (results of guidelines without precedence)
            d["superseded"] = [s.to_json() for s in self.superseded]
        if self.assumed:  # absent when no default was used
            d["assumed"] = [a.to_json() for a in self.assumed]
        return d


#: The fields of ``Result`` compared and pickled (``trace_source`` is replaced by the built trace).
_RESULT_FIELDS = (
    "guideline",
    "as_of",
    "status",
    "recommendations",
    "cautions",
    "cannot_decide",
    "needed_facts",
    "unrecognized_facts",
    "facts",
    "disclaimer",
    "scores",
    "superseded",
    "assumed",
    "conditional",
)


class _BuiltTrace:
    """A ``trace_source`` that returns a trace already built (an unpickled result's)."""

    __slots__ = ("steps",)

    def __init__(self, steps: tuple[TraceStep, ...]) -> None:
        self.steps = steps

    def __call__(self) -> tuple[TraceStep, ...]:
        return self.steps


def _action_result(
    type_: str, fields: dict[str, str], dose: DoseResult | None, not_before: datetime | None = None,
    not_before_needs: tuple[str, ...] = (), has_not_before: bool = False,
) -> ActionResult:
    return ActionResult(type_, MappingProxyType(fields), dose, not_before, not_before_needs, has_not_before)


def _branch_trace(
    index: int, condition: str, outcome: Any, values: dict[str, Any], label: str | None,
    decided_over: tuple[str, ...] = (),
    shown: dict[str, str] | None = None,
) -> BranchTrace:
    return BranchTrace(index, condition, outcome, MappingProxyType(values), label, decided_over,
                       MappingProxyType(shown or {}))


def _result(state: dict[str, Any], trace: tuple[TraceStep, ...]) -> Result:
    """Unpickle a ``Result``: its fields by name (``facts`` as a plain dict) and its built trace."""
    fields = dict(state)
    fields["facts"] = MappingProxyType(fields["facts"])
    return Result(**fields, trace_source=_BuiltTrace(trace))
