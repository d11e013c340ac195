"""Code generation: the builder of a generated function's body, the unknown guard, the Kleene connectives,
folding of constant parts, the code-object memo by shape, and the errors the generated code may raise.

The body of a generated function is built only from AST nodes this module and the checker create
themselves (never from the author's tree): reads of the values mapping (``v['anc']``), comparisons, Decimal
context methods, the registered function implementations and the ``UNKNOWN`` singleton (``_U``). It is
compiled with ``compile()`` and executed with empty ``__builtins__``; constants and helpers are closure
variables. Temporaries (``_t1 := ...``) are locals of the generated function, so one compiled expression may
be evaluated from any number of threads at once: there is no shared mutable state.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import DecimalException, DivisionByZero, InvalidOperation, Overflow, Subnormal, Underflow
from types import CodeType, FunctionType
from typing import Any

from ..codes import Code
from ..errors import EvaluationError
from ..values.text import echo
from ..values.unknown import UNKNOWN

__all__ = [
    "CODE_LOCK",
    "EVALUATION_EXCEPTIONS",
    "CodeBuilder",
    "clear_code_cache",
    "evaluation_error",
    "fold_constant",
    "generate",
]

#: What a compiled function may raise; ``evaluation_error`` turns each into an ``EvaluationError``.
EVALUATION_EXCEPTIONS = (DecimalException, KeyError, TypeError, AttributeError)


def evaluation_error(exc: Exception, source: str) -> EvaluationError:
    """The ``EvaluationError`` for an exception raised by ``CompiledExpression.fn``."""
    if isinstance(exc, DivisionByZero):
        return EvaluationError(Code.EXPR_DIVISION_BY_ZERO, "division by zero", expression=source)
    if isinstance(exc, Overflow | Underflow | Subnormal):
        return EvaluationError(
            Code.EXPR_OVERFLOW, "a number went out of range (beyond 1e999 or below 1e-999)", expression=source
        )
    if isinstance(exc, InvalidOperation):
        return EvaluationError(
            Code.EXPR_INVALID_OPERATION,
            "an invalid arithmetic operation (0/0, the square root of a negative number, or a "
            "result with more than 28 digits)",
            expression=source,
        )
    if isinstance(exc, KeyError):
        return EvaluationError(
            Code.EXPR_MISSING_VALUE, f"no value was supplied for {echo(str(exc))}", expression=source
        )
    if isinstance(exc, TypeError | AttributeError):
        return EvaluationError(
            Code.EXPR_BAD_VALUE,
            f"a value of the wrong type was supplied ({echo(str(exc))}); values must be checked by the "
            "FactChecker",
            expression=source,
        )
    return EvaluationError(
        Code.EXPR_INVALID_OPERATION, f"{type(exc).__name__}: {echo(str(exc))}", expression=source
    )


def _unknown() -> ast.Name:
    return ast.Name("_U", ast.Load())


class CodeBuilder:
    """The closure variables (constants and helpers) and temporaries of one generated function."""

    def __init__(self) -> None:
        self.bindings: dict[str, object] = {"_U": UNKNOWN}
        self._const_ids: dict[tuple[type, str], str] = {}
        self._temps = 0

    def bind(self, value: object, prefix: str = "_k") -> ast.expr:
        """A constant: inline when it is a bool, str or None, else a closure variable (one per value)."""
        if isinstance(value, bool | str) or value is None:
            return ast.Constant(value)
        key = (type(value), repr(value))
        name = self._const_ids.get(key)
        if name is None:
            name = f"{prefix}{len(self.bindings)}"
            self._const_ids[key] = name
            self.bindings[name] = value
        return ast.Name(name, ast.Load())

    def helper(self, name: str, obj: object) -> ast.expr:
        self.bindings.setdefault(name, obj)
        return ast.Name(name, ast.Load())

    def call(self, helper: str, obj: object, args: Sequence[ast.expr]) -> ast.expr:
        return ast.Call(self.helper(helper, obj), list(args), [])

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def guarded(
        self, operands: Sequence[tuple[ast.expr, bool]], build: Callable[[list[ast.expr]], ast.expr]
    ) -> ast.expr:
        """``_U if any operand is UNKNOWN else build(operands)``; every operand evaluated exactly once.

        ``operands`` are (code, may be unknown)."""
        refs: list[ast.expr] = []
        tests: list[ast.expr] = []
        for code, nullable in operands:
            if not nullable:
                refs.append(code)
                continue
            if isinstance(code, ast.Name) and code.id.startswith("_t"):
                name = code.id
                target: ast.expr = ast.Name(name, ast.Load())
            else:
                name = self.temp()
                target = ast.NamedExpr(ast.Name(name, ast.Store()), code)
            tests.append(ast.Compare(target, [ast.Is()], [_unknown()]))
            refs.append(ast.Name(name, ast.Load()))
        body = build(refs)
        if not tests:
            return body
        test = tests[0]
        for t in tests[1:]:
            test = ast.BinOp(test, ast.BitOr(), t)
        return ast.IfExp(test, _unknown(), body)

    def kleene(self, codes: Sequence[ast.expr], is_and: bool) -> ast.expr:
        """Kleene `and` / `or` of two or more possibly-unknown operands, left to right, stopping at a
        deciding value.

        ``(_t1 := A) is decider -> decider, else (_t2 := B) is decider -> decider, ..., else the identity
        when every operand IS the identity, else UNKNOWN``. For `and` the deciding value is False and the
        identity True; for `or` the reverse. Only the True/False objects count (identity tests): a value
        that is neither (the fact checker never produces one) gives UNKNOWN, never a branch.
        """
        identity = is_and
        decider = not is_and
        names = [self.temp() for _ in codes]
        all_identity: ast.expr | None = None
        for name in names:
            c = ast.Compare(ast.Name(name, ast.Load()), [ast.Is()], [ast.Constant(identity)])
            all_identity = c if all_identity is None else ast.BinOp(all_identity, ast.BitAnd(), c)
        assert all_identity is not None
        tail: ast.expr = ast.IfExp(all_identity, ast.Constant(identity), _unknown())
        for code, name in reversed(list(zip(codes, names, strict=True))):
            bound = ast.NamedExpr(ast.Name(name, ast.Store()), code)
            tail = ast.IfExp(
                ast.Compare(bound, [ast.Is()], [ast.Constant(decider)]), ast.Constant(decider), tail
            )
        return tail

    def negation(self, code: ast.expr) -> ast.expr:
        """False if ``code`` is True, True if it is False, else UNKNOWN (identity tests only)."""
        name = self.temp()
        bound = ast.NamedExpr(ast.Name(name, ast.Store()), code)
        return ast.IfExp(
            ast.Compare(bound, [ast.Is()], [ast.Constant(True)]),
            ast.Constant(False),
            ast.IfExp(
                ast.Compare(ast.Name(name, ast.Load()), [ast.Is()], [ast.Constant(False)]),
                ast.Constant(True),
                _unknown(),
            ),
        )


def fold_constant(code: ast.expr, bindings: Mapping[str, object]) -> object:
    """Evaluate generated code whose operands are all constants (at load time); raises DecimalException."""
    expr = ast.fix_missing_locations(ast.Expression(code))
    compiled = compile(expr, "<constant>", "eval")
    scope: dict[str, Any] = {"__builtins__": {}, **bindings}
    return eval(compiled, scope)


#: Code objects by the shape of the generated function (the body's structure and the closure names).
#: Constants and helpers are closure variables, so ``anc < 1.0`` and ``anc < 1.5`` share one code object.
#: A load-time memo of immutable objects, bounded, guarded by a lock; never touched while evaluating.
_CODE_CACHE: dict[tuple[str, ...], CodeType] = {}
_CODE_CACHE_MAX = 4096
#: Guards both load-time memos (this one and the compiled expressions of ``compile``).
CODE_LOCK = threading.Lock()


def clear_code_cache() -> None:
    """Forget every memoized code object (the caller holds ``CODE_LOCK``)."""
    _CODE_CACHE.clear()


def _locate(node: ast.AST) -> None:
    """Give every generated node a location (``compile`` needs one); faster than fix_missing_locations."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n._attributes:
            n.lineno = n.end_lineno = 1  # type: ignore[attr-defined]
            n.col_offset = n.end_col_offset = 0  # type: ignore[attr-defined]
        for f in n._fields:
            v = getattr(n, f, None)
            if v.__class__ is list:
                stack.extend(x for x in v if isinstance(x, ast.AST))
            elif isinstance(v, ast.AST):
                stack.append(v)


def _ast_classes() -> dict[type, str]:
    """Every syntax node class with its own one-character code (built once, at import; never changed)."""
    found: list[type] = []
    stack: list[type] = [ast.AST]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    classes = sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))
    # one byte per character while the codes fit U+0080-U+00FF and the control characters (the key stays
    # Latin-1 text); more classes than that (a later Python) take characters above U+00FF
    codes = [chr(c) for c in (*range(0x80, 0x100), *range(0x01, 0x20))]
    codes += [chr(0x100 + i) for i in range(max(0, len(classes) - len(codes)))]
    return dict(zip(classes, codes, strict=False))


_CLASS_CODES = _ast_classes()


def _shape(node: object) -> str:
    """An exact structural key of a generated tree, as compact text (a nested tuple per node held several
    times the memory in the memo). Written in prefix order: a node is its class's code (one character per
    class, never a letter, ``_``, ``[`` or ``]``) followed by its fields (a class has a fixed number of them);
    a list is ``[``, its items, ``]``; any other value is ``<type name>:<repr>`` ended by a NUL, which no
    ``repr`` contains unescaped. Two trees get the same key only when they have the same classes, fields
    and values."""
    out: list[str] = []
    _write_shape(node, out)
    return "".join(out)


def _write_shape(node: object, out: list[str]) -> None:
    if isinstance(node, ast.AST):
        out.append(_CLASS_CODES[node.__class__])
        for f in node._fields:
            _write_shape(getattr(node, f, None), out)
    elif node.__class__ is list:
        out.append("[")
        for x in node:
            _write_shape(x, out)
        out.append("]")
    else:
        out.append(f"{node.__class__.__name__}:{node!r}\0")


def _function_def(name: str, params: Sequence[str], body: list[ast.stmt]) -> ast.FunctionDef:
    return ast.FunctionDef(
        name=name,
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(n) for n in params],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=body,
        decorator_list=[],
    )


def generate(
    body: ast.expr, bindings: Mapping[str, object]
) -> Callable[[Mapping[str, object], datetime], object]:
    """Build ``def _make(<bindings>): def _f(v, now): return <body>; return _f`` and call it."""
    names = sorted(bindings)
    key = (*names, _shape(body))
    code = _CODE_CACHE.get(key)
    if code is None:
        inner = _function_def("_f", ["v", "now"], [ast.Return(body)])
        outer = _function_def("_make", names, [inner, ast.Return(ast.Name("_f", ast.Load()))])
        module = ast.Module(body=[outer], type_ignores=[])
        _locate(module)
        # the code of `_make` itself (the module's only function), not the module's: no `exec` of a module
        # per expression, and no namespace per expression
        [code] = [c for c in compile(module, "<expression>", "exec").co_consts if isinstance(c, CodeType)]
        with CODE_LOCK:
            if len(_CODE_CACHE) < _CODE_CACHE_MAX:
                _CODE_CACHE[key] = code
    make = FunctionType(code, _GLOBALS)
    fn: Callable[[Mapping[str, object], datetime], object] = make(*(bindings[n] for n in names))
    return fn


#: The globals of every generated function: no builtins, nothing else. Never written: the generated code
#: reads only its arguments and closure variables, and assigns only its own locals (``_t1 := ...``).
_GLOBALS: dict[str, Any] = {"__builtins__": {}}
