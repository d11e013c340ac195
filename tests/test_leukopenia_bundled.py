"""The bundled leukopenia guidelines as a library: no unresolved conflicts in the current version (issue 9,
item "no unresolved conflicts"), and the realistic-minimal-feeds measure of tools/leukopenia_feeds.py."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime
from typing import Any

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


def _feeds_tool() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("leukopenia_feeds", REPO / "tools" / "leukopenia_feeds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: the facts 1.1.0 may still ask of a realistic minimal feed: each changes an action (see the source map)
ACTION_CHANGING = {"febrile", "anc_history", "long_term_gcsf", "long_acting_gcsf_this_cycle", "cbc_stable",
                   "gcsf_response"}


def test_realistic_minimal_feeds_rates_are_computed_and_bounded() -> None:
    """tools/leukopenia_feeds.py (issue 9, "Done when"): the grid is fixed, 1.0.0 is frozen, and 1.1.0 may
    not drift back: no refusal, incomplete at most 71.6%, only facts that change an action asked for, and
    conditional advice for every undecided node of every incomplete result."""
    tool = _feeds_tool()
    feeds = tool.feeds()
    assert len(feeds) == 612 and feeds == tool.feeds()
    old, new = tool.rates("1.0.0"), tool.rates("1.1.0")
    for r in (old, new):
        assert r["feeds"] == 612 and 0 <= r["incomplete"] + r["refused"] <= r["feeds"]
        assert r["incomplete_rate"] == round(r["incomplete"] / r["feeds"], 3)
        assert r["incomplete_with_conditional_advice_for_every_undecided_node"] == r["incomplete"]
    assert (old["incomplete"], old["refused"]) == (576, 36)  # frozen version, frozen figures
    assert new["refused"] == 0 and new["incomplete_rate"] <= 0.716
    assert set(new["needs"]) <= ACTION_CHANGING
    assert not {"aml", "on_prophylaxis", "luq_or_shoulder_pain"} & set(new["needs"])
