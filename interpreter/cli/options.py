"""Options shared by the commands, each written once: ``--format`` (its choices from the output registry),
``--lock``, ``--bundled``, ``--at`` and ``--time-zone``."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ..output.registry import Formats

__all__ = ["at_options", "bundled_option", "format_option", "lock_option"]

Command = TypeVar("Command", bound=Callable[..., Any])


def format_option(formats: Formats[Any]) -> Callable[[Command], Command]:
    """``--format``: the names registered for one kind of output, the first being the default (parameter
    ``fmt``)."""
    return click.option(
        "--format", "fmt", type=click.Choice(formats.names), default=formats.default, show_default=True
    )


def lock_option(help_text: str) -> Callable[[Command], Command]:
    """``--lock FILE``: the approved-content lock file (parameter ``lock_path``; ``None`` when not given)."""
    return click.option(
        "--lock", "lock_path", type=click.Path(path_type=pathlib.Path), default=None, help=help_text
    )


bundled_option = click.option(
    "--bundled",
    is_flag=True,
    help="GUIDELINE is a bundled guideline id, even if a file of that name is in the current folder.",
)


def at_options(command: Command) -> Command:
    """``--at`` (the as-of time) and ``--time-zone`` (the calendar of day counts): parameters ``at`` and
    ``time_zone``, text checked by ``common.parse_at``."""
    command = click.option(
        "--time-zone",
        "time_zone",
        default=None,
        help="IANA time zone of the calendar days "
        "(e.g. Europe/Paris; default: the offset of --at, UTC for now).",
    )(command)
    return click.option("--at", "at", default=None, help="As-of time, ISO 8601 with offset (default: now).")(
        command
    )
