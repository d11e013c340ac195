"""Conditions that cannot do their job: thresholds outside an input's plausible range, conditions that are
always true or always false, and chained comparisons that mix ``==`` and ``!=`` (issue 8, section 7).

* ``threshold-implausible``: ``anc < 500`` on an input in 10*9/L whose plausible range is 0 to 100. The
  number was almost certainly written in another unit; when reading it in one of the input's
  ``accepted_units`` makes it plausible, the hint says so (``did you mean q(500, '/uL')?``).
* ``condition-constant``: a ``when`` that gives the same answer for every patient (``1 > 2``,
  ``cause in []``, ``anc > -1``, ``fever or not fever``). The literal catch-all ``"true"`` is allowed.
  Decided by evaluating the compiled condition over a finite partition of each input's domain:

  - a boolean input takes ``true`` and ``false``; a code input each of its ``values``; a boolean derived
    value ``true`` and ``false`` (more than it can really take: a superset is safe, see below);
  - a number or quantity input *every use of which is a comparison with a literal* (``anc < 0.5``,
    ``0.5 <= anc < 1``, ``anc > q(820, '/mm3')``) takes the bounds of its plausible range, every threshold
    inside it, and one value strictly between each two neighbours: every comparison of the condition has the
    same answer for every value of one cell of that partition, so these values stand for all;
  - a number or quantity input may also appear in comparisons whose two sides are *affine* in it, built
    from the name, bare numbers, unary minus, ``*`` and ``/`` by a number (and ``+``/``-`` of numbers for a
    ``number`` input, or between multiples of the name): ``anc == anc``, ``anc * 2 < 300``,
    ``weight * 0 > 1``, ``age - age > 1``. The value at which such a comparison changes its answer is solved
    exactly and added to the partition (a value that is not an exact decimal, such as 1/3, leaves the name
    unknown);
  - a score takes every sum its items can give (a superset: each item any points it declares, or 0), so
    ``sc >= 7`` on a score whose items sum to at most 5 is found, and so is ``sc == sc``;
  - every other name (a series, a time, a number inside arithmetic or a function, a numeric derived value)
    is *unknown*. The language's three-valued logic is monotone: a result that is true (or false) with a
    name unknown is true (or false) whatever its value. A combination that gives unknown ends the analysis
    with no finding.

  The condition is constant when every combination gives the same true or false. The work is bounded
  (``MAX_COMBINATIONS`` per condition, ``MAX_EVALUATIONS`` per guideline); past a bound nothing is said
  rather than guessed. A condition already reported as ``threshold-impossible`` or ``threshold-implausible``
  is not reported again.
* ``chained-equality``: ``a == b != c`` reads as ``a == b and b != c``, which is rarely what was meant.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Context, Decimal
from fractions import Fraction
from typing import Final

from ..codes import Code
from ..errors import Diagnostic, EvaluationError, Path
from ..lang.compile import CompiledExpression
from ..lang.quantities import Threshold
from ..loading.model import GuidelineModel, Input
from ..values import units
from ..values.unknown import UNKNOWN
from .registry import CheckInfo, report, rule
from .thresholds import branch_interval
from .trees import walk

__all__ = ["MAX_COMBINATIONS", "MAX_EVALUATIONS", "constant_value"]

#: At most this many combinations of representative values are evaluated for one condition.
MAX_COMBINATIONS: Final = 4096
#: At most this many evaluations for all the conditions of one guideline; then the rest are not analysed.
MAX_EVALUATIONS: Final = 200_000

#: Midpoints between thresholds: exact for any two decimals the language accepts.
_MID = Context(prec=200)
#: Any instant: the names that depend on time are unknown in the analysis, so it never matters.
_AS_OF: Final = datetime(2000, 1, 1, tzinfo=UTC)
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def _literal(node: ast.expr) -> bool:
    """A number literal (optionally signed) or ``q(number, 'unit')``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "q"
            and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args))


def _direct_uses(tree: ast.AST) -> tuple[dict[str, int], dict[str, int]]:
    """For each name: how many comparisons with a literal it is directly part of, and how many of its
    occurrences are something else (inside arithmetic, a call, a comparison with a non-literal)."""
    direct: dict[str, int] = {}
    other: dict[str, int] = {}
    seen: set[int] = set()
    nodes = walk(tree)
    for node in nodes:
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for k, operand in enumerate(operands):
            if not isinstance(operand, ast.Name):
                continue
            pairs = [(node.ops[k - 1], operands[k - 1])] if k > 0 else []
            if k < len(node.ops):
                pairs.append((node.ops[k], operands[k + 1]))
            if all(isinstance(op, _ORDERING) and _literal(o) for op, o in pairs):
                seen.add(id(operand))
                direct[operand.id] = direct.get(operand.id, 0) + len(pairs)
    for node in nodes:
        if isinstance(node, ast.Name) and id(node) not in seen:
            other[node.id] = other.get(node.id, 0) + 1
    return direct, other


def _cells(inp: Input, values: Sequence[Decimal]) -> list[Decimal] | None:
    """One value per cell of the partition of the plausible range by ``values`` (None without a range)."""
    lo, hi = inp.plausible_min, inp.plausible_max
    if lo is None or hi is None or lo > hi:
        return None
    points = sorted({lo, hi, *(v for v in values if lo < v < hi)})
    out = list(points)
    for a, b in itertools.pairwise(points):
        out.append(_MID.divide(_MID.add(a, b), Decimal(2)))
    return out


def _affine(node: ast.expr, name: str, number_only: bool) -> tuple[Fraction, Fraction] | None:
    """``(a, b)`` when ``node`` is ``a * name + b`` built from ``name``, bare number literals, unary minus,
    ``*`` and ``/`` by a number, and (for a ``number`` input, or between two multiples of the name) ``+``
    and ``-``; None otherwise. Exact: no unit is involved (a quantity times a number keeps its unit)."""
    if isinstance(node, ast.Name):
        return (Fraction(1), Fraction(0)) if node.id == name else None
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, int | float) and not isinstance(v, bool):
            return Fraction(0), Fraction(Decimal(repr(v)) if isinstance(v, float) else v)
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _affine(node.operand, name, number_only)
        if inner is None:
            return None
        return (-inner[0], -inner[1]) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _affine(node.left, name, number_only), _affine(node.right, name, number_only)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mult) and (left[0] == 0 or right[0] == 0):
            k, (a, b) = (left[1], right) if left[0] == 0 else (right[1], left)
            return a * k, b * k
        if isinstance(node.op, ast.Div) and right[0] == 0 and right[1] != 0:
            return left[0] / right[1], left[1] / right[1]
        if isinstance(node.op, ast.Add | ast.Sub) and (number_only or (left[1] == 0 and right[1] == 0
                                                                          and left[0] and right[0])):
            sign = 1 if isinstance(node.op, ast.Add) else -1
            return left[0] + sign * right[0], left[1] + sign * right[1]
    return None


def _linear_breaks(tree: ast.AST, name: str, number_only: bool) -> tuple[int, list[Decimal]] | None:
    """How many occurrences of ``name`` are inside comparisons whose two sides are both affine in ``name``
    (``anc == anc``, ``anc * 2 < 300``, ``age - age > 1``, ``weight * 0 > 1``), and the values of ``name``
    at which one of these comparisons can change its answer; None when such a comparison cannot be solved
    exactly. Every comparison's answer is the same for all values between two neighbouring breaks."""
    counted: set[int] = set()
    breaks: list[Decimal] = []
    for node in walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for k, op in enumerate(node.ops):
            lhs, rhs = operands[k], operands[k + 1]
            if not isinstance(op, _ORDERING):
                continue
            here = {id(n) for side in (lhs, rhs) for n in walk(side)
                    if isinstance(n, ast.Name) and n.id == name}
            left, right = _affine(lhs, name, number_only), _affine(rhs, name, number_only)
            if not here or left is None or right is None:
                continue
            if (isinstance(lhs, ast.Name) and _literal(rhs)) or (isinstance(rhs, ast.Name) and _literal(lhs)):
                continue  # a direct comparison: its threshold (in the input's unit) is already known
            (a1, b1), (a2, b2) = left, right
            if a1 != a2:
                x = (b2 - b1) / (a1 - a2)
                breaks.append(_MID.divide(Decimal(x.numerator), Decimal(x.denominator)))
                if Fraction(breaks[-1]) != x:
                    return None  # not exact as a decimal: say nothing
            counted |= here
    return len(counted), breaks


def _score_sums(model: GuidelineModel, name: str) -> list[object] | None:
    """Every sum the score ``name`` can take (a superset: each item may give any points it declares, or 0
    where it may give nothing), or None past ``MAX_COMBINATIONS`` sums."""
    score = model.scores.get(name)
    if score is None:
        return None
    sums: set[Decimal] = {Decimal(0)}
    for item in score.items:
        possible = {Decimal(0), item.otherwise}
        if item.points is not None:
            possible.add(item.points)
        possible |= {p for _, p in item.code_points}
        possible |= {b.points for b in item.bands}
        sums = {s + p for s in sums for p in possible}
        if len(sums) > MAX_COMBINATIONS:
            return None
    return list(sorted(sums))


def _domains(compiled: CompiledExpression, model: GuidelineModel) -> dict[str, list[object]]:
    """The representative values of every name the condition reads (``[UNKNOWN]`` for an opaque one)."""
    direct, other = _direct_uses(compiled.tree.body)
    by_name: dict[str, list[Threshold]] = {}
    for t in compiled.thresholds:
        by_name.setdefault(t.name, []).append(t)
    domains: dict[str, list[object]] = {}
    for name in sorted(compiled.names):
        inp = model.inputs.get(name)
        derived = model.derived.get(name)
        domain: list[object] | None = None
        if inp is not None and inp.type == "boolean":
            domain = [True, False]
        elif inp is not None and inp.type == "code" and inp.values:
            domain = list(inp.values)
        elif (inp is not None and inp.type in ("number", "quantity")
              and direct.get(name, 0) == len(by_name.get(name, ()))):
            linear = _linear_breaks(compiled.tree.body, name, inp.type == "number")
            if linear is not None and linear[0] == other.get(name, 0):
                cells = _cells(inp, [*(t.value for t in by_name.get(name, ())), *linear[1]])
                domain = list(cells) if cells is not None else None
        elif derived is not None and derived.type == "boolean":
            domain = [True, False]
        elif name in model.scores:
            domain = _score_sums(model, name)
        domains[name] = domain if domain else [UNKNOWN]
    return domains


def constant_value(compiled: CompiledExpression, model: GuidelineModel,
                   budget: list[int] | None = None) -> bool | None:
    """True or False when the condition has that value for every patient the inputs allow; None when it can
    take both values, or may (an unknown combination), or the analysis would exceed its bounds.

    ``budget`` (a one-item list) is the number of evaluations left for the guideline; it is decreased.
    """
    if compiled.is_constant:
        constant = compiled.constant
        return constant if isinstance(constant, bool) else None
    domains = _domains(compiled, model)
    size = 1
    for d in domains.values():
        size *= len(d)
    if size > MAX_COMBINATIONS or (budget is not None and size > budget[0]):
        return None
    if budget is not None:
        budget[0] -= size
    names = list(domains)
    seen: set[bool] = set()
    for combo in itertools.product(*(domains[n] for n in names)):
        try:
            value = compiled.evaluate(dict(zip(names, combo, strict=True)), _AS_OF)
        except EvaluationError:
            return None
        if not isinstance(value, bool):
            return None  # unknown: an opaque part may decide it
        seen.add(value)
        if len(seen) > 1:
            return None
    return seen.pop() if len(seen) == 1 else None


def _implausible(model: GuidelineModel, t: Threshold) -> Input | None:
    inp = model.inputs.get(t.name)
    if inp is None or inp.type not in ("number", "quantity") or inp.plausible_min is None \
            or inp.plausible_max is None or inp.plausible_min > inp.plausible_max:
        return None  # no range (or an inverted one: input-plausible-range)
    return inp if not inp.plausible_min <= t.value <= inp.plausible_max else None


def _unit_hint(inp: Input, t: Threshold) -> str | None:
    """``did you mean q(500, '/uL')?`` when reading the number in an accepted unit makes it plausible; for a
    unitless input (``type: number``) a plain hint that names the range."""
    if inp.plausible_min is None or inp.plausible_max is None or inp.unit is None:
        return (f"'{inp.name}' takes values from {inp.plausible_min} to {inp.plausible_max}: check the "
                "number and the comparison sign")
    for u in inp.accepted_units:
        try:
            ratio = units.exact_ratio(u, inp.unit)
        except units.UnitError:
            continue
        converted = Fraction(t.value) * ratio
        if inp.plausible_min <= converted <= inp.plausible_max:
            exact = t.value == t.value.to_integral_value()
            number = format(t.value.normalize(), "f") if exact else str(t.value)
            return f"did you mean q({number}, '{u}')? A bare number is read in the input's unit, '{inp.unit}'"
    return f"a bare number is read in the input's unit, '{inp.unit}'; write it in that unit or with q()"


def _conditions(model: GuidelineModel, info: CheckInfo) -> Iterator[tuple[Path, CompiledExpression]]:
    """Every condition an author writes: the branches of the nodes, then the ``when`` of score items and of
    their bands (a score within its bounds: ``score-too-large`` otherwise)."""
    paths: list[Path] = [(*b.path, "when") for node in model.nodes for b in node.branches]
    for score in model.scores.values():
        if not score.within_bounds:
            continue
        for item in score.items:
            if item.when is not None:
                paths.append((*item.path, "when"))
            paths.extend((*b.path, "when") for b in item.bands)
    for path in paths:
        compiled = info.compiled.get(path)
        if compiled is not None:
            yield path, compiled


def _implausible_paths(model: GuidelineModel, info: CheckInfo) -> Iterator[tuple[Path, Threshold, Input]]:
    for path, thresholds in info.thresholds.items():
        for t in thresholds:
            inp = _implausible(model, t)
            if inp is not None:
                yield path, t, inp


def _plain(value: Decimal) -> str:
    """A threshold as a reader writes it: no exponent, no trailing zeros (``453.59237``, ``500``)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@rule(Code.THRESHOLD_IMPLAUSIBLE)
def _threshold_implausible(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """A threshold outside the plausible range of the input it is compared with."""
    for path, t, inp in _implausible_paths(model, info):
        unit = f" {inp.unit}" if inp.unit else ""
        value = _plain(t.value)
        yield report(model, Code.THRESHOLD_IMPLAUSIBLE,
                     f"`{t.name} {t.op} {value}`: {value}{unit} is outside the plausible range of "
                     f"'{t.name}' ({inp.plausible_min} to {inp.plausible_max}{unit}), so the comparison "
                     "gives the same answer for every patient", path, _unit_hint(inp, t))


@rule(Code.CONDITION_CONSTANT)
def _condition_constant(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """A condition with the same value for every patient (the catch-all ``"true"`` excepted)."""
    skip = {path for path, _, _ in _implausible_paths(model, info)}
    budget = [MAX_EVALUATIONS]
    for path, compiled in _conditions(model, info):
        text = compiled.source.strip()
        if text == "true" or path in skip:
            continue
        found = branch_interval(compiled.source, info.thresholds.get(path), info.trees)
        if found is not None and found[1].empty:
            continue  # threshold-impossible
        value = constant_value(compiled, model, budget)
        if value is None:
            continue
        what = "true" if value else "false"
        hint = ("for a branch every patient takes, write the catch-all `\"true\"`" if value else
                "no patient can take this branch: check the comparison signs, numbers and code lists")
        yield report(model, Code.CONDITION_CONSTANT,
                     f"the condition `{text}` is always {what}, whatever the patient's facts (over the "
                     "plausible ranges and code lists of the inputs)", path, hint)


@rule(Code.CHAINED_EQUALITY)
def _chained_equality(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    """A chained comparison that mixes ``==`` and ``!=`` (in any expression)."""
    for path, compiled in sorted(info.compiled.items(), key=lambda item: str(item[0])):
        if "==" not in compiled.source or "!=" not in compiled.source:
            continue  # only `==` makes an ast.Eq, only `!=` an ast.NotEq
        for node in ast.walk(compiled.tree):
            if isinstance(node, ast.Compare) and len(node.ops) > 1:
                kinds = {type(op) for op in node.ops}
                if ast.Eq in kinds and ast.NotEq in kinds:
                    text = ast.get_source_segment(_flat(compiled.source), node)
                    yield _at_offset(model, path, compiled, node, Code.CHAINED_EQUALITY,
                                     f"the chained comparison `{text or compiled.source.strip()}` mixes == "
                                     "and !=: it reads as a pairwise `and` of its links, which is rarely "
                                     "what is meant",
                                     "write the comparisons separately, joined by `and` or `or`")


def _at_offset(model: GuidelineModel, path: Path, compiled: CompiledExpression, node: ast.expr, code: str,
               message: str, hint: str) -> Diagnostic:
    d = report(model, code, message, path, hint)
    source = compiled.source
    shift = len(source) - len(source.lstrip())
    location = model.source_map.position(path, shift + node.col_offset)
    return Diagnostic(d.code, d.message, location, d.severity, d.path, d.hint, d.related)


def _flat(source: str) -> str:
    """The text the syntax tree was parsed from (as ``lang.parse`` makes it: one line, no leading space)."""
    return source.replace("\r\n", "  ").replace("\n", " ").replace("\r", " ").replace("\t", " ").lstrip()
