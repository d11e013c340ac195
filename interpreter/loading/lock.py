"""The approved-content lock: approved guideline content may not change without a new version.

``guidelines/approved.lock`` is JSON: a list of ``{"id", "version", "content_hash"}`` objects, sorted by id
and version, one per approved (id, version). ``content_hash`` is ``GuidelineModel.content_hash`` (sha256 of
the canonical parsed document, so comments and formatting do not count).

* ``check_lock(models, lock)``: ``approved-content-changed`` (error) when a locked (id, version) now has other
  content; ``approved-not-locked`` when an approved guideline has no entry: an error when a lock file applies
  to it, a warning when no lock file was found at all (``--strict`` makes it an error).
* ``update_lock(path, models)``: adds the missing entries of approved guidelines (what ``guideline lock``
  does). It never rewrites an existing entry: changed approved content needs a new version.
* ``find_locks(path)``: every ``approved.lock`` in the file's folder or its parents up to the filesystem root,
  nearest first. The search does not stop at a repository root (a folder holding ``.git``): a ``.git`` file
  or folder can be placed anywhere, and it must never hide the library's lock. ``find_lock`` is the nearest
  one. Every lock found is read and must be valid, even one that does not list the guideline (it cannot be
  known that it does not): an unreadable or invalid lock anywhere above a guideline refuses it (fail closed).
* ``read_lock(path)``: only a regular file, at most ``MAX_LOCK_BYTES`` (1 MiB, read to at most the limit + 1
  byte) and JSON nested at most ``MAX_LOCK_DEPTH`` deep (measured on the text before parsing); otherwise
  ``lock-invalid`` (too large, too deep) or ``lock-unreadable`` (not a regular file).
* ``check_locks(models, locks)``: one library has one lock. *Every* lock that applies to a guideline is
  checked, so a second, nearer lock can never hide the library's lock: the locks must agree (``lock-conflict``
  when two give one (id, version) different hashes), and the content must match each lock that lists it
  (``approved-content-changed``). ``lock_refusals(model)`` applies this when a guideline is loaded for use.
"""

from __future__ import annotations

import json
import os
import pathlib
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..codes import Code
from ..errors import Diagnostic, Location, Severity, sort_diagnostics
from ..values.jsonscan import nested_deeper
from .model import GuidelineModel

__all__ = [
    "LOCK_FILE_NAME",
    "MAX_LOCK_BYTES",
    "MAX_LOCK_DEPTH",
    "Lock",
    "LockEntry",
    "check_lock",
    "check_locks",
    "find_lock",
    "find_locks",
    "lock_candidates",
    "lock_refusals",
    "parse_lock",
    "read_lock",
    "render_lock",
    "update_lock",
]

LOCK_FILE_NAME = "approved.lock"
#: The largest lock file read (bytes); a larger one is ``lock-invalid`` and is never read whole.
MAX_LOCK_BYTES = 1024 * 1024
#: The deepest JSON nesting of a lock file (a list of flat objects is 2 deep), measured before parsing.
MAX_LOCK_DEPTH = 8


@dataclass(frozen=True, slots=True, order=True)
class LockEntry:
    id: str
    version: str
    content_hash: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "content_hash": self.content_hash}


@dataclass(frozen=True, slots=True)
class Lock:
    """The entries of one lock file (``file`` is where it was read from, for messages)."""

    entries: tuple[LockEntry, ...] = ()
    file: str | None = None

    def get(self, guideline_id: str, version: str) -> LockEntry | None:
        for e in self.entries:
            if e.id == guideline_id and e.version == version:
                return e
        return None


def _invalid(file: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(Code.LOCK_INVALID, message, Location(file, line, column),
                      hint="the lock file is a JSON list of {\"id\", \"version\", \"content_hash\"} objects; "
                           "regenerate missing entries with `guideline lock`")




def parse_lock(text: str, file: str) -> tuple[Lock | None, list[Diagnostic]]:
    """Parse lock file text strictly (no duplicate keys or entries, exactly the three string fields), within
    ``MAX_LOCK_BYTES`` (UTF-8) and ``MAX_LOCK_DEPTH`` (checked before parsing): ``lock-invalid`` otherwise."""
    if len(text) > MAX_LOCK_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_LOCK_BYTES:
        return None, [_invalid(file, f"the lock file is larger than {MAX_LOCK_BYTES} bytes")]
    if nested_deeper(text, MAX_LOCK_DEPTH):
        return None, [_invalid(file, f"the lock file is nested more than {MAX_LOCK_DEPTH} deep")]

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        return None, [_invalid(file, f"the lock file is not valid JSON: {exc.msg}", exc.lineno, exc.colno)]
    except ValueError as exc:
        return None, [_invalid(file, f"the lock file is not valid: {exc}")]
    if not isinstance(data, list):
        return None, [_invalid(file, "the lock file must hold a JSON list")]
    entries: list[LockEntry] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(data):
        if (not isinstance(item, dict) or set(item) != {"id", "version", "content_hash"}
                or not all(isinstance(v, str) for v in item.values())):
            return None, [_invalid(file, f"entry {i + 1} must be an object with exactly the string fields "
                                         "id, version and content_hash")]
        entry = LockEntry(item["id"], item["version"], item["content_hash"])
        if (entry.id, entry.version) in seen:
            return None, [_invalid(file, f"entry {i + 1}: {entry.id} {entry.version} is listed twice")]
        seen.add((entry.id, entry.version))
        entries.append(entry)
    return Lock(tuple(entries), file), []


def _unreadable(path: pathlib.Path, reason: str) -> tuple[None, list[Diagnostic]]:
    return None, [Diagnostic(Code.LOCK_UNREADABLE, f"cannot read the lock file: {reason}",
                             Location(str(path)), hint="check the path given with --lock")]


def read_lock(path: pathlib.Path) -> tuple[Lock | None, list[Diagnostic]]:
    """Read a lock file: only a regular file, at most ``MAX_LOCK_BYTES`` (never more than that + 1 byte is
    read). A missing, unreadable or non-regular file is ``lock-unreadable``; one too large, too deep or not
    valid is ``lock-invalid``."""
    file = str(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return _unreadable(path, "not a regular file (a folder, device, pipe or socket)")
        if st.st_size > MAX_LOCK_BYTES:
            return None, [_invalid(file, f"the lock file is larger than {MAX_LOCK_BYTES} bytes "
                                         f"({st.st_size} bytes)")]
        with open(path, "rb") as fh:
            data = fh.read(MAX_LOCK_BYTES + 1)
    except OSError as exc:
        return _unreadable(path, exc.strerror or str(exc))
    if len(data) > MAX_LOCK_BYTES:
        return None, [_invalid(file, f"the lock file is larger than {MAX_LOCK_BYTES} bytes")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [_invalid(file, "the lock file is not UTF-8 text")]
    return parse_lock(text, file)


def lock_candidates(path: pathlib.Path) -> list[pathlib.Path]:
    """Where a lock applying to ``path`` may be: ``approved.lock`` in its folder and every parent folder, up
    to the filesystem root; resolved, nearest first. The walk never stops early (not at a folder holding
    ``.git``: such a marker can be placed inside a library, and must not hide the library's lock)."""
    here = path.resolve()
    folder = here if here.is_dir() else here.parent
    return [candidate / LOCK_FILE_NAME for candidate in (folder, *folder.parents)]


def _present(path: pathlib.Path) -> bool:
    """Whether something is at ``path`` (fail closed: a path that cannot be examined counts as present, so
    that ``read_lock`` reports it instead of the lock being silently skipped)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True


def find_locks(path: pathlib.Path) -> list[pathlib.Path]:
    """Every ``approved.lock`` that applies to ``path`` (see ``lock_candidates``), nearest first. Anything
    named ``approved.lock`` counts (a folder, a dangling link): ``read_lock`` refuses what is not a lock."""
    return [lock for lock in lock_candidates(path) if _present(lock)]


def find_lock(path: pathlib.Path) -> pathlib.Path | None:
    """The nearest ``approved.lock`` beside ``path`` or in a parent folder, up to the filesystem root."""
    found = find_locks(path)
    return found[0] if found else None


def check_lock(models: Iterable[GuidelineModel], lock: Lock | None) -> list[Diagnostic]:
    """Compare approved guidelines with the lock. ``lock`` None: no lock file applies (warnings only)."""
    out: list[Diagnostic] = []
    for m in models:
        sm = m.source_map
        entry = lock.get(m.id, m.version) if lock is not None else None
        if entry is not None and entry.content_hash != m.content_hash:
            out.append(Diagnostic(
                Code.APPROVED_CONTENT_CHANGED,
                f"{m.id} version {m.version} is locked as approved in {lock.file if lock else 'the lock'}, "
                f"but its content has changed (locked {entry.content_hash[:19]}..., now "
                f"{m.content_hash[:19]}...)",
                sm.at(("version",)), Severity.ERROR, ("version",),
                "approved content is immutable: raise `version` (and set the status back to draft or "
                "in-review until it is approved again); never edit the lock entry",
            ))
        elif entry is None and m.status == "approved":
            if lock is None:
                out.append(Diagnostic(
                    Code.APPROVED_NOT_LOCKED,
                    f"{m.id} version {m.version} is approved but no {LOCK_FILE_NAME} was found to lock it",
                    sm.at(("status",)), Severity.WARNING, ("status",),
                    f"run `guideline lock` to create {LOCK_FILE_NAME} beside your guidelines, and commit it",
                ))
            else:
                out.append(Diagnostic(
                    Code.APPROVED_NOT_LOCKED,
                    f"{m.id} version {m.version} is approved but has no entry in {lock.file}",
                    sm.at(("status",)), Severity.ERROR, ("status",),
                    "run `guideline lock` to add it, and commit the lock file with the guideline",
                ))
    return sort_diagnostics(out)


def check_locks(models: Iterable[GuidelineModel], locks: Sequence[Lock]) -> list[Diagnostic]:
    """Compare guidelines with *every* lock that applies to them (nearest first); see the module docstring.

    No locks: as ``check_lock(models, None)``. Otherwise, for each guideline: ``lock-conflict`` when the locks
    give its (id, version) different hashes; ``approved-content-changed`` when its content differs from a lock
    entry (whichever lock holds it); ``approved-not-locked`` (error) when it is approved and no lock lists it.
    """
    if not locks:
        return check_lock(models, None)
    out: list[Diagnostic] = []
    for m in models:
        found = [(lock, e) for lock in locks if (e := lock.get(m.id, m.version)) is not None]
        if len({e.content_hash for _, e in found}) > 1:
            files = [lock.file or LOCK_FILE_NAME for lock, _ in found]
            out.append(Diagnostic(
                Code.LOCK_CONFLICT,
                f"{m.id} version {m.version} is locked with different content in {len(found)} lock files "
                f"that all apply to it: {', '.join(files)}",
                m.source_map.at(("version",)), Severity.ERROR, ("version",),
                "one library has one lock: a second approved.lock below or above the library's lock must not "
                "relock changed content; remove the lock file that was added (restore the library's lock "
                "from version control) and give changed content a new version",
                tuple(Location(f) for f in files),
            ))
        changed = [lock for lock, e in found if e.content_hash != m.content_hash]
        if changed:
            out.extend(check_lock([m], changed[0]))
        elif not found:
            out.extend(check_lock([m], locks[0]))
    return sort_diagnostics(out)


def lock_refusals(model: GuidelineModel) -> list[Diagnostic]:
    """Why a loaded guideline must not be used, by the locks that apply to its file: changed approved content
    (in any applying lock, whatever the guideline's status now), locks that disagree, an unreadable or invalid
    lock, and an approved guideline that no lock lists (even when there is no lock file at all)."""
    locks: list[Lock] = []
    problems: list[Diagnostic] = []
    for path in find_locks(pathlib.Path(model.file)):
        lock, diags = read_lock(path)
        problems += diags
        if lock is not None:
            locks.append(lock)
    if not problems:
        problems = check_locks([model], locks)
    return [d.as_error() for d in problems if d.is_error or d.code == Code.APPROVED_NOT_LOCKED]


def render_lock(entries: Iterable[LockEntry]) -> str:
    """The lock file text: sorted entries, two-space indent, trailing newline (stable diffs)."""
    return json.dumps([e.to_json() for e in sorted(set(entries))], indent=2, ensure_ascii=False) + "\n"


def update_lock(
    path: pathlib.Path, models: Sequence[GuidelineModel]
) -> tuple[list[LockEntry], list[Diagnostic]]:
    """Add lock entries for approved guidelines that have none, and write the file.

    Returns (the entries added, diagnostics). Nothing is written when there is an error: an unreadable or
    invalid lock file, or approved content that differs from its locked hash (``approved-content-changed``).
    A missing lock file is created.
    """
    if path.exists():
        lock, diags = read_lock(path)
        if lock is None:
            return [], diags
    else:
        lock = Lock((), str(path))
    problems = [d for d in check_lock(models, lock) if d.code == Code.APPROVED_CONTENT_CHANGED]
    if problems:
        return [], problems
    added: list[LockEntry] = []
    first_file: dict[tuple[str, str], str] = {}
    for m in models:
        if m.status == "approved" and lock.get(m.id, m.version) is None:
            entry = LockEntry(m.id, m.version, m.content_hash)
            clash = next((e for e in added if (e.id, e.version) == (m.id, m.version)), None)
            if clash is None:
                added.append(entry)
                first_file[(m.id, m.version)] = m.file
            elif clash != entry:
                problems.append(Diagnostic(
                    Code.APPROVED_CONTENT_CHANGED,
                    f"{m.id} version {m.version} is approved in two files with different content "
                    f"(also in {first_file[(m.id, m.version)]})",
                    m.source_map.at(("version",)), Severity.ERROR, ("version",),
                    "one (id, version) must have one content: raise the version of one of them",
                ))
    if problems:
        return [], problems
    if added or not path.exists():
        path.write_text(render_lock([*lock.entries, *added]), encoding="utf-8")
    return added, []
