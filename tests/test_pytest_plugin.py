"""Issue 8 section 8: the pytest plugin (interpreter/ext/pytest_plugin.py) collects one item per case."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDELINE = ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml"
CASES = f"""guideline: {GUIDELINE}
at: "2026-11-24T09:00:00Z"
cases:
  - name: severe in pounds
    facts: {{anc: {{value: 0.4, unit: 10*9/L, at: "2026-11-24T06:00:00Z"}}, cause: chemotherapy}}
    expect: {{excludes: [mild-observe]}}
  - name: a typo that used to pass
    facts: {{anc: {{value: 0.4, unit: 10*9/L, at: "2026-11-24T06:00:00Z"}}}}
    expect: {{excludes: [gcsf-chem]}}
"""


def pytest_run(tmp_path: pathlib.Path, *args: str, text: str = CASES) -> subprocess.CompletedProcess[str]:
    (tmp_path / "x.tests.yaml").write_text(text, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # the plugin is loaded through its pytest11 entry point (the package is installed)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tmp_path),
                           *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False)


def test_one_item_per_case_and_a_located_failure(tmp_path: pathlib.Path) -> None:
    run = pytest_run(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PASSED x.tests.yaml::severe in pounds" in run.stdout
    assert "FAILED x.tests.yaml::a typo that used to pass" in run.stdout
    assert "'gcsf-chem' is not a recommendation" in run.stdout and "did you mean 'gcsf-chemo'?" in run.stdout
    assert "PASSED x.tests.yaml::[test file]" in run.stdout


def test_k_selects_a_case(tmp_path: pathlib.Path) -> None:
    run = pytest_run(tmp_path, "-k", "pounds")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 2 deselected" in run.stdout


def test_a_broken_test_file_fails_its_file_item(tmp_path: pathlib.Path) -> None:
    run = pytest_run(tmp_path, text=CASES.replace("cases:", "casez:"))
    assert run.returncode == 1
    assert "FAILED x.tests.yaml::[test file]" in run.stdout and "schema-" in run.stdout


def test_the_plugin_is_declared_as_an_entry_point() -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    assert '[project.entry-points.pytest11]\n' in text
    assert 'guideline = "interpreter.ext.pytest_plugin"' in text
