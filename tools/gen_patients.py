"""Generate realistic synthetic patients for a guideline: NDJSON (or Parquet) rows ``{id, as_of, facts}``.

    python tools/gen_patients.py leukopenia -n 10000 --seed 7 -o patients.ndjson
    python tools/gen_patients.py path/to/x.guideline.yaml -n 500 --format parquet -o patients.parquet

Every value is read from the guideline's inputs: the type, the unit and the accepted units (each value is
sent in one of them, converted exactly from the canonical unit), the plausible range, the code values,
``max_age`` (fresh, stale and undated variants) and ``time: past|future`` of datetimes. Quantities cluster
around the thresholds the guideline's conditions use (``CompiledExpression.thresholds``), so the decision
branches are all exercised, and some sit exactly on a threshold. Series have 3 to 30 results with unique
timestamps, each result in a unit of its own choosing. Each row has its own as-of time (a historical
replay judges staleness at that moment). Some facts are missing; ``--bad F`` makes a fraction of rows
invalid (implausible values, unknown units, wrong types, rows that are not JSON) to exercise error rows.

Patient ``i`` depends only on ``(seed, i)``: the same seed gives the same patients, whatever ``-n`` is.
Used by the tests (tests/ext/) and the benchmark (tools/bench_batch.py). Synthetic data only: no patient
is real, and the mix of values is made to exercise the guideline, not to match any population.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path
from typing import Any

import interpreter
from interpreter.loading.model import Input
from interpreter.values.units import UnitError, conversion_factor

__all__ = ["Generator", "generate", "threshold_table", "write_ndjson", "write_parquet"]

#: Offsets the generated times are written with (one instant, written several ways).
OFFSETS = (UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5)),
           timezone(timedelta(hours=5, minutes=30)))
_CTX = Context(prec=40)


def threshold_table(g: interpreter.Guideline) -> dict[str, list[Decimal]]:
    """The constants each input is compared with (in its canonical unit), from every compiled condition."""
    compiled = g.compiled
    exprs = [b.when for node in compiled.nodes.values() for b in node.branches]
    exprs += [e for _, e in compiled.derived]
    table: dict[str, set[Decimal]] = {}
    for e in exprs:
        for t in e.thresholds:
            if t.name in g.inputs:
                table.setdefault(t.name, set()).add(t.value)
    return {k: sorted(v) for k, v in table.items()}


def _num(d: Decimal) -> int | float:
    """A JSON number for ``d``: ints stay ints; at most 15 significant digits round-trip through float."""
    if d == d.to_integral_value():
        return int(d)
    return float(str(d))


def _time_text(t: datetime, rng: random.Random) -> str:
    text = t.astimezone(rng.choice(OFFSETS)).isoformat()
    return text.replace("+00:00", "Z")


def _significant(d: Decimal, digits: int) -> Decimal:
    if d == 0:
        return Decimal(0)
    exp = d.adjusted() - digits + 1
    return d.quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_EVEN, context=_CTX).normalize(_CTX)


class Generator:
    """Patients for one guideline. ``generate(i)`` is patient ``i`` (a dict row; a str for a raw bad row)."""

    def __init__(
        self,
        g: interpreter.Guideline,
        *,
        seed: int = 0,
        as_of: datetime | None = None,
        spread: timedelta = timedelta(days=30),
        missing: float = 0.08,
        stale: float = 0.05,
        undated: float = 0.03,
        bad: float = 0.0,
        with_as_of: float = 0.9,
    ) -> None:
        model = g.compiled.model
        start = datetime.combine(model.effective_start, datetime.min.time(), UTC) + timedelta(hours=9)
        self.base = as_of or start
        if self.base.tzinfo is None:
            raise ValueError("as_of needs a time zone")
        end = model.effective_end
        if end is not None:
            last = datetime.combine(end, datetime.min.time(), UTC) - timedelta(hours=1)
            spread = min(spread, max(last - self.base, timedelta(0)))
        self.spread_minutes = int(spread.total_seconds() // 60)
        self.g = g
        self.seed = seed
        self.inputs: Mapping[str, Input] = g.inputs
        self.thresholds = threshold_table(g)
        self.missing, self.stale, self.undated, self.bad = missing, stale, undated, bad
        self.with_as_of = with_as_of
        #: per input, the units a value may be sent in with the exact factor to the canonical unit
        self.units: dict[str, list[tuple[str, Decimal]]] = {}
        for name, inp in self.inputs.items():
            if inp.unit is None:
                continue
            units = [(inp.unit, Decimal(1))]
            for u in inp.accepted_units:
                try:
                    units.append((u, conversion_factor(u, inp.unit)))
                except UnitError:
                    continue
            self.units[name] = units

    # -- one value

    def _canonical(self, name: str, inp: Input, rng: random.Random) -> Decimal:
        lo = inp.plausible_min if inp.plausible_min is not None else Decimal(0)
        hi = inp.plausible_max if inp.plausible_max is not None else lo + 100
        ts = [t for t in self.thresholds.get(name, []) if lo <= t <= hi]
        if ts and rng.random() < 0.45:
            t = rng.choice(ts)
            if rng.random() < 0.15:
                return t
            v = t * Decimal(str(round(1 + rng.uniform(-0.2, 0.2), 4)))
        else:
            top = min(hi, max(ts) * 3) if ts and max(ts) > 0 else hi
            mode = ts[len(ts) // 2] if ts else lo + (top - lo) / 3
            mode = min(max(mode, lo), top)
            v = Decimal(str(round(rng.triangular(float(lo), float(top), float(mode)), 6)))
        return min(max(v, lo), hi)

    def _in_unit(self, name: str, inp: Input, canonical: Decimal, rng: random.Random) -> tuple[Decimal, str]:
        """``canonical`` written in a unit of the input (4 significant digits), still plausible."""
        units = self.units.get(name) or [(inp.unit or "", Decimal(1))]
        unit, factor = units[0] if rng.random() < 0.5 else rng.choice(units)
        exact = (canonical / factor).normalize(_CTX) if factor != 1 else canonical
        value = exact if len(exact.as_tuple().digits) <= 6 else _significant(exact, 4)
        back = value * factor
        if (inp.plausible_min is not None and back < inp.plausible_min) or (
            inp.plausible_max is not None and back > inp.plausible_max
        ):
            unit, value = units[0][0], canonical
        return value, unit

    def _measured(self, inp: Input, as_of: datetime, rng: random.Random) -> tuple[datetime | None, bool]:
        """(measurement time or None, whether it is stale) for an input's fact."""
        if inp.max_age is None:
            if rng.random() < 0.5:
                return None, False
            return as_of - timedelta(minutes=rng.randint(0, 60 * 24 * 20)), False
        r = rng.random()
        if r < self.undated:
            return None, False
        limit = int(inp.max_age.total_seconds() // 60)
        if r < self.undated + self.stale:
            return as_of - timedelta(minutes=limit + rng.randint(1, 60 * 24 * 10)), True
        return as_of - timedelta(minutes=rng.randint(0, max(limit * 9 // 10, 0))), False

    def _quantity(self, name: str, inp: Input, as_of: datetime, rng: random.Random) -> Any:
        value, unit = self._in_unit(name, inp, self._canonical(name, inp, rng), rng)
        at, _ = self._measured(inp, as_of, rng)
        if inp.bare_number and at is None and unit == inp.unit and rng.random() < 0.5:
            return _num(value)
        fact: dict[str, Any] = {"value": _num(value), "unit": unit}
        if at is not None:
            fact["at"] = _time_text(at, rng)
        return fact

    def _series(self, name: str, inp: Input, as_of: datetime, rng: random.Random) -> list[dict[str, Any]]:
        count = rng.randint(3, 30)
        newest, _ = self._measured(inp, as_of, rng)
        if newest is None:  # a series always has times; "undated" is a series that is old instead
            newest = as_of - timedelta(minutes=rng.randint(0, 600))
        times = [newest]
        for _ in range(count - 1):
            times.append(times[-1] - timedelta(minutes=rng.randint(4 * 60, 30 * 60)))
        base = self._canonical(name, inp, rng)
        lo = inp.plausible_min if inp.plausible_min is not None else Decimal(0)
        hi = inp.plausible_max if inp.plausible_max is not None else base * 2 + 1
        results = []
        level = base
        for t in times:
            level = min(max(level * Decimal(str(round(rng.uniform(0.75, 1.3), 3))), lo), hi)
            value, unit = self._in_unit(name, inp, level, rng)
            results.append({"value": _num(value), "unit": unit, "at": _time_text(t, rng)})
        rng.shuffle(results)  # order never matters to the engine
        return results

    def _value(self, name: str, inp: Input, as_of: datetime, rng: random.Random) -> Any:
        if inp.type == "quantity":
            return self._quantity(name, inp, as_of, rng)
        if inp.type == "series":
            return self._series(name, inp, as_of, rng)
        if inp.type == "datetime":
            if inp.time == "future" or (inp.time is None and rng.random() < 0.3):
                return _time_text(as_of + timedelta(minutes=rng.randint(60, 60 * 24 * 21)), rng)
            return _time_text(as_of - timedelta(minutes=rng.randint(60, 60 * 24 * 30)), rng)
        if inp.type == "date":  # a date-only fact: a calendar day, written without a time
            days = rng.randint(0, 60)
            day = (as_of + timedelta(days=days)) if inp.time == "future" else (as_of - timedelta(days=days))
            return day.date().isoformat()
        if inp.type == "boolean":
            raw: Any = rng.random() < 0.3
        elif inp.type == "code":
            raw = rng.choice(inp.values)
        elif inp.type == "code-set":  # mostly none or one word, sometimes several (a patient with two causes)
            raw = rng.sample(list(inp.values), k=min(len(inp.values), rng.choice((0, 0, 1, 1, 1, 2, 3))))
        else:  # number
            raw = _num(_significant(self._canonical(name, inp, rng), 3))
        at, _ = self._measured(inp, as_of, rng)
        if at is None and inp.max_age is None:
            return raw
        fact: dict[str, Any] = {"value": raw}
        if at is not None:
            fact["at"] = _time_text(at, rng)
        return fact

    # -- bad rows

    def _spoil(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any] | str:
        kind = rng.randrange(5)
        facts = row["facts"]
        quantities = [n for n, i in self.inputs.items()
                      if i.type == "quantity" and i.plausible_max is not None]
        booleans = [n for n, i in self.inputs.items() if i.type == "boolean"]
        if kind == 0:
            return '{"id": "' + row["id"] + '", "facts": {'  # not JSON: cut short
        if kind == 1 and quantities:
            name = rng.choice(quantities)
            inp = self.inputs[name]
            assert inp.plausible_max is not None
            facts[name] = {"value": _num(inp.plausible_max * 10 + 1), "unit": inp.unit}
        elif kind == 2 and quantities:
            facts[rng.choice(quantities)] = {"value": 1, "unit": "[furlong_i]"}
        elif kind == 3 and booleans:
            facts[rng.choice(booleans)] = "yes"
        else:
            return {"facts": facts}  # no id
        return row

    # -- one patient

    def generate(self, i: int) -> dict[str, Any] | str:
        rng = random.Random(f"{self.seed}:{i}")
        dated = rng.random() < self.with_as_of  # a row without as_of is judged at the run's --at (the base)
        as_of = self.base + timedelta(minutes=rng.randint(0, self.spread_minutes)) if dated else self.base
        facts: dict[str, Any] = {}
        for name, inp in self.inputs.items():
            if rng.random() < (self.missing / 3 if inp.required else self.missing):
                continue
            facts[name] = self._value(name, inp, as_of, rng)
        row: dict[str, Any] = {"id": f"p{i:07d}"}
        if dated:
            row["as_of"] = _time_text(as_of, rng)
        row["facts"] = facts
        if self.bad and rng.random() < self.bad:
            return self._spoil(row, rng)
        return row


def generate(
    g: interpreter.Guideline, n: int, *, start: int = 0, **options: Any
) -> Iterator[dict[str, Any] | str]:
    """Patients ``start`` .. ``start + n - 1`` (see ``Generator`` for the options)."""
    gen = Generator(g, **options)
    for i in range(start, start + n):
        yield gen.generate(i)


def row_text(row: dict[str, Any] | str) -> str:
    """One NDJSON line (without its line break); a str row is written as it is (a deliberately bad row)."""
    return row if isinstance(row, str) else json.dumps(row, separators=(",", ":"))


def write_ndjson(rows: Iterator[dict[str, Any] | str] | Sequence[dict[str, Any] | str], path: Path) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(row_text(row) + "\n")
            count += 1
    return count


def write_parquet(rows: Iterator[dict[str, Any] | str] | Sequence[dict[str, Any] | str], path: Path,
                  *, row_group_size: int = 10_000) -> int:
    """Parquet with the columns ``id``, ``as_of`` (text or null) and ``facts`` (the facts as JSON text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids: list[str | None] = []
    as_of: list[str | None] = []
    facts: list[str | None] = []
    for row in rows:
        if isinstance(row, str):
            ids.append(None)
            as_of.append(None)
            facts.append(row)
            continue
        ids.append(row.get("id"))
        as_of.append(row.get("as_of"))
        facts.append(json.dumps(row.get("facts"), separators=(",", ":")))
    table = pa.table({"id": pa.array(ids, pa.string()), "as_of": pa.array(as_of, pa.string()),
                      "facts": pa.array(facts, pa.string())})
    pq.write_table(table, path, row_group_size=row_group_size)
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("guideline", help="a bundled id (leukopenia) or a guideline file")
    p.add_argument("-n", type=int, default=1000, help="how many patients (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="index of the first patient")
    p.add_argument("--as-of", default=None, help="base as-of time (default: the effective start, 09:00Z)")
    p.add_argument("--bad", type=float, default=0.0, help="fraction of invalid rows (default 0)")
    p.add_argument("--format", choices=("ndjson", "parquet"), default=None,
                   help="default: parquet for a .parquet file, else ndjson")
    p.add_argument("-o", "--out", default="-", help="output file (default: standard output, NDJSON)")
    args = p.parse_args(argv)
    g = interpreter.load(args.guideline)
    as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    rows = generate(g, args.n, start=args.start, seed=args.seed, as_of=as_of, bad=args.bad)
    fmt = args.format or ("parquet" if args.out.endswith(".parquet") else "ndjson")
    if args.out == "-":
        if fmt == "parquet":
            p.error("Parquet needs a file (-o FILE)")
        for row in rows:
            sys.stdout.write(row_text(row) + "\n")
        return 0
    if fmt == "parquet":
        write_parquet(rows, Path(args.out))
    else:
        write_ndjson(rows, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
