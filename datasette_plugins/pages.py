"""Our pages: search (HTML and JSON) and one page per entry.

The search is the project's own (``KnowledgeBase.search`` through :mod:`.state`); these
views only parse the request, call it in a worker thread and render the result.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from datasette.utils import tilde_encode
from markupsafe import Markup

from analysis.loop import visible_actions
from analysis.reasons import render_reasons
from datasette_plugins.render import markdown_to_html
from datasette_plugins.signin import cache_scope
from datasette_plugins.state import MAX_QUERY_CHARS, KBState, get_state
from datasette_plugins.web import (
    html_page,
    json_response,
    no_kb,
    page_context,
    read_filter_args,
    request_language,
)
from indexer.actions import load_actions
from kb.core.config import ENTRY_TYPES
from kb.core.errors import KBError
from kb.core.followed import load_sources
from kb.core.publication import is_followed_id
from kb.core.store import FOLLOWED_TABLE, SOURCES_TABLE, decode_entry_row
from kb.core.texts import texts
from search.filters import OWN_SOURCE, Filters
from search.query import SearchResults, area_name_of
from search.text import highlight_html, query_terms

DEFAULT_LIMIT = 10
EXTRA_FIELD_KEYS = {"author": "field_author"}  # front matter keys beyond the entry format's
MAX_LIMIT = 50

# --- request parsing ------------------------------------------------------------------
@dataclass
class SearchRequest:
    q: str = ""
    areas: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    since: str = ""
    until: str = ""
    sources: list[str] = field(default_factory=list)  # followed cities' names, or "own"
    limit: int = DEFAULT_LIMIT
    lang: str = "sv"
    show_all: bool = False  # every result, also when none is close
    close_only: bool = False  # only the close results
    close_at: float | None = None  # a match score from which a result is close, instead of the calibrated one
    errors: list[str] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    @property
    def show(self) -> str:
        """What the search shows (``search.match.shown``)."""
        return "all" if self.show_all else "close" if self.close_only else "default"

    def query_string(self, **changes) -> str:
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        params += [("area", a) for a in self.areas] + [("type", t) for t in self.types]
        if self.tags:
            params.append(("tag", ", ".join(self.tags)))
        params += [(k, v) for k, v in (("since", self.since), ("until", self.until)) if v]
        params += [("source", source) for source in self.sources]
        if self.limit != DEFAULT_LIMIT:
            params.append(("n", str(self.limit)))
        if changes.get("show_all", self.show_all):
            params.append(("all", "1"))
        elif changes.get("close_only", self.close_only):
            params.append(("close", "1"))
        if self.close_at is not None:
            params.append(("close_at", str(self.close_at)))
        lang = changes.get("lang", self.lang)
        if lang != "sv":
            params.append(("lang", lang))
        return urlencode(params)

    def filters_dict(self) -> dict:
        return {"area": self.areas, "type": self.types, "tag": self.tags,
                "since": self.filters.since, "until": self.filters.until, "source": list(self.filters.sources)}


def parse_search_request(request, state: KBState) -> SearchRequest:
    args = request.args  # parsed anew on each access: once is enough
    lang = request_language(request, state)
    t = texts(lang)
    sr = SearchRequest(lang=lang)
    sr.q = " ".join((args.get("q") or "").split())
    if len(sr.q) > MAX_QUERY_CHARS:
        sr.errors.append(t["search_query_too_long"].format(n=MAX_QUERY_CHARS))
    given = read_filter_args(args, state.config, t)
    sr.areas, sr.types, sr.tags, sr.since, sr.until = given.areas, given.types, given.tags, given.since, given.until
    sr.sources = given.sources
    sr.filters = given.filters
    sr.errors += given.errors
    try:
        sr.limit = max(1, min(MAX_LIMIT, int(args.get("n") or DEFAULT_LIMIT)))
    except ValueError:
        sr.limit = DEFAULT_LIMIT
    sr.show_all = _flag(args.get("all"))
    sr.close_only = _flag(args.get("close")) and not sr.show_all
    if args.get("close_at"):
        try:
            sr.close_at = float(args.get("close_at"))
        except ValueError:
            sr.errors.append(t["search_bad_close_at"].format(value=args.get("close_at")))
        else:
            if not math.isfinite(sr.close_at):
                sr.errors.append(t["search_bad_close_at"].format(value=args.get("close_at")))
                sr.close_at = None
    return sr


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


async def run_search(state: KBState, sr: SearchRequest, scope: str | None) -> SearchResults:
    """The query's vector first (the session's cache, else a micro-batch: no worker thread
    waits for it), then the search: at once when the index is loaded and small."""
    if sr.errors or not sr.q:
        return SearchResults()
    vector = await state.query_vector(sr.q, scope)
    if state.answers_inline():
        return state.search(sr.q, sr.filters, sr.limit, show=sr.show, close_at=sr.close_at, query_vector=vector)
    return await asyncio.to_thread(state.search, sr.q, sr.filters, sr.limit, show=sr.show, close_at=sr.close_at,
                                   query_vector=vector)


# --- views ----------------------------------------------------------------------------
async def search_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    sr = parse_search_request(request, state)
    results = await run_search(state, sr, cache_scope(request))
    terms = query_terms(sr.q)
    t = texts(sr.lang)
    other_lang = "en" if sr.lang == "sv" else "sv"
    context = {
        **page_context(datasette, state, sr.lang),
        "sr": sr,
        "areas": list(state.config.areas.values()),
        "types": ENTRY_TYPES,
        "sources": followed_names(state),
        "own_source": OWN_SOURCE,
        "results": [
            {"r": r, "snippet_html": Markup(highlight_html(r.snippet, terms)),
             "type_label": t.get(f"entry_type_{r.type}", r.type)}
            for r in results
        ],
        "left_out": results.left_out,
        "any_close": results.any_close,
        "close_count": sum(1 for r in results if r.match == "close"),
        "show_all_url": "?" + sr.query_string(show_all=True),
        "show_default_url": "?" + sr.query_string(show_all=False, close_only=False),
        "other_lang": other_lang,
        "other_lang_url": "?" + sr.query_string(lang=other_lang),
        "json_url": datasette.urls.path("/-/kb/search.json") + "?" + sr.query_string(),
    }
    return await html_page(datasette, request, "kb_search.html", context, status=400 if sr.errors else 200)


async def search_json(datasette, request):
    """``{"ok", "query", "filters", "limit", "show", "close_at", "any_close", "left_out", "count",
    "results": [SearchResult.to_dict() + url]}``."""
    state = get_state(datasette)
    if state is None:
        return no_kb(as_json=True)
    sr = parse_search_request(request, state)
    if sr.errors:
        return json_response({"ok": False, "errors": sr.errors}, 400)
    try:
        results = await run_search(state, sr, cache_scope(request))
    except KBError as exc:
        return json_response({"ok": False, "errors": [str(exc)]}, 503)
    prefix = datasette.urls.path("/-/kb/entry/")
    return json_response({
        "ok": True, "query": sr.q, "filters": sr.filters_dict(), "limit": sr.limit,
        "show": sr.show, "close_at": None if results.threshold is None else round(results.threshold, 3),
        "any_close": results.any_close, "left_out": results.left_out, "count": len(results),
        "results": [{**r.to_dict(), "url": prefix + quote(r.id, safe="")} for r in results],
    })


def search_back_url(datasette, request) -> str | None:
    """The search this entry page was opened from (the Referer, when it is our own search
    page with a question), for "Tillbaka till sökningen"; None when there was no search."""
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    search_path = datasette.urls.path("/-/kb/search")
    if parts.path != search_path or (parts.netloc and parts.netloc != request.headers.get("host", "")):
        return None
    params = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "q" and v.strip() for k, v in params):
        return None
    return search_path + "?" + urlencode(params)


async def entry_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    t = texts(lang)
    entry_id = request.url_vars["entry_id"]
    db = datasette.get_database(state.database)
    row = (await db.execute("select * from entries where id = ?", [entry_id])).first()
    followed = None
    if row is None and is_followed_id(entry_id):  # another city's lesson (kb sync)
        row, followed = await followed_lesson(db, entry_id)
    common = page_context(datasette, state, lang)
    if row is None:
        return await html_page(datasette, request, "kb_entry.html", {**common, "entry": None}, status=404)
    entry = decode_entry_row(dict(row))
    table = FOLLOWED_TABLE if followed else "entries"
    titles = {
        r["id"]: dict(r)
        for r in (await db.execute(
            f"select id, title, area, type, date from {table} where id in (select value from json_each(?))",
            [json.dumps(entry["related"])],
        )).rows
    }
    cited_by = [dict(r) for r in (await db.execute(
        "select id, title, area, type, date from entries "
        "where exists (select 1 from json_each(entries.related) where value = ?) order by date desc",
        [entry_id],
    )).rows]
    related = await asyncio.to_thread(state.related_lessons, entry_id)
    # the actions the reader may see, citing only the lessons they may see (this one is)
    actions = [] if followed else await asyncio.to_thread(state.run, lambda kb: visible_actions(
        load_actions(state.config).citing(entry_id), kb.audience, set(kb.store.entry_ids())))
    context = {
        **common,
        "entry": entry,
        "back_url": search_back_url(datasette, request),
        "followed": followed,
        "area_name": area_name_of(state.config, entry),
        "area_names": {slug: a.name for slug, a in state.config.areas.items()},
        "type_label": t.get(f"entry_type_{entry['type']}", entry["type"]),
        "body_html": Markup(markdown_to_html(entry.get("body"))),
        "confirmed": [(rid, titles.get(rid)) for rid in entry["related"]],
        "cited_by": cited_by,
        "related": related,
        "actions": [a.to_dict() for a in actions],
        "action_url": lambda action_id: datasette.urls.path("/-/kb/actions/" + quote(action_id, safe=""))
        + ("?lang=en" if lang == "en" else ""),
        "new_action_url": datasette.urls.path("/-/kb/actions/new") + "?" + urlencode(
            {"lesson": entry_id, **({"lang": lang} if lang != "sv" else {})}),
        "why": lambda reasons: "; ".join(render_reasons(reasons, lang, state.config.area_names())),
        "policy_labels": [t.get(f"policy_level_{p}", p) for p in entry["policy"]],
        "row_url": datasette.urls.table(state.database, "entries") + "/" + tilde_encode(entry_id),
        "links_url": datasette.urls.path("/-/kb/links/" + quote(entry_id, safe="")) + common["lang_suffix"],
        # front matter keys of the entry's own: a word for those we know, the key itself otherwise
        "extra_fields": [] if followed else [(key, t.get(EXTRA_FIELD_KEYS.get(key, ""), ""), value)
                                             for key, value in entry["extra"].items()],
    }
    return await html_page(datasette, request, "kb_entry.html", context)


def followed_names(state: KBState) -> list[str]:
    """The names of the followed cities, for the search page's source filter."""
    try:
        return [source.name for source in load_sources(state.config)]
    except KBError:
        return []


async def followed_lesson(db, entry_id: str) -> tuple[dict | None, dict | None]:
    """A followed lesson's row, and what the page says about where it comes from: the
    source, its organisation, licence, original page (http(s) only) and when it was fetched."""
    row = (await db.execute(f"select * from {FOLLOWED_TABLE} where id = ?", [entry_id])).first()
    if row is None:
        return None, None
    extra = json.loads(row["extra"] or "{}")
    source = (await db.execute(f"select * from {SOURCES_TABLE} where name = ?", [row["source"]])).first()
    return row, {
        "name": row["source"], "organisation": extra.get("organisation") or "",
        "licence": extra.get("licence") or "", "url": extra.get("url") or "",
        "fetched": (source["fetched"] if source else "")[:10], "updated": (extra.get("updated") or "")[:10],
        "actions": extra.get("actions") or [],
    }


ROUTES = [
    (r"^/-/kb/search$", search_page),
    (r"^/-/kb/search\.json$", search_json),
    (r"^/-/kb/entry/(?P<entry_id>[^/]+)$", entry_page),
]
