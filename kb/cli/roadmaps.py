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

TYPE_LABELS = {"lesson": "Lessons", "obstacle": "Obstacles", "enabler": "Enablers",
               "goal-conflict": "Goal conflicts", "idea": "Ideas"}


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
        _echo_roadmap_overview(report)
    else:
        _echo_roadmap_report(report.to_dict(), kb.config)


def _echo_roadmap_overview(roadmaps: list[dict]) -> None:
    if not roadmaps:
        click.echo("No roadmaps: add roadmaps/<area>.md files.", err=True)
    for r in roadmaps:
        click.echo(click.style(r["title"], bold=True) + f"  ({r['area']}, {r['period'] or '–'}; "
                   f"{r['count']} entries cite it)")
        for a in r["actions"]:
            click.echo(f"  {a['id']:<7} {a['status']:<8} {a['count']:>3}  {a['title']}"
                       + (f" · {a['actor']}" if a["actor"] else ""))


def _echo_roadmap_report(data: dict, config) -> None:
    if data["kind"] == "roadmap":
        click.echo(click.style(data["title"], bold=True) + f"  ({data['area_name']}, {data['period'] or '–'})")
        click.echo(f"{data['count']} entries cite its actions.")
        for action in data["actions"]:
            click.echo("\n" + click.style(f"{action['id']} {action['title']}", bold=True)
                       + f"  [{action['status']}] {action['actor'] or ''}")
            _echo_entries(action["entries"], config, indent="  ")
            _echo_suggestions(action["suggestions"], config, indent="  ")
    else:
        click.echo(click.style(f"{data['id']} {data['title']}", bold=True))
        click.echo(f"{data['roadmap']} · status {data['status']} · responsible: {data['actor'] or '–'}")
        _echo_entries(data["entries"], config)
        _echo_suggestions(data["suggestions"], config)
    click.echo("\nActors:")
    for actor in data["actors"]:
        held = f"responsible for {', '.join(actor['actions'])}" if actor["actions"] else "holds no action"
        click.echo(f"  {actor['name']}: {held}; entries naming it: {actor['entries']}")
    click.echo("\nPer sprint:")
    for point in data["timeline"]:
        counts = ", ".join(f"{TYPE_LABELS.get(t, t).lower()} {n}" for t, n in point["counts"].items())
        click.echo(f"  {point['sprint']}: {point['total']} ({counts})")


def _echo_entries(grouped: dict, config, indent: str = "") -> None:
    if not any(grouped.values()):
        click.echo(f"{indent}No entries cite it yet.")
    for entry_type, refs in grouped.items():
        if refs:
            click.echo(f"{indent}{TYPE_LABELS.get(entry_type, entry_type)}:")
            for e in refs:
                click.echo(f"{indent}  - {e['title']}  ({e['id']}, {config.area_name(e['area'])}, {e['date']})")


def _echo_suggestions(suggestions: list[dict], config, indent: str = "") -> None:
    if suggestions:
        click.echo(f"{indent}Suggested links from other areas (not citing it yet):")
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
    report = policy_needs(kb, filters)
    names = {slug: a.name for slug, a in kb.config.areas.items()}
    if as_json:
        print_json(report.to_dict())
    elif fmt == "md":
        click.echo(to_markdown(report, names), nl=False)
    else:
        if not report.levels:
            click.echo("No entries with policy: in this selection.", err=True)
        for level in report.levels:
            click.echo(click.style(f"{level.name} ({level.count} entries; "
                                   f"{', '.join(names.get(a, a) for a in level.areas)})", bold=True))
            for theme in level.themes:
                click.echo(f"  {theme.label}" + (" (recurring)" if theme.recurring else "")
                           + f" · {', '.join(theme.areas)}")
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
    if not gaps_only:
        for actor in result.actors:
            held = ", ".join(a["id"] for a in actor.actions) or "–"
            areas_text = ", ".join(f"{a} {n}" for a, n in sorted(actor.entry_areas.items()))
            click.echo(f"{actor.name}: actions {held}; entries per area: {areas_text or '–'}"
                       + ("  <- gap in mandate" if actor.gap else ""))
        click.echo("")
    click.echo(click.style(f"Gaps in mandate ({len(result.gaps)}): actors that obstacles depend on "
                           "who hold no roadmap action", bold=True))
    for actor in result.gaps:
        click.echo(f"  {actor.name}:")
        for o in actor.obstacles:
            click.echo(f"    - {o['title']} ({o['id']}, {o['area']})")
