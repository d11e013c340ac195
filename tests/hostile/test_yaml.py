"""Hostile guideline files (YAML): every one is validated and evaluated through the CLI.

`guideline validate FILE` must end in a report (exit 0/1) or a located exit 2; `guideline evaluate FILE` in a
result or a located exit 2. Files that are not a guideline must never validate clean (issue 7, item 8).
"""

from __future__ import annotations

import json
import pathlib

import pytest

from ._harness import AT, Recorder, Run, assert_ok
from ._inputs import GENERATED_FACTS, guideline_yaml

VALID = guideline_yaml()
FACTS = json.dumps(GENERATED_FACTS)
MiB = 1 << 20


def _both(
    recorder: Recorder, tmp_path: pathlib.Path, item: str, input_id: str, content: bytes, **kw: bool
) -> tuple[Run, Run]:
    path = tmp_path / "g.guideline.yaml"
    path.write_bytes(content)
    v = recorder.run("yaml", item, input_id, ["validate", str(path)], **kw)
    e = recorder.run("yaml", item, input_id, ["evaluate", str(path), "-", "--at", AT], stdin=FACTS, **kw)
    return v, e


def _refused(v: Run, e: Run) -> None:
    """Not a usable guideline: validate reports a located error, evaluate exits 2 with it."""
    assert_ok(v)
    assert_ok(e)
    assert v.exit_code in (1, 2) and "error[" in v.stdout + v.stderr, v.describe()
    assert e.outcome == "located-error", e.describe()


def test_the_valid_base_guideline_gives_a_result(recorder: Recorder, tmp_path: pathlib.Path) -> None:
    v, e = _both(recorder, tmp_path, "general", "valid-base", VALID.encode())
    assert (v.exit_code, e.exit_code) == (0, 0), v.describe() + e.describe()
    assert e.outcome == "result"


def _nested_block(depth: int) -> str:
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}leaf\n"


DEEP = {
    "block-70": _nested_block(70),
    "block-1000": _nested_block(1000),
    "flow-list-999": "[" * 999 + "]" * 999,
    "flow-list-1001": "[" * 1001 + "]" * 1001,
    "flow-list-20000": "[" * 20000 + "]" * 20000,
    "flow-map-5000": "{a: " * 5000 + "1" + "}" * 5000,
    "flow-unclosed-100000": "[" * 100000,
    "in-guideline-extra-key-2000": VALID + "notes: " + "[" * 2000 + "]" * 2000 + "\n",
}


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_nesting(recorder: Recorder, tmp_path: pathlib.Path, name: str) -> None:
    v, e = _both(recorder, tmp_path, "1.libyaml-depth", f"deep-{name}", DEEP[name].encode())
    _refused(v, e)
    if name != "flow-unclosed-100000":
        assert "yaml-too-deep" in v.stdout, v.describe()


ALIASES = {
    "billion-laughs": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "id: *i\n",
    "merge-key": VALID.replace("authors:", "x: &d {name: A}\nauthors:") + "extra: {<<: *d}\n",
    "alias-as-expression": VALID.replace('when: "x > 1"', "when: &w x > 1").replace(
        'when: "v > 0', 'when: *w\n        x_: "v > 0'
    ),
    "alias-undefined": VALID + "extra: *nowhere\n",
}


@pytest.mark.parametrize("name", list(ALIASES))
def test_anchors_and_aliases_are_refused(recorder: Recorder, tmp_path: pathlib.Path, name: str) -> None:
    v, e = _both(recorder, tmp_path, "general", f"alias-{name}", ALIASES[name].encode())
    _refused(v, e)


CONTROL = {
    "nul": "\x00",
    "bell": "\x07",
    "escape": "\x1b[2J",
    "del": "\x7f",
    "c1-nel": "\x85",
    "c1-csi": "\x9b",
    "line-separator": "\u2028",
    "bom-inside": "\ufeff",
    "noncharacter": "\uffff",
    "private-use": "\ue000",
    "cr-only": "\r",
}


@pytest.mark.parametrize("name", list(CONTROL))
@pytest.mark.parametrize("where", ["title", "key", "expression"])
def test_control_characters(recorder: Recorder, tmp_path: pathlib.Path, name: str, where: str) -> None:
    ch = CONTROL[name]
    if where == "title":
        text = VALID.replace('title: "Hostile test guideline"', f"title: Hostile {ch} guideline")
    elif where == "key":
        text = VALID.replace("authors:", f"auth{ch}ors:")
    else:
        text = VALID.replace('when: "x > 1"', f"when: x >{ch} 1")
    v, e = _both(recorder, tmp_path, "general", f"control-{name}-in-{where}", text.encode("utf-8"))
    assert_ok(v)
    assert_ok(e)


ENCODINGS = {
    "utf8-bom": b"\xef\xbb\xbf" + VALID.encode(),
    "utf16-le-bom": VALID.encode("utf-16"),
    "utf16-be": VALID.encode("utf-16-be"),
    "utf32-bom": VALID.encode("utf-32"),
    "latin1": VALID.replace("Test Author", "Test Aut\u00e9r").encode("latin-1"),
    "lone-surrogate-bytes": VALID.replace("Test Author", "Test \ud800").encode("utf-8", "surrogatepass"),
    "overlong-utf8": VALID.encode().replace(b"Test Author", b"Test \xc0\xaf"),
    "double-bom": b"\xef\xbb\xbf\xef\xbb\xbf" + VALID.encode(),
    "surrogate-escape": VALID.replace('title: "Hostile test guideline"', 'title: "x \\ud800 y"').encode(),
}


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_encodings(recorder: Recorder, tmp_path: pathlib.Path, name: str) -> None:
    v, e = _both(recorder, tmp_path, "4.text", f"encoding-{name}", ENCODINGS[name])
    assert_ok(v)
    assert_ok(e)
    if name == "utf8-bom":
        assert (v.exit_code, e.outcome) == (0, "result"), v.describe() + e.describe()
    elif name not in ("surrogate-escape", "double-bom"):
        _refused(v, e)


DOCUMENTS = {
    "second-document": VALID + "---\n" + VALID,
    "end-marker-then-document": VALID + "...\n---\nid: other\n",
    "empty-second-document": VALID + "---\n",
    "empty-file": "",
    "only-comments": "# nothing\n# here\n",
    "only-separator": "---\n",
}


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_multiple_and_empty_documents(recorder: Recorder, tmp_path: pathlib.Path, name: str) -> None:
    v, e = _both(recorder, tmp_path, "general", f"documents-{name}", DOCUMENTS[name].encode())
    _refused(v, e)


NOT_A_MAPPING = {
    "tilde": "~\n",
    "null": "null\n",
    "explicit-null-document": "--- null\n",
    "separator-then-tilde": "---\n~\n",
    "empty-flow-mapping": "{}\n",
    "list": "- id: x\n",
    "number": "42\n",
    "text": "just some text\n",
}


@pytest.mark.parametrize("name", list(NOT_A_MAPPING))
def test_null_and_non_mapping_documents_never_validate_clean(
    recorder: Recorder, tmp_path: pathlib.Path, name: str
) -> None:
    # issue 7 item 8: `~` and `null` validated clean (exit 0, "no problems found")
    v, e = _both(recorder, tmp_path, "8.null-document", f"document-{name}", NOT_A_MAPPING[name].encode())
    _refused(v, e)
    assert v.exit_code != 0 and "no problems found" not in v.stdout, v.describe()


DUPLICATES = {
    "top-level-id": VALID.replace("version:", "id: other\nversion:"),
    "status": VALID.replace("status: draft", "status: draft\nstatus: approved"),
    "branch-then": VALID.replace("then: give", "then: give\n        then: hold"),
    "flow-mapping": VALID.replace(
        "{type: boolean, description: A flag}", "{type: boolean, type: code, description: A flag}"
    ),
    "quoted-and-plain": VALID.replace("start: top", "start: top\n'start': give"),
    "input-name": VALID.replace(
        "  b: {type: boolean", "  x: {type: number, description: again}\n  b: {type: boolean"
    ),
}


@pytest.mark.parametrize("name", list(DUPLICATES))
def test_duplicate_keys(recorder: Recorder, tmp_path: pathlib.Path, name: str) -> None:
    v, e = _both(recorder, tmp_path, "general", f"duplicate-{name}", DUPLICATES[name].encode())
    _refused(v, e)
    assert "yaml-duplicate-key" in v.stdout, v.describe()


TAGS = {
    "python-object": VALID + 'x: !!python/object/apply:os.system ["touch HOSTILE-PWNED"]\n',
    "float-tag": VALID.replace("round_to: 1", "round_to: !!float 1"),
    "custom-tag": VALID.replace('title: "Hostile test guideline"', "title: !custom x"),
    "complex-key": VALID + "? [a, b]\n: c\n",
}


@pytest.mark.parametrize("name", list(TAGS))
def test_tags_and_complex_keys(recorder: Recorder, tmp_path: pathlib.Path, name: str) -> None:
    v, e = _both(recorder, tmp_path, "general", f"tag-{name}", TAGS[name].encode())
    _refused(v, e)
    assert not (tmp_path / "HOSTILE-PWNED").exists() and not pathlib.Path("HOSTILE-PWNED").exists()


# ------------------------------------------------------------------------------------------- sizes (item 6)
def test_just_over_the_size_limit(recorder: Recorder, tmp_path: pathlib.Path) -> None:
    text = VALID + "notes: " + "x" * (MiB - len(VALID)) + "\n"
    v, e = _both(recorder, tmp_path, "6.size", "guideline-1MiB-plus", text.encode())
    _refused(v, e)
    assert "yaml-too-large" in v.stdout, v.describe()


def test_a_huge_guideline_file_is_refused_before_it_is_read(
    recorder: Recorder, tmp_path: pathlib.Path
) -> None:
    block = ("notes_" + "x" * 58 + ": " + "y" * 62 + "\n").encode()
    content = VALID.encode() + block * (64 * MiB // len(block))
    v, e = _both(recorder, tmp_path, "6.size", "guideline-64MiB", content, subprocess_=True)
    _refused(v, e)


def test_one_mib_of_unknown_keys_is_bounded_in_time_and_output(
    recorder: Recorder, tmp_path: pathlib.Path
) -> None:
    # issue 7 item 6: took 17-22 s and printed 53-76 MB
    lines = []
    size, i = len(VALID), 0
    while size < MiB - 64:
        line = f"unknown_key_{i:07d}: 1\n"
        lines.append(line)
        size += len(line)
        i += 1
    v, e = _both(
        recorder, tmp_path, "6.size", "unknown-keys-1MiB", (VALID + "".join(lines)).encode(), subprocess_=True
    )
    for run in (v, e):
        assert_ok(run, max_output_bytes=MiB)
    _refused(v, e)
    # the report ends in a summary line even when the diagnostics are cut short
    assert v.stdout.rstrip().splitlines()[-1].split()[1:3] in (["file", "checked:"], ["files", "checked:"])
