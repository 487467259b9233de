"""What the documents share (the brief, the yearly report, the digest): how an entry is
referred to, how links to entries are made, Markdown escaping and the HTML templates."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote as url_quote

from analysis.policy import quote as entry_quote
from analysis.roadmaps import EntryRef

TEMPLATES_DIR = Path(__file__).parent / "templates"
QUOTE_CHARS = 170


def entry_refs(rows: dict):
    """A function making the :class:`EntryRef` of an entry id from its index row."""
    def ref(entry_id: str) -> EntryRef:
        row = rows[entry_id]
        return EntryRef(
            id=entry_id, title=row["title"], area=row["area"], type=row["type"], date=row["date"],
            sprint=row.get("sprint"), path=row.get("path"), quote=entry_quote(row.get("body") or "", QUOTE_CHARS),
            lang=row.get("lang") or "",
        )

    return ref


@dataclass
class ActionItem:
    """An action as the brief and the digest show it."""
    id: str
    title: str
    owner: str
    due: str
    status: str
    overdue: bool
    lessons: list[EntryRef] = field(default_factory=list)
    validated_on: str | None = None
    evidence: str = ""


def action_item(action, today, ref=None, rows=None) -> ActionItem:
    """The :class:`ActionItem` of an action on ``today``; with ``ref`` and ``rows`` (the
    index rows), the lessons it answers that are in them."""
    lessons = [ref(e) for e in action.lessons if e in rows] if ref and rows is not None else []
    return ActionItem(id=action.id, title=action.title, owner=action.owner, due=action.due.isoformat(),
                      status=action.status, overdue=action.overdue(today), lessons=lessons,
                      validated_on=action.changed_on("validated"), evidence=action.evidence)


@dataclass
class Links:
    """How a rendered brief links to entries: Datasette pages if ``base_url`` is set, else
    paths to the entry files relative to ``out_dir`` (the folder of the written file)."""
    root: Path
    out_dir: Path | None = None
    base_url: str | None = None

    def entry(self, ref: EntryRef) -> str:
        if self.base_url is not None:
            return f"{self.base_url.rstrip('/')}/-/kb/entry/{url_quote(ref.id, safe='')}"
        target = Path(self.root) / (ref.path or f"entries/{ref.area}/{ref.id}.md")
        start = Path(self.out_dir) if self.out_dir else Path(self.root)
        relative = os.path.relpath(target.resolve(), start.resolve())
        return url_quote(relative.replace(os.sep, "/"))

    @property
    def web(self) -> bool:
        return self.base_url is not None


def md_text(value) -> str:
    """Text from entries, kb.toml or a request, inert in Markdown: on one line, without HTML
    (``<`` and ``>`` as entities) and without markup of its own (links, images, emphasis,
    code), so a title can never add a script, an image or a ``javascript:`` link to the
    file, whatever viewer opens it."""
    flat = " ".join(str(value).split())
    return re.sub(r"([\\`*_\[\]])", r"\\\1", flat).replace("<", "&lt;").replace(">", "&gt;")


def jinja_env():
    """The templates of the documents (autoescaped HTML)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)
