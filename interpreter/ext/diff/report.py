"""The diff report: JSON for tools, Markdown for a committee (echoed text escaped with ``textsafe``)."""

from __future__ import annotations

import json
from typing import Any

from ...api import Guideline
from ...textsafe import escape_surrogates
from .behaviour import Behaviour
from .static import StaticDiff

__all__ = ["DiffReport", "to_json", "to_markdown"]


class DiffReport:
    def __init__(self, old: Guideline, new: Guideline, static: StaticDiff, behaviour: Behaviour) -> None:
        self.old, self.new, self.static, self.behaviour = old, new, static, behaviour

    @property
    def changed(self) -> bool:
        return self.behaviour.changed > 0


def _g(g: Guideline) -> dict[str, str]:
    return {"id": g.id, "version": g.version, "content_hash": g.content_hash, "file": g.file}


def to_json(report: DiffReport) -> dict[str, Any]:
    b = report.behaviour
    return {
        "format_version": 1,
        "old": _g(report.old),
        "new": _g(report.new),
        "static": report.static.to_json(),
        "behaviour": {
            "as_of": b.as_of,
            "patients": b.patients,
            "generated": b.generated,
            "given": b.given,
            "changed": b.changed,
            "changed_ids": b.changed_ids,
            "transitions": [
                {"count": t.count, "old": t.old, "new": t.new, "example": t.example_trace}
                for t in b.transitions
            ],
        },
    }


def _cell(text: object) -> str:
    """A Markdown table cell: `|` escaped, line breaks as <br>, HTML-significant characters escaped."""
    s = escape_surrogates("" if text is None else str(text))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def _code(text: str) -> str:
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _outcome(sig: dict[str, Any]) -> str:
    if "error" in sig:
        return f"error {sig['error']}"
    parts = [sig["status"], ", ".join(sig["recommendations"]) or "no recommendation"]
    for _rec, drug, dose, route, freq in sig["medications"]:
        parts.append(" ".join(str(x) for x in (drug, dose, route, freq) if x))
    if sig["needs"]:
        parts.append("needs " + ", ".join(sig["needs"]))
    return "; ".join(parts)


def _changes(old: dict[str, Any], new: dict[str, Any]) -> str:
    if "error" in old or "error" in new:
        return f"{_outcome(old)} -> {_outcome(new)}"
    out = []
    if old["status"] != new["status"]:
        out.append(f"{old['status']} -> {new['status']}")
    ro, rn = set(old["recommendations"]), set(new["recommendations"])
    out += [f"+{r}" for r in sorted(rn - ro)] + [f"-{r}" for r in sorted(ro - rn)]
    if old["medications"] != new["medications"]:
        out.append("medication changed")
    if old["cautions"] != new["cautions"]:
        out.append("cautions changed")
    no, nn = set(old["needs"]), set(new["needs"])
    out += [f"needs +{n}" for n in sorted(nn - no)] + [f"needs -{n}" for n in sorted(no - nn)]
    return ", ".join(out)


def _trace_table(example: dict[str, Any]) -> list[str]:
    old, new = example["old"].get("steps", {}), example["new"].get("steps", {})
    lines = ["| node | old version | new version |", "|---|---|---|"]
    nodes = list(old) + [n for n in new if n not in old]

    def side(step: dict[str, Any] | None) -> str:
        if step is None:
            return "(not reached)"
        held = [b["condition"] for b in step["branches"] if b["outcome"] == "true"]
        text = f"{step['outcome']}: {', '.join(step['taken']) or '-'}"
        if held:
            text += " (held: " + "; ".join(held) + ")"
        return text

    for n in nodes:
        mark = (
            " **(differs)**"
            if (old.get(n) or {}).get("taken") != (new.get(n) or {}).get("taken")
            or (old.get(n) or {}).get("outcome") != (new.get(n) or {}).get("outcome")
            else ""
        )
        lines.append(f"| {_cell(n)}{mark} | {_cell(side(old.get(n)))} | {_cell(side(new.get(n)))} |")
    for key in ("old", "new"):
        if "error" in example[key]:
            lines.append(f"\n{key} version: {_cell(example[key]['error'])}")
    return lines


def to_markdown(report: DiffReport) -> str:
    o, n, b = report.old, report.new, report.behaviour
    out = [f"# Guideline diff: {_cell(o.id)} {_cell(o.version)} -> {_cell(n.id)} {_cell(n.version)}", ""]
    out += [
        f"- old: `{_cell(o.file)}` ({o.content_hash[:19]})",
        f"- new: `{_cell(n.file)}` ({n.content_hash[:19]})",
        "",
    ]
    out += ["## Static changes", ""]
    if not report.static.changes:
        out += ["No change in inputs, derived values, nodes or recommendations.", ""]
    else:
        out += ["| kind | id | change | where | old | new |", "|---|---|---|---|---|---|"]
        for c in report.static.changes:
            out.append(
                f"| {c.kind} | {_cell(c.id)} | {c.what} | {_cell(c.where or '')} | {_cell(c.old or '')} "
                f"| {_cell(c.new or '')} |"
            )
        out.append("")
    out += ["## Behaviour", ""]
    source = f"{b.generated} generated from the thresholds of both versions"
    if b.given:
        source += f", {b.given} from the corpus given"
    out += [
        f"{b.patients} patients ({source}), evaluated at {_cell(b.as_of)} unless a row gives its own time.",
        "",
    ]
    if not b.changed:
        out += ["**No patient's outcome changes.**", ""]
        return "\n".join(out)
    share = 100 * b.changed / b.patients if b.patients else 0
    out += [
        f"**{b.changed} patients ({share:.2f}%) change outcome**, in {len(b.transitions)} transitions.",
        "",
    ]
    out += [
        "| # | patients | change | old outcome | new outcome | example | decided differently at |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, t in enumerate(b.transitions, 1):
        ex = t.example_trace
        nodes = ", ".join(d["node"] for d in ex.get("nodes", []) if d["why"] == "decided differently")
        out.append(
            f"| {i} | {t.count} | {_cell(_changes(t.old, t.new))} | {_cell(_outcome(t.old))} | "
            f"{_cell(_outcome(t.new))} | {_cell(ex.get('id'))} | {_cell(nodes)} |"
        )
    out.append("")
    for i, t in enumerate(b.transitions, 1):
        ex = t.example_trace
        out += [f"### Transition {i}: {_cell(_changes(t.old, t.new))} ({t.count} patients)", ""]
        out += [
            f"Example `{_cell(ex.get('id'))}` (row {ex.get('row')}, as of {_cell(ex.get('as_of'))}), "
            "the smallest of its transition:",
            "",
        ]
        facts = escape_surrogates(json.dumps(ex.get("facts"), indent=1, ensure_ascii=True))
        fence = "```"
        while fence in facts:
            fence += "`"
        out += [fence + "json", facts, fence, ""]
        causes = [d for d in ex.get("nodes", [])]
        if causes:
            out += ["Caused at: " + "; ".join(f"{_code(d['node'])} ({d['why']})" for d in causes), ""]
        out += [*_trace_table(ex), ""]
    return "\n".join(out)
