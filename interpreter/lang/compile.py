"""The expression language's entry: ``compile_expression`` (compile once at load, evaluate many times, fast
and thread-safe), ``CompiledExpression``, and the memo of compilations.

The pipeline: ``parse`` (text -> Python syntax tree, within ``ExpressionLimits``), ``check`` (types, units,
constant folding, the generated code's body: ``ExpressionChecker``), ``codegen`` (a small Python function,
its code object shared by shape). See those modules for the rules.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from ..codes import Code
from ..errors import Diagnostic, Location, Path
from ..values import units
from ..values.types import ValueType
from ..values.unknown import UNKNOWN
from . import uses
from .check import ExpressionChecker
from .checked import Refused
from .codegen import CODE_LOCK, EVALUATION_EXCEPTIONS, clear_code_cache, evaluation_error, generate
from .parse import DEFAULT_LIMITS, ExpressionLimits, SyntaxProblem, parse_expression, syntax_tree
from .quantities import Threshold
from .uses import CodeSetUses

__all__ = ["CompiledExpression", "clear_caches", "compile_expression", "compile_lean"]


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """An expression checked and compiled at load time. Immutable; ``evaluate`` is thread-safe."""

    source: str
    #: the input and derived-value names it reads
    names: frozenset[str]
    #: the static type of its result
    type: ValueType
    #: the validated syntax tree (Python ``ast``) while it is compiled, for the static analyses; None in the
    #: memo and in a loaded guideline (see ``tree``)
    _tree: ast.Expression | None = field(repr=False, compare=False)
    #: the registered functions it calls
    functions: frozenset[str] = frozenset()
    #: ``name OP constant`` comparisons, constants in the name's unit
    thresholds: tuple[Threshold, ...] = ()
    #: the value, when the expression is a constant (e.g. ``true``, ``2 * 3``)
    constant: object = field(default=UNKNOWN, compare=False)
    _fn: Callable[[Mapping[str, object], datetime], object] = field(
        default=None,
        repr=False,  # type: ignore[assignment]
        compare=False,
    )
    # --- what the runtime reads of the tree, read from it at load (``uses``)
    #: every name written in it, functions included
    name_ids: tuple[str, ...] = field(default=(), compare=False)
    #: (series, days) of its day-window calls
    day_windows: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    #: number and quantity name -> ``uses.direct_thresholds``
    _direct: tuple[tuple[str, tuple[Decimal, ...] | None], ...] = field(default=(), repr=False, compare=False)
    #: code-set name -> ``uses.code_set_uses``
    _code_sets: tuple[tuple[str, CodeSetUses], ...] = field(default=(), repr=False, compare=False)

    @property
    def tree(self) -> ast.Expression:
        """The validated syntax tree, for static analysis; never executed. Parsed again from ``source`` when
        not held (a loaded guideline holds none: a tree is several times the size of the compiled code)."""
        return self._tree if self._tree is not None else syntax_tree(self.source)

    def lean(self) -> CompiledExpression:
        """The same expression without its syntax tree (what the memo and a compiled guideline hold)."""
        return self if self._tree is None else replace(self, _tree=None)

    def direct_thresholds(self, name: str) -> tuple[Decimal, ...] | None:
        """The constants ``name`` is compared with, when every use of it is such a comparison; else None."""
        for n, found in self._direct:
            if n == name:
                return found
        return uses.direct_thresholds(self.tree, self.thresholds, name)  # not a number: never on the hot path

    def code_set_uses(self, name: str) -> CodeSetUses:
        """How the code set ``name`` is used (``uses.code_set_uses``)."""
        for n, found in self._code_sets:
            if n == name:
                return found
        return uses.code_set_uses(self.tree, name)

    @property
    def is_constant(self) -> bool:
        return self.constant is not UNKNOWN

    def evaluate(self, values: Mapping[str, object], as_of: datetime) -> object:
        """The value (``Decimal``, ``bool``, ``str``, ``datetime`` ...) or ``UNKNOWN``.

        ``values`` maps every name in ``names`` to its run-time value or ``UNKNOWN``; ``as_of`` is the
        evaluation time (timezone-aware). Raises ``EvaluationError``: ``expr-division-by-zero``,
        ``expr-overflow``, ``expr-invalid-operation``; and ``expr-missing-value`` / ``expr-bad-value`` when
        ``values`` lacks a name or holds a value of the wrong type (a programming error of the caller).
        """
        try:
            return self._fn(values, as_of)
        except EVALUATION_EXCEPTIONS as exc:
            raise evaluation_error(exc, self.source) from None

    @property
    def fn(self) -> Callable[[Mapping[str, object], datetime], object]:
        """The compiled function itself, for the evaluator's hot loop: it raises the raw
        ``EVALUATION_EXCEPTIONS`` (``codegen``), which the caller turns into errors with
        ``codegen.evaluation_error``."""
        return self._fn


#: The empty set of names, shared (``frozenset()`` makes a new object each time).
_NONE: frozenset[str] = frozenset()

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class MemoKey:
    """What a compilation depends on: the source, the expected type, the limits, and the declared type of
    every identifier in the source (None for one that is not declared)."""

    source: str
    expect: ValueType | None
    limits: ExpressionLimits
    #: name, its type, name, its type ... (one flat tuple: a pair per name held twice the memory)
    names: tuple[str | ValueType | None, ...]

    @classmethod
    def of(
        cls, source: str, env: Mapping[str, ValueType], expect: ValueType | None, limits: ExpressionLimits
    ) -> MemoKey:
        get = env.get
        # interned: the same objects as the parser's names (the key holds them as long as the memo)
        names = tuple(x for n in sorted(set(_IDENTIFIER.findall(source))) for x in (sys.intern(n), get(n)))
        return cls(source, expect, limits, names)


#: Successful compilations by ``MemoKey``. A compiled expression holds no location, so one that compiled
#: without any diagnostic can be shared: guidelines repeat conditions (``anc < 1.0``), and versions of a
#: guideline repeat most of them. Load-time only, bounded, guarded by ``CODE_LOCK``; never touched while
#: evaluating.
_EXPR_CACHE: dict[MemoKey, CompiledExpression] = {}
_EXPR_CACHE_MAX = 8192


def clear_caches() -> None:
    """Forget every memoized compilation (for benchmarks that measure a cold start)."""
    with CODE_LOCK:
        _EXPR_CACHE.clear()
        clear_code_cache()


def compile_expression(
    source: str,
    env: Mapping[str, ValueType],
    *,
    location: Location,
    path: Path = (),
    expect: ValueType | None = None,
    limits: ExpressionLimits = DEFAULT_LIMITS,
    position: Callable[[int], Location] | None = None,
) -> tuple[CompiledExpression | None, list[Diagnostic]]:
    """Parse, check and compile ``source`` against ``env`` (name -> type of every input and derived value).

    Returns (compiled expression or None, diagnostics); never raises for bad text. ``location`` is where
    the expression text starts; each diagnostic adds the column of the offending part. ``expect``:
    BOOLEAN for conditions (``expr-expected-boolean`` otherwise), NUMBER, or a quantity type (the result
    is converted exactly to its unit). ``position(offset)``, when given, maps a character offset of
    ``source`` to its place in the file (for expressions written in quotes or over several lines);
    otherwise columns are counted from ``location``. Memoized (see ``MemoKey``).
    """

    _, compiled, diags = compile_lean(
        source, env, location=location, path=path, expect=expect, limits=limits, position=position)
    return compiled, diags


def compile_lean(
    source: str,
    env: Mapping[str, ValueType],
    *,
    location: Location,
    path: Path = (),
    expect: ValueType | None = None,
    limits: ExpressionLimits = DEFAULT_LIMITS,
    position: Callable[[int], Location] | None = None,
) -> tuple[CompiledExpression | None, CompiledExpression | None, list[Diagnostic]]:
    """``compile_expression`` for a guideline being loaded: (the expression to keep, without its syntax tree
    and shared with the memo; the same with its tree, for the static analyses of this load; diagnostics).
    On a memo hit both are the memo's (its tree is parsed again when asked for)."""
    place = _Place(location, path, position)
    if len(source) > limits.max_length:
        compiled, diags = _compile(source, env, place, expect, limits)
        return (compiled.lean() if compiled is not None else None), compiled, diags
    key = MemoKey.of(source, env, expect, limits)
    hit = _EXPR_CACHE.get(key)
    if hit is not None:
        return hit, hit, []
    compiled, diags = _compile(source, env, place, expect, limits)
    if compiled is None:
        return None, None, diags
    lean = compiled.lean()
    if not diags:
        with CODE_LOCK:
            if len(_EXPR_CACHE) < _EXPR_CACHE_MAX:
                _EXPR_CACHE[key] = lean
    return lean, compiled, diags


@dataclass(frozen=True, slots=True)
class _Place:
    """Where an expression is written: its start, its path in the document, and the optional map from an
    offset of the source to its place in the file."""

    location: Location
    path: Path
    position: Callable[[int], Location] | None

    def at(self, offset: int) -> Location:
        if self.position is not None:
            return self.position(offset)
        location = self.location
        return Location(location.file, location.line, location.column + offset if location.column else 0)


def _compile(
    source: str,
    env: Mapping[str, ValueType],
    place: _Place,
    expect: ValueType | None,
    limits: ExpressionLimits,
) -> tuple[CompiledExpression | None, list[Diagnostic]]:
    """``compile_expression`` without the memo."""

    def fail(code: str, message: str, col: int = 0, hint: str | None = None) -> tuple[None, list[Diagnostic]]:
        return None, [Diagnostic(code, message, place.at(col), path=place.path, hint=hint)]

    parsed = parse_expression(source, limits)
    if isinstance(parsed, SyntaxProblem):
        return fail(parsed.code, parsed.message, parsed.column, parsed.hint)
    checker = ExpressionChecker(parsed.text, env, place.location, place.path, limits, parsed.shift, place.at)
    if parsed.disallowed:
        for node in parsed.disallowed:
            if isinstance(node, ast.keyword):
                checker.error(
                    Code.EXPR_NOT_ALLOWED,
                    "keyword arguments are not allowed",
                    node.value,
                    hint="pass arguments by position",
                )
            else:
                checker.not_allowed(node)
        return None, checker.diagnostics
    try:
        result, body = checker.check(parsed.tree, expect)
    except Refused:
        return None, checker.diagnostics
    except (RecursionError, MemoryError):
        return fail(Code.EXPR_TOO_DEEP, "the expression is nested too deeply")
    except units.UnitError as exc:  # a last guard: every unit problem is a diagnostic
        code = units.unit_code(exc, Code.EXPR_UNIT_MISMATCH)
        return fail(code, exc.message, hint="write the value in the unit it is compared with")
    if checker.diagnostics:
        return None, checker.diagnostics
    tree = parsed.tree
    thresholds = tuple(checker.thresholds)
    names = sorted(checker.names)
    kinds = {n: env[n].kind if n in env else None for n in names}
    compiled = CompiledExpression(
        source=source,
        names=frozenset(names) if names else _NONE,
        type=result.type,
        _tree=tree,
        functions=frozenset(checker.functions) if checker.functions else _NONE,
        thresholds=thresholds,
        constant=result.const if result.is_const else UNKNOWN,
        _fn=generate(body, checker.builder.bindings),
        name_ids=uses.name_ids(tree),
        day_windows=uses.day_windows(tree),
        _direct=tuple((n, uses.direct_thresholds(tree, thresholds, n)) for n in names
                      if kinds[n] in ("number", "quantity")),
        _code_sets=tuple((n, uses.code_set_uses(tree, n)) for n in names if kinds[n] == "code-set"),
    )
    return compiled, []
