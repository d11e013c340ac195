"""Explanations a clinician reads (issue 8 §9): true/false, units, derived numbers rounded for display (the
exact value stays in JSON), no "otherwise: otherwise" line, precision messages that show what they counted."""

from __future__ import annotations

import json
import pathlib
import pickle
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import interpreter
from interpreter.output.options import FormatOptions
from interpreter.output.results import result_text
from interpreter.result import display_decimal

HERE = pathlib.Path(__file__).parent
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
EXPLAIN = FormatOptions(explain=True)

GUIDELINE = """\
id: display-test
version: "0.1.0"
title: Display test
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-11-01"
authors: [{name: Test Author}]
references:
  "1": {citation: Test reference one}
inputs:
  weight: {type: quantity, unit: kg, description: Body weight, plausible: {min: 0.5, max: 400}}
  height: {type: quantity, unit: cm, description: Body height, plausible: {min: 30, max: 250}}
  stable: {type: boolean, description: Counts stable}
derived:
  body_surface:
    type: quantity
    unit: m2
    description: Body surface area (Mosteller)
    expr: bsa(height, weight)
start: size
nodes:
  - id: size
    kind: choice
    title: How large
    branches:
      - {when: "body_surface > 2.5", then: large, label: large}
      - {when: "stable", then: small, label: stable}
    otherwise: small
    unknown: cannot-decide
recommendations:
  - {id: large, text: Large., cite: ["1"]}
  - {id: small, text: Small., cite: ["1"]}
"""


@pytest.fixture(scope="module")
def g(tmp_path_factory: pytest.TempPathFactory) -> interpreter.Guideline:
    path = tmp_path_factory.mktemp("display") / "display.guideline.yaml"
    path.write_text(GUIDELINE, encoding="utf-8")
    return interpreter.load(path)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1.8193", "~1.82"),
        ("2.0138219041653112379625483", "~2.01"),
        ("503.455476041327809490637075", "~503"),
        ("1234.56", "~1235"),
        ("0.045671", "~0.0457"),
        ("1.82", "1.82"),
        ("0.5", "0.5"),
        ("100", "100"),
        ("-2.345", "~-2.34"),
        ("0", "0"),
    ],
)
def test_display_rule(value: str, shown: str) -> None:
    assert display_decimal(Decimal(value)) == shown


def test_display_rule_with_the_dose_precision() -> None:
    assert display_decimal(Decimal("2.0138219041653112379625483"), 6, -4) == "~2.0138"
    assert display_decimal(Decimal("503.455476041327809490637075"), 6, -4) == "~503.455"
    assert display_decimal(Decimal("79.83225712"), 6, -4) == "~79.8323"
    assert display_decimal(Decimal("350"), 6, -4) == "350"
    assert display_decimal(Decimal("1e40")).startswith("~")  # never forty digits


def test_explanation_rounds_derived_values_with_their_unit_and_keeps_json_exact(
    g: interpreter.Guideline,
) -> None:
    facts = {"weight": {"value": 70, "unit": "kg"}, "height": {"value": 170, "unit": "cm"}, "stable": False}
    r = g.evaluate(facts, AS_OF)
    text = result_text(r, EXPLAIN)
    assert "[body_surface=~1.82 m2]" in text  # sqrt(170 * 70 / 3600) = 1.8181...
    assert "[stable=false]" in text
    assert "False" not in text and "True" not in text
    exact = r.to_json()["trace"][0]["branches"][0]["values"]["body_surface"]
    assert exact.startswith("1.81811868577261906858369") and len(exact) > 20


def test_no_otherwise_otherwise_line(g: interpreter.Guideline) -> None:
    facts = {"weight": {"value": 70, "unit": "kg"}, "height": {"value": 170, "unit": "cm"}, "stable": False}
    text = result_text(g.evaluate(facts, AS_OF), EXPLAIN)
    assert "size (How large): otherwise -> small" in text
    assert "otherwise: otherwise" not in text
    assert " otherwise:" not in text


def test_unknown_and_true_values_in_the_explanation(g: interpreter.Guideline) -> None:
    r = g.evaluate({"weight": {"value": 70, "unit": "kg"}, "stable": True}, AS_OF)
    assert "[body_surface=unknown]" in result_text(r, EXPLAIN)
    facts = {"weight": {"value": 70, "unit": "kg"}, "height": {"value": 170, "unit": "cm"}, "stable": True}
    assert "[stable=true]" in result_text(g.evaluate(facts, AS_OF), EXPLAIN)


def test_display_text_survives_pickling(g: interpreter.Guideline) -> None:
    facts = {"weight": {"value": 70, "unit": "kg"}, "height": {"value": 170, "unit": "cm"}, "stable": False}
    r = g.evaluate(facts, AS_OF)
    back = pickle.loads(pickle.dumps(r))
    assert back == r
    assert result_text(back, EXPLAIN) == result_text(r, EXPLAIN)


def test_leukopenia_explanation_reads_true_false_and_units() -> None:
    leuk = interpreter.load("leukopenia", version="1.0.0")
    example = json.loads((HERE.parent / "examples" / "mild-leukopenia.json").read_text(encoding="utf-8"))
    text = result_text(leuk.evaluate(interpreter.parse_facts_json(json.dumps(example)), AS_OF), EXPLAIN)
    assert "[on_filgrastim=false]" in text
    assert "[anc=1.9 10*9/L]" in text
    assert "otherwise: otherwise" not in text


def test_dose_calculation_shows_rounded_intermediate_numbers() -> None:
    """The sargramostim dose from a body surface area of 28 digits: the area to 0.01 m2 and the weight to
    0.1 kg (issue 9, "intermediate values rounded for display"), the product one place finer than the
    dose's round_to (two here, as 503.5 would round to 504), each marked ~; the dose itself is computed
    exactly."""
    leuk = interpreter.load("leukopenia", version="1.0.0")
    facts = {
        "on_prophylaxis": False, "cause": "chemotherapy", "on_filgrastim": False, "aml": True,
        "anc": {"value": Decimal("0.3"), "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
        "wbc": {"value": Decimal("0.9"), "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
        "febrile": {"value": False, "at": "2026-11-24T08:00:00Z"},
        "weight": {"value": 176, "unit": "[lb_av]", "at": "2026-11-20T08:00:00Z"},
        "height": {"value": 72, "unit": "[in_i]"},
        "last_chemo_at": "2026-11-22T09:00:00Z", "next_chemo_scheduled": False,
    }
    r = leuk.evaluate(facts, AS_OF)
    sarg = next(x for x in r.recommendations if x.id == "sargramostim-alternative")
    dose = sarg.actions[0].dose
    assert dose is not None and dose.value == Decimal(503)
    assert dose.calculation == (
        "250 ug/m2 x ~2.01 m2 = ~503.46 ug",
        "rounded (half up) to a multiple of 1 ug: 503 ug",
    )
    fil = next(x for x in r.recommendations if x.id == "gcsf-chemo").actions[0].dose
    assert fil is not None
    # 79.83225712 kg to 0.1 kg (5 x 79.8 = 399 rounds to the dose, 399 ug)
    assert fil.calculation[:2] == ("weight given as 176 [lb_av] = ~79.8 kg", "5 ug/kg x ~79.8 kg = ~399.2 ug")
    assert fil.value == Decimal(399)
    # the JSON keeps the exact weight and the exact dose
    js = r.to_json()
    assert js["facts"]["weight"]["value"] == "79.83225712"


def test_expression_number_precision_message_counts_the_digits(tmp_path: pathlib.Path) -> None:
    text = GUIDELINE.replace("body_surface > 2.5", "body_surface > 2.50000000000000000000000000001")
    path = tmp_path / "digits.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(interpreter.GuidelineError) as info:
        interpreter.load(path)
    messages = [d.message for d in info.value.diagnostics]
    assert any("has 30 significant digits, more than 28" in m for m in messages), messages


def test_dose_number_precision_message_shows_the_digits(tmp_path: pathlib.Path) -> None:
    text = GUIDELINE.replace(
        '  - {id: large, text: Large., cite: ["1"]}',
        '  - id: large\n    text: Large.\n    cite: ["1"]\n    actions:\n'
        "      - {type: medication, drug: x, frequency: daily, dose: {amount: 123.4567, unit: mg}}",
    )
    path = tmp_path / "dose.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(interpreter.GuidelineError) as info:
        interpreter.load(path)
    messages = [d.message for d in info.value.diagnostics]
    assert any("has 7 significant digits (1234567)" in m and "at most 6 significant digits" in m
               for m in messages), messages
