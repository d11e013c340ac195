"""Every test case beside every bundled guideline, run by the same runner as `guideline test`."""

from __future__ import annotations

import pathlib

import pytest

from interpreter.runtime.trace import CoverageTracer
from interpreter.tooling.testing import discover_test_files, run_test_file

GUIDELINES = pathlib.Path(__file__).resolve().parent.parent / "guidelines"
FILES = discover_test_files([GUIDELINES])


def test_the_library_has_test_files() -> None:
    assert FILES, "no *.tests.yaml under guidelines/"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(GUIDELINES)) for p in FILES])
def test_guideline_cases(path: pathlib.Path) -> None:
    coverage: dict[str, CoverageTracer] = {}
    outcome = run_test_file(path, coverage)
    problems = [d.format() for d in outcome.diagnostics]
    for case in outcome.cases:
        if not case.passed:
            problems.append(f"{case.location}: {case.name}\n    " + "\n    ".join(case.diff))
    assert not problems, "\n".join(problems)
    assert outcome.cases, "the file has no cases"
    for cov in coverage.values():
        missed = {k: v for k, v in cov.missed().items() if v}
        assert cov.percent == 100.0, f"{cov.guideline}: coverage {cov.percent:.1f}%, not reached: {missed}"
