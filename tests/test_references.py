"""Guideline references are unambiguous (issue 7, 2.1): a file never stands in for a bundled guideline, and
the content of a file that is not a guideline is never echoed."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil

import pytest
from click.testing import CliRunner

import interpreter
from interpreter import GuidelineError
from interpreter.cli import main
from interpreter.compiler.loader import analyze_file
from interpreter.loading.library import list_guidelines, parse_reference
from interpreter.tooling.validate import discover_checked

HERE = pathlib.Path(__file__).resolve().parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
EXAMPLE = HERE.parent / "examples" / "severe-chemo-neutropenia-pounds.json"
AT = "2026-11-24T09:00:00Z"
SHADOW = (
    "r00tq:$6$saltsalt$hashhashSECRET:19000:0:99999:7:::\n"
    "daem0nq:*:19000:0:99999:7:::\n"
    "api_token: hunter2-SECRET\n"
)


@pytest.fixture
def impostor_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A working folder holding a file named `leukopenia` (another guideline) and a folder `leukopenia/`."""
    shutil.copy(MINI, tmp_path / "leukopenia")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "leukopenia").mkdir()
    shutil.copy(MINI, tmp_path / "sub" / "leukopenia" / "leukopenia.guideline.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_in(folder: pathlib.Path, *args: str) -> tuple[int, str, str]:
    with contextlib.chdir(folder):
        return run(*args)


# -- how a reference is read -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("leukopenia", "id"),
        ("mini-neutropenia", "id"),
        ("./leukopenia", "file"),
        ("dir/leukopenia", "file"),
        ("/etc/shadow", "file"),
        ("x.guideline.yaml", "file"),
        ("x.YML", "file"),
        (pathlib.Path("leukopenia"), "file"),
    ],
)
def test_a_reference_is_read_from_how_it_is_written(ref: str | pathlib.Path, kind: str) -> None:
    assert parse_reference(ref).kind == kind


@pytest.mark.parametrize("ref", ["Leukopenia", "leuko penia", "", ".", "..", "-x", "a" * 200, "leuko\npenia"])
def test_a_reference_that_is_neither_an_id_nor_a_path_is_refused(ref: str) -> None:
    with pytest.raises(GuidelineError) as info:
        interpreter.load(ref)
    (d,) = info.value.diagnostics
    assert d.code == "guideline-ref-invalid"
    assert d.hint is not None and "./" in d.hint and ".yaml" in d.hint and "id" in d.hint
    assert "\n" not in d.message


# -- the API ------------------------------------------------------------------------------------------


def test_api_a_file_named_like_a_bundled_id_does_not_replace_it(impostor_dir: pathlib.Path) -> None:
    g = interpreter.load("leukopenia")
    assert g.title.startswith("Leukopenia and neutropenia")
    assert pathlib.Path(g.file).resolve() != (impostor_dir / "leukopenia").resolve()
    os.chdir(impostor_dir / "sub")  # a folder named leukopenia: still the bundled guideline
    assert interpreter.load("leukopenia").content_hash == g.content_hash


def test_api_the_file_is_loaded_when_written_as_a_path(impostor_dir: pathlib.Path) -> None:
    assert interpreter.load("./leukopenia").id == "mini-neutropenia"
    assert interpreter.load(pathlib.Path("leukopenia")).id == "mini-neutropenia"


def test_api_a_folder_written_as_a_path_is_not_a_guideline(impostor_dir: pathlib.Path) -> None:
    os.chdir(impostor_dir / "sub")
    with pytest.raises(GuidelineError) as info:
        interpreter.load("./leukopenia")
    assert [d.code for d in info.value.diagnostics] == ["file-unreadable"]


def test_api_the_content_of_a_file_that_is_not_a_guideline_is_never_echoed(tmp_path: pathlib.Path) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    for ref in (shadow, str(shadow)):
        with pytest.raises(GuidelineError) as info:
            interpreter.load(ref)
        (d,) = info.value.diagnostics
        assert d.code == "file-not-a-guideline"
        text = d.format()
        for secret in ("r00tq", "daem0nq", "SECRET", "api_token", "hunter2", "19000"):
            assert secret not in text, text


@pytest.mark.parametrize(
    "content",
    [SHADOW.encode(), b"\x00\x01bin", b"key: [unclosed\n", b"\xff\xfek\x00", b"a: \xc3(\n", b"- a\n", b"~\n"],
)
def test_no_failure_of_a_foreign_file_quotes_it(tmp_path: pathlib.Path, content: bytes) -> None:
    f = tmp_path / "id_rsa"
    f.write_bytes(content)
    analysis = analyze_file(f)
    assert [d.code for d in analysis.diagnostics] == ["file-not-a-guideline"]


def test_a_yaml_file_still_gets_every_diagnostic(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "draft.guideline.yaml"
    f.write_text("secret_key: visible\n")
    codes = {d.code for d in analyze_file(f).diagnostics}
    assert "schema-unknown-key" in codes and "file-not-a-guideline" not in codes


def test_a_valid_guideline_without_a_yaml_name_loads(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "mini"
    shutil.copy(MINI, f)
    assert interpreter.load(f).id == "mini-neutropenia"


# -- the command line -----------------------------------------------------------------------------------


def test_cli_an_id_that_is_also_a_file_here_is_refused_as_ambiguous(impostor_dir: pathlib.Path) -> None:
    code, out, err = run("evaluate", "leukopenia", str(EXAMPLE), "--at", AT)
    assert code == 2 and out == ""
    assert "guideline-ref-ambiguous" in err
    assert "./leukopenia" in err and "--bundled" in err


def test_cli_bundled_and_dot_slash_say_which_one(impostor_dir: pathlib.Path) -> None:
    code, out, _ = run("evaluate", "--bundled", "leukopenia", str(EXAMPLE), "--at", AT)
    assert code == 0 and "guideline leukopenia 1.1.0" in out
    code, out, _ = run("evaluate", "./leukopenia", str(EXAMPLE), "--at", AT)
    assert code in (0, 1) and "guideline mini-neutropenia" in out
    code, _, err = run("evaluate", "--bundled", "./leukopenia", str(EXAMPLE), "--at", AT)
    assert code == 2 and "guideline-ref-invalid" in err


def test_cli_a_folder_named_like_the_id_does_not_hide_bundled(impostor_dir: pathlib.Path) -> None:
    os.chdir(impostor_dir / "sub")
    code, out, _ = run("evaluate", "leukopenia", str(EXAMPLE), "--at", AT)
    assert code == 0 and "guideline leukopenia 1.1.0" in out
    code, out, _ = run("render", "leukopenia")
    assert code == 0 and "Leukopenia and neutropenia" in out


def test_cli_render_refuses_the_ambiguous_reference_too(impostor_dir: pathlib.Path) -> None:
    code, out, err = run("render", "leukopenia")
    assert code == 2 and out == "" and "guideline-ref-ambiguous" in err
    code, out, _ = run("render", "--bundled", "leukopenia")
    assert code == 0 and "Leukopenia and neutropenia" in out


def test_cli_never_echoes_a_file_that_is_not_a_guideline(tmp_path: pathlib.Path) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    for args in (("evaluate", str(shadow), str(EXAMPLE)), ("render", str(shadow)), ("validate", str(shadow))):
        code, out, err = run(*args)
        assert code in (1, 2), (args, code)
        assert "file-not-a-guideline" in out + err
        for secret in ("r00tq", "daem0nq", "SECRET", "api_token", "hunter2"):
            assert secret not in out + err, (args, out + err)


def test_cli_help_documents_the_reference_forms() -> None:
    for cmd in ("evaluate", "render"):
        code, out, _ = run(cmd, "--help")
        assert code == 0 and "./leukopenia" in out and "--bundled" in out and ".yaml" in out


# -- null documents and dose numbers (issue 7, 2.8) ------------------------------------------------------


@pytest.mark.parametrize("text", ["~\n", "null\n", "--- ~\n", "---\nnull\n...\n", "# c\n~\n"])
def test_a_null_document_is_refused_like_an_empty_file(tmp_path: pathlib.Path, text: str) -> None:
    f = tmp_path / "n.guideline.yaml"
    f.write_text(text)
    diags = analyze_file(f).diagnostics
    assert [d.code for d in diags] == ["yaml-empty"] and diags[0].location.line >= 1
    code, out, _ = run("validate", str(f))
    assert code == 1 and "yaml-empty" in out


@pytest.mark.parametrize(
    ("dose", "code"),
    [
        ("{amount: 1e999, unit: ug}", "schema-range"),
        ("{amount: 5, unit: ug, round_to: 1e-999}", "dose-number-range"),
        ("{amount: 5, unit: ug, round_to: 5000}", "schema-range"),
        ("{amount: 5.0000001, unit: ug}", "dose-number-range"),
        ("{amount: 1234567, unit: ug}", "schema-range"),
        ("{amount: 5, unit: ug, max: 123456.7}", "dose-number-range"),
        ("{amount: 5, unit: ug, warn_above: 1e-999}", "dose-number-range"),
    ],
)
def test_dose_numbers_are_bounded_at_load(tmp_path: pathlib.Path, dose: str, code: str) -> None:
    text = MINI.read_text()
    start = text.index("dose: {")
    end = text.index("}", start) + 1
    f = tmp_path / "d.guideline.yaml"
    f.write_text(text[:start] + "dose: " + dose + text[end:])
    codes = [d.code for d in analyze_file(f).diagnostics if d.is_error]
    assert codes == [code], codes
    with pytest.raises(GuidelineError):
        interpreter.load(f)


def test_sane_dose_numbers_still_load(tmp_path: pathlib.Path) -> None:
    text = MINI.read_text()
    start = text.index("dose: {")
    end = text.index("}", start) + 1
    f = tmp_path / "d.guideline.yaml"
    f.write_text(text[:start] + "dose: {amount: 5, unit: ug, round_to: 0.001, max: 999999}" + text[end:])
    assert interpreter.load(f).id == "mini-neutropenia"


# review F4: only the name as typed was checked, so a link named *.yaml echoed the file it links to, and a
# folder scan followed `x/evil.guideline.yaml -> ~/.ssh/id_rsa` and quoted the key
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktSECRETkey\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = ("r00tq", "daem0nq", "SECRET", "api_token", "hunter2", "OPENSSH", "b3Blbn")


def _assert_nothing_quoted(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


@pytest.mark.parametrize("content", [SHADOW, KEY])
@pytest.mark.parametrize("link", ["s.yaml", "s.guideline.yaml", "s.YML"])
def test_a_link_named_yaml_to_a_file_that_is_not_a_guideline_is_never_echoed(
    tmp_path: pathlib.Path, content: str, link: str
) -> None:
    secret = tmp_path / "private" / "shadow"
    secret.parent.mkdir()
    secret.write_text(content)
    (tmp_path / link).symlink_to(secret)
    analysis = analyze_file(tmp_path / link)
    assert [d.code for d in analysis.diagnostics] == ["file-not-a-guideline"]
    assert "links to" in analysis.diagnostics[0].message
    for args in (("validate", link), ("evaluate", f"./{link}", str(EXAMPLE)), ("render", f"./{link}")):
        code, out, err = run_in(tmp_path, *args)
        assert code in (1, 2) and "file-not-a-guideline" in out + err, (args, out + err)
        _assert_nothing_quoted(out + err)


@pytest.mark.parametrize("content", [KEY, "- SECRET\n- api_token\n", "SECRET\n", "'hunter2-SECRET'\n"])
def test_a_yaml_document_that_is_not_a_mapping_is_never_quoted(tmp_path: pathlib.Path, content: str) -> None:
    f = tmp_path / "key.guideline.yaml"
    f.write_text(content)
    (d,) = analyze_file(f).diagnostics
    assert d.code == "file-not-a-guideline" and "not a mapping" in d.message
    _assert_nothing_quoted(d.format())


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_folder_scan_does_not_follow_a_link_out_of_the_folder(tmp_path: pathlib.Path, fmt: str) -> None:
    secret = tmp_path / "home" / ".ssh" / "id_rsa"
    secret.parent.mkdir(parents=True)
    secret.write_text(KEY)
    lib = tmp_path / "guidelines"
    (lib / "x").mkdir(parents=True)
    shutil.copy(MINI, lib / "x" / "mini.guideline.yaml")
    (lib / "x" / "evil.guideline.yaml").symlink_to(secret)
    (lib / "x" / "gone.guideline.yaml").symlink_to(tmp_path / "nowhere.guideline.yaml")
    code, out, err = run("validate", str(lib), "--format", fmt)
    assert code == 2, out + err
    assert out.count("file-unreadable") == 2 and "not followed" in out, out
    _assert_nothing_quoted(out + err)
    files, refused = discover_checked(lib)
    assert files == [lib / "x" / "mini.guideline.yaml"]
    names = [pathlib.Path(d.location.file).name for d in refused]
    assert names == ["evil.guideline.yaml", "gone.guideline.yaml"]
    code, out, err = run("lock", str(lib))
    assert code == 2 and not (lib / "approved.lock").exists(), out + err
    _assert_nothing_quoted(out + err)


def test_a_link_inside_the_scanned_folder_is_followed(tmp_path: pathlib.Path) -> None:
    lib = tmp_path / "guidelines"
    (lib / "x").mkdir(parents=True)
    shutil.copy(MINI, lib / "mini.guideline.yaml")
    (lib / "x" / "alias.guideline.yaml").symlink_to(lib / "mini.guideline.yaml")
    (lib / "notes.txt").write_text(KEY)
    (lib / "x" / "notes.guideline.yaml").symlink_to(lib / "notes.txt")
    code, out, err = run("validate", str(lib))
    assert code == 1 and "file-not-a-guideline" in out and "file-unreadable" not in out, out
    _assert_nothing_quoted(out + err)


def test_the_library_scan_does_not_follow_a_link_out_of_its_folder(tmp_path: pathlib.Path) -> None:
    outside = tmp_path / "outside.guideline.yaml"
    shutil.copy(MINI, outside)
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "linked.guideline.yaml").symlink_to(outside)
    shutil.copy(MINI, lib / "mini.guideline.yaml")
    (lib / "inner.guideline.yaml").symlink_to(lib / "mini.guideline.yaml")
    assert [e.path.name for e in list_guidelines(lib)] == ["inner.guideline.yaml", "mini.guideline.yaml"]
