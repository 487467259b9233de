"""Commands on entry files: validate, new, show, import, hash-password."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from indexer.actions import load_actions
from indexer.agenda import load_agenda
from indexer.discover import load_entries
from indexer.parse import parse_entry
from indexer.personal_data import name_warnings
from indexer.roadmaps import roadmap_problems
from kb.app.actions import roadmap_action_ids
from kb.app.auth import hash_password
from kb.app.capture import (
    CaptureInvalid,
    commit_entry_file,
    draft_from_json,
    save,
    similar_lessons,
    template_draft,
)
from kb.app.checks import config_warnings
from kb.app.importer import (
    Mapping,
    MappingError,
    iter_preview,
    load_area_map,
    parse_pairs,
    run_export_import,
    run_import,
)
from kb.app.knowledge_base import KnowledgeBase
from kb.cli.options import handle_errors, json_option, print_json, root_option
from kb.core import config as config_module
from kb.core.errors import EntryInvalid, EntryNotFound, IndexMissing, KBError
from kb.core.obstacle_groups import group_file_problems
from kb.core.store import Store
from kb.core.texts import texts
from kb.core.visibility import DEFAULT_VISIBILITY, VISIBILITIES


@click.command()
@root_option
@json_option
@handle_errors
def validate(root, as_json):
    """Check every entry (and the actions, learning questions, roadmaps and obstacles.md) and
    report problems as path:line: message (exit 1 if any)."""

    config = config_module.load(root)
    result = load_entries(config)
    result.problems.extend(roadmap_problems(config, result.entries))
    result.problems.extend(name_warnings(config, result.entries))
    # actions and learning questions may cite only lessons (and roadmap actions) that exist
    lessons = {e.id for e in result.entries}
    result.problems.extend(load_actions(config, lessons=lessons, roadmap_actions=roadmap_action_ids(config)).problems)
    result.problems.extend(load_agenda(config, lessons=lessons).problems)
    result.problems.extend(config_warnings(config))  # kb.toml's settings readers will miss
    result.problems.extend(group_file_problems(config.root))
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


@click.command()
@click.argument("entry_id")
@root_option
@json_option
@handle_errors
def show(entry_id, root, as_json):
    """Show one entry (from the index)."""
    config = config_module.load(root)
    if not config.db_path.exists():
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
    click.echo(f"visibility: {row.get('visibility') or DEFAULT_VISIBILITY}")
    click.echo(f"{row['path']}\n")
    click.echo(row["body"].rstrip())


@click.command()
@root_option
@click.option("--title", help="A short title: what happened, in a sentence.")
@click.option("--area", help="Area slug from kb.toml.")
@click.option("--type", "entry_type", type=click.Choice(config_module.ENTRY_TYPES), default="lesson",
              show_default=True)
@click.option("--lang", type=click.Choice(["sv", "en"]),
              help="Language of the section headings and of the messages about bad fields. "
                   "Default: the knowledge base's (kb.toml language).")
@click.option("--date", "date_text", help="Date of the reflection (YYYY-MM-DD). Default: today.")
@click.option("--sprint", help="Sprint, e.g. 2026-S1. Default: from the date.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--visibility", type=click.Choice(VISIBILITIES),
              help="Who may see it: internal (the city's staff), partner (also the project's partners), "
              "public (anyone, and the open publication). Default: kb.toml's [sharing] visibility.")
@click.option("--edit/--no-edit", default=None,
              help="Open $EDITOR on the new entry. Default: when run in a terminal.")
@click.option("--commit", is_flag=True,
              help="Commit the new file to git (only that file; git's own author). Needs a git repository.")
@click.option("--from-stdin", is_flag=True,
              help="Read the whole entry as JSON from stdin: title, area, type, date, sprint, tags, "
              "actors, roadmap, author, and sections ({heading: text}) or happened/learned/next.")
@handle_errors
def new(root, title, area, entry_type, lang, date_text, sprint, tags, visibility, edit, from_stdin, commit):
    """Create a new entry from a template (headings in the knowledge base's language by default)."""
    config = config_module.load(root)
    lang = lang or config.language
    if from_stdin:
        saved = _save(config, draft_from_json(sys.stdin.read(), lang=lang), commit=commit)
        click.echo(f"Created {saved.path.relative_to(config.root)}")
        _report_commit(config, saved.path, saved.commit)
        _show_similar(config, saved.path)
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
    if area not in config.areas:
        raise KBError(f"unknown area {area!r}",
                      hint=f"Use one of: {', '.join(sorted(config.areas))} (or add it to kb.toml).")
    if not title.strip():
        raise KBError("the title is empty", hint="Give a short title with --title.")
    date = None
    if date_text:
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            raise click.BadParameter(f"{date_text!r} is not YYYY-MM-DD", param_hint="--date") from None
    draft = template_draft(title=title.strip(), area=area, entry_type=entry_type, lang=lang, date=date,
                           sprint=sprint or "", tags=list(tags),
                           visibility=visibility or config.default_visibility)
    editing = edit if edit is not None else interactive
    # with an editor, the commit waits until the author has written the entry
    saved = _save(config, draft, template=True, commit=commit and not editing)
    path = saved.path
    click.echo(f"Created {path.relative_to(config.root)}")
    if editing:
        click.edit(filename=str(path))
        try:
            parse_entry(path, config)
        except EntryInvalid as exc:
            for problem in exc.problems:
                click.echo(problem.format(config.root), err=True)
            click.echo("Fix the problems above, then run `kb index`.", err=True)
            sys.exit(1)
        if commit:
            _report_commit(config, path, commit_entry_file(config, path, message=f"New entry {path.stem}"))
    else:
        _report_commit(config, path, saved.commit)
    _show_similar(config, path)  # once the editor is closed, the entry has text to compare
    click.echo("Run `kb index` to index it." if editing else
               "Write what happened and what you learned, then run `kb index`.")


def _save(config, draft, *, template: bool = False, commit: bool = False):
    """Create the entry through the one way entries are created (under the write lock)."""
    try:
        return save(config, draft, template=template, commit=commit, commit_message="New entry {id}")
    except CaptureInvalid as exc:
        raise click.ClickException("\n".join(exc.lines(draft.lang))) from None


def _report_commit(config, path, sha: str | None) -> None:
    if sha:
        click.echo(f"Committed {path.relative_to(config.root)} ({sha[:10]})")


@click.command("import")
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
@click.option("--lang", type=click.Choice(["sv", "en"]),
              help="Language of the register (for the headings you give) and of the messages "
              "about bad rows. Default: the knowledge base's (kb.toml language).")
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
    A bad row is reported with its row number and skipped. An entries.jsonl made by
    `kb export` needs no mapping: the same ids, fields and sections come back
    (--add-areas adds the areas kb.toml lacks).
    \b
    Example:
      kb import lessons.xlsx --map title=Rubrik,date=Datum,id=Nr --area-from Område \\
        --area-map "Mobilitet=mobilitet,Energi=energi" --section "Vad hände?=Händelse" \\
        --section "Vad lärde vi oss?=Lärdom" --write
    """
    config = config_module.load(root, require_areas=not add_areas)
    try:
        if not (maps or sections or area or area_from):
            # no mapping: a file made by `kb export` (entries.jsonl), or a usage error saying so
            if (fmt or Path(file).suffix.lower().lstrip(".")) not in ("jsonl", "ndjson"):
                raise MappingError("give --map and --section (or import an entries.jsonl made by `kb export`)")
            report = run_export_import(config, Path(file), write=write, add_areas_from_rows=add_areas)
            _print_import(report, write, as_json)
            return
        mapping = Mapping(
            fields=dict(parse_pairs(maps, "--map")),
            sections=parse_pairs(sections, "--section") if sections else [],
            area=area, area_from=area_from,
            area_map=load_area_map(area_map) if area_map else {},
            add_areas=add_areas, type=entry_type, lang=lang or config.language, id_prefix=id_prefix,
            source_name=Path(file).name,
        )
        if area and area not in config.areas:
            raise MappingError(f"--area {area!r} is not in kb.toml",
                               hint=f"Use one of: {', '.join(sorted(config.areas))}.")
        report = run_import(config, Path(file), mapping, write=write, fmt=fmt)
    except MappingError as exc:
        raise click.UsageError(str(exc) + (f"\nHint: {exc.hint}" if exc.hint else "")) from None
    _print_import(report, write, as_json)


def _print_import(report, write: bool, as_json: bool) -> None:
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


@click.command("hash-password")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for when not given).")
def hash_password_(password):
    """Print a password hash for signing in to the web pages (kb.toml [auth] or KB_WRITERS).

    \b
    In kb.toml:     [auth]
                    writers = { anna = "pbkdf2_sha256$..." }
                    roles = { anna = "facilitator" }   # default for a password: writer
    or in the environment: KB_WRITERS="anna:pbkdf2_sha256$...,erik:pbkdf2_sha256$..."
    """

    click.echo(hash_password(password))


def _show_similar(config, path) -> None:
    """`kb new`, once the entry has text: the lessons closest to it (other areas first) and
    any near-duplicate, from the index (when there is one)."""
    if not config.db_path.exists():
        return
    try:
        entry = parse_entry(path, config)
        kb = KnowledgeBase(config)
        try:
            similar, duplicates = similar_lessons(kb, entry)
        finally:
            kb.close()
    except KBError:
        return
    for d in duplicates:
        click.echo(f"warning: this looks like a near-duplicate of {d['id']} ({d['title']}); "
                   "add to that entry instead, or go on if they differ.", err=True)
    if similar:
        t = texts(config.language)
        click.echo(t["capture_similar_heading"] + ":")
        for r in similar:  # each marked close or weak, as on the web form
            mark = t[f"search_match_{r.match}"] if r.match else ""
            click.echo(f"  {r.title}  ({r.area_name}, {r.date}, {r.id})" + (f" · {mark}" if mark else ""))
