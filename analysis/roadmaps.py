"""``kb roadmap``: what the area teams have learned about each roadmap and its actions.

For an action or a whole roadmap: the entries that cite it (by type), the lessons from
other areas that look related but do not cite it yet (suggested links), the actors, and
how the picture changed sprint by sprint. The pure functions work on entry rows, so the
Datasette pages use them on Datasette's own connection; :func:`roadmap_report` is the
entry point for the CLI (it reads the index and searches for suggestions).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from indexer.roadmaps import load_roadmaps
from kb.core.config import ENTRY_TYPES
from kb.core.errors import KBError
from kb.core.roadmap import Action, Roadmap, RoadmapSet
from kb.core.store import decode_entry_row
from search.filters import Filters

ENTRY_COLUMNS = "id, title, area, date, sprint, type, tags, actors, roadmap, policy, path, body"
NO_SPRINT = "(utan sprint)"
SUGGESTION_CONTEXT_CHARS = 300  # of roadmap prose added to an action's title as the query


class RoadmapNotFound(KBError):
    """Neither a roadmap (area slug) nor an action id."""


# --- entry rows ---------------------------------------------------------------------------
def entry_rows(conn, where: str = "1", params=()) -> list[dict]:
    """Entries as dicts with list columns decoded. ``conn``: sqlite3 or sqlite-utils."""
    cursor = conn.execute(
        f"select {ENTRY_COLUMNS} from entries where {where} order by date, id", list(params)
    )
    columns = [d[0] for d in cursor.description]
    return [decode_entry_row(dict(zip(columns, values, strict=True))) for values in cursor.fetchall()]


@dataclass
class EntryRef:
    """An entry as reports and analyses cite it: its short form (:func:`entry_ref`), a quote
    of what it learned, and its language where that differs from the document's."""

    id: str
    title: str
    area: str
    type: str
    date: str
    sprint: str | None
    path: str | None
    quote: str = ""
    lang: str = ""  # the entry's language (sv, en): marked where it differs from the document's

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def entry_ref(row: dict) -> dict:
    """The short form of an entry used in every report."""
    return {
        "id": row["id"],
        "title": row["title"],
        "area": row["area"],
        "type": row["type"],
        "date": row["date"],
        "sprint": row.get("sprint"),
        "path": row.get("path"),
    }


def citing(rows: list[dict], action_ids) -> list[dict]:
    wanted = set(action_ids)
    return [r for r in rows if wanted.intersection(r["roadmap"])]


def by_type(rows: list[dict]) -> dict[str, list[dict]]:
    """Entries grouped by type, in the format's order (lesson, obstacle, ...); empty types kept."""
    out: dict[str, list[dict]] = {t: [] for t in ENTRY_TYPES}
    for row in rows:
        out.setdefault(row["type"], []).append(entry_ref(row))
    return out


def timeline(rows: list[dict]) -> list[dict]:
    """Counts per sprint (in sprint order, entries without a sprint last) by type."""
    per: dict[str, Counter] = {}
    for row in rows:
        per.setdefault(row.get("sprint") or NO_SPRINT, Counter())[row["type"]] += 1
    order = sorted(per, key=lambda s: (s == NO_SPRINT, s))
    return [
        {"sprint": s, "total": sum(per[s].values()), "counts": {t: per[s][t] for t in ENTRY_TYPES if per[s][t]}}
        for s in order
    ]


def actors(actions: list[Action], rows: list[dict]) -> list[dict]:
    """Who is responsible for the actions, and who is named in the entries citing them."""
    table: dict[str, dict] = {}

    def slot(name: str) -> dict:
        key = " ".join(name.split())
        return table.setdefault(key, {"name": key, "actions": [], "entries": 0})

    for action in actions:
        if action.actor:
            slot(action.actor)["actions"].append(action.id)
    for row in rows:
        for name in row["actors"]:
            slot(name)["entries"] += 1
    return sorted(table.values(), key=lambda a: (-len(a["actions"]), -a["entries"], a["name"]))


# --- reports ---------------------------------------------------------------------------------
@dataclass
class ActionReport:
    action: Action
    roadmap_title: str
    entries: dict[str, list[dict]]
    actors: list[dict]
    timeline: list[dict]
    suggestions: list[dict] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.entries.values())

    def to_dict(self) -> dict:
        return {
            "kind": "action",
            **self.action.to_dict(),
            "roadmap": self.roadmap_title,
            "count": self.count,
            "entries": self.entries,
            "actors": self.actors,
            "timeline": self.timeline,
            "suggestions": self.suggestions,
        }


@dataclass
class RoadmapReport:
    roadmap: Roadmap
    area_name: str
    actions: list[ActionReport]
    entries: dict[str, list[dict]]
    actors: list[dict]
    timeline: list[dict]

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.entries.values())

    def to_dict(self) -> dict:
        return {
            "kind": "roadmap",
            "area": self.roadmap.area,
            "area_name": self.area_name,
            "title": self.roadmap.title,
            "period": self.roadmap.period,
            "path": self.roadmap.rel_path,
            "count": self.count,
            "entries": self.entries,
            "actors": self.actors,
            "timeline": self.timeline,
            "actions": [a.to_dict() for a in self.actions],
        }


def action_report(roadmap: Roadmap, action: Action, rows: list[dict]) -> ActionReport:
    cited = citing(rows, [action.id])
    return ActionReport(
        action=action,
        roadmap_title=roadmap.title,
        entries=by_type(cited),
        actors=actors([action], cited),
        timeline=timeline(cited),
    )


def full_roadmap_report(roadmap: Roadmap, rows: list[dict], area_name: str | None = None) -> RoadmapReport:
    cited = citing(rows, [a.id for a in roadmap.actions])
    return RoadmapReport(
        roadmap=roadmap,
        area_name=area_name or roadmap.area,
        actions=[action_report(roadmap, a, rows) for a in roadmap.actions],
        entries=by_type(cited),
        actors=actors(roadmap.actions, cited),
        timeline=timeline(cited),
    )


def overview(roadmaps: RoadmapSet, rows: list[dict], area_names: dict[str, str] | None = None) -> list[dict]:
    """One line per roadmap: its actions, their status and how many entries cite each."""
    counts = Counter(action_id for r in rows for action_id in set(r["roadmap"]))
    out = []
    for roadmap in roadmaps.roadmaps:
        ids = {a.id for a in roadmap.actions}
        out.append(
            {
                "area": roadmap.area,
                "area_name": (area_names or {}).get(roadmap.area, roadmap.area),
                "title": roadmap.title,
                "period": roadmap.period,
                "count": len(citing(rows, ids)),
                "actions": [{**a.to_dict(), "count": counts[a.id]} for a in roadmap.actions],
            }
        )
    return out


def suggestion_query(roadmap: Roadmap, action: Action) -> str:
    """The action's title first (it is what the link is about), then the roadmap's context."""
    context = " ".join(roadmap.text.split())[:SUGGESTION_CONTEXT_CHARS]
    return f"{action.title}. {roadmap.title}. {context}"


def suggest_links(kb, roadmap: Roadmap, action: Action, cited_ids, *, limit: int = 5) -> list[dict]:
    """Entries from other areas close to the action that do not cite it yet."""
    other_areas = tuple(a for a in kb.config.areas if a != roadmap.area)
    if not other_areas or limit <= 0:
        return []
    filters = Filters(areas=other_areas, exclude_ids=tuple(sorted(cited_ids)))
    results = kb.search(suggestion_query(roadmap, action), filters=filters, limit=limit)
    return [r.to_dict() for r in results]


def roadmap_report(kb, key: str | None = None, *, suggestions: int = 5):
    """``None``: overview of all roadmaps (a list); an area slug: :class:`RoadmapReport`;
    an action id: :class:`ActionReport`. Reads the index (``kb index`` first)."""
    roadmaps = load_roadmaps(kb.config)
    kb.require_index()
    rows = entry_rows(kb.store.db)
    names = {slug: a.name for slug, a in kb.config.areas.items()}
    if key is None:
        return overview(roadmaps, rows, names)
    found = roadmaps.find(key)
    if found is None:
        known = ", ".join(sorted(roadmaps.by_area)) or "none"
        raise RoadmapNotFound(
            f"no roadmap or action {key!r}",
            hint=f"Use an area slug ({known}) or an action id such as "
            f"{next(iter(roadmaps.actions), 'MOB-1')}; `kb roadmap` lists them all.",
        )
    if isinstance(found, Roadmap):
        report = full_roadmap_report(found, rows, names.get(found.area))
        for item in report.actions:
            item.suggestions = suggest_links(
                kb, found, item.action, _ids(item.entries), limit=min(suggestions, 3)
            )
        return report
    roadmap = roadmaps.by_area[found.area]
    report = action_report(roadmap, found, rows)
    report.suggestions = suggest_links(kb, roadmap, found, _ids(report.entries), limit=suggestions)
    return report


def _ids(grouped: dict[str, list[dict]]) -> set[str]:
    return {e["id"] for refs in grouped.values() for e in refs}
