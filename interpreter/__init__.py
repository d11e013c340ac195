"""Clinical guideline interpreter: versioned YAML decision trees, a strict validator, a fail-closed evaluator.

Typical use::

    import interpreter
    g = interpreter.load("leukopenia")                 # bundled id, or a path to a .guideline.yaml
    result = g.evaluate({"anc": {"value": 0.4, "unit": "10*9/L"}, ...}, as_of=datetime(..., tzinfo=UTC))
    result.to_json()
"""

from typing import TYPE_CHECKING, Any

# The public names are imported on first use (PEP 562), so `import interpreter` and `guideline --help` do not
# load jsonschema, yaml or the compiler until a guideline is loaded.
if TYPE_CHECKING:
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
    from .facts.json import parse_facts_json
    from .result import Result
    from .values.unknown import UNKNOWN

#: public name -> the submodule that defines it
_LAZY: dict[str, str] = {
    "Guideline": "api",
    "load": "api",
    "Diagnostic": "errors",
    "EvaluationError": "errors",
    "FactsError": "errors",
    "GuidelineError": "errors",
    "InterpreterError": "errors",
    "Location": "errors",
    "Severity": "errors",
    "UNKNOWN": "values.unknown",
    "parse_facts_json": "facts.json",
    "Result": "result",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
