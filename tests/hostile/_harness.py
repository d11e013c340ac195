"""Drive the real `guideline` CLI with hostile input and classify how each run ended.

Two ways to run the CLI:

- in process, with click's ``CliRunner`` (``from interpreter.cli import main``): fast, for most inputs;
- in a subprocess, ``sys.executable -m interpreter ...``, for streams, sizes and memory: under
  ``resource.setrlimit(RLIMIT_AS, 1 GiB)`` (set in ``preexec_fn``) and a wall-clock timeout of
  ``TIME_LIMIT`` + a start-up margin. The margin is measured once per session (``measure_startup``, used by
  the ``recorder`` fixture of the conftest): 1.25 times the best wall time of two trivial
  ``python -m interpreter list`` runs, at least 0.5 s and at most 1.5 s. On the 2-core CI machine start-up
  is about 0.6 s, so the margin is about 0.75 s: a subprocess is killed, and counts as ``timeout``, when it
  has run for about 5.75 s, i.e. when it needed more than about 5 s of work after start-up.

Every run ends in exactly one outcome. The first three are acceptable; the rest are failures:

``result``
    exit 0 or 1 with a result: ``evaluate`` printed a complete result (text ``RESULT: complete`` / JSON
    ``"status": "complete"``) and exited 0; ``validate`` printed its report ending in the summary line (text
    ``N file(s) checked: ...``, JSON with ``summary``); ``render`` printed a non-empty rendering with exit 0;
    ``lock`` / ``test`` / ``list`` exited 0 or 1.
``cannot-decide``
    ``evaluate`` exited 1 with an incomplete result (text ``RESULT: INCOMPLETE`` and a ``MISSING - cannot
    decide`` section with at least one ``  ? <name>`` line; JSON ``"status": "incomplete"`` with a non-empty
    ``needed_facts`` or a ``cannot_decide`` entry naming what it needs).
``located-error``
    exit 2 and at least one error that says where the problem is (``located``):
      (a) a diagnostic line ``LOC: error[CODE]: MESSAGE`` (``DIAGNOSTIC_RE``) whose LOC is ``file:line:col``
          with line >= 1, or whose LOC is a file or reference named on the command line (a whole-file error
          such as a size limit; ``<stdin>`` for ``-``), or whose MESSAGE quotes one (``no guideline with id
          'x'``), or whose MESSAGE names a fact (``fact '<name>': ...``);
      (b) the same in JSON on stdout (``--format json``): an object with a ``diagnostics`` or ``errors`` list
          of objects with ``code`` and ``message`` that satisfy (a) through their ``file``/``line`` fields;
      (c) click's usage error naming the parameter: ``Error: Invalid value for --at: ...`` (or ``'<PARAM>'``);
      (d) ``evaluation failed: CODE: ...`` where CODE is an error about the as-of time given with ``--at``
          (``AS_OF_CODES``) or a guideline error that names the guideline's node (``in node '<id>'``).
``exit-3``          the internal-error exit code 3.
``traceback``       ``Traceback (most recent call last)`` anywhere in the output, or an exception escaped
                    ``CliRunner`` (it would be a traceback on a terminal).
``timeout``         more than ``TIME_LIMIT`` seconds (a subprocess is killed; an in-process run is timed).
``memory``          ``MemoryError`` in the output, or the subprocess was killed by a signal (under the 1 GiB
                    address-space limit a failed allocation in C aborts the process).
``unlocated-exit-2`` exit 2 without any located error.
``unclassified``    anything else (e.g. ``evaluate`` exiting 1 without naming the facts it needs).

Precedence when several apply: timeout, memory, traceback, exit-3, then the exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from click.testing import CliRunner
from hypothesis import Phase

from interpreter.cli import main

TIME_LIMIT = 5.0
MEMORY_LIMIT = 1 << 30  # 1 GiB of address space for subprocess runs
OK_OUTCOMES = ("result", "cannot-decide", "located-error")
FAILURES = ("exit-3", "traceback", "timeout", "memory", "unlocated-exit-2", "unclassified")
AT = "2026-11-24T09:00:00Z"
#: hypothesis phases of this suite: no shrinking, so a failure on an unfixed branch costs no extra time (and
#: adds no extra records); examples are derandomized, so every branch is tried on the same inputs
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

DIAGNOSTIC_RE = re.compile(
    r"^(?P<loc>.+?): (?P<severity>error|warning)\[(?P<code>[a-z][a-z0-9]*(?:-[a-z0-9]+)*)\]: (?P<msg>.*)$",
    re.MULTILINE,
)
LINE_COL_RE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+)$")
FACT_NAMED_RE = re.compile(r"^fact '.*?'")
USAGE_RE = re.compile(r"^Error: Invalid value for (?:'[^']+'|--?[a-z][a-z-]*|[A-Z_]+):", re.MULTILINE)
AS_OF_CODES = ("guideline-not-effective", "eval-naive-time", "eval-bad-time")
EVAL_FAILED_RE = re.compile(r"^evaluation failed: (?P<code>[a-z][a-z0-9-]*): (?P<msg>.*)$", re.MULTILINE)
VALIDATE_SUMMARY_RE = re.compile(r"^\d+ files? checked: .*$", re.MULTILINE)
# how much of a subprocess's output is kept for classification (the head and the tail)
KEEP_HEAD = 2 << 20
KEEP_TAIL = 256 << 10


@dataclass
class Run:
    args: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    mode: str  # "in-process" or "subprocess"
    timed_out: bool = False
    exception: BaseException | None = None
    named: tuple[str, ...] = ()
    output_bytes: int = 0
    outcome: str = field(default="")

    @property
    def command(self) -> str:
        return self.args[0] if self.args else ""

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def describe(self) -> str:
        def cut(s: str) -> str:
            return s if len(s) < 1500 else s[:700] + "\n[...]\n" + s[-700:]

        return (
            f"outcome {self.outcome} after {self.seconds:.2f}s ({self.mode}), exit {self.exit_code}\n"
            f"args: {self.args!r}\n--- stdout\n{cut(self.stdout)}\n--- stderr\n{cut(self.stderr)}"
            + (f"\n--- exception {self.exception!r}" if self.exception else "")
        )


def _named(args: Sequence[str]) -> tuple[str, ...]:
    """Files and references named on the command line (anything that is not an option or its value)."""
    names: list[str] = []
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a.startswith("--"):
            skip = "=" not in a and a not in ("--explain", "--strict", "--coverage")
            continue
        if a == "-":
            names.append("<stdin>")
        names.append(a)
        if a:
            names.append(str(pathlib.Path(a)))  # the same path as the error prints it ("dir/" -> "dir")
    return tuple(dict.fromkeys(names))


def _diag_located(loc: str, line: int, msg: str, named: tuple[str, ...]) -> bool:
    return line >= 1 or loc in named or bool(FACT_NAMED_RE.match(msg)) or any(f"'{n}'" in msg for n in named)


def located(run: Run) -> bool:
    """True when the output holds at least one located error (rules (a)-(d) of the module docstring)."""
    for m in DIAGNOSTIC_RE.finditer(run.output):
        if m.group("severity") != "error":
            continue
        loc, msg = m.group("loc"), m.group("msg")
        lc = LINE_COL_RE.match(loc)
        line = int(lc.group("line")) if lc else 0
        if _diag_located(lc.group("file") if lc else loc, line, msg, run.named):
            return True
    with contextlib.suppress(ValueError):
        data = json.loads(run.stdout)
        if isinstance(data, dict):
            for key in ("diagnostics", "errors"):
                for d in data.get(key) or ():
                    if not (isinstance(d, dict) and isinstance(d.get("code"), str)):
                        continue
                    line = d.get("line") if isinstance(d.get("line"), int) else 0
                    if _diag_located(str(d.get("file", "")), line, str(d.get("message", "")), run.named):
                        return True
    if USAGE_RE.search(run.stderr):
        return True
    for m in EVAL_FAILED_RE.finditer(run.stderr):
        if m.group("code") in AS_OF_CODES or " in node '" in m.group("msg"):
            return True
    return False


def _names_facts_text(out: str) -> bool:
    if "RESULT: INCOMPLETE" not in out or "\nMISSING - cannot decide\n" not in out:
        return False
    section = out.split("\nMISSING - cannot decide\n", 1)[1]
    return bool(re.match(r"  \? \S", section))


def _names_facts_json(out: str) -> bool | None:
    try:
        data = json.loads(out)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("status") not in ("complete", "incomplete"):
        return None
    if data["status"] == "complete":
        return False
    return bool(data.get("needed_facts")) or any(c.get("needs") for c in data.get("cannot_decide") or ())


def classify(run: Run) -> str:
    out = run.output
    if run.timed_out or (run.mode == "in-process" and run.seconds > TIME_LIMIT):
        return "timeout"
    if "MemoryError" in out or (run.exit_code is not None and run.exit_code < 0):
        return "memory"
    if "Traceback (most recent call last)" in out or run.exception is not None:
        return "traceback"
    code = run.exit_code
    if code == 3:
        return "exit-3"
    if code == 2:
        return "located-error" if located(run) else "unlocated-exit-2"
    if code not in (0, 1):
        return "unclassified"
    cmd = run.command
    if cmd == "evaluate":
        as_json = _names_facts_json(run.stdout)
        if as_json is None:  # text
            if code == 0 and "\nRESULT: complete\n" in run.stdout:
                return "result"
            if code == 1 and _names_facts_text(run.stdout):
                return "cannot-decide"
            return "unclassified"
        status = json.loads(run.stdout)["status"]
        if code == 0 and status == "complete":
            return "result"
        if code == 1 and status == "incomplete" and as_json:
            return "cannot-decide"
        return "unclassified"
    if cmd == "validate":
        if VALIDATE_SUMMARY_RE.search(run.stdout):
            return "result"
        with contextlib.suppress(ValueError):
            if isinstance(json.loads(run.stdout).get("summary"), dict):
                return "result"
        return "unclassified"
    if cmd == "render":
        return "result" if code == 0 and run.stdout.strip() else "unclassified"
    return "result"


# -------------------------------------------------------------------------------------------- running
def run_in_process(
    args: Sequence[str], stdin: str | bytes | None = None, cwd: pathlib.Path | None = None
) -> Run:
    args = [str(a) for a in args]
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        start = time.perf_counter()
        res = CliRunner().invoke(main, args, input=stdin, catch_exceptions=True)
        seconds = time.perf_counter() - start
    exc = res.exception if res.exception is not None and not isinstance(res.exception, SystemExit) else None
    out_b, err_b = res.stdout_bytes, res.stderr_bytes or b""
    run = Run(
        args,
        res.exit_code,
        out_b.decode("utf-8", "backslashreplace"),
        err_b.decode("utf-8", "backslashreplace"),
        seconds,
        "in-process",
        exception=exc,
        named=_named(args),
        output_bytes=len(out_b) + len(err_b),
    )
    run.outcome = classify(run)
    return run


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _read_kept(f: Any) -> tuple[str, int]:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    if size <= KEEP_HEAD + KEEP_TAIL:
        data = f.read()
    else:
        data = f.read(KEEP_HEAD) + b"\n[...]\n"
        f.seek(size - KEEP_TAIL)
        data += f.read()
    return data.decode("utf-8", "backslashreplace"), size


def run_subprocess(
    args: Sequence[str],
    *,
    stdin_path: str | None = None,
    stdin_bytes: bytes | None = None,
    cwd: pathlib.Path | None = None,
    margin: float = 1.0,
) -> Run:
    """Run ``python -m interpreter ARGS`` with 1 GiB of address space and TIME_LIMIT + margin seconds."""
    args = [str(a) for a in args]
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile())
        err = stack.enter_context(tempfile.TemporaryFile())
        if stdin_path is not None:
            stdin: Any = stack.enter_context(open(stdin_path, "rb"))
        elif stdin_bytes is not None:
            stdin = stack.enter_context(tempfile.TemporaryFile())
            stdin.write(stdin_bytes)
            stdin.seek(0)
        else:
            stdin = subprocess.DEVNULL
        start = time.perf_counter()
        timed_out = False
        proc = subprocess.Popen(
            [sys.executable, "-m", "interpreter", *args],
            stdin=stdin,
            stdout=out,
            stderr=err,
            cwd=cwd,
            preexec_fn=_limit_memory,
        )
        try:
            code: int | None = proc.wait(timeout=TIME_LIMIT + margin)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            timed_out, code = True, None
        seconds = time.perf_counter() - start
        stdout, n_out = _read_kept(out)
        stderr, n_err = _read_kept(err)
    run = Run(
        args,
        code,
        stdout,
        stderr,
        seconds,
        "subprocess",
        timed_out=timed_out,
        named=_named(args),
        output_bytes=n_out + n_err,
    )
    run.outcome = classify(run)
    return run


def measure_startup() -> float:
    """Wall time of a trivial CLI run in a subprocess (interpreter start-up and imports)."""
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "interpreter", "list"], capture_output=True, check=False)
        best = min(best, time.perf_counter() - start)
    return best


# -------------------------------------------------------------------------------------------- recording
@dataclass
class Record:
    category: str
    item: str
    input_id: str
    command: str
    mode: str
    outcome: str
    exit_code: int | None
    seconds: float


class Recorder:
    """Collects every outcome of the session; the conftest writes the JSON summary and the count line."""

    def __init__(self, margin: float) -> None:
        self.records: list[Record] = []
        self.margin = margin

    def run(
        self,
        category: str,
        item: str,
        input_id: str,
        args: Sequence[str],
        *,
        stdin: str | bytes | None = None,
        stdin_path: str | None = None,
        cwd: pathlib.Path | None = None,
        subprocess_: bool = False,
    ) -> Run:
        if subprocess_:
            stdin_bytes = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
            run = run_subprocess(
                args, stdin_path=stdin_path, stdin_bytes=stdin_bytes, cwd=cwd, margin=self.margin
            )
        else:
            assert stdin_path is None
            run = run_in_process(args, stdin=stdin, cwd=cwd)
        self.records.append(
            Record(category, item, input_id, run.command, run.mode, run.outcome, run.exit_code, run.seconds)
        )
        return run

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out

    def summary(self) -> dict[str, Any]:
        by_category: dict[str, dict[str, int]] = {}
        by_item: dict[str, dict[str, int]] = {}
        for r in self.records:
            for table, key in ((by_category, r.category), (by_item, r.item)):
                row = table.setdefault(key, {})
                row[r.outcome] = row.get(r.outcome, 0) + 1
        return {
            "tried": len(self.records),
            "outcomes": self.counts(),
            "by_category": by_category,
            "by_item": by_item,
            "time_limit_seconds": TIME_LIMIT,
            "subprocess_startup_margin_seconds": round(self.margin, 3),
            "memory_limit_bytes": MEMORY_LIMIT,
            "failures": [r.__dict__ for r in self.records if r.outcome not in OK_OUTCOMES],
            "records": [r.__dict__ for r in self.records],
        }

    def count_line(self) -> str:
        c = self.counts()
        text = (
            f"hostile inputs: {len(self.records)} tried: {c.get('result', 0)} result, "
            f"{c.get('cannot-decide', 0)} cannot-decide, {c.get('located-error', 0)} located-error"
        )
        bad = [f"{c[k]} {k}" for k in FAILURES if c.get(k)]
        return text + (f"; failures: {', '.join(bad)}" if bad else "")


def assert_ok(run: Run, *, max_output_bytes: int | None = None) -> None:
    """The house rule: a result, a cannot-decide or a located error with exit 2, within TIME_LIMIT."""
    assert run.outcome in OK_OUTCOMES, run.describe()
    # a subprocess over the limit is already a ``timeout``; its wall time includes the start-up margin
    assert run.mode == "subprocess" or run.seconds <= TIME_LIMIT, run.describe()
    if max_output_bytes is not None:
        assert run.output_bytes <= max_output_bytes, f"{run.output_bytes} bytes of output\n{run.describe()}"


@contextlib.contextmanager
def scratch_dir() -> Iterator[pathlib.Path]:
    """A temporary folder usable inside hypothesis examples (function-scoped tmp_path is not)."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as d:
        yield pathlib.Path(d)
