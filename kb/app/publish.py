"""``kb publish -o DIR`` and ``/-/kb/open/``: the knowledge base's ``public`` lessons, with the
validated actions taken on them, as an open publication other cities can follow (the format:
:mod:`kb.core.publication`).

What is published is chosen field by field, never copied wholesale: an entry's own keys
beyond the format (``author`` among them: a user name), its roadmap ids, its file path and
its links to lessons that are not public stay home. The source is the organisation kb.toml
names; persons never are: an actor or an action owner that reads as a person's name is left
out, and a public lesson that holds a Swedish personal identity number is left out whole
(both with a warning that says where). An ``internal`` or ``partner`` lesson is not read at
all: its words cannot reach any file of the publication.

A lesson that was published and is no longer (its visibility lowered, or erased with
``kb forget``) becomes a tombstone: listed as withdrawn in ``index.json`` and as an RFC 6721
``deleted-entry`` in the Atom feed, from the memory in ``published.tsv``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from indexer.actions import load_actions
from indexer.parse import markdown, split_sections
from indexer.personal_data import exempt_phrases
from kb.app.dcat import render_catalog
from kb.app.open_feed import render_open_feed
from kb.app.published_state import PublishedState, load_state, now_text, save_state, state_path
from kb.core.config import KBConfig
from kb.core.errors import ConfigError, IndexMissing, KBError
from kb.core.files import atomic_write_bytes, write_lock
from kb.core.person_names import find_identity_numbers, find_person_names
from kb.core.publication import (
    CATALOG_FILE,
    FEED_FILE,
    LESSON_SCHEMA,
    LESSON_SCHEMA_FILE,
    LESSONS_FILE,
    MANIFEST_FILE,
    MANIFEST_SCHEMA,
    MANIFEST_SCHEMA_FILE,
    SCHEMA_FILES,
    lesson_ref,
    schema_bytes,
)
from kb.core.store import decode_entry_row

MAX_SUMMARY = 2000
MAX_TAG = 80
MAX_ACTOR = 200
# Folders of the knowledge base a publication may not be written into (it would be read as
# part of what it publishes, or mixed with what others publish).
KB_FOLDERS = ("entries", "actions", "agenda", "roadmaps", "followed", ".kb")


@dataclass
class Publication:
    manifest: dict
    records: list[dict]
    files: dict[str, bytes]  # file name -> content, index.json last
    url: str | None  # where it is read (absolute), when known
    warnings: list[str] = field(default_factory=list)
    withdrawn: list[dict] = field(default_factory=list)
    kept_home: int = 0  # own lessons that are internal or partner: not read, not published

    @property
    def count(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict:
        return {"url": self.url, "lessons": self.count,
                "with_actions": sum(1 for r in self.records if r["actions"]),
                "withdrawn": len(self.withdrawn), "kept_home": self.kept_home,
                "files": list(self.files), "warnings": self.warnings}


def require_sharing(config: KBConfig) -> None:
    """Refuse to publish without a publisher, a licence and a contact, naming what to add."""
    missing = config.sharing.missing_for_publication()
    if missing:
        raise ConfigError(
            f"{config.root / 'kb.toml'}: [sharing] needs {', '.join(missing)} before anything is published",
            hint='Add, for example:\n[sharing]\norganisation = "Malmö stad"\n'
            'licence = "http://creativecommons.org/licenses/by/4.0/"\ncontact_email = "klimat@malmo.se"')


def publication_url(config: KBConfig, url: str | None = None) -> str | None:
    """Where the publication is read: ``url`` as given, else kb.toml's ``[sharing] url``, else
    ``/-/kb/open/`` under ``base_url`` (None when none is known)."""
    chosen = url or config.sharing.url or (f"{config.base_url}/-/kb/open/" if config.base_url else None)
    return (chosen.rstrip("/") + "/") if chosen else None


def build_publication(config: KBConfig, store, *, url: str | None = None,
                      now: dt.datetime | None = None) -> Publication:
    """The publication as it stands in the index (own entries, ``public`` only) and the
    action files. ``published.tsv`` is brought up to date under the write lock, so that what
    is published now is withdrawn as a tombstone once it is no longer public."""
    require_sharing(config)
    if store is None or store.get_meta("model_id") is None:
        raise IndexMissing(f"{config.root}: not indexed yet")
    moment = now_text(now)
    url = publication_url(config, url)
    rows = _public_rows(store)
    actions = _validated_public_actions(config)
    # a name in free text is only warned of when it is not one of the actors; an actor itself
    # is checked against kb.toml's allow list alone
    exempt = (exempt_phrases(config, [a for row in rows.values() for a in row.get("actors") or []]),
              exempt_phrases(config))
    warnings: list[str] = []
    records: list[dict] = []
    for entry_id in sorted(rows):
        record, problems = lesson_record(config, rows[entry_id], rows, actions.get(entry_id, []), exempt)
        warnings += problems
        if record is not None:
            records.append(record)
    kept = {r["id"] for r in records}
    for record in records:  # a link to a lesson left out is left out too
        record["related"] = [r for r in record["related"] if r in kept]
    with write_lock(config.state_dir):
        state = load_state(config.root, moment)
        for record in records:
            record["ref"] = lesson_ref(state.publication_id, record["id"])
        if state.update({r["ref"]: _digest(r) for r in records}, moment) or not state_path(config.root).exists():
            save_state(config.root, state)
    for record in records:
        known = state.lessons[record["ref"]]
        record["published"], record["updated"] = known.published, known.updated
    withdrawn = [{"ref": p.ref, "when": p.withdrawn} for p in state.withdrawn]
    publication = _assemble(config, state, records, withdrawn, url, warnings)
    publication.kept_home = store.db.execute(
        "select count(*) from entries where coalesce(visibility, 'internal') != 'public'").fetchone()[0]
    return publication


def write_publication(publication: Publication, out_dir: Path, config: KBConfig) -> list[Path]:
    """Write the files into ``out_dir`` (each whole, then renamed; ``index.json`` last, so a
    follower that reads it finds the lessons it describes). Returns the paths written."""
    out_dir = Path(out_dir).expanduser().resolve()
    inside = [config.root.resolve() / name for name in KB_FOLDERS]
    if any(out_dir == folder or out_dir.is_relative_to(folder) for folder in inside):
        raise KBError(f"{out_dir}: inside the knowledge base's own folders",
                      hint="Write the publication to a folder of its own, e.g. -o open/ or a web server's folder.")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in publication.files.items():
        atomic_write_bytes(out_dir / name, content)
        written.append(out_dir / name)
    return written


# --- the records ----------------------------------------------------------------------------------
def _public_rows(store) -> dict[str, dict]:
    """The index rows of own entries that are ``public`` (nothing else is read)."""
    cursor = store.db.execute("select * from entries where visibility = 'public'")
    names = [d[0] for d in cursor.description]
    rows = {}
    for values in cursor.fetchall():
        row = decode_entry_row(dict(zip(names, values, strict=True)))
        rows[row["id"]] = row
    return rows


def _validated_public_actions(config: KBConfig) -> dict[str, list]:
    """Lesson id -> the validated, ``public`` actions taken on it."""
    out: dict[str, list] = {}
    for action in load_actions(config).actions:
        if action.status == "validated" and action.visibility == "public":
            for lesson in action.lessons:
                out.setdefault(lesson, []).append(action)
    return out


def lesson_record(config: KBConfig, row: dict, public: dict[str, dict], actions: list,
                  exempt: tuple) -> tuple[dict | None, list[str]]:
    """One lesson as published (without its ref and dates), and the warnings about it; None
    when it must not leave the knowledge base (a personal identity number in its text).
    ``exempt``: the phrases that are not persons' names in free text, and in an actor's name."""
    in_text, in_names = exempt
    intro, sections = split_sections(markdown.parse(row.get("body") or ""))
    parts = ([("", intro)] if intro.strip() else []) + [(s.heading, s.text) for s in sections]
    text = "\n".join([row["title"], *(t for _, t in parts)])
    where = f"{row.get('path') or row['id']}"
    numbers = find_identity_numbers(text)
    if numbers:
        return None, [f"{where}: left out: a personal identity number ({numbers[0].name}) in a public lesson; "
                      "remove it from the text (or lower the visibility)"]
    warnings = [f"{where}: names a person ({hit.name}) in a public lesson: published as written; write the role "
                "instead, or lower the visibility" for hit in find_person_names(text, in_text)[:3]]
    actors, dropped = _organisations(row.get("actors") or [], in_names)
    warnings += [f"{where}: actor {name!r} reads as a person's name: left out of the publication" for name in dropped]
    summary = (intro.strip() or (sections[0].text.strip() if sections else ""))[:MAX_SUMMARY]
    base = config.base_url
    record = {
        "schema": LESSON_SCHEMA,
        "id": row["id"],
        "title": row["title"],
        "type": row["type"],
        "date": row["date"],
        "sprint": row.get("sprint"),
        "area": {"id": row["area"], "name": config.area_name(row["area"])},
        "language": row.get("lang") if row.get("lang") in ("sv", "en") else "sv",
        "summary": summary,
        "sections": [{"heading": h, "text": t} for h, t in parts],
        "tags": [t[:MAX_TAG] for t in row.get("tags") or [] if t.strip()],
        "actors": actors,
        "policy": list(row.get("policy") or []),
        "related": [r for r in row.get("related") or [] if r in public and r != row["id"]],
        "actions": [_action(a, in_names) for a in sorted(actions, key=lambda a: a.id)],
        "source": {"organisation": config.sharing.organisation, "knowledge_base": config.title, "url": base},
        "licence": config.sharing.licence,
        "url": f"{base}/-/kb/entry/{quote(row['id'], safe='')}" if base else None,
    }
    return record, warnings


def _action(action, exempt) -> dict:
    owners, _ = _organisations([action.owner], exempt)
    return {"id": action.id, "title": action.title, "owner": owners[0] if owners else None,
            "validated": action.changed_on("validated"), "outcome": list(action.outcome),
            "evidence": action.evidence}


def _organisations(names: list[str], exempt) -> tuple[list[str], list[str]]:
    """The names that are organisations, and those that read as a person's name."""
    kept, dropped = [], []
    for name in names:
        name = " ".join(str(name).split())[:MAX_ACTOR]
        if not name:
            continue
        (dropped if find_person_names(name, exempt) else kept).append(name)
    return kept, dropped


def _digest(record: dict) -> str:
    """What a lesson's ``updated`` follows: everything published about it but its dates."""
    payload = {k: v for k, v in record.items() if k not in ("published", "updated")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# --- the files ----------------------------------------------------------------------------------
def _assemble(config: KBConfig, state: PublishedState, records: list[dict], withdrawn: list[dict],
              url: str | None, warnings: list[str]) -> Publication:
    lessons = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records).encode("utf-8")
    updated = max([*(r["updated"] for r in records), *(w["when"] for w in withdrawn)], default=state.since)
    sharing = config.sharing
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "id": state.publication_id,
        "title": config.title,
        "organisation": sharing.organisation,
        "licence": sharing.licence,
        "contact": {"name": sharing.contact_name, "email": sharing.contact_email},
        "url": url,
        "updated": updated,
        "lessons": {"file": LESSONS_FILE, "schema": LESSON_SCHEMA, "count": len(records), "bytes": len(lessons),
                    "sha256": hashlib.sha256(lessons).hexdigest()},
        "files": {"feed": FEED_FILE, "catalog": CATALOG_FILE, "lesson_schema": LESSON_SCHEMA_FILE,
                  "manifest_schema": MANIFEST_SCHEMA_FILE},
        "withdrawn": withdrawn,
    }
    files = {LESSONS_FILE: lessons,
             FEED_FILE: render_open_feed(config, manifest, records, withdrawn),
             CATALOG_FILE: render_catalog(config, manifest, records, since=state.since),
             **{name: schema_bytes(name) for name in SCHEMA_FILES},
             MANIFEST_FILE: (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")}
    if url is None:
        warnings = [*warnings, f"{CATALOG_FILE}: no web address for the publication, so Sveriges dataportal cannot "
                    "harvest it: set [sharing] url (or base_url) in kb.toml, or give --url"]
    return Publication(manifest=manifest, records=records, files=files, url=url, warnings=warnings,
                       withdrawn=withdrawn)
