"""kb.toml as text: one top-level table taken out, every other byte kept as written.

The export for the archive carries kb.toml, but not its ``[auth]`` table (password hashes,
who has which role). A TOML library would rewrite the whole file (comments and layout
gone); this reads just enough TOML to know where each statement begins and ends (strings,
multi-line strings, arrays over several lines, comments), drops the table's header (with the
comment lines just above it) and everything under it, and the dotted keys that set it from
the top of the file. The result is
read back with ``tomllib`` and must equal the original without the table; when it does not
(a layout this reader does not follow), the answer is None and the caller leaves the file out.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class _Statement:
    kind: str  # "header", "pair" or "trivia" (a blank line or a comment)
    key: str | None  # the first part of the header's or the pair's key
    lines: list[str]


def without_table(text: str, table: str) -> str | None:
    """``text`` (TOML) without the top-level ``table``: its ``[table]`` and ``[table.sub]``
    sections and top-level ``table.key = …`` or ``table = {…}`` lines. ``text`` itself when it
    has no such table; None when the table cannot be taken out with certainty."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    if table not in data:
        return text
    kept: list[str] = []
    section: str | None = None  # the first key of the current [header]; None at the top
    for statement in _statements(text):
        if statement.kind == "header":
            section = statement.key
        drop = section == table if statement.kind != "pair" or section is not None \
            else statement.key == table
        if drop and statement.kind == "header":
            while kept and kept[-1].strip().startswith("#"):  # the comment just above belongs to it
                kept.pop()
        if not drop:
            kept += statement.lines
    result = "".join(kept)
    try:
        left = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        return None
    return result if left == {k: v for k, v in data.items() if k != table} else None


def _statements(text: str) -> list[_Statement]:
    lines = text.splitlines(keepends=True)
    out: list[_Statement] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            out.append(_Statement("trivia", None, [lines[i]]))
            i += 1
            continue
        if stripped.startswith("["):
            out.append(_Statement("header", _first_key(stripped.lstrip("[").lstrip()), [lines[i]]))
            i += 1
            continue
        start = i
        state = _Scanner()
        state.scan(lines[i], value_only=False)
        i += 1
        while state.open and i < len(lines):  # a multi-line string or array goes on
            state.scan(lines[i], value_only=True)
            i += 1
        out.append(_Statement("pair", _first_key(stripped), lines[start:i]))
    return out


def _first_key(text: str) -> str | None:
    """The first part of a dotted key at the start of ``text`` (bare or quoted)."""
    if text[:1] in ('"', "'"):
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else None
    match = _BARE_KEY.match(text)
    return match.group() if match else None


class _Scanner:
    """Where a key = value statement stands after each line: inside a multi-line string, or
    inside brackets (an array over several lines)."""

    def __init__(self):
        self.string: str | None = None  # the open multi-line string's delimiter
        self.depth = 0
        self.seen_equals = False

    @property
    def open(self) -> bool:
        return self.string is not None or self.depth > 0

    def scan(self, line: str, value_only: bool) -> None:
        if value_only:
            self.seen_equals = True
        j, n = 0, len(line)
        while j < n:
            if self.string is not None:  # in a multi-line string: look for its end
                end = self._end_of(line, j, self.string)
                if end is None:
                    return
                j, self.string = end, None
                continue
            ch = line[j]
            if ch == "#":
                return
            if ch in ('"', "'"):
                if line.startswith(ch * 3, j):
                    self.string = ch * 3
                    j += 3
                    continue
                end = self._end_of(line, j + 1, ch)
                j = end if end is not None else n
                continue
            if ch == "=":
                self.seen_equals = True
            elif self.seen_equals and ch in "[{":
                self.depth += 1
            elif self.seen_equals and ch in "]}":
                self.depth = max(0, self.depth - 1)
            j += 1

    @staticmethod
    def _end_of(line: str, j: int, delimiter: str) -> int | None:
        """The position after ``delimiter`` closing a string that goes on at ``j``."""
        escapes = delimiter.startswith('"')
        while j < len(line):
            if escapes and line[j] == "\\":
                j += 2
                continue
            if line.startswith(delimiter, j):
                end = j + len(delimiter)
                while len(delimiter) == 3 and line.startswith(delimiter[0], end) and end - j < 5:
                    end += 1  # """a"""" : up to two quotes of the content may touch the end
                return end
            j += 1
        return None
