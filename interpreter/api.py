"""The public Python API: load a guideline once, evaluate it many times (from many threads)."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .compiler import CompiledGuideline
from .errors import Diagnostic, GuidelineError, Location
from .evaluate import evaluate as _evaluate
from .library import find_guideline
from .loader import load_guideline_file
from .lockfile import check_lock, find_lock, read_lock
from .model import Input
from .result import Result

__all__ = ["Guideline", "load"]


class Guideline:
    """A loaded, checked and compiled guideline. Immutable; safe to evaluate from many threads at once.

    Equal to another ``Guideline`` with the same id, version, content hash and file. Pickles by its source
    (the file's bytes and path) and compiles again when unpickled, refusing anything whose content hash
    differs
    (docs/internals.md, "Pickling").
    """

    __slots__ = ("_compiled", "_pickled")

    def __init__(self, compiled: CompiledGuideline) -> None:
        self._compiled = compiled
        #: (file, source bytes, content hash), read on the first pickling and then reused
        self._pickled: tuple[str, bytes, str] | None = None

    def _identity(self) -> tuple[str, str, str, str]:
        return (self.id, self.version, self.content_hash, self.file)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Guideline):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __reduce__(self) -> tuple[Any, ...]:
        state = self._pickled
        if state is None:
            state = self._pickled = _source_state(self._compiled)
        return (_unpickle_guideline, state)

    @property
    def id(self) -> str:
        return self._compiled.model.id

    @property
    def version(self) -> str:
        return self._compiled.model.version

    @property
    def status(self) -> str:
        return self._compiled.model.status

    @property
    def title(self) -> str:
        return self._compiled.model.title

    @property
    def content_hash(self) -> str:
        return self._compiled.model.content_hash

    @property
    def file(self) -> str:
        return self._compiled.model.file

    @property
    def inputs(self) -> Mapping[str, Input]:
        return self._compiled.model.inputs

    @property
    def compiled(self) -> CompiledGuideline:
        return self._compiled

    def evaluate(
        self,
        facts: Mapping[str, Any],
        as_of: datetime | None = None,
        *,
        trace: bool = True,
        facts_source: str | None = None,
    ) -> Result:
        """Evaluate against a patient's ``facts`` (see docs/api.md for their shape).

        ``as_of`` (timezone-aware; default now) fixes what "now" means, so an evaluation is reproducible.
        ``facts_source`` names where the facts came from (a file name), for the locations of fact errors.
        Raises ``FactsError`` for malformed facts and ``EvaluationError`` when the guideline cannot be
        applied.
        """
        return _evaluate(self._compiled, facts, as_of, trace=trace, facts_source=facts_source)

    def __repr__(self) -> str:
        return f"<Guideline {self.id} {self.version} ({self.status}) {self.content_hash[:19]}>"


def _source_state(compiled: CompiledGuideline) -> tuple[str, bytes, str]:
    """The file's bytes, checked to still hold the content that was loaded (same content hash)."""
    import pickle

    from .model import content_hash
    from .source import DEFAULT_LIMITS, load_yaml

    model = compiled.model
    try:
        with open(model.file, "rb") as f:
            data = f.read(DEFAULT_LIMITS.max_bytes + 1)
    except OSError as exc:
        raise pickle.PicklingError(
            f"cannot pickle guideline {model.id}: cannot read {model.file}: {exc}"
        ) from exc
    doc, _, diags = load_yaml(data, model.file)
    if doc is None or any(d.is_error for d in diags) or content_hash(doc) != model.content_hash:
        raise pickle.PicklingError(
            f"cannot pickle guideline {model.id} {model.version}: {model.file} changed since it was loaded"
        )
    return (model.file, data, model.content_hash)


def _unpickle_guideline(file: str, data: bytes, expected_hash: str) -> Guideline:
    """Compile the pickled source again; refuse it unless it holds exactly the content that was pickled."""
    from .loader import analyze_bytes

    analysis = analyze_bytes(data, file)
    errors = [d for d in analysis.diagnostics if d.is_error]
    compiled = analysis.compiled
    if errors or compiled is None or compiled.model.content_hash != expected_hash:
        raise GuidelineError(
            errors
            or [
                Diagnostic(
                    "load-failed", "the unpickled guideline is not the one that was pickled", Location(file)
                )
            ]
        )
    g = Guideline(compiled)
    g._pickled = (file, data, expected_hash)
    return g


def _check_approved_lock(compiled: CompiledGuideline) -> None:
    """Approved content is used only as locked: refuse an approved guideline that is not in the nearest
    ``approved.lock`` (``approved-not-locked``) or whose content differs from its lock entry
    (``approved-content-changed``). ``guideline validate`` reports the same; this keeps hosts safe too."""
    model = compiled.model
    if model.status != "approved":
        return
    lock_path = find_lock(pathlib.Path(model.file))
    lock, problems = read_lock(lock_path) if lock_path is not None else (None, [])
    problems = [*problems, *check_lock([model], lock)]
    refusals = [d.as_error() for d in problems if d.is_error or d.code == "approved-not-locked"]
    if refusals:
        raise GuidelineError(refusals)


def load(ref: str | pathlib.Path, version: str | None = None, *, allow_retired: bool = False) -> Guideline:
    """Load a guideline from a file path, or by id from the bundled library (optionally pinned to
    ``version``).

    A retired guideline is refused (``guideline-retired``) unless ``allow_retired`` is set (for review tools).
    Raises ``GuidelineError`` with every diagnostic when the file has errors.
    """
    path = pathlib.Path(ref)
    # a path: a Path object, a YAML file name, or an existing file; a folder named like an id
    # (guidelines/leukopenia) must not hide the bundled guideline of that id
    is_path = isinstance(ref, pathlib.Path) or path.suffix in (".yaml", ".yml") or path.is_file()
    if is_path:
        compiled = load_guideline_file(path)
        if version is not None and compiled.model.version != version:
            raise GuidelineError(
                [
                    Diagnostic(
                        "guideline-version-mismatch",
                        f"{path} holds version {compiled.model.version}, not {version}",
                        Location(str(path)),
                    )
                ]
            )
    else:
        entry = find_guideline(str(ref), version)
        compiled = load_guideline_file(entry.path)
    _check_approved_lock(compiled)
    if compiled.model.status == "retired" and not allow_retired:
        raise GuidelineError(
            [
                Diagnostic(
                    "guideline-retired",
                    f"guideline {compiled.model.id} {compiled.model.version} is retired and "
                    "must not be used for patients",
                    Location(compiled.model.file),
                )
            ]
        )
    return Guideline(compiled)
