"""Readable renderings: a result for a clinician (text), a guideline as Mermaid and Markdown for sign-off."""

from __future__ import annotations

from .model import GuidelineModel
from .result import Result

__all__ = ["guideline_markdown", "guideline_mermaid", "result_text"]


def result_text(result: Result, *, explain: bool = False) -> str:
    """Recommendations first, then what is missing, then why."""
    g = result.guideline
    out: list[str] = []
    out.append(f"{g.title}")
    out.append(f"guideline {g.id} {g.version} ({g.status}), {g.content_hash}")
    out.append(f"as of {result.as_of.isoformat()}")
    if g.status != "approved":
        out.append(f"STATUS: {g.status.upper()} - this guideline version is not approved for clinical use")
    if result.complete:
        out.append("RESULT: complete")
    else:
        out.append(
            "RESULT: INCOMPLETE - some decisions could not be made; see MISSING below. "
            "Do not read the list as complete."
        )
    out.append("")
    out.append("RECOMMENDATIONS")
    if not result.recommendations:
        out.append("  (none)")
    for i, r in enumerate(result.recommendations, 1):
        head = f"{r.title}: " if r.title else ""
        out.append(f"{i:>2}. {head}{r.text}  [{r.id}]")
        for a in r.actions:
            if a.type == "caution":
                continue
            f = a.fields
            if a.type == "medication":
                dose = f" {a.dose.display}" if a.dose else ""
                parts = [f"{f.get('drug')}{dose}", f.get("route", ""), f.get("frequency", "")]
                line = " ".join(p for p in parts if p)
                for k in ("timing", "infusion", "until", "target"):
                    if k in f:
                        line += f"; {k.replace('_', ' ')}: {f[k]}"
                out.append(f"      - give {line}")
                if a.dose is not None:
                    for step in a.dose.calculation:
                        out.append(f"          dose: {step}")
                    for w in a.dose.warnings:
                        out.append(f"          WARNING: {w}")
            elif a.type == "monitoring":
                until = f" until {f['until']}" if "until" in f else ""
                out.append(f"      - monitor {f.get('test')} {f.get('interval')}{until}")
            elif a.type == "stop-drug":
                resume = f"; resume: {f['resume_when']}" if "resume_when" in f else ""
                out.append(f"      - {f.get('mode')} {f.get('drug')}{resume}")
            else:
                timing = f" ({f['timing']})" if "timing" in f else ""
                out.append(f"      - {a.type}: {f.get('name')}{timing}")
            if "note" in f:
                out.append(f"          note: {f['note']}")
        cites = ", ".join(f"[{c.key}]" for c in r.citations)
        out.append(f"      sources: {cites}")
    if result.cautions:
        out.append("")
        out.append("CAUTIONS")
        for c in result.cautions:
            cites = ", ".join(f"[{x.key}]" for x in c.citations)
            out.append(f"  ! {c.text} {cites}")
    if result.cannot_decide or result.needed_facts:
        out.append("")
        out.append("MISSING - cannot decide")
        for n in result.needed_facts:
            out.append(
                f"  ? {n.name} ({n.description}): {n.reason} - {n.detail}; needed by {', '.join(n.needed_by)}"
            )
        for cd in result.cannot_decide:
            out.append(f"  ? {cd.node}: cannot decide `{cd.condition}` without {', '.join(cd.needs)}")
    if result.unrecognized_facts:
        out.append("")
        out.append("UNRECOGNIZED FACTS (ignored)")
        for u in result.unrecognized_facts:
            hint = f" - did you mean '{u.suggestion}'?" if u.suggestion else ""
            out.append(f"  ~ {u.name}{hint}")
    out.append("")
    out.append("WHY")
    for tstep in result.trace:
        taken = ", ".join(tstep.taken) or "nothing"
        title = f" ({tstep.title})" if tstep.title else ""
        out.append(f"  {tstep.node}{title}: {tstep.outcome} -> {taken}")
        if explain:
            for b in tstep.branches:
                vals = ", ".join(f"{k}={v}" for k, v in b.values.items())
                vals = f"   [{vals}]" if vals else ""
                out.append(f"      {b.outcome:>9}: {b.condition}{vals}")
    if explain and result.facts:
        out.append("")
        out.append("FACTS USED")
        for name, shown in result.facts.items():
            out.append(f"  {name}: {_fact_text(shown)}")
    if result.disclaimer:
        out.append("")
        out.append(result.disclaimer)
    return "\n".join(out) + "\n"


def _fact_text(shown: object) -> str:
    """``0.4 10*9/L (given 400 /uL, at 2026-11-24T06:00:00Z)`` from a checked fact's record."""
    if not isinstance(shown, dict):
        return str(shown)
    value = shown.get("value")
    if isinstance(value, list):  # a series
        text = ", ".join(_fact_text(v) for v in value) or "(no results)"
    else:
        text = str(value) if not isinstance(value, bool) else str(value).lower()
    if shown.get("unit"):
        text += f" {shown['unit']}"
    extra = [f"given {shown['given']}"] if shown.get("given") else []
    if shown.get("at"):
        extra.append(f"at {shown['at']}")
    return text + (f" ({', '.join(extra)})" if extra else "")


def _mid(s: str) -> str:
    return s.replace("-", "_")


def _label(text: str) -> str:
    return text.replace('"', "'")


def guideline_mermaid(model: GuidelineModel) -> str:
    """A Mermaid flowchart of the decision tree."""
    lines = ["flowchart TD"]
    for n in model.nodes:
        shape = ('{{"', '"}}') if n.kind == "choice" else ('[["', '"]]')
        lines.append(f"  {_mid(n.id)}{shape[0]}{_label(n.title or n.id)}{shape[1]}")
    for r in model.recommendations:
        lines.append(f'  {_mid(r.id)}("{_label(r.title or r.id)}")')
    for n in model.nodes:
        for b in n.branches:
            for t in b.then:
                lines.append(f'  {_mid(n.id)} -->|"{_label(b.label or b.when)}"| {_mid(t)}')
        for t in n.otherwise or ():
            lines.append(f'  {_mid(n.id)} -->|"otherwise"| {_mid(t)}')
        for t in n.unknown:
            lines.append(f'  {_mid(n.id)} -.->|"unknown"| {_mid(t)}')
    return "\n".join(lines) + "\n"


def guideline_markdown(model: GuidelineModel) -> str:
    """A readable rendering for sign-off: metadata, inputs, decisions, recommendations, references."""
    out = [
        f"# {model.title}",
        "",
        f"- id: `{model.id}`, version {model.version}, status **{model.status}**",
        f"- content hash: `{model.content_hash}`",
        f"- effective from {model.effective_start.isoformat()}"
        + (f" to {model.effective_end.isoformat()}" if model.effective_end else ""),
        f"- last updated {model.last_updated.isoformat()}",
    ]
    if model.authors:
        out.append("- authors: " + ", ".join(p.name for p in model.authors))
    if model.reviewers:
        out.append("- reviewers: " + ", ".join(p.name for p in model.reviewers))
    if model.description:
        out += ["", model.description]
    out += [
        "",
        "## Inputs",
        "",
        "| name | type | unit | plausible | max age | description |",
        "|---|---|---|---|---|---|",
    ]
    for i in model.inputs.values():
        unit = i.unit or ""
        if i.accepted_units:
            unit += " (also " + ", ".join(i.accepted_units) + ")"
        plaus = f"{i.plausible_min}-{i.plausible_max}" if i.plausible_min is not None else ""
        if i.values:
            plaus = ", ".join(i.values)
        out.append(f"| `{i.name}` | {i.type} | {unit} | {plaus} | {i.max_age_text or ''} | {i.description} |")
    if model.derived:
        out += ["", "## Derived values", ""]
        for d in model.derived.values():
            out.append(f"- `{d.name}` = `{d.expr}`: {d.description}")
    out += ["", "## Decisions", "", "```mermaid", guideline_mermaid(model).rstrip(), "```", ""]
    for n in model.nodes:
        kind = "first branch that holds" if n.kind == "choice" else "every branch that holds"
        out.append(f"### `{n.id}`: {n.title or ''} ({kind})")
        if n.description:
            out.append(n.description)
        out.append("")
        for b in n.branches:
            out.append(f"{b.index + 1}. when `{b.when}` -> {', '.join(f'`{t}`' for t in b.then)}")
        if n.otherwise:
            out.append(f"- otherwise -> {', '.join(f'`{t}`' for t in n.otherwise)}")
        if n.kind == "choice":
            unknown = ", ".join(f"`{t}`" for t in n.unknown) if n.unknown else "cannot decide"
            out.append(f"- if a deciding fact is unknown -> {unknown}")
        out.append("")
    out += ["## Recommendations", ""]
    for r in model.recommendations:
        out.append(f"### `{r.id}`" + (f": {r.title}" if r.title else ""))
        out.append(r.text)
        for a in r.actions:
            if a.type == "medication" and a.dose is not None:
                basis = f" x {a.dose.basis}" if a.dose.basis else ""
                out.append(f"- {a.drug} {a.dose.amount} {a.dose.unit}{basis}, {a.route}, {a.frequency}")
            elif a.type == "caution":
                out.append(f"- caution: {a.text}")
            else:
                desc = a.drug or a.test or a.name or a.text or ""
                out.append(f"- {a.type}: {desc}")
        out.append("- cites: " + ", ".join(f"[{k}]" for k in r.cite))
        out.append("")
    out += ["## References", ""]
    for ref in model.references.values():
        out.append(f"- [{ref.key}] {ref.citation}")
    if model.disclaimer:
        out += ["", f"*{model.disclaimer}*"]
    return "\n".join(out) + "\n"
