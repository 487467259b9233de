"""Parse one Markdown entry (YAML front matter + ``##`` sections) into an :class:`Entry`.

Every problem is reported with the file and the line it is on, so a person can fix it
from the message alone. Nothing here touches the index.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from kb.core.characters import first_control_character
from kb.core.config import ENTRY_TYPES, POLICY_LEVELS, KBConfig
from kb.core.entry import KNOWN_KEYS, LIST_KEYS, Entry, Section, is_unfilled
from kb.core.errors import EntryInvalid, Problem
from kb.core.visibility import visibility_problem

MAX_ENTRY_BYTES = 1_000_000
# Front matter is a few keys; long text belongs in the body. The cap keeps every YAML
# document small, and aliases (below) are refused, so nothing grows while it is read.
MAX_FRONT_MATTER_CHARS = 100_000
MAX_EXTRA_CHARS = 10_000  # one unknown key's value, as stored (JSON)
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")  # fullmatch: "$" would let a final newline in
markdown = MarkdownIt("commonmark").use(front_matter_plugin)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: ~10x faster, same marks
    """A safe loader that leaves dates as text, so a bad date is our message, not a crash."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_text(path: Path) -> str:
    """Read an entry file as UTF-8, or raise :class:`EntryInvalid` saying why not."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise EntryInvalid([Problem(path, 1, f"cannot read file ({exc.strerror})")]) from None
    if size > MAX_ENTRY_BYTES:
        raise EntryInvalid(
            [
                Problem(
                    path,
                    1,
                    f"file is {size / 1e6:.1f} MB; entries are limited to "
                    f"{MAX_ENTRY_BYTES / 1e6:.0f} MB (split it into several entries)",
                )
            ]
        )
    data = path.read_bytes()
    if b"\x00" in data:
        raise EntryInvalid([Problem(path, 1, "binary file, not a Markdown entry")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EntryInvalid(
            [Problem(path, line, "not UTF-8 text; save the file as UTF-8")]
        ) from None
    return text.removeprefix("\ufeff")


def parse_entry(path: Path, config: KBConfig) -> Entry:
    """Parse and validate one entry file. Raises :class:`EntryInvalid` with all its problems."""
    text = read_text(path)
    return parse_text(text, path, config)


def parse_text(text: str, path: Path, config: KBConfig) -> Entry:
    if not text.strip():
        raise EntryInvalid(
            [Problem(path, 1, "empty file; an entry starts with front matter between '---' lines")]
        )
    tokens = markdown.parse(text)
    if not tokens or tokens[0].type != "front_matter":
        if text.lstrip("\ufeff").startswith("---"):
            message = "front matter is not closed: add a '---' line after the last key"
        else:
            message = (
                "no front matter: an entry starts with a '---' line, then keys "
                "(title, area, date, type), then another '---' line"
            )
        raise EntryInvalid([Problem(path, 1, message)])
    front = tokens[0]
    meta, key_lines = load_front_matter(front.content, path)
    fm_end = front.map[1] if front.map else 0
    problems: list[Problem] = []

    def line_of(key: str) -> int:
        return key_lines.get(key, 1)

    entry_id = meta.get("id", path.stem)
    entry_id = str(entry_id) if entry_id is not None else path.stem
    if not ID_RE.fullmatch(entry_id):
        problems.append(
            Problem(
                path,
                line_of("id"),
                f"id {entry_id!r} may hold only letters, digits, '.', '_' and '-'",
            )
        )
    title = meta.get("title")
    if title is None or not str(title).strip():
        problems.append(Problem(path, line_of("title"), "missing title"))
    area = meta.get("area")
    problems.extend(area_problems(area, path, line_of("area"), config))
    date = parse_date_value(meta.get("date"))
    if meta.get("date") is None:
        problems.append(Problem(path, line_of("date"), "missing date (YYYY-MM-DD)"))
    elif date is None:
        problems.append(
            Problem(path, line_of("date"), f"bad date {meta.get('date')!r}: write it as YYYY-MM-DD")
        )
    entry_type = meta.get("type")
    if entry_type is None:
        problems.append(
            Problem(path, line_of("type"), f"missing type (one of: {', '.join(ENTRY_TYPES)})")
        )
    elif str(entry_type) not in ENTRY_TYPES:
        problems.append(
            Problem(
                path,
                line_of("type"),
                f"unknown type {entry_type!r}: use one of {', '.join(ENTRY_TYPES)}",
            )
        )
    lists: dict[str, list[str]] = {}
    for key in LIST_KEYS:
        value, error = as_list(meta.get(key))
        if error:
            problems.append(Problem(path, line_of(key), f"{key}: {error}"))
        lists[key] = value
    for level in lists["policy"]:
        if level not in POLICY_LEVELS:
            problems.append(
                Problem(
                    path,
                    line_of("policy"),
                    f"unknown policy level {level!r}: use {', '.join(POLICY_LEVELS)}",
                )
            )
    visibility = meta.get("visibility", config.default_visibility)
    wrong = visibility_problem(visibility)
    if wrong:
        problems.append(Problem(path, line_of("visibility"), wrong))
    sprint = meta.get("sprint")
    extra, extra_problems = extra_values(meta, KNOWN_KEYS, path, line_of)
    problems.extend(extra_problems)
    if problems:
        raise EntryInvalid(problems)

    body = "".join(text.splitlines(keepends=True)[fm_end:]).lstrip("\n")
    intro, sections = split_sections(tokens[1:])
    assert date is not None
    return Entry(
        id=entry_id,
        title=str(title).strip(),
        area=str(area),
        date=date,
        type=str(entry_type),
        path=path,
        body=body,
        sprint=str(sprint) if sprint is not None else None,
        tags=lists["tags"],
        actors=lists["actors"],
        roadmap=lists["roadmap"],
        policy=lists["policy"],
        related=lists["related"],
        visibility=str(visibility),
        extra=extra,
        sections=sections,
        intro=intro,
        rel_path=relative_path(path, config.root),
    )


@dataclass
class Document:
    """A Markdown file with front matter, read but not yet interpreted: the common first
    step of entries, roadmaps, actions and learning questions."""

    path: Path
    text: str
    meta: dict
    key_lines: dict[str, int]
    body: str
    intro: str
    sections: list[Section]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def read_document(path: Path, what: str = "file", text: str | None = None) -> Document:
    """Read ``path`` (or take ``text`` as its content: a file about to be written) and split
    it into front matter and ``##`` sections, or raise :class:`EntryInvalid` saying, with the
    line, why it cannot be read."""
    text = read_text(path) if text is None else text
    if not text.strip():
        raise EntryInvalid([Problem(path, 1, f"empty file; a {what} starts with front matter between '---' lines")])
    tokens = markdown.parse(text)
    if not tokens or tokens[0].type != "front_matter":
        message = ("front matter is not closed: add a '---' line after the last key"
                   if text.startswith("---") else f"no front matter: a {what} starts with a '---' line, "
                   "then its keys, then another '---' line")
        raise EntryInvalid([Problem(path, 1, message)])
    meta, key_lines = load_front_matter(tokens[0].content, path)
    fm_end = tokens[0].map[1] if tokens[0].map else 0
    body = "".join(text.splitlines(keepends=True)[fm_end:]).lstrip("\n")
    intro, sections = split_sections(tokens[1:])
    return Document(path, text, meta, key_lines, body, intro, sections)


def area_problems(area, path: Path, line: int, config: KBConfig) -> list[Problem]:
    """A missing or unknown ``area`` (entries and roadmaps are checked alike)."""
    known = ", ".join(sorted(config.areas))
    if area is None or not str(area).strip():
        return [Problem(path, line, f"missing area (one of: {known})")]
    if str(area) not in config.areas:
        return [Problem(path, line, f"unknown area {area!r}: use one of {known}, or add it to kb.toml")]
    return []


def load_yaml(content: str, path: Path) -> tuple[object, yaml.Node | None]:
    """Front matter YAML through the safe loader, as a value and as its node (for lines).

    Anchors and aliases are refused before anything is built: a few hundred bytes of nested
    aliases expand to gigabytes (a "billion laughs"), and no entry needs them. Every reader
    of a file's front matter (entries, roadmaps, actions, the learning agenda, ``kb link``'s
    edit) goes through here. Problems are :class:`EntryInvalid` with the file line."""
    if len(content) > MAX_FRONT_MATTER_CHARS:
        raise EntryInvalid([Problem(
            path, 1, f"front matter is {len(content):,} characters; the limit is {MAX_FRONT_MATTER_CHARS:,} "
            "(long text belongs in the body, under a ## heading)")])
    try:
        for event in yaml.parse(content, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                sign = "alias '*" if isinstance(event, yaml.AliasEvent) else "anchor '&"
                raise EntryInvalid([Problem(
                    path, event.start_mark.line + 2,  # +1 for 0-based, +1 for the '---' line
                    f"YAML {sign}{event.anchor}': anchors and aliases are not allowed in front matter; "
                    "write each value out")])
        loader = _Loader(content)
        try:
            node = loader.get_single_node()
            value = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        # where the broken construct starts (context) helps more than where it was noticed
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for 0-based, +1 for the '---' line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise EntryInvalid(
            [Problem(path, line, f"broken YAML in front matter: {problem}")]
        ) from None
    return value, node


def load_front_matter(content: str, path: Path) -> tuple[dict, dict[str, int]]:
    """YAML (safe loader, no aliases: :func:`load_yaml`) plus the 1-based file line of each
    top-level key. A value with a control character in it (written as an escape, ``"\\v"``:
    YAML refuses them raw) is refused, whatever the key."""
    meta, node = load_yaml(content, path)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise EntryInvalid(
            [Problem(path, 2, "front matter must be 'key: value' lines, not a list or text")]
        )
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    meta = {str(k): v for k, v in meta.items()}
    problems = [Problem(path, key_lines.get(key, 1), f"{key!r} holds the control character {found}"
                        + (" (Word's line break)" if found == "U+000B" else "")
                        + "; remove it: feeds and other tools cannot carry it")
                for key, value in meta.items()
                if (found := first_control_character(key) or first_control_character(value))]
    if problems:
        raise EntryInvalid(problems)
    return meta, key_lines


def extra_values(meta: dict, known_keys, path: Path, line_of) -> tuple[dict, list[Problem]]:
    """The keys the format does not define (kept as they are, stored as JSON), and a problem
    for each whose value is longer than ``MAX_EXTRA_CHARS`` as stored."""
    extra = {k: v for k, v in meta.items() if k not in known_keys}
    problems = []
    for key, value in extra.items():
        size = len(json.dumps(value, ensure_ascii=False, default=str))
        if size > MAX_EXTRA_CHARS:
            problems.append(Problem(
                path, line_of(key), f"{key!r} holds {size:,} characters; keys the format does not define "
                f"may hold {MAX_EXTRA_CHARS:,} (long text belongs in the body)"))
    return extra, problems


def parse_date_value(value) -> dt.date | None:
    """A front matter date (YAML may give a date, or text we check ourselves), or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def as_list(value) -> tuple[list[str], str | None]:
    """A front matter list of plain values (a single value counts as a list of one), and
    what is wrong with it, if anything."""
    if value is None:
        return [], None
    if isinstance(value, (str, int, float)):
        return [str(value)], None
    if isinstance(value, list):
        if any(isinstance(v, (dict, list)) for v in value):
            return [], "must be a list of plain values, e.g. [a, b]"
        return [str(v) for v in value if v is not None and str(v).strip()], None
    return [], "must be a list, e.g. [a, b]"


def split_sections(tokens) -> tuple[str, list[Section]]:
    """Split the body at ``##`` headings; text is plain (no Markdown markup)."""
    intro: list[str] = []
    found: list[tuple[str, int, list[str]]] = []  # heading, line, text parts
    current = intro
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            heading = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            current = []
            found.append((heading, (token.map[0] if token.map else 0) + 1, current))
        elif token.type == "inline" and not (i > 0 and tokens[i - 1].tag == "h2"):
            current.append(_plain(token))
        elif token.type in ("code_block", "fence"):
            current.append(token.content.rstrip("\n"))
    sections = [
        Section(heading=heading, text="\n".join(p for p in parts if p.strip()), line=line)
        for heading, line, parts in found
    ]
    return "\n".join(p for p in intro if p.strip()), sections


def _plain(inline) -> str:
    out: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out).strip()


def body_is_unfilled(body: str) -> bool:
    """An indexed entry's body (``entries.body``) holds only empty ``##`` sections."""
    intro, sections = split_sections(markdown.parse(body))
    return is_unfilled(intro, sections)


def relative_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)

