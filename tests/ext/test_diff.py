"""guideline diff: the static diff, the corpus, and the behavioural diff of two versions (batch engine)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from batch_helpers import tool
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.ext.diff.behaviour import behaviour_diff, signature
from interpreter.ext.diff.corpus import corpus_rows
from interpreter.ext.diff.static import static_diff
from interpreter.values.units import conversion_factor

FIXTURES = Path(__file__).parent / "diff_fixtures"
V1, V2 = FIXTURES / "v1.guideline.yaml", FIXTURES / "v2.guideline.yaml"
AT = datetime(2026, 1, 2, 9, tzinfo=UTC)
gen = tool("gen_patients")


def _anc(facts: dict) -> Decimal | None:
    """The patient's ANC in 10*9/L (None when missing), whatever unit it was sent in."""
    anc = facts.get("anc")
    if anc is None:
        return None
    return Decimal(str(anc["value"])) * conversion_factor(anc["unit"], "10*9/L")


def test_one_threshold_changes_exactly_the_patients_at_it_in_every_unit(tmp_path: Path) -> None:
    old, new = interpreter.load(V1), interpreter.load(V2)
    # a corpus of generated patients as well (tools/gen_patients.py), many of them near the thresholds
    rows = list(gen.generate(old, 400, seed=2, as_of=AT))
    gen.write_ndjson(rows, tmp_path / "corpus.ndjson")
    b = behaviour_diff(old, new, as_of=AT, corpus=str(tmp_path / "corpus.ndjson"), workers=1)
    generated = {r["id"]: r for r in corpus_rows(old, new, AT)}
    given = {r["id"]: r for r in rows}
    assert b.patients == len(generated) + len(given) and b.given == 400
    changed = set(b.changed_ids)
    assert len(changed) == b.changed > 0
    units_at_one = set()
    for pid, row in [*generated.items(), *given.items()]:
        anc = _anc(row["facts"])
        at = row["facts"].get("anc", {}).get("at")
        as_of = datetime.fromisoformat(row["as_of"]) if "as_of" in row else AT
        fresh = at is not None and (as_of - datetime.fromisoformat(at)).total_seconds() <= 72 * 3600
        at_one = anc == 1 and fresh
        assert (pid in changed) == at_one, (pid, row["facts"].get("anc"))
        if at_one:
            units_at_one.add(row["facts"]["anc"]["unit"])
    assert units_at_one == {"10*9/L", "/uL", "/mm3", "10*3/uL"}  # exactly 1.0, in every accepted unit
    for t in b.transitions:  # every transition: moderate -> severe at the threshold node
        assert "moderate" in t.old["recommendations"] and "severe" in t.new["recommendations"]
        ex = t.example_trace
        assert _anc(ex["facts"]) == 1
        assert ex["nodes"][0] == {
            "node": "severity",
            "why": "decided differently",
            "old": ["moderate"],
            "new": ["severe", "supportive"],
        }


def test_static_diff_normalises_units() -> None:
    old, new = interpreter.load(V1), interpreter.load(V2)
    [c] = static_diff(old, new).changes
    assert (c.kind, c.id, c.what, c.where) == ("node", "severity", "threshold", "branch 1")
    assert (c.old, c.new) == ("anc < 1 10*9/L", "anc <= 1 10*9/L")
    assert static_diff(old, old).changes == []


def test_static_diff_of_written_changes(tmp_path: Path) -> None:
    text = V1.read_text()
    # the same threshold written in /mm3: a text change only; a dose, a route and a recommendation changed
    changed = (
        text.replace("anc < 1.0", "anc < q(1000, '/mm3')")
        .replace("amount: 5, unit: ug/kg", "amount: 10, unit: ug/kg")
        .replace("route: subcutaneous", "route: intravenous")
        .replace("text: Repeat the blood count.", "text: Repeat the blood count in 2 days.")
    )
    (tmp_path / "v3.guideline.yaml").write_text(changed.replace('version: "1.0.0"', 'version: "1.2.0"'))
    d = static_diff(interpreter.load(V1), interpreter.load(tmp_path / "v3.guideline.yaml"))
    found = {(c.id, c.what, c.where): (c.old, c.new) for c in d.changes}
    assert found[("severity", "text", "branch 1")] == ("anc < 1.0", "anc < q(1000, '/mm3')")
    assert found[("severe", "dose", "action 1")][1].startswith("10 ug/kg")
    assert found[("severe", "route", "action 1")] == ("subcutaneous", "intravenous")
    assert found[("moderate", "text", "text")][1] == "Repeat the blood count in 2 days."
    assert not [c for c in d.changes if c.what == "threshold"]


def test_corpus_covers_thresholds_units_and_unknowns() -> None:
    old, new = interpreter.load(V1), interpreter.load(V2)
    rows = list(corpus_rows(old, new, AT))
    assert len({json.dumps(r["facts"], sort_keys=True) for r in rows}) == len(rows)
    ancs = {(r["facts"]["anc"]["value"], r["facts"]["anc"]["unit"]) for r in rows if "anc" in r["facts"]}
    for v, u in [
        (0.9, "10*9/L"),
        (1, "10*9/L"),
        (1.1, "10*9/L"),
        (1000, "/uL"),
        (900, "/mm3"),
        (1.5, "10*3/uL"),
        (1600, "/uL"),
    ]:
        assert (v, u) in ancs
    kinds = {
        (
            "missing"
            if "anc" not in r["facts"]
            else "undated"
            if "at" not in r["facts"]["anc"]
            else "stale"
            if r["facts"]["anc"]["at"] < "2026-01-01"
            else "fresh"
        )
        for r in rows
    }
    assert kinds == {"missing", "undated", "stale", "fresh"}
    pairs = {(json.dumps(r["facts"].get("anc")), json.dumps(r["facts"].get("fever"))) for r in rows}
    assert len(pairs) >= 12 * 3  # every declared-unit anc variant with every fever variant


def test_signature() -> None:
    assert signature({"outcome": "error", "error": {"code": "fact-implausible"}}) == {
        "error": "fact-implausible"
    }


def test_cli_markdown_json_and_exit_codes() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["diff", str(V1), str(V2), "--workers", "1"])
    assert res.exit_code == 1, res.output
    out = res.stdout
    assert out.startswith("# Guideline diff: diff-example 1.0.0 -> diff-example 1.1.0")
    assert "| node | severity | threshold | branch 1 | anc &lt; 1 10*9/L | anc &lt;= 1 10*9/L |" in out
    assert "change outcome" in out and "### Transition 1:" in out and "Caused at: `severity`" in out
    res = runner.invoke(main, ["diff", str(V1), str(V1), "--workers", "1", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["static"] == [] and doc["behaviour"]["changed"] == 0 and doc["behaviour"]["patients"] > 50
    res = runner.invoke(main, ["diff", "leukopenia@9.9.9", str(V1)])
    assert res.exit_code == 2 and "Traceback" not in res.output


@pytest.mark.slow
@pytest.mark.parametrize("ref", ["leukopenia@1.0.0"])
def test_bundled_id_at_version(ref: str) -> None:
    res = CliRunner().invoke(main, ["diff", ref, ref, "--workers", "1", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["old"]["version"] == "1.0.0" and doc["behaviour"]["changed"] == 0
    assert doc["behaviour"]["patients"] > 1000
