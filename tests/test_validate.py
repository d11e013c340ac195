"""The validation driver, its reporters, the approved-content lock, and one fixture per diagnostic code.

Fixtures live in ``tests/fixtures/invalid/<code>/``: the files (usually ``guideline.yaml``) and an
``expected.json`` listing every diagnostic the run must give (code, severity, file, line, column, and the key
facts its message and hint must contain), plus the exit code. The stages up to the structural checks run
through a small private pipeline here (load -> schema -> model -> checks); the same fixtures also run through
the real ``loader.analyze_file`` when it imports.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from interpreter.codes import Code, Stage, codes_of
from interpreter.compiler.loader import analyze_file
from interpreter.errors import Diagnostic, Location, Severity
from interpreter.loading.lock import (
    LOCK_FILE_NAME,
    Lock,
    LockEntry,
    check_lock,
    find_lock,
    find_locks,
    parse_lock,
    read_lock,
    render_lock,
    update_lock,
)
from interpreter.loading.model import GuidelineModel, build_model
from interpreter.loading.schema import validate_document
from interpreter.loading.source import DEFAULT_LIMITS, LoaderLimits, load_yaml
from interpreter.output.registry import DIAGNOSTIC_FORMATS
from interpreter.tooling.validate import ValidationReport, discover, validate_paths

TESTS = pathlib.Path(__file__).resolve().parent
REPO = TESTS.parent
INVALID = TESTS / "fixtures" / "invalid"
MINIMAL = TESTS / "fixtures" / "valid" / "minimal.guideline.yaml"

#: The stages whose codes a guideline (or a folder of them, or a lock file) triggers when validated.
FIXTURE_STAGES = (Stage.YAML, Stage.SCHEMA, Stage.STRUCTURE, Stage.INPUTS, Stage.DOSES, Stage.THRESHOLDS,
                  Stage.LOCK, Stage.VALIDATOR)
#: Codes of those stages with no fixture, because no file content triggers them, and where they are tested.
NO_FIXTURE = {
    Code.FILE_UNREADABLE: "an I/O error, a special file or a link out of the folder: "
                          "test_library_and_lock.py, test_references.py, test_output_safety.py",
    Code.INTERNAL_ERROR: "a stage raising an exception (a bug): tested below",
}
#: Every code with a fixture folder.
FIXTURE_CODES = sorted(set(codes_of(*FIXTURE_STAGES)) - set(NO_FIXTURE))


# --------------------------------------------------------------------------------------------------
# the pipeline under test: the real loader (``loader.analyze_file``) with the limits a fixture asks for


def private_analyzer(limits: LoaderLimits = DEFAULT_LIMITS
                     ) -> Callable[[pathlib.Path], tuple[list[Diagnostic], GuidelineModel | None]]:
    def analyze(path: pathlib.Path) -> tuple[list[Diagnostic], GuidelineModel | None]:
        a = analyze_file(path, limits)
        return list(a.diagnostics), a.model

    return analyze


# --------------------------------------------------------------------------------------------------
# fixtures: one per code


def _fixture_dirs() -> list[pathlib.Path]:
    return sorted(d for d in INVALID.iterdir() if d.is_dir())


def _run_fixture(folder: pathlib.Path, analyzer: Any = None) -> tuple[ValidationReport, dict[str, Any]]:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    limits = LoaderLimits(**expected.get("limits", {}))
    paths = [folder / p for p in expected.get("paths", ["guideline.yaml"])]
    lock = folder / expected["lock"] if "lock" in expected else None
    report = validate_paths(paths, lock_path=lock, analyzer=analyzer or private_analyzer(limits))
    return report, expected


def _as_expected(folder: pathlib.Path, d: Diagnostic) -> dict[str, Any]:
    return {"code": d.code, "severity": d.severity.value,
            "file": pathlib.Path(d.location.file).relative_to(folder).as_posix(),
            "line": d.location.line, "column": d.location.column}


@pytest.mark.parametrize("folder", _fixture_dirs(), ids=lambda p: p.name)
def test_fixture(folder: pathlib.Path) -> None:
    report, expected = _run_fixture(folder)
    got = report.diagnostics
    want = expected["diagnostics"]
    # exactly the expected diagnostics, in order: code, severity, file, line, column
    assert [_as_expected(folder, d) for d in got] == [
        {k: e[k] for k in ("code", "severity", "file", "line", "column")} for e in want
    ], "\n".join(d.format() for d in got)
    for d, e in zip(got, want, strict=True):
        for fact in e.get("message", []):
            assert fact in d.message, (fact, d.message)
        for fact in e.get("hint", []):
            assert d.hint is not None and fact in d.hint, (fact, d.hint)
        assert [[r.line, r.column] for r in d.related] == e.get("related", [])
    # the fixture is about its own code
    assert any(d.code == folder.name and d.message for d in got)
    assert all(e.get("message") for e in want if e["code"] == folder.name)
    assert report.exit_code == expected["exit_code"]


@pytest.mark.parametrize("folder", _fixture_dirs(), ids=lambda p: p.name)
def test_fixture_through_the_real_loader(folder: pathlib.Path) -> None:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    report, _ = _run_fixture(folder, private_analyzer(LoaderLimits(**expected.get("limits", {}))))
    got = [_as_expected(folder, d) for d in report.diagnostics]
    for e in expected["diagnostics"]:
        if e["code"] == folder.name:
            assert {k: e[k] for k in ("code", "severity", "file", "line", "column")} in got, got


def test_every_code_has_a_fixture_and_every_fixture_a_code() -> None:
    names = {d.name for d in _fixture_dirs()}
    assert names == set(FIXTURE_CODES)


def test_the_minimal_guideline_is_clean() -> None:
    report = validate_paths([MINIMAL], analyzer=private_analyzer())
    assert report.diagnostics == () and report.exit_code == 0
    assert report.files == (str(MINIMAL),)


# --------------------------------------------------------------------------------------------------
# the driver


def _copy_minimal(folder: pathlib.Path, name: str, old: str = "", new: str = "") -> pathlib.Path:
    text = MINIMAL.read_text(encoding="utf-8")
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_file_is_checked_and_one_bad_file_does_not_stop_the_run(tmp_path: pathlib.Path) -> None:
    _copy_minimal(tmp_path, "a.guideline.yaml", "kind: choice", "kind: choise")
    _copy_minimal(tmp_path, "b.guideline.yaml", "kind: choice", "kind: choice\n  kind: collect")
    _copy_minimal(tmp_path, "c.guideline.yaml")
    _copy_minimal(tmp_path, "sub/d.guideline.yml", "    otherwise: not-severe", "    otherwise: nowhere")
    _copy_minimal(tmp_path, "notes.yaml", "kind: choice", "kind: choise")  # not a guideline name: skipped
    _copy_minimal(tmp_path, ".hidden/e.guideline.yaml", "kind: choice", "kind: choise")  # hidden: skipped
    report = validate_paths([tmp_path], analyzer=private_analyzer())
    assert [pathlib.Path(f).relative_to(tmp_path).as_posix() for f in report.files] == [
        "a.guideline.yaml", "b.guideline.yaml", "c.guideline.yaml", "sub/d.guideline.yml"]
    codes = [(pathlib.Path(d.location.file).name, d.code) for d in report.diagnostics]
    assert codes == [("a.guideline.yaml", "schema-enum"), ("b.guideline.yaml", "yaml-syntax"),
                     ("d.guideline.yml", "unknown-target"), ("d.guideline.yml", "unreachable-node")]
    assert report.exit_code == 1 and report.errors == 4 and report.warnings == 0


def test_a_file_named_explicitly_is_checked_whatever_its_name(tmp_path: pathlib.Path) -> None:
    path = _copy_minimal(tmp_path, "notes.yaml", "kind: choice", "kind: choise")
    report = validate_paths([path, path], analyzer=private_analyzer())
    assert report.files == (str(path),)  # named twice, checked once
    assert [d.code for d in report.diagnostics] == ["schema-enum"]


def test_diagnostics_are_sorted_by_file_and_location(tmp_path: pathlib.Path) -> None:
    b = _copy_minimal(tmp_path, "b.guideline.yaml", "status: draft", "status: Draft")
    a = _copy_minimal(tmp_path, "a.guideline.yaml", "kind: choice", "kind: choise")
    a.write_text(a.read_text().replace("title: Minimal", "titel: Minimal"))
    report = validate_paths([b, a], analyzer=private_analyzer())
    keys = [(d.location.file, d.location.line, d.location.column) for d in report.diagnostics]
    assert keys == sorted(keys) and len(keys) == 4


def test_strict_turns_warnings_into_errors(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "g.guideline.yaml"
    shutil.copy(INVALID / "unused-input" / "guideline.yaml", path)
    relaxed = validate_paths([path], analyzer=private_analyzer())
    assert [(d.code, d.severity) for d in relaxed.diagnostics] == [("unused-input", Severity.WARNING)]
    assert relaxed.exit_code == 0
    strict = validate_paths([path], strict=True, analyzer=private_analyzer())
    assert [(d.code, d.severity) for d in strict.diagnostics] == [("unused-input", Severity.ERROR)]
    assert strict.exit_code == 1 and strict.strict


def test_a_missing_path_is_a_usage_error_and_the_other_files_are_checked(tmp_path: pathlib.Path) -> None:
    good = _copy_minimal(tmp_path, "a.guideline.yaml", "kind: choice", "kind: choise")
    report = validate_paths([tmp_path / "nope.guideline.yaml", good], analyzer=private_analyzer())
    assert sorted(d.code for d in report.diagnostics) == ["path-not-found", "schema-enum"]
    assert report.exit_code == 2


def test_an_unreadable_file_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    def analyzer(path: pathlib.Path) -> tuple[list[Diagnostic], GuidelineModel | None]:
        d = Diagnostic("file-unreadable", "cannot read the file: Permission denied", Location(str(path)))
        return [d], None

    path = _copy_minimal(tmp_path, "a.guideline.yaml")
    assert validate_paths([path], analyzer=analyzer).exit_code == 2


def test_a_crash_in_a_stage_is_an_internal_error_and_the_run_goes_on(tmp_path: pathlib.Path) -> None:
    a = _copy_minimal(tmp_path, "a.guideline.yaml")
    b = _copy_minimal(tmp_path, "b.guideline.yaml", "kind: choice", "kind: choise")
    inner = private_analyzer()

    def analyzer(path: pathlib.Path) -> tuple[list[Diagnostic], GuidelineModel | None]:
        if path.name == "a.guideline.yaml":
            raise RuntimeError("boom")
        return inner(path)

    report = validate_paths([a, b], analyzer=analyzer)
    assert [d.code for d in report.diagnostics] == ["internal-error", "schema-enum"]
    d = report.diagnostics[0]
    assert "RuntimeError: boom" in d.message and d.location == Location(str(a))
    assert report.exit_code == 3


def test_the_default_analyzer_is_the_loader(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    import interpreter.tooling.validate as validate

    calls: list[pathlib.Path] = []

    def fake(path: pathlib.Path) -> tuple[list[Diagnostic], GuidelineModel | None]:
        calls.append(path)
        return [], None

    monkeypatch.setattr(validate, "_analyze", fake)
    path = _copy_minimal(tmp_path, "a.guideline.yaml")
    assert validate.validate_paths([path]).exit_code == 0
    assert calls == [path]


def test_discover_skips_hidden_folders_and_sorts(tmp_path: pathlib.Path) -> None:
    for name in ["z.guideline.yaml", "a/b.guideline.yaml", ".git/c.guideline.yaml", "a/.d/e.guideline.yaml",
                 "x.yaml"]:
        _copy_minimal(tmp_path, name)
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == [
        "a/b.guideline.yaml", "z.guideline.yaml"]


# --------------------------------------------------------------------------------------------------
# reporters


def _report_with_problems(tmp_path: pathlib.Path) -> ValidationReport:
    path = _copy_minimal(tmp_path, "g.guideline.yaml", "        then: severe",
                         "        then: severe\n      - when: anc > 0.5\n        then: not-severe")
    path.write_text(path.read_text().replace("kind: choice", "kind: choice\n    title: a, b: c"))
    report = validate_paths([path], analyzer=private_analyzer())
    path2 = _copy_minimal(tmp_path, "h.guideline.yaml", "    otherwise: not-severe",
                          "    otherwise: not-sever")
    report2 = validate_paths([path, path2], analyzer=private_analyzer())
    assert report.diagnostics
    return report2


def test_text_reporter(tmp_path: pathlib.Path) -> None:
    report = _report_with_problems(tmp_path)
    out = DIAGNOSTIC_FORMATS["text"](report)
    lines = out.splitlines()
    f = str(tmp_path / "h.guideline.yaml")
    assert f"{f}:27:16: error[unknown-target]: node 'severity' points to 'not-sever', which is no node or " \
           "recommendation" in lines
    assert "    hint: did you mean 'not-severe'?" in lines
    assert lines[-1] == f"2 files checked: {report.errors} errors, {report.warnings} warnings"
    assert out.endswith("\n")


def test_text_reporter_when_clean() -> None:
    report = validate_paths([MINIMAL], analyzer=private_analyzer())
    assert DIAGNOSTIC_FORMATS["text"](report) == "1 file checked: no problems found\n"


def test_json_reporter_is_stable_and_complete(tmp_path: pathlib.Path) -> None:
    report = _report_with_problems(tmp_path)
    out = DIAGNOSTIC_FORMATS["json"](report)
    data = json.loads(out)
    assert data["format_version"] == 1
    assert data["summary"] == {"files": 2, "errors": report.errors, "warnings": report.warnings,
                               "strict": False, "exit_code": 1}
    assert data["files"] == list(report.files)
    assert data["diagnostics"] == [d.to_json() for d in report.diagnostics]
    first = data["diagnostics"][0]
    assert set(first) >= {"code", "severity", "message", "file", "line", "column", "path"}
    assert out == DIAGNOSTIC_FORMATS["json"](report)  # deterministic


def test_github_reporter_escapes_and_annotates(tmp_path: pathlib.Path) -> None:
    d = Diagnostic("schema-enum", "50% of a, b: c\nsecond line", Location("dir,x/g:1.yaml", 3, 7),
                   Severity.WARNING, hint="did you mean 'choice'?")
    report = ValidationReport((d,), ("dir,x/g:1.yaml",))
    lines = DIAGNOSTIC_FORMATS["github"](report).splitlines()
    assert lines[0] == ("::warning file=dir%2Cx/g%3A1.yaml,line=3,col=7,title=schema-enum::"
                        "50%25 of a, b: c%0Asecond line%0Ahint: did you mean 'choice'?")
    assert lines[-1] == "1 file checked: 0 errors, 1 warning"
    d2 = Diagnostic("path-not-found", "no such file or folder: x", Location("x"))
    out = DIAGNOSTIC_FORMATS["github"](ValidationReport((d2,), ()))
    assert out.splitlines()[0] == "::error file=x,title=path-not-found::no such file or folder: x"


# --------------------------------------------------------------------------------------------------
# the lock


def _model(text: str, file: str = "g.yaml") -> GuidelineModel:
    doc, sm, diags = load_yaml(text.encode(), file)
    assert not diags
    model, mdiags = build_model(doc, sm)
    assert model is not None and not mdiags
    return model


APPROVED = MINIMAL.read_text(encoding="utf-8").replace(
    "status: draft\n", "status: approved\napproval_date: 2026-01-01\nreviewers:\n  - name: R. Viewer\n")


def test_lock_round_trip_and_check(tmp_path: pathlib.Path) -> None:
    model = _model(APPROVED)
    lock_file = tmp_path / LOCK_FILE_NAME
    added, diags = update_lock(lock_file, [model])
    assert diags == [] and added == [LockEntry("minimal-example", "1.0.0", model.content_hash)]
    assert json.loads(lock_file.read_text()) == [
        {"id": "minimal-example", "version": "1.0.0", "content_hash": model.content_hash}]
    lock, problems = read_lock(lock_file)
    assert problems == [] and lock is not None
    assert check_lock([model], lock) == []
    # nothing to add the second time; the file is unchanged
    before = lock_file.read_text()
    assert update_lock(lock_file, [model]) == ([], [])
    assert lock_file.read_text() == before


def test_formatting_and_comments_do_not_change_the_hash() -> None:
    a = _model(APPROVED)
    b = _model("# a new comment\n" + APPROVED.replace("plausible: {min: 0, max: 100}",
                                                      "plausible:\n      min: 0\n      max: 100"))
    assert a.content_hash == b.content_hash


def test_changed_approved_content_is_refused_and_never_relocked(tmp_path: pathlib.Path) -> None:
    lock_file = tmp_path / LOCK_FILE_NAME
    update_lock(lock_file, [_model(APPROVED)])
    changed = _model(APPROVED.replace("Severe neutropenia.", "Severe neutropenia!"))
    lock, _ = read_lock(lock_file)
    (d,) = check_lock([changed], lock)
    assert d.code == "approved-content-changed" and d.is_error
    assert d.location == Location("g.yaml", 3, 10) and d.path == ("version",)
    assert d.hint is not None and "raise `version`" in d.hint
    before = lock_file.read_text()
    added, diags = update_lock(lock_file, [changed])
    assert added == [] and [x.code for x in diags] == ["approved-content-changed"]
    assert lock_file.read_text() == before
    # a new version is fine once locked
    bumped = _model(APPROVED.replace("Severe neutropenia.", "Severe neutropenia!")
                    .replace('version: "1.0.0"', 'version: "1.0.1"'))
    assert [x.code for x in check_lock([bumped], lock)] == ["approved-not-locked"]
    added, diags = update_lock(lock_file, [bumped])
    assert diags == [] and [e.version for e in added] == ["1.0.1"]
    assert [e["version"] for e in json.loads(lock_file.read_text())] == ["1.0.0", "1.0.1"]


def test_drafts_are_not_locked_but_a_locked_version_must_not_change_even_as_a_draft() -> None:
    draft = _model(MINIMAL.read_text())
    assert check_lock([draft], Lock(())) == []
    lock = Lock((LockEntry("minimal-example", "1.0.0", "sha256:" + "1" * 64),), "approved.lock")
    assert [d.code for d in check_lock([draft], lock)] == ["approved-content-changed"]


def test_approved_without_any_lock_file_is_a_warning() -> None:
    (d,) = check_lock([_model(APPROVED)], None)
    assert d.code == "approved-not-locked" and d.severity is Severity.WARNING
    assert d.hint is not None and "guideline lock" in d.hint


def test_two_files_with_one_id_and_version_but_different_content(tmp_path: pathlib.Path) -> None:
    a = _model(APPROVED, "a.yaml")
    b = _model(APPROVED.replace("Severe neutropenia.", "Other text."), "b.yaml")
    added, diags = update_lock(tmp_path / LOCK_FILE_NAME, [a, b])
    assert added == [] and [d.code for d in diags] == ["approved-content-changed"]
    assert "a.yaml" in diags[0].message and diags[0].location.file == "b.yaml"
    assert not (tmp_path / LOCK_FILE_NAME).exists()


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ("{}", "must hold a JSON list"),
    ('[{"id": "a", "version": "1.0.0"}]', "exactly the string fields"),
    ('[{"id": "a", "version": "1.0.0", "content_hash": 5}]', "exactly the string fields"),
    ('[{"id": "a", "version": "1.0.0", "content_hash": "x", "extra": "y"}]', "exactly the string fields"),
    ('[{"id": "a", "id": "b", "version": "1.0.0", "content_hash": "x"}]', "duplicate key 'id'"),
    ('[{"id": "a", "version": "1", "content_hash": "x"}, {"id": "a", "version": "1", "content_hash": "y"}]',
     "listed twice"),
])
def test_invalid_lock_files(text: str, message: str) -> None:
    lock, diags = parse_lock(text, "approved.lock")
    assert lock is None
    (d,) = diags
    assert d.code == "lock-invalid" and message in d.message


def test_render_lock_is_sorted_and_stable() -> None:
    entries = [LockEntry("b", "1.0.0", "h2"), LockEntry("a", "2.0.0", "h3"), LockEntry("a", "1.0.0", "h1")]
    text = render_lock(entries)
    assert [(e["id"], e["version"]) for e in json.loads(text)] == [("a", "1.0.0"), ("a", "2.0.0"),
                                                                   ("b", "1.0.0")]
    assert text == render_lock(reversed(entries)) and text.endswith("\n")


def test_find_locks_does_not_stop_at_a_git_marker(tmp_path: pathlib.Path) -> None:
    # review F1: the search stopped at the first folder holding `.git`, so a `.git` file placed inside a
    # library hid the library's lock; every approved.lock up to the filesystem root now applies
    (tmp_path / LOCK_FILE_NAME).write_text("[]")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "guidelines" / "x").mkdir(parents=True)
    g = repo / "guidelines" / "x" / "a.guideline.yaml"
    g.write_text("")
    assert find_lock(g) == (tmp_path / LOCK_FILE_NAME).resolve()
    (repo / "guidelines" / LOCK_FILE_NAME).write_text("[]")
    (repo / "guidelines" / "x" / ".git").write_text("gitdir: elsewhere\n")
    assert find_lock(g) == (repo / "guidelines" / LOCK_FILE_NAME).resolve()
    assert find_locks(g) == [(repo / "guidelines" / LOCK_FILE_NAME).resolve(),
                             (tmp_path / LOCK_FILE_NAME).resolve()]


def test_validate_uses_the_nearest_lock_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / ".git").mkdir()
    g = tmp_path / "guidelines" / "m" / "m.guideline.yaml"
    g.parent.mkdir(parents=True)
    g.write_text(APPROVED)
    report = validate_paths([tmp_path], analyzer=private_analyzer())
    assert [(d.code, d.severity) for d in report.diagnostics] == [("approved-not-locked", Severity.WARNING)]
    assert validate_paths([tmp_path], strict=True, analyzer=private_analyzer()).exit_code == 1
    lock_file = tmp_path / "guidelines" / LOCK_FILE_NAME
    lock_file.write_text("[]\n")
    report = validate_paths([tmp_path], analyzer=private_analyzer())
    assert [(d.code, d.severity) for d in report.diagnostics] == [("approved-not-locked", Severity.ERROR)]
    _, model = private_analyzer()(g)
    assert model is not None
    update_lock(lock_file, [model])
    assert validate_paths([tmp_path], analyzer=private_analyzer()).diagnostics == ()
    g.write_text(APPROVED.replace("Severe neutropenia.", "Changed."))
    report = validate_paths([tmp_path], analyzer=private_analyzer())
    assert [d.code for d in report.diagnostics] == ["approved-content-changed"]


# --------------------------------------------------------------------------------------------------
# docs/language.md


EXAMPLE = TESTS / "fixtures" / "valid" / "example.guideline.yaml"


def test_the_language_guide_shows_the_example_file_verbatim() -> None:
    text = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert blocks and blocks[0] == EXAMPLE.read_text(encoding="utf-8")


def test_the_language_example_is_valid_even_under_strict() -> None:
    report = validate_paths([EXAMPLE], strict=True)
    assert report.diagnostics == () and report.exit_code == 0, [d.format() for d in report.diagnostics]


def test_the_smaller_snippets_of_the_language_guide_are_schema_valid() -> None:
    """Each later ```yaml block is a fragment; spliced into the example it must still pass the schema."""
    import copy

    text = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[1:]
    data, _, _ = load_yaml(EXAMPLE.read_bytes(), "example")
    for block in blocks:
        fragment, sm, diags = load_yaml(block.replace("actions: [...]", "actions: []").encode(), "snippet")
        assert diags == [] and isinstance(fragment, dict), [d.format() for d in diags]
        doc = copy.deepcopy(data)
        if "dose" in fragment:
            doc["recommendations"][0]["actions"][0]["dose"] = fragment["dose"]
        else:
            doc.update(fragment)
        assert validate_document(doc, sm) == [], block
    assert len(blocks) >= 5


# --------------------------------------------------------------------------------------------------
# guideline lock (lock_paths)


def test_lock_paths_creates_the_lock_in_the_folder_given(tmp_path: pathlib.Path) -> None:
    from interpreter.tooling.validate import lock_paths

    (tmp_path / ".git").mkdir()
    folder = tmp_path / "guidelines"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "a.guideline.yaml").write_text(APPROVED)
    draft = MINIMAL.read_text().replace("minimal-example", "draft-one")
    (folder / "a" / "d.guideline.yaml").write_text(draft)
    report = lock_paths([folder], analyzer=private_analyzer())
    assert report.exit_code == 0 and report.diagnostics == ()
    assert [e.id for e in report.added] == ["minimal-example"]
    assert report.lock_files == (str(folder / LOCK_FILE_NAME),)
    assert validate_paths([folder], strict=True, analyzer=private_analyzer()).exit_code == 0
    again = lock_paths([folder], analyzer=private_analyzer())
    assert again.added == () and again.lock_files == () and again.exit_code == 0


def test_lock_paths_writes_nothing_when_a_file_has_errors(tmp_path: pathlib.Path) -> None:
    from interpreter.tooling.validate import lock_paths

    (tmp_path / "a.guideline.yaml").write_text(APPROVED)
    (tmp_path / "b.guideline.yaml").write_text(APPROVED.replace("kind: choice", "kind: choise"))
    report = lock_paths([tmp_path], analyzer=private_analyzer())
    assert report.exit_code == 1 and [d.code for d in report.diagnostics] == ["schema-enum"]
    assert report.added == () and not (tmp_path / LOCK_FILE_NAME).exists()


def test_lock_paths_refuses_changed_approved_content(tmp_path: pathlib.Path) -> None:
    from interpreter.tooling.validate import lock_paths

    g = tmp_path / "a.guideline.yaml"
    g.write_text(APPROVED)
    lock_file = tmp_path / LOCK_FILE_NAME
    assert lock_paths([g], lock_path=lock_file, analyzer=private_analyzer()).added
    g.write_text(APPROVED.replace("Severe neutropenia.", "Changed."))
    report = lock_paths([g], lock_path=lock_file, analyzer=private_analyzer())
    assert report.exit_code == 1 and [d.code for d in report.diagnostics] == ["approved-content-changed"]


def test_lock_paths_with_a_draft_only_creates_no_file(tmp_path: pathlib.Path) -> None:
    from interpreter.tooling.validate import lock_paths

    shutil.copy(MINIMAL, tmp_path / "m.guideline.yaml")
    report = lock_paths([tmp_path], analyzer=private_analyzer())
    assert report.exit_code == 0 and report.added == () and not (tmp_path / LOCK_FILE_NAME).exists()
    assert lock_paths([tmp_path / "missing"], analyzer=private_analyzer()).exit_code == 2
