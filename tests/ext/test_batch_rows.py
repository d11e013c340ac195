"""interpreter.ext.batch.rows: one row to one record, never raising; the records of the tally."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import interpreter
from interpreter.ext.batch.rows import RowOptions, Tally, evaluate_fields, evaluate_line, record_json
from interpreter.facts.json import parse_facts_json

AT = datetime(2026, 11, 24, 9, tzinfo=UTC)
FACTS = {
    "anc": {"value": 400, "unit": "/uL", "at": "2026-11-24T06:00:00Z"},
    "cause": "chemotherapy",
    "on_filgrastim": False,
    "weight": {"value": 154, "unit": "[lb_av]", "at": "2026-11-20T08:00:00Z"},
}


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load("leukopenia")


def _line(**row: object) -> bytes:
    return json.dumps(row).encode()


def test_an_ok_row_is_the_single_evaluation(g: interpreter.Guideline) -> None:
    rec = evaluate_line(g, _line(id="p1", facts=FACTS), 3, RowOptions(at=AT))
    expected = g.evaluate(parse_facts_json(json.dumps(FACTS)), AT, trace=False).to_json()
    assert rec == {"id": "p1", "row": 3, "outcome": "ok", "status": expected["status"], "result": expected}
    # the row's own as_of and time zone are used, and the trace when asked
    at = "2026-11-25T10:00:00+01:00"
    rec = evaluate_line(
        g, _line(id=7, as_of=at, time_zone="Europe/Paris", facts=FACTS), 1, RowOptions(at=AT, trace=True)
    )
    expected = g.evaluate(FACTS, datetime.fromisoformat(at), time_zone="Europe/Paris").to_json()
    assert rec["result"] == expected and rec["id"] == 7 and expected["trace"]


@pytest.mark.parametrize(
    ("line", "kind", "code"),
    [
        (b'{"id": "p1", "facts": {', "facts", "fact-malformed"),
        (b"[1, 2]", "facts", "fact-malformed"),
        (b'{"id": "p1", "id": "p2", "facts": {}}', "facts", "fact-duplicate-key"),
        (b"\xff\xfe", "facts", "fact-encoding"),
        (b'{"facts": {}}', "row", "batch-row-invalid"),
        (b'{"id": true, "facts": {}}', "row", "batch-row-invalid"),
        (b'{"id": "p1"}', "row", "batch-row-invalid"),
        (b'{"id": "p1", "facts": [1]}', "row", "batch-row-invalid"),
        (b'{"id": "p1", "asof": "2026-11-24T09:00:00Z", "facts": {}}', "row", "batch-row-invalid"),
        (b'{"id": "p1", "as_of": "2026-11-24T09:00:00", "facts": {}}', "row", "batch-row-invalid"),
        (b'{"id": "p1", "as_of": "yesterday", "facts": {}}', "row", "batch-row-invalid"),
        (b'{"id": "p1", "facts": {"anc": {"value": 400, "unit": "10*9/L"}}}', "facts", "fact-implausible"),
        (
            b'{"id": "p1", "as_of": "2020-01-01T00:00:00Z", "facts": {}}',
            "evaluation",
            "guideline-not-effective",
        ),
        (b'{"id": "p1", "time_zone": "Mars/Olympus", "facts": {}}', "evaluation", "eval-bad-time-zone"),
    ],
)
def test_a_bad_row_is_an_error_record(g: interpreter.Guideline, line: bytes, kind: str, code: str) -> None:
    rec = evaluate_line(g, line, 5, RowOptions(at=AT, source="in.ndjson"))
    assert rec["outcome"] == "error" and rec["row"] == 5
    assert (rec["error"]["kind"], rec["error"]["code"]) == (kind, code), rec
    assert rec["error"]["diagnostics"][0]["code"] == code
    json.loads(record_json(rec))
    if kind == "row":
        assert (
            rec["error"]["diagnostics"][0]["file"] == "in.ndjson"
            and rec["error"]["diagnostics"][0]["line"] == 5
        )


def test_the_id_is_kept_when_the_facts_are_refused(g: interpreter.Guideline) -> None:
    rec = evaluate_line(g, _line(id="p9", facts={"anc": "low"}), 1, RowOptions(at=AT))
    assert rec["id"] == "p9" and rec["error"]["code"] == "fact-wrong-type"
    assert rec["error"]["diagnostics"][0]["fact"] == "anc"


def test_a_bug_is_an_internal_error_record(g: interpreter.Guideline, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(interpreter.Guideline, "evaluate", broken)
    rec = evaluate_line(g, _line(id="p1", facts={}), 2, RowOptions(at=AT))
    assert rec["error"]["kind"] == "internal" and rec["error"]["code"] == "internal-error"
    assert "boom" in rec["error"]["message"]
    t = Tally()
    t.add(rec)
    assert (t.errors, t.internal) == (1, 1)


def test_fields_rows_match_lines(g: interpreter.Guideline) -> None:
    options = RowOptions(at=AT)
    a = evaluate_fields(g, "p1", json.dumps(FACTS), "2026-11-24T10:00:00Z", None, 4, options)
    b = evaluate_line(g, _line(id="p1", as_of="2026-11-24T10:00:00Z", facts=FACTS), 4, options)
    assert a == b
    ts = evaluate_fields(g, "p1", json.dumps(FACTS), datetime(2026, 11, 24, 10, tzinfo=UTC), None, 4, options)
    assert ts == b
    assert evaluate_fields(g, "p1", None, None, None, 1, options)["error"]["code"] == "batch-row-invalid"
    assert evaluate_fields(g, None, "{}", None, None, 1, options)["error"]["code"] == "batch-row-invalid"


def test_tally_counts_and_merges(g: interpreter.Guideline) -> None:
    a, b = Tally(), Tally()
    a.add(evaluate_line(g, _line(id="p1", facts=FACTS), 1, RowOptions(at=AT)))
    b.add(evaluate_line(g, _line(id="p2", facts={}), 2, RowOptions(at=AT)))
    b.add(evaluate_line(g, b"nope", 3, RowOptions(at=AT)))
    a.merge(b)
    assert (a.rows, a.complete + a.incomplete, a.errors) == (3, 2, 1)
    assert a.error_codes == {"fact-malformed": 1}
    assert a.needed_facts["anc"] == 1 and a.recommendations
