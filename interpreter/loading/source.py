"""Strict YAML loading with a source map.

CONTRACT (the SourceMap class below is fixed; fields were only added):

    load_yaml(data: bytes, file: str, limits: LoaderLimits = DEFAULT_LIMITS)
        -> tuple[Any | None, SourceMap, list[Diagnostic]]

Returns plain data: dict (keys always str, exactly as written), list, str, int, Decimal (for
non-integer numbers, exact as written), bool (only `true`/`false`), None (only `null`/`~`/empty).
Everything else stays a string. Refusals are diagnostics (data is None when any error occurred).

How it works: PyYAML's parser (libyaml's when available) produces the event stream; this module
composes plain data from the events itself, so nothing of YAML 1.1's implicit typing, tags, anchors
or aliases ever runs. Anchors and aliases are refused as events, before anything is expanded, so a
"billion laughs" file costs no more than reading its bytes. Every PyYAML exception becomes a
``yaml-syntax`` diagnostic with its mark; nothing here raises for bad content.

Decisions (documented in docs/diagnostics.md):

* A UTF-8 byte-order mark at the very start is accepted and skipped (columns on line 1 are counted
  after it). UTF-16/32 files and any invalid UTF-8 are refused (``yaml-encoding``).
* Numbers: plain ``-?(0|[1-9][0-9]*)`` is an ``int``; plain ``-?(0|[1-9][0-9]*)\\.[0-9]+`` with an
  optional exponent ``[eE][-+]?[0-9]{1,3}`` (or an integer with an exponent) is a ``Decimal`` built
  from the text (``1.10`` stays ``Decimal('1.10')``). Anything else (``010``, ``0x1F``, ``1_000``,
  ``12:30``, ``+1``, ``.5``, ``5.``) stays a string; so does a number longer than 64 characters.
* ``.nan``, ``.inf``, ``-.inf`` (any YAML spelling) are refused (``yaml-non-finite``).
* Explicit tags (``!!str``, ``!!python/object``, ``!``) are refused (``yaml-tag``): quote instead.
* A plain scalar under a key named ``when``, ``expr`` or ``amount`` followed on the same line by a
  comment is refused (``yaml-comment-in-expression``): the comment may have cut the expression short.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Protocol

import yaml

from ..codes import Code
from ..errors import Diagnostic, Location, Path, Severity

__all__ = ["DEFAULT_LIMITS", "EXPRESSION_KEYS", "LoaderLimits", "LocationTable", "SourceMap", "load_yaml",
           "read_capped"]


class LocationTable(Mapping[Path, Location]):
    """Path -> ``Location``, stored as (line, column) pairs of one file: the composer records a place for
    every value and key of a document, and only the few a message or the model asks for become ``Location``
    objects (each made when it is read, equal to any other made for that place)."""

    __slots__ = ("_places", "file")

    def __init__(self, file: str, places: dict[Path, tuple[int, int]]) -> None:
        self.file = file
        self._places = places

    def __getitem__(self, path: Path) -> Location:
        line, column = self._places[path]
        return Location(self.file, line, column)

    def get(self, path: Path, default: Any = None) -> Any:  # faster than Mapping's (no exception)
        place = self._places.get(path)
        return default if place is None else Location(self.file, place[0], place[1])

    def __contains__(self, path: object) -> bool:
        return path in self._places

    def __iter__(self) -> Iterator[Path]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)

    def __repr__(self) -> str:
        return f"LocationTable({self.file!r}, {len(self._places)} places)"


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where every value (and every mapping key) of a document was written."""

    file: str
    #: path -> location of the value at that path
    values: Mapping[Path, Location] = field(default_factory=dict)
    #: path -> location of the mapping key whose value is at that path
    keys: Mapping[Path, Location] = field(default_factory=dict)
    #: path -> the source text of a plain scalar that was read as a number, a boolean or null
    #: (so that a message can quote what the author wrote, e.g. ``1.10`` or ``1e3``)
    plain_text: Mapping[Path, str] = field(default_factory=dict)
    #: path -> where each line of an expression's text was written: (line, column, length) per source
    #: line, so that a position inside a quoted, multi-line or block expression maps back to the file
    segments: Mapping[Path, tuple[tuple[int, int, int], ...]] = field(default_factory=dict)

    def at(self, path: Path) -> Location:
        """Location of the value at ``path``, or of its nearest recorded ancestor."""
        p = tuple(path)
        while True:
            loc = self.values.get(p)
            if loc is not None:
                return loc
            if not p:
                return Location(self.file, 1, 1)
            p = p[:-1]

    def key_at(self, path: Path) -> Location:
        """Location of the key naming the value at ``path`` (falls back to the value's location)."""
        loc = self.keys.get(tuple(path))
        return loc if loc is not None else self.at(path)

    def position(self, path: Path, offset: int) -> Location:
        """The location of character ``offset`` of the text at ``path`` (exact for expression keys)."""
        segments = self.segments.get(tuple(path))
        if not segments:
            start = self.at(path)
            return Location(start.file, start.line, start.column + offset if start.column else 0)
        for line, column, length in segments:
            if offset <= length:
                return Location(self.file, line, column + offset)
            offset -= length + 1  # the line break, folded into a space or kept
        line, column, length = segments[-1]
        return Location(self.file, line, column + length)

    def text_at(self, path: Path) -> str | None:
        """The source text of a plain scalar read as a number, boolean or null (else None)."""
        return self.plain_text.get(tuple(path))


@dataclass(frozen=True, slots=True)
class LoaderLimits:
    """Limits applied to every guideline file before and while it is read."""

    #: the largest file accepted, in bytes
    max_bytes: int = 1024 * 1024
    #: the deepest nesting of mappings and sequences accepted
    max_depth: int = 64
    #: the longest plain scalar still read as a number (longer ones stay strings)
    max_number_chars: int = 64
    #: at most this many anchor/alias diagnostics per file (the rest are summarised)
    max_anchor_reports: int = 10
    #: at most this many diagnostics per file; checking stops early past it (``too-many-diagnostics``)
    max_diagnostics: int = 200


DEFAULT_LIMITS = LoaderLimits()

#: Keys whose plain-scalar values are expressions: a comment after them may have cut them short.
EXPRESSION_KEYS = frozenset({"when", "expr", "amount"})

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]{1,3})?|[eE][-+]?[0-9]{1,3})")
_NON_FINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_COMMENT_AFTER = re.compile(r"[ \t]+#")
_LINE_BREAKS = "\n\r\x85\u2028\u2029"


class _Parser(Protocol):
    def get_event(self) -> Any: ...
    def peek_event(self) -> Any: ...
    def dispose(self) -> None: ...


def _make_parser(text: str) -> _Parser:
    """The YAML event parser: libyaml's when PyYAML was built with it, else the pure-Python one."""
    loader_cls = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    parser: _Parser = loader_cls(text)
    return parser


class _Fatal(Exception):
    """Stops composing: the diagnostic has been recorded."""


def _location_of_index(file: str, text: str, index: int) -> Location:
    """1-based line and column of a character index (counting line breaks as YAML does)."""
    index = max(0, min(index, len(text)))
    line = 1
    line_start = 0
    i = 0
    while i < index:
        ch = text[i]
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
            if i >= index:
                break
        if ch in _LINE_BREAKS:
            line += 1
            line_start = i + 1
        i += 1
    return Location(file, line, index - line_start + 1)


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = []
        if exc.problem:
            parts.append(exc.problem)
        if exc.context:
            ctx = exc.context
            if exc.context_mark is not None and (
                exc.problem_mark is None
                or exc.context_mark.line != exc.problem_mark.line
                or exc.context_mark.column != exc.problem_mark.column
            ):
                ctx += f" started at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
            parts.append(f"({ctx})")
        return " ".join(parts) or "invalid YAML"
    return str(exc).split("\n", 1)[0]


class _Composer:
    def __init__(self, text: str, file: str, limits: LoaderLimits, parser: _Parser) -> None:
        self.text = text
        self.file = file
        self.limits = limits
        self.parser = parser
        self.diagnostics: list[Diagnostic] = []
        #: (line, column) of every value and key (``LocationTable`` makes them ``Location`` when read)
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self.plain_text: dict[Path, str] = {}
        self.segments: dict[Path, tuple[tuple[int, int, int], ...]] = {}
        self.anchor_reports = 0
        self.anchor_more = 0
        #: the parser's own methods, bound once (the composer calls them for every event)
        self.next_event: Callable[[], Any] = parser.get_event
        self.peek_event: Callable[[], Any] = parser.peek_event

    # -- helpers -----------------------------------------------------------------------------------

    def loc(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def report(
        self,
        code: str,
        message: str,
        location: Location,
        path: Path,
        hint: str | None = None,
        related: tuple[Location, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, location, Severity.ERROR, path, hint, related))


    def check_tag_and_anchor(self, event: Any, path: Path) -> None:
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.report_anchor(f"anchor '&{anchor}' is not allowed", self.loc(event.start_mark), path)
        tag = getattr(event, "tag", None)
        if tag is not None:
            written = tag
            if tag.startswith("tag:yaml.org,2002:"):
                written = "!!" + tag[len("tag:yaml.org,2002:") :]
            self.report(
                Code.YAML_TAG,
                f"explicit YAML tag '{written}' is not allowed",
                self.loc(event.start_mark),
                path,
                hint="remove the tag; to make a value text, put it in quotes",
            )

    def report_anchor(self, message: str, location: Location, path: Path) -> None:
        if self.anchor_reports < self.limits.max_anchor_reports:
            self.anchor_reports += 1
            self.report(
                Code.YAML_ANCHOR,
                message,
                location,
                path,
                hint="anchors (&name) and aliases (*name) are not allowed: write the content out in full",
            )
        else:
            self.anchor_more += 1

    # -- composing ---------------------------------------------------------------------------------

    def compose_stream(self) -> tuple[Any, bool]:
        """Returns (data, had_document)."""
        self.next_event()  # StreamStart
        event = self.peek_event()
        if isinstance(event, yaml.StreamEndEvent):
            return None, False
        self.next_event()  # DocumentStart
        event = self.peek_event()
        empty = (
            isinstance(event, yaml.ScalarEvent)
            and event.value == ""
            and event.tag is None
            and event.anchor is None
            and not event.style
        )
        data = self.compose_node((), 1, None)
        self.next_event()  # DocumentEnd
        event = self.peek_event()
        if isinstance(event, yaml.DocumentStartEvent):
            self.report(
                Code.YAML_MULTIPLE_DOCUMENTS,
                "the file holds more than one YAML document (a second '---')",
                self.loc(event.start_mark),
                (),
                hint="put one guideline in each file; remove the second '---' and what follows it",
            )
            raise _Fatal
        if empty:
            return None, False
        if data is None and not self.diagnostics:  # `~`, `null` or `---` alone: a document of nothing
            self.report(
                Code.YAML_EMPTY,
                "the document is null: the file holds no guideline",
                Location(self.file, *self.values.get((), (1, 1))),
                (),
                hint="a guideline file starts with `id:`, `version:`, `title:` ...",
            )
            raise _Fatal
        return data, True

    def compose_node(self, path: Path, depth: int, key: str | None) -> Any:
        event = self.next_event()
        if isinstance(event, yaml.AliasEvent):
            alias_loc = self.loc(event.start_mark)
            self.report_anchor(f"alias '*{event.anchor}' is not allowed", alias_loc, path)
            self.values[path] = (alias_loc.line, alias_loc.column)
            return None
        mark = event.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        if event.anchor is not None or event.tag is not None:  # every node event has both
            self.check_tag_and_anchor(event, path)
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event, path, key)
        if depth > self.limits.max_depth:
            self.report(
                Code.YAML_TOO_DEEP,
                f"nesting is deeper than {self.limits.max_depth} levels",
                self.loc(event.start_mark),
                path,
                hint="a guideline never needs this much nesting; flatten it",
            )
            raise _Fatal
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not isinstance(self.peek_event(), yaml.SequenceEndEvent):
                items.append(self.compose_node((*path, len(items)), depth + 1, None))
            self.next_event()
            return items
        if isinstance(event, yaml.MappingStartEvent):
            return self.mapping(path, depth)
        raise AssertionError(f"unexpected YAML event {event!r}")  # pragma: no cover - parser guarantees

    def mapping(self, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, tuple[int, int]] = {}
        peek = self.peek_event
        while not isinstance(key_event := peek(), yaml.MappingEndEvent):
            key_mark = key_event.start_mark
            key_place = (key_mark.line + 1, key_mark.column + 1)
            if not isinstance(key_event, yaml.ScalarEvent):
                key_loc = Location(self.file, *key_place)
                kind = (
                    "an alias"
                    if isinstance(key_event, yaml.AliasEvent)
                    else ("a list" if isinstance(key_event, yaml.SequenceStartEvent) else "a mapping")
                )
                if isinstance(key_event, yaml.AliasEvent):
                    self.next_event()
                    self.report_anchor(f"alias '*{key_event.anchor}' is not allowed", key_loc, path)
                else:
                    self.report(
                        Code.YAML_COMPLEX_KEY,
                        f"a mapping key must be plain text, not {kind}",
                        key_loc,
                        path,
                        hint="write keys as simple names such as `when:`",
                    )
                    # compose (and throw away) the key so the parser stays in step
                    self.compose_node((*path, "<complex key>"), depth + 1, None)
                    self.values.pop((*path, "<complex key>"), None)
                self.compose_node((*path, "<complex key value>"), depth + 1, None)
                self.values.pop((*path, "<complex key value>"), None)
                continue
            self.next_event()
            if key_event.anchor is not None or key_event.tag is not None:
                self.check_tag_and_anchor(key_event, (*path, key_event.value))
            key = str(key_event.value)
            child = (*path, key)
            if key in first_seen:
                first = Location(self.file, *first_seen[key])
                key_loc = Location(self.file, *key_place)
                self.report(
                    Code.YAML_DUPLICATE_KEY,
                    f"duplicate key '{key}': it was already written at line {first.line}, "
                    f"column {first.column}",
                    key_loc,
                    child,
                    hint="remove one of them; YAML would silently keep only the last",
                    related=(first,),
                )
                # keep the first value's locations; compose the duplicate under a throw-away path
                self.compose_node((*path, f"<duplicate {key}>"), depth + 1, key)
                continue
            first_seen[key] = key_place
            self.keys[child] = key_place
            result[key] = self.compose_node(child, depth + 1, key)
        self.next_event()
        return result

    def scalar(self, event: Any, path: Path, key: str | None) -> Any:
        value: str = event.value
        if key in EXPRESSION_KEYS:
            self.segments[path] = self.text_segments(event)
        if event.style:  # quoted or block scalar: always text
            return value
        if key in EXPRESSION_KEYS:
            self.check_comment(event, path, key)
        resolved = self.resolve_plain(value, event, path)
        if not isinstance(resolved, str):
            self.plain_text[path] = value
        return resolved

    def text_segments(self, event: Any) -> tuple[tuple[int, int, int], ...]:
        """(line, column, length), 1-based, of every source line holding part of a scalar's text."""
        text = self.text
        start, end = event.start_mark.index, event.end_mark.index
        first_line = event.start_mark.line + 1
        raw_lines = text[start:end].split("\n")
        segments: list[tuple[int, int, int]] = []
        if event.style in (">", "|"):  # block scalar: the text starts on the line after the indicator
            for i, raw in enumerate(raw_lines[1:], start=1):
                body = raw.rstrip("\r")
                stripped = body.lstrip(" ")
                if stripped:
                    segments.append((first_line + i, len(body) - len(stripped) + 1, len(stripped.rstrip())))
            return tuple(segments)
        quote = 1 if event.style in ("'", '"') else 0
        for i, raw in enumerate(raw_lines):
            body = raw.rstrip("\r")
            if i == 0:
                column = event.start_mark.column + 1 + quote
                body = body[quote:]
            else:
                stripped = body.lstrip(" \t")
                column = len(body) - len(stripped) + 1
                body = stripped
            if i == len(raw_lines) - 1 and quote:
                body = body[:-1]
            segments.append((first_line + i, column, len(body.rstrip())))
        return tuple(segments)

    def check_comment(self, event: Any, path: Path, key: str) -> None:
        end = event.end_mark.index
        line_end = end
        while line_end < len(self.text) and self.text[line_end] not in _LINE_BREAKS:
            line_end += 1
        rest = self.text[end:line_end]
        m = _COMMENT_AFTER.match(rest)
        if not m:
            return
        comment = rest[m.end() - 1 :].strip()
        hash_loc = Location(self.file, event.end_mark.line + 1, event.end_mark.column + m.end())
        self.report(
            Code.YAML_COMMENT_IN_EXPRESSION,
            f"the {key} `{event.value}` is followed by a comment `{comment}` on the same line; "
            "the comment may have cut the expression short",
            hash_loc,
            path,
            hint=f'quote the whole expression, e.g. {key}: "...", and put comments on their own line',
        )

    def resolve_plain(self, value: str, event: Any, path: Path) -> Any:
        if value in ("", "~", "null"):
            return None
        if value == "true":
            return True
        if value == "false":
            return False
        if value[0] not in "-+.0123456789":  # no number, and no .nan / .inf, starts otherwise
            return value
        if len(value) <= self.limits.max_number_chars:
            if _INT.fullmatch(value):
                return int(value)
            if _DECIMAL.fullmatch(value):
                return Decimal(value)
        if _NON_FINITE.fullmatch(value):
            self.report(
                Code.YAML_NON_FINITE,
                f"'{value}' (not a number / infinity) is not allowed",
                self.loc(event.start_mark),
                path,
                hint="write a finite number",
            )
        return value


def _decode(data: bytes, file: str) -> tuple[str | None, Diagnostic | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data.startswith((b"\x00\x00\xfe\xff",)):
        return None, Diagnostic(
            Code.YAML_ENCODING,
            "the file is encoded as UTF-16 or UTF-32 (it starts with such a byte-order mark)",
            Location(file, 1, 1),
            hint="save the file as UTF-8",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start]
        line = prefix.count(b"\n") + 1
        line_start = prefix.rfind(b"\n") + 1
        column = len(prefix[line_start:].decode("utf-8")) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, Diagnostic(
            Code.YAML_ENCODING,
            f"the file is not valid UTF-8 (byte 0x{bad} at line {line}, column {column})",
            Location(file, line, column),
            hint="save the file as UTF-8",
        )


def _too_large(file: str, size_text: str, limits: LoaderLimits) -> Diagnostic:
    return Diagnostic(
        Code.YAML_TOO_LARGE,
        f"the file is {size_text} bytes; the limit is {limits.max_bytes} bytes",
        Location(file, 1, 1),
        hint="split the guideline or remove unneeded content",
    )


def read_capped(path: str | os.PathLike[str], limits: LoaderLimits = DEFAULT_LIMITS) -> tuple[
    bytes | None, Diagnostic | None
]:
    """The bytes of a guideline file, reading at most ``limits.max_bytes + 1`` of them.

    Only a regular file is read: anything else (a FIFO, a character device such as /dev/zero, a socket)
    is refused as ``file-unreadable`` before it is opened, so that nothing blocks or streams forever. A file
    whose size is over the limit is refused as ``yaml-too-large`` without reading it; one that grows while
    it is read is cut at ``max_bytes + 1`` bytes and refused the same way.
    """
    file = os.fspath(path)
    try:
        st = os.stat(file)
        if not stat.S_ISREG(st.st_mode):
            return None, Diagnostic(
                Code.FILE_UNREADABLE,
                "not a regular file (a device, pipe or socket); only guideline files are read",
                Location(file),
                hint="save the guideline to a file and name that file",
            )
        if st.st_size > limits.max_bytes:
            return None, _too_large(file, str(st.st_size), limits)
        with open(file, "rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        return None, Diagnostic(
            Code.FILE_UNREADABLE, f"cannot read the file: {exc.strerror or exc}", Location(file)
        )
    if len(data) > limits.max_bytes:
        return None, _too_large(file, f"more than {limits.max_bytes}", limits)
    return data, None


def load_yaml(
    data: bytes, file: str, limits: LoaderLimits = DEFAULT_LIMITS
) -> tuple[Any | None, SourceMap, list[Diagnostic]]:
    """Parse one guideline document strictly. See the module docstring for the rules."""
    empty_map = SourceMap(file)
    if len(data) > limits.max_bytes:
        return None, empty_map, [_too_large(file, str(len(data)), limits)]
    text, problem = _decode(data, file)
    if text is None:
        assert problem is not None
        return None, empty_map, [problem]
    result, composer, early = _compose(text, file, limits, _make_parser)
    if composer is not None and _libyaml_depth_stop(composer.diagnostics):
        # libyaml (0.2.6 and later) stops at its own nesting limit of 1,000 levels while it scans ahead,
        # before our composer sees the level that crosses `max_depth`. The pure-Python parser has no such
        # limit, so the document is composed again with it and refused as `yaml-too-deep` at the exact
        # place, whatever libyaml version PyYAML was built with. Only a too-deep file pays for this.
        result, composer, early = _compose(text, file, limits, _pure_python_parser)
    if composer is None:
        assert early is not None
        return None, empty_map, [early]
    return _finish(result, composer, file)


def _pure_python_parser(text: str) -> _Parser:
    parser: _Parser = yaml.SafeLoader(text)
    return parser


def _libyaml_depth_stop(diagnostics: list[Diagnostic]) -> bool:
    return any(d.code == Code.YAML_SYNTAX and "maximum nesting depth" in d.message for d in diagnostics)


def _compose(
    text: str, file: str, limits: LoaderLimits, make_parser: Callable[[str], _Parser]
) -> tuple[Any, _Composer | None, Diagnostic | None]:
    """Compose one document; without a composer, the third item is the syntax error that stopped it."""
    parser: _Parser | None = None
    composer: _Composer | None = None
    try:
        parser = make_parser(text)
        composer = _Composer(text, file, limits, parser)
        result, had_document = composer.compose_stream()
        if not had_document:
            composer.report(
                Code.YAML_EMPTY,
                "the file holds no YAML document",
                Location(file, 1, 1),
                (),
                hint="a guideline file starts with `id:`, `version:`, `title:` ...",
            )
    except _Fatal:
        result = None
    except yaml.YAMLError as exc:
        result = None
        diag = _syntax_diagnostic(exc, text, file)
        if composer is None:
            return None, None, diag
        composer.diagnostics.append(diag)
    except RecursionError:  # pragma: no cover - the depth limit stops far earlier
        result = None
        assert composer is not None
        composer.report(Code.YAML_TOO_DEEP, "nesting is too deep", Location(file, 1, 1), ())
    finally:
        if parser is not None:
            parser.dispose()
    assert composer is not None
    return result, composer, None


def _finish(result: Any, composer: _Composer, file: str) -> tuple[Any | None, SourceMap, list[Diagnostic]]:
    if composer.anchor_more:
        last = composer.diagnostics[-1].location if composer.diagnostics else Location(file, 1, 1)
        composer.report(Code.YAML_ANCHOR, f"... and {composer.anchor_more} more anchors or aliases", last, ())
    source_map = SourceMap(
        file,
        LocationTable(file, composer.values),
        LocationTable(file, composer.keys),
        MappingProxyType(composer.plain_text),
        MappingProxyType(composer.segments),
    )
    diagnostics = composer.diagnostics
    if any(d.is_error for d in diagnostics):
        result = None
    return result, source_map, diagnostics


def _syntax_diagnostic(exc: yaml.YAMLError, text: str, file: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        location = Location(file, mark.line + 1, mark.column + 1)
    elif isinstance(exc, yaml.reader.ReaderError):
        location = _location_of_index(file, text, exc.position)
    else:  # pragma: no cover - every PyYAML error has a mark or a position
        location = Location(file, 1, 1)
    message = _describe_yaml_error(exc)
    hint = None
    line_text = _line_text(text, location.line)
    if isinstance(exc, yaml.reader.ReaderError):
        hint = "remove the control character; only printable text is allowed"
    elif "\t" in line_text[: max(location.column, 1)] or re.search(r"\btab\b", message):
        hint = "indent with spaces: YAML does not allow tab characters in indentation"
    return Diagnostic(Code.YAML_SYNTAX, message, location, Severity.ERROR, (), hint)


def _line_text(text: str, line: int) -> str:
    lines = re.split(r"\r\n|[\n\r\x85\u2028\u2029]", text)
    return lines[line - 1] if 0 < line <= len(lines) else ""
