"""Read facts as JSON, exactly and within limits: ``read_facts`` (a stream) and ``parse_facts_json`` (text).

Numbers are read exactly (``int`` or ``Decimal``, never float). Everything is bounded before the work it
bounds: the bytes read (``fact-too-large``; a stream is never read past ``max_bytes + 1``), the nesting
(``fact-malformed``, measured by a scan of the text before parsing). Keys given twice
(``fact-duplicate-key``), NaN, Infinity and numbers beyond 1e300 (``fact-not-finite``), text that is not
UTF-8 (``fact-encoding``) or not a JSON object (``fact-malformed``) are refused, all at once.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from ..codes import Code
from ..errors import Diagnostic, FactsError, Location, Path
from ..values.jsonscan import nested_deeper
from ..values.text import echo, echo_number
from .checker import DEFAULT_FACTS_LIMITS, FactsLimits, bounded_errors
from .values import FINITE_MAX, FINITE_MIN

__all__ = ["parse_facts_json", "read_facts"]


class _NonFiniteNumber:
    """NaN, Infinity or -Infinity as written in the JSON text (reported, never a float)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers keys given more than once (and the values they hid)."""

    __slots__ = ("duplicates", "hidden")

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.duplicates: list[str] = []
        self.hidden: list[tuple[str, Any]] = []
        for k, v in pairs:
            if k in self:
                self.duplicates.append(k)
                self.hidden.append((k, self[k]))
            self[k] = v


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object: a plain dict, or a ``_JsonObject`` when a key is given more than once."""
    d = dict(pairs)
    return d if len(d) == len(pairs) else _JsonObject(pairs)


def _needs_full_check(data: Any, depth: int, most: int) -> bool:
    """False when no node of ``data`` (at path length ``depth``) can give an error of the full check below
    (no ``_JsonObject``, i.e. no key given twice; no non-finite or out-of-range number; no node deeper than
    ``most``); True when one may, and the full check then finds and reports it. Recursion is bounded: the
    text's nesting was measured before parsing."""
    if depth > most:
        return True
    if type(data) is _JsonObject:
        return True
    values = data.values() if isinstance(data, dict) else data
    child = depth + 1
    for v in values:
        t = type(v)
        if t is dict or t is list or t is _JsonObject:
            if _needs_full_check(v, child, most):
                return True
        elif (child > most or t is _NonFiniteNumber
              or (t is Decimal and v and not FINITE_MIN <= v.copy_abs() <= FINITE_MAX)):
            return True
    return False


def _parse_int(text: str) -> int | Decimal:
    if len(text.lstrip("-")) > 300:
        return Decimal(text)  # refused below as out of range; never int() of a huge digit string
    return int(text)


def _json_nodes(data: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    stack: list[tuple[Path, Any]] = [(path, data)]
    while stack:
        p, d = stack.pop()
        yield p, d
        if isinstance(d, dict):
            stack.extend(((*p, k), v) for k, v in d.items())
            if isinstance(d, _JsonObject):
                stack.extend(((*p, k), v) for k, v in d.hidden)
        elif isinstance(d, list):
            stack.extend(((*p, i), v) for i, v in enumerate(d))


def _too_large(size: str, limits: FactsLimits, file: str) -> FactsError:
    return FactsError(
        [
            Diagnostic(
                Code.FACT_TOO_LARGE,
                f"the facts are {size}; at most {limits.max_bytes} bytes are read",
                Location(file),
                hint="send the facts the guideline declares, with recent results only",
            )
        ]
    )


def read_facts(
    stream: IO[bytes] | IO[str], *, file: str = "<facts>", limits: FactsLimits = DEFAULT_FACTS_LIMITS
) -> dict[str, Any]:
    """Read and parse a facts JSON stream (a file, stdin, a pipe, ``/dev/zero``) within ``limits``.

    A regular file larger than ``limits.max_bytes`` is refused before it is read; any other stream is read
    to at most ``max_bytes + 1`` bytes, never further (``fact-too-large``). Then as ``parse_facts_json``.
    """
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > limits.max_bytes:
        raise _too_large(f"{st.st_size} bytes", limits, file)
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise _too_large(f"more than {limits.max_bytes} bytes", limits, file)
    return parse_facts_json(data, file=file, limits=limits)




def parse_facts_json(
    text: str | bytes, *, file: str = "<facts>", limits: FactsLimits = DEFAULT_FACTS_LIMITS
) -> dict[str, Any]:
    """Parse a JSON object of facts exactly: numbers as ``int``/``Decimal`` (never float).

    Raises ``FactsError`` (all problems at once, at most ``limits.max_errors``) for text beyond
    ``limits.max_bytes`` (``fact-too-large``, before parsing), nesting beyond ``limits.max_depth``
    (``fact-malformed``, before building any value), invalid JSON (``fact-malformed``, with line and column),
    a top level that is not an object (``fact-malformed``), keys given twice (``fact-duplicate-key``), and
    NaN, Infinity, -Infinity or numbers beyond 1e300 such as 1e400 (``fact-not-finite``).
    """
    if len(text) > limits.max_bytes:
        raise _too_large(f"{len(text)} {'bytes' if isinstance(text, bytes | bytearray) else 'characters'}",
                         limits, file)
    if isinstance(text, str) and 4 * len(text) > limits.max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_bytes:
            raise _too_large(f"{size} bytes", limits, file)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FactsError(
                [Diagnostic(Code.FACT_ENCODING, f"the facts are not UTF-8: {exc.reason}", Location(file))]
            ) from None
    if nested_deeper(text, limits.max_depth + 1):
        raise FactsError(
            [
                Diagnostic(
                    Code.FACT_MALFORMED,
                    f"the facts are nested more than {limits.max_depth} deep",
                    Location(file),
                )
            ]
        )
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_int=_parse_int,
            parse_constant=_NonFiniteNumber,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise FactsError(
            [
                Diagnostic(
                    Code.FACT_MALFORMED,
                    f"the facts are not valid JSON: {exc.msg}",
                    Location(file, exc.lineno, exc.colno),
                )
            ]
        ) from None
    except (RecursionError, ValueError, InvalidOperation) as exc:
        raise FactsError(
            [
                Diagnostic(
                    Code.FACT_MALFORMED, f"the facts could not be read: {type(exc).__name__}", Location(file)
                )
            ]
        ) from None
    where = Location(file)
    if not isinstance(data, dict):
        raise FactsError(
            [Diagnostic(Code.FACT_MALFORMED, "the facts must be a JSON object of name: value", where)]
        )
    if not _needs_full_check(data, 0, limits.max_depth):
        return data  # plain dicts and lists only, every number finite and in range
    errors: list[Diagnostic] = []
    for path, node in _json_nodes(data, ()):
        if len(path) > limits.max_depth:
            raise FactsError(
                [
                    Diagnostic(
                        Code.FACT_MALFORMED,
                        f"the facts are nested more than {limits.max_depth} deep",
                        where,
                        path=path[:2],
                    )
                ]
            )
        name = echo(str(path[0])) if path else "<facts>"
        if isinstance(node, _JsonObject) and node.duplicates:
            for k in sorted(set(node.duplicates)):
                errors.append(
                    Diagnostic(
                        Code.FACT_DUPLICATE_KEY,
                        f"'{echo(k)}' is given more than once" + (f" in fact '{name}'" if path else ""),
                        where,
                        path=(*path, k),
                    )
                )
        elif isinstance(node, _NonFiniteNumber):
            errors.append(
                Diagnostic(
                    Code.FACT_NOT_FINITE,
                    f"fact '{name}': {node.text} is not a finite number", where, path=path
                )
            )
        elif isinstance(node, Decimal) and node and not FINITE_MIN <= node.copy_abs() <= FINITE_MAX:
            errors.append(
                Diagnostic(
                    Code.FACT_NOT_FINITE,
                    f"fact '{name}': {echo_number(node)} is out of the range of finite measurements "
                    "(1e-300 to 1e300)",
                    where,
                    path=path,
                )
            )
    if errors:
        raise FactsError(bounded_errors(errors, limits.max_errors, where))
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(data: Any) -> Any:
    """Replace the internal dict subclass by plain dicts."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data
