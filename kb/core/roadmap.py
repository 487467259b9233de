"""The roadmap model: one agile roadmap (färdplan) per transition area, in ``roadmaps/<area>.md``.

A roadmap file is Markdown with YAML front matter, read by :mod:`indexer.roadmaps` with the
same helpers as entries, so problems are reported the same way, as ``path:line: message``::

    ---
    area: mobilitet
    title: Färdplan för mobilitet och transporter
    period: 2025–2027
    actions:
      - id: MOB-1
        title: Laddhubbar i Norra hamnen och Hyllie
        actor: Malmö stad
        status: ongoing      # planned | ongoing | done | paused
    ---
    ## Mål och behov
    ...

Entries cite actions in their ``roadmap:`` key; an id no roadmap holds is a warning
(the entry is still indexed), a broken roadmap file is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kb.core.entry import Section
from kb.core.errors import Problem

ROADMAPS_DIR = "roadmaps"
ACTION_STATUSES = ("planned", "ongoing", "done", "paused")


@dataclass
class Action:
    id: str
    title: str
    status: str
    area: str
    actor: str | None = None
    line: int = 1  # of the action's ``- id:`` item in the roadmap file

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "actor": self.actor,
            "status": self.status,
            "area": self.area,
        }


@dataclass
class Roadmap:
    area: str
    title: str
    path: Path
    period: str | None = None
    actions: list[Action] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    intro: str = ""
    rel_path: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The roadmap's prose (goals, needs, opportunities, obstacles), as plain text."""
        parts = [self.intro] + [f"{s.heading}\n{s.text}" for s in self.sections]
        return "\n\n".join(p for p in parts if p.strip())

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def to_dict(self) -> dict:
        return {
            "area": self.area,
            "title": self.title,
            "period": self.period,
            "path": self.rel_path,
            "actions": [a.to_dict() for a in self.actions],
            "sections": [{"heading": s.heading, "text": s.text} for s in self.sections],
        }


@dataclass
class RoadmapSet:
    """Every valid roadmap of a knowledge base, and the problems of the others."""
    roadmaps: list[Roadmap] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def by_area(self) -> dict[str, Roadmap]:
        return {r.area: r for r in self.roadmaps}

    @property
    def actions(self) -> dict[str, Action]:
        return {a.id: a for r in self.roadmaps for a in r.actions}

    def find(self, key: str) -> Roadmap | Action | None:
        """A roadmap by its area slug, else an action by its id (case-insensitive)."""
        if key in self.by_area:
            return self.by_area[key]
        folded = key.casefold()
        for action_id, action in self.actions.items():
            if action_id.casefold() == folded:
                return action
        return None
