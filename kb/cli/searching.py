"""Finding lessons: search (``kb similar`` is in ``kb.cli.similar``, with the analyses it needs)."""

from __future__ import annotations

import click

from kb.cli.options import (
    emit_results,
    filter_options,
    handle_errors,
    json_option,
    make_filters,
    model_option,
    open_kb,
    root_option,
)
from search.cutoff import AUTO


@click.command()
@click.argument("query")
@root_option
@model_option
@filter_options
@click.option("--mode", type=click.Choice(["hybrid", "semantic", "keyword"]), default="hybrid",
              show_default=True, help="Meaning, words, or both.")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="How many entries to show.")
@click.option("--all", "show_all", is_flag=True,
              help="Also show results that are no close match (by default they are left out).")
@click.option("--min-score", type=float, metavar="MATCH",
              help="Show results whose match is at least MATCH instead of the calibrated default.")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only lessons from this followed city (its name, see `kb follow`), or `own` for the "
              "knowledge base's own (repeatable). Default: all.")
@json_option
@handle_errors
def search(query, root, model, areas, types, tags, since, until, mode, limit, show_all, min_score, sources,
           as_json):
    """Find entries by meaning, in Swedish or English. Results that are no close match
    to the question are left out (see --all and --min-score). Lessons from followed cities
    are found too, marked with their source (see --source)."""
    if show_all and min_score is not None:
        raise click.UsageError("--all and --min-score exclude each other: --all shows every result.")
    kb = open_kb(root, model)
    filters = make_filters(kb.config, areas, types, tags, since, until, sources)
    cutoff = None if show_all else AUTO if min_score is None else min_score
    results = kb.search(query, filters=filters, mode=mode, limit=limit, min_score=cutoff)
    emit_results(results, as_json, empty="No entries found." if not results.left_out else
                 "No close match: the nearest entries are far from the question (--all shows them).")
    if results and results.left_out:
        click.echo(f"{results.left_out} weaker result(s) left out: no close match (--all shows them).", err=True)
