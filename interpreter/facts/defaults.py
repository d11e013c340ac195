"""Defaults of optional inputs (``default:``), checked once at load and used only for an absent fact.

A default is written as the host would send the value: a number in the input's ``unit`` (quantity, number),
``true``/``false``, a word of the list (code), a list of words (code-set). It is checked at load by the
input's own fact checker, so it meets every rule a host's value meets (plausible range, code list, type);
a default on a required input, or on a datetime or series input, is refused.

At evaluation (``FactChecker.check``) the default replaces a fact that is **absent** (not sent, or sent as
``null``): never a stale, undated, implausible or refused value, which stays unknown or an error. The result
lists every value assumed (``Result.assumed``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final

from ..codes import Code
from ..errors import Diagnostic, Location, Path
from ..loading.model import Input
from ..values import units
from .kinds import CheckContext, NullValue, make_check
from .values import BadFact

__all__ = ["DEFAULT_KINDS", "DefaultProblem", "default_diagnostics", "default_value", "usable_defaults"]

#: The input types that may declare a default.
DEFAULT_KINDS: Final = frozenset({"number", "quantity", "boolean", "code", "code-set"})

_CTX: Final = CheckContext(datetime(2000, 1, 1, tzinfo=UTC), UTC, 0, 1000)


class DefaultProblem(Exception):
    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def default_value(inp: Input) -> object:
    """The run-time value of ``inp``'s default (as a host's value is checked), or ``DefaultProblem``."""
    if inp.required:
        raise DefaultProblem(
            Code.INPUT_DEFAULT_REQUIRED,
            f"input '{inp.name}' is required and has a default; a required fact must be sent",
            "remove `default:`, or make the input optional (remove `required: true`)",
        )
    if inp.type not in DEFAULT_KINDS:
        raise DefaultProblem(
            Code.INPUT_DEFAULT_INVALID,
            f"input '{inp.name}': a {inp.type} input cannot have a default",
            "defaults are for number, quantity, boolean, code and code-set inputs",
        )
    raw = inp.default
    if raw is None:
        raise DefaultProblem(
            Code.INPUT_DEFAULT_INVALID,
            f"input '{inp.name}': the default is empty (null)",
            "write the value, or remove `default:`",
        )
    if inp.type == "quantity":
        if isinstance(raw, dict | list):
            raise DefaultProblem(
                Code.INPUT_DEFAULT_INVALID,
                f"input '{inp.name}': the default must be a number in the input's unit ({inp.unit})",
            )
        raw = {"value": raw, "unit": inp.unit}
    elif isinstance(raw, dict):
        raise DefaultProblem(
            Code.INPUT_DEFAULT_INVALID,
            f"input '{inp.name}': the default is written as the value alone, not as an object",
        )
    try:
        value, _, _ = make_check(inp)(raw, _CTX)
    except NullValue:  # pragma: no cover - a null default is refused above
        raise DefaultProblem(Code.INPUT_DEFAULT_INVALID, f"input '{inp.name}': the default is null") from None
    except BadFact as bad:
        raise DefaultProblem(
            Code.INPUT_DEFAULT_INVALID,
            f"input '{inp.name}': the default is not a valid value: {bad.message}",
            bad.hint,
        ) from None
    except units.UnitError as exc:
        raise DefaultProblem(Code.INPUT_DEFAULT_INVALID, f"input '{inp.name}': {exc.message}") from None
    return value


def default_diagnostics(inputs: Mapping[str, Input], at: Callable[[Path], Location]) -> list[Diagnostic]:
    """A located diagnostic for every default that cannot be used (at the ``default:`` key's value)."""
    out: list[Diagnostic] = []
    for inp in inputs.values():
        if not inp.has_default:
            continue
        try:
            default_value(inp)
        except DefaultProblem as p:
            path: Path = (*inp.path, "default")
            out.append(Diagnostic(p.code, p.message, at(path), path=path, hint=p.hint))
    return out


def usable_defaults(inputs: Mapping[str, Input]) -> dict[str, object]:
    """name -> run-time value of every default that passes (a guideline with a bad one never loads)."""
    out: dict[str, object] = {}
    for name, inp in inputs.items():
        if inp.has_default:
            try:
                out[name] = default_value(inp)
            except DefaultProblem:
                continue
    return out
