"""The action model: what was decided to do about lessons, by whom, by when, and whether it
worked. One Markdown file per action in ``actions/`` (front matter + notes and the evidence
of validation in the body)::

    ---
    id: laddplatser-en-agare
    title: En förvaltning äger frågan om laddplatser på kommunal mark
    owner: Fastighets- och gatukontoret     # who acts (an actor)
    due: 2026-03-31
    status: in-progress                     # proposed | agreed | in-progress | done | validated | dropped
    decided: 2025-10-02                     # when it was agreed
    lessons: [cen-03-laddning-vem-ager-fragan]
    roadmap: [MOB-1]
    outcome: [routine]                      # what acting changed: roadmap | routine | policy
    visibility: public                      # internal | partner | public (default: kb.toml's)
    history:
      - {date: 2025-09-18, status: proposed}
      - {date: 2025-10-02, status: agreed, note: Beslut i styrgruppen}
    ---
    ## Anteckningar
    ...
    ## Validering
    ...

A lesson counts as *learned* only when an action taken on it was validated (the NATO
lessons-learned process): ``validated`` needs evidence, ``dropped`` a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from kb.core.visibility import DEFAULT_VISIBILITY

ACTIONS_DIR = "actions"
STATUSES = ("proposed", "agreed", "in-progress", "done", "validated", "dropped")
OPEN_STATUSES = ("proposed", "agreed", "in-progress")  # can be overdue
OUTCOMES = ("roadmap", "routine", "policy")
# Which status may follow which. Done work can be reopened; validated is final; a dropped
# action can be proposed again.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("agreed", "dropped"),
    "agreed": ("in-progress", "done", "dropped"),
    "in-progress": ("done", "dropped"),
    "done": ("validated", "in-progress", "dropped"),
    "validated": (),
    "dropped": ("proposed",),
}
EVIDENCE_HEADINGS = ("validering", "validation")  # the body section that holds the evidence
# The sections this program writes, by the knowledge base's language (part of the file format).
NOTES_HEADING = {"sv": "Anteckningar", "en": "Notes"}
EVIDENCE_HEADING = {"sv": "Validering", "en": "Validation"}


@dataclass(frozen=True)
class StatusChange:
    date: str  # ISO date
    status: str
    note: str = ""

    def to_dict(self) -> dict:
        return {"date": self.date, "status": self.status, "note": self.note}


@dataclass
class LearningAction:
    id: str
    title: str
    owner: str
    due: dt.date
    status: str
    lessons: list[str]
    path: Path
    roadmap: list[str] = field(default_factory=list)
    decided: dt.date | None = None
    outcome: list[str] = field(default_factory=list)
    reason: str = ""  # why it was dropped
    history: list[StatusChange] = field(default_factory=list)
    body: str = ""
    evidence: str = ""  # the text of the validation section
    rel_path: str = ""
    visibility: str = DEFAULT_VISIBILITY  # as written, else kb.toml's default (kb.core.visibility)
    visibility_given: bool = False  # written in the file (kept when the file is rewritten)
    extra: dict = field(default_factory=dict)

    def overdue(self, today: dt.date) -> bool:
        return self.status in OPEN_STATUSES and self.due < today

    def changed_on(self, status: str) -> str | None:
        """The date of the last change to ``status`` (ISO), if there was one."""
        return next((c.date for c in reversed(self.history) if c.status == status), None)

    def to_dict(self, today: dt.date | None = None) -> dict:
        today = today or dt.date.today()
        return {
            "id": self.id, "title": self.title, "owner": self.owner, "due": self.due.isoformat(),
            "status": self.status, "lessons": list(self.lessons), "roadmap": list(self.roadmap),
            "decided": self.decided.isoformat() if self.decided else None, "outcome": list(self.outcome),
            "reason": self.reason, "overdue": self.overdue(today),
            "history": [c.to_dict() for c in self.history], "evidence": self.evidence, "path": self.rel_path,
            "visibility": self.visibility,
        }


def transition_problem(current: str, new: str) -> str | None:
    """Why ``current`` may not become ``new`` (None when it may)."""
    if new not in STATUSES:
        return f"unknown status {new!r}: use one of {', '.join(STATUSES)}"
    if new == current:
        return f"the action is already {new}"
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing: it is final"
        return f"a {current} action cannot become {new} (it can become: {allowed})"
    return None
