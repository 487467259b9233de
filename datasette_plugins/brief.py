"""Datasette pages for facilitators, a plugin module of its own (entry point
``kb_brief``):

* ``/-/kb/brief``                           a form (period, areas, theme, language) and the brief
* ``/-/kb/brief.md``, ``/-/kb/brief.html``  the same brief as a download (attachment); the
                                            HTML is one self-contained, A4-ready file
* ``/-/kb/pictures/<name>.<svg|png>``       network / timeline / map for the same query string,
                                            cached per index generation (and verdicts file)

The pictures are also shown on ``/-/kb/synergies`` and ``/-/kb/obstacles``: those
templates include ``brief_pictures.html``, which draws only when this module provides
``kb_picture_url`` (hook ``extra_template_vars``). The work is done by
:mod:`search.brief` and :mod:`search.pictures`; this module parses requests and caches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from urllib.parse import urlencode

from datasette.utils.asgi import Response
from markupsafe import Markup

from datasette_plugins.crossarea import parse_filters
from datasette_plugins.state import MAX_QUERY_CHARS, get_state
from datasette_plugins.web import (
    SECURITY_HEADERS,
    html_page,
    no_kb,
    page_context,
    request_language,
    static_url,
)
from kb.core.actions import ACTIONS_DIR
from kb.core.agenda import AGENDA_DIR
from kb.core.decisions import decisions_path
from kb.core.errors import KBError
from kb.core.files import files_state
from kb.core.obstacle_groups import groups_path
from kb.core.sessions import last_held, last_session, sessions_path
from kb.core.texts import DEFAULT_LANGUAGE, texts
from reports.brief import (
    Links,
    brief_with_pictures,
    data_uri,
    render_html,
    render_html_fragment,
    render_markdown,
)
from reports.pictures import figure_bytes

CACHE_ATTRIBUTE = "_kb_brief_cache"
CACHE_SIZE = 24
PICTURES = ("network", "timeline", "map")
PICTURE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
# the synergies page has the area x area table already: the map of lessons beside it, no second matrix
PAGE_PICTURES = {"crossarea_synergies.html": ("map",), "crossarea_obstacles.html": ("timeline",)}


# --- request -> options --------------------------------------------------------------------
def brief_request(request, state) -> tuple[dict, list[str]]:
    """The brief's options from the query string (``area`` repeatable, ``since``, ``until``,
    ``since_last``, ``theme``, ``lang``) and any errors, in the form the library takes."""
    form, errors = parse_filters(request, state)
    lang = request_language(request, state)
    theme = " ".join((request.args.get("theme") or "").split())[:MAX_QUERY_CHARS] or None
    last = last_session(state.config.root)  # the last session held: a planned one moves nothing
    since = form["since"]
    if request.args.get("since_last") and last:
        since = (dt.date.fromisoformat(last) + dt.timedelta(days=1)).isoformat()
    options = {"since": since, "until": form["until"], "areas": form["areas"], "theme": theme, "lang": lang,
               "last_brief": last}
    return options, errors


def query_string(options: dict) -> str:
    params = [("area", a) for a in options.get("areas") or []]
    params += [(k, options[k]) for k in ("since", "until", "theme") if options.get(k)]
    if options.get("lang", DEFAULT_LANGUAGE) != DEFAULT_LANGUAGE:
        params.append(("lang", options["lang"]))
    return urlencode(params)


# --- cache: one composed brief (and its pictures) per index generation and options -----------
class BriefCache:
    """Small LRU of composed briefs and rendered pictures for one Datasette instance.

    The key holds the index generation and when the verdicts, the actions, the learning
    questions and the sessions last changed, so `kb index`, `kb link`, an action validated or a
    session recorded make the next request compute afresh; old keys just fall out."""
    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def _cache(datasette) -> BriefCache:
    cache = getattr(datasette, CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = BriefCache()
        setattr(datasette, CACHE_ATTRIBUTE, cache)
    return cache


def _version(kb) -> tuple:
    root = kb.config.root
    # each audience has a brief of its own, made from its own index (datasette_plugins.audience);
    # a group renamed on the web (obstacles.md) shows at once
    return (kb.audience, kb.store.generation,
            *files_state(decisions_path(root), sessions_path(root), groups_path(root),
                         folders=(root / ACTIONS_DIR, root / AGENDA_DIR)))


def _key(options: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))


def _composed(datasette, kb, options: dict):
    key = ("brief", _version(kb), dt.date.today().isoformat(), _key(options))
    return _cache(datasette).get_or_make(key, lambda: brief_with_pictures(kb, **options))


async def composed(datasette, state, options: dict):
    """(brief, figures) for these options, from the cache when the index has not moved."""
    return await asyncio.to_thread(state.run, lambda kb: _composed(datasette, kb, options))


async def picture_bytes(datasette, state, options: dict, name: str, fmt: str) -> bytes:
    """One picture as bytes; drawn under the KB lock (matplotlib figures are not shared
    between threads) and cached with the brief's key."""
    def work(kb):
        key = ("picture", _version(kb), dt.date.today().isoformat(), _key(options), name, fmt)
        return _cache(datasette).get_or_make(
            key, lambda: figure_bytes(_composed(datasette, kb, options)[1][name], fmt))

    return await asyncio.to_thread(state.run, work)


# --- views --------------------------------------------------------------------------------------
def _picture_urls(datasette, options: dict, fmt: str = "svg") -> dict[str, str]:
    query = query_string(options)
    return {name: datasette.urls.path(f"/-/kb/pictures/{name}.{fmt}") + (f"?{query}" if query else "")
            for name in PICTURES}


async def brief_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    options, errors = brief_request(request, state)
    lang = options["lang"]
    body = ""
    if not errors:
        try:
            brief, _ = await composed(datasette, state, options)
            links = Links(state.config.root, base_url=datasette.urls.path("").rstrip("/"))
            body = render_html_fragment(brief, links, _picture_urls(datasette, options))
        except KBError as exc:
            errors = [str(exc)]
    query = query_string(options)
    downloads = {fmt: datasette.urls.path(f"/-/kb/brief.{fmt}") + (f"?{query}" if query else "")
                 for fmt in ("html", "md")}
    context = {
        **page_context(datasette, state, lang),
        "brief_css": static_url(datasette, "brief.css"),
        "brief_url": datasette.urls.path("/-/kb/brief"),
        "areas": list(state.config.areas.values()),
        "options": options,
        "since_text": request.args.get("since") or "",
        "until_text": request.args.get("until") or "",
        "since_last": bool(request.args.get("since_last")),
        "last_held": last_held(state.config.root),
        "sessions_url": datasette.urls.path("/-/kb/sessions") + page_context(datasette, state, lang)["lang_suffix"],
        "brief_html": Markup(body),
        "downloads": downloads,
        "errors": errors,
    }
    return await html_page(datasette, request, "brief_page.html", context, status=400 if errors else 200)


def link_base(datasette, state) -> str:
    """Where a downloaded brief links to: kb.toml's ``base_url``, else this site's own
    paths (relative). Never the request's Host header, which the client chooses."""
    return state.config.base_url or datasette.urls.path("").rstrip("/")


async def brief_download(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    options, errors = brief_request(request, state)
    if errors:
        return Response.text("\n".join(errors), status=400, headers=SECURITY_HEADERS)
    fmt = request.url_vars["format"]
    try:
        brief, figures = await composed(datasette, state, options)
    except KBError as exc:
        return Response.text(str(exc), status=503, headers=SECURITY_HEADERS)
    base = link_base(datasette, state)
    links = Links(state.config.root, base_url=base)
    if fmt == "html":
        sources = {n: data_uri(await picture_bytes(datasette, state, options, n, "svg"), "image/svg+xml")
                   for n in figures}
        text, content_type = render_html(brief, links, sources), "text/html; charset=utf-8"
    else:
        sources = {n: base + u.removeprefix(datasette.urls.path("").rstrip("/"))
                   for n, u in _picture_urls(datasette, options, "png").items()}
        text, content_type = render_markdown(brief, links, sources), "text/markdown; charset=utf-8"
    filename = f"{texts(brief.lang)['brief_file_stem']}-{brief.made}.{fmt}"
    return Response(text, status=200, content_type=content_type, headers={
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{filename}"',
        # the file is opened outside Datasette: no script, its own inline <style> only
        "Content-Security-Policy": "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'",
    })


async def picture(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    options, errors = brief_request(request, state)
    if errors:
        return Response.text("\n".join(errors), status=400, headers=SECURITY_HEADERS)
    name, fmt = request.url_vars["name"], request.url_vars["format"]
    try:
        data = await picture_bytes(datasette, state, options, name, fmt)
    except KBError as exc:
        return Response.text(str(exc), status=503, headers=SECURITY_HEADERS)
    etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache",
               "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    if request.headers.get("if-none-match") == etag:
        return Response("", status=304, headers=headers)
    return Response(data, status=200, content_type=PICTURE_TYPES[fmt], headers=headers)


ROUTES = [
    (r"^/-/kb/brief$", brief_page),
    (r"^/-/kb/brief\.(?P<format>md|html)$", brief_download),
    (r"^/-/kb/pictures/(?P<name>network|timeline|map)\.(?P<format>svg|png)$", picture),
]


def template_vars(template, request, datasette) -> dict:
    """``kb_picture_url(name, form)`` and the pictures to show, on the cross-area pages."""
    if template not in PAGE_PICTURES or get_state(datasette) is None:
        return {}

    def kb_picture_url(name: str, form: dict | None = None, fmt: str = "svg") -> str:
        form = form or {}
        lang = request.args.get("lang") if request else None
        return _picture_urls(datasette, {**form, "lang": lang or DEFAULT_LANGUAGE}, fmt)[name]

    return {"kb_picture_url": kb_picture_url, "kb_pictures": PAGE_PICTURES[template],
            "kb_brief_css": static_url(datasette, "brief.css")}
