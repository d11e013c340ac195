"""Versions in a library folder, pinning, retirement, and the approved-content lock from the command line."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from click.testing import CliRunner

import interpreter
from interpreter import GuidelineError
from interpreter.cli import main
from interpreter.loading.library import find_guideline, parse_version
from interpreter.tooling.testing import run_test_file

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
APPROVAL = (
    'approval_date: "2026-11-02"\nreviewers: [{name: Dr Reviewer, role: hematologist, date: "2026-11-02"}]\n'
)


def write_version(folder: pathlib.Path, version: str, status: str = "draft") -> pathlib.Path:
    text = MINI.read_text().replace('version: "1.2.0"', f'version: "{version}"')
    text = text.replace("status: draft", f"status: {status}")
    if status == "approved":
        text = text.replace("status: approved\n", "status: approved\n" + APPROVAL)
    path = folder / f"mini-{version}.guideline.yaml"
    path.write_text(text)
    return path


def test_semantic_versions_sort_numerically_and_prereleases_first() -> None:
    versions = ["1.10.0", "1.9.0", "1.10.0-rc.1", "2.0.0", "1.2.3"]
    assert sorted(versions, key=parse_version) == ["1.2.3", "1.9.0", "1.10.0-rc.1", "1.10.0", "2.0.0"]


def test_newest_version_that_is_not_retired_is_chosen(tmp_path: pathlib.Path) -> None:
    write_version(tmp_path, "1.9.0")
    write_version(tmp_path, "1.10.0")
    write_version(tmp_path, "2.0.0", status="retired")
    assert find_guideline("mini-neutropenia", root=tmp_path).version == "1.10.0"
    assert find_guideline("mini-neutropenia", "1.9.0", root=tmp_path).version == "1.9.0"


def test_missing_version_lists_the_versions_there_are(tmp_path: pathlib.Path) -> None:
    write_version(tmp_path, "1.9.0")
    with pytest.raises(GuidelineError) as info:
        find_guideline("mini-neutropenia", "3.0.0", root=tmp_path)
    d = info.value.diagnostics[0]
    assert d.code == "guideline-not-found" and d.hint == "versions: 1.9.0"


def test_a_guideline_whose_every_version_is_retired_is_refused(tmp_path: pathlib.Path) -> None:
    write_version(tmp_path, "1.0.0", status="retired")
    with pytest.raises(GuidelineError) as info:
        find_guideline("mini-neutropenia", root=tmp_path)
    assert info.value.diagnostics[0].code == "guideline-retired"


def test_bundled_guideline_pinned_by_version() -> None:
    g = interpreter.load("leukopenia", version="1.0.0")
    assert (g.id, g.version) == ("leukopenia", "1.0.0")
    with pytest.raises(GuidelineError) as info:
        interpreter.load("leukopenia", version="9.9.9")
    assert info.value.diagnostics[0].code == "guideline-not-found"


def test_a_file_loaded_with_another_pinned_version_is_refused() -> None:
    with pytest.raises(GuidelineError) as info:
        interpreter.load(MINI, version="1.0.0")
    assert info.value.diagnostics[0].code == "guideline-version-mismatch"


def test_lock_then_changed_approved_content_fails_validation(tmp_path: pathlib.Path) -> None:
    runner = CliRunner()
    path = write_version(tmp_path, "1.0.0", status="approved")
    first = runner.invoke(main, ["lock", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "locked mini-neutropenia 1.0.0 sha256:" in first.output
    lock = json.loads((tmp_path / "approved.lock").read_text())
    assert json.dumps(lock).count("mini-neutropenia") == 1
    again = runner.invoke(main, ["lock", str(tmp_path)])
    assert again.exit_code == 0 and "nothing to lock" in again.output
    assert runner.invoke(main, ["validate", str(tmp_path)]).exit_code == 0
    # the approved content changes but the version does not: refused, and the lock is not rewritten
    path.write_text(path.read_text().replace("Give filgrastim.", "Give filgrastim now."))
    result = runner.invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "approved-content-changed" in result.output
    assert json.loads((tmp_path / "approved.lock").read_text()) == lock


def test_test_file_problems_are_reported_not_raised(tmp_path: pathlib.Path) -> None:
    bad_schema = tmp_path / "a.tests.yaml"
    bad_schema.write_text(
        f"guideline: {MINI}\ncases:\n  - name: x\n    facts: {{}}\n    expect: {{colour: red}}\n"
    )
    outcome = run_test_file(bad_schema)
    assert [d.code for d in outcome.diagnostics] == ["schema-unknown-key"]
    assert outcome.diagnostics[0].location.line == 5
    dup = tmp_path / "b.tests.yaml"
    case = "  - name: same\n    at: '2026-11-24T09:00:00Z'\n    facts: {}\n    expect: {status: incomplete}\n"
    dup.write_text(f"guideline: {MINI}\ncases:\n{case}{case}")
    outcome = run_test_file(dup)
    assert [d.code for d in outcome.diagnostics] == ["test-duplicate-name"]
    assert outcome.diagnostics[0].location.line == 7
    assert [c.passed for c in outcome.cases] == [True]


def test_test_files_are_read_with_the_size_cap_and_only_when_regular(tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.tests.yaml"
    big.write_bytes(b"guideline: a.guideline.yaml\n" + b"# padding\n" * 110_000)  # a little over 1 MiB
    outcome = run_test_file(big)
    assert [d.code for d in outcome.diagnostics] == ["yaml-too-large"]
    fifo = tmp_path / "pipe.tests.yaml"
    os.mkfifo(fifo)  # opening it would block for ever: it is refused before it is opened
    outcome = run_test_file(fifo)
    assert [d.code for d in outcome.diagnostics] == ["file-unreadable"]


def test_a_case_without_an_as_of_time_fails_with_a_reason(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "c.tests.yaml"
    f.write_text(
        f"guideline: {MINI}\ncases:\n  - name: no time\n    facts: {{}}\n    expect: {{status: incomplete}}\n"
    )
    outcome = run_test_file(f)
    assert [(c.passed, c.diff) for c in outcome.cases] == [
        (False, ("no as-of time: give `at` in the case or at the top of the file",))
    ]


def test_expected_error_cases(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "d.tests.yaml"
    f.write_text(
        f"guideline: {MINI}\nat: '2026-11-24T09:00:00Z'\ncases:\n"
        "  - name: implausible anc is refused\n"
        "    facts: {anc: {value: 400, unit: 10*9/L, at: '2026-11-24T06:00:00Z'}}\n"
        "    expect: {error: {code: fact-implausible, fact: anc}}\n"
        "  - name: wrong expectation of the error\n"
        "    facts: {anc: {value: 400, unit: 10*9/L, at: '2026-11-24T06:00:00Z'}}\n"
        "    expect: {error: {code: fact-unknown-unit, fact: anc}}\n"
        "  - name: an error expected but none came\n"
        "    facts: {}\n"
        "    expect: {error: {code: fact-implausible}}\n"
    )
    cases = run_test_file(f).cases
    assert [c.passed for c in cases] == [True, False, False]
    assert cases[1].diff == ("error: expected fact-unknown-unit naming anc, got fact-implausible (anc)",)
    assert cases[2].diff[0].startswith("error: expected fact-implausible, but the evaluation succeeded")


def test_load_refuses_approved_content_that_is_not_as_locked(tmp_path: pathlib.Path) -> None:
    path = write_version(tmp_path, "1.0.0", status="approved")
    with pytest.raises(GuidelineError) as info:
        interpreter.load(path)  # approved but never locked
    assert info.value.diagnostics[0].code == "approved-not-locked"
    assert CliRunner().invoke(main, ["lock", str(tmp_path)]).exit_code == 0
    assert interpreter.load(path).status == "approved"
    path.write_text(path.read_text().replace('"anc < 1.0"', '"anc < 0.1"'))
    with pytest.raises(GuidelineError) as info:
        interpreter.load(path)
    assert info.value.diagnostics[0].code == "approved-content-changed"


def test_discovery_skips_build_environment_and_hidden_folders(tmp_path: pathlib.Path) -> None:
    from interpreter.tooling.testing import discover_test_files
    from interpreter.tooling.validate import discover

    for folder in ("src", "build/lib", ".venv/x", "dist", "node_modules/y"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "a.guideline.yaml").write_text("id: x\n")
        (tmp_path / folder / "a.tests.yaml").write_text("guideline: a.guideline.yaml\n")
    assert discover(tmp_path) == [tmp_path / "src" / "a.guideline.yaml"]
    assert discover_test_files([tmp_path]) == [tmp_path / "src" / "a.tests.yaml"]


def test_a_folder_named_like_a_bundled_id_does_not_hide_it(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "leukopenia").mkdir()  # as when running from guidelines/
    monkeypatch.chdir(tmp_path)
    assert interpreter.load("leukopenia").id == "leukopenia"
