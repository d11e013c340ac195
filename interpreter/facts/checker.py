"""Check a patient's facts against the guideline's declared inputs, at the boundary.

``FactChecker(inputs)`` is built once, at load time: per input it builds the checker of its kind
(``facts/kinds.py``), with the exact conversion factor of every accepted unit. ``check(raw, as_of)`` then
turns the host's raw facts into run-time values (``Decimal`` in the input's canonical unit, ``bool``,
``str``, aware ``datetime``, or a series tuple), or ``UNKNOWN`` with a reason:

* ``missing``: not given, or ``null``;
* ``stale``: the measurement time ``at`` is older than the input's ``max_age`` at the as-of time;
* ``undated``: ``max_age`` is set but the fact has no ``at``.

Every *malformed* fact is an error, never a silent unknown: all of them are reported at once in one
``FactsError`` (one diagnostic per bad fact, ``path`` = (fact name, ...)). Codes:

``fact-wrong-type``, ``fact-not-finite``, ``fact-too-precise``, ``fact-unknown-unit``, ``fact-unit-mismatch``,
``fact-missing-unit``, ``fact-implausible``, ``fact-unknown-code``, ``fact-bad-time``, ``fact-future``,
``fact-malformed``, ``fact-too-large``, ``fact-too-many-errors``; and from ``parse_facts_json``
(``facts/json.py``): ``fact-duplicate-key``, ``fact-not-finite``, ``fact-malformed``, ``fact-encoding``,
``fact-too-large``. Values echoed in messages are cut to about 40 characters. How numbers and times are read:
``facts/values.py``.

Limits (``FactsLimits``; docs/api.md, "Limits"): bytes read, JSON nesting (measured before parsing), number
of facts, series length (``fact-too-large``), errors reported (``fact-too-many-errors``), did-you-mean
suggestions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Literal

from ..codes import Code
from ..errors import Diagnostic, FactsError, Location, sort_diagnostics
from ..loading.model import Input
from ..values import units
from ..values.suggest import did_you_mean
from ..values.types import Series
from ..values.unknown import UNKNOWN
from .defaults import usable_defaults
from .kinds import CheckContext, KindCheck, NullKeysCheck, NullValue, make_check, make_null_check
from .values import BadFact, decimal_text, duration_text, evaluation_calendar, iso_text

__all__ = [
    "DEFAULT_FACTS_LIMITS",
    "CheckedFacts",
    "FactChecker",
    "FactStatus",
    "FactsLimits",
    "bounded_errors",
]

Reason = Literal["missing", "stale", "undated"]


@dataclass(frozen=True, slots=True)
class FactsLimits:
    """Bounds on the facts of one evaluation, enforced before the work they bound (docs/api.md, "Limits").

    Beyond ``max_bytes``, ``max_facts`` or ``max_series`` the facts are refused (``fact-too-large``); beyond
    ``max_depth`` (``fact-malformed``). At most ``max_errors`` fact errors are reported, then one
    ``fact-too-many-errors`` saying how many more there were. Only the first ``max_suggestions`` unknown
    fact names (in sorted order) get a did-you-mean suggestion.
    """

    #: Largest facts text, in bytes (UTF-8); a stream is never read past this + 1 byte.
    max_bytes: int = 1 << 20
    #: Deepest JSON nesting (a fact is depth 1, a series result 2, its keys 3).
    max_depth: int = 16
    #: Most facts (names) in one evaluation, declared or not.
    max_facts: int = 10_000
    #: Most results in one series fact.
    max_series: int = 10_000
    #: Most words in one set-of-codes fact (duplicates included).
    max_code_set: int = 1000
    #: Most fact errors reported; the rest are counted in one final diagnostic.
    max_errors: int = 100
    #: Most unknown fact names that get a did-you-mean suggestion.
    max_suggestions: int = 20

    def __post_init__(self) -> None:
        for f in fields(self):
            name, value = f.name, getattr(self, f.name)
            if type(value) is not int or value < 0:
                raise ValueError(f"FactsLimits.{name} must be a whole number >= 0, not {value!r}")
        if not 1 <= self.max_depth <= 100:
            raise ValueError("FactsLimits.max_depth must be from 1 to 100")


DEFAULT_FACTS_LIMITS: Final = FactsLimits()


@dataclass(frozen=True, slots=True)
class FactStatus:
    """Why a fact is unknown."""

    reason: Reason
    detail: str


_MISSING: Final = FactStatus("missing", "not given")


@dataclass(frozen=True, slots=True)
class CheckedFacts:
    #: every declared input -> its run-time value or UNKNOWN
    values: Mapping[str, object]
    #: the unknown inputs and why
    unknown: Mapping[str, FactStatus]
    #: facts given that no input declares: (name, closest declared name or None)
    unrecognized: tuple[tuple[str, str | None], ...]
    #: JSON-able account of every fact given: value (string, canonical unit), unit, given (if converted), at
    shown: Mapping[str, Any]
    #: the defaults used for absent facts: (name, value as shown, unit, reason)
    assumed: tuple[tuple[str, Any, str | None, str], ...] = ()


#: What ``shown`` needs of one fact: (kind, value, unit, given, at, unknown reason).
_Record = tuple[str, object, str | None, Any, datetime | None, str | None]


class _ShownFacts(Mapping[str, Any]):
    """The JSON-able account of the facts given, formatted on access (the hot path only records)."""

    __slots__ = ("_records",)

    def __init__(self, records: dict[str, _Record]) -> None:
        self._records = records

    def __getitem__(self, name: str) -> dict[str, Any]:
        kind, value, unit, given, at, unknown = self._records[name]
        out: dict[str, Any]
        if kind == "series":
            series: Series = value  # type: ignore[assignment]
            items = [{"value": decimal_text(v), "at": iso_text(t)} for t, v in series]
            if given:
                for item, g in zip(items, given, strict=True):
                    if g is not None:
                        item["given"] = f"{decimal_text(g[0])} {g[1]}"
            out = {"value": items, "unit": unit}
        else:
            if isinstance(value, Decimal):
                shown: object = decimal_text(value)
            elif isinstance(value, datetime):
                shown = iso_text(value)
            elif isinstance(value, date):
                shown = value.isoformat()
            elif isinstance(value, frozenset):
                shown = sorted(value)
            else:
                shown = value
            out = {"value": shown}
            if unit is not None:
                out["unit"] = unit
            if given is not None:
                out["given"] = f"{decimal_text(given[0])} {given[1]}"
        if at is not None:
            out["at"] = iso_text(at)
        if unknown is not None:
            out["unknown"] = unknown
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return repr(dict(self))


def bounded_errors(errors: list[Diagnostic], most: int, where: Location) -> list[Diagnostic]:
    """At most ``most`` diagnostics, then one ``fact-too-many-errors`` counting the rest."""
    if len(errors) <= most:
        return errors
    rest = len(errors) - most
    return [
        *sort_diagnostics(errors)[:most],  # the first in the stable order, never by the order sent
        Diagnostic(
            Code.FACT_TOO_MANY_ERRORS,
            f"... and {rest} more fact error(s), not shown (at most {most} are reported)",
            where,
        ),
    ]


def _fact_error(
    name: str, code: str, message: str, file: str, sub: tuple[str | int, ...], hint: str | None = None
) -> Diagnostic:
    """A diagnostic naming the fact: ``fact 'anc': <message>``, at path (name, *sub)."""
    return Diagnostic(code, f"fact '{name}': {message}", Location(file), path=(name, *sub), hint=hint)


class FactChecker:
    """Checks raw facts against the declared inputs.

    Built once; ``check`` is thread-safe (it keeps no state between calls).
    """

    def __init__(self, inputs: Mapping[str, Input], *, file: str = "<facts>") -> None:
        self.inputs: Mapping[str, Input] = MappingProxyType(dict(inputs))
        self.file = file
        self._names: frozenset[str] = frozenset(inputs)
        self._sorted_names: tuple[str, ...] = tuple(sorted(inputs))
        self._checks: tuple[tuple[str, str, str | None, timedelta | None, str, KindCheck], ...] = tuple(
            (
                name,
                inp.type,
                inp.unit,
                inp.max_age,
                inp.max_age_text or duration_text(inp.max_age) if inp.max_age else "",
                make_check(inp),
            )
            for name, inp in inputs.items()
        )
        #: name -> the check of the other keys of a null-valued fact object (``{"value": null, "at": ...}``)
        self._null_checks: Mapping[str, NullKeysCheck] = MappingProxyType(
            {name: make_null_check(inp) for name, inp in inputs.items()})
        #: name -> run-time value of its default (only inputs with a valid one; see facts/defaults.py)
        self._defaults: Mapping[str, object] = MappingProxyType(usable_defaults(inputs))

    def _null_result(self, name: str, null: NullValue, ctx: CheckContext, age: tuple[timedelta | None, str],
                     file: str | None, out: tuple[dict[str, object], dict[str, FactStatus]],
                     errors: list[Diagnostic] | None) -> list[Diagnostic] | None:
        """A null-valued fact object with a ``unit`` or an ``at``: unknown in ``out`` (stale when its time is
        older than ``max_age``, never the default), or the error in those keys (as for a valued fact) added
        to ``errors``; returns ``errors``."""
        where = file or self.file
        error: Diagnostic | None = None
        try:
            at = self._null_checks[name](null, ctx)
        except BadFact as bad:
            error = _fact_error(name, bad.code, bad.message, where, bad.sub, bad.hint)
        except units.UnitError as exc:
            code = units.unit_code(exc, Code.FACT_UNKNOWN_UNIT)
            error = _fact_error(name, code, exc.message, where, ("unit",))
        else:
            if at is not None and at > ctx.as_of:
                message = f"measured {iso_text(at)}, after the as-of time {iso_text(ctx.as_of)}"
                error = _fact_error(name, Code.FACT_FUTURE, message, where, ("at",))
        if error is not None:
            return [*(errors or ()), error]
        max_age, age_text = age
        out[0][name] = UNKNOWN
        out[1][name] = (
            FactStatus("stale", f"given as null, measured {iso_text(at)}, older than {age_text} at "
                                f"{iso_text(ctx.as_of)}")
            if at is not None and max_age is not None and ctx.as_of - at > max_age else _NULL_RESULT)
        return errors

    # -- the hot path --------------------------------------------------------------------------------
    def check(
        self,
        raw: Mapping[str, Any],
        as_of: datetime,
        *,
        file: str | None = None,
        time_zone: str | tzinfo | None = None,
        limits: FactsLimits = DEFAULT_FACTS_LIMITS,
    ) -> CheckedFacts:
        """Check ``raw`` facts at ``as_of`` (timezone-aware). Raises ``FactsError`` listing every bad fact.

        ``as_of`` must be a timezone-aware ``datetime`` (``EvaluationError('eval-bad-time')`` otherwise); it
        is read with a fixed offset, so every comparison and age is by instant. Every fact time is converted
        to the evaluation's calendar (``time_zone``, else the offset of ``as_of``; see
        ``evaluation_calendar``), so the calendar date of a result never depends on how it was written.
        """
        as_of, cal = evaluation_calendar(as_of, time_zone)
        if type(raw) is not dict and not isinstance(raw, Mapping):
            where = Location(file or self.file)
            raise FactsError(
                [
                    Diagnostic(
                        Code.FACT_MALFORMED,
                        f"the facts must be an object of name: value, not {type(raw).__name__}",
                        where,
                    )
                ]
            )
        if len(raw) > limits.max_facts:
            where = Location(file or self.file)
            raise FactsError(
                [
                    Diagnostic(
                        Code.FACT_TOO_LARGE,
                        f"{len(raw)} facts; at most {limits.max_facts} are accepted",
                        where,
                        hint="send the facts the guideline declares (guideline render lists them)",
                    )
                ]
            )
        ctx = CheckContext(as_of, cal, limits.max_series, limits.max_code_set)
        values: dict[str, object] = {}
        unknown: dict[str, FactStatus] = {}
        records: dict[str, _Record] = {}
        errors: list[Diagnostic] | None = None
        assumed: list[tuple[str, Any, str | None, str]] | None = None
        defaults = self._defaults
        get = raw.get
        for name, kind, unit, max_age, age_text, fn in self._checks:
            r = get(name)
            null = False
            if r is not None:
                try:
                    value, at, given = fn(r, ctx)
                except NullValue as n:
                    null = True
                    if n.extras:  # a result without a value: its keys are checked, never the default
                        errors = self._null_result(name, n, ctx, (max_age, age_text), file, (values, unknown),
                                                   errors)
                        continue
                except BadFact as bad:
                    errors = errors or []
                    errors.append(
                        _fact_error(name, bad.code, bad.message, file or self.file, bad.sub, bad.hint)
                    )
                    continue
                except units.UnitError as exc:
                    errors = errors or []
                    code = units.unit_code(exc, Code.FACT_UNKNOWN_UNIT)
                    errors.append(_fact_error(name, code, exc.message, file or self.file, ("unit",)))
                    continue
            if r is None or null:
                if name in defaults:  # absent (not sent, or null): the guideline's default
                    values[name] = defaults[name]
                    assumed = [*(assumed or ()), _assumed(name, defaults[name], unit, null or name in raw)]
                else:
                    values[name] = UNKNOWN
                    unknown[name] = _NULL if null else _MISSING
                continue
            if at is not None and kind != "series" and at > as_of:
                errors = errors or []
                message = f"measured {iso_text(at)}, after the as-of time {iso_text(as_of)}"
                errors.append(_fact_error(name, Code.FACT_FUTURE, message, file or self.file, ("at",)))
                continue
            status: FactStatus | None = None
            if max_age is not None:
                if at is None:
                    status = (
                        _NO_RESULTS
                        if kind == "series"
                        else FactStatus(
                            "undated", f"no measurement time `at`; values older than {age_text} are not used"
                        )
                    )
                elif as_of - at > max_age:
                    status = FactStatus(
                        "stale", f"measured {iso_text(at)}, older than {age_text} at {iso_text(as_of)}"
                    )
            if status is None:
                values[name] = value
            else:
                values[name] = UNKNOWN
                unknown[name] = status
            records[name] = (
                kind,
                value,
                unit,
                given,
                at if kind != "series" else None,
                None if status is None else status.reason,
            )
        unrecognized: tuple[tuple[str, str | None], ...] = ()
        if not raw.keys() <= self._names:
            extra: list[str] = []
            for k in raw:
                if k in self._names:
                    continue
                if not isinstance(k, str):
                    errors = errors or []
                    errors.append(
                        Diagnostic(
                            Code.FACT_MALFORMED, f"fact names must be text, not a {type(k).__name__}",
                            Location(file or self.file),
                        )
                    )
                    continue
                extra.append(k)
            extra.sort()
            # did-you-mean for the first names only (sorted: never by the order sent), each name cut
            budget = limits.max_suggestions
            names = self._sorted_names
            unrecognized = tuple(
                (k, did_you_mean(k, names) if i < budget else None) for i, k in enumerate(extra)
            )
        if errors:
            raise FactsError(bounded_errors(errors, limits.max_errors, Location(file or self.file)))
        return CheckedFacts(
            MappingProxyType(values),
            MappingProxyType(unknown),
            unrecognized,
            _ShownFacts(records),
            tuple(assumed) if assumed else (),
        )


def _assumed(name: str, value: object, unit: str | None, null: bool) -> tuple[str, Any, str | None, str]:
    """(name, value as ``facts`` shows it, unit, reason) of a default used (``null``: sent as null)."""
    reason = "given as null" if null else "not given"
    if isinstance(value, Decimal):
        shown: Any = decimal_text(value)
    elif isinstance(value, frozenset):
        shown = sorted(value)
    else:
        shown = value
    return name, shown, unit, reason


_NULL: Final = FactStatus("missing", "given as null")
#: ``{"value": null}`` with a unit or a time: a result was reported without a value (no default is used)
_NULL_RESULT: Final = FactStatus("missing", "given as null with a unit or time: a result without a value "
                                            "(the default is not used)")
_NO_RESULTS: Final = FactStatus("missing", "no results")

