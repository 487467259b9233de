"""Finding lessons: search and similar."""

from __future__ import annotations

import click

from analysis.corpus import load_corpus
from analysis.related import RelatedFinder, related_results
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
from kb.core.decisions import load_decisions
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
@json_option
@handle_errors
def search(query, root, model, areas, types, tags, since, until, mode, limit, show_all, min_score, as_json):
    """Find entries by meaning, in Swedish or English. Results that are no close match
    to the question are left out (see --all and --min-score)."""
    if show_all and min_score is not None:
        raise click.UsageError("--all and --min-score exclude each other: --all shows every result.")
    kb = open_kb(root, model)
    filters = make_filters(kb.config, areas, types, tags, since, until)
    cutoff = None if show_all else AUTO if min_score is None else min_score
    results = kb.search(query, filters=filters, mode=mode, limit=limit, min_score=cutoff)
    emit_results(results, as_json, empty="No entries found." if not results.left_out else
                 "No close match: the nearest entries are far from the question (--all shows them).")
    if results and results.left_out:
        click.echo(f"{results.left_out} weaker result(s) left out: no close match (--all shows them).", err=True)


@click.command()
@click.argument("entry_id")
@root_option
@model_option
@click.option("--other-areas", is_flag=True, help="Only entries from other areas than this one's.")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--mode", type=click.Choice(["semantic", "keyword", "hybrid", "related"]), default="semantic",
              show_default=True,
              help="semantic: by meaning (works across Swedish and English); keyword: the entry's own "
              "words; hybrid: both; related: the entry page's related lessons (words, meaning, rare words, "
              "shared tags/actors/roadmap ids; only entries two of them agree on), with why.")
@json_option
@handle_errors
def similar(entry_id, root, model, other_areas, limit, mode, as_json):
    """Entries closest in meaning to ENTRY_ID."""
    kb = open_kb(root, model)
    if mode == "related":
        kb.similar(entry_id, limit=1)  # an unknown id fails here, with its hint
        finder = RelatedFinder(load_corpus(kb), load_decisions(kb.config.root))
        results = related_results(kb, finder, entry_id, limit=limit, other_areas=other_areas)
    else:
        results = kb.similar(entry_id, limit=limit, other_areas=other_areas, mode=mode)
    emit_results(results, as_json, empty="No similar entries.", area_names=kb.config.area_names())
