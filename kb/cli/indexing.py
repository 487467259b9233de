"""``kb index``: bring the index up to date with the entry files."""

from __future__ import annotations

import sys

import click

from indexer.roadmaps import roadmap_problems
from kb.cli.crossarea import warn_near_duplicates
from kb.cli.options import (
    ClickProgress,
    handle_errors,
    json_option,
    model_option,
    open_kb,
    print_json,
    root_option,
)


@click.command()
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
