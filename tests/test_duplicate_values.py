"""`duplicate-value` (issue 8, review finding 13): a value repeated where each counts once is a located
warning, in every list that is a set in meaning, and nowhere else."""

from __future__ import annotations

import pathlib

import pytest

from interpreter.compiler.loader import analyze_file

HEAD = """\
id: dup
version: "1.0.0"
title: Duplicates
status: draft
effective: {start: "2026-01-01"}
last_updated: "2026-01-01"
authors: [{name: Test Author}]
references: {EX: {citation: Example.}}
inputs:
  cause: {type: code, description: x, values: [a, b, c, d]}
  causes: {type: code-set, description: x, values: [a, b, c]DEFAULT}
start: n
nodes:
  - {id: n, kind: choice, branches: [{when: "COND", then: ra}], otherwise: rb, unknown: cannot-decide}
recommendations:
  - {id: ra, text: A., cite: [EX]SUPERSEDES}
  - {id: rb, text: B., cite: [EX]}
"""


def write(tmp_path: pathlib.Path, cond: str, default: str = "", supersedes: str = "") -> pathlib.Path:
    f = tmp_path / "g.guideline.yaml"
    text = (HEAD.replace("COND", cond).replace("DEFAULT", default and f", default: {default}")
            .replace("SUPERSEDES", supersedes and f", supersedes: {supersedes}"))
    f.write_text(text, "utf-8")
    return f


def duplicates(f: pathlib.Path) -> list[tuple[str, int, int, str]]:
    diags = analyze_file(f).diagnostics
    assert not [d for d in diags if d.is_error], [d.format() for d in diags]
    return [(d.severity.value, d.location.line, d.location.column, d.message)
            for d in diags if d.code == "duplicate-value"]


#: The column of the condition's first character (line 14).
START = HEAD.splitlines()[13].index("COND") + 1


@pytest.mark.parametrize(("cond", "word", "offset"), [
    ("cause in ['a', 'b', 'a']", "a", 20),
    ("cause not in ['b', 'b']", "b", 19),
    ("all_of(causes, 'c', 'a', 'c')", "c", 25),
    ("any_of(causes, 'a', 'a') or cause in ['a', 'c']", "a", 20),
])
def test_a_repeated_word_in_an_expression_is_a_located_warning(tmp_path: pathlib.Path, cond: str, word: str,
                                                              offset: int) -> None:
    assert cond[offset:offset + 3] == f"'{word}'"
    found = duplicates(write(tmp_path, cond))
    assert [(s, line, col) for s, line, col, _ in found] == [("warning", 14, START + offset)]
    assert f"'{word}' is written twice" in found[0][3]


@pytest.mark.parametrize("cond", [
    "cause in ['a', 'b']", "any_of(causes, 'a', 'b') and all_of(causes, 'b', 'c')",
    "cause in ['a'] or cause in ['a', 'b']",  # the same word in two lists is no repetition
])
def test_distinct_words_are_not_reported(tmp_path: pathlib.Path, cond: str) -> None:
    assert duplicates(write(tmp_path, cond)) == []


def test_the_hint_names_the_words_left_out(tmp_path: pathlib.Path) -> None:
    [d] = [d for d in analyze_file(write(tmp_path, "cause in ['a', 'a']")).diagnostics
           if d.code == "duplicate-value"]
    assert d.hint is not None and "'b', 'c', 'd'" in d.hint
    assert [(r.line, r.column) for r in d.related] == [(14, START + 10)]


def test_a_repeated_default_word(tmp_path: pathlib.Path) -> None:
    found = duplicates(write(tmp_path, "cause == 'a'", default="[b, a, b]"))
    assert [(s, line) for s, line, _, _ in found] == [("warning", 11)]
    assert "input 'causes': 'b' is written twice in the default" in found[0][3]


@pytest.mark.parametrize(("supersedes", "reasons"), [
    ("[rb, rb]", False),
    ("[{id: rb, reason: one}, {id: rb, reason: two}]", True),
])
def test_a_repeated_supersedes_entry(tmp_path: pathlib.Path, supersedes: str, reasons: bool) -> None:
    found = duplicates(write(tmp_path, "cause == 'a'", supersedes=supersedes))
    assert len(found) == 1 and "supersedes 'rb' twice" in found[0][3]
    assert ("'one' and 'two'" in found[0][3]) is reasons


def test_strict_validation_fails_on_it(tmp_path: pathlib.Path) -> None:
    from interpreter.tooling.validate import validate_paths
    f = write(tmp_path, "cause in ['a', 'a']")
    assert validate_paths([f]).exit_code == 0
    assert validate_paths([f], strict=True).exit_code == 1
