"""``kb serve``: publish the knowledge base with Datasette."""

from __future__ import annotations

import click

from datasette_plugins.serve import serve as serve_kb
from kb.cli.indexing import update_index
from kb.cli.options import handle_errors, model_option, open_kb, root_option


@click.command()
@root_option
@model_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--demo-accounts", is_flag=True, help="Also sign in a writer and a facilitator with passwords made "
              "for this run only (printed at start, never written anywhere; loopback addresses only): for trying "
              "the pages, as `make demo` does. Real users: `kb user add`.")
@handle_errors
def serve(root, model, host, port, demo_accounts):
    """Update the index, then publish the knowledge base with Datasette (read-only)."""
    kb = open_kb(root, model)
    report = update_index(kb)
    changed = len(report.added) + len(report.updated) + len(report.deleted)
    click.echo(f"Index up to date: {report.entries} entries ({changed} changed).")
    kb.close()
    serve_kb(kb.config.root, model=model, host=host, port=port, echo=click.echo, demo=demo_accounts,
             warn=lambda message: click.echo(message, err=True))
