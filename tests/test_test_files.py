"""Issue 8 section 8: test files that can fail (unknown names are located errors with did-you-mean)."""

from __future__ import annotations

import pathlib

import pytest

from interpreter.tooling.testing import run_test_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDELINE = ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml"
FACTS = '{anc: {value: 0.4, unit: 10*9/L, at: "2026-11-24T06:00:00Z"}, cause: chemotherapy}'


def run(tmp_path: pathlib.Path, facts: str, expect: str) -> tuple[list[tuple[str, int, str | None]], bool]:
    f = tmp_path / "x.tests.yaml"
    f.write_text(f'guideline: {GUIDELINE}\nat: "2026-11-24T09:00:00Z"\ncases:\n  - name: one\n'
                 f"    facts: {facts}\n    expect:\n      {expect}\n", "utf-8")
    outcome = run_test_file(f)
    return [(d.code, d.location.line, d.hint) for d in outcome.diagnostics], outcome.ok


@pytest.mark.parametrize(("facts", "expect", "code", "hint"), [
    (FACTS, "excludes: [gcsf-chem]", "test-unknown-id", "gcsf-chemo"),
    (FACTS, "includes: [gcsf-chem]", "test-unknown-id", "gcsf-chemo"),
    (FACTS, "recommendations: [gcsf-chem]", "test-unknown-id", "gcsf-chemo"),
    (FACTS, "cautions: [caution-bone-pian]", "test-unknown-id", "caution-bone-pain"),
    (FACTS, "cannot_decide: [treatmnt]", "test-unknown-id", "treatment"),
    (FACTS, "doses: [{recommendation: gcsf-chemoo, drug: filgrastim}]", "test-unknown-id", "gcsf-chemo"),
    (FACTS, "error: {code: fact-implausibl}", "test-unknown-id", "fact-implausible"),
    (FACTS, "needs: [febril]", "test-unknown-fact", "febrile"),
    (FACTS, "error: {code: fact-implausible, fact: ank}", "test-unknown-fact", "anc"),
    ('{anc: {value: 0.4, unit: 10*9/L, at: "2026-11-24T06:00:00Z"}, cuase: chemotherapy}', "status: complete",
     "test-unknown-fact", "cause"),
])
def test_an_unknown_name_is_a_located_error(tmp_path: pathlib.Path, facts: str, expect: str, code: str,
                                            hint: str) -> None:
    found, ok = run(tmp_path, facts, expect)
    assert not ok
    assert [(c, h) for c, _, h in found] == [(code, f"did you mean '{hint}'?")]
    assert found[0][1] in (5, 7)  # the line of the fact or of the expectation


def test_excluding_a_real_id_still_passes(tmp_path: pathlib.Path) -> None:
    found, ok = run(tmp_path, FACTS, "excludes: [gcsf-severe-standard]")
    assert found == [] and ok


def test_an_undeclared_fact_sent_on_purpose_is_listed_and_checked(tmp_path: pathlib.Path) -> None:
    facts = '{anc: {value: 0.4, unit: 10*9/L, at: "2026-11-24T06:00:00Z"}, cause: chemotherapy, platelets: 5}'
    found, ok = run(tmp_path, facts, "unrecognized: [platelets]")
    assert found == [] and ok
    found, ok = run(tmp_path, FACTS, "unrecognized: [platelets]")  # listed but not sent: the case fails
    assert found == [] and not ok
