"""Input partitions (NDJSON byte ranges, Parquet row slices), reading them, and writing one output part.

The client plans partitions from the input's structure only (newline positions, Parquet metadata); each
worker reads its own partition, evaluates it and writes its own part file (``part-00007.ndjson`` or
``.parquet``), first under a temporary name and then renamed: a part file that exists is complete, so what
was written stays valid when a run is stopped. Nothing is collected whole in memory.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ...api import Guideline
from .rows import RowOptions, Tally, evaluate_fields, evaluate_line, record_json

__all__ = [
    "MAX_SAMPLE",
    "Partition",
    "PlanError",
    "input_format",
    "plan_partitions",
    "process_partition",
    "read_rows",
]

Format = Literal["ndjson", "parquet"]
#: The largest ``--sample`` (row numbers are kept in memory to pick them).
MAX_SAMPLE = 10_000_000
_CHUNK = 1 << 20
#: The output columns of a Parquet part (and of the Arrow batches of ``arrow.evaluate_batches``).
OUTPUT_COLUMNS = ("id", "row", "outcome", "status", "error_code", "result", "error")


class PlanError(Exception):
    """The input cannot be read or planned (a usage error: exit 2)."""


@dataclass(frozen=True, slots=True)
class Partition:
    index: int
    path: str
    format: Format
    #: NDJSON: byte offsets [start, end); Parquet: 0-based row indices [start, end)
    start: int
    end: int
    #: the 1-based row number of the first row
    first_row: int
    #: the number of rows to evaluate (for progress)
    rows: int
    #: row numbers to evaluate (a sample); None: every row
    wanted: frozenset[int] | None = None


def input_format(path: str, given: str | None) -> Format:
    if given in ("ndjson", "parquet"):
        return given  # type: ignore[return-value]
    return "parquet" if path.lower().endswith((".parquet", ".pq")) else "ndjson"


def _ndjson_bounds(
    path: str, rows_per_part: int, limit: int | None
) -> tuple[list[tuple[int, int]], int, int]:
    """(boundaries [(byte offset, first row)], rows, end offset) of the first ``limit`` lines."""
    bounds = [(0, 1)]
    rows = 0
    offset = 0
    last_byte = b"\n"
    with open(path, "rb") as f:
        while limit is None or rows < limit:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            pos = 0
            while limit is None or rows < limit:
                nl = chunk.find(b"\n", pos)
                if nl < 0:
                    break
                rows += 1
                pos = nl + 1
                if rows % rows_per_part == 0:
                    bounds.append((offset + pos, rows + 1))
            if limit is not None and rows >= limit:
                return bounds, rows, offset + pos
            offset += len(chunk)
            last_byte = chunk[-1:]
    if last_byte != b"\n":  # a last line without its line break
        rows += 1
    return bounds, rows, offset


def plan_partitions(
    path: str,
    fmt: Format,
    *,
    rows_per_part: int,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> list[Partition]:
    """Partitions of at most ``rows_per_part`` rows; the first ``limit`` rows; a random ``sample`` of them."""
    if rows_per_part < 1:
        raise PlanError("--partition-rows must be at least 1")
    try:
        if fmt == "parquet":
            parts = _plan_parquet(path, rows_per_part, limit)
        else:
            parts = _plan_ndjson(path, rows_per_part, limit)
    except OSError as exc:
        raise PlanError(f"cannot read {path}: {exc.strerror or exc}") from None
    if sample is None:
        return parts
    if not 0 < sample <= MAX_SAMPLE:
        raise PlanError(f"--sample must be 1 to {MAX_SAMPLE}")
    total = sum(p.rows for p in parts)
    chosen = sorted(random.Random(seed).sample(range(1, total + 1), min(sample, total)))
    out: list[Partition] = []
    i = 0
    for p in parts:
        mine = []
        while i < len(chosen) and chosen[i] < p.first_row + p.rows:
            mine.append(chosen[i])
            i += 1
        if mine:
            out.append(
                Partition(len(out), p.path, p.format, p.start, p.end, p.first_row, len(mine), frozenset(mine))
            )
    return out


def _plan_ndjson(path: str, rows_per_part: int, limit: int | None) -> list[Partition]:
    if not os.path.isfile(path):
        raise PlanError(f"{path} is not a file")
    bounds, rows, end = _ndjson_bounds(path, rows_per_part, limit)
    parts: list[Partition] = []
    for i, (start, first) in enumerate(bounds):
        stop = bounds[i + 1][0] if i + 1 < len(bounds) else end
        count = (bounds[i + 1][1] if i + 1 < len(bounds) else rows + 1) - first
        if count > 0:
            parts.append(Partition(len(parts), path, "ndjson", start, stop, first, count))
    return parts


def _plan_parquet(path: str, rows_per_part: int, limit: int | None) -> list[Partition]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, ValueError) as exc:
        raise PlanError(f"{path} is not a Parquet file: {str(exc)[:200]}") from None
    schema = pf.schema_arrow
    if "facts" not in schema.names or "id" not in schema.names:
        raise PlanError(f"{path} needs the columns `id` and `facts` (the facts as JSON text)")
    if not (
        pa.types.is_string(schema.field("facts").type) or pa.types.is_large_string(schema.field("facts").type)
    ):
        raise PlanError(f"{path}: the column `facts` must be text (the facts as JSON)")
    total = pf.metadata.num_rows if limit is None else min(limit, pf.metadata.num_rows)
    return [
        Partition(
            i, path, "parquet", s, min(s + rows_per_part, total), s + 1, min(s + rows_per_part, total) - s
        )
        for i, s in enumerate(range(0, total, rows_per_part))
    ]


def _ndjson_lines(part: Partition, max_line: int) -> Iterator[tuple[int, bytes | None]]:
    """(row number, line) of a partition; None for a line longer than ``max_line`` (skipped unread)."""
    row = part.first_row
    with open(part.path, "rb") as f:
        f.seek(part.start)
        pos = part.start
        while pos < part.end:
            line = f.readline(max_line + 2)
            if not line:
                return
            pos += len(line)
            if not line.endswith(b"\n") and pos < part.end:  # too long: skip to the end of the line
                while True:
                    more = f.readline(_CHUNK)
                    pos += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                yield row, None
            else:
                yield row, line
            row += 1


def read_rows(g: Guideline, part: Partition, options: RowOptions) -> Iterator[dict[str, Any]]:
    """The records of a partition's rows, in order (blank NDJSON lines are skipped)."""
    wanted = part.wanted
    if part.format == "ndjson" and options.fhir is not None:
        yield from _fhir_rows(g, part, options)
        return
    if part.format == "ndjson":
        max_line = options.limits.max_bytes
        for row, line in _ndjson_lines(part, max_line):
            if wanted is not None and row not in wanted:
                continue
            if line is None:
                line = b" " * (max_line + 1)  # refused by its size, as a facts file of that size would be
            elif not line.strip():
                continue
            yield evaluate_line(g, line, row, options)
        return
    yield from _parquet_rows(g, part, options)


def _fhir_rows(g: Guideline, part: Partition, options: RowOptions) -> Iterator[dict[str, Any]]:
    """The records of a partition of FHIR rows (``fhir_rows.py``); the bindings built once for the part."""
    from .fhir_rows import MAX_FHIR_ROW_BYTES, evaluate_fhir_line, row_bindings, too_long

    assert options.fhir is not None
    bindings = row_bindings(g, options.fhir)
    for row, line in _ndjson_lines(part, MAX_FHIR_ROW_BYTES):
        if part.wanted is not None and row not in part.wanted:
            continue
        if line is None:
            yield too_long(row, options)
        elif line.strip():
            yield evaluate_fhir_line(g, bindings, line, row, options)


def _parquet_rows(g: Guideline, part: Partition, options: RowOptions) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(part.path)
    names = pf.schema_arrow.names
    columns = [c for c in ("id", "facts", "as_of", "time_zone") if c in names]
    row = 0
    for group in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(group).num_rows
        if row + n <= part.start:
            row += n
            continue
        if row >= part.end:
            return
        table = pf.read_row_group(group, columns=columns)
        lo, hi = max(part.start - row, 0), min(part.end - row, n)
        data = {c: table.column(c).slice(lo, hi - lo).to_pylist() for c in columns}
        for k in range(hi - lo):
            number = row + lo + k + 1
            if part.wanted is not None and number not in part.wanted:
                continue
            yield evaluate_fields(
                g,
                data["id"][k],
                data["facts"][k],
                data["as_of"][k] if "as_of" in data else None,
                data["time_zone"][k] if "time_zone" in data else None,
                number,
                options,
            )
        row += n


def part_name(index: int, fmt: Format) -> str:
    return f"part-{index:05d}.{fmt}"


class _ParquetColumns:
    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {c: [] for c in OUTPUT_COLUMNS}

    def add(self, record: dict[str, Any]) -> None:
        c = self.columns
        c["id"].append(None if record["id"] is None else str(record["id"]))
        c["row"].append(record["row"])
        c["outcome"].append(record["outcome"])
        c["status"].append(record.get("status"))
        error = record.get("error")
        c["error_code"].append(error["code"] if error else None)
        c["result"].append(record_json(record["result"]) if "result" in record else None)
        c["error"].append(record_json(error) if error else None)


def output_table(columns: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            name: pa.array(values, pa.int64() if name == "row" else pa.string())
            for name, values in columns.items()
        }
    )


def process_partition(
    g: Guideline, part: Partition, out_dir: str, out_format: Format, options: RowOptions
) -> Tally:
    """Evaluate one partition and write its part file (atomically). Returns the partition's tally."""
    started = time.perf_counter()
    tally = Tally()
    final = Path(out_dir) / part_name(part.index, out_format)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        if out_format == "ndjson":
            with open(tmp, "w", encoding="ascii", newline="\n") as f:
                for record in read_rows(g, part, options):
                    tally.add(record)
                    f.write(record_json(record))
                    f.write("\n")
        else:
            import pyarrow.parquet as pq

            cols = _ParquetColumns()
            for record in read_rows(g, part, options):
                tally.add(record)
                cols.add(record)
            pq.write_table(output_table(cols.columns), tmp)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    tally.seconds = time.perf_counter() - started
    return tally
