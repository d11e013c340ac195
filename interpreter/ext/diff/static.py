"""The static diff of two guideline versions, keyed by input, node and recommendation id.

Conditions are compared by their thresholds after unit normalisation (``CompiledExpression.thresholds``:
each ``name OP constant`` with the constant in the name's declared unit; a threshold of a version whose
input is declared in another unit is converted exactly to the new version's unit), so ``anc < q(820,
'/mm3')`` and ``anc < 0.82`` are the same condition written two ways, reported as a text change only.
Doses (amount, unit, basis, rounding, bounds), routes and frequencies are compared per action; nodes,
recommendations, inputs and derived values added or removed are listed; any other text that changed is
reported as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...api import Guideline
from ...lang.quantities import Threshold
from ...loading.model import Action, Dose, Input, Node, Recommendation
from ...result import format_decimal
from ...values.units import UnitError, conversion_factor

__all__ = ["Change", "StaticDiff", "static_diff", "thresholds_in"]


@dataclass(frozen=True, slots=True)
class Change:
    #: "input", "derived", "node", "recommendation"
    kind: str
    id: str
    #: "added", "removed", "threshold", "condition", "targets", "dose", "route", "frequency", "drug",
    #: "action", "text", "definition"
    what: str
    old: str | None = None
    new: str | None = None
    where: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "what": self.what,
            "old": self.old,
            "new": self.new,
            "where": self.where,
        }


@dataclass(slots=True)
class StaticDiff:
    changes: list[Change] = field(default_factory=list)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.changes.append(Change(*args, **kwargs))

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.changes]


def _dec(d: Decimal | None) -> str | None:
    return None if d is None else format_decimal(d)


def _threshold_text(t: Threshold, value: Decimal, unit: str | None) -> str:
    return f"{t.name} {t.op} {format_decimal(value)}" + (f" {unit}" if unit else "")


def thresholds_in(t: Threshold, inputs: dict[str, str | None]) -> tuple[str, str, Decimal, str | None]:
    """(name, op, value, unit) with the value converted exactly to ``inputs[name]`` (the target unit)."""
    unit = inputs.get(t.name, t.unit)
    value = t.value
    if t.unit and unit and t.unit != unit:
        try:
            value = value * conversion_factor(t.unit, unit)
        except UnitError:
            unit = t.unit
    return (t.name, t.op, value.normalize(), unit)


def _units(g: Guideline) -> dict[str, str | None]:
    units: dict[str, str | None] = {n: i.unit for n, i in g.inputs.items()}
    units.update({n: d.unit for n, d in g.compiled.model.derived.items()})
    return units


def _input_fields(i: Input) -> dict[str, str | None]:
    return {
        "type": i.type,
        "unit": i.unit,
        "accepted_units": ", ".join(i.accepted_units) or None,
        "plausible": f"{_dec(i.plausible_min)}..{_dec(i.plausible_max)}"
        if i.plausible_min is not None or i.plausible_max is not None
        else None,
        "values": ", ".join(i.values) or None,
        "required": str(i.required).lower(),
        "max_age": i.max_age_text,
        "bare_number": str(i.bare_number).lower(),
        "time": i.time,
        "description": i.description,
    }


def _dose_text(d: Dose | None) -> str | None:
    if d is None:
        return None
    amount = d.amount if isinstance(d.amount, str) else format_decimal(d.amount)
    parts = [f"{amount} {d.unit}"]
    if d.basis:
        parts.append(f"x {d.basis}")
    for name in ("round_to", "min", "max", "warn_below", "warn_above"):
        v = getattr(d, name)
        if v is not None:
            parts.append(f"{name} {format_decimal(v)}")
    return ", ".join(parts)


def _action_diff(diff: StaticDiff, rec: str, i: int, a: Action | None, b: Action | None) -> None:
    where = f"action {i + 1}"
    if a is None or b is None:
        diff.add(
            "recommendation",
            rec,
            "action",
            None if a is None else a.type,
            None if b is None else b.type,
            where,
        )
        return
    if a.type != b.type:
        diff.add("recommendation", rec, "action", a.type, b.type, where)
        return
    for name in ("drug", "route", "frequency"):
        if getattr(a, name) != getattr(b, name):
            diff.add("recommendation", rec, name, getattr(a, name), getattr(b, name), where)
    if _dose_text(a.dose) != _dose_text(b.dose):
        diff.add("recommendation", rec, "dose", _dose_text(a.dose), _dose_text(b.dose), where)
    for name in (
        "timing",
        "infusion",
        "until",
        "target",
        "rxnorm",
        "test",
        "interval",
        "mode",
        "resume_when",
        "name",
        "text",
        "note",
    ):
        if getattr(a, name) != getattr(b, name):
            diff.add("recommendation", rec, "text", getattr(a, name), getattr(b, name), f"{where} {name}")


def _recommendation_diff(diff: StaticDiff, a: Recommendation, b: Recommendation) -> None:
    for name in ("title", "text", "strength", "category"):
        if getattr(a, name) != getattr(b, name):
            diff.add("recommendation", a.id, "text", getattr(a, name), getattr(b, name), name)
    if a.cite != b.cite:
        diff.add("recommendation", a.id, "text", ", ".join(a.cite), ", ".join(b.cite), "cite")
    for i in range(max(len(a.actions), len(b.actions))):
        _action_diff(
            diff,
            a.id,
            i,
            a.actions[i] if i < len(a.actions) else None,
            b.actions[i] if i < len(b.actions) else None,
        )


def _node_diff(diff: StaticDiff, old: Guideline, new: Guideline, a: Node, b: Node) -> None:
    units = _units(new)
    if a.kind != b.kind:
        diff.add("node", a.id, "definition", a.kind, b.kind, "kind")
    ca, cb = old.compiled.nodes[a.id], new.compiled.nodes[b.id]
    for i in range(max(len(a.branches), len(b.branches))):
        where = f"branch {i + 1}"
        ba = a.branches[i] if i < len(a.branches) else None
        bb = b.branches[i] if i < len(b.branches) else None
        if ba is None or bb is None:
            diff.add(
                "node",
                a.id,
                "condition",
                None if ba is None else ba.when,
                None if bb is None else bb.when,
                where,
            )
            continue
        ta = sorted(thresholds_in(t, units) for t in ca.branches[i].when.thresholds)
        tb = sorted(thresholds_in(t, units) for t in cb.branches[i].when.thresholds)
        if ta != tb:
            old_t = "; ".join(_threshold_text(Threshold(n, o, v, u, 0), v, u) for n, o, v, u in ta)
            new_t = "; ".join(_threshold_text(Threshold(n, o, v, u, 0), v, u) for n, o, v, u in tb)
            diff.add("node", a.id, "threshold", old_t or ba.when, new_t or bb.when, where)
        elif ba.when != bb.when:
            diff.add("node", a.id, "condition" if not ta else "text", ba.when, bb.when, where)
        if ba.then != bb.then:
            diff.add("node", a.id, "targets", ", ".join(ba.then), ", ".join(bb.then), where)
        if ba.label != bb.label:
            diff.add("node", a.id, "text", ba.label, bb.label, f"{where} label")
    for name in ("otherwise", "unknown"):
        va, vb = getattr(a, name), getattr(b, name)
        if va != vb:
            diff.add("node", a.id, "targets", ", ".join(va or ()) or None, ", ".join(vb or ()) or None, name)
    for name in ("title", "description"):
        if getattr(a, name) != getattr(b, name):
            diff.add("node", a.id, "text", getattr(a, name), getattr(b, name), name)


def static_diff(old: Guideline, new: Guideline) -> StaticDiff:
    diff = StaticDiff()
    mo, mn = old.compiled.model, new.compiled.model
    for name in sorted(set(mo.inputs) | set(mn.inputs)):
        a, b = mo.inputs.get(name), mn.inputs.get(name)
        if a is None or b is None:
            diff.add("input", name, "added" if a is None else "removed")
            continue
        fa, fb = _input_fields(a), _input_fields(b)
        for key in fa:
            if fa[key] != fb[key]:
                diff.add(
                    "input", name, "text" if key == "description" else "definition", fa[key], fb[key], key
                )
    for name in sorted(set(mo.derived) | set(mn.derived)):
        da, db = mo.derived.get(name), mn.derived.get(name)
        if da is None or db is None:
            diff.add("derived", name, "added" if da is None else "removed")
        elif (da.expr, da.type, da.unit) != (db.expr, db.type, db.unit):
            diff.add("derived", name, "definition", da.expr, db.expr, "expr")
    na, nb = mo.node_by_id(), mn.node_by_id()
    for nid in [n.id for n in mo.nodes] + [n.id for n in mn.nodes if n.id not in na]:
        if nid not in nb:
            diff.add("node", nid, "removed")
        elif nid not in na:
            diff.add("node", nid, "added")
        else:
            _node_diff(diff, old, new, na[nid], nb[nid])
    if mo.start != mn.start:
        diff.add("node", "(start)", "targets", mo.start, mn.start, "start")
    ra, rb = mo.recommendation_by_id(), mn.recommendation_by_id()
    for rid in [r.id for r in mo.recommendations] + [r.id for r in mn.recommendations if r.id not in ra]:
        if rid not in rb:
            diff.add("recommendation", rid, "removed")
        elif rid not in ra:
            diff.add("recommendation", rid, "added")
        else:
            _recommendation_diff(diff, ra[rid], rb[rid])
    return diff
