"""Regression tests for the adversarial review of issue 8 (findings rev8: 2, 3, 5, 6, 7, 10-15), through the
real loader and CLI."""

from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from interpreter.cli import main
from interpreter.compiler.loader import analyze_file

HEAD = """\
id: rev8-fixes
version: "1.0.0"
title: Review fixes
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test Author}]
references: {EX: {citation: Example.}}
"""

TAIL = """\
start: n
nodes:
  - {id: n, kind: choice, branches: [{when: "COND", then: ra}], otherwise: rb, unknown: cannot-decide}
recommendations:
  - {id: ra, text: A., cite: [EX]}
  - {id: rb, text: B., cite: [EX]}
"""


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def write(tmp_path: pathlib.Path, inputs: str, cond: str, extra: str = "") -> pathlib.Path:
    f = tmp_path / "g.guideline.yaml"
    f.write_text(HEAD + inputs + extra + TAIL.replace("COND", cond), "utf-8")
    return f


def codes(f: pathlib.Path) -> list[tuple[str, str]]:
    return [(d.code, d.severity) for d in analyze_file(f).diagnostics if d.code != "unused-input"]


# --- finding 3: an implausible threshold on any input type is a located error, never a crash -------------

INPUT_TYPES = {
    "number": "{type: number, description: x, plausible: {min: 0, max: 120}}",
    "quantity": "{type: quantity, description: x, unit: kg, plausible: {min: 0, max: 120}}",
    "quantity-accepted": "{type: quantity, description: x, unit: kg, accepted_units: ['[lb_av]', g], "
                         "plausible: {min: 0, max: 120}}",
    "quantity-bare": "{type: quantity, description: x, unit: kg, bare_number: true, "
                     "plausible: {min: 0, max: 120}}",
    "boolean": "{type: boolean, description: x}",
    "code": "{type: code, description: x, values: [a, b]}",
    "datetime": "{type: datetime, description: x}",
    "date": "{type: date, description: x}",
    "series": "{type: series, description: x, unit: kg, plausible: {min: 0, max: 120}}",
    "code-set": "{type: code-set, description: x, values: [a, b]}",
}
HOSTILE = ["x != 200", "x < 150", "x > 200", "0 < x < 200", "x > 1e28", "x != -5", "x == -0.0001",
           "200 > x", "x >= 1e300", "-x < -200"]


@pytest.mark.parametrize("kind", sorted(INPUT_TYPES))
@pytest.mark.parametrize("cond", HOSTILE)
def test_an_out_of_range_threshold_never_crashes(tmp_path: pathlib.Path, kind: str, cond: str) -> None:
    f = write(tmp_path, f"inputs:\n  x: {INPUT_TYPES[kind]}\n", cond)
    rc, out = run("validate", str(f))
    assert rc in (0, 1), out
    assert "internal-error" not in out
    found = codes(f)
    numeric = kind in ("number", "quantity", "quantity-accepted", "quantity-bare")
    if numeric and "1e300" in cond:
        assert ("expr-bad-number", "error") in found, found
    elif numeric and cond != "-x < -200":
        assert ("threshold-implausible", "error") in found, found
        assert "g.guideline.yaml:" in out and "threshold-implausible" in out


def test_a_number_input_gets_a_hint_naming_its_range(tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "inputs:\n  age: {type: number, description: a, plausible: {min: 0, max: 120}}\n",
              "age != 200")
    [d] = [d for d in analyze_file(f).diagnostics if d.code == "threshold-implausible"]
    assert d.location.line > 0 and d.hint is not None and "0 to 120" in d.hint
    rc, out = run("evaluate", str(f), "-", "--at", "2026-03-01T00:00:00Z", stdin='{"age": 30}')
    assert rc == 2 and "threshold-implausible" in out and "internal-error" not in out


# --- findings 2 and 10: dead conditions on scores, self-comparisons and simple arithmetic ----------------

SCORED = """\
inputs:
  fever: {type: boolean, description: f}
  site: {type: code, description: s, values: [stomach, lung, other]}
  anc: {type: quantity, description: a, unit: "10*9/L", plausible: {min: 0, max: 100}}
  weight: {type: quantity, description: w, unit: kg, plausible: {min: 1, max: 300}}
  age: {type: number, description: a, plausible: {min: 0, max: 120}}
scores:
  sc:
    description: sc
    items:
      - {input: fever, points: 1}
      - {input: site, points: {stomach: 2, lung: 1}}
      - {when: "anc < 1", points: 2}
      - {bands: [{when: "age < 10", points: -1}], otherwise: 0}
"""
# the reachable sums of sc: -1 to 5
DEAD = {"sc >= 7": "false", "sc < -1": "false", "sc == sc": "true", "sc >= 1 or sc < 1": "true",
        "sc == 0.5": "false", "sc > 1000000": "false", "sc * 2 > 10": "false", "sc >= -1": "true",
        "anc == anc": "true", "anc < anc": "false", "weight * 0 > 1": "false", "age - age > 1": "false",
        "anc * 2 < 300": "true", "anc / 2 > 50": "false", "anc - anc >= 0": "true", "age + 1 > 121": "false",
        "anc * 3 < anc * 2": "false", "anc < 1 and anc * 2 >= 2": "false", "fever and sc < -1": "false"}
LIVE = ["sc >= 5", "sc <= -1", "sc == 0", "sc >= 3 or fever", "sc * 2 > 9", "anc * 2 < 100", "anc * 2 < 1",
        "-anc < -50", "anc * 3 <= anc * 2", "anc * 3 == anc * 2", "0 < anc * 2 < 200", "age + 1 > 100",
        "age * 2 - 30 > age", "weight * 0 < 1 and fever", "anc < weight / q(1, 'kg') * q(1, '10*9/L')",
        "anc / 3 < 0.1"]


@pytest.mark.parametrize("cond", sorted(DEAD))
def test_dead_conditions_on_scores_and_arithmetic_are_refused(tmp_path: pathlib.Path, cond: str) -> None:
    f = write(tmp_path, SCORED, cond)
    found = [d for d in analyze_file(f).diagnostics if d.code == "condition-constant"]
    assert len(found) == 1 and found[0].severity == "error", cond
    assert f"always {DEAD[cond]}" in found[0].message and found[0].location.line > 0


@pytest.mark.parametrize("cond", LIVE)
def test_live_conditions_on_scores_and_arithmetic_pass(tmp_path: pathlib.Path, cond: str) -> None:
    f = write(tmp_path, SCORED, cond)
    assert [c for c, s in codes(f) if s == "error"] == [], cond


# --- finding 5: {"value": null, ...} with a unit or a time is checked and never replaced by a default ------

DEFAULTED = """\
inputs:
  lln:
    type: quantity
    description: lln
    unit: 10*9/L
    accepted_units: [/uL]
    plausible: {min: 0.5, max: 10}
    max_age: P30D
    default: 2.0
  wbc: {type: quantity, description: wbc, unit: 10*9/L, plausible: {min: 0, max: 500}, required: true}
  flag: {type: boolean, description: f, default: false}
"""
AT = "2026-03-01T00:00:00Z"
WBC = {"value": 1.5, "unit": "10*9/L"}


def evaluate(f: pathlib.Path, facts: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    import json
    rc, out = run("evaluate", str(f), "-", "--at", AT, "--format", "json", stdin=json.dumps(facts))
    return rc, (json.loads(out) if rc in (0, 1) else {"output": out})


@pytest.mark.parametrize(("lln", "reason"), [
    ({"value": None, "unit": "10*9/L", "at": "2025-01-01T00:00:00Z"}, "stale"),
    ({"value": None, "unit": "10*9/L", "at": "2026-02-25T00:00:00Z"}, "missing"),
    ({"value": None, "unit": "/uL"}, "missing"),
    ({"value": None, "at": "2026-02-25T00:00:00Z"}, "missing"),
])
def test_a_null_result_with_a_unit_or_time_is_unknown_not_the_default(
        tmp_path: pathlib.Path, lln: dict, reason: str) -> None:  # type: ignore[type-arg]
    f = write(tmp_path, DEFAULTED, "wbc < lln")
    rc, r = evaluate(f, {"wbc": WBC, "lln": lln})
    assert rc == 1 and r["status"] == "incomplete", r
    assert "lln" not in [a["fact"] for a in r.get("assumed", [])]
    assert [(m["name"], m["reason"]) for m in r["needed_facts"]] == [("lln", reason)]


def test_a_bare_null_is_still_absent_and_takes_the_default(tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, DEFAULTED, "wbc < lln")
    rc, r = evaluate(f, {"wbc": WBC, "lln": {"value": None}})
    assert rc == 0 and r["status"] == "complete"
    assert [a["fact"] for a in r["assumed"] if a["fact"] == "lln"] == ["lln"]


@pytest.mark.parametrize(("facts", "code"), [
    ({"wbc": WBC, "lln": {"value": None, "unit": "furlong", "at": "garbage"}}, "fact-unknown-unit"),
    ({"wbc": WBC, "lln": {"value": None, "unit": "kg"}}, "fact-unit-mismatch"),
    ({"wbc": WBC, "lln": {"value": None, "at": "not-a-time"}}, "fact-bad-time"),
    ({"wbc": WBC, "lln": {"value": None, "at": "2027-01-01T00:00:00Z"}}, "fact-future"),
    ({"wbc": {"value": None, "unit": "furlong", "at": "not-a-time"}}, "fact-unknown-unit"),
    ({"wbc": WBC, "flag": {"value": None, "at": "garbage"}}, "fact-bad-time"),
    # issue 12 review: a unit that is not text (unhashable) was an internal error (exit 3)
    ({"wbc": WBC, "lln": {"value": None, "unit": []}}, "fact-unknown-unit"),
    ({"wbc": {"value": None, "unit": {"a": 1}, "at": "2026-11-24T07:00:00Z"}}, "fact-unknown-unit"),
])
def test_the_keys_of_a_null_result_are_checked(tmp_path: pathlib.Path, facts: dict, code: str,  # type: ignore[type-arg]
                                               ) -> None:
    f = write(tmp_path, DEFAULTED, "wbc < lln")
    rc, r = evaluate(f, facts)
    assert rc == 2 and code in r["output"], r


# --- findings 6 and 7: dose caps count in conflicts; equal doses written differently do not -----------------

TWO_DOSES = """\
inputs:
  fever: {type: boolean, description: f}
  clz: {type: boolean, description: c}
  weight: {type: quantity, description: w, unit: kg, plausible: {min: 1, max: 300}}
start: root
nodes:
  - {id: root, kind: collect, branches: [{when: "true", then: [n1, n2]}]}
  - {id: n1, kind: choice, branches: [{when: clz, then: r1}], otherwise: rc, unknown: cannot-decide}
  - {id: n2, kind: choice, branches: [{when: fever, then: r2}], otherwise: rc, unknown: cannot-decide}
recommendations:
  - {id: r1, text: One., cite: [EX],
     actions: [{type: medication, drug: DRUG1, dose: DOSE1, frequency: once daily}]}
  - {id: r2, text: Two., cite: [EX],
     actions: [{type: medication, drug: DRUG2, dose: DOSE2, frequency: Once  daily}]}
  - {id: rc, text: C., cite: [EX]}
"""


def conflicts(tmp_path: pathlib.Path, dose1: str, dose2: str, drug2: str = "filgrastim") -> list[str]:
    f = tmp_path / "c.guideline.yaml"
    body = (TWO_DOSES.replace("DOSE1", dose1).replace("DOSE2", dose2).replace("DRUG1", "filgrastim")
            .replace("DRUG2", drug2))
    f.write_text(HEAD + body, "utf-8")
    return [d.message for d in analyze_file(f).diagnostics if d.code == "recommendation-conflict"]


W = "basis: weight"


@pytest.mark.parametrize(("dose1", "dose2", "what"), [
    (f"{{amount: 5, unit: ug/kg, {W}, max: 300}}", f"{{amount: 5, unit: ug/kg, {W}, max: 480}}",
     "maximum dose"),
    (f"{{amount: 5, unit: ug/kg, {W}, max: 300}}", f"{{amount: 5, unit: ug/kg, {W}}}", "maximum dose"),
    (f"{{amount: 5, unit: ug/kg, {W}, min: 100}}", f"{{amount: 5, unit: ug/kg, {W}, min: 200}}",
     "minimum dose"),
    (f"{{amount: 5, unit: ug/kg, {W}, round_to: 1}}", f"{{amount: 5, unit: ug/kg, {W}, round_to: 10}}",
     "rounding"),
    (f"{{amount: 5, unit: ug/kg, {W}}}", f"{{amount: 10, unit: ug/kg, {W}}}", "dose"),
    (f"{{amount: 5, unit: ug/kg, {W}}}", f"{{amount: 0.05, unit: mg/kg, {W}}}", "dose"),
    (f"{{amount: 5, unit: ug/kg, {W}}}", "{amount: 5, unit: ug/kg, basis: bsa}", "dose"),
])
def test_doses_that_differ_conflict(tmp_path: pathlib.Path, dose1: str, dose2: str, what: str) -> None:
    [message] = conflicts(tmp_path, dose1, dose2)
    assert f"with a different {what}:" in message


@pytest.mark.parametrize(("dose1", "dose2"), [
    (f"{{amount: 5, unit: ug/kg, {W}}}", f"{{amount: 0.005, unit: mg/kg, {W}}}"),
    (f"{{amount: 5, unit: ug/kg, {W}}}", f"{{amount: 5.0, unit: ug/kg, {W}}}"),
    (f"{{amount: 5, unit: ug/kg, {W}, max: 480}}", f"{{amount: 0.005, unit: mg/kg, {W}, max: 0.48}}"),
    (f"{{amount: 5, unit: ug/kg, {W}, round_to: 1}}", f"{{amount: 5.00, unit: ug/kg, {W}, round_to: 1.0}}"),
])
def test_equal_doses_written_differently_do_not_conflict(tmp_path: pathlib.Path, dose1: str, dose2: str,
                                                          ) -> None:
    assert conflicts(tmp_path, dose1, dose2) == []


def test_a_drug_name_with_extra_spaces_is_shown_tidied(tmp_path: pathlib.Path) -> None:
    [message] = conflicts(tmp_path, f"{{amount: 5, unit: ug/kg, {W}}}", f"{{amount: 10, unit: ug/kg, {W}}}",
                          drug2='"filgrastim "')
    assert "'filgrastim 10 ug/kg (weight)" in message and "filgrastim  " not in message


# --- finding 12: a caution is shown once, compared without case and extra white space ----------------------

CAUTIONS = """\
inputs:
  fever: {type: boolean, description: f}
start: n
nodes:
  - {id: n, kind: collect, branches: [{when: fever, then: [r1, r2, r3]}, {when: "not fever", then: r4}]}
recommendations:
  - {id: r1, text: One., cite: [EX], actions: [{type: caution, text: "Do not give below 180 mcg."}]}
  - {id: r2, text: Two., cite: [EX], actions: [{type: caution, text: "do not  give below 180 mcg. "}]}
  - {id: r3, text: Three., cite: [EX], actions: [{type: caution, text: "Do not give below 90 mcg."}]}
  - {id: r4, text: Four., cite: [EX]}
"""


def test_cautions_differing_in_case_and_spaces_are_shown_once(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "u.guideline.yaml"
    f.write_text(HEAD + CAUTIONS, "utf-8")
    rc, r = evaluate(f, {"fever": True})
    assert rc == 0
    assert [c["text"] for c in r["cautions"]] == ["Do not give below 180 mcg.", "Do not give below 90 mcg."]


# --- finding 14: display ------------------------------------------------------------------------------

def test_an_implausible_threshold_in_another_unit_has_no_trailing_zeros(tmp_path: pathlib.Path) -> None:
    weight = "inputs:\n  weight: {type: quantity, description: w, unit: kg, plausible: {min: 1, max: 300}}\n"
    f = write(tmp_path, weight, "weight > q(1000, '[lb_av]')")
    [d] = [d for d in analyze_file(f).diagnostics if d.code == "threshold-implausible"]
    assert "`weight > 453.59237`: 453.59237 kg is outside" in d.message


def test_a_negative_score_range_reads_unambiguously(tmp_path: pathlib.Path) -> None:
    scored = ("inputs:\n  site: {type: code, description: s, values: [a, b]}\n"
              "scores: {sc: {description: sc, items: [{input: site, points: {a: -1000, b: 1}}]}}\n")
    f = write(tmp_path, scored, "sc >= 1")
    rc, out = run("evaluate", str(f), "-", "--at", AT, stdin="{}")
    assert rc == 1 and "unknown: -1000 to 1 (needs site)" in out, out


def test_a_default_that_is_not_a_number_reads_as_a_sentence(tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "inputs:\n  lln: {type: quantity, description: l, unit: 10*9/L, default: '2.0',\n"
              "        plausible: {min: 0, max: 10}}\n",
              "lln < 1")
    [d] = [d for d in analyze_file(f).diagnostics if d.code == "input-default-invalid"]
    assert "the default is not a valid value: the text" in d.message and "the default the" not in d.message


# --- finding 15: UCUM suggestions for compound near-misses ---------------------------------------

@pytest.mark.parametrize(("written", "ucum"), [
    ("kg/m^2", "kg/m2"), ("ug/KG", "ug/kg"), ("Kg", "kg"), ("KG", "kg"), ("mg/dl", "mg/dL"),
    ("mcg/KG/min", "ug/kg/min"), ("kg.m^-2", "kg.m-2"), ("IU/kg", "[IU]/kg"), ("ML/min", "mL/min"),
])
def test_compound_near_misses_get_the_ucum_spelling(written: str, ucum: str) -> None:
    from interpreter.values import units
    from interpreter.values.ucum_spelling import ucum_spelling
    assert ucum_spelling(written) == ucum
    units.check_unit(ucum)  # the suggestion is itself a UCUM code


@pytest.mark.parametrize("right", ["kg/m2", "ug/kg", "mg/dL", "10*9/L", "mL/min/{1.73_m2}", "%", "[lb_av]"])
def test_right_compound_units_get_no_suggestion(right: str) -> None:
    from interpreter.values.ucum_spelling import ucum_spelling
    assert ucum_spelling(right) is None


def test_a_guideline_unit_near_miss_is_located_with_the_suggestion(tmp_path: pathlib.Path) -> None:
    v = "inputs:\n  v: {type: quantity, description: v, unit: 'kg/m^2', plausible: {min: 0, max: 99}}\n"
    f = write(tmp_path, v, "v < 1")
    [d] = [d for d in analyze_file(f).diagnostics if d.code == "input-unit-unknown"]
    assert "did you mean 'kg/m2'?" in d.message and d.location.line > 0


# --- finding 11: a score band that can never award its points is an error; a gap stays a warning ----------

def test_a_dead_score_band_is_an_error_and_a_gap_a_warning(tmp_path: pathlib.Path) -> None:
    scored = """\
inputs:
  age: {type: number, description: a, plausible: {min: 0, max: 120}}
  sbp: {type: number, description: s, plausible: {min: 0, max: 300}}
scores:
  sc:
    description: sc
    items:
      - {bands: [{when: "age < 18", points: 1}, {when: "age < 10", points: 5}]}
      - {bands: [{when: "sbp < 90", points: 2}, {when: "sbp > 100", points: 1}]}
"""
    f = write(tmp_path, scored, "sc >= 2")
    found = {(d.code, d.severity, d.path[-3:]) for d in analyze_file(f).diagnostics
             if d.path[:1] == ("scores",)}
    assert ("threshold-impossible", "error", ("bands", 1, "when")) in found, found
    assert ("threshold-overlap", "warning", ("bands", 1, "when")) not in found, found
    assert any(c == "threshold-gap" and sev == "warning" for c, sev, _ in found), found
    rc, out = run("validate", str(f))
    assert rc == 1 and "can never award its 5 points" in out
