"""Result formats (registered in ``registry.RESULT_FORMATS``): text for a clinician, and the JSON of
``Result.to_json()`` (``schema/result.schema.json``). FHIR and CDS Hooks cards will plug in beside them.

Echoed text is made safe for its format (``textsafe``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..textsafe import escape_surrogates, safe_block, safe_line
from .options import PLAIN, FormatOptions

if TYPE_CHECKING:
    from ..result import ActionResult, BranchTrace, ConditionalAdvice, RecommendationResult, Result

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
        out.extend(_recommendation_lines(r, f"{i:>2}. ", ""))
    out.extend(_scores_text(result))
    out.extend(_superseded_lines(result))
    if result.cautions:
        out.append("")
        out.append("CAUTIONS")
        for c in result.cautions:
            cites = ", ".join(f"[{_s(x.key)}]" for x in c.citations)
            out.append(f"  ! {_b(c.text, '    ')} {cites}")
    if result.conditional:
        out.append("")
        out.append("IF ... - CONDITIONAL ADVICE: depends on facts that are missing; not part of the "
                   "recommendations above")
        firm = {r.id for r in result.recommendations}
        for advice in result.conditional:
            out.extend(_advice_lines(advice, "  ", firm))
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
    out.extend(_assumed_lines(result))
    if result.unrecognized_facts:
        out.extend(("", "UNRECOGNIZED FACTS (ignored)"))
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
                if b.index < 0:  # the node's line already says "otherwise -> ..."
                    continue
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


def _not_before(a: ActionResult) -> str:
    """``; not before: 2026-11-25 09:00+00:00`` (the earliest start, never rounded down), or what it needs."""
    if not a.has_not_before:
        return ""
    t = a.not_before
    if t is None:
        return f"; not before: cannot be computed (needs {_s(', '.join(a.not_before_needs))})"
    spec = "microseconds" if t.microsecond else "seconds" if t.second else "minutes"
    return f"; not before: {t.isoformat(sep=' ', timespec=spec)}"


def _recommendation_lines(r: RecommendationResult, head: str, pre: str) -> list[str]:
    """One recommendation: ``head`` (its number) and the title and text, then its actions and sources, every
    line after the first indented by ``pre`` more."""
    out: list[str] = []
    title = f"{_s(r.title)}: " if r.title else ""
    out.append(f"{pre}{head}{title}{_b(r.text, pre + '    ')}  [{_s(r.id)}]")
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
            out.append(f"{pre}      - give {line}{_not_before(a)}")
            if a.dose is not None:
                for step in a.dose.calculation:
                    out.append(f"{pre}          dose: {_s(step)}")
                for w in a.dose.warnings:
                    out.append(f"{pre}          WARNING: {_s(w)}")
        elif a.type == "monitoring":
            until = f" until {_s(f['until'])}" if "until" in f else ""
            what = f"{_s(f.get('test'))} {_s(f.get('interval'))}{until}{_not_before(a)}"
            out.append(f"{pre}      - monitor {what}")
        elif a.type == "stop-drug":
            resume = f"; resume: {_s(f['resume_when'])}" if "resume_when" in f else ""
            out.append(f"{pre}      - {_s(f.get('mode'))} {_s(f.get('drug'))}{resume}")
        else:
            timing = f" ({_s(f['timing'])})" if "timing" in f else ""
            out.append(f"{pre}      - {_s(a.type)}: {_s(f.get('name'))}{timing}")
        if "note" in f:
            out.append(f"{pre}          note: {_b(f['note'], pre + ' ' * 16)}")
    cites = ", ".join(f"[{_s(c.key)}]" for c in r.citations)
    out.append(f"{pre}      sources: {cites}")
    return out


def _advice_lines(advice: ConditionalAdvice, pre: str, firm: set[str]) -> list[str]:
    """One undecided node: what it needs, then each alternative it leaves open ("If", "Else if",
    "Otherwise" for a choice node; "If" each for a collect node) with what it would recommend."""
    out: list[str] = []
    title = f" ({_s(advice.question)})" if advice.question else ""
    needs = _s(", ".join(advice.needs)) or "facts that are not enough"
    rule = "the first that holds applies" if advice.selects == "first" else "each that holds applies"
    out.append(f"{pre}{_s(advice.node)}{title}: cannot decide without {needs}; {rule}:")
    for k, alt in enumerate(advice.alternatives):
        label = f" ({_s(alt.label)})" if alt.label else ""
        if alt.branch < 0:
            head = "Otherwise" if advice.selects == "first" else "If none of the above holds"
        else:
            word = "Else if" if advice.selects == "first" and k > 0 else "If"
            head = f"{word} `{_s(alt.when)}`{label}"
        out.append(f"{pre}  {head}:")
        inner = pre + "    "
        if not alt.recommendations and not alt.conditional and alt.note is None:
            out.append(f"{inner}(nothing further)")
        for r in alt.recommendations:
            if r.id in firm:
                title_ = f"{_s(r.title)} " if r.title else ""
                out.append(f"{inner}- {title_}[{_s(r.id)}] (already recommended above)")
            else:
                out.extend(_recommendation_lines(r, "- ", inner))
        for c in alt.cautions:
            cites = ", ".join(f"[{_s(x.key)}]" for x in c.citations)
            out.append(f"{inner}! {_b(c.text, inner + '  ')} {cites}")
        for nested in alt.conditional:
            out.extend(_advice_lines(nested, inner, firm))
        if alt.note is not None:
            out.append(f"{inner}note: {_b(alt.note, inner + '      ')}")
    if advice.note is not None:
        out.append(f"{pre}  note: {_b(advice.note, pre + '        ')}")
    return out


def _plain(value: object) -> str:
    """A trace value without its display text (a result built without a guideline): booleans as
    ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _branch_text(b: BranchTrace) -> list[str]:
    """One branch of the explanation: outcome, condition, the values it read, and (when it was decided with
    facts unknown) for which unknowns it holds whatever their value."""
    vals = ", ".join(f"{_s(k)}={_s(b.shown.get(k, _plain(v)))}" for k, v in b.values.items())
    vals = f"   [{vals}]" if vals else ""
    out = [f"      {_s(b.outcome):>9}: {_s(b.condition)}{vals}"]
    if b.decided_over:
        over = _s(", ".join(b.decided_over))
        out.append(f"                 decided: {_s(b.outcome)} for every value of {over}")
    return out


def _score_outcomes(result: Result, name: str) -> list[str]:
    """What the nodes that compare score ``name`` made of it: ``risk: high (3 or more points)`` (the taken
    branch's label, else its condition), or ``risk: otherwise -> risk-low``."""
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
    out: list[str] = []
    for step in result.trace:
        if not any(b.index >= 0 and word.search(b.condition) for b in step.branches):
            continue
        taken = [b for b in step.branches if b.index >= 0 and b.outcome == "true"]
        if step.outcome == "branch" and taken:
            shown = taken[:1] if step.kind == "choice" else taken
            out.extend(f"{step.node}: {b.label or b.condition}" for b in shown)
        elif step.outcome == "otherwise":
            out.append(f"{step.node}: otherwise -> {', '.join(step.taken)}")
    return out


def _score_item_facts(result: Result, names: tuple[str, ...]) -> str:
    """`` - platelets 420 10*9/L (at 2026-11-23T08:00:00Z)``: the values an item used (known ones only)."""
    used = [f"{name} {_fact_text(result.facts[name])}" for name in names if name in result.facts]
    return f" - {'; '.join(used)}" if used else ""


def _scores_text(result: Result) -> list[str]:
    """The SCORES section: each score's value stated plainly (or its bounds, and whether the unknown items
    still matter), with what the deciding node made of it; each item's points (or what it needs) and the
    values it used, with their time."""
    if not result.scores:
        return []
    out = ["", "SCORES"]
    needed = {n.name for n in result.needed_facts}
    for sc in result.scores:
        settled = result.status == "complete" and not (set(sc.needs) & needed)
        outcome = "; ".join(_score_outcomes(result, sc.name))
        if not outcome and result.status == "complete":
            outcome = "not used for a decision: no node compared it"
        outcome = f" ({outcome})" if outcome else ""
        if sc.value is not None:
            shown = sc.display() + outcome
        else:  # the bounds, what the node made of them, then whether the unknown items still matter
            bounds, _, rest = sc.display(settled).partition("; ")
            shown = f"{bounds}{outcome}; {rest}"
        out.append(f"  {_s(sc.name)} = {_s(shown)}")
        out.extend(f"      {_s(item.display())}: {_s(item.label)}{_s(_score_item_facts(result, item.facts))}"
                   for item in sc.items)
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


def _assumed_lines(result: Result) -> list[str]:
    """The ``ASSUMED`` section: every default used for an absent fact (none: no section)."""
    if not result.assumed:
        return []
    out = ["", "ASSUMED - defaults of the guideline for facts not sent"]
    for av in result.assumed:
        if isinstance(av.value, list):
            value = ", ".join(av.value) or "(none)"
        elif isinstance(av.value, bool):
            value = "true" if av.value else "false"
        else:
            value = str(av.value)
        unit = f" {av.unit}" if av.unit else ""
        out.append(f"  = {_s(av.fact)}: {_s(value)}{_s(unit)} ({_s(av.reason)})")
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
