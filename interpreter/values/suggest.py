"""Did-you-mean suggestions, bounded (L0): one implementation for every place that suggests a name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Final

__all__ = ["MAX_SUGGESTION_CANDIDATES", "MAX_SUGGESTION_CHARS", "did_you_mean", "did_you_mean_hint"]

#: At most this many choices are compared (the first ones given).
MAX_SUGGESTION_CANDIDATES: Final = 1000
#: No suggestion for a word longer than this; each choice is compared on this many characters at most.
MAX_SUGGESTION_CHARS: Final = 64


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest of ``choices`` to ``word``, if close enough; bounded: no search for a word longer than
    ``MAX_SUGGESTION_CHARS``, and only the first ``MAX_SUGGESTION_CANDIDATES`` choices (each cut to that
    length) are compared."""
    if len(word) > MAX_SUGGESTION_CHARS:
        return None
    short: dict[str, str] = {}
    for i, choice in enumerate(choices):
        if i >= MAX_SUGGESTION_CANDIDATES:
            break
        short.setdefault(choice[:MAX_SUGGESTION_CHARS], choice)
    matches = difflib.get_close_matches(word, list(short), n=1, cutoff=cutoff)
    return short[matches[0]] if matches else None


def did_you_mean_hint(word: str, choices: Iterable[str]) -> str | None:
    """``"did you mean 'x'?"`` for the closest choice, or None."""
    close = did_you_mean(word, choices)
    return f"did you mean '{close}'?" if close else None
