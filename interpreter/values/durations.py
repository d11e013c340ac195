"""ISO 8601 durations as the language writes them: PnW, PnD, PTnH, PTnM and their combinations (L0)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

__all__ = ["ISO_DURATION", "duration_parts", "parse_duration"]

#: The one pattern of a duration (the schema's pattern says the same; tools/_schema_src.py).
ISO_DURATION: Final = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


def duration_parts(text: str) -> tuple[str | None, ...] | None:
    """The digit groups (weeks, days, hours, minutes) of a duration, or None when ``text`` is not one."""
    m = ISO_DURATION.fullmatch(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        return None
    return m.groups()


def parse_duration(text: str) -> timedelta:
    """Parse a duration; ``ValueError`` when ``text`` is not one."""
    parts = duration_parts(text)
    if parts is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    w, d, h, mi = (int(g) if g else 0 for g in parts)
    return timedelta(weeks=w, days=d, hours=h, minutes=mi)
