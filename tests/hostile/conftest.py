"""Fixtures of the hostile-input suite: the session's outcome recorder, the JSON summary and the count line.

The summary is written to the path in the environment variable ``HOSTILE_REPORT`` (default
``.hostile-report.json`` in the directory pytest runs from) when the session ends; the terminal summary gets
one line, ``hostile inputs: N tried: X result, Y cannot-decide, Z located-error`` (then any failures by kind).
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import pytest

from ._harness import Recorder, measure_startup

_RECORDER = pytest.StashKey[Recorder]()


@pytest.fixture(scope="session")
def recorder(request: pytest.FixtureRequest) -> Recorder:
    """The session's recorder. Subprocess runs get a start-up margin of 1.25 times the measured start-up
    time, at least 0.5 s and at most 1.5 s, on top of the 5 s limit (see tests/hostile/_harness.py)."""
    config = request.config
    if _RECORDER not in config.stash:
        margin = min(1.5, max(0.5, 1.25 * measure_startup()))
        config.stash[_RECORDER] = Recorder(margin)
    return config.stash[_RECORDER]


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    rec = session.config.stash.get(_RECORDER, None)
    if rec is None:
        return
    path = pathlib.Path(os.environ.get("HOSTILE_REPORT", ".hostile-report.json"))
    path.write_text(json.dumps(rec.summary(), indent=1, default=str) + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: Any, config: pytest.Config) -> None:
    rec = config.stash.get(_RECORDER, None)
    if rec is not None:
        terminalreporter.write_line(rec.count_line())
