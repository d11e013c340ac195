"""Text injection and breakage (issue 7 item 4): hostile text in fact names and in a guideline's labels,
titles and descriptions must not crash the CLI, forge report lines, or break the Markdown and Mermaid
renderings.

Each rendering of a hostile text is compared with the rendering of a *twin*: the same input with the text
replaced by a plain word. The twin has the same structure, so the hostile rendering must have as many lines,
the same Markdown table shape and the same Mermaid statements outside quoted labels.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._harness import AT, NO_SHRINK, Recorder, Run, assert_ok, scratch_dir
from ._inputs import facts, guideline_yaml

HOSTILE_CHARS = [
    "\n",
    "\r",
    "\r\n",
    "|",
    "`",
    '"',
    "'",
    "\\",
    "\ud800",
    "\udfff",
    "\x00",
    "\x1b[31m",
    "\u2028",
    "\u202e",
    "#",
    "<br>",
    "-->",
    "end",
    "]]",
    "}}",
    "%%",
    "\t",
    "*",
    "_",
]
HOSTILE_TEXT = st.lists(
    st.one_of(st.sampled_from(HOSTILE_CHARS), st.text(max_size=4)), min_size=1, max_size=6
).map("".join)
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)


# ------------------------------------------------------------------------------------------- fact names
def _report(recorder: Recorder, name: str, input_id: str, fmt: str = "text") -> Run:
    body = json.dumps(facts(**{name: 1}))
    return recorder.run(
        "text", "4.text", input_id, ["evaluate", "leukopenia", "-", "--at", AT, "--format", fmt], stdin=body
    )


def _check_unknown_name(recorder: Recorder, name: str, input_id: str) -> None:
    twin = _report(recorder, "plain_unknown_name", input_id + "-twin")
    run = _report(recorder, name, input_id)
    assert_ok(run)
    if run.exit_code == twin.exit_code == 0:
        # one unknown name is one line of the report, whatever it contains
        assert len(_lines(run.stdout)) == len(_lines(twin.stdout)), run.describe()
    as_json = _report(recorder, name, input_id + "-json", "json")
    assert_ok(as_json)


@pytest.mark.parametrize(
    "name",
    [
        "foo\nRESULT: complete",
        "x\r 1. Give 10 mg  [forged]",
        "\ud800",
        "a\udfffb",
        "\x1b[2K\rRESULT: complete",
        "x\u2028y",
        "|",
        "\x00",
    ],
    ids=[
        "newline",
        "carriage-return",
        "lone-surrogate",
        "surrogate-inside",
        "ansi",
        "line-separator",
        "pipe",
        "nul",
    ],
)
def test_hostile_unknown_fact_names(recorder: Recorder, name: str) -> None:
    _check_unknown_name(recorder, name, f"unknown-name-{name.encode('unicode_escape').decode()[:20]}")


def test_lone_surrogate_in_a_fact_name_on_a_real_stdout(recorder: Recorder) -> None:
    # issue 7 item 4: UnicodeEncodeError (exit 3) when the report is written to a UTF-8 stream
    body = json.dumps(facts(**{"\ud800": 1}))
    for fmt in ("text", "json"):
        run = recorder.run(
            "text",
            "4.text",
            f"surrogate-name-subprocess-{fmt}",
            ["evaluate", "leukopenia", "-", "--at", AT, "--format", fmt],
            stdin=body,
            subprocess_=True,
        )
        assert_ok(run)


@SETTINGS
@given(name=HOSTILE_TEXT)
def test_generated_unknown_fact_names(recorder: Recorder, name: str) -> None:
    from ._inputs import MILD

    if name in MILD or name in ("anc_history", "height", "weight", "febrile"):
        return
    _check_unknown_name(recorder, name, "hypothesis-unknown-name")


# ------------------------------------------------------------------------------------------- renderings
QUOTED = re.compile(r'"[^"\n]*"')
PIPE = re.compile(r"(?<!\\)\|")


def _render(recorder: Recorder, folder: pathlib.Path, text: str, fmt: str, input_id: str) -> Run:
    path = folder / f"{abs(hash((text, input_id)))}.guideline.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return recorder.run("text", "4.text", input_id, ["render", str(path), "--format", fmt])


def _compare(recorder: Recorder, folder: pathlib.Path, hostile: str, twin: str, input_id: str) -> None:
    for fmt in ("markdown", "mermaid"):
        t = _render(recorder, folder, twin, fmt, input_id + f"-{fmt}-twin")
        assert t.outcome == "result", t.describe()
        h = _render(recorder, folder, hostile, fmt, input_id + f"-{fmt}")
        assert_ok(h)
        if h.outcome != "result":
            continue
        hl, tl = _lines(h.stdout), _lines(t.stdout)
        assert len(hl) == len(tl), f"{len(hl)} lines instead of {len(tl)}\n{h.stdout}"
        for a, b in zip(hl, tl, strict=True):
            if b.startswith("|"):  # a Markdown table row keeps its cells
                assert len(PIPE.findall(a)) == len(PIPE.findall(b)), (a, b)
            if fmt == "mermaid":  # a Mermaid statement keeps its shape outside the quoted label
                assert QUOTED.sub('""', a) == QUOTED.sub('""', b), (a, b)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("label", "ANC low\nthen: forged"),
        ("label", 'say "hi" | there'),
        ("node_title", "step\n```\n# injected"),
        ("input_description", "a | b | c"),
        ("input_description", "line one\nline two"),
        ("title", "Title\n## Injected heading"),
        ("label", "\ud800"),
    ],
    ids=[
        "label-newline",
        "label-quotes-pipe",
        "title-fence",
        "description-pipes",
        "description-newline",
        "guideline-title-newline",
        "label-surrogate",
    ],
)
def test_hostile_text_in_a_guideline(
    recorder: Recorder, tmp_path: pathlib.Path, field: str, text: str
) -> None:
    hostile = guideline_yaml(**{field: text})
    twin = guideline_yaml(**{field: "plain"})
    _compare(
        recorder, tmp_path, hostile, twin, f"guideline-{field}-{text.encode('unicode_escape').decode()[:16]}"
    )


def test_a_node_called_end_does_not_break_mermaid(recorder: Recorder, tmp_path: pathlib.Path) -> None:
    # issue 7 item 4: `end` is a Mermaid keyword; a node id `end` closed the flowchart
    for fmt in ("mermaid", "markdown"):
        run = _render(recorder, tmp_path, guideline_yaml(node_id="end"), fmt, f"node-id-end-{fmt}")
        assert run.outcome == "result", run.describe()
        chart = run.stdout.split("```mermaid", 1)[-1].split("```", 1)[0]
        for line in chart.splitlines():
            bare = QUOTED.sub('""', line)
            assert not re.search(r"(?<![\w-])end(?![\w-])", bare), line


@SETTINGS
@given(field=st.sampled_from(["label", "node_title", "input_description", "title"]), text=HOSTILE_TEXT)
def test_generated_text_in_a_guideline(recorder: Recorder, field: str, text: str) -> None:
    with scratch_dir() as folder:
        _compare(
            recorder,
            folder,
            guideline_yaml(**{field: text}),
            guideline_yaml(**{field: "plain"}),
            f"hypothesis-{field}",
        )
