"""guideline batch --fhir: one FHIR R4 Bundle per row, through the adapter of `guideline evaluate --fhir`
(issue 11); each record equals the single evaluation of the same Bundle and asserted facts, and a bad row or
Bundle is an error record that never stops the run."""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import REPO
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.errors import EvaluationError, FactsError
from interpreter.ext.batch.fhir_rows import FhirRows, evaluate_fhir_line, row_bindings, split_row
from interpreter.ext.batch.rows import RowOptions
from interpreter.ext.fhir import evaluate_fhir, parse_bundle, resources_of_bundle
from interpreter.facts.json import parse_facts_json
from interpreter.loading.source import load_yaml

AT = "2026-11-24T09:00:00Z"


def _fhir_synth() -> Any:
    """tests/fhir_synth.py (test cases as FHIR Bundles), which tests/ext/ does not see on its path."""
    if "fhir_synth" not in sys.modules:
        spec = importlib.util.spec_from_file_location("fhir_synth", REPO / "tests" / "fhir_synth.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["fhir_synth"] = module
        spec.loader.exec_module(module)
    return sys.modules["fhir_synth"]


to_bundle = _fhir_synth().to_bundle


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _rows(guideline: str) -> list[str]:
    """One NDJSON line per case of the guideline's test file that FHIR can carry, then the bad rows."""
    test_file = REPO / "guidelines" / guideline / f"{guideline}.tests.yaml"
    doc, _sm, diags = load_yaml(test_file.read_bytes(), str(test_file))
    assert not diags
    g = interpreter.load(guideline)
    b = row_bindings(g, FhirRows.for_guideline(g, None))
    lines = []
    for k, case in enumerate(doc["cases"]):
        at = case.get("at") or doc.get("at") or AT
        try:
            bundle, asserted = to_bundle(b, dict(case.get("facts") or {}), datetime.fromisoformat(at))
        except (TypeError, KeyError, ValueError, AttributeError):
            continue  # a fact of a shape no resource has (only refused cases)
        row = {"id": f"case-{k}", "bundle": bundle, "facts": asserted, "as_of": at}
        lines.append(json.dumps(_plain(row)))
    return lines


BAD = [
    # not a Bundle
    ('{"id": "bad-patient", "bundle": {"resourceType": "Patient", "id": "p1"}}', "fact-malformed"),
    # a key twice inside the Bundle: refused as `evaluate --fhir` refuses it
    ('{"id": "bad-dup", "bundle": {"resourceType": "Bundle", "entry": [], "entry": []}}', "fact-malformed"),
    # two patients and no `patient`
    ('{"id": "bad-two", "bundle": {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": '
     '"Patient", "id": "a"}}, {"resource": {"resourceType": "Patient", "id": "b"}}]}}', None),
    # no bundle, an unknown key, no id, not JSON, a key twice in the row
    ('{"id": "bad-none", "facts": {}}', "batch-row-invalid"),
    ('{"id": "bad-key", "bundle": {"resourceType": "Bundle"}, "asof": "2026-11-24T09:00:00Z"}',
     "batch-row-invalid"),
    ('{"bundle": {"resourceType": "Bundle"}}', "batch-row-invalid"),
    ('{"id": "bad-json", "bundle": {', "fact-malformed"),
    ('{"id": "x", "id": "y", "bundle": {"resourceType": "Bundle"}}', "fact-malformed"),
]


def _single(g: interpreter.Guideline, line: str) -> tuple[str, Any]:
    """What `guideline evaluate --fhir BUNDLE FACTS --at AS_OF` gives for the row's Bundle and facts, each
    read from its own text as the command reads its files."""
    row = json.loads(line)
    bindings = row_bindings(g, FhirRows.for_guideline(g, None))
    try:
        resources = resources_of_bundle(parse_bundle(json.dumps(row["bundle"])))
        asserted = parse_facts_json(json.dumps(row.get("facts", {})))
        ev = evaluate_fhir(bindings, resources, datetime.fromisoformat(row["as_of"]), asserted=asserted,
                           trace=False)
    except FactsError as exc:
        return "error", exc.diagnostics[0].code
    except EvaluationError as exc:
        return "error", exc.code
    return "ok", ev.to_json()


@pytest.mark.parametrize("guideline", ["khorana", "leukopenia"])
def test_every_row_equals_its_single_evaluation(guideline: str, tmp_path: Path) -> None:
    g = interpreter.load(guideline)
    lines = _rows(guideline)
    assert len(lines) > 40
    bad = [line for line, _ in BAD]
    (tmp_path / "in.ndjson").write_text("\n".join(lines[:20] + bad + lines[20:]) + "\n", "utf-8")
    res = CliRunner().invoke(main, [
        "batch", guideline, str(tmp_path / "in.ndjson"), "--out", str(tmp_path / "out"), "--fhir",
        "--at", AT, "--workers", "1", "--partition-rows", "17", "--no-progress", "--format", "json",
    ])
    assert res.exit_code == 1, res.output  # the bad rows are error records; the run went on
    summary = json.loads(res.stdout)
    records = [json.loads(x) for p in sorted((tmp_path / "out").glob("part-*.ndjson"))
               for x in p.read_text("utf-8").splitlines()]
    assert summary["rows"] == len(records) == len(lines) + len(BAD)
    assert [r["row"] for r in records] == list(range(1, len(records) + 1))
    by_row = dict(zip(range(1, len(records) + 1), lines[:20] + bad + lines[20:], strict=True))
    checked = 0
    for rec in records:
        line = by_row[rec["row"]]
        if line in bad:
            want = dict(BAD)[line]
            assert rec["outcome"] == "error", rec
            if want is not None:
                assert rec["error"]["code"] == want, rec
            continue
        outcome, expected = _single(g, line)
        assert rec["id"] == json.loads(line)["id"]
        if outcome == "ok":
            assert rec["outcome"] == "ok" and rec["result"] == expected, rec["id"]
            assert rec["result"]["fhir"]["provenance"] is not None
            checked += 1
        else:
            assert rec["outcome"] == "error" and rec["error"]["code"] == expected
    assert checked > 30


def test_a_row_equals_the_evaluate_fhir_command(tmp_path: Path) -> None:
    """The command itself, on files: the same result document (its trace aside: batch leaves it out)."""
    g = interpreter.load("khorana")
    line = _rows("khorana")[5]
    row = json.loads(line)
    (tmp_path / "b.json").write_text(json.dumps(row["bundle"]), "utf-8")
    (tmp_path / "f.json").write_text(json.dumps(row["facts"]), "utf-8")
    res = CliRunner().invoke(main, ["evaluate", "khorana", str(tmp_path / "f.json"), "--fhir",
                                    str(tmp_path / "b.json"), "--at", row["as_of"], "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    single = json.loads(res.stdout)
    options = RowOptions(at=datetime.fromisoformat(AT), trace=True)
    rec = evaluate_fhir_line(g, row_bindings(g, FhirRows.for_guideline(g, None)), line, 1, options)
    assert rec["outcome"] == "ok"
    assert rec["result"] == single


def test_a_site_file_travels_with_the_tasks(tmp_path: Path) -> None:
    g = interpreter.load("khorana")
    shipped = pickle.loads(pickle.dumps(FhirRows.for_guideline(g, None)))
    assert shipped.file is not None and shipped.file.endswith("khorana-0.2.0.bindings.yaml")
    assert row_bindings(g, shipped).hash == row_bindings(g, FhirRows.for_guideline(g, None)).hash
    # the worker reads the bytes sent, not the file (which it may not have)
    copy = tmp_path / "site.yaml"
    copy.write_bytes(Path(shipped.file).read_bytes())
    moved = FhirRows.for_guideline(g, str(copy))
    copy.unlink()
    assert row_bindings(g, pickle.loads(pickle.dumps(moved))).hash == row_bindings(g, shipped).hash


def test_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "in.ndjson").write_text('{"id": 1, "bundle": {"resourceType": "Bundle"}}\n', "utf-8")
    (tmp_path / "bad.yaml").write_text("guideline: khorana\nbindings: {nope: {}}\n", "utf-8")
    runner = CliRunner()
    common = ["--at", AT, "--workers", "1", "--no-progress"]
    res = runner.invoke(main, ["batch", "khorana", str(tmp_path / "in.ndjson"), "--out", str(tmp_path / "o1"),
                               "--bindings", str(tmp_path / "bad.yaml"), *common])
    assert res.exit_code == 2 and "--bindings needs --fhir" in res.output
    res = runner.invoke(main, ["batch", "khorana", str(tmp_path / "in.ndjson"), "--out", str(tmp_path / "o2"),
                               "--fhir", "--bindings", str(tmp_path / "bad.yaml"), *common])
    assert res.exit_code == 2 and "bindings were refused" in res.output
    res = runner.invoke(main, ["batch", "khorana", str(tmp_path / "in.ndjson"), "--out", str(tmp_path / "o3"),
                               "--fhir", "--input-format", "parquet", *common])
    assert res.exit_code == 2 and "NDJSON" in res.output


def test_a_bundle_row_without_fhir_says_so() -> None:
    from interpreter.ext.batch.rows import evaluate_line
    g = interpreter.load("khorana")
    rec = evaluate_line(g, '{"id": 1, "bundle": {}}', 1, RowOptions(at=datetime.fromisoformat(AT)))
    assert rec["error"]["code"] == "batch-row-invalid"
    assert "--fhir" in rec["error"]["diagnostics"][0]["hint"]


@pytest.mark.parametrize(("text", "keys"), [
    ('{"a": 1, "b": {"c": [1, {"d": "}"}]}}', {"a": "1", "b": '{"c": [1, {"d": "}"}]}'}),
    (' { } ', {}),
    ('{"a" : "x\\"y" }', {"a": '"x\\"y"'}),
])
def test_split_row_keeps_each_value_as_written(text: str, keys: dict[str, str]) -> None:
    assert split_row(text) == keys


@pytest.mark.parametrize("text", ['[1]', '{"a": 1,}', '{"a": 1} x', '{"a" 1}', '{"a": 1, "a": 2}', '{'])
def test_split_row_refuses_what_is_not_one_object(text: str) -> None:
    with pytest.raises(ValueError):
        split_row(text)
