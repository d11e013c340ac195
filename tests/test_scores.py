"""Scores and the completion of unknown conditions (docs/language.md "Scores", "When a fact is missing").

The done-when test of issue 8: every combination of known and missing Khorana items (representative values
on both sides of each threshold); the engine must decide exactly when every completion of the missing items
gives the same band, and otherwise name the missing items as the facts it needs.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

import interpreter
from interpreter.runtime.completion import DOMAINS, MAX_COMPLETIONS_PER_CONDITION

AT = datetime(2026, 11, 24, 9, tzinfo=UTC)
DRAWN = "2026-11-23T08:00:00Z"  # counts and BMI are time-stamped (max_age, decision D1)
#: a patient the score was derived in (the scope node: decision D3)
IN_SCOPE: dict[str, object] = {"on_anticoagulant": False, "inpatient": False, "pre_chemotherapy_counts": True,
                               "age": 60}
KHORANA = interpreter.load(str(Path(__file__).parent.parent / "guidelines/khorana/khorana.guideline.yaml"))

#: per item: fact name -> representative values (fact, points)
ITEMS: dict[str, list[tuple[object, int]]] = {
    "site": [("stomach", 2), ("lung", 1), ("other", 0)],
    "platelets": [({"value": 400000, "unit": "/uL", "at": DRAWN}, 1),
                  ({"value": 300, "unit": "10*9/L", "at": DRAWN}, 0)],
    "hemoglobin": [({"value": 95, "unit": "g/L", "at": DRAWN}, 1),
                   ({"value": 12, "unit": "g/dL", "at": DRAWN}, 0)],
    "leukocytes": [({"value": 12, "unit": "10*9/L", "at": DRAWN}, 1),
                   ({"value": 8000, "unit": "/uL", "at": DRAWN}, 0)],
    "bmi": [({"value": 36, "unit": "kg/m2", "at": DRAWN}, 1),
            ({"value": 24, "unit": "kg/m2", "at": DRAWN}, 0)],
}
MISSING = object()


def band(points: int) -> str:
    return "risk-high" if points >= 3 else "risk-intermediate" if points >= 1 else "risk-low"


def _combinations() -> list[dict[str, object]]:
    choices = [[*(v for v in values), MISSING] for values in ITEMS.values()]
    return [dict(zip(ITEMS, combo, strict=True)) for combo in itertools.product(*choices)]


def test_khorana_decides_exactly_when_every_completion_gives_the_same_band() -> None:
    """Red-cell growth factors are false throughout (the haemoglobin item then depends on haemoglobin only);
    every other item is known (each representative value) or missing: 4 * 3**4 = 324 patients. The patient
    is in scope; a missing site could be a haematological cancer the score was not derived in, so the scope
    node cannot decide and asks for the site alone."""
    checked = 0
    for combo in _combinations():
        facts: dict[str, object] = {"red_cell_growth_factors": False, **IN_SCOPE}
        known = 0
        missing: list[str] = []
        options: list[list[int]] = []
        for name, chosen in combo.items():
            if chosen is MISSING:
                missing.append(name)
                options.append(sorted({p for _, p in ITEMS[name]}))
            else:
                fact, points = chosen  # type: ignore[misc]
                facts[name] = fact
                known += points
        # every completion of the missing items: every points value each can give (site 0, 1 or 2)
        if "site" in missing:
            options[missing.index("site")] = [0, 1, 2]
        bands = {band(known + sum(extra)) for extra in itertools.product(*options)}
        result = KHORANA.evaluate(facts, as_of=AT)
        if "site" in missing:  # myeloma, leukemia, other_hematologic: not covered
            assert result.status == "incomplete" and result.recommendation_ids() == [], combo
            assert [c.node for c in result.cannot_decide] == ["scope"]
            assert [n.name for n in result.needed_facts] == ["site"], combo
        elif len(bands) == 1:
            assert result.status == "complete", (combo, result.needed_facts)
            assert result.recommendation_ids() == [bands.pop()], combo
        else:
            assert result.status == "incomplete", combo
            assert result.recommendation_ids() == [], combo
            assert [c.node for c in result.cannot_decide] == ["risk"]
            assert sorted(n.name for n in result.needed_facts) == sorted(missing), combo
        checked += 1
    assert checked == 324


def test_score_result_shows_value_bounds_and_items() -> None:
    r = KHORANA.evaluate({**IN_SCOPE, "site": "pancreas",
                          "platelets": {"value": 400, "unit": "10*9/L", "at": DRAWN}}, as_of=AT)
    (score,) = r.scores
    assert score.value is None and (score.min, score.max) == (3, 6)
    assert [i.points for i in score.items][:2] == [2, 1]
    unknown = score.items[3]
    assert unknown.points is None and (unknown.min, unknown.max) == (0, 1)
    assert unknown.needs == ("leukocytes",)
    data = r.to_json()["scores"][0]
    assert data["value"] is None and data["min"] == 3 and data["items"][3]["needs"] == ["leukocytes"]
    step = r.to_json()["trace"][1]["branches"][0]
    assert step["outcome"] == "true" and step["decided_for_every_value_of"] == ["khorana (from 3 to 6)"]
    full = KHORANA.evaluate({**IN_SCOPE, "site": "other",
                             "platelets": {"value": 1, "unit": "10*9/L", "at": DRAWN},
                             "hemoglobin": {"value": 14, "unit": "g/dL", "at": DRAWN},
                             "red_cell_growth_factors": False,
                             "leukocytes": {"value": 5, "unit": "10*9/L", "at": DRAWN},
                             "bmi": {"value": 22, "unit": "kg/m2", "at": DRAWN}},
                            as_of=AT)
    assert full.scores[0].value == 0 and full.recommendation_ids() == ["risk-low"]
    assert "decided_for_every_value_of" not in full.to_json()["trace"][1]["branches"][0]


def test_explanation_says_why_a_condition_was_decided(tmp_path: Path) -> None:
    from interpreter.output.options import FormatOptions
    from interpreter.output.results import result_text

    r = KHORANA.evaluate({**IN_SCOPE, "site": "stomach",
                          "platelets": {"value": 400000, "unit": "/uL", "at": DRAWN}}, as_of=AT)
    text = result_text(r, FormatOptions(explain=True))
    assert "decided: true for every value of khorana (from 3 to 6)" in text
    assert "unknown: 0 to 1 (needs leukocytes): leukocytes above 11 x10^9/L" in text


GUIDE = """\
id: completion-example
version: "0.1.0"
title: completion example (tests only)
status: draft
effective: {{start: "2026-01-01"}}
last_updated: "2026-01-01"
authors: [{{name: Test}}]
references: {{X: {{citation: test only}}}}
inputs:
  type: {{type: code, description: tumour type, values: [solid, haem]}}
  fungal: {{type: boolean, description: fungal infection}}
  anc: {{type: quantity, description: ANC, unit: 10*9/L, accepted_units: [/uL],
        plausible: {{min: 0, max: 100}}}}
  weight: {{type: quantity, description: weight, unit: kg, plausible: {{min: 1, max: 300}}}}
start: n
nodes:
  - id: n
    kind: choice
    branches:
      - when: "{cond}"
        then: yes
    otherwise: no
    unknown: cannot-decide
recommendations:
  - {{id: "yes", text: yes, cite: [X]}}
  - {{id: "no", text: no, cite: [X]}}
"""


def _load(tmp_path: Path, cond: str) -> interpreter.Guideline:
    p = tmp_path / "c.guideline.yaml"
    p.write_text(GUIDE.format(cond=cond), encoding="utf-8")
    return interpreter.load(str(p))


@pytest.mark.parametrize("cond", ["type == 'solid' or (type == 'haem' and not fungal)",
                                  "not fungal or type == 'solid'"])
def test_the_outcome_no_longer_depends_on_how_the_formula_is_written(tmp_path: Path, cond: str) -> None:
    g = _load(tmp_path, cond)
    facts = {"fungal": False, "anc": {"value": 1, "unit": "10*9/L"},
             "weight": {"value": 70, "unit": "kg"}}
    r = g.evaluate(facts,
                   as_of=AT)
    assert r.status == "complete" and r.recommendation_ids() == ["yes"]
    # fungal true and type unknown: solid gives true, haem false: unknown
    facts = {"fungal": True, "anc": {"value": 1, "unit": "10*9/L"},
             "weight": {"value": 70, "unit": "kg"}}
    r = g.evaluate(facts,
                   as_of=AT)
    assert r.status == "incomplete" and [n.name for n in r.needed_facts] == ["type"]


@pytest.mark.parametrize(("cond", "decided"), [
    # a tautology in anc over the plausible range (the whole condition is not constant: a constant
    # condition is refused at load, condition-constant)
    ("(anc < 0.5 or anc >= 0.5) and type == 'solid'", True),
    ("anc < 0.5 or anc > 0.5", False),          # 0.5 itself differs
    ("anc >= 0 and fungal", None),              # anc always >= 0 (plausible min): decided by fungal
    # arithmetic: no domain at run time, stays unknown (alone, the tautology is refused at load)
    ("(anc * 2 < 1 or anc * 2 >= 1) and type == 'solid'", False),
])
def test_numbers_are_completed_over_the_plausible_range(
    tmp_path: Path, cond: str, decided: bool | None
) -> None:
    g = _load(tmp_path, cond)
    base = {"type": "solid", "weight": {"value": 70, "unit": "kg"}}
    r = g.evaluate({**base, "fungal": True}, as_of=AT)
    if decided is None or decided:
        assert r.recommendation_ids() == ["yes"] and r.complete
    else:
        assert not r.complete and [n.name for n in r.needed_facts] == ["anc"]


def test_every_input_type_has_a_completion_domain_function() -> None:
    import typing

    from interpreter.loading.model import Input
    types = set(typing.get_args(typing.get_type_hints(Input)["type"]))
    assert types and set(DOMAINS) == types
    assert MAX_COMPLETIONS_PER_CONDITION > 0


def test_results_with_scores_match_the_result_schema() -> None:
    import json

    import jsonschema

    schema = json.loads((Path(__file__).parent.parent / "schema/result.schema.json").read_text())
    for facts in ({"site": "stomach", "platelets": {"value": 400000, "unit": "/uL"}}, {"site": "lung"}, {}):
        jsonschema.validate(KHORANA.evaluate(facts, as_of=AT).to_json(), schema)


def test_score_bands_are_checked_for_gaps_at_line_and_column() -> None:
    from interpreter.tooling.validate import validate_paths

    path = Path(__file__).parent / "fixtures/scores/bands-gap.guideline.yaml"
    report = validate_paths([str(path)])
    gaps = [d for d in report.diagnostics if d.code == "threshold-gap"]
    assert len(gaps) == 1
    assert "90 < sbp <= 100" in gaps[0].message and gaps[0].location.line == 36


def test_code_set_completion_uses_only_the_words_mentioned() -> None:
    import ast

    from helpers import make_input

    from interpreter.lang.uses import code_set_uses, resolve_words
    from interpreter.runtime.completion import DOMAINS as D
    from interpreter.runtime.completion import MAX_CODE_SET_WORDS_COMPLETED

    inputs = {"causes": make_input("causes", "code-set", values=tuple("abcdefghijkl")),
              "cause": make_input("cause", "code", values=("a", "b"))}

    def words(text: str) -> tuple[str, ...] | None:
        return resolve_words(code_set_uses(ast.parse(text, mode="eval"), "causes"), inputs)

    found = words("'a' in causes or any_of(causes, 'b', 'c') and not all_of(causes, 'd')")
    assert found == ("a", "b", "c", "d")
    assert words("cause not in causes") == ("a", "b")
    assert words("f(causes)") is None  # any other use: no domain
    assert words("'a' in causes in x") is None
    domain = D["code-set"](inputs["causes"], ("a", "b", "a"))
    assert domain is not None and sorted(map(sorted, domain)) == [[], ["a"], ["a", "b"], ["b"]]
    assert D["code-set"](inputs["causes"], None) is None
    too_many = tuple("abcdefghijk")[: MAX_CODE_SET_WORDS_COMPLETED + 1]
    assert D["code-set"](inputs["causes"], too_many) is None
