"""``guideline fhir-facts``, and the FHIR side of ``guideline evaluate --fhir``: read a FHIR R4 Bundle
through the
guideline's bindings. The integration (``interpreter.ext.fhir``) is imported inside the commands only."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..errors import FactsError, GuidelineError
from .common import EXIT_OK, internal_errors, load_reference, parse_at, refuse
from .options import at_options, bundled_option


def read_bindings(g: Any, bindings_file: str | None, fmt: str, command: str) -> Any:
    """The bindings in effect: the guideline's, with the --bindings file (else the shipped one) over them."""
    from ..ext.fhir import bindings_for, bundled_site_bindings, load_site_bindings

    try:
        site = load_site_bindings(bindings_file) if bindings_file else bundled_site_bindings(g)
        return bindings_for(g, site)
    except GuidelineError as exc:
        refuse(fmt, "bindings", "the FHIR bindings were refused:", exc.diagnostics, command)
        raise  # pragma: no cover - refuse exits


def read_bundle(path: str, fmt: str, command: str) -> list[Any]:
    from ..ext.fhir import parse_bundle, resources_of_bundle
    from ..ext.fhir.adapter import MAX_BUNDLE_BYTES

    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_BUNDLE_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_BUNDLE_BYTES + 1)
        return resources_of_bundle(parse_bundle(data, path), path)
    except FactsError as exc:
        refuse(fmt, "facts", "the FHIR Bundle was refused; nothing was read:", exc.diagnostics, command)
        raise  # pragma: no cover - refuse exits


@click.command("fhir-facts")
@click.argument("guideline_ref", metavar="GUIDELINE")
@click.argument("bundle", metavar="BUNDLE", type=click.Path(dir_okay=False, allow_dash=True, exists=True))
@click.option("--version", "version", default=None, help="Pin the guideline version (bundled ids).")
@click.option(
    "--bindings",
    "bindings_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A site binding file (default: the guideline's own bindings, with the file shipped for a "
    "bundled guideline).",
)
@click.option(
    "--patient",
    default=None,
    help="The Patient.id whose facts are read (default: the Bundle's only Patient; needed when it holds none "
    "or several). Resources about anyone else are dropped with a note.",
)
@at_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@bundled_option
@internal_errors
def fhir_facts(
    guideline_ref: str,
    bundle: str,
    version: str | None,
    bindings_file: str | None,
    patient: str | None,
    at: str | None,
    time_zone: str | None,
    fmt: str,
    bundled: bool,
) -> None:
    """Print the facts GUIDELINE finds in the FHIR R4 BUNDLE (a JSON file, or -), with their provenance and
    the
    notes on every resource dropped. Exits 0, or 2 for an unreadable Bundle or bad bindings."""
    from datetime import UTC, datetime

    from ..ext.fhir import facts_from_resources

    as_of = parse_at(at, time_zone) or datetime.now(UTC)
    g = load_reference(guideline_ref, version, bundled=bundled, fmt=fmt, command="fhir-facts")
    b = read_bindings(g, bindings_file, fmt, "fhir-facts")
    resources = read_bundle(bundle, fmt, "fhir-facts")
    try:
        out = facts_from_resources(b, resources, as_of, time_zone=time_zone, patient_id=patient, file=bundle)
    except FactsError as exc:
        refuse(fmt, "facts", "the FHIR Bundle was refused; nothing was read:", exc.diagnostics, "fhir-facts")
        raise  # pragma: no cover - refuse exits
    if fmt == "json":
        click.echo(json.dumps(out.to_json() | {"site_file": b.site_file}, indent=2, sort_keys=True))
        sys.exit(EXIT_OK)
    from ..textsafe import safe_line

    click.echo(f"bindings {b.hash}" + (f" (site file {safe_line(b.site_file)})" if b.site_file else ""))
    click.echo(safe_line(f"patient Patient/{out.patient_id}"))
    for name, value in out.to_json()["facts"].items():
        sources = ", ".join(s.reference for s in out.provenance.get(name, ()))
        click.echo(safe_line(f"{name} = {json.dumps(value, sort_keys=True)}  <- {sources or 'no resource'}"))
    for note in out.notes:
        click.echo(safe_line(f"note: {note.text()}"))
    if out.asserted:
        click.echo("asserted by the user: " + ", ".join(out.asserted))
    sys.exit(EXIT_OK)
