"""Capture: turn form fields (web page, ``kb new --from-stdin``, ``kb import``) into a valid
entry file, written atomically under a file lock, and index just that entry.

The rules are the ones of ``kb validate``: a draft is rendered to Markdown and parsed
with :func:`indexer.parse.parse_text`, so a saved entry is valid by construction. The
checks before that only give each form field its own message and limit sizes.

Concurrency: every write (choosing a free id, creating the file, updating the index)
happens while holding ``fcntl.flock`` on ``<root>/.kb/write.lock``, so several web
workers, ``kb import`` and ``kb index`` processes never pick the same id or interleave
index transactions. Readers are not blocked: SQLite runs in WAL mode and the FAISS file
is replaced by rename.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analysis.duplicates import duplicates_of_entry
from indexer.build import index_entries
from indexer.parse import parse_text
from kb.app import git_commit
from kb.app.documents import document_text, free_id, slugify
from kb.core import audit
from kb.core.characters import has_control_characters
from kb.core.config import ENTRY_TYPES, KBConfig
from kb.core.entry import Entry
from kb.core.errors import EntryInvalid, KBError
from kb.core.files import create_exclusive, write_lock
from kb.core.texts import DEFAULT_LANGUAGE, Message
from kb.core.visibility import VISIBILITIES
from search.similar import similar_to_unsaved

HEADINGS = {
    "sv": ("Vad hände?", "Vad lärde vi oss?", "Nästa steg"),
    "en": ("What happened?", "What did we learn?", "Next steps"),
}
def default_sprint(date: dt.date) -> str:
    return f"{date.year}-S{(date.month - 1) // 3 + 1}"


MAX_TITLE = 300
MAX_SECTIONS = 12
MAX_HEADING = 120
MAX_ITEM = 80
MAX_SPRINT = 40
MAX_AUTHOR = 120
SECTION_FIELDS = ("happened", "learned", "next")  # form fields, in HEADINGS order
_SPRINT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")  # fullmatch: no final newline


@dataclass(frozen=True)
class Limits:
    """Size limits: a web form is a short reflection; an imported register row may be long
    (NASA's longest section is 31,000 characters). Both stay far under the parser's 1 MB."""
    section: int = 10_000
    entry: int = 60_000
    items: int = 20  # values in tags, actors, roadmap


WEB_LIMITS = Limits()
IMPORT_LIMITS = Limits(section=200_000, entry=500_000, items=200)


class CaptureInvalid(KBError):
    """A draft with problems; ``errors`` maps a field name to its messages.

    A message is a catalogue :class:`~kb.core.texts.Message`, shown in the language the
    reader asked for (:meth:`messages`, :meth:`lines`), or plain text that is not the
    catalogue's: the entry format's problems and the JSON and register readers' own, which
    are English like ``kb validate`` and the rest of the CLI."""
    def __init__(self, errors: dict[str, list[Message | str]]):
        self.errors = errors
        super().__init__("; ".join(self.lines(DEFAULT_LANGUAGE)))

    def messages(self, lang: str, area_names: Mapping[str, str] | None = None) -> dict[str, list[str]]:
        """Field -> its messages, in ``lang``; areas as slugs, or as ``area_names`` (a page
        whose form shows the names)."""
        return {name: [m.render(lang, area_names) if isinstance(m, Message) else m for m in msgs]
                for name, msgs in self.errors.items()}

    def lines(self, lang: str) -> list[str]:
        """``field: message`` lines, in ``lang``."""
        return [f"{name}: {m}" for name, msgs in self.messages(lang).items() for m in msgs]


@dataclass
class Draft:
    """What a person (or a register row) wants to log, as plain values."""
    title: str = ""
    area: str = ""
    type: str = "lesson"
    date: str = ""
    sprint: str = ""
    tags: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    roadmap: list[str] = field(default_factory=list)
    lang: str = "sv"
    sections: list[tuple[str, str]] = field(default_factory=list)  # (heading, text)
    author: str = ""
    visibility: str = ""  # empty: kb.toml's default, not written in the file
    id: str = ""  # empty: made from the title, unique in the KB
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The draft's words, for finding similar lessons before it is saved."""
        return "\n".join([self.title, *(t for _, t in self.sections if t.strip())])


@dataclass
class Saved:
    id: str
    path: Path
    entry: Entry
    indexed: bool
    commit: str | None = None  # the git commit, when kb.toml turns git_commit on


# --- from a form ------------------------------------------------------------------------
def split_list(value: str | list | None) -> list[str]:
    """``"a, b; c"`` or a list -> ``["a", "b", "c"]`` (blanks dropped, order kept, no repeats)."""
    if value is None:
        return []
    parts = value if isinstance(value, list) else re.split(r"[,;\n]", str(value))
    out: list[str] = []
    for part in parts:
        item = " ".join(str(part).split())
        if item and item not in out:
            out.append(item)
    return out


def draft_from_form(form: Mapping[str, str], *, author: str = "", default_lang: str = "sv") -> Draft:
    """The web form's fields (all strings) as a :class:`Draft`; nothing is checked yet."""
    lang = (form.get("lang") or default_lang).strip()
    headings = HEADINGS.get(lang, HEADINGS["sv"])
    sections = [(h, form.get(name) or "") for h, name in zip(headings, SECTION_FIELDS, strict=True)]
    return Draft(
        title=form.get("title") or "",
        area=(form.get("area") or "").strip(),
        type=(form.get("type") or "lesson").strip(),
        date=(form.get("date") or "").strip(),
        sprint=(form.get("sprint") or "").strip(),
        tags=split_list(form.get("tags")),
        actors=split_list(form.get("actors")),
        roadmap=split_list(form.get("roadmap")),
        lang=lang,
        sections=sections,
        author=author,
        visibility=(form.get("visibility") or "").strip(),
    )


def draft_from_json(text: str, *, lang: str = "sv") -> Draft:
    """``kb new --from-stdin``: one JSON object with the form's fields; ``sections`` may be
    ``{heading: text}`` (any headings) instead of happened/learned/next."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaptureInvalid({"stdin": [f"not JSON ({exc.msg}, line {exc.lineno})"]}) from None
    if not isinstance(data, dict):
        raise CaptureInvalid({"stdin": ["expected one JSON object"]})
    form = {k: v if isinstance(v, list) else ("" if v is None else str(v)) for k, v in data.items()
            if k != "sections"}
    form.setdefault("lang", lang)
    form.setdefault("date", dt.date.today().isoformat())  # as `kb new`: today
    draft = draft_from_form(form, author=str(data.get("author") or ""), default_lang=lang)
    for name in ("tags", "actors", "roadmap"):
        setattr(draft, name, split_list(data.get(name)))
    sections = data.get("sections")
    if isinstance(sections, dict):
        draft.sections = [(str(h), str(t or "")) for h, t in sections.items()]
    elif sections is not None:
        raise CaptureInvalid({"sections": ["must be an object {heading: text}"]})
    if data.get("id"):
        draft.id = str(data["id"])
    return draft


# --- checking and rendering -------------------------------------------------------------
def check_fields(config: KBConfig, draft: Draft, *, require_body: bool = True,
                 limits: Limits = WEB_LIMITS) -> dict[str, list[Message]]:
    """Per-field messages (empty when fine), in no language yet: the caller renders them in
    its reader's. Sizes are limited here; the format rules themselves are applied by
    :func:`build` through the parser."""
    errors: dict[str, list[Message]] = {}

    def add(name: str, key: str, **params) -> None:
        errors.setdefault(name, []).append(Message(key, params))

    title = " ".join(draft.title.split())
    if not title:
        add("title", "capture_check_title_missing")
    elif len(title) > MAX_TITLE:
        add("title", "capture_check_title_too_long", max=MAX_TITLE)
    if draft.area not in config.areas:
        add("area", "capture_check_area", areas=sorted(config.areas))  # slugs: names where a page shows names
    if draft.type not in ENTRY_TYPES:
        add("type", "capture_check_type", types=", ".join(ENTRY_TYPES))
    if not draft.date:
        add("date", "capture_check_date_missing")
    elif _date(draft.date) is None:
        add("date", "capture_check_date_bad", value=repr(draft.date[:20]))
    if draft.sprint and (len(draft.sprint) > MAX_SPRINT or not _SPRINT_RE.fullmatch(draft.sprint)):
        add("sprint", "capture_check_sprint", max=MAX_SPRINT)
    for name in ("tags", "actors", "roadmap"):
        values = getattr(draft, name)
        if len(values) > limits.items:
            add(name, "capture_check_too_many_values", max=limits.items)
        if any(len(v) > MAX_ITEM for v in values):
            add(name, "capture_check_value_too_long", max=MAX_ITEM)
    if draft.visibility and draft.visibility not in VISIBILITIES:
        add("visibility", "capture_check_visibility", value=repr(draft.visibility[:20]))
    if draft.lang not in HEADINGS:
        add("lang", "capture_check_language")
    if len(draft.sections) > MAX_SECTIONS:
        add("body", "capture_check_too_many_sections", max=MAX_SECTIONS)
    for i, (heading, text) in enumerate(draft.sections):
        name = SECTION_FIELDS[i] if i < len(SECTION_FIELDS) else "body"
        if len(heading) > MAX_HEADING or not heading.strip():
            add("body", "capture_check_heading", heading=repr(heading[:40]))
        if len(text) > limits.section:
            add(name, "capture_check_text_too_long", max=limits.section)
    if require_body and not any(text.strip() for _, text in draft.sections):
        add("happened", "capture_check_no_section")
    if len(draft.author) > MAX_AUTHOR:
        add("author", "capture_check_author_too_long")
    for name in ("title", "sprint", "author"):
        if has_control_characters(getattr(draft, name)):
            add(name, "capture_check_control_characters")
    return errors


def render(draft: Draft, entry_id: str, *, template: bool = False) -> str:
    """The entry file's text, for the form, ``kb new`` and import alike, through the one
    document renderer (:func:`kb.app.documents.document_text`). Empty sections are left out,
    unless ``template`` (``kb new``: headings to fill)."""
    date = _date(draft.date)
    assert date is not None
    meta: dict = {"id": entry_id, "title": " ".join(draft.title.split()), "area": draft.area,
                  "date": date, "sprint": draft.sprint or default_sprint(date),
                  "type": draft.type, "tags": draft.tags, "actors": draft.actors,
                  "roadmap": draft.roadmap, "related": []}
    if draft.visibility:
        meta["visibility"] = draft.visibility
    if draft.author:
        meta["author"] = " ".join(draft.author.split())
    meta.update(draft.extra)
    return document_text(meta, draft.sections, keep_empty=template)


def template_draft(*, title: str, area: str, entry_type: str = "lesson", lang: str = "sv",
                   date: dt.date | None = None, sprint: str = "", tags: list[str] | None = None,
                   visibility: str = "") -> Draft:
    """``kb new``: a draft whose sections are the empty headings of the template, and whose
    id is made from the title (an entry with that id already is refused, not renamed).
    ``visibility`` is written in the file, so whoever fills it in sees who may read it."""
    headings = HEADINGS.get(lang, HEADINGS["sv"])
    return Draft(title=title, area=area, type=entry_type, lang=lang,
                 date=(date or dt.date.today()).isoformat(), sprint=sprint or "",
                 tags=list(tags or []), sections=[(h, "") for h in headings], id=slugify(title),
                 visibility=visibility)


def build(config: KBConfig, draft: Draft, entry_id: str | None = None, *,
          limits: Limits = WEB_LIMITS, template: bool = False) -> tuple[str, Entry]:
    """Check the draft and render it; the text is parsed with the rules of ``kb validate``.

    Raises :class:`CaptureInvalid` (field -> messages) when anything is wrong."""
    errors = check_fields(config, draft, limits=limits, require_body=not template)
    if errors:
        raise CaptureInvalid(errors)
    entry_id = entry_id or draft.id or slugify(draft.title)
    text = render(draft, entry_id, template=template)
    if len(text) > limits.entry:
        raise CaptureInvalid({"body": [Message("capture_check_entry_too_long", {"max": limits.entry})]})
    path = config.entries_dir / draft.area / f"{entry_id}.md"

    try:
        entry = parse_text(text, path, config)
    except EntryInvalid as exc:
        raise CaptureInvalid({"entry": [p.message for p in exc.problems]}) from None
    return text, entry


# --- writing ------------------------------------------------------------------------------
def taken_ids(config: KBConfig) -> set[str]:
    """Ids in use: entry file stems (ours always equal the id) and ids in the index."""
    ids: set[str] = set()
    if config.entries_dir.is_dir():
        ids.update(p.stem for p in config.entries_dir.rglob("*.md"))
    if config.db_path.exists():
        with contextlib.closing(sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True)) as conn:
            with contextlib.suppress(sqlite3.Error):
                ids.update(r[0] for r in conn.execute("select id from entries"))
    return ids


def write_entry_file(config: KBConfig, draft: Draft, *, taken: set[str] | None = None,
                     limits: Limits = WEB_LIMITS, template: bool = False) -> tuple[Path, Entry]:
    """Validate and create the file under ``entries/<area>/``; the caller holds the write
    lock, so choosing the id and creating the file are one step for every writer.

    The id is the draft's own (refused if taken), or one made from the title and made
    unique; an existing file is never overwritten."""
    errors = check_fields(config, draft, limits=limits, require_body=not template)
    if errors:
        raise CaptureInvalid(errors)
    taken = taken_ids(config) if taken is None else taken
    entry_id = draft.id or free_id(slugify(draft.title), taken)
    if draft.id and draft.id in taken:
        raise KBError(f"an entry with id {draft.id!r} already exists; not overwritten",
                      hint="Choose another title (or id), or edit the existing entry.")
    text, entry = build(config, draft, entry_id, limits=limits, template=template)
    folder = (config.entries_dir / draft.area).resolve()
    if not folder.is_relative_to(config.entries_dir.resolve()):
        raise KBError(f"{folder}: outside the entries folder")  # area slugs prevent it; be sure
    try:
        create_exclusive(entry.path, text)
    except FileExistsError:
        raise KBError(f"{entry.path}: already exists; not overwritten") from None
    taken.add(entry_id)
    return entry.path, entry


def save(config: KBConfig, draft: Draft, embedder=None, *, template: bool = False,
         commit: bool | None = None, commit_message: str | None = None, who: str | None = None) -> Saved:
    """Write one entry, index it and commit it, all under the write lock: the one way an
    entry is created (the form, ``kb new``, ``kb new --from-stdin``).

    With no embedder (or no usable index) the file is written and ``indexed`` is False.
    ``commit``: commit the file to git (None: as kb.toml's ``[capture] git_commit`` says);
    a failed commit leaves the entry saved, with a warning. ``commit_message`` may name the
    chosen id as ``{id}``. The audit log records who (``who``, else the draft's author, else
    the local user) created which file."""
    with write_lock(config.state_dir):
        path, entry = write_entry_file(config, draft, template=template)
        audit.record(config.state_dir, who or draft.author or None, "entry.create",
                     path=entry.rel_path or path.as_posix(), id=entry.id)
        indexed = False
        if embedder is not None:
            try:
                indexed = index_entries(config, [entry], embedder)
            except Exception as exc:  # noqa: BLE001 - the entry is saved; `kb index` catches up
                print(f"warning: {entry.id} saved but not indexed: {exc}", file=sys.stderr)
        sha = None
        if git_commit.enabled(config) if commit is None else commit:
            try:  # under the lock: two writers never race for git's own index.lock
                message = commit_message.format(id=entry.id) if commit_message else None
                sha = git_commit.commit_entry(config, path, author=draft.author or None, message=message)
            except KBError as exc:  # the entry is saved; a person can commit it by hand
                if commit:  # asked for on the command line: say it as an error
                    raise
                print(f"warning: {entry.id} saved but not committed: {exc}", file=sys.stderr)
    return Saved(id=entry.id, path=path, entry=entry, indexed=indexed, commit=sha)


def commit_entry_file(config: KBConfig, path: Path, *, author: str | None = None,
                      message: str | None = None) -> str:
    """Commit an entry file to git later than it was saved (``kb new`` after the editor),
    under the write lock like every other write."""
    with write_lock(config.state_dir):
        return git_commit.commit_entry(config, path, author=author, message=message)


# --- the reflexive nudge: similar lessons and near-duplicates of a draft -------------------
SIMILAR_SHOWN = 6  # similar lessons shown beside a draft (the form) and after `kb new`


def duplicate_warnings(kb, entry: Entry) -> list[dict]:
    """Near-duplicates of the draft, by ``search.duplicates.duplicates_of_entry`` (the
    same corpus-relative threshold as ``kb duplicates``)."""
    out = []
    for d in duplicates_of_entry(kb, entry):
        other, title = (d.b, d.title_b) if d.a == entry.id else (d.a, d.title_a)
        out.append({"id": other, "title": title, "score": d.score})
    return out


def similar_lessons(kb, entry: Entry, *, limit: int = 5) -> tuple[list, list[dict]]:
    """What ``kb new`` shows once an entry is written: the indexed lessons closest to it (other
    areas first) and its near-duplicates. Nothing for an entry still without text, or when
    there is no index to compare with."""
    if entry.unfilled or not kb.indexed:
        return [], []
    return similar_to_unsaved(kb, entry, limit=limit), duplicate_warnings(kb, entry)


# --- helpers --------------------------------------------------------------------------------
def _date(text: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def content_id(*parts: str, prefix: str = "imp") -> str:
    """A stable id from content, for rows without a source key."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}-{digest}"
