"""Facilitator outputs: the session brief, the yearly report, pictures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from kb.app.knowledge_base import KnowledgeBase
from kb.app.sessions import add_session
from kb.cli.options import (
    handle_errors,
    json_option,
    model_option,
    open_kb,
    period_options,
    print_json,
    root_option,
    since_until,
)
from kb.core.errors import KBError
from kb.core.sessions import SESSIONS_FILE, check_session, last_session
from kb.core.texts import texts
from kb.core.visibility import AUDIENCES
from reports.brief import brief_with_pictures, make_document
from reports.digest import compose_digest, write_digest
from reports.pictures import write_pictures
from reports.report import write_document, yearly_report


def _brief_options(kb, since, until, areas, since_last, theme, lang, next_session=None) -> dict:
    last = last_session(kb.config.root)
    if since_last:
        if since:
            raise click.UsageError("use --since or --since-last, not both")
        if last is None:
            raise click.UsageError("--since-last: no learning session is recorded yet (kb brief --mark records one)")
        since = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    areas, since, until = since_until(kb.config, areas, since, until)
    if next_session:
        try:
            dt.date.fromisoformat(next_session)
        except ValueError:
            raise click.BadParameter(f"{next_session!r} is not YYYY-MM-DD", param_hint="--next-session") from None
    return {"since": since, "until": until, "areas": list(areas), "theme": theme, "lang": lang,
            "last_brief": last, "next_session": next_session}


def _output_format(fmt, output) -> str:
    if fmt:
        return fmt
    return "html" if output and str(output).lower().endswith((".html", ".htm")) else "md"


@click.command()
@root_option
@model_option
@period_options
@click.option("--since-last", is_flag=True, help="Start the period the day after the last learning session.")
@click.option("--theme", help="Focus on the entries nearest this theme (a search, e.g. 'upphandling').")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's suffix, else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically). Default: print.")
@click.option("--mark", is_flag=True, help="Record the learning session this brief is for in sessions.tsv, "
              "held on --date (default today) and called --title. From that day on, the next brief counts "
              "what is new, validated and overdue from it.")
@click.option("--date", "session_date", metavar="YYYY-MM-DD",
              help="With --mark: the session's date. A later date than today plans it (the window does not "
              "move before that day) and is the next session's date in this brief.")
@click.option("--title", "session_title", default="", help='With --mark: the session\'s title, e.g. '
              '"Lärtillfälle december 2026". Default: Lärtillfälle DATE.')
@click.option("--next-session", metavar="YYYY-MM-DD", help="Date of the next learning session (open actions due "
              "before it are listed). Default: a planned session, else from the rhythm of the sessions held.")
@click.option("--base-url", help="Link entries to this Datasette (BASE/-/kb/entry/ID) instead of the entry files.")
@click.option("--no-pictures", is_flag=True, help="Leave the pictures out.")
@json_option
@handle_errors
def brief(root, model, since, until, areas, lang, since_last, theme, fmt, output, mark, session_date,
          session_title, next_session, base_url, no_pictures, as_json):
    """The handout for a learning session: recurring obstacles, cross-area synergies with
    quotes, goal conflicts, what is new since the last session, actions to follow up, the
    learning agenda, what was validated, and questions to discuss.

    \b
      kb brief --since 2026-01 -o brief.html      one A4-ready file, pictures inside
      kb brief --since-last --area energi -o brief.md
      kb brief --since-last -o brief.html --mark --date 2026-12-09 --title "Lärtillfälle december"
    """
    if (session_date or session_title) and not mark:
        raise click.UsageError("--date and --title name the session that --mark records; add --mark")
    kb = open_kb(root, model)
    if session_date:
        try:
            session_date, _ = check_session(session_date, "")
        except KBError:
            raise click.BadParameter(f"{session_date!r} is not YYYY-MM-DD", param_hint="--date") from None
        if not next_session and session_date > dt.date.today().isoformat():
            next_session = session_date  # the brief is for that session
    options = _brief_options(kb, since, until, areas, since_last, theme, lang or kb.config.language, next_session)
    written = make_document(kb, fmt=_output_format(fmt, output), output=Path(output) if output else None,
                            base_url=base_url, pictures=not no_pictures and not as_json, **options)
    if as_json:
        print_json(written.brief.to_dict())
    elif not output:
        click.echo(written.text, nl=False)
    if output:
        for path in written.files:
            click.echo(f"wrote {path}", err=True)
    if mark:
        recorded = add_session(kb.config, session_date or written.brief.made, session_title)
        key = "cli_session_recorded" if recorded.held() else "cli_session_planned"
        click.echo(texts(kb.config.language)[key].format(date=recorded.date, title=recorded.title,
                                                         file=SESSIONS_FILE), err=True)


@click.command()
@root_option
@model_option
@click.option("--year", required=True, type=click.IntRange(1900, 2999), help="The year to report on.")
@click.option("--area", "areas", multiple=True, help="Only these area slugs (repeatable).")
@click.option("--lang", type=click.Choice(["sv", "en"]),
              help="Language of the text. Default: the knowledge base's (kb.toml language).")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's suffix, else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically). Default: print.")
@click.option("--base-url", help="Link to this Datasette's entry and roadmap pages instead of the files.")
@json_option
@handle_errors
def report(root, model, year, areas, lang, fmt, output, base_url, as_json):
    """Per area, what was learned in a year: entries by type, the main lessons, obstacles
    that need policy changes and the roadmap actions, for the yearly contract revision."""
    kb = open_kb(root, model)
    areas, _, _ = since_until(kb.config, areas, None)
    result = yearly_report(kb, year, areas=areas, lang=lang or kb.config.language)
    if as_json:
        print_json(result.to_dict())
        return
    text = write_document(result, fmt=_output_format(fmt, output), output=output, base_url=base_url,
                          root=kb.config.root)
    if output:
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command()
@root_option
@model_option
@period_options
@click.option("--theme", help="Focus on the entries nearest this theme.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for network, timeline and map as .png and .svg.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["png", "svg"]),
              help="Only this format (repeatable). Default: both.")
@handle_errors
def pictures(root, model, since, until, areas, lang, theme, out_dir, formats):
    """Which areas share lessons (network), the recurring obstacles over time (timeline) and
    the map of lessons (map), as PNG and SVG."""
    kb = open_kb(root, model)
    options = _brief_options(kb, since, until, areas, False, theme, lang or kb.config.language)
    _, figures = brief_with_pictures(kb, **options)
    for path in write_pictures(figures, Path(out_dir), formats=tuple(formats) or ("png", "svg")):
        click.echo(str(path))


@click.command()
@root_option
@model_option
@click.option("--area", required=True, help="The area (slug) the digest is for.")
@click.option("--since", help="Start of the period (YYYY-MM-DD). Default: 30 days ago.")
@click.option("--since-last", is_flag=True, help="Start at the last learning session.")
@click.option("--lang", type=click.Choice(["sv", "en"]),
              help="Language of the text. Default: the knowledge base's (kb.toml language).")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's suffix, else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically). Default: print.")
@click.option("--base-url", help="Link entries to this Datasette (BASE/-/kb/entry/ID) instead of the entry files.")
@click.option("--for", "audience", type=click.Choice(AUDIENCES), default="staff", show_default=True,
              help="Who reads it: staff (everything), partner (partner and public lessons, actions and "
                   "questions only) or public. A team with partners in it gets --for partner.")
@json_option
@handle_errors
def digest(root, model, area, since, since_last, lang, fmt, output, base_url, audience, as_json):
    """A short digest for one area: new lessons from other areas that touch its roadmap
    actions, its actions falling due, and new learning questions (to send to the area team).

    \b
      kb digest --area energi --since-last -o energi.html
      kb digest --area energi --since-last --for partner -o energi-partner.html
    """
    kb = KnowledgeBase.open(root, model=model, read_only=audience != "staff", audience=audience)
    if since_last and since:
        raise click.UsageError("use --since or --since-last, not both")
    if area not in kb.config.areas:
        raise click.BadParameter(f"unknown area {area!r}; use one of: {', '.join(sorted(kb.config.areas))}",
                                 param_hint="--area")
    if since:
        _, since, _ = since_until(kb.config, (), since)
    found = compose_digest(kb, area, since=since, since_last=since_last, lang=lang or kb.config.language)
    if as_json:
        print_json(found.to_dict())
        return
    text = write_digest(kb, found, fmt=_output_format(fmt, output), output=Path(output) if output else None,
                        base_url=base_url)
    if output:
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
