"""Test report formats of a ``TestReport`` (registered in ``registry.TEST_REPORT_FORMATS``).

* ``text``: a ``FAIL file:line:col: name`` line and the indented differences for each failed case, the
  coverage of each guideline (with ``show_coverage``), then ``N passed, M failed``. The diagnostics of test
  files that could not be run are not part of it: the CLI writes them on standard error.
* ``json``: passed and failed counts, file errors, every case with its differences, and the coverage
  (``condition_coverage`` too when it was gathered).
* ``junit``: JUnit XML, what CI systems read: ``testsuites`` > one ``testsuite`` per test file > one
  ``testcase`` per case, with a ``failure`` element (the differences) for a failed case; a test file that
  could not be run gets one ``testcase`` holding an ``error`` element (its diagnostics).

Echoed text is made safe for its format (``textsafe``); the XML holds no character XML 1.0 forbids.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..textsafe import escape_surrogates, safe_block, safe_line
from .options import PLAIN, FormatOptions

if TYPE_CHECKING:
    from collections.abc import Iterable
    from xml.etree import ElementTree

    from ..runtime.trace import CoverageTracer
    from ..tooling.condition_coverage import ConditionCoverage
    from ..tooling.testing import FileOutcome, TestReport

__all__ = ["below_minimum_text", "json_report", "junit_report", "text_report"]


def _coverage_lines(cov: CoverageTracer) -> list[str]:
    lines = [
        f"coverage {cov.guideline}: {cov.percent:.1f}% "
        f"(nodes {sum(cov.nodes.values())}/{len(cov.nodes)}, "
        f"branches {sum(cov.branches.values())}/{len(cov.branches)}, "
        f"recommendations {sum(cov.recommendations.values())}/{len(cov.recommendations)})"
    ]
    for kind, items in cov.missed().items():
        if items:
            lines.append(f"  not reached ({kind}): {safe_line(', '.join(items))}")
    return lines


def _condition_lines(cc: ConditionCoverage) -> list[str]:
    atoms = cc.all_atoms()
    lines = [f"condition coverage {cc.guideline}: {cc.percent:.1f}% ({cc.reached}/{cc.total} outcomes: "
             f"{len(atoms)} atoms, each true, false and unknown)"]
    for key, missing in cc.missed().items():
        lines.append(f"  not seen {'/'.join(missing)}: {safe_line(key)}")
    return lines


def text_report(report: TestReport, options: FormatOptions = PLAIN) -> str:
    lines: list[str] = []
    for f in report.files:
        for c in f.cases:
            if not c.passed:
                lines.append(f"FAIL {safe_line(c.location)}: {safe_line(c.name)}")
                lines.extend(f"    {safe_line(line)}" for line in c.diff)
    for f in report.files:
        for (first, second), names in f.conflicts_reached().items():
            lines.append(
                f"conflict reached: {safe_line(first)} / {safe_line(second)} (recommendation-conflict) in "
                f"{len(names)} case(s) of {safe_line(f.file)}: {safe_line(', '.join(names[:3]))}"
                + (", ..." if len(names) > 3 else "")
            )
    if options.show_coverage:
        for cov in report.coverage.values():
            lines.extend(_coverage_lines(cov))
        for cc in report.conditions.values():
            lines.extend(_condition_lines(cc))
    lines.append(
        f"{report.passed} passed, {report.failed} failed"
        + (f", {len(report.errors)} file errors" if report.errors else "")
    )
    return "\n".join(lines) + "\n"


def below_minimum_text(below: Iterable[CoverageTracer | ConditionCoverage], minimum: float,
                       what: str = "coverage") -> str:
    """One line for each guideline whose coverage is below ``minimum`` (percent); empty when none is."""
    return "".join(
        f"{what} of {cov.guideline} is {cov.percent:.1f}%, below the minimum {minimum:g}%\n"
        for cov in below
    )


def json_report(report: TestReport, options: FormatOptions = PLAIN) -> str:
    data: dict[str, Any] = {
        "passed": report.passed,
        "failed": report.failed,
        "errors": [d.to_json() for d in report.errors],
        "files": [
            {
                "file": f.file,
                "cases": [
                    {"name": c.name, "passed": c.passed, "line": c.location.line, "diff": list(c.diff)}
                    for c in f.cases
                ],
                "conflicts_reached": [
                    {"recommendations": list(pair), "cases": names}
                    for pair, names in f.conflicts_reached().items()
                ],
            }
            for f in report.files
        ],
        "coverage": [c.to_json() for c in report.coverage.values()],
    }
    if report.conditions:
        data["condition_coverage"] = [c.to_json() for c in report.conditions.values()]
    return escape_surrogates(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


#: Characters XML 1.0 does not allow, once ``textsafe`` has escaped controls and lone surrogates.
_NOT_XML = re.compile("[\ufffe\uffff]")


def _xml_text(text: object, *, block: bool = False) -> str:
    safe = safe_block(text, "") if block else safe_line(text)
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", safe)


def _suite(f: FileOutcome) -> ElementTree.Element:
    from xml.etree import ElementTree

    failures = sum(not c.passed for c in f.cases)
    errors = 1 if f.diagnostics else 0
    suite = ElementTree.Element("testsuite", {
        "name": _xml_text(f.file), "tests": str(len(f.cases) + errors), "failures": str(failures),
        "errors": str(errors),
    })
    for c in f.cases:
        case = ElementTree.SubElement(suite, "testcase", {
            "name": _xml_text(c.name), "classname": _xml_text(f.file), "file": _xml_text(c.location.file),
            "line": str(c.location.line),
        })
        if not c.passed:
            failure = ElementTree.SubElement(case, "failure", {
                "message": _xml_text(c.diff[0] if c.diff else "the case failed"), "type": "mismatch",
            })
            failure.text = "\n".join(_xml_text(line) for line in c.diff)
    if f.diagnostics:
        case = ElementTree.SubElement(suite, "testcase", {
            "name": "(test file)", "classname": _xml_text(f.file),
        })
        first = f.diagnostics[0]
        error = ElementTree.SubElement(case, "error", {
            "message": _xml_text(first.message), "type": _xml_text(first.code),
        })
        error.text = "\n".join(_xml_text(d.format(), block=True) for d in f.diagnostics)
    return suite


def junit_report(report: TestReport, options: FormatOptions = PLAIN) -> str:
    from xml.etree import ElementTree  # on first need: only --format junit uses it

    suites = [_suite(f) for f in report.files]
    root = ElementTree.Element("testsuites", {
        "name": "guideline test",
        "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
        "failures": str(report.failed),
        "errors": str(sum(int(s.get("errors", "0")) for s in suites)),
    })
    if report.conditions:  # JUnit has no coverage element: properties, which CI systems show
        props = ElementTree.SubElement(root, "properties")
        for cc in report.conditions.values():
            ElementTree.SubElement(props, "property", {
                "name": _xml_text(f"condition-coverage {cc.guideline}"), "value": f"{cc.percent:.1f}",
            })
    root.extend(suites)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
