"""The open publication as an Atom feed (RFC 4287): one entry per published lesson, newest
change first, and one RFC 6721 ``deleted-entry`` tombstone per lesson withdrawn since, so that
feed readers and aggregators remove it too. The feed's author is the publishing
organisation, never a person."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kb.core.config import KBConfig
from kb.core.texts import text

ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_SUMMARY = 600
# characters XML 1.0 does not allow (a title may carry \v from a word processor)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value) -> str:
    return _NOT_XML.sub("", str(value))


def render_open_feed(config: KBConfig, manifest: dict, records: list[dict], withdrawn: list[dict]) -> bytes:
    ET.register_namespace("", ATOM)
    ET.register_namespace("at", TOMBSTONES)
    lang = config.language
    organisation = manifest["organisation"]

    def sub(parent, tag: str, value: str | None = None, ns: str = ATOM, **attrs) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: xml_text(v) for k, v in attrs.items() if v is not None})
        if value is not None:
            element.text = xml_text(value)
        return element

    root = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: lang})
    sub(root, "id", manifest["id"])
    sub(root, "title", text("open_title", lang, organisation=organisation))
    sub(root, "subtitle", text("open_description", lang, organisation=organisation, title=manifest["title"]))
    sub(root, "updated", manifest["updated"])
    sub(sub(root, "author"), "name", organisation)
    sub(root, "rights", text("open_rights", lang, licence=manifest["licence"]))
    if manifest.get("url"):
        sub(root, "link", rel="self", type="application/atom+xml", href=manifest["url"] + "feed.atom")
        sub(root, "link", rel="alternate", type="application/json", href=manifest["url"] + "index.json")
    sub(root, "link", rel="license", href=manifest["licence"])
    for record in sorted(records, key=lambda r: (r["updated"], r["id"]), reverse=True):
        entry = sub(root, "entry")
        sub(entry, "id", record["ref"])
        sub(entry, "title", record["title"])
        sub(entry, "published", record["published"])
        sub(entry, "updated", record["updated"])
        if record.get("url"):
            sub(entry, "link", rel="alternate", type="text/html", href=record["url"])
        for term, label in ((record["type"], text(f"entry_type_{record['type']}", lang)),
                            (record["area"]["id"], record["area"]["name"])):
            sub(entry, "category", term=term, label=label)
        for tag in record.get("tags") or []:
            sub(entry, "category", term=tag)
        summary = record.get("summary") or ""
        if summary:
            sub(entry, "summary", summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…",
                type="text")
        if record.get("language") and record["language"] != lang:
            entry.set(XML_LANG, record["language"])
    for gone in withdrawn:
        tombstone = sub(root, "deleted-entry", ns=TOMBSTONES, ref=gone["ref"], when=gone["when"])
        sub(tombstone, "comment", text("open_withdrawn", lang), ns=TOMBSTONES)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
