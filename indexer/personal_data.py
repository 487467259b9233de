"""Warnings about private persons named in entries' free text (title and body), and about
Swedish personal identity numbers written in it.

``kb validate`` and ``kb index`` report each as ``path:line: warning: ...`` (the entry is
still indexed); the web form shows the same warning before and after saving. The names the
knowledge base itself uses for its actors are not counted: ``actors:`` values of entries,
the actors of roadmap actions, the areas' names, the knowledge base's title, and kb.toml's
``[personal_data] allow = [...]`` for anything else that may be published (a public
figure, a place named after a person).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from indexer.parse import read_text
from indexer.roadmaps import load_roadmaps
from kb.core.config import KBConfig
from kb.core.entry import Entry
from kb.core.errors import EntryInvalid, Problem
from kb.core.person_names import find_identity_numbers, find_person_names

CONFIG_TABLE = "personal_data"


def configured_allow(config: KBConfig) -> list[str]:
    """kb.toml ``[personal_data] allow = ["...", ...]``."""
    table = config.raw.get(CONFIG_TABLE) or {}
    values = table.get("allow") if isinstance(table, dict) else None
    return [str(v) for v in values] if isinstance(values, list) else []


def exempt_phrases(config: KBConfig, actors: Iterable[str] = ()) -> set[str]:
    """Names that are the knowledge base's own: ``actors`` (from the entries or the index),
    the roadmaps' actors, area names, the title and the allow list."""
    phrases = {str(a) for a in actors if a}
    phrases.update(action.actor for action in load_roadmaps(config).actions.values() if action.actor)
    phrases.update(area.name for area in config.areas.values())
    phrases.add(config.title)
    phrases.update(configured_allow(config))
    return phrases


def indexed_actors(store) -> set[str]:
    """Every ``actors:`` value the index holds (the web form has no parsed entries at hand)."""
    out: set[str] = set()
    for (value,) in store.db.execute("select actors from entries where actors is not null"):
        try:
            out.update(str(a) for a in json.loads(value) or [])
        except (TypeError, ValueError):
            continue
    return out


def free_text(entry_text: str) -> str:
    """The entry file's text with everything but the title and the body blanked out, line
    for line, so an offset in it is a line of the file."""
    lines = entry_text.split("\n")
    if not lines or lines[0].strip() != "---":
        return entry_text
    end = next((k for k in range(1, len(lines)) if lines[k].strip() in ("---", "...")), None)
    if end is None:
        return entry_text
    out = list(lines)
    for k in range(0, end + 1):
        line = lines[k]
        out[k] = " " * len("title:") + line[len("title:"):] if line.startswith("title:") else ""
    return "\n".join(out)


def entry_free_text(entry: Entry) -> str | None:
    """One entry's title and body, the rest blanked so offsets keep the file's lines; None
    when the file cannot be read (its own error is reported elsewhere)."""
    try:
        return free_text(read_text(entry.path))
    except EntryInvalid:
        return None


def message(name: str) -> str:
    return (f"personal data? the text names {name!r}, which looks like a private person; write the "
            "role instead (e.g. 'projektledaren på gatukontoret'), or list the name in kb.toml "
            "[personal_data] allow if it may be published")


def number_message(shown: str) -> str:
    return (f"personal data! the text holds {shown!r}, which looks like a Swedish personal identity "
            "number; remove it: a lesson never needs one")


def name_warnings(config: KBConfig, entries: list[Entry]) -> list[Problem]:
    """A warning for each private person's name and each personal identity number in the
    entries' free text."""
    exempt = exempt_phrases(config, (a for e in entries for a in e.actors))
    out = []
    for entry in entries:
        text = entry_free_text(entry)
        if text is None:
            continue
        hits = [(hit, message(hit.name)) for hit in find_person_names(text, exempt)]
        hits += [(hit, number_message(hit.name)) for hit in find_identity_numbers(text)]
        out += [Problem(entry.path, hit.line, text, "warning") for hit, text in sorted(hits, key=lambda h: h[0].start)]
    return out


def draft_name_hits(config: KBConfig, fields: dict[str, str], actors: Iterable[str]) -> dict[str, list[str]]:
    """Field name -> the names found in it, for a draft not yet saved (the web form)."""
    exempt = exempt_phrases(config, actors)
    out: dict[str, list[str]] = {}
    for name, value in fields.items():
        found = list(dict.fromkeys(hit.name for hit in find_person_names(value or "", exempt)))
        if found:
            out[name] = found
    return out


def draft_identity_numbers(fields: dict[str, str]) -> list[str]:
    """The personal identity numbers (last four digits hidden) in a draft's fields."""
    return list(dict.fromkeys(hit.name for value in fields.values() for hit in find_identity_numbers(value or "")))
