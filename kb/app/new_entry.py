"""``kb new``: a new entry file from a template, under a safe file name."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from kb.core.config import ENTRY_TYPES, KBConfig
from kb.core.errors import KBError
from kb.core.files import create_exclusive

HEADINGS = {
    "sv": ("Vad hände?", "Vad lärde vi oss?", "Nästa steg"),
    "en": ("What happened?", "What did we learn?", "Next steps"),
}
_TRANSLITERATE = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "a", "Ä": "a", "Ö": "o",
                                "æ": "ae", "ø": "o", "Æ": "ae", "Ø": "o", "ß": "ss"})


def slugify(text: str, max_length: int = 60) -> str:
    """A safe file name stem: ascii letters, digits and '-', never empty, no path parts."""
    text = text.translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    text = text[:max_length].rstrip("-")
    return text or "entry"


def render(
    *,
    entry_id: str,
    title: str,
    area: str,
    entry_type: str,
    date: dt.date,
    sprint: str | None = None,
    tags: list[str] | None = None,
    actors: list[str] | None = None,
    roadmap: list[str] | None = None,
    lang: str = "sv",
    sections: dict[str, str] | None = None,
    extra: dict | None = None,
) -> str:
    meta: dict = {
        "id": entry_id,
        "title": title,
        "area": area,
        "date": date.isoformat(),
    }
    if sprint:
        meta["sprint"] = sprint
    meta["type"] = entry_type
    meta["tags"] = list(tags or [])
    meta["actors"] = list(actors or [])
    meta["roadmap"] = list(roadmap or [])
    meta["related"] = []
    meta.update(extra or {})
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
    # dates stay plain text in the file, as people write them
    front = front.replace(f"date: '{date.isoformat()}'", f"date: {date.isoformat()}")
    headings = HEADINGS.get(lang, HEADINGS["sv"])
    sections = sections or {}
    body = "\n".join(f"## {h}\n{sections.get(h, '').strip()}\n" for h in headings)
    return f"---\n{front}---\n{body}"


def default_sprint(date: dt.date) -> str:
    return f"{date.year}-S{(date.month - 1) // 3 + 1}"


def create_entry(
    config: KBConfig,
    *,
    title: str,
    area: str,
    entry_type: str,
    lang: str = "sv",
    date: dt.date | None = None,
    sprint: str | None = None,
    tags: list[str] | None = None,
    actors: list[str] | None = None,
    roadmap: list[str] | None = None,
) -> Path:
    """Write a new entry under ``entries/<area>/``; refuses to overwrite an existing file."""
    if area not in config.areas:
        raise KBError(
            f"unknown area {area!r}",
            hint=f"Use one of: {', '.join(sorted(config.areas))} (or add it to kb.toml).",
        )
    if entry_type not in ENTRY_TYPES:
        raise KBError(f"unknown type {entry_type!r}", hint=f"Use one of: {', '.join(ENTRY_TYPES)}.")
    if not title.strip():
        raise KBError("the title is empty", hint="Give a short title with --title.")
    if lang not in HEADINGS:
        raise KBError(f"unknown language {lang!r}", hint="Use --lang sv or --lang en.")
    date = date or dt.date.today()
    entry_id = slugify(title)
    folder = config.entries_dir / area
    taken = next(config.entries_dir.rglob(f"{entry_id}.md"), None) if config.entries_dir.is_dir() else None
    if taken is not None and taken.parent != folder:
        raise KBError(
            f"{taken}: an entry with id {entry_id!r} already exists",
            hint="Choose another --title, or edit the existing entry.",
        )
    path = folder / f"{entry_id}.md"
    if not path.resolve().is_relative_to(config.entries_dir.resolve()):
        raise KBError(f"{path}: outside the entries folder")  # defence in depth; slugify prevents it
    text = render(
        entry_id=entry_id,
        title=title.strip(),
        area=area,
        entry_type=entry_type,
        date=date,
        sprint=sprint or default_sprint(date),
        tags=tags,
        actors=actors,
        roadmap=roadmap,
        lang=lang,
    )
    try:
        create_exclusive(path, text)
    except FileExistsError:
        raise KBError(
            f"{path}: already exists; not overwritten",
            hint="Choose another --title, or edit the existing entry.",
        ) from None
    return path
