"""How scores are shown for sign-off and to a clinician (Khorana review findings 2 and 8): the Scores section
of ``guideline render``, and the SCORES section of the text result (the value stated plainly, with what the
deciding node made of it; each item's value used and its time; no "needs" when the unknown items cannot
change the result)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import interpreter
from interpreter.output.options import FormatOptions
from interpreter.output.render import guideline_markdown
from interpreter.output.results import result_text

ROOT = Path(__file__).resolve().parent.parent
KHORANA = interpreter.load(str(ROOT / "guidelines/khorana/khorana.guideline.yaml"))
AT = datetime(2026, 11, 24, 9, tzinfo=UTC)
DRAWN = "2026-11-23T08:00:00Z"
IN_SCOPE = {"on_anticoagulant": False, "inpatient": False, "pre_chemotherapy_counts": True, "age": 60}


def q(value: float, unit: str) -> dict[str, object]:
    return {"value": value, "unit": unit, "at": DRAWN}


#: in scope, 0 points, every item known
BASE = {**IN_SCOPE, "site": "other", "platelets": q(300, "10*9/L"), "hemoglobin": q(12, "g/dL"),
        "red_cell_growth_factors": False, "leukocytes": q(8, "10*9/L"), "bmi": q(25, "kg/m2")}


def _scores(facts: dict[str, object]) -> list[str]:
    text = result_text(KHORANA.evaluate(facts, as_of=AT), FormatOptions())
    lines = text.splitlines()
    start = lines.index("SCORES")
    end = lines.index("", start)
    return lines[start + 1:end]


def test_render_shows_items_points_range_and_thresholds() -> None:
    md = guideline_markdown(KHORANA._compiled.model)
    section = md.split("## Scores", 1)[1].split("## Decisions", 1)[0]
    assert "| 1. primary site" in section and "| `site` is `stomach` | 2 |" in section
    assert "| `site` is `other`, `myeloma`, `leukemia`, `other_hematologic` | 0 |" in section
    assert "| 2. platelets 350 x10^9/L or more | `platelets >= 350` | 1 |" in section
    assert "| `hemoglobin < 10 or red_cell_growth_factors` | 1 |" in section
    assert "`leukocytes > 11`" in section and "`bmi >= 35`" in section
    assert "Range: 0 to 6 points" in section
    assert "`platelets` in `10*9/L`" in section and "`hemoglobin` in `g/dL`" in section
    assert "- `risk` branch 1: when `khorana >= 3` (high (3 or more points)) -> `risk-high`" in section


def test_render_of_boolean_and_band_items(tmp_path: Path) -> None:
    p = tmp_path / "s.guideline.yaml"
    p.write_text("""\
id: band-score
version: "0.1.0"
title: band score (tests only)
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test}]
references: {X: {citation: test only}}
inputs:
  copd: {type: boolean, description: COPD}
  sbp: {type: quantity, description: systolic BP, unit: "mm[Hg]", plausible: {min: 20, max: 300}}
scores:
  s:
    description: test score
    items:
      - {label: no COPD, input: copd, points: 4}
      - label: systolic blood pressure
        bands:
          - {when: sbp < 90, points: 2}
          - {when: sbp >= 90, points: 5}
start: n
nodes:
  - id: n
    kind: choice
    branches:
      - {when: s >= 5, then: hi}
    otherwise: lo
    unknown: cannot-decide
recommendations:
  - {id: hi, text: high, cite: [X]}
  - {id: lo, text: low, cite: [X]}
""", encoding="utf-8")
    md = guideline_markdown(interpreter.load(str(p))._compiled.model)
    assert "| 1. no COPD | `copd` is true | 4 |" in md
    assert "|  | `copd` is false | 0 |" in md
    assert "| 2. systolic blood pressure (first band that holds) | `sbp < 90` | 2 |" in md
    assert "| otherwise (no band holds) | 0 |" in md
    assert "Range: 0 to 9 points" in md
    assert "- `n` branch 1: when `s >= 5` -> `hi`" in md


def test_a_complete_score_is_stated_plainly_with_the_values_used() -> None:
    lines = _scores({**BASE, "site": "stomach", "platelets": q(420000, "/uL")})
    assert lines[0] == "  khorana = 3 (risk: high (3 or more points))"
    assert lines[2] == ("      1: platelets 350 x10^9/L or more - platelets 420 10*9/L (given 420000 /uL, "
                        f"at {DRAWN})")
    assert lines[3].endswith(f"- hemoglobin 12 g/dL (at {DRAWN}); red_cell_growth_factors false")


def test_unknown_items_that_cannot_change_the_result_are_not_needed() -> None:
    lines = _scores({**IN_SCOPE, "site": "pancreas", "platelets": q(400, "10*9/L")})
    assert lines[0] == ("  khorana = 3 to 6 (risk: high (3 or more points)); not every item is known, and "
                        "the result is the same whatever bmi, hemoglobin, leukocytes, "
                        "red_cell_growth_factors are")
    assert "needs" not in lines[0]
    assert lines[4] == "      unknown: 0 to 1 (needs leukocytes): leukocytes above 11 x10^9/L"


def test_unknown_items_that_decide_are_needed_and_low_band_shows_otherwise() -> None:
    lines = _scores({**IN_SCOPE, "site": "testicular"})
    assert lines[0].startswith("  khorana = unknown, between 1 and 5; needs bmi, hemoglobin")
    low = _scores(BASE)
    assert low[0] == "  khorana = 0 (risk: otherwise -> risk-low)"


def test_a_score_out_of_scope_says_it_decided_nothing() -> None:
    lines = _scores({**IN_SCOPE, "on_anticoagulant": True, "site": "stomach"})
    assert lines[0].startswith("  khorana = 2 to 6 (not used for a decision: no node compared it); not")
    lines = _scores({**BASE, "inpatient": True, "site": "stomach"})
    assert lines[0] == "  khorana = 2 (not used for a decision: no node compared it)"
