"""The output registry: every format of every kind of output, each registered once with its kind and name.

Four kinds of output, each a table of formatters:

* ``DIAGNOSTIC_FORMATS`` (a ``ValidationReport``): ``text``, ``json``, ``github``, ``sarif``;
* ``RESULT_FORMATS`` (a ``Result``): ``text``, ``json`` (FHIR and CDS Hooks cards plug in here);
* ``TEST_REPORT_FORMATS`` (a ``TestReport``): ``text``, ``json``, ``junit``;
* ``RENDERING_FORMATS`` (a ``GuidelineModel``): ``markdown``, ``mermaid``.

A formatter is a pure function ``(subject, options) -> str``: it returns the text, ends it with a line break,
and never prints (only the CLI prints). The CLI's ``--format`` choices are the names of a table
(``cli/options.py``), the first name being the default. Adding a format is one function and one line here.

This module and the formatter modules import the subject types only for type checking, so that building
the CLI (``guideline --help``) loads no parser, schema or compiler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from . import diagnostics, render, results, sarif, test_reports
from .options import FormatOptions

if TYPE_CHECKING:
    from ..loading.model import GuidelineModel
    from ..result import Result
    from ..tooling.testing import TestReport
    from ..tooling.validate import ValidationReport

__all__ = [
    "DIAGNOSTIC_FORMATS", "FORMATS", "RENDERING_FORMATS", "RESULT_FORMATS", "TEST_REPORT_FORMATS", "Formats",
    "Formatter", "Kind",
]

Kind = Literal["diagnostics", "results", "test-reports", "renderings"]



SubjectIn = TypeVar("SubjectIn", contravariant=True)
Subject = TypeVar("Subject")


class Formatter(Protocol[SubjectIn]):
    """``formatter(subject, options) -> text``."""

    def __call__(self, subject: SubjectIn, options: FormatOptions = ..., /) -> str: ...


@dataclass(frozen=True, slots=True)
class Formats(Generic[Subject]):
    """The formats of one kind of output, by name, in the order offered (the first is the default)."""

    kind: Kind
    by_name: Mapping[str, Formatter[Subject]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    @property
    def default(self) -> str:
        return next(iter(self.by_name))

    def __getitem__(self, name: str) -> Formatter[Subject]:
        return self.by_name[name]


DIAGNOSTIC_FORMATS: Formats[ValidationReport] = Formats("diagnostics", {
    "text": diagnostics.text_report,
    "json": diagnostics.json_report,
    "github": diagnostics.github_report,
    "sarif": sarif.sarif_report,
})
RESULT_FORMATS: Formats[Result] = Formats("results", {
    "text": results.result_text,
    "json": results.result_json,
})
TEST_REPORT_FORMATS: Formats[TestReport] = Formats("test-reports", {
    "text": test_reports.text_report,
    "json": test_reports.json_report,
    "junit": test_reports.junit_report,
})
RENDERING_FORMATS: Formats[GuidelineModel] = Formats("renderings", {
    "markdown": render.guideline_markdown,
    "mermaid": render.guideline_mermaid,
})

FORMATS: Mapping[Kind, Formats[Any]] = {
    f.kind: f for f in (DIAGNOSTIC_FORMATS, RESULT_FORMATS, TEST_REPORT_FORMATS, RENDERING_FORMATS)
}
