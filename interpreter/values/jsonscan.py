"""Measuring JSON nesting before the text is parsed (L0): ``json.loads`` recurses, so depth is bounded
first."""

from __future__ import annotations

import itertools
import re
from typing import Final

__all__ = ["nested_deeper"]

#: A JSON string or a bracket: enough to measure nesting before the JSON is parsed.
_JSON_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
#: A JSON string alone: the first alternative of ``_JSON_TOKENS`` with its loop unrolled (the same texts: a
#: run of plain characters, then pairs of a backslash and a character each followed by a run), which the
#: regex engine matches a run at a time instead of a character at a time; and a bracket alone.
_JSON_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET: Final = re.compile(r"[\[\]{}]")
_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}


def nested_deeper(text: str, most: int) -> bool:
    """True when ``text`` nests brackets deeper than ``most`` (strings skipped), counted before parsing.

    The strings are removed and the brackets left found by the regex engine, the depth summed by
    ``itertools.accumulate``: the same brackets ``_JSON_TOKENS`` finds outside strings (a string can only
    start at a quote, which no bracket match consumes), without a Python step per token."""
    if text.count("[") + text.count("{") <= most:
        return False
    steps = map(_STEP.__getitem__, _BRACKET.findall(_JSON_STRING.sub("", text)))
    return max(itertools.accumulate(steps), default=0) > most


def nested_deeper_reference(text: str, most: int) -> bool:
    """``nested_deeper`` token by token (the reference the tests compare it with)."""
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
