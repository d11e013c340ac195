"""The UCUM spelling of common near-misses (L0): ``mmHg`` -> ``mm[Hg]``, ``mcg`` -> ``ug``, ``K/uL`` ->
``10*3/uL``. Used by ``units`` to suggest the right code in unit errors; docs/language.md ("Units: a
cheat-sheet") lists the same table.

Some near-misses are valid UCUM with another meaning (``K/uL`` is kelvin per microlitre, ``ft`` a
femtotonne, ``C`` a coulomb, ``G/L`` gauss per litre): they are suggested when the unit is refused because
it measures something else.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["NEAR_MISSES", "ucum_spelling"]

#: Written form -> UCUM code. Looked up as written, then without regard to case.
NEAR_MISSES: Final[dict[str, str]] = {
    # pressure
    "mmHg": "mm[Hg]", "mm Hg": "mm[Hg]", "cmH2O": "cm[H2O]", "cm H2O": "cm[H2O]",
    # mass
    "mcg": "ug", "microgram": "ug", "micrograms": "ug", "gm": "g", "gms": "g", "kgs": "kg", "lb": "[lb_av]",
    "lbs": "[lb_av]", "pound": "[lb_av]", "pounds": "[lb_av]", "oz": "[oz_av]",
    "mcg/kg": "ug/kg", "mcg/m2": "ug/m2", "mcg/kg/min": "ug/kg/min",
    # counts per volume
    "cells/uL": "/uL", "cells/mm3": "/mm3", "cells/mcL": "/uL", "/mcL": "/uL", "/cmm": "/mm3",
    "K/uL": "10*3/uL", "K/mcL": "10*3/uL", "k/uL": "10*3/uL", "x10^3/uL": "10*3/uL", "10^3/uL": "10*3/uL",
    "x10^9/L": "10*9/L", "x10E9/L": "10*9/L", "10e9/L": "10*9/L", "10E9/L": "10*9/L", "G/L": "10*9/L",
    "x10^12/L": "10*12/L", "10e12/L": "10*12/L", "T/L": "10*12/L",
    # volume
    "mcL": "uL", "cc": "mL", "ml": "mL",
    # temperature
    "degC": "Cel", "°C": "Cel", "C": "Cel", "celsius": "Cel", "degF": "[degF]", "°F": "[degF]", "F": "[degF]",
    # length and area
    "in": "[in_i]", "inch": "[in_i]", "inches": "[in_i]", "ft": "[ft_i]", "feet": "[ft_i]", "m^2": "m2",
    "sqm": "m2", "m²": "m2",
    # time and rates
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "sec": "s", "secs": "s", "mins": "min", "day": "d",
    "days": "d", "wk": "wk", "week": "wk", "weeks": "wk", "yr": "a", "yrs": "a", "year": "a", "years": "a",
    "bpm": "/min",
    # substance and arbitrary units
    "mEq/L": "meq/L", "mcmol/L": "umol/L", "IU": "[IU]", "IU/L": "[IU]/L", "iu": "[iU]",
}
_LOWER: Final = {k.lower(): v for k, v in NEAR_MISSES.items()}
#: ``mc`` as a prefix for micro (``mcg``, ``mcmol``, ``mcL``) is ``u`` in UCUM.
_MICRO: Final = re.compile(r"(?<![A-Za-z])mc(?=g|L|l|mol)")


#: Simple units whose UCUM case is fixed (UCUM is case-sensitive: ``Kg``, ``KG`` and ``ml`` are not codes):
#: lower case -> the code. Used for each part of a compound unit (``ug/KG`` -> ``ug/kg``).
_CASE: Final[dict[str, str]] = {u.lower(): u for u in (
    "kg", "g", "mg", "ug", "ng", "pg", "L", "dL", "mL", "uL", "nL", "fL", "mol", "mmol", "umol", "nmol",
    "m", "cm", "mm", "m2", "m3", "cm2", "cm3", "mm3", "h", "d", "min", "s", "wk", "mo", "meq",
)}
#: ``m^2``, ``cm^3``: UCUM writes the exponent without a caret.
_CARET: Final = re.compile(r"^([A-Za-z]+)\^(-?\d)$")
#: The operators of a compound UCUM unit (kept as they are).
_OPERATORS: Final = re.compile(r"([/.])")


def _part(atom: str) -> str:
    """The UCUM spelling of one part of a compound unit (the part itself when it has no known fix)."""
    if not atom:
        return atom
    found = NEAR_MISSES.get(atom) or _LOWER.get(atom.lower())
    if found is not None:
        return found
    caret = _CARET.match(atom)
    if caret:
        atom = caret.group(1) + caret.group(2)
    return _CASE.get(atom.lower(), atom) if atom not in _CASE.values() else atom


def ucum_spelling(code: str) -> str | None:
    """The UCUM code a near-miss most likely means, or None. Bounded: codes longer than 64 are not read.

    A whole code is looked up in ``NEAR_MISSES`` (as written, then without regard to case); else each part
    of a compound unit between ``/`` and ``.`` is (``kg/m^2`` -> ``kg/m2``, ``ug/KG`` -> ``ug/kg``,
    ``Kg`` -> ``kg``, ``mcg/kg`` -> ``ug/kg``)."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    found = NEAR_MISSES.get(code) or _LOWER.get(code.lower())
    if found is not None and found != code:
        return found
    fixed = "".join(_part(p) if i % 2 == 0 else p for i, p in enumerate(_OPERATORS.split(code)))
    fixed = _MICRO.sub("u", fixed)
    return fixed if fixed != code else None
