"""Measuring search quality: eval (a retrieval benchmark on a BEIR-style folder)."""

from __future__ import annotations

import click

from kb.app.evaluation import run_eval
from kb.cli.options import ClickProgress, handle_errors, json_option, model_option, print_json


@click.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False))
@model_option
@click.option("--split", help="Only queries whose 'split' field is one of these, comma-separated "
              "(e.g. dev or dev,test).")
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

    report = run_eval(dataset_dir, split=split, mode=mode, k=k, model=model,
                      progress=None if as_json else ClickProgress)
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key:<10} {value}")
