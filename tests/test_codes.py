"""The registry of codes (``interpreter/codes.py``): complete, documented, indexed, and used by the source.

The other completeness tests derive their lists from the registry by stage: one fixture per load-time code
(tests/test_validate.py), one conformance case per expression and fact code (tests/test_conformance.py).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import re
from types import ModuleType

from interpreter.codes import CODES, Code, Stage
from interpreter.errors import INTERNAL_EVALUATION_CODES, Severity

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = REPO / "interpreter"
DOC = REPO / "docs" / "diagnostics.md"
KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")

#: Kebab-case string literals of the package that are not codes, and what they are.
NOT_CODES = {
    "cannot-compute": "a dose result's status (result.py)",
    "cannot-decide": "the keyword of a choice's `unknown:` and the result status",
    "in-review": "a guideline status",
    "stop-drug": "an action type",
    "utf-8": "an encoding name",
    "site-packages": "a folder name (bundled-file lookup)",
    "guideline-interpreter": "the distribution's name",
    "test-reports": "a kind of output format (output/registry.py)",
    "fhir-facts": "a command name (cli/fhir.py)",
}

#: Code prefixes and the stage each belongs to (codes without one of these prefixes are not checked here).
PREFIX_STAGES = {
    "yaml-": Stage.YAML,
    "schema-": Stage.SCHEMA,
    "lifecycle-": Stage.STRUCTURE,
    "input-": Stage.INPUTS,
    "threshold-": Stage.THRESHOLDS,
    "expr-": Stage.EXPRESSION,
    "unit-": Stage.UNITS,
    "lock-": Stage.LOCK,
    "fact-": Stage.FACTS,
    "eval-": Stage.EVALUATION,
    "test-": Stage.TEST_FILE,
}


def _tool() -> ModuleType:
    path = REPO / "tools" / "gen_diagnostics_index.py"
    spec = importlib.util.spec_from_file_location("gen_diagnostics_index", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_code_has_an_entry() -> None:
    assert set(CODES) == set(Code)
    for code, info in CODES.items():
        assert KEBAB.fullmatch(code.value) or code.value == "cycle", code
        assert code.name == code.value.upper().replace("-", "_"), code
        assert Severity(info.severity) in Severity
        assert info.summary and "\n" not in info.summary and "|" not in info.summary, code


def test_a_code_is_its_text() -> None:
    assert Code.YAML_TOO_DEEP == "yaml-too-deep"
    assert f"{Code.CYCLE}" == str(Code.CYCLE) == "cycle"


def test_stages_follow_the_prefixes() -> None:
    for code, info in CODES.items():
        for prefix, stage in PREFIX_STAGES.items():
            if code.value.startswith(prefix):
                assert info.stage is stage, code


def test_the_internal_evaluation_codes_are_the_registry_s() -> None:
    internal = {c for c, i in CODES.items() if i.internal and i.stage in (Stage.EXPRESSION, Stage.EVALUATION)}
    assert internal == INTERNAL_EVALUATION_CODES


def test_the_index_in_the_docs_is_what_the_tool_generates() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert _tool().updated(text) == text, "run python tools/gen_diagnostics_index.py"


def test_every_code_is_documented() -> None:
    """Every code is named outside the index; every code a fixture triggers has its own ``###`` section."""
    text = DOC.read_text(encoding="utf-8")
    tool = _tool()
    documented = tool.sections(text)
    assert [c.value for c in Code if c.value not in documented] == []
    headings = re.findall(r"^### (.+)$", text, flags=re.M)
    headed = {code for h in headings for code in re.findall(r"`([a-z0-9-]+)`", h)}
    sections = (Stage.YAML, Stage.SCHEMA, Stage.STRUCTURE, Stage.INPUTS, Stage.DOSES, Stage.THRESHOLDS,
                Stage.LOCK, Stage.VALIDATOR, Stage.FACTS, Stage.CLI)
    assert [c.value for c in Code if CODES[c].stage in sections and c.value not in headed] == []


#: The integrations (FHIR, CDS Hooks) write the kebab-case vocabulary of their standards ("entered-in-error",
#: "patient-view", "data-required"), which are not codes of ours; their own tests check that vocabulary.
EXT = PACKAGE / "ext"


def _source_strings(*, skip_ext: bool = False) -> tuple[set[str], set[str]]:
    """The string constants of the package (but this registry) and the ``Code.X`` names it uses."""
    strings: set[str] = set()
    members: set[str] = set()
    for module in sorted(PACKAGE.rglob("*.py")):
        if module == PACKAGE / "codes.py" or (skip_ext and EXT in module.parents):
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "Code":
                members.add(node.attr)
    return strings, members


def test_every_code_the_source_writes_is_registered() -> None:
    strings, members = _source_strings(skip_ext=True)
    registered = {c.value for c in Code}
    unregistered = sorted(
        s for s in strings if KEBAB.fullmatch(s) and s not in registered and s not in NOT_CODES)
    assert unregistered == [], "add them to interpreter/codes.py (or, if not codes, to NOT_CODES)"
    assert members <= set(Code.__members__), sorted(members - set(Code.__members__))
    assert set(NOT_CODES) <= strings, sorted(set(NOT_CODES) - strings)


def test_every_registered_code_is_used() -> None:
    strings, members = _source_strings()
    unused = [c.value for c in Code if c.value not in strings and c.name not in members]
    assert unused == []


#: Codes whose severity depends on the situation, with the reason.
SEVERITY_DEPENDS = {
    "approved-not-locked": "an error when a lock file exists and does not list the version, else a warning",
    "too-many-diagnostics": "an error when any problem left out is an error",
}


def test_every_fixture_reports_its_code_with_the_registry_severity() -> None:
    """The severity is written once, in CODES: every diagnostic of every fixture has its code's severity."""
    fixtures = pathlib.Path(__file__).parent / "fixtures" / "invalid"
    checked = 0
    for expected in sorted(fixtures.glob("*/expected.json")):
        for d in json.loads(expected.read_text(encoding="utf-8"))["diagnostics"]:
            if d["code"] in SEVERITY_DEPENDS:
                continue
            assert d["severity"] == CODES[Code(d["code"])].severity, (expected.parent.name, d["code"])
            checked += 1
    assert checked > 50
