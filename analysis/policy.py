"""``kb policy``: obstacles that need changes in regional, national or EU policy instruments.

Entries with a ``policy:`` key, grouped by level and, within a level, by theme: the
recurring-obstacle groups of :mod:`search.obstacles` (the same obstacle met in different
words). Each piece of evidence carries a short quote from the entry's "what we learned"
(or obstacle) section: input for the city's position papers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analysis.obstacles import recurring_obstacles
from analysis.roadmaps import EntryRef, entry_ref, entry_rows
from kb.core.config import POLICY_LEVELS
from kb.core.texts import DEFAULT_LANGUAGE, counted, text, texts
from search.filters import Filters

# The label of the last theme of a level (entries no obstacle group took), in the default
# language; a report in another language labels it in that one.
UNGROUPED = text("policy_ungrouped", DEFAULT_LANGUAGE)
QUOTE_CHARS = 240
# headings whose text says what the obstacle is or what was learned, best first
_QUOTE_HEADINGS = (
    re.compile(r"lärde|lärdom|learn", re.I),
    re.compile(r"hinder|obstacle|problem|målkonflikt|conflict", re.I),
    re.compile(r"hände|happen", re.I),
)
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Theme:
    label: str
    recurring: bool
    evidence: list[EntryRef] = field(default_factory=list)

    @property
    def areas(self) -> list[str]:
        return sorted({e.area for e in self.evidence})

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "recurring": self.recurring,
            "areas": self.areas,
            "count": len(self.evidence),
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class Level:
    level: str
    name: str
    themes: list[Theme] = field(default_factory=list)

    @property
    def areas(self) -> list[str]:
        return sorted({a for t in self.themes for a in t.areas})

    @property
    def count(self) -> int:
        return len({e.id for t in self.themes for e in t.evidence})

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "name": self.name,
            "areas": self.areas,
            "count": self.count,
            "themes": [t.to_dict() for t in self.themes],
        }


@dataclass
class PolicyReport:
    levels: list[Level]
    since: str | None = None
    until: str | None = None
    areas: tuple[str, ...] = ()
    themes_from: str = "recurring-obstacles"  # or "none" when that grouping is unavailable
    lang: str = DEFAULT_LANGUAGE  # of the level names and labels; to_markdown writes in it too

    @property
    def count(self) -> int:
        return len({e.id for lv in self.levels for t in lv.themes for e in t.evidence})

    def to_dict(self) -> dict:
        return {
            "since": self.since,
            "until": self.until,
            "areas": list(self.areas),
            "count": self.count,
            "themes_from": self.themes_from,
            "levels": [lv.to_dict() for lv in self.levels],
        }


def quote(body: str, width: int = QUOTE_CHARS) -> str:
    """The first sentences of the "what we learned" section (else the obstacle, else the
    first section), cut on a sentence or word boundary."""
    sections = _split(body or "")
    text = ""
    for pattern in _QUOTE_HEADINGS:
        text = next((t for h, t in sections if pattern.search(h) and t.strip()), "")
        if text:
            break
    if not text:
        text = next((t for _, t in sections if t.strip()), body or "")
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    paragraph = re.sub(r"[*_`]+", "", paragraph)
    if len(paragraph) <= width:
        return paragraph
    out = ""
    for sentence in _SENTENCE_END.split(paragraph):
        if len(out) + len(sentence) + 1 > width:
            break
        out = f"{out} {sentence}".strip()
    if out:
        return out
    cut = paragraph.rfind(" ", 0, width)
    return paragraph[: cut if cut > 0 else width] + "…"


def _split(body: str) -> list[tuple[str, str]]:
    matches = list(_HEADING.finditer(body))
    return [
        (m.group(1), body[m.end() : matches[i + 1].start() if i + 1 < len(matches) else len(body)])
        for i, m in enumerate(matches)
    ]


def group_policy(rows: list[dict], themes: dict[str, tuple[str, bool]] | None = None,
                 lang: str = DEFAULT_LANGUAGE) -> list[Level]:
    """Rows with a policy key, by level then theme. ``themes``: entry id -> (label, recurring);
    entries without one go to a last theme of their own level (:data:`UNGROUPED`, in ``lang``)."""
    themes = themes or {}
    ungrouped = text("policy_ungrouped", lang)
    levels = []
    for level in POLICY_LEVELS:
        members = [r for r in rows if level in r["policy"]]
        if not members:
            continue
        by_label: dict[str, Theme] = {}
        for row in members:
            label, recurring = themes.get(row["id"], (ungrouped, False))
            theme = by_label.setdefault(label, Theme(label=label, recurring=recurring))
            theme.evidence.append(EntryRef(**entry_ref(row), quote=quote(row.get("body", ""))))
        ordered = sorted(
            by_label.values(),
            key=lambda t: (t.label == ungrouped, -len(t.areas), -len(t.evidence), t.label),
        )
        levels.append(Level(level=level, name=text(f"policy_level_name_{level}", lang), themes=ordered))
    return levels


def policy_rows(conn, filters: Filters | None = None) -> list[dict]:
    where, params = (filters or Filters()).where("entries")
    return entry_rows(conn, f"policy is not null and policy != '[]' and {where}", params)


def obstacle_themes(kb, rows: list[dict], filters: Filters) -> dict[str, tuple[str, bool]]:
    """Entry id -> (theme label, recurring) from the recurring-obstacle groups."""
    types = tuple(sorted({"obstacle", *(r["type"] for r in rows)}))
    groups = recurring_obstacles(
        kb, since=filters.since, until=filters.until, areas=filters.areas or None, types=types
    )
    out: dict[str, tuple[str, bool]] = {}
    for group in groups:
        for member in group.entries:
            entry_id = member if isinstance(member, str) else getattr(member, "id", None) or member["id"]
            out.setdefault(entry_id, (group.label, bool(group.recurring)))
    return out


def policy_needs(kb, filters: Filters | None = None, lang: str = DEFAULT_LANGUAGE) -> PolicyReport:
    """The policy needs of the knowledge base (from the index) within ``filters``, with level
    names and labels in ``lang``."""
    filters = filters or Filters()
    kb.require_index()
    rows = policy_rows(kb.store.db, filters)
    themes = obstacle_themes(kb, rows, filters) if rows else {}
    return PolicyReport(
        levels=group_policy(rows, themes, lang),
        since=filters.since,
        until=filters.until,
        areas=filters.areas,
        themes_from="none" if themes is None else "recurring-obstacles",
        lang=lang,
    )


def to_markdown(report: PolicyReport, area_names: dict[str, str] | None = None) -> str:
    """The report as a Markdown handout, in the report's language (Swedish by default, like
    the position papers)."""
    t = texts(report.lang)
    names = area_names or {}

    def area_list(areas) -> str:
        return ", ".join(names.get(a, a) for a in areas)

    if report.since and report.until:
        period = f"{report.since} – {report.until}"
    elif report.since:
        period = t["policy_md_from"].format(date=report.since)
    else:
        period = t["policy_md_until"].format(date=report.until) if report.until else ""
    lines = [f"# {t['policy_title']}", ""]
    if period or report.areas:
        scope = []
        if period:
            scope.append(t["policy_md_period"].format(period=period))
        if report.areas:
            scope.append(t["policy_md_areas"].format(areas=area_list(report.areas)))
        lines += ["; ".join(scope) + ".", ""]
    if not report.levels:
        lines.append(t["policy_md_none"])
        return "\n".join(lines) + "\n"
    lines += [counted(t, report.count, "policy_md_count_one", "policy_md_count"), ""]
    for level in report.levels:
        level_areas = t["policy_md_level_areas"].format(areas=area_list(level.areas))
        lines += [f"## {level.name}", "", level_areas + ".", ""]
        for theme in level.themes:
            mark = f" ({t['obstacles_recurring']})" if theme.recurring else ""
            lines += [f"### {theme.label}{mark}", ""]
            lines += [t["policy_md_areas"].format(areas=area_list(theme.areas)) + ".", ""]
            for e in theme.evidence:
                lines.append(f"- **{e.title}** (`{e.id}`, {names.get(e.area, e.area)}, {e.date})")
                if e.quote:
                    lines.append(f"  > {e.quote}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
