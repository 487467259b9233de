"""What Datasette tells visitors about itself, made safe to publish.

* ``/-/databases(.json)`` and ``/-/metadata(.json)`` in place of Datasette's own (plugin
  routes come first): the same data without absolute paths (a database file by its name
  only) and without plugin configuration (``kb serve`` puts the knowledge base's folder
  there; other plugins keep secrets there);
* error pages (hook ``handle_exception``): Datasette 0.65's own handler prints every
  exception through rich, which fails outside an ``except`` block, as for a path no route
  matches, so ``/kb/a/b/c`` was a 500 with a traceback in the log. Here a 4xx is answered
  as Datasette would, and anything else is a 500 that names nothing inside (its traceback
  goes to the log, once).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from datasette.database import QueryInterrupted
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

from datasette_plugins.audience import current as current_audience
from datasette_plugins.own_sql import page_language, time_limit_seconds
from datasette_plugins.state import get_state
from kb.core.errors import IndexMissing
from kb.core.texts import text


def without_plugins(value):
    """``value`` with every ``plugins`` key (at any depth) left out."""
    if isinstance(value, dict):
        return {k: without_plugins(v) for k, v in value.items() if k != "plugins"}
    if isinstance(value, list):
        return [without_plugins(v) for v in value]
    return value


def databases(datasette) -> list[dict]:
    """Datasette's ``/-/databases.json``, each file by its name instead of its path, and the
    size of the file the reader's audience reads (a partner's or a visitor's own)."""
    return [
        {"name": name, "route": getattr(db, "route", name), "path": Path(db.path).name if db.path else None,
         "size": _size_read(db), "is_mutable": db.is_mutable, "is_memory": db.is_memory, "hash": db.hash}
        for name, db in datasette.databases.items() if name != "_internal"
    ]


def _size_read(db) -> int | None:
    path = db.audience_path(current_audience()) if hasattr(db, "audience_path") else db.path
    try:
        return os.path.getsize(path) if path else None
    except OSError:
        return None


async def _json_page(datasette, request, filename: str, data) -> Response:
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    if request.url_vars.get("format"):
        return Response.json(data)
    context = {"filename": filename, "data_json": json.dumps(data, indent=4)}
    return Response.html(await datasette.render_template(["show_json.html"], context, request=request))


async def databases_page(datasette, request):
    return await _json_page(datasette, request, "databases.json", databases(datasette))


async def metadata_page(datasette, request):
    return await _json_page(datasette, request, "metadata.json", without_plugins(datasette.metadata()))


ROUTES = [
    (r"^/-/databases(\.(?P<format>json))?$", databases_page),
    (r"^/-/metadata(\.(?P<format>json))?$", metadata_page),
]


def sql_refusal(datasette, request, message: str) -> tuple[str, str] | None:
    """Why SQL of one's own is refused, for Datasette's own words for it (the permission's
    name, or ``_where= is not allowed``): the sentence and its language (the page's); None for
    other refusals."""
    state = get_state(datasette)
    if state is None or message not in ("execute-sql", "_where= is not allowed"):
        return None
    key = "sql_off" if state.config.web.sql == "off" else "sql_not_open"
    lang = page_language(datasette, request.scope)
    return text(key, lang), lang


def interrupted(exception) -> bool:
    """A query stopped at its time limit: raised as such (a CSV answer), or as Datasette's
    page for it ("SQL Interrupted")."""
    return isinstance(exception, QueryInterrupted) or (
        isinstance(exception, DatasetteError) and exception.title == "SQL Interrupted")


async def error_response(datasette, request, exception) -> Response:
    """The answer to an exception while handling ``request`` (Datasette's error template)."""
    info: dict = {}
    title = None
    message_lang = "en"  # Datasette's own messages are English
    if interrupted(exception):  # a query past its time limit: Datasette's words name a setting it does not use
        lang = page_language(datasette, request.scope)
        seconds = f"{time_limit_seconds(datasette):g}"
        status, message, message_lang = 400, text("sql_interrupted", lang, seconds=seconds), lang
    elif isinstance(exception, IndexMissing):  # an audience's file withdrawn (indexer.audience): no stale answer
        lang = page_language(datasette, request.scope)
        status, message, message_lang = 503, text("page_index_unavailable", lang), lang
        print(f"kb: {exception}", file=sys.stderr)
    elif isinstance(exception, Base400):
        status, message = exception.status, exception.args[0] if exception.args else ""
        if status == 403:
            message, message_lang = sql_refusal(datasette, request, message) or (message, message_lang)
    elif isinstance(exception, DatasetteError):
        status, message, title = exception.status, exception.message, exception.title
        if status == 403 and not exception.message_is_html:
            message, message_lang = sql_refusal(datasette, request, message) or (message, message_lang)
        info = dict(exception.error_dict or {})
        if exception.message_is_html:
            message = Markup(message)
    else:
        lang = page_language(datasette, request.scope)
        status, message, message_lang = 500, text("page_internal_error", lang), lang
        traceback.print_exception(type(exception), exception, exception.__traceback__, file=sys.stderr)
    info.update({"ok": False, "error": message, "status": status, "title": title})
    if request.path.split("?")[0].endswith(".json"):
        return Response.json(info, status=status, default=str)
    template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
    html = await template.render_async(dict(info, urls=datasette.urls, app_css_hash=datasette.app_css_hash(),
                                            menu_links=lambda: [], error_lang=message_lang))
    return Response.html(html, status=status)
