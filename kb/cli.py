"""The ``kb`` command: a thin layer over the library. Each command parses its options,
calls one library function and formats the result (text for people, ``--json`` for programs).

The commands live in ``kb.commands``, one module per kind of work; this module only makes the
root group and registers them. Heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import click

from . import __version__
from .commands import (
    crossarea,
    entries,
    facilitation,
    indexing,
    roadmaps,
    searching,
    web,
)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="kb")
def cli():
    """A reflexive learning knowledge base: log lessons as Markdown entries, index them,
    and find them by meaning in Swedish or English.

    \b
    Typical use:
      kb validate                 check every entry
      kb index                    embed new and changed entries
      kb search "laddplatser upphandling"
      kb similar ENTRY_ID --other-areas
      kb synergies                lessons that carry across areas
      kb serve                    the web pages
    """


for command in (
    entries.validate,
    entries.new,
    entries.show,
    entries.import_,
    entries.hash_password_,
    indexing.index,
    searching.search,
    searching.similar,
    searching.eval_,
    web.serve,
    crossarea.synergies,
    crossarea.obstacles,
    crossarea.conflicts,
    crossarea.duplicates,
    crossarea.link,
    roadmaps.roadmap,
    roadmaps.policy,
    roadmaps.actors,
    facilitation.brief,
    facilitation.report,
    facilitation.pictures,
):
    cli.add_command(command)


def main():  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
