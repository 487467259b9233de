"""The learning sessions (kb session): record one by what happened, list them, remove one.
Speaks the knowledge base's language (kb.toml ``language``), like the content it lists."""

from __future__ import annotations

import click

from kb.app.sessions import add_session, delete_session
from kb.cli.options import handle_errors, json_option, print_json, root_option
from kb.core import config as config_module
from kb.core.sessions import SESSIONS_FILE, load_sessions
from kb.core.texts import texts


@click.group("session")
def session():
    """The learning sessions (lärtillfällen) held and planned, in sessions.tsv.

    A session dated today or earlier was held: "new since the last session" and the age of
    learning questions count from it. A later date records a planned session: the brief
    takes it as the next session's date, and the window does not move until that day.

    \b
      kb session add --date 2026-12-09 --title "Lärtillfälle december 2026"
      kb session list
      kb session remove 2026-12-09
    """


@session.command("add")
@root_option
@click.option("--date", "date", metavar="YYYY-MM-DD", help="When the session is held. Default: today.")
@click.option("--title", default="", help='What it is called, e.g. "Lärtillfälle december 2026". '
              "Default: Lärtillfälle DATE (in the knowledge base's language).")
@json_option
@handle_errors
def session_add(root, date, title, as_json):
    """Record a learning session (a second one on the same date replaces its title)."""
    config = config_module.load(root)
    recorded = add_session(config, date, title)
    if as_json:
        print_json(recorded.to_dict())
        return
    t = texts(config.language)
    key = "cli_session_recorded" if recorded.held() else "cli_session_planned"
    click.echo(t[key].format(date=recorded.date, title=recorded.title, file=SESSIONS_FILE))


@session.command("list")
@root_option
@json_option
@handle_errors
def session_list(root, as_json):
    """The learning sessions, oldest first; planned ones are marked."""
    config = config_module.load(root)
    sessions = load_sessions(config.root)
    if as_json:
        print_json([s.to_dict() for s in sessions])
        return
    t = texts(config.language)
    if not sessions:
        click.echo(t["cli_sessions_none"], err=True)
    for s in sessions:
        click.echo(f"{s.date}  {s.title}" + ("" if s.held() else f"  ({t['session_planned']})"))


@session.command("remove")
@click.argument("date")
@root_option
@handle_errors
def session_remove(date, root):
    """Take the session of DATE (YYYY-MM-DD) out of sessions.tsv."""
    config = config_module.load(root)
    removed = delete_session(config, date)
    click.echo(texts(config.language)["cli_session_removed"].format(date=removed.date, title=removed.title))
