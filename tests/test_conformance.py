"""Run the conformance corpus: data files under tests/conformance/*.yaml.

Each file declares ``inputs`` (the same shape as a guideline's inputs), an ``as_of`` time and ``cases``.
A case has ``name`` and either an ``expr`` (compiled against the inputs' types) or only facts. Keys:

* ``expect``: the expected result type of the expression: ``boolean`` (default), ``number``, ``any`` or a
  quantity unit written ``quantity <unit>``;
* ``values``: run-time values, typed by the inputs (numbers as strings, ``unknown`` for UNKNOWN);
  or ``facts`` (a mapping) / ``facts_json`` (JSON text): raw facts checked by the ``FactChecker``;
* ``result``: ``true``, ``false``, ``unknown``, or a decimal string (compared exactly with ``==``; the
  unit of a quantity result is its static type, checked with ``type``);
* ``type``: the expected static type, e.g. ``number`` or ``quantity m2``;
* ``error`` / ``runtime_error`` / ``facts_error``: the expected diagnostic code (compile time), the
  ``EvaluationError`` code, or a list of ``{code, path}`` for ``FactsError``;
* ``column`` (0-based offset into the expression) and ``message`` / ``hint`` (substrings) for ``error``;
* ``checked``: for facts cases, expected values after checking, and ``unknown``: name -> reason.
* ``limits``: for facts cases, ``FactsLimits`` fields (``{max_bytes: 100}``);
* ``time_zone``: for facts cases, the IANA time zone of the evaluation's calendar (default: the offset of
  ``as_of``).
* ``assumed``: for facts cases, the names of the inputs whose ``default:`` was used (in order).

Scores and completion (docs/language.md "Scores", "When a fact is missing"): a file may declare ``scores:``
as a guideline does; its expressions may read them (as numbers). Such a file, or one with a case below, is
compiled as a small guideline (its inputs, its scores, one trivial node) and every case is evaluated the way
the walk evaluates a condition (scores computed first, then the expression):

* ``completed``: the condition's answer after completion (``true``, ``false`` or ``unknown``): decided when
  every value of its unknown facts gives the same answer;
* ``score``: ``{name, value, min, max}`` of a score (``value: unknown`` when an item is unknown);
* ``oracle_completed`` with ``why``: where the engine and the brute-force oracle differ in precision (the
  engine's bounds, a score completed over its sums independently of the condition's other inputs, or an item
  bounded by the points it declares where the oracle has no domain), what the oracle finds; one of the two
  must then be unknown (they never give different answers).

Every entry that evaluates an expression (``result`` or ``runtime_error``) is also evaluated by the
independent reference evaluator ``tests/reference_eval.py`` (simpleeval), which must give the same value or
the same error code, unless the entry is listed in ``ORACLE_EXCLUDED`` with its reason.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import reference_eval as ref
import yaml
from helpers import make_input

from interpreter.codes import CODES, Stage, codes_of
from interpreter.compiler.guideline import CompiledGuideline
from interpreter.compiler.loader import analyze_bytes
from interpreter.errors import EvaluationError, FactsError, Location
from interpreter.facts.checker import FactChecker, FactsLimits
from interpreter.facts.json import parse_facts_json
from interpreter.lang.compile import CompiledExpression, compile_expression
from interpreter.loading.model import Input
from interpreter.runtime.completion import Completer
from interpreter.runtime.scores import compute_scores
from interpreter.values.types import BOOLEAN, NUMBER, ValueType
from interpreter.values.unknown import UNKNOWN

CORPUS = Path(__file__).parent / "conformance"
BASE = Location("expr.yaml", 3, 11)


@dataclass(frozen=True)
class Case:
    file: str
    inputs: Mapping[str, Input]
    as_of: datetime
    data: Mapping[str, Any]
    #: the file's ``scores:`` as written (a guideline's shape)
    scores: Mapping[str, Any] | None = None
    #: whether the file is evaluated as a guideline (scores, or a completion case)
    guided: bool = False

    @property
    def id(self) -> str:
        return f"{self.file}::{self.data['name']}"


def _dec(x: Any) -> Decimal | None:
    if x is None:
        return None
    if isinstance(x, bool):
        raise TypeError(x)
    return Decimal(str(x))


def _inputs(spec: Mapping[str, Any]) -> dict[str, Input]:
    out: dict[str, Input] = {}
    for name, d in spec.items():
        plaus = d.get("plausible") or {}
        max_age = d.get("max_age")
        out[name] = make_input(
            name,
            d["type"],
            d.get("description", name),
            unit=d.get("unit"),
            accepted_units=tuple(d.get("accepted_units", ())),
            bare_number=bool(d.get("bare_number", False)),
            plausible_min=_dec(plaus.get("min")),
            plausible_max=_dec(plaus.get("max")),
            values=tuple(d.get("values", ())),
            max_age=max_age or None,
            time=d.get("time"),
            default=d.get("default"),
            has_default="default" in d,
        )
    return out


def _cases() -> Iterator[Case]:
    for path in sorted(CORPUS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        inputs = _inputs(doc.get("inputs") or {})
        as_of = datetime.fromisoformat(doc.get("as_of", "2026-11-24T09:00:00Z"))
        names: set[str] = set()
        scores = doc.get("scores")
        guided = bool(scores) or any(
            k in data for data in doc["cases"] for k in ("completed", "score", "oracle_completed")
        )
        for data in doc["cases"]:
            assert data["name"] not in names, f"duplicate case name {data['name']} in {path.name}"
            names.add(data["name"])
            yield Case(path.name, inputs, as_of, data, scores, guided)


CASES = list(_cases())

#: Entries that evaluate an expression but that the reference evaluator deliberately does not check, each
#: with the reason. Every other such entry is compared with the oracle; none is skipped silently.
ORACLE_EXCLUDED: dict[str, str] = {}


def _evaluates(case: Case) -> bool:
    """Whether the entry evaluates an expression (as opposed to a load-time or facts diagnostic)."""
    d = case.data
    return "expr" in d and ("result" in d or "runtime_error" in d) and "facts_error" not in d


def _type(text: str) -> ValueType | None:
    if text == "boolean":
        return BOOLEAN
    if text == "number":
        return NUMBER
    if text == "any":
        return None
    kind, _, unit = text.partition(" ")
    return ValueType(kind, unit or None)  # type: ignore[arg-type]


def _value(inp: Input, raw: Any) -> object:
    if raw == "unknown":
        return UNKNOWN
    if inp.type in ("number", "quantity"):
        return Decimal(str(raw))
    if inp.type == "datetime":
        return datetime.fromisoformat(raw)
    if inp.type == "series":
        return tuple((datetime.fromisoformat(at), Decimal(str(v))) for at, v in raw)
    if inp.type == "code-set":
        return frozenset(raw)
    if inp.type == "date":
        return date.fromisoformat(raw)
    return raw


def _expected(raw: Any) -> object:
    if raw == "unknown":
        return UNKNOWN
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float | str):
        return Decimal(str(raw))
    raise AssertionError(f"bad expected result {raw!r}")


def _same(actual: object, expected: object) -> bool:
    if expected is UNKNOWN:
        return actual is UNKNOWN
    if isinstance(expected, bool):
        return actual is expected
    return isinstance(actual, Decimal) and not isinstance(actual, bool) and actual == expected


def _check_facts(case: Case) -> dict[str, object] | None:
    d = case.data
    checker = FactChecker(case.inputs)
    expected_errors = d.get("facts_error")
    try:
        limits = FactsLimits(**d.get("limits", {}))
        raw = parse_facts_json(d["facts_json"], limits=limits) if "facts_json" in d else d["facts"]
        checked = checker.check(raw, case.as_of, time_zone=d.get("time_zone"), limits=limits)
    except FactsError as exc:
        got = [(x.code, [str(p) for p in x.path]) for x in exc.diagnostics]
        assert expected_errors is not None, f"unexpected FactsError: {[x.format() for x in exc.diagnostics]}"
        want = [(e["code"], [str(p) for p in e.get("path", [])]) for e in expected_errors]
        for code, path in want:
            assert any(c == code and (not path or p[: len(path)] == path) for c, p in got), (code, path, got)
        assert len(got) == len(want), got
        for e in expected_errors:
            if "message" in e:
                assert any(e["message"] in x.message for x in exc.diagnostics if x.code == e["code"]), (
                    e["message"],
                    [x.message for x in exc.diagnostics],
                )
        for x in exc.diagnostics:
            assert x.message.strip(), x
            # a diagnostic about one fact names it: the message quotes the name and the path starts with it
            if x.path:
                assert f"'{x.path[0]}'" in x.message, x
        return None
    assert expected_errors is None, f"expected {expected_errors}, facts were accepted: {dict(checked.values)}"
    for name, want_value in (d.get("checked") or {}).items():
        assert _same(checked.values[name], _expected(want_value)), (name, checked.values[name], want_value)
    for name, reason in (d.get("unknown") or {}).items():
        assert checked.values[name] is UNKNOWN
        assert checked.unknown[name].reason == reason, checked.unknown[name]
    if "unrecognized" in d:
        assert [list(x) for x in checked.unrecognized] == d["unrecognized"]
    if "assumed" in d:
        assert [a[0] for a in checked.assumed] == d["assumed"], checked.assumed
    if "shown" in d:
        for name, entry in d["shown"].items():
            assert dict(checked.shown[name]) == entry, checked.shown[name]
    return dict(checked.values)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case: Case) -> None:
    d = case.data
    values: dict[str, object] = {n: UNKNOWN for n in case.inputs}
    if "facts" in d or "facts_json" in d:
        checked = _check_facts(case)
        if checked is None:
            return
        values = checked
    for name, raw in (d.get("values") or {}).items():
        values[name] = _value(case.inputs[name], raw)
    if "expr" not in d:
        return
    env = {n: i.value_type for n, i in case.inputs.items()}
    run = _Guided(case, values) if case.guided else None
    if run is not None:
        env.update(dict.fromkeys(run.g.model.scores, NUMBER))
        values = run.completer.values
        run.check_score()
    compiled, diags = compile_expression(
        d["expr"], env, location=BASE, path=("case",), expect=_type(d.get("expect", "boolean"))
    )
    if "error" in d:
        assert compiled is None
        assert diags, "no diagnostic"
        first = diags[0]
        assert first.code == d["error"], [x.format() for x in diags]
        assert first.location.file == BASE.file and first.location.line == BASE.line
        if "column" in d:
            assert first.location.column == BASE.column + d["column"], first.format()
        if "message" in d:
            assert d["message"] in first.message, first.message
        if "hint" in d:
            assert first.hint is not None and d["hint"] in first.hint, first.hint
        assert first.path == ("case",)
        return
    assert compiled is not None, [x.format() for x in diags]
    assert diags == []
    if "type" in d:
        assert compiled.type == _type(d["type"]), compiled.type
    oracle = _oracle(case, values)
    if "runtime_error" in d:
        with pytest.raises(EvaluationError) as info:
            compiled.evaluate(values, case.as_of)
        assert info.value.code == d["runtime_error"]
        assert info.value.expression == d["expr"]
        if oracle is not None:
            assert oracle == ("error", d["runtime_error"]), f"the reference evaluator gives {oracle}"
        return
    if run is not None and "completed" in d:
        run.check_completed(compiled)
        if "result" not in d:
            return
    result = compiled.evaluate(values, case.as_of)
    assert _same(result, _expected(d["result"])), (result, d["result"])
    if oracle is not None:
        assert oracle[0] == "value", f"the reference evaluator gives {oracle}, the engine {result!r}"
        assert _same(_from_oracle(oracle[1], compiled.type), _expected(d["result"])), (
            f"the reference evaluator gives {oracle[1]!r}, the engine {result!r}"
        )


def _oracle(case: Case, values: Mapping[str, object]) -> tuple[str, object] | None:
    """The reference evaluator's ("value", v) or ("error", code); None for an excluded entry."""
    if case.data["name"] in ORACLE_EXCLUDED:
        return None
    decls = {n: (i.type, i.unit) for n, i in case.inputs.items()}
    names = ref.bind(decls, values, UNKNOWN)
    if case.guided:
        names = _completion(case).bind_scores(names)
    try:
        return "value", ref.evaluate(case.data["expr"], names, case.as_of)
    except ref.OracleError as exc:
        return "error", exc.code


_GUIDELINE_HEAD: dict[str, Any] = {
    "id": "conformance",
    "version": "0.1.0",
    "title": "conformance corpus (tests only)",
    "status": "draft",
    "effective": {"start": "2026-01-01"},
    "last_updated": "2026-01-01",
    "authors": [{"name": "Test"}],
    "references": {"X": {"citation": "test only"}},
    "start": "n",
    "nodes": [{"id": "n", "kind": "choice", "branches": [{"when": "true", "then": "r"}], "otherwise": "r",
               "unknown": "cannot-decide"}],
    "recommendations": [{"id": "r", "text": "r", "cite": ["X"]}],
}


@functools.cache
def _guideline(file: str) -> CompiledGuideline:
    """The corpus file as a small guideline: its inputs and scores, one node (compiled once)."""
    doc = yaml.safe_load((CORPUS / file).read_text(encoding="utf-8"))
    inputs = {n: {"description": n, **spec} for n, spec in (doc.get("inputs") or {}).items()}
    guideline = {**_GUIDELINE_HEAD, "inputs": inputs}
    if doc.get("scores"):
        guideline["scores"] = doc["scores"]
    analysis = analyze_bytes(yaml.safe_dump(guideline, sort_keys=False).encode(), file)
    assert analysis.compiled is not None, [x.format() for x in analysis.diagnostics]
    return analysis.compiled


def _completion(case: Case) -> ref.Completion:
    decls = {
        n: ref.Decl(i.type, i.unit, i.values, i.plausible_min, i.plausible_max)
        for n, i in case.inputs.items()
    }
    scores = {n: ref.score_items(spec, decls) for n, spec in (case.scores or {}).items()}
    return ref.Completion(decls, scores, case.as_of)


class _Guided:
    """One case evaluated as the walk does: the scores computed (items completed), then the condition."""

    def __init__(self, case: Case, values: Mapping[str, object]) -> None:
        self.case = case
        self.g = _guideline(case.file)
        self.completer = Completer(self.g, dict(values), case.as_of)
        self.scores = {s.name: s for s in compute_scores(self.g, self.completer)}
        decls = {n: (i.type, i.unit) for n, i in case.inputs.items()}
        self.names = ref.bind(decls, values, UNKNOWN)
        self.oracle = _completion(case)

    def check_score(self) -> None:
        want = self.case.data.get("score")
        if want is None:
            return
        got = self.scores[want["name"]]
        value = UNKNOWN if got.value is None else got.value
        assert _same(value, _expected(want["value"])), (got.value, want)
        assert (got.min, got.max) == (Decimal(str(want["min"])), Decimal(str(want["max"]))), got
        o_value, o_min, o_max = self.oracle.score(want["name"], self.names)
        o_value = UNKNOWN if o_value is ref.UNKNOWN else o_value
        assert _same(o_value, _expected(want["value"])), f"the reference evaluator gives {o_value}"
        assert (o_min, o_max) == (got.min, got.max), f"the reference evaluator gives {o_min}..{o_max}"

    def check_completed(self, compiled: CompiledExpression) -> None:
        d = self.case.data
        r = compiled.evaluate(self.completer.values, self.case.as_of)
        if r is UNKNOWN:
            settled = self.completer.settle(compiled)
            r = UNKNOWN if settled is None else settled[0]
        oracle = self.oracle.completed(d["expr"], self.names)
        oracle = UNKNOWN if oracle is ref.UNKNOWN else oracle
        if "oracle_completed" in d:
            assert d.get("why", "").strip(), "say why the two differ"
            assert _same(oracle, _expected(d["oracle_completed"])), f"the reference evaluator gives {oracle}"
            # they may differ only in precision, never in an answer
            assert r is UNKNOWN or oracle is UNKNOWN, (r, oracle)
            assert _same(r, _expected(d["completed"])), (r, d["completed"])
            return
        assert _same(r, _expected(d["completed"])), (r, d["completed"])
        assert _same(oracle, _expected(d["completed"])), f"the reference evaluator gives {oracle}"


def _from_oracle(value: object, t: ValueType) -> object:
    """An oracle value in the engine's representation for the static type ``t``."""
    if value is ref.UNKNOWN:
        return UNKNOWN
    if isinstance(value, ref.Quantity):
        assert t.kind == "quantity" and t.unit is not None, (value, t)
        return ref.in_unit(value, t.unit)
    return value


def test_corpus_is_not_empty() -> None:
    assert len(CASES) > 100
    files = {c.file for c in CASES}
    assert {
        "syntax.yaml",
        "types.yaml",
        "logic.yaml",
        "arithmetic.yaml",
        "units.yaml",
        "functions.yaml",
        "facts.yaml",
    } <= files


def test_every_expression_and_fact_code_is_in_the_corpus() -> None:
    """Every code of the expression compiler and the fact checker has a case (but the internal ones, host
    programming errors tested in tests/test_expressions.py)."""
    codes = {c.data.get("error") for c in CASES} | {c.data.get("runtime_error") for c in CASES}
    for c in CASES:
        for e in c.data.get("facts_error") or ():
            codes.add(e["code"])
    emitted = {c for c in codes_of(Stage.EXPRESSION, Stage.FACTS) if not CODES[c].internal}
    assert len(emitted) > 20
    assert emitted <= codes, sorted(emitted - codes)


def test_oracle_coverage() -> None:
    """The reference evaluator checks every evaluating entry but the listed exclusions, which exist."""
    evaluating = [c for c in CASES if _evaluates(c)]
    names = {c.data["name"] for c in evaluating}
    assert set(ORACLE_EXCLUDED) <= names, sorted(set(ORACLE_EXCLUDED) - names)
    assert all(reason.strip() for reason in ORACLE_EXCLUDED.values())
    covered = len(evaluating) - len(ORACLE_EXCLUDED)
    assert covered >= 200 and covered / len(evaluating) > 0.95, (covered, len(evaluating))


def test_every_function_has_corpus_entries_and_an_independent_implementation() -> None:
    """A function registered in the engine has its own implementation in the reference evaluator (which shares
    no code with the engine) and at least one corpus entry that evaluates it."""
    import ast

    from interpreter.lang.functions.catalog import REGISTRY

    assert set(REGISTRY) == set(ref.FUNCTIONS), sorted(set(REGISTRY) ^ set(ref.FUNCTIONS))
    called: set[str] = set()
    for c in CASES:
        expr = c.data.get("expr")
        if not isinstance(expr, str) or not ("result" in c.data or "runtime_error" in c.data):
            continue
        try:
            tree = ast.parse(expr.strip(), mode="eval")
        except SyntaxError:
            continue
        called |= {
            n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
    assert set(REGISTRY) <= called, sorted(set(REGISTRY) - called)
