"""``kb brief``: the handout for a learning session (lärtillfälle).

Library first: :func:`compose_brief` returns a :class:`Brief` (plain data: the period and
scope, the recurring obstacles with their spread over areas and time, the strongest
cross-area synergies with a quote from each side, the goal conflicts, what is new since
the last brief, and discussion questions filled in from templates). The renderers
(:func:`render_markdown`, :func:`render_html`) only format it; the pictures come from
:mod:`search.pictures`.

Links to entries are made by :class:`Links`: relative paths to the entry files (they
work offline, in a file browser, in a Markdown viewer and on GitHub as long as the brief
is written inside or next to the KB folder), or Datasette entry pages
(``<base-url>/-/kb/entry/<id>``) when a base URL is given.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote as url_quote

from analysis.conflicts import find_conflicts, roadmap_areas
from analysis.corpus import Corpus, load_corpus
from analysis.links import AreaLinks, find_synergies, strong_link_matrix
from analysis.obstacles import group_obstacles
from analysis.policy import quote as entry_quote
from analysis.reasons import render_reasons
from kb.core.config import ENTRY_TYPES
from kb.core.decisions import load_decisions
from kb.core.files import atomic_write_text
from kb.core.texts import DEFAULT_LANGUAGE, text, texts
from reports.pictures import brief_figures, figure_bytes, write_pictures
from search.filters import Filters

LAST_BRIEF_FILE = "last-brief.json"
MAX_OBSTACLES = 6
MAX_SYNERGIES = 8
MAX_CONFLICTS = 6
MAX_NEW = 15
MAX_QUESTIONS = 7
THEME_ENTRIES = 15  # how many entries near a --theme make up the brief's world
QUOTE_CHARS = 170
TEMPLATES_DIR = Path(__file__).parent / "templates"


# --- the data --------------------------------------------------------------------------
@dataclass
class EntryRef:
    id: str
    title: str
    area: str
    type: str
    date: str
    sprint: str | None
    path: str | None
    quote: str = ""


@dataclass
class ObstacleItem:
    label: str
    recurring: bool
    count: int
    first_seen: str
    last_seen: str
    area_counts: dict[str, int]  # spread over areas
    sprints: list[str]  # spread over time
    entries: list[EntryRef]


@dataclass
class SynergyItem:
    status: str
    score: float
    a: EntryRef
    b: EntryRef
    reasons: list[str] = field(default_factory=list)


@dataclass
class ConflictItem:
    entry: EntryRef
    areas: list[str]
    reasons: list[str] = field(default_factory=list)


@dataclass
class Brief:
    title: str
    lang: str
    made: str
    since: str | None
    until: str | None
    areas: list[str]  # the chosen areas; empty = all
    area_names: dict[str, str]
    theme: str | None
    counts: dict[str, int]  # entries in scope by type
    scope_ids: list[str]
    obstacles: list[ObstacleItem]
    synergies: list[SynergyItem]
    conflicts: list[ConflictItem]
    last_brief: str | None
    new_entries: list[EntryRef]
    questions: list[str]
    matrix: dict[str, dict[str, int]]  # strong links per area pair, in the period
    silo_index: dict[str, float | None]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def area_name(self, slug: str) -> str:
        return self.area_names.get(slug, slug)

    def to_dict(self) -> dict:
        return asdict(self)


# --- composing ----------------------------------------------------------------------------
def compose_brief(
    kb,
    *,
    since: str | None = None,
    until: str | None = None,
    areas=(),
    theme: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
    last_brief: str | None = None,
    today: str | None = None,
    corpus: Corpus | None = None,
    theme_size: int = THEME_ENTRIES,
) -> Brief:
    """Everything a facilitator needs for the next learning session, as data.

    ``theme``: only the entries the search finds nearest to it take part. ``last_brief``:
    the date of the previous brief; entries dated after it are listed as new."""
    corpus = corpus if corpus is not None else load_corpus(kb)
    decisions = load_decisions(kb.config.root)
    areas = [a for a in (areas or ()) if a]
    work = corpus
    if theme:
        # the theme's world is its nearest entries, close matches or not
        hits = kb.search(theme, filters=Filters(since=since, until=until), limit=theme_size, min_score=None)
        work = subset_corpus(corpus, {r.id for r in hits})
    rows = work.rows

    def in_scope(row: dict) -> bool:
        return (not areas or row["area"] in areas) and in_period(row["date"], since, until)

    scope = [e for e in work.ids if in_scope(rows[e])]
    counts = Counter(rows[e]["type"] for e in scope)
    ref = _ref_maker(rows)

    groups = group_obstacles(work, since=since, until=until, areas=areas or None)
    obstacles = [
        ObstacleItem(
            label=g.label, recurring=g.recurring, count=g.count, first_seen=g.first_seen, last_seen=g.last_seen,
            area_counts=dict(Counter(rows[e]["area"] for e in g.entries).most_common()),
            sprints=g.sprints, entries=[ref(e) for e in g.entries],
        )
        for g in groups[:MAX_OBSTACLES]
    ]

    found = find_synergies(work, decisions, limit=None, areas=areas or None, since=since)
    names = kb.config.area_names()
    synergies = [
        SynergyItem(status=s.status, score=round(float(s.score), 3), a=ref(s.a), b=ref(s.b),
                    reasons=render_reasons(s.reasons, lang, names))
        for s in found
        if not until or max(rows[s.a]["date"], rows[s.b]["date"]) <= until
    ][:MAX_SYNERGIES]

    slugs = list(kb.config.areas)
    found_conflicts = find_conflicts(
        work, roadmap_areas(kb.config.root, slugs), since=since, until=until, areas=areas or None
    )
    conflicts = [ConflictItem(entry=ref(c.id), areas=c.areas, reasons=c.reasons) for c in found_conflicts]
    conflicts = conflicts[:MAX_CONFLICTS]

    new_entries: list[EntryRef] = []
    if last_brief:
        fresh = [e for e in work.ids if rows[e]["date"] > last_brief and (not areas or rows[e]["area"] in areas)
                 and (not until or rows[e]["date"] <= until)]
        fresh.sort(key=lambda e: (rows[e]["date"], e), reverse=True)
        new_entries = [ref(e) for e in fresh[:MAX_NEW]]

    links = strong_link_matrix(work, decisions, slugs)
    matrix, silo = period_matrix(links, rows, since, until)
    brief = Brief(
        title=kb.config.title, lang=lang, made=today or dt.date.today().isoformat(), since=since, until=until,
        areas=areas, area_names={s: a.name for s, a in kb.config.areas.items()}, theme=theme or None,
        counts={t: counts[t] for t in ENTRY_TYPES if counts[t]}, scope_ids=scope,
        obstacles=obstacles, synergies=synergies, conflicts=conflicts, last_brief=last_brief,
        new_entries=new_entries, questions=[], matrix=matrix, silo_index=silo,
    )
    brief.questions = discussion_questions(brief)
    return brief


def brief_with_pictures(kb, **options) -> tuple[Brief, dict]:
    """The brief and its three figures (map, heatmap, timeline), from one corpus load."""
    corpus = load_corpus(kb)
    brief = compose_brief(kb, corpus=corpus, **options)
    return brief, brief_figures(brief, corpus)


def in_period(date: str, since: str | None, until: str | None) -> bool:
    return (not since or date >= since) and (not until or date <= until)


def subset_corpus(corpus: Corpus, keep: set[str]) -> Corpus:
    """The same corpus restricted to ``keep`` (the analyses then see only those entries)."""
    positions = [i for i, e in enumerate(corpus.ids) if e in keep]
    renumber = {old: new for new, old in enumerate(positions)}
    return Corpus(
        ids=[corpus.ids[i] for i in positions],
        rows={corpus.ids[i]: corpus.rows[corpus.ids[i]] for i in positions},
        vectors=corpus.vectors[positions] if positions else corpus.vectors[:0],
        sections=[replace(s, entry=renumber[s.entry]) for s in corpus.sections if s.entry in renumber],
        area_names=dict(corpus.area_names),
    )


def period_matrix(links: AreaLinks, rows: dict, since: str | None, until: str | None):
    """The strong-link matrix counting only links that appeared in the period (the newer
    entry of the pair is dated in it), and the silo index from those counts."""
    matrix = {a: {b: 0 for b in links.areas} for a in links.areas}
    for a, b in links.links:
        if not in_period(max(rows[a]["date"], rows[b]["date"]), since, until):
            continue
        x, y = rows[a]["area"], rows[b]["area"]
        for p, q in ((x, y), (y, x)) if x != y else ((x, y),):
            matrix.setdefault(p, {}).setdefault(q, 0)
            matrix[p][q] += 1
    silo: dict[str, float | None] = {}
    for a in links.areas:
        total = sum(matrix[a].values())
        silo[a] = (total - matrix[a].get(a, 0)) / total if total else None
    return matrix, silo


def _ref_maker(rows: dict):
    def ref(entry_id: str) -> EntryRef:
        row = rows[entry_id]
        return EntryRef(
            id=entry_id, title=row["title"], area=row["area"], type=row["type"], date=row["date"],
            sprint=row.get("sprint"), path=row.get("path"), quote=entry_quote(row.get("body") or "", QUOTE_CHARS),
        )

    return ref


def discussion_questions(brief: Brief) -> list[str]:
    """Questions for the session: templates filled in with what the brief found (no
    language model)."""
    q = texts(brief.lang)
    name = brief.area_name
    out: list[str] = []
    for o in brief.obstacles[:2]:
        if len(o.area_counts) >= 2:
            out.append(q["brief_question_obstacle"].format(
                label=o.label, n_areas=len(o.area_counts), areas=", ".join(name(a) for a in o.area_counts),
                first=o.first_seen, last=o.last_seen))
        elif o.recurring:
            out.append(q["brief_question_obstacle_one_area"].format(label=o.label, count=o.count,
                                                     areas=name(next(iter(o.area_counts)))))
    for s in brief.synergies[:2]:
        out.append(q["brief_question_synergy"].format(area_a=name(s.a.area), area_b=name(s.b.area), title_a=s.a.title,
                                       title_b=s.b.title))
    for c in brief.conflicts[:1]:
        out.append(q["brief_question_conflict"].format(title=c.entry.title, areas=" ↔ ".join(name(a) for a in c.areas)))
    ranked = sorted(((v, a) for a, v in brief.silo_index.items() if v is not None
                     and (not brief.areas or a in brief.areas)))
    if ranked and len(brief.silo_index) > 1:
        value, area = ranked[0]
        out.append(q["brief_question_silo"].format(area=name(area), share=f"{value * 100:.0f} %"))
    if brief.new_entries:
        out.append(q["brief_question_new"].format(count=len(brief.new_entries)))
    return out[:MAX_QUESTIONS] or [q["brief_question_fallback"]]


# --- the last brief -----------------------------------------------------------------------
def last_brief_path(config) -> Path:
    return config.state_dir / LAST_BRIEF_FILE


def read_last_brief(config) -> str | None:
    """The date of the last brief written to a file (None if there was none)."""
    try:
        data = json.loads(last_brief_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("date") if isinstance(data, dict) else None
    return str(value) if value else None


def record_brief(config, brief: Brief, output: Path | None = None) -> None:
    data = {"date": brief.made, "since": brief.since, "until": brief.until, "areas": brief.areas,
            "theme": brief.theme, "output": str(output) if output else None}
    atomic_write_text(last_brief_path(config), json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# --- links ------------------------------------------------------------------------------------
@dataclass
class Links:
    """How a rendered brief links to entries: Datasette pages if ``base_url`` is set, else
    paths to the entry files relative to ``out_dir`` (the folder of the written file)."""
    root: Path
    out_dir: Path | None = None
    base_url: str | None = None

    def entry(self, ref: EntryRef) -> str:
        if self.base_url is not None:
            return f"{self.base_url.rstrip('/')}/-/kb/entry/{url_quote(ref.id, safe='')}"
        target = Path(self.root) / (ref.path or f"entries/{ref.area}/{ref.id}.md")
        start = Path(self.out_dir) if self.out_dir else Path(self.root)
        relative = os.path.relpath(target.resolve(), start.resolve())
        return url_quote(relative.replace(os.sep, "/"))

    @property
    def web(self) -> bool:
        return self.base_url is not None


# --- rendering -------------------------------------------------------------------------------
def period_text(brief: Brief) -> str:
    t = texts(brief.lang)
    return f"{brief.since or t['brief_from_start']} – {brief.until or t['brief_until_now']}"


def scope_text(brief: Brief) -> str:
    t = texts(brief.lang)
    if not brief.areas:
        return f"{t['brief_all_areas']} ({len(brief.area_names)})"
    return ", ".join(brief.area_name(a) for a in brief.areas)


def counts_text(brief: Brief) -> str:
    t = texts(brief.lang)
    parts = [f"{n} {t.get(f'entry_type_plural_{kind}', kind)}" for kind, n in brief.counts.items()]
    return f"{brief.total} {t['brief_in_scope']}" + (": " + ", ".join(parts) if parts else "")


def spread_text(brief: Brief, o: ObstacleItem) -> str:
    areas = ", ".join(f"{brief.area_name(a)} ({n})" for a, n in o.area_counts.items())
    sprints = " → ".join([o.sprints[0], o.sprints[-1]]) if len(o.sprints) > 1 else "".join(o.sprints)
    when = f"{o.first_seen} – {o.last_seen}" + (f", {sprints}" if sprints else "")
    return f"{areas}; {when}"


def _md_escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def render_markdown(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> str:
    """The brief as Markdown. ``pictures``: name -> relative path of an image to show."""
    t = texts(brief.lang)
    pictures = pictures or {}
    name = brief.area_name

    def link(ref: EntryRef) -> str:
        return f"[{_md_escape(ref.title)}]({links.entry(ref)})"

    def picture(key: str) -> list[str]:
        caption = t[f"brief_figure_{key}"]
        return [f"![{caption}]({pictures[key]})", ""] if key in pictures else []

    lines = [f"# {t['brief_title']} – {brief.title}", ""]
    lines.append(f"**{t['brief_period']}:** {period_text(brief)}"
                 + f" · **{t['areas_heading']}:** {scope_text(brief)}"
                 + (f" · **{t['brief_theme']}:** {brief.theme}" if brief.theme else "")
                 + f" · **{t['brief_made']}:** {brief.made}  ")
    lines += [counts_text(brief) + ". " + t["brief_links_note"].format(
        what=t["brief_links_web"] if links.web else t["brief_links_files"]), ""]
    lines += picture("map")

    lines += [f"## {t['brief_obstacles_heading']}", "", t["brief_obstacles_intro"], ""]
    lines += picture("timeline")
    for k, o in enumerate(brief.obstacles, start=1):
        state = t["obstacles_recurring"] if o.recurring else t["brief_once"]
        lines += [f"### {k}. {o.label} ({o.count}, {state})", "",
                  f"*{t['brief_spread']}:* {spread_text(brief, o)}", ""]
        for e in o.entries:
            lines.append(f"- {e.date} · {name(e.area)} · {link(e)}")
        lines.append("")
    if not brief.obstacles:
        lines += [t["selection_empty"], ""]

    lines += [f"## {t['brief_synergies_heading']}", "", t["brief_synergies_intro"], ""]
    lines += picture("heatmap")
    for k, s in enumerate(brief.synergies, start=1):
        status = t[f"link_status_{s.status}"]
        lines += [f"### {k}. {name(s.a.area)} ↔ {name(s.b.area)} ({status}, {s.score:.2f})", ""]
        for e in (s.a, s.b):
            lines.append(f"- {link(e)} ({name(e.area)}, {e.date})")
            if e.quote:
                lines.append(f"  > {e.quote}")
        if s.reasons:
            lines += ["", f"*{t['link_why']}:* " + "; ".join(s.reasons)]
        lines.append("")
    if not brief.synergies:
        lines += [t["selection_empty"], ""]

    lines += [f"## {t['brief_conflicts_heading']}", ""]
    for c in brief.conflicts:
        lines.append(f"- {link(c.entry)} ({c.entry.date}) – {t['brief_touches']} "
                     + " ↔ ".join(name(a) for a in c.areas))
        if c.entry.quote:
            lines.append(f"  > {c.entry.quote}")
    lines += ([] if brief.conflicts else [t["selection_empty"]]) + [""]

    lines += [f"## {t['brief_new_heading']}" + (f" ({brief.last_brief})" if brief.last_brief else ""), ""]
    if not brief.last_brief:
        lines.append(t["brief_new_none_before"])
    elif not brief.new_entries:
        lines.append(t["brief_new_nothing"].format(date=brief.last_brief))
    for e in brief.new_entries:
        lines.append(f"- {e.date} · {name(e.area)} · {link(e)}")
    lines += ["", f"## {t['brief_questions_heading']}", ""]
    lines += [f"{k}. {q}" for k, q in enumerate(brief.questions, start=1)]
    return "\n".join(lines).rstrip() + "\n"


def _jinja_env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def brief_context(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> dict:
    return {
        "b": brief, "t": texts(brief.lang), "links": links, "pictures": pictures or {},
        "name": brief.area_name, "period": period_text(brief), "scope": scope_text(brief),
        "counts": counts_text(brief), "spread": lambda o: spread_text(brief, o),
        "area_index": {slug: k for k, slug in enumerate(brief.area_names)},
    }


def render_html_fragment(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> str:
    """The brief's body (no <html>, no styles, no scripts): for the Datasette page."""
    return _jinja_env().get_template("brief_body.html").render(**brief_context(brief, links, pictures))


def render_html(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> str:
    """A single self-contained HTML file (CSS in a <style> element, pictures as data: URIs,
    no script) laid out for printing on A4."""
    env = _jinja_env()
    body = env.get_template("brief_body.html").render(**brief_context(brief, links, pictures))
    return env.get_template("brief_document.html").render(
        lang=brief.lang, title=f"{text('brief_title', brief.lang)} – {brief.title}", body=body,
        css=(TEMPLATES_DIR / "brief_print.css").read_text(encoding="utf-8"),
    )


@dataclass
class Written:
    text: str  # the document (also when it was written to a file)
    brief: Brief
    files: list[Path] = field(default_factory=list)


def make_document(kb, *, fmt: str = "md", output: Path | None = None, base_url: str | None = None,
                  pictures: bool = True, **options) -> Written:
    """Compose the brief and render it as ``md`` or ``html``. With ``output`` the file is
    written atomically; Markdown then gets its pictures (PNG) in ``<stem>-pictures/`` next
    to it, HTML always embeds them (SVG data: URIs), so the one file is the whole handout."""
    output = Path(output) if output else None
    links = Links(kb.config.root, out_dir=output.parent if output else None, base_url=base_url)
    if pictures and (fmt == "html" or output):
        brief, figures = brief_with_pictures(kb, **options)
    else:
        brief, figures = compose_brief(kb, **options), {}
    files: list[Path] = []
    if fmt == "html":
        sources = {name: data_uri(figure_bytes(fig, "svg"), "image/svg+xml") for name, fig in figures.items()}
        text = render_html(brief, links, sources)
    else:
        sources = {}
        if figures and output:
            folder = output.parent / f"{output.stem}-pictures"
            files += write_pictures(figures, folder, formats=("png", "svg"))
            sources = {name: url_quote(f"{folder.name}/{name}.png") for name in figures}
        text = render_markdown(brief, links, sources)
    if output:
        atomic_write_text(output, text)
        files.insert(0, output)
    return Written(text=text, brief=brief, files=files)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


__all__ = [
    "Brief", "Links", "compose_brief", "render_markdown", "render_html", "render_html_fragment",
    "read_last_brief", "record_brief",
]
