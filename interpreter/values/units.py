"""UCUM units: validation, dimensions and exact conversion factors.

Units are parsed with ``ucumvert`` (a UCUM grammar on top of ``pint``). The pint registry costs about
0.4 s to build, so it is created lazily, once per process, under a lock; pint registries are not
guaranteed to be thread-safe, so *every* use of it happens under that lock and the results are kept in
``functools.lru_cache`` caches of immutable values. The hot evaluation path never touches pint: the
expression compiler and the fact checker ask for factors at load time and keep them.

Exactness. The registry is built with ``non_int_type=Fraction``, so pint computes conversion factors as
exact rationals from the exact definitions (``[lb_av]`` = 0.45359237 kg, ``[in_i]`` = 2.54 cm). A factor
is returned as an exact ``Decimal`` when the rational has a terminating decimal expansion (every factor
between metric units, pounds to kilograms, inches to centimetres...). The few factors that do not
terminate (kilograms to pounds: 1/0.45359237) are refused by ``conversion_factor`` with the code
``unit-inexact``; ``exact_ratio`` gives the exact ``Fraction`` for callers (the fact checker) that round
the *converted value* once, to 28 significant digits.

Where pint falls back to ``float`` (a leading ``/`` as in ``/uL`` gives a float magnitude of exactly
1.0), the float is read back through its shortest ``repr`` and the result is cross-checked against the
float computation (relative error below 1e-12), so a silent loss of exactness is an error, never a
wrong factor.

Non-multiplicative units (Cel, [degF], logarithmic units) are refused for conversion
(``unit-not-multiplicative``), as are conversions involving UCUM arbitrary units (``[iU]``, ``[arb'U]``...)
unless both sides carry the same arbitrary units: UCUM defines no conversion between them.

A failure of the library itself (the registry cannot be built, e.g. with a pint release that refuses
ucumvert's definitions, or an unexpected exception or magnitude) raises ``UnitLibraryError``, a
``UnitError`` with the code ``unit-library-failed``; callers report it at the unit's location with that code
(``unit_code``). A failed registry build is remembered: it is tried once per process. Units in the generated
table (``_unit_table``) never touch the library, so common guidelines and facts still work without it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, Rounded
from fractions import Fraction
from functools import lru_cache
from typing import Any

from ..codes import Code
from ._unit_table import UNIT_TABLE
from .text import echo
from .ucum_spelling import ucum_spelling

__all__ = [
    "LIBRARY_FAILED",
    "UnitError",
    "UnitLibraryError",
    "check_unit",
    "conversion_factor",
    "dimension",
    "exact_decimal",
    "exact_ratio",
    "same_dimension",
    "unit_code",
]

#: Longest unit code accepted (the schema allows 64 characters).
MAX_UNIT_LENGTH = 64
class UnitError(ValueError):
    """A unit code is unknown, or two units cannot be converted. ``code`` is a stable kebab-case code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: The diagnostic code of a unit-library failure (the registry could not be built, or it misbehaved).
LIBRARY_FAILED = Code.UNIT_LIBRARY_FAILED


class UnitLibraryError(UnitError):
    """The UCUM unit library (pint + ucumvert) failed: not a fault of the unit code it was asked about.

    Callers report it with its own code (``unit-library-failed``, see ``unit_code``) at the unit's location.
    """

    def __init__(self, message: str) -> None:
        super().__init__(LIBRARY_FAILED, message)


def unit_code(exc: UnitError, default: str) -> str:
    """The diagnostic code for ``exc``: ``unit-library-failed`` for a library failure, else ``default``."""
    return LIBRARY_FAILED if isinstance(exc, UnitLibraryError) else default


_LOCK = threading.Lock()
_REGISTRY: Any = None
#: The message of a failed registry build; set once, so a broken library costs one attempt per process.
_REGISTRY_FAILURE: str | None = None


def _library_versions() -> str:
    from importlib import metadata

    found = []
    for dist in ("pint", "ucumvert"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except Exception:  # not installed, or broken metadata
            found.append(f"{dist} (not installed)")
    return ", ".join(found)


def _registry() -> Any:
    """The process-wide registry; call only while holding ``_LOCK``.

    Raises ``UnitLibraryError`` when the registry cannot be built; the failure is remembered, so later calls
    raise at once instead of trying again (a build takes about a second).
    """
    global _REGISTRY, _REGISTRY_FAILURE
    if _REGISTRY is None:
        if _REGISTRY_FAILURE is None:
            try:
                _REGISTRY = _build_registry()
            except Exception as exc:  # any failure of the third-party libraries (import, definitions...)
                first = str(exc).splitlines()[0] if str(exc) else ""
                _REGISTRY_FAILURE = (
                    f"the UCUM unit library could not be loaded ({_library_versions()}: "
                    f"{type(exc).__name__}{': ' + echo(first, 120) if first else ''}), so units outside "
                    "the built-in table cannot be checked; install the versions the package declares"
                )
        if _REGISTRY is None:
            assert _REGISTRY_FAILURE is not None
            raise UnitLibraryError(_REGISTRY_FAILURE)
    return _REGISTRY


def _build_registry() -> Any:
    from pathlib import Path

    import pint
    from ucumvert import PintUcumRegistry, ucum_pint

    class _Registry(PintUcumRegistry):  # type: ignore[misc]
        """PintUcumRegistry whose UCUM transformer uses *this* registry.

        The stock class hands the transformer pint's *application* registry (a process-wide object it then
        extends with the UCUM definitions); we keep everything in our own private registry instead.
        """

        def _after_init(self) -> None:
            pint.UnitRegistry._after_init(self)
            files = self.load_definitions(Path(ucum_pint.__file__).resolve().parent / "pint_ucum_defs.txt")
            self._build_cache(files)
            self._ucum_parser = ucum_pint.get_ucum_parser()
            self._from_ucum_transformer = ucum_pint.UcumToPintTransformer(self).transform

    return _Registry(non_int_type=Fraction)


def _to_fraction(x: Any) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return Fraction(x)
    if isinstance(x, float):
        # pint falls back to float in a few places (e.g. 1 / unit); the shortest repr is the intended value
        return Fraction(repr(x))
    if isinstance(x, Decimal):
        return Fraction(x)
    raise UnitLibraryError(f"unexpected magnitude {echo(repr(x))} from the unit library")


_ARBITRARY = re.compile(r"\[[^\]]*(?:'U|IU|iU|_50|CFU|PFU|FFU|BAU|AU|PNU|Lf|FEU|ELU|EU)\]")


@dataclass(frozen=True, slots=True)
class _Parsed:
    code: str
    magnitude: Fraction
    units: Any  # pint Unit; None for a unit read from the table
    dimensionality: tuple[tuple[str, int], ...]
    arbitrary: tuple[str, ...]
    #: the exact factor to the base units of its dimension (table units only)
    base: Fraction | None = None


@lru_cache(maxsize=1024)
def _parse(code: str) -> _Parsed:
    """Read ``code`` from the generated table of common units, else with the UCUM library."""
    entry = UNIT_TABLE.get(code) if isinstance(code, str) else None
    if entry is not None:
        dims, arbitrary, base = entry
        return _Parsed(code, Fraction(1), None, dims, arbitrary, Fraction(base))
    return _parse_with_library(code)


@lru_cache(maxsize=1024)
def _parse_with_library(code: str) -> _Parsed:
    if not isinstance(code, str):
        raise UnitError(Code.UNIT_UNKNOWN, f"{echo(repr(code))} is not a UCUM unit code (not text)")
    if not code or len(code) > MAX_UNIT_LENGTH:
        raise UnitError(
            Code.UNIT_UNKNOWN,
            f"'{echo(code)}' is not a UCUM unit code (1 to {MAX_UNIT_LENGTH} characters, not {len(code)})",
        )
    if code != code.strip() or not code.isascii():
        raise UnitError(
            Code.UNIT_UNKNOWN, f"{echo(repr(code))} is not a UCUM unit code (spaces or non-ASCII characters)"
        )
    with _LOCK:
        reg = _registry()
        try:
            q = reg.from_ucum(code)
        except Exception as exc:  # ucumvert raises several exception types (lark, pint, its own)
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            first = first.removeprefix(f"'{code}' is not a valid UCUM unit: ")
            raise UnitError(
                Code.UNIT_UNKNOWN,
                f"'{echo(code)}' is not a UCUM unit ({echo(first, 80)}){_did_you_mean(code)}",
            ) from None
        try:
            if not hasattr(q, "units"):  # a plain number such as "1" or "10*3"
                q = reg.Quantity(q, "dimensionless")
            dims = tuple(sorted((str(k), int(v)) for k, v in q.dimensionality.items()))
            magnitude = _to_fraction(q.magnitude)
        except UnitError:
            raise
        except Exception as exc:
            raise UnitLibraryError(
                f"the UCUM unit library failed on '{echo(code)}' ({type(exc).__name__})"
            ) from None
        return _Parsed(code, magnitude, q.units, dims, tuple(sorted(_ARBITRARY.findall(code))))


def _did_you_mean(*codes: str) -> str:
    """``; did you mean 'mm[Hg]'?`` for the first of ``codes`` that is a common near-miss (``ucum_spelling``),
    else ``""``."""
    for code in codes:
        spelling = ucum_spelling(code)
        if spelling is not None:
            return f"; did you mean '{spelling}'?"
    return ""


def check_unit(code: str) -> None:
    """Raise ``UnitError('unit-unknown')`` unless ``code`` is a UCUM unit code."""
    _parse(code)


_DIMENSION_NAMES: dict[tuple[tuple[str, int], ...], str] = {
    (("[length]", -3),): "a count per volume",
    (("[mass]", 1),): "a mass",
    (("[length]", 1),): "a length",
    (("[length]", 2),): "an area",
    (("[length]", 3),): "a volume",
    (("[time]", 1),): "a time",
    (("[time]", -1),): "a rate per time",
    (("[temperature]", 1),): "a temperature",
    (("[length]", -3), ("[mass]", 1)): "a mass concentration",
    (("[length]", -3), ("[substance]", 1)): "a substance concentration",
    (("[substance]", 1),): "an amount of substance",
    (("[length]", -2), ("[mass]", 1)): "a mass per area",
    (("[length]", 3), ("[time]", -1)): "a volume per time",
    (("[mass]", 1), ("[time]", -1)): "a mass per time",
}


def dimension(code: str) -> str:
    """What kind of quantity ``code`` measures: ``kg`` -> 'a mass [mass]'. Raises for unknown units."""
    p = _parse(code)
    if not p.dimensionality:
        return "a ratio (dimensionless)" if not p.arbitrary else "arbitrary units " + " ".join(p.arbitrary)
    text = " * ".join(f"{d}**{e}" if e != 1 else d for d, e in p.dimensionality)
    name = _DIMENSION_NAMES.get(p.dimensionality)
    return f"{name} {text}" if name else text


def same_dimension(a: str, b: str) -> bool:
    """Whether quantities in ``a`` and ``b`` can be converted into each other (raises for unknown units)."""
    pa, pb = _parse(a), _parse(b)
    return pa.dimensionality == pb.dimensionality and pa.arbitrary == pb.arbitrary


@lru_cache(maxsize=4096)
def exact_ratio(from_code: str, to_code: str) -> Fraction:
    """The exact factor f such that a value ``x`` in ``from_code`` is ``x * f`` in ``to_code``.

    Raises ``UnitError`` with ``unit-unknown``, ``unit-incompatible`` or ``unit-not-multiplicative``.
    """
    pa, pb = _parse(from_code), _parse(to_code)
    if pa.dimensionality != pb.dimensionality or pa.arbitrary != pb.arbitrary:
        raise UnitError(
            Code.UNIT_INCOMPATIBLE,
            f"'{from_code}' ({dimension(from_code)}) cannot be converted to "
            f"'{to_code}' ({dimension(to_code)}){_did_you_mean(from_code, to_code)}",
        )
    if from_code == to_code:
        return Fraction(1)
    if pa.base is not None and pb.base is not None:
        return pa.base / pb.base
    return _library_ratio(from_code, to_code)


def _library_ratio(from_code: str, to_code: str) -> Fraction:
    """``exact_ratio`` computed by the UCUM library (for units outside the table, and to check the table)."""
    pa, pb = _parse_with_library(from_code), _parse_with_library(to_code)
    with _LOCK:
        reg = _registry()
        try:
            one = reg.Quantity(Fraction(1), pa.units).to(pb.units).magnitude
            two = reg.Quantity(Fraction(2), pa.units).to(pb.units).magnitude
            zero = reg.Quantity(Fraction(0), pa.units).to(pb.units).magnitude
            fone = reg.Quantity(1.0, pa.units).to(pb.units).magnitude
        except Exception as exc:
            if type(exc).__name__ != "DimensionalityError":  # the dimensions were compared above
                raise UnitLibraryError(
                    f"the UCUM unit library failed converting '{echo(from_code)}' to '{echo(to_code)}' "
                    f"({type(exc).__name__})"
                ) from None
            raise UnitError(
                Code.UNIT_INCOMPATIBLE, f"'{from_code}' cannot be converted to '{to_code}': {exc}"
            ) from None
    f1, f2 = _to_fraction(one), _to_fraction(two)
    if f2 != 2 * f1 or _to_fraction(zero) != 0:
        raise UnitError(
            Code.UNIT_NOT_MULTIPLICATIVE,
            f"'{from_code}' to '{to_code}' is not a conversion by a factor (an offset or log scale)",
        )
    ratio = f1 * pa.magnitude / pb.magnitude
    if ratio <= 0:
        raise UnitError(Code.UNIT_NOT_MULTIPLICATIVE, f"'{from_code}' to '{to_code}' has no positive factor")
    approx = float(fone) * float(pa.magnitude) / float(pb.magnitude)
    if abs(float(ratio) - approx) > 1e-12 * abs(approx):
        raise UnitLibraryError(f"the factor from '{from_code}' to '{to_code}' could not be made exact")
    return ratio


def _terminating(f: Fraction) -> Decimal | None:
    d = f.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return None
    scale = max(twos, fives)
    numerator = f.numerator * (10**scale // f.denominator)
    if not scale:
        return Decimal(numerator)
    # exact, whatever the thread's decimal context says (a host may have set a low precision)
    exact = Context(prec=len(str(abs(numerator))) + 1, traps=[Inexact, Rounded])
    return Decimal(numerator).scaleb(-scale, exact).normalize(exact)


def exact_decimal(ratio: Fraction) -> Decimal | None:
    """``ratio`` as an exact Decimal, or None when its decimal expansion does not terminate."""
    return _terminating(ratio)


@lru_cache(maxsize=4096)
def conversion_factor(from_code: str, to_code: str) -> Decimal:
    """The EXACT ``Decimal`` factor from ``from_code`` to ``to_code`` (value_in_to = value_in_from * factor).

    ``conversion_factor('/uL', '10*9/L') == Decimal('0.001')``; ``conversion_factor('[lb_av]', 'kg') ==
    Decimal('0.45359237')``. Raises ``UnitError``: ``unit-unknown``, ``unit-incompatible`` (different
    dimensions), ``unit-not-multiplicative``, ``unit-inexact`` (the factor has no finite decimal expansion,
    e.g. kg to [lb_av]; convert the other way).
    """
    ratio = exact_ratio(from_code, to_code)
    dec = _terminating(ratio)
    if dec is None:
        raise UnitError(
            Code.UNIT_INEXACT,
            f"the factor from '{from_code}' to '{to_code}' ({ratio}) has no exact decimal value",
        )
    return dec
