"""``guideline evaluate``: evaluate a guideline against a facts file."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..codes import Code
from ..errors import Diagnostic, EvaluationError, FactsError, Location
from ..output.options import FormatOptions
from ..output.registry import RESULT_FORMATS
from ..textsafe import safe_line
from .common import (
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    echo_json,
    error_document,
    internal_errors,
    load_reference,
    parse_at,
    print_diagnostics,
    refuse,
)
from .options import at_options, bundled_option


@click.command()
@click.argument("guideline_ref", metavar="GUIDELINE")
@click.argument("facts_file", metavar="FACTS", type=click.File("rb"), required=False)
@click.option("--version", "version", default=None, help="Pin the guideline version (bundled ids).")
@click.option("--fhir", "fhir_bundle", type=click.Path(dir_okay=False, allow_dash=True, exists=True),
              default=None, help="Read the facts from this FHIR R4 Bundle (FACTS, if given, holds the facts "
              "the user asserts).")
@click.option("--bindings", "bindings_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="With --fhir: a site binding file.")
@click.option("--patient", default=None, help="With --fhir: the Patient.id whose facts are read (needed when "
              "the Bundle holds no Patient or several); resources about anyone else are dropped.")
@at_options
@click.option("--format", "fmt", type=click.Choice([*RESULT_FORMATS.names, "fhir"]), default="text",
              show_default=True, help="Output format (fhir: a Bundle of GuidanceResponse, RequestGroup and "
              "draft MedicationRequests).")
@click.option("--explain", is_flag=True, help="Show why: every decision with the values it used.")
@bundled_option
@internal_errors
def evaluate(
    guideline_ref: str,
    facts_file: Any,
    version: str | None,
    fhir_bundle: str | None,
    bindings_file: str | None,
    patient: str | None,
    at: str | None,
    time_zone: str | None,
    fmt: str,
    explain: bool,
    bundled: bool,
) -> None:
    """Evaluate GUIDELINE (a bundled id such as `leukopenia`, or a file) against FACTS (a JSON file, or -).

    GUIDELINE is a bundled guideline id (`leukopenia`) or a file path. It is a path only when written as one:
    with a folder separator (`./leukopenia`, `dir/x`) or ending in .yaml/.yml. An id that is also the name
    of a file in the current folder is refused as ambiguous: write `./NAME` for the file, or add --bundled.

    Exits 0 when the result is complete, 1 when it is incomplete (some decision needs more facts),
    2 for bad facts or a guideline that cannot be used, 3 for an internal error.
    """
    from ..facts.json import read_facts

    as_of = parse_at(at, time_zone)
    if facts_file is None and fhir_bundle is None:
        raise click.UsageError("give FACTS, or --fhir BUNDLE")
    g = load_reference(guideline_ref, version, bundled=bundled, fmt=fmt, command="evaluate")
    name = getattr(facts_file, "name", "<stdin>")
    fname = "<stdin>" if name in ("-", "<stdin>") else str(name)
    evaluation: Any = None
    bindings: Any = None
    try:
        facts = read_facts(facts_file, file=fname) if facts_file is not None else {}
        if fhir_bundle is not None:
            from ..ext.fhir import evaluate_fhir
            from .fhir import read_bindings, read_bundle

            bindings = read_bindings(g, bindings_file, fmt, "evaluate")
            resources = read_bundle(fhir_bundle, fmt, "evaluate")
            evaluation = evaluate_fhir(
                bindings,
                resources,
                as_of,
                asserted=facts,
                time_zone=time_zone,
                patient_id=patient,
                file=fhir_bundle,
            )
            result = evaluation.result
        else:
            result = g.evaluate(facts, as_of, trace=True, facts_source=fname, time_zone=time_zone)
    except FactsError as exc:
        # the count of the errors not shown ("... and N more") comes last
        diags = sorted(exc.diagnostics, key=lambda d: d.code == Code.FACT_TOO_MANY_ERRORS)
        refuse(fmt, "facts", "the facts were refused; nothing was evaluated:", diags, "evaluate")
        raise  # pragma: no cover - refuse exits
    except EvaluationError as exc:
        # a guideline that fails for these facts (division by zero, a dose of zero or less, the step limit)
        # is a located guideline error, exit 2; exit 3 only for the codes that mean a bug
        code = EXIT_INTERNAL if exc.internal else EXIT_USAGE
        kind = "internal" if exc.internal else "evaluation"
        located = exc.location is not None
        diag = exc.diagnostic() if located else Diagnostic(exc.code, exc.message, Location(g.file))
        node = {"node": exc.node_id} if exc.node_id else {}
        if fmt == "json":
            extra = [{**diag.to_json(), **node}]
            echo_json(error_document(kind, "evaluation failed", (), code, "evaluate", extra))
        if located:
            click.echo("evaluation failed; nothing was recommended:", err=True)
            print_diagnostics([diag])
        else:
            click.echo(safe_line(f"evaluation failed: {exc}"), err=True)
        sys.exit(code)
    if fmt == "fhir":
        import json

        from ..ext.fhir.outputs import fhir_bundle as to_fhir

        click.echo(json.dumps(to_fhir(result, bindings), indent=2))
    elif fmt == "json" and evaluation is not None:
        import json

        click.echo(json.dumps(evaluation.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(RESULT_FORMATS[fmt](result, FormatOptions(explain=explain)), nl=False)
    sys.exit(EXIT_OK if result.complete else EXIT_FINDINGS)
