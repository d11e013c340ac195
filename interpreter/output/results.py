"""Result formats (registered in ``registry.RESULT_FORMATS``): text for a clinician, and the JSON of
``Result.to_json()`` (``schema/result.schema.json``). FHIR and CDS Hooks cards will plug in beside them.

Echoed text is made safe for its format (``textsafe``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..textsafe import escape_surrogates, safe_block, safe_line
from .options import PLAIN, FormatOptions

if TYPE_CHECKING:
    from ..result import BranchTrace, Result

_s = safe_line
_b = safe_block

__all__ = ["result_json", "result_text"]


def result_json(result: Result, options: FormatOptions = PLAIN) -> str:
    """``Result.to_json()``, 2-space indent, lone surrogates and invisible characters as JSON escapes."""
    return escape_surrogates(json.dumps(result.to_json(), indent=2, ensure_ascii=False)) + "\n"


def result_text(result: Result, options: FormatOptions = PLAIN) -> str:
    """Recommendations first, then what is missing, then why (with ``explain``: every decision with the
    values it used, and the facts used)."""
    explain = options.explain
    g = result.guideline
    out: list[str] = []
    out.append(_s(g.title))
    out.append(f"guideline {_s(g.id)} {_s(g.version)} ({_s(g.status)}), {_s(g.content_hash)}")
    out.append(f"as of {result.as_of.isoformat()}")
    if g.status != "approved":
        out.append(
            f"STATUS: {_s(g.status.upper())} - this guideline version is not approved for clinical use"
        )
    if result.complete:
        out.append("RESULT: complete")
    else:
        out.append(
            "RESULT: INCOMPLETE - some decisions could not be made; see MISSING below. "
            "Do not read the list as complete."
        )
    out.extend(("", "RECOMMENDATIONS"))
    if not result.recommendations:
        out.append("  (none)")
    for i, r in enumerate(result.recommendations, 1):
        head = f"{_s(r.title)}: " if r.title else ""
        out.append(f"{i:>2}. {head}{_b(r.text, '    ')}  [{_s(r.id)}]")
        for a in r.actions:
            if a.type == "caution":
                continue
            f = a.fields
            if a.type == "medication":
                dose = f" {_s(a.dose.display)}" if a.dose else ""
                parts = [f"{_s(f.get('drug'))}{dose}", _s(f.get("route", "")), _s(f.get("frequency", ""))]
                line = " ".join(p for p in parts if p)
                for k in ("timing", "infusion", "until", "target"):
                    if k in f:
                        line += f"; {k.replace('_', ' ')}: {_s(f[k])}"
                out.append(f"      - give {line}")
                if a.dose is not None:
                    for step in a.dose.calculation:
                        out.append(f"          dose: {_s(step)}")
                    for w in a.dose.warnings:
                        out.append(f"          WARNING: {_s(w)}")
            elif a.type == "monitoring":
                until = f" until {_s(f['until'])}" if "until" in f else ""
                out.append(f"      - monitor {_s(f.get('test'))} {_s(f.get('interval'))}{until}")
            elif a.type == "stop-drug":
                resume = f"; resume: {_s(f['resume_when'])}" if "resume_when" in f else ""
                out.append(f"      - {_s(f.get('mode'))} {_s(f.get('drug'))}{resume}")
            else:
                timing = f" ({_s(f['timing'])})" if "timing" in f else ""
                out.append(f"      - {_s(a.type)}: {_s(f.get('name'))}{timing}")
            if "note" in f:
                out.append(f"          note: {_b(f['note'], ' ' * 16)}")
        cites = ", ".join(f"[{_s(c.key)}]" for c in r.citations)
        out.append(f"      sources: {cites}")
    out.extend(_scores_text(result))
    out.extend(_superseded_lines(result))
    if result.cautions:
        out.append("")
        out.append("CAUTIONS")
        for c in result.cautions:
            cites = ", ".join(f"[{_s(x.key)}]" for x in c.citations)
            out.append(f"  ! {_b(c.text, '    ')} {cites}")
    if result.cannot_decide or result.needed_facts:
        out.append("")
        out.append("MISSING - cannot decide")
        for n in result.needed_facts:
            out.append(
                f"  ? {_s(n.name)} ({_s(n.description)}): {_s(n.reason)} - {_s(n.detail)}; "
                f"needed by {_s(', '.join(n.needed_by))}"
            )
        for cd in result.cannot_decide:
            needs = _s(", ".join(cd.needs))
            out.append(f"  ? {_s(cd.node)}: cannot decide `{_s(cd.condition)}` without {needs}")
    if result.unrecognized_facts:
        out.append("")
        out.append("UNRECOGNIZED FACTS (ignored)")
        for u in result.unrecognized_facts:
            hint = f" - did you mean '{_s(u.suggestion)}'?" if u.suggestion else ""
            out.append(f"  ~ {_s(u.name)}{hint}")
    out.append("")
    out.append("WHY")
    for tstep in result.trace:
        taken = _s(", ".join(tstep.taken)) or "nothing"
        title = f" ({_s(tstep.title)})" if tstep.title else ""
        out.append(f"  {_s(tstep.node)}{title}: {_s(tstep.outcome)} -> {taken}")
        if explain:
            for b in tstep.branches:
                out.extend(_branch_text(b))
    if explain and result.facts:
        out.append("")
        out.append("FACTS USED")
        for name, shown in result.facts.items():
            out.append(f"  {_s(name)}: {_s(_fact_text(shown))}")
    if result.disclaimer:
        out.append("")
        out.append(_b(result.disclaimer, "  "))
    return "\n".join(out) + "\n"


def _branch_text(b: BranchTrace) -> list[str]:
    """One branch of the explanation: outcome, condition, the values it read, and (when it was decided with
    facts unknown) for which unknowns it holds whatever their value."""
    vals = ", ".join(f"{_s(k)}={_s(v)}" for k, v in b.values.items())
    vals = f"   [{vals}]" if vals else ""
    out = [f"      {_s(b.outcome):>9}: {_s(b.condition)}{vals}"]
    if b.decided_over:
        over = _s(", ".join(b.decided_over))
        out.append(f"                 decided: {_s(b.outcome)} for every value of {over}")
    return out


def _scores_text(result: Result) -> list[str]:
    """The SCORES section: each score's value (or bounds) and each item's points (or what it needs)."""
    if not result.scores:
        return []
    out = ["", "SCORES"]
    for sc in result.scores:
        out.append(f"  {_s(sc.name)} = {_s(sc.display())}")
        out.extend(f"      {_s(item.display())}: {_s(item.label)}" for item in sc.items)
    return out


def _superseded_lines(result: Result) -> list[str]:
    """The SUPERSEDED section: each recommendation hidden by precedence, by whom and why."""
    if not result.superseded:
        return []
    out = ["", "SUPERSEDED (applied, but not shown: a recommendation above takes precedence)"]
    for sup in result.superseded:
        head = f"{_s(sup.title)} " if sup.title else ""
        for by, reason in sup.by:
            why = f": {_b(reason, '      ')}" if reason else ""
            out.append(f"  - {head}[{_s(sup.id)}] superseded by [{_s(by)}]{why}")
    return out


def _fact_text(shown: object) -> str:
    """``0.4 10*9/L (given 400 /uL, at 2026-11-24T06:00:00Z)`` from a checked fact's record.

    A series is a list of such records; its items are rendered flat (no recursion: a record inside a
    series item's value is shown as text).
    """
    if not isinstance(shown, dict):
        return str(shown)
    value = shown.get("value")
    if isinstance(value, list):  # a series
        text = ", ".join(_one_fact_text(v) for v in value) or "(no results)"
        return text + _fact_extra(shown)
    return _one_fact_text(shown)


def _one_fact_text(shown: object) -> str:
    if not isinstance(shown, dict):
        return str(shown)
    value = shown.get("value")
    text = str(value) if not isinstance(value, bool) else str(value).lower()
    return text + _fact_extra(shown)


def _fact_extra(shown: dict[str, object]) -> str:
    text = f" {shown['unit']}" if shown.get("unit") else ""
    extra = [f"given {shown['given']}"] if shown.get("given") else []
    if shown.get("at"):
        extra.append(f"at {shown['at']}")
    return text + (f" ({', '.join(extra)})" if extra else "")
