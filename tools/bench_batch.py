"""Benchmark ``guideline batch``: patients per minute on 1 and 2 Dask workers, against a single-process loop.

    python tools/bench_batch.py                 # 20,000 generated leukopenia patients, 3 rounds
    python tools/bench_batch.py -n 100000 --rounds 5 --guideline leukopenia

Each round runs, interleaved (so that a change in the machine's load hits all three alike):
- ``loop``: one process reads the NDJSON file and, for each row, does what a worker does
  (``rows.evaluate_line``: parse, ``Guideline.evaluate``, the result as JSON) and writes the line;
- ``loop-2``: the same loop in 2 plain processes (a process pool started before the rounds, the guideline
  loaded once in each), each over one half of the file's lines, writing its own file: what 2 processes can do
  on this machine at this moment without any engine, the ceiling for ``dask-2``;
- ``dask-1`` and ``dask-2``: ``run_batch`` on a LocalCluster of 1 and 2 worker processes (one thread each),
  started once before the rounds (``steady``: the run on a started cluster), plus the time to start a cluster
  measured once (``startup``).
Figures are medians over the rounds, with their range; the ratio is each engine's rate over the loop's rate in
the same round. Beside the rate, the CPU time each engine spends per patient, over every process it uses
(the loop: its process; ``dask-N``: this process, which holds the scheduler and the nannies, and the worker
processes), and its ratio to the loop's in the same round: on a machine shared with other work, the wall-clock
rate of the workers depends on how much CPU they get, while the CPU per patient shows the engine's own
overhead (``cpu x1.00`` and an evenly spread load give N workers N times the loop on N idle cores).
The target of issue 11 is 1,000,000 patients per minute on 2 cores for leukopenia with JSON output: 120 us
per patient per core, end to end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_patients
import psutil

import interpreter
from interpreter.ext.batch.engine import BatchConfig, client_for, run_batch
from interpreter.ext.batch.parts import plan_partitions
from interpreter.ext.batch.rows import RowOptions, evaluate_line, record_json

TARGET_PER_MINUTE = 1_000_000
TARGET_CORES = 2


def tree_cpu(me: psutil.Process) -> float:
    """CPU seconds (user and system) of this process and every process it started, alive now."""
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += t.user + t.system
    return total


def median_range(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def loop(g: interpreter.Guideline, path: Path, out: Path, options: RowOptions) -> int:
    n = 0
    with open(path, "rb") as f, open(out, "w", encoding="ascii") as w:
        for row, line in enumerate(f, 1):
            if line.strip():
                w.write(record_json(evaluate_line(g, line, row, options)) + "\n")
                n += 1
    return n


#: the guideline of a ``loop-2`` pool process (loaded once, by ``_pool_start``)
_pool_guideline: interpreter.Guideline | None = None


def _pool_start(name: str) -> None:
    global _pool_guideline
    _pool_guideline = interpreter.load(name)


def loop_range(
    path: str, start: int, end: int, first_row: int, out: str, options: RowOptions
) -> tuple[int, float]:
    """``loop`` over the lines in bytes [start, end) of ``path``, in a pool process: (rows, CPU seconds)."""
    g = _pool_guideline
    assert g is not None
    cpu = time.process_time()
    n = 0
    with open(path, "rb") as f, open(out, "w", encoding="ascii") as w:
        f.seek(start)
        pos, row = start, first_row
        while pos < end:
            line = f.readline()
            if not line:
                break
            pos += len(line)
            if line.strip():
                w.write(record_json(evaluate_line(g, line, row, options)) + "\n")
                n += 1
            row += 1
    return n, time.process_time() - cpu


def loop_2(pool: ProcessPoolExecutor, path: Path, work: Path, options: RowOptions) -> tuple[int, float]:
    """``loop`` in 2 pool processes, one half of the lines each: (rows, CPU seconds of both)."""
    rows = plan_partitions(str(path), "ndjson", rows_per_part=1 << 62)[0].rows  # counted, not read whole
    halves = plan_partitions(str(path), "ndjson", rows_per_part=max(-(-rows // 2), 1))
    futures = [
        pool.submit(loop_range, str(path), h.start, h.end, h.first_row, str(work / f"loop2-{i}"), options)
        for i, h in enumerate(halves)
    ]
    done = [f.result() for f in futures]
    return sum(n for n, _ in done), sum(c for _, c in done)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--guideline", default="leukopenia")
    p.add_argument(
        "--partition-rows",
        type=int,
        default=None,
        help="rows per partition (default: what `guideline batch` does)",
    )
    args = p.parse_args(argv)
    g = interpreter.load(args.guideline)
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        data = work / "patients.ndjson"
        gen_patients.write_ndjson(gen_patients.generate(g, args.n, seed=1, as_of=at), data)
        size = data.stat().st_size
        options = RowOptions(at=at, source="patients.ndjson")
        engines = ("loop", "loop-2", "dask-1", "dask-2")
        rates: dict[str, list[float]] = {k: [] for k in engines}
        cpu: dict[str, list[float]] = {k: [] for k in engines}  # CPU us per patient
        me = psutil.Process()
        startup: dict[str, float] = {}
        clients = {}
        stack = []
        started = time.perf_counter()
        pool = ProcessPoolExecutor(
            2,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_pool_start,
            initargs=(args.guideline,),
        )
        for f in [pool.submit(time.sleep, 0.5) for _ in range(2)]:  # both processes started, guideline loaded
            f.result()
        startup["loop-2"] = time.perf_counter() - started - 0.5
        for workers in (1, 2):
            config = BatchConfig(str(data), "", "ndjson", "ndjson", options, workers=workers)
            started = time.perf_counter()
            cm = client_for(config)
            clients[workers] = cm.__enter__()
            stack.append(cm)
            startup[f"dask-{workers}"] = time.perf_counter() - started
        try:
            for r in range(args.rounds):
                t, c = time.perf_counter(), time.process_time()
                n = loop(g, data, work / "loop.ndjson", options)
                rates["loop"].append(n / (time.perf_counter() - t) * 60)
                cpu["loop"].append((time.process_time() - c) / n * 1e6)
                t = time.perf_counter()
                n, c = loop_2(pool, data, work, options)
                rates["loop-2"].append(n / (time.perf_counter() - t) * 60)
                cpu["loop-2"].append(c / n * 1e6)
                for workers in (1, 2):
                    out = work / f"out-{workers}-{r}"
                    config = BatchConfig(
                        str(data),
                        str(out),
                        "ndjson",
                        "ndjson",
                        options,
                        workers=workers,
                        rows_per_part=args.partition_rows,
                    )
                    c, t = tree_cpu(me), time.perf_counter()
                    run = run_batch(g, config, client=clients[workers])
                    rates[f"dask-{workers}"].append(run.tally.rows / (time.perf_counter() - t) * 60)
                    cpu[f"dask-{workers}"].append((tree_cpu(me) - c) / run.tally.rows * 1e6)
                    shutil.rmtree(out)
        finally:
            pool.shutdown()
            for cm in reversed(stack):
                cm.__exit__(None, None, None)
        med = {k: statistics.median(v) for k, v in rates.items()}
        print(
            f"{args.n} {args.guideline} patients ({size / args.n:.0f} bytes a row on average), "
            f"{args.rounds} interleaved rounds, medians (range); {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f} at the end; Python {sys.version.split()[0]}"
        )
        print(
            f"{'engine':<8} {'patients/min':>14} {'ratio to loop':>18} {'CPU us/patient':>20} "
            f"{'CPU ratio to loop':>18} {'cluster start':>14}"
        )
        for k in engines:
            ratio = [a / b for a, b in zip(rates[k], rates["loop"], strict=True)]
            cpu_ratio = [a / b for a, b in zip(cpu[k], cpu["loop"], strict=True)]
            start = f"{startup[k]:.1f} s" if k in startup else "-"
            print(
                f"{k:<8} {med[k]:>14,.0f} {median_range(ratio, '.2f'):>18} {median_range(cpu[k], '.0f'):>20} "
                f"{median_range(cpu_ratio, '.2f'):>18} {start:>14}"
            )
        best = max(med["dask-1"], med["dask-2"])
        print(
            f"target {TARGET_PER_MINUTE:,}/min on {TARGET_CORES} cores: "
            f"at {best / TARGET_PER_MINUTE:.1%} of it (x{TARGET_PER_MINUTE / best:.1f} to go)"
        )
        budget = TARGET_CORES * 60e6 / TARGET_PER_MINUTE
        print(
            f"the target needs {budget:.0f} us of CPU per patient end to end; the loop takes "
            f"{statistics.median(cpu['loop']):.0f} us (x{statistics.median(cpu['loop']) / budget:.1f})"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
