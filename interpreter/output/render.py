"""Renderings of a guideline for review and sign-off: a Mermaid flowchart and a Markdown document
(registered in ``registry.RENDERING_FORMATS``)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, assert_never

from ..textsafe import safe_block
from .options import PLAIN, FormatOptions


def format_decimal(value: Decimal) -> str:
    """``result.format_decimal``, imported when first needed: the result module (about 9 ms of frozen
    dataclasses) is not imported by ``guideline --help``, which imports this module for the format names."""
    from ..result import format_decimal as text

    return text(value)

if TYPE_CHECKING:
    from ..loading.model import GuidelineModel, Node, ScoreItem

__all__ = [
    "guideline_markdown", "guideline_mermaid", "md_block", "md_cell", "md_code", "md_inline", "md_text",
    "mermaid_label",
]


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


def _mermaid_shape(node: Node) -> tuple[str, str]:
    """The brackets of a node of each kind: a hexagon for a choice, a subroutine box for a collect."""
    kind = node.kind
    match kind:
        case "choice":
            return '{{"', '"}}'
        case "collect":
            return '[["', '"]]'
        case _:
            assert_never(kind)


def guideline_mermaid(model: GuidelineModel, options: FormatOptions = PLAIN) -> str:
    """A Mermaid flowchart of the decision tree."""
    mid = _MermaidIds()
    lines = ["flowchart TD"]
    for n in model.nodes:
        shape = _mermaid_shape(n)
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


def _markdown_kind(node: Node) -> tuple[str, list[str]]:
    """How a node of each kind reads: the note in its heading, and the lines after its branches."""
    kind = node.kind
    match kind:
        case "choice":
            unknown = ", ".join(md_code(t) for t in node.unknown) if node.unknown else "cannot decide"
            return "first branch that holds", [f"- if a deciding fact is unknown -> {unknown}"]
        case "collect":
            return "every branch that holds", []
        case _:
            assert_never(kind)


def _item_points(model: GuidelineModel, item: ScoreItem) -> tuple[list[tuple[str, str]], list[Decimal]]:
    """The rows of a score item (the condition in words or as written, its points) and every number of
    points it can give."""
    rows: list[tuple[str, str]] = []
    possible: list[Decimal] = []
    if item.input is not None and item.code_points:
        for word, points in item.code_points:
            rows.append((f"{md_code(item.input)} is {md_code(word)}", format_decimal(points)))
            possible.append(points)
        declared = model.inputs[item.input].values if item.input in model.inputs else ()
        listed = {w for w, _ in item.code_points}
        others = [w for w in declared if w not in listed]
        if others or not declared:
            words = ", ".join(md_code(w) for w in others) if others else "any other word"
            rows.append((f"{md_code(item.input)} is {words}", "0"))
            possible.append(Decimal(0))
    elif item.input is not None:
        rows.append((f"{md_code(item.input)} is true", format_decimal(item.points or Decimal(0))))
        rows.append((f"{md_code(item.input)} is false", "0"))
        possible += [item.points or Decimal(0), Decimal(0)]
    elif item.when is not None:
        rows.append((md_code(item.when), format_decimal(item.points or Decimal(0))))
        rows.append(("otherwise", "0"))
        possible += [item.points or Decimal(0), Decimal(0)]
    else:
        for band in item.bands:
            rows.append((md_code(band.when), format_decimal(band.points)))
            possible.append(band.points)
        rows.append(("otherwise (no band holds)", format_decimal(item.otherwise)))
        possible.append(item.otherwise)
    return rows, possible


def _names(name: str) -> re.Pattern[str]:
    """``name`` as a whole name in an expression (not part of a longer name)."""
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


def _markdown_scores(model: GuidelineModel) -> list[str]:
    """The Scores section: each score's items (condition or code table, points, first match for bands), its
    range, and every condition of a node that compares it (the thresholds that decide), for sign-off."""
    if not model.scores:
        return []
    out = ["", "## Scores"]
    for score in model.scores.values():
        out += ["", f"### {md_code(score.name)}", ""]
        if score.description:
            out += [md_block(score.description), ""]
        out += ["| item | condition | points |", "|---|---|---|"]
        low = high = Decimal(0)
        for item in score.items:
            rows, possible = _item_points(model, item)
            low += min(possible)
            high += max(possible)
            label = f"{item.index + 1}. {md_cell(item.label)}"
            if item.bands:
                label += " (first band that holds)"
            for n, (cond, points) in enumerate(rows):
                out.append(f"| {label if n == 0 else ''} | {cond.replace('|', chr(92) + '|')} | {points} |")
        out += ["", f"Range: {format_decimal(low)} to {format_decimal(high)} points (the sum of each item's "
                    "least and most points, a band item's otherwise included)."]
        conditions = " ".join([it.when or "" for it in score.items]
                              + [b.when for it in score.items for b in it.bands])
        units = [f"{md_code(i.name)} in {md_code(i.unit)}" for i in model.inputs.values()
                 if i.unit and _names(i.name).search(conditions)]
        if units:
            out += ["", "Numbers in the conditions are in each input's unit: " + ", ".join(units) + "."]
        word = _names(score.name)
        uses = [(node, b) for node in model.nodes for b in node.branches if word.search(b.when)]
        if uses:
            out += ["", "Decided on this score:", ""]
            for node, b in uses:
                label = f" ({md_inline(b.label)})" if b.label else ""
                out.append(f"- {md_code(node.id)} branch {b.index + 1}: when {md_code(b.when)}{label} -> "
                           + ", ".join(md_code(t) for t in b.then))
    return out


def guideline_markdown(model: GuidelineModel, options: FormatOptions = PLAIN) -> str:
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
        described = i.description
        if i.has_default:  # an assumption the reviewer signs off: shown beside the input
            shown = ", ".join(i.default) if isinstance(i.default, list) else str(i.default)
            if isinstance(i.default, bool):
                shown = "true" if i.default else "false"
            described += f" **Assumed when not sent: {shown or '(none)'}{' ' + i.unit if i.unit else ''}.**"
        cells = [md_code(i.name).replace("|", "\\|"), md_cell(i.type), md_cell(unit), md_cell(plaus),
                 md_cell(i.max_age_text or ""), md_cell(described)]
        out.append("| " + " | ".join(cells) + " |")
    if model.derived:
        out += ["", "## Derived values", ""]
        for d in model.derived.values():
            out.append(f"- {md_code(d.name)} = {md_code(d.expr)}: {md_inline(d.description)}")
    out += _markdown_scores(model)
    out += ["", "## Decisions", "", "```mermaid", guideline_mermaid(model).rstrip(), "```", ""]
    for n in model.nodes:
        kind, after_branches = _markdown_kind(n)
        out.append(f"### {md_code(n.id)}: {md_inline(n.title or '')} ({kind})")
        if n.description:
            out.append(md_block(n.description))
        out.append("")
        for b in n.branches:
            out.append(f"{b.index + 1}. when {md_code(b.when)} -> {', '.join(md_code(t) for t in b.then)}")
        if n.otherwise:
            out.append(f"- otherwise -> {', '.join(md_code(t) for t in n.otherwise)}")
        out += after_branches
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
