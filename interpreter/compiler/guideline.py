"""Compile a checked model into an immutable, thread-safe ``CompiledGuideline``.

Everything that can be decided before a patient is seen is decided here: every expression is parsed,
type- and unit-checked and compiled; derived values are ordered; dose units are checked against their
basis and the exact conversion factors are computed; the fact checker is built; the structural checks
(``checks.run_checks``) run over the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from graphlib import CycleError, TopologicalSorter
from types import MappingProxyType

from ..analysis.checks import run_checks
from ..analysis.doses import DOSE_NUMBER_BOUNDS, dose_number_problem
from ..analysis.registry import CheckInfo
from ..codes import Code
from ..errors import Diagnostic, Location, Path
from ..facts.checker import FactChecker
from ..facts.defaults import default_diagnostics
from ..lang.compile import CompiledExpression, compile_lean
from ..lang.quantities import Threshold
from ..loading.model import URGENCY_LEVELS, Action, Dose, GuidelineModel, Node, NodeKind, Recommendation
from ..loading.source import SourceMap
from ..result import ACTION_TEXT_FIELDS, ActionResult, CautionResult, Citation, GuidelineInfo, brief_decimal
from ..values.graphs import depth_first
from ..values.suggest import did_you_mean
from ..values.types import BOOLEAN, NUMBER, ValueType
from ..values.units import UnitError, check_unit, conversion_factor, unit_code
from .scores import CompiledScore, compile_scores

__all__ = [
    "CompiledBranch",
    "CompiledDose",
    "CompiledGuideline",
    "CompiledNode",
    "compile_guideline",
    "runtime_paths",
    "without_source_map",
]


@dataclass(frozen=True, slots=True)
class CompiledBranch:
    index: int
    when: CompiledExpression
    then: tuple[str, ...]
    label: str | None
    #: the inputs this condition depends on, through derived values too
    inputs: frozenset[str]
    #: ``when.fn``, kept here for the evaluator's hot loop
    test: Callable[[Mapping[str, object], datetime], object]


@dataclass(frozen=True, slots=True)
class CompiledNode:
    id: str
    kind: NodeKind
    title: str | None
    branches: tuple[CompiledBranch, ...]
    otherwise: tuple[str, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledDose:
    model: Dose
    #: a number, or an expression giving the number
    amount: Decimal | CompiledExpression
    #: the unit of the total, e.g. ug
    total_unit: str
    #: the unit the amount is given per, e.g. kg (None for a fixed dose)
    per_unit: str | None
    #: factor from the basis' declared unit to ``per_unit``
    basis_factor: Decimal
    basis_unit: str | None
    inputs: frozenset[str]


@dataclass(frozen=True, slots=True)
class CompiledGuideline:
    model: GuidelineModel
    derived: tuple[tuple[str, CompiledExpression], ...]
    nodes: Mapping[str, CompiledNode]
    recommendations: Mapping[str, Recommendation]
    #: compiled doses by the path of their action
    doses: Mapping[Path, CompiledDose]
    facts: FactChecker
    # --- precomputed parts of results (immutable, shared by every evaluation)
    info: GuidelineInfo
    citations: Mapping[str, tuple[Citation, ...]]
    #: the result of every action without a dose (it is the same for every patient)
    static_actions: Mapping[Path, ActionResult]
    #: the text fields of every action, by path
    action_fields: Mapping[Path, Mapping[str, str]]
    required_inputs: tuple[str, ...]
    #: the action results of every recommendation without a dose (the same for every patient)
    rec_actions: Mapping[str, tuple[ActionResult, ...]]
    #: the cautions of every recommendation
    rec_cautions: Mapping[str, tuple[CautionResult, ...]]
    #: the effective period as instants: [start, end) in UTC
    effective_from: datetime
    effective_until: datetime | None
    #: the scores, in declaration order (computed after the derived values)
    scores: tuple[CompiledScore, ...] = ()
    #: name -> the inputs it depends on (inputs, derived values and scores), for the completion of conditions
    deps: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    #: recommendation id -> (the id of a recommendation that supersedes it, the author's reason), in the
    #: order of the guideline's recommendations; only recommendations that something supersedes
    superseded_by: Mapping[str, tuple[tuple[str, str | None], ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    #: recommendation id -> its urgency's rank (0 immediate, 1 urgent, 2 routine), for those that declare one
    urgency_rank: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: the earliest start (``not_before:``) of an action, by the path of the action
    not_before: Mapping[Path, CompiledExpression] = field(default_factory=lambda: MappingProxyType({}))


_UCUM_HINT = "write a UCUM code: 10*9/L, /uL, {cells}/uL, kg, [lb_av], cm, m2, ug (not mcg), mg, mL, h, d, a"


class GuidelineCompiler:
    def __init__(self, model: GuidelineModel) -> None:
        self.model = model
        self.sm = model.source_map
        self.diagnostics: list[Diagnostic] = []
        self.env: dict[str, ValueType] = {n: i.value_type for n, i in model.inputs.items()}
        for n, d in model.derived.items():
            self.env[n] = d.value_type
        self.expr_names: dict[Path, frozenset[str]] = {}
        self.thresholds: dict[Path, tuple[Threshold, ...]] = {}
        self.compiled: dict[Path, CompiledExpression] = {}
        #: one object for equal sets of inputs (the branches' ``inputs``)
        self.sets: dict[frozenset[str], frozenset[str]] = {}
        #: id of an expression kept -> (it, the same with its syntax tree), for this load only
        self.with_tree: dict[int, tuple[CompiledExpression, CompiledExpression]] = {}

    def expr(self, source: str, path: Path, expect: ValueType | None) -> CompiledExpression | None:
        sm = self.sm
        kept, compiled, diags = compile_lean(
            source,
            self.env,
            location=sm.at(path),
            path=path,
            expect=expect,
            position=lambda offset: sm.position(path, offset),
        )
        self.diagnostics.extend(diags)
        self.thresholds[path] = compiled.thresholds if compiled is not None else ()  # () is opaque
        if compiled is not None and kept is not None:
            seen = self.with_tree.get(id(kept))
            if seen is not None:  # compiled (or parsed) earlier in this load: the same tree
                compiled = seen[1]
            elif compiled is kept:  # a memo hit: its tree parsed once for this load's static checks
                compiled = replace(kept, _tree=kept.tree)
            self.with_tree[id(kept)] = (kept, compiled)
            self.expr_names[path] = compiled.names
            self.compiled[path] = compiled  # with its syntax tree, for the static checks of this load
        return kept  # without it: the compiled guideline keeps what the runtime needs

    def error(self, code: str, message: str, path: Path, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.sm.at(path), path=path, hint=hint))

    # derived values ---------------------------------------------------------------------------------
    def derived(self) -> tuple[tuple[tuple[str, CompiledExpression], ...], dict[str, frozenset[str]]]:
        compiled: dict[str, CompiledExpression] = {}
        for name, d in self.model.derived.items():
            path: Path = (*d.path, "expr")
            c = self.expr(d.expr, path, d.value_type)
            if c is None:  # includes a result of another type than declared (expr-type)
                continue
            compiled[name] = c
        # order by dependencies with graphlib (no recursion: a chain of any length is fine); report cycles
        graph = {name: [ref for ref in sorted(c.names) if ref in compiled] for name, c in compiled.items()}
        try:
            order = list(TopologicalSorter(graph).static_order())
        except CycleError:
            order = self.derived_cycles(graph)
        deps: dict[str, frozenset[str]] = {n: frozenset([n]) for n in self.model.inputs}
        for name in order:
            ins: set[str] = set()
            for ref in compiled[name].names:
                if ref in compiled:
                    ins |= deps.get(ref, frozenset())  # absent only behind a reported cycle
                elif ref in self.model.inputs:
                    ins.add(ref)
            deps[name] = frozenset(ins)
        return tuple((n, compiled[n]) for n in order), deps

    def derived_cycles(self, graph: Mapping[str, list[str]]) -> list[str]:
        """Report every cycle among derived values (``derived-cycle``, at the value where a depth-first search
        meets it again), with an explicit stack; return the values in depth-first post-order."""
        cycles, order = depth_first(graph)
        for found in cycles:
            ref = found[0]
            cycle = " -> ".join((*found, ref))
            self.error(
                Code.DERIVED_CYCLE,
                f"derived values depend on each other in a cycle: {cycle}",
                (*self.model.derived[ref].path, "expr"),
                hint="a derived value may use inputs and other derived values, but not itself",
            )
        return order

    # nodes ------------------------------------------------------------------------------------------
    def node(self, node: Node, deps: Mapping[str, frozenset[str]]) -> CompiledNode | None:
        branches: list[CompiledBranch] = []
        ok = True
        for b in node.branches:
            path: Path = (*b.path, "when")
            c = self.expr(b.when, path, BOOLEAN)
            if c is None:
                ok = False
                continue
            inputs = (
                frozenset().union(*(deps.get(n, frozenset()) for n in c.names)) if c.names else frozenset()
            )
            inputs = self.sets.setdefault(inputs, inputs)  # conditions often read the same inputs: one set
            branches.append(CompiledBranch(b.index, c, b.then, b.label, inputs, c.fn))
        if not ok:
            return None
        return CompiledNode(
            node.id, node.kind, node.title, tuple(branches), node.otherwise or (), node.unknown
        )

    # doses ------------------------------------------------------------------------------------------
    def dose_limits(self, dose: Dose) -> bool:
        """Limits that contradict each other can never all hold: ``dose-limits``."""
        pairs = [
            ("min", dose.min, "max", dose.max),
            ("warn_below", dose.warn_below, "warn_above", dose.warn_above),
            ("min", dose.min, "warn_above", dose.warn_above),
            ("warn_below", dose.warn_below, "max", dose.max),
        ]
        ok = True
        for low_name, low, high_name, high in pairs:
            if low is not None and high is not None and low > high:
                self.error(
                    Code.DOSE_LIMITS,
                    f"dose {low_name} {low} is above its {high_name} {high}: no dose can satisfy both",
                    (*dose.path, low_name),
                )
                ok = False
        if isinstance(dose.amount, Decimal) and dose.amount <= 0:
            self.error(
                Code.DOSE_LIMITS, f"dose amount {dose.amount} is not above zero", (*dose.path, "amount"))
            ok = False
        return ok

    def dose(self, dose: Dose, deps: Mapping[str, frozenset[str]]) -> CompiledDose | None:
        if not self.dose_limits(dose):
            return None
        amount: Decimal | CompiledExpression
        inputs: set[str] = set()
        if isinstance(dose.amount, str):
            c = self.expr(dose.amount, (*dose.path, "amount"), NUMBER)
            if c is None:
                return None
            if c.is_constant and isinstance(c.constant, Decimal) and c.constant <= 0:
                self.error(
                    Code.DOSE_LIMITS, f"dose amount {dose.amount} is not above zero", (*dose.path, "amount")
                )
                return None
            if c.is_constant and isinstance(c.constant, Decimal):
                # an amount written as an expression that folds to a number obeys the same bounds as a
                # plain number (``5 * 1e100`` would otherwise print a dose of 103 digits)
                problem = dose_number_problem(c.constant)
                if problem is not None:
                    low, high, _, digits = DOSE_NUMBER_BOUNDS["amount"]
                    self.error(
                        Code.DOSE_NUMBER_RANGE,
                        f"dose amount {dose.amount[:40]} comes to {brief_decimal(c.constant)}, "
                        f"which {problem}",
                        (*dose.path, "amount"),
                        hint=f"write the amount as a number between {low} and {high}, with at most {digits} "
                        "significant digits, in the dose's unit",
                    )
                    return None
            amount = c
            for n in c.names:
                inputs |= deps.get(n, frozenset())
        else:
            amount = dose.amount
        unit_path: Path = (*dose.path, "unit")
        if dose.basis is None:
            try:
                check_unit(dose.unit)
            except UnitError as exc:
                code = unit_code(exc, Code.DOSE_UNIT_UNKNOWN)
                self.error(code, f"dose unit {exc.message}", unit_path, hint=_UCUM_HINT)
                return None
            return CompiledDose(dose, amount, dose.unit, None, Decimal(1), None, frozenset(inputs))
        basis_type = self.env.get(dose.basis)
        if basis_type is None:
            close = did_you_mean(dose.basis, list(self.env))
            self.error(
                Code.DOSE_UNKNOWN_BASIS,
                f"dose basis '{dose.basis}' is not a declared input or derived value",
                (*dose.path, "basis"),
                hint=f"did you mean '{close}'?" if close else None,
            )
            return None
        if basis_type.kind != "quantity" or basis_type.unit is None:
            self.error(
                Code.DOSE_BASIS_NOT_QUANTITY,
                f"dose basis '{dose.basis}' is {basis_type.describe()}; it must be a quantity such as "
                "body weight (kg) or body surface area (m2)",
                (*dose.path, "basis"),
            )
            return None
        if "/" not in dose.unit:
            self.error(
                Code.DOSE_UNIT_MISMATCH,
                f"dose unit '{dose.unit}' must be per basis unit (e.g. ug/{basis_type.unit}) because the "
                f"dose is multiplied by '{dose.basis}'",
                unit_path,
            )
            return None
        total_unit, per_unit = dose.unit.rsplit("/", 1)
        try:
            check_unit(total_unit)
            factor = conversion_factor(basis_type.unit, per_unit)
        except UnitError as exc:
            self.error(
                unit_code(exc, Code.DOSE_UNIT_MISMATCH),
                f"dose unit '{dose.unit}' does not fit basis '{dose.basis}' [{basis_type.unit}]: "
                f"{exc.message}",
                unit_path,
            )
            return None
        inputs |= deps.get(dose.basis, frozenset())
        return CompiledDose(dose, amount, total_unit, per_unit, factor, basis_type.unit, frozenset(inputs))

    def input_units(self) -> bool:
        """Check every declared unit, and that every accepted unit converts to the canonical one."""
        ok = True
        for name, inp in self.model.inputs.items():
            if (
                inp.plausible_min is not None
                and inp.plausible_max is not None
                and inp.plausible_min > inp.plausible_max
            ):
                self.error(
                    Code.INPUT_PLAUSIBLE_RANGE,
                    f"input '{name}': plausible min {inp.plausible_min} is above max {inp.plausible_max}; "
                    "every value would be refused",
                    (*inp.path, "plausible", "min"),
                )
                ok = False
            if inp.unit is None:
                continue
            try:
                check_unit(inp.unit)
            except UnitError as exc:
                self.error(
                    unit_code(exc, Code.INPUT_UNIT_UNKNOWN),
                    f"input '{name}': {exc.message}",
                    (*inp.path, "unit"),
                    hint=_UCUM_HINT,
                )
                ok = False
                continue
            for i, acc in enumerate(inp.accepted_units):
                try:
                    conversion_factor(acc, inp.unit)
                except UnitError as exc:
                    self.error(
                        unit_code(exc, Code.INPUT_UNIT_INCOMPATIBLE),
                        f"input '{name}': accepted unit {exc.message}",
                        (*inp.path, "accepted_units", i),
                    )
                    ok = False
        return ok

    def run(self) -> CompiledGuideline | None:
        model = self.model
        derived, deps = self.derived()
        scores, scores_ok = compile_scores(self, deps)
        nodes: dict[str, CompiledNode] = {}
        failed = not scores_ok
        for node in model.nodes:
            c = self.node(node, deps)
            if c is None:
                failed = True
            else:
                nodes[node.id] = c
        doses: dict[Path, CompiledDose] = {}
        not_before: dict[Path, CompiledExpression] = {}
        for rec in model.recommendations:
            for action in rec.actions:
                if action.not_before is not None:
                    nb = self.expr(action.not_before, (*action.path, "not_before"), ValueType("datetime"))
                    if nb is None:
                        failed = True
                    else:
                        not_before[action.path] = nb
                if action.dose is not None:
                    d = self.dose(action.dose, deps)
                    if d is None:
                        failed = True
                    else:
                        doses[action.path] = d
        units_ok = self.input_units()
        failed |= not units_ok
        if units_ok:
            bad_defaults = default_diagnostics(model.inputs, self.sm.at)
            self.diagnostics.extend(bad_defaults)
            failed |= bool(bad_defaults)
        try:
            facts = FactChecker(model.inputs) if units_ok else None
        except UnitError as exc:
            self.diagnostics.append(
                Diagnostic(
                    getattr(exc, "code", Code.UNIT_UNKNOWN),
                    str(exc),
                    model.source_map.at(("inputs",)),
                    path=("inputs",),
                )
            )
            failed = True
        self.diagnostics.extend(
            run_checks(model, CheckInfo(MappingProxyType(dict(self.expr_names)),
                                        MappingProxyType(dict(self.thresholds)),
                                        MappingProxyType(dict(self.compiled))))
        )
        if failed or facts is None or any(d.is_error for d in self.diagnostics):
            return None
        refs = model.references
        citations = {
            r.id: tuple(Citation(k, refs[k].citation, refs[k].url) for k in r.cite)
            for r in model.recommendations
        }
        fields = {a.path: _action_fields(a) for r in model.recommendations for a in r.actions}
        static = {
            a.path: ActionResult(a.type, fields[a.path])
            for r in model.recommendations
            for a in r.actions
            if a.dose is None and a.not_before is None
        }
        return CompiledGuideline(
            model=model,
            derived=derived,
            nodes=MappingProxyType(nodes),
            recommendations=MappingProxyType(model.recommendation_by_id()),
            doses=MappingProxyType(doses),
            facts=facts,
            info=GuidelineInfo(model.id, model.version, model.title, model.status, model.content_hash),
            citations=MappingProxyType(citations),
            static_actions=MappingProxyType(static),
            action_fields=MappingProxyType(fields),
            required_inputs=tuple(n for n, i in model.inputs.items() if i.required),
            rec_actions=MappingProxyType(
                {
                    r.id: tuple(static[a.path] for a in r.actions)
                    for r in model.recommendations
                    if all(a.dose is None and a.not_before is None for a in r.actions)
                }
            ),
            rec_cautions=MappingProxyType(
                {
                    r.id: tuple(
                        CautionResult(
                            r.id, fields[a.path].get("text", ""), citations[r.id], fields[a.path].get("note")
                        )
                        for a in r.actions
                        if a.type == "caution"
                    )
                    for r in model.recommendations
                }
            ),
            effective_from=datetime.combine(model.effective_start, time(0), UTC),
            effective_until=(
                datetime.combine(model.effective_end + timedelta(days=1), time(0), UTC)
                if model.effective_end is not None
                else None
            ),
            scores=scores,
            deps=MappingProxyType(dict(deps)),
            not_before=MappingProxyType(not_before),
            superseded_by=MappingProxyType(_superseded_by(model)),
            urgency_rank=MappingProxyType(
                {r.id: URGENCY_LEVELS.index(r.urgency) for r in model.recommendations if r.urgency}
            ),
        )


def _superseded_by(model: GuidelineModel) -> dict[str, tuple[tuple[str, str | None], ...]]:
    """Recommendation id -> every (superseding id, reason) naming it (checked: ids are recommendations,
    no cycle)."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for r in model.recommendations:
        for s in r.supersedes:
            by = out.setdefault(s.id, [])
            if all(i != r.id for i, _ in by):
                by.append((r.id, s.reason))
    return {k: tuple(v) for k, v in out.items()}


def _action_fields(a: Action) -> Mapping[str, str]:
    return MappingProxyType({k: v for k in ACTION_TEXT_FIELDS if (v := getattr(a, k)) is not None})


def compile_guideline(model: GuidelineModel) -> tuple[CompiledGuideline | None, list[Diagnostic]]:
    """Compile ``model``; return (compiled or None when any error was found, diagnostics)."""
    compiler = GuidelineCompiler(model)
    compiled = compiler.run()
    return compiled, compiler.diagnostics


def runtime_paths(model: GuidelineModel) -> list[Path]:
    """Every document path at which the runtime locates an error (``runtime/locate.py``), and the ones the
    approved-content lock reports at: a node's id (the step limit), every condition, derived value and score
    item, and every action's dose (amount, round_to) and earliest start."""
    paths: list[Path] = [(), ("version",), ("status",)]
    for n in model.nodes:
        paths += [n.path, (*n.path, "id")]
        paths += [(*b.path, "when") for b in n.branches]
    paths += [(*d.path, "expr") for d in model.derived.values()]
    paths += [item.path for s in model.scores.values() for item in s.items]
    for r in model.recommendations:
        for a in r.actions:
            paths += [a.path, (*a.path, "dose"), (*a.path, "not_before")]
            if a.dose is not None:
                paths += [a.dose.path, (*a.dose.path, "amount"), (*a.dose.path, "round_to")]
    return paths


def without_source_map(compiled: CompiledGuideline) -> CompiledGuideline:
    """``compiled`` holding, instead of the whole source map, only the locations of ``runtime_paths``: what a
    loaded guideline needs to report a run-time error at file:line:col. The full map (a location for every
    key and value of the document) is several times the size of everything else a guideline holds; it serves
    the static checks, which have run. ``SourceMap.at`` answers each retained path exactly as the full map
    did (a path is stored with the location resolved through its ancestors, unless its nearest stored ancestor
    gives the same)."""
    full = compiled.model.source_map
    values: dict[Path, Location] = {}
    kept = SourceMap(full.file, MappingProxyType(values))
    for p in sorted(set(runtime_paths(compiled.model)), key=len):  # ancestors first
        where = full.at(p)
        if kept.at(p) != where:  # else its nearest kept ancestor answers the same (an absent key)
            values[p] = where
    return replace(compiled, model=replace(compiled.model, source_map=kept))
