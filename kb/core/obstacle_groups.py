"""The recurring-obstacle groups as kept in ``obstacles.md``: each group's id, its label and
its entries, so that a group keeps its name from one learning session to the next.

The file lives at the knowledge base root beside ``decisions.tsv`` (Markdown, in git, never
in the index), so a group's id and a facilitator's name for it survive ``kb index
--rebuild`` and a fresh clone. One section per group::

    ---
    next: 4
    ---
    # Recurring obstacles
    ...
    ## hinder-3: Elnät: lång ledtid för ny anslutning
    - entries: mob-04-tunga-fordon-kapacitetsbrist, nar-02-landstrom-effektbrist
    - label from: nar-02-landstrom-effektbrist
    - named: 2026-03-14 by anna
    - gone since: 2026-05-02

``next`` is the number the next new group gets: ids are never reused, not even after a
group's section is deleted by hand. ``label from`` says which entry a computed label was
taken from (``kb forget`` makes a new one when that entry is erased); ``named`` marks a
label a facilitator gave, which nothing computed replaces; ``gone since`` marks a group the
clustering no longer finds (kept, so its id is not reused and it can come back). Other lines
in a section (a note someone wrote) are kept as written. A heading without a label
(``## hinder-3:``) asks for a new computed one the next time the group is found.

Which cluster continues which group is :mod:`analysis.obstacle_identity`'s business; this
module only reads and writes the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kb.core.errors import KBError, Problem
from kb.core.files import atomic_write_text

GROUPS_FILE = "obstacles.md"
ID_PREFIX = "hinder-"
MAX_LABEL = 200
_ID_RE = re.compile(r"^hinder-([1-9][0-9]{0,8})$")
_HEADING_RE = re.compile(r"^##\s+(\S+?):\s*(.*?)\s*$")
_ITEM_RE = re.compile(r"^[-*]\s+(entries|label from|named|gone since):\s*(.*?)\s*$", re.I)
_NEXT_RE = re.compile(r"^next:\s*(\S*)\s*$")
_ENTRY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

PREAMBLE = """# Recurring obstacles

Kept by `kb obstacles`: one section per group of entries that state the same obstacle. A group
keeps its id (never reused) and its label while it gains or loses entries; a facilitator
renames one with `kb obstacles rename ID "label"` (or on the obstacles page). The entries
lines follow the clustering; other lines you write in a section are kept."""


class GroupFileError(KBError):
    """``obstacles.md`` cannot be read: the file, the line and what to do."""

    def __init__(self, path: Path, line: int, message: str, hint: str):
        super().__init__(f"{path}:{line}: {message}", hint=hint)
        self.problem = Problem(Path(path), line, message)


@dataclass
class KeptGroup:
    id: str
    label: str
    entries: list[str] = field(default_factory=list)
    label_from: str | None = None  # the entry a computed label was taken from
    named: str | None = None  # "2026-03-14 by anna": a facilitator's label
    gone: str | None = None  # the date the clustering stopped finding the group
    notes: list[str] = field(default_factory=list)  # other lines of the section, as written

    @property
    def number(self) -> int:
        return group_number(self.id) or 0

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "entries": list(self.entries), "label_from": self.label_from,
                "named": self.named, "gone": self.gone}


@dataclass
class GroupFile:
    groups: list[KeptGroup] = field(default_factory=list)
    next: int = 1  # the number of the next new group
    preamble: str = PREAMBLE

    def get(self, group_id: str) -> KeptGroup | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def new_id(self) -> str:
        """A never-used id (and the counter moves on)."""
        number = max([self.next, *(g.number + 1 for g in self.groups)])
        self.next = number + 1
        return f"{ID_PREFIX}{number}"

    def render(self) -> str:
        lines = ["---", f"next: {max([self.next, *(g.number + 1 for g in self.groups)])}", "---",
                 self.preamble.strip("\n"), ""]
        for g in sorted(self.groups, key=lambda g: g.number):
            lines += [f"## {g.id}: {clean_label(g.label)}", f"- entries: {', '.join(g.entries)}"]
            if g.label_from:
                lines.append(f"- label from: {g.label_from}")
            if g.named:
                lines.append(f"- named: {g.named}")
            if g.gone:
                lines.append(f"- gone since: {g.gone}")
            lines += [*g.notes, ""]
        return "\n".join(lines).rstrip("\n") + "\n"


def groups_path(root: Path) -> Path:
    return Path(root) / GROUPS_FILE


def group_number(group_id: str) -> int | None:
    found = _ID_RE.match(group_id or "")
    return int(found.group(1)) if found else None


def clean_label(label: str) -> str:
    """One line of at most ``MAX_LABEL`` characters."""
    return " ".join(str(label).split())[:MAX_LABEL]


def load_groups(root: Path) -> GroupFile:
    """The kept groups (an absent file means none yet)."""
    path = groups_path(root)
    if not path.is_file():
        return GroupFile()
    return parse_groups(path.read_text(encoding="utf-8"), path)


def parse_groups(text: str, path: Path) -> GroupFile:
    lines = text.splitlines()
    out = GroupFile(preamble="")
    start = 0
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), None)
        if end is None:
            raise GroupFileError(path, 1, "the front matter (---) is not closed", "Add a line with --- after `next: N`.")
        for k in range(1, end):
            if not lines[k].strip():
                continue
            found = _NEXT_RE.match(lines[k].strip())
            if not found or not found.group(1).isdigit() or int(found.group(1)) < 1:
                raise GroupFileError(path, k + 1, "expected `next: N` (the number of the next new group)",
                                     "Write a whole number above every group's number, or delete the line.")
            out.next = int(found.group(1))
        start = end + 1
    preamble: list[str] = []
    current: KeptGroup | None = None
    seen: set[str] = set()
    for number, raw in enumerate(lines[start:], start=start + 1):
        line = raw.rstrip()
        heading = _HEADING_RE.match(line)
        if heading:
            group_id, label = heading.group(1), clean_label(heading.group(2))
            if group_number(group_id) is None:
                raise GroupFileError(path, number, f"{group_id!r} is not a group id (hinder-N)",
                                     "Each group's heading is `## hinder-N: label`; ids are made by `kb obstacles`.")
            if group_id in seen:
                raise GroupFileError(path, number, f"{group_id} appears twice", "Keep one section per id.")
            seen.add(group_id)
            current = KeptGroup(group_id, label)
            out.groups.append(current)
            continue
        if current is None:
            preamble.append(line)
            continue
        item = _ITEM_RE.match(line.strip())
        if not item:
            if line.strip() or current.notes:
                current.notes.append(line)
            continue
        key, value = item.group(1).lower(), item.group(2)
        if key == "entries":
            ids = [v.strip() for v in value.split(",") if v.strip()]
            bad = [v for v in ids if not _ENTRY_ID_RE.match(v)]
            if bad:
                raise GroupFileError(path, number, f"{bad[0]!r} is not an entry id",
                                     "List entry ids separated by commas.")
            current.entries = ids
        elif key == "label from":
            current.label_from = value or None
        elif key == "named":
            current.named = value or None
        else:
            current.gone = value or None
    for g in out.groups:
        while g.notes and not g.notes[-1].strip():
            g.notes.pop()
    out.preamble = "\n".join(preamble).strip("\n") or PREAMBLE
    return out


def group_file_problems(root: Path) -> list[Problem]:
    """What ``kb validate`` reports about ``obstacles.md``: the first problem that keeps it
    from being read, if any."""
    try:
        load_groups(root)
    except GroupFileError as exc:
        return [exc.problem]
    return []


def save_groups(root: Path, groups: GroupFile) -> bool:
    """Write the file whole (then rename) if its text changes; True if it did. The caller
    holds the write lock."""
    path = groups_path(root)
    text = groups.render()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    atomic_write_text(path, text)
    return True
