"""Evaluation benchmark: time per decision, as ratios against a hand-written floor measured in the same run.

    python tools/bench_evaluate.py [--patients 20000] [--repeat 5]

Part 1, the evaluation core on a small decision of ten conditions (tools/bench/decision.guideline.yaml):
  - hand-written Python with the same logic over the same values (the floor, ratio 1.0);
  - this engine's core: the compiled tree walked over checked values, trace off;
  - peers, when installed (`pip install '.[bench]'`): zen-engine's compiled expression API, JsonLogic.
Part 2, the leukopenia guideline end to end: `Guideline.evaluate()` with fact checking, unit conversion and
the result, trace off and on, over generated patients; and loading the guideline (cold and warm).

Times are the best of --repeat runs (each over every patient), on one core. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import pathlib
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interpreter import load  # noqa: E402
from interpreter.compiler.loader import load_guideline_file  # noqa: E402
from interpreter.lang.compile import clear_caches  # noqa: E402
from interpreter.runtime.walker import Walker  # noqa: E402

AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
CAUSES = ["chemotherapy", "congenital", "cyclic", "other"]


# ---------------------------------------------------------------------------------------------- part 1
def hand_written(v: dict[str, Any]) -> str:
    """The floor: the ten conditions of decision.guideline.yaml written by hand."""
    anc, wbc, febrile, age, cause = v["anc"], v["wbc"], v["febrile"], v["age"], v["cause"]
    if febrile and anc <= Decimal("0.1"):
        return "r1"
    if febrile and anc < 1 and age > 65:
        return "r2"
    if febrile and anc < 1:
        return "r3"
    if anc < Decimal("0.5") and cause == "chemotherapy":
        return "r4"
    if anc < 1 and cause == "chemotherapy":
        return "r5"
    if anc < 1 and cause in ("congenital", "cyclic"):
        return "r6"
    if anc < 1:
        return "r7"
    if anc < Decimal("1.5"):
        return "r8"
    if wbc < 3:
        return "r9"
    if wbc <= 4:
        return "r10"
    return "r11"


ZEN_CONDITIONS = [
    ("febrile and anc <= 0.1", "r1"),
    ("febrile and anc < 1.0 and age > 65", "r2"),
    ("febrile and anc < 1.0", "r3"),
    ("anc < 0.5 and cause == 'chemotherapy'", "r4"),
    ("anc < 1.0 and cause == 'chemotherapy'", "r5"),
    ("anc < 1.0 and (cause == 'congenital' or cause == 'cyclic')", "r6"),
    ("anc < 1.0", "r7"),
    ("anc < 1.5", "r8"),
    ("wbc < 3.0", "r9"),
    ("wbc <= 4.0", "r10"),
]

JSONLOGIC_RULES = [
    ({"and": [{"var": "febrile"}, {"<=": [{"var": "anc"}, 0.1]}]}, "r1"),
    ({"and": [{"var": "febrile"}, {"<": [{"var": "anc"}, 1.0]}, {">": [{"var": "age"}, 65]}]}, "r2"),
    ({"and": [{"var": "febrile"}, {"<": [{"var": "anc"}, 1.0]}]}, "r3"),
    ({"and": [{"<": [{"var": "anc"}, 0.5]}, {"==": [{"var": "cause"}, "chemotherapy"]}]}, "r4"),
    ({"and": [{"<": [{"var": "anc"}, 1.0]}, {"==": [{"var": "cause"}, "chemotherapy"]}]}, "r5"),
    ({"and": [{"<": [{"var": "anc"}, 1.0]}, {"in": [{"var": "cause"}, ["congenital", "cyclic"]]}]}, "r6"),
    ({"<": [{"var": "anc"}, 1.0]}, "r7"),
    ({"<": [{"var": "anc"}, 1.5]}, "r8"),
    ({"<": [{"var": "wbc"}, 3.0]}, "r9"),
    ({"<=": [{"var": "wbc"}, 4.0]}, "r10"),
]


def small_patients(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        out.append(
            {
                "anc": Decimal(rng.randint(0, 300)) / 100,
                "wbc": Decimal(rng.randint(0, 800)) / 100,
                "febrile": rng.random() < 0.3,
                "age": Decimal(rng.randint(1, 95)),
                "cause": rng.choice(CAUSES),
            }
        )
    return out


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def part1(n: int, repeat: int) -> list[tuple[str, float]]:
    rng = random.Random(1)
    patients = small_patients(n, rng)
    g = load(ROOT / "tools" / "bench" / "decision.guideline.yaml").compiled
    start = g.model.start

    def core(v: dict[str, Any]) -> str:
        w = Walker(g, v, AS_OF)
        w.run(start)
        return next(iter(w.applied))

    # same answers, or the comparison means nothing
    for p in patients[:2000]:
        assert core(dict(p)) == hand_written(p), p
    rows = [
        ("hand-written Python (floor)", best_of(lambda: [hand_written(p) for p in patients], repeat)),
        ("this engine: evaluation core, trace off", best_of(lambda: [core(p) for p in patients], repeat)),
    ]
    floats = [{k: float(x) if isinstance(x, Decimal) else x for k, x in p.items()} for p in patients]
    try:
        import zen

        compiled = [(zen.compile_expression(c), r) for c, r in ZEN_CONDITIONS]

        def zen_decide(v: dict[str, Any]) -> str:
            for e, r in compiled:
                if e.evaluate(v):
                    return r
            return "r11"

        for p, fp in zip(patients[:2000], floats[:2000], strict=True):
            assert zen_decide(fp) == hand_written(p), p
        rows.append(
            ("zen-engine compiled expressions", best_of(lambda: [zen_decide(p) for p in floats], repeat))
        )
    except ImportError:
        rows.append(("zen-engine (not installed: pip install '.[bench]')", float("nan")))
    try:
        from json_logic import jsonLogic

        def jl_decide(v: dict[str, Any]) -> str:
            for rule, r in JSONLOGIC_RULES:
                if jsonLogic(rule, v):
                    return r
            return "r11"

        for p, fp in zip(patients[:2000], floats[:2000], strict=True):
            assert jl_decide(fp) == hand_written(p), p
        rows.append(("JsonLogic (panzi-json-logic)", best_of(lambda: [jl_decide(p) for p in floats], repeat)))
    except ImportError:
        rows.append(("JsonLogic (not installed: pip install '.[bench]')", float("nan")))
    return [(name, t / n * 1e6) for name, t in rows]


# ---------------------------------------------------------------------------------------------- part 2
def leukopenia_patients(n: int, rng: random.Random) -> list[dict[str, Any]]:
    causes = [
        "chemotherapy",
        "congenital",
        "cyclic",
        "idiopathic",
        "transplant",
        "radiation",
        "clozapine",
        "imatinib",
        "other",
    ]
    out = []
    for _ in range(n):
        at = (AS_OF - timedelta(hours=rng.randint(0, 48))).isoformat()
        anc_cells = rng.randint(0, 4000)
        facts: dict[str, Any] = {
            "anc": (
                {"value": anc_cells, "unit": rng.choice(["/uL", "/mm3"]), "at": at}
                if rng.random() < 0.5
                else {"value": Decimal(anc_cells) / 1000, "unit": "10*9/L", "at": at}
            ),
            "wbc": {"value": Decimal(rng.randint(0, 900)) / 100, "unit": "10*9/L", "at": at},
            "febrile": {"value": rng.random() < 0.3, "at": at},
            "age": rng.randint(1, 95),
            "weight": (
                {"value": rng.randint(40, 120), "unit": "kg", "at": at}
                if rng.random() < 0.7
                else {"value": rng.randint(90, 260), "unit": "[lb_av]", "at": at}
            ),
            "height": {"value": rng.randint(140, 200), "unit": "cm"},
            "cause": rng.choice(causes),
            "on_filgrastim": rng.random() < 0.3,
            "on_prophylaxis": rng.random() < 0.2,
            "last_chemo_at": (AS_OF - timedelta(hours=rng.randint(1, 200))).isoformat(),
            "next_chemo_scheduled": False,
            "expected_neutropenia_days": rng.randint(1, 20),
            "uncontrolled_disease": rng.random() < 0.2,
            "systemic_infection_signs": {"value": rng.random() < 0.2, "at": at},
            "aml": rng.random() < 0.1,
            "cbc_stable": rng.random() < 0.5,
            "long_term_gcsf": rng.random() < 0.2,
            "luq_or_shoulder_pain": rng.random() < 0.1,
            "gcsf_response": rng.choice(["responder", "non_responder", "not_assessed"]),
            "transplant_at": (AS_OF - timedelta(hours=rng.randint(1, 100))).isoformat(),
            "anc_history": [
                {
                    "value": Decimal(rng.randint(0, 3000)) / 1000,
                    "unit": "10*9/L",
                    "at": (AS_OF - timedelta(days=d, hours=1)).isoformat(),
                }
                for d in range(2, -1, -1)
            ],
        }
        if rng.random() < 0.05:
            del facts["anc"]  # some incomplete patients
        out.append(facts)
    return out


def part2(n: int, repeat: int) -> dict[str, float]:
    path = ROOT / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml"
    # a fresh process: imports done, nothing loaded yet (the UCUM registry is built on first use)
    code = (
        "import time, interpreter.compiler.loader as l; t = time.perf_counter(); "
        f"l.load_guideline_file({str(path)!r}); print(time.perf_counter() - t)"
    )
    cold = float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                cwd=ROOT).stdout)
    clear_caches()  # memoized compilations cleared: a second guideline loaded in a warm process
    warm = best_of(lambda: (clear_caches(), load_guideline_file(path)), 5)
    g = load(path)
    rng = random.Random(2)
    patients = leukopenia_patients(n, rng)
    statuses = [g.evaluate(p, AS_OF, trace=False).status for p in patients]

    # Results are dropped as they come, as a host serving requests does: keeping 20,000 results alive
    # would measure the garbage collector scanning them, not the evaluation.
    def run(trace: bool, to_json: bool = False, subset: int = n) -> None:
        for p in patients[:subset]:
            r = g.evaluate(p, AS_OF, trace=trace)
            if to_json:
                json.dumps(r.to_json())

    off = best_of(lambda: run(False), repeat)
    on = best_of(lambda: run(True), repeat)
    json_t = best_of(lambda: run(True, True, n // 10), 1)
    return {
        "load_cold_ms": cold * 1e3,
        "load_warm_ms": warm * 1e3,
        "evaluate_trace_off_us": off / n * 1e6,
        "evaluate_trace_on_us": on / n * 1e6,
        "evaluate_trace_on_plus_json_us": json_t / (n // 10) * 1e6,
        "complete_fraction": statuses.count("complete") / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    rows = part1(args.patients, args.repeat)
    floor = rows[0][1]
    p2 = part2(args.patients, max(1, args.repeat // 2))
    if args.json:
        print(json.dumps({"core": {n: t for n, t in rows}, "floor_us": floor, "leukopenia": p2}, indent=2))
        return
    print(f"Part 1: a decision of ten conditions, {args.patients} patients, best of {args.repeat}")
    print(f"  {'approach':<52} {'us/decision':>12} {'x floor':>8}")
    for name, t in rows:
        print(f"  {name:<52} {t:>12.3f} {t / floor:>8.1f}")
    print()
    print(
        f"Part 2: leukopenia guideline, {args.patients} generated patients "
        f"({p2['complete_fraction']:.0%} complete results)"
    )
    print(f"  load in a fresh process (imports not counted):      {p2['load_cold_ms']:8.1f} ms")
    print(f"  load again in that process (memo caches cleared):    {p2['load_warm_ms']:8.1f} ms")
    print(
        f"  evaluate(), facts checked, trace off:                {p2['evaluate_trace_off_us']:8.1f} us/pt"
    )
    print(
        f"  evaluate(), facts checked, trace on:                 {p2['evaluate_trace_on_us']:8.1f} us/pt"
    )
    print(
        f"  evaluate() + to_json() + json.dumps, trace on:       "
        f"{p2['evaluate_trace_on_plus_json_us']:8.1f} us/pt"
    )
    print(
        f"  evaluate() trace off / ten-condition floor: {p2['evaluate_trace_off_us'] / floor:.0f}x"
    )


if __name__ == "__main__":
    main()
