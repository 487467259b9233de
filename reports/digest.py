"""``kb digest --area A``: a short digest for one transition area, so lessons reach the
people who can use them: new lessons from *other* areas that cite the area's roadmap actions,
the area's actions that fall due, and the new learning questions. Markdown or a small HTML
file; library first like the brief."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

from analysis.loop import entries_from_index, load_loop
from indexer.roadmaps import load_roadmaps
from kb.core.errors import KBError
from kb.core.files import atomic_write_text
from kb.core.sessions import last_session
from kb.core.texts import DEFAULT_LANGUAGE, texts
from reports.rendering import (
    TEMPLATES_DIR,
    ActionItem,
    EntryRef,
    Links,
    action_item,
    entry_refs,
    jinja_env,
    md_text,
)

DEFAULT_DAYS = 30  # the digest's period when no learning session marks one
DUE_WITHIN_DAYS = 60


@dataclass
class Touch:
    """A lesson from another area citing a roadmap action of ours."""

    entry: EntryRef
    action_id: str
    action_title: str



@dataclass
class Digest:
    area: str
    area_name: str
    title: str  # the knowledge base's
    lang: str
    since: str
    made: str
    area_names: dict[str, str] = field(default_factory=dict)
    touches: list[Touch] = field(default_factory=list)
    due: list[ActionItem] = field(default_factory=list)
    questions: list[dict] = field(default_factory=list)  # new learning questions touching the area

    def to_dict(self) -> dict:
        return asdict(self)


def compose_digest(kb, area: str, *, since: str | None = None, since_last: bool = False,
                   lang: str = DEFAULT_LANGUAGE, today: dt.date | None = None) -> Digest:
    if area not in kb.config.areas:
        raise KBError(f"unknown area {area!r}", hint=f"Use one of: {', '.join(sorted(kb.config.areas))}.")
    kb.require_index()
    today = today or dt.date.today()
    if since_last:
        since = last_session(kb.config.root, today)  # the last one held: a planned one does not count
        if since is None:
            raise KBError("no learning session is recorded yet", hint="Use --since, or mark one with kb brief --mark.")
    since = since or (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat()
    entries = entries_from_index(kb)
    rows = kb.store.get_entries([e for e, row in entries.items() if row["date"] >= since])
    ref = entry_refs(rows)
    touches: list[Touch] = []
    seen: set[str] = set()
    roadmap = load_roadmaps(kb.config).by_area.get(area)
    for action in roadmap.actions if roadmap else []:
        for entry_id, row in sorted(rows.items(), key=lambda kv: kv[1]["date"]):
            if row["area"] != area and action.id in (row.get("roadmap") or []) and entry_id not in seen:
                seen.add(entry_id)
                touches.append(Touch(ref(entry_id), action.id, action.title))
    touches.sort(key=lambda t: (t.entry.date, t.entry.id))
    loop = load_loop(kb.config, entries=entries, today=today, audience=kb.audience)
    horizon = today + dt.timedelta(days=DUE_WITHIN_DAYS)
    due = [action_item(a, today) for a in loop.to_follow_up(horizon) if area in loop.areas_of(a)]
    questions = [loop.question_dict(q) for q in loop.agenda.questions
                 if q.opened.isoformat() >= since and (not q.entries or area in {entries[e]["area"] for e in q.entries
                                                                                  if e in entries})]
    return Digest(area=area, area_name=kb.config.area_name(area), title=kb.config.title, lang=lang, since=since,
                  made=today.isoformat(), area_names={s: a.name for s, a in kb.config.areas.items()},
                  touches=touches, due=due, questions=questions)


def render_markdown(digest: Digest, links: Links) -> str:
    t = texts(digest.lang)
    lines = [f"# {t['digest_title'].format(area=digest.area_name)}", "",
             t["digest_intro"].format(since=digest.since, made=digest.made, title=digest.title), "",
             f"## {t['digest_touches_heading']}", ""]
    for touch in digest.touches:
        lines.append(f"- [{md_text(touch.entry.title)}]({links.entry(touch.entry)}) "
                     f"({digest.area_names.get(touch.entry.area, touch.entry.area)}, {touch.entry.date}) – {t['digest_cites']} "
                     f"{touch.action_id} {md_text(touch.action_title)}")
    if not digest.touches:
        lines.append(t["digest_nothing"])
    lines += ["", f"## {t['digest_due_heading']}", ""]
    for a in digest.due:
        late = f" – **{t['action_overdue']}**" if a.overdue else ""
        lines.append(f"- **{md_text(a.title)}** · {t['action_owner']}: {md_text(a.owner)} · "
                     f"{t['action_due']} {a.due}{late}")
    if not digest.due:
        lines.append(t["digest_nothing"])
    lines += ["", f"## {t['digest_questions_heading']}", ""]
    lines += [f"- {md_text(q['question'])} ({md_text(q['owner'])})" for q in digest.questions] or [t["digest_nothing"]]
    return "\n".join(lines).rstrip() + "\n"


def render_html(digest: Digest, links: Links) -> str:
    env = jinja_env()
    t = texts(digest.lang)
    body = env.get_template("digest_body.html").render(d=digest, t=t, links=links)
    return env.get_template("brief_document.html").render(
        lang=digest.lang, title=t["digest_title"].format(area=digest.area_name), body=body,
        css=(TEMPLATES_DIR / "brief_print.css").read_text(encoding="utf-8"),
    )


def write_digest(kb, digest: Digest, *, fmt: str = "md", output: Path | None = None,
                 base_url: str | None = None) -> str:
    links = Links(kb.config.root, out_dir=Path(output).parent if output else None, base_url=base_url)
    text = (render_html if fmt == "html" else render_markdown)(digest, links)
    if output:
        atomic_write_text(Path(output), text)
    return text
