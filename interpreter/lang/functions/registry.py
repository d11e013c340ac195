"""The function registry's types and the ``@function`` decorator that registers a resolver.

Every function is pure and deterministic (no randomness, no clock: the time functions read the
evaluation's as-of time, passed in explicitly). Each registration has a name, an arity, a readable signature,
a doc string and a compile-time *resolver*, which picks the run-time implementation.

The resolver sees the static type of every argument (and its value when it is a compile-time constant)
and returns a ``Resolved``: the result type, the implementation, which arguments are passed at run time,
the exact unit-conversion factor to apply to each, and constant extra arguments (a rounding exponent, a
window length). So ``bsa(height, weight)`` with height in ``[in_i]`` multiplies height by exactly 2.54
before the call, and ``count_within(series, 'P7D')`` parses the window once, at load.

Run-time implementations never see ``UNKNOWN`` arguments: the compiled expression returns ``UNKNOWN``
before calling a function when any argument is unknown. A function may itself return ``UNKNOWN`` only
when its resolver says so (``latest`` of an empty series).

Arithmetic uses ``DECIMAL_CONTEXT`` (28 significant digits, ROUND_HALF_EVEN, trapping overflow, invalid
operations and division by zero) through explicit context methods; the caller's thread context is never
read or changed.

A new function is one decorated resolver in one of the group modules (``arithmetic``, ``quantities``,
``time``, ``series``); ``catalog.REGISTRY`` collects them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ...values.types import ValueType

__all__ = ["ArgInfo", "Function", "Resolved", "Resolver", "SignatureError", "function", "registered"]


@dataclass(frozen=True, slots=True)
class ArgInfo:
    """What the compiler knows about one argument: its static type and, if constant, its value."""

    type: ValueType
    constant: bool = False
    value: object = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """How to call a function, decided at compile time."""

    result: ValueType
    #: The run-time implementation (None when the result is the compile-time ``constant``).
    impl: Callable[..., object] | None
    #: Indexes of the arguments passed at run time, in order.
    args: tuple[int, ...] = ()
    #: Exact factor to multiply each passed argument by (unit conversion), or None.
    factors: tuple[Decimal | None, ...] = ()
    #: Constant extra arguments appended after the run-time ones.
    extra: tuple[object, ...] = ()
    #: Pass the evaluation's as-of time as the first argument.
    needs_now: bool = False
    #: The function may return UNKNOWN even when every argument is known.
    may_return_unknown: bool = False
    #: For compile-time-only functions (``q``): the value.
    constant: object = None


class SignatureError(Exception):
    """A call does not fit the function's signature; ``code`` is an ``expr-*`` diagnostic code."""

    def __init__(self, code: str, message: str, arg: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.arg = arg
        self.hint = hint


#: A resolver gets the function's registered name (for its messages) and the arguments.
Resolver = Callable[[str, Sequence[ArgInfo]], Resolved]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int
    #: e.g. ``round(x, digits=0) -> same as x``
    signature: str
    doc: str
    resolver: Resolver
    #: True for functions evaluated entirely at compile time (``q``).
    compile_time_only: bool = False

    def resolve(self, args: Sequence[ArgInfo]) -> Resolved:
        """How to call this function with these arguments; raises ``SignatureError``."""
        return self.resolver(self.name, args)


_REGISTERED: dict[str, Function] = {}


def function(
    name: str, *, arity: tuple[int, int], signature: str, doc: str, compile_time_only: bool = False
) -> Callable[[Resolver], Resolver]:
    """Register the decorated resolver as the function ``name``.

    ``arity`` is (fewest, most) arguments; ``signature`` is written without the name, e.g.
    ``"(x, digits=0) -> same as x"``.
    """

    def register(resolver: Resolver) -> Resolver:
        if name in _REGISTERED:
            raise ValueError(f"the function {name!r} is registered twice")
        _REGISTERED[name] = Function(
            name, arity[0], arity[1], name + signature, doc, resolver, compile_time_only
        )
        return resolver

    return register


def registered() -> dict[str, Function]:
    """Every registration so far, in registration order (``catalog`` imports the group modules first)."""
    return dict(_REGISTERED)
