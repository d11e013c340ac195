"""Hostile facts (JSON) for the bundled leukopenia guideline, through `guideline evaluate leukopenia`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._harness import AT, NO_SHRINK, Recorder, Run, assert_ok
from ._inputs import CHEMO_STOP, MILD, facts, q

INPUTS = [
    "wbc",
    "anc",
    "anc_history",
    "febrile",
    "age",
    "weight",
    "height",
    "cause",
    "on_filgrastim",
    "last_chemo_at",
    "next_chemo_scheduled",
    "next_chemo_at",
    "transplant_at",
    "expected_neutropenia_days",
    "cbc_stable",
    "gcsf_response",
]
HYPOTHESIS = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def evaluate(recorder: Recorder, item: str, input_id: str, text: str | bytes, *opts: str) -> Run:
    return recorder.run(
        "facts", item, input_id, ["evaluate", "leukopenia", "-", "--at", AT, *opts], stdin=text
    )


def test_the_base_facts_give_a_complete_result(recorder: Recorder) -> None:
    run = evaluate(recorder, "general", "base-mild", json.dumps(MILD))
    assert run.outcome == "result", run.describe()


RAW = {
    "nan": '{"age": NaN}',
    "infinity": '{"age": Infinity}',
    "minus-infinity": '{"anc": {"value": -Infinity, "unit": "/uL"}}',
    "1e400": '{"anc": {"value": 1e400, "unit": "/uL", "at": "2026-11-24T06:00:00Z"}}',
    "1e-400": '{"anc": {"value": 1e-400, "unit": "/uL", "at": "2026-11-24T06:00:00Z"}}',
    "huge-integer": '{"age": ' + "9" * 5000 + "}",
    "duplicate-top-key": '{"age": 54, "age": 45}',
    "duplicate-nested-key": '{"anc": {"value": 1, "value": 2, "unit": "/uL"}}',
    "not-an-object": "[1, 2, 3]",
    "null": "null",
    "string": '"anc"',
    "empty": "",
    "truncated": '{"anc": {"value": 1',
    "trailing-garbage": json.dumps(MILD) + " {}",
    "bom": "\ufeff" + json.dumps(MILD),
    "deep-nesting-100": '{"age": ' + "[" * 100 + "]" * 100 + "}",
    "deep-nesting-100000": '{"age": ' + "[" * 100000 + "]" * 100000 + "}",
    "deep-object-50000": '{"a":' * 50000 + "1" + "}" * 50000,
    "lone-surrogate-value": '{"cause": "\\ud800"}',
    "lone-surrogate-name": json.dumps(MILD)[:-1] + ', "\\udfff": 1}',
    "newline-in-name": json.dumps(facts(**{"foo\nRESULT: complete": 1})),
    "nul-in-name": json.dumps(facts(**{"a\u0000b": 1})),
    "comments": '{"age": 54 /* c */}',
    "single-quotes": "{'age': 54}",
}


@pytest.mark.parametrize("name", list(RAW))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_raw_json(recorder: Recorder, name: str, fmt: str) -> None:
    item = "4.text" if "surrogate" in name or "newline" in name else "general"
    assert_ok(evaluate(recorder, item, f"raw-{name}-{fmt}", RAW[name], "--format", fmt))


BAD_BYTES = {
    "latin1": '{"cause": "caf\u00e9"}'.encode("latin-1"),
    "utf16": json.dumps(MILD).encode("utf-16"),
    "surrogate-bytes": '{"cause": "\ud800"}'.encode("utf-8", "surrogatepass"),
    "nul-bytes": b"\x00" * 100,
}


@pytest.mark.parametrize("name", list(BAD_BYTES))
def test_bad_bytes(recorder: Recorder, name: str) -> None:
    assert_ok(evaluate(recorder, "general", f"bytes-{name}", BAD_BYTES[name]))


WRONG = {
    "anc-string": "1500",
    "anc-bool": True,
    "anc-list": [1, 2],
    "anc-no-unit": {"value": 1.0, "at": "2026-11-24T06:00:00Z"},
    "anc-unit-number": {"value": 1.0, "unit": 5, "at": "2026-11-24T06:00:00Z"},
    "anc-unit-kg": {"value": 1.0, "unit": "kg", "at": "2026-11-24T06:00:00Z"},
    "anc-unit-junk": {"value": 1.0, "unit": "10**9/L)(", "at": "2026-11-24T06:00:00Z"},
    "anc-unit-huge-exponent": {"value": 1.0, "unit": "10*999999/L", "at": "2026-11-24T06:00:00Z"},
    "anc-negative": {"value": -1, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "anc-extra-key": {"value": 1.0, "units": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "anc-value-object": {"value": {"value": 1}, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "anc-at-number": {"value": 1.0, "unit": "10*9/L", "at": 1732435200},
    "anc-too-precise": {"value": 0.1234567890123456789012345, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"},
    "cause-number": 3,
    "cause-list": ["other"],
    "febrile-string": "true",
    "age-object": {"value": "54"},
    "history-object": {"value": 1},
    "history-nulls": [None, None],
    "history-mixed": [q(1.0, "2026-11-24T06:00:00Z"), 5, "x"],
}


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_types(recorder: Recorder, name: str) -> None:
    key = name.split("-")[0].replace("history", "anc_history")
    run = evaluate(recorder, "general", f"wrong-{name}", json.dumps(facts(**{key: WRONG[name]})))
    assert_ok(run)


def _history(n: int, start_day: int = 0) -> list[dict[str, Any]]:
    # n results, one a minute, ending on the as-of morning
    out = []
    for i in range(n):
        minutes = n - i
        day, rest = divmod(24 * 60 * 24 - minutes, 24 * 60)
        hh, mm = divmod(rest, 60)
        out.append(q(1.0 + (i % 7) / 10, f"2026-11-{day + 1 - start_day:02d}T{hh:02d}:{mm:02d}:00Z"))
    return out


@pytest.mark.parametrize("n", [1000, 20000])
def test_long_histories(recorder: Recorder, n: int) -> None:
    run = evaluate(recorder, "6.size", f"history-{n}", json.dumps(facts(CHEMO_STOP, anc_history=_history(n))))
    assert_ok(run)


def test_many_unknown_names_are_bounded(recorder: Recorder) -> None:
    # issue 7 item 6: 100k near-miss unknown fact names took 13 s (a did-you-mean search for each)
    many = facts(**{f"anc_{i}": 1 for i in range(100_000)})
    run = recorder.run(
        "facts",
        "6.size",
        "unknown-names-100k",
        ["evaluate", "leukopenia", "-", "--at", AT],
        stdin=json.dumps(many),
        subprocess_=True,
    )
    assert_ok(run, max_output_bytes=1 << 20)


@pytest.mark.parametrize("first", ["utc", "minus-5"])
def test_same_instant_twice_with_different_offsets_gives_one_answer(recorder: Recorder, first: str) -> None:
    # issue 7 item 2: the same ANC result sent twice at the same instant, once written with Z and once with
    # -05:00, put the result on a different local date depending on the order of the list
    utc, minus5 = q(1.8, "2026-11-22T02:00:00Z"), q(1.8, "2026-11-21T21:00:00-05:00")
    rest = CHEMO_STOP["anc_history"][1:]
    outcomes = []
    for order in ([utc, minus5], [minus5, utc]) if first == "utc" else ([minus5, utc], [utc, minus5]):
        body = json.dumps(facts(CHEMO_STOP, anc_history=[*order, *rest]))
        run = evaluate(
            recorder, "2.input-order", f"same-instant-{first}-{len(outcomes)}", body, "--format", "json"
        )
        assert_ok(run)
        outcomes.append(run)
    a, b = outcomes
    assert a.exit_code == b.exit_code, a.describe() + b.describe()
    if a.stdout and b.stdout:
        ja, jb = json.loads(a.stdout), json.loads(b.stdout)
        for key in ("status", "recommendations", "cannot_decide", "needed_facts"):
            assert ja[key] == jb[key], (key, ja[key], jb[key])


def test_both_orders_within_one_list_give_the_same_decision(recorder: Recorder) -> None:
    # the reversed whole history too: a decision never depends on input order
    hist = [
        q(1.8, "2026-11-22T02:00:00Z"),
        q(1.8, "2026-11-21T21:00:00-05:00"),
        *CHEMO_STOP["anc_history"][1:],
    ]
    runs = [
        evaluate(
            recorder,
            "2.input-order",
            f"history-order-{i}",
            json.dumps(facts(CHEMO_STOP, anc_history=h)),
            "--format",
            "json",
        )
        for i, h in enumerate([hist, hist[::-1]])
    ]
    for r in runs:
        assert_ok(r)
    assert runs[0].stdout and runs[1].stdout
    assert [x["id"] for x in json.loads(runs[0].stdout)["recommendations"]] == [
        x["id"] for x in json.loads(runs[1].stdout)["recommendations"]
    ]


@pytest.mark.parametrize(
    "body",
    ['{"anc": {"value": NaN, "unit": "/uL"}}', "{not json", '{"cause": "radiation-x"}'],
    ids=["nan", "syntax", "unknown-code"],
)
def test_refused_facts_with_format_json_print_json_errors_on_stdout(recorder: Recorder, body: str) -> None:
    # issue 7 item 10: with --format json, refused facts printed nothing on stdout
    run = evaluate(recorder, "10.json-errors", f"json-errors-{body[:12]}", body, "--format", "json")
    assert_ok(run)
    assert run.exit_code == 2
    data = json.loads(run.stdout)
    assert isinstance(data, dict) and json.dumps(data).count('"code"') >= 1, run.stdout


# ------------------------------------------------------------------------------------------- hypothesis
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 1e-300, 1e300, 5e-324, 1.7976931348623157e308, 2**53 + 1]),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2026-11-24T06:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-02-30T00:00:00Z",
            "2026-11-24T06:00:00",
            "/uL",
            "10*9/L",
            "other",
            "P1D",
        ]
    ),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FACT_OBJECTS = st.fixed_dictionaries(
    {"value": JSON_VALUES},
    optional={
        "unit": st.one_of(st.sampled_from(["/uL", "10*9/L", "/mm3", "kg", "[lb_av]", "", "1"]), JSON_SCALARS),
        "at": JSON_SCALARS,
    },
)


@HYPOTHESIS
@given(
    changes=st.dictionaries(
        st.one_of(st.sampled_from(INPUTS), st.text(max_size=10)),
        st.one_of(JSON_VALUES, FACT_OBJECTS, st.lists(FACT_OBJECTS, max_size=4)),
        max_size=4,
    ),
    drop=st.lists(st.sampled_from(list(MILD)), max_size=3),
    fmt=st.sampled_from(["text", "json"]),
)
def test_generated_facts(recorder: Recorder, changes: dict[str, Any], drop: list[str], fmt: str) -> None:
    body = facts(**changes)
    for k in drop:
        body.pop(k, None)
    text = json.dumps(body, allow_nan=True)
    assert_ok(evaluate(recorder, "general", "hypothesis-facts", text, "--format", fmt))
