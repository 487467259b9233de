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
from kb.core.texts import counted, texts
from search.match import NEAREST


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
              help=f"Show all -n results also when none is close (by default the nearest {NEAREST}).")
@click.option("--close-only", is_flag=True, help="Only the results that are close (none, when none is).")
@click.option("--close-at", type=float, metavar="SCORE",
              help="Count results whose match score reaches SCORE as close, instead of the calibrated threshold.")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only lessons from this followed city (its name, see `kb follow`), or `own` for the "
              "knowledge base's own (repeatable). Default: all.")
@json_option
@handle_errors
def search(query, root, model, areas, types, tags, since, until, mode, limit, show_all, close_only, close_at, sources,
           as_json):
    """Find entries by meaning, in Swedish or English. Each result is marked close or weak;
    when none is close, that is said and the nearest few are shown (see --all, --close-only).
    Lessons from followed cities are found too, marked with their source (see --source)."""
    if show_all and close_only:
        raise click.UsageError("--all and --close-only exclude each other.")
    kb = open_kb(root, model)
    filters = make_filters(kb.config, areas, types, tags, since, until, sources)
    show = "all" if show_all else "close" if close_only else "default"
    results = kb.search(query, filters=filters, mode=mode, limit=limit, show=show, close_at=close_at)
    t = texts(kb.config.language)  # the words around the results speak the knowledge base's language
    if results and not results.any_close:
        click.echo(t["cli_search_no_close"], err=True)
    emit_results(results, as_json, empty=t["search_no_hits"] if not results.left_out else t["cli_search_no_close_only"],
                 lang=kb.config.language)
    if results and results.left_out:
        hint = t["cli_search_hint_close_only" if close_only else "cli_search_hint_all"]
        click.echo(counted(t, results.left_out, "cli_search_left_out_one", "cli_search_left_out", hint=hint), err=True)
