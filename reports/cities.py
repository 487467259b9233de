"""The brief's "Från andra städer": obstacles in the brief's scope that a followed city has
met too, and lessons that carry between the cities (:mod:`analysis.crosscity`), each with a
quote from both sides, where the other city's lesson comes from and why it was picked."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote as url_quote

from analysis.crosscity import city_links
from analysis.policy import quote as entry_quote
from analysis.reasons import render_reasons
from analysis.roadmaps import EntryRef
from kb.core.texts import texts
from reports.rendering import QUOTE_CHARS, Links, md_text

MAX_EACH = 4  # obstacles, and lessons that carry


@dataclass
class CityItem:
    kind: str  # obstacle | synergy
    source: str
    own: EntryRef
    other_id: str
    other_title: str
    other_area: str
    other_date: str
    other_url: str = ""  # its page at the other city (http(s))
    other_quote: str = ""
    other_lang: str = ""
    reasons: list[str] = field(default_factory=list)


def city_items(kb, ref, scope: list[str], lang: str) -> tuple[list[CityItem], list[dict]]:
    """What the followed cities share with the entries in ``scope`` (``ref`` makes our
    entries' :class:`EntryRef`), and the followed sources."""
    found = city_links(kb, only=set(scope))
    picked = found.obstacles[:MAX_EACH] + found.synergies[:MAX_EACH]
    rows = kb.store.get_entries([link.other for link in picked]) if picked else {}
    names = kb.config.area_names()
    items = []
    for link in picked:
        row = rows.get(link.other, {})
        items.append(CityItem(
            kind=link.kind, source=link.source, own=ref(link.own), other_id=link.other, other_title=link.other_title,
            other_area=link.other_area, other_date=link.other_date, other_url=link.other_url,
            other_quote=entry_quote(row.get("body") or "", QUOTE_CHARS), other_lang=row.get("lang") or "",
            reasons=render_reasons(link.reasons, lang, names),
        ))
    return items, found.sources


def other_link(links: Links, item: CityItem) -> str | None:
    """Where the brief links another city's lesson: its own page there, else ours of it
    (when the brief links to the web pages), else nowhere."""
    if item.other_url:
        return item.other_url
    if links.web:
        return f"{links.base_url.rstrip('/')}/-/kb/entry/{url_quote(item.other_id, safe='')}"
    return None


def cities_markdown(items: list[CityItem], sources: list[dict], lang: str, links: Links, link, name) -> list[str]:
    """The section as Markdown lines (``link(ref)`` links our entries, ``name(slug)`` names
    our areas)."""
    t = texts(lang)
    lines = [f"## {t['brief_cities_heading']}", ""]
    if not sources:
        return [*lines, t["brief_cities_none"], ""]
    lines += [t["brief_cities_intro"].format(sources=", ".join(md_text(s["name"]) for s in sources)), ""]
    for item in items:
        headline = t["cities_same_obstacle" if item.kind == "obstacle" else "cities_carries"].format(source=item.source)
        target = other_link(links, item)
        other = f"[{md_text(item.other_title)}]({target})" if target else md_text(item.other_title)
        lines += [f"### {md_text(headline)}", "",
                  f"- {link(item.own)} ({name(item.own.area)}, {item.own.date})"]
        if item.own.quote:
            lines.append(f"  > {md_text(item.own.quote)}")
        lines.append(f"- {other} ({md_text(item.source)}, {md_text(item.other_area)}, {item.other_date})")
        if item.other_quote:
            lines.append(f"  > {md_text(item.other_quote)}")
        if item.reasons:
            lines += ["", f"*{t['link_why']}:* " + "; ".join(md_text(r) for r in item.reasons)]
        lines.append("")
    if not items:
        lines += [t["selection_empty"], ""]
    return lines
