"""Condition coverage for ``guideline test`` (issue 8, section 8): every atomic condition of every branch,
and of every score item's written condition (``when``, each band's ``when``), seen true, false and unknown
at least once over the cases.

An *atom* is one comparison link (``anc < 0.5``; a chain ``0.5 <= anc < 1`` has two), one membership test
(``cause in ['a', 'b']``) or one other boolean leaf (a boolean input or derived value, a call such as
``at_or_above_on_days(...)``) of a branch's ``when``, joined by ``and``, ``or`` and ``not``. The literals
``true`` and ``false`` are no atoms. A condition of nine atoms needs cases that show each of the nine true,
false and unknown: one case that makes the whole condition true does not cover it.

Each atom is compiled on its own, once, when a ``ConditionCoverage`` is made (only when coverage is asked
for; the normal load and evaluation never do this work). An atom is evaluated, with the evaluation's values,
for every branch the walk *tested* (a choice stops at the first branch that holds), whatever the
short-circuit of ``and``/``or`` inside the condition would have skipped; an atom whose own evaluation fails
(a division by zero the short-circuit avoided) counts nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import localcontext
from typing import Any

from ..compiler.guideline import CompiledGuideline
from ..errors import EvaluationError, Location
from ..lang.compile import CompiledExpression, compile_expression
from ..runtime.trace import StepRecord
from ..values.numbers import DECIMAL_CONTEXT
from ..values.types import BOOLEAN, NUMBER
from ..values.unknown import UNKNOWN

__all__ = ["OUTCOMES", "Atom", "ConditionCoverage"]

#: What an atom must be seen as.
OUTCOMES = ("true", "false", "unknown")

_OPS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
    ast.NotIn: "not in",
}


@dataclass(slots=True)
class Atom:
    node: str
    branch: int
    text: str
    compiled: CompiledExpression = field(repr=False)
    seen: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"{self.node}#{self.branch}: {self.text}"

    def missing(self) -> list[str]:
        return [o for o in OUTCOMES if o not in self.seen]


def _flat(source: str) -> str:
    return source.replace("\r\n", "  ").replace("\n", " ").replace("\r", " ").replace("\t", " ").lstrip()


def atom_texts(source: str, tree: ast.Expression) -> list[str]:
    """The atoms of a condition, in reading order, each once."""
    text = _flat(source)
    out: list[str] = []

    def seg(node: ast.expr) -> str:
        return ast.get_source_segment(text, node) or ast.unparse(node)

    def visit(node: ast.expr) -> None:
        match node:
            case ast.BoolOp(values=values):
                for v in values:
                    visit(v)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                visit(operand)
            case ast.Constant(value=bool()):
                pass
            case ast.Name(id="true" | "false"):
                pass
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                operands = [left, *comparators]
                for op, a, b in zip(ops, operands, operands[1:], strict=False):
                    out.append(f"{seg(a)} {_OPS.get(type(op), '?')} {seg(b)}")
            case _:
                out.append(seg(node))

    visit(tree.body)
    return list(dict.fromkeys(out))


class ConditionCoverage:
    """The atoms of one guideline and what the cases showed them to be. It is also a tracer (``begin``,
    ``step``, ``end``) that notes the branches each successful evaluation tested; ``record`` then evaluates
    their atoms with that evaluation's values."""

    __slots__ = ("_pending", "_scores", "_tested", "atoms", "guideline", "step")

    def __init__(self, g: CompiledGuideline) -> None:
        self.guideline = g.model.file
        env = {n: i.value_type for n, i in g.model.inputs.items()}
        env.update({n: d.value_type for n, d in g.model.derived.items()})
        env.update(dict.fromkeys(g.model.scores, NUMBER))  # a score is a number in expressions
        self.atoms: dict[tuple[str, int], list[Atom]] = {}
        for node in g.nodes.values():
            for b in node.branches:
                self.atoms[(node.id, b.index)] = self._atoms(node.id, b.index, b.when, env)
        # the conditions of score items (`when`, and each band's): scored on every evaluation, each item's
        # rules in order up to the first that is not false (as runtime/scores.py computes them)
        self._scores: list[tuple[CompiledExpression, tuple[str, int]]] = []
        for score in g.scores:
            model_items = g.model.scores[score.name].items
            for item in score.items:
                written = model_items[item.index]
                if written.when is None and not written.bands:
                    continue  # an item of a boolean or code input: its rules are generated, not written
                node_id = f"score {score.name} item {item.index + 1}"
                for k, (rule, _points) in enumerate(item.rules):
                    key = (node_id, k)
                    self.atoms[key] = self._atoms(node_id, k, rule, env)
                    self._scores.append((rule, key))
        self._pending: list[StepRecord] = []
        self._tested: list[tuple[str, int]] = []
        self.step = self._pending.append

    def _atoms(self, node_id: str, index: int, when: CompiledExpression, env: dict[str, Any]) -> list[Atom]:
        found: list[Atom] = []
        for text in atom_texts(when.source, when.tree):
            compiled, _ = compile_expression(text, env, location=Location(self.guideline), expect=BOOLEAN)
            if compiled is not None and not compiled.is_constant:
                found.append(Atom(node_id, index, text, compiled))
        return found

    def _score_rules_tested(self, values: Mapping[str, Any], as_of: datetime) -> list[tuple[str, int]]:
        """The score rules an evaluation over ``values`` tested: each item's, up to the first not false."""
        tested: list[tuple[str, int]] = []
        item: str | None = None
        stopped = False
        for rule, key in self._scores:
            if key[0] != item:
                item, stopped = key[0], False
            if stopped:
                continue
            tested.append(key)
            try:
                stopped = rule.evaluate(values, as_of) is not False
            except EvaluationError:
                stopped = True
        return tested

    # the tracer protocol ------------------------------------------------------------------------------
    def begin(self) -> None:
        self._pending.clear()
        self._tested.clear()

    def end(self, recommendations: Iterable[str], /) -> None:
        self._tested = [(node.id, b.index) for node, outcomes, _, _, _ in self._pending
                        for b in node.branches[:len(outcomes)]]
        self._pending.clear()

    # ---------------------------------------------------------------------------------------------------
    def record(self, values: Mapping[str, Any], as_of: datetime) -> None:
        """Evaluate the atoms of the branches the last successful evaluation tested."""
        with localcontext(DECIMAL_CONTEXT):
            for key in [*self._tested, *self._score_rules_tested(values, as_of)]:
                for atom in self.atoms.get(key, ()):
                    try:
                        v = atom.compiled.evaluate(values, as_of)
                    except EvaluationError:
                        continue
                    atom.seen.add("unknown" if v is UNKNOWN else "true" if v is True else "false")
        self._tested = []

    def all_atoms(self) -> list[Atom]:
        return [a for atoms in self.atoms.values() for a in atoms]

    @property
    def total(self) -> int:
        return len(OUTCOMES) * len(self.all_atoms())

    @property
    def reached(self) -> int:
        return sum(len(a.seen) for a in self.all_atoms())

    @property
    def percent(self) -> float:
        """Atom outcomes seen, over three per atom."""
        return 100.0 * self.reached / self.total if self.total else 100.0

    def missed(self) -> dict[str, list[str]]:
        """For each atom not fully covered (``node#branch: text``), the outcomes never seen."""
        return {a.key: a.missing() for a in self.all_atoms() if a.missing()}

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "percent": round(self.percent, 1),
            "atoms": len(self.all_atoms()),
            "outcomes_seen": self.reached,
            "outcomes": self.total,
            "missed": self.missed(),
        }
