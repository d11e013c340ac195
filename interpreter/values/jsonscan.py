"""Measuring JSON nesting before the text is parsed (L0): ``json.loads`` recurses, so depth is bounded
first."""

from __future__ import annotations

import itertools
import re
from typing import Final

__all__ = ["nested_deeper"]

#: A JSON string: from a quote to the next quote no backslash escapes, or to the end of the text when there is
#: none (an unterminated string swallows the rest, so every quote outside a string starts a match that
#: succeeds, and the scan is one pass: no quote is ever tried twice). Its loop is unrolled (a run of plain
#: characters, then pairs of a backslash and any character, each followed by a run), so the regex engine
#: matches a run at a time and never backtracks.
_JSON_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET: Final = re.compile(r"[\[\]{}]")
_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}


def nested_deeper(text: str, most: int) -> bool:
    """True when ``text`` nests brackets deeper than ``most`` (strings skipped), counted before parsing, in
    time linear in the text's length: the strings are removed by one regex pass, the brackets left found by
    the regex engine and their depth summed by ``itertools.accumulate``. The same answer as
    ``nested_deeper_reference``, a character-by-character scan."""
    if text.count("[") + text.count("{") <= most:
        return False
    steps = map(_STEP.__getitem__, _BRACKET.findall(_JSON_STRING.sub("", text)))
    return max(itertools.accumulate(steps), default=0) > most


def nested_deeper_reference(text: str, most: int) -> bool:
    """``nested_deeper`` one character at a time: outside a string a quote opens one and a bracket counts;
    inside, a backslash escapes the next character and an unescaped quote closes it."""
    depth = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > most:
                return True
        elif c in "]}":
            depth -= 1
    return False
