"""Check that what users get is byte-identical between two versions of the code.

A restructuring (or a speed change) must not change any output. This tool takes a snapshot of every output a
user can see, produced by the code of a git revision and by the code of the work tree, and compares them:

- the result JSON (``Result.to_json()``) of every case of every bundled ``*.tests.yaml``
  (or the error it raises);
- ``guideline validate --format json`` and ``--format text`` of every diagnostic fixture's files
  (``tests/fixtures/invalid/<code>/``: the paths and lock its ``expected.json`` names, default
  ``guideline.yaml``) and of the bundled library;
- ``guideline render`` (Markdown and Mermaid) of every bundled guideline;
- ``guideline evaluate --explain`` (text) and ``--format json`` of every example patient.

Usage::

    python tools/check_identical.py --against main~3   # both snapshots; prints the differences, exit 1 if any
    python tools/check_identical.py --dump OUT.json     # the snapshot of the code on sys.path (for --against)

Both snapshots run this same file in a fresh interpreter, each with its own code first on ``sys.path``, over
the *work tree's* guidelines, fixtures and examples, so only the code differs.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
AT = "2026-11-24T09:00:00Z"


def _cli(args: list[str], stdin: str | None = None) -> dict[str, Any]:
    from click.testing import CliRunner

    from interpreter.cli import main

    result = CliRunner().invoke(main, args, input=stdin, catch_exceptions=True)
    out: dict[str, Any] = {"exit": result.exit_code, "stdout": result.stdout}
    with contextlib.suppress(ValueError):  # click < 8.2 mixes stderr into stdout
        out["stderr"] = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        out["exception"] = repr(result.exception)
    return out


def _cases(data: pathlib.Path) -> dict[str, Any]:
    import yaml

    import interpreter

    snap: dict[str, Any] = {}
    for tests in sorted(data.glob("guidelines/**/*.tests.yaml")):
        doc = yaml.safe_load(tests.read_text(encoding="utf-8"))
        g = interpreter.load(tests.parent / doc["guideline"])
        for i, case in enumerate(doc.get("cases") or []):
            key = f"{tests.relative_to(data)}#{i}:{case.get('name')}"
            at = _as_of(case.get("at") or doc.get("at"))
            try:
                facts = interpreter.parse_facts_json(json.dumps(case.get("facts") or {}, default=str))
                snap[key] = g.evaluate(facts, at).to_json()
            except interpreter.InterpreterError as exc:
                snap[key] = {"error": type(exc).__name__, "text": str(exc)}
    return snap


def _as_of(text: Any) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def dump(out: pathlib.Path, data: pathlib.Path) -> None:
    import interpreter

    code = pathlib.Path(interpreter.__file__).resolve().parent.parent
    if code != pathlib.Path.cwd().resolve():
        sys.exit(f"check_identical: imported the interpreter from {code}, not from {pathlib.Path.cwd()}")
    os.chdir(data)  # paths in diagnostics are relative to the data tree, identical for both snapshots
    snap: dict[str, Any] = {"cases": _cases(data)}
    # the fixture's files, as tests/test_validate.py runs them (its expected.json's `paths`, default
    # guideline.yaml, and `lock`): validating the folder would find no `*.guideline.yaml` in it and give
    # `no-guideline-files`, which would hide every change of a diagnostic (the CLI runs with the default
    # loader limits: a fixture's `limits` are not applied)
    for folder in sorted(p for p in pathlib.Path("tests/fixtures/invalid").iterdir() if p.is_dir()):
        expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        args = [str(folder / p) for p in expected.get("paths", ["guideline.yaml"])]
        if "lock" in expected:
            args += ["--lock", str(folder / expected["lock"])]
        for fmt in ("json", "text"):
            snap[f"validate {folder} --format {fmt}"] = _cli(["validate", *args, "--format", fmt])
    snap["validate guidelines"] = _cli(["validate", "guidelines", "--format", "json"])
    for gid in sorted({p.name for p in pathlib.Path("guidelines").iterdir() if p.is_dir()}):
        snap[f"render {gid}"] = _cli(["render", gid])
        snap[f"render {gid} mermaid"] = _cli(["render", gid, "--format", "mermaid"])
    for example in sorted(pathlib.Path("examples").glob("*.json")):
        for extra in (["--explain"], ["--format", "json"]):
            snap[f"evaluate {example} {' '.join(extra)}"] = _cli(
                ["evaluate", "leukopenia", str(example), "--at", AT, *extra]
            )
    out.write_text(json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=True) + "\n", encoding="utf-8")


def _snapshot(code: pathlib.Path, out: pathlib.Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--dump", str(out), "--data", str(ROOT)]
    subprocess.run(cmd, check=True, env=env, cwd=code)


def against(rev: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = pathlib.Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old_tree), rev], check=True
        )
        try:
            old, new = pathlib.Path(tmp) / "old.json", pathlib.Path(tmp) / "new.json"
            _snapshot(old_tree, old)
            _snapshot(ROOT, new)
            a, b = json.loads(old.read_text()), json.loads(new.read_text())
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], check=True
            )
    return _compare(a, b, rev)


def _compare(a: dict[str, Any], b: dict[str, Any], rev: str) -> int:
    flat_a, flat_b = _flatten(a), _flatten(b)
    differ = sorted(k for k in flat_a.keys() | flat_b.keys() if flat_a.get(k) != flat_b.get(k))
    for key in differ[:20]:
        old, new = _lines(flat_a.get(key)), _lines(flat_b.get(key))
        print(f"--- {key}")
        print("\n".join(list(difflib.unified_diff(old, new, rev, "work tree", lineterm="", n=1))[:40]))
    print(f"{len(flat_b)} outputs compared with {rev}: {len(differ)} differ")
    return 1 if differ else 0


def _lines(value: Any) -> list[str]:
    """A value as lines to diff: strings of several lines (a report) split at their line breaks."""
    if isinstance(value, dict):
        return [f"{k}: {line}" for k in sorted(value) for line in _lines(value[k])]
    if isinstance(value, str) and "\n" in value:
        return value.splitlines()
    return json.dumps(value, indent=1, sort_keys=True).splitlines()


def _flatten(snap: dict[str, Any]) -> dict[str, Any]:
    flat = {f"case {k}": v for k, v in snap.get("cases", {}).items()}
    flat.update({k: v for k, v in snap.items() if k != "cases"})
    return flat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--against", metavar="REV", help="compare the work tree's code with REV's")
    group.add_argument(
        "--dump", metavar="OUT", type=pathlib.Path, help="write the snapshot of the code on sys.path"
    )
    parser.add_argument(
        "--data", type=pathlib.Path, default=ROOT, help="the tree whose guidelines, fixtures are used"
    )
    args = parser.parse_args()
    if args.dump:
        dump(args.dump.resolve(), args.data.resolve())
        return 0
    return against(args.against)


if __name__ == "__main__":
    sys.exit(main())
