"""The wheel carries the licence and the bundled data (schemas, guidelines, example patients)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from interpreter.loading.resources import example_files

REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    for folder in ("schema", "guidelines", "examples"):
        shutil.copytree(REPO / folder, src / folder)
    # symlinks=True keeps interpreter/bundled/{schema,guidelines,examples} the links they are in the repo
    shutil.copytree(REPO / "interpreter", src / "interpreter", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [whl] = out.glob("*.whl")
    return zipfile.ZipFile(whl)


def test_the_wheel_holds_license_schemas_guidelines_and_examples(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    [lic] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert "Apache License" in wheel.read(lic).decode()
    bundled = "interpreter/bundled/"
    for f in ("schema/guideline.schema.json", "schema/result.schema.json", "schema/tests.schema.json",
              "guidelines/leukopenia/leukopenia.guideline.yaml",
              "guidelines/leukopenia/leukopenia.tests.yaml"):
        assert bundled + f in names
    for f in (REPO / "examples").glob("*.json"):
        assert wheel.read(f"{bundled}examples/{f.name}") == f.read_bytes()
    [meta] = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = wheel.read(meta).decode()
    assert "License-Expression: Apache-2.0" in text and "License-File: LICENSE" in text


def test_the_examples_are_found_through_the_package() -> None:
    found = example_files()
    assert set(found) == {p.stem for p in (REPO / "examples").glob("*.json")}
    assert found["mild-leukopenia"].read_text(encoding="utf-8") == (
        REPO / "examples" / "mild-leukopenia.json").read_text(encoding="utf-8")


def _cli(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from interpreter.cli import main

    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_guideline_examples_lists_prints_and_locates_the_examples() -> None:
    code, out, _ = _cli("examples")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [r[0] for r in rows] == sorted(p.stem for p in (REPO / "examples").glob("*.json"))
    for name, path in rows:
        assert pathlib.Path(path).read_bytes() == (REPO / "examples" / f"{name}.json").read_bytes()
    code, out, _ = _cli("examples", "missing-anc")
    assert code == 0 and out == (REPO / "examples" / "missing-anc.json").read_text(encoding="utf-8")
    code, out, _ = _cli("examples", "--path", "missing-anc.json")
    assert code == 0 and pathlib.Path(out.strip()).name == "missing-anc.json"


@pytest.mark.parametrize("args", [("examples", "no-such\npatient"), ("examples", "--path")])
def test_guideline_examples_refuses_an_unknown_or_missing_name(args: tuple[str, ...]) -> None:
    code, out, err = _cli(*args)
    assert code == 2 and out == ""
    assert "\n" not in err.strip()  # the name is echoed escaped: it cannot forge a line
