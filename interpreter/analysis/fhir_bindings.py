"""The static check of FHIR R4 bindings (an input's `fhir:` key, issue 10): each binding fits its input.

The JSON Schema checks the shape of a binding; this rule checks what the schema cannot: that the resource can
answer the input's type (an Observation's valueQuantity for a quantity or a series, Patient.birthDate for an
age in years, an active medication or Condition for a boolean or a code), that each key belongs to that
resource, and that the values of a code input's map are the input's own. ``binding_problems`` is shared with
the site binding files of ``interpreter.ext.fhir`` (the same checks, whichever file a binding comes from).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from ..codes import Code
from ..errors import Diagnostic, Path
from ..loading.model import GuidelineModel, Input
from .registry import CheckInfo, report, rule

__all__ = ["MAX_CODES", "MEDICATION_RESOURCES", "binding_problems", "resources_of"]

MEDICATION_RESOURCES = ("MedicationRequest", "MedicationStatement")
#: The most codes one list of a binding may hold (docs/api.md, "Limits").
MAX_CODES = 200
#: The keys each kind of resource accepts (besides `resource` and `note`).
_KEYS: Mapping[str, frozenset[str]] = {
    "Observation": frozenset({"codes", "count", "window"}),
    "Patient": frozenset(),
    "MedicationRequest": frozenset({"codes", "values", "absent_is_false"}),
    "MedicationStatement": frozenset({"codes", "values", "absent_is_false"}),
    "Condition": frozenset({"codes", "values", "absent_is_false"}),
}

Problem = tuple[str, Path, str | None]


def resources_of(binding: Mapping[str, Any]) -> tuple[str, ...]:
    """The resource types of a binding (none for an asserted input)."""
    res = binding.get("resource")
    if res is None:
        return ()
    return (res,) if isinstance(res, str) else tuple(res)


def binding_problems(inp: Input, binding: Mapping[str, Any]) -> list[Problem]:
    """What is wrong with ``binding`` for ``inp``: (message, path under the binding, hint) each."""
    if binding.get("asserted") is False:
        return [
            ("`asserted: false` says nothing", ("asserted",), "write `asserted: true`, or bind a resource")
        ]
    if binding.get("asserted"):
        extra = sorted(set(binding) - {"asserted", "note"})
        if extra:
            return [
                (
                    f"an asserted input has no FHIR query, so `{extra[0]}` means nothing here",
                    (extra[0],),
                    "remove it, or bind the input to a resource instead of `asserted: true`",
                )
            ]
        return []
    resources = resources_of(binding)
    kind = resources[0]
    out: list[Problem] = []
    allowed = _KEYS[kind]
    for key in sorted(set(binding) - {"resource", "note"} - allowed):
        out.append(
            (
                f"`{key}` does not apply to a {kind} binding",
                (key,),
                f"a {kind} binding takes {', '.join(sorted(allowed)) or 'no other key'}",
            )
        )
    lists = [("codes", binding.get("codes") or ())] + [
        (("values", v), codes) for v, codes in (binding.get("values") or {}).items()
    ]
    for where, codes in lists:
        if len(codes) > MAX_CODES:
            sub: Path = (where,) if isinstance(where, str) else where
            out.append(
                (
                    f"at most {MAX_CODES} codes per list, not {len(codes)}",
                    sub,
                    "use fewer, more general codes, or split the input",
                )
            )
    t = inp.type
    if kind == "Observation":
        if t not in ("quantity", "series"):
            out.append(
                (
                    f"an Observation binding gives a quantity (valueQuantity), but '{inp.name}' is a {t}",
                    ("resource",),
                    "bind a quantity or series input to an Observation",
                )
            )
        if "codes" not in binding:
            out.append(("an Observation binding needs `codes` (e.g. LOINC 751-8)", ("resource",), None))
        count = binding.get("count")
        if count is not None and Decimal(count) != Decimal(count).to_integral_value():
            out.append((f"`count` must be a whole number, not {count}", ("count",), None))
        if "window" in binding and t != "series":
            out.append(("`window` applies to series inputs only", ("window",), None))
    elif kind == "Patient":
        if t != "quantity" or "a" not in (inp.unit, *inp.accepted_units):
            out.append(
                (
                    f"a Patient binding gives the age in years (unit `a`) from birthDate, but '{inp.name}' "
                    f"is not a quantity accepting `a`",
                    ("resource",),
                    "declare the input as a quantity with unit `a` (or `a` among its accepted units)",
                )
            )
    else:
        if t == "boolean":
            if "codes" not in binding:
                out.append((f"a {kind} binding of a boolean needs `codes`", ("resource",), None))
            if "values" in binding:
                out.append(
                    (
                        "`values` maps the values of a code input; this input is a boolean",
                        ("values",),
                        "use `codes` for a boolean",
                    )
                )
        elif t == "code":
            values = binding.get("values")
            if values is None:
                out.append(
                    (
                        f"a {kind} binding of a code input needs `values` (each value with its codes)",
                        ("resource",),
                        None,
                    )
                )
            else:
                for v in values:
                    if v not in inp.values:
                        out.append(
                            (
                                f"'{v}' is not one of the values of '{inp.name}'",
                                ("values", v),
                                f"the values are {', '.join(inp.values)}",
                            )
                        )
            for key in ("codes", "absent_is_false"):
                if key in binding:
                    out.append(
                        (
                            f"`{key}` applies to a boolean input; this input is a code",
                            (key,),
                            "use `values` for a code input",
                        )
                    )
        else:
            out.append(
                (
                    f"a {kind} binding answers a boolean or a code input, but '{inp.name}' is a {t}",
                    ("resource",),
                    None,
                )
            )
        if len(resources) > 1 and any(r not in MEDICATION_RESOURCES for r in resources):
            out.append(
                ("only MedicationRequest and MedicationStatement may be listed together", ("resource",), None)
            )
    return out


@rule(Code.INPUT_FHIR_BINDING)
def _fhir_bindings(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for inp in model.inputs.values():
        if inp.fhir is None:
            continue
        for message, sub, hint in binding_problems(inp, inp.fhir):
            yield report(
                model,
                Code.INPUT_FHIR_BINDING,
                f"input '{inp.name}': {message}",
                (*inp.path, "fhir", *sub),
                hint,
            )
