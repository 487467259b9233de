"""Reading the actions (``actions/*.md``) into the model of :mod:`kb.core.actions`.

Problems are reported like those of entries, as ``path:line: message``. An action that
cites a lesson or a roadmap action the knowledge base does not hold is refused, by name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from indexer.parse import ID_RE, as_list, extra_values, parse_date_value, read_document, relative_path
from kb.core.actions import ACTIONS_DIR, EVIDENCE_HEADINGS, OUTCOMES, STATUSES, LearningAction, StatusChange
from kb.core.config import KBConfig
from kb.core.errors import EntryInvalid, Problem

KNOWN_KEYS = ("id", "title", "owner", "due", "status", "decided", "lessons", "roadmap", "outcome",
              "reason", "history")


@dataclass
class ActionSet:
    """Every valid action of a knowledge base, and the problems of the others."""

    actions: list[LearningAction] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def by_id(self) -> dict[str, LearningAction]:
        return {a.id: a for a in self.actions}

    def citing(self, entry_id: str) -> list[LearningAction]:
        return [a for a in self.actions if entry_id in a.lessons]


def actions_dir(config: KBConfig) -> Path:
    return config.root / ACTIONS_DIR


def parse_action(path: Path, config: KBConfig, *, lessons: Collection[str] | None = None,
                 roadmap_actions: Collection[str] | None = None, text: str | None = None) -> LearningAction:
    """Parse and check one action file (or ``text``, the content it is about to get);
    ``lessons`` and ``roadmap_actions``, when given, are the ids it may cite. Raises
    :class:`EntryInvalid` with every problem."""
    doc = read_document(path, "action", text)
    meta, line_of = doc.meta, doc.line_of
    problems: list[Problem] = []
    action_id = str(meta.get("id") or path.stem)
    if not ID_RE.match(action_id):
        problems.append(Problem(path, line_of("id"), f"id {action_id!r} may hold only letters, digits, '.', '_' and '-'"))
    for key in ("title", "owner"):
        if not str(meta.get(key) or "").strip():
            problems.append(Problem(path, line_of(key), f"missing {key}"))
    due = parse_date_value(meta.get("due"))
    if due is None:
        problems.append(Problem(path, line_of("due"), "missing or bad due date: write it as YYYY-MM-DD"))
    decided = parse_date_value(meta.get("decided"))
    if meta.get("decided") not in (None, "") and decided is None:
        problems.append(Problem(path, line_of("decided"), "bad decided date: write it as YYYY-MM-DD"))
    status = str(meta.get("status") or "")
    if status not in STATUSES:
        problems.append(Problem(path, line_of("status"), f"unknown status {status!r}: use one of {', '.join(STATUSES)}"))
    lists = {}
    for key in ("lessons", "roadmap", "outcome"):
        lists[key], error = as_list(meta.get(key))
        if error:
            problems.append(Problem(path, line_of(key), f"{key}: {error}"))
    if not lists["lessons"] and not _erased(meta.get("erased_lessons")):  # `kb forget` took them all
        problems.append(Problem(path, line_of("lessons"), "an action answers at least one lesson: lessons: [ENTRY_ID]"))
    problems += reference_problems(path, line_of("lessons"), line_of("roadmap"), lists["lessons"], lists["roadmap"],
                                   lessons, roadmap_actions)
    for outcome in lists["outcome"]:
        if outcome not in OUTCOMES:
            problems.append(Problem(path, line_of("outcome"), f"unknown outcome {outcome!r}: use {', '.join(OUTCOMES)}"))
    extra, extra_problems = extra_values(meta, KNOWN_KEYS, path, line_of)
    problems += extra_problems
    history, error = _history(meta.get("history"))
    if error:
        problems.append(Problem(path, line_of("history"), error))
    reason = str(meta.get("reason") or "").strip()
    evidence = next((s.text for s in doc.sections if s.heading.strip().casefold() in EVIDENCE_HEADINGS), "")
    if status == "dropped" and not reason:
        problems.append(Problem(path, line_of("status"), "a dropped action needs a reason: reason: ..."))
    if status == "validated" and not evidence.strip():
        problems.append(Problem(path, line_of("status"),
                                "a validated action needs its evidence in a '## Validering' section"))
    if problems:
        raise EntryInvalid(problems)
    assert due is not None
    return LearningAction(
        id=action_id, title=" ".join(str(meta["title"]).split()), owner=str(meta["owner"]).strip(), due=due,
        status=status, lessons=lists["lessons"], roadmap=lists["roadmap"], decided=decided,
        outcome=lists["outcome"], reason=reason, history=history, body=doc.body, evidence=evidence.strip(),
        path=path, rel_path=relative_path(path, config.root),
        extra=extra,
    )


def reference_problems(path: Path, lessons_line: int, roadmap_line: int, cited_lessons: list[str],
                       cited_roadmap: list[str], lessons: Collection[str] | None,
                       roadmap_actions: Collection[str] | None) -> list[Problem]:
    """Cited lessons and roadmap actions the knowledge base does not hold, each by name."""
    problems = []
    if lessons is not None:
        problems += [Problem(path, lessons_line, f"unknown lesson {c!r}: no entry has this id")
                     for c in cited_lessons if c not in lessons]
    if roadmap_actions is not None:
        problems += [Problem(path, roadmap_line, f"unknown roadmap action {c!r}: see roadmaps/*.md for the ids")
                     for c in cited_roadmap if c not in roadmap_actions]
    return problems


def _erased(value) -> bool:
    """``erased_lessons: N``: how many of the action's lessons `kb forget` erased."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _history(value) -> tuple[list[StatusChange], str | None]:
    if value in (None, ""):
        return [], None
    if not isinstance(value, list):
        return [], "history must be a list of {date, status, note} items"
    out = []
    for item in value:
        if not isinstance(item, dict) or item.get("status") not in STATUSES:
            return [], f"history items need a date and a status ({', '.join(STATUSES)})"
        date = parse_date_value(item.get("date"))
        if date is None:
            return [], f"history item {item.get('status')}: bad date, write it as YYYY-MM-DD"
        out.append(StatusChange(date.isoformat(), str(item["status"]), " ".join(str(item.get("note") or "").split())))
    return out, None


def load_actions(config: KBConfig, *, lessons: Collection[str] | None = None,
                 roadmap_actions: Collection[str] | None = None) -> ActionSet:
    """Parse every ``actions/*.md``; a bad file never stops the others."""
    result = ActionSet()
    folder = actions_dir(config)
    if not folder.is_dir():
        return result
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            action = parse_action(path, config, lessons=lessons, roadmap_actions=roadmap_actions)
        except EntryInvalid as exc:
            result.problems.extend(exc.problems)
            continue
        if action.id in seen:
            result.problems.append(Problem(path, 1, f"duplicate action id {action.id!r}: also in {seen[action.id].name}"))
            continue
        seen[action.id] = path
        result.actions.append(action)
    return result
