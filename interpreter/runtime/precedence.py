"""The precedence rule between recommendations that apply together, in one place: the firm result
(``assemble.py``) and each alternative of conditional advice (``conditional.py``) apply it alike.

1. **Superseded.** A recommendation that applied is not shown when another one that applies names it in
   ``supersedes`` (decided on every recommendation that applies, before any is hidden). In an alternative,
   the recommendations that apply beside it (the firm ones, and those of the alternatives it is nested in)
   supersede too: an alternative never shows what a recommendation that would apply with it supersedes.
2. **Urgency.** The recommendations shown are ordered by urgency (immediate, urgent, routine; routine when
   not declared), and within one level in the order of the walk (a stable sort).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..compiler.guideline import CompiledGuideline
from ..result import SupersededResult

__all__ = ["apply_precedence"]


def apply_precedence(
    g: CompiledGuideline, applied: Mapping[str, tuple[str, ...]], beside: Collection[str] = ()
) -> tuple[tuple[SupersededResult, ...], list[str]]:
    """The recommendations of ``applied`` that are superseded (in the walk's order) and the ids shown,
    ordered by urgency then by the walk. ``beside``: recommendations that apply as well but are shown
    elsewhere (they supersede, and are neither listed nor hidden here)."""
    by_map, ranks = g.superseded_by, g.urgency_rank
    superseded: list[SupersededResult] = []
    shown: list[str] = []
    if not by_map:  # nothing supersedes anything in this guideline
        shown = list(applied)
    else:
        for rid in applied:
            by = by_map.get(rid)
            if by is not None:
                active = tuple((i, reason) for i, reason in by if i in applied or i in beside)
                if active:
                    superseded.append(SupersededResult(rid, g.recommendations[rid].title, active))
                    continue
            shown.append(rid)
    if ranks and len(shown) > 1:
        shown.sort(key=lambda rid: ranks.get(rid, 2))
    return tuple(superseded), shown
