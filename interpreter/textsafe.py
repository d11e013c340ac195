"""Making echoed text safe at the output boundary: one line stays one line, and every character prints.

Text that came from a user (fact names and values, file names, keys of a guideline file) is echoed in
reports. Written raw, a line break in it could forge a report line (``RESULT: complete``), a bidi override
could make a line read differently from what it says, and a lone surrogate (``"\\ud800"`` in JSON) cannot
be encoded at all and used to crash the CLI. Every text reporter passes echoed text through this module:

* ``safe_line(text)``: one line. Line breaks, C0/C1 control characters, DEL, bidi controls, other invisible
  format characters that change how text reads, and lone surrogates are written as visible escapes
  (``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``, ``\\ud800``). Everything else (any printable letter) is kept.
* ``safe_block(text, indent)``: for multi-line text written by a guideline author (a recommendation, a
  disclaimer): each line break becomes a break followed by ``indent``, so the text stays inside its block
  and never starts a line of its own; everything else is escaped as in ``safe_line``.
* ``escape_surrogates(text)``: only lone surrogates escaped, as JSON ``\\uXXXX`` escapes; used on JSON text
  built with ``ensure_ascii=False`` so that it stays valid JSON and can always be encoded as UTF-8.

This module imports nothing from the package, so every layer (``errors``, reporters, render, the CLI) can
use it. It never raises.
"""

from __future__ import annotations

import re

__all__ = ["escape_surrogates", "needs_escape", "safe_block", "safe_line"]

#: Characters escaped on output besides C0 controls (character-class text).
_OTHER_UNSAFE = (
    "\x7f-\x9f"  # DEL and C1 control characters (includes \x85, NEXT LINE)
    "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"  # bidi, zero-width, separators
    "\ufff9-\ufffb"  # interlinear annotation controls
    "\ud800-\udfff"  # lone surrogates (a valid pair is one character in a Python str)
)
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHER_UNSAFE}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_UNSAFE}]")
_SURROGATE = re.compile("[\ud800-\udfff]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def needs_escape(text: str) -> bool:
    """Whether ``safe_line`` would change ``text``."""
    return _UNSAFE.search(text) is not None


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


def escape_surrogates(json_text: str) -> str:
    """JSON text with every lone surrogate written as a ``\\uXXXX`` escape (still valid, same value)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)
