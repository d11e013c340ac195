"""Compile the ``scores:`` of a guideline: every item becomes an ordered list of (condition, points) rules
(the first rule whose condition holds gives its points, else ``otherwise``), checked like any condition.

* ``{input: copd, points: 4}`` (a boolean input): the rule ``copd`` -> 4, otherwise 0;
* ``{input: site, points: {stomach: 2, lung: 1}}`` (a code input): ``site in ['stomach']`` -> 2,
  ``site in ['lung']`` -> 1, otherwise 0 (every word must be one of the input's values);
* ``{when: 'hb < 10 or esa', points: 1}``: the condition -> 1, otherwise 0;
* ``{bands: [{when: 'sbp < 90', points: 2}, ...], otherwise: 0}``: each band in order.

A score is a number in expressions (``khorana >= 3``); it depends on the inputs of all its items.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..codes import Code
from ..errors import Path
from ..lang.compile import CompiledExpression
from ..loading.model import (
    MAX_SCORE_BANDS,
    MAX_SCORE_CODE_WORDS,
    MAX_SCORE_ITEMS,
    MAX_SCORES,
    Score,
    ScoreItem,
)
from ..values.suggest import did_you_mean
from ..values.types import BOOLEAN, NUMBER

if TYPE_CHECKING:
    from .guideline import GuidelineCompiler

__all__ = ["CompiledScore", "CompiledScoreItem", "compile_scores"]


@dataclass(frozen=True, slots=True)
class CompiledScoreItem:
    index: int
    label: str
    #: (condition, points): the first condition that holds gives its points
    rules: tuple[tuple[CompiledExpression, Decimal], ...]
    otherwise: Decimal
    #: the names (inputs, derived values) the item reads, and the inputs it depends on through them
    names: frozenset[str]
    inputs: frozenset[str]
    #: every number of points the item can give (its rules' points and ``otherwise``), ascending
    possible: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class CompiledScore:
    name: str
    description: str
    items: tuple[CompiledScoreItem, ...]
    inputs: frozenset[str]


def _code_rules(c: GuidelineCompiler, score: Score, item: ScoreItem) -> list[tuple[str, Decimal]] | None:
    """The grouped ``name in [...]`` rules of a code item, or None after reporting an unknown word."""
    assert item.input is not None
    inp = c.model.inputs[item.input]
    ok = True
    groups: dict[Decimal, list[str]] = {}
    for word, points in item.code_points:
        if word not in inp.values:
            close = did_you_mean(word, list(inp.values))
            c.error(
                Code.SCORE_UNKNOWN_CODE,
                f"score '{score.name}', item {item.index + 1}: '{word}' is not one of the values of input "
                f"'{item.input}' ({', '.join(inp.values)})",
                (*item.path, "points", word),
                hint=f"did you mean '{close}'?" if close else "give points only to the input's values",
            )
            ok = False
            continue
        if points != 0:
            groups.setdefault(points, []).append(word)
    if not ok:
        return None
    return [
        (f"{item.input} in [{', '.join(repr(w) for w in words)}]", points) for points, words in groups.items()
    ]


def _item_sources(
    c: GuidelineCompiler, score: Score, item: ScoreItem
) -> list[tuple[str, Decimal, Path]] | None:
    """The (condition text, points, path) rules of one item, or None after reporting a problem."""
    if item.bands:
        return [(b.when, b.points, (*b.path, "when")) for b in item.bands]
    if item.when is not None:
        assert item.points is not None
        return [(item.when, item.points, (*item.path, "when"))]
    assert item.input is not None
    path: Path = (*item.path, "input")
    inp = c.model.inputs.get(item.input)
    if inp is None:
        close = did_you_mean(item.input, list(c.model.inputs))
        c.error(
            Code.SCORE_UNKNOWN_INPUT,
            f"score '{score.name}', item {item.index + 1}: '{item.input}' is not a declared input",
            path,
            hint=f"did you mean '{close}'?" if close else "declare it under inputs",
        )
        return None
    if inp.type == "boolean" and item.points is not None:
        return [(item.input, item.points, path)]
    if inp.type == "code" and item.code_points:
        rules = _code_rules(c, score, item)
        return None if rules is None else [(text, points, path) for text, points in rules]
    wanted = "a number of points" if inp.type == "boolean" else (
        "a mapping of its words to points" if inp.type == "code" else "`when` or `bands` instead of `input`"
    )
    c.error(
        Code.SCORE_ITEM_TYPE,
        f"score '{score.name}', item {item.index + 1}: input '{item.input}' is {inp.value_type.describe()}; "
        f"its item needs {wanted}",
        (*item.path, "points"),
        hint="a boolean input takes `points: N`; a code input `points: {word: N}`; a number or quantity "
        "`bands: [{when: ..., points: N}]` or `when: ...` with `points`",
    )
    return None


def _within_bounds(c: GuidelineCompiler) -> bool:
    """Whether every score is within the bounds (each excess reported at its place, before any work)."""
    ok = True

    def too_large(message: str, path: Path, hint: str) -> None:
        nonlocal ok
        ok = False
        c.error(Code.SCORE_TOO_LARGE, message, path, hint=hint)

    scores = c.model.scores
    if len(scores) > MAX_SCORES:
        too_large(f"{len(scores)} scores; a guideline has at most {MAX_SCORES}", ("scores",),
                  "merge scores, or split the guideline")
        return False
    for score in scores.values():
        if len(score.items) > MAX_SCORE_ITEMS:
            too_large(
                f"score '{score.name}' has {len(score.items)} items; a score has at most {MAX_SCORE_ITEMS}",
                (*score.path, "items"), "a published score has a handful of items: check for a generated one",
            )
            continue
        for item in score.items:
            where = f"score '{score.name}', item {item.index + 1}"
            if len(item.bands) > MAX_SCORE_BANDS:
                too_large(f"{where} has {len(item.bands)} bands; an item has at most {MAX_SCORE_BANDS}",
                          (*item.path, "bands"), "use fewer, wider bands")
            if len(item.code_points) > MAX_SCORE_CODE_WORDS:
                too_large(
                    f"{where} gives points to {len(item.code_points)} words; at most {MAX_SCORE_CODE_WORDS}",
                    (*item.path, "points"), "words not listed give 0 points: list only those that score",
                )
    return ok


def compile_scores(
    c: GuidelineCompiler, deps: dict[str, frozenset[str]]
) -> tuple[tuple[CompiledScore, ...], bool]:
    """Compile every score; add each score's name to ``c.env`` (a number) and its inputs to ``deps``.

    Returns (the scores compiled, whether all compiled)."""
    out: list[CompiledScore] = []
    if not _within_bounds(c):
        for name in c.model.scores:  # known names, so that conditions reading them report nothing more
            c.env.setdefault(name, NUMBER)
            deps.setdefault(name, frozenset())
        return (), False
    ok = True
    for name, score in c.model.scores.items():
        if name in c.env:
            kind = "an input" if name in c.model.inputs else "a derived value"
            c.error(
                Code.SCORE_NAME_TAKEN,
                f"score '{name}' has the name of {kind}",
                score.path,
                hint="give the score a name of its own (e.g. khorana_score)",
            )
            ok = False
            continue
        items: list[CompiledScoreItem] = []
        for item in score.items:
            sources = _item_sources(c, score, item)
            if sources is None:
                ok = False
                continue
            rules: list[tuple[CompiledExpression, Decimal]] = []
            for text, points, path in sources:
                compiled = c.expr(text, path, BOOLEAN)
                if compiled is None:
                    ok = False
                    continue
                rules.append((compiled, points))
            if len(rules) != len(sources):
                continue
            names = frozenset().union(*(r.names for r, _ in rules))
            inputs = frozenset().union(*(deps.get(n, frozenset()) for n in names))
            possible = tuple(sorted({*(p for _, p in rules), item.otherwise}))
            compiled_item = CompiledScoreItem(
                item.index, item.label, tuple(rules), item.otherwise, names, inputs, possible
            )
            items.append(compiled_item)
        inputs = frozenset().union(*(i.inputs for i in items))
        out.append(CompiledScore(name, score.description, tuple(items), inputs))
    for s in out:
        c.env[s.name] = NUMBER
        deps[s.name] = s.inputs
    return tuple(out), ok

