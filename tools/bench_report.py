"""Render the README's performance table from the benchmarks' JSON (issue 12's targets, met or not).

    python tools/bench_evaluate.py --json docs/bench/evaluate.json
    python tools/bench_validate.py --json docs/bench/validate.json
    python tools/bench_report.py [--write]     # prints the table; --write replaces it in README.md

The table lies between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in README.md; nothing in it is
typed by hand.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _ratio(s: dict[str, Any]) -> str:
    lo, hi = s["ratio_range"]
    return f"{s['ratio']:.1f}x ({lo:.1f}-{hi:.1f})"


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "**not met**"


def render(ev: dict[str, Any], va: dict[str, Any]) -> str:
    m = ev["machine"]
    host, core, core_host = ev["host"]["approaches"], ev["core"]["approaches"], ev["core_host"]["approaches"]
    leuk = ev["leukopenia"]["approaches"]
    cli, inproc = va["cli"], va["in_process"]
    off, on = host["engine, trace off"], host["engine, trace on"]
    ch = core_host["engine core, trace off"]
    full = inproc["full, memo caches cleared per file"]
    whole = cli["guideline validate, whole corpus"]
    rows = [
        ("host path, trace off: `json.loads` -> `evaluate()` -> `to_json()` -> `json.dumps`",
         f"{off['us']:.0f} us, {_ratio(off)} the hand-written full path", "<= 1.5x",
         _met(off["ratio"], 1.5)),
        ("the same, trace on", f"{on['us']:.0f} us, {_ratio(on)}", "<= 2.5x", _met(on["ratio"], 2.5)),
        (f"evaluation core, leukopenia-like decision ({ev['core_host']['nodes']} nodes)",
         f"{ch['us']:.1f} us, {_ratio(ch)} hand-written", "<= 3x", _met(ch["ratio"], 3)),
        ("evaluation core, ten-condition decision",
         f"{core['engine core, trace off']['us']:.2f} us, {_ratio(core['engine core, trace off'])}", "-", ""),
        (f"`guideline validate`, {va['corpus']['kib_per_file']:.0f} KiB files, in process, caches cleared",
         f"{full['files_per_second']['median']:.0f} files/s, {full['ratio']['median']:.1f}x libyaml's parse "
         f"({full['ratio']['range'][0]:.1f}-{full['ratio']['range'][1]:.1f})", "<= 1.5x",
         _met(full["ratio"]["median"], 1.5)),
        (f"`guideline validate` CLI over {va['corpus']['files']} files",
         f"{whole['files_per_second']['median']:.0f} files/s, {whole['ratio']['median']:.1f}x libyaml "
         "parsing them in a fresh process", "<= 1.5x", _met(whole["ratio"]["median"], 1.5)),
    ]
    installed = va.get("cli_installed")
    for where, figures in (("work tree, editable install", cli), ("installed wheel", installed)):
        if figures is None:
            continue
        for name, target in (("guideline --help", 6), ("guideline evaluate", 10),
                             ("guideline validate (one file)", 10)):
            s = figures[name]
            rows.append((f"cold start ({where}): `{name}`",
                         f"{s['seconds']['median']:.2f} s, {s['ratio']['median']:.1f}x `python -c pass` "
                         f"({figures['python -c pass']['seconds']['median'] * 1000:.0f} ms)",
                         f"<= {target}x", _met(s["ratio"]["median"], target)))
    mem = ev["memory"]
    rows.append(("memory held per node (leukopenia, tracemalloc)", f"{mem['bytes_per_node'] / 1024:.1f} KiB",
                 "<= 3 KiB", _met(mem["bytes_per_node"] / 1024, 3)))
    rows.append((f"leukopenia {ev['leukopenia']['guideline'].split()[-1]} host path, trace off / on",
                 f"{leuk['engine, trace off']['us']:.0f} / {leuk['engine, trace on']['us']:.0f} us "
                 f"({_ratio(leuk['engine, trace off'])} / {_ratio(leuk['engine, trace on'])} "
                 "`json.loads`+`json.dumps` of the patient)", "-", ""))
    rows.append(("loading leukopenia by id, fresh process", f"{ev['load']['load_by_id_ms']:.0f} ms", "-", ""))
    lines = [
        START,
        f"Measured {m['when'][:10]} on {m['cpu']} ({m['cores']} cores, shared with other work), Python "
        f"{m['python']}: medians of {ev['rounds']} (evaluate) and {va['rounds']} (validate) interleaved "
        "rounds, the range in brackets, every ratio against a baseline timed in the same round "
        "(docs/bench/*.json; `python tools/bench_report.py --write` renders this table).",
        "",
        "| what | measured | target (issue 12) | |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        END,
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaluate", type=pathlib.Path, default=ROOT / "docs" / "bench" / "evaluate.json")
    ap.add_argument("--validate", type=pathlib.Path, default=ROOT / "docs" / "bench" / "validate.json")
    ap.add_argument("--write", action="store_true", help="replace the table in README.md")
    args = ap.parse_args()
    table = render(json.loads(args.evaluate.read_text()), json.loads(args.validate.read_text()))
    if not args.write:
        print(table)
        return 0
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START not in text:
        sys.exit("README.md has no <!-- bench:start --> marker")
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: table, text, flags=re.S)
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
