"""Strict YAML loading with a source map.

CONTRACT (implemented by the loader work; the SourceMap class below is fixed):

    load_yaml(data: bytes, file: str, limits: LoaderLimits = DEFAULT_LIMITS)
        -> tuple[Any | None, SourceMap, list[Diagnostic]]

Returns plain data: dict (keys always str, exactly as written), list, str, int, Decimal (for
non-integer numbers, exact as written), bool (only `true`/`false`), None (only `null`/`~`/empty).
Everything else stays a string. Refusals are diagnostics (data is None when any error occurred).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import Location, Path

__all__ = ["SourceMap"]


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where every value (and every mapping key) of a document was written."""

    file: str
    #: path -> location of the value at that path
    values: Mapping[Path, Location] = field(default_factory=dict)
    #: path -> location of the mapping key whose value is at that path
    keys: Mapping[Path, Location] = field(default_factory=dict)

    def at(self, path: Path) -> Location:
        """Location of the value at ``path``, or of its nearest recorded ancestor."""
        p = tuple(path)
        while True:
            loc = self.values.get(p)
            if loc is not None:
                return loc
            if not p:
                return Location(self.file, 1, 1)
            p = p[:-1]

    def key_at(self, path: Path) -> Location:
        """Location of the key naming the value at ``path`` (falls back to the value's location)."""
        loc = self.keys.get(tuple(path))
        return loc if loc is not None else self.at(path)
