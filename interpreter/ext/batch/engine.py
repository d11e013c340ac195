"""Run a batch on Dask (``distributed``): a ``LocalCluster`` of processes, one thread each, or a scheduler.

The guideline is scattered to every worker (``Client.scatter(Shipped(g), broadcast=True)``) and compiled
once per worker process (``shipping``: a ``Guideline`` pickles by its source and compiles again, checking
its content hash; a second arrival on the same worker finds the compiled one); every task on that worker
uses that one object. One task per partition reads its rows, evaluates each with
``Guideline.evaluate`` and writes its own part file; only the small per-partition tallies come back.

A cluster this module starts runs quiet (``QUIET_CLUSTER``): Dask's statistical profiler (which samples the
running task's stack every 10 ms, for a dashboard nobody opens here), its 20 ms event-loop watchdog and its
half-second system monitor are turned down, so that on a machine with as many cores as workers the workers'
and the scheduler's housekeeping does not take CPU from the evaluations. A cluster given by ``--scheduler``
keeps its own configuration.

Ctrl-C: the workers are started with SIGINT ignored (so a terminal's Ctrl-C reaches only this process), the
pending tasks are cancelled, the cluster is closed, half-written temporary files are removed, and the summary
records the run as interrupted. Every part file present is complete.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import distributed  # noqa: F401  (imported here so that a missing [batch] extra fails on import)

from ...api import Guideline
from .parts import Format, Partition, PlanError, part_name, plan_partitions, process_partition
from .rows import RowOptions, Tally
from .shipping import Shipped

__all__ = ["QUIET_CLUSTER", "BatchConfig", "BatchRun", "Progress", "run_batch"]

#: How many needed facts the summary lists.
TOP_NEEDED = 10
SUMMARY_FILE = "_summary.json"
DEFAULT_ROWS_PER_PART = 5000
#: An input of fewer than ``workers * TASKS_PER_WORKER * DEFAULT_ROWS_PER_PART`` rows is cut into about this
#: many partitions per worker: the tasks are short, so the workers finish together (with 4 a worker, one
#: worker slowed by other work on the machine left the other idle for up to a quarter of the run).
TASKS_PER_WORKER = 16
#: ... but no partition smaller than this (a task costs the scheduler and the worker about a millisecond,
#: and each partition is a part file).
MIN_ROWS_PER_PART = 200
#: For a Parquet input, about this many partitions per worker (see ``plan``).
PARQUET_TASKS_PER_WORKER = 4
#: The Dask configuration of a cluster started here (the scheduler and nannies in this process, the workers
#: in theirs: a ``Nanny`` hands its configuration to the worker process it starts). Only housekeeping that
#: costs CPU and serves nobody in a batch run: the profiler feeds the dashboard, the tick only logs a blocked
#: event loop, the system monitor feeds the dashboard; the nanny's memory monitor, which enforces the
#: workers' memory limit, checks twice a second instead of ten times.
QUIET_CLUSTER: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "500ms",
}


def _by_count(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Most rows first, ties by name: the same order however the partitions finished (``most_common`` keeps
    the order counts were first seen, which follows the order tasks finish)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class BatchConfig:
    input: str
    output: str
    input_format: Format
    output_format: Format
    options: RowOptions
    workers: int = 2
    scheduler: str | None = None
    #: rows per partition; None: at most ``DEFAULT_ROWS_PER_PART``, and small enough that every worker has
    #: about ``TASKS_PER_WORKER`` partitions, but at least ``MIN_ROWS_PER_PART``
    rows_per_part: int | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0


@dataclass(slots=True)
class BatchRun:
    """What a run did: the merged tally, the parts written, timing; ``to_json`` is ``_summary.json``."""

    config: BatchConfig
    guideline: Guideline
    tally: Tally = field(default_factory=Tally)
    partitions: int = 0
    written: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    workers: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.tally.rows / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        t = self.tally
        g = self.guideline
        return {
            "format_version": 1,
            "guideline": {"id": g.id, "version": g.version, "content_hash": g.content_hash},
            "input": self.config.input,
            "output": self.config.output,
            "output_format": self.config.output_format,
            "default_as_of": self.config.options.at.isoformat(),
            "rows": t.rows,
            "ok": t.complete + t.incomplete,
            "complete": t.complete,
            "incomplete": t.incomplete,
            "errors": t.errors,
            "internal_errors": t.internal,
            "error_codes": dict(_by_count(t.error_codes)),
            "recommendations": dict(_by_count(t.recommendations)),
            "top_needed_facts": [{"name": n, "rows": c} for n, c in _by_count(t.needed_facts)[:TOP_NEEDED]],
            "partitions": self.partitions,
            "parts_written": sorted(self.written),
            "failed_partitions": self.failed,
            "interrupted": self.interrupted,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "patients_per_minute": round(self.rows_per_second * 60),
        }


def _prepare_output(path: str) -> None:
    out = Path(path)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PlanError(f"{path} exists and is not an empty folder; the parts would mix with what is there")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlanError(f"cannot create {path}: {exc.strerror or exc}") from None


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes start: they inherit it, so Ctrl-C reaches only the client."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to restore
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextmanager
def client_for(config: BatchConfig) -> Iterator[Any]:
    """A ``distributed.Client``: to ``config.scheduler``, or to a new local cluster closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    if config.scheduler is not None:
        with Client(config.scheduler, timeout=30) as client:
            yield client
        return
    with _sigint_ignored(), dask.config.set(QUIET_CLUSTER):
        cluster = LocalCluster(
            host="127.0.0.1",
            n_workers=config.workers,
            threads_per_worker=1,
            processes=True,
            # the scheduler still serves its health routes: on a free loopback port, never 8787 (taken by any
            # other Dask on the machine, which prints a warning into our progress output)
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.CRITICAL,
            worker_dashboard_address=None,
        )
        client = Client(cluster)
    try:
        yield client
    finally:
        with _sigint_ignored():
            client.close()
            cluster.close()


@contextmanager
def _given_or_new(client: Any, config: BatchConfig) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    with client_for(config) as c:
        yield c


def _remove_temporary(out: str) -> None:
    for p in Path(out).glob(".part-*.tmp"):
        with suppress(OSError):
            p.unlink()


def _remove_unaccounted(out: str, written: set[str]) -> None:
    """Remove the parts whose tally never reached the client: the summary counts exactly the parts left."""
    for p in Path(out).glob("part-*"):
        if p.name not in written:
            with suppress(OSError):
                p.unlink()


def plan(config: BatchConfig) -> list[Partition]:
    """The partitions of a run: ``config.rows_per_part`` rows each, or by default at most
    ``DEFAULT_ROWS_PER_PART`` and about ``TASKS_PER_WORKER`` a worker, but at least ``MIN_ROWS_PER_PART``
    (Parquet: about ``PARQUET_TASKS_PER_WORKER`` a worker)."""
    parts: list[Partition] = plan_partitions(
        config.input,
        config.input_format,
        rows_per_part=config.rows_per_part or DEFAULT_ROWS_PER_PART,
        limit=config.limit,
        sample=config.sample,
        seed=config.seed,
    )
    if config.rows_per_part is not None:
        return parts
    total = sum(p.rows for p in parts)
    if config.input_format == "parquet":
        # a task decodes every row group its partition touches, whole: short partitions would decode the
        # same row group many times (a 10,000-row group costs about 0.1 s), so Parquet keeps longer ones
        want = max(config.workers, 1) * PARQUET_TASKS_PER_WORKER
        spread = -(-total // want) if total > want else total
    else:
        want = max(config.workers, 1) * TASKS_PER_WORKER
        spread = max(-(-total // want), MIN_ROWS_PER_PART)
    if len(parts) < want and spread < DEFAULT_ROWS_PER_PART and total > spread:  # a small input: spread it
        parts = plan_partitions(
            config.input,
            config.input_format,
            rows_per_part=spread,
            limit=config.limit,
            sample=config.sample,
            seed=config.seed,
        )
    return parts


def run_batch(
    guideline: Guideline,
    config: BatchConfig,
    progress: Progress | None = None,
    on_client: Callable[[Any], None] | None = None,
    client: Any = None,
) -> BatchRun:
    """Plan, evaluate every partition on the cluster, merge the tallies, write ``_summary.json``.

    ``client``: an open ``distributed.Client`` to use (several runs on one cluster); by default a cluster is
    made for this run (``client_for``). Raises ``PlanError`` for an input or output that cannot be used
    (before any work).
    """
    progress = progress or NoProgress()
    parts = plan(config)
    _prepare_output(config.output)
    run = BatchRun(config, guideline, partitions=len(parts))
    started = time.perf_counter()
    progress.start(sum(p.rows for p in parts))
    token = uuid.uuid4().hex[:12]
    try:
        with _given_or_new(client, config) as c:
            if on_client is not None:
                on_client(c)
            run.workers = len(c.scheduler_info().get("workers", {}))
            _run_on(c, guideline, parts, config, run, progress, token)
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        progress.close()
        _remove_temporary(config.output)
        if run.interrupted:  # a task that was running when Ctrl-C came may have finished after it
            _remove_unaccounted(config.output, set(run.written))
        run.seconds = time.perf_counter() - started
        _write_summary(run)
    return run


def _run_on(
    client: Any,
    guideline: Guideline,
    parts: list[Partition],
    config: BatchConfig,
    run: BatchRun,
    progress: Progress,
    token: str,
) -> None:
    from distributed import as_completed

    g = client.scatter(Shipped(guideline), broadcast=True, hash=False)
    futures = {
        client.submit(
            process_partition,
            g,
            p,
            os.path.abspath(config.output),
            config.output_format,
            config.options,
            key=f"batch_part_{p.index:05d}_{token}",
            pure=False,
            retries=0,
        ): p
        for p in parts
    }
    try:
        for future in as_completed(futures):
            part = futures[future]
            if future.status == "finished":
                tally: Tally = future.result()
                run.tally.merge(tally)
                run.written.append(part_name(part.index, config.output_format))
            else:
                exc = future.exception()
                run.failed.append(
                    {
                        "partition": part.index,
                        "first_row": part.first_row,
                        "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                    }
                )
            progress.advance(part.rows)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise


def _write_summary(run: BatchRun) -> None:
    path = Path(run.config.output) / SUMMARY_FILE
    tmp = path.with_name(f".{SUMMARY_FILE}.tmp")
    try:
        tmp.write_text(json.dumps(run.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def summary_text(run: BatchRun) -> str:
    """The summary for a person (the CLI prints it)."""
    s = run.to_json()
    lines = [
        f"guideline {s['guideline']['id']} {s['guideline']['version']}: {s['rows']} rows "
        f"in {s['seconds']:.1f} s on {s['workers']} workers "
        f"({s['rows_per_second']:.0f} rows/s, {s['patients_per_minute']} patients/min)",
        f"  complete {s['complete']}, incomplete {s['incomplete']}, error {s['errors']}"
        + (f" (internal {s['internal_errors']})" if s["internal_errors"] else ""),
    ]
    if s["error_codes"]:
        lines.append("  errors: " + ", ".join(f"{c} {n}" for c, n in s["error_codes"].items()))
    if s["recommendations"]:
        lines.append("  recommendations fired:")
        lines += [f"    {n:>8}  {r}" for r, n in s["recommendations"].items()]
    if s["top_needed_facts"]:
        lines.append(
            "  top needed facts: " + ", ".join(f"{f['name']} {f['rows']}" for f in s["top_needed_facts"])
        )
    lines.append(
        f"  {len(s['parts_written'])} of {s['partitions']} parts written to {s['output']}"
        f" ({SUMMARY_FILE} beside them)"
    )
    for f in s["failed_partitions"]:
        lines.append(f"  partition {f['partition']} (from row {f['first_row']}) failed: {f['error']}")
    if s["interrupted"]:
        lines.append("  interrupted: the parts listed are complete; unfinished partitions left no part")
    return "\n".join(lines) + "\n"
