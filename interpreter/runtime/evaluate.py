"""Walk a compiled guideline against checked facts and build a ``Result``.

No global mutable state: every call builds its own small ``_Walk``; the compiled guideline is read only.
Three-valued conditions: a branch condition is ``True``, ``False`` or ``UNKNOWN``; unknown is never tested
for truth. In a choice node an unknown condition before the first true one cannot be decided: the result
says so, names the facts that would settle it and applies the node's ``unknown`` targets (if any).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, Overflow, Underflow, localcontext
from typing import Any, cast

from ..analysis.checks import DOSE_NUMBER_BOUNDS, dose_number_problem
from ..compiler.guideline import CompiledBranch, CompiledDose, CompiledGuideline, CompiledNode
from ..errors import EvaluationError, Location, Path
from ..facts.checker import DEFAULT_FACTS_LIMITS, FactsLimits, evaluation_calendar, host_offset
from ..lang.codegen import EVALUATION_EXCEPTIONS, evaluation_error
from ..lang.compile import CompiledExpression
from ..loading.model import Action
from ..result import (
    ActionResult,
    BranchTrace,
    CannotDecide,
    CautionResult,
    DoseResult,
    NeededFact,
    RecommendationResult,
    Result,
    TraceStep,
    UnrecognizedFact,
    brief_decimal,
    format_decimal,
)
from ..values.numbers import DECIMAL_CONTEXT
from ..values.unknown import UNKNOWN

__all__ = ["evaluate"]

#: The most nodes one evaluation may visit (the tree is checked for cycles at load; this is a second guard).
MAX_STEPS = 10_000


def _show(value: Any) -> Any:
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_show(v) for v in value]
    return str(value)


#: A marker on the walk's stack: leave the innermost node (pop it from ``via``).
_LEAVE = object()


def _model_node_path(g: CompiledGuideline, node_id: str) -> Path | None:
    """The path of node ``node_id`` in the document (looked up only when an error is raised)."""
    for n in g.model.nodes:
        if n.id == node_id:
            return n.path
    return None


def _locate(
    g: CompiledGuideline, err: EvaluationError, path: Path | None, node_id: str | None
) -> EvaluationError:
    """``err`` located at ``path`` in the guideline file (the file itself when the path is unknown)."""
    where = g.model.source_map.at(path) if path is not None else Location(g.model.file)
    return err.located(where, node_id)


class _Walk:
    """One walk over the tree with an explicit stack, never Python recursion: the only bound on the depth of a
    tree is ``MAX_STEPS``. Everything it records (recommendations applied and their ``via``, trace steps,
    cannot-decide entries) comes in the depth-first pre-order of a recursive walk."""

    __slots__ = (
        "_via_tuple",
        "applied",
        "as_of",
        "cannot",
        "g",
        "needs",
        "stack",
        "steps",
        "trace",
        "trace_on",
        "values",
        "via",
    )

    def __init__(self, g: CompiledGuideline, values: dict[str, Any], as_of: datetime, trace_on: bool) -> None:
        self.g = g
        self.values = values
        self.as_of = as_of
        self.trace_on = trace_on
        self.applied: dict[str, tuple[str, ...]] = {}
        self.cannot: list[CannotDecide] = []
        self.needs: dict[str, list[str]] = {}
        self.trace: list[_RawStep] = []
        self.steps = 0
        #: the node ids from the start to the node being visited
        self.via: list[str] = []
        #: ``tuple(via)`` while ``via`` is unchanged: recommendations reached from one node share one tuple
        self._via_tuple: tuple[str, ...] | None = None
        #: work still to do, next item last: a target id, ``_LEAVE``, or (collect node, index of an undecided
        #: branch)
        self.stack: list[object] = []

    def run(self, start: str) -> None:
        stack = self.stack
        stack.append(start)
        while stack:
            item = stack.pop()
            if item is _LEAVE:
                self.via.pop()
                self._via_tuple = None
            elif isinstance(item, str):
                self.visit(item)
            else:
                node, index = cast(tuple[CompiledNode, int], item)
                self.unknown(node, index)

    def push(self, tids: tuple[str, ...] | list[str]) -> None:
        """Visit ``tids`` next, in their order (before anything already waiting)."""
        self.stack.extend(reversed(tids))

    def visit(self, tid: str) -> None:
        node = self.g.nodes.get(tid)
        if node is None:
            if tid not in self.applied:
                via = self._via_tuple
                if via is None:
                    via = self._via_tuple = tuple(self.via)
                self.applied[tid] = via
            return
        self.steps += 1
        if self.steps > MAX_STEPS:
            path = _model_node_path(self.g, tid)
            raise _locate(
                self.g,
                EvaluationError(
                    "eval-step-limit",
                    f"the walk would visit more than {MAX_STEPS} nodes (a node reached along several paths "
                    "is visited once per path)",
                ),
                (*path, "id") if path is not None else None,
                tid,
            )
        self.via.append(tid)
        self._via_tuple = None
        self.stack.append(_LEAVE)
        if node.kind == "choice":
            self.choice(node)
        else:
            self.collect(node)

    def failed(self, node: CompiledNode, b: CompiledBranch, exc: Exception) -> EvaluationError:
        err = evaluation_error(exc, b.when.source)
        path = _model_node_path(self.g, node.id)
        return _locate(
            self.g,
            EvaluationError(err.code, err.message, node_id=node.id, expression=b.when.source),
            (*path, "branches", b.index, "when") if path is not None else None,
            node.id,
        )

    def not_boolean(self, node: CompiledNode, b: CompiledBranch, r: object) -> EvaluationError:
        path = _model_node_path(self.g, node.id)
        return _locate(
            self.g,
            EvaluationError(
                "eval-not-boolean",
                f"condition gave {r!r}, not true, false or unknown",
                node_id=node.id,
                expression=b.when.source,
            ),
            (*path, "branches", b.index, "when") if path is not None else None,
            node.id,
        )

    def unknown(self, node: CompiledNode, index: int) -> None:
        b = node.branches[index]
        needs = _insufficient(self.g, b.inputs, self.values)
        for n in needs:
            self.needs.setdefault(n, []).append(node.id)
        self.cannot.append(CannotDecide(node.id, index, b.when.source, tuple(needs), b.label, node.unknown))
        self.push(node.unknown)

    def choice(self, node: CompiledNode) -> None:
        outcomes: list[Any] = []
        values, as_of = self.values, self.as_of
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                raise self.failed(node, b, exc) from exc
            if self.trace_on:
                outcomes.append(r)
            if r is True:
                if self.trace_on:
                    self.trace.append((node, outcomes, False, "branch", b.then))
                self.push(b.then)
                return
            if r is not False:
                if r is not UNKNOWN:
                    raise self.not_boolean(node, b, r)
                if self.trace_on:
                    self.trace.append((node, outcomes, False, "cannot-decide", node.unknown))
                self.unknown(node, b.index)
                return
        if self.trace_on:
            self.trace.append((node, outcomes, True, "otherwise", node.otherwise))
        self.push(node.otherwise)

    def collect(self, node: CompiledNode) -> None:
        outcomes: list[Any] = []
        taken: list[str] = []
        undecided: list[int] = []
        values, as_of = self.values, self.as_of
        for b in node.branches:
            try:
                r = b.test(values, as_of)
            except EVALUATION_EXCEPTIONS as exc:
                raise self.failed(node, b, exc) from exc
            if self.trace_on:
                outcomes.append(r)
            if r is True:
                taken.extend(b.then)
            elif r is not False:
                if r is not UNKNOWN:
                    raise self.not_boolean(node, b, r)
                undecided.append(b.index)
        outcome = "branch" if taken else "none"
        used_otherwise = False
        if not taken and not undecided and node.otherwise:
            taken.extend(node.otherwise)
            outcome = "otherwise"
            used_otherwise = True
        if undecided and not taken:
            outcome = "cannot-decide"
        if self.trace_on:
            self.trace.append((node, outcomes, used_otherwise, outcome, tuple(taken)))
        # the taken targets first, then each undecided branch (its cannot-decide entry, then its targets)
        self.stack.extend((node, i) for i in reversed(undecided))
        self.push(taken)


#: One node visited, as recorded during the walk: (node, branch outcomes in order, otherwise taken,
#: outcome, targets taken). Turned into ``TraceStep`` objects only when the trace is read.
_RawStep = tuple[CompiledNode, list[Any], bool, str, tuple[str, ...]]


class _LazyTrace:
    """Builds the ``TraceStep`` objects on first read: an evaluation whose trace is unread pays little."""

    __slots__ = ("_built", "_raw", "_values")

    def __init__(self, raw: list[_RawStep], values: Mapping[str, Any]) -> None:
        self._raw = raw
        self._values = values
        self._built: tuple[TraceStep, ...] | None = None

    def __call__(self) -> tuple[TraceStep, ...]:
        built = self._built
        if built is None:
            built = tuple(self._step(*r) for r in self._raw)
            self._built = built
        return built

    def _step(
        self, node: CompiledNode, outcomes: list[Any], otherwise: bool, outcome: str, taken: tuple[str, ...]
    ) -> TraceStep:
        values = self._values
        branches = [
            BranchTrace(
                b.index,
                b.when.source,
                "true" if r is True else "false" if r is False else "unknown",
                {n: _show(values.get(n, UNKNOWN)) for n in sorted(b.when.names)},
                b.label,
            )
            for b, r in zip(node.branches, outcomes, strict=False)
        ]
        if otherwise:
            branches.append(BranchTrace(-1, "otherwise", "otherwise", {}, None))
        return TraceStep(node.id, node.kind, tuple(branches), outcome, tuple(taken), node.title)


def _insufficient_present(g: CompiledGuideline, inputs: frozenset[str]) -> list[str]:
    """The inputs that can be present yet not enough (series: too few days, empty), else all of them."""
    return sorted(i for i in inputs if g.model.inputs[i].type == "series") or sorted(inputs)


def _insufficient(g: CompiledGuideline, inputs: frozenset[str], values: Mapping[str, Any]) -> list[str]:
    """The facts that would settle an unknown: the unknown inputs, else the present but insufficient ones."""
    return sorted(i for i in inputs if values.get(i) is UNKNOWN) or _insufficient_present(g, inputs)


def _out_of_range(
    g: CompiledGuideline, d: CompiledDose, rec_id: str, message: str, path: Path, hint: str
) -> EvaluationError:
    """``dose-out-of-range``: a computed dose number beyond the bounds of a written one (docs/api.md, Limits),
    located at ``path`` (the amount, or the round_to). ``hint`` is appended to the message."""
    m = d.model
    expression = m.amount if isinstance(m.amount, str) and path[-1] == "amount" else None
    return _locate(
        g,
        EvaluationError("dose-out-of-range", f"{message}; no dose is shown: {hint}", expression=expression),
        path,
        rec_id,
    )


def _arithmetic_words(exc: ArithmeticError) -> str:
    """What an arithmetic failure of a dose calculation means, in words (never a Python exception name)."""
    if isinstance(exc, DivisionByZero | ZeroDivisionError):
        return "it would divide by zero"
    if isinstance(exc, Overflow | OverflowError):
        return "a number in it is too large to compute"
    if isinstance(exc, Underflow):
        return "a number in it is too small to compute"
    return "the calculation has no defined result for these numbers"


def _dose(
    g: CompiledGuideline,
    d: CompiledDose,
    values: Mapping[str, Any],
    as_of: datetime,
    rec_id: str,
    shown: Mapping[str, Any],
) -> DoseResult:
    m = d.model
    amount: Any = d.amount
    if isinstance(amount, CompiledExpression):
        try:
            amount = amount.evaluate(values, as_of)
        except EvaluationError as exc:
            raise _locate(
                g,
                EvaluationError(
                    exc.code, exc.message, expression=m.amount if isinstance(m.amount, str) else None
                ),
                (*m.path, "amount"),
                rec_id,
            ) from exc
    expression = m.amount if isinstance(m.amount, str) else None
    if isinstance(amount, Decimal) and expression is not None and amount > 0:
        # a computed amount obeys the bounds of a written one (zero or less is dose-not-positive below)
        problem = dose_number_problem(amount)
        if problem is not None:
            raise _out_of_range(
                g, d, rec_id,
                f"the dose amount came out as {brief_decimal(amount)} {m.unit}, which {problem}",
                (*m.path, "amount"),
                "round the amount expression, e.g. round(..., 1), and bound it with min() and max()",
            )
    prescribed = (
        f"{format_decimal(amount)} {m.unit}" if isinstance(amount, Decimal) else f"{m.amount} {m.unit}"
    )
    missing = sorted(i for i in d.inputs if values.get(i) is UNKNOWN)
    basis_unknown = m.basis is not None and values.get(m.basis) is UNKNOWN
    if amount is UNKNOWN or missing or basis_unknown:
        # never a dose from missing facts; name the inputs: the unknown ones, else (a value present but not
        # enough, such as an empty series) every input the dose rests on
        return DoseResult(
            "cannot-compute",
            d.total_unit,
            None,
            prescribed,
            ("not computed: a fact it needs is missing, stale or not enough",),
            tuple(missing or _insufficient_present(g, d.inputs)),
        )
    steps: list[str] = []
    if m.basis is None:
        total: Decimal = amount
        steps.append(f"fixed dose {format_decimal(total)} {d.total_unit}")
    else:
        basis = values[m.basis]
        given = shown.get(m.basis)
        if isinstance(given, dict) and "given" in given:
            steps.append(f"{m.basis} given as {given['given']} = {format_decimal(basis)} {d.basis_unit}")
        basis_in = basis * d.basis_factor
        if d.basis_factor != 1:
            steps.append(
                f"{m.basis} {format_decimal(basis)} {d.basis_unit} = {format_decimal(basis_in)} {d.per_unit}"
            )
        total = amount * basis_in
        steps.append(
            f"{format_decimal(amount)} {m.unit} x {format_decimal(basis_in)} {d.per_unit} = "
            f"{format_decimal(total)} {d.total_unit}"
        )
    if total <= 0:  # an amount expression gave zero or less: never shown as a dose
        raise _locate(
            g,
            EvaluationError(
                "dose-not-positive",
                f"the dose of {d.total_unit} came out as {brief_decimal(total)}",
                expression=expression,
            ),
            (*m.path, "amount"),
            rec_id,
        )
    highest = DOSE_NUMBER_BOUNDS["amount"][1]
    if total > highest:  # checked before rounding or capping: a runaway dose is a defect, never capped
        raise _out_of_range(
            g, d, rec_id,
            f"the dose came out as {brief_decimal(total)} {d.total_unit}, above the largest dose number "
            f"{format_decimal(highest)}",
            (*m.path, "amount"),
            "bound the amount (and its basis) so that the dose stays within the limits of docs/api.md",
        )
    if m.round_to is not None:
        rounded = (total / m.round_to).quantize(Decimal(1), rounding=ROUND_HALF_UP) * m.round_to
        if rounded != total:
            steps.append(
                f"rounded (half up) to a multiple of {format_decimal(m.round_to)} {d.total_unit}: "
                f"{format_decimal(rounded)} {d.total_unit}"
            )
        total = rounded
    else:
        # no round_to: the dose shown has at most DOSE_DIGITS significant digits and no place finer than
        # DOSE_FINEST (the bounds of a written dose number); the calculation says so when that changed it
        _, _, finest, digits = DOSE_NUMBER_BOUNDS["amount"]
        rounded = total.quantize(Decimal(1).scaleb(max(total.adjusted() - digits + 1, finest)), ROUND_HALF_UP)
        if rounded != total:
            steps.append(
                f"{format_decimal(total)} {d.total_unit} rounded (half up) to {digits} significant digits, "
                f"at most {-finest} decimal places (the dose sets no round_to): "
                f"{format_decimal(rounded)} {d.total_unit}"
            )
        total = rounded
    if m.min is not None and total < m.min:
        steps.append(f"raised to the minimum {format_decimal(m.min)} {d.total_unit}")
        total = m.min
    if m.max is not None and total > m.max:
        steps.append(f"capped at the maximum {format_decimal(m.max)} {d.total_unit}")
        total = m.max
    if total <= 0:  # rounding can take a tiny dose to zero
        raise _locate(
            g,
            EvaluationError(
                "dose-not-positive",
                f"the dose of {d.total_unit} came out as {format_decimal(total)} after rounding",
            ),
            (*m.path, "round_to") if m.round_to is not None else m.path,
            rec_id,
        )
    problem = dose_number_problem(total)
    if problem is not None:  # a fine round_to on a large dose: 123456.789 mg has 9 significant digits
        raise _out_of_range(
            g, d, rec_id, f"the dose of {format_decimal(total)} {d.total_unit} {problem}",
            (*m.path, "round_to") if m.round_to is not None else m.path,
            "choose a coarser round_to",
        )
    warnings: list[str] = []
    if m.warn_below is not None and total < m.warn_below:
        warnings.append(
            f"{format_decimal(total)} {d.total_unit} is below {format_decimal(m.warn_below)} "
            f"{d.total_unit}: review before giving"
        )
    if m.warn_above is not None and total > m.warn_above:
        warnings.append(
            f"{format_decimal(total)} {d.total_unit} is above {format_decimal(m.warn_above)} "
            f"{d.total_unit}: review before giving"
        )
    return DoseResult("computed", d.total_unit, total, prescribed, tuple(steps), (), tuple(warnings))


def _action(
    g: CompiledGuideline,
    a: Action,
    values: Mapping[str, Any],
    as_of: datetime,
    rec_id: str,
    shown: Mapping[str, Any],
) -> ActionResult:
    static = g.static_actions.get(a.path)
    if static is not None:
        return static
    try:
        dose = _dose(g, g.doses[a.path], values, as_of, rec_id, shown)
    except ArithmeticError as exc:
        raise _locate(
            g,
            EvaluationError(
                "dose-arithmetic",
                f"the dose could not be computed for these facts: {_arithmetic_words(exc)}; no dose is shown",
            ),
            (*a.path, "dose"),
            rec_id,
        ) from exc
    return ActionResult(a.type, g.action_fields[a.path], dose)


def evaluate(
    g: CompiledGuideline,
    facts: Mapping[str, Any],
    as_of: datetime | None = None,
    *,
    trace: bool = True,
    facts_source: str | None = None,
    time_zone: str | tzinfo | None = None,
    facts_limits: FactsLimits = DEFAULT_FACTS_LIMITS,
) -> Result:
    """Evaluate ``g`` against raw host ``facts`` at ``as_of`` (default: now, UTC), with calendar days in
    ``time_zone`` (default: the offset of ``as_of``; see ``interpreter.facts.checker.evaluation_calendar``).

    Raises ``FactsError`` for malformed facts (nothing partial is returned) and ``EvaluationError`` when an
    expression fails at run time or the guideline does not apply at ``as_of``.
    """
    if as_of is None:
        as_of = datetime.now(UTC)
    elif not isinstance(as_of, datetime):
        raise EvaluationError(
            "eval-bad-time", f"the as-of time must be a timezone-aware datetime, not {type(as_of).__name__}"
        )
    elif host_offset(as_of, "eval-bad-time", "the as-of time") is None:
        raise EvaluationError("eval-naive-time", "the as-of time must carry a time zone offset")
    # a fixed offset in the evaluation's calendar, within years 1..9999 (arithmetic by instant)
    as_of, _ = evaluation_calendar(as_of, time_zone)
    model = g.model
    # the effective period is read in UTC: [start 00:00Z, the day after the end 00:00Z)
    if as_of < g.effective_from or (g.effective_until is not None and as_of >= g.effective_until):
        end = model.effective_end.isoformat() if model.effective_end else "open"
        day = as_of.astimezone(UTC).date().isoformat()
        raise EvaluationError(
            "guideline-not-effective",
            f"guideline {model.id} {model.version} is effective {model.effective_start.isoformat()}"
            f" to {end} (UTC dates), not on {day}",
        )
    if model.status == "retired":
        raise EvaluationError("guideline-retired", f"guideline {model.id} {model.version} is retired")
    checked = g.facts.check(facts, as_of, file=facts_source, time_zone=time_zone, limits=facts_limits)
    values: dict[str, Any] = dict(checked.values)
    with localcontext(DECIMAL_CONTEXT):
        for name, expr in g.derived:
            try:
                values[name] = expr.evaluate(values, as_of)
            except EvaluationError as exc:
                raise _locate(
                    g,
                    EvaluationError(exc.code, exc.message, expression=expr.source),
                    (*model.derived[name].path, "expr"),
                    f"derived:{name}",
                ) from exc
        walk = _Walk(g, values, as_of, trace)
        walk.run(model.start)
        recs: list[RecommendationResult] = []
        cautions: list[CautionResult] = []
        dose_needs: dict[str, list[str]] = {}
        doses_missing = False  # a dose that could not be computed keeps the result incomplete
        for rid, via in walk.applied.items():
            rec = g.recommendations[rid]
            cites = g.citations[rid]
            actions = g.rec_actions.get(rid)
            if actions is None:  # a recommendation with a dose: computed for this patient
                actions = tuple(_action(g, a, values, as_of, rid, checked.shown) for a in rec.actions)
                for a in actions:
                    if a.dose is not None and a.dose.value is None:
                        doses_missing = True
                        for n in a.dose.needs:
                            dose_needs.setdefault(n, []).append(rid)
            cautions.extend(g.rec_cautions[rid])
            recs.append(
                RecommendationResult(
                    rid, rec.text, cites, actions, via, rec.title, rec.strength, rec.category
                )
            )
    needed_by: dict[str, list[str]] = {}
    for src in (walk.needs, dose_needs):
        for n, by in src.items():
            needed_by.setdefault(n, []).extend(by)
    for name in g.required_inputs:
        if values[name] is UNKNOWN:
            needed_by.setdefault(name, []).append("required")
    needed: list[NeededFact] = []
    for name in sorted(needed_by):
        status = checked.unknown.get(name)
        inp = model.inputs[name]
        reason = status.reason if status is not None else "insufficient"
        detail = "the value given is not enough (e.g. an empty series)" if status is None else status.detail
        needed.append(
            NeededFact(name, reason, inp.description, detail, tuple(dict.fromkeys(needed_by[name])))
        )
    incomplete = bool(walk.cannot or needed or doses_missing)
    return Result(
        guideline=g.info,
        as_of=as_of,
        status="incomplete" if incomplete else "complete",
        recommendations=tuple(recs),
        cautions=tuple(cautions),
        cannot_decide=tuple(walk.cannot),
        needed_facts=tuple(needed),
        unrecognized_facts=tuple(UnrecognizedFact(n, s) for n, s in checked.unrecognized),
        facts=checked.shown,
        trace_source=_LazyTrace(walk.trace, values),
        disclaimer=model.disclaimer,
    )
