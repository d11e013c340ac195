"""A diagnostic inside an expression points at the offending word, however the expression is written:
plain, quoted in a flow mapping, or folded over several lines as a block scalar."""

from __future__ import annotations

import pathlib

from interpreter.compiler.loader import analyze_file

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "locations" / "expression-positions.guideline.yaml"


def test_unknown_names_are_located_exactly_in_every_yaml_style() -> None:
    diags = analyze_file(FIXTURE).diagnostics
    got = [(d.code, d.location.line, d.location.column, d.message.split("'")[1]) for d in diags]
    assert got == [
        ("expr-unknown-name", 53, 11, "ancc"),  # block scalar (>-), second line of the text
        ("expr-unknown-name", 60, 41, "fevor"),  # plain
        ("expr-unknown-name", 62, 31, "fever"),  # double-quoted inside a flow mapping
        ("expr-unknown-name", 63, 43, "fevr"),  # double-quoted, after a q(...) literal
    ]
    lines = FIXTURE.read_text().splitlines()
    for _, line, column, word in got:
        assert lines[line - 1][column - 1 :].startswith(word)
