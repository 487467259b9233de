"""``kb report --year YYYY``: what each transition area learned in a year, as input to the
yearly revision of Klimatkontrakt 2030.

Per area: entries by type, the main lessons (lessons, enablers and ideas, the ones that
other areas' entries echo first: a lesson that crosses areas matters more for the
contract), the obstacles that need regional/national/EU policy changes (the ``policy``
key), and the area's roadmap actions with the year's entries that cite them. Library
first: :func:`yearly_report` returns data; :func:`render_markdown`/:func:`render_html`
format it, with the same :class:`search.brief.Links` as the brief.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote as url_quote

from analysis.corpus import load_corpus
from analysis.links import find_synergies
from analysis.loop import entries_from_index, load_loop, loop_figures
from analysis.obstacles import group_obstacles
from indexer.roadmaps import load_roadmaps
from kb.core.config import ENTRY_TYPES
from kb.core.decisions import load_decisions
from kb.core.files import atomic_write_text
from kb.core.texts import DEFAULT_LANGUAGE, texts
from reports.rendering import TEMPLATES_DIR, EntryRef, Links, entry_refs, jinja_env, md_text

MAIN_LESSONS = 5
LESSON_TYPES = ("lesson", "enabler", "idea")


@dataclass
class Lesson:
    entry: EntryRef
    echoes: int  # how many cross-area synergies (confirmed or suggested) it takes part in


@dataclass
class PolicyNeed:
    entry: EntryRef
    levels: list[str]


@dataclass
class ObstacleYear:
    """A recurring obstacle group the area met during the year, by its kept id."""
    id: str | None
    label: str
    areas: list[str]  # every area that met it during the year
    entries: list[EntryRef]  # the area's own entries in it


@dataclass
class ActionYear:
    id: str
    title: str
    status: str
    actor: str | None
    roadmap_path: str
    entries: list[EntryRef] = field(default_factory=list)


@dataclass
class LoopAction:
    """An action that followed up lessons of the area during the year."""

    id: str
    title: str
    owner: str
    status: str
    outcome: list[str]  # what acting changed: roadmap, routine, policy
    lessons: list[EntryRef]  # the area's lessons it answers


@dataclass
class AreaYear:
    slug: str
    name: str
    counts: dict[str, int]
    lessons: list[Lesson]
    policy: list[PolicyNeed]
    actions: list[ActionYear]
    loop: list[LoopAction] = field(default_factory=list)
    figures: dict = field(default_factory=dict)  # analysis.loop.LoopFigures.to_dict()
    obstacles: list[ObstacleYear] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class SharedAction:
    """A validated, public action with its public lessons: one of the year's "most pressing
    experiences to share" (Klimatkontrakt 2030, "Mest angelägna erfarenheter att dela")."""

    id: str
    title: str
    owner: str
    validated: str  # when (ISO date)
    outcome: list[str]  # what acting changed: roadmap, routine, policy
    evidence: str
    lessons: list[EntryRef]  # the public ones only
    areas: list[str]  # the areas of those lessons
    echoes: int  # cross-area synergies its lessons take part in


@dataclass
class YearReport:
    year: int
    title: str
    lang: str
    areas: list[AreaYear]
    figures: dict = field(default_factory=dict)  # the loop's figures for the whole year
    sharing: list[SharedAction] = field(default_factory=list)  # most pressing experiences to share

    @property
    def total(self) -> int:
        return sum(a.total for a in self.areas)

    def to_dict(self) -> dict:
        return asdict(self)


def yearly_report(kb, year: int, *, areas=(), lang: str = DEFAULT_LANGUAGE) -> YearReport:
    corpus = load_corpus(kb)
    rows = corpus.rows
    ref = entry_refs(rows)
    prefix = f"{int(year):04d}-"
    in_year = sorted((e for e in corpus.ids if str(rows[e]["date"]).startswith(prefix)),
                     key=lambda e: (rows[e]["date"], e))
    echoes: Counter = Counter()
    for s in find_synergies(corpus, load_decisions(kb.config.root), limit=None):
        if s.status != "rejected":
            echoes[s.a] += 1
            echoes[s.b] += 1
    roadmaps = load_roadmaps(kb.config).by_area
    loop = load_loop(kb.config, entries=entries_from_index(kb), audience=kb.audience).watch(kb, corpus=corpus)
    since, until = f"{int(year):04d}-01-01", f"{int(year):04d}-12-31"
    active = [a for a in loop.actions if any(since <= c.date <= until for c in a.history)]
    groups = [g for g in group_obstacles(corpus, kb.config, since=since, until=until) if g.recurring]
    out = []
    for slug, area in kb.config.areas.items():
        if areas and slug not in areas:
            continue
        mine = [e for e in in_year if rows[e]["area"] == slug]
        counts = Counter(rows[e]["type"] for e in mine)
        lessons = sorted((e for e in mine if rows[e]["type"] in LESSON_TYPES),
                         key=lambda e: (-echoes[e], rows[e]["date"], e))
        policy = [PolicyNeed(ref(e), list(rows[e].get("policy") or [])) for e in mine if rows[e].get("policy")]
        actions = []
        roadmap = roadmaps.get(slug)
        for action in roadmap.actions if roadmap else []:
            citing = [ref(e) for e in in_year if action.id in (rows[e].get("roadmap") or [])]
            actions.append(ActionYear(action.id, action.title, action.status, action.actor,
                                      roadmap.rel_path, citing))
        acted = [LoopAction(a.id, a.title, a.owner, a.status, list(a.outcome),
                            [ref(e) for e in a.lessons if e in rows and rows[e]["area"] == slug])
                 for a in active]
        out.append(AreaYear(
            slug=slug, name=area.name, counts={t: counts[t] for t in ENTRY_TYPES if counts[t]},
            lessons=[Lesson(ref(e), echoes[e]) for e in lessons[:MAIN_LESSONS]],
            policy=policy, actions=actions, loop=[a for a in acted if a.lessons],
            figures=loop_figures(loop, since=since, until=until, areas=[slug]).to_dict(),
            obstacles=[ObstacleYear(g.id, g.label, g.areas, [ref(e) for e in g.entries if rows[e]["area"] == slug])
                       for g in groups if slug in g.areas],
        ))
    return YearReport(year=int(year), title=kb.config.title, lang=lang, areas=out,
                      figures=loop_figures(loop, since=since, until=until, areas=areas or ()).to_dict(),
                      sharing=experiences_to_share(loop, rows, ref, echoes, since, until, areas))


def experiences_to_share(loop, rows: dict, ref, echoes: Counter, since: str, until: str,
                         areas=()) -> list[SharedAction]:
    """The actions validated in the period that are ``public``, each with its ``public``
    lessons (an action whose lessons are all internal or partner is not listed: there would
    be nothing to share but its title), most pressing first: those whose lessons span more
    areas, then whose lessons more cross-area synergies echo, then what changed the most
    (a policy, a routine, a roadmap), then the newest."""
    out = []
    for action in loop.actions:
        validated = action.changed_on("validated")
        if action.status != "validated" or action.visibility != "public" or not validated \
                or not since <= validated <= until:
            continue
        public = [e for e in action.lessons if e in rows and rows[e].get("visibility") == "public"]
        touched = sorted({rows[e]["area"] for e in public})
        if not public or (areas and not set(areas) & set(touched)):
            continue
        out.append(SharedAction(id=action.id, title=action.title, owner=action.owner, validated=validated,
                                outcome=list(action.outcome), evidence=action.evidence,
                                lessons=[ref(e) for e in public], areas=touched,
                                echoes=sum(echoes[e] for e in public)))
    out.sort(key=lambda a: (a.validated, a.id), reverse=True)  # the newest first among equals (a stable sort)
    out.sort(key=lambda a: (-len(a.areas), -a.echoes, -len(a.outcome)))
    return out


def changed_text(action, lang: str) -> str:
    """What acting changed, as a phrase ("ändrade rutin, färdplan"), or ""."""
    t = texts(lang)
    changed = ", ".join(t[f"outcome_{o}"] for o in action.outcome)
    return t["report_changed"].format(what=changed) if changed else ""


def figure_lines(figures: dict, lang: str) -> list[str]:
    """The loop's figures as sentences (leaving out what cannot be computed)."""
    t = texts(lang)
    lines = []
    if figures.get("obstacles"):
        lines.append(t["report_figure_share"].format(n=figures["obstacles_with_action"], total=figures["obstacles"],
                                                     share=f"{figures['share_with_action'] * 100:.0f} %"))
    if figures.get("median_days_to_action") is not None:
        lines.append(t["report_figure_days"].format(days=f"{figures['median_days_to_action']:.0f}"))
    lines.append(t["report_figure_overdue"].format(n=figures.get("overdue", 0)))
    if figures.get("validated") and figures.get("validated_recurred") is not None:
        lines.append(t["report_figure_validated_recurred"].format(
            n=figures["validated"], held=figures["validated_held"], recurred=figures["validated_recurred"]))
    else:
        lines.append(t["report_figure_validated"].format(n=figures.get("validated", 0)))
    return lines


def loop_action_text(action: LoopAction, lang: str) -> str:
    t = texts(lang)
    changed = ", ".join(t[f"outcome_{o}"] for o in action.outcome)
    return (f"{action.title} ({action.owner}; {t['action_status_' + action.status]}"
            + (f"; {t['report_changed'].format(what=changed)}" if changed else "") + ")")


def action_link(links: Links, action: ActionYear) -> str:
    if links.base_url is not None:
        return f"{links.base_url.rstrip('/')}/-/kb/roadmaps/{url_quote(action.id, safe='')}"
    start = Path(links.out_dir) if links.out_dir else Path(links.root)
    relative = os.path.relpath((Path(links.root) / action.roadmap_path).resolve(), start.resolve())
    return url_quote(relative.replace(os.sep, "/"))


def _counts_text(area: AreaYear, lang: str) -> str:
    t = texts(lang)
    return ", ".join(f"{n} {t.get(f'entry_type_plural_{kind}', kind)}" for kind, n in area.counts.items())


def render_markdown(report: YearReport, links: Links) -> str:
    t = texts(report.lang)
    lines = [f"# {t['report_title'].format(year=report.year)} – {md_text(report.title)}", "",
             t["report_intro"].format(total=report.total, year=report.year), ""]
    lines += [f"**{t['report_figures']}:** " + " · ".join(figure_lines(report.figures, report.lang)), ""]

    def link(e: EntryRef) -> str:
        return f"[{md_text(e.title)}]({links.entry(e)})"

    for area in report.areas:
        lines += [f"## {md_text(area.name)}", ""]
        if not area.total:
            lines += [t["report_none"].format(year=report.year), ""]
        else:
            lines += [f"**{t['report_counts']}:** {_counts_text(area, report.lang)}", ""]
            lines += [f"### {t['report_lessons']}", "", t["report_lessons_note"], ""]
            for lesson in area.lessons:
                echoed = f" – {t['report_echoed'].format(n=lesson.echoes)}" if lesson.echoes else ""
                lines.append(f"- {lesson.entry.date} · {link(lesson.entry)}{echoed}")
                if lesson.entry.quote:
                    lines.append(f"  > {md_text(lesson.entry.quote)}")
            lines += ([] if area.lessons else [t["report_nothing"]]) + [""]
            lines += [f"### {t['report_policy']}", ""]
            for need in area.policy:
                levels = ", ".join(t.get(f"report_level_{level}", level) for level in need.levels)
                lines.append(f"- {link(need.entry)} ({need.entry.type}; {levels})")
            lines += ([] if area.policy else [t["report_nothing"]]) + [""]
            lines += [f"### {t['report_obstacles']}", "", t["report_obstacles_note"], ""]
            for o in area.obstacles:
                met = t["report_obstacle_areas"].format(areas=", ".join(report_area_name(report, a) for a in o.areas))
                lines.append(f"- {md_text(o.id) + ' · ' if o.id else ''}{md_text(o.label)} ({md_text(met)})")
                lines.append("  " + ", ".join(link(e) for e in o.entries))
            lines += ([] if area.obstacles else [t["report_nothing"]]) + [""]
            lines += [f"### {t['report_loop']}", "", t["report_loop_note"], ""]
            for action in area.loop:
                lines.append(f"- {md_text(loop_action_text(action, report.lang))}")
                lines.append(f"  {t['action_lessons']}: " + ", ".join(link(e) for e in action.lessons))
            lines += ([] if area.loop else [t["report_nothing"]]) + [""]
            lines += [f"*{t['report_figures']}:* " + " · ".join(figure_lines(area.figures, report.lang)), ""]
        if area.actions:
            lines += [f"### {t['report_actions']}", ""]
            for action in area.actions:
                status = t.get(f"roadmap_status_{action.status}", action.status)
                actor = f", {t['report_actor']}: {md_text(action.actor)}" if action.actor else ""
                none = "" if action.entries else f" – {t['report_no_entries'].format(year=report.year)}"
                lines.append(f"- [{md_text(action.id)}]({action_link(links, action)}) {md_text(action.title)} "
                             f"({status}{actor}){none}")
                for e in action.entries:
                    lines.append(f"  - {e.date} · {link(e)}")
            lines.append("")
    lines += sharing_markdown(report, link)
    return "\n".join(lines).rstrip() + "\n"


def sharing_markdown(report: YearReport, link) -> list[str]:
    """The section for Klimatkontrakt 2030's "Mest angelägna erfarenheter att dela"."""
    t = texts(report.lang)
    lines = [f"## {t['report_sharing']}", "", t["report_sharing_note"], ""]
    for k, action in enumerate(report.sharing, start=1):
        changed = changed_text(action, report.lang)
        lines += [f"### {k}. {md_text(action.title)}", "",
                  f"{md_text(action.owner)}; " + t["action_validated_on"].format(date=action.validated)
                  + (f"; {changed}" if changed else "") + ".", ""]
        if action.evidence:
            lines += [f"> {md_text(action.evidence)}", ""]
        lines.append(f"{t['action_lessons']}: " + ", ".join(link(e) for e in action.lessons))
        lines.append("")
    if not report.sharing:
        lines += [t["report_sharing_none"].format(year=report.year), ""]
    return lines


def report_area_name(report: YearReport, slug: str) -> str:
    return next((a.name for a in report.areas if a.slug == slug), slug)


def render_html(report: YearReport, links: Links) -> str:
    env = jinja_env()
    t = texts(report.lang)
    body = env.get_template("report_body.html").render(
        r=report, t=t, links=links, action_link=lambda a: action_link(links, a),
        area_names=lambda slugs: ", ".join(report_area_name(report, a) for a in slugs),
        counts=lambda a: _counts_text(a, report.lang),
        figures=lambda f: figure_lines(f, report.lang), loop_action=lambda a: loop_action_text(a, report.lang),
        changed=lambda a: changed_text(a, report.lang),
    )
    return env.get_template("brief_document.html").render(
        lang=report.lang, title=t["report_title"].format(year=report.year) + f" – {report.title}", body=body,
        css=(TEMPLATES_DIR / "brief_print.css").read_text(encoding="utf-8"),
    )


def write_document(report: YearReport, *, fmt: str = "md", output: Path | None = None,
                   base_url: str | None = None, root: Path) -> str:
    """Render the report (``md`` or ``html``); with ``output`` write it atomically."""

    output = Path(output) if output else None
    links = Links(root, out_dir=output.parent if output else None, base_url=base_url)
    text = (render_html if fmt == "html" else render_markdown)(report, links)
    if output:
        atomic_write_text(output, text)
    return text


__all__ = ["YearReport", "write_document", "yearly_report", "render_markdown", "render_html"]
