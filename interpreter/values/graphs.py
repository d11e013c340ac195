"""A depth-first search of a small directed graph without recursion (L0): cycles and post-order.

Used by the structural check of the decision tree (``cycle``) and by the compiler for derived values
(``derived-cycle``): a guideline must never be able to exhaust the stack, however deep it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

__all__ = ["depth_first"]


def depth_first(graph: Mapping[str, Sequence[str]]) -> tuple[list[list[str]], list[str]]:
    """Every back edge's cycle (the path from the node met again to the current node, in the order the search
    meets them) and the nodes in depth-first post-order. Roots and children are taken in ``graph``'s order;
    every child must be a key of ``graph``."""
    cycles: list[list[str]] = []
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        on_path = [root]
        state[root] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                state[current] = 2
                order.append(current)
            elif state.get(child) == 1:
                cycles.append(on_path[on_path.index(child) :])
            elif not state.get(child):
                state[child] = 1
                on_path.append(child)
                stack.append((child, iter(graph[child])))
    return cycles, order
