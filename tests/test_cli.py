"""The `guideline` command line: evaluate, test, render, list; output and exit codes."""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest
from click.testing import CliRunner

from interpreter.cli import main

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
AT = "2026-11-24T09:00:00Z"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def facts_file(tmp_path: pathlib.Path, facts: object, name: str = "facts.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(facts) if not isinstance(facts, str) else facts)
    return str(p)


GOOD = {
    "anc": {"value": 700, "unit": "/uL", "at": "2026-11-24T06:00:00Z"},
    "febrile": False,
    "weight": {"value": 154, "unit": "[lb_av]"},
    "height": {"value": 170, "unit": "cm"},
    "cause": "other",
}


def test_evaluate_text_puts_recommendations_first_then_missing_then_why(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("evaluate", str(MINI), facts_file(tmp_path, GOOD), "--at", AT)
    assert code == 0
    assert out.index("RECOMMENDATIONS") < out.index("WHY")
    assert "filgrastim 349 ug subcutaneous once daily" in out
    # to 0.01 kg, not 0.1: 5 x 69.9 = 349.5 would round to 350, not to the 349 ug computed from 69.85322498
    assert "weight given as 154 [lb_av] = ~69.85 kg" in out
    assert "RESULT: complete" in out
    assert "STATUS: DRAFT - this guideline version is not approved for clinical use" in out


def test_evaluate_incomplete_exits_1_and_names_the_missing_fact(tmp_path: pathlib.Path) -> None:
    facts = dict(GOOD)
    del facts["anc"]
    code, out, _ = run("evaluate", str(MINI), facts_file(tmp_path, facts), "--at", AT)
    assert code == 1
    assert "INCOMPLETE" in out
    assert out.index("\nRECOMMENDATIONS") < out.index("\nMISSING - cannot decide") < out.index("\nWHY")
    assert "anc (Absolute neutrophil count): missing" in out


def test_evaluate_json_is_valid_against_the_result_schema(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("evaluate", str(MINI), facts_file(tmp_path, GOOD), "--at", AT, "--format", "json")
    assert code == 0
    data = json.loads(out)
    schema = json.loads((REPO / "schema" / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["guideline"]["id"] == "mini-neutropenia"
    assert data["recommendations"][0]["actions"][0]["dose"]["value"] == 349


def test_evaluate_reads_stdin(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("evaluate", str(MINI), "-", "--at", AT, "--format", "json", stdin=json.dumps(GOOD))
    assert code == 0 and json.loads(out)["status"] == "complete"


def test_explain_shows_every_condition_with_its_values(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("evaluate", str(MINI), facts_file(tmp_path, GOOD), "--at", AT, "--explain")
    assert code == 0
    assert "false: febrile and anc < 0.5   [anc=0.7 10*9/L, febrile=false]" in out
    assert "true: anc < 1.0   [anc=0.7 10*9/L]" in out
    assert "FACTS USED" in out
    assert "  anc: 0.7 10*9/L (given 700 /uL, at 2026-11-24T06:00:00Z)" in out
    assert "  weight: 69.85322498 kg (given 154 [lb_av])" in out


@pytest.mark.parametrize(
    ("facts", "code_text"),
    [
        ('{"anc": {"value": 1, "unit": "/uL"}, "anc": 2}', "fact-duplicate-key"),
        ('{"anc": {"value": NaN, "unit": "/uL"}}', "fact-not-finite"),
        ('{"anc": {"value": 1e400, "unit": "/uL"}}', "fact-not-finite"),
        ('{"anc": {"value": 400, "unit": "10*9/L", "at": "2026-11-24T06:00:00Z"}}', "fact-implausible"),
        ('{"cause": "radiation"}', "fact-unknown-code"),
    ],
)
def test_bad_facts_exit_2_print_no_recommendation(tmp_path: pathlib.Path, facts: str, code_text: str) -> None:
    path = facts_file(tmp_path, facts)
    code, out, err = run("evaluate", str(MINI), path, "--at", AT)
    assert code == 2
    assert code_text in err
    assert f"{path}" in err  # located in the file the user gave
    assert "RECOMMENDATIONS" not in out and out == ""


def test_naive_at_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    code, _, err = run("evaluate", str(MINI), facts_file(tmp_path, GOOD), "--at", "2026-11-24T09:00:00")
    assert code == 2 and "time zone" in err


def test_unknown_guideline_id_exits_2() -> None:
    code, _, err = run("evaluate", "no-such-guideline", "-", stdin="{}")
    assert code == 2 and "guideline-not-found" in err


def test_bundled_guideline_by_id_with_an_example_patient() -> None:
    example = REPO / "examples" / "severe-chemo-neutropenia-pounds.json"
    code, out, _ = run("evaluate", "leukopenia", str(example), "--at", AT, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["guideline"]["id"] == "leukopenia" and data["status"] == "complete"
    drugs = {a.get("drug") for r in data["recommendations"] for a in r["actions"]}
    assert "filgrastim" in drugs


def test_test_command_reports_coverage_and_fails_below_minimum(tmp_path: pathlib.Path) -> None:
    tests = tmp_path / "mini.tests.yaml"
    tests.write_text(
        f"guideline: {MINI}\n"
        f"at: '{AT}'\n"
        "cases:\n"
        "  - name: severe\n"
        "    facts: {anc: {value: 0.7, unit: 10*9/L, at: '2026-11-24T06:00:00Z'}, febrile: false,"
        " weight: {value: 70, unit: kg}, height: {value: 170, unit: cm}, cause: other}\n"
        "    expect: {recommendations: [treat], doses: [{recommendation: treat, drug: filgrastim, value: 350,"
        " unit: ug}]}\n"
    )
    code, out, _ = run("test", str(tests), "--coverage")
    assert code == 0, out
    assert "1 passed, 0 failed" in out
    assert "not reached (recommendations): urgent, watch, not-covered, chemo-note" in out
    code, out, err = run("test", str(tests), "--min-coverage", "100")
    assert code == 1 and "below the minimum 100%" in err


def test_test_command_shows_a_readable_diff(tmp_path: pathlib.Path) -> None:
    tests = tmp_path / "mini.tests.yaml"
    tests.write_text(
        f"guideline: {MINI}\n"
        f"at: '{AT}'\n"
        "cases:\n"
        "  - name: wrong expectation\n"
        "    facts: {anc: {value: 0.7, unit: 10*9/L, at: '2026-11-24T06:00:00Z'}, febrile: false,"
        " weight: {value: 70, unit: kg}, height: {value: 170, unit: cm}, cause: other}\n"
        "    expect: {recommendations: [watch],\n"
        "             doses: [{recommendation: treat, drug: filgrastim, value: 300}]}\n"
    )
    code, out, _ = run("test", str(tests))
    assert code == 1
    assert f"FAIL {tests}:4:5: wrong expectation" in out
    assert "- missing:    watch" in out and "+ unexpected: treat" in out
    assert "dose filgrastim in treat: expected 300 ug, got 350 ug" in out


def test_render_markdown_and_mermaid() -> None:
    code, out, _ = run("render", str(MINI))
    assert code == 0 and out.startswith("# Mini neutropenia guideline") and "```mermaid" in out
    code, out, _ = run("render", str(MINI), "--format", "mermaid")
    assert code == 0 and out.startswith("flowchart TD") and "severity -->" in out


def test_list_shows_the_bundled_guidelines() -> None:
    code, out, _ = run("list")
    assert code == 0 and "leukopenia\t1.0.0\tdraft" in out.splitlines()[1]
    assert out.startswith("khorana\t0.2.0\tdraft")


# output formats: the registry, SARIF, JUnit XML ---------------------------------------------------------
def test_format_choices_are_the_registry_names() -> None:
    import click

    from interpreter.output.registry import (
        DIAGNOSTIC_FORMATS,
        FORMATS,
        RENDERING_FORMATS,
        RESULT_FORMATS,
        TEST_REPORT_FORMATS,
    )

    expected = {"validate": DIAGNOSTIC_FORMATS, "evaluate": RESULT_FORMATS, "test": TEST_REPORT_FORMATS,
                "render": RENDERING_FORMATS}
    for name, formats in expected.items():
        params = main.commands[name].params
        [option] = [p for p in params if isinstance(p, click.Option) and "--format" in p.opts]
        assert isinstance(option.type, click.Choice)
        # `evaluate --format fhir` (issue 10) is the FHIR integration's, outside the registry (the core never
        # imports interpreter.ext)
        extra = ("fhir",) if name == "evaluate" else ()
        assert tuple(option.type.choices) == formats.names + extra and option.default == formats.default
    assert {k: f.names for k, f in FORMATS.items()} == {
        "diagnostics": ("text", "json", "github", "sarif"), "results": ("text", "json"),
        "test-reports": ("text", "json", "junit"), "renderings": ("markdown", "mermaid"),
    }
    assert all(f.kind == k for k, f in FORMATS.items())
    # the commands without --format offer none
    for name in ("lock", "list", "examples"):
        assert not any("--format" in getattr(p, "opts", ()) for p in main.commands[name].params)


def test_validate_sarif_lists_every_result_under_a_rule_with_its_location() -> None:
    files = [str(f) for f in sorted((HERE / "fixtures" / "invalid").glob("*/*.y*ml"))]
    code, out, _ = run("validate", *files, "--format", "sarif")
    assert code in (1, 2)
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    [run_] = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "guideline-interpreter" and driver["version"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids)) and all(r["shortDescription"]["text"] for r in driver["rules"])
    _, json_out, _ = run("validate", *files, "--format", "json")
    diagnostics = json.loads(json_out)["diagnostics"]
    results = run_["results"]
    assert len(results) == len(diagnostics) > 50
    assert {r["ruleId"] for r in results} == set(rule_ids)
    for r, d in zip(results, diagnostics, strict=True):
        assert r["ruleId"] == d["code"] and rule_ids[r["ruleIndex"]] == r["ruleId"]
        assert r["level"] == d["severity"] in ("error", "warning")
        assert r["message"]["text"].startswith(d["message"].split("\n")[0][:20])
        if not d["file"] or d["file"].startswith("<"):
            assert "locations" not in r
            continue
        [location] = r["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith(pathlib.Path(d["file"]).name)
        if d["line"]:
            assert physical["region"]["startLine"] == d["line"]
            assert physical["region"].get("startColumn", 0) == d["column"]


def test_sarif_of_a_clean_run_has_no_results_and_no_rules() -> None:
    code, out, _ = run("validate", str(MINI), "--format", "sarif")
    sarif = json.loads(out)
    assert code == 0 and sarif["runs"][0]["results"] == []
    assert sarif["runs"][0]["tool"]["driver"]["rules"] == []
    assert sarif["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_test_junit_counts_cases_failures_and_file_errors(tmp_path: pathlib.Path) -> None:
    from xml.etree import ElementTree

    facts = ("{anc: {value: 0.7, unit: 10*9/L, at: '2026-11-24T06:00:00Z'}, febrile: false,"
             " weight: {value: 70, unit: kg}, height: {value: 170, unit: cm}, cause: other}")
    (tmp_path / "a.tests.yaml").write_text(
        f"guideline: {MINI}\nat: '{AT}'\ncases:\n"
        f"  - name: passes\n    facts: {facts}\n    expect: {{recommendations: [treat]}}\n"
        f"  - name: fails <&> \"quoted\"\n    facts: {facts}\n    expect: {{recommendations: [watch]}}\n"
        f"  - name: fails too\n    facts: {facts}\n    expect: {{recommendations: []}}\n"
    )
    (tmp_path / "b.tests.yaml").write_text("guideline: nope.yaml\ncases: 3\n")
    code, out, _ = run("test", str(tmp_path), "--format", "junit")
    assert code == 1
    root = ElementTree.fromstring(out)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    suites = {pathlib.Path(s.get("name", "")).name: s for s in root.iter("testsuite")}
    a, b = suites["a.tests.yaml"], suites["b.tests.yaml"]
    assert (a.get("tests"), a.get("failures"), a.get("errors")) == ("3", "2", "0")
    cases = a.findall("testcase")
    assert [c.get("name") for c in cases] == ["passes", 'fails <&> "quoted"', "fails too"]
    assert [c.find("failure") is not None for c in cases] == [False, True, True]
    failure = cases[1].find("failure")
    assert failure is not None and "missing:    watch" in (failure.text or "")
    [error] = b.iter("error")
    assert error.get("type") == "schema-type" and "expected a list" in (error.text or "")


def test_test_junit_without_test_files_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    code, out, err = run("test", str(tmp_path), "--format", "junit")
    assert code == 2 and out == "" and "no test files found" in err
