"""The registry of static checks: ``CheckInfo``, the ``rule`` decorator that fills ``RULES``, ``report``.

A rule is a generator ``(model, info) -> diagnostics``; it never raises for bad content. Each is registered
once with ``@rule("its-main-code")`` in the module that defines it (``rules.py``, ``thresholds.py``,
``doses.py``); ``checks.run_checks`` runs them all.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ..codes import CODES, Code
from ..errors import Diagnostic, Location, Path, Severity
from ..lang.compile import CompiledExpression
from ..lang.quantities import Threshold
from ..loading.model import GuidelineModel

__all__ = ["RULES", "CheckInfo", "Rule", "report", "rule"]


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """What the compiler learned that the structural checks need."""

    #: The names (inputs and derived values) each successfully compiled expression reads, by the path of the
    #: expression's value, e.g. ``("nodes", 3, "branches", 0, "when")`` or ``("derived", "bsa", "expr")``.
    #: An expression that failed to compile is absent.
    expr_names: Mapping[Path, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    #: The ``name OP constant`` comparisons of each expression (``CompiledExpression.thresholds``: constants
    #: in the name's declared unit), by the same paths; ``()`` for one that failed to compile. The compiler
    #: fills it for every expression; for a path absent here (a ``CheckInfo`` built by hand, as in tests and
    #: benchmarks) the threshold check compiles the condition itself, reading every name as a plain number.
    thresholds: Mapping[Path, tuple[Threshold, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: Every successfully compiled expression, by the same paths (for ``conditions.py``: constant conditions
    #: are found by evaluating them). A path absent here is not analysed by those rules.
    compiled: Mapping[Path, CompiledExpression] = field(default_factory=lambda: MappingProxyType({}))
    #: A memo for the rules: the syntax tree of a condition's stripped text (None: it does not parse), each
    #: text parsed once per guideline although several rules read it (``thresholds.branch_interval``).
    trees: dict[str, ast.Expression | None] = field(default_factory=dict, compare=False, repr=False)


Rule = Callable[[GuidelineModel, CheckInfo], Iterator[Diagnostic]]

#: Every rule, with the main code it reports (a rule may report more than one code), in registration order.
RULES: list[tuple[str, Rule]] = []


def rule(code: str) -> Callable[[Rule], Rule]:
    """Register the decorated rule in ``RULES`` under its main diagnostic code."""
    def register(check: Rule) -> Rule:
        RULES.append((code, check))
        return check
    return register


def report(model: GuidelineModel, code: str, message: str, path: Path, hint: str | None = None,
           related: Sequence[Location] = (), *, key: bool = False, severity: Severity | None = None,
           ) -> Diagnostic:
    """A diagnostic at ``path`` of the guideline (at its key when ``key``), with the severity the code
    registry gives the code unless ``severity`` says otherwise."""
    sm = model.source_map
    location = sm.key_at(path) if key else sm.at(path)
    if severity is None:
        severity = Severity(CODES[Code(code)].severity)
    return Diagnostic(code, message, location, severity, path, hint, tuple(related))
