"""The bundled leukopenia guidelines as a library: no unresolved conflicts in the current version (issue 9,
item "no unresolved conflicts"), and the realistic-minimal-feeds measure of tools/leukopenia_feeds.py."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime

import pytest

from interpreter.analysis import conflicts
from interpreter.compiler.loader import load_guideline_file

AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
REPO = pathlib.Path(__file__).resolve().parent.parent
GUIDELINES = REPO / "guidelines"


@pytest.mark.parametrize(
    "path",
    [
        GUIDELINES / "leukopenia" / "leukopenia.guideline.yaml",
        GUIDELINES / "khorana" / "khorana.guideline.yaml",
    ],
    ids=["leukopenia-1.1.0", "khorana"],
)
def test_current_bundled_guidelines_report_no_conflict(path: pathlib.Path) -> None:
    g = load_guideline_file(path)
    assert [(c.first.id, c.second.id) for c in conflicts.find_conflicts(g.model)] == []


def test_frozen_1_0_0_keeps_its_conflicts() -> None:
    """1.0.0 is frozen (same content hash): its 11 conflicts stay; they are what 1.1.0 resolved."""
    g = load_guideline_file(GUIDELINES / "leukopenia" / "leukopenia-1.0.0.guideline.yaml")
    assert len(conflicts.find_conflicts(g.model)) == 11


def _facts(**extra: object) -> dict[str, object]:
    facts: dict[str, object] = {
        "anc": {"value": 0.8, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
        "wbc": {"value": 1.8, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
        "cause": "clozapine",
        "on_filgrastim": False,
        "febrile": {"value": False, "at": "2026-11-24T08:00:00Z"},
        "weight": {"value": 70, "unit": "kg", "at": "2026-11-20T08:00:00Z"},
    }
    facts.update(extra)
    return facts


def test_m4_one_code_via_cause_assumes_no_further_cause_and_says_so() -> None:
    """M4: a host that sends one code keeps working; the result lists the assumed empty set."""
    import interpreter

    g = interpreter.load("leukopenia")
    r = g.evaluate(_facts(), AS_OF)
    assert r.status == "complete"
    assert [(a.fact, a.reason) for a in r.assumed] == [("causes", "not given")]
    assert "clozapine-discontinue-permanently" in [rec.id for rec in r.recommendations]
    sent = g.evaluate(_facts(causes=["chemotherapy"]), AS_OF)
    assert sent.assumed == ()
    ids = [rec.id for rec in sent.recommendations]
    # the main cause is clozapine, the set adds chemotherapy: the G-CSF protocol is not picked silently
    assert "nc-second-gcsf-protocol" in ids and "gcsf-severe-standard" not in ids
