"""Dose numbers: every number a guideline gives that flows into arithmetic is bounded at load
(``dose-number-range``); ``dose_number_problem`` is shared with the compiler and the run-time dose check."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal

from ..codes import Code
from ..errors import Diagnostic
from ..loading.model import GuidelineModel
from .registry import CheckInfo, report, rule

__all__ = ["DOSE_NUMBER_BOUNDS", "PLAUSIBLE_BOUNDS", "dose_number_problem"]


#: (lowest, highest, the finest decimal place allowed, most significant digits) per kind of number; see
#: docs/diagnostics.md. Amounts are per unit of basis or fixed, in the dose's unit; limits in the total's
#: unit.
DOSE_NUMBER_BOUNDS: Mapping[str, tuple[Decimal, Decimal, int, int]] = {
    "amount": (Decimal(0), Decimal(1_000_000), -4, 6),
    "min": (Decimal(0), Decimal(1_000_000), -4, 6),
    "max": (Decimal(0), Decimal(1_000_000), -4, 6),
    "warn_below": (Decimal(0), Decimal(1_000_000), -4, 6),
    "warn_above": (Decimal(0), Decimal(1_000_000), -4, 6),
    "round_to": (Decimal("0.001"), Decimal(1000), -3, 3),
}
#: Plausible ranges of inputs: compared with facts (exactly), never multiplied.
PLAUSIBLE_BOUNDS = (Decimal(-1_000_000_000), Decimal(1_000_000_000), -9, 12)


def _number_problem(value: Decimal, bounds: tuple[Decimal, Decimal, int, int]) -> str | None:
    low, high, finest, digits = bounds
    if not value.is_finite() or not low <= value <= high:
        return f"must lie between {low} and {high}"
    if value.is_zero():
        return None
    _, digit_tuple, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    if exponent < finest:
        return (f"has a digit in the {Decimal(1).scaleb(exponent):f} place; it must not be finer than "
                f"{Decimal(1).scaleb(finest):f}")
    if len(digit_tuple) > digits:
        counted = "".join(map(str, digit_tuple[:40])) + ("..." if len(digit_tuple) > 40 else "")
        return (f"has {len(digit_tuple)} significant digits ({counted}); it must have at most {digits} "
                "significant digits")
    return None


def dose_number_problem(value: Decimal, key: str = "amount") -> str | None:
    """What is wrong with a dose number under ``DOSE_NUMBER_BOUNDS[key]`` ("must lie between ..."), or None.

    Shared by the load-time check (plain numbers here, an amount expression that folds to a constant in the
    compiler) and the run-time check of every computed dose (``dose-out-of-range``, runtime/doses.py).
    """
    return _number_problem(value, DOSE_NUMBER_BOUNDS[key])


@rule(Code.DOSE_NUMBER_RANGE)
def _dose_numbers(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """Dose numbers and plausible ranges within sane bounds (``dose-number-range``), checked before any
    arithmetic: ``round_to: 1e-999`` or ``amount: 1e999`` would overflow or print a dose of 1,000 digits."""
    for r in model.recommendations:
        for a in r.actions:
            d = a.dose
            if d is None:
                continue
            for key, bounds in DOSE_NUMBER_BOUNDS.items():
                value = getattr(d, key)
                if not isinstance(value, Decimal):
                    continue  # absent, or an expression (folded: the compiler; else checked when computed)
                problem = _number_problem(value, bounds)
                if problem is not None:
                    shown = model.source_map.text_at((*d.path, key)) or str(value)
                    hint = (f"write {key} as a plain number between {bounds[0]} and {bounds[1]}, with at "
                            f"most {bounds[3]} significant digits, in the dose's unit")
                    yield report(model, Code.DOSE_NUMBER_RANGE, f"dose {key} {shown[:40]} {problem}",
                                 (*d.path, key), hint)
    for i in model.inputs.values():
        for key, value in (("min", i.plausible_min), ("max", i.plausible_max)):
            if value is None:
                continue
            problem = _number_problem(value, PLAUSIBLE_BOUNDS)
            if problem is not None:
                shown = model.source_map.text_at((*i.path, "plausible", key)) or str(value)
                yield report(model, Code.DOSE_NUMBER_RANGE,
                             f"plausible {key} {shown[:40]} of {i.name} {problem}",
                             (*i.path, "plausible", key),
                             "a plausible range is a few digits in the input's unit")
