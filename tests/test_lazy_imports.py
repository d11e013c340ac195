"""`import interpreter` and `guideline --help` load neither jsonschema, yaml nor the compiler.

Measured in a fresh subprocess, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

import interpreter

HEAVY = (
    "jsonschema", "yaml", "interpreter.compiler.guideline", "interpreter.lang.compile",
    "interpreter.facts.checker", "interpreter.loading.schema", "interpreter.api", "pint", "ucumvert",
    "interpreter.result",  # its frozen dataclasses cost about 9 ms; the format names do not need them
)

_REPORT = """
import json, sys
{body}
print(json.dumps(sorted(m for m in sys.modules if m in {heavy!r} or m.startswith("jsonschema."))))
"""


def _loaded_after(body: str) -> list[str]:
    code = _REPORT.format(body=body, heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_import_interpreter_loads_nothing_heavy() -> None:
    assert _loaded_after("import interpreter") == []


def test_guideline_help_loads_nothing_heavy() -> None:
    body = """
import runpy
sys.argv = ["guideline", "--help"]
try:
    runpy.run_module("interpreter", run_name="__main__")
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""
    assert _loaded_after(body) == []


def test_the_public_names_still_import_and_load_on_use() -> None:
    loaded = _loaded_after("from interpreter import load, Guideline, UNKNOWN\nload('leukopenia')")
    assert {"yaml", "interpreter.loading.schema", "interpreter.compiler.guideline"} <= set(loaded)
    assert "jsonschema" not in loaded  # a valid guideline: the fast check answers, jsonschema is not needed
    for name in interpreter.__all__:
        assert getattr(interpreter, name) is not None
        assert name in dir(interpreter)
    with pytest.raises(AttributeError):
        interpreter.no_such_name  # noqa: B018


# Cold start (issue 12): what `guideline evaluate` and `guideline validate` of a valid file do not need is
# imported on first need only. Each test names one deferred import and a command that must not load it.

_CLI_REPORT = """
import json, runpy, sys
sys.argv = ["guideline", *{argv!r}]
try:
    runpy.run_module("interpreter", run_name="__main__")
except SystemExit as exc:
    assert exc.code in (0, 1), exc.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""

_EVALUATE = ["evaluate", "leukopenia", "examples/mild-leukopenia.json", "--at", "2026-11-24T09:00:00Z"]
_VALIDATE = ["validate", "guidelines/leukopenia/leukopenia.guideline.yaml"]
_REPO = pathlib.Path(__file__).resolve().parent.parent


def _modules_after(argv: list[str]) -> set[str]:
    code = _CLI_REPORT.format(argv=argv)
    cmd = [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True, cwd=_REPO)
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def after_evaluate() -> set[str]:
    return _modules_after(_EVALUATE)


@pytest.fixture(scope="module")
def after_validate() -> set[str]:
    return _modules_after(_VALIDATE)


def _loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_a_valid_guideline_does_not_import_jsonschema(command: str, request: pytest.FixtureRequest) -> None:
    """The compiled fast check answers for a valid file; jsonschema only explains an invalid one."""
    modules: set[str] = request.getfixturevalue(f"after_{command}")
    assert "interpreter.compiler.guideline" in modules  # the command did its work
    assert _loaded(modules, "jsonschema") == []
    assert _loaded(modules, "referencing") == []
    assert "interpreter.loading.schema.explain" not in modules


@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_importlib_metadata_is_imported_only_for_sarif(command: str, request: pytest.FixtureRequest) -> None:
    """The SARIF report's tool version is read on first need, not at every start of the CLI."""
    modules: set[str] = request.getfixturevalue(f"after_{command}")
    assert _loaded(modules, "importlib.metadata") == []


@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_xml_is_imported_only_for_junit(command: str, request: pytest.FixtureRequest) -> None:
    modules: set[str] = request.getfixturevalue(f"after_{command}")
    assert _loaded(modules, "xml") == []


def test_the_deferred_imports_still_happen_on_need(tmp_path: pathlib.Path) -> None:
    """An invalid file still gets jsonschema's located explanation, and SARIF still has its tool version."""
    bad = tmp_path / "bad.guideline.yaml"
    bad.write_text((_REPO / "guidelines/leukopenia/leukopenia.guideline.yaml").read_text(encoding="utf-8")
                   + "\nno_such_key: 1\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "interpreter", "validate", str(bad), "--format", "sarif"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=_REPO)
    assert out.returncode == 1, out.stderr
    sarif = json.loads(out.stdout)
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["version"] != ""
    assert any(r["ruleId"].startswith("schema-") for r in sarif["runs"][0]["results"])


@pytest.mark.parametrize("command", ["evaluate", "validate"])
def test_a_command_imports_no_other_command(command: str, request: pytest.FixtureRequest) -> None:
    """Each command's module is imported when the command is looked up (``cli._LazyCommands``)."""
    modules: set[str] = request.getfixturevalue(f"after_{command}")
    commands = sorted(m for m in modules if m.startswith("interpreter.cli.") and m not in (
        "interpreter.cli.__main__", "interpreter.cli.common", "interpreter.cli.options"))
    assert commands == [f"interpreter.cli.{command}"]


def test_every_command_is_still_listed_and_found() -> None:
    from interpreter.cli import main

    assert sorted(main.commands) == sorted(["validate", "evaluate", "test", "lock", "render", "list",
                                            "examples", "fhir-facts", "serve", "batch", "diff"])
    assert all(main.commands[name].name == name for name in main.commands)
    assert main.commands.get("no-such-command") is None
