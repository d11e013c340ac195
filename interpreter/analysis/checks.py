"""Static checks over a guideline model: ``run_checks(model, info)`` runs every registered rule.

The rules live by subject, each registered once with ``@rule`` (``registry.py``) on import:

* ``rules.py``: identity and references, the node graph, choice completeness, lifecycle, ``unused-input``;
* ``thresholds.py``: ``threshold-gap``, ``threshold-overlap``, ``threshold-impossible`` (on ``intervals.py``);
* ``doses.py``: ``dose-number-range``;
* ``conditions.py``: ``threshold-implausible``, ``condition-constant``, ``chained-equality``;
* ``fhir_bindings.py``: ``input-fhir-binding`` (an input's FHIR binding fits its type).
* ``precedence.py``: ``supersedes-unknown``, ``supersedes-cycle``;
* ``conflicts.py``: ``recommendation-conflict``;
* ``duplicates.py``: ``duplicate-value`` (a value repeated in a list that is a set in meaning).

``info`` carries what only the compiler knows (the names each expression reads); a rule never raises for bad
content. Codes are documented in docs/diagnostics.md.
"""

from __future__ import annotations

from ..errors import Diagnostic, sort_diagnostics
from ..loading.model import GuidelineModel
from . import conditions, conflicts, doses, duplicates, fhir_bindings, precedence, rules, scores, thresholds
from .registry import RULES, CheckInfo

__all__ = ["run_checks"]

#: The modules whose rules ``run_checks`` runs (importing them registers their rules in ``RULES``).
RULE_MODULES = (rules, thresholds, doses, scores, precedence, conflicts, fhir_bindings, conditions,
                duplicates)


def run_checks(model: GuidelineModel, info: CheckInfo) -> list[Diagnostic]:
    """Run every rule of ``RULES`` over ``model``; diagnostics sorted by location."""
    out: list[Diagnostic] = []
    for _code, check in RULES:
        out.extend(check(model, info))
    return sort_diagnostics(out)
