"""The hand-written floors of tools/bench_evaluate.py: the benchmark decisions by hand in plain Python.

``hand_decision`` is tools/bench/decision.guideline.yaml (ten conditions over checked values); ``hand_host``
is tools/bench/host.guideline.yaml as a host would write it without this engine: JSON text in, the same fact
checks (types, units converted exactly, plausible ranges, time stamps, maximum ages), the same decision in
three-valued logic, the doses, and JSON text out (the recommendations with their text and citations, the
doses, what is missing, the facts echoed). Both are checked against the engine on every input by
tools/bench_evaluate.py. Not clinical advice.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# ---------------------------------------------------------------------------------------- the toy decision
D01, D05, D1, D15, D3, D4, D65 = (Decimal(x) for x in ("0.1", "0.5", "1", "1.5", "3", "4", "65"))


def hand_decision(v: dict[str, Any]) -> str:
    """The ten conditions of decision.guideline.yaml over the same values the engine's core gets."""
    anc, wbc, febrile, age, cause = v["anc"], v["wbc"], v["febrile"], v["age"], v["cause"]
    if febrile and anc <= D01:
        return "r1"
    if febrile and anc < D1 and age > D65:
        return "r2"
    if febrile and anc < D1:
        return "r3"
    if anc < D05 and cause == "chemotherapy":
        return "r4"
    if anc < D1 and cause == "chemotherapy":
        return "r5"
    if anc < D1 and cause in ("congenital", "cyclic"):
        return "r6"
    if anc < D1:
        return "r7"
    if anc < D15:
        return "r8"
    if wbc < D3:
        return "r9"
    if wbc <= D4:
        return "r10"
    return "r11"


F01, F05, F1, F15, F3, F4, F65 = 0.1, 0.5, 1.0, 1.5, 3.0, 4.0, 65.0


def hand_decision_float(v: dict[str, Any]) -> str:
    """The same over floats, with float thresholds (as the float-based peers compare)."""
    anc, wbc, febrile, age, cause = v["anc"], v["wbc"], v["febrile"], v["age"], v["cause"]
    if febrile and anc <= F01:
        return "r1"
    if febrile and anc < F1 and age > F65:
        return "r2"
    if febrile and anc < F1:
        return "r3"
    if anc < F05 and cause == "chemotherapy":
        return "r4"
    if anc < F1 and cause == "chemotherapy":
        return "r5"
    if anc < F1 and cause in ("congenital", "cyclic"):
        return "r6"
    if anc < F1:
        return "r7"
    if anc < F15:
        return "r8"
    if wbc < F3:
        return "r9"
    if wbc <= F4:
        return "r10"
    return "r11"


# ---------------------------------------------------------------------------------------- the host path
class BadFacts(ValueError):
    """Facts a host would refuse (the engine raises FactsError for them)."""


COUNT_UNITS = {"10*9/L": Decimal(1), "10*3/uL": Decimal(1), "/uL": Decimal("0.001"), "/mm3": Decimal("0.001")}
WEIGHT_UNITS = {"kg": Decimal(1), "[lb_av]": Decimal("0.45359237")}
H72, H24, D30 = timedelta(hours=72), timedelta(hours=24), timedelta(days=30)
CAUSES = frozenset(("chemotherapy", "congenital", "cyclic", "clozapine", "other"))


def _number(x: Any) -> Decimal:
    if type(x) is int:
        return Decimal(x)
    if type(x) is float:
        return Decimal(repr(x))
    raise BadFacts(f"not a number: {x!r}")


def _time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise BadFacts("a time stamp must be text")
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise BadFacts("a time stamp needs an offset")
    return t


def _split(raw: Any) -> tuple[Any, Any, Any]:
    """(value, unit, at) of a fact sent bare or as an object."""
    if isinstance(raw, dict):
        return raw.get("value"), raw.get("unit"), raw.get("at")
    return raw, None, None


class _Facts:
    """The checked facts: a value (or None when unknown) and why each unknown one is unknown."""

    __slots__ = ("as_of", "echo", "missing", "unrecognized", "values")

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.values: dict[str, Any] = {}
        self.missing: dict[str, str] = {}
        self.echo: dict[str, Any] = {}

    def dated(self, name: str, value: Any, at: Any, max_age: timedelta | None, echo: dict[str, Any]) -> None:
        if at is not None:
            t = _time(at)
            if t > self.as_of:
                raise BadFacts(f"{name}: a time after the as-of time")
            echo["at"] = t.astimezone(self.as_of.tzinfo).isoformat()
            if max_age is not None and self.as_of - t > max_age:
                self.missing[name] = "stale"
                self.echo[name] = echo
                return
        elif max_age is not None:
            self.missing[name] = "undated"
            self.echo[name] = echo
            return
        self.values[name] = value
        self.echo[name] = echo

    def quantity(self, raw: dict[str, Any], name: str, units: dict[str, Decimal], canonical: str,
                 lo: Decimal, hi: Decimal, max_age: timedelta | None, bare: bool = False) -> None:
        if name not in raw:
            self.missing[name] = "missing"
            return
        value, unit, at = _split(raw[name])
        if unit is None and bare and not isinstance(raw[name], dict):
            unit = canonical
        factor = units.get(unit) if isinstance(unit, str) else None
        if factor is None:
            raise BadFacts(f"{name}: unit {unit!r}")
        v = _number(value) * factor
        if not lo <= v <= hi:
            raise BadFacts(f"{name}: {v} outside {lo}..{hi}")
        echo: dict[str, Any] = {"value": str(v), "unit": canonical}
        if unit != canonical:
            echo["given"] = f"{value} {unit}"
        self.dated(name, v, at, max_age, echo)

    def simple(self, raw: dict[str, Any], name: str, kind: type, max_age: timedelta | None = None) -> None:
        if name not in raw:
            self.missing[name] = "missing"
            return
        value, unit, at = _split(raw[name])
        if unit is not None:
            raise BadFacts(f"{name}: no unit expected")
        if kind is bool:
            if type(value) is not bool:
                raise BadFacts(f"{name}: not true/false")
            echo: dict[str, Any] = {"value": value}
        elif kind is str:
            if value not in CAUSES:
                raise BadFacts(f"{name}: unknown code")
            echo = {"value": value}
        else:
            value = _number(value)
            if not 0 <= value <= 365:
                raise BadFacts(f"{name}: implausible")
            echo = {"value": str(value)}
        self.dated(name, value, at, max_age, echo)

    def series(self, raw: dict[str, Any], name: str) -> None:
        if name not in raw:
            self.missing[name] = "missing"
            return
        items = raw[name]
        if not isinstance(items, list) or not items:
            raise BadFacts(f"{name}: not a list of results")
        points = []
        for item in items:
            if not isinstance(item, dict):
                raise BadFacts(f"{name}: a result is not an object")
            unit = item.get("unit")
            factor = COUNT_UNITS.get(unit) if isinstance(unit, str) else None
            if factor is None:
                raise BadFacts(f"{name}: unit {unit!r}")
            v = _number(item.get("value")) * factor
            if not 0 <= v <= 100:
                raise BadFacts(f"{name}: implausible")
            t = _time(item.get("at"))
            if t > self.as_of:
                raise BadFacts(f"{name}: a time after the as-of time")
            points.append((t, v, None if unit == "10*9/L" else f"{item.get('value')} {unit}"))
        points.sort(key=lambda p: p[0])
        tz = self.as_of.tzinfo
        shown = []
        for t, v, given in points:
            e = {"value": str(v), "at": t.astimezone(tz).isoformat()}
            if given:
                e["given"] = given
            shown.append(e)
        self.echo[name] = {"value": shown, "unit": "10*9/L"}
        if self.as_of - points[-1][0] > H72:
            self.missing[name] = "stale"
            return
        self.values[name] = [(t, v) for t, v, _ in points]


def check_host(raw: Any, as_of: datetime) -> _Facts:
    if not isinstance(raw, dict):
        raise BadFacts("facts must be an object")
    known = {"anc", "wbc", "anc_history", "febrile", "age", "weight", "cause", "on_filgrastim",
             "expected_neutropenia_days", "uncontrolled_disease"}
    f = _Facts(as_of)
    f.quantity(raw, "anc", COUNT_UNITS, "10*9/L", Decimal(0), Decimal(100), H72)
    f.quantity(raw, "wbc", COUNT_UNITS, "10*9/L", Decimal(0), Decimal(500), H72)
    f.series(raw, "anc_history")
    f.simple(raw, "febrile", bool, H24)
    f.quantity(raw, "age", {"a": Decimal(1)}, "a", Decimal(0), Decimal(130), None, bare=True)
    f.quantity(raw, "weight", WEIGHT_UNITS, "kg", Decimal("0.3"), Decimal(350), D30)
    f.simple(raw, "cause", str)
    f.simple(raw, "on_filgrastim", bool)
    f.simple(raw, "expected_neutropenia_days", Decimal)
    f.simple(raw, "uncontrolled_disease", bool)
    f.unrecognized = sorted(set(raw) - known)
    return f


# three-valued logic: None is unknown
def _and(*xs: bool | None) -> bool | None:
    return False if False in xs else None if None in xs else True


def _or(*xs: bool | None) -> bool | None:
    return True if True in xs else None if None in xs else False


def _lt(x: Decimal | None, c: Decimal) -> bool | None:
    return None if x is None else x < c


def _le(x: Decimal | None, c: Decimal) -> bool | None:
    return None if x is None else x <= c


def _gt(x: Decimal | None, c: Decimal) -> bool | None:
    return None if x is None else x > c


def _ge(x: Decimal | None, c: Decimal) -> bool | None:
    return None if x is None else x >= c


def _on_days(points: list[tuple[datetime, Decimal]] | None, limit: Decimal, count: int,
             as_of: datetime) -> bool | None:
    if points is None:
        return None
    days: dict[Any, bool] = {}
    for t, v in points:
        d = t.astimezone(as_of.tzinfo).date()
        days[d] = days.get(d, True) and v >= limit
    newest = max(days)
    wanted = [days.get(newest - timedelta(days=i)) for i in range(count)]
    return False if False in wanted else None if None in wanted else True


def _count_within(
    points: list[tuple[datetime, Decimal]] | None, span: timedelta, as_of: datetime
) -> int | None:
    if points is None:
        return None
    return sum(1 for t, _ in points if timedelta(0) <= as_of - t <= span)


D10, D2 = Decimal(10), Decimal(2)


def decide_host(f: _Facts) -> tuple[list[str], list[str]]:
    """The walk of host.guideline.yaml: the recommendations applied, and the nodes that could not decide."""
    v, as_of = f.values, f.as_of
    anc, wbc, cause = v.get("anc"), v.get("wbc"), v.get("cause")
    applied: list[str] = []
    cannot: list[str] = []
    # fn
    c = _and(_lt(anc, D1), v.get("febrile"))
    if c is None:
        applied.append("fn-interim")
        cannot.append("fn")
    elif c:
        applied.append("fn-cultures")
        r = _or(_le(anc, D01), _ge(v.get("expected_neutropenia_days"), D10), _gt(v.get("age"), D65),
                v.get("uncontrolled_disease"))
        if r is None:
            cannot.append("fn-risk")
        else:
            applied.append("fn-high-risk" if r else "fn-low-risk")
    # drug
    c = None if cause is None else cause == "clozapine"
    if c is None:
        cannot.append("drug")
    elif c:
        b1 = _or(_lt(wbc, D2), _lt(anc, D1))
        b2 = _or(_le(wbc, D3), _le(anc, D15)) if b1 is False else None
        if b1 is None or (b1 is False and b2 is None):
            cannot.append("clozapine")
        elif b1:
            applied.append("clozapine-stop")
        elif b2:
            applied.append("clozapine-interrupt")
        else:
            n = _count_within(v.get("anc_history"), H24, as_of)
            if n is None:
                cannot.append("clozapine-release")
            applied.append("clozapine-continue" if n is not None and n >= 1 else "clozapine-repeat-count")
    # treatment
    branches = (v.get("on_filgrastim"), _lt(anc, D1), _lt(anc, D15), _lt(wbc, D3), _le(wbc, D4))
    for i, b in enumerate(branches):
        if b is None:
            cannot.append("treatment")
            break
        if b:
            if i == 0:
                s = _and(_ge(anc, D15), _on_days(v.get("anc_history"), D15, 3, as_of))
                if s is None:
                    cannot.append("ongoing")
                else:
                    applied.append("gcsf-stop" if s else "gcsf-continue")
            elif i == 1:
                if cause is None:
                    cannot.append("severe")
                else:
                    applied.append("gcsf-chemo" if cause == "chemotherapy" else
                                   "gcsf-chronic" if cause in ("congenital", "cyclic") else "gcsf-general")
            else:
                applied.append(("nc-anc-1-to-1-5", "nc-wbc-below-3", "mild-observe")[i - 2])
            break
    else:
        applied.append("nc-wbc-above-4")
    # monitoring
    m1, m2 = _lt(anc, D05), _lt(anc, D15)
    if m1 is None:
        cannot.append("monitoring")
    elif m1:
        applied.append("cbc-daily")
    elif m2:
        applied.append("cbc-twice-weekly")
    else:
        w = _le(wbc, D4)
        if w is None:
            cannot.append("monitoring-by-wbc")
        applied.append("cbc-not-needed" if w is False else "cbc-every-2-weeks")
    return applied, cannot


DOSED = frozenset(("fn-high-risk", "gcsf-continue", "gcsf-chemo", "gcsf-chronic", "gcsf-general"))
FIVE = Decimal(5)
REQUIRED = frozenset(("anc", "cause", "on_filgrastim"))


def _dose(weight: Decimal | None) -> dict[str, Any]:
    if weight is None:
        return {"status": "needs", "needs": ["weight"]}
    value = (FIVE * weight).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return {"status": "computed", "value": int(value), "unit": "ug", "display": f"{value} ug"}


def hand_host(text: str, as_of: datetime, recs: dict[str, dict[str, Any]], disclaimer: str) -> str:
    """The whole host path by hand: JSON text in, JSON text out (``recs``: the fixed part of each one)."""
    facts = check_host(json.loads(text), as_of)
    applied, cannot = decide_host(facts)
    weight = facts.values.get("weight")
    out_recs = []
    for rid in applied:
        rec = recs[rid]
        if rid in DOSED:
            rec = {**rec, "actions": [{**rec["actions"][0], "dose": _dose(weight)}]}
        out_recs.append(rec)
    required = set(facts.missing) & REQUIRED
    if weight is None and not DOSED.isdisjoint(applied):
        required.add("weight")
    out = {
        "status": "incomplete" if cannot or required else "complete",
        "recommendations": out_recs,
        "cannot_decide": cannot,
        "needed_facts": sorted(facts.missing) if cannot or required else [],
        "facts": facts.echo,
        "disclaimer": disclaimer,
    }
    return json.dumps(out)
