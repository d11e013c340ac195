"""Hostile facts (issue 7, items 2.2, 2.3 and the facts part of 2.6): input order, the calendar of the day
predicates, extreme times, and facts that are too large, too deep or too many."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import make_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter
from interpreter.cli import main
from interpreter.errors import EvaluationError, FactsError, Location
from interpreter.facts.checker import FactChecker, FactsLimits
from interpreter.facts.json import parse_facts_json, read_facts
from interpreter.facts.values import evaluation_calendar
from interpreter.lang.compile import compile_expression
from interpreter.values.types import BOOLEAN, NUMBER, ValueType

REPO = pathlib.Path(__file__).resolve().parent.parent
LEUKOPENIA = interpreter.load("leukopenia")
AS_OF = datetime(2026, 11, 24, 8, tzinfo=UTC)

# on filgrastim after chemotherapy; the newest ANC is sent twice, at one instant, written two ways:
# 2026-11-24T02:00:00Z is 2026-11-23T21:00:00-05:00 (24 November in UTC, 23 November in New York)
BASE: dict[str, Any] = {
    "on_prophylaxis": False,
    "anc": {"value": 1.6, "unit": "10*9/L", "at": "2026-11-24T02:00:00Z"},
    "wbc": {"value": 3.8, "unit": "10*9/L", "at": "2026-11-24T02:00:00Z"},
    "cause": "chemotherapy",
    "on_filgrastim": True,
    "long_term_gcsf": False,
    "luq_or_shoulder_pain": False,
}
HISTORY = [
    {"value": 1.5, "unit": "10*9/L", "at": "2026-11-22T06:00:00Z"},
    {"value": 1.7, "unit": "10*9/L", "at": "2026-11-23T06:00:00Z"},
]
AS_Z = {"value": 1.6, "unit": "10*9/L", "at": "2026-11-24T02:00:00Z"}
AS_NY = {"value": 1.6, "unit": "10*9/L", "at": "2026-11-23T21:00:00-05:00"}


def _decide(history: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    result = LEUKOPENIA.evaluate({**BASE, "anc_history": history}, AS_OF, **kwargs)
    out: dict[str, Any] = result.to_json()
    return out


def _recs(out: dict[str, Any]) -> list[str]:
    return [r["id"] for r in out["recommendations"]]


# -- 2.2: one calendar, never the order of the list ------------------------------------------------------


def test_the_issue_example_gives_one_decision_in_both_orders() -> None:
    one = _decide([*HISTORY, AS_Z, AS_NY])
    other = _decide([*HISTORY, AS_NY, AS_Z])
    assert json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)
    # the as-of time is in UTC: 22, 23 and 24 November, all at least 1.5 -> stop
    assert one["status"] == "complete" and "gcsf-chemo-stop" in _recs(one)
    # the duplicate is kept once, shown in the evaluation's calendar
    assert [r["at"] for r in one["facts"]["anc_history"]["value"]] == [
        "2026-11-22T06:00:00Z",
        "2026-11-23T06:00:00Z",
        "2026-11-24T02:00:00Z",
    ]


def test_the_calendar_the_host_states_decides_the_dates_in_both_orders() -> None:
    # in New York the newest result is on 23 November: 21, 22? no - 22 and 23 only: cannot decide yet
    one = _decide([*HISTORY, AS_Z, AS_NY], time_zone="America/New_York")
    other = _decide([*HISTORY, AS_NY, AS_Z], time_zone="America/New_York")
    assert json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)
    assert one["status"] == "incomplete" and "gcsf-chemo-stop" not in _recs(one)
    assert [c["node"] for c in one["cannot_decide"]] == ["chemo-ongoing"]


def test_an_unknown_time_zone_is_refused() -> None:
    for bad in ("Mars/Olympus", "../../etc/passwd", "", "x" * 500, "Europe/Paris\x00"):
        with pytest.raises(EvaluationError) as info:
            LEUKOPENIA.evaluate(BASE, AS_OF, time_zone=bad)
        assert info.value.code == "eval-bad-time-zone"


_OFFSETS = st.integers(min_value=-14 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))


def _rewrite(entry: dict[str, Any], tz: timezone) -> dict[str, Any]:
    t = datetime.fromisoformat(entry["at"]).astimezone(tz)
    return {**entry, "at": t.isoformat()}


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    time_zone=st.sampled_from([None, "America/New_York", "Europe/Paris", "Pacific/Kiritimati"]),
)
def test_shuffled_series_with_rewritten_offsets_give_the_same_result_json(
    data: st.DataObject, time_zone: str | None
) -> None:
    history = [
        {"value": 1.5, "unit": "10*9/L", "at": "2026-11-21T23:30:00Z"},
        {"value": 1500, "unit": "/uL", "at": "2026-11-22T06:00:00Z"},
        {"value": 1.7, "unit": "10*9/L", "at": "2026-11-23T06:00:00Z"},
        {"value": 1.7, "unit": "10*9/L", "at": "2026-11-23T06:00:00Z"},  # sent twice
        {"value": 1600, "unit": "/uL", "at": "2026-11-24T02:00:00Z"},
        {"value": 1.6, "unit": "10*9/L", "at": "2026-11-24T02:00:00Z"},  # the same, in another unit
    ]
    reference = _decide(history, time_zone=time_zone)
    rewritten = [_rewrite(e, data.draw(_OFFSETS)) for e in history]
    shuffled = data.draw(st.permutations(rewritten))
    got = _decide(list(shuffled), time_zone=time_zone)
    assert json.dumps(got, sort_keys=True) == json.dumps(reference, sort_keys=True)


def test_the_kept_duplicate_does_not_depend_on_the_unit_it_was_sent_in() -> None:
    a = {"value": 1600, "unit": "/uL", "at": "2026-11-24T02:00:00Z"}
    b = {"value": 1.6, "unit": "10*9/L", "at": "2026-11-23T21:00:00-05:00"}
    one = _decide([*HISTORY, a, b])["facts"]["anc_history"]
    other = _decide([*HISTORY, b, a])["facts"]["anc_history"]
    assert one == other


# -- 2.3: extreme but valid times --------------------------------------------------------------------------

L = Location("g.yaml", 1, 1)
INPUTS = {
    "when": make_input("when", "datetime", "a time", time="past"),
    "next": make_input("next", "datetime", "a time", time="future"),
    "anc": make_input("anc", "quantity", "ANC", unit="10*9/L", plausible=(0, 100), max_age="PT72H"),
    "s": make_input("s", "series", "ANC series", unit="10*9/L", plausible=(0, 100), max_age="P3D"),
}
CHECKER = FactChecker(INPUTS)
ENV = {n: i.value_type for n, i in INPUTS.items()}
EXPRESSIONS = [
    compile_expression(text, ENV, location=L, expect=BOOLEAN)[0]
    for text in (
        "days_since(when) > 1",
        "hours_since(when) > 1",
        "hours_until(next) > 1",
        "count_within(s, 'P36525D') >= 1",
        "count_within(s, 'PT1M') >= 1",
        "at_or_above_on_days(s, 1, 30)",
        "above_on_days(s, 1, 3)",
        "consecutive_days_at_or_above(s, 1) >= 1",
        "latest(s) > 1 and anc > 1",
    )
]
assert all(e is not None for e in EXPRESSIONS)
EXTREMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("text", EXTREMES[:2])
def test_extreme_fact_times_are_fact_errors_naming_the_fact(text: str) -> None:
    as_of = datetime(2026, 11, 24, 9, tzinfo=UTC)
    facts = {
        "when": text,
        "anc": {"value": 1, "unit": "10*9/L", "at": text},
        "s": [{"value": 1, "unit": "10*9/L", "at": text}],
    }
    with pytest.raises(FactsError) as info:
        CHECKER.check(facts, as_of)
    got = sorted((d.code, d.path) for d in info.value.diagnostics)
    assert ("fact-bad-time", ("anc", "at")) in got
    assert ("fact-bad-time", ("s", 0, "at")) in got
    assert ("fact-bad-time", ("when",)) in got


@pytest.mark.parametrize("text", EXTREMES[:2])
def test_an_extreme_as_of_is_an_evaluation_error(text: str) -> None:
    with pytest.raises(EvaluationError) as info:
        LEUKOPENIA.evaluate(BASE, datetime.fromisoformat(text))
    assert info.value.code == "eval-bad-time"
    with pytest.raises(EvaluationError) as info:
        CHECKER.check({}, datetime.fromisoformat(text))
    assert info.value.code == "eval-bad-time"


_ANY_TIME = st.builds(
    lambda t, q: t.replace(tzinfo=timezone(timedelta(minutes=15 * q))),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(min_value=-14 * 4, max_value=14 * 4),
)
_EDGE_TIME = st.builds(
    lambda t, q: t.replace(tzinfo=timezone(timedelta(minutes=15 * q))),
    st.one_of(
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 3)),
        st.datetimes(min_value=datetime(9999, 12, 29), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    ),
    st.integers(min_value=-14 * 4, max_value=14 * 4),
)
_TIMES = st.one_of(_ANY_TIME, _EDGE_TIME)


@settings(max_examples=300, deadline=timedelta(milliseconds=500), database=None)
@given(
    as_of=_TIMES,
    times=st.lists(_TIMES, min_size=1, max_size=5),
    text=st.booleans(),
    zone=st.sampled_from([None, "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris"]),
)
def test_every_time_in_the_whole_range_ends_in_a_value_or_a_located_error(
    as_of: datetime, times: list[datetime], text: bool, zone: str | None
) -> None:
    def show(t: datetime) -> object:
        return t.isoformat() if text else t

    facts = {
        "when": show(times[0]),
        "next": show(times[-1]),
        "anc": {"value": 1.5, "unit": "10*9/L", "at": show(times[0])},
        "s": [{"value": 1.5, "unit": "10*9/L", "at": show(t)} for t in times],
    }
    try:
        checked = CHECKER.check(facts, as_of, time_zone=zone)
    except EvaluationError as exc:
        assert exc.code == "eval-bad-time"
        return
    except FactsError as exc:
        for d in exc.diagnostics:
            assert d.code in {"fact-bad-time", "fact-future", "fact-implausible", "fact-malformed"}, d
            assert d.path and d.path[0] in facts
        return
    local_as_of, _ = evaluation_calendar(as_of, zone)
    for expr in EXPRESSIONS:
        assert expr is not None
        expr.evaluate(checked.values, local_as_of)  # a value or UNKNOWN; never OverflowError


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("0001-01-01T00:00:00+14:00", "outside the years 1 to 9999"),
        ("9999-12-31T23:59:59-14:00", "outside the years 1 to 9999"),
        ("2026-11-24T09:00:00", "needs a time zone offset"),
        ("x" * 10_000, "is not an ISO 8601 time"),
    ],
)
def test_cli_at_out_of_range_is_a_usage_error(tmp_path: pathlib.Path, at: str, words: str) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps(BASE))
    result = CliRunner().invoke(main, ["evaluate", "leukopenia", str(facts), "--at", at])
    assert result.exit_code == 2, result.output
    assert words in result.stderr and len(result.stderr) < 1000


def test_cli_extreme_fact_time_is_a_fact_error(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({**BASE, "anc": {"value": 1, "unit": "10*9/L", "at": EXTREMES[0]}}))
    result = CliRunner().invoke(main, ["evaluate", "leukopenia", str(facts), "--at", "2026-11-24T09:00:00Z"])
    assert result.exit_code == 2, result.output
    assert "error[fact-bad-time]: fact 'anc'" in result.stderr


def test_cli_time_zone(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({**BASE, "anc_history": [*HISTORY, AS_Z]}))
    args = ["evaluate", "leukopenia", str(facts), "--at", "2026-11-24T08:00:00Z", "--format", "json"]
    utc = CliRunner().invoke(main, args)
    ny = CliRunner().invoke(main, [*args, "--time-zone", "America/New_York"])
    assert "gcsf-chemo-stop" in utc.stdout and utc.exit_code == 0
    firm = [r["id"] for r in json.loads(ny.stdout)["recommendations"]]
    assert "gcsf-chemo-stop" not in firm and ny.exit_code == 1  # at most conditional advice (issue 8 §5)
    bad = CliRunner().invoke(main, [*args, "--time-zone", "Nowhere/Land"])
    assert bad.exit_code == 2 and "--time-zone" in bad.stderr


# -- 2.6: size and exhaustion ------------------------------------------------------------------------------


def test_dev_zero_is_refused_quickly_without_reading_it_all() -> None:
    if not pathlib.Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "interpreter",
            "evaluate",
            "leukopenia",
            "/dev/zero",
            "--at",
            "2026-11-24T09:00Z",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "error[fact-too-large]" in proc.stderr


def test_a_20_mb_facts_file_is_refused_before_it_is_read(tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.json"
    item = json.dumps({"value": 1.5, "unit": "10*9/L", "at": "2026-11-23T06:00:00Z"})
    count = 20 * 2**20 // len(item)
    big.write_text('{"anc_history": [' + ", ".join([item] * count) + "]}")
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["evaluate", "leukopenia", str(big), "--at", "2026-11-24T09:00:00Z"])
    assert time.perf_counter() - start < 5  # a guard only
    assert result.exit_code == 2
    assert "error[fact-too-large]" in result.stderr and f"{big.stat().st_size} bytes" in result.stderr


def test_stdin_beyond_the_limit_is_refused() -> None:
    text = '{"age": "' + "x" * (2**20) + '"}'
    result = CliRunner().invoke(
        main, ["evaluate", "leukopenia", "-", "--at", "2026-11-24T09:00:00Z"], input=text
    )
    assert result.exit_code == 2 and "error[fact-too-large]" in result.stderr


class _Endless:
    """A stream that never ends (like a pipe from a runaway producer); counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def fileno(self) -> int:
        raise OSError("not a file")

    def read(self, n: int = -1) -> bytes:
        assert n > 0, "an endless stream must never be read whole"
        self.read_bytes += n
        return b" " * n


def test_a_stream_is_read_to_the_limit_plus_one_byte_only() -> None:
    stream = _Endless()
    with pytest.raises(FactsError) as info:
        read_facts(stream, limits=FactsLimits(max_bytes=1000))  # type: ignore[arg-type]
    assert [d.code for d in info.value.diagnostics] == ["fact-too-large"]
    assert stream.read_bytes == 1001


def test_deep_nesting_is_refused_before_parsing() -> None:
    text = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(FactsError) as info:
        parse_facts_json(text)
    assert [d.code for d in info.value.diagnostics] == ["fact-malformed"]
    assert "nested more than 16 deep" in info.value.diagnostics[0].message
    # brackets inside strings are text, not nesting
    assert parse_facts_json('{"a": "' + "[" * 100 + '"}') == {"a": "[" * 100}


def test_too_many_facts_and_too_long_a_series_are_refused_before_checking() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({f"x{i}": i for i in range(10_001)}, AS_OF)
    assert [d.code for d in info.value.diagnostics] == ["fact-too-large"]
    series = [{"value": "not a number"}] * 10_001
    with pytest.raises(FactsError) as info:
        CHECKER.check({"s": series}, AS_OF)
    assert [(d.code, d.path) for d in info.value.diagnostics] == [("fact-too-large", ("s",))]


def test_100k_near_miss_unknown_names_finish_fast_with_bounded_suggestions() -> None:
    names = {f"anc{i}": 1 for i in range(100_000)}
    limits = FactsLimits(max_facts=200_000)
    start = time.perf_counter()
    checked = CHECKER.check(names, AS_OF, limits=limits)
    assert time.perf_counter() - start < 5  # a guard only
    assert len(checked.unrecognized) == 100_000
    first = sorted(names)[: limits.max_suggestions]  # only the first names, in sorted order, are compared
    assert [n for n, s in checked.unrecognized if s is not None] == [n for n in first if len(n) <= 7]
    assert dict(checked.unrecognized)["anc0"] == "anc" and dict(checked.unrecognized)["anc9"] is None


def test_fact_errors_are_bounded_with_a_final_count() -> None:
    checker = FactChecker(
        {f"n{i}": make_input(f"n{i}", "number", "n") for i in range(300)}
    )
    with pytest.raises(FactsError) as info:
        checker.check({f"n{i}": "text" for i in range(300)}, AS_OF)
    diags = info.value.diagnostics
    assert len(diags) == 101
    (last,) = [d for d in diags if d.code == "fact-too-many-errors"]
    assert "... and 200 more" in last.message
    shown = sorted(d.path[0] for d in diags if d.code == "fact-wrong-type")
    assert shown == sorted(f"n{i}" for i in range(300))[:100]  # the first in the stable order


def test_cli_prints_the_count_of_errors_not_shown_last(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text("{" + ", ".join(f'"d{i}": 1, "d{i}": 2' for i in range(150)) + "}")
    result = CliRunner().invoke(main, ["evaluate", "leukopenia", str(facts), "--at", "2026-11-24T09:00:00Z"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "error[" in line]
    assert len(lines) == 101 and "error[fact-too-many-errors]" in lines[-1]


def test_facts_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        FactsLimits(max_bytes=-1)
    with pytest.raises(ValueError):
        FactsLimits(max_depth=10_000)


def test_huge_integer_key_is_described_not_printed() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({10**5000: 1}, AS_OF)  # type: ignore[dict-item]
    (d,) = info.value.diagnostics
    assert d.code == "fact-malformed" and d.message == "fact names must be text, not a int"


def test_elapsed_days_are_a_quantity_in_days() -> None:
    compiled, _ = compile_expression("days_since(when)", ENV, location=L, expect=NUMBER)
    assert compiled is None  # a duration is not a plain number (docs/language.md, "Calendar time")
    compiled, _ = compile_expression("days_since(when) / q(1, 'd')", ENV, location=L, expect=NUMBER)
    assert compiled is not None and compiled.type == NUMBER
    assert ValueType("datetime") == INPUTS["when"].value_type
