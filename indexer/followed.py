"""Lessons from the publications a knowledge base follows (``followed/*/lessons.jsonl``, kept
by ``kb sync``) as entries for the index: each under its own id (``<source>:<its id>``), marked
with its source's name, in a table of its own (:data:`kb.core.store.FOLLOWED_TABLE`).

The copies were checked when they were fetched; they are checked again here, line by line, so
that a copy changed by hand cannot bring in what a publication may not. Their text is plain
(the format has no markup) and stays plain: every character Markdown would read as markup is
escaped, so another city's words can never become a link or a heading on our pages.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from indexer.parse import relative_path
from kb.core.config import KBConfig
from kb.core.entry import Entry, Section
from kb.core.errors import Problem
from kb.core.followed import Source, load_sources
from kb.core.publication import (
    LESSONS_FILE,
    MANIFEST_FILE,
    MAX_LINE_BYTES,
    PublicationProblem,
    check_lesson,
    followed_id,
)

_MARKUP = re.compile(r"([\\`*_\[\]<>#|~!])")
_SAFE_URL = re.compile(r"https?://[^\s<>\"]{1,2000}")


@dataclass
class Followed:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)  # rows of kb.core.store.SOURCES_TABLE


def load_followed(config: KBConfig) -> Followed:
    """Every lesson of every followed publication's last good copy, as entries."""
    found = Followed()
    for source in load_sources(config):
        manifest = _manifest(source)
        path = source.path(LESSONS_FILE)
        if manifest is None or not path.is_file():
            continue  # followed, never fetched yet
        count = 0
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    if len(raw) > MAX_LINE_BYTES:
                        raise PublicationProblem(f"line {number}: longer than {MAX_LINE_BYTES:,} bytes")
                    record = json.loads(raw)
                    check_lesson(record, f"line {number}")
                except (ValueError, PublicationProblem) as exc:
                    found.problems.append(Problem(path, number, f"not read: {exc}; run `kb sync` to fetch it again",
                                                  severity="warning"))
                    continue
                found.entries.append(followed_entry(config, source, manifest, record, number))
                count += 1
        state = source.fetch_state()
        found.sources.append({
            "name": source.name, "slug": source.slug, "url": source.url,
            "organisation": _plain_line(manifest.get("organisation") or ""),
            "licence": _safe_url(manifest.get("licence")),
            "contact": _plain_line((manifest.get("contact") or {}).get("email") or ""),
            "fetched": state.fetched or "", "lessons": count,
        })
    return found


def followed_entry(config: KBConfig, source: Source, manifest: dict, record: dict, line: int) -> Entry:
    """One followed lesson as an entry: its own fields, its source, licence and original page;
    never anything that would make it one of ours (its roadmap ids mean nothing here)."""
    path = source.path(LESSONS_FILE)
    sections = [Section(heading=_plain_line(s["heading"]), text=s["text"], line=line) for s in record["sections"]]
    intro = ""
    if sections and not sections[0].heading:
        intro = sections.pop(0).text
    body = "\n".join(([_markdown_text(intro), ""] if intro else [])
                     + [f"## {_markdown_line(s.heading)}\n{_markdown_text(s.text)}\n" for s in sections])
    extra = {
        "area_name": _plain_line(record["area"]["name"]),
        "organisation": _plain_line(record["source"]["organisation"]),
        "licence": _safe_url(record["licence"]),
        "url": _safe_url(record.get("url")),
        "published": record.get("published") or "",
        "updated": record["updated"],
        "actions": [{"title": _plain_line(a["title"]), "owner": _plain_line(a.get("owner") or ""),
                     "validated": a.get("validated") or "", "evidence": a.get("evidence") or ""}
                    for a in record.get("actions") or []],
    }
    return Entry(
        id=followed_id(source.slug, record["id"]),
        title=_plain_line(record["title"]),
        area=record["area"]["id"],
        date=dt.date.fromisoformat(record["date"]),
        type=record["type"],
        path=path,
        body=body,
        sprint=_plain_line(record["sprint"]) if record.get("sprint") else None,
        tags=[_plain_line(t) for t in record.get("tags") or []],
        actors=[_plain_line(a) for a in record.get("actors") or []],
        roadmap=[],
        policy=list(record.get("policy") or []),
        related=[followed_id(source.slug, r) for r in record.get("related") or []],
        visibility="public",
        source=source.name,
        extra=extra,
        sections=sections,
        intro=intro,
        rel_path=relative_path(path, config.root),
    )


def _manifest(source: Source) -> dict | None:
    try:
        data = json.loads(source.path(MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _safe_url(value) -> str:
    """An http(s) address from a publication, or "" (never a javascript: or data: link)."""
    return value if isinstance(value, str) and _SAFE_URL.fullmatch(value) else ""


def _plain_line(value) -> str:
    """One line of text: no line breaks, no control characters."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(value)).split())


def _markdown_line(value) -> str:
    return _MARKUP.sub(r"\\\1", _plain_line(value))


def _markdown_text(value) -> str:
    """Plain text as Markdown that reads as the same text: markup characters escaped, line
    breaks kept, a line that would open a list or a quote escaped too."""
    lines = []
    for line in re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", str(value)).splitlines():
        line = _MARKUP.sub(r"\\\1", line.strip())
        line = re.sub(r"^([-+]|\d+[.)])(\s)", r"\\\1\2", line)
        lines.append(line)
    return "\n\n".join(line for line in lines if line)
