"""Doses: the amount of a dose computed for one patient, with every step of the calculation in words.

Never a dose from missing facts (``cannot-compute`` names the facts it needs); never a dose of zero or less,
nor one beyond the bounds of a written dose number (docs/api.md, Limits): those are located errors.
Decimal arithmetic runs in the evaluation's context (``values.numbers.DECIMAL_CONTEXT``, set by ``evaluate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, Overflow, Underflow
from typing import Any

from ..analysis.doses import DOSE_NUMBER_BOUNDS, dose_number_problem
from ..codes import Code
from ..compiler.guideline import CompiledDose, CompiledGuideline
from ..errors import EvaluationError, Path
from ..facts.values import _to_calendar
from ..lang.compile import CompiledExpression
from ..loading.model import Action
from ..result import ActionResult, DoseResult, brief_decimal, display_decimal, format_decimal
from ..values.unknown import UNKNOWN
from .locate import insufficient, insufficient_present, locate

__all__ = ["action_result", "compute_dose"]


def _out_of_range(
    g: CompiledGuideline, d: CompiledDose, rec_id: str, message: str, path: Path, hint: str
) -> EvaluationError:
    """``dose-out-of-range``: a computed dose number beyond the bounds of a written one (docs/api.md, Limits),
    located at ``path`` (the amount, or the round_to). ``hint`` is appended to the message."""
    m = d.model
    expression = m.amount if isinstance(m.amount, str) and path[-1] == "amount" else None
    return locate(
        g,
        EvaluationError(
            Code.DOSE_OUT_OF_RANGE, f"{message}; no dose is shown: {hint}", expression=expression),
        path,
        rec_id,
    )


def _arithmetic_words(exc: ArithmeticError) -> str:
    """What an arithmetic failure of a dose calculation means, in words (never a Python exception name)."""
    if isinstance(exc, DivisionByZero | ZeroDivisionError):
        return "it would divide by zero"
    if isinstance(exc, Overflow | OverflowError):
        return "a number in it is too large to compute"
    if isinstance(exc, Underflow):
        return "a number in it is too small to compute"
    return "the calculation has no defined result for these numbers"


def compute_dose(
    g: CompiledGuideline,
    d: CompiledDose,
    values: Mapping[str, Any],
    as_of: datetime,
    rec_id: str,
    shown: Mapping[str, Any],
) -> DoseResult:
    """Dose ``d`` of recommendation ``rec_id`` for these ``values`` (``shown``: the facts as the result shows
    them, for the unit a basis was given in)."""
    m = d.model
    amount = _amount(g, d, values, as_of, rec_id)
    expression = m.amount if isinstance(m.amount, str) else None
    amount_text = format_decimal(amount) if isinstance(amount, Decimal) else None
    prescribed = f"{amount_text} {m.unit}" if amount_text is not None else f"{m.amount} {m.unit}"
    missing = [i for i in d.inputs if values.get(i) is UNKNOWN]
    missing.sort()
    basis_unknown = m.basis is not None and values.get(m.basis) is UNKNOWN
    if amount is UNKNOWN or missing or basis_unknown:
        # never a dose from missing facts; name the inputs: the unknown ones, else (a value present but not
        # enough, such as an empty series) every input the dose rests on
        return DoseResult(
            "cannot-compute",
            d.total_unit,
            None,
            prescribed,
            ("not computed: a fact it needs is missing, stale or not enough",),
            tuple(missing or insufficient_present(g, d.inputs)),
        )
    steps: list[str] = []
    shown_amount = amount_text if amount_text is not None else format_decimal(amount)
    total, rounded = _unrounded_total(d, amount, shown_amount, values, shown, steps)
    if total <= 0:  # an amount expression gave zero or less: never shown as a dose
        raise locate(
            g,
            EvaluationError(
                Code.DOSE_NOT_POSITIVE,
                f"the dose of {d.total_unit} came out as {brief_decimal(total)}",
                expression=expression,
            ),
            (*m.path, "amount"),
            rec_id,
        )
    highest = DOSE_NUMBER_BOUNDS["amount"][1]
    if total > highest:  # checked before rounding or capping: a runaway dose is a defect, never capped
        raise _out_of_range(
            g, d, rec_id,
            f"the dose came out as {brief_decimal(total)} {d.total_unit}, above the largest dose number "
            f"{format_decimal(highest)}",
            (*m.path, "amount"),
            "bound the amount (and its basis) so that the dose stays within the limits of docs/api.md",
        )
    total = _rounded(d, total, steps, rounded)
    if m.min is not None and total < m.min:
        steps.append(f"raised to the minimum {format_decimal(m.min)} {d.total_unit}")
        total = m.min
    if m.max is not None and total > m.max:
        steps.append(f"capped at the maximum {format_decimal(m.max)} {d.total_unit}")
        total = m.max
    if total <= 0:  # rounding can take a tiny dose to zero
        raise locate(
            g,
            EvaluationError(
                Code.DOSE_NOT_POSITIVE,
                f"the dose of {d.total_unit} came out as {format_decimal(total)} after rounding",
            ),
            (*m.path, "round_to") if m.round_to is not None else m.path,
            rec_id,
        )
    problem = dose_number_problem(total)
    if problem is not None:  # a fine round_to on a large dose: 123456.789 mg has 9 significant digits
        raise _out_of_range(
            g, d, rec_id, f"the dose of {format_decimal(total)} {d.total_unit} {problem}",
            (*m.path, "round_to") if m.round_to is not None else m.path,
            "choose a coarser round_to",
        )
    return DoseResult("computed", d.total_unit, total, prescribed, tuple(steps), (), _warnings(d, total))


def _amount(
    g: CompiledGuideline, d: CompiledDose, values: Mapping[str, Any], as_of: datetime, rec_id: str
) -> Any:
    """The amount of dose ``d`` per unit of its basis (or in all): written, or computed and then within the
    bounds of a written one; ``UNKNOWN`` when a fact it needs is missing."""
    m = d.model
    expression = m.amount if isinstance(m.amount, str) else None
    amount: Any = d.amount
    if isinstance(amount, CompiledExpression):
        try:
            amount = amount.evaluate(values, as_of)
        except EvaluationError as exc:
            raise locate(
                g, EvaluationError(exc.code, exc.message, expression=expression), (*m.path, "amount"), rec_id
            ) from exc
    if isinstance(amount, Decimal) and expression is not None and amount > 0:
        # a computed amount obeys the bounds of a written one (zero or less is dose-not-positive below)
        problem = dose_number_problem(amount)
        if problem is not None:
            raise _out_of_range(
                g, d, rec_id,
                f"the dose amount came out as {brief_decimal(amount)} {m.unit}, which {problem}",
                (*m.path, "amount"),
                "round the amount expression, e.g. round(..., 1), and bound it with min() and max()",
            )
    return amount


def _unrounded_total(
    d: CompiledDose, amount: Decimal, amount_text: str, values: Mapping[str, Any], shown: Mapping[str, Any],
    steps: list[str],
) -> tuple[Decimal, Decimal | None]:
    """The amount (``amount_text``: as ``format_decimal`` shows it) times the basis (converted to the unit the
    amount is per), each step added to ``steps``; and the total rounded as ``_round_value`` rounds it when it
    was computed on the way (None: not computed)."""
    m = d.model
    rounded: Decimal | None = None
    if m.basis is None:
        total: Decimal = amount
        steps.append(f"fixed dose {amount_text} {d.total_unit}")
    else:
        basis = values[m.basis]
        basis_in = basis * d.basis_factor
        total = amount * basis_in
        # the numbers shown are readable (69.85 kg, not 69.85322498 kg) and never disagree with the dose:
        # recomputed from them, the dose rounds to the same total (docs/api.md, "Display of computed numbers")
        # (a total out of range is refused next, as before: its numbers are shown as they were)
        fits = 0 < total <= DOSE_NUMBER_BOUNDS["amount"][1]
        rounded = _round_value(d, total) if fits else None
        text = _readable(basis, READABLE_PLACES.get(d.basis_unit or "") if fits else None,
                         lambda b: _round_value(d, amount * b * d.basis_factor) == rounded)
        text_in = text
        if d.basis_factor != 1:
            text_in = _readable(basis_in, READABLE_PLACES.get(d.per_unit or "") if fits else None,
                                lambda b: _round_value(d, amount * b) == rounded)
        given = shown.get(m.basis)
        if isinstance(given, dict) and "given" in given:
            steps.append(f"{m.basis} given as {given['given']} = {text} {d.basis_unit}")
        if d.basis_factor != 1:
            steps.append(f"{m.basis} {text} {d.basis_unit} = {text_in} {d.per_unit}")
        exponent = None if m.round_to is None else m.round_to.normalize().as_tuple().exponent
        # the product: one place finer than round_to, or more where the number so shown would round apart
        if fits and isinstance(exponent, int):
            product = _readable(total, max(0, -exponent) + 1, lambda t: _round_value(d, t) == rounded)
        else:
            product = _shown(total)
        steps.append(f"{amount_text} {m.unit} x {text_in} {d.per_unit} = {product} {d.total_unit}")
    return total, rounded


#: The decimal places an intermediate number of a dose calculation is shown with, by its unit: a body
#: weight to 0.1 kg, a body surface area to 0.01 m2 (issue 9, "intermediate values rounded for display").
#: A place more is shown wherever the number so rounded would give another dose (``_readable``).
READABLE_PLACES: dict[str, int] = {"kg": 1, "m2": 2}

#: At most this many places beyond the first are tried before the number is shown as ``_shown`` does.
_MORE_PLACES = 8

_ONE = Decimal(1)
#: ``_PLACES[p]`` is 10**-p: the quantum of ``p`` decimal places (built once, not per dose)
_PLACES = tuple(Decimal((0, (1,), -p)) for p in range(24))


def _readable(value: Decimal, places: int | None, agrees: Callable[[Decimal], bool]) -> str:
    """``value`` shown with ``places`` decimal places (half up, ``~`` when that changed it), or more where
    ``agrees`` (the dose recomputed from the shown number is the dose computed) fails; ``_shown(value)``
    when no places are set for its unit or none of the tried ones agrees."""
    if places is not None:
        for p in range(places, places + _MORE_PLACES + 1):
            near = value.quantize(_PLACES[p] if p < len(_PLACES) else _ONE.scaleb(-p), rounding=ROUND_HALF_UP)
            if near == value:
                return format_decimal(value)
            if agrees(near):
                return f"~{format_decimal(near)}"
    return _shown(value)


#: An intermediate number of a dose calculation with at most this many significant digits is shown exactly
#: (``69.85322498 kg``, ``349.2661249 ug``); a longer one is rounded for display.
EXACT_DISPLAY_DIGITS = 10


def _shown(value: Decimal) -> str:
    """An intermediate number of a dose calculation as shown: exactly when it has at most
    ``EXACT_DISPLAY_DIGITS`` significant digits, else to the precision of a dose number (6 significant digits,
    at most 4 decimal places) with ``~`` (a body surface area of 28 digits shows as ``~2.0138``). The dose is
    computed from the exact value, and its rounding step shows every digit it rounded."""
    if len(value.normalize().as_tuple().digits) <= EXACT_DISPLAY_DIGITS:
        return format_decimal(value)
    _, _, finest, digits = DOSE_NUMBER_BOUNDS["amount"]
    return display_decimal(value, digits, finest)


def _round_value(d: CompiledDose, total: Decimal) -> Decimal:
    """``total`` rounded as ``_rounded`` rounds it, without a step."""
    m = d.model
    if m.round_to is not None:
        return (total / m.round_to).quantize(_ONE, rounding=ROUND_HALF_UP) * m.round_to
    _, _, finest, digits = DOSE_NUMBER_BOUNDS["amount"]
    return total.quantize(Decimal(1).scaleb(max(total.adjusted() - digits + 1, finest)), ROUND_HALF_UP)


def _rounded(d: CompiledDose, total: Decimal, steps: list[str], known: Decimal | None = None) -> Decimal:
    """``total`` rounded (half up) to the dose's ``round_to``, else to the precision of a written dose number;
    the rounding is added to ``steps`` when it changed the number. ``known``: ``_round_value(d, total)``
    when already computed."""
    m = d.model
    if m.round_to is not None:
        rounded = _round_value(d, total) if known is None else known
        if rounded != total:
            steps.append(
                f"rounded (half up) to a multiple of {format_decimal(m.round_to)} {d.total_unit}: "
                f"{format_decimal(rounded)} {d.total_unit}"
            )
        return rounded
    # no round_to: the dose shown has at most DOSE_DIGITS significant digits and no place finer than
    # DOSE_FINEST (the bounds of a written dose number); the calculation says so when that changed it
    _, _, finest, digits = DOSE_NUMBER_BOUNDS["amount"]
    rounded = _round_value(d, total) if known is None else known
    if rounded != total:
        steps.append(
            f"{format_decimal(total)} {d.total_unit} rounded (half up) to {digits} significant digits, "
            f"at most {-finest} decimal places (the dose sets no round_to): "
            f"{format_decimal(rounded)} {d.total_unit}"
        )
    return rounded


def _warnings(d: CompiledDose, total: Decimal) -> tuple[str, ...]:
    """The review warnings of a dose of ``total``: below ``warn_below``, above ``warn_above``."""
    m = d.model
    warnings: list[str] = []
    if m.warn_below is not None and total < m.warn_below:
        warnings.append(
            f"{format_decimal(total)} {d.total_unit} is below {format_decimal(m.warn_below)} "
            f"{d.total_unit}: {m.warn_below_text or 'review before giving'}"
        )
    if m.warn_above is not None and total > m.warn_above:
        warnings.append(
            f"{format_decimal(total)} {d.total_unit} is above {format_decimal(m.warn_above)} "
            f"{d.total_unit}: {m.warn_above_text or 'review before giving'}"
        )
    return tuple(warnings)


def action_result(
    g: CompiledGuideline,
    a: Action,
    values: Mapping[str, Any],
    as_of: datetime,
    rec_id: str,
    shown: Mapping[str, Any],
    calendar: tzinfo | None = None,
) -> ActionResult:
    """The result of action ``a`` of recommendation ``rec_id``: the same for every patient when it has no
    dose, else with its dose computed (an arithmetic failure is ``dose-arithmetic``, never a Python
    exception). ``calendar``: the evaluation's, whose wall clock shows an earliest start (default: the
    as-of time's offset)."""
    static = g.static_actions.get(a.path)
    if static is not None:
        return static
    dose = None
    if a.path in g.doses:
        try:
            dose = compute_dose(g, g.doses[a.path], values, as_of, rec_id, shown)
        except ArithmeticError as exc:
            raise locate(
                g,
                EvaluationError(
                    Code.DOSE_ARITHMETIC,
                    f"the dose could not be computed for these facts: {_arithmetic_words(exc)}; no dose is "
                    "shown",
                ),
                (*a.path, "dose"),
                rec_id,
            ) from exc
    expr = g.not_before.get(a.path)
    if expr is None:
        return ActionResult(a.type, g.action_fields[a.path], dose)
    start, needs = _not_before(g, expr, a, values, as_of, rec_id, calendar)
    return ActionResult(a.type, g.action_fields[a.path], dose, start, needs, True)


def _not_before(
    g: CompiledGuideline, expr: CompiledExpression, a: Action, values: Mapping[str, Any], as_of: datetime,
    rec_id: str, calendar: tzinfo | None = None,
) -> tuple[datetime | None, tuple[str, ...]]:
    """The earliest start of ``a`` in the evaluation's calendar, or None with the facts it needs (a
    run-time error is located at ``not_before``). The offset is the calendar's AT THAT TIME, not the as-of
    time's: a start across a daylight-saving change shows the wall clock of that day (Europe/Paris, as of
    2026-03-28 12:00+01:00: 24 h after 10:00+01:00 is 11:00+02:00, never 10:00+01:00, which a ward clock
    would read an hour early)."""
    try:
        value = expr.evaluate(values, as_of)
    except EvaluationError as exc:
        raise locate(g, exc, (*a.path, "not_before"), rec_id) from exc
    if isinstance(value, datetime):
        if calendar is None:
            return value.astimezone(as_of.tzinfo), ()
        try:
            return _to_calendar(value, calendar), ()
        except OverflowError as exc:  # the instant is beyond the years 1 to 9999 in the calendar
            raise locate(
                g, EvaluationError(Code.EXPR_OVERFLOW, "the earliest start is beyond the years 1 to 9999"),
                (*a.path, "not_before"), rec_id,
            ) from exc
    inputs = frozenset().union(*(g.deps.get(n, frozenset()) for n in expr.names))
    return None, tuple(insufficient(g, inputs, values))
