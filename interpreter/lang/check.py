"""The type checker: one method per kind of syntax node, dispatched by ``match`` in ``visit``; each returns a
``CheckedNode`` with the generated code of the sub-expression, folding constant parts.

Semantics:

* Numbers and quantities are ``Decimal``; numeric literals are read exactly from the source text (never
  through ``float``). Booleans are never numbers. Arithmetic uses ``DECIMAL_CONTEXT`` (28 significant
  digits, half even, trapping overflow, invalid operations and division by zero).
* Quantities (see ``quantities``): ``+``/``-`` need numbers or quantities of one dimension (result in the
  left operand's unit); ``*`` and ``/`` of a quantity and a number keep the unit; a quantity times or
  divided by a quantity gives a plain number computed from the values in their declared units (for one
  dimension the right operand is first converted to the left's unit, so ``weight_a / weight_b`` is a true
  ratio); a number divided by a quantity is refused.
* Three-valued logic (Kleene): ``false and unknown`` is false, ``true or unknown`` is true, every other
  use of unknown gives unknown; comparisons, arithmetic and function calls with an unknown argument give
  unknown. Python's ``and``/``or`` are never applied to possibly-unknown values.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..codes import Code
from ..values import units
from ..values.numbers import DECIMAL_CONTEXT
from ..values.suggest import did_you_mean
from ..values.text import echo
from ..values.types import BOOLEAN, NUMBER, STRING, ValueType
from ..values.unknown import UNKNOWN
from .checked import ERROR_TYPE, CheckedNode, Refused
from .functions.catalog import REGISTRY
from .functions.registry import ArgInfo, SignatureError
from .parse import REFUSED_OPERATORS, construct_name
from .quantities import QuantityChecker

__all__ = ["ExpressionChecker"]

_COMPARE_TEXT: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_COMPARE_NODES: dict[str, type[ast.cmpop]] = {text: node for node, text in _COMPARE_TEXT.items()}
#: Comparisons of two constants, folded at load time.
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITHMETIC_TEXT: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_NUMBER_RE = re.compile(r"(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?")
_LITERAL_NAMES: dict[str, bool] = {"true": True, "false": False}


def is_numeric(t: ValueType) -> bool:
    return t.kind in ("number", "quantity")


def _boolean_hint(t: ValueType) -> str | None:
    if t.kind in ("number", "quantity"):
        return "compare it, e.g. `x < 0.5`; a number is never true or false by itself"
    if t.kind == "code":
        return "compare it with one of its values, e.g. `x == 'severe'`"
    if t.kind == "code-set":
        return "test one of its values, e.g. `'clozapine' in x`, or several with any_of(x, 'a', 'b')"
    if t.kind == "series":
        return "use a series function, e.g. `latest(x) < 0.5`"
    return None


class ExpressionChecker(QuantityChecker):
    """Type- and unit-checks one parsed expression against the declared names (``env``) and builds its
    generated code; ``check(tree, expect)`` is the entry. Problems are recorded in ``diagnostics``."""

    # -- entry -------------------------------------------------------------------------------------
    def check(self, tree: ast.Expression, expect: ValueType | None) -> tuple[CheckedNode, ast.expr]:
        result = self.visit(tree.body)
        if result.type is ERROR_TYPE:
            raise Refused
        result = self.expect(result, expect, tree.body)
        return result, result.code

    def expect(self, r: CheckedNode, expect: ValueType | None, node: ast.AST) -> CheckedNode:
        if expect is None:
            return r
        if expect.kind == "boolean":
            if r.type.kind != "boolean":
                self.error(
                    Code.EXPR_EXPECTED_BOOLEAN,
                    f"this expression gives {r.type.describe()}, but a condition must be true or false",
                    node,
                    hint=_boolean_hint(r.type),
                )
                raise Refused
            return r
        if expect.kind == "number":
            if r.type.kind != "number":
                hint = (
                    "a quantity keeps its unit; divide by q(1, 'unit') to get a plain number"
                    if r.type.kind == "quantity"
                    else None
                )
                self.error(
                    Code.EXPR_TYPE,
                    f"this expression gives {r.type.describe()}, but a number is expected",
                    node,
                    hint=hint,
                )
                raise Refused
            return r
        if expect.kind == "quantity" and expect.unit is not None:
            return self.as_expected_quantity(r, expect, expect.unit, node)
        if r.type.kind != expect.kind:
            self.error(
                Code.EXPR_TYPE,
                f"this expression gives {r.type.describe()}, but {expect.describe()} is expected",
                node,
            )
            raise Refused
        return r

    # -- visitors ----------------------------------------------------------------------------------
    def visit(self, node: ast.expr) -> CheckedNode:
        """Check one sub-expression: one method per kind of syntax node."""
        try:
            match node:
                case ast.Constant():
                    return self.constant(node)
                case ast.Name():
                    return self.name(node)
                case ast.BoolOp():
                    return self.boolop(node)
                case ast.UnaryOp():
                    return self.unary(node)
                case ast.BinOp():
                    return self.binop(node)
                case ast.Compare():
                    return self.compare(node)
                case ast.Call():
                    return self.call(node)
                case ast.List() | ast.Tuple():
                    return self.error(
                        Code.EXPR_NOT_ALLOWED,
                        "a list is only allowed after `in`, e.g. `severity in ['moderate', 'severe']`",
                        node,
                    )
                case _:
                    return self.not_allowed(node)
        except Refused:
            return CheckedNode(ERROR_TYPE, ast.Constant(None), False)
        except units.UnitError as exc:
            # a unit problem not caught where it arose: still a diagnostic at this node, never a raw error
            return self.unit_error(exc, node, "units", "write the value in the unit it is compared with")

    def not_allowed(self, node: ast.AST) -> CheckedNode:
        what = construct_name(node)
        return self.error(Code.EXPR_NOT_ALLOWED, f"{what} is not allowed in an expression", node)

    def constant(self, node: ast.Constant) -> CheckedNode:
        value = node.value
        if isinstance(value, bool):
            return self.const(BOOLEAN, value)
        if isinstance(value, int | float):
            return self.number(node)
        if isinstance(value, str):
            return self.const(STRING, value)
        if value is None:
            return self.error(
                Code.EXPR_NOT_ALLOWED,
                "None is not allowed",
                node,
                hint="a missing fact is unknown automatically; there is no None",
            )
        what = {complex: "a complex number", bytes: "a bytes literal"}.get(type(value), echo(repr(value)))
        return self.error(Code.EXPR_NOT_ALLOWED, f"{what} is not allowed in an expression", node)

    def number(self, node: ast.Constant) -> CheckedNode:
        text = ast.get_source_segment(self.source, node) or ""
        if not _NUMBER_RE.fullmatch(text):
            return self.error(
                Code.EXPR_BAD_NUMBER,
                f"'{echo(text)}' is not a decimal number",
                node,
                hint="write numbers in decimal, e.g. 0.5 or 1500",
            )
        d = Decimal(text.replace("_", ""))
        digits = len(d.as_tuple().digits) if d else 1
        if digits > self.limits.max_number_digits:
            return self.error(
                Code.EXPR_BAD_NUMBER,
                f"'{echo(text)}' has {digits} significant digits, more than "
                f"{self.limits.max_number_digits}",
                node,
            )
        if d and abs(d.adjusted()) > self.limits.max_number_exponent:
            return self.error(
                Code.EXPR_BAD_NUMBER,
                f"'{echo(text)}' is out of range (exponent beyond ±{self.limits.max_number_exponent})",
                node,
            )
        return self.const(NUMBER, d, bare=True)

    def name(self, node: ast.Name) -> CheckedNode:
        name = node.id
        if name in _LITERAL_NAMES:
            return self.const(BOOLEAN, _LITERAL_NAMES[name])
        t = self.env.get(name)
        if t is None:
            if name in REGISTRY:
                return self.error(
                    Code.EXPR_UNKNOWN_NAME,
                    f"'{name}' is a function; call it with arguments, "
                    f"e.g. {REGISTRY[name].signature.split(' ->')[0]}",
                    node,
                )
            hint = None
            if name in ("None", "null", "none", "nil"):
                hint = "a missing fact is unknown automatically; there is no null"
            else:
                close = did_you_mean(name, [*self.env, *_LITERAL_NAMES])
                if close:
                    hint = f"did you mean '{close}'?"
            return self.error(
                Code.EXPR_UNKNOWN_NAME,
                f"'{echo(name)}' is not a declared input or derived value",
                node,
                hint=hint,
            )
        self.names.add(name)
        code = ast.Subscript(ast.Name("v", ast.Load()), ast.Constant(name), ast.Load())
        return CheckedNode(t, code, True, name=name)

    # -- logic -------------------------------------------------------------------------------------
    def boolean_operand(self, node: ast.expr, op: str) -> CheckedNode:
        t = self.visit(node)
        if t.type is ERROR_TYPE:
            return t
        if t.type.kind != "boolean":
            return self.error(
                Code.EXPR_TYPE,
                f"`{op}` needs true/false operands; this is {t.type.describe()}",
                node,
                hint=_boolean_hint(t.type),
            )
        return t

    def boolop(self, node: ast.BoolOp) -> CheckedNode:
        is_and = isinstance(node.op, ast.And)
        op = "and" if is_and else "or"
        parts = [self.boolean_operand(v, op) for v in node.values]
        if any(p.type is ERROR_TYPE for p in parts):
            raise Refused
        return self.kleene(parts, is_and)

    def kleene(self, parts: list[CheckedNode], is_and: bool) -> CheckedNode:
        """Kleene `and` / `or`, evaluating operands left to right and stopping at a deciding value.

        For `and` the deciding value is False and the identity True; for `or` the reverse. When no operand
        decides, the result is UNKNOWN if any operand was unknown, else the identity.
        """
        identity = is_and
        decider = not is_and
        live: list[CheckedNode] = []
        for p in parts:
            if p.is_const:
                if p.const is identity:
                    continue
                # a constant deciding value: the whole is that constant (operands are checked, not evaluated)
                return self.const(BOOLEAN, decider)
            live.append(p)
        if not live:
            return self.const(BOOLEAN, identity)
        if len(live) == 1:
            return live[0]
        return CheckedNode(BOOLEAN, self.builder.kleene([p.code for p in live], is_and), True)

    def unary(self, node: ast.UnaryOp) -> CheckedNode:
        if isinstance(node.op, ast.Not):
            t = self.boolean_operand(node.operand, "not")
            if t.type is ERROR_TYPE:
                raise Refused
            if t.is_const:
                return self.const(BOOLEAN, not t.const)
            return CheckedNode(BOOLEAN, self.builder.negation(t.code), True)
        if isinstance(node.op, ast.Invert):
            what, hint = REFUSED_OPERATORS[ast.Invert]
            return self.error(Code.EXPR_NOT_ALLOWED, f"{what} is not allowed", node, hint=hint)
        t = self.visit(node.operand)
        if t.type is ERROR_TYPE:
            raise Refused
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        if not is_numeric(t.type):
            return self.error(
                Code.EXPR_TYPE,
                f"unary `{sign}` needs a number or a quantity, not {t.type.describe()}",
                node,
                hint="true/false are not numbers" if t.type.kind == "boolean" else None,
            )
        fn = DECIMAL_CONTEXT.minus if sign == "-" else DECIMAL_CONTEXT.plus
        code = self.builder.guarded(
            [(t.code, t.nullable)], lambda r: self.builder.call("_neg" if sign == "-" else "_pos", fn, r)
        )
        if t.is_const:
            return CheckedNode(t.type, self.builder.bind(v := self.fold(code, node)), False, v, t.bare)
        return CheckedNode(t.type, code, t.nullable)

    # -- arithmetic --------------------------------------------------------------------------------
    def binop(self, node: ast.BinOp) -> CheckedNode:
        op_type = type(node.op)
        if op_type not in _ARITHMETIC_TEXT:
            what, hint = REFUSED_OPERATORS.get(op_type, (op_type.__name__, None))
            if op_type is ast.Mod:
                hint = "string formatting and remainders are not part of the language"
            return self.error(Code.EXPR_NOT_ALLOWED, f"{what} is not allowed", node, hint=hint)
        op = _ARITHMETIC_TEXT[op_type]
        left = self.visit(node.left)
        right = self.visit(node.right)
        if left.type is ERROR_TYPE or right.type is ERROR_TYPE:
            raise Refused
        for side in (left, right):
            if not is_numeric(side.type):
                extra = " (true/false are not numbers)" if side.type.kind == "boolean" else ""
                hint = (
                    "use hours_since(t) or days_since(t)"
                    if side.type.kind == "datetime"
                    else "use days_since(d), months_since(d) or within_months(d, n)"
                    if side.type.kind == "date"
                    else "use latest(series)"
                    if side.type.kind == "series"
                    else None
                )
                return self.error(
                    Code.EXPR_TYPE,
                    f"`{op}` needs numbers or quantities; {side.type.describe()} is not one{extra}",
                    node,
                    hint=hint,
                )
        ctx = DECIMAL_CONTEXT
        result_type: ValueType
        if op in "+-":
            left, right, unit = self.unify(left, right, node, f"`{op}`", arithmetic=True)
            result_type = NUMBER if unit is None else ValueType("quantity", unit)
            fn, helper = (ctx.add, "_add") if op == "+" else (ctx.subtract, "_sub")
        elif op == "*":
            lq, rq = left.type.kind == "quantity", right.type.kind == "quantity"
            if lq and rq:
                right = self.same_dim_to_left(left, right, node)
                result_type = NUMBER
            else:
                result_type = left.type if lq else right.type if rq else NUMBER
            fn, helper = ctx.multiply, "_mul"
        else:  # "/"
            lq, rq = left.type.kind == "quantity", right.type.kind == "quantity"
            if rq and not lq:
                return self.error(
                    Code.EXPR_TYPE,
                    f"dividing a number by a quantity [{right.type.unit}] is not "
                    "supported (the unit would be inverted)",
                    node,
                )
            if lq and rq:
                right = self.same_dim_to_left(left, right, node)
                result_type = NUMBER
            else:
                result_type = left.type
            if right.is_const and right.const == 0:
                return self.error(Code.EXPR_DIVISION_BY_ZERO, "division by zero", node.right)
            fn, helper = ctx.divide, "_div"
        code = self.builder.guarded(
            [(left.code, left.nullable), (right.code, right.nullable)],
            lambda r: self.builder.call(helper, fn, r),
        )
        bare = left.bare and right.bare
        if left.is_const and right.is_const:
            value = self.fold(code, node)
            return CheckedNode(result_type, self.builder.bind(value), False, value, bare)
        return CheckedNode(result_type, code, left.nullable or right.nullable, bare=bare)

    # -- comparisons -------------------------------------------------------------------------------
    def compare(self, node: ast.Compare) -> CheckedNode:
        for op in node.ops:
            if isinstance(op, ast.Is | ast.IsNot):
                what, hint = REFUSED_OPERATORS[type(op)]
                return self.error(Code.EXPR_NOT_ALLOWED, f"{what} is not allowed", node, hint=hint)
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if len(node.ops) > 1:
                return self.error(
                    Code.EXPR_NOT_ALLOWED, "`in` cannot be chained with other comparisons", node)
            return self.membership(node)
        operands = [self.visit(node.left), *(self.visit(c) for c in node.comparators)]
        if any(o.type is ERROR_TYPE for o in operands):
            raise Refused
        nodes: list[ast.expr] = [node.left, *node.comparators]
        # in a chain `a < b < c` the middle operand is evaluated once: the first comparison binds it to a
        # temporary (both operands of a comparison are always evaluated) and the next one reads it
        as_right: list[CheckedNode] = list(operands)
        as_left: list[CheckedNode] = list(operands)
        for k in range(1, len(operands) - 1):
            o = operands[k]
            if not o.is_const:
                name = self.builder.temp()
                as_right[k] = CheckedNode(
                    o.type, ast.NamedExpr(ast.Name(name, ast.Store()), o.code), o.nullable, name=o.name
                )
                as_left[k] = CheckedNode(o.type, ast.Name(name, ast.Load()), o.nullable, name=o.name)
        pieces: list[CheckedNode] = []
        for i, op in enumerate(node.ops):
            where: ast.AST = node
            if len(node.ops) > 1:
                where = ast.copy_location(ast.Compare(nodes[i], [op], [nodes[i + 1]]), nodes[i])
            pieces.append(self.comparison(where, _COMPARE_TEXT[type(op)], as_left[i], as_right[i + 1]))
        if any(p.type is ERROR_TYPE for p in pieces):
            raise Refused
        if len(pieces) == 1:
            return pieces[0]
        return self.kleene(pieces, True)

    def comparison(self, node: ast.AST, op: str, left: CheckedNode, right: CheckedNode) -> CheckedNode:
        lk, rk = left.type.kind, right.type.kind
        desc = f"`{op}`"
        if is_numeric(left.type) and is_numeric(right.type):
            orig_l, orig_r = left, right
            left, right, _unit = self.unify(left, right, node, desc, arithmetic=False)
            self.record_threshold(op, orig_l, orig_r, left, right, node)
        elif (lk == "boolean" and rk == "boolean") or (lk == rk and lk in ("datetime", "date")):
            if lk == "boolean" and op not in ("==", "!="):
                return self.error(Code.EXPR_TYPE, f"{desc} cannot order true/false values", node)
        elif lk == "code-set" or rk == "code-set":
            set_t, other = (left, right) if lk == "code-set" else (right, left)
            name = set_t.name or "the set"
            word = "'word'"
            if other.is_const and other.type.kind == "string":
                word = f"'{echo(str(other.const))}'"
            return self.error(
                Code.EXPR_TYPE,
                f"{desc}: {name} is a set of codes (several values at once); it is never equal to one value",
                node,
                hint=f"test membership: `{word} in {name}`, or any_of({name}, 'a', 'b')",
            )
        elif lk == "code" or rk == "code":
            if op not in ("==", "!="):
                return self.error(Code.EXPR_TYPE, f"{desc} cannot order codes; use == or `in`", node)
            other, code_t = (right, left) if lk == "code" else (left, right)
            values = code_t.type.values or frozenset()
            if other.type.kind == "string" and other.is_const:
                if other.const not in values:
                    close = did_you_mean(str(other.const), sorted(values))
                    return self.error(
                        Code.EXPR_UNKNOWN_CODE,
                        f"'{echo(str(other.const))}' is not one of the values of "
                        f"{code_t.name or 'this code'}: {', '.join(sorted(values))}",
                        node,
                        hint=f"did you mean '{close}'?" if close else None,
                    )
            elif other.type.kind == "code":
                if not (values & (other.type.values or frozenset())):
                    return self.error(
                        Code.EXPR_TYPE, "these two codes have no value in common; they are never equal", node
                    )
            else:
                return self.error(
                    Code.EXPR_TYPE,
                    f"{desc}: a code compares only with a quoted value from its list, "
                    f"not with {other.type.describe()}",
                    node,
                )
        else:
            hint = None
            if lk == "string" and rk == "string":
                msg = f"{desc}: comparing two strings is not allowed"
                hint = "strings are only used as code values, units and durations"
            elif {lk, rk} == {"date", "datetime"}:
                msg = f"{desc}: a date (a whole day) cannot be compared with a time"
                hint = "compare whole days, e.g. days_since(d) >= 1, or declare both as dates"
            elif "series" in (lk, rk):
                msg = f"{desc}: a series cannot be compared"
                hint = "use latest(series) or consecutive_days_at_or_above(series, threshold)"
            elif "boolean" in (lk, rk):
                msg = f"{desc}: cannot compare {left.type.describe()} with {right.type.describe()}"
                hint = "true/false are not numbers"
            else:
                msg = f"{desc}: cannot compare {left.type.describe()} with {right.type.describe()}"
            return self.error(Code.EXPR_TYPE, msg, node, hint=hint)
        if left.is_const and right.is_const:
            return self.const(BOOLEAN, bool(_COMPARE[op](left.const, right.const)))
        op_node = _COMPARE_NODES[op]()
        code = self.builder.guarded(
            [(left.code, left.nullable), (right.code, right.nullable)],
            lambda r: ast.Compare(r[0], [op_node], [r[1]]),
        )
        return CheckedNode(BOOLEAN, code, left.nullable or right.nullable)

    def membership(self, node: ast.Compare) -> CheckedNode:
        negate = isinstance(node.ops[0], ast.NotIn)
        word = "not in" if negate else "in"
        left = self.visit(node.left)
        if left.type is ERROR_TYPE:
            raise Refused
        lst = node.comparators[0]
        if not isinstance(lst, ast.List | ast.Tuple):
            return self.set_membership(node, left, lst, negate)
        if left.type.kind == "code-set":
            name = left.name or "the set"
            return self.error(
                Code.EXPR_TYPE,
                f"`{word}` with a list needs one code on the left; {name} is a set of codes",
                node.left,
                hint=f"test overlap with any_of({name}, 'a', 'b') or inclusion with all_of({name}, 'a', 'b')",
            )
        if len(lst.elts) > self.limits.max_list_items:
            return self.error(
                Code.EXPR_TOO_LONG, f"the list has more than {self.limits.max_list_items} items", lst
            )
        items: list[str] = []
        for e in lst.elts:
            if not (isinstance(e, ast.Constant) and isinstance(e.value, str)):
                return self.error(
                    Code.EXPR_NOT_ALLOWED, f"the list after `{word}` may only hold quoted values", e
                )
            items.append(e.value)
        if left.type.kind != "code":
            return self.error(
                Code.EXPR_TYPE,
                f"`{word}` needs a code input on the left, not {left.type.describe()}", node.left
            )
        values = left.type.values or frozenset()
        for e, item in zip(lst.elts, items, strict=True):
            if item not in values:
                close = did_you_mean(item, sorted(values))
                return self.error(
                    Code.EXPR_UNKNOWN_CODE,
                    f"'{echo(item)}' is not one of the values of "
                    f"{left.name or 'this code'}: {', '.join(sorted(values))}",
                    e,
                    hint=f"did you mean '{close}'?" if close else None,
                )
        members = frozenset(items)
        if left.is_const:
            return self.const(BOOLEAN, (left.const in members) != negate)
        op_node: ast.cmpop = ast.NotIn() if negate else ast.In()
        code = self.builder.guarded(
            [(left.code, left.nullable)],
            lambda r: ast.Compare(r[0], [op_node], [self.builder.bind(members, "_s")]),
        )
        return CheckedNode(BOOLEAN, code, left.nullable)

    def set_membership(
        self, node: ast.Compare, left: CheckedNode, right_node: ast.expr, negate: bool
    ) -> CheckedNode:
        """``'word' in causes`` / ``cause in causes`` / ``not in``: membership in a set of codes."""
        word = "not in" if negate else "in"
        right = self.visit(right_node)
        if right.type is ERROR_TYPE:
            raise Refused
        if right.type.kind != "code-set":
            return self.error(
                Code.EXPR_NOT_ALLOWED,
                f"`{word}` needs a literal list of quoted values, e.g. ['moderate', 'severe'], "
                f"or a set-of-codes input; not {right.type.describe()}",
                right_node,
            )
        values = right.type.values or frozenset()
        name = right.name or "the set"
        if left.type.kind == "string" and left.is_const:
            item = str(left.const)
            if item not in values:
                close = did_you_mean(item, sorted(values))
                return self.error(
                    Code.EXPR_UNKNOWN_CODE,
                    f"'{echo(item)}' is not one of the values of {name}: {', '.join(sorted(values))}",
                    node.left,
                    hint=f"did you mean '{close}'?" if close else None,
                )
        elif left.type.kind == "code":
            if not (values & (left.type.values or frozenset())):
                return self.error(
                    Code.EXPR_TYPE,
                    f"{left.name or 'this code'} and {name} have no value in common; it is never in it",
                    node,
                )
        else:
            return self.error(
                Code.EXPR_TYPE,
                f"`{word} {name}` needs a quoted value of its list or a code on the left, "
                f"not {left.type.describe()}",
                node.left,
                hint=f"e.g. `'{sorted(values)[0] if values else 'word'}' {word} {name}`",
            )
        op_node: ast.cmpop = ast.NotIn() if negate else ast.In()
        code = self.builder.guarded(
            [(left.code, left.nullable), (right.code, right.nullable)],
            lambda r: ast.Compare(r[0], [op_node], [r[1]]),
        )
        return CheckedNode(BOOLEAN, code, left.nullable or right.nullable)

    # -- calls -------------------------------------------------------------------------------------
    def call(self, node: ast.Call) -> CheckedNode:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                return self.not_allowed(node.func)
            return self.error(Code.EXPR_NOT_ALLOWED, "only registered functions can be called, by name", node)
        fname = node.func.id
        if node.keywords:
            return self.error(
                Code.EXPR_NOT_ALLOWED,
                f"keyword arguments are not allowed ({echo(fname)}(...))",
                node.keywords[0].value,
                hint="pass arguments by position",
            )
        for a in node.args:
            if isinstance(a, ast.Starred):
                return self.not_allowed(a)
        fn = REGISTRY.get(fname)
        if fn is None:
            if fname in self.env:
                return self.error(
                    Code.EXPR_UNKNOWN_FUNCTION, f"'{echo(fname)}' is an input, not a function", node.func
                )
            close = did_you_mean(fname, list(REGISTRY))
            known = ", ".join(sorted(REGISTRY))
            return self.error(
                Code.EXPR_UNKNOWN_FUNCTION,
                f"'{echo(fname)}' is not a function of the language",
                node.func,
                hint=f"did you mean '{close}'?" if close else f"the functions are: {known}",
            )
        n = len(node.args)
        if not fn.min_args <= n <= fn.max_args:
            want = str(fn.min_args) if fn.min_args == fn.max_args else f"{fn.min_args} to {fn.max_args}"
            return self.error(
                Code.EXPR_ARITY,
                f"{fname}() takes {want} argument{'s' if want != '1' else ''}, {n} given",
                node,
                hint=fn.signature,
            )
        self.functions.add(fname)
        args = [self.visit(a) for a in node.args]
        if any(a.type is ERROR_TYPE for a in args):
            raise Refused
        infos = [ArgInfo(a.type, a.is_const, a.const if a.is_const else None) for a in args]
        try:
            res = fn.resolve(infos)
        except SignatureError as exc:
            where = node.args[exc.arg] if exc.arg is not None and exc.arg < n else node
            return self.error(exc.code, exc.message, where, hint=exc.hint)
        if res.impl is None:
            return CheckedNode(res.result, self.builder.bind(res.constant), False, res.constant)
        passed = [self.scale(args[i], f, node.args[i]) for i, f in zip(res.args, res.factors, strict=True)]
        impl, extra, needs_now = res.impl, res.extra, res.needs_now
        helper = f"_f_{fname}"

        def build(refs: list[ast.expr]) -> ast.expr:
            call_args: list[ast.expr] = []
            if needs_now:
                call_args.append(ast.Name("now", ast.Load()))
            call_args.extend(refs)
            call_args.extend(self.builder.bind(e) for e in extra)
            return self.builder.call(helper, impl, call_args)

        code = self.builder.guarded([(p.code, p.nullable) for p in passed], build)
        nullable = any(p.nullable for p in passed) or res.may_return_unknown
        if all(p.is_const for p in passed) and not needs_now:
            value = self.fold(code, node)
            if value is UNKNOWN:
                return CheckedNode(res.result, self.builder.helper("_U", UNKNOWN), True)
            return CheckedNode(res.result, self.builder.bind(value), False, value)
        return CheckedNode(res.result, code, nullable)
