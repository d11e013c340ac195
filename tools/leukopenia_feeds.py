"""Incomplete rate of the leukopenia guideline on realistic minimal feeds, version by version.

A realistic minimal feed is what a host plausibly sends without being asked: the latest counts (ANC and WBC,
with their times), weight, age, cause, whether filgrastim is running, and the chemotherapy times (or the
transplant time) where the cause makes them relevant. Nothing else (no fever statement, no AML flag, no
prophylaxis status, no ANC history). The feeds are generated deterministically over a grid of causes, counts
and timings, so the rates are reproducible::

    python tools/leukopenia_feeds.py            # the rates, and the facts most often asked for
    python tools/leukopenia_feeds.py --json     # the same as JSON

"incomplete" should remain only where the missing fact changes an action.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import pathlib
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import interpreter  # noqa: E402

AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
CAUSES = ["chemotherapy", "congenital", "cyclic", "idiopathic", "transplant", "radiation", "clozapine",
          "imatinib", "other"]
ANC = ["0.05", "0.4", "0.9", "1.2", "1.8", "3.5"]
WBC = {"0.05": "0.6", "0.4": "1.5", "0.9": "2.4", "1.2": "2.9", "1.8": "3.6", "3.5": "6.0"}
#: (hours since the last chemotherapy dose, hours until the next one or None when none is planned)
CHEMO = [(12, None), (48, None), (48, 60), (120, 300), (240, None), (200, -12)]
TRANSPLANT_HOURS = [12, 40, 24 * 12, 24 * 60]


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def feeds() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    counted = _iso(AS_OF - timedelta(hours=3))
    for cause, anc, on_filgrastim, (weight, age) in itertools.product(
        CAUSES, ANC, [False, True], [(70, 58), (18, 6), (80, 72)]
    ):
        base: dict[str, Any] = {
            "anc": {"value": float(anc), "unit": "10*9/L", "at": counted},
            "wbc": {"value": float(WBC[anc]), "unit": "10*9/L", "at": counted},
            "weight": {"value": weight, "unit": "kg", "at": _iso(AS_OF - timedelta(days=2))},
            "age": age,
            "cause": cause,
            "on_filgrastim": on_filgrastim,
        }
        if cause == "chemotherapy":
            for since, until in CHEMO:
                f = dict(base, last_chemo_at=_iso(AS_OF - timedelta(hours=since)),
                         next_chemo_scheduled=until is not None)
                if until is not None:
                    f["next_chemo_at"] = _iso(AS_OF + timedelta(hours=until))
                out.append(f)
        elif cause == "transplant":
            out.extend(dict(base, transplant_at=_iso(AS_OF - timedelta(hours=h))) for h in TRANSPLANT_HOURS)
        else:
            out.append(base)
    return out


def rates(version: str) -> dict[str, Any]:
    """Evaluate every feed of `feeds()` (a fixed grid: 612 feeds) against one bundled version."""
    g = interpreter.load("leukopenia", version=version)
    total = incomplete = refused = with_conditional = all_conditional = 0
    needs: collections.Counter[str] = collections.Counter()
    for facts in feeds():
        total += 1
        try:
            r = g.evaluate(interpreter.parse_facts_json(json.dumps(facts)), AS_OF)
        except interpreter.InterpreterError:
            refused += 1
            continue
        if r.status == "incomplete":
            incomplete += 1
            needs.update(n.name for n in r.needed_facts)
            shown = {c.node for c in r.conditional}
            with_conditional += bool(shown)
            # every undecided node shows what each of its alternatives would recommend
            all_conditional += {c.node for c in r.cannot_decide} <= shown
    return {"version": version, "feeds": total, "incomplete": incomplete, "refused": refused,
            "incomplete_rate": round(incomplete / total, 3), "needs": dict(needs.most_common()),
            "incomplete_with_conditional_advice": with_conditional,
            "incomplete_with_conditional_advice_for_every_undecided_node": all_conditional}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [rates(v) for v in ("1.0.0", "1.1.0")]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"leukopenia {r['version']}: {r['feeds']} feeds, {r['incomplete']} incomplete "
              f"({100 * r['incomplete_rate']:.1f}%), {r['refused']} refused")
        print("  facts asked for: " + ", ".join(f"{k} {v}" for k, v in r["needs"].items()))
        every = r["incomplete_with_conditional_advice_for_every_undecided_node"]
        print(f"  incomplete results with conditional advice: {r['incomplete_with_conditional_advice']}"
              f" (for every undecided node: {every})")


if __name__ == "__main__":
    main()
