"""The fact checker: behaviour not covered by the conformance corpus (tests/conformance/facts.yaml)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
from helpers import make_input, run_in_threads

from interpreter.errors import EvaluationError, FactsError, Location
from interpreter.facts.checker import CheckedFacts, FactChecker, FactStatus
from interpreter.facts.json import parse_facts_json
from interpreter.lang.compile import compile_expression
from interpreter.values.types import BOOLEAN, ValueType
from interpreter.values.unknown import UNKNOWN

L = Location("g.yaml", 1, 1)
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
INPUTS = {
    "anc": make_input("anc", "quantity", "ANC", unit="10*9/L", accepted_units=("/uL",), plausible=(0, 100),
                      max_age="PT48H"),
    "weight": make_input("weight", "quantity", unit="kg", accepted_units=("[lb_av]",),
                         plausible=("0.3", 400)),
    "age": make_input("age", "number", plausible=(0, 120)),
    "febrile": make_input("febrile", "boolean", "fever"),
    "cause": make_input("cause", "code", values=("chemotherapy", "drug")),
    "chemo_end": make_input("chemo_end", "datetime", "end"),
    "series": make_input("series", "series", "ANC series", unit="10*9/L", accepted_units=("/uL",),
                         plausible=(0, 100)),
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
        "at": "2026-11-24T07:00:00Z",  # in the evaluation's calendar (the offset of the as-of time)
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
    with pytest.raises(EvaluationError) as info:
        CHECKER.check({}, datetime(2026, 11, 24, 9))
    assert info.value.code == "eval-bad-time"
    assert info.value.message == "the as-of time must be a timezone-aware datetime, not a naive datetime"


@pytest.mark.parametrize(
    ("as_of", "what"),
    [("2026-11-24T09:00:00Z", "str"), (None, "NoneType"), (date(2026, 11, 24), "date"), (1.5e9, "float")],
)
def test_as_of_that_is_not_a_datetime_is_refused(as_of: object, what: str) -> None:
    with pytest.raises(EvaluationError) as info:
        CHECKER.check({}, as_of)  # type: ignore[arg-type]
    assert info.value.code == "eval-bad-time"
    assert info.value.message == f"the as-of time must be a timezone-aware datetime, not {what}"


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
    assert info.value.diagnostics[0].code == "fact-encoding"


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

    def worker(_: int) -> list[int]:
        return [i for i, f in enumerate(facts) if CHECKER.check(f, AS_OF).values != expected[i]]

    assert run_in_threads(worker) == [[]] * 8


# -- time zones: every datetime a fact carries is normalized to a fixed offset ---------------------------

NY = ZoneInfo("America/New_York")
DST_INPUTS = {
    "anc": make_input("anc", "quantity", "ANC", unit="10*9/L", plausible=(0, 100), max_age="PT72H"),
    "chemo_end": INPUTS["chemo_end"],
    "series": INPUTS["series"],
}
DST_CHECKER = FactChecker(DST_INPUTS)


def test_max_age_is_by_instant_across_a_dst_change_with_zoneinfo() -> None:
    # 29 Oct 03:30 EDT (-04:00) to 1 Nov 03:00 EST (-05:00) is 72.5 h, though the wall clocks differ by 71.5 h
    as_of = datetime(2026, 11, 1, 3, 0, tzinfo=NY)
    at = datetime(2026, 10, 29, 3, 30, tzinfo=NY)
    checked = DST_CHECKER.check({"anc": {"value": 1, "unit": "10*9/L", "at": at}}, as_of)
    assert checked.values["anc"] is UNKNOWN
    assert checked.unknown["anc"].reason == "stale"
    assert checked.unknown["anc"].detail == (
        "measured 2026-10-29T03:30:00-04:00, older than PT72H at 2026-11-01T03:00:00-05:00"
    )
    # 71.5 h by instant is fresh, though the wall clocks differ by 72.5 h
    fresh = datetime(2026, 10, 29, 4, 30, tzinfo=NY)
    checked = DST_CHECKER.check({"anc": {"value": 1, "unit": "10*9/L", "at": fresh}}, as_of)
    assert checked.values["anc"] == Decimal(1)


def test_every_fact_datetime_has_a_fixed_offset_in_the_calendar_of_a_zoneinfo_as_of() -> None:
    as_of = datetime(2026, 11, 1, 3, 0, tzinfo=NY)
    checked = DST_CHECKER.check(
        {
            "anc": {"value": 1, "unit": "10*9/L", "at": datetime(2026, 10, 31, 23, 0, tzinfo=NY)},
            "chemo_end": datetime(2026, 10, 29, 3, 30, tzinfo=NY),
            "series": [
                {"value": 1, "unit": "10*9/L", "at": datetime(2026, 10, 30, 8, tzinfo=NY)},
                {"value": 2, "unit": "10*9/L", "at": "2026-10-31T08:00:00+01:00"},
            ],
        },
        as_of,
    )
    chemo_end = checked.values["chemo_end"]
    assert isinstance(chemo_end, datetime) and type(chemo_end) is datetime
    assert chemo_end.tzinfo == timezone(timedelta(hours=-4))
    assert chemo_end == datetime(2026, 10, 29, 7, 30, tzinfo=UTC)
    series = checked.values["series"]
    assert isinstance(series, tuple)
    # 31 Oct 08:00+01:00 is 03:00 in New York (EDT): every time is read in the as-of time's zone
    assert [t.tzinfo for t, _ in series] == [timezone(timedelta(hours=-4)), timezone(timedelta(hours=-4))]
    assert series[1][0] == datetime(2026, 10, 31, 7, tzinfo=UTC)
    assert checked.shown["anc"]["at"] == "2026-10-31T23:00:00-04:00"
    assert checked.shown["chemo_end"] == {"value": "2026-10-29T03:30:00-04:00"}


def test_hours_since_a_zoneinfo_value_across_a_dst_change() -> None:
    as_of = datetime(2026, 11, 1, 3, 0, tzinfo=NY)
    checked = DST_CHECKER.check({"chemo_end": datetime(2026, 10, 29, 3, 30, tzinfo=NY)}, as_of)
    compiled, diags = compile_expression(
        "hours_since(chemo_end)",
        {"chemo_end": ValueType("datetime")},
        location=L,
        expect=ValueType("quantity", "h"),
    )
    assert compiled is not None, diags
    assert compiled.evaluate(checked.values, as_of) == Decimal("72.5")


def test_series_order_is_by_instant_in_the_repeated_hour() -> None:
    # 1 Nov 01:30 happens twice in New York: first EDT (fold=0), then EST (fold=1)
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NY)
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)
    as_of = datetime(2026, 11, 1, 3, 0, tzinfo=NY)
    checked = DST_CHECKER.check(
        {
            "series": [
                {"value": 2, "unit": "10*9/L", "at": second},
                {"value": 1, "unit": "10*9/L", "at": first},
            ]
        },
        as_of,
    )
    series = checked.values["series"]
    assert isinstance(series, tuple)
    assert [v for _, v in series] == [Decimal(1), Decimal(2)]
    assert [t.utcoffset() for t, _ in series] == [timedelta(hours=-4), timedelta(hours=-5)]


def test_a_measurement_after_a_zoneinfo_as_of_is_in_the_future() -> None:
    as_of = datetime(2026, 11, 1, 1, 30, tzinfo=NY)  # EDT, 05:30Z
    later = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NY)  # EST, 06:10Z: earlier wall clock, later instant
    with pytest.raises(FactsError) as info:
        DST_CHECKER.check({"anc": {"value": 1, "unit": "10*9/L", "at": later}}, as_of)
    assert [(d.code, d.path) for d in info.value.diagnostics] == [("fact-future", ("anc", "at"))]


# -- series: two results at one instant ------------------------------------------------------------------


def test_latest_never_depends_on_the_order_of_duplicates() -> None:
    compiled, _ = compile_expression(
        "latest(series) > 0.6", {"series": ValueType("series", "10*9/L")}, location=L, expect=BOOLEAN
    )
    assert compiled is not None
    a = {"value": 0.5, "unit": "10*9/L", "at": "2026-11-23T08:00:00Z"}
    b = {"value": 0.7, "unit": "10*9/L", "at": "2026-11-23T09:00:00+01:00"}
    for items in ([a, b], [b, a]):
        with pytest.raises(FactsError) as info:
            CHECKER.check({"series": items}, AS_OF)
        (d,) = info.value.diagnostics
        assert d.code == "fact-malformed"
        assert "two results at" in d.message and "with different values" in d.message
    same = {"value": 500, "unit": "/uL", "at": "2026-11-23T08:00:00Z"}
    checked = CHECKER.check({"series": [same, {**a}]}, AS_OF)
    series = checked.values["series"]
    assert isinstance(series, tuple) and len(series) == 1
    assert compiled.evaluate(checked.values, AS_OF) is False


# -- numbers: precision, magnitude, short messages -------------------------------------------------------


def test_a_value_too_precise_for_any_measurement_is_refused_in_every_unit() -> None:
    nines = "499." + "9" * 130
    for value, unit in ((Decimal(nines), "/uL"), (Decimal(nines) / 1000, "10*9/L")):
        with pytest.raises(FactsError) as info:
            CHECKER.check({"anc": {"value": value, "unit": unit, "at": "2026-11-24T08:00:00Z"}}, AS_OF)
        (d,) = info.value.diagnostics
        assert d.code == "fact-too-precise"
        assert "no measurement has that precision" in d.message
        assert len(d.message) < 160, d.message


def test_large_integers_are_refused_before_conversion_with_a_short_message() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({"weight": {"value": 10**16, "unit": "[lb_av]"}, "age": -(10**200)}, AS_OF)
    got = {d.path[0]: d for d in info.value.diagnostics}
    assert got["weight"].code == "fact-implausible"
    assert (
        got["weight"].message
        == "fact 'weight': 10000000000000000 is beyond 1e15 in magnitude; not a measurement"
    )
    assert got["age"].code == "fact-implausible"
    assert len(got["age"].message) < 100, got["age"].message
    assert CHECKER.check({"weight": {"value": 10**15 // 10**13, "unit": "kg"}}, AS_OF).values["weight"] == 100


@pytest.mark.parametrize(
    "raw",
    [1e308, 10**5000, -(10**299), Decimal("-1e-299"), Decimal("9" * 5000), "1" * 5000, {"x" * 5000: 1}],
    ids=["float-1e308", "int-5000-digits", "int-300-digits", "tiny", "decimal-5000-digits", "text", "key"],
)
def test_echoed_values_are_at_most_about_40_characters(raw: object) -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({"age": raw}, AS_OF)
    (d,) = info.value.diagnostics
    assert len(d.message) < len("fact 'age': ") + 120, d.message


def test_parse_facts_json_echoes_huge_numbers_briefly() -> None:
    with pytest.raises(FactsError) as info:
        parse_facts_json('{"age": ' + "9" * 5000 + ', "' + "k" * 5000 + '": 1e400}')
    assert all(len(d.message) < 150 for d in info.value.diagnostics), [
        d.message for d in info.value.diagnostics
    ]


# -- datetime inputs in the past or the future ------------------------------------------------------------

TIME_CHECKER = FactChecker(
    {
        "chemo_end": make_input("chemo_end", "datetime", "end", time="past"),
        "next_dose": make_input("next_dose", "datetime", "next", time="future"),
        "any_time": make_input("any_time", "datetime", "any"),
    }
)


def test_a_past_time_after_the_as_of_time_is_implausible() -> None:
    with pytest.raises(FactsError) as info:
        TIME_CHECKER.check({"chemo_end": "2026-11-24T10:00:01+01:00"}, AS_OF)
    (d,) = info.value.diagnostics
    assert (d.code, d.path) == ("fact-implausible", ("chemo_end",))
    assert d.message == (
        "fact 'chemo_end': 2026-11-24T09:00:01Z is after the as-of time 2026-11-24T09:00:00Z; "
        "it must be a past time"
    )


def test_a_future_time_before_the_as_of_time_is_implausible() -> None:
    with pytest.raises(FactsError) as info:
        TIME_CHECKER.check({"next_dose": "2026-11-24T08:59:59Z", "chemo_end": "2026-11-25T00:00:00Z"}, AS_OF)
    got = {d.path[0]: d for d in info.value.diagnostics}
    assert got["next_dose"].code == "fact-implausible"
    assert got["next_dose"].message == (
        "fact 'next_dose': 2026-11-24T08:59:59Z is before the as-of time 2026-11-24T09:00:00Z; "
        "it must be a future time"
    )
    assert got["chemo_end"].code == "fact-implausible"
    assert got["chemo_end"].message == (
        "fact 'chemo_end': 2026-11-25T00:00:00Z is after the as-of time 2026-11-24T09:00:00Z; "
        "it must be a past time"
    )


def test_past_and_future_times_at_or_on_the_right_side_of_the_as_of_time_are_accepted() -> None:
    checked = TIME_CHECKER.check(
        {
            "chemo_end": "2026-11-24T10:00:00+01:00",  # the as-of instant itself
            "next_dose": {"value": "2026-11-24T09:00:00Z"},
            "any_time": "2030-01-01T00:00:00Z",
        },
        AS_OF,
    )
    assert checked.values["chemo_end"] == AS_OF
    assert checked.values["next_dose"] == AS_OF
    checked = TIME_CHECKER.check(
        {"chemo_end": "2026-11-20T00:00:00Z", "next_dose": "2026-11-30T00:00:00Z"}, AS_OF
    )
    assert checked.unknown == {"any_time": FactStatus("missing", "not given")}


def test_past_time_across_a_dst_change_is_by_instant() -> None:
    as_of = datetime(2026, 11, 1, 1, 30, tzinfo=NY)  # EDT, 05:30Z
    later = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NY)  # EST, 06:10Z
    with pytest.raises(FactsError) as info:
        TIME_CHECKER.check({"chemo_end": later}, as_of)
    assert info.value.diagnostics[0].message == (
        "fact 'chemo_end': 2026-11-01T01:10:00-05:00 is after the as-of time 2026-11-01T01:30:00-04:00; "
        "it must be a past time"
    )


def test_shown_values_are_exact_whatever_the_thread_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 4
        checked = CHECKER.check({"weight": {"value": 154, "unit": "[lb_av]"}}, AS_OF)
        assert checked.shown["weight"]["value"] == "69.85322498"  # shown is formatted when read


def test_an_absurdly_precise_value_is_echoed_cut_never_rounded() -> None:
    with pytest.raises(FactsError) as info:
        CHECKER.check({"age": Decimal("119." + "9" * 130)}, AS_OF)
    (d,) = info.value.diagnostics
    assert d.message.startswith("fact 'age': 119.999999999999999999999999999999999... has 133 significant")


def test_the_magnitude_check_is_exact_whatever_the_thread_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 4
        with pytest.raises(FactsError) as info:
            CHECKER.check({"age": Decimal("1000000000000001")}, AS_OF)
    assert info.value.diagnostics[0].message == (
        "fact 'age': 1000000000000001 is beyond 1e15 in magnitude; not a measurement"
    )
