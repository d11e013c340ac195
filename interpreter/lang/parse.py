"""Syntax: the limits, the allow-list of syntax nodes, and source text -> a Python syntax tree or a
syntax problem (never an exception for bad text).

The text is parsed with Python's own parser (``ast.parse(mode='eval')``) after the checks Python would not
make (plain ASCII, no comments, bracket depth, a number run into a name), and the tree is measured (node
count and depth, iteratively). Nodes off the allow-list are returned, not refused here: the checker reports
each at its column.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Final

from ..codes import Code
from ..values.text import echo

__all__ = [
    "DEFAULT_LIMITS",
    "REFUSED_OPERATORS",
    "ExpressionLimits",
    "Parsed",
    "SyntaxProblem",
    "construct_name",
    "parse_expression",
    "syntax_tree",
]


@dataclass(frozen=True, slots=True)
class ExpressionLimits:
    """Limits checked at compile time (an expression over a limit is refused with a diagnostic)."""

    #: characters of source text (``expr-too-long``)
    max_length: int = 2000
    #: nesting depth of the syntax tree, and of brackets (``expr-too-deep``)
    max_depth: int = 32
    #: syntax-tree nodes (``expr-too-long``)
    max_nodes: int = 600
    #: strings in an ``in [...]`` list (``expr-too-long``)
    max_list_items: int = 200
    #: significant digits of a numeric literal (``expr-bad-number``); equals the arithmetic precision
    max_number_digits: int = 28
    #: largest |exponent| of a numeric literal in scientific form (``expr-bad-number``)
    max_number_exponent: int = 100


DEFAULT_LIMITS: Final = ExpressionLimits()


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """Why the text is no expression: a diagnostic code and message at a column of the source."""

    code: str
    message: str
    column: int = 0
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed expression: the text on one line, the columns cut from its start, the tree, and the
    outermost nodes that are not on the allow-list (empty when the tree may be checked)."""

    text: str
    shift: int
    tree: ast.Expression
    disallowed: list[ast.AST]


#: Names for the constructs that are refused, in messages ("... is not allowed in an expression").
_CONSTRUCTS: dict[type, str] = {
    ast.Attribute: "attribute access (`.`)",
    ast.Subscript: "indexing or slicing (`[...]`)",
    ast.Slice: "slicing",
    ast.Lambda: "lambda",
    ast.IfExp: "an `x if condition else y` expression",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Starred: "`*` unpacking",
    ast.Dict: "a dictionary",
    ast.Set: "a set literal (use a list after `in`)",
    ast.NamedExpr: "assignment `:=`",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


#: Operators that are refused: (what, hint).
REFUSED_OPERATORS: dict[type, tuple[str, str | None]] = {
    ast.Pow: ("the power operator `**`", "use sqrt() for square roots"),
    ast.Mod: ("the operator `%`", None),
    ast.FloorDiv: ("the operator `//`", "use / and round()"),
    ast.MatMult: ("the operator `@`", None),
    ast.LShift: ("the operator `<<`", None),
    ast.RShift: ("the operator `>>`", None),
    ast.BitOr: ("the operator `|`", "use `or`"),
    ast.BitAnd: ("the operator `&`", "use `and`"),
    ast.BitXor: ("the operator `^`", None),
    ast.Invert: ("the operator `~`", "use `not`"),
    ast.Is: ("`is`", "use =="),
    ast.IsNot: ("`is not`", "use !="),
}


def construct_name(node: ast.AST) -> str:
    """What a refused syntax node is called in a message."""
    return _CONSTRUCTS.get(type(node), type(node).__name__)


_ALLOWED_NODES: tuple[type, ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.UnaryOp,
    ast.BinOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Load,
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.In,
    ast.NotIn,
)


def parse_expression(source: str, limits: ExpressionLimits) -> Parsed | SyntaxProblem:
    """The parsed expression, or the first problem found (in the order the checks are listed above)."""
    if not isinstance(source, str):
        return SyntaxProblem(Code.EXPR_SYNTAX, f"an expression must be text, not {type(source).__name__}")
    if len(source) > limits.max_length:
        return SyntaxProblem(
            Code.EXPR_TOO_LONG,
            f"the expression has {len(source)} characters; the limit is {limits.max_length}"
        )
    bad = _NOT_PLAIN_ASCII.search(source)
    if bad is not None:
        return SyntaxProblem(
            Code.EXPR_SYNTAX,
            f"the character {bad.group()!r} is not allowed (expressions are plain ASCII)",
            bad.start(),
            hint="look for a pasted symbol such as ≤ or a non-breaking space",
        )
    text, shift = _one_line(source)
    if not text.strip():
        return SyntaxProblem(Code.EXPR_SYNTAX, "the expression is empty")
    openers = text.count("(") + text.count("[") + text.count("{")  # the depth is at most this
    if openers > limits.max_depth and _lexical_depth(text) > limits.max_depth:
        return SyntaxProblem(Code.EXPR_TOO_DEEP, f"brackets are nested more than {limits.max_depth} deep")
    problem = _token_problem(text, shift) if _may_have_token_problem(text) else None
    if problem is not None:
        return problem
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        problem = _syntax_error(text, exc)
        return SyntaxProblem(problem.code, problem.message, shift + problem.column, problem.hint)
    except (RecursionError, MemoryError):
        return SyntaxProblem(Code.EXPR_TOO_DEEP, "the expression is nested too deeply to parse")
    except ValueError as exc:
        return SyntaxProblem(Code.EXPR_SYNTAX, f"not a valid expression: {echo(str(exc), 80)}")
    count, depth, clean = _tree_shape(tree)
    if depth > limits.max_depth:
        return SyntaxProblem(
            Code.EXPR_TOO_DEEP,
            f"the expression is nested {depth} levels deep; the limit is {limits.max_depth}"
        )
    if count > limits.max_nodes:
        return SyntaxProblem(
            Code.EXPR_TOO_LONG, f"the expression has {count} parts; the limit is {limits.max_nodes}"
        )
    return Parsed(text, shift, tree, [] if clean else _disallowed(tree))


#: A character other than printable ASCII, tab, newline or carriage return (ASCII's printable characters are
#: exactly 0x20-0x7E, so this is ``not (ch.isascii() and (ch.isprintable() or ch in " \t\n\r"))``).
_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e\t\n\r]")
#: A maximal run of the characters a NAME or NUMBER token is made of (the text is plain ASCII by then).
_WORD_RUN = re.compile(r"[0-9A-Za-z_.]+")
#: Runs that hold no number followed at once by a name or number: a name, or a plain decimal number.
_SAFE_RUN = re.compile(r"[A-Za-z_][0-9A-Za-z_]*|[0-9]+\.[0-9]+|0|[1-9][0-9]*")


def _may_have_token_problem(text: str) -> bool:
    """False when ``_token_problem`` surely finds nothing, without running Python's (slow) tokenizer.

    It finds a comment (only where ``#`` is) or a NUMBER token followed at once by a NAME or NUMBER token.
    Such tokens are made of the characters of ``_WORD_RUN`` (a number's exponent sign aside, which needs an
    ``e`` before it), so two adjacent ones lie in one maximal run of them; a run that is a plain name or a
    plain decimal number (``007`` is two tokens, so a leading zero is not plain) is one token, or text in a
    string. Any other run takes the tokenizer (tests/test_load_fast.py compares both on random text)."""
    if "#" in text:
        return True
    return any(_SAFE_RUN.fullmatch(m.group()) is None for m in _WORD_RUN.finditer(text))


def _one_line(source: str) -> tuple[str, int]:
    """One logical line: newlines (from YAML block scalars) become spaces; offsets are kept. Returns the text
    without its leading blanks and how many were cut."""
    flat = source.replace("\r\n", "  ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    text = flat.lstrip()
    return text, len(flat) - len(text)


def quiet_tree(text: str) -> ast.Expression | None:
    """The eval-mode tree of ``text`` for an analysis that reads conditions as written, or None when Python
    refuses it; a text with a number run into a name (or a comment) is None without asking Python's parser,
    which would print a SyntaxWarning (such a condition did not compile and has its own error)."""
    if _may_have_token_problem(text) and _token_problem(text, 0) is not None:
        return None
    try:
        return ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def syntax_tree(source: str) -> ast.Expression:
    """The tree ``parse_expression`` gave for ``source``, which it accepted (for the static analyses and
    tools that read the tree of a compiled expression, which does not keep it)."""
    return ast.parse(_one_line(source)[0], mode="eval")


def _token_problem(text: str, shift: int) -> SyntaxProblem | None:
    """A number run into a name, or a comment: what Python's tokenizer sees that its parser would not
    report well."""
    try:
        previous: tokenize.TokenInfo | None = None
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if (
                previous is not None
                and previous.type == tokenize.NUMBER
                and tok.type in (tokenize.NAME, tokenize.NUMBER)
                and tok.start == previous.end
            ):
                # `1abc`, `0x1for`: Python's parser would print a SyntaxWarning before failing
                return SyntaxProblem(
                    Code.EXPR_SYNTAX,
                    f"`{echo(previous.string + tok.string)}` is not a number",
                    shift + previous.start[1],
                    hint="put a space between a number and a name",
                )
            previous = tok
            if tok.type == tokenize.COMMENT:
                return SyntaxProblem(
                    Code.EXPR_NOT_ALLOWED,
                    "`#` starts a comment, which would silently cut the expression short",
                    shift + tok.start[1],
                    hint="remove the # and what follows",
                )
    except (tokenize.TokenError, SyntaxError):
        pass  # the parser reports it
    return None


def _syntax_error(source: str, exc: SyntaxError) -> SyntaxProblem:
    """The problem (column relative to ``source``) for a source Python refuses in eval mode."""
    col = max((exc.offset or 1) - 1, 0) if (exc.lineno or 1) == 1 else 0
    try:
        module = ast.parse(source, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        module = None
    if module is not None:
        body = module.body
        if len(body) > 1:
            second = body[1]
            return SyntaxProblem(
                Code.EXPR_SYNTAX,
                "only one expression is allowed; `;` and new statements are not",
                getattr(second, "col_offset", col),
                "combine conditions with `and` / `or`",
            )
        if body and isinstance(body[0], ast.Assign | ast.AugAssign | ast.AnnAssign):
            stmt = body[0]
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
            end = getattr(target, "end_col_offset", None) or col
            return SyntaxProblem(
                Code.EXPR_SYNTAX,
                "`=` assigns; an expression cannot assign",
                end,
                "use == to compare, e.g. `anc == 500`",
            )
        if body and not isinstance(body[0], ast.Expr):
            return SyntaxProblem(
                Code.EXPR_SYNTAX,
                f"a statement ({type(body[0]).__name__.lower()}) is not an expression",
                getattr(body[0], "col_offset", 0),
                None,
            )
    msg = echo(exc.msg or "invalid syntax", 80)
    hint = None
    if "'='" in msg or ("==" in msg and "=" in source):
        hint = "use == to compare"
    return SyntaxProblem(Code.EXPR_SYNTAX, f"not a valid expression: {msg}", col, hint)


def _lexical_depth(source: str) -> int:
    depth = best = 0
    for ch in source:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def _tree_shape(tree: ast.AST) -> tuple[int, int, bool]:
    """(node count, depth, whether every node is allowed), iteratively (never recursion)."""
    count = 0
    best = 0
    clean = True
    ok = _CLEAN_NODES
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, d = pop()
        count += 1
        best = max(best, d)
        if clean and not isinstance(node, ok):
            clean = False
        d += 1
        for name in node._fields:  # the children ``ast.iter_child_nodes`` gives, without its generators
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                push((value, d))
            elif value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        push((item, d))
    return count, best, clean


_SKIP_NODES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)
#: Nodes ``_disallowed`` passes over: when every node is one, nothing is disallowed.
_CLEAN_NODES = _ALLOWED_NODES + _SKIP_NODES


def _disallowed(tree: ast.AST) -> list[ast.AST]:
    """The outermost nodes that are not on the allow-list (operators are checked by the checker)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, _SKIP_NODES):
            continue
        if not isinstance(node, _ALLOWED_NODES):
            found.append(node)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
