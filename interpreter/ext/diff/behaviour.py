"""The behavioural diff: both versions replayed on the batch engine over one corpus, compared per patient.

The corpus (generated from the thresholds, plus ``--corpus``) is written once as NDJSON; both versions run
on one Dask cluster (``run_batch`` with a shared client) into two output folders; the records are then read
back part by part, in row order, and compared by their outcome signature: the status, the recommendation
ids, each medication's drug, dose, route and frequency, the cautions, the needed facts (or the error code).
Only the transitions are kept (a count, and the smallest example patient of each); the example is
evaluated again on both sides with the trace, and the nodes that decided differently are named.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ...api import Guideline
from ...facts.json import parse_facts_json
from ..batch.engine import BatchConfig, client_for, run_batch
from ..batch.rows import RowOptions
from .corpus import corpus_rows

__all__ = ["Behaviour", "Transition", "behaviour_diff", "signature"]

#: The most lines copied from ``--corpus`` (each bounded like a batch row).
MAX_CORPUS_ROWS = 10_000_000
#: The most changed patients listed by id (all are counted).
MAX_LISTED = 100_000


def signature(record: dict[str, Any]) -> dict[str, Any]:
    """The outcome of one record, as compared between versions."""
    if record["outcome"] != "ok":
        return {"error": record["error"]["code"]}
    r = record["result"]
    meds = sorted(
        [rec["id"], a.get("drug"), (a.get("dose") or {}).get("display"), a.get("route"), a.get("frequency")]
        for rec in r["recommendations"]
        for a in rec["actions"]
        if a["type"] == "medication"
    )
    return {
        "status": r["status"],
        "recommendations": sorted(x["id"] for x in r["recommendations"]),
        "medications": meds,
        "cautions": sorted({c["recommendation"] for c in r["cautions"]}),
        "needs": sorted({n["name"] for n in r["needed_facts"]}),
    }


@dataclass(slots=True)
class Transition:
    old: dict[str, Any]
    new: dict[str, Any]
    count: int = 0
    #: the smallest example: (size of its facts text, row, id, facts text)
    example: tuple[int, int, Any, str] | None = None
    example_trace: dict[str, Any] = field(default_factory=dict)

    def offer(self, row: int, row_id: Any, facts_text: str) -> None:
        self.count += 1
        key = (len(facts_text), row)
        if self.example is None or key < self.example[:2]:
            self.example = (len(facts_text), row, row_id, facts_text)


@dataclass(slots=True)
class Behaviour:
    patients: int = 0
    generated: int = 0
    given: int = 0
    changed: int = 0
    as_of: str = ""
    transitions: list[Transition] = field(default_factory=list)
    #: the ids of the changed patients (the first ``MAX_LISTED``)
    changed_ids: list[Any] = field(default_factory=list)


def _records(out: Path) -> Iterator[dict[str, Any]]:
    for part in sorted(out.glob("part-*.ndjson")):
        with open(part, encoding="ascii") as f:
            for line in f:
                yield json.loads(line)


def _write_corpus(
    path: Path, old: Guideline, new: Guideline, as_of: datetime, corpus: str | None, seed: int
) -> tuple[int, int]:
    generated = given = 0
    with open(path, "w", encoding="utf-8") as out:
        for row in corpus_rows(old, new, as_of, seed=seed):
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            generated += 1
        if corpus is not None:
            with open(corpus, "rb") as f:
                for line in f:
                    if given >= MAX_CORPUS_ROWS:
                        break
                    if line.strip():
                        out.write(line.decode("utf-8", "replace").rstrip("\r\n") + "\n")
                        given += 1
    return generated, given


def _row_facts(corpus_file: Path, wanted: set[int]) -> dict[int, tuple[Any, dict[str, Any], str | None]]:
    """(id, facts, as_of) of the wanted rows of the corpus file."""
    out: dict[int, tuple[Any, dict[str, Any], str | None]] = {}
    with open(corpus_file, "rb") as f:
        for n, line in enumerate(f, 1):
            if n in wanted:
                doc = parse_facts_json(line)
                out[n] = (doc.get("id"), doc.get("facts", {}), doc.get("as_of"))
    return out


def plain(value: Any) -> Any:
    """Facts as read (exact ``Decimal`` numbers) as plain JSON values, for the report."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(str(value))
    return value


def _trace_steps(g: Guideline, facts: dict[str, Any], as_of: datetime, tz: str | None) -> dict[str, Any]:
    try:
        result = g.evaluate(facts, as_of, trace=True, time_zone=tz)
    except Exception as exc:  # the record was an error: the trace is the error
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}", "steps": {}}
    steps = {}
    for step in result.trace:
        steps[step.node] = {
            "outcome": step.outcome,
            "taken": list(step.taken),
            "branches": [
                {
                    "condition": b.condition,
                    "outcome": b.outcome,
                    "values": {k: str(v) for k, v in b.values.items()},
                }
                for b in step.branches
            ],
        }
    return {"steps": steps}


def behaviour_diff(
    old: Guideline,
    new: Guideline,
    *,
    as_of: datetime,
    corpus: str | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    seed: int = 0,
    time_zone: str | None = None,
) -> Behaviour:
    work = Path(tempfile.mkdtemp(prefix="guideline-diff-"))
    try:
        corpus_file = work / "corpus.ndjson"
        generated, given = _write_corpus(corpus_file, old, new, as_of, corpus, seed)
        options = RowOptions(at=as_of, time_zone=time_zone, source="corpus")
        configs = [
            BatchConfig(
                str(corpus_file),
                str(work / name),
                "ndjson",
                "ndjson",
                options,
                workers=workers,
                scheduler=scheduler,
                rows_per_part=2000,
            )
            for name in ("old", "new")
        ]
        with client_for(configs[0]) as client:
            for g, config in zip((old, new), configs, strict=True):
                run = run_batch(g, config, client=client)
                if run.interrupted:
                    raise KeyboardInterrupt
                if run.failed:  # never compare a partial replay
                    raise RuntimeError(f"the replay of {g.id} {g.version} failed: {run.failed[0]['error']}")
        found: dict[str, Transition] = {}
        behaviour = Behaviour(generated=generated, given=given, as_of=as_of.isoformat())
        for a, b in zip(_records(work / "old"), _records(work / "new"), strict=True):
            behaviour.patients += 1
            sa, sb = signature(a), signature(b)
            if sa == sb:
                continue
            behaviour.changed += 1
            if len(behaviour.changed_ids) < MAX_LISTED:
                behaviour.changed_ids.append(a["id"])
            key = json.dumps([sa, sb], sort_keys=True)
            t = found.get(key)
            if t is None:
                t = found[key] = Transition(sa, sb)
            facts_text = (
                json.dumps((a.get("result") or {}).get("facts", {}), sort_keys=True)
                if a["outcome"] == "ok"
                else str(a["row"])
            )
            t.offer(a["row"], a["id"], facts_text)
        transitions = sorted(found.values(), key=lambda t: (-t.count, json.dumps([t.old, t.new])))
        rows = _row_facts(corpus_file, {t.example[1] for t in transitions if t.example})
        for t in transitions:
            assert t.example is not None
            row_id, facts, at_text = rows[t.example[1]]
            at = datetime.fromisoformat(at_text) if isinstance(at_text, str) else as_of
            old_steps = _trace_steps(old, facts, at, time_zone)
            new_steps = _trace_steps(new, facts, at, time_zone)
            t.example_trace = {
                "id": row_id,
                "row": t.example[1],
                "as_of": at.isoformat(),
                "facts": plain(facts),
                "old": old_steps,
                "new": new_steps,
                "nodes": _deciding_nodes(old_steps, new_steps),
            }
        behaviour.transitions = transitions
        return behaviour
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _deciding_nodes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes visited on both sides whose decision differs, then those reached on one side only."""
    a, b = old.get("steps", {}), new.get("steps", {})
    out = []
    for node in [n for n in a if n in b]:
        if (a[node]["outcome"], a[node]["taken"]) != (b[node]["outcome"], b[node]["taken"]):
            out.append(
                {"node": node, "why": "decided differently", "old": a[node]["taken"], "new": b[node]["taken"]}
            )
    out += [{"node": n, "why": "reached only in the old version"} for n in a if n not in b]
    out += [{"node": n, "why": "reached only in the new version"} for n in b if n not in a]
    return out
