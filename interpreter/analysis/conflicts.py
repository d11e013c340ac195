"""Conflicts between recommendations that can apply together: ``recommendation-conflict`` (a warning).

Two recommendations **conflict** when their actions contradict each other:

* both give the same drug (``medication``, drug names compared without case) and the dose (amount, unit and
  basis, compared as exact numbers after unit conversion: ``5 ug/kg`` is ``0.005 mg/kg``), its rounding,
  minimum or maximum (a cap on one only differs), the route or the frequency differ, each where both state
  it;
* one gives a drug (``medication``) and the other stops or holds it (``stop-drug``);
* both monitor the same test (names compared without case and extra spaces) at different intervals.

A conflict is reported unless one of the two ``supersedes`` the other, and only when they **can apply
together**. That is decided on the paths of the tree, conservatively (when in doubt: they can):

1. Every path from ``start`` to each recommendation is listed: at each node, the outcome taken (a branch,
   ``otherwise``, or the ``unknown`` targets after an undecided branch). A choice node has one outcome per
   evaluation, so two paths that take different outcomes of one choice node are exclusive; in a collect node,
   ``otherwise`` excludes every branch and a branch excludes its own ``unknown`` outcome.
2. Each outcome implies facts: a branch taken implies its condition is true (and in a choice node, that every
   earlier condition is false); ``otherwise`` implies every condition is false. What is read from a
   condition: comparisons of one name with a number or ``q(...)`` literal (in the name's declared unit),
   code tests (``==``, ``!=``, ``in``, ``not in``), boolean names, and what ``and``, ``or`` (when false) and
   ``not`` say of them; anything else (functions, arithmetic, ``or`` when true) implies nothing. Two paths
   whose implied ranges of one name do not meet (``anc < 1.0`` on one, ``anc >= 1.5`` on the other) are
   exclusive; a path whose own facts contradict each other is dropped.
3. Two recommendations can apply together when some path of one and some path of the other are not
   exclusive.

The work is bounded: at most ``MAX_PATHS`` paths are kept per node or recommendation (beyond, one path with no
facts stands for them all, which is compatible with everything), at most ``MAX_PATH_PAIRS`` pairs of paths
are compared in one guideline (beyond, every remaining pair of conflicting recommendations is taken to apply
together) and at most ``MAX_REPORTS`` conflicts are reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from graphlib import CycleError, TopologicalSorter
from typing import NamedTuple, assert_never

from ..codes import Code
from ..errors import Diagnostic, Path
from ..lang.parse import quiet_tree
from ..loading.model import Action, Dose, GuidelineModel, Node, Recommendation
from ..values.units import UnitError, conversion_factor, exact_ratio
from .intervals import Interval, bound
from .registry import CheckInfo, report, rule

__all__ = ["MAX_PATHS", "MAX_PATH_PAIRS", "MAX_REPORTS", "Conflict", "find_conflicts"]

#: Paths kept per node or recommendation; beyond, one path without facts stands for all.
MAX_PATHS = 64
#: Pairs of paths compared in one guideline; beyond, conflicting recommendations are taken to apply together.
MAX_PATH_PAIRS = 100_000
#: Conflicts reported per guideline.
MAX_REPORTS = 100

#: An outcome of a node on a path: ("b", i) branch i taken, ("o", -1) otherwise, ("u", i) branch i undecided.
Outcome = tuple[str, int]
#: What a path implies about one name: an interval of numbers, or a set of possible values (codes, booleans).
Fact = Interval | frozenset[object]


class _Path(NamedTuple):  # a tuple: made for every path at every node, cheaper than a frozen dataclass
    outcomes: Mapping[str, Outcome]
    facts: Mapping[str, Fact]


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two recommendations that can apply together, with conflicting actions and no declared precedence."""

    first: Recommendation
    second: Recommendation
    first_action: Action
    second_action: Action
    #: what conflicts, in words
    what: str
    #: node ids of one path to each, for the message (empty when not known: the bound was reached)
    first_via: tuple[str, ...]
    second_via: tuple[str, ...]


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "==", "in": "not in",
            "not in": "in"}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
    ast.NotIn: "not in",
}


class _Facts:
    """What conditions imply about names, from their syntax and the declared types."""

    def __init__(self, model: GuidelineModel) -> None:
        self.kinds: dict[str, tuple[str, str | None, frozenset[object]]] = {}
        for name, inp in model.inputs.items():
            self.kinds[name] = (inp.type, inp.unit, frozenset(inp.values))
        for name, d in model.derived.items():
            self.kinds[name] = (d.type, d.unit, frozenset())
        #: the syntax tree of each condition text read so far (None: it does not parse); per guideline
        self.trees: dict[str, ast.Expression | None] = {}

    def of(self, text: str, truth: bool) -> dict[str, Fact] | None:
        """The facts implied by ``text`` being ``truth``; None when it cannot be (contradiction)."""
        if "\\" in text:  # the language has no escapes; such a condition did not compile (Python would warn)
            return {}
        if text in self.trees:  # each condition is read twice (true and false), on every path
            tree = self.trees[text]
        else:
            tree = quiet_tree(text.strip())
            self.trees[text] = tree
        if tree is None:
            return {}
        out: dict[str, Fact] = {}
        todo: list[tuple[ast.expr, bool]] = [(tree.body, truth)]
        while todo:  # no recursion: the depth of an expression is bounded, but a stack costs nothing
            node, t = todo.pop()
            if isinstance(node, ast.BoolOp):
                if isinstance(node.op, ast.And) == t:  # `a and b` true, `a or b` false: each part
                    todo.extend((v, t) for v in node.values)
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                todo.append((node.operand, not t))
            elif isinstance(node, ast.Compare):
                if not t and len(node.ops) > 1:
                    continue  # a false chain says only that one of its parts is false
                operands = [node.left, *node.comparators]
                for op_node, left, right in zip(node.ops, operands, operands[1:], strict=False):
                    op = _OPS.get(type(op_node))
                    if op is None:
                        continue
                    if not t:
                        op = _NEGATED[op]
                    if not self._add(out, self._comparison(left, op, right)):
                        return None
            elif (isinstance(node, ast.Name) and self.kinds.get(node.id, ("",))[0] == "boolean"
                  and not self._add(out, (node.id, frozenset([t])))):
                return None
        return out

    @staticmethod
    def _add(out: dict[str, Fact], found: tuple[str, Fact] | None) -> bool:
        if found is None:
            return True
        name, fact = found
        merged = _meet(out.get(name), fact)
        if merged is None:
            return False
        out[name] = merged
        return True

    def _comparison(self, left: ast.expr, op: str, right: ast.expr) -> tuple[str, Fact] | None:
        if not isinstance(left, ast.Name):
            if not isinstance(right, ast.Name) or op in ("in", "not in"):
                return None
            left, right, op = right, left, _FLIPPED[op]
        assert isinstance(left, ast.Name)
        kind = self.kinds.get(left.id)
        if kind is None:
            return None
        type_, unit, values = kind
        if type_ == "code":
            return self._code(left.id, op, right, values)
        if type_ in ("number", "quantity"):
            value = self._number(right, unit)
            if value is None:
                return None
            interval = bound(op, value)
            return None if interval is None else (left.id, interval)
        return None

    @staticmethod
    def _code(name: str, op: str, right: ast.expr, values: frozenset[object]) -> tuple[str, Fact] | None:
        if isinstance(right, ast.Constant) and isinstance(right.value, str) and op in ("==", "!="):
            words = frozenset([right.value])
        elif isinstance(right, ast.List | ast.Tuple) and op in ("in", "not in") and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in right.elts):
            words = frozenset(
                e.value for e in right.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
        else:
            return None
        return name, (words if op in ("==", "in") else values - words)

    @staticmethod
    def _number(node: ast.expr, unit: str | None) -> Decimal | None:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
        try:
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                return sign * Decimal(repr(node.value))
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "q"
                    and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args)
                    and unit is not None):
                value, written = (a.value for a in node.args if isinstance(a, ast.Constant))
                if type(value) not in (int, float) or not isinstance(written, str):
                    return None
                return sign * Decimal(repr(value)) * conversion_factor(written, unit)
        except (UnitError, InvalidOperation, ValueError, ArithmeticError):
            return None
        return None



def _meet(a: Fact | None, b: Fact) -> Fact | None:
    """Both facts at once, or None when they exclude each other."""
    if a is None:
        return b
    if isinstance(a, Interval) and isinstance(b, Interval):
        both = a.intersect(b)
        return None if both.empty else both
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        return (a & b) or None
    return a  # different kinds of fact about one name (cannot happen for a checked guideline): no claim


def _outcomes(node: Node, facts: _Facts) -> list[tuple[Outcome, tuple[str, ...], dict[str, Fact] | None]]:
    """Every outcome of ``node`` with the targets it applies and the facts it implies (None: impossible)."""
    out: list[tuple[Outcome, tuple[str, ...], dict[str, Fact] | None]] = []
    false_before: dict[str, Fact] | None = {}
    for b in node.branches:
        match node.kind:
            case "choice":
                taken = _merge(false_before, facts.of(b.when, True))
                out.append((("b", b.index), b.then, taken))
                if node.unknown:
                    out.append((("u", b.index), node.unknown, false_before))
                false_before = _merge(false_before, facts.of(b.when, False))
            case "collect":
                out.append((("b", b.index), b.then, facts.of(b.when, True)))
                if node.unknown:
                    out.append((("u", b.index), node.unknown, {}))
                false_before = _merge(false_before, facts.of(b.when, False))
            case _:
                assert_never(node.kind)
    if node.otherwise:
        out.append((("o", -1), node.otherwise, false_before))
    return out


def _merge(a: Mapping[str, Fact] | None, b: Mapping[str, Fact] | None) -> dict[str, Fact] | None:
    if a is None or b is None:
        return None
    out = dict(a)
    for name, fact in b.items():
        merged = _meet(out.get(name), fact)
        if merged is None:
            return None
        out[name] = merged
    return out


def _compatible(kind: str, a: Outcome, b: Outcome) -> bool:
    if a == b:
        return True
    if kind == "choice":
        return False
    # collect: otherwise excludes everything else; a branch excludes its own undecided outcome
    if a[0] == "o" or b[0] == "o":
        return False
    return a[1] != b[1]


def _together(p: _Path, q: _Path, kinds: Mapping[str, str]) -> bool:
    for node, o in p.outcomes.items():
        other = q.outcomes.get(node)
        if other is not None and not _compatible(kinds[node], o, other):
            return False
    for name, fact in p.facts.items():
        other_fact = q.facts.get(name)
        if other_fact is not None and _meet(other_fact, fact) is None:
            return False
    return True


def _paths(model: GuidelineModel) -> dict[str, list[_Path]] | None:
    """Every path (bounded) from ``start`` to each node and recommendation; None when the graph is broken."""
    nodes = model.node_by_id()
    if model.start not in nodes:
        return None
    graph = {n.id: [t for b in n.branches for t in b.then] + list(n.otherwise or ()) + list(n.unknown)
             for n in model.nodes}
    try:
        # parents before children: each node's successors are given as its "predecessors", then reversed
        order = list(reversed(list(TopologicalSorter(
            {k: [t for t in v if t in nodes] for k, v in graph.items()}).static_order())))
    except CycleError:
        return None  # reported as `cycle`
    facts = _Facts(model)
    paths: dict[str, list[_Path]] = {model.start: [_Path({}, {})]}
    for nid in order:
        here = paths.get(nid)
        if not here:
            continue
        node = nodes[nid]
        for outcome, targets, implied in _outcomes(node, facts):
            if implied is None:
                continue  # this outcome can never happen
            for p in here:
                merged = _merge(p.facts, implied)
                if merged is None:
                    continue  # this path contradicts itself
                new = _Path({**p.outcomes, nid: outcome}, merged)
                for t in targets:
                    lst = paths.setdefault(t, [])
                    if len(lst) < MAX_PATHS:
                        lst.append(new)
                    elif lst[-1].outcomes or lst[-1].facts:
                        lst[-1] = _Path({}, {})  # beyond the bound: one path that excludes nothing
    return paths


def _norm(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split()).casefold()


def _dose_text(a: Action) -> str | None:
    d = a.dose
    if d is None:
        return None
    total = _total_unit(d)
    notes = [d.basis or "", *(f"{what} {v} {total}" for what, v in (("round to", d.round_to), ("min", d.min),
                                                                    ("max", d.max)) if v is not None)]
    shown = "; ".join(n for n in notes if n)
    return f"{d.amount} {d.unit}" + (f" ({shown})" if shown else "")


def _total_unit(d: Dose) -> str:
    """The unit of the total dose (``ug`` for ``ug/kg`` on a basis), as the compiler reads it."""
    return d.unit.rsplit("/", 1)[0] if d.basis and "/" in d.unit else d.unit


#: The factor between a unit and itself (``_same_number`` compares Decimals directly with it).
_ONE = Fraction(1)


def _ratio(a: str, b: str) -> Fraction | None:
    """The exact factor from unit ``a`` to unit ``b``; None when they do not convert."""
    if a == b:
        return _ONE
    try:
        return exact_ratio(a, b)
    except UnitError:
        return None


def _same_number(x: Decimal | None, y: Decimal | None, ratio: Fraction | None) -> bool:
    if x is None or y is None:
        return x is y
    if ratio is _ONE:  # the same unit: Decimals compare exactly, as their Fractions would
        return x == y
    return ratio is not None and Fraction(x) * ratio == Fraction(y)


def _dose_differences(a: Dose, b: Dose) -> list[str]:
    """What differs between two doses, compared as exact numbers after unit conversion (``5 ug/kg`` is
    ``0.005 mg/kg``, ``5`` is ``5.0``): the dose itself (amount, unit, basis), then its rounding, minimum and
    maximum (a cap on one and not on the other differs)."""
    out: list[str] = []
    ratio = _ratio(a.unit, b.unit)
    if _norm(a.basis) != _norm(b.basis) or ratio is None:
        out.append("dose")
    elif isinstance(a.amount, Decimal) and isinstance(b.amount, Decimal):
        if not _same_number(a.amount, b.amount, ratio):
            out.append("dose")
    elif _norm(str(a.amount)) != _norm(str(b.amount)) or ratio != 1:
        out.append("dose")
    total = _ratio(_total_unit(a), _total_unit(b))
    for what, x, y in (("rounding", a.round_to, b.round_to), ("minimum dose", a.min, b.min),
                       ("maximum dose", a.max, b.max)):
        if not _same_number(x, y, total):
            out.append(what)
    return out


def _medication_text(a: Action) -> str:
    parts = [_norm_display(a.drug), _dose_text(a) or "", a.route or "", a.frequency or ""]
    return " ".join(p for p in parts if p)


def _norm_display(text: str | None) -> str:
    """``text`` with its runs of white space made single (as the comparison reads it)."""
    return " ".join((text or "").split())


def _action_conflict(a: Action, b: Action) -> str | None:
    """What conflicts between two actions, in words, or None."""
    if a.type == "medication" and b.type == "medication" and _norm(a.drug) == _norm(b.drug):
        doses = _dose_differences(a.dose, b.dose) if a.dose is not None and b.dose is not None else []
        diffs = [*doses, *(what for what, x, y in (("route", _norm(a.route), _norm(b.route)),
                                                   ("frequency", _norm(a.frequency), _norm(b.frequency)))
                           if x is not None and y is not None and x != y)]
        if diffs:
            return (f"{_norm_display(a.drug)} with a different {' and '.join(diffs)}: "
                    f"'{_medication_text(a)}' and '{_medication_text(b)}'")
        return None
    if {a.type, b.type} == {"medication", "stop-drug"} and _norm(a.drug) == _norm(b.drug):
        give, stop = (a, b) if a.type == "medication" else (b, a)
        return f"one gives {_norm_display(give.drug)}, the other says {stop.mode} {_norm_display(stop.drug)}"
    if a.type == "monitoring" and b.type == "monitoring" and _norm(a.test) == _norm(b.test) and (
            _norm(a.interval) != _norm(b.interval)):
        return f"{_norm_display(a.test)} at different intervals: '{a.interval}' and '{b.interval}'"
    return None


def _key(a: Action) -> str | None:
    if a.type in ("medication", "stop-drug"):
        return "drug:" + (_norm(a.drug) or "")
    if a.type == "monitoring":
        return "test:" + (_norm(a.test) or "")
    return None


_Candidate = tuple[Recommendation, Action, Recommendation, Action, str]


def _candidate_pairs(model: GuidelineModel) -> list[_Candidate]:
    """Pairs of recommendations (in file order) with conflicting actions and no precedence between them."""
    groups: dict[str, list[tuple[int, Recommendation, Action]]] = {}
    for i, r in enumerate(model.recommendations):
        for a in r.actions:
            k = _key(a)
            if k is not None:
                groups.setdefault(k, []).append((i, r, a))
    sup = {(r.id, s.id) for r in model.recommendations for s in r.supersedes}
    found: dict[tuple[str, str], tuple[int, int, Recommendation, Action, Recommendation, Action, str]] = {}
    for items in groups.values():
        for x, (i, r1, a1) in enumerate(items):
            for j, r2, a2 in items[x + 1:]:
                if r1.id == r2.id or (r1.id, r2.id) in sup or (r2.id, r1.id) in sup:
                    continue
                first, second = ((i, r1, a1), (j, r2, a2)) if i <= j else ((j, r2, a2), (i, r1, a1))
                key = (first[1].id, second[1].id)
                if key in found:
                    continue
                what = _action_conflict(first[2], second[2])
                if what is not None:
                    found[key] = (first[0], second[0], first[1], first[2], second[1], second[2], what)
                if len(found) >= 10 * MAX_REPORTS:
                    break
    ordered = sorted(found.values(), key=lambda v: (v[0], v[1]))
    return [(r1, a1, r2, a2, what) for _, _, r1, a1, r2, a2, what in ordered]


def find_conflicts(model: GuidelineModel) -> list[Conflict]:
    """The conflicts of ``model`` (see the module's doc), at most ``MAX_REPORTS``, in file order."""
    candidates = _candidate_pairs(model)
    if not candidates:
        return []
    paths = _paths(model)
    if paths is None:
        return []
    kinds = {n.id: n.kind for n in model.nodes}
    budget = MAX_PATH_PAIRS
    out: list[Conflict] = []
    for r1, a1, r2, a2, what in candidates:
        p1, p2 = paths.get(r1.id, []), paths.get(r2.id, [])
        if not p1 or not p2:
            continue  # unreachable (reported as such) or every path contradicts itself
        via: tuple[_Path, _Path] | None = None
        if budget <= 0:
            via = (_Path({}, {}), _Path({}, {}))
        for p in p1:
            if via is not None:
                break
            for q in p2:
                budget -= 1
                if _together(p, q, kinds):
                    via = (p, q)
                    break
                if budget <= 0:
                    via = (_Path({}, {}), _Path({}, {}))
                    break
        if via is not None:
            out.append(Conflict(r1, r2, a1, a2, what, tuple(via[0].outcomes), tuple(via[1].outcomes)))
            if len(out) >= MAX_REPORTS:
                break
    return out


@rule(Code.RECOMMENDATION_CONFLICT)
def _conflicts(model: GuidelineModel, info: CheckInfo) -> Iterator[Diagnostic]:
    for c in find_conflicts(model):
        if c.first_via or c.second_via:
            where = (f" (for example via {' > '.join(c.first_via) or model.start} and "
                     f"{' > '.join(c.second_via) or model.start})")
        else:
            where = " (the analysis bound was reached: not ruled out)"
        path: Path = c.second_action.path
        yield report(model, Code.RECOMMENDATION_CONFLICT,
                     f"recommendations '{c.first.id}' and '{c.second.id}' can apply together{where} and "
                     f"conflict: {c.what}; no precedence is declared",
                     path,
                     f"declare which one wins when both apply (`supersedes: [{c.first.id}]` on "
                     f"'{c.second.id}', or the reverse), or make their conditions exclusive",
                     (model.source_map.at(c.first_action.path),))
