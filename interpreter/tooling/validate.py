"""The validation driver behind ``guideline validate``: many files, every problem, one report.

``validate_paths(paths, strict=..., lock_path=...)`` takes files and folders (folders are searched,
recursively, for ``*.guideline.yaml`` / ``*.guideline.yml``, skipping hidden folders and refusing symbolic
links that lead outside the folder; a file named explicitly is validated whatever its name), runs the full
load pipeline (``loader.analyze_file``) on each, checks approved content against the lock file, and returns
a ``ValidationReport``. One bad file never stops the run.

Exit codes (``ValidationReport.exit_code``): 0 no errors; 1 findings (errors, or warnings under ``strict``);
2 usage problem (a path that does not exist or cannot be read, a folder without guideline files, an unreadable
lock file); 3 internal error (a stage raised instead of reporting a diagnostic: a bug, reported as
``internal-error`` so the other files are still checked).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..codes import Code
from ..errors import Diagnostic, Location, Severity, sort_diagnostics
from ..loading.lock import (
    LOCK_FILE_NAME,
    Lock,
    LockEntry,
    check_locks,
    find_locks,
    lock_candidates,
    read_lock,
    update_lock,
)
from ..loading.model import GuidelineModel

__all__ = [
    "GUIDELINE_SUFFIXES",
    "USAGE_CODES",
    "LockReport",
    "ValidationReport",
    "discover",
    "discover_checked",
    "lock_paths",
    "validate_paths",
]

GUIDELINE_SUFFIXES = (".guideline.yaml", ".guideline.yml")

#: Codes that mean the input could not be checked at all (exit code 2).
USAGE_CODES = frozenset({
    Code.PATH_NOT_FOUND, Code.FILE_UNREADABLE, Code.NO_GUIDELINE_FILES, Code.LOCK_UNREADABLE})


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything ``validate_paths`` found, sorted by location."""

    diagnostics: tuple[Diagnostic, ...]
    #: the guideline files that were checked, in the order checked
    files: tuple[str, ...]
    strict: bool = False
    internal_error: bool = field(default=False)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if not d.is_error)

    @property
    def truncated_files(self) -> int:
        """How many files had more diagnostics than are listed (each ends with ``too-many-diagnostics``)."""
        return len({d.location.file for d in self.diagnostics if d.code == TOO_MANY})

    @property
    def usage_error(self) -> bool:
        return any(d.code in USAGE_CODES for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        if self.internal_error:
            return 3
        if self.usage_error:
            return 2
        return 1 if self.errors else 0

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form (documented in docs/diagnostics.md); ``format_version`` changes on breaks."""
        return {
            "format_version": 1,
            "summary": {
                "files": len(self.files),
                "errors": self.errors,
                "warnings": self.warnings,
                "strict": self.strict,
                "exit_code": self.exit_code,
            },
            "files": list(self.files),
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def _is_guideline_name(path: pathlib.Path) -> bool:
    return path.name.endswith(GUIDELINE_SUFFIXES)


#: Folders never searched: build output and virtual environments hold copies, not sources.
SKIPPED_FOLDERS = frozenset({"build", "dist", "venv", "node_modules", "site-packages", "__pycache__"})


def skipped(folder: pathlib.Path, path: pathlib.Path) -> bool:
    """Whether ``path`` lies in a hidden folder (``.git``, ``.venv``...) or a build/environment folder."""
    return any(
        part.startswith(".") or part in SKIPPED_FOLDERS for part in path.relative_to(folder).parts[:-1]
    )


def discover(folder: pathlib.Path) -> list[pathlib.Path]:
    """Guideline files under ``folder``, sorted; hidden, build and environment folders are skipped, and so
    is a symbolic link that leads outside ``folder`` (``discover_checked`` reports those)."""
    return discover_checked(folder)[0]


def _inside(path: pathlib.Path, root: pathlib.Path) -> bool:
    """Whether ``path``, every link followed, is inside the (resolved) folder ``root``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a link loop
        return False
    return real.is_relative_to(root)


def discover_checked(folder: pathlib.Path) -> tuple[list[pathlib.Path], list[Diagnostic]]:
    """Guideline files under ``folder`` (see ``discover``), and a ``file-unreadable`` error for each guideline
    name that is a symbolic link leading outside ``folder`` (or nowhere): such a link is not followed, so a
    link such as ``x/evil.guideline.yaml -> ~/.ssh/id_rsa`` is never read. Linked folders are not searched
    (``Path.rglob`` does not descend into them)."""
    try:
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return [], []
    files: list[pathlib.Path] = []
    refused: list[Diagnostic] = []
    for p in sorted(folder.rglob("*")):
        if skipped(folder, p) or not _is_guideline_name(p):
            continue
        if p.is_symlink() and not _inside(p, root):
            refused.append(Diagnostic(
                Code.FILE_UNREADABLE,
                f"{p.name} is a symbolic link to a file outside the folder {folder} being searched (or to "
                "nothing); it is not followed",
                Location(str(p)),
                hint="keep guideline files inside the library folder (copy the file in, or link only to a "
                "file inside the folder), or name the file itself to check it",
            ))
        elif p.is_file():
            files.append(p)
    return files, refused


def _analyze(path: pathlib.Path) -> tuple[list[Diagnostic], GuidelineModel | None]:
    """Run the load pipeline on one file (the lead's ``loader.analyze_file``)."""
    from ..compiler.loader import analyze_file

    analysis = analyze_file(path)
    return list(analysis.diagnostics), analysis.model


#: The per-file pipeline; replaceable (tests) but never changed at run time.
Analyzer = Callable[[pathlib.Path], tuple[list[Diagnostic], GuidelineModel | None]]


def _collect(paths: Sequence[str | pathlib.Path]) -> tuple[list[pathlib.Path], list[Diagnostic]]:
    """The guideline files named by ``paths`` (folders searched), each once, and usage problems."""
    diagnostics: list[Diagnostic] = []
    files: list[pathlib.Path] = []
    seen: set[pathlib.Path] = set()

    def add(p: pathlib.Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            files.append(p)

    for raw in paths:
        p = pathlib.Path(raw)
        if p.is_dir():
            found, refused = discover_checked(p)
            diagnostics += refused
            if not found and not refused:
                diagnostics.append(
                    Diagnostic(
                        Code.NO_GUIDELINE_FILES,
                        f"no *.guideline.yaml files found in folder {p}",
                        Location(str(p)),
                        hint="guideline files are named <name>.guideline.yaml; name a file to check it "
                        "whatever its name",
                    )
                )
            for f in found:
                add(f)
        elif p.exists():
            add(p)
        else:
            diagnostics.append(Diagnostic(
                Code.PATH_NOT_FOUND, f"no such file or folder: {p}", Location(str(p))))
    return files, diagnostics


def _analyze_all(
    files: Sequence[pathlib.Path], analyze: Analyzer
) -> tuple[list[tuple[pathlib.Path, GuidelineModel]], list[Diagnostic], bool]:
    """(models with their files, diagnostics, whether a stage crashed); one bad file never stops the run."""
    models: list[tuple[pathlib.Path, GuidelineModel]] = []
    diagnostics: list[Diagnostic] = []
    internal = False
    for f in files:
        try:
            file_diags, model = analyze(f)
        except Exception as exc:  # a bug in a stage: report it and go on with the other files
            internal = True
            diagnostics.append(
                Diagnostic(
                    Code.INTERNAL_ERROR,
                    f"the validator failed on this file: {type(exc).__name__}: {exc}",
                    Location(str(f)),
                    hint="this is a bug in the interpreter, not in the guideline; please report it",
                )
            )
            continue
        diagnostics.extend(file_diags)
        if model is not None:
            models.append((f, model))
    return models, diagnostics, internal


def validate_paths(
    paths: Sequence[str | pathlib.Path],
    *,
    strict: bool = False,
    lock_path: pathlib.Path | None = None,
    analyzer: Analyzer | None = None,
) -> ValidationReport:
    """Validate every guideline file under ``paths``; see the module docstring.

    ``lock_path``: a lock file to check approved content against, *in addition to* every ``approved.lock``
    beside each file or in a parent folder (up to the filesystem root): one library has one lock, so no lock
    file, given or found, can hide another (``lockfile.check_locks``).
    """
    files, diagnostics = _collect(paths)
    models, file_diags, internal = _analyze_all(files, analyzer or _analyze)
    diagnostics += file_diags
    models_by_lock: dict[tuple[pathlib.Path, ...], list[GuidelineModel]] = {}
    for f, model in models:
        found = find_locks(f)
        key = tuple(dict.fromkeys([lock_path.resolve(), *found])) if lock_path is not None else tuple(found)
        models_by_lock.setdefault(key, []).append(model)
    diagnostics.extend(_lock_diagnostics(models_by_lock))
    if strict:
        diagnostics = [d.as_error() if d.severity is Severity.WARNING else d for d in diagnostics]
    return ValidationReport(tuple(_report_order(diagnostics)), tuple(str(f) for f in files), strict, internal)


#: The code of the summary that ends a file's diagnostics when there were too many (``loader``).
TOO_MANY = Code.TOO_MANY_DIAGNOSTICS


def _report_order(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file and location; a file's ``too-many-diagnostics`` summary comes last in its file."""
    return sorted(
        sort_diagnostics(diagnostics), key=lambda d: (d.location.file, d.code == TOO_MANY)
    )


@dataclass(frozen=True, slots=True)
class LockReport:
    """What ``lock_paths`` did: the entries added to which lock files, or why it wrote nothing."""

    added: tuple[LockEntry, ...]
    #: the lock files written (created or extended)
    lock_files: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    internal_error: bool = False

    @property
    def exit_code(self) -> int:
        if self.internal_error:
            return 3
        if any(d.code in USAGE_CODES for d in self.diagnostics):
            return 2
        return 1 if any(d.is_error for d in self.diagnostics) else 0


def lock_paths(
    paths: Sequence[str | pathlib.Path],
    *,
    lock_path: pathlib.Path | None = None,
    analyzer: Analyzer | None = None,
) -> LockReport:
    """``guideline lock``: add lock entries for the approved guidelines under ``paths`` that have none.

    Every file is validated first; if any has an error, nothing is written (approved content must be valid
    content). The lock file is ``lock_path``, else the ``approved.lock`` that applies to each file (see
    ``find_locks``), else a new ``approved.lock`` in the first folder given (or the folder of the first file).
    One library has one lock: nothing is written when the lock would be a second lock for a file (below or
    above a lock that already applies to it) or would not apply to it at all (``lock-conflict``).
    Existing entries are never rewritten: changed approved content is reported (``approved-content-changed``).
    """
    files, diagnostics = _collect(paths)
    models, file_diags, internal = _analyze_all(files, analyzer or _analyze)
    diagnostics += [d for d in file_diags if d.is_error]
    if diagnostics or internal:
        return LockReport((), (), tuple(sort_diagnostics(diagnostics)), tuple(map(str, files)), internal)
    default: pathlib.Path | None = None
    for raw in paths:
        p = pathlib.Path(raw)
        default = (p if p.is_dir() else p.parent) / LOCK_FILE_NAME
        break
    groups: dict[pathlib.Path, list[GuidelineModel]] = {}
    for f, model in models:
        existing = find_locks(f)
        target = lock_path or (existing[0] if existing else default)
        if target is None:
            continue
        problem = _second_lock(f, model, target, existing)
        if problem is not None:
            diagnostics.append(problem)
        groups.setdefault(target, []).append(model)
    if diagnostics:  # never write a second lock for one library, nor a lock that would not apply
        return LockReport((), (), tuple(sort_diagnostics(diagnostics)), tuple(map(str, files)))
    added: list[LockEntry] = []
    written: list[str] = []
    for target, group in groups.items():
        if not any(m.status == "approved" for m in group) and not target.exists():
            continue  # nothing to lock: do not create an empty lock file
        entries, problems = update_lock(target, group)
        diagnostics += problems
        added += entries
        if entries:
            written.append(str(target))
    return LockReport(
        tuple(added), tuple(written), tuple(sort_diagnostics(diagnostics)), tuple(map(str, files))
    )


def _second_lock(
    file: pathlib.Path, model: GuidelineModel, target: pathlib.Path, existing: Sequence[pathlib.Path]
) -> Diagnostic | None:
    """Why writing ``target`` for ``file`` would give its library a second lock, or a lock that never applies
    (``lock-conflict``); None when ``target`` is the one lock of the file (or the first)."""
    resolved = target.resolve()
    where = model.source_map.at(("status",)) if model.status == "approved" else Location(str(file))
    if resolved not in lock_candidates(file):
        return Diagnostic(
            Code.LOCK_CONFLICT,
            f"the lock file {target} would not apply to {file}: a lock applies to the guidelines in its "
            f"folder and below, and must be named {LOCK_FILE_NAME}",
            where,
            hint=f"drop --lock to use the lock of this library, or give a {LOCK_FILE_NAME} in a folder above "
            "the file",
        )
    others = [str(p) for p in existing if p != resolved]
    if others:
        return Diagnostic(
            Code.LOCK_CONFLICT,
            f"{file} is already under the lock file {others[0]}; writing {target} as well would give its "
            "library a second lock",
            where,
            hint="one library has one lock: drop --lock to extend the existing lock",
            related=tuple(Location(o) for o in others),
        )
    return None


def _lock_diagnostics(
    models_by_lock: dict[tuple[pathlib.Path, ...], list[GuidelineModel]],
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    read: dict[pathlib.Path, Lock | None] = {}
    for lock_files, models in models_by_lock.items():
        locks: list[Lock] = []
        for lock_file in lock_files:
            if lock_file not in read:
                lock, problems = read_lock(lock_file)
                out.extend(problems)  # each lock file's problems once
                read[lock_file] = lock
            known = read[lock_file]
            if known is not None:
                locks.append(known)
        if len(locks) < len(lock_files):
            continue  # an unreadable or invalid lock: reported; its guidelines cannot be checked
        out.extend(check_locks(models, locks))
    return out
