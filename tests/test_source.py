"""The strict YAML loader (interpreter/loading/source.py).

Every item of the "Guideline files (YAML)" section of the safety checklist
(../shared/design/safety-checklist.md) has a test here; they are marked `# checklist:`.
"""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter.loading.source as source
from interpreter.errors import Diagnostic, Location
from interpreter.loading.schema import guideline_schema, validate_document
from interpreter.loading.source import DEFAULT_LIMITS, LoaderLimits, SourceMap, load_yaml

MINIMAL = pathlib.Path(__file__).parent / "fixtures" / "valid" / "minimal.guideline.yaml"


def load(text: str | bytes, limits: LoaderLimits = DEFAULT_LIMITS) -> tuple[Any, SourceMap, list[Diagnostic]]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load_yaml(data, "g.yaml", limits)


def only(diags: list[Diagnostic], code: str) -> Diagnostic:
    assert [d.code for d in diags] == [code], [d.format() for d in diags]
    return diags[0]


@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml's parser (when PyYAML has it) and with PyYAML's pure-Python parser."""
    if request.param == "pure-python":
        monkeypatch.setattr(source, "_make_parser", lambda text: yaml.SafeLoader(text))
    elif not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


# --------------------------------------------------------------------------------------------------
# plain data and the source map


def test_plain_data_and_source_map() -> None:
    data, sm, diags = load("a: 1\nb:\n  - x\n  - {c: 0.82}\n'd': \"q\"\n")
    assert diags == []
    assert data == {"a": 1, "b": ["x", {"c": Decimal("0.82")}], "d": "q"}
    assert isinstance(data["a"], int) and not isinstance(data["a"], bool)
    assert sm.values[("a",)] == Location("g.yaml", 1, 4)
    assert sm.keys[("a",)] == Location("g.yaml", 1, 1)
    assert sm.values[("b", 0)] == Location("g.yaml", 3, 5)
    assert sm.values[("b", 1, "c")] == Location("g.yaml", 4, 9)
    assert sm.keys[("b", 1, "c")] == Location("g.yaml", 4, 6)
    assert sm.keys[("d",)] == Location("g.yaml", 5, 1)
    assert sm.at(("b", 1, "nope")) == Location("g.yaml", 4, 5)  # nearest recorded ancestor
    assert sm.key_at(("b", 0)) == sm.at(("b", 0))  # list items have no key
    assert sm.values[()] == Location("g.yaml", 1, 1)


def test_every_value_and_key_of_the_minimal_guideline_has_a_location() -> None:
    data, sm, diags = load(MINIMAL.read_bytes())
    assert diags == []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        assert path in sm.values, path
        if isinstance(value, dict):
            for k, v in value.items():
                assert (*path, k) in sm.keys, (*path, k)
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(data, ())


def test_columns_count_characters_not_bytes() -> None:
    _, sm, diags = load("title: café\nnext: 1\nlast: é é: x\n")
    assert sm.values[("next",)] == Location("g.yaml", 2, 7)
    d = only(diags, "yaml-syntax")
    assert (d.location.line, d.location.column) == (3, 10)


def test_keys_are_always_text_exactly_as_written() -> None:
    data, _, diags = load("1: a\ntrue: b\nnull: c\n0x10: d\n1.50: e\n")
    assert diags == []
    assert list(data) == ["1", "true", "null", "0x10", "1.50"]


def test_only_true_false_are_booleans_and_only_null_tilde_empty_are_none() -> None:
    data, _, diags = load("a: true\nb: false\nc: null\nd: ~\ne:\nf: True\ng: NULL\nh: 'true'\n")
    assert diags == []
    assert data == {"a": True, "b": False, "c": None, "d": None, "e": None, "f": "True", "g": "NULL",
                    "h": "true"}


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("-0", 0), ("42", 42), ("-7", -7),
    ("0.82", Decimal("0.82")), ("-1.5", Decimal("-1.5")), ("1.10", Decimal("1.10")),
    ("1e3", Decimal("1e3")), ("2.5E-2", Decimal("0.025")), ("1.0e+2", Decimal("100")),
])
def test_numbers_are_exact(text: str, value: object) -> None:
    data, sm, diags = load(f"v: {text}\n")
    assert diags == []
    assert data["v"] == value and type(data["v"]) is type(value)
    assert sm.text_at(("v",)) == text


def test_decimal_keeps_the_written_digits() -> None:
    data, _, _ = load("v: 1.10\nw: 0.1\n")
    assert str(data["v"]) == "1.10"
    assert data["w"] * 3 == Decimal("0.3")  # no float drift


def test_block_and_quoted_scalars_are_always_text() -> None:
    data, _, diags = load("a: '1.5'\nb: \"no\"\nc: |\n  12:30\nd: >-\n  .nan\n")
    assert diags == []
    assert data == {"a": "1.5", "b": "no", "c": "12:30\n", "d": ".nan"}


def test_a_very_long_number_stays_text() -> None:
    digits = "9" * 5000  # int() of this would raise in Python 3.11 (digit limit)
    data, _, diags = load(f"v: {digits}\nw: 1e9999\n")
    assert diags == []
    assert data == {"v": digits, "w": "1e9999"}


# --------------------------------------------------------------------------------------------------
# checklist: duplicate mapping keys


def test_duplicate_key_names_both_lines(parser: str) -> None:  # checklist: duplicate keys
    text = "nodes:\n  - id: a\n    branches:\n      - when: x < 1\n        then: b\n        then: c\n"
    data, _, diags = load(text)
    d = only(diags, "yaml-duplicate-key")
    assert data is None
    assert (d.location.line, d.location.column) == (6, 9)
    assert "'then'" in d.message and "line 5" in d.message
    assert d.related == (Location("g.yaml", 5, 9),)
    assert d.path == ("nodes", 0, "branches", 0, "then")


def test_duplicate_threshold_key_in_a_flow_mapping() -> None:  # checklist: duplicate keys
    _, _, diags = load("plausible: {min: 0, max: 10, min: 5}\n")
    d = only(diags, "yaml-duplicate-key")
    assert (d.location.line, d.location.column) == (1, 30)
    assert d.related == (Location("g.yaml", 1, 13),)


def test_every_duplicate_is_reported() -> None:
    _, _, diags = load("a: 1\nb: 2\na: 3\nb: 4\n")
    assert [(d.code, d.location.line) for d in diags] == [("yaml-duplicate-key", 3),
                                                           ("yaml-duplicate-key", 4)]


def test_quoted_and_plain_spelling_of_a_key_are_the_same_key() -> None:
    _, _, diags = load("min: 1\n'min': 2\n")
    assert only(diags, "yaml-duplicate-key").location.line == 2


# --------------------------------------------------------------------------------------------------
# checklist: YAML 1.1 guessing


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF"])
def test_yaml11_booleans_stay_text(word: str) -> None:  # checklist: no/off -> False
    data, _, diags = load(f"v: {word}\n")
    assert diags == [] and data == {"v": word}


@pytest.mark.parametrize("text", ["010", "00123", "0x1F", "0o17", "1_000", "12:30", "190:20:30", "+1", ".5",
                                  "5.", "1.2.3", "0b101"])
def test_yaml11_numbers_stay_text(text: str) -> None:  # checklist: 00123 -> 83, 12:30 -> 750
    data, _, diags = load(f"v: {text}\n")
    assert diags == [] and data == {"v": text}


@pytest.mark.parametrize("text", ["2026-01-01", "2026-01-01T09:00:00Z", "2001-12-14 21:59:43.10 -5"])
def test_dates_and_timestamps_stay_text(text: str) -> None:  # checklist: dates
    data, _, diags = load(f"v: {text}\n")
    assert diags == [] and data == {"v": text}


def test_version_1_10_is_not_1_1_and_the_schema_says_quote_it() -> None:  # checklist: version 1.10 -> 1.1
    text = MINIMAL.read_text().replace('version: "1.0.0"', "version: 1.10")
    data, sm, diags = load(text)
    assert diags == []
    assert data["version"] == Decimal("1.10") and str(data["version"]) == "1.10"
    schema_diags = validate_document(data, sm)
    d = only(schema_diags, "schema-type")
    assert (d.location.line, d.location.column) == (3, 10)
    assert "expected text" in d.message and "1.10" in d.message
    assert d.hint is not None and 'quote it: "1.10"' in d.hint


def test_a_yaml11_number_where_a_number_is_expected_is_refused_by_the_schema() -> None:  # checklist: 00123
    text = MINIMAL.read_text().replace("plausible: {min: 0, max: 100}", "plausible: {min: 0, max: 00123}")
    data, sm, diags = load(text)
    assert diags == [] and data["inputs"]["anc"]["plausible"]["max"] == "00123"
    d = only(validate_document(data, sm), "schema-type")
    assert "expected a number" in d.message and "'00123'" in d.message
    assert d.hint is not None and "not read as a number" in d.hint


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN", ".inf", ".Inf", "-.inf", "+.INF"])
def test_non_finite_numbers_are_refused(text: str, parser: str) -> None:  # checklist: .nan
    data, _, diags = load(f"plausible:\n  max: {text}\n")
    d = only(diags, "yaml-non-finite")
    assert data is None
    assert (d.location.line, d.location.column) == (2, 8)
    assert text in d.message


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "Infinity", "-Infinity"])
def test_other_spellings_of_non_finite_stay_text_and_fail_the_number_check(text: str) -> None:
    # checklist: NaN or infinite numbers passing minimum/maximum
    src = MINIMAL.read_text().replace("plausible: {min: 0, max: 100}", f"plausible: {{min: 0, max: {text}}}")
    data, sm, diags = load(src)
    assert diags == [] and data["inputs"]["anc"]["plausible"]["max"] == text
    assert only(validate_document(data, sm), "schema-type").path == ("inputs", "anc", "plausible", "max")


# --------------------------------------------------------------------------------------------------
# checklist: an expression cut short by a comment


def test_comment_after_an_expression_is_refused(parser: str) -> None:  # checklist: when: anc < 0.5 # and ...
    text = "branches:\n  - when: anc < 0.5 # and plt < 50\n    then: x\n"
    data, _, diags = load(text)
    d = only(diags, "yaml-comment-in-expression")
    assert data is None
    assert (d.location.line, d.location.column) == (2, 21)  # the "#"
    assert "anc < 0.5" in d.message and "# and plt < 50" in d.message
    assert d.hint is not None and "quote" in d.hint


@pytest.mark.parametrize("key", ["when", "expr", "amount"])
def test_every_expression_key_is_checked(key: str) -> None:
    _, _, diags = load(f"{key}: a * 2\t# b\n")
    assert only(diags, "yaml-comment-in-expression").location.column == len(key) + 9  # the "#"


def test_comment_after_a_multi_line_plain_expression() -> None:
    _, _, diags = load("when: anc < 0.5\n  and fever # or plt < 50\n")
    d = only(diags, "yaml-comment-in-expression")
    assert (d.location.line, d.location.column) == (2, 13)


@pytest.mark.parametrize("text", [
    'when: "anc < 0.5" # severe\n',          # quoted: the comment cannot cut it
    "# severe\nwhen: anc < 0.5\n",            # comment on its own line
    "when: anc < 0.5\n# and plt < 50\n",
    "title: Severe # not an expression\n",   # not an expression key
    "when: 'a#b'\n",
    "when: a#b\n",                            # '#' without a space is part of the scalar
    "{when: anc < 0.5, then: x} # fine\n",    # flow mapping: the value ends at ','
])
def test_comments_that_cannot_cut_an_expression_are_fine(text: str) -> None:
    _, _, diags = load(text)
    assert diags == []


# --------------------------------------------------------------------------------------------------
# checklist: anchors and aliases


BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
)


def test_billion_laughs_is_refused_without_expanding(parser: str) -> None:  # checklist: anchors and aliases
    data, sm, diags = load(BILLION_LAUGHS)
    assert data is None
    assert {d.code for d in diags} == {"yaml-anchor"}
    first = diags[0]
    assert (first.location.line, first.location.column) == (1, 4)
    assert "&a" in first.message
    # reports are capped, the rest summarised: no output explosion either
    assert len(diags) == DEFAULT_LIMITS.max_anchor_reports + 1
    assert "more anchors or aliases" in diags[-1].message
    # nothing was expanded: the source map is as small as the text
    assert len(sm.values) < 200


def test_alias_as_a_value_and_as_a_key_and_merge_keys_are_refused() -> None:
    _, _, diags = load("base: &b {x: 1}\nother:\n  <<: *b\n*b : 2\n")
    assert [(d.code, d.location.line, d.location.column) for d in diags] == [
        ("yaml-anchor", 1, 7), ("yaml-anchor", 3, 7), ("yaml-anchor", 4, 1)]


# --------------------------------------------------------------------------------------------------
# checklist: deep nesting, huge files, tabs, BOM, non-UTF-8, empty, several documents


def test_too_deep_nesting_is_refused(parser: str) -> None:  # checklist: very deep nesting
    depth = 100_000  # would exhaust Python's stack in a recursive composer
    data, _, diags = load("v: " + "[" * depth + "]" * depth + "\n")
    d = only(diags, "yaml-too-deep")
    assert data is None
    # the root mapping is level 1, so the first refused "[" is level max_depth + 1
    assert (d.location.line, d.location.column) == (1, 3 + DEFAULT_LIMITS.max_depth)
    assert str(DEFAULT_LIMITS.max_depth) in d.message


def test_nesting_at_the_limit_is_accepted() -> None:
    limits = LoaderLimits(max_depth=5)
    data, _, diags = load("a: {b: {c: {d: [x]}}}\n", limits)
    assert diags == [] and data == {"a": {"b": {"c": {"d": ["x"]}}}}
    _, _, diags = load("a: {b: {c: {d: [[x]]}}}\n", limits)
    assert only(diags, "yaml-too-deep").location.column == 17


def test_a_too_large_file_is_refused_before_parsing() -> None:  # checklist: huge files
    big = b"a: 1\n" + b"# padding\n" * 110_000  # a little over 1 MiB
    data, _, diags = load(big)
    d = only(diags, "yaml-too-large")
    assert data is None
    assert (d.location.line, d.location.column) == (1, 1)
    assert str(len(big)) in d.message and str(DEFAULT_LIMITS.max_bytes) in d.message
    # the limit is configurable and frozen
    assert load(b"a: 1\n", LoaderLimits(max_bytes=4))[2][0].code == "yaml-too-large"
    with pytest.raises(AttributeError):
        DEFAULT_LIMITS.max_bytes = 10  # type: ignore[misc]


@pytest.mark.parametrize(("text", "line", "column"), [
    ("a:\n\tb: 1\n", 2, 1),
    ("a:\n  - x\n\t- y\n", 3, 1),
])
def test_tabs_in_indentation_are_a_located_syntax_error(text: str, line: int, column: int,
                                                        parser: str) -> None:
    # checklist: tabs
    data, _, diags = load(text)
    d = only(diags, "yaml-syntax")
    assert data is None
    assert (d.location.line, d.location.column) == (line, column)
    assert d.hint is not None and "tab" in d.hint


def test_a_utf8_byte_order_mark_is_accepted() -> None:  # checklist: a byte-order mark
    data, sm, diags = load(b"\xef\xbb\xbfid: x\nv: 1\n")
    assert diags == [] and data == {"id": "x", "v": 1}
    assert sm.keys[("id",)] == Location("g.yaml", 1, 1)


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])
def test_utf16_and_utf32_are_refused(bom: bytes) -> None:  # checklist: a byte-order mark
    d = only(load(bom + "a: 1\n".encode("utf-16-le"))[2], "yaml-encoding")
    assert "UTF-16" in d.message and d.hint == "save the file as UTF-8"


def test_non_utf8_bytes_are_refused_at_their_place() -> None:  # checklist: non-UTF-8 bytes
    data, _, diags = load("id: x\ntitle: café\n".encode("latin-1"))
    d = only(diags, "yaml-encoding")
    assert data is None
    assert (d.location.line, d.location.column) == (2, 11)
    assert "0xe9" in d.message


def test_control_characters_are_a_located_syntax_error(parser: str) -> None:
    d = only(load("a: 1\nb: x\x01y\n")[2], "yaml-syntax")
    assert (d.location.line, d.location.column) == (2, 5)
    assert "#x0001" in d.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "---\n...\n"])
def test_an_empty_file_is_refused(text: str, parser: str) -> None:  # checklist: an empty file
    data, _, diags = load(text)
    assert data is None
    d = only(diags, "yaml-empty")
    assert (d.location.line, d.location.column) == (1, 1)


def test_a_document_holding_only_null_is_refused_like_an_empty_file() -> None:
    # it used to load as None with no diagnostic, and the load pipeline then validated it clean (issue 7, 2.8)
    data, _, diags = load("null\n")
    d = only(diags, "yaml-empty")
    assert data is None and "null" in d.message and (d.location.line, d.location.column) == (1, 1)


def test_several_documents_are_refused(parser: str) -> None:  # checklist: several documents
    data, _, diags = load("id: a\n---\nid: b\n")
    d = only(diags, "yaml-multiple-documents")
    assert data is None
    assert (d.location.line, d.location.column) == (2, 1)


def test_a_document_end_marker_alone_is_fine() -> None:
    data, _, diags = load("id: a\n...\n")
    assert diags == [] and data == {"id": "a"}


# --------------------------------------------------------------------------------------------------
# checklist: misspelled keys silently ignored unless the schema closes every object


def test_every_object_in_the_schema_is_closed() -> None:  # checklist: misspelled keys
    open_objects: list[str] = []

    def closed(node: dict[str, Any]) -> bool:
        if "additionalProperties" in node:
            return True
        # a discriminated union: `type` is an enum and each value selects (if/then) a closed object
        branches = node.get("allOf", [])
        kinds = node.get("properties", {}).get("type", {}).get("enum")
        return bool(kinds and branches) and all(
            b["then"].get("additionalProperties") is False for b in branches) and sorted(kinds) == sorted(
            v for b in branches for v in b["if"]["properties"]["type"]["enum"])

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and not closed(node):
                open_objects.append(where)
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(guideline_schema(), "#")
    assert open_objects == []


def test_a_misspelled_key_is_an_error_at_the_key() -> None:  # checklist: misspelled keys
    text = MINIMAL.read_text().replace("        then: severe", "        then: severe\n        lable: severe")
    data, sm, diags = load(text)
    assert diags == []
    d = only(validate_document(data, sm), "schema-unknown-key")
    assert (d.location.line, d.location.column) == (27, 9)
    assert "'lable'" in d.message
    assert d.hint is not None and "did you mean 'label'?" in d.hint


# --------------------------------------------------------------------------------------------------
# other refusals


def test_complex_keys_are_refused() -> None:
    _, _, diags = load("? [a, b]\n: 1\nc: 2\n? {d: 1}\n: 3\n")
    assert [(d.code, d.location.line, d.location.column) for d in diags] == [
        ("yaml-complex-key", 1, 3), ("yaml-complex-key", 4, 3)]


@pytest.mark.parametrize(("text", "tag"), [
    ("a: !!str 1\n", "!!str"),
    ("a: !!python/object:os.system x\n", "!!python/object:os.system"),
    ("a: ! 1\n", "!"),
    ("a: !custom {b: 1}\n", "!custom"),
])
def test_explicit_tags_are_refused(text: str, tag: str) -> None:
    d = only(load(text)[2], "yaml-tag")
    assert (d.location.line, d.location.column) == (1, 4)
    assert f"'{tag}'" in d.message


@pytest.mark.parametrize(("text", "line", "column"), [
    ("a: [1, 2\n", 2, 1),
    ("a: b: c\n", 1, 5),
    ("- a\nb: 1\n", 2, 1),
    ('a: "\\x"\n', 1, 7),
    ("a: 'unterminated\n", 2, 1),
    ("a:\n  b: 1\n c: 2\n", 3, 2),
])
def test_syntax_errors_are_located_diagnostics(text: str, line: int, column: int, parser: str) -> None:
    data, _, diags = load(text)
    d = only(diags, "yaml-syntax")
    assert data is None
    assert (d.location.line, d.location.column) == (line, column)
    assert "\n" not in d.message and "<unicode string>" not in d.message


def test_problems_before_a_syntax_error_are_kept() -> None:
    _, _, diags = load("a: 1\na: 2\nb: [\n")
    assert [d.code for d in diags] == ["yaml-duplicate-key", "yaml-syntax"]


def test_errors_make_the_data_none_but_keep_the_source_map() -> None:
    data, sm, diags = load("a: 1\nb: .nan\n")
    assert data is None and diags
    assert sm.values[("a",)] == Location("g.yaml", 1, 4)


# --------------------------------------------------------------------------------------------------
# fuzzing: every outcome is data or diagnosed errors, never an exception


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    result, sm, diags = load_yaml(data, "f.yaml")
    assert isinstance(sm, SourceMap)
    if any(d.is_error for d in diags):
        assert result is None
    for d in diags:
        assert d.code.startswith("yaml-") and d.location.line >= 1 and d.location.column >= 1


_yaml_alphabet = st.sampled_from([*"ab:-#&*!?[]{},'\"|>%@`~.01 \t\n", "yes", ".nan", "when: ", "  ", "---"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_yaml_alphabet, max_size=60).map("".join))
def test_random_yaml_like_text_never_raises(text: str) -> None:
    result, _, diags = load_yaml(text.encode("utf-8"), "f.yaml")
    if diags:
        assert result is None or not any(d.is_error for d in diags)
    else:
        json.dumps(result, default=str)  # plain data only
