"""Guideline test files: load, run, compare, and measure coverage (a ``runtime.trace.CoverageTracer``).

The same runner serves ``guideline test`` and pytest (``tests/test_guideline_cases.py``).
A test file is ``<name>.tests.yaml`` beside its guideline; its format is ``schema/tests.schema.json``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from ..analysis.conflicts import find_conflicts
from ..codes import CODES, Code
from ..compiler.guideline import CompiledGuideline
from ..compiler.loader import load_guideline_file
from ..errors import Diagnostic, EvaluationError, FactsError, GuidelineError, InterpreterError, Location, Path
from ..facts.values import evaluation_calendar
from ..loading.lock import lock_refusals
from ..loading.schema import validate_with
from ..loading.source import SourceMap, load_yaml, read_capped
from ..result import Result, format_decimal
from ..runtime.completion import Completer
from ..runtime.evaluate import evaluate
from ..runtime.scores import compute_scores
from ..runtime.trace import CoverageTracer, TeeTracer, Tracer
from ..values.numbers import DECIMAL_CONTEXT
from ..values.suggest import did_you_mean_hint
from ..values.text import echo
from .condition_coverage import ConditionCoverage
from .validate import skipped

__all__ = [
    "CaseOutcome",
    "FileOutcome",
    "TestReport",
    "discover_test_files",
    "run_test_file",
    "run_tests",
]

TESTS_GLOB = "*.tests.yaml"


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    name: str
    location: Location
    passed: bool
    #: readable differences, one per line ("expected ..., got ...")
    diff: tuple[str, ...] = ()
    #: the unresolved conflicts (``recommendation-conflict``) whose two recommendations both applied
    conflicts: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class FileOutcome:
    file: str
    cases: list[CaseOutcome] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    guideline: CompiledGuideline | None = None

    @property
    def ok(self) -> bool:
        return not self.diagnostics and all(c.passed for c in self.cases)

    def conflicts_reached(self) -> dict[tuple[str, str], list[str]]:
        """Each conflict pair the cases reached, with the names of those cases (in order)."""
        out: dict[tuple[str, str], list[str]] = {}
        for c in self.cases:
            for pair in c.conflicts:
                out.setdefault(pair, []).append(c.name)
        return out


@dataclass(slots=True)
class TestReport:
    files: list[FileOutcome] = field(default_factory=list)
    coverage: dict[str, CoverageTracer] = field(default_factory=dict)
    #: condition coverage by guideline file; filled only when asked for (``run_tests(..., conditions=True)``)
    conditions: dict[str, ConditionCoverage] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return sum(c.passed for f in self.files for c in f.cases)

    @property
    def failed(self) -> int:
        return sum(not c.passed for f in self.files for c in f.cases)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.ok for f in self.files)


def discover_test_files(paths: Iterable[str | pathlib.Path]) -> list[pathlib.Path]:
    """Test files under the given files and folders (a file given by name is taken whatever its name)."""
    found: list[pathlib.Path] = []
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob(TESTS_GLOB) if not skipped(p, f)))
        else:
            found.append(p)
    return list(dict.fromkeys(found))


def _time(text: Any, where: Location) -> datetime:
    if not isinstance(text, str):
        raise _CaseError(f"the as-of time must be ISO 8601 text, got {text!r}", where)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise _CaseError(f"'{text}' is not an ISO 8601 time", where) from None
    if t.tzinfo is None:
        raise _CaseError(f"the as-of time '{text}' needs a time zone offset", where)
    return t


class _CaseError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.location = location


def _num(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(v)


def _set_diff(label: str, expected: Sequence[str], actual: Sequence[str]) -> list[str]:
    exp, act = set(expected), set(actual)
    if exp == act:
        return []
    lines = [f"{label}: expected {sorted(exp)}, got {sorted(act)}"]
    if exp - act:
        lines.append(f"  - missing:    {', '.join(sorted(exp - act))}")
    if act - exp:
        lines.append(f"  + unexpected: {', '.join(sorted(act - exp))}")
    return lines


def compare(expect: Mapping[str, Any], result: Result) -> list[str]:
    """Every difference between ``expect`` and ``result``, as readable lines (empty when they agree)."""
    diff: list[str] = []
    if "error" in expect:
        return [
            f"error: expected {expect['error'].get('code')}, but the evaluation succeeded "
            f"(status {result.status}, recommendations {result.recommendation_ids()})"
        ]
    if "status" in expect and expect["status"] != result.status:
        diff.append(f"status: expected {expect['status']}, got {result.status}")
    ids = result.recommendation_ids()
    if "recommendations" in expect:
        diff += _set_diff("recommendations", expect["recommendations"], ids)
    for rid in expect.get("includes", ()):
        if rid not in ids:
            diff.append(f"includes: expected {rid} among the recommendations, got {sorted(ids)}")
    for rid in expect.get("excludes", ()):
        if rid in ids:
            diff.append(f"excludes: {rid} must not be recommended, but it was")
    if "cautions" in expect:
        diff += _set_diff(
            "cautions", expect["cautions"], list(dict.fromkeys(c.recommendation for c in result.cautions))
        )
    if "needs" in expect:
        diff += _set_diff("needs", expect["needs"], [n.name for n in result.needed_facts])
    if "unrecognized" in expect:
        diff += _set_diff("unrecognized", expect["unrecognized"], [u.name for u in result.unrecognized_facts])
    if "cannot_decide" in expect:
        diff += _set_diff(
            "cannot_decide",
            expect["cannot_decide"],
            list(dict.fromkeys(c.node for c in result.cannot_decide)),
        )
    recs = {r.id: r for r in result.recommendations}
    for d in expect.get("doses", ()):
        rid, drug = d["recommendation"], d["drug"]
        rec = recs.get(rid)
        if rec is None:
            diff.append(f"dose {drug} in {rid}: the recommendation was not given")
            continue
        doses = [a.dose for a in rec.actions if a.fields.get("drug") == drug and a.dose is not None]
        if not doses:
            diff.append(f"dose {drug} in {rid}: no dose for {drug} in that recommendation")
            continue
        got = doses[0]
        if "value" in d:
            if d["value"] is None:
                if got.value is not None:
                    diff.append(f"dose {drug} in {rid}: expected cannot compute, got {got.display}")
            elif got.value is None or got.value != _num(d["value"]):
                diff.append(
                    f"dose {drug} in {rid}: expected {format_decimal(_num(d['value']))} "
                    f"{d.get('unit', got.unit)}, got {got.display}"
                )
        if "unit" in d and d["unit"] != got.unit:
            diff.append(f"dose {drug} in {rid}: expected unit {d['unit']}, got {got.unit}")
        if "warnings" in d and d["warnings"] != len(got.warnings):
            diff.append(
                f"dose {drug} in {rid}: expected {d['warnings']} warning(s), got {list(got.warnings)}"
            )
    for nb in expect.get("not_before", ()):
        diff += _compare_not_before(nb, recs.get(nb["recommendation"]))
    return diff


def _compare_not_before(nb: Mapping[str, Any], rec: Any) -> list[str]:
    """The earliest start (``not_before:``) of the first action of ``rec`` that has one (of ``drug`` when
    given): the same instant AND the same UTC offset as expected (the clock time a nurse reads), or
    not computed when ``at`` is null."""
    rid, drug = nb["recommendation"], nb.get("drug")
    what = f"not_before in {rid}" + (f" ({drug})" if drug else "")
    if rec is None:
        return [f"{what}: the recommendation was not given"]
    actions = [a for a in rec.actions if a.has_not_before and (drug is None or a.fields.get("drug") == drug)]
    if not actions:
        return [f"{what}: no action with an earliest start"]
    got = actions[0].not_before
    shown = "not computed" if got is None else got.isoformat()
    if nb["at"] is None:
        return [] if got is None else [f"{what}: expected not computed, got {shown}"]
    try:
        want = datetime.fromisoformat(nb["at"])
    except ValueError:
        return [f"{what}: '{echo(nb['at'], 80)}' is not an ISO 8601 time"]
    if want.tzinfo is None:
        return [f"{what}: the expected time '{echo(nb['at'], 80)}' needs a UTC offset"]
    if got is None or got != want or got.utcoffset() != want.utcoffset():
        return [f"{what}: expected {want.isoformat()}, got {shown}"]
    return []


def _compare_error(expect: Mapping[str, Any], exc: InterpreterError) -> list[str]:
    want = expect.get("error")
    if want is None:
        return [f"unexpected error: {exc}"]
    if isinstance(exc, FactsError):
        diags = exc.diagnostics
        for d in diags:
            if d.code == want["code"] and ("fact" not in want or (d.path and d.path[0] == want["fact"])):
                return []
        got = "; ".join(f"{d.code} ({d.path[0] if d.path else '?'})" for d in diags)
        return [
            f"error: expected {want['code']}"
            + (f" naming {want['fact']}" if "fact" in want else "")
            + f", got {got}"
        ]
    if isinstance(exc, EvaluationError):
        if exc.code == want["code"]:
            return []
        return [f"error: expected {want['code']}, got {exc.code}: {exc}"]
    return [f"error: expected {want['code']}, got {exc}"]


def run_test_file(
    path: pathlib.Path,
    coverage: dict[str, CoverageTracer] | None = None,
    names: Sequence[str] | None = None,
    guidelines: dict[pathlib.Path, CompiledGuideline] | None = None,
    conditions: dict[str, ConditionCoverage] | None = None,
) -> FileOutcome:
    """Run every case of one test file (or only those named). Load problems become diagnostics.

    ``guidelines`` caches loaded guidelines across the files of one run (several files may test one).
    ``conditions``, when given, gathers condition coverage per guideline (its atoms are compiled then).
    """
    outcome = FileOutcome(str(path))
    raw, problem = read_capped(path)  # at most max_bytes + 1 bytes; only regular files
    if raw is None:
        outcome.diagnostics.extend([problem] if problem is not None else [])
        return outcome
    doc, sm, diags = load_yaml(raw, str(path))
    if doc is None or any(d.is_error for d in diags):
        outcome.diagnostics.extend(diags)
        return outcome
    schema_diags = validate_with("tests.schema.json", doc, sm)
    if schema_diags:
        outcome.diagnostics.extend(schema_diags)
        return outcome
    gpath = (path.parent / doc["guideline"]).resolve()
    try:
        g = (guidelines or {}).get(gpath) or load_guideline_file(gpath)
    except GuidelineError as exc:
        outcome.diagnostics.extend(exc.diagnostics)
        return outcome
    refusals = lock_refusals(g.model)  # changed approved content is refused here too (issue 7, 2.7)
    if refusals:
        outcome.diagnostics.extend(refusals)
        return outcome
    if guidelines is not None:
        guidelines[gpath] = g
    outcome.guideline = g
    cov = None
    if coverage is not None:
        cov = coverage.setdefault(g.model.file, CoverageTracer(g))
    ccov = None
    if conditions is not None:
        ccov = conditions.get(g.model.file)
        if ccov is None:
            ccov = conditions[g.model.file] = ConditionCoverage(g)
    pairs = tuple((c.first.id, c.second.id) for c in find_conflicts(g.model))
    seen: set[str] = set()
    for i, case in enumerate(doc["cases"]):
        cpath: Path = ("cases", i)
        where = sm.at(cpath)
        name = case["name"]
        if name in seen:
            outcome.diagnostics.append(
                Diagnostic(Code.TEST_DUPLICATE_NAME, f"two cases are named '{name}'", where, path=cpath)
            )
            continue
        seen.add(name)
        if names is not None and name not in names:
            continue
        unknown = unknown_names(g, case, sm, cpath)
        if unknown:  # a misspelled fact or id would make the case pass (or fail) for the wrong reason
            outcome.diagnostics.extend(unknown)
            outcome.cases.append(CaseOutcome(
                name, where, False, tuple(d.message + (f" ({d.hint})" if d.hint else "") for d in unknown)))
            continue
        outcome.cases.append(_run_case(g, case, doc.get("at"), sm, cpath, cov, pairs, ccov))
    return outcome


#: The keys of ``expect`` that list ids, and what the ids name: ``recommendation``, ``node`` or ``input``.
_ID_LISTS: dict[str, str] = {
    "recommendations": "recommendation", "includes": "recommendation", "excludes": "recommendation",
    "cautions": "recommendation", "needs": "input", "cannot_decide": "node",
}


def unknown_names(
    g: CompiledGuideline, case: Mapping[str, Any], sm: SourceMap, cpath: Path
) -> list[Diagnostic]:
    """Every fact name, recommendation id, node id and error code of a case that the guideline (or the code
    registry) does not know, each located at its place in the test file with a did-you-mean hint."""
    model = g.model
    known = {
        "input": list(model.inputs),
        "recommendation": [r.id for r in model.recommendations],
        "node": [n.id for n in model.nodes],
    }
    out: list[Diagnostic] = []

    def check(word: object, kind: str, path: Path, code: str) -> None:
        choices = known[kind]
        if isinstance(word, str) and word in choices:
            return
        text = echo(str(word), 80)
        out.append(Diagnostic(code, f"'{text}' is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} of "
                              f"guideline '{model.id}'", sm.key_at(path) if kind == "input" and
                              path[-2] == "facts" else sm.at(path), path=path,
                              hint=did_you_mean_hint(str(word), choices)))

    facts = case.get("facts")
    expect = case.get("expect")
    extra = set(expect.get("unrecognized") or ()) if isinstance(expect, Mapping) else set()
    if isinstance(facts, Mapping):
        for name in facts:
            if name not in extra:
                check(name, "input", (*cpath, "facts", name), Code.TEST_UNKNOWN_FACT)
    if not isinstance(expect, Mapping):
        return out
    for key, kind in _ID_LISTS.items():
        for j, word in enumerate(expect.get(key) or ()):
            check(word, kind, (*cpath, "expect", key, j),
                  Code.TEST_UNKNOWN_FACT if kind == "input" else Code.TEST_UNKNOWN_ID)
    for key in ("doses", "not_before"):
        for j, item in enumerate(expect.get(key) or ()):
            if isinstance(item, Mapping) and "recommendation" in item:
                check(item["recommendation"], "recommendation", (*cpath, "expect", key, j, "recommendation"),
                      Code.TEST_UNKNOWN_ID)
    error = expect.get("error")
    if isinstance(error, Mapping):
        if "fact" in error:
            check(error["fact"], "input", (*cpath, "expect", "error", "fact"), Code.TEST_UNKNOWN_FACT)
        code = error.get("code")
        if isinstance(code, str) and code not in CODES:
            out.append(Diagnostic(Code.TEST_UNKNOWN_ID, f"'{echo(code, 80)}' is no diagnostic or error code",
                                  sm.at((*cpath, "expect", "error", "code")),
                                  path=(*cpath, "expect", "error", "code"),
                                  hint=did_you_mean_hint(code, list(CODES))))
    return out


def _run_case(
    g: CompiledGuideline,
    case: Mapping[str, Any],
    default_at: Any,
    sm: SourceMap,
    cpath: Path,
    cov: CoverageTracer | None,
    pairs: tuple[tuple[str, str], ...] = (),
    ccov: ConditionCoverage | None = None,
) -> CaseOutcome:
    where = sm.at(cpath)
    expect = case["expect"]
    try:
        at_text = case.get("at", default_at)
        if at_text is None:
            raise _CaseError("no as-of time: give `at` in the case or at the top of the file", where)
        as_of = _time(at_text, sm.at((*cpath, "at")) if "at" in case else where)
    except _CaseError as exc:
        return CaseOutcome(case["name"], exc.location, False, (str(exc),))
    try:
        # coverage is a tracer: it counts what a case reached only when its evaluation succeeds
        tracer: Tracer | None = cov if ccov is None else ccov if cov is None else TeeTracer(cov, ccov)
        zone = case.get("time_zone")  # the evaluation's calendar (an IANA name), else the as-of offset
        result = evaluate(g, case["facts"], as_of, trace=False, tracer=tracer, time_zone=zone)
    except InterpreterError as exc:
        diff = _compare_error(expect, exc)
        return CaseOutcome(case["name"], where, not diff, tuple(diff))
    if ccov is not None:
        ccov.record(_values(g, case["facts"], as_of, zone), evaluation_calendar(as_of, zone)[0])
    diff = compare(expect, result)
    applied = {*result.recommendation_ids(), *(s.id for s in result.superseded)}
    reached = tuple(p for p in pairs if p[0] in applied and p[1] in applied)
    return CaseOutcome(case["name"], where, not diff, tuple(diff), reached)


def _values(
    g: CompiledGuideline, facts: Mapping[str, Any], as_of: datetime, time_zone: str | None = None
) -> dict[str, Any]:
    """The values an evaluation of ``facts`` used (checked facts and derived values), for condition
    coverage; called only after that evaluation succeeded, so it cannot fail."""
    # the steps of runtime.evaluate.evaluate before the walk (the same calendar, derived values, scores)
    as_of, _ = evaluation_calendar(as_of, time_zone)
    values: dict[str, Any] = dict(g.facts.check(facts, as_of, time_zone=time_zone).values)
    completer = Completer(g, values, as_of)
    with localcontext(DECIMAL_CONTEXT):
        for name, expr in g.derived:
            values[name] = expr.evaluate(values, as_of)
        if g.scores:
            compute_scores(g, completer)
    return values


def run_tests(paths: Iterable[str | pathlib.Path], *, conditions: bool = False) -> TestReport:
    """Discover and run every test file under ``paths``; coverage is gathered per guideline, and condition
    coverage too when ``conditions``."""
    report = TestReport()
    loaded: dict[pathlib.Path, CompiledGuideline] = {}
    for f in discover_test_files(paths):
        report.files.append(run_test_file(f, report.coverage, guidelines=loaded,
                                          conditions=report.conditions if conditions else None))
    return report
