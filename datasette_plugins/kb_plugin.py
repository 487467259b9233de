"""The Datasette plugin (entry point ``datasette: kb``): hooks only, the work is elsewhere.

Hooks (all exist in Datasette 0.65 and 1.0): ``startup``, ``prepare_jinja2_environment``,
``register_routes``, ``prepare_connection``, ``render_cell``, ``extra_css_urls``,
``menu_links``, ``canned_queries``, ``asgi_wrapper``, ``skip_csrf``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from datasette import hookimpl
from markupsafe import Markup

from datasette_plugins import metadata as kb_metadata
from datasette_plugins.pages import ROUTES, SECURITY_HEADERS, static_version
from datasette_plugins.render import markdown_to_html
from datasette_plugins.state import MAX_K, MAX_QUERY_CHARS, get_state
from kb.core.errors import EntryNotFound

TEMPLATES_DIR = Path(__file__).parent / "templates"


@hookimpl
def startup(datasette):
    state = get_state(datasette)
    if state is None:
        return
    defaults = kb_metadata.build_metadata(
        state.config, state.database, search_path=datasette.urls.path("/-/kb/search")
    )
    kb_metadata.apply_default_metadata(datasette, defaults)


@hookimpl
def prepare_jinja2_environment(env, datasette):
    """Make our templates findable, after a --template-dir and before Datasette's own.

    (Datasette looks for a plugin's templates/ inside the plugin's package; ours is a
    module of ``datasette_plugins``, so we add the folder ourselves.)"""
    from jinja2 import ChoiceLoader, FileSystemLoader

    loader = env.loader
    first = loader.loaders[0] if isinstance(loader, ChoiceLoader) and loader.loaders else None
    if isinstance(first, FileSystemLoader) and str(TEMPLATES_DIR) not in first.searchpath:
        first.searchpath.insert(max(0, len(first.searchpath) - 1), str(TEMPLATES_DIR))
    elif first is None:
        env.loader = ChoiceLoader([loader, FileSystemLoader(str(TEMPLATES_DIR))])
    # our pages run under a CSP without 'unsafe-inline': allow Datasette's own small
    # inline menu script by its hash, nothing else
    try:
        source = env.loader.get_source(env, "_close_open_menus.html")[0]
        datasette._kb_script_hashes = tuple(
            "sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
            for s in re.findall(r"<script[^>]*>(.*?)</script>", source, re.S)
        )
    except Exception:  # noqa: BLE001 - only a nicety for the menu
        datasette._kb_script_hashes = ()


@hookimpl
def register_routes(datasette):
    return ROUTES


@hookimpl
def prepare_connection(conn, database, datasette):
    """``kb_search(query[, k])`` and ``kb_similar(id[, k])``: JSON arrays of {id, score}."""
    state = get_state(datasette)
    if state is None or database != state.database:
        return

    def kb_search(query, k=10):
        if not query:
            return "[]"
        results = state.search(str(query)[:MAX_QUERY_CHARS], limit=_clamp(k))
        return json.dumps([{"id": r.id, "score": round(r.score, 4)} for r in results])

    def kb_similar(entry_id, k=10):
        if not entry_id:
            return "[]"

        try:
            results = state.similar(str(entry_id), limit=_clamp(k))
        except EntryNotFound:
            return "[]"
        return json.dumps([{"id": r.id, "score": round(r.score, 4)} for r in results])

    for name, fn in (("kb_search", kb_search), ("kb_similar", kb_similar)):
        conn.create_function(name, 1, fn)
        conn.create_function(name, 2, fn)


def _clamp(k) -> int:
    try:
        return max(1, min(MAX_K, int(k)))
    except (TypeError, ValueError):
        return 10


@hookimpl
def render_cell(value, column, table, database, datasette):
    state = get_state(datasette)
    if state is None or database != state.database:
        return None
    if column == "embedding" and isinstance(value, bytes | bytearray):
        return Markup('<span class="kb-muted">vektor, {} dim</span>').format(len(value) // 4)
    if table == "entries" and column == "body" and isinstance(value, str):
        return Markup('<div class="kb-cell-body">') + Markup(markdown_to_html(value)) + Markup("</div>")
    return None


@hookimpl
def extra_css_urls(database, datasette):
    state = get_state(datasette)
    if state is None or database != state.database:
        return []
    return [datasette.urls.path("/-/kb/static/kb.css") + "?v=" + static_version()]


@hookimpl
def menu_links(datasette):
    state = get_state(datasette)
    if state is None:
        return []
    return [
        {"href": datasette.urls.path("/-/kb/search"), "label": "Sök i kunskapsbanken"},
        {"href": datasette.urls.table(state.database, "entries") + "?" + kb_metadata.entries_browse_query(),
         "label": "Bläddra bland poster"},
    ]


@hookimpl
def canned_queries(datasette, database):
    state = get_state(datasette)
    if state is None or database != state.database:
        return None
    return kb_metadata.canned_queries()


READ_ONLY_API = ("/-/kb/search.json",)


@hookimpl
def skip_csrf(datasette, scope):
    """The JSON search API takes GET only and changes nothing: no CSRF cookie to make and
    sign on each of its calls (the form pages keep the protection)."""
    path = scope.get("path", "")
    return scope.get("method") in ("GET", "HEAD") and any(path.endswith(p) for p in READ_ONLY_API)


MAX_REQUEST_BYTES = 1_000_000  # no page takes more (the capture form: 128 kB)


@hookimpl
def asgi_wrapper(datasette):
    """nosniff and a Referrer-Policy on every response (our pages also set a CSP); a request
    body announced larger than MAX_REQUEST_BYTES is refused (413) before anything reads it."""
    extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    def wrap(app):
        async def add_headers(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            length = dict(scope.get("headers") or []).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *extra]})
                return await send({"type": "http.response.body", "body": b"Request too large.\n"})

            async def wrapped_send(event):
                if event["type"] == "http.response.start":
                    present = {name.lower() for name, _ in event.get("headers", [])}
                    event = {**event, "headers": list(event.get("headers", []))
                             + [h for h in extra if h[0] not in present]}
                await send(event)

            return await app(scope, receive, wrapped_send)

        return add_headers

    return wrap
