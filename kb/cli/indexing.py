"""``kb index``: bring the index up to date with the entry files."""

from __future__ import annotations

import sys

import click

from indexer.build import IndexReport
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
from kb.core.publication import is_followed_id


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
    report = update_index(kb, rebuild=rebuild, progress=progress)
    if as_json:
        print_json(report.to_dict())
    else:
        rate = report.chunks_embedded / report.seconds if report.seconds else 0.0
        by = f" by {report.encoder}" if report.encoder else ""  # which encoder: `kb doctor` says why
        click.echo(
            f"Indexed {report.entries} entries"
            + (f" and {report.followed} lessons from other cities" if report.followed else "")
            + f": {len(report.added)} added, "
            f"{len(report.updated)} updated, {len(report.deleted)} deleted, "
            f"{report.unchanged} unchanged ({report.chunks_embedded} chunks embedded{by} "
            f"in {report.seconds:.1f} s, {rate:.1f} chunks/s)."
        )
    if skipped_files(report):
        sys.exit(1)


def update_index(kb, *, rebuild: bool = False, progress=None) -> IndexReport:
    """Index, then tell the author what needs attention (on stderr): problems with file and
    line, skipped files, probable near-duplicates. ``kb index`` and ``kb serve`` both do it."""
    report = kb.index(rebuild=rebuild, progress=progress)
    for problem in report.problems:
        click.echo(problem.format(kb.config.root), err=True)
    own = [e for e in report.added if not is_followed_id(e)]  # other cities' lessons are theirs to merge
    if own and not rebuild:
        warn_near_duplicates(kb, own)
    if skipped := skipped_files(report):
        click.echo(f"{skipped} entry file(s) skipped; fix them and run `kb index` again.", err=True)
    return report


def skipped_files(report: IndexReport) -> int:
    return len({p.path for p in report.problems if p.severity == "error"})
