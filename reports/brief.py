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
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote as url_quote

from analysis.conflicts import find_conflicts, roadmap_areas
from analysis.corpus import Corpus, load_corpus
from analysis.links import AreaLinks, find_synergies, strong_link_matrix, strongest
from analysis.loop import Loop, entries_from_index, load_loop
from analysis.obstacles import group_obstacles, obstacle_ref
from analysis.reasons import render_reasons
from analysis.recurrence import how_text, validated_on
from kb.core.config import ENTRY_TYPES
from kb.core.decisions import load_decisions
from kb.core.files import atomic_write_text
from kb.core.palette import area_colours, area_css
from kb.core.texts import DEFAULT_LANGUAGE, counted, text, texts
from reports.cities import CityItem, cities_markdown, city_items, other_link
from reports.pictures import brief_figures, figure_bytes, write_pictures
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
from search.filters import Filters

MAX_OBSTACLES = 6
MAX_SYNERGIES = 15  # a page budget; how many the brief shows is analysis.links.strongest's
MAX_CONFLICTS = 6
MAX_NEW = 15
MAX_QUESTIONS = 9
THEME_ENTRIES = 15  # how many entries near a --theme make up the brief's world


# --- the data --------------------------------------------------------------------------
@dataclass
class ObstacleItem:
    id: str | None  # the group's kept id (obstacles.md)
    label: str
    recurring: bool
    count: int
    first_seen: str
    last_seen: str
    area_counts: dict[str, int]  # spread over areas
    sprints: list[str]  # spread over time
    entries: list[EntryRef]
    actions: int = 0  # actions citing any of its entries (0: nobody acts on it yet)
    new: list[str] = field(default_factory=list)  # its entries logged in the period (what recurred)


@dataclass
class RecurredItem:
    """A validated action whose obstacle came back in the period, with the entries that did."""
    action: ActionItem
    entries: list[EntryRef]
    how: dict[str, str]  # entry id -> how it came back, in words


@dataclass
class QuestionItem:
    id: str
    question: str
    owner: str
    opened: str
    age_days: int
    sessions_open: int
    own_session: bool  # open long enough to deserve a session of its own


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
    next_session: str | None = None
    follow_up: list[ActionItem] = field(default_factory=list)  # overdue or due before next_session
    agenda: list[QuestionItem] = field(default_factory=list)  # open learning questions
    validated: list[ActionItem] = field(default_factory=list)  # validated since the last session
    area_colours: dict[str, str] = field(default_factory=dict)  # slug -> its one colour (kb.core.palette)
    other_cities: list[CityItem] = field(default_factory=list)  # "Från andra städer" (reports.cities)
    followed: list[dict] = field(default_factory=list)  # the followed cities' publications
    recurred: list[RecurredItem] = field(default_factory=list)  # "Återkommer trots validerad åtgärd"
    validated_total: int = 0  # validated actions (of the areas) by the period's end: held + recurred
    recurred_total: int = 0  # of them, those whose obstacle came back by the period's end (in it or before)

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
    next_session: str | None = None,
) -> Brief:
    """Everything a facilitator needs for the next learning session, as data.

    ``theme``: only the entries the search finds nearest to it take part. ``last_brief``:
    the date of the last learning session; entries dated after it are listed as new, and
    actions validated after it. ``next_session``: the date of the next one (default: from
    the rhythm of the sessions held), before which open actions fall due."""
    corpus = corpus if corpus is not None else load_corpus(kb)
    decisions = load_decisions(kb.config.root)
    areas = [a for a in (areas or ()) if a]
    work = corpus
    if theme:
        # the theme's world is its nearest entries, close matches or not
        hits = kb.search(theme, filters=Filters(since=since, until=until), limit=theme_size, show="all")
        work = subset_corpus(corpus, {r.id for r in hits})
    rows = work.rows

    def in_scope(row: dict) -> bool:
        return (not areas or row["area"] in areas) and in_period(row["date"], since, until)

    scope = [e for e in work.ids if in_scope(rows[e])]
    counts = Counter(rows[e]["type"] for e in scope)
    ref = entry_refs(rows)

    made = today or dt.date.today().isoformat()
    loop = load_loop(kb.config, entries=entries_from_index(kb), today=dt.date.fromisoformat(made),
                     audience=kb.audience)
    # the groups of the whole knowledge base (their ids are kept) met in the period: one of
    # their entries is new, however old the others
    groups = group_obstacles(corpus, kb.config, since=since, until=until, areas=areas or None,
                             within=set(work.ids) if theme else None)
    obstacles = [
        ObstacleItem(
            id=g.id, label=g.label, recurring=g.recurring, count=g.count, first_seen=g.first_seen, last_seen=g.last_seen,
            area_counts=dict(Counter(rows[e]["area"] for e in g.entries).most_common()),
            sprints=g.sprints, entries=[ref(e) for e in g.entries],
            actions=len({a.id for e in g.entries for a in loop.citing(e)}),
            new=[e for e in g.entries if in_scope(rows[e])],
        )
        for g in groups[:MAX_OBSTACLES]
    ]

    found = find_synergies(work, decisions, limit=None, areas=areas or None, since=since)
    names = kb.config.area_names()
    period_pairs = [s for s in found if not until or max(rows[s.a]["date"], rows[s.b]["date"]) <= until]
    synergies = [
        SynergyItem(status=s.status, score=round(float(s.score), 3), a=ref(s.a), b=ref(s.b),
                    reasons=render_reasons(s.reasons, lang, names))
        for s in strongest(period_pairs)[:MAX_SYNERGIES]
    ]

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
    next_session = next_session or loop.next_session().isoformat()
    brief = Brief(
        title=kb.config.title, lang=lang, made=made, since=since, until=until,
        areas=areas, area_names={s: a.name for s, a in kb.config.areas.items()}, theme=theme or None,
        area_colours={s: c.background for s, c in kb.config.area_colours().items()},
        counts={t: counts[t] for t in ENTRY_TYPES if counts[t]}, scope_ids=scope,
        obstacles=obstacles, synergies=synergies, conflicts=conflicts, last_brief=last_brief,
        new_entries=new_entries, questions=[], matrix=matrix, silo_index=silo, next_session=next_session,
        **loop_items(loop, corpus.rows, areas, last_brief, dt.date.fromisoformat(next_session)),
    )
    loop.watch(kb, corpus=corpus)
    brief.recurred, brief.validated_total, brief.recurred_total = recurred_items(
        loop, corpus.rows, areas, since, until, lang, within=set(work.ids) if theme else None)
    brief.other_cities, brief.followed = city_items(kb, ref, scope, lang)
    brief.questions = discussion_questions(brief)
    return brief


def loop_items(loop: Loop, rows: dict, areas: list[str], last_session: str | None,
               next_session: dt.date) -> dict:
    """The brief's part of the learning loop, within its areas: actions to follow up,
    learning questions on the agenda, actions validated since the last session."""
    ref = entry_refs(rows)

    def in_areas(area_list: list[str]) -> bool:
        return not areas or not area_list or bool(set(areas) & set(area_list))

    def item(action) -> ActionItem:
        return action_item(action, loop.today, ref, rows)

    questions = []
    for q in sorted(loop.agenda.open, key=lambda q: (q.opened, q.id)):
        if not in_areas([rows[e]["area"] for e in q.entries if e in rows]):
            continue
        data = loop.question_dict(q)
        questions.append(QuestionItem(id=q.id, question=q.question, owner=q.owner, opened=data["opened"],
                                      age_days=data["age_days"], sessions_open=data["sessions_open"],
                                      own_session=data["needs_own_session"]))
    return {
        "follow_up": [item(a) for a in loop.to_follow_up(next_session) if in_areas(loop.areas_of(a))],
        "agenda": questions,
        "validated": [item(a) for a in loop.validated_since(last_session) if in_areas(loop.areas_of(a))],
    }


def recurred_items(loop: Loop, rows: dict, areas: list[str], since: str | None, until: str | None,
                   lang: str, within: set[str] | None = None) -> tuple[list[RecurredItem], int, int]:
    """The validated actions (by the period's end) whose obstacle came back in the period, most
    recent first: an entry dated in it, on an action of the areas or logged in one of them (an
    obstacle another area's action answered, met here); and how many validated actions that
    makes, held or not (those of the areas and those listed), and how many of them did not hold:
    their obstacle came back by the period's end, in the period or before it."""
    ref = entry_refs(rows)
    titles = {e: row["title"] for e, row in rows.items()}
    items, total, not_held = [], 0, 0
    for action in loop.actions:
        validated = validated_on(action)
        if validated is None or (until and validated > until):
            continue
        own = loop.areas_of(action)
        mine = not areas or not own or bool(set(areas) & set(own))
        ever = [r for r in loop.recurred_of(action) if r.within(None, until) and r.entry in rows
                and (within is None or r.entry in within) and (mine or r.area in areas)]
        came_back = [r for r in ever if r.within(since, until)]
        total += mine or bool(came_back)
        not_held += bool(ever) and (mine or bool(came_back))
        if came_back:
            items.append(RecurredItem(action=action_item(action, loop.today, ref, rows),
                                      entries=[ref(r.entry) for r in came_back],
                                      how={r.entry: how_text(r, lang, titles=titles) for r in came_back}))
    items.sort(key=lambda item: (max(e.date for e in item.entries), item.action.id), reverse=True)
    return items, total, not_held


def brief_with_pictures(kb, **options) -> tuple[Brief, dict]:
    """The brief and its three figures (network, timeline, map), from one corpus load."""
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
        embed=corpus.embed,
        audience=corpus.audience,
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


def discussion_questions(brief: Brief) -> list[str]:
    """Questions for the session: templates filled in with what the brief found (no
    language model)."""
    q = texts(brief.lang)
    name = brief.area_name
    out: list[str] = []
    for o in brief.obstacles[:2]:
        if len(o.area_counts) >= 2:
            out.append(q["brief_question_obstacle"].format(
                obstacle=obstacle_ref(o.label, o.id, brief.lang), n_areas=len(o.area_counts), areas=", ".join(name(a) for a in o.area_counts),
                first=o.first_seen, last=o.last_seen))
        elif o.recurring:
            out.append(q["brief_question_obstacle_one_area"].format(
                obstacle=obstacle_ref(o.label, o.id, brief.lang), count=o.count,
                areas=name(next(iter(o.area_counts)))))
    for s in brief.synergies[:2]:
        out.append(q["brief_question_synergy"].format(area_a=name(s.a.area), area_b=name(s.b.area), title_a=s.a.title,
                                       title_b=s.b.title))
    for c in brief.conflicts[:1]:
        out.append(q["brief_question_conflict"].format(title=c.entry.title, areas=" ↔ ".join(name(a) for a in c.areas)))
    for item in [x for x in brief.other_cities if x.kind == "obstacle"][:1]:
        out.append(q["brief_question_city"].format(source=item.source, title=item.own.title,
                                                   other=item.other_title))
    for item in brief.recurred[:1]:
        first = item.entries[0]
        # the entry is listed, linked, right above; its title (in its own language) stays there
        out.insert(0, q["brief_question_recurred"].format(title=item.action.title, date=item.action.validated_on,
                                                          area=name(first.area), entry_date=first.date))
    for question in [x for x in brief.agenda if x.own_session][:1]:
        out.append(q["brief_question_own_session"].format(question=question.question, sessions=question.sessions_open))
    for action in [a for a in brief.follow_up if a.overdue][:1]:
        out.append(q["brief_question_overdue"].format(title=action.title, owner=action.owner, due=action.due))
    for o in [o for o in brief.obstacles if o.recurring and not o.actions][:1]:
        out.append(q["brief_question_no_action"].format(obstacle=obstacle_ref(o.label, o.id, brief.lang)))
    ranked = sorted(((v, a) for a, v in brief.silo_index.items() if v is not None
                     and (not brief.areas or a in brief.areas)))
    if ranked and len(brief.silo_index) > 1:
        value, area = ranked[0]
        out.append(q["brief_question_silo"].format(area=name(area), share=f"{value * 100:.0f} %"))
    if brief.new_entries:
        out.append(counted(q, len(brief.new_entries), "brief_question_new_one", "brief_question_new"))
    return out[:MAX_QUESTIONS] or [q["brief_question_fallback"]]


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


def render_markdown(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> str:
    """The brief as Markdown. ``pictures``: name -> relative path of an image to show. It
    opens with the actions to follow up, then what recurred; the map is an appendix."""
    t = texts(brief.lang)
    pictures = pictures or {}

    def name(slug: str) -> str:
        return md_text(brief.area_name(slug))

    def link(ref: EntryRef) -> str:
        return f"[{md_text(ref.title)}]({links.entry(ref)})"

    def picture(key: str) -> list[str]:
        caption = t[f"brief_figure_{key}"]
        return [f"![{caption}]({pictures[key]})", ""] if key in pictures else []

    lines = [f"# {t['brief_title']} – {md_text(brief.title)}", ""]
    lines.append(f"**{t['brief_period']}:** {period_text(brief)}"
                 + f" · **{t['areas_heading']}:** {md_text(scope_text(brief))}"
                 + (f" · **{t['brief_theme']}:** {md_text(brief.theme)}" if brief.theme else "")
                 + f" · **{t['brief_made']}:** {brief.made}  ")
    lines += [counts_text(brief) + ". " + t["brief_links_note"].format(
        what=t["brief_links_web"] if links.web else t["brief_links_files"]), ""]
    lines += follow_up_markdown(brief, link)
    lines += recurred_markdown(brief, link)

    intro = t["brief_obstacles_intro_since"].format(since=brief.since) if brief.since else t["brief_obstacles_intro"]
    lines += [f"## {t['brief_obstacles_heading']}", "", intro, ""]
    lines += picture("timeline")
    for o in brief.obstacles:
        state = t["obstacles_recurring"] if o.recurring else t["brief_once"]
        if o.recurring and not o.actions:
            state += f", **{t['obstacle_no_action']}**"
        lines += [f"### {md_text(o.id) + ' · ' if o.id else ''}{md_text(o.label)} ({o.count}, {state})", "",
                  f"*{t['brief_spread']}:* {md_text(spread_text(brief, o))}", ""]
        for e in o.entries:
            mark = f" · **{t['brief_new_mark']}**" if brief.since and e.id in o.new else ""
            lines.append(f"- {e.date} · {name(e.area)} · {link(e)}{mark}")
        lines.append("")
    if not brief.obstacles:
        lines += [t["selection_empty"], ""]

    lines += [f"## {t['brief_synergies_heading']}", "", t["brief_synergies_intro"], ""]
    lines += picture("network")
    for k, s in enumerate(brief.synergies, start=1):
        status = t[f"link_status_{s.status}"]
        lines += [f"### {k}. {name(s.a.area)} ↔ {name(s.b.area)} ({status}, {s.score:.2f})", ""]
        for e in (s.a, s.b):
            lines.append(f"- {link(e)} ({name(e.area)}, {e.date})")
            if e.quote:
                lines.append(f"  > {md_text(e.quote)}")
        if s.reasons:
            lines += ["", f"*{t['link_why']}:* " + "; ".join(md_text(r) for r in render_reasons(s.reasons, brief.lang, brief.area_names))]
        lines.append("")
    if not brief.synergies:
        lines += [t["selection_empty"], ""]

    lines += [f"## {t['brief_conflicts_heading']}", ""]
    for c in brief.conflicts:
        lines.append(f"- {link(c.entry)} ({c.entry.date}) – {t['brief_touches']} "
                     + " ↔ ".join(name(a) for a in c.areas))
        if c.entry.quote:
            lines.append(f"  > {md_text(c.entry.quote)}")
    lines += ([] if brief.conflicts else [t["selection_empty"]]) + [""]

    lines += cities_markdown(brief.other_cities, brief.followed, brief.lang, links, link, name)

    lines += [f"## {t['brief_new_heading']}" + (f" ({brief.last_brief})" if brief.last_brief else ""), ""]
    if not brief.last_brief:
        lines.append(t["brief_new_none_before"])
    elif not brief.new_entries:
        lines.append(t["brief_new_nothing"].format(date=brief.last_brief))
    for e in brief.new_entries:
        lines.append(f"- {e.date} · {name(e.area)} · {link(e)}")
    lines += ["", *loop_markdown(brief, link)]
    lines += [f"## {t['brief_questions_heading']}", ""]
    lines += [f"{k}. {md_text(q)}" for k, q in enumerate(brief.questions, start=1)]
    if "map" in pictures:
        lines += ["", f"## {t['brief_appendix_heading']}", "", t["brief_appendix_intro"], "", *picture("map")]
    return "\n".join(lines).rstrip() + "\n"


def action_markdown(brief: Brief, a: ActionItem, link) -> str:
    t = texts(brief.lang)
    late = f" – **{t['action_overdue']}**" if a.overdue else ""
    lessons = ", ".join(link(e) for e in a.lessons)
    return (f"- **{md_text(a.title)}** · {t['action_owner']}: {md_text(a.owner)} · "
            f"{t['action_due']} {a.due}{late} · {t['action_status_' + a.status]}"
            + (f"  \n  {t['action_lessons']}: {lessons}" if lessons else ""))


def follow_up_markdown(brief: Brief, link) -> list[str]:
    """The brief's first section: actions overdue or due before the next session."""
    t = texts(brief.lang)
    lines = [f"## {t['brief_follow_up_heading']}", "", t["brief_follow_up_intro"].format(date=brief.next_session), ""]
    lines += [action_markdown(brief, a, link) for a in brief.follow_up] or [t["brief_follow_up_nothing"]]
    return [*lines, ""]


def recurred_markdown(brief: Brief, link) -> list[str]:
    """Right after the actions to follow up: the validated actions whose obstacle came back
    in the period (none of it when nothing was validated yet)."""
    if not brief.validated_total:
        return []
    t = texts(brief.lang)
    lines = [f"## {t['recurrence_flag']}", "", t["brief_recurred_intro"] + " " + t["brief_recurred_counts"].format(
        n=brief.validated_total, held=brief.validated_total - brief.recurred_total, recurred=brief.recurred_total,
        in_period=len(brief.recurred)), ""]
    for item in brief.recurred:
        a = item.action
        lines.append(f"- **{md_text(a.title)}** ({md_text(a.owner)}, "
                     + t["action_validated_on"].format(date=a.validated_on) + ")")
        for e in item.entries:
            lines.append(f"  - {e.date} · {md_text(brief.area_name(e.area))} · {link(e)} – {md_text(item.how[e.id])}")
    if not brief.recurred:
        lines.append(t["brief_recurred_nothing"])
    return [*lines, ""]


def loop_markdown(brief: Brief, link) -> list[str]:
    """The brief's learning questions and what was validated, as Markdown lines."""
    t = texts(brief.lang)
    lines = [f"## {t['brief_agenda_heading']}", ""]
    for q in brief.agenda:
        flag = f" – **{t['question_own_session']}**" if q.own_session else ""
        lines.append(f"- **{md_text(q.question)}** ({md_text(q.owner)}; "
                     + t["question_open_since"].format(date=q.opened, days=q.age_days, sessions=q.sessions_open)
                     + f"){flag}")
    if not brief.agenda:
        lines.append(t["brief_agenda_nothing"])
    lines += ["", f"## {t['brief_validated_heading']}" + (f" ({brief.last_brief})" if brief.last_brief else ""), ""]
    for a in brief.validated:
        lines.append(f"- **{md_text(a.title)}** ({md_text(a.owner)}, "
                     + t["action_validated_on"].format(date=a.validated_on) + ")"
                     + (f"  \n  > {md_text(a.evidence)}" if a.evidence else ""))
    if not brief.validated:
        lines.append(t["brief_validated_nothing"].format(date=brief.last_brief) if brief.last_brief
                     else t["brief_validated_none_yet"])
    return [*lines, ""]


def brief_context(brief: Brief, links: Links, pictures: dict[str, str] | None = None, top: int = 1) -> dict:
    """The template's context; ``top`` is the level of the brief's own heading (2 inside a
    page that has its own <h1>)."""
    return {
        "b": brief, "t": texts(brief.lang), "links": links, "pictures": pictures or {}, "top": top,
        "reasons": lambda found: render_reasons(found, brief.lang, brief.area_names),
        "name": brief.area_name, "period": period_text(brief), "scope": scope_text(brief),
        "counts": counts_text(brief), "spread": lambda o: spread_text(brief, o),
        "obstacles_intro": (texts(brief.lang)["brief_obstacles_intro_since"].format(since=brief.since)
                            if brief.since else texts(brief.lang)["brief_obstacles_intro"]),
        "other_link": lambda item: other_link(links, item),
    }


def render_html_fragment(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> str:
    """The brief's body (no <html>, no styles, no scripts): for the Datasette page, whose
    <h1> is its own, so the brief's headings start at <h2>."""
    return jinja_env().get_template("brief_body.html").render(**brief_context(brief, links, pictures, top=2))


def render_html(brief: Brief, links: Links, pictures: dict[str, str] | None = None) -> str:
    """A single self-contained HTML file (CSS in a <style> element, pictures as data: URIs,
    no script) laid out for printing on A4."""
    env = jinja_env()
    body = env.get_template("brief_body.html").render(**brief_context(brief, links, pictures))
    return env.get_template("brief_document.html").render(
        lang=brief.lang, title=f"{text('brief_title', brief.lang)} – {brief.title}", body=body,
        css=(TEMPLATES_DIR / "brief_print.css").read_text(encoding="utf-8") + brief_area_css(brief),
    )


def brief_area_css(brief: Brief) -> str:
    """The areas' colours for a standalone brief (the pages serve the same rules)."""
    return area_css(area_colours(list(brief.area_colours), brief.area_colours))


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
]
