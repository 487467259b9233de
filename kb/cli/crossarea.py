"""Cross-area learning: synergies, obstacles, conflicts, duplicates, and verdicts (link)."""

from __future__ import annotations

import click

from analysis.conflicts import goal_conflicts
from analysis.duplicates import near_duplicates
from analysis.links import area_links
from analysis.links import synergies as find_synergies
from analysis.obstacles import recurring_obstacles
from analysis.reasons import render_reason, render_reasons
from kb.app.curation import record_link, rename_obstacle
from kb.cli.options import (
    handle_errors,
    json_option,
    model_option,
    open_kb,
    print_json,
    root_option,
    since_until,
)
from kb.core import config as config_module
from kb.core.decisions import DECISIONS_FILE
from kb.core.errors import KBError
from kb.core.obstacle_groups import GROUPS_FILE
from kb.core.texts import counted, text, texts

VERDICT_KEYS = {"synergy": "cli_verdict_synergy", "conflict": "cli_verdict_conflict",
                "duplicate": "cli_verdict_duplicate"}


@click.command()
@root_option
@model_option
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 10000),
              help="How many pairs to show.")
@click.option("--area", "areas", multiple=True, help="Only pairs touching this area slug (repeatable).")
@click.option("--since", help="Only pairs with an entry dated on or after (YYYY[-MM[-DD]]).")
@click.option("--matrix", is_flag=True, help="Show the area x area matrix of strong links and the silo index.")
@click.option("--rejected", "include_rejected", is_flag=True, help="Also list pairs a facilitator rejected.")
@json_option
@handle_errors
def synergies(root, model, limit, areas, since, matrix, include_rejected, as_json):
    """Pairs of entries from different areas that carry the same lesson, best first, with
    why each was suggested. Confirm or reject one with `kb link A B --as ...`."""
    kb = open_kb(root, model)
    areas, since, _ = since_until(kb.config, areas, since)
    if matrix:
        links = area_links(kb)
        if as_json:
            print_json(links.to_dict())
        else:
            _echo_area_matrix(links, kb.config.language)
        return
    found = find_synergies(kb, limit=limit, areas=areas, since=since, include_rejected=include_rejected)
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    lang = kb.config.language  # the words around the pairs speak the knowledge base's language
    t = texts(lang)
    if not found:
        click.echo(t["cli_no_synergies"], err=True)
    for rank, s in enumerate(found, start=1):
        click.echo(f"{rank:>2}. {s.score:5.2f}  {t['link_status_' + s.status]:<9} {kb.config.area_name(s.area_a)} ↔ "
                   f"{kb.config.area_name(s.area_b)}")
        click.echo(f"    {s.a}: " + click.style(s.title_a, bold=True))
        click.echo(f"    {s.b}: " + click.style(s.title_b, bold=True))
        for reason in s.reasons:
            click.echo(f"    - {render_reason(reason, lang, kb.config.area_names())}")


def _echo_area_matrix(links, lang: str) -> None:
    t = texts(lang)
    width = max([len(a) for a in links.areas] + [6])
    click.echo(t["cli_matrix_heading"])
    click.echo(" " * (width + 1) + " ".join(f"{a[:6]:>6}" for a in links.areas))
    for a in links.areas:
        click.echo(f"{a:<{width}} " + " ".join(f"{links.matrix[a].get(b, 0):>6}" for b in links.areas))
    click.echo("\n" + t["cli_silo_heading"])
    for a in links.areas:
        value = links.silo_index.get(a)
        total = sum(links.matrix[a].values())
        click.echo(f"  {a:<{width}} " + ("  –  " if value is None else f"{value:4.2f}")
                   + f"  ({counted(t, total, 'cli_n_links_one', 'cli_n_links')})")


@click.group(invoke_without_command=True)
@root_option
@model_option
@click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")
@click.option("--area", "areas", multiple=True, help="Only entries of this area slug (repeatable).")
@click.option("--type", "types", multiple=True, type=click.Choice(config_module.ENTRY_TYPES),
              help="Entry types taken whole (repeatable). Default: obstacle.")
@json_option
@click.pass_context
@handle_errors
def obstacles(ctx, root, model, since, until, areas, types, as_json):
    """Recurring obstacles: entries describing the same obstacle in different words.

    Each group keeps its id (hinder-N, never reused) and its label while it gains or loses
    entries; they are kept in obstacles.md at the root.

    \b
      kb obstacles                                 the groups, most widespread first
      kb obstacles rename hinder-3 "Elnät: lång väntan på anslutning"
      kb obstacles rename hinder-3 --computed      back to a label made from the entries
    """
    if ctx.invoked_subcommand is not None:
        return
    kb = open_kb(root, model)
    areas, since, until = since_until(kb.config, areas, since, until)
    groups = recurring_obstacles(kb, since=since, until=until, areas=areas or None,
                                 types=tuple(types) or ("obstacle",))
    if as_json:
        print_json([g.to_dict() for g in groups])
        return
    _echo_obstacle_groups(groups, kb.config)


def _echo_obstacle_groups(groups, config) -> None:
    t = texts(config.language)  # the words around the groups speak the knowledge base's language
    if not groups:
        click.echo(t["cli_no_obstacle_groups"], err=True)
    for g in groups:
        state = t["obstacles_recurring" if g.recurring else "obstacles_once"]
        click.echo((f"{g.id}  " if g.id else "") + click.style(g.label, bold=True)
                   + f"  ({counted(t, g.count, 'cli_n_entries_one', 'cli_n_entries')}, "
                   f"{counted(t, len(g.areas), 'cli_n_areas_one', 'cli_n_areas')}, "
                   f"{g.first_seen} – {g.last_seen}, {state})")
        click.echo("    " + t["cli_obstacle_areas"].format(areas=", ".join(config.area_name(a) for a in g.areas),
                                                          sprints=", ".join(g.sprints) or "–"))
        for entry_id in g.entries:
            click.echo(f"    {entry_id}: {g.titles.get(entry_id, '')}")


@obstacles.command("rename")
@click.argument("group_id")
@click.argument("label", required=False)
@root_option
@click.option("--computed", is_flag=True, help="Drop the facilitator's label: the next listing makes one "
                                                "from the group's entries.")
@json_option
@handle_errors
def obstacles_rename(group_id, label, root, computed, as_json):
    """Give the obstacle group GROUP_ID (e.g. hinder-3) the LABEL a facilitator chose. It is kept
    in obstacles.md and survives re-clustering and `kb index --rebuild`."""
    if computed == bool(label):
        raise click.UsageError("give the LABEL, or --computed")
    config = config_module.load(root)
    group = rename_obstacle(config, group_id, None if computed else label)
    if as_json:
        print_json(group.to_dict())
    elif computed:
        click.echo(text("cli_obstacle_label_computed", config.language, id=group.id, file=GROUPS_FILE))
    else:
        click.echo(f"{group.id}: {group.label} ({GROUPS_FILE}).")


@click.command()
@root_option
@model_option
@click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")
@click.option("--area", "areas", multiple=True, help="Only conflicts touching this area slug (repeatable).")
@json_option
@handle_errors
def conflicts(root, model, since, until, areas, as_json):
    """Goal conflicts and the areas they touch, for the next learning session's agenda."""
    kb = open_kb(root, model)
    areas, since, until = since_until(kb.config, areas, since, until)
    found = goal_conflicts(kb, since=since, until=until, areas=areas or None)
    names = {slug: a.name for slug, a in kb.config.areas.items()}
    if as_json:
        print_json([c.to_dict() for c in found])
        return
    if not found:
        click.echo(text("cli_no_conflicts", kb.config.language), err=True)
    for c in found:
        click.echo(click.style(c.title, bold=True))
        click.echo(f"    {c.id} · {c.date} · " + " ↔ ".join(kb.config.area_name(a) for a in c.areas))
        for reason in render_reasons(c.reasons, kb.config.language, names):
            click.echo(f"    - {reason}")


@click.command()
@root_option
@model_option
@click.option("--rejected", "include_rejected", is_flag=True, help="Also list pairs a facilitator rejected.")
@json_option
@handle_errors
def duplicates(root, model, include_rejected, as_json):
    """Pairs so similar they are probably one lesson logged twice (any areas)."""
    kb = open_kb(root, model)
    found = near_duplicates(kb, include_rejected=include_rejected)
    if as_json:
        print_json([d.to_dict() for d in found])
        return
    t = texts(kb.config.language)
    if not found:
        click.echo(t["cli_no_duplicates"], err=True)
    for d in found:
        click.echo(f"{d.score:.3f}  {t['link_status_' + d.status]:<9} {d.a} ↔ {d.b}")
        click.echo(f"    {d.title_a}\n    {d.title_b}")
        click.echo(f"    - {'; '.join(render_reasons(d.reasons, kb.config.language, kb.config.area_names()))}")


@click.command()
@click.argument("entry_a")
@click.argument("entry_b")
@root_option
@click.option("--as", "verdict", required=True,
              type=click.Choice(["synergy", "conflict", "duplicate", "unrelated"]),
              help="The verdict: a confirmed link (synergy, conflict, duplicate) or a rejection.")
@click.option("--note", default="", help="Why (kept in decisions.tsv).")
@json_option
@handle_errors
def link(entry_a, entry_b, root, verdict, note, as_json):
    """Record a facilitator's verdict on ENTRY_A and ENTRY_B: a confirmed link goes into
    ENTRY_A's `related:` list; every verdict goes into decisions.tsv and decides later
    suggestions (rejected pairs never come back)."""
    config = config_module.load(root)
    decision = record_link(config, entry_a, entry_b, verdict, note=note)
    if as_json:
        print_json(decision.to_dict())
        return
    t = texts(config.language)
    if verdict == "unrelated":
        click.echo(t["cli_link_rejected"].format(a=entry_a, b=entry_b, file=DECISIONS_FILE))
    else:
        click.echo(t["cli_link_confirmed"].format(a=entry_a, b=entry_b, verdict=t[VERDICT_KEYS[verdict]],
                                                  file=DECISIONS_FILE))
    click.echo(t["cli_run_index"])


MAX_DUPLICATE_WARNINGS = 5


def warn_near_duplicates(kb, ids) -> None:
    """Tell the author when an entry is probably a lesson already logged (never fails)."""
    try:
        pairs = near_duplicates(kb, ids=ids)
    except KBError:
        return
    if len(pairs) > MAX_DUPLICATE_WARNINGS:  # an import or a first build: a summary, not a flood
        click.echo(f"warning: {len(pairs)} pairs among the new entries look like near-duplicates; "
                   "`kb duplicates` lists them.", err=True)
        return
    for d in pairs:
        new_id, old_id = (d.a, d.b) if d.a in ids else (d.b, d.a)
        click.echo(f"warning: {new_id} looks like a near-duplicate of {old_id} "
                   f"(similarity {d.score:.3f}); merge them, or run "
                   f"`kb link {new_id} {old_id} --as unrelated` if they differ.", err=True)
