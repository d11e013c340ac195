"""One checker per kind of input, registered in ``KIND_CHECKERS``, a table keyed by kind.

A checker is built once per input, at load time (``make_check``), and then turns one raw fact into
(run-time value, measurement time or None, what was given when converted), or raises ``BadFact``
(``NullValue`` for ``{"value": null}``: the fact is missing). The table must name every kind of
``Input.type``: mypy flags a kind missing from ``_KindTable`` or an ``Input.type`` it lacks, and the module
refuses to import when the two differ.

Units: a quantity fact is ``{"value": n, "unit": "UCUM"}``. The unit must be the input's unit, one of its
``accepted_units``, or another spelling of one of these with a factor of exactly 1 (``10*3/uL`` for
``10*9/L``). The value is converted with the exact factor and then checked against the plausible range,
which is what catches 400 cells/uL sent as ``10*9/L``.

Sets of codes: a list of words of the code list (``["chemotherapy", "clozapine"]``, or
``{"value": [...], "at": ...}``), kept as a ``frozenset``: a word sent twice counts once, ``[]`` is a known
empty set, an unknown word is refused (``fact-unknown-code``, naming the word, with a did-you-mean), and a
list longer than ``max_code_set`` is refused before any word is read (``fact-too-large``).

Series: a list of ``{value, unit, at}``, sorted by instant, value and what was given (never by list order);
two results at the same instant keep one when their values are equal and are refused (``fact-malformed``)
when they differ. A datetime input declared ``time: past`` refuses a value after the as-of time,
``time: future`` one before it (``fact-implausible``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from operator import eq, itemgetter
from types import MappingProxyType
from typing import Any, Final, TypedDict, cast, get_args, get_type_hints

from ..codes import Code
from ..loading.model import Input
from ..values import units
from ..values.numbers import CONVERSION_CONTEXT, DECIMAL_CONTEXT
from ..values.suggest import did_you_mean
from ..values.text import echo, echo_number
from ..values.ucum_spelling import ucum_spelling
from .values import (
    MAX_MAGNITUDE,
    BadFact,
    common_time,
    echo_given,
    fact_number,
    fact_time,
    iso_text,
    range_text,
)

__all__ = ["KIND_CHECKERS", "CheckContext", "KindCheck", "NullKeysCheck", "NullValue", "UnitConversion",
           "make_check", "make_null_check"]

#: What was given, when it was converted: (value as given, unit as given).
GivenAs = tuple[Decimal, str] | None
#: One result of a series: (time in the calendar, value in the canonical unit, given, index in the list).
_Item = tuple[datetime, Decimal, GivenAs, int]



def _spelling_hint(unit: str) -> str | None:
    """``did you mean '10*3/uL'?`` for a common near-miss of a UCUM code (``K/uL``), else None."""
    spelling = ucum_spelling(unit)
    return f"did you mean '{spelling}'? (the UCUM spelling)" if spelling else None

class CheckContext:
    """What a per-input checker needs of one evaluation: the as-of time, the calendar, the series bound."""

    __slots__ = ("as_of", "cal", "max_code_set", "max_series")

    def __init__(self, as_of: datetime, cal: tzinfo, max_series: int, max_code_set: int = 1000) -> None:
        self.as_of = as_of
        self.cal = cal
        self.max_series = max_series
        self.max_code_set = max_code_set


#: A per-input checker: (raw, ctx) -> (value, measurement time or None, given). Raises BadFact.
KindCheck = Callable[[object, CheckContext], tuple[object, datetime | None, Any]]


#: exact multiplication (120 digits), never the thread's context
_exact_multiply: Final = CONVERSION_CONTEXT.multiply


class UnitConversion:
    """Converts a value in a given unit to the canonical unit, exactly, and checks plausibility."""

    __slots__ = ("factors", "hi", "lo", "unit")

    def __init__(self, inp: Input) -> None:
        assert inp.unit is not None
        self.unit: str = inp.unit
        self.lo = inp.plausible_min
        self.hi = inp.plausible_max
        factors: dict[str, Decimal | Fraction | None] = {inp.unit: None}
        for u in inp.accepted_units:
            ratio = units.exact_ratio(u, inp.unit)  # raises UnitError for a bad model
            factors[u] = _exact_or_fraction(ratio)
        self.factors = factors

    def factor(self, unit: object) -> Decimal | Fraction | None:
        """The factor of a unit not in the table (the table is read first, in ``convert``)."""
        accepted = ", ".join(self.factors)
        if not isinstance(unit, str):
            raise BadFact(
                Code.FACT_UNKNOWN_UNIT,
                f"the unit {echo_given(unit)} is not a UCUM code in quotes; accepted: {accepted}",
                ("unit",),
            )
        try:
            units.check_unit(unit)
        except units.UnitLibraryError:
            raise  # reported as unit-library-failed by the caller, naming the fact
        except units.UnitError:
            raise BadFact(
                Code.FACT_UNKNOWN_UNIT, f"'{echo(unit)}' is not a UCUM unit; accepted: {accepted}", ("unit",),
                hint=_spelling_hint(unit),
            ) from None
        try:
            ratio = units.exact_ratio(unit, self.unit)
        except units.UnitLibraryError:
            raise
        except units.UnitError:
            raise BadFact(
                Code.FACT_UNIT_MISMATCH,
                f"'{unit}' ({units.dimension(unit)}) cannot be converted to "
                f"'{self.unit}' ({units.dimension(self.unit)}); accepted: {accepted}",
                ("unit",),
                hint=_spelling_hint(unit),
            ) from None
        for f in self.factors.values():
            # another spelling of an accepted unit (the same quantity: the same factor)
            known = Fraction(1) if f is None else Fraction(f) if isinstance(f, Decimal) else f
            if ratio == known:
                return f
        raise BadFact(
            Code.FACT_UNIT_MISMATCH,
            f"'{unit}' is not an accepted unit for this input; accepted: {accepted}",
            ("unit",),
            hint="send the value in one of the accepted units",
        )

    def convert(self, value: Decimal, unit: object) -> tuple[Decimal, GivenAs]:
        """(value in the canonical unit, (value, unit) as given when converted)."""
        if unit is None or unit == self.unit:
            out = value
            given: GivenAs = None
        else:
            try:
                f = self.factors[unit]  # type: ignore[index]
            except (KeyError, TypeError):
                f = self.factor(unit)
            if f is None:
                out = value
            elif isinstance(f, Decimal):
                out = _exact_multiply(value, f)
            else:
                numerator = _exact_multiply(value, Decimal(f.numerator))
                out = DECIMAL_CONTEXT.divide(numerator, Decimal(f.denominator))
            given = (value, unit)  # type: ignore[assignment]
        lo, hi = self.lo, self.hi
        if (lo is not None and out < lo) or (hi is not None and out > hi):
            where = f"{echo_number(value)} {unit}" if given else f"{echo_number(value)} {self.unit}"
            conv = f" = {echo_number(out)} {self.unit}" if given else ""
            raise BadFact(
                Code.FACT_IMPLAUSIBLE,
                f"{where}{conv} is outside the plausible range {range_text(lo, hi)} {self.unit}",
                hint="check the value and its unit (a factor of 1000 is a unit mix-up)",
            )
        return out, given



def _exact_or_fraction(ratio: Fraction) -> Decimal | Fraction | None:
    if ratio == 1:
        return None
    exact = units.exact_decimal(ratio)
    return ratio if exact is None else exact


_FACT_KEYS: Final = frozenset({"value", "at"})
_QUANTITY_KEYS: Final = frozenset({"value", "unit", "at"})


def _split_fact(raw: object, with_unit: bool) -> tuple[object, object, object, bool]:
    """(value, unit, at, was_object) from a bare value or a {value, unit?, at?} object."""
    if type(raw) is dict or isinstance(raw, Mapping):
        allowed = _QUANTITY_KEYS if with_unit else _FACT_KEYS
        if not raw.keys() <= allowed:
            extra = sorted(str(k) for k in raw if k not in allowed)
            raise BadFact(
                Code.FACT_MALFORMED,
                f"unexpected key(s) {echo(', '.join(extra))}; a fact object has {', '.join(sorted(allowed))}",
                (echo(extra[0]),),
            )
        if "value" not in raw:
            raise BadFact(Code.FACT_MALFORMED, "the fact object has no `value`")
        value = raw["value"]
        if value is None:
            raise NullValue(raw.get("unit"), raw.get("at"), len(raw) > 1)
        return value, raw.get("unit"), raw.get("at"), True
    return raw, None, None, False


class NullValue(Exception):
    """A fact object whose value is null. Alone (``{"value": null}``) the fact is absent; with other keys
    (``extras``: a ``unit``, an ``at``) it is a result without a usable value: its keys are still checked
    (``check_null_keys``) and it is unknown, never replaced by a default."""

    def __init__(self, unit: object = None, at: object = None, extras: bool = False) -> None:
        super().__init__("null value")
        self.unit = unit
        self.at = at
        self.extras = extras


#: Checks the other keys of a null-valued fact object: -> its measurement time or None; raises BadFact (or
#: UnitError) for a bad unit or time, like a valued fact.
NullKeysCheck = Callable[[NullValue, CheckContext], "datetime | None"]


def make_null_check(inp: Input) -> NullKeysCheck:
    """The check of the ``unit`` and ``at`` of a null-valued fact of ``inp`` (built once, at load time)."""
    conv = UnitConversion(inp) if inp.type == "quantity" and inp.unit is not None else None

    def check(null: NullValue, ctx: CheckContext) -> datetime | None:
        if conv is not None and null.unit is not None and (
                not isinstance(null.unit, str) or null.unit not in conv.factors):
            conv.factor(null.unit)
        return _measured_at(null.at, ctx.cal)

    return check


def _measured_at(at: object, cal: tzinfo) -> datetime | None:
    """The measurement time ``at`` in the calendar ``cal`` (None when not given), or BadFact at ("at",)."""
    if at is None:
        return None
    t = common_time(at, cal)  # the common case, without fact_time's call
    if t is not None:
        return t
    try:
        return fact_time(at, "the time `at`", cal)
    except BadFact as bad:
        bad.sub = ("at",)
        raise


def _make_number(inp: Input) -> KindCheck:
    lo, hi = inp.plausible_min, inp.plausible_max

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        if type(raw) is dict:
            value, _, at, _ = _split_fact(raw, False)
            t = _measured_at(at, ctx.cal)
        else:
            value, t = raw, None
        d = fact_number(value)
        if (lo is not None and d < lo) or (hi is not None and d > hi):
            raise BadFact(
                Code.FACT_IMPLAUSIBLE, f"{echo_number(d)} is outside the plausible range {range_text(lo, hi)}"
            )
        return d, t, None

    return check


def _make_quantity(inp: Input) -> KindCheck:
    q = UnitConversion(inp)
    bare_ok = inp.bare_number
    unit_name = q.unit
    convert = q.convert

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        if type(raw) is dict and raw.keys() <= _QUANTITY_KEYS and raw.get("value") is not None:
            value, unit, at, was_obj = raw["value"], raw.get("unit"), raw.get("at"), True
        else:
            value, unit, at, was_obj = _split_fact(raw, True)
        d = fact_number(value)
        if unit is None and not bare_ok:
            if was_obj:
                raise BadFact(
                    Code.FACT_MISSING_UNIT,
                    f"the value {echo_given(value)} has no unit; expected "
                    f'{{"value": ..., "unit": "{unit_name}"}}',
                    hint=f'add "unit": "{unit_name}"',
                )
            raise BadFact(
                Code.FACT_MISSING_UNIT,
                f"a bare number {echo_given(value)} where a quantity with a unit is "
                f'required; expected {{"value": ..., "unit": "{unit_name}"}}',
                hint=f'send {{"value": {echo_given(value)}, "unit": "{unit_name}"}}',
            )
        out, given = convert(d, unit)
        return out, (_measured_at(at, ctx.cal) if at is not None else None), given

    return check


def _make_series(inp: Input) -> KindCheck:
    q = UnitConversion(inp)
    bare_ok = inp.bare_number
    unit_name = q.unit
    convert = q.convert
    lo, hi = q.lo, q.hi
    # the common result's units: unit -> exact Decimal factor, or None for a factor of 1 (a Fraction factor,
    # a unit not in the table, a missing unit: the full path, ``result``)
    fast_units: dict[str, Decimal | None] = {
        u: f for u, f in q.factors.items() if f is None or isinstance(f, Decimal)}

    def result(i: int, item: object, ctx: CheckContext) -> _Item:
        """Result ``i`` of the series, every check in order (the first failing one is the error)."""
        try:
            if not isinstance(item, Mapping):
                raise BadFact(
                    Code.FACT_MALFORMED,
                    f"{echo_given(item)} is not an object "
                    f'{{"value": ..., "unit": "{unit_name}", "at": "..."}}',
                )
            try:
                value, unit, at, _ = _split_fact(item, True)
            except NullValue:
                raise BadFact(
                    Code.FACT_MALFORMED, "a null value; leave the result out instead", ("value",)
                ) from None
            if at is None:
                raise BadFact(Code.FACT_MALFORMED, "no `at` time")
            d = fact_number(value)
            if unit is None and not bare_ok:
                raise BadFact(Code.FACT_MISSING_UNIT, f'no unit; expected "unit": "{unit_name}"')
            out, given = convert(d, unit)
            try:
                t = fact_time(at, "the time `at`", ctx.cal)
            except BadFact as bad:
                bad.sub = ("at",)
                raise
        except BadFact as bad:
            bad.sub = (i, *bad.sub)
            bad.message = f"result {i}: {bad.message}"
            raise
        if t > ctx.as_of:
            raise BadFact(
                Code.FACT_FUTURE,
                f"result {i} is timed {iso_text(t)}, after the as-of time {iso_text(ctx.as_of)}",
                (i, "at"),
            )
        return t, out, given, i

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        if not isinstance(raw, list | tuple):
            raise BadFact(
                Code.FACT_WRONG_TYPE,
                f"{echo_given(raw)} is not a list of results "
                f'[{{"value": ..., "unit": "{unit_name}", "at": "..."}}, ...]',
            )
        if len(raw) > ctx.max_series:
            raise BadFact(
                Code.FACT_TOO_LARGE,
                f"{len(raw)} results; a series has at most {ctx.max_series}",
                hint="send the recent results the guideline needs",
            )
        as_of, cal = ctx.as_of, ctx.cal
        items: list[_Item] = []
        append = items.append
        for i, item in enumerate(raw):
            # the common result, {"value": a number, "unit": a unit of the table, "at": ISO text}, checked
            # inline with the same values as ``result``; anything else (or any check failing) is left to
            # ``result``, which checks it again from the start, in order, and reports the first error
            if type(item) is dict and len(item) == 3:
                value, unit, at = item.get("value"), item.get("unit"), item.get("at")
                tv = type(value)
                d: Decimal | None = None
                if tv is int:
                    if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # type: ignore[operator]
                        d = Decimal(value)  # type: ignore[arg-type]
                elif tv is float and -_FLOAT_MAX < value < _FLOAT_MAX:  # type: ignore[operator]
                    d = Decimal(repr(value))
                    if d and d.adjusted() < -300:
                        d = None
                if d is not None and type(unit) is str and unit in fast_units:
                    f = fast_units[unit]
                    out = d if f is None else _exact_multiply(d, f)
                    if (lo is None or out >= lo) and (hi is None or out <= hi):
                        t = common_time(at, cal)
                        if t is not None and t <= as_of:
                            append((t, out, None if unit == unit_name else (d, unit), i))
                            continue
            append(result(i, item, ctx))
        # by instant, then by value and by what was given: never by the order of the list (of two equal
        # results at one instant, the one kept is the same whatever the order; every time is already in
        # the evaluation's calendar, so which offset it was written with no longer matters). Sorted by
        # instant first (stable); only when two results share an instant is the full order needed (the
        # same order: a stable sort by the full key of a list sorted stably by its first part).
        items.sort(key=_instant)
        instants = [item[0] for item in items]
        if any(map(eq, instants, islice(instants, 1, None))):
            items = _one_per_instant(items, unit_name)
        series = tuple([(t, v) for t, v, _, _ in items])
        givens: tuple[GivenAs, ...] | None = tuple([g for _, _, g, _ in items])
        if givens.count(None) == len(items):  # type: ignore[union-attr]
            givens = None
        return series, (series[-1][0] if series else None), givens

    return check


_instant: Final = itemgetter(0)


def _one_per_instant(items: list[_Item], unit_name: str) -> list[_Item]:
    """``items`` (two at one instant) in the full order, one result kept per instant; BadFact for two
    results at one instant with different values."""
    items.sort(key=_series_order)
    kept: list[_Item] = []
    for item in items:
        if kept and kept[-1][0] == item[0]:  # the same instant (offsets may differ)
            if kept[-1][1] == item[1]:
                continue  # the same result sent twice: keep one
            (t1, v1, _, first), (t2, v2, _, second) = sorted((kept[-1], item), key=_list_index)
            same_offset = t1.utcoffset() == t2.utcoffset()
            when = iso_text(t1) if same_offset else f"{iso_text(t1)} (= {iso_text(t2)})"
            raise BadFact(
                Code.FACT_MALFORMED,
                f"results {first} and {second}: two results at {when} with different values "
                f"({echo_number(v1)} and {echo_number(v2)} {unit_name})",
                (second, "at"),
                hint="send each result once; a result cannot have two values",
            )
        kept.append(item)
    return kept


#: floats beyond it are left to ``fact_number`` (which refuses them: beyond 1e15, infinite, not a number)
_FLOAT_MAX: Final = float(MAX_MAGNITUDE)


def _series_order(item: _Item) -> tuple[datetime, Decimal, str]:
    given = item[2]
    return item[0], item[1], "" if given is None else f"{given[0]} {given[1]}"


def _list_index(item: _Item) -> int:
    return item[3]


def _check_boolean(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
    if raw is True or raw is False:
        return raw, None, None
    value, _, at, _ = _split_fact(raw, False)
    if value is not True and value is not False:
        raise BadFact(Code.FACT_WRONG_TYPE, f"{echo_given(value)} is not true or false")
    return value, _measured_at(at, ctx.cal), None


def _make_code(inp: Input) -> KindCheck:
    allowed = frozenset(inp.values)
    listed = ", ".join(inp.values)

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        if type(raw) is str and raw in allowed:
            return raw, None, None
        value, _, at, _ = _split_fact(raw, False)
        if not isinstance(value, str):
            raise BadFact(
                Code.FACT_WRONG_TYPE, f"{echo_given(value)} is not one of the quoted values {listed}")
        if value not in allowed:
            close = did_you_mean(value, inp.values)
            raise BadFact(
                Code.FACT_UNKNOWN_CODE,
                f"{echo_given(value)} is not one of: {listed}",
                hint=f"did you mean '{close}'?" if close else None,
            )
        return value, _measured_at(at, ctx.cal), None

    return check


def _make_code_set(inp: Input) -> KindCheck:
    """A list of words from the code list: a ``frozenset`` (duplicates count once; ``[]`` is a known empty
    set). Every word is checked; the list is bounded (``FactsLimits.max_code_set``) before any is read."""
    allowed = frozenset(inp.values)
    listed = ", ".join(inp.values)

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        if isinstance(raw, list | tuple):
            value: object = raw
            at: object = None
        else:
            value, _, at, _ = _split_fact(raw, False)
        if not isinstance(value, list | tuple):
            raise BadFact(
                Code.FACT_WRONG_TYPE,
                f"{echo_given(value)} is not a list of quoted values from: {listed}",
                hint='send a list, e.g. ["' + inp.values[0] + '"], or [] for none',
            )
        if len(value) > ctx.max_code_set:
            raise BadFact(
                Code.FACT_TOO_LARGE,
                f"{len(value)} values; a set of codes has at most {ctx.max_code_set}",
                hint="send each value once",
            )
        for i, word in enumerate(value):
            if type(word) is str and word in allowed:
                continue
            if not isinstance(word, str):
                raise BadFact(
                    Code.FACT_WRONG_TYPE,
                    f"item {i}: {echo_given(word)} is not one of the quoted values {listed}",
                    (i,),
                )
            close = did_you_mean(word, inp.values)
            raise BadFact(
                Code.FACT_UNKNOWN_CODE,
                f"item {i}: {echo_given(word)} is not one of: {listed}",
                (i,),
                hint=f"did you mean '{close}'?" if close else None,
            )
        return frozenset(value), _measured_at(at, ctx.cal), None

    return check


def _make_datetime(inp: Input) -> KindCheck:
    when = inp.time

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        value, _, at, _ = _split_fact(raw, False)
        t = fact_time(value, "the value", ctx.cal)
        as_of = ctx.as_of
        if when == "past" and t > as_of:
            raise BadFact(
                Code.FACT_IMPLAUSIBLE,
                f"{iso_text(t)} is after the as-of time {iso_text(as_of)}; it must be a past time",
                hint="check the date (and its offset)",
            )
        if when == "future" and t < as_of:
            raise BadFact(
                Code.FACT_IMPLAUSIBLE,
                f"{iso_text(t)} is before the as-of time {iso_text(as_of)}; it must be a future time",
                hint="check the date (and its offset)",
            )
        return t, _measured_at(at, ctx.cal), None

    return check


_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _make_date(inp: Input) -> KindCheck:
    """A date without a time of day, ``"2026-11-24"``: the whole day. ``time: past`` refuses a day after the
    as-of date, ``time: future`` a day before it (the as-of date is both). With ``max_age`` and no ``at``, the
    date itself is the time of the fact, from the first instant of the day (at the as-of time's offset): the
    fact is stale as soon as any part of the day is older than ``max_age``."""
    when = inp.time
    dated = inp.max_age is not None

    def check(raw: object, ctx: CheckContext) -> tuple[object, datetime | None, Any]:
        value, _, at, _ = _split_fact(raw, False)
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
            raise BadFact(
                Code.FACT_BAD_TIME,
                f"{echo_given(value)} is not a date YYYY-MM-DD (a date input has no time of day)",
                hint='send the date alone, e.g. "2026-11-24"',
            )
        try:
            d = date.fromisoformat(value)
        except ValueError:
            raise BadFact(
                Code.FACT_BAD_TIME, f"{echo_given(value)} is not a real calendar date", hint="check the date"
            ) from None
        today = ctx.as_of.date()
        if when == "past" and d > today:
            raise BadFact(
                Code.FACT_IMPLAUSIBLE,
                f"{d.isoformat()} is after the as-of date {today.isoformat()}; it must be a past date",
                hint="check the date",
            )
        if when == "future" and d < today:
            raise BadFact(
                Code.FACT_IMPLAUSIBLE,
                f"{d.isoformat()} is before the as-of date {today.isoformat()}; it must be a future date",
                hint="check the date",
            )
        t = _measured_at(at, ctx.cal)
        if t is None and dated:
            # the first instant of the day, with the as-of time's own tzinfo (no overflow in year 1 or 9999)
            t = min(datetime(d.year, d.month, d.day, tzinfo=ctx.as_of.tzinfo), ctx.as_of)
        return d, t, None

    return check


def _make_boolean(inp: Input) -> KindCheck:
    return _check_boolean


#: Builds the checker of one input of its kind (once, at load time).
KindCheckFactory = Callable[[Input], KindCheck]


#: Every kind of ``Input.type`` -> its checker factory (mypy: every key is required; the functional form
#: because ``code-set`` is not a Python name).
_KindTable = TypedDict(
    "_KindTable",
    {
        "number": KindCheckFactory,
        "quantity": KindCheckFactory,
        "series": KindCheckFactory,
        "boolean": KindCheckFactory,
        "code": KindCheckFactory,
        "datetime": KindCheckFactory,
        "code-set": KindCheckFactory,
        "date": KindCheckFactory,
    },
)


_TABLE: Final[_KindTable] = {
    "number": _make_number,
    "quantity": _make_quantity,
    "series": _make_series,
    "boolean": _make_boolean,
    "code": _make_code,
    "datetime": _make_datetime,
    "code-set": _make_code_set,
    "date": _make_date,
}

#: kind -> checker factory, for every kind of ``Input.type``
KIND_CHECKERS: Final[Mapping[str, KindCheckFactory]] = MappingProxyType(
    cast("dict[str, KindCheckFactory]", _TABLE)
)

_DECLARED_KINDS: Final = frozenset(get_args(get_type_hints(Input)["type"]))
if KIND_CHECKERS.keys() != _DECLARED_KINDS:  # a kind added to Input.type without a checker: refuse to import
    raise ImportError(
        "facts.kinds.KIND_CHECKERS does not match Input.type: "
        f"missing {sorted(_DECLARED_KINDS - KIND_CHECKERS.keys())}, "
        f"extra {sorted(KIND_CHECKERS.keys() - _DECLARED_KINDS)}"
    )


def make_check(inp: Input) -> KindCheck:
    """The checker of ``inp``, built for its kind (ValueError for a kind no model can declare)."""
    try:
        factory = _TABLE[inp.type]
    except KeyError:
        raise ValueError(f"input '{inp.name}' has an unknown type {inp.type!r}") from None
    return factory(inp)
