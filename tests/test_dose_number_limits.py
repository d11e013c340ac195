"""The dose-number limits apply to computed doses too (review 1, F2).

A dose amount written as an expression used to skip every limit of docs/api.md ("Limits": 0 to 1,000,000,
finest place 0.0001, at most 6 significant digits): ``5 * 1e100`` printed a dose of 103 digits, ``1 / 3``
one of 28 decimals, with exit 0. Now an amount that folds to a constant is checked at load
(``dose-number-range``), every computed amount and total at run time (``dose-out-of-range``, located, exit
2), and a dose without ``round_to`` is shown with at most 6 significant digits, the calculation saying so.
"""

from __future__ import annotations

import decimal
import json
import pathlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.errors import EvaluationError, GuidelineError, Location
from interpreter.result import DoseResult, Result
from interpreter.runtime import doses as doses_module

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
AT = "2026-11-24T09:00:00Z"
FACTS = {
    "anc": {"value": 0.7, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "febrile": False,
    "weight": {"value": 70, "unit": "kg"},
    "height": {"value": 170, "unit": "cm"},
    "cause": "other",
}
FIL = "dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 1, warn_below: 180}"


def variant(tmp_path: pathlib.Path, dose: str) -> pathlib.Path:
    text = MINI.read_text(encoding="utf-8")
    assert FIL in text
    p = tmp_path / "v.guideline.yaml"
    p.write_text(text.replace(FIL, dose), encoding="utf-8")
    return p


def where(path: pathlib.Path, needle: str) -> tuple[int, int]:
    """Line and column of the last ``needle`` (the recommendation ``treat`` comes after ``urgent``)."""
    text = path.read_text(encoding="utf-8")
    before = text[: text.rindex(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


def filgrastim(result: Result) -> DoseResult:
    action = next(a for a in result.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    assert action.dose is not None
    return action.dose


# -- at load: an amount expression that folds to a number ----------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("5 * 1e100", "between 0 and 1000000"),
        ("5 * 1e-100", "finer than 0.0001"),
        ("1 / 3", "finer than 0.0001"),
        ("100000 * 10 + 1", "between 0 and 1000000"),
        ("123.4567 * 1", "at most 6 significant digits"),
    ],
)
def test_a_constant_amount_expression_obeys_the_dose_number_limits_at_load(
    tmp_path: pathlib.Path, amount: str, problem: str
) -> None:
    p = variant(tmp_path, f'dose: {{amount: "{amount}", unit: ug/kg, basis: weight, round_to: 1}}')
    with pytest.raises(GuidelineError) as info:
        interpreter.load(p)
    found = [d for d in info.value.diagnostics if d.code == "dose-number-range"]
    assert found, info.value.diagnostics
    line, column = where(p, f'"{amount}"')
    assert found[-1].location == Location(str(p), line, column)
    assert problem in found[-1].message and amount in found[-1].message
    assert len(found[-1].message) < 300  # never the 103 digits


def test_a_constant_amount_expression_within_the_limits_still_loads(tmp_path: pathlib.Path) -> None:
    p = variant(tmp_path, 'dose: {amount: "10 / 4", unit: ug/kg, basis: weight, round_to: 1}')
    assert filgrastim(interpreter.load(p).evaluate(FACTS, AS_OF)).value == Decimal(175)  # 2.5 x 70


# -- at run time: the computed amount, the total before and after rounding ---------------------------------

RUN_TIME = [
    # (dose, facts changed, problem, where the error points)
    ("dose: {amount: \"weight / q(1, 'kg') * 1e100\", unit: ug/kg, basis: weight, round_to: 1}",
     {}, "between 0 and 1000000", "\"weight / q(1, 'kg') * 1e100\""),
    ("dose: {amount: \"weight / q(1, 'kg') * 1e-100\", unit: ug/kg, basis: weight}",
     {}, "finer than 0.0001", "\"weight / q(1, 'kg') * 1e-100\""),
    ("dose: {amount: \"weight / q(1, 'kg') / 3\", unit: ug/kg, basis: weight}",
     {"weight": {"value": 70.4, "unit": "kg"}}, "finer than 0.0001", "\"weight / q(1, 'kg') / 3\""),
    # the amount is within the limits (70,000 ug/kg) but the total (4,900,000 ug) is not
    ("dose: {amount: \"weight / q(1, 'kg') * 1000\", unit: ug/kg, basis: weight, max: 480}",
     {}, "above the largest dose number 1000000", "\"weight / q(1, 'kg') * 1000\""),
    # a fine round_to on a large dose: 1763.67 x 70.0001 = 123457.0763667 -> 123457.076 (9 digits)
    ("dose: {amount: 1763.67, unit: ug/kg, basis: weight, round_to: 0.001}",
     {"weight": {"value": 70.0001, "unit": "kg"}}, "at most 6 significant digits", "0.001}"),
]


@pytest.mark.parametrize(("dose", "changes", "problem", "needle"), RUN_TIME)
def test_a_computed_dose_beyond_the_limits_is_a_located_error(
    tmp_path: pathlib.Path, dose: str, changes: dict[str, object], problem: str, needle: str
) -> None:
    p = variant(tmp_path, dose)
    g = interpreter.load(p)
    with pytest.raises(EvaluationError) as info:
        g.evaluate({**FACTS, **changes}, AS_OF)
    err = info.value
    line, column = where(p, needle)
    assert (err.code, err.node_id) == ("dose-out-of-range", "treat")
    assert err.location == Location(str(p), line, column)
    assert problem in err.message and "no dose is shown" in err.message
    assert not err.internal and len(str(err)) < 500


@pytest.mark.parametrize(("dose", "changes", "problem", "needle"), RUN_TIME)
def test_a_computed_dose_beyond_the_limits_exits_2(
    tmp_path: pathlib.Path, dose: str, changes: dict[str, object], problem: str, needle: str
) -> None:
    p = variant(tmp_path, dose)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({**FACTS, **changes}), encoding="utf-8")
    r = CliRunner().invoke(main, ["evaluate", str(p), str(facts), "--at", AT], catch_exceptions=False)
    line, column = where(p, needle)
    assert r.exit_code == 2 and r.stdout == ""
    assert f"{p}:{line}:{column}: error[dose-out-of-range]: " in r.stderr
    assert "give filgrastim" not in r.stderr


def test_a_rounded_amount_expression_is_accepted(tmp_path: pathlib.Path) -> None:
    p = variant(tmp_path, "dose: {amount: \"round(weight / q(1, 'kg') / 3, 1)\", unit: ug/kg, basis: weight}")
    dose = filgrastim(interpreter.load(p).evaluate({**FACTS, "weight": {"value": 70.4, "unit": "kg"}}, AS_OF))
    assert dose.value == Decimal("1654.4")  # 23.5 ug/kg x 70.4 kg


def test_a_dose_without_round_to_is_shown_with_at_most_6_significant_digits(tmp_path: pathlib.Path) -> None:
    p = variant(tmp_path, "dose: {amount: 3.3333, unit: ug/kg, basis: weight}")
    g = interpreter.load(p)
    dose = filgrastim(g.evaluate({**FACTS, "weight": {"value": 154, "unit": "[lb_av]"}}, AS_OF))
    # 154 lb = 69.85322498 kg; 3.3333 x 69.85322498 = 232.841754825834
    assert dose.value == Decimal("232.842")
    assert dose.calculation[-1] == (
        "232.841754825834 ug rounded (half up) to 6 significant digits, at most 4 decimal places "
        "(the dose sets no round_to): 232.842 ug"
    )
    # a total that already fits is shown as computed, without a rounding step
    exact = filgrastim(g.evaluate({**FACTS, "weight": {"value": 70, "unit": "kg"}}, AS_OF))
    assert exact.value == Decimal("233.331") and "rounded" not in " ".join(exact.calculation)


# -- dose-arithmetic speaks clinical language --------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [decimal.InvalidOperation(), decimal.Overflow(), decimal.DivisionByZero(), decimal.Underflow()],
    ids=lambda e: type(e).__name__,
)
def test_dose_arithmetic_messages_name_no_python_exception(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, exc: ArithmeticError
) -> None:
    g = interpreter.load(MINI)

    def broken(*args: object, **kwargs: object) -> object:
        raise exc

    monkeypatch.setattr(doses_module, "compute_dose", broken)
    with pytest.raises(EvaluationError) as info:
        g.evaluate(FACTS, AS_OF)
    err = info.value
    assert err.code == "dose-arithmetic" and err.node_id == "treat" and err.location is not None
    for name in ("InvalidOperation", "Overflow", "DivisionByZero", "Underflow", "Error", "decimal", "<class"):
        assert name not in err.message
    assert "no dose is shown" in err.message
