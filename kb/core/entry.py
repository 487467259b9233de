"""The entry model: one reflection (lesson) as logged by an area team."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from kb.core.language import detect_language
from kb.core.visibility import DEFAULT_VISIBILITY

# Front matter keys the format defines; anything else is kept in ``extra``.
KNOWN_KEYS = (
    "id",
    "title",
    "area",
    "date",
    "sprint",
    "type",
    "tags",
    "actors",
    "roadmap",
    "policy",
    "related",
    "visibility",
)
LIST_KEYS = ("tags", "actors", "roadmap", "policy", "related")


@dataclass
class Section:
    """A ``##`` section of an entry body. ``line`` is 1-based in the file."""
    heading: str
    text: str
    line: int


def is_unfilled(intro: str, sections: list[Section]) -> bool:
    """True for a body of ``##`` headings with no text at all: nothing to learn from yet."""
    return bool(sections) and not intro.strip() and not any(s.text.strip() for s in sections)


@dataclass
class Entry:
    id: str
    title: str
    area: str
    date: dt.date
    type: str
    path: Path
    body: str = ""
    sprint: str | None = None
    tags: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    roadmap: list[str] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    visibility: str = DEFAULT_VISIBILITY  # as written, else kb.toml's default (kb.core.visibility)
    source: str | None = None  # another city's name for a followed lesson (kb sync); None for our own
    extra: dict = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    intro: str = ""  # body text before the first ``##`` heading
    rel_path: str = ""

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is embedded or stored changes. Computed on the row
        as it was before ``author`` had a column of its own (with it in ``extra``), so that
        indexes made before need no work."""
        row = self.to_row(include_hash=False)
        row.pop("author")
        row["extra"] = self._extra_json(self.extra)
        payload = json.dumps(row, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def lang(self) -> str:
        return detect_language(f"{self.title}\n{self.body}")

    @property
    def summary(self) -> str:
        """The text that stands for the whole entry: the intro, else the first section."""
        if self.intro.strip():
            return self.intro.strip()
        return self.sections[0].text.strip() if self.sections else ""

    @property
    def unfilled(self) -> bool:
        """Headings and no text under any of them: a template (``kb new``) not filled in yet."""
        return is_unfilled(self.intro, self.sections)

    def to_row(self, include_hash: bool = True) -> dict:
        row = {
            "id": self.id,
            "title": self.title,
            "area": self.area,
            "date": self.date.isoformat(),
            "sprint": self.sprint,
            "type": self.type,
            "tags": json.dumps(self.tags, ensure_ascii=False),
            "actors": json.dumps(self.actors, ensure_ascii=False),
            "roadmap": json.dumps(self.roadmap, ensure_ascii=False),
            "policy": json.dumps(self.policy, ensure_ascii=False),
            "related": json.dumps(self.related, ensure_ascii=False),
            "extra": self._extra_json({k: v for k, v in self.extra.items() if k != "author"}),
            "author": str(self.extra["author"]) if self.extra.get("author") is not None else None,
            "path": self.rel_path or str(self.path),
            "body": self.body,
            "lang": self.lang,
            "visibility": self.visibility,
            "source": self.source,
        }
        if include_hash:
            row["content_hash"] = self.content_hash
        return row

    @staticmethod
    def _extra_json(extra: dict) -> str:
        return json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str)
