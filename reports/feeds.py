"""Atom feeds (RFC 4287), so lessons reach people instead of waiting to be searched: the
newest entries (filtered by area, type, tag) and the open actions by due date. Plain data
in, valid Atom XML out; the web pages serve them, feed readers and e-mail gateways poll them."""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from kb.core.characters import xml_text

ATOM = "http://www.w3.org/2005/Atom"
MAX_SUMMARY = 600


@dataclass
class FeedItem:
    id: str  # permanent: see permanent_id
    title: str
    link: str  # the item's page: kb.toml's base_url, else relative to the site (never the Host header)
    updated: str  # ISO date or datetime
    summary: str = ""
    author: str = ""
    categories: list[str] = field(default_factory=list)


@dataclass
class Feed:
    id: str
    title: str
    link: str  # the page the feed stands for
    self_link: str  # the feed's own URL
    lang: str
    items: list[FeedItem]
    subtitle: str = ""
    author: str = ""  # who publishes the feed (the knowledge base); default: its title


def author_name(user: str | None, display_names: dict[str, str], area_name: str,
                user_names: bool = False) -> str:
    """Who an entry is by, as a feed shows it: the writer's display name (kb.toml ``[auth]
    names``), else the entry's area. The user name a person signs in with (often an e-mail
    address) only when kb.toml publishes it (``user_names``: ``[web] publish_authors``): a feed
    is public."""
    return display_names.get(user or "", "") or (user if user_names and user else "") or area_name


def permanent_id(*parts: str) -> str:
    """An id that stays the same when the server moves or is renamed (Atom ids must never
    change): a name-based UUID of the knowledge base's title and the item's own id."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '/'.join(parts))}"


def _timestamp(value: str) -> str:
    """Atom wants an RFC 3339 date-time; entries carry dates."""
    if "T" in value:
        return value
    return dt.datetime.combine(dt.date.fromisoformat(value[:10]), dt.time(), tzinfo=dt.UTC).isoformat().replace(
        "+00:00", "Z")


def render_atom(feed: Feed) -> bytes:
    ET.register_namespace("", ATOM)

    def sub(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
        # what XML cannot carry is left out (ElementTree writes it as it is, and one such
        # character makes the whole feed unreadable)
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}",
                                {k: xml_text(v) for k, v in attrs.items() if v is not None})
        if text is not None:
            element.text = xml_text(text)
        return element

    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": feed.lang})
    sub(root, "id", feed.id)
    sub(root, "title", feed.title)
    if feed.subtitle:
        sub(root, "subtitle", feed.subtitle)
    updated = max((_timestamp(i.updated) for i in feed.items), default=_timestamp(dt.date.today().isoformat()))
    sub(root, "updated", updated)
    sub(root, "link", rel="alternate", type="text/html", href=feed.link)
    sub(root, "link", rel="self", type="application/atom+xml", href=feed.self_link)
    author = sub(root, "author")
    sub(author, "name", feed.author or feed.title)
    for item in feed.items:
        entry = sub(root, "entry")
        sub(entry, "id", item.id)
        sub(entry, "title", item.title)
        sub(entry, "link", rel="alternate", type="text/html", href=item.link)
        sub(entry, "updated", _timestamp(item.updated))
        if item.author:
            sub(sub(entry, "author"), "name", item.author)
        for term in item.categories:
            sub(entry, "category", term=term)
        if item.summary:
            summary = item.summary if len(item.summary) <= MAX_SUMMARY else item.summary[: MAX_SUMMARY - 1] + "…"
            sub(entry, "summary", summary, type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
