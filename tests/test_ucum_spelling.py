"""Issue 8 section 7: unit errors suggest the UCUM spelling of common near-misses."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime

import pytest

from interpreter.compiler.loader import load_guideline_file
from interpreter.errors import FactsError
from interpreter.values import units
from interpreter.values.ucum_spelling import NEAR_MISSES, ucum_spelling

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("target", sorted(set(NEAR_MISSES.values())))
def test_every_suggestion_is_a_ucum_code(target: str) -> None:
    units.check_unit(target)


@pytest.mark.parametrize(("written", "ucum"), [
    ("mmHg", "mm[Hg]"), ("mcg", "ug"), ("cells/uL", "/uL"), ("K/uL", "10*3/uL"), ("lbs", "[lb_av]"),
    ("degC", "Cel"), ("MCG", "ug"), ("mcmol/L", "umol/L"), ("x10^9/L", "10*9/L"),
])
def test_near_misses(written: str, ucum: str) -> None:
    assert ucum_spelling(written) == ucum


@pytest.mark.parametrize("right", ["mm[Hg]", "ug", "/uL", "10*9/L", "kg", "wk", "x" * 100])
def test_no_suggestion_for_a_right_or_unknown_code(right: str) -> None:
    assert ucum_spelling(right) is None


def test_an_unknown_unit_message_suggests_the_spelling() -> None:
    with pytest.raises(units.UnitError) as exc:
        units.check_unit("mmHg")
    assert "did you mean 'mm[Hg]'?" in exc.value.message


def test_a_valid_unit_of_another_kind_suggests_the_spelling() -> None:
    # K/uL is valid UCUM (kelvin per microlitre): refused as another dimension, with the count's spelling
    with pytest.raises(units.UnitError) as exc:
        units.exact_ratio("K/uL", "10*9/L")
    assert exc.value.code == "unit-incompatible" and "did you mean '10*3/uL'?" in exc.value.message


@pytest.mark.parametrize(("unit", "code", "spelling"), [
    ("K/uL", "fact-unit-mismatch", "10*3/uL"), ("cells/uL", "fact-unknown-unit", "/uL")])
def test_a_fact_in_a_near_miss_unit_gets_the_spelling_as_hint(unit: str, code: str, spelling: str) -> None:
    g = load_guideline_file(ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml")
    with pytest.raises(FactsError) as exc:
        g.facts.check({"anc": {"value": 4, "unit": unit, "at": "2026-11-24T07:00:00Z"}},
                      datetime(2026, 11, 24, 9, tzinfo=UTC))
    [d] = exc.value.diagnostics
    assert d.code == code and d.hint is not None and f"'{spelling}'" in d.hint


def test_the_cheat_sheet_lists_the_common_near_misses() -> None:
    doc = (ROOT / "docs" / "language.md").read_text("utf-8")
    sheet = doc.split("## Units: a cheat-sheet", 1)[1].split("\n## ", 1)[0]
    for written in ("mmHg", "mcg", "cells/uL", "K/uL", "lbs", "degC"):
        assert f"`{written}`" in sheet and f"`{NEAR_MISSES[written]}`" in sheet, written
