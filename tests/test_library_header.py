"""The library scan reads id, version and status from their own lines when that is exactly what the strict
loader would read, and parses the file otherwise (issue 12)."""

from __future__ import annotations

import pathlib

import pytest

from interpreter.loading import library
from interpreter.loading.library import _quick_header
from interpreter.loading.source import load_yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent

HEAD = 'id: x-1\nversion: "1.2.0"\nstatus: draft\ntitle: T\n'


def _strict(text: str) -> dict[str, object] | None:
    data, _, _diags = load_yaml(text.encode(), "f.yaml")
    if not isinstance(data, dict):
        return None
    return {k: data.get(k) for k in ("id", "version", "status")}


@pytest.mark.parametrize(
    "text",
    [
        HEAD,
        "# comment\nid: x-1  # the id\nversion: '1.2.0'\nstatus: active\n",
        "\ufeffid: x-1\nversion: 1.2.0\nstatus: retired\n",
        "title: T\nstatus: draft\nnodes:\n  - id: inner\nid: x-1\nversion: \"2.0.0-rc.1\"\n",
    ],
)
def test_quick_reading_equals_the_strict_loader(text: str) -> None:
    assert _quick_header(text.encode()) == _strict(text)


@pytest.mark.parametrize(
    "text",
    [
        'id: x-1\nversion: 1.0\nstatus: draft\n',  # a number, not text: the file is parsed
        'id: x-1\nversion: "1.0.0"\nstatus: draft\nid: x-2\n',  # duplicate key
        'id: x-1\n  continued\nversion: "1.0.0"\nstatus: draft\n',  # a plain scalar over two lines
        'id: "x-\\u0031"\nversion: "1.0.0"\nstatus: draft\n',  # an escape
        '{id: x-1, version: "1.0.0", status: draft}\n',  # flow mapping
        '---\nid: x-1\nversion: "1.0.0"\nstatus: draft\n---\nid: y\n',  # documents
        'id: &a x-1\nversion: "1.0.0"\nstatus: draft\n',  # an anchor
        'id: x-1\nversion: "1.0.0"\n',  # no status
        'id: true\nversion: "1.0.0"\nstatus: draft\n',  # a boolean
        'id:\tx-1\nversion: "1.0.0"\nstatus: draft\n',  # a tab
    ],
)
def test_anything_unusual_is_parsed(text: str) -> None:
    assert _quick_header(text.encode()) is None


def test_the_scan_reads_each_bundled_guideline_as_the_strict_loader_does() -> None:
    for entry in library.list_guidelines():
        data, _, _ = load_yaml(entry.path.read_bytes(), str(entry.path))
        assert (entry.id, entry.version, entry.status) == (data["id"], data["version"], data["status"])


def test_a_folder_scan_falls_back_to_parsing(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a.guideline.yaml").write_text('id: a\nversion: 1.0\nstatus: draft\n', encoding="utf-8")
    (tmp_path / "b.guideline.yaml").write_text('{id: b, version: "1.0.0", status: draft}\n', encoding="utf-8")
    entries = library.list_guidelines(tmp_path)
    # a: version is a number for the strict loader, so the file is no library entry; b: parsed, listed
    assert [(e.id, e.version) for e in entries] == [("b", "1.0.0")]
