"""Finding lessons: search and similar."""

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


@click.command()
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


@click.command()
@click.argument("entry_id")
@root_option
@model_option
@click.option("--other-areas", is_flag=True, help="Only entries from other areas than this one's.")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--mode", type=click.Choice(["semantic", "keyword", "hybrid"]), default="semantic",
              show_default=True,
              help="semantic: by meaning (works across Swedish and English); keyword: the entry's own "
              "words (found more of NASA's English cross-references); hybrid: both.")
@json_option
@handle_errors
def similar(entry_id, root, model, other_areas, limit, mode, as_json):
    """Entries closest in meaning to ENTRY_ID."""
    kb = open_kb(root, model)
    results = kb.similar(entry_id, limit=limit, other_areas=other_areas, mode=mode)
    emit_results(results, as_json, empty="No similar entries.")
