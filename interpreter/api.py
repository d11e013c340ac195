"""The public Python API: load a guideline once, evaluate it many times (from many threads)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .codes import Code
from .compiler.guideline import CompiledGuideline, without_source_map
from .compiler.loader import load_guideline_file
from .errors import Diagnostic, GuidelineError, Location
from .facts.checker import DEFAULT_FACTS_LIMITS, FactsLimits
from .loading.library import find_guideline, parse_reference
from .loading.lock import lock_refusals
from .loading.model import Input
from .result import Result
from .runtime.evaluate import evaluate as _evaluate

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
        time_zone: str | None = None,
        facts_limits: FactsLimits = DEFAULT_FACTS_LIMITS,
    ) -> Result:
        """Evaluate against a patient's ``facts`` (see docs/api.md for their shape).

        ``as_of`` (timezone-aware; default now) fixes what "now" means, so an evaluation is reproducible.
        ``time_zone`` (an IANA name such as ``"Europe/Paris"``) is the calendar of the day predicates: every
        fact time is converted to it before its date is taken; by default the UTC offset of ``as_of``.
        ``facts_source`` names where the facts came from (a file name), for the locations of fact errors.
        ``facts_limits`` bounds the facts (docs/api.md, "Limits").
        Raises ``FactsError`` for malformed facts and ``EvaluationError`` when the guideline cannot be
        applied (``eval-bad-time-zone`` for an unknown time zone).
        """
        return _evaluate(
            self._compiled,
            facts,
            as_of,
            trace=trace,
            facts_source=facts_source,
            time_zone=time_zone,
            facts_limits=facts_limits,
        )

    def __repr__(self) -> str:
        return f"<Guideline {self.id} {self.version} ({self.status}) {self.content_hash[:19]}>"


def _source_state(compiled: CompiledGuideline) -> tuple[str, bytes, str]:
    """The file's bytes, checked to still hold the content that was loaded (same content hash)."""
    import pickle

    from .loading.model import content_hash
    from .loading.source import DEFAULT_LIMITS, load_yaml

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
    from .compiler.loader import analyze_bytes

    analysis = analyze_bytes(data, file)
    errors = [d for d in analysis.diagnostics if d.is_error]
    compiled = analysis.compiled
    if errors or compiled is None or compiled.model.content_hash != expected_hash:
        raise GuidelineError(
            errors
            or [
                Diagnostic(
                    Code.LOAD_FAILED,
                    "the unpickled guideline is not the one that was pickled", Location(file)
                )
            ]
        )
    g = Guideline(without_source_map(compiled))
    g._pickled = (file, data, expected_hash)
    return g


def _check_approved_lock(compiled: CompiledGuideline) -> None:
    """Approved content is used only as locked: refuse a guideline that the ``approved.lock`` files that apply
    to its file do not allow (``lockfile.lock_refusals``: ``approved-not-locked``,
    ``approved-content-changed``, ``lock-conflict``, ``lock-invalid``). ``guideline validate`` reports the
    same; this keeps hosts safe."""
    refusals = lock_refusals(compiled.model)
    if refusals:
        raise GuidelineError(refusals)


def load(
    ref: str | os.PathLike[str], version: str | None = None, *, allow_retired: bool = False
) -> Guideline:
    """Load a guideline from a file, or by id from the bundled library (optionally pinned to ``version``).

    What ``ref`` means is decided from how it is written, never from what exists in the working folder
    (``library.parse_reference``): a ``pathlib.Path``, or text holding a folder separator or ending in
    ``.yaml``/``.yml``, is a file (``"./leukopenia"``); other text must be a bundled guideline id
    (``"leukopenia"``); anything else is refused (``guideline-ref-invalid``).

    A retired guideline is refused (``guideline-retired``) unless ``allow_retired`` is set (for review tools).
    Raises ``GuidelineError`` with every diagnostic when the file has errors.
    """
    reference = parse_reference(ref)
    if reference.kind == "file":
        assert reference.path is not None
        path = reference.path
        compiled = load_guideline_file(path)
        if version is not None and compiled.model.version != version:
            raise GuidelineError(
                [
                    Diagnostic(
                        Code.GUIDELINE_VERSION_MISMATCH,
                        f"{path} holds version {compiled.model.version}, not {version}",
                        Location(str(path)),
                    )
                ]
            )
    else:
        assert reference.id is not None
        entry = find_guideline(reference.id, version)
        compiled = load_guideline_file(entry.path)
    _check_approved_lock(compiled)
    if compiled.model.status == "retired" and not allow_retired:
        raise GuidelineError(
            [
                Diagnostic(
                    Code.GUIDELINE_RETIRED,
                    f"guideline {compiled.model.id} {compiled.model.version} is retired and "
                    "must not be used for patients",
                    Location(compiled.model.file),
                )
            ]
        )
    return Guideline(without_source_map(compiled))
