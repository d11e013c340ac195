"""The `guideline` command line (L7): the command group ``main``; one module per command, the shared options
in ``options.py``, the shared error reports in ``common.py``. The only package that imports click.

Exit codes: 0 ok, 1 findings / failed tests / incomplete result, 2 usage or bad input, 3 internal error.

Errors: always as text on standard error. With ``--format json``, a command that refuses its input (exit 2)
or fails (exit 3) also prints one JSON error document on standard output (``schema/error.schema.json``),
so that a host reading one stream always gets JSON. Echoed text is escaped (``textsafe``).

Output is formatted by the output registry (``interpreter.output.registry``); the commands print it. Every
heavy import (the compiler, the schema, yaml) happens inside a command, so ``guideline --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..codes import Code
from .common import EXIT_INTERNAL, EXIT_USAGE, echo_json, error_document, wants_json


class _Main(click.Group):
    """The command group; under ``--format json`` a command-line error is also printed as a JSON error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["guideline.raw_args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raw: list[str] = ctx.meta.get("guideline.raw_args", [])
            name = next((a for a in raw if a in self.commands), None)
            if name is not None and wants_json(self.commands[name], raw[raw.index(name) + 1 :]):
                option = getattr(exc, "param_hint", None)
                param = getattr(exc, "param", None)
                if not isinstance(option, str) and param is not None:
                    option = (getattr(param, "opts", None) or [param.name or ""])[0]
                code = exc.exit_code if exc.exit_code in (EXIT_USAGE, EXIT_INTERNAL) else EXIT_USAGE
                usage: dict[str, Any] = {
                    "code": Code.USAGE_ERROR, "severity": "error", "message": exc.format_message(),
                    "file": "<command line>", "line": 0, "column": 0, "path": [],
                }
                if isinstance(option, str) and option:
                    usage["option"] = option
                echo_json(error_document("usage", exc.format_message(), (), code, name, [usage]))
            raise


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guideline-interpreter")
def main() -> None:
    """Validate, evaluate and test clinical guidelines written as YAML decision trees."""


#: command name -> (module, attribute): each command's module is imported when the command is first looked up,
#: so ``guideline evaluate`` imports neither the other commands nor what they import at their top
#: (``guideline --help`` looks every command up, for its summary)
_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (".validate", "validate"),
    "evaluate": (".evaluate", "evaluate"),
    "test": (".test", "test_cmd"),
    "lock": (".lock", "lock"),
    "render": (".render", "render"),
    "list": (".listing", "list_cmd"),  # (not list.py: a submodule named list would shadow the builtin here)
    "examples": (".examples", "examples_cmd"),
    "fhir-facts": (".fhir", "fhir_facts"),
    "serve": (".serve", "serve"),
    "batch": (".batch", "batch"),  # the [batch] extra is imported inside the command (interpreter.ext.batch)
    "diff": (".diff", "diff"),
}


class _LazyCommands(dict[str, Any]):
    """The group's ``commands``: every name is present from the start; the command object is imported on
    first access (``[name]``, ``get``, ``values``, ``items``)."""

    def __init__(self, where: Mapping[str, tuple[str, str]]) -> None:
        super().__init__(dict.fromkeys(where))
        self._where = dict(where)

    def __getitem__(self, name: str) -> Any:
        command = dict.__getitem__(self, name)
        if command is None:
            from importlib import import_module

            module, attribute = self._where[name]
            command = getattr(import_module(module, __name__), attribute)
            dict.__setitem__(self, name, command)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self:
            return default
        return self[name]

    def values(self) -> Any:
        return [self[name] for name in self]

    def items(self) -> Any:
        return [(name, self[name]) for name in self]


main.commands = _LazyCommands(_COMMANDS)


def run() -> None:  # pragma: no cover - console entry for `python -m interpreter`
    main(prog_name="guideline")


__all__ = ["main", "run"]
