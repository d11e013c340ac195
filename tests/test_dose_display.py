"""Intermediate numbers of a dose calculation rounded for display (issue 9, noise: "intermediate values
rounded for display"): a body weight to 0.1 kg, a body surface area to 0.01 m2, the product one place finer
than the dose's round_to; a place more wherever the number so shown would give another dose, so that a
reader who recomputes the dose from the shown numbers gets the dose shown. The dose is computed exactly
from the exact values, and the JSON keeps them."""

from __future__ import annotations

import pathlib
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

import interpreter
from interpreter.result import DoseResult, Result

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
FACTS = {
    "anc": {"value": 0.7, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "febrile": False,
    "height": {"value": 170, "unit": "cm"},
    "cause": "other",
}
FIL = "dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 1, warn_below: 180}"


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load(MINI)


def filgrastim(result: Result) -> DoseResult:
    action = next(a for a in result.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    assert action.dose is not None
    return action.dose


@pytest.mark.parametrize(("weight", "steps"), [
    # 154 lb = 69.85322498 kg: 69.9 would give 349.5 -> 350 ug, so one place more; 349.2661249 -> ~349.3
    ({"value": 154, "unit": "[lb_av]"},
     ("weight given as 154 [lb_av] = ~69.85 kg", "5 ug/kg x ~69.85 kg = ~349.3 ug",
      "rounded (half up) to a multiple of 1 ug: 349 ug")),
    # 150 lb = 68.0388555 kg: to 0.1 kg
    ({"value": 150, "unit": "[lb_av]"},
     ("weight given as 150 [lb_av] = ~68 kg", "5 ug/kg x ~68 kg = ~340.2 ug",
      "rounded (half up) to a multiple of 1 ug: 340 ug")),
    # a weight sent in kg with one decimal is shown as sent, with no ~
    ({"value": 70.4, "unit": "kg"}, ("5 ug/kg x 70.4 kg = 352 ug",)),
    # 70.5 kg would give 352.5 -> 353 ug: shown as sent
    ({"value": 70.45, "unit": "kg"},
     ("5 ug/kg x 70.45 kg = ~352.3 ug", "rounded (half up) to a multiple of 1 ug: 352 ug")),
])
def test_steps_are_readable(
    g: interpreter.Guideline, weight: dict[str, object], steps: tuple[str, ...]
) -> None:
    r = g.evaluate({**FACTS, "weight": weight}, AS_OF)
    assert filgrastim(r).calculation == steps


def test_the_dose_and_the_json_stay_exact(g: interpreter.Guideline) -> None:
    r = g.evaluate({**FACTS, "weight": {"value": 154, "unit": "[lb_av]"}}, AS_OF)
    assert filgrastim(r).value == Decimal(349)
    js = r.to_json()
    assert js["facts"]["weight"] == {"value": "69.85322498", "unit": "kg", "given": "154 [lb_av]"}


def _half_up(x: Decimal) -> Decimal:
    return x.quantize(Decimal(1), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("tenths", range(50, 4000, 7))  # 5.0 to 399.9 lb
def test_recomputed_from_the_shown_numbers_the_dose_is_the_same(
    g: interpreter.Guideline, tenths: int
) -> None:
    lb = Decimal(tenths) / 10
    dose = filgrastim(g.evaluate({**FACTS, "weight": {"value": lb, "unit": "[lb_av]"}}, AS_OF))
    shown = re.fullmatch(r"weight given as \S+ \[lb_av\] = ~?([0-9.]+) kg", dose.calculation[0])
    assert shown is not None, dose.calculation
    weight = Decimal(shown.group(1))
    assert abs(weight - lb * Decimal("0.45359237")) < Decimal("0.05")  # at most half of 0.1 kg off
    product = re.fullmatch(r"5 ug/kg x ~?[0-9.]+ kg = ~?([0-9.]+) ug", dose.calculation[1])
    assert product is not None, dose.calculation
    assert dose.value is not None
    assert _half_up(5 * weight) == dose.value  # the reader's multiplication gives the dose shown
    assert _half_up(Decimal(product.group(1))) == dose.value  # so does rounding the product shown


def test_a_dose_without_round_to_shows_the_places_its_6_digits_need(tmp_path: pathlib.Path) -> None:
    # without round_to the dose has 6 significant digits: the weight gets the places that give the same
    # dose (3.3333 x 69.8532 = 232.8416... -> 232.842 ug; 69.853 would give 232.841), the product to the
    # precision of a dose, and the rounding step shows every digit it rounded
    p = tmp_path / "v.guideline.yaml"
    p.write_text(MINI.read_text("utf-8").replace(FIL, "dose: {amount: 3.3333, unit: ug/kg, basis: weight}"),
                 "utf-8")
    dose = filgrastim(interpreter.load(p).evaluate({**FACTS, "weight": {"value": 154, "unit": "[lb_av]"}},
                                                   AS_OF))
    assert dose.calculation[:2] == ("weight given as 154 [lb_av] = ~69.8532 kg",
                                    "3.3333 ug/kg x ~69.8532 kg = ~232.842 ug")
    assert dose.calculation[2].startswith("232.841754825834 ug rounded (half up) to 6 significant digits")
    assert dose.value == Decimal("232.842")
