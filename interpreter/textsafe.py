"""Making echoed text safe at the output boundary: one line stays one line, and every character prints.

Text that came from a user (fact names and values, file names, keys of a guideline file) is echoed in
reports. Written raw, a line break in it could forge a report line (``RESULT: complete``), a bidi override
could make a line read differently from what it says, and a lone surrogate (``"\\ud800"`` in JSON) cannot
be encoded at all and used to crash the CLI. Every text reporter passes echoed text through this module:

* ``safe_line(text)``: one line. Line breaks, C0/C1 control characters, DEL, bidi controls, every other
  invisible or format character (soft hyphen, zero-width characters, tag characters, variation selectors:
  ``_INVISIBLE``) and lone surrogates are written as visible escapes (``\\n``, ``\\t``, ``\\x1b``,
  ``\\xad``, ``\\u202e``, ``\\U000e0041``, ``\\ud800``). Everything else (any printable letter) is kept.
* ``safe_block(text, indent)``: for multi-line text written by a guideline author (a recommendation, a
  disclaimer): each line break becomes a break followed by ``indent``, so the text stays inside its block
  and never starts a line of its own; everything else is escaped as in ``safe_line``.
* ``escape_surrogates(text)``: lone surrogates and invisible characters escaped, as JSON ``\\uXXXX`` escapes;
  used on JSON text built with ``ensure_ascii=False`` so that it stays valid JSON, can always be encoded as
  UTF-8, and shows every invisible character.

This module imports nothing from the package, so every layer (``errors``, reporters, render, the CLI) can
use it. It never raises.
"""

from __future__ import annotations

import re

__all__ = ["escape_surrogates", "safe_block", "safe_line"]

#: Characters that print as nothing, or change how the text around them reads, without being controls:
#: every format character (Unicode category Cf: soft hyphen, bidi marks and isolates, zero-width space and
#: joiners, word joiner and invisible operators, BOM, Arabic and Syriac prepended marks, Egyptian hieroglyph
#: and shorthand format controls, musical formatting, tag characters), and invisible letters and marks
#: (combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors,
#: variation selectors). Tags and variation selectors can carry a hidden message; a soft hyphen splits a
#: word on screen only. tests/test_output_safety_invisible.py checks this class against every Cf character of
#: the running Python's Unicode database.
_INVISIBLE = (
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff"
    "\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001345f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"  # tag characters, variation selectors supplement and the rest of plane 14
)
#: Characters escaped on output besides C0 controls (character-class text).
_OTHER_UNSAFE = (
    "\x7f-\x9f"  # DEL and C1 control characters (includes \x85, NEXT LINE)
    "\u2028\u2029"  # line and paragraph separators
    + _INVISIBLE
    + "\ud800-\udfff"  # lone surrogates (a valid pair is one character in a Python str)
)
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHER_UNSAFE}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_UNSAFE}]")
#: What ``escape_surrogates`` writes as JSON escapes: lone surrogates and the invisible characters.
_JSON_UNSAFE = re.compile(f"[{_INVISIBLE}\u2028\u2029\ud800-\udfff]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe_line(text: object) -> str:
    """``text`` (any object, via ``str``) as one printable line; see the module docstring."""
    s = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_escape, s)


def safe_block(text: object, indent: str = "    ") -> str:
    """Multi-line author text kept inside its block: every line break is followed by ``indent``."""
    s = text if isinstance(text, str) else str(text)
    s = s.replace("\r\n", "\n")
    lines = s.split("\n")
    return ("\n" + indent).join(_UNSAFE_BUT_NEWLINE.sub(_escape, line) for line in lines)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes a character beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_surrogates(json_text: str) -> str:
    """JSON text with every lone surrogate and every invisible character (``_INVISIBLE``, U+2028, U+2029)
    written as a ``\\uXXXX`` escape: still valid JSON with the same value, and nothing hidden in the text."""
    return _JSON_UNSAFE.sub(_json_escape, json_text)
