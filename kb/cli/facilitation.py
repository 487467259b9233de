"""Facilitator outputs: the session brief, the yearly report, pictures."""

from __future__ import annotations

import datetime as dt

import click

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
from reports.brief import brief_with_pictures, make_document, read_last_brief, record_brief
from reports.pictures import write_pictures
from reports.report import write_document, yearly_report


def _brief_options(kb, since, until, areas, since_last, theme, lang) -> dict:
    last = read_last_brief(kb.config)
    if since_last:
        if since:
            raise click.UsageError("use --since or --since-last, not both")
        if last is None:
            raise click.UsageError("--since-last: no brief has been written to a file yet")
        since = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    areas, since, until = since_until(kb.config, areas, since, until)
    return {"since": since, "until": until, "areas": list(areas), "theme": theme, "lang": lang,
            "last_brief": last}


def _output_format(fmt, output) -> str:
    if fmt:
        return fmt
    return "html" if output and str(output).lower().endswith((".html", ".htm")) else "md"


@click.command()
@root_option
@model_option
@period_options
@click.option("--since-last", is_flag=True, help="Start the period the day after the last brief written to a file.")
@click.option("--theme", help="Focus on the entries nearest this theme (a search, e.g. 'upphandling').")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Default: from -o's suffix, else md.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically) and "
              "remember today as the last brief's date. Default: print.")
@click.option("--base-url", help="Link entries to this Datasette (BASE/-/kb/entry/ID) instead of the entry files.")
@click.option("--no-pictures", is_flag=True, help="Leave the pictures out.")
@json_option
@handle_errors
def brief(root, model, since, until, areas, lang, since_last, theme, fmt, output, base_url, no_pictures, as_json):
    """The handout for a learning session: recurring obstacles, cross-area synergies with
    quotes, goal conflicts, what is new since the last brief, and questions to discuss.

    \b
      kb brief --since 2026-01 -o brief.html      one A4-ready file, pictures inside
      kb brief --since-last --area energi -o brief.md
    """
    from pathlib import Path

    kb = open_kb(root, model)
    options = _brief_options(kb, since, until, areas, since_last, theme, lang)
    written = make_document(kb, fmt=_output_format(fmt, output), output=Path(output) if output else None,
                            base_url=base_url, pictures=not no_pictures and not as_json, **options)
    if as_json:
        print_json(written.brief.to_dict())
    elif not output:
        click.echo(written.text, nl=False)
    if output:
        record_brief(kb.config, written.brief, Path(output))
        for path in written.files:
            click.echo(f"wrote {path}", err=True)


@click.command()
@root_option
@model_option
@click.option("--year", required=True, type=click.IntRange(1900, 2999), help="The year to report on.")
@click.option("--area", "areas", multiple=True, help="Only these area slugs (repeatable).")
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
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
    result = yearly_report(kb, year, areas=areas, lang=lang)
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
              help="Folder for map, heatmap and timeline as .png and .svg.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["png", "svg"]),
              help="Only this format (repeatable). Default: both.")
@handle_errors
def pictures(root, model, since, until, areas, lang, theme, out_dir, formats):
    """The map of lessons, the synergy heatmap and the obstacle timeline, as PNG and SVG."""
    from pathlib import Path

    kb = open_kb(root, model)
    options = _brief_options(kb, since, until, areas, False, theme, lang)
    _, figures = brief_with_pictures(kb, **options)
    for path in write_pictures(figures, Path(out_dir), formats=tuple(formats) or ("png", "svg")):
        click.echo(str(path))
