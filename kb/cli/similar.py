"""Entries like one entry: ``kb similar`` (apart from ``kb search``, whose cold start does not
need the cross-area analyses that ``--mode related`` reads)."""

from __future__ import annotations

import click

from analysis.corpus import load_corpus
from analysis.related import RelatedFinder, related_results
from kb.cli.options import emit_results, handle_errors, json_option, model_option, open_kb, root_option
from kb.core.decisions import load_decisions
from kb.core.texts import text


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
    emit_results(results, as_json, empty=text("cli_no_similar", kb.config.language), lang=kb.config.language,
                 area_names=kb.config.area_names())
