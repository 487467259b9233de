"""Sharing between cities: publish the public lessons, follow other cities' publications and
keep them in sync."""

from __future__ import annotations

import sys

import click

from analysis.crosscity import city_links
from analysis.reasons import render_reasons
from kb.app.follow import SyncReport, start_following, sync
from kb.app.follow import unfollow as unfollow_source
from kb.app.publish import build_publication, write_publication
from kb.cli.indexing import skipped_files
from kb.cli.options import (
    ClickProgress,
    handle_errors,
    json_option,
    model_option,
    open_kb,
    period_options,
    print_json,
    root_option,
    since_until,
)
from kb.core import config as config_module
from kb.core.errors import IndexMissing
from kb.core.followed import load_sources
from kb.core.texts import counted, texts


@click.command()
@root_option
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False),
              help="The folder to write the publication into (made if missing).")
@click.option("--url", help="Where the folder will be read on the web (for the DCAT-AP-SE description and "
              "the feed's links). Default: kb.toml's [sharing] url, else base_url + /-/kb/open/.")
@json_option
@handle_errors
def publish(root, output, url, as_json):
    """Write the public lessons (and the validated actions taken on them) as an open
    publication: JSON Lines under a versioned schema, an Atom feed with tombstones for
    withdrawn lessons, and a DCAT-AP-SE description for Sveriges dataportal."""
    kb = open_kb(root)
    if not kb.indexed:
        raise IndexMissing(f"{kb.config.root}: not indexed yet")
    publication = build_publication(kb.config, kb.store, url=url)
    written = write_publication(publication, output, kb.config)
    if as_json:
        print_json({**publication.to_dict(), "folder": str(written[0].parent)})
        return
    for warning in publication.warnings:
        click.echo(f"warning: {warning}", err=True)
    with_actions = sum(1 for r in publication.records if r["actions"])
    click.echo(f"Published {publication.count} public lessons ({with_actions} with validated actions) from "
               f"{publication.manifest['organisation']}, {len(publication.withdrawn)} withdrawn; "
               f"{publication.kept_home} internal or partner lessons stay home.")
    click.echo(f"Wrote {', '.join(p.name for p in written)} to {output}"
               + (f" (to be read at {publication.url})" if publication.url else "") + ".")


@click.command()
@click.argument("url", required=False)
@root_option
@model_option
@click.option("--name", help="What to call the source on our pages, e.g. Lund (required with URL).")
@json_option
@handle_errors
def follow(url, root, model, name, as_json):
    """Follow another city's publication: URL is its knowledge base's /-/kb/open/ address, or
    a folder `kb publish` wrote. Fetches it at once (and indexes it); `kb sync` keeps it up to
    date. Without URL: list the sources followed."""
    if url is None:
        _list_sources(config_module.load(root), as_json)
        return
    if not name:
        raise click.UsageError("give the source a name: kb follow URL --name Lund")
    kb = open_kb(root, model)
    source, reports, index_report = start_following(kb, url, name)
    if not as_json:
        click.echo(f"Following {source.name} ({source.url}).")
    _report(reports, index_report, as_json)


@click.command()
@click.argument("name")
@root_option
@model_option
@handle_errors
def unfollow(name, root, model):
    """Stop following NAME: its copy goes, and its lessons leave the index."""
    kb = open_kb(root, model)
    source = unfollow_source(kb.config, name)
    report = kb.index()
    click.echo(f"No longer following {source.name}; {len(report.deleted)} of its lessons left the index.")


@click.command("sync")
@root_option
@model_option
@click.option("--name", "names", multiple=True, help="Only this source (repeatable). Default: every one.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
@handle_errors
def sync_(root, model, names, quiet, as_json):
    """Fetch every followed publication (conditional requests: an unchanged one costs a 304),
    keep each new version that passes the checks, and update the index: withdrawn lessons
    leave it. Exit code 1 when a source could not be fetched (its last good copy stays)."""
    kb = open_kb(root, model)
    progress = None if (quiet or as_json) else ClickProgress
    reports, index_report = sync(kb, names, progress=progress)
    _report(reports, index_report, as_json)


def _report(reports: list[SyncReport], index_report, as_json: bool) -> None:
    if as_json:
        print_json({"sources": [r.to_dict() for r in reports], "index": index_report.to_dict()})
    else:
        if not reports:
            click.echo("No sources followed: kb follow URL --name NAME.", err=True)
        for r in reports:
            click.echo(_line(r))
            if r.hint:
                click.echo(f"  Hint: {r.hint}")
        for problem in index_report.problems:
            if "followed" in str(problem.path):
                click.echo(problem.format(), err=True)
        click.echo(f"Index: {index_report.followed} lessons from other cities beside {index_report.entries} "
                   f"of our own; {len(index_report.added)} added, {len(index_report.updated)} updated, "
                   f"{len(index_report.deleted)} removed.")
    if any(r.status == "failed" for r in reports) or skipped_files(index_report):
        sys.exit(1)


def _line(r: SyncReport) -> str:
    if r.status == "failed":
        kept = f"kept the copy of {r.fetched[:10]} ({r.lessons} lessons)" if r.fetched else "no copy yet"
        return f"{r.name}: failed: {r.error}; {kept}."
    changes = ", ".join(f"{n} {what}" for n, what in ((len(r.added), "new"), (len(r.changed), "changed"),
                                                      (len(r.withdrawn), "withdrawn")) if n)
    return (f"{r.name}: {r.status}: {r.lessons} lessons" + (f" ({changes})" if changes else "")
            + f" from {r.organisation or r.url}, licence {r.licence or '?'}, fetched {(r.fetched or '')[:10]}.")


def _list_sources(config, as_json: bool) -> None:
    sources = load_sources(config)
    rows = []
    for source in sources:
        state = source.fetch_state()
        rows.append({**source.to_dict(), "fetched": state.fetched, "checked": state.checked, "error": state.error})
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("No sources followed: kb follow URL --name NAME.", err=True)
    for row in rows:
        status = f"fetched {row['fetched'][:10]}" if row["fetched"] else "never fetched"
        if row["error"]:
            status += f"; the last attempt ({row['checked']}) failed: {row['error']}"
        click.echo(f"{row['name']}  {row['url']}  (since {row['since']}; {status})")


@click.command()
@root_option
@model_option
@period_options
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="How many of each to show.")
@json_option
@handle_errors
def cities(root, model, lang, since, until, areas, limit, as_json):
    """What our lessons share with the cities we follow: obstacles another city has met too,
    and lessons that carry across cities (with why)."""
    kb = open_kb(root, model)
    areas, since, until = since_until(kb.config, areas, since, until)
    found = city_links(kb, since=since, until=until, areas=areas, limit=limit)
    if as_json:
        print_json(found.to_dict())
        return
    _echo_city_links(found, kb.config, lang or kb.config.language)


def _echo_city_links(found, config, lang: str) -> None:
    t = texts(lang)  # the knowledge base's language, unless --lang says otherwise
    if not found.sources:
        click.echo(t["cities_none_followed"], err=True)
        return
    for source in found.sources:
        click.echo(t["cli_cities_source"].format(
            name=source["name"], organisation=source["organisation"] or source["url"],
            lessons=counted(t, source["lessons"], "cli_n_lessons_one", "cli_n_lessons"),
            fetched=(source["fetched"] or t["cli_never"])[:10], licence=source["licence"] or "?"))
    names = config.area_names()
    for heading, links, what in ((t["cities_obstacles"], found.obstacles, "cities_same_obstacle"),
                                 (t["cities_synergies"], found.synergies, "cities_carries")):
        click.echo(f"\n{heading}")
        if not links:
            click.echo(f"  {t['cli_none_found']}")
        for rank, link in enumerate(links, start=1):
            click.echo(f"{rank:>2}. {link.score:.2f}  {t[what].format(source=link.source)}")
            click.echo(f"    {t['cli_ours']}: {link.own_title} ({link.own}, {names.get(link.own_area, link.own_area)})")
            click.echo(f"    {link.source}: {link.other_title} ({link.other}, {link.other_area})")
            if link.reasons:
                click.echo(f"    {t['cli_why']}: " + "; ".join(render_reasons(link.reasons, lang, names)))
