"""The corpus of a behavioural diff, generated from both versions' thresholds.

For every input: each threshold of either version (``CompiledExpression.thresholds``, in the new version's
declared unit), exactly and one step either side (the step is the last written digit: 0.1 for 1.0,
0.001 for 0.820), written in every unit the input accepts (converted exactly; skipped where the conversion
does not terminate); then missing, stale and undated variants (stale and undated where the input has a
``max_age``); booleans true and false, every code value, datetimes around the as-of time. Patients are
(1) a few seeded base patients with one input varied through all its variants, and (2) every pair of inputs
with their variants (in the declared unit) combined, the others taken from the first base: every pair of
inputs is covered. Duplicates are dropped. Deterministic for a seed.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation
from typing import Any

from ...api import Guideline
from ...loading.model import Input
from ...values.units import UnitError, conversion_factor

__all__ = ["MISSING", "corpus_rows", "input_variants", "threshold_values"]

#: A variant that leaves the fact out.
MISSING: Any = object()
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])
#: Offsets of datetime variants from the as-of time, in hours.
_HOURS = (1, 23, 25, 71, 73, 24 * 8)
#: Seeded base patients (each varied one input at a time).
BASES = 6


def threshold_values(guidelines: list[Guideline], name: str, unit: str | None) -> list[Decimal]:
    """Every constant ``name`` is compared with in any of ``guidelines``, converted exactly to ``unit``."""
    out: set[Decimal] = set()
    for g in guidelines:
        exprs = [b.when for node in g.compiled.nodes.values() for b in node.branches]
        exprs += [e for _, e in g.compiled.derived]
        for e in exprs:
            for t in e.thresholds:
                if t.name != name:
                    continue
                value = t.value
                if t.unit and unit and t.unit != unit:
                    try:
                        value = value * conversion_factor(t.unit, unit)
                    except UnitError:
                        continue
                out.add(value)
    return sorted(out)


def _step(v: Decimal) -> Decimal:
    exponent = v.as_tuple().exponent
    return Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(str(d))


def _in_unit(v: Decimal, factor: Decimal) -> Decimal | None:
    """``v`` (canonical) in a unit whose factor to canonical is ``factor``, when exact and short."""
    try:
        x = _EXACT.divide(v, factor)
    except (Inexact, InvalidOperation):
        return None
    x = x.normalize(_EXACT)
    return x if len(x.as_tuple().digits) <= 15 else None


def _plausible(inp: Input, v: Decimal) -> bool:
    return (inp.plausible_min is None or v >= inp.plausible_min) and (
        inp.plausible_max is None or v <= inp.plausible_max
    )


def _time(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _canonical_points(guidelines: list[Guideline], name: str, inp: Input) -> list[Decimal]:
    points: list[Decimal] = []
    thresholds = threshold_values(guidelines, name, inp.unit)
    for t in thresholds:
        s = _step(t)
        points += [t - s, t, t + s]
    if not thresholds:  # no threshold: two ordinary values
        lo = inp.plausible_min if inp.plausible_min is not None else Decimal(0)
        hi = inp.plausible_max if inp.plausible_max is not None else lo + 100
        points += [lo + (hi - lo) / 10, lo + (hi - lo) / 4]
        points = [Decimal(f"{p:.3g}") for p in points]
    out: list[Decimal] = []
    for p in points:
        if _plausible(inp, p) and p not in out:
            out.append(p)
    return out


def input_variants(
    guidelines: list[Guideline], name: str, inp: Input, as_of: datetime, *, all_units: bool = True
) -> list[Any]:
    """The variants of one input's fact (``MISSING`` leaves it out), for the corpus."""
    fresh = _time(as_of - timedelta(hours=1))
    out: list[Any] = []
    if inp.type in ("quantity", "series"):
        units = [inp.unit or ""] + (list(inp.accepted_units) if all_units else [])
        for p in _canonical_points(guidelines, name, inp):
            for u in units:
                try:
                    factor = conversion_factor(u, inp.unit) if u != inp.unit and inp.unit else Decimal(1)
                except UnitError:
                    continue
                x = _in_unit(p, factor)
                if x is None:
                    continue
                if inp.type == "series":  # the value on three consecutive days
                    out.append(
                        [
                            {"value": _num(x), "unit": u, "at": _time(as_of - timedelta(hours=1 + 24 * d))}
                            for d in range(3)
                        ]
                    )
                else:
                    out.append({"value": _num(x), "unit": u, "at": fresh})
    elif inp.type == "number":
        out += [{"value": _num(p), "at": fresh} for p in _canonical_points(guidelines, name, inp)]
    elif inp.type == "boolean":
        out += [{"value": True, "at": fresh}, {"value": False, "at": fresh}]
    elif inp.type == "code":
        out += [{"value": v, "at": fresh} for v in inp.values]
    else:  # datetime
        if inp.time != "future":
            out += [_time(as_of - timedelta(hours=h)) for h in _HOURS]
        if inp.time != "past":
            out += [_time(as_of + timedelta(hours=h)) for h in _HOURS]
    out.append(MISSING)
    if inp.max_age is not None and out and out[0] is not MISSING:
        first = out[0]
        stale_at = _time(as_of - inp.max_age - timedelta(hours=1))
        if isinstance(first, list):
            out.append(
                [
                    {**r, "at": _time(as_of - inp.max_age - timedelta(hours=1 + 24 * d))}
                    for d, r in enumerate(first)
                ]
            )
        elif isinstance(first, dict):
            out.append({**first, "at": stale_at})
            out.append({k: v for k, v in first.items() if k != "at"})  # undated
    return out


def corpus_rows(
    old: Guideline, new: Guideline, as_of: datetime, *, seed: int = 0
) -> Iterator[dict[str, Any]]:
    """The generated patients ``{"id", "as_of", "facts"}``, without duplicates."""
    guidelines = [old, new]
    inputs: dict[str, Input] = {**old.inputs, **new.inputs}  # the new definition where both have one
    names = sorted(inputs)
    every = {n: input_variants(guidelines, n, inputs[n], as_of) for n in names}
    declared = {n: input_variants(guidelines, n, inputs[n], as_of, all_units=False) for n in names}
    rng = random.Random(seed)
    bases = []
    for _ in range(BASES):
        bases.append({n: rng.choice([v for v in every[n] if v is not MISSING] or [MISSING]) for n in names})
    seen: set[str] = set()
    count = 0
    when = _time(as_of)

    def row(facts: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal count
        clean = {k: v for k, v in facts.items() if v is not MISSING}
        text = json.dumps(clean, sort_keys=True)
        if text in seen:
            return None
        seen.add(text)
        count += 1
        return {"id": f"g{count:06d}", "as_of": when, "facts": clean}

    for base in bases:
        for n in names:
            for v in every[n]:
                r = row({**base, n: v})
                if r is not None:
                    yield r
    for a, b in itertools.combinations(names, 2):
        for va, vb in itertools.product(declared[a], declared[b]):
            r = row({**bases[0], a: va, b: vb})
            if r is not None:
                yield r
