"""JSON Schema validation (interpreter/loading/schema/): located, readable schema-* diagnostics."""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.errors import Diagnostic, Location
from interpreter.loading.resources import resource_path
from interpreter.loading.schema import guideline_schema, guideline_validator, validate_document
from interpreter.loading.schema.explain import format_path
from interpreter.loading.source import SourceMap, load_yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
MINIMAL_TEXT = (REPO / "tests" / "fixtures" / "valid" / "minimal.guideline.yaml").read_text(encoding="utf-8")


ACTION = ("    text: Severe neutropenia.\n    actions:\n      - type: medication\n        drug: x\n"
          "        route: oral\n        frequency: daily\n")


def check(text: str) -> list[Diagnostic]:
    data, sm, diags = load_yaml(text.encode("utf-8"), "g.yaml")
    assert diags == [], [d.format() for d in diags]
    return validate_document(data, sm)


def edit(old: str, new: str) -> str:
    assert old in MINIMAL_TEXT, old
    return MINIMAL_TEXT.replace(old, new, 1)


def one(diags: list[Diagnostic]) -> Diagnostic:
    assert len(diags) == 1, [d.format() for d in diags]
    return diags[0]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --------------------------------------------------------------------------------------------------
# the schema itself


def test_schema_is_loaded_once_and_matches_the_generator() -> None:
    assert guideline_schema() is guideline_schema()
    assert guideline_validator() is guideline_validator()
    on_disk = json.loads((REPO / "schema" / "guideline.schema.json").read_text(encoding="utf-8"))
    assert guideline_schema() == on_disk
    import runpy

    generated = runpy.run_path(str(REPO / "tools" / "_schema_src.py"), run_name="not_main")["schema"]
    assert generated == on_disk, "schema/guideline.schema.json is stale: run python tools/_schema_src.py"


def test_resource_path_finds_the_schema() -> None:
    path = resource_path("schema", "guideline.schema.json")
    assert json.loads(path.read_text(encoding="utf-8"))["title"] == "Clinical guideline"
    with pytest.raises(FileNotFoundError):
        resource_path("schema", "no-such.json")


def _walk_properties(node: Any, where: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            out.append((f"{where}/properties/{name}", sub))
        for k, v in node.items():
            if k == "if":  # conditions select on existing properties; they are not where keys are declared
                continue
            out.extend(_walk_properties(v, f"{where}/{k}"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_walk_properties(v, f"{where}/{i}"))
    return out


def test_every_property_has_a_description_for_editor_completion() -> None:
    props = _walk_properties(guideline_schema(), "#")
    assert len(props) > 80
    missing = [where for where, sub in props if not (isinstance(sub, dict) and sub.get("description"))]
    assert missing == []


def test_the_minimal_guideline_is_valid() -> None:
    assert check(MINIMAL_TEXT) == []


def test_the_bundled_guidelines_are_schema_valid() -> None:
    files = sorted((REPO / "guidelines").rglob("*.guideline.yaml"))
    for f in files:
        data, sm, diags = load_yaml(f.read_bytes(), str(f))
        assert diags == [], [d.format() for d in diags]
        assert validate_document(data, sm) == [], f


# --------------------------------------------------------------------------------------------------
# numbers


def test_decimals_count_as_numbers_and_bools_do_not() -> None:
    assert check(edit("{min: 0, max: 100}", "{min: 0.0, max: 1.5e2}")) == []
    d = one(check(edit("{min: 0, max: 100}", "{min: 0, max: true}")))
    assert d.code == "schema-type"
    assert "expected a number, got true" in d.message


def test_decimal_minimum_is_compared_exactly() -> None:
    text = edit("    text: Severe neutropenia.\n",
                ACTION + "        dose: {amount: 5, unit: ug, min: -0.001}\n")
    d = one(check(text))
    assert d.code == "schema-range"
    assert "must be at least 0, got the number -0.001" in d.message
    assert d.path == ("recommendations", 0, "actions", 0, "dose", "min")


def test_schema_validation_accepts_a_hand_built_document_with_decimals() -> None:
    data, sm, _ = load_yaml(MINIMAL_TEXT.encode(), "g.yaml")
    data["inputs"]["anc"]["plausible"] = {"min": Decimal("0"), "max": Decimal("99.5")}
    assert validate_document(data, sm) == []


# --------------------------------------------------------------------------------------------------
# each kind of error, with location, message and hint


def test_unknown_key_is_located_at_the_key_with_a_suggestion() -> None:
    text = edit("    otherwise: not-severe", "    otherwize: not-severe")
    d = one(check(text))
    assert d.code == "schema-unknown-key"
    assert (d.location.line, d.location.column) == (line_of(text, "otherwize"), 5)
    assert d.message == "unknown key 'otherwize' in nodes[0]"
    assert d.hint is not None and d.hint.startswith("did you mean 'otherwise'?")
    assert d.path == ("nodes", 0, "otherwize")


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    d = one(check(edit("title: Minimal", "zzz: 1\ntitle: Minimal")))
    assert d.hint is not None and "did you mean" not in d.hint and "allowed keys here: $schema" in d.hint


def test_missing_key_is_located_at_the_mapping() -> None:
    text = edit("    text: Not severe neutropenia.\n    cite: [EXAMPLE]\n",
                "    text: Not severe neutropenia.\n")
    d = one(check(text))
    assert d.code == "schema-required"
    assert (d.location.line, d.location.column) == (line_of(text, "id: not-severe"), 5)
    assert d.message == "recommendations[1] is missing the required key 'cite'"
    assert d.hint is not None and "add `cite:`" in d.hint


def test_conditionally_required_key_says_why() -> None:
    d = one(check(edit("    unit: 10*9/L\n", "")))
    assert d.code == "schema-required"
    assert "'unit'" in d.message and "(required when type is quantity or series)" in d.message


def test_key_not_allowed_for_this_kind_of_input() -> None:
    text = edit("    type: quantity\n", "    type: boolean\n")
    diags = check(text)
    assert [(d.code, d.path[-1]) for d in diags] == [("schema-key-not-allowed", "unit"),
                                                      ("schema-key-not-allowed", "plausible")]
    assert diags[0].location.line == line_of(text, "unit: 10*9/L")
    assert "'unit' is only allowed when type is quantity or series" in diags[0].message
    want = "'plausible' is not allowed when type is boolean, code, datetime, code-set or date"
    assert want in diags[1].message


@pytest.mark.parametrize(("old", "new", "expected", "hint"), [
    ('version: "1.0.0"', "version: 1.10", "version: expected text, got the number 1.10",
     'quote it: "1.10" (unquoted, YAML reads it as a number); it must also be a semantic version'),
    ('version: "1.0.0"', "version: 2", "version: expected text, got the number 2", 'quote it: "2"'),
    ("status: draft", "status: true", "status: expected text, got true", 'quote it: "true"'),
    ("status: draft", "status: 1", "status: expected text, got the number 1", 'quote it: "1"'),
    ("    description: Absolute neutrophil count", "    description:",
     "inputs.anc.description: expected text, got nothing (an empty value)",
     "write the value after the colon"),
    ("    plausible: {min: 0, max: 100}", "    plausible: {min: 0, max: 100}\n    required: yes",
     "inputs.anc.required: expected true or false, got the text 'yes'", "write true or false"),
    ("{min: 0, max: 100}", "{min: 0, max: 12:30}", "expected a number, got the text '12:30'",
     "is not read as a number"),
    ("        then: severe", "        then: 5", "then: expected text or a list, got the number 5",
     'quote it: "5" (unquoted, YAML reads it as a number); it must also be an id in kebab-case'),
])
def test_type_errors(old: str, new: str, expected: str, hint: str | None) -> None:
    text = edit(old, new)
    d = one(check(text))
    assert d.code == "schema-type"
    assert expected in d.message
    assert d.location.line == line_of(text, new.strip().split("\n")[-1])
    if hint:
        assert d.hint is not None and hint in d.hint


def test_enum_error_with_suggestion() -> None:
    text = edit("kind: choice", "kind: choise")
    d = one(check(text))
    assert d.code == "schema-enum"
    assert (d.location.line, d.location.column) == (line_of(text, "choise"), 11)
    assert d.message == "nodes[0].kind: the text 'choise' is not one of: choice, collect"
    assert d.hint == "did you mean 'choice'?"


def test_unknown_keyword_suggests_cannot_decide() -> None:
    d = one(check(edit("    unknown: cannot-decide", "    unknown: cannot_decide")))
    assert d.code == "schema-pattern" and d.hint == "did you mean 'cannot-decide'?"


def test_action_with_an_unknown_type_lists_the_action_types() -> None:
    text = edit("    text: Severe neutropenia.\n",
                "    text: Severe neutropenia.\n    actions:\n      - type: medicine\n        drug: x\n")
    d = one(check(text))
    assert d.code == "schema-enum"
    assert d.path == ("recommendations", 0, "actions", 0, "type")
    assert (d.location.line, d.location.column) == (line_of(text, "medicine"), 15)
    assert "medication, monitoring, stop-drug, procedure, referral, caution" in d.message
    assert d.hint == "did you mean 'medication'?"


def test_errors_inside_an_action_come_from_the_action_type_written() -> None:
    text = edit("    text: Severe neutropenia.\n",
                "    text: Severe neutropenia.\n    actions:\n      - type: medication\n        drug: x\n"
                "        route: oral\n        frequncy: daily\n")
    diags = check(text)
    assert [d.code for d in diags] == ["schema-required", "schema-unknown-key"]
    assert "missing the required key 'frequency'" in diags[0].message
    assert diags[1].hint is not None and diags[1].hint.startswith("did you mean 'frequency'?")
    assert diags[1].location.line == line_of(text, "frequncy")


def test_action_without_a_type() -> None:
    text = edit("    text: Severe neutropenia.\n",
                "    text: Severe neutropenia.\n    actions:\n      - drug: x\n        route: oral\n")
    d = one(check(text))
    assert d.code == "schema-required" and d.message.endswith("missing the required key 'type'")


def test_pattern_errors_say_what_form_is_expected() -> None:
    text = edit("  - id: severity\n", "  - id: Severity_Check\n")
    d = one(check(text))
    assert d.code == "schema-pattern"
    assert (d.location.line, d.location.column) == (line_of(text, "Severity_Check"), 9)
    assert "'Severity_Check' is not an id in kebab-case" in d.message


def test_pattern_error_on_a_name_is_located_at_the_key() -> None:
    text = edit("inputs:\n  anc:", "inputs:\n  ANC:")
    d = one(check(text))
    assert d.code == "schema-pattern"
    assert (d.location.line, d.location.column) == (line_of(text, "ANC:"), 3)
    assert "the name 'ANC' in inputs is not a name in snake_case" in d.message
    assert d.path == ("inputs", "ANC")


def test_date_pattern() -> None:
    d = one(check(edit("  start: 2026-01-01", "  start: 2026-1-1")))
    assert d.code == "schema-pattern" and "not a date written YYYY-MM-DD" in d.message


def test_range_error() -> None:
    text = edit("    text: Severe neutropenia.\n",
                ACTION + "        dose: {amount: 5, unit: ug, round_to: 0}\n")
    d = one(check(text))
    assert d.code == "schema-range"
    assert d.message.endswith("dose.round_to: must be greater than 0, got the number 0")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    branches:\n      - when: anc < 0.5\n        then: severe\n", "    branches: []\n",
     "nodes[0].branches: the list must have at least 1 item"),
    ("        then: severe", "        then: []", "then: the list must have at least 1 item"),
    ("    cite: [EXAMPLE]", "    cite: [EXAMPLE, EXAMPLE]", "cite: the list repeats 'EXAMPLE'"),
    ("title: Minimal example guideline (for tests only)", "title: ''", "title: the text must not be empty"),
    ("references:\n  EXAMPLE:\n    citation: An example reference used by the tests; not a clinical "
     "source.\n", "references: {}\n", "references: must have at least 1 entry"),
])
def test_other_constraints(old: str, new: str, expected: str) -> None:
    diags = check(edit(old, new))
    found = [d for d in diags if d.code == "schema-invalid" and expected in d.message]
    assert found, [d.format() for d in diags]


def test_the_top_level_must_be_a_mapping() -> None:
    data, sm, _ = load_yaml(b"- a\n- b\n", "g.yaml")
    d = one(validate_document(data, sm))
    assert d.code == "schema-type" and d.location == Location("g.yaml", 1, 1)
    assert "expected a mapping" in d.message


def test_every_problem_is_reported_sorted_by_location() -> None:
    text = edit("kind: choice", "kind: choise")
    text = text.replace("status: draft", "status: Draft")
    text = text.replace("        then: severe", "        then: Severe")
    diags = check(text)
    assert [d.code for d in diags] == ["schema-enum", "schema-enum", "schema-pattern"]
    assert diags == sorted(diags, key=lambda d: (d.location.line, d.location.column))


def test_format_path() -> None:
    assert format_path(("nodes", 0, "branches", 1, "then")) == "nodes[0].branches[1].then"
    assert format_path(()) == "(top level)"


def test_a_source_map_without_locations_still_gives_diagnostics() -> None:
    data, _, _ = load_yaml(edit("kind: choice", "kind: choise").encode(), "g.yaml")
    d = one(validate_document(data, SourceMap("g.yaml")))
    assert d.location == Location("g.yaml", 1, 1)


# --------------------------------------------------------------------------------------------------
# the compiled fast path must give jsonschema's answer


RICH_TEXT = edit("    text: Severe neutropenia.\n",
                 ACTION + "        dose: {amount: 5, unit: ug/kg, basis: anc, round_to: 30, max: 480}\n"
                 "      - type: monitoring\n        test: CBC\n        interval: weekly\n"
                 "      - type: stop-drug\n        drug: clozapine\n        mode: hold\n"
                 "      - type: referral\n        name: haematology\n"
                 "      - type: caution\n        text: Do not.\n")
RICH_TEXT = RICH_TEXT.replace("inputs:\n", "inputs:\n  cause:\n    type: code\n    description: Cause\n"
                              "    values: [chemotherapy, other]\n  febrile:\n    type: boolean\n"
                              "    description: Fever\n    max_age: PT24H\n")
RICH_TEXT = RICH_TEXT.replace("start: severity\n", "derived:\n  low:\n    description: Low\n"
                              "    type: boolean\n    expr: anc < 1\nstart: severity\n")


def _documents() -> list[Any]:
    docs = []
    texts = [MINIMAL_TEXT, RICH_TEXT]
    texts += [p.read_text("utf-8") for p in sorted((REPO / "guidelines").rglob("*.guideline.yaml"))]
    for text in texts:
        data, _, diags = load_yaml(text.encode(), "g.yaml")
        assert not diags
        docs.append(data)
    return docs


DOCUMENTS = _documents()
REPLACEMENTS: list[Any] = [
    None, True, False, 0, -1, 1, Decimal("0"), Decimal("-0.5"), Decimal("1.10"), "", "x", "Severe", "severe",
    "cannot-decide", "quantity", "number", "code", "choice", "collect", "medication", "caution", "approved",
    "2026-01-01", "2026-1-1", "PT24H", "P", "1.0.0", "1.10", "http://x", "ANC", "10*9/L", [], {}, ["a"],
    ["a", "a"], [1, True], [1, 1], ["x", 1], {"type": "caution"}, {"type": "caution", "text": "t"},
    {"unit": "kg"}, {"min": 0, "max": 1}, "x" * 2001,
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], how: int, replacement: Any) -> Any:
    import copy

    doc = copy.deepcopy(doc)
    if not path:
        return replacement if how == 0 else doc
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if how == 0:
        parent[last] = replacement
    elif how == 1:
        del parent[last]
    elif how == 2 and isinstance(parent, dict):
        parent[str(last) + "x"] = parent.pop(last)
    elif how == 3 and isinstance(parent[last], dict):
        parent[last]["extra"] = replacement
    elif how == 3 and isinstance(parent[last], list):
        parent[last].append(replacement)
    return doc


@given(st.data())
@settings(max_examples=400, deadline=None)
def test_fast_path_agrees_with_jsonschema(data: st.DataObject) -> None:
    from interpreter.loading.schema import fast_validity_check

    fast = fast_validity_check()
    assert fast is not None
    doc = data.draw(st.sampled_from(DOCUMENTS))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        doc = _mutate(doc, path, data.draw(st.integers(0, 3)), data.draw(st.sampled_from(REPLACEMENTS)))
    assert fast(doc) == guideline_validator().is_valid(doc)


def test_fast_path_on_every_fixture_and_valid_document() -> None:
    from interpreter.loading.schema import fast_validity_check

    fast = fast_validity_check()
    assert fast is not None
    for doc in DOCUMENTS:
        assert fast(doc) and guideline_validator().is_valid(doc)
    for f in sorted((REPO / "tests" / "fixtures" / "invalid").glob("*/guideline.yaml")):
        data, _, diags = load_yaml(f.read_bytes(), str(f))
        if data is not None and not diags:
            assert fast(data) == guideline_validator().is_valid(data), f


def test_the_fast_path_does_not_change_any_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    import interpreter.loading.schema as schema_module

    texts = [MINIMAL_TEXT, RICH_TEXT, edit("kind: choice", "kind: choise"), edit("    unit: 10*9/L\n", "")]
    with_fast = [check(t) for t in texts]
    monkeypatch.setattr(schema_module, "fast_validity_check", lambda: None)
    assert [check(t) for t in texts] == with_fast


# --------------------------------------------------------------------------------------------------
# other bundled schemas (guideline test files)


def test_validate_with_another_bundled_schema() -> None:
    from interpreter.loading.schema import bundled_validator, validate_with

    text = "guideline: x.guideline.yaml\ncasez: []\n"
    data, sm, _ = load_yaml(text.encode(), "x.tests.yaml")
    diags = validate_with("tests.schema.json", data, sm)
    assert [(d.code, d.location.line, d.location.column) for d in diags] == [
        ("schema-required", 1, 1), ("schema-unknown-key", 2, 1)]
    assert "'cases'" in diags[0].message
    assert diags[1].hint is not None and diags[1].hint.startswith("did you mean 'cases'?")
    assert bundled_validator("tests.schema.json") is bundled_validator("tests.schema.json")
    for f in sorted((REPO / "guidelines").rglob("*.tests.yaml")):
        data, sm, diags = load_yaml(f.read_bytes(), str(f))
        assert diags == [] and validate_with("tests.schema.json", data, sm) == [], f
