"""Run-time failures of a guideline for some facts (issue 7, item 2.9).

A division by zero, the square root of a negative number or a dose of zero or less are caused by the
guideline and the facts, not by a bug: they are located errors (``file:line:col: error[code]: message``,
naming the node and the expression) and the CLI exits 2. Exit 3 stays for the codes that mean a bug.
"""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.errors import INTERNAL_EVALUATION_CODES, EvaluationError, Location

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
AT = "2026-11-24T09:00:00Z"
AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
RECENT = "2026-11-24T06:00:00Z"

FACTS = {
    "anc": {"value": 0.7, "unit": "10*9/L", "at": RECENT},
    "febrile": False,
    "weight": {"value": 70, "unit": "kg"},
    "height": {"value": 170, "unit": "cm"},
    "cause": "other",
    "wbc": {"value": 0, "unit": "10*9/L"},
}

WBC = (
    "  wbc:\n    type: quantity\n    unit: 10*9/L\n    description: White cells\n"
    "    plausible: {min: 0, max: 500}\n  cause:\n"
)


def variant(tmp_path: pathlib.Path, name: str, *replacements: tuple[str, str]) -> pathlib.Path:
    text = MINI.read_text().replace("  cause:\n", WBC)
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / f"{name}.guideline.yaml"
    p.write_text(text)
    return p


def where(path: pathlib.Path, needle: str) -> tuple[int, int]:
    """Line and column (1-based) of the last ``needle`` in the file (the recommendation ``treat`` comes after
    ``urgent``, which has the same dose)."""
    text = path.read_text()
    before = text[: text.rindex(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


CASES = [
    # (name, replacements, facts changed, code, node, needle at the reported place)
    (
        "division",
        [('{when: "anc < 1.0", then: treat', '{when: "anc / wbc < 0.5", then: treat')],
        {},
        "expr-division-by-zero",
        "severity",
        '"anc / wbc < 0.5"',
    ),
    (
        "sqrt",
        [("derived:\n", "derived:\n  root:\n    type: number\n    description: r\n"
                         "    expr: sqrt(0 - wbc / q(1, '10*9/L') - 1)\n"),
         ('{when: "anc < 1.0", then: treat', '{when: "anc < 1.0 and root < 9", then: treat')],
        {},
        "expr-invalid-operation",
        "derived:root",
        "sqrt(0 - wbc",
    ),
    (
        "dose",
        [("dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 1, warn_below: 180}",
          "dose: {amount: \"weight / q(1, 'kg') - 100\", unit: ug/kg, basis: weight}")],
        {},
        "dose-not-positive",
        "treat",
        "\"weight / q(1, 'kg') - 100\"",
    ),
    (
        "rounded",
        [("dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 1, warn_below: 180}",
          "dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 10}")],
        {"weight": {"value": 0.9, "unit": "kg"}},  # 4.5 ug rounds to 0
        "dose-not-positive",
        "treat",
        "10}",
    ),
]


@pytest.mark.parametrize(("name", "replacements", "changes", "code", "node", "needle"), CASES)
def test_run_time_failures_are_located_errors_in_the_api(
    tmp_path: pathlib.Path, name: str, replacements: list[tuple[str, str]], changes: dict[str, object],
    code: str, node: str, needle: str,
) -> None:
    p = variant(tmp_path, name, *replacements)
    g = interpreter.load(p)
    with pytest.raises(EvaluationError) as info:
        g.evaluate({**FACTS, **changes}, AS_OF)
    err = info.value
    line, column = where(p, needle)
    assert (err.code, err.node_id) == (code, node)
    assert err.location == Location(str(p), line, column)
    assert not err.internal
    assert str(err).startswith(f"{p}:{line}:{column}: error[{code}]: ")
    d = err.diagnostic()
    assert (d.code, d.location, d.is_error) == (code, err.location, True)
    assert f"node '{node}'" in d.message


@pytest.mark.parametrize(("name", "replacements", "changes", "code", "node", "needle"), CASES)
def test_run_time_failures_exit_2_with_the_location(
    tmp_path: pathlib.Path, name: str, replacements: list[tuple[str, str]], changes: dict[str, object],
    code: str, node: str, needle: str,
) -> None:
    p = variant(tmp_path, name, *replacements)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({**FACTS, **changes}))
    exit_code, out, err = run("evaluate", str(p), str(facts), "--at", AT)
    line, column = where(p, needle)
    assert exit_code == 2
    assert out == ""
    assert f"{p}:{line}:{column}: error[{code}]: " in err
    assert "internal error" not in err


def test_the_same_guideline_evaluates_when_the_facts_allow_it(tmp_path: pathlib.Path) -> None:
    p = variant(tmp_path, "division", *CASES[0][1])  # type: ignore[arg-type]
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({**FACTS, "wbc": {"value": 2, "unit": "10*9/L"}}))
    assert run("evaluate", str(p), str(facts), "--at", AT)[0] == 0


def test_a_bug_still_exits_3(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A code that means a bug (a condition that gave no boolean) is not blamed on the guideline."""
    assert "eval-not-boolean" in INTERNAL_EVALUATION_CODES

    def broken(self: interpreter.Guideline, *args: object, **kwargs: object) -> None:
        raise EvaluationError(
            "eval-not-boolean", "condition gave 3", "severity", "anc", Location("x.yaml", 3, 4)
        )

    monkeypatch.setattr(interpreter.Guideline, "evaluate", broken)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS))
    exit_code, _, err = run("evaluate", str(MINI), str(facts), "--at", AT)
    assert exit_code == 3
    assert "error[eval-not-boolean]" in err


def test_the_as_of_time_outside_the_period_stays_a_usage_error(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS))
    exit_code, _, err = run("evaluate", str(MINI), str(facts), "--at", "2030-01-01T00:00:00Z")
    assert exit_code == 2 and "guideline-not-effective" in err
