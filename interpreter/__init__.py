"""Clinical guideline interpreter: versioned YAML decision trees, a strict validator, a fail-closed evaluator.

Typical use::

    import interpreter
    g = interpreter.load("leukopenia")                 # bundled id, or a path to a .guideline.yaml
    result = g.evaluate({"anc": {"value": 0.4, "unit": "10*9/L"}, ...}, as_of=datetime(..., tzinfo=UTC))
    result.to_json()
"""

from .api import Guideline, load
from .errors import (
    Diagnostic,
    EvaluationError,
    FactsError,
    GuidelineError,
    InterpreterError,
    Location,
    Severity,
)
from .expressions import UNKNOWN
from .facts import parse_facts_json
from .result import Result

__all__ = [
    "UNKNOWN",
    "Diagnostic",
    "EvaluationError",
    "FactsError",
    "Guideline",
    "GuidelineError",
    "InterpreterError",
    "Location",
    "Result",
    "Severity",
    "load",
    "parse_facts_json",
]

__version__ = "0.1.0"
