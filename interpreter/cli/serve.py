"""``guideline serve``: the CDS Hooks 2.0 service (``interpreter.ext.cdshooks``, the ``service`` extra),
imported inside the command only; without the extra the command is a usage error naming it (exit 2)."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..codes import Code
from ..errors import Diagnostic, GuidelineError, Location
from .common import EXIT_USAGE, internal_errors, refuse

EXTRA_HINT = "pip install 'guideline-interpreter[service]'"


@click.command("serve")
@click.argument("guidelines", metavar="GUIDELINE...", nargs=-1, required=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--db",
    "db",
    required=True,
    type=click.Path(dir_okay=False),
    help="SQLite file for issued cards, feedback and seen JWT ids (created if missing).",
)
@click.option(
    "--public-url",
    default=None,
    help="The base URL clients call (the JWT audience is this plus the endpoint path); default "
    "http://HOST:PORT.",
)
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help='The trusted clients: JSON {"issuers": [{"iss": ..., "jku": URL | "jwks_file": FILE}]}.',
)
@click.option(
    "--bindings",
    "bindings",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="A site binding file (repeatable; each applies to the guideline it names).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="An origin allowed to call from a browser (repeatable; none by default).",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Accept requests without a JWT. For local testing only: never with patient data.",
)
@click.option("--allow-http-fhir", is_flag=True, help="Accept a plain-http fhirServer (tests only).")
@click.option(
    "--allow-private-fhir",
    is_flag=True,
    help="Let fetch-on-miss reach loopback, private and link-local addresses (tests, a FHIR server on this "
    "host). Refused by default: the token would go there.",
)
@click.option(
    "--public-openapi",
    is_flag=True,
    help="Serve /openapi.json without authentication (by default it needs a token, as every endpoint).",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="The key of the keyed hashes of identifiers (default DB.key, created with mode 0600).",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--time-zone", default=None, help="IANA time zone of the evaluation's calendar days.")
@internal_errors
def serve(**o: Any) -> None:
    """Serve GUIDELINE... (ids or files) as CDS Hooks 2.0 services: discovery at /cds-services, one
    patient-view and one order-sign service per guideline, feedback. Needs the `service` extra."""
    try:
        from ..ext.cdshooks.serve import ServeOptions, run
    except ImportError as exc:
        refuse(
            "text",
            "usage",
            "guideline serve needs the `service` extra:",
            [
                Diagnostic(
                    Code.USAGE_ERROR,
                    f"{exc.name or 'a package'} is not installed",
                    Location("<command line>"),
                    hint=EXTRA_HINT,
                )
            ],
            "serve",
        )
        return
    if "*" in o["cors_origins"]:
        raise click.UsageError("--cors-origin takes explicit origins, not *")
    if o["allow_unsigned"]:
        click.echo(
            "WARNING: --allow-unsigned: requests are NOT authenticated. For local testing only; never "
            "expose this server or send it patient data.",
            err=True,
        )
    lists = ("guidelines", "bindings", "cors_origins")
    given: dict[str, Any] = {k: list(v) if k in lists else v for k, v in o.items()}
    options = ServeOptions(**given)
    try:
        run(options)
    except GuidelineError as exc:
        refuse("text", "guideline", "the guideline cannot be served:", exc.diagnostics, "serve")
    except (ValueError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
