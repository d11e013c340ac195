"""An action's earliest start computed for the patient (`not_before:`, issue 9: "gcsf-chemo-not-yet gives
the earliest start as a clock time"): typed at load, shown in the evaluation's calendar and as ISO 8601,
unknown (the result incomplete, the fact needed) when its facts are."""

from __future__ import annotations

import json
import pathlib
import pickle
from datetime import UTC, datetime

import jsonschema
import pytest

import interpreter
from interpreter.compiler.loader import analyze_bytes
from interpreter.output.results import result_text

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
