"""tools/gen_patients.py: reproducible, realistic synthetic patients read from the guideline's inputs."""

from __future__ import annotations

import collections
import json
from datetime import datetime

import pytest
from batch_helpers import tool

import interpreter
from interpreter.errors import FactsError
from interpreter.facts.json import parse_facts_json

gen = tool("gen_patients")


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load("leukopenia")


def test_same_seed_same_patients_whatever_n(g: interpreter.Guideline) -> None:
    a = list(gen.generate(g, 50, seed=3))
    b = list(gen.generate(g, 80, seed=3))
    assert a == b[:50]
    assert list(gen.generate(g, 10, start=40, seed=3)) == a[40:50]
    assert list(gen.generate(g, 50, seed=4)) != a


def test_rows_are_valid_and_varied(g: interpreter.Guideline) -> None:
    rows = list(gen.generate(g, 400, seed=1))
    units: dict[str, set[str]] = collections.defaultdict(set)
    statuses: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    recs: set[str] = set()
    default_at = gen.Generator(g).base
    for row in rows:
        assert isinstance(row, dict)
        facts = parse_facts_json(json.dumps(row))["facts"]
        for name, fact in facts.items():
            if isinstance(fact, dict) and "unit" in fact:
                units[name].add(fact["unit"])
            if isinstance(fact, list) and g.inputs[name].type == "code-set":  # a set of words: at most 3
                assert len(fact) <= 3 and set(fact) <= set(g.inputs[name].values)
            elif isinstance(fact, list):  # a series: 3..30 results, unique instants
                assert 3 <= len(fact) <= 30
                instants = [datetime.fromisoformat(r["at"]) for r in fact]
                assert len(set(instants)) == len(instants)
                units[name].update(r["unit"] for r in fact)
        as_of = datetime.fromisoformat(row["as_of"]) if "as_of" in row else default_at
        result = g.evaluate(facts, as_of, trace=False)  # never a FactsError without --bad
        statuses[result.status] += 1
        reasons.update(n.reason for n in result.needed_facts)
        recs.update(r.id for r in result.recommendations)
    for name in ("anc", "wbc", "anc_history"):
        assert units[name] == {"10*9/L", *g.inputs[name].accepted_units}, name
    assert units["weight"] == {"kg", "[lb_av]"}
    assert statuses["complete"] > 100 and statuses["incomplete"] > 50
    assert {"missing", "stale", "undated"} <= set(reasons)
    assert len(recs) > 30  # the thresholds drive patients into most branches
    assert any("as_of" not in r for r in rows) and len({r.get("as_of") for r in rows}) > 300


def test_some_values_sit_exactly_on_thresholds(g: interpreter.Guideline) -> None:
    table = gen.threshold_table(g)
    assert 1 in table["anc"] and 1.5 in table["anc"]
    on = 0
    for row in gen.generate(g, 300, seed=2):
        anc = row["facts"].get("anc")
        if anc and anc["unit"] == "10*9/L" and anc["value"] in table["anc"]:
            on += 1
    assert on >= 5


def test_bad_rows_are_refused(g: interpreter.Guideline) -> None:
    kinds = collections.Counter()
    for row in gen.generate(g, 300, seed=5, bad=0.5):
        if isinstance(row, str):
            kinds["not json"] += 1
            with pytest.raises(FactsError):
                parse_facts_json(row)
            continue
        if "id" not in row:
            kinds["no id"] += 1
            continue
        try:
            g.evaluate(row["facts"], datetime.fromisoformat(row.get("as_of") or "2026-11-24T09:00:00Z"))
        except FactsError as exc:
            kinds.update(d.code for d in exc.diagnostics)
    assert {"not json", "no id", "fact-implausible", "fact-unknown-unit", "fact-wrong-type"} <= set(kinds)


def test_ndjson_and_parquet_files(g: interpreter.Guideline, tmp_path) -> None:
    rows = list(gen.generate(g, 30, seed=1, bad=0.2))
    assert gen.write_ndjson(rows, tmp_path / "p.ndjson") == 30
    lines = (tmp_path / "p.ndjson").read_text().splitlines()
    assert lines == [gen.row_text(r) for r in rows]
    assert gen.write_parquet(rows, tmp_path / "p.parquet") == 30
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "p.parquet")
    assert table.column_names == ["id", "as_of", "facts"]
    first = next(r for r in rows if isinstance(r, dict) and "id" in r)
    i = rows.index(first)
    assert json.loads(table.column("facts")[i].as_py()) == first["facts"]
