"""Progress of a batch: a tqdm bar on a terminal, plain lines otherwise (a log, CI, a pipe).

tqdm rather than rich: one small pure-Python package without dependencies, whose bar handles a terminal's
width, rate and time left; rich would bring its own rendering stack for one bar.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

__all__ = ["PlainProgress", "TqdmProgress", "make_progress"]


class TqdmProgress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: Any = None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            unit="rows",
            file=self.stream,
            unit_scale=True,
            dynamic_ncols=True,
            smoothing=0.1,
            desc="batch",
        )

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class PlainProgress:
    """One line per tenth of the rows done (and the last): ``batch: 40000/100000 rows (40%), 9120 rows/s``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0
        self.step = 0
        self.started = time.perf_counter()

    def start(self, total: int) -> None:
        self.total = total
        self.started = time.perf_counter()

    def advance(self, rows: int) -> None:
        self.done += rows
        step = self.done * 10 // self.total if self.total else 10
        if step > self.step:
            self.step = step
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            percent = self.done * 100 // self.total if self.total else 100
            self.stream.write(f"batch: {self.done}/{self.total} rows ({percent}%), {rate:.0f} rows/s\n")
            self.stream.flush()

    def close(self) -> None:
        pass


def make_progress(stream: TextIO, *, bar: bool | None = None) -> TqdmProgress | PlainProgress:
    """A bar when ``bar`` (default: when ``stream`` is a terminal), else plain lines."""
    if bar is None:
        try:
            bar = stream.isatty()
        except (AttributeError, ValueError):
            bar = False
    return TqdmProgress(stream) if bar else PlainProgress(stream)
