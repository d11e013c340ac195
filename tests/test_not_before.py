"""An action's earliest start computed for the patient (`not_before:`, issue 9: "gcsf-chemo-not-yet gives
the earliest start as a clock time"): typed at load, shown in the evaluation's calendar and as ISO 8601,
unknown (the result incomplete, the fact needed) when its facts are."""

from __future__ import annotations

import json
import pathlib
import pickle
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

import interpreter
from interpreter.compiler.loader import analyze_bytes
from interpreter.output.results import result_text
from interpreter.tooling.testing import run_test_file

HERE = pathlib.Path(__file__).parent
GUIDELINE = HERE / "fixtures" / "eval" / "not-before.guideline.yaml"
RESULT_SCHEMA = json.loads((HERE.parent / "schema" / "result.schema.json").read_text("utf-8"))
AT = datetime(2026, 11, 24, 9, tzinfo=UTC)
WEIGHT = {"value": 70, "unit": "kg"}


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load(GUIDELINE)


def test_the_earliest_start_is_a_clock_time_in_the_evaluation_calendar(g: interpreter.Guideline) -> None:
    r = g.evaluate({"weight": WEIGHT, "last_chemo_at": "2026-11-24T06:30:00Z"}, AT, time_zone="Europe/Paris")
    assert r.status == "complete"
    med, _ = r.recommendations[0].actions
    assert med.not_before == datetime.fromisoformat("2026-11-25T07:30:00+01:00")
    # shown in the evaluation's calendar
    assert med.not_before is not None and str(med.not_before.utcoffset()) == "1:00:00"
    js = r.to_json()
    jsonschema.validate(js, RESULT_SCHEMA)
    actions = js["recommendations"][0]["actions"]
    assert actions[0]["not_before"] == "2026-11-25T07:30:00+01:00"
    assert actions[1]["not_before"] == "2026-11-24T07:30:00+01:00"
    assert "not_before_needs" not in actions[0]
    text = result_text(r)
    assert "the last chemotherapy dose; not before: 2026-11-25 07:30+01:00" in text
    assert "monitor CBC daily; not before: 2026-11-24 07:30+01:00" in text
    assert pickle.loads(pickle.dumps(r)) == r


def test_seconds_are_never_rounded_away(g: interpreter.Guideline) -> None:
    r = g.evaluate({"weight": WEIGHT, "last_chemo_at": "2026-11-24T06:30:45Z"}, AT)
    assert "not before: 2026-11-25 06:30:45+00:00" in result_text(r)


def test_unknown_facts_leave_it_unknown_and_the_result_incomplete(g: interpreter.Guideline) -> None:
    r = g.evaluate({"weight": WEIGHT}, AT)
    assert r.status == "incomplete"
    med, _ = r.recommendations[0].actions
    assert med.not_before is None and med.not_before_needs == ("last_chemo_at",)
    assert [(n.name, n.needed_by) for n in r.needed_facts] == [("last_chemo_at", ("wait",))]
    js = r.to_json()
    jsonschema.validate(js, RESULT_SCHEMA)
    assert js["recommendations"][0]["actions"][0]["not_before"] is None
    assert js["recommendations"][0]["actions"][0]["not_before_needs"] == ["last_chemo_at"]
    assert "not before: cannot be computed (needs last_chemo_at)" in result_text(r)


def test_actions_without_it_keep_their_shape() -> None:
    r = interpreter.load("leukopenia").evaluate({}, AT)
    for rec in r.to_json()["recommendations"]:
        for a in rec["actions"]:
            assert "not_before" not in a


@pytest.mark.parametrize(("expr", "code"), [
    ("weight", "expr-type"),
    ("time_after(last_chemo_at, q(24, 'kg'))", "expr-type"),
    ("time_after(last_chem_at, q(24, 'h'))", "expr-unknown-name"),
])
def test_it_is_type_checked_at_load_and_located(expr: str, code: str) -> None:
    written = "\"time_after(last_chemo_at, q(24, 'h'))\""
    text = GUIDELINE.read_text("utf-8").replace(written, json.dumps(expr))
    analysis = analyze_bytes(text.encode(), "g.yaml")
    errors = [d for d in analysis.diagnostics if d.is_error]
    assert [d.code for d in errors] == [code], [d.format() for d in errors]
    assert errors[0].path[-1] == "not_before" and errors[0].location.line == 32


def test_only_medication_and_monitoring_state_it() -> None:
    text = GUIDELINE.read_text("utf-8").replace(
        "      - type: monitoring\n",
        "      - {type: referral, name: haematology, not_before: last_chemo_at}\n      - type: monitoring\n")
    codes = [d.code for d in analyze_bytes(text.encode(), "g.yaml").diagnostics if d.is_error]
    assert codes and all(c.startswith("schema-") for c in codes), codes


@pytest.mark.parametrize(("as_of", "chemo", "shown"), [
    # the change to summer time (2027-03-28 02:00 -> 03:00 in Paris): 24 h after 10:00+01:00 is 11:00+02:00
    ("2027-03-27T12:00:00+01:00", "2027-03-27T10:00:00+01:00", "2027-03-28T11:00:00+02:00"),
    # the change back (2026-10-25 03:00 -> 02:00): 24 h after 10:00+02:00 is 09:00+01:00
    ("2026-10-24T12:00:00+02:00", "2026-10-24T10:00:00+02:00", "2026-10-25T09:00:00+01:00"),
])
def test_across_a_daylight_saving_change_it_shows_the_wall_clock_of_that_day(
    g: interpreter.Guideline, as_of: str, chemo: str, shown: str
) -> None:
    # before the fix it kept the as-of time's offset: 10:00+01:00 on the day of summer time, which a ward
    # clock (then at +02:00) reads one hour early, inside the 24 hours after chemotherapy
    r = g.evaluate({"weight": WEIGHT, "last_chemo_at": chemo}, datetime.fromisoformat(as_of),
                   time_zone="Europe/Paris")
    med = r.recommendations[0].actions[0]
    assert med.not_before is not None and med.not_before.isoformat() == shown
    assert med.not_before - datetime.fromisoformat(chemo) == timedelta(hours=24)  # the same instant as before
    assert r.to_json()["recommendations"][0]["actions"][0]["not_before"] == shown
    assert pickle.loads(pickle.dumps(r)) == r


def test_without_a_time_zone_the_as_of_offset_is_kept(g: interpreter.Guideline) -> None:
    r = g.evaluate({"weight": WEIGHT, "last_chemo_at": "2027-03-27T10:00:00+01:00"},
                   datetime.fromisoformat("2027-03-27T12:00:00+01:00"))
    assert r.recommendations[0].actions[0].not_before == datetime.fromisoformat("2027-03-28T10:00:00+01:00")
    assert r.recommendations[0].actions[0].not_before.isoformat() == "2027-03-28T10:00:00+01:00"


LEUKOPENIA = HERE.parent / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml"
CHEMO_7H = ('{anc: {value: 0.4, unit: 10*9/L, at: "2026-11-24T06:00:00Z"}, cause: chemotherapy, '
            'on_filgrastim: false, long_acting_gcsf_this_cycle: false, '
            'last_chemo_at: "2026-11-24T01:30:00Z", '
            'next_chemo_scheduled: false, weight: {value: 70, unit: kg, at: "2026-11-20T08:00:00Z"}}')


@pytest.mark.parametrize(("zone", "expect", "ok", "diff"), [
    ("Europe/Paris", '{recommendation: gcsf-chemo-not-yet, at: "2026-11-25T02:30:00+01:00"}', True, None),
    # the same instant with another offset is another clock time: it fails
    ("Europe/Paris", '{recommendation: gcsf-chemo-not-yet, at: "2026-11-25T01:30:00Z"}', False,
     "not_before in gcsf-chemo-not-yet: expected 2026-11-25T01:30:00+00:00, got 2026-11-25T02:30:00+01:00"),
    ("America/New_York",
     '{recommendation: gcsf-chemo-not-yet, drug: filgrastim, at: "2026-11-24T20:30:00-05:00"}', True, None),
    ("America/New_York", '{recommendation: gcsf-chemo-not-yet, at: null}', False,
     "not_before in gcsf-chemo-not-yet: expected not computed, got 2026-11-24T20:30:00-05:00"),
    ("UTC", '{recommendation: gcsf-chemo-not-yet, drug: sargramostim, at: null}', False,
     "not_before in gcsf-chemo-not-yet (sargramostim): no action with an earliest start"),
    ("UTC", '{recommendation: gcsf-chemo, at: null}', False,
     "not_before in gcsf-chemo: the recommendation was not given"),
])
def test_a_test_case_checks_the_clock_time_in_its_time_zone(
    tmp_path: pathlib.Path, zone: str, expect: str, ok: bool, diff: str | None
) -> None:
    f = tmp_path / "x.tests.yaml"
    f.write_text(f'guideline: {LEUKOPENIA}\nat: "2026-11-24T09:00:00Z"\ncases:\n  - name: one\n'
                 f"    time_zone: {zone}\n    facts: {CHEMO_7H}\n    expect:\n      not_before: [{expect}]\n",
                 "utf-8")
    outcome = run_test_file(f)
    assert outcome.diagnostics == []
    assert outcome.ok is ok, outcome.cases[0].diff
    if diff is not None:
        assert outcome.cases[0].diff == (diff,)


def test_a_misspelled_recommendation_in_not_before_is_a_located_error(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "x.tests.yaml"
    f.write_text(f'guideline: {LEUKOPENIA}\nat: "2026-11-24T09:00:00Z"\ncases:\n  - name: one\n'
                 f"    facts: {CHEMO_7H}\n    expect:\n"
                 '      not_before: [{recommendation: gcsf-chemo-not-yt, at: null}]\n', "utf-8")
    outcome = run_test_file(f)
    assert [(d.code, d.hint) for d in outcome.diagnostics] == [
        ("test-unknown-id", "did you mean 'gcsf-chemo-not-yet'?")]


def test_a_bad_time_zone_of_a_case_is_an_evaluation_error(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "x.tests.yaml"
    f.write_text(f'guideline: {LEUKOPENIA}\nat: "2026-11-24T09:00:00Z"\ncases:\n  - name: one\n'
                 f"    time_zone: Mars/Olympus\n    facts: {CHEMO_7H}\n    expect:\n"
                 "      error: {code: eval-bad-time-zone}\n", "utf-8")
    assert run_test_file(f).ok
