"""Where a run-time error is in the guideline file, and which facts would settle an unknown.

Shared by the walker, the doses and the result assembly. The document paths are looked up only when an error
is raised, never on the walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..compiler.guideline import CompiledGuideline
from ..errors import EvaluationError, Location, Path
from ..values.unknown import UNKNOWN

__all__ = ["insufficient", "insufficient_present", "locate", "node_path"]


def node_path(g: CompiledGuideline, node_id: str) -> Path | None:
    """The path of node ``node_id`` in the document (looked up only when an error is raised)."""
    for n in g.model.nodes:
        if n.id == node_id:
            return n.path
    return None


def locate(
    g: CompiledGuideline, err: EvaluationError, path: Path | None, node_id: str | None
) -> EvaluationError:
    """``err`` located at ``path`` in the guideline file (the file itself when the path is unknown)."""
    where = g.model.source_map.at(path) if path is not None else Location(g.model.file)
    return err.located(where, node_id)


def insufficient_present(g: CompiledGuideline, inputs: frozenset[str]) -> list[str]:
    """The inputs that can be present yet not enough (series: too few days, empty), else all of them."""
    return sorted(i for i in inputs if g.model.inputs[i].type == "series") or sorted(inputs)


def insufficient(g: CompiledGuideline, inputs: frozenset[str], values: Mapping[str, Any]) -> list[str]:
    """The facts that would settle an unknown: the unknown inputs, else the present but insufficient ones."""
    return sorted(i for i in inputs if values.get(i) is UNKNOWN) or insufficient_present(g, inputs)
