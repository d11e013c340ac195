"""The fact checker: behaviour not covered by the conformance corpus (tests/conformance/facts.yaml)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from interpreter.errors import FactsError, Location
from interpreter.expressions import UNKNOWN
from interpreter.facts import CheckedFacts, FactChecker, FactStatus, parse_facts_json
from interpreter.model import Input

L = Location("g.yaml", 1, 1)
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
INPUTS = {
    "anc": Input(
        "anc",
        "quantity",
        "ANC",
        L,
        ("inputs", "anc"),
        unit="10*9/L",
        accepted_units=("/uL",),
        plausible_min=Decimal(0),
        plausible_max=Decimal(100),
        max_age=timedelta(hours=48),
        max_age_text="PT48H",
    ),
    "weight": Input(
        "weight",
        "quantity",
        "weight",
        L,
        ("inputs", "weight"),
        unit="kg",
        accepted_units=("[lb_av]",),
        plausible_min=Decimal("0.3"),
        plausible_max=Decimal(400),
    ),
    "age": Input(
        "age", "number", "age", L, ("inputs", "age"), plausible_min=Decimal(0), plausible_max=Decimal(120)
    ),
    "febrile": Input("febrile", "boolean", "fever", L, ("inputs", "febrile")),
    "cause": Input("cause", "code", "cause", L, ("inputs", "cause"), values=("chemotherapy", "drug")),
    "chemo_end": Input("chemo_end", "datetime", "end", L, ("inputs", "chemo_end")),
    "series": Input(
        "series",
        "series",
        "ANC series",
        L,
        ("inputs", "series"),
        unit="10*9/L",
        accepted_units=("/uL",),
        plausible_min=Decimal(0),
        plausible_max=Decimal(100),
    ),
}
CHECKER = FactChecker(INPUTS)


def test_every_declared_input_has_a_value_or_unknown() -> None:
    checked = CHECKER.check({"age": 54}, AS_OF)
    assert isinstance(checked, CheckedFacts)
    assert set(checked.values) == set(INPUTS)
    assert checked.values["age"] == Decimal(54)
    assert all(checked.values[n] is UNKNOWN for n in INPUTS if n != "age")
    assert checked.unknown["anc"] == FactStatus("missing", "not given")
    assert "age" not in checked.unknown


def test_checked_facts_are_read_only() -> None:
    checked = CHECKER.check({"age": 54}, AS_OF)
    with pytest.raises(TypeError):
        checked.values["age"] = Decimal(1)  # type: ignore[index]
    with pytest.raises(TypeError):
        checked.unknown["age"] = FactStatus("missing", "x")  # type: ignore[index]


def test_shown_is_json_and_names_what_was_given() -> None:
    checked = CHECKER.check(
        {
            "anc": {"value": 820, "unit": "/uL", "at": "2026-11-24T08:00:00+01:00"},
            "weight": {"value": Decimal("154"), "unit": "[lb_av]"},
            "age": 54,
            "febrile": True,
            "chemo_end": "2026-11-20T10:00:00Z",
            "series": [
                {"value": 1, "unit": "10*9/L", "at": "2026-11-23T08:00:00Z"},
                {"value": 500, "unit": "/uL", "at": "2026-11-22T08:00:00Z"},
            ],
        },
        AS_OF,
    )
    shown = json.loads(json.dumps(dict(checked.shown)))
    assert shown["anc"] == {
        "value": "0.82",
        "unit": "10*9/L",
        "given": "820 /uL",
        "at": "2026-11-24T08:00:00+01:00",
    }
    assert shown["weight"] == {"value": "69.85322498", "unit": "kg", "given": "154 [lb_av]"}
    assert shown["age"] == {"value": "54"}
    assert shown["febrile"] == {"value": True}
    assert shown["chemo_end"] == {"value": "2026-11-20T10:00:00Z"}
    assert shown["series"] == {
        "unit": "10*9/L",
        "value": [
            {"value": "0.5", "at": "2026-11-22T08:00:00Z", "given": "500 /uL"},
            {"value": "1", "at": "2026-11-23T08:00:00Z"},
        ],
    }
    assert "cause" not in shown


def test_series_are_sorted_oldest_first() -> None:
    checked = CHECKER.check(
        {
            "series": [
                {"value": 1, "unit": "10*9/L", "at": "2026-11-23T08:00:00Z"},
                {"value": 2, "unit": "10*9/L", "at": "2026-11-21T08:00:00Z"},
            ]
        },
        AS_OF,
    )
    series = checked.values["series"]
    assert isinstance(series, tuple)
    assert [v for _, v in series] == [Decimal(2), Decimal(1)]


def test_stale_value_is_shown_and_explained() -> None:
    checked = CHECKER.check({"anc": {"value": 1, "unit": "10*9/L", "at": "2026-11-20T08:00:00Z"}}, AS_OF)
    assert checked.values["anc"] is UNKNOWN
    status = checked.unknown["anc"]
    assert status.reason == "stale"
    assert status.detail == "measured 2026-11-20T08:00:00Z, older than PT48H at 2026-11-24T09:00:00Z"
    assert checked.shown["anc"]["unknown"] == "stale"


def test_all_bad_facts_in_one_error_with_file_and_path() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check(
            {"anc": {"value": 400, "unit": "10*9/L"}, "age": "54", "cause": "drugs"},
            AS_OF,
            file="patient.json",
        )
    diags = info.value.diagnostics
    assert [(d.code, d.path) for d in diags] == [
        ("fact-wrong-type", ("age",)),
        ("fact-implausible", ("anc",)),
        ("fact-unknown-code", ("cause",)),
    ] or sorted((d.code, d.path) for d in diags) == sorted(
        [("fact-wrong-type", ("age",)), ("fact-implausible", ("anc",)), ("fact-unknown-code", ("cause",))]
    )
    assert all(d.location == Location("patient.json") for d in diags)
    by_code = {d.code: d for d in diags}
    assert by_code["fact-implausible"].message == (
        "fact 'anc': 400 10*9/L is outside the plausible range 0 to 100 10*9/L"
    )
    assert by_code["fact-unknown-code"].hint == "did you mean 'drug'?"
    assert by_code["fact-wrong-type"].message == "fact 'age': the text \"54\" is not a number"


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CHECKER.check({}, datetime(2026, 11, 24, 9))


def test_floats_are_read_through_their_shortest_repr() -> None:
    checked = CHECKER.check({"age": 0.1, "weight": {"value": 70.3, "unit": "kg"}}, AS_OF)
    assert checked.values["age"] == Decimal("0.1")
    assert checked.values["weight"] == Decimal("70.3")


def test_zero_is_a_value() -> None:
    checked = CHECKER.check(
        {"age": 0, "anc": {"value": 0.0, "unit": "/uL", "at": "2026-11-24T08:00:00Z"}}, AS_OF
    )
    assert checked.values["age"] == 0 and checked.values["age"] is not UNKNOWN
    assert checked.values["anc"] == 0
    assert "age" not in checked.unknown and "anc" not in checked.unknown


def test_unrecognized_facts_with_suggestions() -> None:
    checked = CHECKER.check({"agee": 1, "febril": True, "totally_else": 3}, AS_OF)
    assert checked.unrecognized == (("agee", "age"), ("febril", "febrile"), ("totally_else", None))


def test_a_unit_that_is_not_text() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({"anc": {"value": 1, "unit": 5}}, AS_OF)
    assert info.value.diagnostics[0].code == "fact-unknown-unit"


def test_a_huge_string_is_refused_quickly() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check(
            {"chemo_end": "2026-11-20T10:00:00Z" + "x" * 10_000_000, "cause": "y" * 10_000_000}, AS_OF
        )
    codes = sorted(d.code for d in info.value.diagnostics)
    assert codes == ["fact-bad-time", "fact-unknown-code"]
    assert all(len(d.message) < 400 for d in info.value.diagnostics)


def test_odd_host_values_are_described_briefly() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({"cause": 10**5000, "febrile": [1] * 100_000, "age": object()}, AS_OF)
    messages = {d.path[0]: d.message for d in info.value.diagnostics}
    assert (
        messages["cause"]
        == "fact 'cause': a very large integer is not one of the quoted values chemotherapy, drug"
    )
    assert messages["febrile"] == "fact 'febrile': a list of 100000 item(s) is not true or false"
    assert messages["age"] == "fact 'age': a value of type object is not a number"


def test_parse_facts_json_reads_numbers_exactly() -> None:
    data = parse_facts_json('{"a": 0.1, "b": 10, "c": 1e-3, "d": [1.50]}')
    assert data == {"a": Decimal("0.1"), "b": 10, "c": Decimal("0.001"), "d": [Decimal("1.50")]}
    assert type(data) is dict and type(data["d"]) is list


def test_parse_facts_json_locates_syntax_errors() -> None:
    with pytest.raises(FactsError) as info:
        parse_facts_json('{\n  "a": 1,\n  "b": }', file="p.json")
    (d,) = info.value.diagnostics
    assert (d.code, d.location) == ("fact-malformed", Location("p.json", 3, 8))


def test_parse_facts_json_reports_every_problem() -> None:
    with pytest.raises(FactsError) as info:
        parse_facts_json('{"a": NaN, "b": {"x": 1, "x": 2}, "c": [Infinity, 1e999], "a": 1}')
    got = sorted((d.code, d.path) for d in info.value.diagnostics)
    assert got == sorted(
        [
            ("fact-not-finite", ("a",)),
            ("fact-duplicate-key", ("b", "x")),
            ("fact-not-finite", ("c", 0)),
            ("fact-not-finite", ("c", 1)),
            ("fact-duplicate-key", ("a",)),
        ]
    )


def test_parse_facts_json_bytes_and_bad_encoding() -> None:
    assert parse_facts_json(b'{"a": 1}') == {"a": 1}
    with pytest.raises(FactsError) as info:
        parse_facts_json(b'{"a": "\xff"}')
    assert info.value.diagnostics[0].code == "fact-malformed"


def test_parse_facts_json_deep_nesting_is_malformed() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a": ' + "[" * 50 + "]" * 50 + "}"):
        with pytest.raises(FactsError) as info:
            parse_facts_json(text)
        assert info.value.diagnostics[0].code == "fact-malformed"


def test_parse_facts_json_huge_integer_is_not_finite() -> None:
    with pytest.raises(FactsError) as info:
        parse_facts_json('{"a": ' + "9" * 5000 + "}")
    assert info.value.diagnostics[0].code == "fact-not-finite"


def test_check_from_many_threads() -> None:
    facts = [
        {"anc": {"value": 400 + i, "unit": "/uL", "at": "2026-11-24T08:00:00Z"}, "age": i % 100}
        for i in range(200)
    ]
    expected = [CHECKER.check(f, AS_OF).values for f in facts]
    errors: list[int] = []

    def worker() -> None:
        for i, f in enumerate(facts):
            if CHECKER.check(f, AS_OF).values != expected[i]:
                errors.append(i)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
