"""The learning agenda (Reflexive Monitoring in Action): obstacles rewritten as learning
questions, each with an owner, revisited at every learning session until answered. One
Markdown file per question in ``agenda/``::

    ---
    id: lq-effekt-i-elnatet
    question: Hur får vi besked om effekt i elnätet innan vi väljer plats?
    owner: Energi
    opened: 2025-11-04
    status: open                 # open | answered | dropped
    entries: [mob-04-tunga-fordon-kapacitetsbrist, nar-02-landstrom-effektbrist]
    visibility: partner          # internal | partner | public (default: kb.toml's)
    ---
    ## Svar
    (when answered)

The learning sessions themselves are listed in ``sessions.tsv`` at the root (``kb brief
--mark``): a question open for three sessions or more gets a session of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from kb.core.visibility import DEFAULT_VISIBILITY

AGENDA_DIR = "agenda"
QUESTION_STATUSES = ("open", "answered", "dropped")
DEDICATED_SESSION_AFTER = 3  # sessions a question may stay open before it gets its own
ANSWER_HEADINGS = ("svar", "answer")
ANSWER_HEADING = {"sv": "Svar", "en": "Answer"}  # the section this program writes


@dataclass
class LearningQuestion:
    id: str
    question: str
    owner: str
    opened: dt.date
    status: str
    path: Path
    entries: list[str] = field(default_factory=list)
    closed: dt.date | None = None
    answer: str = ""
    body: str = ""
    rel_path: str = ""
    visibility: str = DEFAULT_VISIBILITY  # as written, else kb.toml's default (kb.core.visibility)
    visibility_given: bool = False  # written in the file (kept when the file is rewritten)
    extra: dict = field(default_factory=dict)

    def sessions_open(self, sessions: list[str]) -> int:
        """Learning sessions (ISO dates) held while the question was open."""
        start = self.opened.isoformat()
        end = self.closed.isoformat() if self.closed else "9999-12-31"
        return sum(1 for s in sessions if start <= s <= end)

    def needs_own_session(self, sessions: list[str]) -> bool:
        return self.status == "open" and self.sessions_open(sessions) >= DEDICATED_SESSION_AFTER

    def to_dict(self, sessions: list[str] | None = None, today: dt.date | None = None) -> dict:
        sessions = sessions or []
        today = today or dt.date.today()
        return {
            "id": self.id, "question": self.question, "owner": self.owner,
            "opened": self.opened.isoformat(), "status": self.status, "entries": list(self.entries),
            "closed": self.closed.isoformat() if self.closed else None, "answer": self.answer,
            "age_days": ((self.closed or today) - self.opened).days,
            "sessions_open": self.sessions_open(sessions),
            "needs_own_session": self.needs_own_session(sessions), "path": self.rel_path,
            "visibility": self.visibility,
        }
