"""Unit tests of the expression compiler beyond the conformance corpus: the UNKNOWN singleton, the
compiled object, locations, thread safety, the generated code's sandbox and the threshold table."""

from __future__ import annotations

import ast
import copy
import pickle
import re
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from decimal import Decimal, getcontext, localcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import run_in_threads

from interpreter.errors import EvaluationError, Location
from interpreter.lang.compile import CompiledExpression, compile_expression
from interpreter.lang.functions.catalog import REGISTRY
from interpreter.lang.parse import DEFAULT_LIMITS, ExpressionLimits
from interpreter.lang.quantities import Threshold
from interpreter.values.numbers import DECIMAL_CONTEXT
from interpreter.values.types import BOOLEAN, NUMBER, ValueType
from interpreter.values.unknown import UNKNOWN, Unknown

ENV = {
    "anc": ValueType("quantity", "10*9/L"),
    "plt": ValueType("quantity", "10*9/L"),
    "weight": ValueType("quantity", "kg"),
    "fever": BOOLEAN,
    "age": NUMBER,
    "severity": ValueType("code", None, frozenset({"mild", "moderate", "severe"})),
    "chemo_end": ValueType("datetime"),
}
LOC = Location("g.yaml", 12, 15)
NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def compile_ok(source: str, expect: ValueType | None = BOOLEAN) -> CompiledExpression:
    compiled, diags = compile_expression(source, ENV, location=LOC, path=("nodes", 0, "when"), expect=expect)
    assert compiled is not None, [d.format() for d in diags]
    assert diags == []
    return compiled


def diagnostics(source: str, expect: ValueType | None = BOOLEAN) -> list[str]:
    compiled, diags = compile_expression(source, ENV, location=LOC, path=("p",), expect=expect)
    assert compiled is None
    return [d.code for d in diags]


# -- UNKNOWN --------------------------------------------------------------------------------------------


def test_unknown_is_a_singleton_with_repr() -> None:
    assert Unknown() is UNKNOWN
    assert repr(UNKNOWN) == "unknown"
    assert str(UNKNOWN) == "unknown"
    assert copy.copy(UNKNOWN) is UNKNOWN
    assert copy.deepcopy(UNKNOWN) is UNKNOWN
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN


def test_unknown_cannot_be_tested_for_truth() -> None:
    with pytest.raises(TypeError, match="no truth value"):
        bool(UNKNOWN)
    with pytest.raises(TypeError):
        if UNKNOWN:
            pass
    with pytest.raises(TypeError):
        _ = UNKNOWN or 1  # Python's `or` on unknown must fail loudly


def test_unknown_is_never_equal() -> None:
    assert UNKNOWN != UNKNOWN
    assert not (UNKNOWN == UNKNOWN)  # noqa: SIM201
    assert UNKNOWN != 0
    assert UNKNOWN != None  # noqa: E711
    assert UNKNOWN != False  # noqa: E712


def test_unknown_has_no_attributes() -> None:
    with pytest.raises(AttributeError):
        UNKNOWN.x = 1  # type: ignore[attr-defined]


# -- the compiled object ----------------------------------------------------------------------------------


def test_compiled_expression_is_frozen_and_exposes_what_it_reads() -> None:
    c = compile_ok("anc < 0.5 and fever or severity == 'severe'")
    assert c.names == frozenset({"anc", "fever", "severity"})
    assert c.type == BOOLEAN
    assert isinstance(c.tree, ast.Expression)
    assert c.source == "anc < 0.5 and fever or severity == 'severe'"
    with pytest.raises(FrozenInstanceError):
        c.source = "x"  # type: ignore[misc]
    assert not c.is_constant


def test_functions_used_are_recorded() -> None:
    c = compile_ok("max(age, 3) > 1 and hours_since(chemo_end) < 24")
    assert c.functions == frozenset({"max", "hours_since"})


def test_constant_expression_is_folded() -> None:
    c = compile_ok("1 < 2 and not false")
    assert c.is_constant
    assert c.constant is True
    assert c.evaluate({}, NOW) is True


def test_thresholds_are_in_the_declared_unit() -> None:
    c = compile_ok("anc < q(820, '/mm3') and 50 <= plt and weight > q(100, '[lb_av]')")
    assert c.thresholds == (
        Threshold("anc", "<", Decimal("0.82"), "10*9/L", 15),
        Threshold("plt", ">=", Decimal("50"), "10*9/L", 15 + 25),
        Threshold("weight", ">", Decimal("45.359237"), "kg", 15 + 39),
    )


def test_a_chain_gives_two_thresholds() -> None:
    c = compile_ok("0.5 <= anc < 1")
    assert [(t.op, t.value) for t in c.thresholds] == [(">=", Decimal("0.5")), ("<", Decimal("1"))]


def test_numbers_are_decimal_from_source_text() -> None:
    c = compile_ok("age * 1.10", expect=NUMBER)
    result = c.evaluate({"age": Decimal("10")}, NOW)
    assert isinstance(result, Decimal)
    assert str(result) == "11.00"


def test_missing_value_in_the_mapping_is_an_evaluation_error() -> None:
    c = compile_ok("anc < 0.5")
    with pytest.raises(EvaluationError) as info:
        c.evaluate({}, NOW)
    assert info.value.code == "expr-missing-value"
    assert info.value.expression == "anc < 0.5"


def test_a_boolean_that_is_not_true_or_false_never_takes_a_branch() -> None:
    class Falsy:
        def __bool__(self) -> bool:
            return False

    weird = Falsy()  # e.g. a numpy bool passed around the fact checker
    assert compile_ok("fever and age > 1").evaluate({"fever": weird, "age": Decimal(2)}, NOW) is UNKNOWN
    assert compile_ok("fever or age > 1").evaluate({"fever": weird, "age": Decimal(0)}, NOW) is UNKNOWN
    assert compile_ok("not fever").evaluate({"fever": weird}, NOW) is UNKNOWN
    assert compile_ok("fever or age > 1").evaluate({"fever": weird, "age": Decimal(2)}, NOW) is True


def test_a_value_of_the_wrong_type_is_an_evaluation_error() -> None:
    c = compile_ok("age + 1 > 2")
    with pytest.raises(EvaluationError) as info:
        c.evaluate({"age": 1.5}, NOW)  # a float bypassing the fact checker
    assert info.value.code == "expr-bad-value"


def test_evaluate_does_not_touch_the_thread_decimal_context() -> None:
    c = compile_ok("age / 3 > 0.3333")
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.traps = {k: False for k in ctx.traps}  # type: ignore[assignment]
        before = (ctx.prec, dict(ctx.traps), dict(ctx.flags))
        assert c.evaluate({"age": Decimal(1)}, NOW) is True  # 28 digits: 0.3333333... > 0.3333
        assert (getcontext().prec, dict(getcontext().traps), dict(getcontext().flags)) == before
    d = compile_ok("age / (age - age) > 1")
    with localcontext() as ctx:
        ctx.traps = {k: False for k in ctx.traps}  # type: ignore[assignment]
        with pytest.raises(EvaluationError) as info:  # our own context traps, whatever the caller's says
            d.evaluate({"age": Decimal(1)}, NOW)
        assert info.value.code == "expr-division-by-zero"


# -- locations --------------------------------------------------------------------------------------------


def test_diagnostic_location_adds_the_column_of_the_part() -> None:
    _, diags = compile_expression("fever and platelets < 50", ENV, location=LOC, path=("nodes", 0, "when"))
    (d,) = diags
    assert (d.code, d.location, d.path) == (
        "expr-unknown-name",
        Location("g.yaml", 12, 25),
        ("nodes", 0, "when"),
    )
    assert d.message == "'platelets' is not a declared input or derived value"
    assert d.hint == "did you mean 'plt'?" or d.hint is None


def test_unknown_column_stays_unknown() -> None:
    _, diags = compile_expression("foo", ENV, location=Location("g.yaml", 3, 0))
    assert diags[0].location == Location("g.yaml", 3, 0)


def test_several_independent_errors_are_all_reported() -> None:
    _, diags = compile_expression("foo < 1 and bar < 2", ENV, location=LOC)
    assert [(d.code, d.location.column) for d in diags] == [
        ("expr-unknown-name", 15),
        ("expr-unknown-name", 27),
    ]


def test_every_disallowed_construct_is_reported_at_its_place() -> None:
    _, diags = compile_expression("anc.x < 1 and [y for y in 'a'] == 1", ENV, location=LOC)
    assert [(d.code, d.location.column) for d in diags] == [
        ("expr-not-allowed", 15),
        ("expr-not-allowed", 29),
    ]


# -- limits -----------------------------------------------------------------------------------------------


def test_limits_are_a_frozen_dataclass() -> None:
    with pytest.raises(FrozenInstanceError):
        DEFAULT_LIMITS.max_depth = 1000  # type: ignore[misc]
    tight = ExpressionLimits(max_length=10)
    _, diags = compile_expression("anc < 0.5 and fever", ENV, location=LOC, limits=tight)
    assert [d.code for d in diags] == ["expr-too-long"]


@pytest.mark.parametrize(
    "source",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "-" * 100_000 + "1",
        "not " * 50_000 + "fever",
        "[" * 100_000,
        "a" * 1_000_000,
        "1" + " + 1" * 10_000,
    ],
)
def test_pathological_text_gives_a_diagnostic_never_an_exception(source: str) -> None:
    codes = diagnostics(source)
    assert codes and set(codes) <= {"expr-too-long", "expr-too-deep", "expr-syntax"}


def test_deep_nesting_within_the_length_limit_is_too_deep() -> None:
    limits = ExpressionLimits(max_length=100_000, max_depth=32, max_nodes=100_000)
    _, diags = compile_expression("-" * 50_000 + "1 < 2", ENV, location=LOC, limits=limits)
    assert [d.code for d in diags] == ["expr-too-deep"]


# -- the generated code -----------------------------------------------------------------------------------


def test_generated_function_has_no_builtins_and_only_our_helpers() -> None:
    c = compile_ok("anc < q(820, '/mm3') and max(age, 2) > 1")
    fn = c._fn
    assert fn.__globals__ == {"__builtins__": {}}
    names = set(fn.__code__.co_freevars)
    assert names <= {"_U", "_f_max"} | {n for n in names if n.startswith(("_k", "_s"))}


def test_names_are_only_read_as_mapping_keys() -> None:
    # a name that is also a Python builtin or a helper name is just a key of the values mapping
    env = {"open": NUMBER, "_U": NUMBER, "v": NUMBER, "now": NUMBER}
    compiled, diags = compile_expression("open + _U + v + now > 3", env, location=LOC, expect=BOOLEAN)
    assert compiled is not None, diags
    values = {"open": Decimal(1), "_U": Decimal(1), "v": Decimal(1), "now": Decimal(1)}
    assert compiled.evaluate(values, NOW) is True


def test_string_literals_are_data() -> None:
    c = compile_ok("severity == 'mild' or severity in ['moderate', 'severe']")
    assert c.evaluate({"severity": "severe"}, NOW) is True
    assert c.evaluate({"severity": "mild"}, NOW) is True


def test_registry_functions_are_documented() -> None:
    for name, fn in REGISTRY.items():
        assert fn.name == name
        assert fn.doc and fn.signature.startswith(name + "(")
        assert 0 < fn.min_args <= fn.max_args
    assert "rand" not in REGISTRY and "is_known" not in REGISTRY and "int" not in REGISTRY


# -- threads ----------------------------------------------------------------------------------------------


def test_one_compiled_expression_from_many_threads() -> None:
    c = compile_ok("(anc < 0.5 and fever) or (0.5 <= anc < 1 and not fever) or severity in ['severe']")
    cases = []
    for i in range(400):
        anc = UNKNOWN if i % 7 == 0 else Decimal(i % 13) / 10
        fever = UNKNOWN if i % 5 == 0 else bool(i % 2)
        severity = UNKNOWN if i % 11 == 0 else ("mild", "moderate", "severe")[i % 3]
        cases.append({"anc": anc, "fever": fever, "severity": severity})
    expected = [c.evaluate(v, NOW) for v in cases]

    def worker(_: int) -> list[str]:
        errors: list[str] = []
        for _ in range(25):
            for v, want in zip(cases, expected, strict=True):
                got = c.evaluate(v, NOW)
                if got is not want:
                    errors.append(f"{v}: {got} != {want}")
        return errors

    assert run_in_threads(worker) == [[]] * 8
    assert {repr(e) for e in expected} == {"True", "False", "unknown"}


def test_compiling_from_many_threads() -> None:

    def worker(i: int) -> object:
        return compile_ok(f"anc < q({800 + i}, '/uL')").evaluate({"anc": Decimal("0.81")}, NOW)

    results = run_in_threads(worker, 20)
    assert sorted(map(str, results)) == ["False"] * 11 + ["True"] * 9


# -- time zones: arithmetic by instant for any aware datetimes --------------------------------------------

NY = ZoneInfo("America/New_York")
TIME_ENV = {
    "t": ValueType("datetime"),
    "hist": ValueType("series", "10*9/L"),
    "temp": ValueType("quantity", "Cel"),
    "temp_hist": ValueType("series", "Cel"),
}


def compile_in(
    source: str, env: dict[str, ValueType], expect: ValueType | None = BOOLEAN
) -> CompiledExpression:
    compiled, diags = compile_expression(source, env, location=LOC, path=("p",), expect=expect)
    assert compiled is not None, [d.format() for d in diags]
    return compiled


#: hours_since / hours_until are quantities in h, days_since in d (docs/language.md, "Calendar time")
HOURS_T = ValueType("quantity", "h")


def test_time_functions_are_by_instant_with_one_zoneinfo_across_dst() -> None:
    # both in America/New_York: Python would subtract them by wall clock (71.5 h instead of 72.5 h)
    now = datetime(2026, 11, 1, 3, 0, tzinfo=NY)
    t = datetime(2026, 10, 29, 3, 30, tzinfo=NY)
    assert compile_in("hours_since(t)", TIME_ENV, HOURS_T).evaluate({"t": t}, now) == Decimal("72.5")
    assert compile_in("hours_until(t)", TIME_ENV, HOURS_T).evaluate({"t": t}, now) == Decimal("-72.5")
    days = compile_in("days_since(t)", TIME_ENV, ValueType("quantity", "d")).evaluate({"t": t}, now)
    assert days == Decimal("72.5") / 24
    assert compile_in("hours_since(t) > 72", TIME_ENV).evaluate({"t": t}, now) is True


def test_count_within_is_by_instant_with_one_zoneinfo_across_dst() -> None:
    now = datetime(2026, 11, 1, 3, 0, tzinfo=NY)  # 08:00Z
    inside = datetime(2026, 10, 29, 4, 30, tzinfo=NY)  # 71.5 h before: inside PT72H
    outside = datetime(2026, 10, 29, 3, 30, tzinfo=NY)  # 72.5 h before: outside, though 71.5 h by wall clock
    c = compile_in("count_within(hist, 'PT72H')", TIME_ENV, NUMBER)
    series = ((outside, Decimal(1)), (inside, Decimal(1)))
    assert c.evaluate({"hist": series}, now) == 1


def test_count_within_a_long_window_near_year_one_does_not_overflow() -> None:
    c = compile_in("count_within(hist, 'P36525D')", TIME_ENV, NUMBER)
    now = datetime(50, 1, 1, tzinfo=UTC)
    assert c.evaluate({"hist": ((datetime(10, 1, 1, tzinfo=UTC), Decimal(1)),)}, now) == 1


def test_day_predicates_read_local_dates_of_zoneinfo_times() -> None:
    # 22 Nov 18:50, 23 Nov 07:00 and 23 Nov 19:10 in New York are three UTC dates but two local days
    series = tuple(
        (datetime(2026, 11, d, h, m, tzinfo=NY), Decimal(v))
        for d, h, m, v in ((22, 18, 50, "1.6"), (23, 7, 0, "1.8"), (23, 19, 10, "2.1"))
    )
    now = datetime(2026, 11, 24, 4, tzinfo=NY)
    values = {"hist": series}
    assert compile_in("consecutive_days_at_or_above(hist, 1.5)", TIME_ENV, NUMBER).evaluate(values, now) == 2
    assert compile_in("at_or_above_on_days(hist, 1.5, 3)", TIME_ENV).evaluate(values, now) is UNKNOWN
    assert compile_in("at_or_above_on_days(hist, 1.5, 2)", TIME_ENV).evaluate(values, now) is True
    assert compile_in("above_on_days(hist, 1.6, 2)", TIME_ENV).evaluate(values, now) is False


def test_day_predicates_are_registered_as_boolean_functions_that_may_be_unknown() -> None:
    for name in ("at_or_above_on_days", "above_on_days"):
        fn = REGISTRY[name]
        assert (fn.min_args, fn.max_args) == (3, 3)
        assert "-> boolean" in fn.signature
    c = compile_in("at_or_above_on_days(hist, 1.5, 3) or above_on_days(hist, 1.5, 1)", TIME_ENV)
    assert c.functions == frozenset({"at_or_above_on_days", "above_on_days"})
    assert c.evaluate({"hist": ()}, NOW) is UNKNOWN


def test_every_function_is_listed_in_the_language_docs() -> None:
    docs = Path(__file__).parent.parent / "docs"
    language = (docs / "language.md").read_text(encoding="utf-8")
    diagnostics = " ".join((docs / "diagnostics.md").read_text(encoding="utf-8").split())
    for name in REGISTRY:
        assert f"`{name}(" in language, name
        summary = diagnostics.split("## Expressions", 1)[1].split("###", 1)[0]
        assert re.search(rf"\b{name}\b", summary), name


# -- durations are checked at load --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "code"),
    [
        ("P999999D", "expr-bad-number"),
        ("P36526D", "expr-bad-number"),
        ("P5218W", "expr-bad-number"),
        ("PT876601H", "expr-bad-number"),
        ("PT99999999999999999999M", "expr-bad-number"),
        ("P1Y", "expr-type"),
        ("P", "expr-type"),
        ("PT", "expr-type"),
        ("P1DT", "expr-type"),
        ("7D", "expr-type"),
    ],
)
def test_bad_windows_are_load_time_diagnostics(window: str, code: str) -> None:
    _, diags = compile_expression(
        f"count_within(hist, '{window}') > 1", TIME_ENV, location=LOC, expect=BOOLEAN
    )
    assert [d.code for d in diags] == [code]
    assert diags[0].location.column == LOC.column + len("count_within(hist, ")


@pytest.mark.parametrize("window", ["P5217W", "P36525D", "PT99999H", "P1W2DT3H4M", "PT0M"])
def test_windows_up_to_100_years_compile(window: str) -> None:
    c = compile_in(f"count_within(hist, '{window}')", TIME_ENV, NUMBER)
    assert c.evaluate({"hist": ()}, NOW) == 0


# -- unit errors are diagnostics -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "temp >= q(100.4, '[degF]')",
        "q(100.4, '[degF]') < temp",
        "temp > q(311, 'K')",
        "temp + q(1, 'K') > 38",
        "temp - q(1, '[degF]') > 38",
        "temp * q(1, 'K') > 38",
        "temp / q(1, 'K') > 38",
        "min(temp, q(100, '[degF]')) > 38",
        "max(q(100, '[degF]'), temp) > 38",
        "consecutive_days_at_or_above(temp_hist, q(100.4, '[degF]')) > 1",
        "above_on_days(temp_hist, q(311, 'K'), 2)",
        "latest(temp_hist) >= q(100.4, '[degF]')",
        "0.5 <= temp < q(100, '[degF]')",
    ],
)
def test_offset_unit_conversions_are_diagnostics_never_raw_errors(source: str) -> None:
    compiled, diags = compile_expression(source, TIME_ENV, location=LOC, path=("p",), expect=BOOLEAN)
    assert compiled is None
    assert diags and all(d.code == "expr-unit-mismatch" for d in diags), [d.format() for d in diags]
    assert all("conversion by a factor" in d.message for d in diags), [d.message for d in diags]
    assert all(d.hint and "never converted" in d.hint for d in diags)


def test_a_derived_result_in_an_offset_unit_is_a_diagnostic() -> None:
    _, diags = compile_expression("temp", TIME_ENV, location=LOC, expect=ValueType("quantity", "[degF]"))
    assert [d.code for d in diags] == ["expr-unit-mismatch"]
    assert diags[0].hint is not None and "write it in '[degF]'" in diags[0].hint


# -- echoed values are short ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "x" * 1500 + " < 1",
        "age < " + "1" * 1500,
        "age < 1" + "0" * 1500 + "e-1500",
        "severity == '" + "s" * 1500 + "'",
        "severity in ['" + "m" * 1500 + "']",
        "f" * 1500 + "(1) > 1",
        "age < q(1, '" + "u" * 1500 + "')",
        "age < 1" + "a" * 1500,
    ],
)
def test_messages_echo_at_most_about_40_characters_of_the_text(source: str) -> None:
    _, diags = compile_expression(source, ENV, location=LOC, path=("p",), expect=BOOLEAN)
    assert diags
    for d in diags:
        assert len(d.message) < 200, d.message
        assert "..." in d.message, d.message


def test_a_long_window_is_echoed_briefly() -> None:
    _, diags = compile_expression(
        "count_within(hist, 'P" + "1" * 1500 + "D') > 1", TIME_ENV, location=LOC, expect=BOOLEAN
    )
    assert [d.code for d in diags] == ["expr-bad-number"]
    assert len(diags[0].message) < 150 and "..." in diags[0].message, diags[0].message


def test_evaluation_errors_echo_briefly() -> None:
    c = compile_ok("age > 1")
    with pytest.raises(EvaluationError) as info:
        c.evaluate({"x" * 5000: 1}, NOW)
    assert len(info.value.message) < 100


def test_time_functions_are_exact_whatever_the_thread_decimal_context() -> None:
    c = compile_in("hours_since(t)", TIME_ENV, HOURS_T)
    t = datetime(2026, 11, 24, 8, 59, 59, 123456, tzinfo=UTC)
    with localcontext() as ctx:
        ctx.prec = 2
        hours = c.evaluate({"t": t}, NOW)
    assert hours == DECIMAL_CONTEXT.divide(Decimal("0.876544"), Decimal(3600))
