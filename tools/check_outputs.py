"""Check that a speed change changes nothing users get: every output of the work tree's code against REV's.

    python tools/check_outputs.py --against main [--patients 10000]

Compares, between the code of git revision REV and the work tree's code (each run in a fresh interpreter
with its own code first on ``sys.path``, over the work tree's guidelines and data, so only the code differs):

- everything ``tools/check_identical.py`` compares: the result JSON of every case of every
  bundled ``*.tests.yaml``, ``guideline validate`` of every diagnostic fixture and of the library,
  ``guideline render`` and ``guideline evaluate`` of every example;
- the digest of the ``json.dumps(Result.to_json())`` text, trace on and off, of ``--patients`` generated
  patients
  (tools/gen_patients.py, seed 20, bad rows included) for every bundled guideline and the benchmark
  decisions, or the error each raises. The patients are generated once, by the work tree's generator, so
  both versions get the same input.

Prints each difference (at most 20) and ``N outputs compared with REV: K differ``; exit 1 when K > 0.
Every optimisation must pass it with 0 differ; a deliberate format change is a separate, documented commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDELINES = [
    "guidelines/leukopenia/leukopenia.guideline.yaml",
    "guidelines/leukopenia/leukopenia-1.0.0.guideline.yaml",
    "guidelines/khorana/khorana.guideline.yaml",
    "tools/bench/host.guideline.yaml",
]


def make_patients(data: pathlib.Path, n: int, out: pathlib.Path) -> None:
    """The patients of every guideline as NDJSON lines ``[guideline, as_of, facts text]``."""
    sys.path.insert(0, str(data / "tools"))
    from gen_patients import Generator

    import interpreter

    with out.open("w", encoding="utf-8") as fh:
        for path in GUIDELINES:
            if not (data / path).is_file():
                continue
            gen = Generator(interpreter.load(data / path), seed=20, bad=0.02)
            for i in range(n):
                row = gen.generate(i)
                if isinstance(row, str):  # a row that is not JSON: the engine never sees it
                    continue
                as_of = row.get("as_of") or gen.base.isoformat()
                fh.write(json.dumps([path, as_of, json.dumps(row.get("facts"))]) + "\n")


def dump_patients(data: pathlib.Path, patients: pathlib.Path) -> dict[str, str]:
    """Each patient's output (trace off and on) with the code on sys.path; long outputs kept as digests."""
    from datetime import datetime

    import interpreter

    loaded: dict[str, Any] = {}
    out: dict[str, str] = {}
    for i, line in enumerate(patients.read_text(encoding="utf-8").splitlines()):
        path, as_of, facts = json.loads(line)
        g = loaded.get(path) or loaded.setdefault(path, interpreter.load(data / path))
        for trace in (False, True):
            try:
                text = json.dumps(g.evaluate(json.loads(facts), datetime.fromisoformat(as_of),
                                             trace=trace).to_json())
            except interpreter.InterpreterError as exc:
                text = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a crash is an output too, and must not differ silently
                text = f"CRASH {type(exc).__name__}: {exc}"
            # a digest of the exact text: 80,000 outputs of several KiB each would not fit in memory twice
            out[f"patient {path}#{i} trace={trace}"] = hashlib.sha256(text.encode()).hexdigest()
    return out


def dump(out: pathlib.Path, data: pathlib.Path, patients: pathlib.Path) -> None:
    sys.path.insert(0, str(data / "tools"))
    import check_identical

    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp) / "identical.json"
        check_identical.dump(base, data)
        snap = json.loads(base.read_text(encoding="utf-8"))
    snap["patients"] = dump_patients(data, patients)
    out.write_text(json.dumps(snap, sort_keys=True) + "\n", encoding="utf-8")


def _snapshot(code: pathlib.Path, out: pathlib.Path, patients: pathlib.Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--dump", str(out), "--data", str(ROOT),
           "--patients-file", str(patients)]
    subprocess.run(cmd, check=True, env=env, cwd=code)


def against(rev: str, n: int) -> int:
    sys.path.insert(0, str(ROOT / "tools"))
    import check_identical

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = pathlib.Path(tmp)
        patients = tmpdir / "patients.ndjson"
        make_patients(ROOT, n, patients)
        old_tree = tmpdir / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old_tree), rev],
                       check=True)
        try:
            old, new = tmpdir / "old.json", tmpdir / "new.json"
            _snapshot(old_tree, old, patients)
            _snapshot(ROOT, new, patients)
            a, b = json.loads(old.read_text()), json.loads(new.read_text())
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)],
                           check=True)
    pa, pb = a.pop("patients"), b.pop("patients")
    a.update(pa)
    b.update(pb)
    return check_identical._compare(a, b, rev)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--against", metavar="REV", help="compare the work tree's code with REV's")
    group.add_argument("--dump", metavar="OUT", type=pathlib.Path,
                       help="write the snapshot of the code on sys.path")
    parser.add_argument("--data", type=pathlib.Path, default=ROOT)
    parser.add_argument("--patients", type=int, default=10_000, help="generated patients per guideline")
    parser.add_argument("--patients-file", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump:
        dump(args.dump.resolve(), args.data.resolve(), args.patients_file)
        return 0
    return against(args.against, args.patients)


if __name__ == "__main__":
    sys.exit(main())
