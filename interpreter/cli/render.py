"""``guideline render``: a guideline for review, as Markdown with a diagram or as a Mermaid flowchart."""

from __future__ import annotations

import click

from ..output.registry import RENDERING_FORMATS
from .common import internal_errors, load_reference
from .options import bundled_option, format_option


@click.command()
@click.argument("guideline_ref", metavar="GUIDELINE")
@format_option(RENDERING_FORMATS)
@bundled_option
@internal_errors
def render(guideline_ref: str, fmt: str, bundled: bool) -> None:
    """Render GUIDELINE (bundled id or file) for review: Markdown with a diagram, or a Mermaid flowchart.

    GUIDELINE is a bundled guideline id (`leukopenia`) or a file path. It is a path only when written as one:
    with a folder separator (`./leukopenia`, `dir/x`) or ending in .yaml/.yml. An id that is also the name
    of a file in the current folder is refused as ambiguous: write `./NAME` for the file, or add --bundled.
    """
    g = load_reference(guideline_ref, None, bundled=bundled, allow_retired=True)
    click.echo(RENDERING_FORMATS[fmt](g.compiled.model), nl=False)
