"""``walk``: the nodes of a syntax tree as a list, in ``ast.walk``'s order, without its generators."""

from __future__ import annotations

import ast

__all__ = ["walk"]


def walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree``: ``list(ast.walk(tree))`` (breadth first, children in field order), about three
    times faster. The rules walk the same small trees many times; the order matters where a rule reports."""
    out: list[ast.AST] = [tree]
    append = out.append
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                append(value)
            elif value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        append(item)
    return out
