"""FHIR R4 resources -> the facts of one guideline, with provenance (issue 10, part 1).

Written from the guideline's declared input types and its bindings, never from the names of one guideline. The
rules (docs/integration.md, "How FHIR becomes facts"):

* Observations count only with status final, amended or corrected; any other status is dropped with a note.
* The value is a numeric ``valueQuantity``; a ``dataAbsentReason`` means missing; a ``comparator`` (``<0.1``)
  means unknown. The unit is ``valueQuantity.code`` when the system is UCUM, else the site's alias table;
  never guessed.
* The time is ``effectiveDateTime``, then ``effectiveInstant``, then ``effectivePeriod.end``; never
``issued``.
  A date-only (or month, year) time is the whole period: it is given as its first instant, so it counts only
  when the whole day lies inside ``max_age``.
* The newest result wins; results that may be as new with another value make the fact unknown (missing).
  Series take every result (in the binding's ``window``), deduplicated.
* Age is calendar-exact at the as-of date (a birthday on 29 February falls on 1 March in other years); a
  partial birth date is missing.
* A bad resource drops itself with a note; when it could be the newest, the fact becomes missing. Nothing here
  refuses the evaluation; only a document that is not a Bundle at all, or is over the limits, is refused.

Values are checked by the guideline's own fact checks (units, plausible ranges) one resource at a time, so a
resource that the evaluation would refuse is dropped here instead, with the check's message as its note.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from ...codes import Code
from ...errors import Diagnostic, FactsError, Location
from ...facts.checker import FactChecker
from ...facts.values import evaluation_calendar, iso_text
from ...values.jsonscan import nested_deeper
from ...values.units import UnitError, exact_ratio
from ...values.unknown import UNKNOWN
from .bindings import UCUM_SYSTEM, Binding, BindingSet

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_RESOURCES",
    "FhirFacts",
    "Note",
    "SourceRef",
    "facts_from_resources",
    "parse_bundle",
    "patient_of",
    "resources_of_bundle",
]

#: Bounds on what the adapter reads (docs/api.md, "Limits").
MAX_BUNDLE_BYTES = 16 * 1024 * 1024
MAX_BUNDLE_DEPTH = 64
MAX_RESOURCES = 10_000

OBSERVATION_COUNTS = frozenset({"final", "amended", "corrected"})
MEDICATION_ACTIVE = "active"
#: the MedicationRequest intents that are orders (a proposal or a plan is not something the patient receives)
MEDICATION_ORDER_INTENTS = frozenset(
    {"order", "original-order", "reflex-order", "filler-order", "instance-order"}
)
CONDITION_ACTIVE = frozenset({"active", "recurrence", "relapse"})
CONDITION_NOT_ACTIVE = frozenset({"inactive", "remission", "resolved"})
CONDITION_UNSURE = frozenset({"unconfirmed", "provisional", "differential"})
ENTERED_IN_ERROR = "entered-in-error"
#: the decimal places of an age in years (floored: an age is never overstated)
AGE_PLACES = Decimal("0.000001")

_DATETIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The resource behind a fact: type, id and version."""

    resource_type: str
    id: str | None = None
    version: str | None = None

    @property
    def reference(self) -> str:
        ref = f"{self.resource_type}/{self.id or '?'}"
        return f"{ref}/_history/{self.version}" if self.version else ref

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"resourceType": self.resource_type, "id": self.id}
        if self.version:
            d["versionId"] = self.version
        return d


@dataclass(frozen=True, slots=True)
class Note:
    """Why a resource was dropped, or why a fact is missing."""

    input: str | None
    reason: str
    source: SourceRef | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"input": self.input, "reason": self.reason}
        if self.source is not None:
            d["resource"] = self.source.reference
        return d

    def text(self) -> str:
        where = f" ({self.source.reference})" if self.source else ""
        return f"{self.input or '-'}: {self.reason}{where}"


@dataclass(frozen=True, slots=True)
class FhirFacts:
    """The facts found in FHIR, their sources, and the notes on what was dropped or left missing."""

    facts: Mapping[str, Any]
    provenance: Mapping[str, tuple[SourceRef, ...]]
    notes: tuple[Note, ...]
    bindings_hash: str
    #: inputs the user asserts (no FHIR query) and inputs without a binding
    asserted: tuple[str, ...] = ()
    unbound: tuple[str, ...] = ()
    #: bound inputs for which no resource was found or that came out missing
    missing: tuple[str, ...] = ()
    #: the patient the facts are about (Patient.id)
    patient_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "bindings_hash": self.bindings_hash,
            "facts": {k: _json_value(v) for k, v in self.facts.items()},
            "provenance": {k: [s.to_json() for s in v] for k, v in self.provenance.items()},
            "notes": [n.to_json() for n in self.notes],
            "missing": list(self.missing),
            "asserted": list(self.asserted),
            "unbound": list(self.unbound),
            "patient": self.patient_id,
        }


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, Mapping):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    return v


# --------------------------------------------------------------------------------------------------
# reading a Bundle


def _bundle_error(code: str, message: str, file: str) -> FactsError:
    return FactsError([Diagnostic(code, message, Location(file, 1, 1), hint="send a FHIR R4 Bundle (JSON)")])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key '{k[:64]}' appears twice in one object")
        out[k] = v
    return out


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def parse_bundle(data: bytes | str, file: str = "<bundle>") -> Any:
    """Parse FHIR JSON strictly and within the limits (``FactsError`` otherwise): exact decimals, no duplicate
    keys, no NaN, nesting scanned before parsing."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise _bundle_error(
            Code.FACT_TOO_LARGE, f"the FHIR document is larger than {MAX_BUNDLE_BYTES} bytes", file
        )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise _bundle_error(Code.FACT_ENCODING, "the FHIR document is not UTF-8 text", file) from None
    if nested_deeper(text, MAX_BUNDLE_DEPTH):
        raise _bundle_error(
            Code.FACT_MALFORMED, f"the FHIR document nests deeper than {MAX_BUNDLE_DEPTH} levels", file
        )
    try:
        return json.loads(
            text, parse_float=Decimal, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant
        )
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise _bundle_error(
            Code.FACT_MALFORMED, f"the FHIR document is not valid JSON: {str(exc)[:200]}", file
        ) from None
    except RecursionError:  # pragma: no cover - the nesting scan runs first
        raise _bundle_error(Code.FACT_MALFORMED, "the FHIR document nests too deeply", file) from None


def resources_of_bundle(doc: Any, file: str = "<bundle>") -> list[Mapping[str, Any]]:
    """The resources of a Bundle (entries without a resource object are skipped); ``FactsError`` if ``doc`` is
    not a Bundle or holds more than ``MAX_RESOURCES`` entries."""
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise _bundle_error(
            Code.FACT_MALFORMED, "the document is not a FHIR Bundle (resourceType Bundle)", file
        )
    entries = doc.get("entry", [])
    if not isinstance(entries, list):
        raise _bundle_error(Code.FACT_MALFORMED, "Bundle.entry is not a list", file)
    if len(entries) > MAX_RESOURCES:
        raise _bundle_error(
            Code.FACT_TOO_LARGE,
            f"the Bundle has {len(entries)} entries; at most {MAX_RESOURCES} are read",
            file,
        )
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


# --------------------------------------------------------------------------------------------------
# small readers (each raises _Bad for a resource it cannot read)


class _Bad(Exception):
    """One resource cannot be used; the message says why."""


def _ref(res: Mapping[str, Any]) -> SourceRef:
    rid = res.get("id")
    meta = res.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return SourceRef(
        str(res.get("resourceType"))[:64],
        rid[:64] if isinstance(rid, str) else None,
        version[:64] if isinstance(version, str) else None,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    out = []
    for c in _list(concept.get("coding")):
        if isinstance(c, dict) and isinstance(c.get("system"), str) and isinstance(c.get("code"), str):
            out.append((c["system"], c["code"]))
    return out


def _status_code(concept: Any) -> str | None:
    """The first code of a status CodeableConcept (its system is fixed by FHIR, so it may be left out)."""
    if not isinstance(concept, dict):
        return None
    for c in _list(concept.get("coding")):
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            return str(c["code"])
    return None


def _period(text: Any, cal: tzinfo, what: str) -> tuple[datetime, datetime, bool]:
    """(first instant, end, exact) of a FHIR date/dateTime/instant in the calendar ``cal``."""
    if not isinstance(text, str):
        raise _Bad(f"{what} is not text")
    m = _DATETIME.match(text)
    if m is None:
        raise _Bad(f"{what} '{text[:40]}' is not a FHIR date or dateTime")
    year, month, day, hh, mi, ss, frac, zone = m.groups()
    try:
        if hh is not None:
            if zone is None:
                raise _Bad(f"{what} '{text[:40]}' has a time but no time zone offset")
            micro = int((frac[1:] + "000000")[:6]) if frac else 0
            off = (
                timedelta(0)
                if zone == "Z"
                else ((1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
            )
            t = datetime(int(year), int(month), int(day), int(hh), int(mi), int(ss), micro, timezone(off))
            t = t.astimezone(cal)
            return t, t, True
        y = int(year)
        if day is not None:
            start = date(y, int(month), int(day))
            end = start + timedelta(days=1)
        elif month is not None:
            mo = int(month)
            start = date(y, mo, 1)
            end = date(y + (mo == 12), mo % 12 + 1, 1)
        else:
            start, end = date(y, 1, 1), date(y + 1, 1, 1)
        lo = datetime(start.year, start.month, start.day, tzinfo=cal)
        hi = datetime(end.year, end.month, end.day, tzinfo=cal) if end.year <= 9999 else lo
        return lo, hi, False
    except (ValueError, OverflowError):
        raise _Bad(f"{what} '{text[:40]}' is not a real date or time") from None


def _effective(res: Mapping[str, Any], cal: tzinfo) -> tuple[datetime, datetime, bool] | None:
    """The measurement time: effectiveDateTime, effectiveInstant or effectivePeriod.end (never ``issued``);
    None when the resource has none. More than one ``effective[x]`` is invalid R4: ``_Bad``."""
    present = sorted(k for k in res if isinstance(k, str) and k.startswith("effective"))
    if len(present) > 1:
        raise _Bad(f"more than one effective[x] ({', '.join(p[:40] for p in present[:3])}): invalid R4")
    if "effectiveDateTime" in res:
        return _period(res["effectiveDateTime"], cal, "effectiveDateTime")
    if "effectiveInstant" in res:
        return _period(res["effectiveInstant"], cal, "effectiveInstant")
    period = res.get("effectivePeriod")
    if isinstance(period, dict) and "end" in period:
        return _period(period["end"], cal, "effectivePeriod.end")
    return None


def _same_unit(a: str, b: str) -> bool:
    """True when the UCUM codes ``a`` and ``b`` are the same unit (ratio exactly 1); False when either is not
    UCUM or they differ."""
    try:
        return exact_ratio(a, b) == 1
    except (UnitError, ArithmeticError):
        return False


def subject_problem(res: Mapping[str, Any], patient_id: str, server_base: str | None = None) -> str | None:
    """Why ``res`` is not known to be about ``Patient/{patient_id}`` (None: it is). Only a literal reference
    counts: ``Patient/{id}``, or ``{server_base}/Patient/{id}`` when the FHIR server's base is known. A
    subject given by identifier only, a missing subject, or another patient's reference is not
    this patient."""
    subject = res.get("subject")
    if subject is None:
        return "it has no subject"
    ref = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(ref, str):
        return "its subject is not a literal reference (an identifier alone cannot be matched to the patient)"
    wanted = f"Patient/{patient_id}"
    if ref == wanted:
        return None
    if server_base and ref == server_base.rstrip("/") + "/" + wanted:
        return None
    return "it is about another subject"


# --------------------------------------------------------------------------------------------------
# the adapter


@dataclass(slots=True)
class _Candidate:
    lo: datetime | None
    hi: datetime | None
    kind: Literal["value", "absent", "comparator", "bad"]
    source: SourceRef
    value: Any = None  # the converted value (for comparisons)
    raw: Any = None  # the fact as the guideline reads it
    reason: str = ""


@dataclass(slots=True)
class _Out:
    facts: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, tuple[SourceRef, ...]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def note(self, name: str | None, reason: str, source: SourceRef | None = None) -> None:
        self.notes.append(Note(name, reason, source))

    def lack(self, name: str, reason: str, source: SourceRef | None = None) -> None:
        self.note(name, reason, source)
        self.missing.append(name)


class _Adapter:
    def __init__(
        self,
        bindings: BindingSet,
        resources: Sequence[Mapping[str, Any]],
        as_of: datetime,
        time_zone: str | None,
        patient_id: str,
        server_base: str | None = None,
        partial: Mapping[str, str] | None = None,
    ) -> None:
        self.b = bindings
        self.as_of, self.cal = evaluation_calendar(as_of, time_zone)
        self.patient_id = patient_id
        self.server_base = server_base
        self.partial = dict(partial or {})
        self.out = _Out()
        #: (type, id) of resources given in versions that cannot be ordered: unusable, never guessed
        self.conflicted: set[tuple[str, str]] = set()
        self.by_type: dict[str, list[Mapping[str, Any]]] = {}
        for res in self.latest_versions(resources):
            rt = res.get("resourceType")
            if isinstance(rt, str):
                self.by_type.setdefault(rt, []).append(res)
        self.medications = {
            f"Medication/{r['id']}": r
            for r in self.by_type.get("Medication", ())
            if isinstance(r.get("id"), str)
        }
        self.checkers: dict[str, FactChecker] = {}

    def latest_versions(self, resources: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """One version per resource type and id: the highest ``meta.versionId`` (numeric), else the latest
        ``meta.lastUpdated``, with a note. Versions that cannot be ordered are all kept and marked
        conflicted (each reader then treats them as unusable)."""
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        order: list[Any] = []
        for res in resources:
            rt, rid = res.get("resourceType"), res.get("id")
            if not (isinstance(rt, str) and isinstance(rid, str)):
                order.append(res)
                continue
            key = (rt, rid)
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(res)
        out: list[Mapping[str, Any]] = []
        for item in order:
            if not isinstance(item, tuple):
                out.append(item)
                continue
            versions = groups[item]
            distinct = list({json.dumps(v, sort_keys=True, default=str): v for v in versions}.values())
            if len(distinct) == 1:
                out.append(distinct[0])
                continue
            best = self.newest_version(distinct)
            if best is None:
                self.conflicted.add(item)
                self.out.note(
                    None,
                    f"{len(distinct)} different versions of {item[0]}/{item[1][:64]} that cannot be ordered "
                    "(by meta.versionId, else meta.lastUpdated): none is used",
                    _ref(distinct[0]),
                )
                out.extend(distinct)
                continue
            src = _ref(best)
            self.out.note(
                None,
                f"{len(distinct)} versions of {item[0]}/{item[1][:64]}: the newest version is used, the "
                "others are superseded",
                src,
            )
            out.append(best)
        return out

    @staticmethod
    def newest_version(versions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """The one newest of ``versions``: by numeric ``meta.versionId`` when all have one, else by exact
        ``meta.lastUpdated`` when all have one; None when they cannot be ordered or two tie."""

        def meta(v: Mapping[str, Any]) -> Mapping[str, Any]:
            m = v.get("meta")
            return m if isinstance(m, dict) else {}

        keys: list[Any] = []
        for v in versions:
            vid = meta(v).get("versionId")
            keys.append(int(vid) if isinstance(vid, str) and vid.isdigit() and len(vid) < 19 else None)
        if None in keys:
            keys = []
            for v in versions:
                try:
                    t = _period(meta(v).get("lastUpdated"), UTC, "meta.lastUpdated")
                except _Bad:
                    return None
                if not t[2]:
                    return None
                keys.append(t[0])
        top = max(keys)
        if keys.count(top) != 1:
            return None
        return versions[keys.index(top)]

    def about_patient(self, name: str, rt: str, res: Mapping[str, Any], src: SourceRef) -> bool:
        """True when ``res`` is about the patient; else a note says why it is dropped."""
        problem = subject_problem(res, self.patient_id, self.server_base)
        if problem is None:
            return True
        self.out.note(
            name, f"dropped: the {rt} is not known to be about Patient/{self.patient_id[:64]}: {problem}", src
        )
        return False

    # ---- the guideline's own checks, one value at a time (without max_age: staleness is the evaluation's)
    def check_value(self, binding: Binding, raw: Any) -> Any:
        name = binding.name
        checker = self.checkers.get(name)
        if checker is None:
            inp = replace(
                binding.input,
                type="quantity" if binding.input.type == "series" else binding.input.type,
                max_age=None,
                max_age_text=None,
                required=False,
            )
            checker = self.checkers[name] = FactChecker({name: inp})
        value = {k: v for k, v in raw.items() if k != "at"} if isinstance(raw, dict) else raw
        try:
            checked = checker.check({name: value}, self.as_of)
        except FactsError as exc:
            raise _Bad(
                exc.diagnostics[0].message if exc.diagnostics else "refused by the fact checks"
            ) from None
        got = checked.values.get(name, UNKNOWN)
        if got is UNKNOWN:
            raise _Bad("the value cannot be read")
        return got

    def run(self) -> _Out:
        for name, binding in self.b.bindings.items():
            if binding.asserted:
                continue
            kind = binding.resources[0]
            try:
                if kind == "Observation":
                    self.observation(binding)
                elif kind == "Patient":
                    self.age(binding)
                else:
                    self.presence(binding)
            except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
                # a shape no reader above expected: fail closed for this fact only
                self.out.facts.pop(name, None)
                self.out.provenance.pop(name, None)
                self.out.lack(name, f"missing: a resource could not be read ({type(exc).__name__})")
        return self.out

    # ---- Observations
    def unit_of(self, q: Mapping[str, Any]) -> str:
        code, unit, system = q.get("code"), q.get("unit"), q.get("system")
        if system == UCUM_SYSTEM:
            if not isinstance(code, str):
                raise _Bad("valueQuantity has the UCUM system but no code")
            return code
        aliases = self.b.unit_aliases
        seen = {t for t in (code, unit) if isinstance(t, str)}
        mapped = {aliases[t] for t in seen if t in aliases}
        if not mapped:
            shown = "/".join(sorted(seen))[:64] or "none"
            raise _Bad(f"the unit '{shown}' is not UCUM and not in the unit alias table (never guessed)")
        if len(seen) == 2:
            # both a code and a text: they must name the same unit, else one reading is wrong (never guess)
            canon = [aliases.get(t, t) for t in (str(code), str(unit))]
            if canon[0] != canon[1] and not _same_unit(canon[0], canon[1]):
                raise _Bad(
                    f"valueQuantity.code '{str(code)[:32]}' and .unit '{str(unit)[:32]}' name different "
                    "units (no UCUM system to say which is meant)"
                )
        if len(mapped) == 1:
            return mapped.pop()
        raise _Bad("valueQuantity.code and .unit name different units")

    def observation_candidate(self, binding: Binding, res: Mapping[str, Any]) -> _Candidate | None:
        src = _ref(res)
        name = binding.name
        status = res.get("status")
        if status not in OBSERVATION_COUNTS:
            self.out.note(
                name, f"dropped: status '{str(status)[:40]}' (only final, amended or corrected count)", src
            )
            return None
        if not self.about_patient(name, "Observation", res, src):
            return None
        if (str(res.get("resourceType")), str(res.get("id"))) in self.conflicted:
            return _Candidate(None, None, "bad", src, reason="versions that cannot be ordered")
        try:
            when = _effective(res, self.cal)
        except _Bad as exc:
            return _Candidate(None, None, "bad", src, reason=str(exc))
        if when is None:
            return _Candidate(
                None,
                None,
                "bad",
                src,
                reason="no effective[x]: the measurement time is unknown (never `issued`)",
            )
        lo, hi = when[0], (min(when[1], self.as_of) if not when[2] else when[1])
        if lo is not None and lo > self.as_of:
            return _Candidate(lo, lo, "bad", src, reason="measured after the as-of time")
        if "dataAbsentReason" in res:
            return _Candidate(lo, hi, "absent", src, reason="dataAbsentReason: the value is missing")
        q = res.get("valueQuantity")
        if not isinstance(q, dict):
            other = next((k for k in res if k.startswith("value")), None)
            reason = f"{other} is not a valueQuantity" if other else "no value"
            return _Candidate(lo, hi, "bad", src, reason=reason)
        if "comparator" in q:
            return _Candidate(
                lo,
                hi,
                "comparator",
                src,
                reason=f"comparator '{str(q['comparator'])[:4]}': the value is unknown",
            )
        value = q.get("value")
        if isinstance(value, float):  # a caller's parsed JSON; parse_bundle gives Decimal
            value = Decimal(repr(value))
        if (
            isinstance(value, bool)
            or not isinstance(value, int | Decimal)
            or (isinstance(value, Decimal) and not value.is_finite())
        ):
            return _Candidate(lo, hi, "bad", src, reason="valueQuantity.value is not a number")
        try:
            unit = self.unit_of(q)
            raw: dict[str, Any] = {"value": value, "unit": unit}
            if lo is not None:
                raw["at"] = iso_text(lo)
            converted = self.check_value(binding, raw)
        except _Bad as exc:
            return _Candidate(lo, hi, "bad", src, reason=str(exc))
        return _Candidate(lo, hi, "value", src, converted, raw)

    def observation(self, binding: Binding) -> None:
        name = binding.name
        cands: list[_Candidate] = []
        for res in self.by_type.get("Observation", ()):
            if not binding.codes.intersection(_codings(res.get("code"))):
                continue
            c = self.observation_candidate(binding, res)
            if c is not None:
                cands.append(c)
        if binding.input.type == "series":
            self.series(binding, cands)
            return
        if not cands:
            self.out.lack(name, "no Observation with these codes")
            return
        for c in cands:
            if c.kind == "bad":
                self.out.note(name, f"dropped: {c.reason}", c.source)
        dated = [c for c in cands if c.lo is not None and c.kind != "bad"]
        if not dated:
            self.out.lack(name, "no usable, dated Observation")
            return
        newest = max(dated, key=lambda c: c.lo)  # type: ignore[arg-type, return-value]
        assert newest.lo is not None
        rivals = [c for c in cands if c is not newest and (c.hi is None or c.hi >= newest.lo)]
        blocking = [c for c in rivals if c.kind != newest.kind or c.value != newest.value]
        if blocking:
            b = blocking[0]
            why = "its time cannot be read" if b.lo is None else "it may be as new"
            self.out.lack(name, f"missing: another result with a different value or state ({why})", b.source)
            return
        if newest.kind != "value":
            self.out.lack(name, f"missing: {newest.reason}", newest.source)
            return
        if name in self.partial and not any(c.lo is not None and c.lo < newest.lo for c in cands):
            # the page (newest first) may end inside the newest time: a rival may be on the next page
            self.out.lack(
                name,
                f"missing: {self.partial[name]}, and the page holds no result older than the newest, so "
                "another result at the same time may be left out",
            )
            return
        self.emit(name, newest.raw, [newest, *rivals])

    def series(self, binding: Binding, cands: list[_Candidate]) -> None:
        name = binding.name
        if name in self.partial:
            self.out.lack(
                name, f"missing: {self.partial[name]}; a series is never read with results left out"
            )
            return
        window = binding.window
        start = self.as_of - window if window is not None else None
        kept: dict[datetime, _Candidate] = {}
        sources: dict[datetime, list[SourceRef]] = {}
        for c in cands:
            if start is not None and c.hi is not None and c.hi < start:
                continue
            if c.kind != "value" or c.lo is None:
                reason = c.reason if c.kind != "value" else "a series result needs a time"
                self.out.lack(
                    name,
                    f"missing: a result of the series cannot be used ({reason}); a series is "
                    "never read with a result left out",
                    c.source,
                )
                return
            prior = kept.get(c.lo)
            if prior is not None and prior.value != c.value:
                self.out.lack(name, "missing: two results at the same time with different values", c.source)
                return
            kept.setdefault(c.lo, c)
            sources.setdefault(c.lo, []).append(c.source)
        times = sorted(kept)
        self.out.facts[name] = [kept[t].raw for t in times]
        self.out.provenance[name] = tuple(s for t in times for s in sources[t])

    def emit(self, name: str, raw: Any, used: Iterable[_Candidate]) -> None:
        self.out.facts[name] = raw
        self.out.provenance[name] = tuple(dict.fromkeys(c.source for c in used))

    # ---- Patient.birthDate -> age
    def age(self, binding: Binding) -> None:
        name = binding.name
        patients = [p for p in self.by_type.get("Patient", ()) if p.get("id") == self.patient_id]
        if not patients:
            self.out.lack(name, "no Patient resource")
            return
        dates = {p.get("birthDate") for p in patients}
        if len(dates) > 1:
            self.out.lack(name, "missing: Patient resources with different birth dates", _ref(patients[1]))
            return
        src = _ref(patients[0])
        text = dates.pop()
        if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.out.lack(name, "missing: the birth date is absent or partial (a full date is needed)", src)
            return
        try:
            born = date.fromisoformat(text)
            years = exact_age(born, self.as_of.date())
            value = self.check_value(binding, {"value": years, "unit": "a"})
        except ValueError:
            self.out.lack(
                name, f"missing: the birth date '{text}' is not a real date or is after the as-of date", src
            )
            return
        except _Bad as exc:
            self.out.lack(name, f"missing: {exc}", src)
            return
        del value
        self.emit(name, {"value": years, "unit": "a"}, [_Candidate(None, None, "value", src)])

    # ---- MedicationRequest / MedicationStatement / Condition: presence of an active one
    def presence_state(  # noqa: PLR0911 - one return per FHIR state
        self, res: Mapping[str, Any]
    ) -> Literal["active", "inactive", "unsure", "error", "not-given", "not-an-order", "ended"]:
        rt = res.get("resourceType")
        if rt == "Condition":
            verification = _status_code(res.get("verificationStatus"))
            if verification in (ENTERED_IN_ERROR, "refuted"):
                return "error" if verification == ENTERED_IN_ERROR else "inactive"
            clinical = _status_code(res.get("clinicalStatus"))
            if verification in CONDITION_UNSURE:
                return "unsure"
            if clinical in CONDITION_ACTIVE:
                return "active"
            return "inactive" if clinical in CONDITION_NOT_ACTIVE else "unsure"
        status = res.get("status")
        if status == ENTERED_IN_ERROR:
            return "error"
        if status == "unknown" or not isinstance(status, str):
            return "unsure"
        if status != MEDICATION_ACTIVE:
            return "inactive"
        if rt == "MedicationRequest":
            if res.get("doNotPerform") is True:
                return "not-given"
            if "doNotPerform" in res and res.get("doNotPerform") is not False:
                return "unsure"
            intent = res.get("intent")
            if intent in MEDICATION_ORDER_INTENTS:
                return "active"
            return "not-an-order" if isinstance(intent, str) else "unsure"
        if rt == "MedicationStatement":
            return self.statement_current(res)
        return "active"

    def statement_current(self, res: Mapping[str, Any]) -> Literal["active", "ended", "unsure"]:
        """An active MedicationStatement counts when its ``effectivePeriod`` covers the as-of time; one that
        ended before it (or starts after it) does not; any other time (none, a dateTime, unreadable) is
        unsure."""
        period = res.get("effectivePeriod")
        if not isinstance(period, dict) or any(
            k.startswith("effective") and k != "effectivePeriod" for k in res
        ):
            return "unsure"
        try:
            start = _period(period["start"], self.cal, "effectivePeriod.start") if "start" in period else None
            end = _period(period["end"], self.cal, "effectivePeriod.end") if "end" in period else None
        except _Bad:
            return "unsure"
        if start is None:
            return "unsure"
        if start[0] > self.as_of or (end is not None and end[1] <= self.as_of):
            return "ended"
        return "active"

    def codes_of(self, res: Mapping[str, Any]) -> list[tuple[str, str]] | None:
        """The codes that identify the medication or condition; None when a medication reference cannot be
        resolved."""
        if res.get("resourceType") == "Condition":
            return _codings(res.get("code"))
        if "medicationCodeableConcept" in res:
            return _codings(res.get("medicationCodeableConcept"))
        ref = res.get("medicationReference")
        target = ref.get("reference") if isinstance(ref, dict) else None
        if not isinstance(target, str):
            return []
        med: Any
        if target.startswith("#"):
            med = next(
                (c for c in _list(res.get("contained")) if isinstance(c, dict) and c.get("id") == target[1:]),
                None,
            )
        else:
            med = self.medications.get(target)
        return _codings(med.get("code")) if isinstance(med, dict) else None

    def presence(self, binding: Binding) -> None:
        name = binding.name
        if name in self.partial:
            self.out.lack(name, f"missing: {self.partial[name]}; absence is never read from part of a search")
            return
        wanted = binding.all_codes()
        active: dict[str | None, list[SourceRef]] = {}
        unsure: list[SourceRef] = []
        for rt in binding.resources:
            for res in self.by_type.get(rt, ()):
                src = _ref(res)
                codes = self.codes_of(res)
                if codes is None:
                    self.out.note(name, "a medication reference that cannot be resolved", src)
                    unsure.append(src)
                    continue
                if not wanted.intersection(codes):
                    continue
                if not self.about_patient(name, rt, res, src):
                    continue
                if (rt, str(res.get("id"))) in self.conflicted:
                    unsure.append(src)
                    continue
                state = self.presence_state(res)
                if state == "error":
                    self.out.note(name, "dropped: entered-in-error", src)
                elif state == "not-given":
                    self.out.note(name, "dropped: doNotPerform: an order not to give it", src)
                elif state == "not-an-order":
                    self.out.note(
                        name,
                        f"dropped: intent '{str(res.get('intent'))[:32]}' is not an order (only "
                        + ", ".join(sorted(MEDICATION_ORDER_INTENTS))
                        + " count)",
                        src,
                    )
                elif state == "ended":
                    self.out.note(name, "dropped: its effectivePeriod does not cover the as-of time", src)
                elif state == "unsure":
                    self.out.note(name, f"the {rt} does not say whether it is active now", src)
                    unsure.append(src)
                elif state == "active":
                    if binding.input.type == "boolean":
                        active.setdefault(None, []).append(src)
                    for value, codes_of_value in binding.values.items():
                        if codes_of_value.intersection(codes):
                            active.setdefault(value, []).append(src)
        if binding.input.type == "boolean":
            if active:
                self.out.facts[name] = True
                self.out.provenance[name] = tuple(active[None])
            elif unsure:
                self.out.lack(name, "missing: a matching resource whose state is not known", unsure[0])
            elif binding.absent_is_false:
                self.out.facts[name] = False
                self.out.provenance[name] = ()
            else:
                self.out.lack(
                    name, "no active matching resource (absence is not read as false for this input)"
                )
            return
        if len(active) > 1:
            self.out.lack(
                name, f"missing: resources for more than one value ({', '.join(sorted(map(str, active)))})"
            )
        elif unsure:
            self.out.lack(name, "missing: a matching resource whose state is not known", unsure[0])
        elif active:
            code = next(iter(active))
            self.out.facts[name] = code
            self.out.provenance[name] = tuple(active[code])
        else:
            self.out.lack(name, "no active resource with the codes of any value")


def exact_age(born: date, on: date) -> Decimal:
    """Age in years on the day ``on``, calendar-exact: whole years since the last birthday, plus the days
    since it
    over the days of that birthday year (floored to 6 places). A birthday on 29 February falls on 1 March in
    other years. ``ValueError`` when ``born`` is after ``on``."""
    if born > on:
        raise ValueError("born after the as-of date")

    def birthday(year: int) -> date:
        if born.month == 2 and born.day == 29 and not calendar.isleap(year):
            return date(year, 3, 1)
        return date(year, born.month, born.day)

    years = on.year - born.year
    if birthday(on.year) > on:
        years -= 1
    last = birthday(born.year + years)
    nxt = birthday(born.year + years + 1) if born.year + years + 1 <= 9999 else last + timedelta(days=366)
    frac = Decimal((on - last).days) / Decimal((nxt - last).days)
    return (Decimal(years) + frac).quantize(AGE_PLACES, rounding=ROUND_FLOOR).normalize()


def patient_of(resources: Sequence[Mapping[str, Any]], patient_id: str | None, file: str = "<bundle>") -> str:
    """The patient the facts are about: ``patient_id`` when given (checked as a FHIR id), else the id of the
    only Patient among ``resources``. ``FactsError`` (``fact-malformed``) when there is no Patient or more
    than one and no ``patient_id``: facts are never read without knowing whose they are."""
    if patient_id is not None:
        if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", patient_id):
            raise FactsError(
                [
                    Diagnostic(
                        Code.FACT_MALFORMED,
                        f"the patient id '{patient_id[:64]}' is not a FHIR id",
                        Location(file, 1, 1),
                        hint="give the id of the Patient resource (letters, digits, '-', '.'; at most 64)",
                    )
                ]
            )
        return patient_id
    ids = sorted(
        {
            str(r.get("id"))
            for r in resources
            if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str)
        }
    )
    if len(ids) == 1:
        return ids[0]
    what = "no Patient resource with an id" if not ids else f"{len(ids)} Patient resources"
    raise FactsError(
        [
            Diagnostic(
                Code.FACT_MALFORMED,
                f"the Bundle holds {what}: whose facts to read is not known",
                Location(file, 1, 1),
                hint="give the patient (--patient ID, or patient_id=); resources about others are dropped",
            )
        ]
    )


def facts_from_resources(
    bindings: BindingSet,
    resources: Sequence[Mapping[str, Any]],
    as_of: datetime,
    *,
    time_zone: str | None = None,
    patient_id: str | None = None,
    server_base: str | None = None,
    partial: Mapping[str, str] | None = None,
    file: str = "<bundle>",
) -> FhirFacts:
    """The facts of ``bindings.guideline`` found in ``resources`` at ``as_of`` (timezone-aware), with
    provenance and notes, about one patient: ``patient_id`` (CDS Hooks ``context.patientId``), else the only
    Patient of ``resources`` (``FactsError`` when there is none or several; see ``patient_of``). A resource
    whose subject is not a literal reference to that patient (``Patient/ID``, or ``{server_base}/Patient/ID``)
    is dropped with a note. ``partial`` names the inputs whose search came back incomplete (a next page), with
    why: series and presence inputs among them are missing, single values only when the page may cut the
    newest time. Never raises for the content of a resource."""
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)  # the evaluation refuses a naive time with its own error
    pid = patient_of(resources, patient_id, file)
    adapter = _Adapter(bindings, resources, as_of, time_zone, pid, server_base, partial)
    out = adapter.run()
    asserted = tuple(n for n, b in bindings.bindings.items() if b.asserted)
    return FhirFacts(
        out.facts,
        out.provenance,
        tuple(out.notes),
        bindings.hash,
        asserted,
        bindings.unbound,
        tuple(dict.fromkeys(out.missing)),
        pid,
    )
