"""Evaluation benchmark: every figure a ratio against a hand-written baseline timed in the same round.

    python tools/bench_evaluate.py [--patients 5000] [--rounds 7] [--json OUT.json]

Groups (tools/bench_hand.py has the hand-written code; each group checks agreement on every input first):

- ``core``: the ten-condition decision (tools/bench/decision.guideline.yaml) over checked values. Baseline:
  the same conditions by hand over the same Decimal values; beside it the engine's walk, and (with
  ``pip install '.[bench]'``) zen-engine and JsonLogic, which take floats, so a hand-written float version
  is timed too and each peer's ratio is against it.
- ``core_host``: the leukopenia-like decision (tools/bench/host.guideline.yaml, 11 nodes) over checked facts:
  the engine's walk (with its completer, as ``evaluate`` runs it) against the same decision by hand.
- ``host``: the whole host path, JSON text in and JSON text out: ``json.loads`` -> ``evaluate()`` ->
  ``to_json()`` -> ``json.dumps``, trace off and on, against the hand-written full path (the same fact checks,
  units, staleness, decision, doses, the facts echoed).
- ``leukopenia``: the host path on the bundled leukopenia guideline (no hand-written version exists); the
  ratio is against ``json.loads`` + ``json.dumps`` of the same patient, timed in the same round.

Patients come from tools/gen_patients.py (unique time stamps, 3-30-result series, missing, stale and undated
facts, several units and offsets, a per-patient as-of time). Each round times every approach once over all
the patients, in an order rotated every round; the figures are medians over the rounds with their range, and
every ratio is the median (and range) of the per-round ratios. Nothing is pinned to a CPU. Nothing here is a
test; the output JSON feeds ``tools/bench_report.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from bench_hand import check_host, decide_host, hand_decision, hand_decision_float, hand_host  # noqa: E402
from gen_patients import Generator  # noqa: E402

import interpreter  # noqa: E402
from interpreter.runtime.completion import Completer  # noqa: E402
from interpreter.runtime.walker import Walker  # noqa: E402

BENCH = ROOT / "tools" / "bench"


# ------------------------------------------------------------------------------------------------ timing
def rounds(approaches: dict[str, Callable[[], object]], n_rounds: int, per: int) -> dict[str, list[float]]:
    """Seconds per item of each approach in each round; the order is rotated every round."""
    names = list(approaches)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(n_rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            gc.collect()
            t0 = time.perf_counter()
            approaches[name]()
            times[name].append((time.perf_counter() - t0) / per)
    return times


def summary(
    times: dict[str, list[float]], baseline: str, against: dict[str, str] | None = None
) -> dict[str, Any]:
    """Median and range (us) of each approach, and of its per-round ratio to its baseline."""
    out: dict[str, Any] = {}
    for name, ts in times.items():
        base = (against or {}).get(name, baseline)
        ratios = [t / b for t, b in zip(ts, times[base], strict=True)]
        out[name] = {
            "us": statistics.median(ts) * 1e6,
            "us_range": [min(ts) * 1e6, max(ts) * 1e6],
            "baseline": base,
            "ratio": statistics.median(ratios),
            "ratio_range": [min(ratios), max(ratios)],
        }
    return out


# ------------------------------------------------------------------------------------------------ inputs
def patients(g: interpreter.Guideline, n: int, seed: int) -> list[tuple[str, datetime]]:
    gen = Generator(g, seed=seed)
    out = []
    for i in range(n):
        row = gen.generate(i)
        assert isinstance(row, dict)
        as_of = datetime.fromisoformat(row["as_of"]) if "as_of" in row else gen.base
        out.append((json.dumps(row["facts"]), as_of))
    return out


# ------------------------------------------------------------------------------------------------ groups
def group_core(n: int, n_rounds: int, seed: int) -> dict[str, Any]:
    import random

    g = interpreter.load(BENCH / "decision.guideline.yaml").compiled
    rng = random.Random(seed)
    causes = ["chemotherapy", "congenital", "cyclic", "other"]
    values = [
        {
            "anc": Decimal(rng.randint(0, 300)) / 100,
            "wbc": Decimal(rng.randint(0, 800)) / 100,
            "febrile": rng.random() < 0.3,
            "age": Decimal(rng.randint(1, 95)),
            "cause": rng.choice(causes),
        }
        for _ in range(n)
    ]
    floats = [{k: float(x) if isinstance(x, Decimal) else x for k, x in v.items()} for v in values]
    start, as_of = g.model.start, datetime.fromisoformat("2026-11-24T09:00:00+00:00")

    def core(v: dict[str, Any]) -> str:
        w = Walker(g, v, as_of)
        w.run(start)
        return next(iter(w.applied))

    expected = [hand_decision(v) for v in values]
    assert [core(v) for v in values] == expected, "the engine and the hand-written decision disagree"
    assert [hand_decision_float(f) for f in floats] == expected, "floats change the hand-written decision"
    approaches: dict[str, Callable[[], object]] = {
        "hand-written (Decimal)": lambda: [hand_decision(v) for v in values],
        "engine core, trace off": lambda: [core(v) for v in values],
        "hand-written (float)": lambda: [hand_decision_float(f) for f in floats],
    }
    against = {"hand-written (float)": "hand-written (Decimal)"}
    try:
        import zen

        conditions = [
            ("febrile and anc <= 0.1", "r1"), ("febrile and anc < 1.0 and age > 65", "r2"),
            ("febrile and anc < 1.0", "r3"), ("anc < 0.5 and cause == 'chemotherapy'", "r4"),
            ("anc < 1.0 and cause == 'chemotherapy'", "r5"),
            ("anc < 1.0 and (cause == 'congenital' or cause == 'cyclic')", "r6"),
            ("anc < 1.0", "r7"), ("anc < 1.5", "r8"), ("wbc < 3.0", "r9"), ("wbc <= 4.0", "r10"),
        ]
        compiled = [(zen.compile_expression(c), r) for c, r in conditions]

        def zen_decide(v: dict[str, Any]) -> str:
            for e, r in compiled:
                if e.evaluate(v):
                    return r
            return "r11"

        assert [zen_decide(f) for f in floats] == expected
        approaches["zen-engine compiled expressions (float)"] = lambda: [zen_decide(f) for f in floats]
        against["zen-engine compiled expressions (float)"] = "hand-written (float)"
    except ImportError:
        pass
    times = rounds(approaches, n_rounds, n)
    return {"decision": "tools/bench/decision.guideline.yaml", "inputs": n,
            "approaches": summary(times, "hand-written (Decimal)", against)}


def _fixed_parts(g: interpreter.Guideline, pts: list[tuple[str, datetime]]) -> dict[str, dict[str, Any]]:
    """Each recommendation's fixed JSON (text, citations, actions) as a hand-written host holds it."""
    recs: dict[str, dict[str, Any]] = {}
    for text, as_of in pts:
        for r in g.evaluate(json.loads(text), as_of, trace=False).to_json()["recommendations"]:
            if r["id"] not in recs:
                recs[r["id"]] = {**r, "actions": [{k: v for k, v in a.items() if k != "dose"}
                                                  for a in r["actions"]]}
    return recs


def _key(d: dict[str, Any]) -> tuple[Any, ...]:
    recs = sorted((r["id"], [a["dose"].get("value") for a in r["actions"] if "dose" in a])
                  for r in d["recommendations"])
    return d["status"], recs, sorted(c["node"] if isinstance(c, dict) else c for c in d["cannot_decide"])


def group_host(n: int, n_rounds: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    g = interpreter.load(BENCH / "host.guideline.yaml")
    c = g.compiled
    pts = patients(g, n, seed)
    recs = _fixed_parts(g, pts)
    disclaimer = c.model.disclaimer or ""

    def engine(text: str, as_of: datetime, trace: bool) -> str:
        return json.dumps(g.evaluate(json.loads(text), as_of, trace=trace).to_json())

    statuses = []
    for text, as_of in pts:  # agreement on every patient
        a = json.loads(engine(text, as_of, False))
        b = json.loads(hand_host(text, as_of, recs, disclaimer))
        assert _key(a) == _key(b), (text, _key(a), _key(b))
        statuses.append(a["status"])
    host = rounds({
        "hand-written full path": lambda: [hand_host(t, a, recs, disclaimer) for t, a in pts],
        "engine, trace off": lambda: [engine(t, a, False) for t, a in pts],
        "engine, trace on": lambda: [engine(t, a, True) for t, a in pts],
    }, n_rounds, n)

    # the core: both decisions over facts already checked (outside the timing)
    checked = []
    for text, as_of in pts:
        values = dict(c.facts.check(json.loads(text), as_of).values)
        checked.append((values, as_of, check_host(json.loads(text), as_of)))
    start = c.model.start
    rec_ids = frozenset(r.id for r in c.model.recommendations)

    def walk(values: dict[str, Any], as_of: datetime) -> list[str]:
        v = dict(values)
        w = Walker(c, v, as_of, Completer(c, v, as_of))
        w.run(start)
        return [k for k in w.applied if k in rec_ids]

    for values, as_of, f in checked:
        assert sorted(walk(values, as_of)) == sorted(decide_host(f)[0])
    core = rounds({
        "hand-written decision": lambda: [decide_host(f) for _, _, f in checked],
        "engine core, trace off": lambda: [walk(v, a) for v, a, _ in checked],
    }, n_rounds, n)
    about = {"decision": "tools/bench/host.guideline.yaml", "nodes": len(c.model.nodes),
             "branches": sum(len(nd.branches) for nd in c.model.nodes), "inputs": n,
             "complete_fraction": statuses.count("complete") / n}
    return (
        {**about, "approaches": summary(core, "hand-written decision")},
        {**about, "approaches": summary(host, "hand-written full path")},
    )


def group_leukopenia(n: int, n_rounds: int, seed: int) -> dict[str, Any]:
    g = interpreter.load("leukopenia")
    pts = patients(g, n, seed)
    statuses = [g.evaluate(json.loads(t), a, trace=False).status for t, a in pts]

    def engine(text: str, as_of: datetime, trace: bool) -> str:
        return json.dumps(g.evaluate(json.loads(text), as_of, trace=trace).to_json())

    times = rounds({
        "json.loads + json.dumps": lambda: [json.dumps(json.loads(t)) for t, _ in pts],
        "engine, trace off": lambda: [engine(t, a, False) for t, a in pts],
        "engine, trace on": lambda: [engine(t, a, True) for t, a in pts],
    }, n_rounds, n)
    return {"guideline": f"leukopenia {g.version}", "nodes": len(g.compiled.model.nodes), "inputs": n,
            "complete_fraction": statuses.count("complete") / n,
            "approaches": summary(times, "json.loads + json.dumps")}


def load_times(n_rounds: int) -> dict[str, Any]:
    """Loading the leukopenia guideline by id in a fresh process (imports not counted), per round."""
    code = ("import time, interpreter; t = time.perf_counter(); interpreter.load('leukopenia'); "
            "print(time.perf_counter() - t)")
    ts = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                               cwd=ROOT).stdout) for _ in range(n_rounds)]
    return {"load_by_id_ms": statistics.median(ts) * 1e3, "range_ms": [min(ts) * 1e3, max(ts) * 1e3]}


def memory_per_node() -> dict[str, Any]:
    """Bytes held by a loaded leukopenia guideline (tracemalloc, in a fresh process), per node."""
    code = (
        "import gc, tracemalloc, interpreter, json\n"
        "import interpreter.loading.library as lib\n"
        "lib.list_guidelines()\n"  # the library scan is not the guideline's memory
        "interpreter.load('tools/bench/host.guideline.yaml')\n"  # first-use registries warmed
        "gc.collect(); tracemalloc.start()\n"
        "g = interpreter.load('leukopenia')\n"
        "gc.collect(); held = tracemalloc.get_traced_memory()[0]\n"
        "print(json.dumps({'bytes': held, 'nodes': len(g.compiled.model.nodes)}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                    cwd=ROOT).stdout)
    return {**out, "bytes_per_node": out["bytes"] / out["nodes"]}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(),
            "when": datetime.now().astimezone().isoformat(timespec="seconds")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--json", type=pathlib.Path, help="write the figures as JSON to this file")
    args = ap.parse_args()
    core_host, host = group_host(args.patients, args.rounds, args.seed)
    report = {
        "benchmark": "evaluate",
        "machine": machine(),
        "rounds": args.rounds,
        "core": group_core(args.patients * 4, args.rounds, args.seed),
        "core_host": core_host,
        "host": host,
        "leukopenia": group_leukopenia(args.patients, args.rounds, args.seed),
        "load": load_times(min(args.rounds, 5)),
        "memory": memory_per_node(),
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for name in ("core", "core_host", "host", "leukopenia"):
        print(f"{name}:")
        for a, s in report[name]["approaches"].items():
            lo, hi = s["ratio_range"]
            print(f"  {a:<44} {s['us']:9.1f} us  [{s['us_range'][0]:.1f}-{s['us_range'][1]:.1f}]"
                  f"  x{s['ratio']:.2f} [{lo:.2f}-{hi:.2f}] vs {s['baseline']}")
    print(f"load by id: {report['load']['load_by_id_ms']:.1f} ms; "
          f"memory: {report['memory']['bytes_per_node'] / 1024:.1f} KiB per node")


if __name__ == "__main__":
    main()
