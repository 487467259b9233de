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

CLI_LANGUAGE = "en"  # the CLI speaks English


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
            _echo_area_matrix(links)
        return
    found = find_synergies(kb, limit=limit, areas=areas, since=since, include_rejected=include_rejected)
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    if not found:
        click.echo("No synergies suggested.", err=True)
    for rank, s in enumerate(found, start=1):
        click.echo(f"{rank:>2}. {s.score:5.2f}  {s.status:<9} {kb.config.area_name(s.area_a)} ↔ "
                   f"{kb.config.area_name(s.area_b)}")
        click.echo(f"    {s.a}: " + click.style(s.title_a, bold=True))
        click.echo(f"    {s.b}: " + click.style(s.title_b, bold=True))
        for reason in s.reasons:
            click.echo(f"    - {render_reason(reason, CLI_LANGUAGE, kb.config.area_names())}")


def _echo_area_matrix(links) -> None:
    width = max([len(a) for a in links.areas] + [6])
    click.echo("Strong links (mutual top-3 neighbours, confirmed included, rejected left out):")
    click.echo(" " * (width + 1) + " ".join(f"{a[:6]:>6}" for a in links.areas))
    for a in links.areas:
        click.echo(f"{a:<{width}} " + " ".join(f"{links.matrix[a].get(b, 0):>6}" for b in links.areas))
    click.echo("\nSilo index (share of an area's strong links that cross areas; low = silo):")
    for a in links.areas:
        value = links.silo_index.get(a)
        total = sum(links.matrix[a].values())
        click.echo(f"  {a:<{width}} " + ("  –  " if value is None else f"{value:4.2f}") + f"  ({total} links)")


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
    if not groups:
        click.echo("No groups of similar obstacles.", err=True)
    for g in groups:
        state = "recurring" if g.recurring else "once"
        click.echo((f"{g.id}  " if g.id else "") + click.style(g.label, bold=True)
                   + f"  ({g.count} entries, {len(g.areas)} areas, {g.first_seen} – {g.last_seen}, {state})")
        click.echo(f"    areas: {', '.join(g.areas)}; sprints: {', '.join(g.sprints) or '–'}")
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
    group = rename_obstacle(config_module.load(root), group_id, None if computed else label)
    if as_json:
        print_json(group.to_dict())
    elif computed:
        click.echo(f"{group.id}: the label will be made from its entries the next time it is listed "
                   f"({GROUPS_FILE}).")
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
        click.echo("No goal conflicts.", err=True)
    for c in found:
        click.echo(click.style(c.title, bold=True))
        click.echo(f"    {c.id} · {c.date} · " + " ↔ ".join(kb.config.area_name(a) for a in c.areas))
        for reason in render_reasons(c.reasons, "en", names):
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
    if not found:
        click.echo("No near-duplicates.", err=True)
    for d in found:
        click.echo(f"{d.score:.3f}  {d.status:<9} {d.a} ↔ {d.b}")
        click.echo(f"    {d.title_a}\n    {d.title_b}")
        click.echo(f"    - {'; '.join(render_reasons(d.reasons, CLI_LANGUAGE, kb.config.area_names()))}")


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
    if verdict == "unrelated":
        click.echo(f"Rejected {entry_a} ↔ {entry_b}; it will not be suggested again ({DECISIONS_FILE}).")
    else:
        click.echo(f"Linked {entry_a} → {entry_b} as {verdict} (related: in {entry_a}; {DECISIONS_FILE}).")
    click.echo("Run `kb index` to update the index.")


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
