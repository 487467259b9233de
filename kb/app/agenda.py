"""Keeping the learning agenda: add a learning question (or make one from a recurring
obstacle), answer it or drop it. Writes happen under the write lock, are checked with the
rules of ``kb validate`` and go to the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from analysis.obstacles import obstacle_ref, recurring_obstacles
from indexer.agenda import agenda_dir, load_agenda, parse_question
from indexer.records import find_record
from kb.app.actions import ActionInvalid, check_lessons, check_text, check_visibility
from kb.app.documents import document_text, free_id, sections_text, slugify
from kb.core import audit
from kb.core.agenda import ANSWER_HEADING, ANSWER_HEADINGS, LearningQuestion
from kb.core.config import KBConfig
from kb.core.errors import EntryNotFound, KBError
from kb.core.files import atomic_write_text, create_exclusive, write_lock
from kb.core.texts import text

LIMITS = {"question": 500, "owner": 200, "answer": 10_000}


def add_question(config: KBConfig, question: str, *, owner: str, entries: Iterable[str] = (),
                 who: str | None = None, today: dt.date | None = None,
                 visibility: str | None = None, obstacle: str | None = None) -> LearningQuestion:
    """Put a learning question on the agenda; refuses unknown entry ids by name.
    ``visibility``: who may see it (None: kb.toml's default, not written in the file);
    ``obstacle``: the kept id of the obstacle group it was made from (``obstacle:`` in its
    front matter)."""
    today = today or dt.date.today()
    question, owner = " ".join(question.split()), " ".join(owner.split())
    entries = list(dict.fromkeys(e.strip() for e in entries if e.strip()))
    check_text(LIMITS, question=question, owner=owner)
    check_lessons(config, entries)
    meta = {"id": "", "question": question, "owner": owner, "opened": today, "status": "open",
            "entries": entries, **({"obstacle": obstacle} if obstacle else {})}
    if visibility is not None:
        check_visibility(visibility)
        meta["visibility"] = visibility
    with write_lock(config.state_dir):
        folder = agenda_dir(config)
        question_id = free_id("lq-" + slugify(question, 46), {p.stem for p in folder.glob("*.md")}
                              if folder.is_dir() else set())
        meta["id"] = question_id
        path = folder / f"{question_id}.md"
        content = document_text(meta, [])
        parse_question(path, config, text=content)  # read as kb validate would, before it lands
        try:
            create_exclusive(path, content)
        except FileExistsError:
            raise KBError(f"{path}: already exists; not overwritten") from None
        audit.record(config.state_dir, who, "agenda.add", path=path.relative_to(config.root).as_posix(),
                     id=question_id)
    return parse_question(path, config)


class QuestionExists(ActionInvalid):
    """An open learning question already asks about the obstacle group a new question would
    be made from: add the group to it instead (``questions``: the open ones, oldest first)."""

    def __init__(self, questions: list[LearningQuestion]):
        self.questions = questions
        first = questions[0]
        super().__init__("agenda_error_exists", id=first.id, question=first.question,
                         hint=f"Add the group's entries to it with --into {first.id}, or make a separate "
                              "question with --new.")


def cites_group(question: LearningQuestion, group) -> bool:
    """Whether a learning question already asks about an obstacle group: it was made from the
    group (its kept id, ``obstacle:``) or cites one of the group's entries."""
    made_from = question.extra.get("obstacle")
    return bool((group.id and made_from == group.id) or set(question.entries) & set(_ids(group.entries)))


def questions_on_group(questions: Iterable[LearningQuestion], group) -> list[LearningQuestion]:
    """The open learning questions that already ask about ``group``, oldest first."""
    found = [q for q in questions if q.status == "open" and cites_group(q, group)]
    return sorted(found, key=lambda q: (q.opened, q.id))


def obstacle_group(kb, obstacle: str):
    """The recurring obstacle group ``obstacle`` names: its kept id (e.g. ``hinder-3``), or the
    id of an entry in it."""
    groups = recurring_obstacles(kb)
    found = [g for g in groups if g.id == obstacle] or [g for g in groups if obstacle in _ids(g.entries)]
    if not found:
        raise EntryNotFound(f"{obstacle!r} is no recurring obstacle group and in none",
                            hint="See `kb obstacles`; use a group id (hinder-N) or an entry id listed there, "
                                 "or `kb agenda add QUESTION`.")
    return found[0]


def question_from_obstacle(kb, obstacle: str, *, owner: str = "", question: str | None = None,
                           into: str | None = None, separate: bool = False, lang: str | None = None,
                           who: str | None = None, today: dt.date | None = None,
                           visibility: str | None = None) -> LearningQuestion:
    """The recurring obstacle group ``obstacle`` (its kept id, or the id of an entry in it),
    rewritten as a learning question on the agenda that cites the group's id, with every entry
    of the group; ``question`` replaces the suggested wording.

    An open question that already cites one of the group's entries asks about it already:
    then no second question is made (:class:`QuestionExists` names the open one) unless
    ``separate``; ``into`` adds the group's entries to that question instead."""
    group = obstacle_group(kb, obstacle)
    if into:
        return add_entries(kb.config, into, _ids(group.entries), who=who)
    covering = questions_on_group(load_agenda(kb.config).questions, group)
    if covering and not separate:
        raise QuestionExists(covering)
    if not owner.strip():
        raise ActionInvalid("loop_error_empty", field="owner", hint="--owner NAME.")
    language = lang or kb.config.language
    wording = question or text("agenda_from_obstacle", language, obstacle=obstacle_ref(group.label, group.id, language))
    return add_question(kb.config, wording, owner=owner, entries=_ids(group.entries), who=who, today=today,
                        visibility=visibility, obstacle=group.id)


def add_entries(config: KBConfig, question_id: str, entries: Iterable[str], *,
                who: str | None = None) -> LearningQuestion:
    """Add entries (an obstacle group's) to an open learning question; those it cites stay."""
    entries = [e.strip() for e in entries if e.strip()]
    check_lessons(config, entries)
    with write_lock(config.state_dir):
        current = _open_question(config, question_id)
        added = [e for e in dict.fromkeys(entries) if e not in current.entries]
        _rewrite(config, current, entries=[*current.entries, *added])
        audit.record(config.state_dir, who, "agenda.extend", path=current.rel_path, id=current.id,
                     entries=",".join(added) or None)
    return parse_question(current.path, config)


def edit_question(config: KBConfig, question_id: str, *, question: str | None = None,
                  owner: str | None = None, who: str | None = None) -> LearningQuestion:
    """Reword an open learning question (or give it another owner); its id stays."""
    changes = {}
    if question is not None:
        changes["question"] = " ".join(question.split())
    if owner is not None:
        changes["owner"] = " ".join(owner.split())
    if not changes:
        raise ActionInvalid("loop_error_empty", field="question", hint="--question TEXT (or --owner NAME).")
    check_text(LIMITS, **changes)
    with write_lock(config.state_dir):
        current = _open_question(config, question_id)
        _rewrite(config, current, **changes)
        audit.record(config.state_dir, who, "agenda.edit", path=current.rel_path, id=current.id,
                     fields=",".join(sorted(changes)))
    return parse_question(current.path, config)


def _open_question(config: KBConfig, question_id: str) -> LearningQuestion:
    current = find_record(load_agenda(config), question_id, "loop_error_no_question", "loop_hint_list_questions")
    if current.status != "open":
        raise ActionInvalid("loop_error_closed", hint_key="loop_hint_closed", id=question_id,
                            status=current.status)
    return current


def _rewrite(config: KBConfig, current: LearningQuestion, **changes) -> None:
    """The question's file with ``changes`` to its front matter; the body stays as written
    (the caller holds the write lock)."""
    meta = {"id": current.id, "question": current.question, "owner": current.owner, "opened": current.opened,
            "status": current.status, "entries": current.entries, "closed": current.closed,
            **_visibility(current), **current.extra, **changes}
    meta = {k: v for k, v in meta.items() if v is not None}
    body = current.body.rstrip("\n")
    content = document_text(meta, []) + (body + "\n" if body else "")
    parse_question(current.path, config, text=content)  # read as kb validate would, before it lands
    atomic_write_text(current.path, content)


def close_question(config: KBConfig, question_id: str, *, answer: str = "", drop: bool = False,
                   who: str | None = None, today: dt.date | None = None, lang: str | None = None) -> LearningQuestion:
    """Answer a question (its answer goes into a ``## Svar`` section) or drop it."""
    today = today or dt.date.today()
    answer = answer.strip()
    if not drop and not answer:
        raise ActionInvalid("loop_error_answer", hint="--answer TEXT (or --drop).")
    check_text(LIMITS, answer=answer)
    with write_lock(config.state_dir):
        found = load_agenda(config)
        current = find_record(found, question_id, "loop_error_no_question", "loop_hint_list_questions")
        if current.status != "open":
            raise ActionInvalid("loop_error_closed", hint_key="loop_hint_closed", id=question_id,
                                status=current.status)
        meta = {"id": current.id, "question": current.question, "owner": current.owner, "opened": current.opened,
                "status": "dropped" if drop else "answered", "entries": current.entries, "closed": today,
                **_visibility(current), **current.extra}
        body = current.body.rstrip("\n")
        heading = ANSWER_HEADING.get(lang or config.language, "Svar")
        if answer and not any(line[3:].strip().casefold() in ANSWER_HEADINGS
                              for line in body.split("\n") if line.startswith("## ")):
            body = (body + "\n\n" if body else "") + sections_text([(heading, answer)]).rstrip("\n")
        content = document_text(meta, []) + (body + "\n" if body else "")
        parse_question(current.path, config, text=content)
        atomic_write_text(current.path, content)
        audit.record(config.state_dir, who, "agenda.close", path=current.rel_path, id=current.id,
                     status=meta["status"])
    return parse_question(current.path, config)


def remove_entry(config: KBConfig, question: LearningQuestion, entry_id: str) -> None:
    """Take an erased entry out of a learning question's entries (``kb forget``; the caller
    holds the write lock). The question stays, with or without entries."""
    _rewrite(config, question, entries=[e for e in question.entries if e != entry_id])


def _visibility(question: LearningQuestion) -> dict:
    """The question's ``visibility:`` key when its file has one (a default is not written)."""
    return {"visibility": question.visibility} if question.visibility_given else {}


def _ids(members) -> list[str]:
    return [m if isinstance(m, str) else getattr(m, "id", None) or m["id"] for m in members]
