"""The third truth value: ``UNKNOWN``, the value of a missing, stale or undated fact (L0)."""

from __future__ import annotations

from typing import Final, NoReturn

__all__ = ["UNKNOWN", "Unknown"]


class Unknown:
    """The third truth value and the value of a missing, stale or undated fact.

    A singleton (``UNKNOWN``). It is never equal to anything but itself by identity, and it can never be
    tested for truth: ``bool(UNKNOWN)`` raises ``TypeError``, so an ``if value:`` that forgot about it fails
    loudly instead of taking a branch.
    """

    __slots__ = ()
    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        inst = cls._instance
        if inst is None:
            inst = super().__new__(cls)
            cls._instance = inst
        return inst

    def __repr__(self) -> str:
        return "unknown"

    __str__ = __repr__

    def __bool__(self) -> NoReturn:
        raise TypeError("UNKNOWN has no truth value: use three-valued logic (compare with `is UNKNOWN`)")

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0x5EED

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __copy__(self) -> Unknown:
        return self

    def __deepcopy__(self, memo: object) -> Unknown:
        return self


UNKNOWN: Final = Unknown()
