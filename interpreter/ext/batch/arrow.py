"""The partition function over Arrow record batches: for Spark's ``mapInArrow`` (and any Arrow host).

A site that already runs Spark calls the same row function as ``guideline batch`` (docs/batch.md)::

    from interpreter.ext.batch.arrow import ArrowEvaluator, SPARK_SCHEMA
    fn = ArrowEvaluator(interpreter.load("leukopenia"), at=datetime(2026, 11, 24, 9, tzinfo=UTC))
    results = patients.mapInArrow(fn, SPARK_SCHEMA)      # columns id, facts (JSON text), as_of?, time_zone?

``ArrowEvaluator`` pickles with its guideline (by source; compiled again, content hash checked, once per
Python worker that unpickles it). The output columns are those of a Parquet part (``OUTPUT_COLUMNS``):
``id``, ``row`` (1-based, counted within the partition), ``outcome``, ``status``, ``error_code``, ``result``
and ``error`` (JSON text).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ...api import Guideline
from .parts import OUTPUT_COLUMNS, _ParquetColumns
from .rows import RowOptions, evaluate_fields

__all__ = ["SPARK_SCHEMA", "ArrowEvaluator"]

#: The output schema as Spark DDL, for ``mapInArrow(fn, SPARK_SCHEMA)``.
SPARK_SCHEMA = (
    "id string, row long, outcome string, status string, error_code string, result string, error string"
)


class ArrowEvaluator:
    """``Iterator[pyarrow.RecordBatch] -> Iterator[pyarrow.RecordBatch]``, one output row per input row."""

    def __init__(
        self,
        guideline: Guideline,
        at: datetime,
        *,
        time_zone: str | None = None,
        trace: bool = False,
        source: str = "<arrow>",
    ) -> None:
        if at.tzinfo is None:
            raise ValueError("at needs a time zone")
        self.guideline = guideline
        self.options = RowOptions(at=at, time_zone=time_zone, trace=trace, source=source)

    def __call__(self, batches: Iterable[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from .parts import output_table

        row = 0
        for batch in batches:
            names = batch.schema.names
            if "facts" not in names or "id" not in names:
                raise ValueError("the batches need the columns `id` and `facts` (the facts as JSON text)")
            cols = {
                c: batch.column(c).to_pylist() for c in ("id", "facts", "as_of", "time_zone") if c in names
            }
            out = _ParquetColumns()
            for k in range(batch.num_rows):
                row += 1
                out.add(
                    evaluate_fields(
                        self.guideline,
                        cols["id"][k],
                        cols["facts"][k],
                        cols["as_of"][k] if "as_of" in cols else None,
                        cols["time_zone"][k] if "time_zone" in cols else None,
                        row,
                        self.options,
                    )
                )
            table: pa.Table = output_table(out.columns)
            assert tuple(table.column_names) == OUTPUT_COLUMNS
            yield from table.to_batches()
