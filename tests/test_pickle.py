"""Guidelines, results and errors pickle to equal objects: multiprocessing and distributed hosts can ship
them.

Before: ``mappingproxy`` fields made ``pickle.dumps`` fail on a ``Guideline`` and a ``Result``, and the errors
could not be unpickled at all (their constructors take other arguments than ``Exception.args``).
"""

from __future__ import annotations

import multiprocessing
import pathlib
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

import interpreter
from interpreter.errors import (
    Diagnostic,
    EvaluationError,
    FactsError,
    GuidelineError,
    InterpreterError,
    Location,
)

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
EXAMPLES = sorted((REPO / "examples").glob("*.json"))
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


def roundtrip(obj: Any, protocol: int) -> Any:
    return pickle.loads(pickle.dumps(obj, protocol))


@pytest.fixture(scope="module")
def leukopenia() -> interpreter.Guideline:
    return interpreter.load("leukopenia")


def patients() -> list[dict[str, Any]]:
    return [interpreter.parse_facts_json(p.read_text(encoding="utf-8")) for p in EXAMPLES]


def test_there_are_several_example_patients() -> None:
    assert len(EXAMPLES) >= 5


# errors --------------------------------------------------------------------------------------------------


def real_errors(tmp_path: pathlib.Path, g: interpreter.Guideline) -> list[InterpreterError]:
    errors: list[InterpreterError] = []
    bad = tmp_path / "bad.guideline.yaml"
    bad.write_text(MINI.read_text().replace("start: top", "start: nowhere"))
    with pytest.raises(GuidelineError) as gi:
        interpreter.load(bad)
    errors.append(gi.value)
    with pytest.raises(FactsError) as fi:
        g.evaluate({"anc": {"value": "low", "unit": "10*9/L"}, "age": -3}, AS_OF)
    errors.append(fi.value)
    with pytest.raises(EvaluationError) as ei:
        g.evaluate({}, datetime(1990, 1, 1, tzinfo=UTC))
    errors.append(ei.value)
    zero = tmp_path / "zero.guideline.yaml"
    zero.write_text(
        MINI.read_text().replace('{when: "anc < 1.0"', "{when: \"q(1, '10*9/L') / anc < 1.0\"")
    )
    anc = {"value": 0, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"}
    with pytest.raises(EvaluationError) as zi:
        interpreter.load(zero).evaluate({"anc": anc, "febrile": False}, AS_OF)
    errors.append(zi.value)
    errors.append(InterpreterError("plain"))
    return errors


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_error_pickles_to_an_equal_error(
    tmp_path: pathlib.Path, leukopenia: interpreter.Guideline, protocol: int
) -> None:
    errors = real_errors(tmp_path, leukopenia)
    located = errors[3]
    assert isinstance(located, EvaluationError) and located.location is not None
    for err in errors:
        back = roundtrip(err, protocol)
        assert back is not err
        assert type(back) is type(err)
        assert back == err and hash(back) == hash(err)
        assert str(back) == str(err)
        assert back.args == err.args
        if isinstance(err, GuidelineError | FactsError):
            assert back.diagnostics == err.diagnostics and len(err.diagnostics) >= 1
        if isinstance(err, EvaluationError):
            assert (back.code, back.message, back.node_id, back.expression, back.location) == (
                err.code, err.message, err.node_id, err.expression, err.location)


def test_errors_compare_by_class_and_data() -> None:
    d = Diagnostic("x", "m", Location("f", 1, 2))
    assert GuidelineError([d]) == GuidelineError([d])
    assert GuidelineError([d]) != FactsError([d])
    assert GuidelineError([d]) != GuidelineError([Diagnostic("x", "m", Location("f", 1, 3))])
    e = EvaluationError("c", "m", "n", "e", Location("f", 1, 2))
    assert e == EvaluationError("c", "m", "n", "e", Location("f", 1, 2))
    assert e != EvaluationError("c", "m", "n", "e", Location("f", 1, 3))
    assert e != EvaluationError("c", "m", "n", "e")


# results -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_results_pickle_to_equal_results(leukopenia: interpreter.Guideline, protocol: int) -> None:
    for facts in patients():
        for trace in (True, False):
            result = leukopenia.evaluate(facts, AS_OF, trace=trace)
            back = roundtrip(result, protocol)
            assert back == result
            assert back.trace == result.trace and (len(back.trace) > 0) == trace
            assert back.to_json() == result.to_json()
            assert roundtrip(back, protocol) == result  # an unpickled result pickles again


def test_results_with_different_traces_are_not_equal(leukopenia: interpreter.Guideline) -> None:
    facts = patients()[0]
    assert leukopenia.evaluate(facts, AS_OF) != leukopenia.evaluate(facts, AS_OF, trace=False)
    assert leukopenia.evaluate(facts, AS_OF) == leukopenia.evaluate(facts, AS_OF)


# guidelines ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_guideline_pickles_by_its_source_and_evaluates_the_same(
    leukopenia: interpreter.Guideline, protocol: int
) -> None:
    back = roundtrip(leukopenia, protocol)
    assert back == leukopenia and hash(back) == hash(leukopenia)
    assert back.compiled is not leukopenia.compiled
    assert (back.id, back.version, back.status, back.content_hash, back.file) == (
        leukopenia.id, leukopenia.version, leukopenia.status, leukopenia.content_hash, leukopenia.file)
    for facts in patients():
        assert back.evaluate(facts, AS_OF) == leukopenia.evaluate(facts, AS_OF)
    assert roundtrip(back, protocol) == leukopenia


def test_guidelines_compare_by_identity_of_content(tmp_path: pathlib.Path) -> None:
    a = interpreter.load(MINI)
    assert a == interpreter.load(MINI)
    other = tmp_path / "other.guideline.yaml"
    other.write_text(MINI.read_text().replace('version: "1.2.0"', 'version: "1.2.1"'))
    assert a != interpreter.load(other)
    same_text = tmp_path / "mini.guideline.yaml"
    same_text.write_text(MINI.read_text())
    assert a != interpreter.load(same_text)  # another file


def test_a_guideline_whose_file_changed_since_loading_is_not_pickled(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "g.guideline.yaml"
    p.write_text(MINI.read_text())
    g = interpreter.load(p)
    p.write_text(MINI.read_text().replace("anc < 1.0", "anc < 2.0"))
    with pytest.raises(pickle.PicklingError, match="changed since it was loaded"):
        pickle.dumps(g)


def test_a_guideline_reformatted_but_unchanged_still_pickles(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "g.guideline.yaml"
    p.write_text(MINI.read_text())
    g = interpreter.load(p)
    p.write_text("# a comment added later\n" + MINI.read_text())
    assert roundtrip(g, pickle.HIGHEST_PROTOCOL) == g


def test_a_tampered_pickle_is_refused(tmp_path: pathlib.Path) -> None:
    g = interpreter.load(MINI)
    data = pickle.dumps(g)
    tampered = data.replace(b"anc < 1.0", b"anc < 9.0")
    assert tampered != data
    with pytest.raises(GuidelineError) as info:
        pickle.loads(tampered)
    assert info.value.diagnostics[0].code == "load-failed"


# a real multiprocessing pool ------------------------------------------------------------------------------


def _evaluate_in_worker(job: tuple[interpreter.Guideline, dict[str, Any], datetime]) -> Any:
    g, facts, as_of = job
    try:
        return g.evaluate(facts, as_of)
    except InterpreterError as exc:
        return exc


def _raise_in_worker(job: tuple[interpreter.Guideline, dict[str, Any], datetime]) -> Any:
    g, facts, as_of = job
    return g.evaluate(facts, as_of)


def test_a_spawned_pool_gives_the_results_of_in_process_evaluation(leukopenia: interpreter.Guideline) -> None:
    jobs = [(leukopenia, facts, AS_OF) for facts in patients()]
    jobs.append((leukopenia, {"anc": {"value": "low", "unit": "10*9/L"}}, AS_OF))  # a FactsError
    expected = [_evaluate_in_worker(job) for job in jobs]
    assert isinstance(expected[-1], FactsError)
    assert all(isinstance(r, interpreter.Result) for r in expected[:-1])
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        got = pool.map(_evaluate_in_worker, jobs)
        with pytest.raises(FactsError) as info:
            pool.apply(_raise_in_worker, (jobs[-1],))
    assert got == expected
    assert [r.to_json() for r in got[:-1]] == [r.to_json() for r in expected[:-1]]
    assert info.value == expected[-1]
