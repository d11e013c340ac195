"""Readable renderings: a result for a clinician (text), a guideline as Mermaid and Markdown for sign-off."""

from __future__ import annotations

import re

from ..loading.model import GuidelineModel
from ..result import Result
from ..textsafe import safe_block, safe_line

_s = safe_line
_b = safe_block

__all__ = [
    "guideline_markdown", "guideline_mermaid", "md_cell", "md_code", "md_text", "mermaid_label",
    "result_text",
]


def result_text(result: Result, *, explain: bool = False) -> str:
    """Recommendations first, then what is missing, then why."""
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
    out.append("")
    out.append("RECOMMENDATIONS")
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
                vals = ", ".join(f"{_s(k)}={_s(v)}" for k, v in b.values.items())
                vals = f"   [{vals}]" if vals else ""
                out.append(f"      {_s(b.outcome):>9}: {_s(b.condition)}{vals}")
    if explain and result.facts:
        out.append("")
        out.append("FACTS USED")
        for name, shown in result.facts.items():
            out.append(f"  {_s(name)}: {_s(_fact_text(shown))}")
    if result.disclaimer:
        out.append("")
        out.append(_b(result.disclaimer, "  "))
    return "\n".join(out) + "\n"


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


# Mermaid ------------------------------------------------------------------------------------------------

_MERMAID_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class _MermaidIds:
    """Safe Mermaid node ids: ``id_`` + the kebab-case id with ``_`` for ``-`` (so ``end``, ``graph``,
    ``subgraph`` or an id starting with ``o``/``x`` never meets Mermaid's keywords or edge syntax); any
    other text (which a valid guideline never has) gets a numbered id ``other_<n>``."""

    def __init__(self) -> None:
        self._other: dict[str, str] = {}

    def __call__(self, node_id: str) -> str:
        if _MERMAID_ID.fullmatch(node_id):
            return "id_" + node_id.replace("-", "_")
        return self._other.setdefault(node_id, f"other_{len(self._other) + 1}")


_MERMAID_ENTITIES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
                     "|": "#124;", "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;"}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_ENTITIES)) + "]")


def mermaid_label(text: str) -> str:
    """Text for a quoted Mermaid label: one line, Mermaid's entity codes for characters with a meaning
    (quotes, ``#``, brackets, ``|``, backticks, HTML), line breaks as spaces, other controls escaped."""
    one_line = " ".join(safe_block(text, "").split("\n"))
    return _MERMAID_SPECIAL.sub(lambda m: _MERMAID_ENTITIES[m.group()], one_line)


def guideline_mermaid(model: GuidelineModel) -> str:
    """A Mermaid flowchart of the decision tree."""
    mid = _MermaidIds()
    lines = ["flowchart TD"]
    for n in model.nodes:
        shape = ('{{"', '"}}') if n.kind == "choice" else ('[["', '"]]')
        lines.append(f"  {mid(n.id)}{shape[0]}{mermaid_label(n.title or n.id)}{shape[1]}")
    for r in model.recommendations:
        lines.append(f'  {mid(r.id)}("{mermaid_label(r.title or r.id)}")')
    for n in model.nodes:
        for b in n.branches:
            for t in b.then:
                lines.append(f'  {mid(n.id)} -->|"{mermaid_label(b.label or b.when)}"| {mid(t)}')
        for t in n.otherwise or ():
            lines.append(f'  {mid(n.id)} -->|"otherwise"| {mid(t)}')
        for t in n.unknown:
            lines.append(f'  {mid(n.id)} -.->|"unknown"| {mid(t)}')
    return "\n".join(lines) + "\n"


# Markdown -----------------------------------------------------------------------------------------------


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_SPECIAL = re.compile("[&<>]")
#: The start of a line of author text that would change the document's structure: a code fence (which
#: swallows the rest of the document), a heading (a forged section), a thematic break or setext underline,
#: or a link reference definition (a line that renders as nothing). Its first mark is escaped.
_BLOCK_START = re.compile(r"^( {0,3})(?=`{3,}|~{3,}|#|(?:[-=*_] *){3,}$|=+ *$|\[[^\]]*\]:)", flags=re.M)


def md_text(text: object) -> str:
    """Author text for Markdown outside a code span: controls and invisible characters escaped
    (``safe_block``), and ``&``, ``<``, ``>`` written as HTML entities, so that no author text becomes
    HTML (``<!--`` would hide the rest of the document, ``</table><script>`` break out of a table) or a
    block quote. Line breaks are kept."""
    return _HTML_SPECIAL.sub(lambda m: _HTML[m.group()], safe_block(text, ""))


def md_cell(text: object) -> str:
    """Text for a Markdown table cell: ``|`` escaped, line breaks as ``<br>``, HTML and controls escaped."""
    return "<br>".join(md_text(text).split("\n")).replace("|", "\\|")


def md_inline(text: object) -> str:
    """Text inside a Markdown line (a heading, a list item): one line, HTML and controls escaped."""
    return " ".join(md_text(text).split("\n"))


def md_code(text: object) -> str:
    """An inline code span holding ``text`` on one line, fenced with more backticks than it contains (its
    content is literal in Markdown: no HTML escaping, which would show as ``&lt;``)."""
    body = " ".join(safe_block(text, "").split("\n"))
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def md_block(text: object) -> str:
    """A paragraph of author text: line breaks kept, HTML and controls escaped, and a line that would open
    a code fence, a heading, a thematic break or a link reference definition written with its first mark
    escaped (``\\#``, ``\\```` ``` ````), so it reads as the author wrote it, inside the paragraph."""
    return _BLOCK_START.sub(lambda m: f"{m.group(1)}\\", md_text(text))


def guideline_markdown(model: GuidelineModel) -> str:
    """A readable rendering for sign-off: metadata, inputs, decisions, recommendations, references.

    Author text is escaped for where it lands (``md_cell`` in tables, ``md_code`` in code spans,
    ``md_inline`` in headings and list items), so no text can break the document's structure.
    """
    out = [
        f"# {md_inline(model.title)}",
        "",
        f"- id: {md_code(model.id)}, version {md_inline(model.version)}, "
        f"status **{md_inline(model.status)}**",
        f"- content hash: {md_code(model.content_hash)}",
        f"- effective from {model.effective_start.isoformat()}"
        + (f" to {model.effective_end.isoformat()}" if model.effective_end else ""),
        f"- last updated {model.last_updated.isoformat()}",
    ]
    if model.authors:
        out.append("- authors: " + md_inline(", ".join(p.name for p in model.authors)))
    if model.reviewers:
        out.append("- reviewers: " + md_inline(", ".join(p.name for p in model.reviewers)))
    if model.description:
        out += ["", md_block(model.description)]
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
        cells = [md_code(i.name).replace("|", "\\|"), md_cell(i.type), md_cell(unit), md_cell(plaus),
                 md_cell(i.max_age_text or ""), md_cell(i.description)]
        out.append("| " + " | ".join(cells) + " |")
    if model.derived:
        out += ["", "## Derived values", ""]
        for d in model.derived.values():
            out.append(f"- {md_code(d.name)} = {md_code(d.expr)}: {md_inline(d.description)}")
    out += ["", "## Decisions", "", "```mermaid", guideline_mermaid(model).rstrip(), "```", ""]
    for n in model.nodes:
        kind = "first branch that holds" if n.kind == "choice" else "every branch that holds"
        out.append(f"### {md_code(n.id)}: {md_inline(n.title or '')} ({kind})")
        if n.description:
            out.append(md_block(n.description))
        out.append("")
        for b in n.branches:
            out.append(f"{b.index + 1}. when {md_code(b.when)} -> {', '.join(md_code(t) for t in b.then)}")
        if n.otherwise:
            out.append(f"- otherwise -> {', '.join(md_code(t) for t in n.otherwise)}")
        if n.kind == "choice":
            unknown = ", ".join(md_code(t) for t in n.unknown) if n.unknown else "cannot decide"
            out.append(f"- if a deciding fact is unknown -> {unknown}")
        out.append("")
    out += ["## Recommendations", ""]
    for r in model.recommendations:
        out.append(f"### {md_code(r.id)}" + (f": {md_inline(r.title)}" if r.title else ""))
        out.append(md_block(r.text))
        for a in r.actions:
            if a.type == "medication" and a.dose is not None:
                basis = f" x {a.dose.basis}" if a.dose.basis else ""
                dose = f"{a.drug} {a.dose.amount} {a.dose.unit}{basis}, {a.route}, {a.frequency}"
                out.append(f"- {md_inline(dose)}")
            elif a.type == "caution":
                out.append(f"- caution: {md_inline(a.text)}")
            else:
                desc = a.drug or a.test or a.name or a.text or ""
                out.append(f"- {md_inline(a.type)}: {md_inline(desc)}")
        out.append("- cites: " + md_inline(", ".join(f"[{k}]" for k in r.cite)))
        out.append("")
    out += ["## References", ""]
    for ref in model.references.values():
        out.append(f"- [{md_inline(ref.key)}] {md_inline(ref.citation)}")
    if model.disclaimer:
        out += ["", f"*{md_inline(model.disclaimer)}*"]
    return "\n".join(out) + "\n"
