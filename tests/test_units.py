"""UCUM units: validation, dimensions and exact Decimal conversion factors."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from helpers import run_in_threads

from interpreter.values import units
from interpreter.values.units import UnitError, check_unit, conversion_factor, same_dimension

REQUIRED = [
    "10*9/L",
    "10^9/L",
    "/uL",
    "/mm3",
    "10*3/uL",
    "{cells}/uL",
    "/L",
    "kg",
    "g",
    "[lb_av]",
    "cm",
    "m",
    "[in_i]",
    "m2",
    "a",
    "d",
    "h",
    "ug",
    "mg",
    "mL",
    "ug/kg",
    "ug/m2",
]


@pytest.mark.parametrize("code", REQUIRED)
def test_required_units_are_known(code: str) -> None:
    check_unit(code)
    assert conversion_factor(code, code) == 1


def test_820_per_ul_is_exactly_0_82_giga_per_litre() -> None:
    factor = conversion_factor("/uL", "10*9/L")
    assert factor == Decimal("0.001")
    assert isinstance(factor, Decimal)
    assert Decimal(820) * factor == Decimal("0.82")
    assert conversion_factor("/mm3", "10*9/L") == Decimal("0.001")
    assert conversion_factor("{cells}/uL", "10*9/L") == Decimal("0.001")
    assert conversion_factor("10*9/L", "/uL") == Decimal(1000)


def test_pound_is_exactly_0_45359237_kg() -> None:
    assert conversion_factor("[lb_av]", "kg") == Decimal("0.45359237")
    assert str(conversion_factor("[lb_av]", "kg")) == "0.45359237"  # not 0.45359237000000001 (pint's float)


@pytest.mark.parametrize(
    ("a", "b", "factor"),
    [
        ("10^9/L", "10*9/L", "1"),
        ("10*3/uL", "10*9/L", "1"),
        ("/L", "10*9/L", "1E-9"),
        ("g", "kg", "0.001"),
        ("[in_i]", "cm", "2.54"),
        ("m", "cm", "100"),
        ("a", "d", "365.25"),
        ("d", "h", "24"),
        ("ug", "mg", "0.001"),
        ("mL", "L", "0.001"),
        ("ug/kg", "mg/kg", "0.001"),
        ("ug/m2", "mg/m2", "0.001"),
        ("m2", "cm2", "10000"),
    ],
)
def test_exact_factors(a: str, b: str, factor: str) -> None:
    assert conversion_factor(a, b) == Decimal(factor)


def test_kg_and_cell_count_are_incompatible() -> None:
    assert not same_dimension("kg", "10*9/L")
    with pytest.raises(UnitError) as info:
        conversion_factor("kg", "10*9/L")
    assert info.value.code == "unit-incompatible"
    assert "'kg'" in info.value.message and "'10*9/L'" in info.value.message


def test_furlongs_is_unknown() -> None:
    with pytest.raises(UnitError) as info:
        check_unit("furlongs")
    assert info.value.code == "unit-unknown"
    assert "furlongs" in str(info.value)


@pytest.mark.parametrize("code", ["", " kg", "kg ", "k g", "кг", "x" * 65, "10*9/", "((kg"])
def test_malformed_codes_are_unknown(code: str) -> None:
    with pytest.raises(UnitError) as info:
        check_unit(code)
    assert info.value.code == "unit-unknown"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "x" * 5000,
            "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a UCUM unit code (1 to 64 characters, "
            "not 5000)",
        ),
        (
            "10*9/L/" + "x" * 50,
            "'10*9/L/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a UCUM unit (unexpected character 'x'",
        ),
        ("\u202e" * 3000, "is not a UCUM unit code (1 to 64 characters, not 3000)"),
        (5, "5 is not a UCUM unit code (not text)"),
    ],
)
def test_unknown_codes_are_echoed_briefly(code: str, message: str) -> None:
    with pytest.raises(UnitError) as info:
        check_unit(code)
    assert info.value.code == "unit-unknown"
    assert message in info.value.message
    assert len(info.value.message) < 140, info.value.message


def test_offset_units_between_each_other_are_not_multiplicative() -> None:
    for a, b in (("[degF]", "Cel"), ("Cel", "[degF]"), ("K", "Cel")):
        with pytest.raises(UnitError) as info:
            units.exact_ratio(a, b)
        assert info.value.code == "unit-not-multiplicative"
        assert (
            info.value.message == f"'{a}' to '{b}' is not a conversion by a factor (an offset or log scale)"
        )


def test_non_terminating_factor_is_refused_but_exact_ratio_is_given() -> None:
    with pytest.raises(UnitError) as info:
        conversion_factor("kg", "[lb_av]")
    assert info.value.code == "unit-inexact"
    assert units.exact_ratio("kg", "[lb_av]") == Fraction(100000000, 45359237)
    assert units.exact_decimal(units.exact_ratio("kg", "[lb_av]")) is None
    assert units.exact_decimal(units.exact_ratio("[lb_av]", "kg")) == Decimal("0.45359237")


def test_offset_units_are_not_converted_by_a_factor() -> None:
    with pytest.raises(UnitError) as info:
        conversion_factor("Cel", "K")
    assert info.value.code == "unit-not-multiplicative"


def test_arbitrary_units_do_not_convert_to_plain_numbers() -> None:
    assert not same_dimension("[iU]", "1")
    assert same_dimension("[iU]/kg", "[iU]/g")
    assert conversion_factor("[iU]/kg", "[iU]/g") == Decimal("0.001")


def test_same_dimension() -> None:
    assert same_dimension("/uL", "10*9/L")
    assert same_dimension("[lb_av]", "kg")
    assert not same_dimension("m", "m2")


def test_dimension_text() -> None:
    assert units.dimension("kg") == "a mass [mass]"
    assert units.dimension("10*9/L") == "a count per volume [length]**-3"
    assert units.dimension("ug/kg") == "a ratio (dimensionless)"
    assert units.dimension("mg/dL") == "a mass concentration [length]**-3 * [mass]"


def test_factors_from_many_threads_agree() -> None:
    pairs = [("/uL", "10*9/L"), ("[lb_av]", "kg"), ("[in_i]", "cm"), ("ug/m2", "mg/m2"), ("a", "h")]
    expected = {p: conversion_factor(*p) for p in pairs}
    units.exact_ratio.cache_clear()
    conversion_factor.cache_clear()

    def worker(_: int) -> list[str]:
        return [str(p) for p in pairs * 20 if conversion_factor(*p) != expected[p]]

    assert run_in_threads(worker) == [[]] * 8


def test_the_unit_table_agrees_with_the_ucum_library() -> None:
    """interpreter/values/_unit_table.py (tools/gen_unit_table.py) must be what the library computes."""
    from interpreter.values._unit_table import UNIT_TABLE

    codes = list(UNIT_TABLE)
    for code in codes:
        lib = units._parse_with_library(code)
        dims, arbitrary, _ = UNIT_TABLE[code]
        assert (lib.dimensionality, lib.arbitrary) == (dims, arbitrary), code
    for a in codes:
        for b in codes:
            if units.same_dimension(a, b) and a != b:
                assert units.exact_ratio(a, b) == units._library_ratio(a, b), (a, b)


def test_units_outside_the_table_still_convert_through_the_library() -> None:
    from interpreter.values._unit_table import UNIT_TABLE

    assert "[gr]" not in UNIT_TABLE and "ug" in UNIT_TABLE
    assert units.conversion_factor("[gr]", "ug") == Decimal("64798.91")
    with pytest.raises(UnitError) as info:
        units.conversion_factor("mg", "[gr]")  # 1/64.79891 has no finite decimal expansion
    assert info.value.code == "unit-inexact"


def test_factors_are_exact_whatever_the_thread_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 4
        assert units.exact_decimal(Fraction(45359237, 100000000)) == Decimal("0.45359237")
        assert units.exact_decimal(Fraction(2**70, 10**30)) == Decimal("1180591620717411303424E-30")
        assert units.exact_decimal(Fraction(123456789012345678901234567890123, 10**40)) == Decimal(
            "0.0000000123456789012345678901234567890123"
        )
