"""What the runtime needs to know of an expression's syntax tree, read from the tree once, at load.

A compiled expression does not keep its tree (Python ``ast`` nodes, about 80 bytes each with their
attributes): it keeps these small summaries, which the runtime reads when it completes an unknown condition
(``runtime/completion.py``) and when it names the days a series lacks (``runtime/assemble.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from .quantities import Threshold

__all__ = [
    "DAY_WINDOWS",
    "CodeSetUses",
    "code_set_uses",
    "day_windows",
    "direct_thresholds",
    "name_ids",
    "resolve_words",
]

#: The day predicates whose third argument is a number of consecutive days.
DAY_WINDOWS = frozenset({"at_or_above_on_days", "above_on_days"})

#: The uses of a code set: a quoted word (False, word) or a name compared with it (True, name); None when it
#: is used some other way.
CodeSetUses = tuple[tuple[bool, str], ...] | None


class _CodeInput(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def values(self) -> tuple[str, ...]: ...


def name_ids(tree: ast.AST) -> tuple[str, ...]:
    """Every name written in ``tree`` (inputs, derived values, functions), sorted, once each."""
    return tuple(sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}))


def day_windows(tree: ast.AST) -> tuple[tuple[str, int], ...]:
    """(series name, days) of every day-window call ``f(series, threshold, days)`` with a literal number of
    days."""
    found: list[tuple[str, int]] = []
    for call in ast.walk(tree):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id in DAY_WINDOWS and len(call.args) == 3
                and isinstance(call.args[0], ast.Name)
                and isinstance(call.args[2], ast.Constant) and type(call.args[2].value) is int):
            found.append((call.args[0].id, call.args[2].value))
    return tuple(found)


def direct_thresholds(
    tree: ast.Expression, thresholds: tuple[Threshold, ...], name: str
) -> tuple[Decimal, ...] | None:
    """The constants ``name`` is compared with, when every use of ``name`` in ``tree`` is a comparison with a
    constant (recorded in ``thresholds``); None when it is used any other way."""
    uses = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for k, operand in enumerate(operands):
                if isinstance(operand, ast.Name) and operand.id == name:
                    uses += (k > 0) + (k < len(node.ops))
        elif isinstance(node, ast.Call):
            if any(isinstance(a, ast.Name) and a.id == name for a in node.args):
                return None
        elif isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp):
            children = (
                [node.left, node.right] if isinstance(node, ast.BinOp)
                else [node.operand] if isinstance(node, ast.UnaryOp) else node.values
            )
            if any(isinstance(a, ast.Name) and a.id == name for a in children):
                return None
    if isinstance(tree.body, ast.Name) and tree.body.id == name:
        return None
    found = tuple(t.value for t in thresholds if t.name == name)
    return found if uses and len(found) == uses else None


def code_set_uses(tree: ast.AST, name: str) -> CodeSetUses:
    """How the code set ``name`` is used in ``tree``, when every use of it is a membership test with a quoted
    word or a name (``'w' in name``, ``c not in name``) or ``any_of`` / ``all_of`` of it with quoted words;
    None when it is used any other way. ``resolve_words`` gives the words, once the names are known."""
    uses_found: list[tuple[bool, str]] = []
    uses = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            uses += 1
        elif isinstance(node, ast.Compare):
            if not (len(node.ops) == 1 and isinstance(node.ops[0], ast.In | ast.NotIn)):
                continue
            right, left = node.comparators[0], node.left
            if not (isinstance(right, ast.Name) and right.id == name):
                continue
            if isinstance(left, ast.Constant) and isinstance(left.value, str):
                uses_found.append((False, left.value))
            elif isinstance(left, ast.Name):
                uses_found.append((True, left.id))
            else:
                return None
            uses -= 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("any_of", "all_of") and node.args \
                and isinstance(node.args[0], ast.Name) and node.args[0].id == name:
            rest = node.args[1:]
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in rest):
                return None
            uses_found.extend((False, a.value) for a in rest if isinstance(a, ast.Constant)
                              and isinstance(a.value, str))
            uses -= 1
    return tuple(uses_found) if uses == 0 else None


def resolve_words(uses: CodeSetUses, inputs: Mapping[str, _CodeInput]) -> tuple[str, ...] | None:
    """The words of ``uses``: a quoted word itself, a code input every word it may take; None when a name is
    not a code input (or ``uses`` is None)."""
    if uses is None:
        return None
    words: list[str] = []
    for is_name, text in uses:
        if not is_name:
            words.append(text)
        elif text in inputs and inputs[text].type == "code":
            words.extend(inputs[text].values)
        else:
            return None
    return tuple(words)
