"""guideline batch on a real LocalCluster: every row of a 10,000-patient run equals its single evaluation."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_helpers import REPO, tool
from click.testing import CliRunner

import interpreter
from interpreter.cli import main
from interpreter.errors import EvaluationError, FactsError
from interpreter.ext.batch.arrow import SPARK_SCHEMA, ArrowEvaluator
from interpreter.ext.batch.engine import BatchConfig, client_for, run_batch
from interpreter.ext.batch.parts import OUTPUT_COLUMNS, plan_partitions
from interpreter.ext.batch.rows import RowOptions
from interpreter.ext.batch.shipping import Shipped, compile_count, worker_guideline
from interpreter.facts.json import parse_facts_json

gen = tool("gen_patients")
AT = datetime(2026, 11, 24, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load("leukopenia")


def _single(g: interpreter.Guideline, row: dict | str) -> tuple[str, object]:
    """What one `guideline evaluate` of the row's facts gives: ("ok", result JSON) or ("error", code)."""
    if isinstance(row, str):
        return "error", "fact-malformed"
    if "id" not in row:
        return "error", "batch-row-invalid"
    facts = parse_facts_json(json.dumps(row["facts"]))
    as_of = datetime.fromisoformat(row["as_of"]) if "as_of" in row else AT
    try:
        return "ok", g.evaluate(facts, as_of, trace=False).to_json()
    except (FactsError, EvaluationError) as exc:
        code = exc.diagnostics[0].code if isinstance(exc, FactsError) else exc.code
        return "error", str(code)


def _records(out: Path, fmt: str = "ndjson") -> list[dict]:
    records = []
    for part in sorted(out.glob(f"part-*.{fmt}")):
        if fmt == "ndjson":
            records += [json.loads(line) for line in part.read_text().splitlines()]
        else:
            for r in pq.read_table(part).to_pylist():
                r["result"] = json.loads(r["result"]) if r["result"] else None
                records.append(r)
    return records


@pytest.mark.slow
def test_ten_thousand_patients_equal_single_evaluations(g: interpreter.Guideline, tmp_path: Path) -> None:
    rows = list(gen.generate(g, 10_000, seed=11, as_of=AT, bad=0.01))
    gen.write_ndjson(rows, tmp_path / "in.ndjson")
    config = BatchConfig(
        str(tmp_path / "in.ndjson"),
        str(tmp_path / "out"),
        "ndjson",
        "ndjson",
        RowOptions(at=AT, source="in.ndjson"),
        workers=2,
        rows_per_part=1000,
    )
    run = run_batch(g, config)
    records = _records(tmp_path / "out")
    assert len(records) == 10_000 and [r["row"] for r in records] == list(range(1, 10_001))
    errors = 0
    for row, rec in zip(rows, records, strict=True):
        outcome, expected = _single(g, row)
        assert rec["outcome"] == outcome, (rec["row"], rec.get("error"))
        if outcome == "ok":
            assert rec["result"] == expected, rec["row"]
            assert rec["id"] == row["id"] and rec["status"] == expected["status"]
        else:
            errors += 1
            assert rec["error"]["code"] == expected, rec["row"]
    summary = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert summary == run.to_json()
    assert summary["rows"] == 10_000 and summary["errors"] == errors > 20
    assert summary["complete"] + summary["incomplete"] + errors == 10_000
    assert summary["workers"] == 2 and len(summary["parts_written"]) == 10 and not summary["interrupted"]
    fired = sum(
        1
        for r in records
        if r["outcome"] == "ok"
        for rec in r["result"]["recommendations"]
        if rec["id"] == "gcsf-severe-standard"
    )
    assert summary["recommendations"]["gcsf-severe-standard"] == fired


def _worker_setting(key: str) -> object:
    import dask

    return dask.config.get(key)


def test_the_guideline_is_loaded_once_per_worker(g: interpreter.Guideline, tmp_path: Path) -> None:
    gen.write_ndjson(gen.generate(g, 48, seed=1, as_of=AT), tmp_path / "in.ndjson")
    first = BatchConfig(
        str(tmp_path / "in.ndjson"),
        str(tmp_path / "a"),
        "ndjson",
        "ndjson",
        RowOptions(at=AT),
        workers=2,
        rows_per_part=2,
    )
    second = BatchConfig(
        str(tmp_path / "in.ndjson"),
        str(tmp_path / "b"),
        "ndjson",
        "ndjson",
        RowOptions(at=AT),
        workers=2,
        rows_per_part=2,
    )
    with client_for(first) as client:
        assert set(client.run(compile_count).values()) == {0}
        # the cluster runs quiet (engine.QUIET_CLUSTER): no statistical profiler in the workers
        assert set(client.run(_worker_setting, "distributed.worker.profile.enabled").values()) == {False}
        assert set(client.run(_worker_setting, "distributed.admin.tick.interval").values()) == {"1s"}
        run_batch(g, first, client=client)  # 24 tasks on 2 workers (a worker that got no task never compiles)
        counts = list(client.run(compile_count).values())
        assert len(counts) == 2 and max(counts) == 1
        run_batch(g, second, client=client)  # a second run on the same workers: nothing compiled again
        assert max(client.run(compile_count).values()) == 1
    assert len(_records(tmp_path / "a")) == len(_records(tmp_path / "b")) == 48


def test_a_shipped_guideline_is_compiled_once_per_process(g: interpreter.Guideline) -> None:
    import pickle

    shipped = pickle.dumps(Shipped(g))
    before = compile_count()
    a, b = pickle.loads(shipped), pickle.loads(shipped)
    assert a is b and a == g and compile_count() - before <= 1
    s = Shipped(g)
    with pytest.raises(pickle.UnpicklingError):  # the payload's digest is checked before anything is compiled
        worker_guideline("0" * 64, s.payload)


def test_parquet_in_and_out_limit_and_sample(g: interpreter.Guideline, tmp_path: Path) -> None:
    rows = list(gen.generate(g, 300, seed=3, as_of=AT, bad=0.05))
    gen.write_parquet(rows, tmp_path / "in.parquet", row_group_size=70)
    gen.write_ndjson(rows, tmp_path / "in.ndjson")
    runner = CliRunner()
    common = ["--at", "2026-11-24T09:00:00Z", "--workers", "1", "--partition-rows", "50", "--no-progress"]
    res = runner.invoke(
        main,
        [
            "batch",
            "leukopenia",
            str(tmp_path / "in.parquet"),
            "--out",
            str(tmp_path / "o.parquet"),
            "--limit",
            "120",
            "--format",
            "json",
            *common,
        ],
    )
    assert res.exit_code == 1, res.output  # some rows are errors
    summary = json.loads(res.stdout)
    recs = _records(tmp_path / "o.parquet", "parquet")
    assert [r["row"] for r in recs] == list(range(1, 121)) and summary["rows"] == 120
    assert tuple(pq.read_table(next((tmp_path / "o.parquet").glob("part-*"))).column_names) == OUTPUT_COLUMNS
    for row, rec in zip(rows, recs, strict=False):
        outcome, expected = _single(g, row)
        if outcome == "ok":
            assert rec["result"] == expected
        elif isinstance(row, str):
            # a row that is not JSON sits in the Parquet facts column with a null id: the row has no id
            assert rec["error_code"] == "batch-row-invalid"
        else:
            assert rec["error_code"] == expected
    # a sample: the same rows whatever the format, in file order
    res = runner.invoke(
        main,
        [
            "batch",
            "leukopenia",
            str(tmp_path / "in.ndjson"),
            "--out",
            str(tmp_path / "s"),
            "--sample",
            "25",
            "--seed",
            "4",
            *common,
        ],
    )
    assert res.exit_code in (0, 1), res.output
    sampled = [r["row"] for r in _records(tmp_path / "s")]
    assert len(sampled) == 25 == len(set(sampled)) and sampled == sorted(sampled)
    parts = plan_partitions(str(tmp_path / "in.parquet"), "parquet", rows_per_part=50, sample=25, seed=4)
    assert sorted(n for p in parts for n in (p.wanted or ())) == sampled


def test_usage_errors_exit_2(g: interpreter.Guideline, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "in.ndjson").write_text('{"id": "p1", "facts": {}}\n')
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    for args in (
        ["leukopenia", str(tmp_path / "nope.ndjson"), "--out", str(tmp_path / "o")],
        ["leukopenia", str(tmp_path / "in.ndjson"), "--out", str(tmp_path / "full")],
        [
            "leukopenia",
            str(tmp_path / "in.ndjson"),
            "--out",
            str(tmp_path / "o"),
            "--input-format",
            "parquet",
        ],
        ["no-such-guideline", str(tmp_path / "in.ndjson"), "--out", str(tmp_path / "o")],
    ):
        res = runner.invoke(main, ["batch", *args])
        assert res.exit_code == 2, (args, res.output)
        assert "Traceback" not in res.output


def test_a_missing_extra_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(sys.modules):
        if name.startswith("interpreter.ext.batch.engine"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    (tmp_path / "in.ndjson").write_text('{"id": "p1", "facts": {}}\n')
    res = CliRunner().invoke(
        main,
        [
            "batch",
            "leukopenia",
            str(tmp_path / "in.ndjson"),
            "--out",
            str(tmp_path / "o"),
            "--at",
            "2026-11-24T09:00:00Z",
        ],
    )
    assert res.exit_code == 2, res.output
    assert "batch extra" in res.stderr and "guideline-interpreter[batch]" in res.stderr
    assert "Traceback" not in res.output


def test_help_loads_no_batch_library() -> None:
    code = (
        "import runpy, sys\nsys.argv = ['guideline', '--help']\ntry:\n"
        "    runpy.run_module('interpreter', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'pyarrow', 'tqdm') or m.startswith('interpreter.ext')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_plain_progress_lines(g: interpreter.Guideline, tmp_path: Path) -> None:
    gen.write_ndjson(gen.generate(g, 100, seed=2, as_of=AT), tmp_path / "in.ndjson")
    res = CliRunner().invoke(
        main,
        [
            "batch",
            "leukopenia",
            str(tmp_path / "in.ndjson"),
            "--out",
            str(tmp_path / "o"),
            "--at",
            "2026-11-24T09:00:00Z",
            "--workers",
            "1",
            "--partition-rows",
            "10",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("batch: ")]
    assert len(lines) == 10 and lines[-1].startswith("batch: 100/100 rows (100%)")
    assert "complete" in res.stdout and "recommendations fired" in res.stdout


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_what_was_written_stays_valid(
    g: interpreter.Guideline, tmp_path: Path
) -> None:
    gen.write_ndjson(gen.generate(g, 6000, seed=5, as_of=AT), tmp_path / "in.ndjson")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "interpreter",
            "batch",
            "leukopenia",
            str(tmp_path / "in.ndjson"),
            "--out",
            str(out),
            "--at",
            "2026-11-24T09:00:00Z",
            "--workers",
            "1",
            "--partition-rows",
            "100",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        # a shell without job control starts background jobs with SIGINT ignored, and Python then keeps it
        # ignored: the child gets the default disposition, as it has when a user runs it at a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first plain progress line: a tenth of the rows are written
    assert first.startswith("batch: 600/6000"), first
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["interrupted"] and "interrupted" in stdout
    parts = sorted(p.name for p in out.glob("part-*.ndjson"))
    assert parts == summary["parts_written"] and 0 < len(parts) < 60
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    records = _records(out)
    assert len(records) == summary["rows"] == 100 * len(parts)  # every part is whole


def test_arrow_partition_function_for_spark(g: interpreter.Guideline) -> None:
    rows = [r for r in gen.generate(g, 50, seed=8, as_of=AT, bad=0.1)]
    table = pa.table(
        {
            "id": [r.get("id") if isinstance(r, dict) else None for r in rows],
            "as_of": [r.get("as_of") if isinstance(r, dict) else None for r in rows],
            "facts": [json.dumps(r["facts"]) if isinstance(r, dict) else r for r in rows],
        }
    )
    fn = ArrowEvaluator(g, AT)
    import pickle

    fn = pickle.loads(pickle.dumps(fn))  # Spark ships it to its Python workers
    out = pa.Table.from_batches(list(fn(table.to_batches(max_chunksize=16))))
    assert tuple(out.column_names) == OUTPUT_COLUMNS and out.num_rows == 50
    assert [c.split()[0] for c in SPARK_SCHEMA.split(", ")] == list(OUTPUT_COLUMNS)
    for row, rec in zip(rows, out.to_pylist(), strict=True):
        outcome, expected = _single(g, row)
        assert rec["outcome"] == outcome
        if outcome == "ok":
            assert json.loads(rec["result"]) == expected


def test_scheduler_address_runs_on_that_cluster(g: interpreter.Guideline, tmp_path: Path) -> None:
    from distributed import LocalCluster

    gen.write_ndjson(gen.generate(g, 60, seed=9, as_of=AT), tmp_path / "in.ndjson")
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        res = CliRunner().invoke(
            main,
            [
                "batch",
                "leukopenia",
                str(tmp_path / "in.ndjson"),
                "--out",
                str(tmp_path / "o"),
                "--at",
                "2026-11-24T09:00:00Z",
                "--scheduler",
                cluster.scheduler_address,
                "--format",
                "json",
            ],
        )
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["workers"] == 1
        assert len(cluster.scheduler_info["workers"]) == 1  # the cluster is still up: not ours to close
    records = _records(tmp_path / "o")
    assert len(records) == 60
    for row, rec in zip(gen.generate(g, 60, seed=9, as_of=AT), records, strict=True):
        assert rec["result"] == _single(g, row)[1]
