"""engine.plan: how a run is cut into partitions by default (no cluster started)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from interpreter.ext.batch.engine import (
    DEFAULT_ROWS_PER_PART,
    MIN_ROWS_PER_PART,
    PARQUET_TASKS_PER_WORKER,
    TASKS_PER_WORKER,
    BatchConfig,
    plan,
)
from interpreter.ext.batch.rows import RowOptions

OPTIONS = RowOptions(at=datetime(2026, 11, 24, 9, tzinfo=UTC))


def _config(path: Path, rows: int, **kw: object) -> BatchConfig:
    path.write_bytes(b'{"id":1}\n' * rows)  # planning reads line breaks only
    return BatchConfig(str(path), "", "ndjson", "ndjson", OPTIONS, **kw)  # type: ignore[arg-type]


def _sizes(config: BatchConfig) -> list[int]:
    parts = plan(config)
    assert [p.index for p in parts] == list(range(len(parts)))
    lines = Path(config.input).read_bytes().count(b"\n")
    assert sum(p.rows for p in parts) == min(lines, config.limit or lines)  # every row, once
    assert [p.first_row for p in parts] == [1 + sum(q.rows for q in parts[:i]) for i in range(len(parts))]
    return [p.rows for p in parts]


def test_a_small_input_is_spread_over_many_short_tasks_per_worker(tmp_path: Path) -> None:
    # 20,000 rows on 2 workers: 32 tasks of 625 rows (4 of 5,000 would leave a worker idle at the end)
    assert _sizes(_config(tmp_path / "a", 20_000, workers=2)) == [625] * 2 * TASKS_PER_WORKER
    # but no partition under MIN_ROWS_PER_PART rows, and one partition when the input is that small
    assert _sizes(_config(tmp_path / "b", 1000, workers=2)) == [MIN_ROWS_PER_PART] * 5
    assert _sizes(_config(tmp_path / "c", 150, workers=2)) == [150]


def test_a_large_input_or_a_given_size_is_not_spread(tmp_path: Path) -> None:
    rows = 2 * TASKS_PER_WORKER * DEFAULT_ROWS_PER_PART + 1
    sizes = _sizes(_config(tmp_path / "a", rows, workers=2))
    assert sizes == [DEFAULT_ROWS_PER_PART] * (2 * TASKS_PER_WORKER) + [1]
    assert _sizes(_config(tmp_path / "b", 20_000, workers=2, rows_per_part=2500)) == [2500] * 8
    assert _sizes(_config(tmp_path / "c", 20_000, workers=1, limit=1000)) == [200] * 5


def test_a_parquet_input_keeps_longer_partitions(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 20_000
    table = pa.table({"id": [f"p{i}" for i in range(rows)], "facts": ["{}"] * rows})
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=10_000)
    config = BatchConfig(str(tmp_path / "in.parquet"), "", "parquet", "ndjson", OPTIONS, workers=2)
    # a task decodes whole row groups: 8 partitions of 2,500 rows, not 32 of 625
    parts = plan(config)
    assert [p.rows for p in parts] == [2500] * 2 * PARQUET_TASKS_PER_WORKER
    assert [p.start for p in parts] == list(range(0, rows, 2500))
    assert [p.rows for p in plan(BatchConfig(config.input, "", "parquet", "ndjson", OPTIONS, limit=5))] == [5]


def test_summary_counts_are_ordered_by_count_then_name_whatever_order_partitions_finish() -> None:
    # issue 12 review: `most_common` kept ties in the order the partitions finished, so the summary (and the
    # top-10 cut of needed facts) could differ between two runs of the same input
    from collections import Counter

    from interpreter.ext.batch.engine import _by_count

    one = Counter({"wbc": 3, "anc": 5, "cause": 3, "aml": 1})
    other = Counter({"cause": 3, "aml": 1, "anc": 5, "wbc": 3})
    assert _by_count(one) == _by_count(other) == [("anc", 5), ("cause", 3), ("wbc", 3), ("aml", 1)]
