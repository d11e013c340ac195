"""FHIR R4 bindings in effect for one guideline: the guideline's own `fhir:` keys, a site file over them,
and the
table of unit texts that are not UCUM. Hashed, so a result says which bindings produced its facts.

A site file (``schema/fhir-bindings.schema.json``) is read with the same strict YAML loader as guidelines,
checked
by its schema, and each binding by the same rule as the guideline's (``analysis.fhir_bindings``); any problem
raises ``GuidelineError`` with located diagnostics (exit 2 from the CLI).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from ...analysis.fhir_bindings import binding_problems, resources_of
from ...api import Guideline
from ...codes import Code
from ...errors import Diagnostic, GuidelineError, sort_diagnostics
from ...loading.model import Input, deep_freeze
from ...loading.schema import validate_with
from ...loading.source import SourceMap, load_yaml, read_capped
from ...values.durations import parse_duration
from ...values.suggest import did_you_mean_hint

__all__ = [
    "DEFAULT_UNIT_ALIASES",
    "Binding",
    "BindingSet",
    "SiteBindings",
    "bindings_for",
    "load_site_bindings",
]

UCUM_SYSTEM = "http://unitsofmeasure.org"

#: Unit texts that labs send instead of UCUM codes, with the UCUM code each means. Only unambiguous ones: a
#: text missing here is never guessed (the result is dropped with a note). A site file adds or overrides.
DEFAULT_UNIT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "cells/uL": "/uL",
        "cells/mm3": "/mm3",
        "K/uL": "10*3/uL",
        "10^3/uL": "10*3/uL",
        "x10^3/uL": "10*3/uL",
        "10^9/L": "10*9/L",
        "x10^9/L": "10*9/L",
        "lb": "[lb_av]",
        "lbs": "[lb_av]",
        "in": "[in_i]",
    }
)


@dataclass(frozen=True, slots=True)
class Binding:
    """How one input is found in FHIR."""

    input: Input
    #: resource types searched (empty when asserted)
    resources: tuple[str, ...]
    #: (system, code) pairs, any of which matches
    codes: frozenset[tuple[str, str]] = frozenset()
    #: code inputs: value -> its (system, code) pairs
    values: Mapping[str, frozenset[tuple[str, str]]] = field(default_factory=lambda: MappingProxyType({}))
    count: int | None = None
    window: timedelta | None = None
    absent_is_false: bool = False
    asserted: bool = False
    #: "guideline" or the site file's name
    origin: str = "guideline"
    #: the binding as written (canonical JSON), for the hash
    canonical: str = ""

    @property
    def name(self) -> str:
        return self.input.name

    def all_codes(self) -> frozenset[tuple[str, str]]:
        out = set(self.codes)
        for codes in self.values.values():
            out |= codes
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class SiteBindings:
    file: str
    guideline: str
    version: str | None
    bindings: Mapping[str, Mapping[str, Any]]
    unit_aliases: Mapping[str, str]
    source_map: SourceMap = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class BindingSet:
    """The bindings in effect for one guideline (every input, bound or not) and their hash."""

    guideline: Guideline
    bindings: Mapping[str, Binding]
    unit_aliases: Mapping[str, str]
    hash: str
    site_file: str | None = None

    @property
    def unbound(self) -> tuple[str, ...]:
        return tuple(n for n in self.guideline.inputs if n not in self.bindings)

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "site_file": self.site_file,
            "inputs": {n: json.loads(b.canonical) | {"origin": b.origin} for n, b in self.bindings.items()},
            "unbound": list(self.unbound),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | str | int) or value is None:
        return value
    return str(value)  # Decimal


def _codes(items: Any) -> frozenset[tuple[str, str]]:
    return frozenset((c["system"], c["code"]) for c in items or ())


def _binding(inp: Input, raw: Mapping[str, Any], origin: str) -> Binding:
    canonical = json.dumps(_plain(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if raw.get("asserted"):
        return Binding(inp, (), asserted=True, origin=origin, canonical=canonical)
    window = raw.get("window")
    w = parse_duration(window) if window else None
    count = raw.get("count")
    return Binding(
        input=inp,
        resources=resources_of(raw),
        codes=_codes(raw.get("codes")),
        values=MappingProxyType({v: _codes(c) for v, c in (raw.get("values") or {}).items()}),
        count=int(count) if count is not None else None,
        window=w,
        absent_is_false=bool(raw.get("absent_is_false", False)),
        origin=origin,
        canonical=canonical,
    )


def bindings_for(guideline: Guideline, site: SiteBindings | None = None) -> BindingSet:
    """The bindings in effect: the guideline's, each replaced by the site file's binding of the same input."""
    if site is not None:
        _check_site_applies(guideline, site)
    out: dict[str, Binding] = {}
    for name, inp in guideline.inputs.items():
        if site is not None and name in site.bindings:
            out[name] = _binding(inp, site.bindings[name], os.path.basename(site.file))
        elif inp.fhir is not None:
            out[name] = _binding(inp, inp.fhir, "guideline")
    aliases = dict(DEFAULT_UNIT_ALIASES)
    if site is not None:
        aliases.update(site.unit_aliases)
    payload = json.dumps(
        {
            "guideline": [guideline.id, guideline.version, guideline.content_hash],
            "bindings": {n: json.loads(b.canonical) for n, b in sorted(out.items())},
            "unit_aliases": dict(sorted(aliases.items())),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    digest = "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return BindingSet(
        guideline,
        MappingProxyType(out),
        MappingProxyType(aliases),
        digest,
        site.file if site is not None else None,
    )


def _check_site_applies(guideline: Guideline, site: SiteBindings) -> None:
    sm = site.source_map
    diags: list[Diagnostic] = []
    if site.guideline != guideline.id:
        diags.append(
            Diagnostic(
                Code.INPUT_FHIR_BINDING,
                f"these bindings are for '{site.guideline}', not '{guideline.id}'",
                sm.at(("guideline",)),
                path=("guideline",),
            )
        )
    elif site.version is not None and site.version != guideline.version:
        diags.append(
            Diagnostic(
                Code.INPUT_FHIR_BINDING,
                f"these bindings are for version {site.version} of '{site.guideline}', not "
                f"{guideline.version}",
                sm.at(("version",)),
                path=("version",),
            )
        )
    for name, raw in site.bindings.items():
        path = ("bindings", name)
        inp = guideline.inputs.get(name)
        if inp is None:
            diags.append(
                Diagnostic(
                    Code.INPUT_FHIR_BINDING,
                    f"'{guideline.id}' {guideline.version} has no input '{name}'",
                    sm.key_at(path),
                    path=path,
                    hint=did_you_mean_hint(name, list(guideline.inputs)),
                )
            )
            continue
        for message, sub, hint in binding_problems(inp, raw):
            diags.append(
                Diagnostic(
                    Code.INPUT_FHIR_BINDING,
                    f"input '{name}': {message}",
                    sm.at((*path, *sub)),
                    path=(*path, *sub),
                    hint=hint,
                )
            )
    if diags:
        raise GuidelineError(sort_diagnostics(diags))


def load_site_bindings(path: str | os.PathLike[str]) -> SiteBindings:
    """Read and check a site binding file (YAML or JSON). Raises ``GuidelineError`` with located
    diagnostics."""
    file = os.fspath(path)
    data, problem = read_capped(file)
    if problem is not None:
        raise GuidelineError([problem])
    assert data is not None
    return parse_site_bindings(data, file)


def parse_site_bindings(data: bytes, file: str) -> SiteBindings:
    """A site binding file's bytes read and checked (``load_site_bindings`` after reading; ``guideline batch
    --fhir`` sends the bytes to its workers, where the file may not exist). Raises ``GuidelineError``."""
    doc, sm, diags = load_yaml(data, file)
    if not diags:
        diags = validate_with("fhir-bindings.schema.json", doc, sm)
    if diags or not isinstance(doc, dict):
        raise GuidelineError(diags)
    return SiteBindings(
        file=file,
        guideline=doc["guideline"],
        version=doc.get("version"),
        bindings=deep_freeze(doc.get("bindings") or {}),
        unit_aliases=MappingProxyType(dict(doc.get("unit_aliases") or {})),
        source_map=sm,
    )


def bundled_site_bindings(guideline: Guideline) -> SiteBindings | None:
    """The binding file shipped with the engine for this bundled guideline and version, if there is one."""
    path = bundled_site_file(guideline)
    return load_site_bindings(path) if path is not None else None


def bundled_site_file(guideline: Guideline) -> str | None:
    """The path of the binding file shipped for this bundled guideline and version, if there is one."""
    import pathlib

    path = (
        pathlib.Path(__file__).resolve().parent
        / "sites"
        / f"{guideline.id}-{guideline.version}.bindings.yaml"
    )
    return str(path) if path.is_file() else None
