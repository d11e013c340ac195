"""A failure of the UCUM unit library (pint + ucumvert) is a located diagnostic, tried once per process.

On Python 3.12+ an unpinned install picked pint 0.26, which refuses ucumvert's definitions: every unit outside
the generated table became an internal error (exit 3), and the failed registry build was retried (about 1 s)
on every call. These tests break the registry builder on purpose.
"""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.compiler.loader import analyze_file
from interpreter.values import units

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
MINIMAL = HERE / "fixtures" / "valid" / "minimal.guideline.yaml"
#: a UCUM unit that is not in the generated table, so only the library can read it
OUTSIDE_TABLE = "[stone_av]"
CODE = "unit-library-failed"


def _clear_caches() -> None:
    for fn in (units._parse, units._parse_with_library, units.exact_ratio, units.conversion_factor):
        fn.cache_clear()


@pytest.fixture
def broken_library(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The registry builder raises (as with pint 0.26); yields the list of build attempts."""
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        raise RuntimeError("Cannot define 'international_unit': the alias i.U. is not a valid unit alias")

    _clear_caches()
    monkeypatch.setattr(units, "_REGISTRY", None)
    monkeypatch.setattr(units, "_REGISTRY_FAILURE", None)
    monkeypatch.setattr(units, "_build_registry", build)
    yield calls
    _clear_caches()  # monkeypatch then restores the real registry and builder


def test_a_failed_build_is_a_unit_library_error_tried_once(broken_library: list[int]) -> None:
    assert OUTSIDE_TABLE not in units.UNIT_TABLE
    for _ in range(5):
        with pytest.raises(units.UnitLibraryError) as info:
            units.check_unit(OUTSIDE_TABLE)
        assert info.value.code == CODE
        assert "could not be loaded" in info.value.message and "RuntimeError" in info.value.message
        assert "pint " in info.value.message  # names the installed versions
    with pytest.raises(units.UnitLibraryError):
        units.conversion_factor(OUTSIDE_TABLE, "kg")
    assert len(broken_library) == 1
    # the generated table does not need the library
    assert units.conversion_factor("[lb_av]", "kg") == units.Decimal("0.45359237")


def test_an_unexpected_exception_of_the_library_is_a_unit_library_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Odd:
        def from_ucum(self, code: str) -> object:
            return object()  # no units, no magnitude: the library misbehaves

        def Quantity(self, *args: object) -> object:
            raise ZeroDivisionError("odd")

    _clear_caches()
    monkeypatch.setattr(units, "_REGISTRY", Odd())
    try:
        with pytest.raises(units.UnitLibraryError) as info:
            units.check_unit(OUTSIDE_TABLE)
        assert info.value.code == CODE and "ZeroDivisionError" in info.value.message
    finally:
        _clear_caches()


def _guideline(tmp_path: pathlib.Path, old: str, new: str) -> pathlib.Path:
    text = MINIMAL.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "g.guideline.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_compiler_reports_it_at_the_units_location(
    broken_library: list[int], tmp_path: pathlib.Path
) -> None:
    path = _guideline(tmp_path, "unit: 10*9/L", f'unit: "{OUTSIDE_TABLE}"')
    diags = [d for d in analyze_file(path).diagnostics if d.is_error]
    assert [(d.code, d.location.line, d.location.column) for d in diags] == [(CODE, 18, 11)]
    assert "'anc'" in diags[0].message
    with pytest.raises(interpreter.GuidelineError) as info:
        interpreter.load(str(path))
    assert [d.code for d in info.value.diagnostics] == [CODE]
    # the command line: a finding in the file (exit 1), never an internal error (exit 3)
    result = CliRunner().invoke(main, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert CODE in result.output and f"{path}:18:11" in result.output
    assert len(broken_library) == 1


def test_an_expression_unit_is_reported_at_the_expression(
    broken_library: list[int], tmp_path: pathlib.Path
) -> None:
    path = _guideline(tmp_path, "when: anc < 0.5", f"when: anc < q(0.5, '{OUTSIDE_TABLE}')")
    diags = [d for d in analyze_file(path).diagnostics if d.is_error]
    assert [d.code for d in diags] == [CODE]
    assert (diags[0].location.line, diags[0].location.column) == (25, 28)


FACTS = {
    "anc": {"value": 0.4, "unit": "10*9/L", "at": "2026-11-24T07:00:00Z"},
    "weight": {"value": 11, "unit": OUTSIDE_TABLE},
}


def test_the_facts_checker_reports_a_fact_error_naming_the_fact(
    broken_library: list[int], tmp_path: pathlib.Path
) -> None:
    g = interpreter.load("leukopenia")  # its units are all in the table: it loads without the library
    with pytest.raises(interpreter.FactsError) as info:
        g.evaluate(FACTS, as_of=datetime(2026, 11, 24, 9, tzinfo=UTC))
    [d] = info.value.diagnostics
    assert d.code == CODE and "fact 'weight'" in d.message and d.path == ("weight", "unit")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["evaluate", "leukopenia", str(facts), "--at", "2026-11-24T09:00:00Z"], catch_exceptions=False
    )
    assert result.exit_code == 2, result.output
    assert CODE in result.output and "weight" in result.output
    assert len(broken_library) == 1


def test_with_a_working_library_the_same_fact_is_an_ordinary_unit_error() -> None:
    g = interpreter.load("leukopenia")
    with pytest.raises(interpreter.FactsError) as info:
        g.evaluate(FACTS, as_of=datetime(2026, 11, 24, 9, tzinfo=UTC))
    assert [d.code for d in info.value.diagnostics] == ["fact-unit-mismatch"]


def test_the_code_is_documented() -> None:
    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert re.search(rf"^### `{CODE}`", text, flags=re.M)
