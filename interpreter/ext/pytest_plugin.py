"""A pytest plugin: every ``*.tests.yaml`` file pytest is pointed at becomes one test item per case.

Installed with the package as a ``pytest11`` entry point, so ``pytest guidelines/`` runs the guideline cases
next to the project's own tests, and ``pytest guidelines/ -k "pounds"`` selects cases by name. The cases run
through the same runner as ``guideline test`` (``interpreter.tooling.testing``), so a case that passes there
passes here. Each file also gets an item ``[test file]`` that fails when the file itself has a problem no
case owns (its YAML or schema, the guideline failing to load, two cases with one name).

Turn collection off with the ini option ``guideline_tests = false`` (e.g. for a repository whose
``*.tests.yaml`` files are something else).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from ..codes import Code
from ..compiler.guideline import CompiledGuideline
from ..loading.source import load_yaml, read_capped
from ..tooling.testing import TESTS_GLOB, FileOutcome, run_test_file

FILE_ITEM = "[test file]"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("guideline_tests", "collect *.tests.yaml guideline test files (one item per case)",
                  type="bool", default=True)


def pytest_collect_file(file_path: pathlib.Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.match(TESTS_GLOB) and parent.config.getini("guideline_tests"):
        return GuidelineTestFile.from_parent(parent, path=file_path)
    return None


class CaseFailed(Exception):
    """A case (or the file) failed: its readable differences."""


class GuidelineTestFile(pytest.File):
    """One test file; it is run once, when its first item runs (cheap: the guideline is loaded once per
    session)."""

    _outcome: FileOutcome | None = None

    def outcome(self) -> FileOutcome:
        if self._outcome is None:
            cache: dict[pathlib.Path, CompiledGuideline] = self.config.stash.setdefault(_GUIDELINES, {})
            self._outcome = run_test_file(self.path, guidelines=cache)
        return self._outcome

    def collect(self) -> Iterator[pytest.Item]:
        names: dict[str, int] = {}
        raw, _ = read_capped(self.path)
        doc, sm, _ = load_yaml(raw, str(self.path)) if raw is not None else (None, None, [])
        cases = doc.get("cases") if isinstance(doc, dict) else None
        if isinstance(cases, list) and sm is not None:
            for i, case in enumerate(cases):
                name = case.get("name") if isinstance(case, dict) else None
                if isinstance(name, str) and name not in names:
                    names[name] = sm.at(("cases", i)).line
        for name, line in names.items():
            yield GuidelineCase.from_parent(self, name=name, line=line)
        yield GuidelineFileCheck.from_parent(self, name=FILE_ITEM)


_GUIDELINES = pytest.StashKey[dict[pathlib.Path, CompiledGuideline]]()


class _Item(pytest.Item):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    @property
    def file(self) -> GuidelineTestFile:
        parent = self.parent
        assert isinstance(parent, GuidelineTestFile)
        return parent


class GuidelineCase(_Item):
    def __init__(self, *, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line = line

    def runtest(self) -> None:
        outcome = self.file.outcome()
        for case in outcome.cases:
            if case.name == self.name:
                if not case.passed:
                    raise CaseFailed(f"{case.location}: {case.name}\n    " + "\n    ".join(case.diff))
                return
        problems = "\n".join(d.format() for d in outcome.diagnostics)
        raise CaseFailed(f"the case was not run: the test file has problems\n{problems}")

    def reportinfo(self) -> tuple[pathlib.Path, int, str]:
        return self.path, self.line - 1, f"case: {self.name}"


class GuidelineFileCheck(_Item):
    def runtest(self) -> None:
        outcome = self.file.outcome()
        # unknown names belong to their case, which fails with them; the rest is the file's
        own = [d for d in outcome.diagnostics if d.code not in (Code.TEST_UNKNOWN_FACT, Code.TEST_UNKNOWN_ID)]
        if own:
            raise CaseFailed("\n".join(d.format() for d in own))

    def reportinfo(self) -> tuple[pathlib.Path, int, str]:
        return self.path, 0, f"test file: {self.path.name}"
