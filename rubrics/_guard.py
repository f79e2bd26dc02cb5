"""Rubric text checked before and while it is parsed: size, encoding, characters, anchors, nesting, entries, time.

Each refusal is a RubricProblem at the line it is about with a fix, like every other rubric problem. The YAML is
composed by a Composer that counts as it goes, so a hostile file is stopped at the first node past a limit instead
of after it has been expanded (an alias bomb) or recursed into (10,000 nested brackets).
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.scanner import RoundTripScanner

from rubrics import limits
from rubrics.problems import RubricInvalid, RubricProblem

UTF8 = "save it as UTF-8 text (in most editors: Save As, encoding UTF-8)"
# YAML's printable set (ruamel's Reader refuses the rest with a bare "special characters are not allowed")
_LONG_NUMBER = re.compile(r"[-+]?[0-9][0-9a-fA-FxXoObB_:.eE+-]{100,}")  # int() of >4,300 digits raises
_SURROGATE = re.compile("[\ud800-\udfff]")  # bytes that were not UTF-8, decoded with surrogateescape
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Refused(Exception):
    """A limit reached while composing: the 1-based line and the sentence (turned into a RubricProblem)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _line_of(text: str | bytes, pos: int) -> int:
    return text.count("\n" if isinstance(text, str) else b"\n", 0, pos) + 1


def _size_problem(size: int, source: str) -> RubricProblem:
    return RubricProblem(source, 1, f"the file is {size:,} bytes, more than the {limits.MAX_BYTES:,} a rubric file "
                                    "may hold; shorten descriptions and notes, or split the look-fors into two rubrics")


def decode(data: bytes, source: str, size: int | None = None) -> str:
    """The text of a rubric file's bytes (`size`: the whole file's, when only its start was read); RubricInvalid
    (with the line and a fix) for a file too large or anything that is not UTF-8 text."""
    size = max(len(data), size or 0)
    if size > limits.MAX_BYTES:
        raise RubricInvalid([_size_problem(size, source)])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\x00" in data[:200] and _looks_utf16(data[:200])):
        raise RubricInvalid([RubricProblem(source, 1, f"the file is saved as UTF-16 text, not UTF-8; {UTF8}")])
    if b"\x00" in data:
        pos = data.index(b"\x00")
        raise RubricInvalid([RubricProblem(source, _line_of(data, pos), "the file holds a NUL byte, so it is a "
                                           f"binary file (or a damaged copy), not rubric text; {UTF8}")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise RubricInvalid([RubricProblem(source, _line_of(data, exc.start), f"byte 0x{bad:02X} is not UTF-8 "
                                           "(the file may be saved as Latin-1/Windows-1252, or be a binary file); "
                                           f"{UTF8}")]) from None


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of ASCII text is NUL."""
    return head[1::2].count(0) >= len(head) // 4 or head[0::2].count(0) >= len(head) // 4


def check_text(text: str, source: str, line_map: Callable[[int], int] = lambda n: n, csv: bool = False) -> None:
    """Size and characters of rubric text, before any parsing (a text field may hold a decoded binary file).
    A CSV cell may hold any character but NUL (the YAML made from it escapes control characters)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.MAX_BYTES:
        raise RubricInvalid([_size_problem(size, source)])
    head = text[:200]
    if "\x00" in text:
        if head.startswith(("\xff\xfe", "\xfe\xff", "\ufffd\ufffd")) or _looks_utf16(head.encode("latin-1", "replace")):
            message = f"the file is UTF-16 text read as if it were UTF-8 (NUL bytes between the letters); {UTF8}"
            raise RubricInvalid([RubricProblem(source, line_map(1), message)])
        raise RubricInvalid([RubricProblem(source, line_map(_line_of(text, text.index("\x00"))),
                                           f"the file holds a NUL byte, so it is a binary file (or a damaged copy), "
                                           f"not rubric text; {UTF8}")])
    bad = (_SURROGATE if csv else _NON_PRINTABLE).search(text, 1 if text.startswith("\ufeff") else 0)
    if bad is not None:
        ch = bad.group()
        what = ("bytes that are not UTF-8" if "\ud800" <= ch <= "\udfff"
                else f"the control character U+{ord(ch):04X}, which text files do not contain")
        raise RubricInvalid([RubricProblem(source, line_map(_line_of(text, bad.start())),
                                           f"the file holds {what}, so it is a binary file or a damaged copy; "
                                           f"{UTF8}")])


_DEPTH = (f"values are nested more than {limits.MAX_DEPTH} levels deep here; a rubric needs at most 6 "
          "(scales > levels > value): remove the extra brackets or indentation")


class _Scanner(RoundTripScanner):
    """Stops at the bracket past the depth limit: a `[` may begin a key, so the scanner reads ahead to the matching
    `]` before the composer sees anything (10,000 nested brackets took 0.5-1.2 s there; here they stop at once)."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: Any) -> None:
        if len(self.flow_context) >= limits.MAX_DEPTH:
            raise Refused(self.reader.get_mark().line + 1, _DEPTH)
        super().fetch_flow_collection_start(TokenClass, to_push)


class _Composer(Composer):
    """ruamel's Composer with the limits: no anchors or aliases, bounded depth, entries and nodes, and a deadline."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.deadline = time.monotonic() + limits.TIME_BUDGET_S
        self.nodes = 0
        self.path: list[Any] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            name = event.anchor
            raise Refused(line, f"the file uses the YAML {'alias *' if isinstance(event, AliasEvent) else 'anchor &'}"
                                f"{name}; a rubric file may not use anchors (&name) or aliases (*name), write the "
                                "value out in full where it is needed")
        if isinstance(event, ScalarEvent) and event.style is None and _LONG_NUMBER.fullmatch(event.value):
            raise Refused(line, f"this number is {len(event.value):,} characters long; a rubric's numbers (versions, "
                                "level values) have a few digits, so shorten it, or put it in quotes if it is text")
        self.nodes += 1
        if self.nodes > limits.MAX_NODES:
            raise Refused(line, f"the file holds more than {limits.MAX_NODES:,} values; a rubric holds at most "
                                f"{limits.MAX_LOOKFORS:,} look-fors, so split it into smaller rubrics")
        if self.depth >= limits.MAX_DEPTH:
            raise Refused(line, _DEPTH)
        if isinstance(index, int) and index >= limits.MAX_LOOKFORS:
            if self.path == [None, "lookfors"]:  # the root node is composed with key None
                raise Refused(line, f"this is look-for #{index + 1:,}; a rubric holds at most "
                                    f"{limits.MAX_LOOKFORS:,} look-fors, so split it into smaller rubrics")
            raise Refused(line, f"this list has more than {limits.MAX_LOOKFORS:,} entries; shorten it")
        if time.monotonic() > self.deadline:
            raise Refused(line, f"reading the file took more than {limits.TIME_BUDGET_S:g} s and was stopped here; "
                                "a rubric this large cannot be used, so shorten it or split it into smaller rubrics")
        key = index.value if isinstance(index, ScalarNode) else index
        self.path.append(key)
        try:
            return super().compose_node(parent, index)
        finally:
            self.path.pop()


def load_yaml(text: str, source: str, line_map: Callable[[int], int]) -> Any:
    """The round-trip YAML data of checked rubric text; RubricInvalid at the first limit reached."""
    check_text(text, source, line_map)
    yaml = YAML(typ="rt")
    yaml.Scanner, yaml.Composer = _Scanner, _Composer
    try:
        return yaml.load(text)
    except Refused as exc:
        raise RubricInvalid([RubricProblem(source, line_map(exc.line), exc.message)]) from None


def out_of_time(source: str, line_map: Callable[[int], int], started: float) -> None:
    """Refuse the file when the checks after parsing would run past the time budget."""
    if time.monotonic() - started > limits.TIME_BUDGET_S:
        raise RubricInvalid([RubricProblem(source, line_map(1), f"checking the file took more than "
                                           f"{limits.TIME_BUDGET_S:g} s; shorten it or split it into smaller rubrics")])
