"""Reading the actions (``actions/*.md``) into the model of :mod:`kb.core.actions`.

Problems are reported like those of entries, as ``path:line: message``. An action that
cites a lesson or a roadmap action the knowledge base does not hold is refused, by name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from indexer.parse import parse_date_value, read_document, relative_path
from indexer.records import KeyChecks, load_folder
from kb.core.actions import ACTIONS_DIR, EVIDENCE_HEADINGS, OUTCOMES, STATUSES, LearningAction, StatusChange
from kb.core.config import KBConfig
from kb.core.errors import Problem

KNOWN_KEYS = ("id", "title", "owner", "due", "status", "decided", "lessons", "roadmap", "outcome",
              "reason", "history", "visibility")


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
    checks = KeyChecks(doc)
    meta = doc.meta
    action_id = checks.identifier()
    checks.required_text("title", "owner")
    due = checks.date("due", required=True)
    decided = checks.date("decided", required=False)
    status = checks.choice("status", STATUSES)
    visibility = checks.visibility(config.default_visibility)
    cited, roadmap, outcome = checks.values("lessons"), checks.values("roadmap"), checks.values("outcome")
    if not cited and not _erased(meta.get("erased_lessons")):  # `kb forget` took them all
        checks.add("lessons", "an action answers at least one lesson: lessons: [ENTRY_ID]")
    checks.problems += reference_problems(path, doc.line_of("lessons"), doc.line_of("roadmap"), cited, roadmap,
                                          lessons, roadmap_actions)
    for value in outcome:
        if value not in OUTCOMES:
            checks.add("outcome", f"unknown outcome {value!r}: use {', '.join(OUTCOMES)}")
    extra = checks.extra(KNOWN_KEYS)
    history, error = _history(meta.get("history"))
    if error:
        checks.add("history", error)
    reason = str(meta.get("reason") or "").strip()
    evidence = checks.section(EVIDENCE_HEADINGS)
    if status == "dropped" and not reason:
        checks.add("status", "a dropped action needs a reason: reason: ...")
    if status == "validated" and not evidence:
        checks.add("status", "a validated action needs its evidence in a '## Validering' section")
    checks.raise_if_any()
    assert due is not None
    return LearningAction(
        id=action_id, title=" ".join(str(meta["title"]).split()), owner=str(meta["owner"]).strip(), due=due,
        status=status, lessons=cited, roadmap=roadmap, decided=decided,
        outcome=outcome, reason=reason, history=history, body=doc.body, evidence=evidence,
        path=path, rel_path=relative_path(path, config.root), visibility=visibility,
        visibility_given="visibility" in meta, extra=extra,
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
    actions, problems = load_folder(
        actions_dir(config), lambda path: parse_action(path, config, lessons=lessons, roadmap_actions=roadmap_actions),
        "action")
    return ActionSet(actions, problems)
