"""Quantities in expressions: exact unit conversion of operands (folded for constants), unification of two
operands to one unit, the conversion of a result to the expected unit, and the threshold table.

A quantity compares with a quantity of the same dimension (converted by an exact factor chosen at load
time) or with a number *constant*, which is read in the quantity's declared unit. ``q(820, '/mm3')`` is a
quantity literal converted at load time: ``anc < q(820, '/mm3')`` with ``anc`` in ``10*9/L`` becomes
exactly ``anc < 0.82``. When neither direction has a terminating decimal factor, a comparison compares
``left * denominator`` with ``right * numerator`` (exact integers); arithmetic is refused.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, DivisionByZero, Inexact, InvalidOperation, Overflow
from fractions import Fraction

from ..codes import Code
from ..values import units
from ..values.numbers import CONVERSION_CONTEXT
from ..values.types import ValueType
from .checked import CheckedNode, CheckerBase, Refused

__all__ = ["QuantityChecker", "Threshold"]


@dataclass(frozen=True, slots=True)
class Threshold:
    """One ``name OP constant`` comparison, with the constant in the name's declared unit.

    For static analysis (gaps and overlaps between branches). ``op`` is normalised so the name is on the
    left: ``0.5 > anc`` is recorded as ``anc < 0.5``.
    """

    name: str
    op: str
    value: Decimal
    unit: str | None
    column: int


#: The comparison with its operands swapped.
_FLIPPED: dict[str, str] = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
#: Load-time conversion of constants: exact or an error, never rounded.
_EXACT = Context(
    prec=400, traps=[Inexact, Overflow, InvalidOperation, DivisionByZero], Emax=999_999, Emin=-999_999
)


def terminating(f: Fraction) -> Decimal | None:
    """``f`` as an exact Decimal, or None when its decimal expansion does not terminate."""
    d = f.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return None
    return _EXACT.divide(Decimal(f.numerator), Decimal(f.denominator))


class QuantityChecker(CheckerBase):
    """The unit rules of the checker (see the module's doc)."""

    def scale(self, t: CheckedNode, factor: Decimal | None, node: ast.AST) -> CheckedNode:
        """``t`` multiplied by an exact conversion factor (folded when ``t`` is constant)."""
        if factor is None or factor == 1:
            return t
        if t.is_const:
            assert isinstance(t.const, Decimal)
            try:
                value = _EXACT.multiply(t.const, factor)
            except DecimalException:
                self.error(
                    Code.EXPR_INEXACT_CONVERSION, "the unit conversion of this constant is not exact", node
                )
                raise Refused from None
            return CheckedNode(t.type, self.builder.bind(value), False, value, t.bare)
        mul = CONVERSION_CONTEXT.multiply
        code = self.builder.guarded(
            [(t.code, t.nullable)],
            lambda r: self.builder.call("_cmul", mul, [r[0], self.builder.bind(factor)]),
        )
        return CheckedNode(t.type, code, t.nullable)

    def unify_sum(
        self, left: CheckedNode, right: CheckedNode, r_to_l: Fraction, node: ast.AST, what: str
    ) -> tuple[CheckedNode, CheckedNode, str | None]:
        """The operands of ``+``/``-`` in one unit (exactly), with that unit."""
        lu, ru = left.type.unit, right.type.unit
        r_dec, l_dec = terminating(r_to_l), terminating(1 / r_to_l)
        # a sum is in the unit of the operand that is not a constant (a literal adapts to the value it
        # meets), else in the left one's unit; a constant converts when its *value* has an exact decimal
        # in the other unit (0 kg is exactly 0 [lb_av] though the factor does not terminate), a value
        # when the factor is exact
        l_fixed = self.const_in(left, 1 / r_to_l) if left.is_const else None
        r_fixed = self.const_in(right, r_to_l) if right.is_const else None
        if left.is_const and not right.is_const and l_fixed is not None:
            return l_fixed, right, ru
        if r_fixed is not None:
            return left, r_fixed, lu
        if not right.is_const and r_dec is not None:
            return left, self.scale(right, r_dec, node), lu
        if l_fixed is not None:
            return l_fixed, right, ru
        if not left.is_const and l_dec is not None:
            return self.scale(left, l_dec, node), right, ru
        self.error(
            Code.EXPR_INEXACT_CONVERSION,
            f"{what}: '{ru}' to '{lu}' has no exact decimal factor",
            node,
            hint="declare both in the same unit",
        )
        raise Refused

    def const_in(self, t: CheckedNode, ratio: Fraction) -> CheckedNode | None:
        """The constant ``t`` times ``ratio`` when that value is an exact decimal (else None)."""
        if not isinstance(t.const, Decimal) or isinstance(t.const, bool):
            return None
        value = terminating(Fraction(t.const) * ratio)
        if value is None:
            return None
        return CheckedNode(t.type, self.builder.bind(value), False, value, t.bare)

    def as_expected_quantity(
        self, r: CheckedNode, expect: ValueType, unit: str, node: ast.AST
    ) -> CheckedNode:
        """The result ``r`` converted exactly to the expected quantity's ``unit`` (a number constant is read
        in it)."""
        if r.type.kind == "number" and r.is_const:
            return CheckedNode(expect, r.code, False, r.const)
        if r.type.kind != "quantity" or r.type.unit is None:
            self.error(
                Code.EXPR_TYPE,
                f"this expression gives {r.type.describe()}, but a quantity [{unit}] is expected",
                node,
            )
            raise Refused
        if r.type.unit == unit:
            return r
        factor = self.factor(r.type.unit, unit, node, "the result")
        out = self.scale(r, factor, node)
        return CheckedNode(expect, out.code, out.nullable, out.const)

    def factor(self, from_unit: str, to_unit: str, node: ast.AST, what: str) -> Decimal:
        try:
            return units.conversion_factor(from_unit, to_unit)
        except units.UnitError as exc:
            if exc.code == Code.UNIT_INEXACT:
                self.error(
                    Code.EXPR_INEXACT_CONVERSION,
                    f"{what}: '{from_unit}' to '{to_unit}' has no exact decimal factor",
                    node,
                    hint=f"write it in '{to_unit}'",
                )
            else:
                self.unit_error(exc, node, what, f"write it in '{to_unit}'")
            raise Refused from None

    def ratio(self, from_unit: str, to_unit: str, node: ast.AST, what: str, hint: str) -> Fraction:
        """The exact ratio between two units of one dimension, or a diagnostic (never a raw UnitError)."""
        try:
            return units.exact_ratio(from_unit, to_unit)
        except units.UnitError as exc:
            self.unit_error(exc, node, what, hint)
            raise Refused from None

    def unit_error(
        self, exc: units.UnitError, node: ast.AST | None, what: str, hint: str | None
    ) -> CheckedNode:
        """A ``UnitError`` of the unit library as an ``expr-unit-mismatch`` diagnostic with its message."""
        if exc.code == Code.UNIT_NOT_MULTIPLICATIVE:
            extra = "offset units such as Cel and [degF] are never converted"
            hint = f"{hint} ({extra})" if hint else extra
        code = units.unit_code(exc, Code.EXPR_UNIT_MISMATCH)
        return self.error(code, f"{what}: {exc.message}", node, hint=hint)

    def same_dim_to_left(self, left: CheckedNode, right: CheckedNode, node: ast.AST) -> CheckedNode:
        """For quantity * or / quantity: convert a same-dimension right operand into the left's unit."""
        lu, ru = left.type.unit, right.type.unit
        assert lu is not None and ru is not None
        if lu == ru or not units.same_dimension(lu, ru):
            return right
        return self.scale(right, self.factor(ru, lu, node, "converting the right operand"), node)

    def unify(
        self, left: CheckedNode, right: CheckedNode, node: ast.AST, what: str, *, arithmetic: bool
    ) -> tuple[CheckedNode, CheckedNode, str | None]:
        """Bring two numeric operands to one unit (exactly). Returns (left, right, unit or None)."""
        lk, rk = left.type.kind, right.type.kind
        if lk == "number" and rk == "number":
            return left, right, None
        if (lk == "quantity" and rk == "number") or (lk == "number" and rk == "quantity"):
            q, n = (left, right) if lk == "quantity" else (right, left)
            if not n.is_const:
                self.error(
                    Code.EXPR_UNIT_MISMATCH,
                    f"{what}: a quantity [{q.type.unit}] and a plain number without unit",
                    node,
                    hint=f"a number literal is read in '{q.type.unit}'; for a computed number, give it "
                    "a unit",
                )
                raise Refused
            n = CheckedNode(q.type, n.code, False, n.const, n.bare)
            return (q, n, q.type.unit) if lk == "quantity" else (n, q, q.type.unit)
        lu, ru = left.type.unit, right.type.unit
        assert lu is not None and ru is not None
        if lu == ru:
            return left, right, lu
        if not units.same_dimension(lu, ru):
            self.error(
                Code.EXPR_UNIT_MISMATCH,
                f"{what}: '{lu}' ({units.dimension(lu)}) and '{ru}' ({units.dimension(ru)}) are different "
                "kinds of quantity",
                node,
            )
            raise Refused
        if right.is_const and not left.is_const:
            hint = f"write the threshold in the input's unit: '{lu}'"
        elif left.is_const and not right.is_const:
            hint = f"write the threshold in the input's unit: '{ru}'"
        else:
            hint = "declare both in the same unit"
        r_to_l = self.ratio(ru, lu, node, what, hint)
        r_dec, l_dec = terminating(r_to_l), terminating(1 / r_to_l)
        if arithmetic:
            return self.unify_sum(left, right, r_to_l, node, what)
        # constants are converted at load time; otherwise convert the side whose factor is exact
        if right.is_const and r_dec is not None:
            return left, self.scale(right, r_dec, node), lu
        if left.is_const and l_dec is not None:
            return self.scale(left, l_dec, node), right, ru
        if r_dec is not None:
            return left, self.scale(right, r_dec, node), lu
        if l_dec is not None:
            return self.scale(left, l_dec, node), right, ru
        # a comparison: compare left * denominator with right * numerator (exact integer factors)
        left = self.scale(left, Decimal(r_to_l.denominator), node)
        right = self.scale(right, Decimal(r_to_l.numerator), node)
        return left, right, None

    def record_threshold(
        self,
        op: str,
        orig_l: CheckedNode,
        orig_r: CheckedNode,
        left: CheckedNode,
        right: CheckedNode,
        node: ast.AST,
    ) -> None:
        """Record ``name OP constant`` (either way round) when neither side needed converting at run time."""
        if orig_l.name is not None and right.is_const and left is orig_l and isinstance(right.const, Decimal):
            self.thresholds.append(
                Threshold(orig_l.name, op, right.const, orig_l.type.unit, self.loc(node).column)
            )
        elif (
            orig_r.name is not None and left.is_const and right is orig_r and isinstance(left.const, Decimal)
        ):
            self.thresholds.append(
                Threshold(orig_r.name, _FLIPPED[op], left.const, orig_r.type.unit, self.loc(node).column)
            )
