"""Keeping actions: propose one for lessons, move it through its statuses with a dated history,
validate it with evidence. Every write happens under the knowledge base's write lock, is
checked with the rules of ``kb validate`` before it lands, and goes to the audit log."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from indexer.actions import actions_dir, load_actions, parse_action
from indexer.discover import load_entries
from indexer.records import find_record
from indexer.roadmaps import load_roadmaps
from kb.app.documents import document_text, escape_body, free_id, slugify
from kb.core import audit
from kb.core.actions import (
    EVIDENCE_HEADING,
    EVIDENCE_HEADINGS,
    NOTES_HEADING,
    OUTCOMES,
    STATUSES,
    TRANSITIONS,
    LearningAction,
    StatusChange,
    transition_problem,
)
from kb.core.characters import has_control_characters
from kb.core.config import KBConfig
from kb.core.errors import KBError
from kb.core.files import atomic_write_text, create_exclusive, write_lock
from kb.core.texts import text, texts
from kb.core.visibility import VISIBILITIES

LIMITS = {"title": 300, "owner": 200, "note": 5_000}
RESERVED_IDS = {"new"}  # /-/kb/actions/new is the form


class ActionInvalid(KBError):
    """An action or a learning question that cannot be written as asked. The message is a
    catalogue text (:meth:`message` in the reader's language, as the pages and the command line
    show it; ``str()`` in English), and so is the hint when ``hint_key`` names one
    (:meth:`hint_text`); status parameters are shown by their names."""

    def __init__(self, key: str, *, hint: str | None = None, hint_key: str | None = None, **params):
        self.key, self.hint_key, self.params = key, hint_key, params
        super().__init__(self.message("en"), hint=self.hint_text("en") if hint_key else hint)

    def _shown(self, lang: str) -> dict:
        words = texts(lang)
        return {k: words.get(f"action_status_{v}", str(v)).lower() if k in ("current", "new") else
                words.get(f"question_status_{v}", str(v)).lower() if k == "status" else
                text(f"loop_field_{v}", lang) if k == "field" else
                (", ".join(v) or words["loop_hint_final"]) if k == "allowed" else v for k, v in self.params.items()}

    def message(self, lang: str) -> str:
        return text(self.key, lang, **self._shown(lang))

    def hint_text(self, lang: str) -> str | None:
        """What to do, in the reader's language when the hint is a catalogue text (an option
        and its values stay as they are typed)."""
        return text(self.hint_key, lang, **self._shown(lang)) if self.hint_key else self.hint


def known_lessons(config: KBConfig, wanted: Iterable[str] = ()) -> set[str]:
    """Entry ids the knowledge base holds: the index's and the files' (a file's id is its
    stem unless it says otherwise; only then are the files parsed)."""
    ids: set[str] = set()
    if config.db_path.exists():
        with contextlib.closing(sqlite3.connect(f"file:{config.db_path}?mode=ro", uri=True)) as conn:
            with contextlib.suppress(sqlite3.Error):
                ids.update(r[0] for r in conn.execute("select id from entries"))
    if config.entries_dir.is_dir():
        ids.update(p.stem for p in config.entries_dir.rglob("*.md"))
    if not set(wanted) <= ids:
        ids.update(e.id for e in load_entries(config).entries)
    return ids


def roadmap_action_ids(config: KBConfig) -> set[str] | None:
    """Roadmap action ids, or None when the knowledge base keeps no roadmaps (nothing to check)."""
    roadmaps = load_roadmaps(config)
    return set(roadmaps.actions) if roadmaps.roadmaps else None


def create_action(config: KBConfig, *, title: str, lessons: list[str], owner: str, due: dt.date,
                  roadmap: Iterable[str] = (), note: str = "", who: str | None = None,
                  today: dt.date | None = None, lang: str | None = None,
                  visibility: str | None = None) -> LearningAction:
    """Write a new action (status ``proposed``) for ``lessons``; refuses unknown lesson and
    roadmap ids by name. ``visibility``: who may see it (None: kb.toml's default, not written
    in the file). Returns the action as read back from its file."""
    today = today or dt.date.today()
    title, owner = " ".join(title.split()), " ".join(owner.split())
    lessons, roadmap = _unique(lessons), _unique(roadmap)
    check_text(LIMITS, title=title, owner=owner, note=note)
    if not lessons:
        raise ActionInvalid("loop_error_no_lesson", hint_key="loop_hint_no_lesson")
    _check_references(config, lessons, roadmap)
    lang = lang or config.language
    meta = {"id": "", "title": title, "owner": owner, "due": due, "status": "proposed", "decided": None,
            "lessons": lessons, "roadmap": roadmap, "outcome": [],
            "history": [StatusChange(today.isoformat(), "proposed", " ".join(note.split())).to_dict()]}
    if visibility is not None:
        check_visibility(visibility)
        meta["visibility"] = visibility
    with write_lock(config.state_dir):
        folder = actions_dir(config)
        taken = {p.stem for p in folder.glob("*.md")} if folder.is_dir() else set()
        action_id = free_id(slugify(title, 50), taken | RESERVED_IDS)
        meta["id"] = action_id
        path = folder / f"{action_id}.md"
        content = _render(meta, [(NOTES_HEADING.get(lang, "Anteckningar"), note)])
        parse_action(path, config, text=content)  # read as kb validate would, before it lands
        try:
            create_exclusive(path, content)
        except FileExistsError:
            raise KBError(f"{path}: already exists; not overwritten") from None
        audit.record(config.state_dir, who, "action.create", path=_rel(config, path), id=action_id)
    return parse_action(path, config)


def set_status(config: KBConfig, action_id: str, status: str, *, note: str = "", outcome: Iterable[str] = (),
               who: str | None = None, today: dt.date | None = None, lang: str | None = None) -> LearningAction:
    """Move an action to ``status`` (the allowed moves: :data:`kb.core.actions.TRANSITIONS`),
    adding a dated line to its history. ``dropped`` needs a reason (``note``); ``validated``
    needs evidence: ``note`` is added to the validation section, which must not stay empty.
    ``outcome``: what acting changed (roadmap, routine, policy), recorded when done or validated."""
    today = today or dt.date.today()
    if status not in STATUSES:
        raise ActionInvalid("loop_error_status", value=status[:40], statuses=", ".join(STATUSES),
                            hint_key="loop_hint_use_one_of", values=", ".join(STATUSES))
    note = " ".join(note.split()) if status != "validated" else note.strip()
    check_text(LIMITS, note=note)
    outcome = _unique(outcome)
    unknown = [o for o in outcome if o not in OUTCOMES]
    if unknown:
        raise ActionInvalid("loop_error_outcome", value=unknown[0], hint_key="loop_hint_use_one_of",
                            values=", ".join(OUTCOMES))
    with write_lock(config.state_dir):
        action = _find(config, action_id)
        if transition_problem(action.status, status):
            raise ActionInvalid("loop_error_transition", current=action.status, new=status,
                                hint_key="loop_hint_transition", allowed=list(TRANSITIONS[action.status]))
        if status == "dropped" and not note:
            raise ActionInvalid("loop_error_reason", hint_key="loop_hint_reason")
        if status == "validated" and not (note or action.evidence):
            raise ActionInvalid("loop_error_evidence", hint_key="loop_hint_evidence")
        meta_changes: dict = {"status": status}
        if status == "agreed" and action.decided is None:
            meta_changes["decided"] = today
        if status == "dropped":
            meta_changes["reason"] = note
        if outcome:
            meta_changes["outcome"] = _unique([*action.outcome, *outcome])
        history = [*action.history, StatusChange(today.isoformat(), status, note if status != "validated" else "")]
        meta_changes["history"] = [c.to_dict() for c in history]
        new_text = _updated(action, meta_changes, evidence=note if status == "validated" else "",
                            lang=lang or config.language)
        parse_action(action.path, config, text=new_text)  # read as kb validate would, before it lands
        atomic_write_text(action.path, new_text)
        audit.record(config.state_dir, who, "action.status", path=action.rel_path, id=action.id,
                     status=status, previous=action.status)
    return parse_action(action.path, config)


def remove_lesson(config: KBConfig, action: LearningAction, entry_id: str) -> bool:
    """Take an erased entry out of the action's lessons (``kb forget``; the caller holds the
    write lock). The action keeps its file, since it records a decision, and counts the
    lessons taken from it in ``erased_lessons``; one left with no lesson stays valid because
    of that count. Returns True when no lesson is left."""
    lessons = [lesson for lesson in action.lessons if lesson != entry_id]
    erased = int(action.extra.get("erased_lessons") or 0) + (len(action.lessons) - len(lessons))
    content = _updated(action, {"lessons": lessons, "erased_lessons": erased}, evidence="", lang=config.language)
    parse_action(action.path, config, text=content)  # read as kb validate would, before it lands
    atomic_write_text(action.path, content)
    return not lessons


# --- helpers ------------------------------------------------------------------------------
def _find(config: KBConfig, action_id: str) -> LearningAction:
    return find_record(load_actions(config), action_id, "loop_error_no_action", "loop_hint_list_actions")


def _check_references(config: KBConfig, lessons: list[str], roadmap: list[str]) -> None:
    check_lessons(config, lessons)
    if roadmap:
        roadmap_ids = roadmap_action_ids(config) or set()
        unknown = [r for r in roadmap if r not in roadmap_ids]
        if unknown:
            raise ActionInvalid("loop_error_unknown_roadmap", id=repr(unknown[0]),
                                hint_key="loop_hint_unknown_roadmap")


def check_lessons(config: KBConfig, lessons: list[str]) -> None:
    """Refuse, by name, a cited lesson the knowledge base does not hold."""
    known = known_lessons(config, lessons)
    missing = [lesson for lesson in lessons if lesson not in known]
    if missing:
        raise ActionInvalid("loop_error_unknown_lesson", id=repr(missing[0]),
                            hint_key="loop_hint_unknown_lesson")


def check_visibility(value: str) -> None:
    """Refuse a visibility that is not one (the message in the reader's language)."""
    if value not in VISIBILITIES:
        raise ActionInvalid("loop_error_visibility", value=value, hint_key="loop_hint_use_one_of",
                            values=", ".join(VISIBILITIES))


def check_text(limits: dict[str, int], **fields: str) -> None:
    """Each field (title, owner, note, question, answer) present if required, within its
    limit, without control characters; the first problem is raised, by field."""
    for name, value in fields.items():
        if name in ("title", "owner", "question") and not value:
            raise ActionInvalid("loop_error_empty", field=name)
        if len(value) > limits[name]:
            raise ActionInvalid("loop_error_too_long", field=name, n=limits[name])
        if has_control_characters(value.replace("\n", "")):
            raise ActionInvalid("loop_error_control", field=name)


def _render(meta: dict, sections: list[tuple[str, str]]) -> str:
    meta = {k: v for k, v in meta.items() if v not in (None, "") or k in ("lessons",)}
    return document_text(meta, sections)


def _updated(action: LearningAction, changes: dict, *, evidence: str, lang: str) -> str:
    """The action file with ``changes`` in its front matter and ``evidence`` added to its
    validation section; the rest of the body stays as it was."""
    meta = {"id": action.id, "title": action.title, "owner": action.owner, "due": action.due,
            "status": action.status, "decided": action.decided, "lessons": action.lessons,
            "roadmap": action.roadmap, "outcome": action.outcome, "reason": action.reason,
            **({"visibility": action.visibility} if action.visibility_given else {}), **action.extra}
    meta.update(changes)
    meta["history"] = changes.get("history", [c.to_dict() for c in action.history])
    body = action.body.rstrip("\n")
    if evidence:
        body = _add_evidence(body, evidence, EVIDENCE_HEADING.get(lang, "Validering"))
    front = _render(meta, [])
    return front + (body + "\n" if body else "")


def _add_evidence(body: str, evidence: str, heading: str) -> str:
    lines = body.split("\n")
    at = next((i for i, line in enumerate(lines)
               if line.startswith("## ") and line[3:].strip().casefold() in EVIDENCE_HEADINGS), None)
    escaped = escape_body(evidence)
    if at is None:
        return (body + "\n\n" if body else "") + f"## {heading}\n{escaped}"
    end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    kept = "\n".join(lines[at + 1:end]).strip("\n")
    section = [lines[at], *([kept, ""] if kept else []), escaped]
    rest = lines[end:]
    return "\n".join([*lines[:at], *section, *([""] + rest if rest else [])])


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        value = " ".join(str(value).split())
        if value and value not in out:
            out.append(value)
    return out


def _rel(config: KBConfig, path: Path) -> str:
    return path.relative_to(config.root).as_posix()
