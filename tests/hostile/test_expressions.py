"""Generated expressions in a generated guideline (hypothesis), and the run-time failures of expressions and
doses (issue 7 items 8 and 9): every one is validated and evaluated through the CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._harness import AT, NO_SHRINK, Recorder, Run, assert_ok, scratch_dir
from ._inputs import GENERATED_FACTS, guideline_yaml

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    database=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _validate_and_evaluate(
    recorder: Recorder, item: str, input_id: str, text: str, body: dict[str, Any], folder: Any
) -> tuple[Run, Run]:
    path = folder / "g.guideline.yaml"
    path.write_text(text)
    v = recorder.run("expressions", item, input_id, ["validate", str(path)])
    e = recorder.run(
        "expressions",
        item,
        input_id,
        ["evaluate", str(path), "-", "--at", AT, "--format", "json"],
        stdin=json.dumps(body),
    )
    assert_ok(v)
    assert_ok(e)
    return v, e


# ------------------------------------------------------------------------------------------- items 8 and 9
RUNTIME = {
    # a division by an input that is zero for these facts
    "division-by-zero": dict(when="x / z > 1", facts={"z": 0}),
    "derived-division-by-zero": dict(derived_expr="x / (z - z)", facts={}),
    "sqrt-of-negative": dict(when="sqrt(x) > 1", facts={"x": -4}),
    "overflow": dict(when="x * 1e999999 > 1", facts={}),
    "power-of-products": dict(when="x * x * x * x * x * x * x * x * x * x > 1", facts={"x": 999999}),
    "dose-amount-zero": dict(amount='"x - x"', facts={}),
    "dose-amount-negative": dict(amount='"0 - x"', facts={}),
    "dose-amount-division-by-zero": dict(amount='"x / (z - 3)"', facts={}),
    "dose-rounds-to-zero": dict(amount="0.001", round_to="1", facts={}),
}


@pytest.mark.parametrize("name", list(RUNTIME))
def test_run_time_failures_are_located_guideline_errors(recorder: Recorder, name: str) -> None:
    # issue 7 item 9: exit 3 "internal error" with no file or line;
    # they are guideline errors (exit 2, located)
    case = dict(RUNTIME[name])
    body = dict(GENERATED_FACTS, **case.pop("facts"))
    with scratch_dir() as folder:
        _, e = _validate_and_evaluate(
            recorder, "9.exit-codes", f"runtime-{name}", guideline_yaml(**case), body, folder
        )
    assert e.exit_code != 3


DOSE_NUMBERS = {
    "round-to-1e-999": dict(round_to="1e-999"),
    "round-to-1e999": dict(round_to="1e999"),
    "round-to-zero": dict(round_to="0"),
    "round-to-negative": dict(round_to="-1"),
    "amount-1e999": dict(amount="1e999"),
    "amount-1e-999": dict(amount="1e-999"),
    "amount-many-digits": dict(amount="1." + "3" * 60),
    "amount-expression-1e999": dict(amount='"x * 1e999"'),
}


@pytest.mark.parametrize("name", list(DOSE_NUMBERS))
def test_dose_numbers_are_range_checked(recorder: Recorder, name: str) -> None:
    # issue 7 item 8: round_to 1e-999 or amount 1e999 ended in overflow and exit 3, or a 1,000-digit dose
    with scratch_dir() as folder:
        _, e = _validate_and_evaluate(
            recorder,
            "8.dose-numbers",
            f"dose-{name}",
            guideline_yaml(**DOSE_NUMBERS[name]),
            GENERATED_FACTS,
            folder,
        )
    if e.outcome == "result":
        for rec in json.loads(e.stdout)["recommendations"]:
            for action in rec["actions"]:
                dose = action.get("dose") or {}
                assert len(str(dose.get("value_text") or "")) <= 40, dose


# ------------------------------------------------------------------------------------------- hypothesis
NUM_ATOMS = st.sampled_from(
    ["x", "z", "v", "0", "1", "0.5", "-1", "1e99", "1e-99", "3", "1e300", "0.1", "latest(s)", "abs(x)"]
)
QTY_ATOMS = st.sampled_from(["q", "w", "latest(s)", "q(500, '/uL')", "q(1, 'kg')", "bsa(w, w)"])


def _num(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return NUM_ATOMS
    sub = _num(depth - 1)
    return st.one_of(
        NUM_ATOMS,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(["abs", "sqrt", "round", "-"]), sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["hours_since", "days_since", "hours_until"]), st.just("t")).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
    )


def _bool(depth: int) -> st.SearchStrategy[str]:
    cmp = st.one_of(
        st.tuples(_num(depth), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), _num(depth)).map(
            " ".join
        ),
        st.tuples(QTY_ATOMS, st.sampled_from(["<", ">=", "=="]), st.one_of(QTY_ATOMS, NUM_ATOMS)).map(
            " ".join
        ),
        st.sampled_from(
            [
                "b",
                "true",
                "false",
                "c == 'low'",
                "c in ['low', 'high']",
                "c == 'nope'",
                "at_or_above_on_days(s, 0.5, 2)",
                "count_within(s, 'P1D') > 0",
                "unknown_name",
            ]
        ),
    )
    if depth <= 0:
        return cmp
    sub = _bool(depth - 1)
    return st.one_of(
        cmp,
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda s: f"not {s}"),
    )


FACT_VALUES = {
    "x": st.one_of(
        st.integers(-(10**6), 10**6), st.sampled_from([0, 1e-300, 999999.999999, -0.0]), st.none()
    ),
    "z": st.one_of(st.integers(-3, 3), st.none()),
    "b": st.one_of(st.booleans(), st.none()),
    "c": st.sampled_from(["low", "high", None]),
}


@SETTINGS
@given(
    when=_bool(2),
    derived=_num(2),
    amount=st.one_of(st.just("5"), _num(1).map(json.dumps)),
    values=st.fixed_dictionaries({k: v for k, v in FACT_VALUES.items()}),
)
def test_generated_expressions(
    recorder: Recorder, when: str, derived: str, amount: str, values: dict[str, Any]
) -> None:
    body = dict(GENERATED_FACTS, **values)
    with scratch_dir() as folder:
        _validate_and_evaluate(
            recorder,
            "general",
            "hypothesis-expression",
            guideline_yaml(when=when, derived_expr=derived, amount=amount),
            body,
            folder,
        )


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(when=st.text(alphabet="xzbcq()<>=!+-*/., 01e'andort", max_size=40))
def test_random_expression_text(recorder: Recorder, when: str) -> None:
    with scratch_dir() as folder:
        _validate_and_evaluate(
            recorder,
            "general",
            "hypothesis-expression-text",
            guideline_yaml(when=when),
            GENERATED_FACTS,
            folder,
        )
