"""The options every formatter receives (``registry.Formatter``); a formatter reads those that concern it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PLAIN", "FormatOptions"]


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """What the user asked for besides the format."""

    #: results as text: every decision with the values it used, and the facts used
    explain: bool = False
    #: test reports as text: the coverage of each guideline
    show_coverage: bool = False


#: no options: the default of every formatter
PLAIN = FormatOptions()
