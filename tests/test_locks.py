"""One library has one lock (issue 7, 2.7): a second, nearer lock cannot hide the library's lock, and changed
approved content is refused by validate, load/evaluate and test."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from click.testing import CliRunner

import interpreter
from interpreter import GuidelineError
from interpreter.cli import main
from interpreter.compiler.loader import analyze_file
from interpreter.loading.lock import LOCK_FILE_NAME, MAX_LOCK_BYTES, find_locks, parse_lock, read_lock

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
APPROVAL = (
    'approval_date: "2026-11-02"\nreviewers: [{name: Dr Reviewer, role: hematologist, date: "2026-11-02"}]\n'
)
AT = "2026-11-24T09:00:00Z"
FACTS = {
    "anc": {"value": 700, "unit": "/uL", "at": "2026-11-24T06:00:00Z"},
    "febrile": False,
    "weight": {"value": 70, "unit": "kg"},
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def library(tmp_path: pathlib.Path) -> pathlib.Path:
    """A repository with a library `lib/` whose approved guideline `lib/x/mini.guideline.yaml` is locked in
    `lib/approved.lock`; the facts file is `facts.json` and a test file sits beside the guideline."""
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "lib" / "x"
    folder.mkdir(parents=True)
    text = MINI.read_text().replace("status: draft\n", "status: approved\n" + APPROVAL)
    (folder / "mini.guideline.yaml").write_text(text)
    (tmp_path / "facts.json").write_text(json.dumps(FACTS))
    (folder / "mini.tests.yaml").write_text(
        f"guideline: mini.guideline.yaml\nat: '{AT}'\ncases:\n"
        "  - name: anything\n    facts: {}\n    expect: {status: incomplete}\n"
    )
    code, out = run("lock", str(tmp_path / "lib"))
    assert code == 0 and (tmp_path / "lib" / LOCK_FILE_NAME).is_file(), out
    return tmp_path


def change_content(repo: pathlib.Path) -> pathlib.Path:
    g = repo / "lib" / "x" / "mini.guideline.yaml"
    g.write_text(g.read_text().replace("Give filgrastim.", "Give twice the filgrastim."))
    assert "twice" in g.read_text()
    return g


def test_the_locked_library_is_usable(library: pathlib.Path) -> None:
    g = library / "lib" / "x" / "mini.guideline.yaml"
    assert run("validate", str(library / "lib"))[0] == 0
    assert interpreter.load(g).status == "approved"
    assert run("evaluate", str(g), str(library / "facts.json"), "--at", AT)[0] in (0, 1)
    assert run("test", str(library / "lib"))[0] == 0


def test_lock_refuses_to_write_a_nearer_lock_that_would_hide_the_library_lock(library: pathlib.Path) -> None:
    change_content(library)
    nearer = library / "lib" / "x" / LOCK_FILE_NAME
    code, out = run("lock", "--lock", str(nearer), str(library / "lib" / "x"))
    assert code == 1 and "lock-conflict" in out and "second lock" in out
    assert not nearer.exists()


def test_lock_refuses_to_write_a_lock_above_the_library_lock(tmp_path: pathlib.Path) -> None:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "lib"
    folder.mkdir()
    text = MINI.read_text().replace("status: draft\n", "status: approved\n" + APPROVAL)
    (folder / "mini.guideline.yaml").write_text(text)
    assert run("lock", str(folder))[0] == 0
    above = tmp_path / LOCK_FILE_NAME
    code, out = run("lock", "--lock", str(above), str(folder))
    assert code == 1 and "lock-conflict" in out and not above.exists()


def test_lock_refuses_a_lock_file_that_would_never_apply(library: pathlib.Path) -> None:
    elsewhere = library / "other" / "custom.lock"
    elsewhere.parent.mkdir()
    code, out = run("lock", "--lock", str(elsewhere), str(library / "lib"))
    assert code == 1 and "would not apply" in out and not elsewhere.exists()


def test_a_nearer_lock_written_by_hand_hides_nothing(library: pathlib.Path) -> None:
    """The bypass as it was: relock the changed content in a nearer lock. Refused everywhere."""
    g = change_content(library)
    nearer = library / "lib" / "x" / LOCK_FILE_NAME
    nearer.write_text("[]\n")  # what the old `guideline lock --lock lib/x/approved.lock lib/x` began with
    code, out = run("lock", "--lock", str(nearer), str(library / "lib" / "x"))
    assert code == 1 and "lock-conflict" in out  # refuses to extend a second lock as well
    assert json.loads(nearer.read_text()) == []
    changed = analyze_file(g).model
    assert changed is not None
    changed_hash = changed.content_hash
    entry = {"id": "mini-neutropenia", "version": "1.2.0", "content_hash": changed_hash}
    nearer.write_text(json.dumps([entry]))
    assert [p.parent.name for p in find_locks(g)] == ["x", "lib"]

    code, out = run("validate", str(library / "lib"))
    assert code == 1 and "lock-conflict" in out and "approved-content-changed" in out
    code, out = run("validate", "--lock", str(nearer), str(library / "lib"))
    assert code == 1 and "approved-content-changed" in out  # --lock adds a lock, never replaces the others
    with pytest.raises(GuidelineError) as info:
        interpreter.load(g)
    assert {d.code for d in info.value.diagnostics} == {"lock-conflict", "approved-content-changed"}
    code, out = run("evaluate", str(g), str(library / "facts.json"), "--at", AT)
    assert code == 2 and "approved-content-changed" in out and "RECOMMENDATIONS" not in out
    code, out = run("test", str(library / "lib"))
    assert code == 1 and "approved-content-changed" in out


def test_changed_content_with_no_second_lock_is_refused_everywhere(library: pathlib.Path) -> None:
    g = change_content(library)
    assert "approved-content-changed" in run("validate", str(library / "lib"))[1]
    with pytest.raises(GuidelineError):
        interpreter.load(g)
    assert run("test", str(library / "lib"))[0] == 1


def test_a_locked_version_set_back_to_draft_with_changed_content_is_refused_at_load(
    library: pathlib.Path,
) -> None:
    g = change_content(library)
    g.write_text(g.read_text().replace("status: approved\n" + APPROVAL, "status: draft\n"))
    with pytest.raises(GuidelineError) as info:
        interpreter.load(g)
    assert [d.code for d in info.value.diagnostics] == ["approved-content-changed"]


# review F1: a `.git` marker placed inside the library ended the lock search there, so `guideline lock`
# wrote a second lock for the changed content and validate/evaluate used only that one
@pytest.mark.parametrize("marker", ["file", "folder"])
def test_a_nested_git_marker_does_not_hide_the_library_lock(library: pathlib.Path, marker: str) -> None:
    g = change_content(library)
    assert run("validate", str(library / "lib"))[0] == 1
    git = library / "lib" / "x" / ".git"
    if marker == "file":
        git.write_text("gitdir: ../../.git\n")
    else:
        git.mkdir()
    nearer = library / "lib" / "x" / LOCK_FILE_NAME
    code, out = run("lock", str(library / "lib" / "x"))
    assert code == 1 and "approved-content-changed" in out, out
    assert not nearer.exists()
    code, out = run("lock", "--lock", str(nearer), str(library / "lib" / "x"))
    assert code == 1 and "lock-conflict" in out and not nearer.exists(), out
    code, out = run("validate", str(library / "lib"))
    assert code == 1 and "approved-content-changed" in out, out
    code, out = run("validate", str(library / "lib" / "x"))
    assert code == 1 and "approved-content-changed" in out, out
    code, out = run("evaluate", str(g), str(library / "facts.json"), "--at", AT)
    assert code == 2 and "approved-content-changed" in out and "RECOMMENDATIONS" not in out, out
    with pytest.raises(GuidelineError):
        interpreter.load(g)


def test_a_second_lock_behind_a_nested_git_marker_conflicts(library: pathlib.Path) -> None:
    """The state the bypass left behind (a nested `.git` and a nearer lock of the changed content)."""
    g = change_content(library)
    (library / "lib" / "x" / ".git").write_text("gitdir: ../../.git\n")
    changed = analyze_file(g).model
    assert changed is not None
    entry = {"id": changed.id, "version": changed.version, "content_hash": changed.content_hash}
    (library / "lib" / "x" / LOCK_FILE_NAME).write_text(json.dumps([entry]))
    assert [p.parent.name for p in find_locks(g)] == ["x", "lib"]
    code, out = run("validate", str(library / "lib"))
    assert code == 1 and "lock-conflict" in out and "approved-content-changed" in out, out
    with pytest.raises(GuidelineError) as info:
        interpreter.load(g)
    assert {d.code for d in info.value.diagnostics} == {"lock-conflict", "approved-content-changed"}


def test_a_lock_above_the_repository_root_applies(tmp_path: pathlib.Path) -> None:
    """One library, one lock, up to the filesystem root: a lock outside the repository is read too; an
    unrelated lock that does not list the guideline does not refuse it, an invalid one does (fail closed)."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "lib").mkdir()
    g = repo / "lib" / "mini.guideline.yaml"
    g.write_text(MINI.read_text().replace("status: draft\n", "status: approved\n" + APPROVAL))
    assert run("lock", str(repo / "lib"))[0] == 0
    outer = tmp_path / LOCK_FILE_NAME
    outer.write_text(json.dumps([{"id": "other", "version": "1.0.0", "content_hash": "sha256:0"}]))
    assert run("validate", str(repo / "lib"))[0] == 0
    assert interpreter.load(g).status == "approved"
    model = analyze_file(g).model
    assert model is not None
    outer.write_text(json.dumps([{"id": model.id, "version": model.version, "content_hash": "sha256:0"}]))
    code, out = run("validate", str(repo / "lib"))
    assert code == 1 and "lock-conflict" in out, out
    outer.write_text("[")
    code, out = run("validate", str(repo / "lib"))
    assert code == 1 and "lock-invalid" in out, out
    with pytest.raises(GuidelineError) as info:
        interpreter.load(g)
    assert [d.code for d in info.value.diagnostics] == ["lock-invalid"]


# review F3: lock files were read whole and parsed with no depth limit (MemoryError / RecursionError, exit 3)
def _lock_cases(lock: pathlib.Path, case: str) -> str:
    if case == "huge":
        with open(lock, "wb") as fh:  # sparse: 3 GB by its size, nothing on disk
            fh.truncate(3 * 1024**3)
        return "larger than"
    if case == "just-over":
        lock.write_text("[" + " " * MAX_LOCK_BYTES + "]")
        return "larger than"
    if case == "deep":
        lock.write_text("[" * 100001 + "]" * 100001)
        return "nested more than"
    if case == "deep-objects":
        lock.write_text('{"a":' * 20 + "1" + "}" * 20)
        return "nested more than"
    lock.write_bytes(b'[{"id": "\xff"}]')
    return "not UTF-8"


@pytest.mark.parametrize("case", ["huge", "just-over", "deep", "deep-objects", "latin1"])
def test_a_hostile_lock_file_is_lock_invalid(library: pathlib.Path, case: str) -> None:
    g = library / "lib" / "x" / "mini.guideline.yaml"
    lock = library / "lib" / LOCK_FILE_NAME
    message = _lock_cases(lock, case)
    diags = read_lock(lock)[1]
    assert [d.code for d in diags] == ["lock-invalid"] and message in diags[0].message
    code, out = run("validate", str(library / "lib"))
    assert code == 1 and "lock-invalid" in out and message in out, out
    code, out = run("evaluate", str(g), str(library / "facts.json"), "--at", AT, "--format", "json")
    assert code == 2 and "lock-invalid" in out and "internal" not in out, out
    with pytest.raises(GuidelineError) as info:
        interpreter.load(g)
    assert [d.code for d in info.value.diagnostics] == ["lock-invalid"]


def test_a_lock_file_at_the_limits_is_read() -> None:
    entry = {"id": "a", "version": "1.0.0", "content_hash": "sha256:00"}
    text = json.dumps([entry])
    lock, diags = parse_lock(text + " " * (MAX_LOCK_BYTES - len(text)), "approved.lock")
    assert diags == [] and lock is not None and len(lock.entries) == 1
    deep = json.dumps([{"id": "[[[[[[[[[[[[", "version": "{{{{{{{{{{{", "content_hash": "x"}])
    assert parse_lock(deep, "approved.lock")[1] == []  # brackets inside strings do not count


def test_a_lock_that_is_not_a_regular_file_is_never_opened(library: pathlib.Path) -> None:
    lock = library / "lib" / LOCK_FILE_NAME
    lock.unlink()
    os.mkfifo(lock)  # opening it for reading would block forever
    code, out = run("validate", str(library / "lib"))
    assert code == 2 and "lock-unreadable" in out and "not a regular file" in out, out
    lock.unlink()
    lock.mkdir()
    code, out = run("validate", str(library / "lib"))
    assert code == 2 and "lock-unreadable" in out, out
    lock.rmdir()
    lock.symlink_to(library / "nowhere")
    code, out = run("validate", str(library / "lib"))
    assert code == 2 and "lock-unreadable" in out, out
