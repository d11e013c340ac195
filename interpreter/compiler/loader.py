"""The load pipeline: bytes -> YAML -> schema -> model -> compiled guideline.

``analyze_file`` never raises for bad content: it returns every diagnostic it found.
``load_guideline`` raises ``GuidelineError`` when there is any error.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

from ..codes import Code
from ..errors import Diagnostic, GuidelineError, Location, Severity, sort_diagnostics
from ..loading.model import GuidelineModel, build_model
from ..loading.schema import validate_document
from ..loading.source import DEFAULT_LIMITS, LoaderLimits, load_yaml, read_capped
from .guideline import CompiledGuideline, compile_guideline

__all__ = ["Analysis", "analyze_bytes", "analyze_file", "load_guideline_file"]


@dataclass(frozen=True, slots=True)
class Analysis:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    model: GuidelineModel | None = None
    compiled: CompiledGuideline | None = None


def analyze_bytes(data: bytes, file: str, limits: LoaderLimits = DEFAULT_LIMITS) -> Analysis:
    """Run every load stage over ``data``; stop at the first stage that reports an error.

    At most ``limits.max_diagnostics`` diagnostics are kept, then one ``too-many-diagnostics``.
    """
    doc, source_map, diags = load_yaml(data, file, limits)
    if doc is None or any(d.is_error for d in diags):
        return Analysis(file, bound_diagnostics(diags, file, limits.max_diagnostics))
    if not isinstance(doc, dict):  # text, a list: nothing of it is quoted (a key file parses as one text)
        return Analysis(file, [_not_a_guideline(
            file, f"this file is not a guideline: it holds {_kind(doc)}, not a mapping of key: value lines; "
            "nothing of its content is shown", "check that this is the file you meant")])
    diags = diags + validate_document(doc, source_map, limits.max_diagnostics)
    if any(d.is_error for d in diags):
        return Analysis(file, bound_diagnostics(diags, file, limits.max_diagnostics))
    model, model_diags = build_model(doc, source_map)
    diags += model_diags
    if model is None:
        return Analysis(file, sort_diagnostics(diags))
    compiled, compile_diags = compile_guideline(model)
    diags += compile_diags
    return Analysis(file, bound_diagnostics(diags, file, limits.max_diagnostics), model, compiled)


TOO_MANY = Code.TOO_MANY_DIAGNOSTICS


def bound_diagnostics(diags: list[Diagnostic], file: str, limit: int) -> list[Diagnostic]:
    """The first ``limit`` diagnostics (sorted by location), then one ``too-many-diagnostics`` summary
    (an error when any diagnostic left out is an error) when there were more."""
    ordered = sort_diagnostics(diags)
    if len(ordered) <= limit:
        return ordered
    shown, hidden = ordered[:limit], ordered[limit:]
    last = shown[-1].location if shown else Location(file, 1, 1)
    severity = Severity.ERROR if any(d.is_error for d in hidden) else Severity.WARNING
    summary = Diagnostic(
        TOO_MANY,
        f"... more diagnostics not shown: only the first {limit} problems of this file are listed, "
        "and checking stopped early",
        Location(file, last.line, last.column),
        severity,
        hint="fix the problems shown, then validate again",
    )
    return [*shown, summary]


def _kind(doc: object) -> str:
    if isinstance(doc, list):
        return "a list"
    if isinstance(doc, str):
        return "text"
    return "a single value"


def _not_a_guideline(file: str, message: str, hint: str = "rename it to see every problem") -> Diagnostic:
    return Diagnostic(
        Code.FILE_NOT_A_GUIDELINE,
        message,
        Location(file, 1, 1),
        hint="a guideline file is named <name>.guideline.yaml and holds key: value lines (id, version, "
        f"...); {hint}, or refer to a bundled guideline by its id",
    )


def analyze_file(path: pathlib.Path | str, limits: LoaderLimits = DEFAULT_LIMITS) -> Analysis:
    """Read and analyze one guideline file. An unreadable file, or one that is not a regular file, gives a
    ``file-unreadable`` diagnostic; a file over the size limit ``yaml-too-large`` (read no further)."""
    p = pathlib.Path(path)
    data, problem = read_capped(p, limits)  # at most max_bytes + 1 bytes; only regular files
    if data is None:
        return Analysis(str(p), [problem] if problem is not None else [])
    analysis = analyze_bytes(data, str(p), limits)
    return _withhold_foreign_content(analysis, p)


#: The names of files whose diagnostics may quote their content although they are not valid guidelines.
YAML_SUFFIXES = (".yaml", ".yml")


def _withhold_foreign_content(analysis: Analysis, path: pathlib.Path) -> Analysis:
    """Never echo the content of a file that is not a guideline.

    The rule: diagnostics may quote a file's content (keys, values, characters) when the file it *resolves*
    to (symbolic links followed: ``s.yaml -> /etc/shadow`` is ``shadow``) is named ``*.yaml``/``*.yml`` (it
    is meant as a guideline), or when it was read as a guideline (it passed the schema and a model was built).
    Any other file that failed (``/etc/shadow``, a key file named by mistake or through a link) gives one
    ``file-not-a-guideline`` error that quotes nothing of it: neither its keys, nor its lines, nor how many
    problems it has. (A document that is not a mapping is never quoted whatever its name: ``analyze_bytes``.)
    """
    if analysis.model is not None or not any(d.is_error for d in analysis.diagnostics):
        return analysis
    try:
        real_name = path.resolve(strict=True).name
    except (OSError, RuntimeError):  # gone, or a link loop, since it was read: quote nothing
        real_name = ""
    if real_name.lower().endswith(YAML_SUFFIXES):
        return analysis
    shown = "it is not named" if real_name == path.name else "the file it links to is not named"
    return Analysis(
        analysis.file,
        [_not_a_guideline(
            analysis.file,
            f"this file is not a valid guideline; nothing of its content is shown because {shown} *.yaml or "
            "*.yml",
        )],
    )


def load_guideline_file(path: pathlib.Path | str) -> CompiledGuideline:
    """Load, check and compile one file; raise ``GuidelineError`` listing every error."""
    analysis = analyze_file(path)
    errors = [d for d in analysis.diagnostics if d.is_error]
    if errors or analysis.compiled is None:
        raise GuidelineError(
            errors or [Diagnostic(
                Code.LOAD_FAILED, "the guideline could not be compiled", Location(str(path)))]
        )
    return analysis.compiled
