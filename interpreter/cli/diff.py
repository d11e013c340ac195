"""``guideline diff OLD NEW``: the static and behavioural diff of two versions (interpreter.ext.diff).

OLD and NEW are paths or ``id@version`` (a bundled guideline pinned to a version). The integration is
imported inside the command; without the ``[batch]`` extra the command is a usage error (exit 2).
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime, time, timedelta
from typing import Any

import click

from ..textsafe import safe_line
from .batch import EXIT_INTERRUPTED, need_extra
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, internal_errors, load_reference, parse_at
from .options import at_options

__all__ = ["diff"]

#: ``id@version``: a bundled guideline pinned to a version.
_PINNED = re.compile(r"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)@(\d+\.\d+\.\d+)")


def _load(ref: str) -> Any:
    m = _PINNED.fullmatch(ref)
    if m:
        return load_reference(m.group(1), m.group(2), bundled=True, command="diff")
    return load_reference(ref, None, bundled=False, command="diff")


@click.command()
@click.argument("old_ref", metavar="OLD")
@click.argument("new_ref", metavar="NEW")
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Patients to replay as well (NDJSON rows, as for guideline batch).",
)
@at_options
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes of the local cluster (default: the CPU count).",
)
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Run on this Dask scheduler.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated corpus.")
@internal_errors
def diff(old_ref: str, new_ref: str, **opts: Any) -> None:
    """Compare OLD and NEW (files, or bundled `id@version` such as leukopenia@1.0.0).

    Prints the static changes (keyed by node and recommendation id; thresholds compared after unit
    normalisation) and the behavioural diff: both versions evaluated over a corpus generated from their
    thresholds (and --corpus), with each old -> new transition, its count, an example and its traces.

    Exits 0 when no patient's outcome changes, 1 when some do, 2 for a usage error.
    """
    time_zone: str | None = opts["time_zone"]
    at = parse_at(opts["at"], time_zone)
    static: Any = need_extra("interpreter.ext.diff.static", "diff")
    behaviour: Any = need_extra("interpreter.ext.diff.behaviour", "diff")
    report: Any = need_extra("interpreter.ext.diff.report", "diff")
    old, new = _load(old_ref), _load(new_ref)
    if at is None:  # reproducible: 09:00 UTC on the later effective start, the first day both apply
        start = max(old.compiled.model.effective_start, new.compiled.model.effective_start)
        at = datetime.combine(start, time(9), UTC) + timedelta(days=1)
    try:
        b = behaviour.behaviour_diff(
            old,
            new,
            as_of=at,
            corpus=opts["corpus"],
            seed=opts["seed"],
            workers=opts["workers"] or os.cpu_count() or 1,
            scheduler=opts["scheduler"],
            time_zone=time_zone,
        )
    except OSError as exc:
        click.echo(safe_line(f"guideline diff: {exc}"), err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("guideline diff: interrupted; no report", err=True)
        sys.exit(EXIT_INTERRUPTED)
    r = report.DiffReport(old, new, static.static_diff(old, new), b)
    if opts["fmt"] == "json":
        click.echo(json.dumps(report.to_json(r), indent=2))
    else:
        click.echo(report.to_markdown(r), nl=False)
    sys.exit(EXIT_FINDINGS if r.changed else EXIT_OK)
