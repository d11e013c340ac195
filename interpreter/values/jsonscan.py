"""Measuring JSON nesting before the text is parsed (L0): ``json.loads`` recurses, so depth is bounded
first."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["nested_deeper"]

#: A JSON string or a bracket: enough to measure nesting before the JSON is parsed.
_JSON_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nested_deeper(text: str, most: int) -> bool:
    """True when ``text`` nests brackets deeper than ``most`` (strings skipped), counted before parsing."""
    if text.count("[") + text.count("{") <= most:
        return False
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > most:
                return True
        elif c in "]}":
            depth -= 1
    return False
