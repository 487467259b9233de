"""Reading the learning agenda (``agenda/*.md``) into the model of :mod:`kb.core.agenda`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from indexer.actions import reference_problems
from indexer.parse import ID_RE, as_list, extra_values, parse_date_value, read_document, relative_path
from kb.core.agenda import AGENDA_DIR, ANSWER_HEADINGS, QUESTION_STATUSES, LearningQuestion
from kb.core.config import KBConfig
from kb.core.errors import EntryInvalid, Problem

KNOWN_KEYS = ("id", "question", "owner", "opened", "status", "entries", "closed")


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
    meta, line_of = doc.meta, doc.line_of
    problems: list[Problem] = []
    question_id = str(meta.get("id") or path.stem)
    if not ID_RE.match(question_id):
        problems.append(Problem(path, line_of("id"), f"id {question_id!r} may hold only letters, digits, '.', '_' and '-'"))
    for key in ("question", "owner"):
        if not str(meta.get(key) or "").strip():
            problems.append(Problem(path, line_of(key), f"missing {key}"))
    opened = parse_date_value(meta.get("opened"))
    if opened is None:
        problems.append(Problem(path, line_of("opened"), "missing or bad opened date: write it as YYYY-MM-DD"))
    closed = parse_date_value(meta.get("closed"))
    if meta.get("closed") not in (None, "") and closed is None:
        problems.append(Problem(path, line_of("closed"), "bad closed date: write it as YYYY-MM-DD"))
    status = str(meta.get("status") or "open")
    if status not in QUESTION_STATUSES:
        problems.append(Problem(path, line_of("status"),
                                f"unknown status {status!r}: use one of {', '.join(QUESTION_STATUSES)}"))
    entries, error = as_list(meta.get("entries"))
    if error:
        problems.append(Problem(path, line_of("entries"), f"entries: {error}"))
    problems += reference_problems(path, line_of("entries"), 1, entries, [], lessons, None)
    extra, extra_problems = extra_values(meta, KNOWN_KEYS, path, line_of)
    problems += extra_problems
    answer = next((s.text for s in doc.sections if s.heading.strip().casefold() in ANSWER_HEADINGS), "")
    if status == "answered" and not answer.strip():
        problems.append(Problem(path, line_of("status"), "an answered question needs its answer in a '## Svar' section"))
    if problems:
        raise EntryInvalid(problems)
    assert opened is not None
    return LearningQuestion(
        id=question_id, question=" ".join(str(meta["question"]).split()), owner=str(meta["owner"]).strip(),
        opened=opened, status=status, entries=entries, closed=closed, answer=answer.strip(), body=doc.body,
        path=path, rel_path=relative_path(path, config.root),
        extra=extra,
    )


def load_agenda(config: KBConfig, *, lessons: Collection[str] | None = None) -> Agenda:
    """Parse every ``agenda/*.md``; a bad file never stops the others."""
    result = Agenda()
    folder = agenda_dir(config)
    if not folder.is_dir():
        return result
    seen: set[str] = set()
    for path in sorted(folder.glob("*.md")):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            question = parse_question(path, config, lessons=lessons)
        except EntryInvalid as exc:
            result.problems.extend(exc.problems)
            continue
        if question.id in seen:
            result.problems.append(Problem(path, 1, f"duplicate question id {question.id!r}"))
            continue
        seen.add(question.id)
        result.questions.append(question)
    return result
