"""The guideline library: find guideline files by id and version (bundled or in a folder)."""

from __future__ import annotations

import os
import pathlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from ..codes import Code
from ..errors import Diagnostic, GuidelineError, Location
from .resources import bundled_folder
from .source import load_yaml

__all__ = [
    "GUIDELINE_ID",
    "LibraryEntry",
    "Reference",
    "bundled_dir",
    "find_guideline",
    "list_guidelines",
    "parse_reference",
    "parse_version",
]

GUIDELINE_GLOB = "*.guideline.yaml"

#: The grammar of a guideline id (the schema's ``id`` pattern): kebab-case, at most ``MAX_ID_CHARS``.
GUIDELINE_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_ID_CHARS = 128
#: File names that make a reference a file path even without a folder separator.
YAML_SUFFIXES = (".yaml", ".yml")

_HOW_TO_REFER = (
    "write a bundled guideline by its id (lower-case kebab-case, e.g. `leukopenia`), or a file as a path "
    "that contains a folder separator or ends in .yaml/.yml (e.g. `./my-guideline` or `my.guideline.yaml`)"
)


@dataclass(frozen=True, slots=True)
class Reference:
    """What a guideline reference means: a file (``path``) or a bundled guideline id (``id``)."""

    kind: Literal["file", "id"]
    path: pathlib.Path | None = None
    id: str | None = None


def looks_like_path(text: str) -> bool:
    """Whether a textual reference is written as a file path: a folder separator or a YAML suffix."""
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(s in text for s in separators) or text.lower().endswith(YAML_SUFFIXES)


def parse_reference(ref: str | os.PathLike[str]) -> Reference:
    """Decide, from the reference alone (never from what exists on disk), whether it names a file or a
    bundled guideline id.

    * a ``pathlib.Path`` (any ``os.PathLike``) is a file;
    * text containing a folder separator (``./leukopenia``, ``dir/x``) or ending in ``.yaml``/``.yml`` is a
      file;
    * other text must be a guideline id (``leukopenia``): it is looked up in the bundled library only, so a
      file or folder of that name in the working folder can never stand in for the bundled guideline;
    * anything else (``Leukopenia``, ``..``, an empty string) is refused (``guideline-ref-invalid``).
    """
    if isinstance(ref, os.PathLike):
        return Reference("file", path=pathlib.Path(ref))
    if not isinstance(ref, str):
        raise GuidelineError([Diagnostic(
            Code.GUIDELINE_REF_INVALID,
            f"a guideline reference must be text or a path, not {type(ref).__name__}",
            Location("<reference>"),
            hint=_HOW_TO_REFER,
        )])
    if looks_like_path(ref):
        return Reference("file", path=pathlib.Path(ref))
    if len(ref) <= MAX_ID_CHARS and GUIDELINE_ID.fullmatch(ref):
        return Reference("id", id=ref)
    shown = ref if len(ref) <= 80 else ref[:80] + "..."
    raise GuidelineError([Diagnostic(
        Code.GUIDELINE_REF_INVALID,
        f"{shown!r} is neither a guideline id nor a file path",
        Location("<reference>"),
        hint=_HOW_TO_REFER,
    )])


def bundled_dir() -> pathlib.Path:
    """The folder of bundled guidelines: inside the installed package, or ``guidelines/`` of a checkout."""
    return bundled_folder("guidelines") or pathlib.Path(__file__).resolve().parents[2] / "guidelines"


def parse_version(text: str) -> tuple[int, int, int, int, str]:
    """Sort key of a semantic version; a pre-release sorts before its release."""
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-(.+))?", text)
    if not m:
        return (-1, -1, -1, -1, text)
    pre = m.group(4)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre or "")


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    id: str
    version: str
    status: str
    path: pathlib.Path


#: A top-level ``id``, ``version`` or ``status`` line whose value is a simple scalar: plain, or quoted without
#: escapes, then an optional comment.
_HEADER_LINE = re.compile(
    rb"^(id|version|status):[ ]+"
    rb"""(?:"([^"\\\n]*)"|'([^'\n]*)'|([A-Za-z0-9][A-Za-z0-9._+-]*))"""
    rb"[ ]*(?:[ ]\#[^\n]*)?$",
    re.M,
)
_TOP_KEY = re.compile(rb"^(id|version|status)[ \t]*:", re.M)
#: Plain scalars the strict loader reads as something other than text (numbers, booleans, null).
_NOT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|~", re.I)


def _quick_header(data: bytes) -> dict[str, str] | None:
    """``id``, ``version`` and ``status`` read from their own top-level lines without parsing the file, or
    None whenever that reading could differ from the strict loader's (then the file is parsed)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if re.search(rb"^(?:%|---|\.\.\.)|\t|\r", data, re.M):  # directives, documents, tabs, CR: parse
        return None
    first = re.search(rb"^[^#\s\n]", data, re.M)
    if first is None or data[first.start():first.start() + 1] in b"{[-?&*!|>'\"":
        return None
    found: dict[str, str] = {}
    for m in _HEADER_LINE.finditer(data):
        rest = data[m.end():]
        nxt = re.search(rb"^(?![ ]*(?:#|$)).", rest[1:], re.M)  # the next line with content
        if nxt is not None and nxt.group(0) == b" ":  # an indented line: a continuation, or an error
            return None
        raw = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if m.group(4) is not None and _NOT_TEXT.fullmatch(value):
            return None
        found[m.group(1).decode()] = value
    keys = [k.decode() for k in _TOP_KEY.findall(data)]
    if sorted(keys) != ["id", "status", "version"] or len(found) != 3:  # missing, duplicate or unusual
        return None
    return found


def _header(path: pathlib.Path) -> LibraryEntry | None:
    raw = path.read_bytes()
    quick = _quick_header(raw)
    if quick is not None:
        return LibraryEntry(quick["id"], quick["version"], quick["status"], path)
    data, _, _diags = load_yaml(raw, str(path))
    if not isinstance(data, dict):
        return None
    gid, version, status = data.get("id"), data.get("version"), data.get("status")
    if not (isinstance(gid, str) and isinstance(version, str) and isinstance(status, str)):
        return None
    return LibraryEntry(gid, version, status, path)


def _inside(path: pathlib.Path, root: pathlib.Path) -> bool:
    """Whether ``path``, every link followed, is a regular file inside the resolved folder ``root``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a link loop
        return False
    return real.is_relative_to(root) and real.is_file()


@cache
def _scan(root: pathlib.Path) -> tuple[LibraryEntry, ...]:
    """The guideline files under the resolved ``root``; a symbolic link leading outside it is never read."""
    entries = [
        e for p in sorted(root.rglob(GUIDELINE_GLOB)) if _inside(p, root) and (e := _header(p)) is not None
    ]
    return tuple(entries)


def list_guidelines(root: pathlib.Path | None = None) -> tuple[LibraryEntry, ...]:
    """Every guideline file under ``root`` (default: the bundled library), sorted by path."""
    return _scan((root or bundled_dir()).resolve())


def find_guideline(gid: str, version: str | None = None, root: pathlib.Path | None = None) -> LibraryEntry:
    """The file of guideline ``gid``: the pinned ``version``, or else the newest version that is not retired.

    Raises ``GuidelineError`` (``guideline-not-found``, ``guideline-retired``) otherwise.
    """
    entries = [e for e in list_guidelines(root) if e.id == gid]
    where = Location(str(root or "bundled library"))
    if not entries:
        known = sorted({e.id for e in list_guidelines(root)})
        raise GuidelineError(
            [
                Diagnostic(
                    Code.GUIDELINE_NOT_FOUND,
                    f"no guideline with id '{gid}'",
                    where,
                    hint=f"known ids: {', '.join(known) or 'none'}",
                )
            ]
        )
    if version is not None:
        pinned = [e for e in entries if e.version == version]
        if not pinned:
            versions = ", ".join(sorted((e.version for e in entries), key=parse_version))
            raise GuidelineError(
                [
                    Diagnostic(
                        Code.GUIDELINE_NOT_FOUND,
                        f"guideline '{gid}' has no version {version}",
                        where,
                        hint=f"versions: {versions}",
                    )
                ]
            )
        return pinned[0]
    live = [e for e in entries if e.status != "retired"]
    if not live:
        raise GuidelineError(
            [Diagnostic(Code.GUIDELINE_RETIRED, f"every version of guideline '{gid}' is retired", where)]
        )
    return max(live, key=lambda e: parse_version(e.version))
