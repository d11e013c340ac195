"""Values written twice where each value counts once: ``duplicate-value`` (issue 8, review finding 13).

Four lists are sets in meaning, so a value repeated in them changes nothing the engine computes:

* the literal list after ``in`` / ``not in`` (``cause in ['chemo', 'chemo']``);
* the words of ``any_of`` / ``all_of`` (``any_of(causes, 'radiation', 'radiation')``);
* a recommendation's ``supersedes`` (``[{id: rb, reason: ...}, rb]``);
* a code-set input's ``default:`` (``[x, x]``).

A repetition is still reported, as a **warning** (an error under ``validate --strict``), because it is the
trace of a slip: the author copied a word and forgot to change it, so the list most likely lacks the word that
was meant (``['chemo', 'chemo']`` for ``['chemo', 'radiation']``), and a narrower condition than intended
fails silently for the patients it leaves out. The engine cannot know which word was meant, and every word of
such a list is already checked against the input's code list (a misspelt word is ``expr-unknown-code``), so
the repetition is the only sign left; the hint names the declared words the list leaves out, which is where
the intended one is. It is not an error because the guideline as written means exactly one thing (the set):
nothing is ambiguous at evaluation. The only exception is two ``supersedes`` entries for the same id with
*different* reasons: the message names both (which one is shown is the author's to decide).

Each repetition is located at the repeated (second) occurrence, with the first as a related location.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Final

from ..codes import Code
from ..errors import Diagnostic, Location, Path
from ..lang.compile import CompiledExpression
from ..loading.model import GuidelineModel
from ..values.text import echo
from .registry import CheckInfo, report, rule
from .trees import walk

__all__: list[str] = []

_SET_FUNCTIONS: Final = frozenset({"any_of", "all_of"})
#: At most this many left-out words are named in a hint.
_MAX_NAMED: Final = 8


@rule(Code.DUPLICATE_VALUE)
def _duplicate_values(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    yield from _in_expressions(model, info)
    yield from _in_supersedes(model)
    yield from _in_defaults(model)


def _in_expressions(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for path, compiled in sorted(info.compiled.items(), key=lambda item: str(item[0])):
        if "'" not in compiled.source and '"' not in compiled.source:
            continue  # no text literal, so no repeated word
        for node in walk(compiled.tree):
            if (isinstance(node, ast.Compare) and len(node.ops) == 1
                    and isinstance(node.ops[0], ast.In | ast.NotIn)
                    and isinstance(node.comparators[0], ast.List | ast.Tuple)):
                op = "not in" if isinstance(node.ops[0], ast.NotIn) else "in"
                what = f"the list after `{op}`"
                yield from _repeated_words(model, path, compiled, node.left, node.comparators[0].elts, what)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in _SET_FUNCTIONS and node.args):
                yield from _repeated_words(model, path, compiled, node.args[0], node.args[1:],
                                           f"the words of {node.func.id}()")


def _repeated_words(model: GuidelineModel, path: Path, compiled: CompiledExpression, subject: ast.expr,
                    elements: Sequence[ast.expr], what: str) -> Iterator[Diagnostic]:
    first: dict[str, ast.expr] = {}
    for e in elements:
        if not (isinstance(e, ast.Constant) and isinstance(e.value, str)):
            continue
        if e.value not in first:
            first[e.value] = e
            continue
        name = subject.id if isinstance(subject, ast.Name) else None
        inp = model.inputs.get(name) if name is not None else None
        missing = [v for v in (inp.values if inp is not None else ()) if v not in first]
        hint = _hint(f"the words of {name} not in the list", missing)
        d = report(model, Code.DUPLICATE_VALUE,
                   f"'{echo(e.value)}' is written twice in {what} (in `{_short(_flat(compiled.source))}`): a "
                   "repeated word counts once, and often stands where another word was meant", path, hint)
        yield Diagnostic(d.code, d.message, _position(model, path, compiled, e), d.severity, d.path, d.hint,
                         (_position(model, path, compiled, first[e.value]),))


def _in_supersedes(model: GuidelineModel) -> Iterator[Diagnostic]:
    for r in model.recommendations:
        seen: dict[str, int] = {}
        for k, s in enumerate(r.supersedes):
            if s.id not in seen:
                seen[s.id] = k
                continue
            before = r.supersedes[seen[s.id]]
            differ = before.reason is not None and s.reason is not None and before.reason != s.reason
            detail = (f"; the two entries give different reasons ('{echo(before.reason or '')}' and "
                      f"'{echo(s.reason or '')}')" if differ else "")
            yield report(model, Code.DUPLICATE_VALUE,
                         f"recommendation '{r.id}' supersedes '{s.id}' twice{detail}", s.path,
                         "keep one entry (with the reason to show), or name the recommendation meant",
                         (before.location,))


def _in_defaults(model: GuidelineModel) -> Iterator[Diagnostic]:
    for inp in model.inputs.values():
        if inp.type != "code-set" or not inp.has_default or not isinstance(inp.default, list | tuple):
            continue
        seen: dict[str, int] = {}
        for k, word in enumerate(inp.default):
            if not isinstance(word, str):
                continue  # input-default-invalid reports it
            if word not in seen:
                seen[word] = k
                continue
            path: Path = (*inp.path, "default", k)
            missing = [v for v in inp.values if v not in seen]
            yield report(model, Code.DUPLICATE_VALUE,
                         f"input '{inp.name}': '{echo(word)}' is written twice in the default; a set "
                         "holds it once", path, _hint(f"the words of {inp.name} not in the default", missing),
                         (model.source_map.at((*inp.path, "default", seen[word])),))


def _hint(what: str, missing: Sequence[str]) -> str:
    """The fix, with the declared words the list leaves out (where the word meant is)."""
    hint = "remove the repetition, or write the word that was meant"
    if not missing:
        return hint
    shown = ", ".join(f"'{echo(v)}'" for v in missing[:_MAX_NAMED])
    more = f" and {len(missing) - _MAX_NAMED} more" if len(missing) > _MAX_NAMED else ""
    return f"{hint}; {what}: {shown}{more}"


def _flat(source: str) -> str:
    """The text the syntax tree was parsed from (as ``lang.parse`` makes it: one line, no leading space)."""
    return source.replace("\r\n", "  ").replace("\n", " ").replace("\r", " ").replace("\t", " ").lstrip()


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _chars(flat: str, byte_offset: int) -> int:
    """``ast`` offsets count UTF-8 bytes; the source map counts characters."""
    return len(flat.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _position(model: GuidelineModel, path: Path, compiled: CompiledExpression, node: ast.expr) -> Location:
    source = compiled.source
    shift = len(source) - len(source.lstrip())
    return model.source_map.position(path, shift + _chars(_flat(source), node.col_offset))


