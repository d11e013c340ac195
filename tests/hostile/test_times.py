"""Extreme but valid times (issue 7 item 3), as `--at` and inside facts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._harness import AT, NO_SHRINK, Recorder, assert_ok
from ._inputs import CHEMO_STOP, MILD, facts, q

EXTREME = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59.999999Z",
    "2026-11-24T09:00:00+23:59",
    "2026-11-24T09:00:00-23:59",
]
BAD = [
    "2026-11-24T09:00:00+24:00",
    "2026-11-24",
    "24/11/2026",
    "",
    "now",
    "2026-11-24T25:00:00Z",
    "+10000-01-01T00:00:00Z",
]


@pytest.mark.parametrize("at", EXTREME + BAD)
def test_extreme_as_of_times(recorder: Recorder, at: str) -> None:
    for name, body in (("mild", MILD), ("chemo", CHEMO_STOP)):
        run = recorder.run(
            "times",
            "3.extreme-times",
            f"at-{at}-{name}",
            ["evaluate", "leukopenia", "-", "--at", at],
            stdin=json.dumps(body),
        )
        assert_ok(run)


FIELDS = {
    "anc-at": lambda t: {"anc": q(1.9, t)},
    "febrile-at": lambda t: {"febrile": {"value": False, "at": t}},
    "last-chemo": lambda t: {"last_chemo_at": t, "cause": "chemotherapy", "anc": q(0.4)},
    "next-chemo": lambda t: {
        "next_chemo_at": t,
        "next_chemo_scheduled": True,
        "cause": "chemotherapy",
        "last_chemo_at": "2026-11-22T09:00:00Z",
        "anc": q(0.4),
    },
    "transplant": lambda t: {"transplant_at": t, "cause": "transplant", "anc": q(0.1)},
    "history": lambda t: {
        "anc_history": [q(1.9, t), q(1.9, "2026-11-24T06:00:00Z")],
        "on_filgrastim": True,
        "cause": "chemotherapy",
    },
}


@pytest.mark.parametrize("when", EXTREME)
@pytest.mark.parametrize("field", list(FIELDS))
def test_extreme_times_in_facts(recorder: Recorder, field: str, when: str) -> None:
    # issue 7 item 3: OverflowError and exit 3; they must give a fact error (or be used)
    body = json.dumps(facts(**FIELDS[field](when)))
    for at in (AT, "9999-12-31T23:59:59-14:00"):
        run = recorder.run(
            "times",
            "3.extreme-times",
            f"fact-{field}-{when}-at-{at}",
            ["evaluate", "leukopenia", "-", "--at", at],
            stdin=body,
        )
        assert_ok(run)


def _iso(dt: datetime, minutes: int) -> str:
    return dt.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


TIMES = st.builds(
    _iso,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(min_value=-(14 * 60), max_value=14 * 60),
)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(at=TIMES, fact_time=TIMES, field=st.sampled_from(list(FIELDS)))
def test_generated_times(recorder: Recorder, at: str, fact_time: str, field: str) -> None:
    body = json.dumps(facts(**FIELDS[field](fact_time)))
    run = recorder.run(
        "times",
        "3.extreme-times",
        "hypothesis-times",
        ["evaluate", "leukopenia", "-", "--at", at],
        stdin=body,
    )
    assert_ok(run)
