"""`import interpreter` and `guideline --help` load neither jsonschema, yaml nor the compiler.

Measured in a fresh subprocess, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import interpreter

HEAVY = (
    "jsonschema", "yaml", "interpreter.compiler.guideline", "interpreter.lang.compile",
    "interpreter.facts.checker", "interpreter.loading.schema", "interpreter.api", "pint", "ucumvert",
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
    assert {"yaml", "jsonschema", "interpreter.compiler.guideline"} <= set(loaded)
    for name in interpreter.__all__:
        assert getattr(interpreter, name) is not None
        assert name in dir(interpreter)
    with pytest.raises(AttributeError):
        interpreter.no_such_name  # noqa: B018
