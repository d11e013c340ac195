"""Output safety: echoed text never forges a line or fails to encode; JSON errors under --format json;
Mermaid and Markdown renderings that no guideline text can break; rendering without recursion."""

from __future__ import annotations

import json
import pathlib
import re
import sys

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter import load
from interpreter.cli import main
from interpreter.errors import Diagnostic, Location
from interpreter.output.options import FormatOptions
from interpreter.output.registry import DIAGNOSTIC_FORMATS
from interpreter.output.render import guideline_markdown, guideline_mermaid, md_cell, md_code
from interpreter.output.results import result_text
from interpreter.textsafe import escape_surrogates, safe_block, safe_line
from interpreter.tooling.validate import ValidationReport

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
MINIMAL = HERE / "fixtures" / "valid" / "minimal.guideline.yaml"
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
AT = "2026-11-24T09:00:00Z"
ERROR_SCHEMA = json.loads((REPO / "schema" / "error.schema.json").read_text(encoding="utf-8"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_facts(tmp_path: pathlib.Path, text: str) -> str:
    p = tmp_path / "facts.json"
    p.write_text(text, encoding="utf-8")
    return str(p)


# --------------------------------------------------------------------------------------------------
# the helper


def test_safe_line_escapes_breaks_controls_bidi_and_lone_surrogates() -> None:
    assert safe_line("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert safe_line("x\x1b[2Jy\x85z\u2028w") == "x\\x1b[2Jy\\x85z\\u2028w"
    assert safe_line("evil\u202ecod.exe\u2066") == "evil\\u202ecod.exe\\u2066"
    assert safe_line("\ud800") == "\\ud800"
    assert safe_line("µg/kg é 😀 10*9/L") == "µg/kg é 😀 10*9/L"  # printable text is kept
    safe_line("\ud800x").encode("utf-8")  # encodes


def test_safe_block_keeps_breaks_inside_the_block() -> None:
    assert safe_block("one\ntwo\r\nthree\x00", "    ") == "one\n    two\n    three\\x00"


def test_escape_surrogates_keeps_json_valid_and_equal() -> None:
    text = json.dumps({"k\ud800": "v\udfff é"}, ensure_ascii=False)
    safe = escape_surrogates(text)
    safe.encode("utf-8")
    assert json.loads(safe) == {"k\ud800": "v\udfff é"}


# --------------------------------------------------------------------------------------------------
# evaluate: hostile fact names through the CLI and the API

HOSTILE_FACTS = '{"anc\\nRESULT: complete": 1, "x\\ud800": 2, "rtl\\u202eevil": 3}'


def test_cli_text_report_escapes_hostile_fact_names(tmp_path: pathlib.Path) -> None:
    code, out, err = run("evaluate", str(MINI), write_facts(tmp_path, HOSTILE_FACTS), "--at", AT)
    assert code == 1, err  # incomplete (no anc), not an internal error
    assert "RESULT: complete" not in out.splitlines()  # no forged line
    assert "  ~ anc\\nRESULT: complete" in out
    assert "  ~ x\\ud800" in out
    assert "  ~ rtl\\u202eevil" in out
    assert "\u202e" not in out


def test_cli_json_with_a_lone_surrogate_is_valid_json(tmp_path: pathlib.Path) -> None:
    code, out, err = run("evaluate", str(MINI), write_facts(tmp_path, HOSTILE_FACTS), "--at", AT,
                         "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    names = {u["name"] for u in data["unrecognized_facts"]}
    assert {"anc\nRESULT: complete", "x\ud800", "rtl\u202eevil"} <= names


def test_api_result_text_escapes_hostile_fact_names() -> None:
    g = load(str(MINI))
    from datetime import datetime

    result = g.evaluate(json.loads(HOSTILE_FACTS), datetime.fromisoformat(AT))
    text = result_text(result, FormatOptions(explain=True))
    text.encode("utf-8")
    assert "RESULT: complete" not in text.splitlines()
    assert "  ~ anc\\nRESULT: complete" in text


def test_validate_text_and_github_reports_escape_hostile_keys(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "g.guideline.yaml"
    text = MINIMAL.read_text(encoding="utf-8") + '"bad\\nkey\\u202e": 1\n'
    path.write_text(text, encoding="utf-8")
    for fmt in ("text", "github"):
        code, out, _ = run("validate", "--format", fmt, str(path))
        assert code == 1
        # text: one escaped line; github: the break is %0A inside the one workflow command
        assert ("bad\\nkey\\u202e" if fmt == "text" else "bad%0Akey\\u202e") in out
        assert not any(line.startswith("key") for line in out.splitlines())
    code, out, _ = run("validate", "--format", "json", str(path))
    keys = [d["path"] for d in json.loads(out)["diagnostics"]]
    assert ["bad\nkey\u202e"] in keys


def test_diagnostic_format_is_one_line_plus_hint() -> None:
    d = Diagnostic("x-code", "bad\nforged: error[y]", Location("f\nile", 1, 2), hint="h\nint")
    assert d.format().splitlines() == [
        "f\\nile:1:2: error[x-code]: bad\\nforged: error[y]", "    hint: h\\nint"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=20), value=st.text(max_size=20), label=st.text(max_size=30))
def test_any_text_never_adds_a_line_or_fails_to_encode(name: str, value: str, label: str) -> None:
    g = load(str(MINI))
    from datetime import datetime

    facts = {"zz_" + name: value}
    result = g.evaluate(facts, datetime.fromisoformat(AT))
    base = result_text(g.evaluate({}, datetime.fromisoformat(AT)))
    text = result_text(result)
    text.encode("utf-8")
    # exactly one extra line: the unrecognized fact (plus the section heading and blank line when new)
    assert text.count("\n") - base.count("\n") in (1, 3)
    diag = Diagnostic("schema-unknown-key", f"unknown key '{name}'", Location(label, 1, 1), hint="h" + value)
    report = ValidationReport((diag,), (label,))
    for fmt in ("text", "github"):
        out = DIAGNOSTIC_FORMATS[fmt](report)
        out.encode("utf-8")
        assert out.count("\n") == (3 if fmt == "text" else 2)
    diagnostics = json.loads(DIAGNOSTIC_FORMATS["json"](report)).get("diagnostics")
    diagnostics[0]["message"].encode("utf-8", "surrogatepass")
    assert "\n" not in md_cell(label) and "|" not in md_cell(label).replace("\\|", "")
    assert "\n" not in md_code(label)


# --------------------------------------------------------------------------------------------------
# render: Mermaid and Markdown


def _hostile_guideline(tmp_path: pathlib.Path) -> pathlib.Path:
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("start: severity", "start: end").replace("- id: severity", "- id: end")
    label = '        label: "low\\nanc \\"quoted\\" | x"\n'
    text = text.replace("      - when: anc < 0.5\n", "      - when: anc < 0.5\n" + label)
    text = text.replace("description: Absolute neutrophil count",
                        'description: "count | with pipe\\nand a second line"')
    path = tmp_path / "hostile.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_mermaid_ids_and_labels_are_safe(tmp_path: pathlib.Path) -> None:
    path = _hostile_guideline(tmp_path)
    code, out, err = run("render", "--format", "mermaid", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    assert all(line.startswith("  id_") for line in lines[1:]), out  # every statement on its own line
    assert not re.search(r"(^|\s)end(\s|\{|\[|\(|$)", out)  # the keyword `end` is never a node id
    assert '  id_end -->|"low anc #quot;quoted#quot; #124; x"| id_severe' in lines


def test_markdown_table_cells_escape_pipes_and_breaks(tmp_path: pathlib.Path) -> None:
    path = _hostile_guideline(tmp_path)
    code, out, err = run("render", str(path))
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("| `anc`"))
    assert row.endswith("| count \\| with pipe<br>and a second line |")
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # six cells


def test_render_of_a_5000_node_chain_needs_no_recursion(tmp_path: pathlib.Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    head = text[: text.index("start: severity")]
    tail = text[text.index("recommendations:"):]
    n = 5000
    nodes = "".join(
        f"  - id: c{i}\n    kind: choice\n    branches:\n      - when: anc < 0.5\n"
        f"        then: {f'c{i + 1}' if i < n - 1 else 'severe'}\n"
        "    otherwise: not-severe\n    unknown: cannot-decide\n"
        for i in range(n)
    )
    path = tmp_path / "chain.guideline.yaml"
    path.write_text(f"{head}start: c0\nnodes:\n{nodes}{tail}", encoding="utf-8")
    model = load(str(path)).compiled.model
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        mermaid = guideline_mermaid(model)
        markdown = guideline_markdown(model)
    finally:
        sys.setrecursionlimit(old)
    assert mermaid.count("-->") == 2 * n
    assert markdown.count("### `c") == n


# --------------------------------------------------------------------------------------------------
# --format json errors


def _error_doc(out: str) -> dict[str, object]:
    doc = json.loads(out)
    jsonschema.Draft202012Validator(ERROR_SCHEMA).validate(doc)
    return doc


def test_error_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(ERROR_SCHEMA)


def test_json_error_for_bad_facts(tmp_path: pathlib.Path) -> None:
    code, out, err = run("evaluate", str(MINI), write_facts(tmp_path, '{"anc": "x"}'), "--at", AT,
                         "--format", "json")
    assert code == 2
    doc = _error_doc(out)
    assert doc["kind"] == "facts"
    assert doc["diagnostics"][0]["fact"] == "anc"  # type: ignore[index]
    assert "fact 'anc'" in err  # the human text still goes to stderr


def test_json_error_for_facts_not_utf8(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "f.json"
    p.write_bytes(b'{"anc": "\xff"}')
    code, out, _ = run("evaluate", str(MINI), str(p), "--at", AT, "--format", "json")
    assert code == 2
    assert _error_doc(out)["diagnostics"][0]["code"] == "fact-encoding"  # type: ignore[index]


def test_json_error_for_a_bad_guideline(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.guideline.yaml"
    path.write_text(MINIMAL.read_text(encoding="utf-8").replace("kind: choice", "kind: choise"))
    code, out, err = run("evaluate", str(path), write_facts(tmp_path, "{}"), "--at", AT, "--format", "json")
    assert code == 2
    doc = _error_doc(out)
    assert doc["kind"] == "guideline"
    d = doc["diagnostics"][0]  # type: ignore[index]
    assert d["code"] == "schema-enum" and d["line"] > 0 and d["file"] == str(path)
    assert "schema-enum" in err


def test_json_error_for_an_unknown_guideline_id(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("evaluate", "no-such-guideline", write_facts(tmp_path, "{}"), "--format", "json")
    assert code == 2
    doc = _error_doc(out)
    assert doc["kind"] == "guideline" and doc["diagnostics"]


@pytest.mark.parametrize("at", ["2026-13-01", "yesterday", "2026-11-24T09:00:00", "x\ud800"])
def test_json_error_for_a_bad_at(tmp_path: pathlib.Path, at: str) -> None:
    code, out, err = run("evaluate", str(MINI), write_facts(tmp_path, "{}"), "--at", at, "--format=json")
    assert code == 2
    doc = _error_doc(out)
    assert doc["kind"] == "usage"
    assert doc["diagnostics"][0]["option"] == "--at"  # type: ignore[index]
    assert "--at" in err


def test_json_error_for_a_facts_file_that_cannot_be_opened(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("evaluate", str(MINI), str(tmp_path / "missing.json"), "--format", "json")
    assert code == 2
    assert _error_doc(out)["kind"] == "usage"


def test_json_error_for_test_without_test_files(tmp_path: pathlib.Path) -> None:
    code, out, _ = run("test", "--format", "json", str(tmp_path / "nowhere"))
    assert code == 2
    assert _error_doc(out)["command"] == "test"
    (tmp_path / "empty").mkdir()
    code, out, _ = run("test", "--format", "json", str(tmp_path / "empty"))
    assert code == 2
    assert _error_doc(out)["kind"] == "usage"


def test_text_format_errors_print_nothing_on_stdout(tmp_path: pathlib.Path) -> None:
    code, out, err = run("evaluate", str(MINI), write_facts(tmp_path, '{"anc": "x"}'), "--at", AT)
    assert code == 2 and out == "" and "fact 'anc'" in err


# --------------------------------------------------------------------------------------------------
# guideline size before reading, bounded diagnostics


def test_validate_dev_zero_returns_at_once() -> None:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "interpreter", "validate", "/dev/zero"],
                          capture_output=True, text=True, timeout=20, cwd=REPO)
    assert proc.returncode == 2
    assert "file-unreadable" in proc.stdout and "not a regular file" in proc.stdout


def test_validate_a_fifo_is_refused_without_opening_it(tmp_path: pathlib.Path) -> None:
    import os

    fifo = tmp_path / "g.guideline.yaml"
    os.mkfifo(fifo)  # no writer: opening it would block forever
    code, out, _ = run("validate", str(fifo))
    assert code == 2 and "error[file-unreadable]" in out


def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path: pathlib.Path) -> None:
    import time

    path = tmp_path / "huge.guideline.yaml"
    with open(path, "wb") as fh:
        fh.truncate(3 * 1024**3)  # 3 GB, sparse: reading it whole would take 3 GB of memory
    start = time.monotonic()
    code, out, _ = run("validate", str(path))
    assert time.monotonic() - start < 5
    assert code == 1 and "error[yaml-too-large]" in out and "3221225472 bytes" in out


def test_read_capped_reads_at_most_max_bytes_plus_one(tmp_path: pathlib.Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from interpreter.loading.source import LoaderLimits, read_capped

    path = tmp_path / "g.yaml"
    path.write_bytes(b"a: 1\n" * 100)
    sizes: list[int] = []
    real_open = builtins.open

    class Spy:
        def __init__(self, fh: object) -> None:
            self.fh = fh

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()  # type: ignore[attr-defined]

        def read(self, n: int = -1) -> bytes:
            sizes.append(n)
            return self.fh.read(n)  # type: ignore[attr-defined, no-any-return]

    monkeypatch.setattr(builtins, "open", lambda *a, **k: Spy(real_open(*a, **k)))
    monkeypatch.setattr("interpreter.loading.source.os.stat", lambda f: os_stat_small(f))  # a file that grew
    data, problem = read_capped(path, LoaderLimits(max_bytes=64))
    assert sizes == [65] and data is None
    assert problem is not None and problem.code == "yaml-too-large" and "more than 64" in problem.message


def os_stat_small(path: str) -> object:
    import os
    import stat as st

    real = os.lstat(path)

    class Small:
        st_mode = real.st_mode
        st_size = 10

    assert st.S_ISREG(Small.st_mode)
    return Small()


def test_a_mebibyte_of_unknown_keys_is_fast_and_short(tmp_path: pathlib.Path) -> None:
    import time

    text = MINIMAL.read_text(encoding="utf-8")
    keys: list[str] = []
    size = len(text)
    i = 0
    while size < 1024 * 1024 - 100:
        line = f"unknown_key_number_{i}: 1\n"
        keys.append(line)
        size += len(line)
        i += 1
    path = tmp_path / "keys.guideline.yaml"
    path.write_text(text + "".join(keys), encoding="utf-8")
    start = time.monotonic()
    code, out, _ = run("validate", str(path))
    elapsed = time.monotonic() - start
    assert code == 1
    assert elapsed < 5, elapsed
    assert len(out.encode()) < 100_000
    lines = out.splitlines()
    assert sum(1 for line in lines if "error[schema-unknown-key]" in line) == 200
    assert "error[too-many-diagnostics]" in lines[-3]
    assert lines[-1].endswith("(more not shown: 1 file had too many problems to list; "
                              "see too-many-diagnostics)")
    code, out, _ = run("validate", "--format", "json", str(path))
    assert len(json.loads(out)["diagnostics"]) == 201


def test_did_you_mean_is_bounded() -> None:
    import time

    from interpreter.values.suggest import MAX_SUGGESTION_CANDIDATES
    from interpreter.values.suggest import did_you_mean as _did_you_mean

    assert _did_you_mean("titel", ["title", "version"]) == "title"
    assert _did_you_mean("t" * 65, ["t" * 65]) is None  # too long to compare
    many = [f"name_{i}" for i in range(100_000)]
    start = time.monotonic()
    assert _did_you_mean("name_99999", many) != "name_99999"  # past the first MAX_SUGGESTION_CANDIDATES
    assert MAX_SUGGESTION_CANDIDATES < 99_999
    assert _did_you_mean("name_5x", many) is not None
    assert time.monotonic() - start < 1
