"""The guideline model: frozen dataclasses built from a schema-valid document.

``build_model`` turns the plain data produced by the strict loader (``loading/source.py``) into these objects.
It assumes the document already passed the JSON Schema; it still reports what the schema cannot see
(impossible calendar dates) as diagnostics. Every object keeps its ``location``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from ..codes import Code
from ..errors import Diagnostic, Location, Path
from ..values.durations import parse_duration
from ..values.types import ValueType
from .source import SourceMap

__all__ = [
    "MAX_SCORES",
    "MAX_SCORE_BANDS",
    "MAX_SCORE_CODE_WORDS",
    "MAX_SCORE_ITEMS",
    "URGENCY_LEVELS",
    "Action",
    "Branch",
    "Coding",
    "Derived",
    "Dose",
    "GuidelineModel",
    "Input",
    "Node",
    "Person",
    "Recommendation",
    "Reference",
    "Score",
    "ScoreBand",
    "ScoreItem",
    "Supersedes",
    "Urgency",
    "build_model",
    "content_hash",
    "deep_freeze",
]

Status = Literal["draft", "in-review", "approved", "retired"]
#: The kinds of decision node; every site that handles a kind matches on it with ``assert_never``.
NodeKind = Literal["choice", "collect"]


def _frozen(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


def deep_freeze(value: Any) -> Any:
    """Plain data made read-only: mappings become read-only mappings, lists tuples (for the `fhir:` key)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: deep_freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(deep_freeze(v) for v in value)
    return value


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    role: str | None = None
    organization: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    key: str
    citation: str
    url: str | None
    note: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Input:
    name: str
    type: Literal["number", "quantity", "boolean", "code", "datetime", "series", "code-set", "date"]
    description: str
    location: Location
    path: Path
    unit: str | None = None
    accepted_units: tuple[str, ...] = ()
    bare_number: bool = False
    plausible_min: Decimal | None = None
    plausible_max: Decimal | None = None
    values: tuple[str, ...] = ()
    required: bool = False
    max_age: timedelta | None = None
    max_age_text: str | None = None
    codes: tuple[Coding, ...] = ()
    #: for datetime inputs: "past" (not after the as-of time), "future" (not before it), or None; for date
    #: inputs the same by calendar day (the as-of date itself is both)
    time: Literal["past", "future"] | None = None
    #: the FHIR R4 binding (the input's `fhir:` mapping, deep-frozen: mappings read-only, lists as tuples), or
    #: None; checked by analysis/fhir_bindings.py and read by interpreter/ext/fhir
    fhir: Mapping[str, Any] | None = None
    #: ``default:`` as written (the host's form); None when not given (see ``has_default``)
    default: Any = None
    #: whether ``default:`` was written at all
    has_default: bool = False

    @property
    def value_type(self) -> ValueType:
        return ValueType(self.type, self.unit, frozenset(self.values) if self.values else None)


@dataclass(frozen=True, slots=True)
class Derived:
    name: str
    description: str
    type: Literal["number", "quantity", "boolean"]
    expr: str
    location: Location
    path: Path
    unit: str | None = None

    @property
    def value_type(self) -> ValueType:
        return ValueType(self.type, self.unit)


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """One band of a score item: ``points`` when ``when`` holds (the first band that holds counts)."""

    index: int
    when: str
    points: Decimal
    location: Location
    path: Path


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """One item of a score: exactly one of ``input`` (a boolean fact with ``points``, or a code fact with
    ``code_points``), ``when`` (a condition with ``points``) or ``bands`` (with ``otherwise``)."""

    index: int
    label: str
    location: Location
    path: Path
    input: str | None = None
    when: str | None = None
    points: Decimal | None = None
    #: for a code input: word -> points (words not listed give 0)
    code_points: tuple[tuple[str, Decimal], ...] = ()
    bands: tuple[ScoreBand, ...] = ()
    otherwise: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Score:
    """A points-based score: the sum of its items' points, usable in expressions as a number."""

    name: str
    description: str
    items: tuple[ScoreItem, ...]
    location: Location
    path: Path

    @property
    def within_bounds(self) -> bool:
        """Whether its item, band and word counts are within the bounds (``MAX_SCORE_*``); the compiler
        reports the excess (``score-too-large``) and the static checks skip such a score."""
        return len(self.items) <= MAX_SCORE_ITEMS and all(
            len(i.bands) <= MAX_SCORE_BANDS and len(i.code_points) <= MAX_SCORE_CODE_WORDS for i in self.items
        )


#: Bounds of scores, checked before any work on them (docs/api.md "Limits"; ``score-too-large``). The
#: schema cannot say them (its fast path has no ``maxItems``).
MAX_SCORES = 32
MAX_SCORE_ITEMS = 64
MAX_SCORE_BANDS = 32
MAX_SCORE_CODE_WORDS = 200


@dataclass(frozen=True, slots=True)
class Branch:
    index: int
    when: str
    then: tuple[str, ...]
    location: Location
    path: Path
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: NodeKind
    branches: tuple[Branch, ...]
    location: Location
    path: Path
    title: str | None = None
    description: str | None = None
    #: Targets applied when no condition holds (None: not given).
    otherwise: tuple[str, ...] | None = None
    #: Whether ``unknown`` was written at all.
    unknown_given: bool = False
    #: Targets applied as well when a deciding condition is unknown; () means plain cannot-decide.
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dose:
    #: Per unit of basis (or fixed): a number, or the text of an expression.
    amount: Decimal | str
    unit: str
    location: Location
    path: Path
    basis: str | None = None
    round_to: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    warn_below: Decimal | None = None
    warn_above: Decimal | None = None
    #: the author's words for the warnings (what to do), shown instead of "review before giving"
    warn_below_text: str | None = None
    warn_above_text: str | None = None


@dataclass(frozen=True, slots=True)
class Action:
    type: Literal["medication", "monitoring", "stop-drug", "procedure", "referral", "caution"]
    location: Location
    path: Path
    drug: str | None = None
    dose: Dose | None = None
    route: str | None = None
    frequency: str | None = None
    timing: str | None = None
    infusion: str | None = None
    until: str | None = None
    target: str | None = None
    rxnorm: str | None = None
    test: str | None = None
    interval: str | None = None
    mode: str | None = None
    resume_when: str | None = None
    name: str | None = None
    text: str | None = None
    note: str | None = None
    #: medication and monitoring: the earliest start, an expression of datetime type (computed per patient)
    not_before: str | None = None


#: How soon a recommendation must be acted on; results list them in this order (then in the walk's order).
Urgency = Literal["immediate", "urgent", "routine"]
URGENCY_LEVELS: tuple[Urgency, ...] = ("immediate", "urgent", "routine")


@dataclass(frozen=True, slots=True)
class Supersedes:
    """One entry of a recommendation's ``supersedes``: the id superseded and the author's reason."""

    id: str
    location: Location
    path: Path
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    id: str
    text: str
    cite: tuple[str, ...]
    actions: tuple[Action, ...]
    location: Location
    path: Path
    title: str | None = None
    strength: str | None = None
    category: str | None = None
    #: the recommendations this one supersedes when both apply
    supersedes: tuple[Supersedes, ...] = ()
    #: as written; None when not given (routine)
    urgency: Urgency | None = None


@dataclass(frozen=True, slots=True)
class GuidelineModel:
    id: str
    version: str
    title: str
    status: Status
    file: str
    content_hash: str
    effective_start: date
    effective_end: date | None
    last_updated: date
    start: str
    references: Mapping[str, Reference]
    inputs: Mapping[str, Input]
    derived: Mapping[str, Derived]
    nodes: tuple[Node, ...]
    recommendations: tuple[Recommendation, ...]
    source_map: SourceMap = field(repr=False, compare=False)
    description: str | None = None
    approval_date: date | None = None
    last_reviewed: date | None = None
    next_review: date | None = None
    authors: tuple[Person, ...] = ()
    reviewers: tuple[Person, ...] = ()
    audience: str | None = None
    disclaimer: str | None = None
    scores: Mapping[str, Score] = field(default_factory=lambda: MappingProxyType({}))

    def node_by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    def recommendation_by_id(self) -> dict[str, Recommendation]:
        return {r.id: r for r in self.recommendations}


# --------------------------------------------------------------------------------------------------
# helpers


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def content_hash(data: Any) -> str:
    """sha256 over the canonical JSON of the parsed document (formatting and comments do not count)."""
    text = json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"expected a number, got {value!r}")


def _targets(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


class _Builder:
    def __init__(self, source_map: SourceMap) -> None:
        self.sm = source_map
        self.diagnostics: list[Diagnostic] = []

    def loc(self, path: Path) -> Location:
        return self.sm.at(path)

    def date(self, value: str | None, path: Path) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.diagnostics.append(
                Diagnostic(
                    Code.INVALID_DATE,
                    f"'{value}' is not a real calendar date",
                    self.loc(path),
                    path=path,
                    hint="write dates as YYYY-MM-DD with a valid month and day",
                )
            )
            return None

    def input(self, name: str, d: Mapping[str, Any]) -> Input:
        path: Path = ("inputs", name)
        plaus = d.get("plausible") or {}
        max_age = d.get("max_age")
        return Input(
            name=name,
            type=d["type"],
            description=d["description"],
            location=self.sm.key_at(path),
            path=path,
            unit=d.get("unit"),
            accepted_units=tuple(d.get("accepted_units", ())),
            bare_number=bool(d.get("bare_number", False)),
            plausible_min=_dec(plaus.get("min")),
            plausible_max=_dec(plaus.get("max")),
            values=tuple(d.get("values", ())),
            required=bool(d.get("required", False)),
            max_age=parse_duration(max_age) if max_age else None,
            max_age_text=max_age,
            codes=tuple(Coding(c["system"], c["code"], c.get("display")) for c in d.get("codes", ())),
            time=d.get("time"),
            fhir=deep_freeze(d["fhir"]) if "fhir" in d else None,
            default=d.get("default"),
            has_default="default" in d,
        )

    def derived(self, name: str, d: Mapping[str, Any]) -> Derived:
        path: Path = ("derived", name)
        return Derived(
            name, d["description"], d["type"], d["expr"], self.sm.key_at(path), path, d.get("unit")
        )

    def score(self, name: str, d: Mapping[str, Any]) -> Score:
        path: Path = ("scores", name)
        items: list[ScoreItem] = []
        for i, it in enumerate(d["items"]):
            ipath: Path = (*path, "items", i)
            points = it.get("points")
            code_points: tuple[tuple[str, Decimal], ...] = ()
            scalar: Decimal | None = None
            if isinstance(points, Mapping):
                code_points = tuple((str(k), _dec(v) or Decimal(0)) for k, v in points.items())
            elif points is not None:
                scalar = _dec(points)
            bands = tuple(
                ScoreBand(j, b["when"], _dec(b["points"]) or Decimal(0), self.loc((*ipath, "bands", j)),
                          (*ipath, "bands", j))
                for j, b in enumerate(it.get("bands", ()))
            )
            label = it.get("label") or it.get("input") or it.get("when") or f"item {i + 1}"
            items.append(ScoreItem(i, label, self.loc(ipath), ipath, it.get("input"), it.get("when"), scalar,
                                   code_points, bands, _dec(it.get("otherwise")) or Decimal(0)))
        return Score(name, d["description"], tuple(items), self.sm.key_at(path), path)

    def node(self, i: int, d: Mapping[str, Any]) -> Node:
        path: Path = ("nodes", i)
        branches = tuple(
            Branch(
                j,
                b["when"],
                _targets(b["then"]),
                self.loc((*path, "branches", j)),
                (*path, "branches", j),
                b.get("label"),
            )
            for j, b in enumerate(d["branches"])
        )
        unknown = d.get("unknown")
        return Node(
            id=d["id"],
            kind=d["kind"],
            branches=branches,
            location=self.loc(path),
            path=path,
            title=d.get("title"),
            description=d.get("description"),
            otherwise=_targets(d["otherwise"]) if "otherwise" in d else None,
            unknown_given=unknown is not None,
            unknown=() if unknown in (None, "cannot-decide") else _targets(unknown),
        )

    def dose(self, d: Mapping[str, Any], path: Path) -> Dose:
        amount = d["amount"]
        return Dose(
            amount=amount if isinstance(amount, str) else _dec(amount),  # type: ignore[arg-type]
            unit=d["unit"],
            location=self.loc(path),
            path=path,
            basis=d.get("basis"),
            round_to=_dec(d.get("round_to")),
            min=_dec(d.get("min")),
            max=_dec(d.get("max")),
            warn_below=_dec(d.get("warn_below")),
            warn_below_text=d.get("warn_below_text"),
            warn_above_text=d.get("warn_above_text"),
            warn_above=_dec(d.get("warn_above")),
        )

    def action(self, d: Mapping[str, Any], path: Path) -> Action:
        fields = {k: v for k, v in d.items() if k not in ("type", "dose")}
        if isinstance(fields.get("route"), list):  # a choice, shown as "subcutaneous or intravenous"
            fields["route"] = " or ".join(fields["route"])
        dose = self.dose(d["dose"], (*path, "dose")) if "dose" in d else None
        return Action(type=d["type"], location=self.loc(path), path=path, dose=dose, **fields)

    def recommendation(self, i: int, d: Mapping[str, Any]) -> Recommendation:
        path: Path = ("recommendations", i)
        actions = tuple(self.action(a, (*path, "actions", j)) for j, a in enumerate(d.get("actions", ())))
        return Recommendation(
            id=d["id"],
            text=d["text"],
            cite=tuple(d["cite"]),
            actions=actions,
            location=self.loc(path),
            path=path,
            title=d.get("title"),
            strength=d.get("strength"),
            category=d.get("category"),
            supersedes=tuple(
                Supersedes(
                    s if isinstance(s, str) else s["id"],
                    self.loc((*path, "supersedes", j)),
                    (*path, "supersedes", j),
                    None if isinstance(s, str) else s.get("reason"),
                )
                for j, s in enumerate(d.get("supersedes", ()))
            ),
            urgency=d.get("urgency"),
        )


def _share_strings(data: Any) -> None:
    """Make equal strings of the document one object, in place (a guideline repeats its words: input types,
    categories, units, node ids in ``then:``, whole warnings). Values are unchanged."""
    seen: dict[str, str] = {}
    share = seen.setdefault
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if node.__class__ is dict:
            for k, v in node.items():
                if v.__class__ is str:
                    node[k] = share(v, v)
                elif v.__class__ is dict or v.__class__ is list:
                    stack.append(v)
        elif node.__class__ is list:
            for i, v in enumerate(node):
                if v.__class__ is str:
                    node[i] = share(v, v)
                elif v.__class__ is dict or v.__class__ is list:
                    stack.append(v)


def _people(items: Any) -> tuple[Person, ...]:
    return tuple(Person(p["name"], p.get("role"), p.get("organization"), p.get("date")) for p in items or ())


def build_model(
    data: Mapping[str, Any], source_map: SourceMap
) -> tuple[GuidelineModel | None, list[Diagnostic]]:
    """Build the model from a document that passed the schema. Returns (model or None, diagnostics)."""
    _share_strings(data)
    b = _Builder(source_map)
    start = b.date(data["effective"]["start"], ("effective", "start"))
    end = b.date(data["effective"].get("end"), ("effective", "end"))
    last_updated = b.date(data["last_updated"], ("last_updated",))
    approval = b.date(data.get("approval_date"), ("approval_date",))
    last_reviewed = b.date(data.get("last_reviewed"), ("last_reviewed",))
    next_review = b.date(data.get("next_review"), ("next_review",))
    if start is None or last_updated is None or b.diagnostics:
        return None, b.diagnostics
    refs = {
        k: Reference(k, v["citation"], v.get("url"), v.get("note"), source_map.key_at(("references", k)))
        for k, v in data["references"].items()
    }
    model = GuidelineModel(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        status=data["status"],
        file=source_map.file,
        content_hash=content_hash(data),
        effective_start=start,
        effective_end=end,
        last_updated=last_updated,
        start=data["start"],
        references=_frozen(refs),
        inputs=_frozen({k: b.input(k, v) for k, v in data["inputs"].items()}),
        derived=_frozen({k: b.derived(k, v) for k, v in (data.get("derived") or {}).items()}),
        nodes=tuple(b.node(i, n) for i, n in enumerate(data["nodes"])),
        recommendations=tuple(b.recommendation(i, r) for i, r in enumerate(data["recommendations"])),
        source_map=source_map,
        description=data.get("description"),
        approval_date=approval,
        last_reviewed=last_reviewed,
        next_review=next_review,
        authors=_people(data.get("authors")),
        reviewers=_people(data.get("reviewers")),
        audience=data.get("audience"),
        disclaimer=data.get("disclaimer"),
        scores=_frozen({k: b.score(k, v) for k, v in (data.get("scores") or {}).items()}),
    )
    return model, b.diagnostics
