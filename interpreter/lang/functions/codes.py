"""Sets of codes: ``any_of(set, 'a', 'b', ...)`` (the set holds at least one of the words) and
``all_of(set, 'a', 'b', ...)`` (it holds every one of them).

The first argument is a ``code-set`` input; the others are quoted words of its code list, checked at load
(an unknown word is ``expr-unknown-code`` with a did-you-mean). One word alone is ``'a' in set``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...codes import Code
from ...values.suggest import did_you_mean
from ...values.text import echo
from ...values.types import BOOLEAN
from .arguments import kind_error
from .registry import ArgInfo, Resolved, SignatureError, function

__all__: list[str] = []

#: Most words after the set (the same bound as a literal list after `in`).
MAX_WORDS = 200


def _any_of(s: frozenset[str], words: frozenset[str]) -> bool:
    return not s.isdisjoint(words)


def _all_of(s: frozenset[str], words: frozenset[str]) -> bool:
    return words <= s


def _set_call(
    name: str, args: Sequence[ArgInfo], impl: Callable[[frozenset[str], frozenset[str]], bool]
) -> Resolved:
    first = args[0]
    if first.type.kind != "code-set":
        kind_error(name, 0, first, "a set-of-codes input (type: code-set)")
    values = first.type.values or frozenset()
    words: list[str] = []
    for i, a in enumerate(args[1:], start=1):
        if not (a.constant and a.type.kind == "string" and isinstance(a.value, str)):
            raise SignatureError(
                Code.EXPR_TYPE,
                f"{name}(): argument {i + 1} must be a quoted value of the list, not {a.type.describe()}",
                arg=i,
            )
        if a.value not in values:
            close = did_you_mean(a.value, sorted(values))
            raise SignatureError(
                Code.EXPR_UNKNOWN_CODE,
                f"{name}(): '{echo(a.value)}' is not one of the values: {', '.join(sorted(values))}",
                arg=i,
                hint=f"did you mean '{close}'?" if close else None,
            )
        words.append(a.value)
    return Resolved(BOOLEAN, impl, (0,), (None,), extra=(frozenset(words),))


@function(
    "any_of",
    arity=(2, 1 + MAX_WORDS),
    signature="(set: code-set, 'a', 'b', ...) -> boolean",
    doc="True when the set holds at least one of the quoted values (false for an empty set).",
)
def _resolve_any_of(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _set_call(name, args, _any_of)


@function(
    "all_of",
    arity=(2, 1 + MAX_WORDS),
    signature="(set: code-set, 'a', 'b', ...) -> boolean",
    doc="True when the set holds every one of the quoted values.",
)
def _resolve_all_of(name: str, args: Sequence[ArgInfo]) -> Resolved:
    return _set_call(name, args, _all_of)
