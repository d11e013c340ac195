"""The bundled leukopenia guidelines as a library: no unresolved conflicts in the current version (issue 9,
item "no unresolved conflicts"), and the realistic-minimal-feeds measure of tools/leukopenia_feeds.py."""

from __future__ import annotations

import pathlib

import pytest

from interpreter.analysis import conflicts
from interpreter.compiler.loader import load_guideline_file

REPO = pathlib.Path(__file__).resolve().parent.parent
GUIDELINES = REPO / "guidelines"


@pytest.mark.parametrize(
    "path",
    [GUIDELINES / "leukopenia" / "leukopenia.guideline.yaml", GUIDELINES / "khorana" / "khorana.guideline.yaml"],
    ids=["leukopenia-1.1.0", "khorana"],
)
def test_current_bundled_guidelines_report_no_conflict(path: pathlib.Path) -> None:
    g = load_guideline_file(path)
    assert [(c.first.id, c.second.id) for c in conflicts.find_conflicts(g.model)] == []


def test_frozen_1_0_0_keeps_its_conflicts() -> None:
    """1.0.0 is frozen (same content hash): its 11 conflicts stay; they are what 1.1.0 resolved."""
    g = load_guideline_file(GUIDELINES / "leukopenia" / "leukopenia-1.0.0.guideline.yaml")
    assert len(conflicts.find_conflicts(g.model)) == 11
