"""Roadmaps, policy needs and the mandate map: roadmap, policy, actors."""

from __future__ import annotations

import click

from analysis.actors import mandate_map
from analysis.policy import policy_needs, to_markdown
from analysis.roadmaps import roadmap_report
from kb.cli.options import (
    handle_errors,
    json_option,
    make_filters,
    model_option,
    open_kb,
    print_json,
    root_option,
)
from kb.core.texts import DEFAULT_LANGUAGE, counted, text, texts


def _type_label(t, entry_type: str) -> str:
    """An entry type, counted (lessons, hinder)."""
    return t.get(f"entry_type_plural_{entry_type}", entry_type)


@click.command()
@click.argument("key", metavar="[ID]", required=False)
@root_option
@model_option
@click.option("-n", "--suggestions", default=5, show_default=True, type=click.IntRange(0, 50),
              help="How many suggested links from other areas (per action).")
@json_option
@handle_errors
def roadmap(key, root, model, suggestions, as_json):
    """A roadmap (area slug) or one action (e.g. MOB-1): the entries that cite it, suggested
    links from other areas, the actors, and counts per sprint. No ID: all roadmaps."""
    kb = open_kb(root, model)
    report = roadmap_report(kb, key, suggestions=suggestions)
    if as_json:
        print_json(report if isinstance(report, list) else report.to_dict())
    elif isinstance(report, list):
        _echo_roadmap_overview(report, kb.config)
    else:
        _echo_roadmap_report(report.to_dict(), kb.config)


def _status(t, status: str) -> str:
    return t.get(f"roadmap_status_{status}", status)


def _echo_roadmap_overview(roadmaps: list[dict], config) -> None:
    t = texts(config.language)  # the words around the roadmaps speak the knowledge base's language
    if not roadmaps:
        click.echo(t["cli_no_roadmaps"], err=True)
    for r in roadmaps:
        click.echo(click.style(r["title"], bold=True) + f"  ({config.area_name(r['area'])}, {r['period'] or '–'}; "
                   f"{counted(t, r['count'], 'cli_roadmap_cited_one', 'cli_roadmap_cited')})")
        for a in r["actions"]:
            click.echo(f"  {a['id']:<7} {_status(t, a['status']):<8} {a['count']:>3}  {a['title']}"
                       + (f" · {a['actor']}" if a["actor"] else ""))


def _echo_roadmap_report(data: dict, config) -> None:
    t = texts(config.language)
    if data["kind"] == "roadmap":
        click.echo(click.style(data["title"], bold=True) + f"  ({data['area_name']}, {data['period'] or '–'})")
        click.echo(counted(t, data["count"], "cli_roadmap_actions_cited_one", "cli_roadmap_actions_cited"))
        for action in data["actions"]:
            click.echo("\n" + click.style(f"{action['id']} {action['title']}", bold=True)
                       + f"  [{_status(t, action['status'])}] {action['actor'] or ''}")
            _echo_entries(action["entries"], config, indent="  ")
            _echo_suggestions(action["suggestions"], config, indent="  ")
    else:
        click.echo(click.style(f"{data['id']} {data['title']}", bold=True))
        click.echo(f"{data['roadmap']} · {t['roadmap_status'].lower()} {_status(t, data['status'])} · "
                   f"{t['roadmap_responsible'].lower()}: {data['actor'] or '–'}")
        _echo_entries(data["entries"], config)
        _echo_suggestions(data["suggestions"], config)
    click.echo(f"\n{t['field_actors']}:")
    for actor in data["actors"]:
        held = (f"{t['roadmap_holds']} {', '.join(actor['actions'])}" if actor["actions"]
                else t["cli_roadmap_holds_none"])
        named = counted(t, actor["entries"], "cli_n_entries_one", "cli_n_entries")
        click.echo(f"  {actor['name']}: {held}; {t['roadmap_named_in']} {named}")
    click.echo(f"\n{t['roadmap_per_sprint']}:")
    for point in data["timeline"]:
        counts = ", ".join(f"{_type_label(t, kind)} {n}" for kind, n in point["counts"].items())
        click.echo(f"  {point['sprint']}: {point['total']} ({counts})")


def _echo_entries(grouped: dict, config, indent: str = "") -> None:
    t = texts(config.language)
    if not any(grouped.values()):
        click.echo(f"{indent}{t['roadmap_no_entries']}")
    for entry_type, refs in grouped.items():
        if refs:
            click.echo(f"{indent}{_type_label(t, entry_type).capitalize()}:")
            for e in refs:
                click.echo(f"{indent}  - {e['title']}  ({e['id']}, {config.area_name(e['area'])}, {e['date']})")


def _echo_suggestions(suggestions: list[dict], config, indent: str = "") -> None:
    if suggestions:
        click.echo(f"{indent}{text('cli_roadmap_suggestions', config.language)}")
        for s in suggestions:
            click.echo(f"{indent}  ? {s['title']}  ({s['id']}, {s['area_name']}, {s['score']:.3f})")


@click.command()
@root_option
@click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")
@click.option("--area", "areas", multiple=True, help="Only entries of this area slug (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "md"]), default="text", show_default=True,
              help="md: a Markdown handout for position papers.")
@model_option
@json_option
@handle_errors
def policy(root, since, until, areas, fmt, model, as_json):
    """Obstacles that need regional, national or EU policy changes (entries with policy:),
    grouped by level and theme, with the areas affected and the evidence."""
    kb = open_kb(root, model)
    filters = make_filters(kb.config, areas, (), (), since, until)
    # --json as it always was (Swedish level names); the text and the handout in the knowledge base's language
    report = policy_needs(kb, filters, lang=DEFAULT_LANGUAGE if as_json else kb.config.language)
    names = {slug: a.name for slug, a in kb.config.areas.items()}
    if as_json:
        print_json(report.to_dict())
    elif fmt == "md":
        click.echo(to_markdown(report, names), nl=False)
    else:
        t = texts(kb.config.language)
        if not report.levels:
            click.echo(t["policy_md_none"], err=True)
        for level in report.levels:
            click.echo(click.style(f"{level.name} ({counted(t, level.count, 'cli_n_entries_one', 'cli_n_entries')}; "
                                   f"{', '.join(names.get(a, a) for a in level.areas)})", bold=True))
            for theme in level.themes:
                click.echo(f"  {theme.label}" + (f" ({t['obstacles_recurring']})" if theme.recurring else "")
                           + f" · {', '.join(names.get(a, a) for a in theme.areas)}")
                for e in theme.evidence:
                    click.echo(f"    - {e.title} ({e.id}, {e.date})")
                    if e.quote:
                        click.echo(f"      \"{e.quote}\"")


@click.command()
@root_option
@model_option
@click.option("--gaps", "gaps_only", is_flag=True, help="Only actors with a gap in mandate.")
@json_option
@handle_errors
def actors(root, model, gaps_only, as_json):
    """The mandate map: which actors appear in which areas' entries and roadmap actions, and
    which actors that obstacles name hold no roadmap action anywhere (gaps in mandate)."""
    kb = open_kb(root, model)
    result = mandate_map(kb)
    if as_json:
        data = result.to_dict()
        print_json({"gaps": data["gaps"]} if gaps_only else data)
        return
    t = texts(kb.config.language)  # the words around the actors speak the knowledge base's language
    if not gaps_only:
        for actor in result.actors:
            held = ", ".join(a["id"] for a in actor.actions) or "–"
            areas_text = ", ".join(f"{a} {n}" for a, n in sorted(actor.entry_areas.items()))
            click.echo(t["cli_actor_row"].format(name=actor.name, actions=held, areas=areas_text or "–")
                       + (f"  <- {t['cli_actor_gap']}" if actor.gap else ""))
        click.echo("")
    click.echo(click.style(t["cli_actor_gaps"].format(count=len(result.gaps)), bold=True))
    for actor in result.gaps:
        click.echo(f"  {actor.name}:")
        for o in actor.obstacles:
            click.echo(f"    - {o['title']} ({o['id']}, {kb.config.area_name(o['area'])})")
