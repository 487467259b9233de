"""Reading the learning agenda (``agenda/*.md``) into the model of :mod:`kb.core.agenda`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from indexer.actions import reference_problems
from indexer.parse import read_document, relative_path
from indexer.records import KeyChecks, load_folder
from kb.core.agenda import AGENDA_DIR, ANSWER_HEADINGS, QUESTION_STATUSES, LearningQuestion
from kb.core.config import KBConfig
from kb.core.errors import Problem

KNOWN_KEYS = ("id", "question", "owner", "opened", "status", "entries", "closed", "visibility")


@dataclass
class Agenda:
    questions: list[LearningQuestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def by_id(self) -> dict[str, LearningQuestion]:
        return {q.id: q for q in self.questions}

    @property
    def open(self) -> list[LearningQuestion]:
        return [q for q in self.questions if q.status == "open"]


def agenda_dir(config: KBConfig) -> Path:
    return config.root / AGENDA_DIR


def parse_question(path: Path, config: KBConfig, *, lessons: Collection[str] | None = None,
                   text: str | None = None) -> LearningQuestion:
    """Parse and check one learning question (or ``text``, the content it is about to get)."""
    doc = read_document(path, "learning question", text)
    checks = KeyChecks(doc)
    question_id = checks.identifier()
    checks.required_text("question", "owner")
    opened = checks.date("opened", required=True)
    closed = checks.date("closed", required=False)
    status = checks.choice("status", QUESTION_STATUSES, default="open")
    visibility = checks.visibility(config.default_visibility)
    entries = checks.values("entries")
    checks.problems += reference_problems(path, doc.line_of("entries"), 1, entries, [], lessons, None)
    extra = checks.extra(KNOWN_KEYS)
    answer = checks.section(ANSWER_HEADINGS)
    if status == "answered" and not answer:
        checks.add("status", "an answered question needs its answer in a '## Svar' section")
    checks.raise_if_any()
    assert opened is not None
    meta = doc.meta
    return LearningQuestion(
        id=question_id, question=" ".join(str(meta["question"]).split()), owner=str(meta["owner"]).strip(),
        opened=opened, status=status, entries=entries, closed=closed, answer=answer, body=doc.body,
        path=path, rel_path=relative_path(path, config.root), visibility=visibility,
        visibility_given="visibility" in meta, extra=extra,
    )


def load_agenda(config: KBConfig, *, lessons: Collection[str] | None = None) -> Agenda:
    """Parse every ``agenda/*.md``; a bad file never stops the others."""
    questions, problems = load_folder(agenda_dir(config), lambda path: parse_question(path, config, lessons=lessons),
                                      "question")
    return Agenda(questions, problems)
