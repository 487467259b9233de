"""What actions and learning questions share as files: keys checked one by one with every
problem kept (``path:line: message``), and a folder read so that one bad file never stops
the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypeVar

from indexer.parse import ID_RE, Document, as_list, extra_values, parse_date_value
from kb.core.errors import EntryInvalid, Problem, RecordNotFound
from kb.core.visibility import visibility_problem

T = TypeVar("T")


class KeyChecks:
    """Reads a document's front matter keys and gathers what is wrong with them, by line."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.meta = doc.meta
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.doc.path, self.doc.line_of(key), message))

    def identifier(self) -> str:
        """``id:``, or the file name without ``.md``."""
        value = str(self.meta.get("id") or self.doc.path.stem)
        if not ID_RE.fullmatch(value):
            self.add("id", f"id {value!r} may hold only letters, digits, '.', '_' and '-'")
        return value

    def required_text(self, *keys: str) -> None:
        for key in keys:
            if not str(self.meta.get(key) or "").strip():
                self.add(key, f"missing {key}")

    def date(self, key: str, *, required: bool) -> dt.date | None:
        value = parse_date_value(self.meta.get(key))
        if value is None and required:
            self.add(key, f"missing or bad {key} date: write it as YYYY-MM-DD")
        elif value is None and self.meta.get(key) not in (None, ""):
            self.add(key, f"bad {key} date: write it as YYYY-MM-DD")
        return value

    def choice(self, key: str, choices: Collection[str], default: str = "") -> str:
        value = str(self.meta.get(key) or default)
        if value not in choices:
            self.add(key, f"unknown {key} {value!r}: use one of {', '.join(choices)}")
        return value

    def visibility(self, default: str) -> str:
        """``visibility:``, else ``default`` (kb.toml's); a value that is not one is a problem."""
        value = self.meta.get("visibility", default)
        wrong = visibility_problem(value)
        if wrong:
            self.add("visibility", wrong)
        return str(value)

    def values(self, key: str) -> list[str]:
        """A list of plain values (one value counts as a list of one)."""
        values, error = as_list(self.meta.get(key))
        if error:
            self.add(key, f"{key}: {error}")
        return values

    def extra(self, known_keys: Collection[str]) -> dict:
        """The keys the format does not define, kept as they are."""
        extra, problems = extra_values(self.meta, known_keys, self.doc.path, self.doc.line_of)
        self.problems += problems
        return extra

    def section(self, headings: Collection[str]) -> str:
        """The text of the first ``##`` section with one of ``headings`` (casefolded)."""
        return next((s.text for s in self.doc.sections if s.heading.strip().casefold() in headings), "").strip()

    def raise_if_any(self) -> None:
        if self.problems:
            raise EntryInvalid(self.problems)


def load_folder(folder: Path, parse: Callable[[Path], T], what: str) -> tuple[list[T], list[Problem]]:
    """Parse every ``*.md`` in ``folder`` (none if it does not exist) with ``parse``; a file
    that fails, or repeats an id, becomes problems and the rest are read."""
    items: list[T] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return items, problems
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            item = parse(path)
        except EntryInvalid as exc:
            problems.extend(exc.problems)
            continue
        item_id = item.id  # type: ignore[attr-defined]
        if item_id in seen:
            problems.append(Problem(path, 1, f"duplicate {what} id {item_id!r}: also in {seen[item_id].name}"))
            continue
        seen[item_id] = path
        items.append(item)
    return items, problems


def find_record(found, record_id: str, missing: str, hint: str):
    """The record with this id in a loaded set (the actions, the agenda: ``by_id`` and
    ``problems``). A file of that name that did not load raises its problems; an unknown id
    raises the catalogue text ``missing`` (its ``{id}`` filled) with the catalogue text ``hint``."""
    record = found.by_id.get(record_id)
    if record is None:
        broken = [p for p in found.problems if p.path.stem == record_id]
        if broken:
            raise EntryInvalid(broken)
        raise RecordNotFound(missing, hint, id=repr(record_id))
    return record
