"""Author text cannot hide or forge anything in a rendering (review 1, F5).

``guideline render`` (Markdown, for sign-off) used to pass raw HTML from author text: a recommendation text
ending in ``<!-- hidden`` hid everything after it (later recommendations, the disclaimer) in GitHub and most
viewers, and an input description with ``</table><script>`` landed inside a table cell. Invisible characters
(U+00AD soft hyphen, tag characters U+E0000-U+E007F) were printed raw in every output.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import unicodedata
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.output.render import guideline_markdown, md_block, md_cell, md_inline
from interpreter.output.results import result_text
from interpreter.textsafe import escape_surrogates, safe_block, safe_line

HERE = pathlib.Path(__file__).resolve().parent
MINIMAL = HERE / "fixtures" / "valid" / "minimal.guideline.yaml"
TAGS = "".join(chr(0xE0000 + ord(c)) for c in "IGNORE")  # "IGNORE" in invisible tag characters
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


def hostile(tmp_path: pathlib.Path) -> pathlib.Path:
    text = MINIMAL.read_text(encoding="utf-8")
    edits = [
        ("title: Minimal example guideline (for tests only)",
         f'title: "Filgra\\u00adstim{TAGS} example"\ndisclaimer: DISCLAIMER-AT-THE-END'),
        ("description: Absolute neutrophil count",
         "description: \"count</td></tr></table><script>alert(1)</script> & more\""),
        ("text: Severe neutropenia.",
         "text: \"Severe neutropenia. <!-- hidden\"\n    title: \"<b>bold</b>\""),
        ("text: Not severe neutropenia.", "text: \"Not severe.\\n```\\n# Approved by the board\\n[x]: /y\""),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / "hostile.guideline.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_markdown_render_passes_no_html_from_author_text(tmp_path: pathlib.Path) -> None:
    md = guideline_markdown(interpreter.load(hostile(tmp_path)).compiled.model)
    for raw in ("<!--", "<script", "</table>", "</td>", "<b>", " & more"):
        assert raw not in md, raw
    assert "&lt;!-- hidden" in md and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in md
    assert "&lt;b&gt;bold&lt;/b&gt;" in md
    # what came after the comment opener is still there, and the disclaimer is the last line
    assert md.index("&lt;!-- hidden") < md.index("### `not-severe`") < md.index("DISCLAIMER-AT-THE-END")
    assert md.rstrip().endswith("*DISCLAIMER-AT-THE-END*")
    # a fence, a heading or a link reference definition in a text stays inside its paragraph
    assert "\n\\```\n\\# Approved by the board\n\\[x]: /y" in md
    assert not re.search(r"^ {0,3}(#+ Approved|\[x\]:)", md, flags=re.M)
    fences = [line for line in md.splitlines() if line.lstrip().startswith(("```", "~~~"))]
    assert fences == ["```mermaid", "```"]  # only the diagram's own


def test_markdown_render_shows_invisible_characters(tmp_path: pathlib.Path) -> None:
    md = guideline_markdown(interpreter.load(hostile(tmp_path)).compiled.model)
    assert "\u00ad" not in md and not any(0xE0000 <= ord(c) <= 0xE007F for c in md)
    assert "# Filgra\\xadstim\\U000e0049\\U000e0047" in md


def test_the_cli_render_is_escaped_too(tmp_path: pathlib.Path) -> None:
    r = CliRunner().invoke(main, ["render", str(hostile(tmp_path))], catch_exceptions=False)
    assert r.exit_code == 0
    assert "<!--" not in r.stdout and "<script" not in r.stdout and "\u00ad" not in r.stdout


def test_the_bundled_guideline_renders_unchanged_by_the_escaping() -> None:
    """Its author text has no HTML and no invisible characters: nothing in its rendering is escaped."""
    md = guideline_markdown(interpreter.load("leukopenia").compiled.model)
    assert "&lt;" not in md and "&amp;" not in md and "\\x" not in md and "\\u" not in md
    assert "\n\\" not in md


def test_markdown_helpers_escape_html() -> None:
    assert md_inline("a <i>b</i> & c") == "a &lt;i&gt;b&lt;/i&gt; &amp; c"
    assert md_cell("x</td>\ny|z") == "x&lt;/td&gt;<br>y\\|z"  # the <br> of a line break stays HTML
    assert md_block("> quoted\n<div>") == "&gt; quoted\n&lt;div&gt;"


def test_text_and_json_results_show_invisible_characters(tmp_path: pathlib.Path) -> None:
    g = interpreter.load(hostile(tmp_path))
    r = g.evaluate({"anc": {"value": 0.3, "unit": "10*9/L"}}, AS_OF)
    text = result_text(r)
    assert text.splitlines()[0] == "Filgra\\xadstim\\U000e0049\\U000e0047\\U000e004e\\U000e004f\\U000e0052" \
        "\\U000e0045 example"
    p = tmp_path / "facts.json"
    p.write_text(json.dumps({"anc": {"value": 0.3, "unit": "10*9/L"}}), encoding="utf-8")
    args = ["evaluate", str(hostile(tmp_path)), str(p), "--at", "2026-03-01T00:00:00Z", "--format", "json"]
    out = CliRunner().invoke(main, args, catch_exceptions=False).stdout
    assert "\u00ad" not in out and "\\u00ad" in out and "\\udb40\\udc49" in out
    assert json.loads(out)["guideline"]["title"] == f"Filgra\u00adstim{TAGS} example"  # the same value


INVISIBLE = [
    "\u00ad", "\u034f", "\u061c", "\u115f", "\u180e", "\u200b", "\u200d", "\u2060", "\u2064", "\u3164",
    "\ufe0f", "\ufeff", "\U000e0001", "\U000e0041", "\U000e007f", "\U000e0100",
]


@pytest.mark.parametrize("ch", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_every_text_output_escapes_invisible_characters(ch: str) -> None:
    for out in (safe_line(f"a{ch}b"), safe_block(f"a{ch}b"), md_inline(f"a{ch}b"), md_cell(f"a{ch}b")):
        assert ch not in out and out.startswith("a\\") and out.endswith("b")
    assert ch not in escape_surrogates(json.dumps(f"a{ch}b", ensure_ascii=False))
    assert json.loads(escape_surrogates(json.dumps(f"a{ch}b", ensure_ascii=False))) == f"a{ch}b"


def test_every_format_character_of_this_python_is_escaped() -> None:
    missing = [
        f"U+{c:04X}" for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf" and safe_line(chr(c)) == chr(c)
    ]
    assert missing == []


def test_visible_text_is_kept() -> None:
    text = "Filgrastim 5 µg/kg ≥ 0.5 ×10⁹/L — Müller, 東京, ⚠ ├─ └─"
    assert safe_line(text) == text
