"""``guideline batch``: a guideline over a file of patients, on Dask (interpreter.ext.batch, docs/batch.md).

The integration is imported inside the command: ``guideline --help`` loads neither Dask nor Arrow, and
without the ``[batch]`` extra the command is a usage error naming the extra (exit 2).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import click

from ..errors import GuidelineError
from ..textsafe import safe_line
from .common import (
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    internal_errors,
    load_reference,
    parse_at,
    refuse,
)
from .options import at_options, bundled_option

__all__ = ["batch", "need_extra"]

#: Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def need_extra(module: str, command: str) -> ModuleType:
    """Import ``module`` (an ``interpreter.ext`` module), or exit 2 naming the ``[batch]`` extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        click.echo(
            safe_line(
                f"guideline {command} needs the batch extra (missing: {missing}): "
                "pip install 'guideline-interpreter[batch]'"
            ),
            err=True,
        )
        sys.exit(EXIT_USAGE)


@click.command()
@click.argument("guideline_ref", metavar="GUIDELINE")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.option("--out", "output", required=True, type=click.Path(), help="Output folder (new or empty).")
@click.option("--version", "version", default=None, help="Pin the guideline version (bundled ids).")
@at_options
@click.option(
    "--input-format",
    type=click.Choice(["ndjson", "parquet"]),
    default=None,
    help="Default: parquet for a .parquet/.pq file, else ndjson.",
)
@click.option(
    "--output-format",
    type=click.Choice(["ndjson", "parquet"]),
    default=None,
    help="Default: parquet when OUTPUT ends in .parquet, else ndjson.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes of the local cluster (one thread each; default: the CPU count).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run on this Dask scheduler instead of a local cluster.",
)
@click.option(
    "--partition-rows",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Rows per partition (one task and one part file each; default: at most 5000, and about "
    "16 partitions per worker, of at least 200 rows; Parquet: about 4 per worker).",
)
@click.option("--limit", type=click.IntRange(1, None), default=None, help="Only the first N rows.")
@click.option(
    "--sample",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help="A random sample of N rows (of the first --limit rows), in file order.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option("--trace", is_flag=True, help="Include each result's trace (larger output).")
@click.option(
    "--fhir",
    "fhir",
    is_flag=True,
    help='Rows hold a FHIR R4 Bundle each: {"id": ..., "bundle": {...}, "facts"?: {...}, "as_of"?: ..., '
    '"time_zone"?: ..., "patient"?: ...}, read as `guideline evaluate --fhir` reads one (NDJSON only).',
)
@click.option(
    "--bindings",
    "bindings_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="With --fhir: a site binding file (default: the one shipped for a bundled guideline).",
)
@click.option(
    "--progress/--no-progress",
    "progress",
    default=None,
    help="A progress bar (default: when standard error is a terminal; else plain lines).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="The summary on standard output.",
)
@bundled_option
@internal_errors
def batch(guideline_ref: str, input_path: str, output: str, **opts: Any) -> None:
    """Evaluate GUIDELINE for every patient of INPUT (NDJSON or Parquet); one record per row in OUTPUT.

    A row is {"id": ..., "facts": {...}, "as_of"?: "<ISO time>", "time_zone"?: "<IANA name>"}; a row without
    as_of is judged at --at (default: now). Each record is `ok` with the result or `error` with the coded
    error; one bad row never stops the run. OUTPUT is a folder of part files and _summary.json.

    Exits 0 when every row was evaluated, 1 when some rows are errors, 2 for a usage error (an unreadable
    input, an OUTPUT that is not empty, a missing extra), 3 for an internal error, 130 when interrupted.
    """
    time_zone: str | None = opts["time_zone"]
    as_of = parse_at(opts["at"], time_zone) or datetime.now(UTC)
    engine: Any = need_extra("interpreter.ext.batch.engine", "batch")
    parts: Any = need_extra("interpreter.ext.batch.parts", "batch")
    rows: Any = need_extra("interpreter.ext.batch.rows", "batch")
    prog: Any = need_extra("interpreter.ext.batch.progress", "batch")
    g = load_reference(guideline_ref, opts["version"], bundled=opts["bundled"], command="batch")
    in_fmt = parts.input_format(input_path, opts["input_format"])
    out_fmt = opts["output_format"] or (
        "parquet" if output.rstrip("/").lower().endswith(".parquet") else "ndjson"
    )
    fhir: Any = None
    if opts["bindings_file"] and not opts["fhir"]:
        raise click.UsageError("--bindings needs --fhir")
    if opts["fhir"]:
        if in_fmt != "ndjson":
            raise click.UsageError("--fhir reads NDJSON rows (one Bundle a line), not Parquet")
        fhir_rows: Any = need_extra("interpreter.ext.batch.fhir_rows", "batch")
        try:
            fhir = fhir_rows.FhirRows.for_guideline(g, opts["bindings_file"])
        except GuidelineError as exc:
            refuse(opts["fmt"], "bindings", "the FHIR bindings were refused:", exc.diagnostics, "batch")
            raise  # pragma: no cover - refuse exits
    options = rows.RowOptions(
        at=as_of, time_zone=time_zone, trace=opts["trace"], source=os.path.basename(input_path), fhir=fhir
    )
    config = engine.BatchConfig(
        input=input_path,
        output=output,
        input_format=in_fmt,
        output_format=out_fmt,
        options=options,
        workers=opts["workers"] or os.cpu_count() or 1,
        scheduler=opts["scheduler"],
        rows_per_part=opts["partition_rows"],
        limit=opts["limit"],
        sample=opts["sample"],
        seed=opts["seed"],
    )
    try:
        run = engine.run_batch(g, config, prog.make_progress(sys.stderr, bar=opts["progress"]))
    except parts.PlanError as exc:
        click.echo(safe_line(f"guideline batch: {exc}"), err=True)
        sys.exit(EXIT_USAGE)
    if opts["fmt"] == "json":
        click.echo(json.dumps(run.to_json(), indent=2))
    else:
        click.echo(engine.summary_text(run), nl=False)
    if run.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if run.tally.internal or run.failed:
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_FINDINGS if run.tally.errors else EXIT_OK)
