"""``kb actors``: the mandate map (rådighet). Which actors appear in which areas' lessons
and roadmap actions, and where an actor that obstacles depend on holds no action anywhere.

A *gap in mandate* is an actor named in the ``actors`` of obstacle entries that is not
responsible for any roadmap action: the obstacle waits on someone nobody has a plan with.
Names are compared with case and spacing folded; they are otherwise taken as written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from analysis.roadmaps import entry_ref, entry_rows
from indexer.roadmaps import load_roadmaps
from kb.core.roadmap import RoadmapSet

GAP_TYPES = ("obstacle",)


def actor_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class ActorRow:
    name: str
    entry_areas: Counter = field(default_factory=Counter)  # area -> entries naming the actor
    entry_types: Counter = field(default_factory=Counter)
    actions: list[dict] = field(default_factory=list)  # {id, title, area, status}
    obstacles: list[dict] = field(default_factory=list)  # entry refs of obstacle entries

    @property
    def areas(self) -> list[str]:
        return sorted(set(self.entry_areas) | {a["area"] for a in self.actions})

    @property
    def gap(self) -> bool:
        return bool(self.obstacles) and not self.actions

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "areas": self.areas,
            "entries": sum(self.entry_areas.values()),
            "entry_areas": dict(sorted(self.entry_areas.items())),
            "entry_types": dict(sorted(self.entry_types.items())),
            "actions": self.actions,
            "obstacles": len(self.obstacles),
            "gap": self.gap,
        }


@dataclass
class MandateMap:
    actors: list[ActorRow]

    @property
    def gaps(self) -> list[ActorRow]:
        return [a for a in self.actors if a.gap]

    def to_dict(self) -> dict:
        return {
            "actors": [a.to_dict() for a in self.actors],
            "gaps": [
                {"name": a.name, "areas": sorted({o["area"] for o in a.obstacles}), "obstacles": a.obstacles}
                for a in self.gaps
            ],
        }


def build_mandate_map(roadmaps: RoadmapSet, rows: list[dict]) -> MandateMap:
    table: dict[str, ActorRow] = {}

    def slot(name: str) -> ActorRow:
        return table.setdefault(actor_key(name), ActorRow(name=" ".join(name.split())))

    for roadmap in roadmaps.roadmaps:
        for action in roadmap.actions:
            if action.actor:
                slot(action.actor).actions.append(
                    {"id": action.id, "title": action.title, "area": action.area, "status": action.status}
                )
    for row in rows:
        for name in dict.fromkeys(actor_key(n) for n in row["actors"] if n.strip()):
            original = next(n for n in row["actors"] if actor_key(n) == name)
            actor = slot(original)
            actor.entry_areas[row["area"]] += 1
            actor.entry_types[row["type"]] += 1
            if row["type"] in GAP_TYPES:
                actor.obstacles.append(entry_ref(row))
    ordered = sorted(
        table.values(),
        key=lambda a: (-(sum(a.entry_areas.values()) + len(a.actions)), a.name.casefold()),
    )
    return MandateMap(actors=ordered)


def mandate_map(kb) -> MandateMap:
    """The mandate map of the knowledge base: roadmap files plus the indexed entries."""
    kb.require_index()
    return build_mandate_map(load_roadmaps(kb.config), entry_rows(kb.store.db))
