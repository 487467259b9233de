"""Atom feeds on the web: ``/-/kb/feed.atom`` (the newest entries; ``?area=``, ``?type=``,
``?tag=``, ``?since=``, ``?until=`` and ``?lang=`` as on the search page) and
``/-/kb/actions.atom`` (open actions by due date, overdue first).

A filtered feed says so in its title ("Nya lärdomar – … – Energi") and its self link keeps
the filter, so a reader that subscribed to two areas tells them apart. Links are absolute
from kb.toml's ``base_url`` (a feed reader or a mail has no page to be relative to), else
relative to the site; never built from a request header, which the client chooses."""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlencode

from datasette.utils.asgi import Response

from analysis.loop import entries_from_index, load_loop
from analysis.policy import quote as entry_quote
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import SECURITY_HEADERS, json_response, no_kb, read_filter_args, request_language
from kb.app.accounts import display_names
from kb.core.actions import OPEN_STATUSES
from kb.core.texts import texts
from reports.feeds import MAX_SUMMARY, Feed, FeedItem, author_name, permanent_id, render_atom
from search.filters import Filters

MAX_ITEMS = 50
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def filter_words(filters: Filters, state: KBState, lang: str) -> str:
    """What a filtered feed holds, in words: area names, type labels, tags, the period."""
    t = texts(lang)
    parts = [", ".join(state.config.area_name(a) for a in filters.areas),
             ", ".join(t.get(f"entry_type_plural_{ty}", ty) for ty in filters.types),
             ", ".join(t["feed_filter_tag"].format(tag=tag) for tag in filters.tags),
             t["feed_filter_since"].format(date=filters.since) if filters.since else "",
             t["feed_filter_until"].format(date=filters.until) if filters.until else ""]
    return " · ".join(p for p in parts if p)


def filter_query(filters: Filters, lang: str, default_lang: str) -> str:
    """The filter as a query string (the self link and the search page keep it)."""
    params = [("area", a) for a in filters.areas] + [("type", ty) for ty in filters.types]
    params += [("tag", tag) for tag in filters.tags]
    params += [(k, v) for k, v in (("since", filters.since), ("until", filters.until)) if v]
    if lang != default_lang:
        params.append(("lang", lang))
    return urlencode(params)


def entries_feed(state: KBState, filters: Filters, lang: str, prefix: str) -> Feed:
    t = texts(lang)

    def work(kb):
        where, params = filters.where("entries")
        ids = [r[0] for r in kb.store.db.execute(
            f"select id from entries where {where} order by date desc, id limit {MAX_ITEMS}", params)]
        rows = kb.store.get_entries(ids)
        return [rows[i] for i in ids if i in rows]

    names = display_names(state.config)
    items = []
    publish_authors = state.config.web.publish_authors  # writers' user names: only when kb.toml says so
    for row in state.run(work):
        area = state.config.area_name(row["area"])
        categories = [area, t.get(f"entry_type_{row['type']}", row["type"]), *row["tags"]]
        items.append(FeedItem(
            id=permanent_id(state.config.title, "entry", row["id"]), title=row["title"],
            link=f"{prefix}/-/kb/entry/{quote(row['id'], safe='')}" + ("?lang=en" if lang == "en" else ""),
            updated=row["date"], summary=entry_quote(row.get("body") or "", MAX_SUMMARY),
            author=author_name((row.get("extra") or {}).get("author"), names, area, publish_authors),
            categories=categories))
    title = t["feed_entries_title"].format(title=state.config.title)
    words = filter_words(filters, state, lang)
    query = filter_query(filters, lang, state.config.language)
    only_filters = filter_query(filters, lang, lang)  # the unfiltered feed keeps the id it always had
    return Feed(id=permanent_id(state.config.title, "entries", lang, *([only_filters] if only_filters else [])),
                title=f"{title} – {words}" if words else title,
                link=f"{prefix}/-/kb/search" + (f"?{query}" if query else ""),
                self_link=f"{prefix}/-/kb/feed.atom" + (f"?{query}" if query else ""),
                lang=lang, items=items, author=state.config.title)


def actions_feed(state: KBState, lang: str, prefix: str) -> Feed:
    t = texts(lang)
    loop = state.run(lambda kb: load_loop(kb.config, entries=entries_from_index(kb) if kb.indexed else None,
                                              audience=kb.audience))
    items = []
    for action in loop.select(statuses=OPEN_STATUSES)[:MAX_ITEMS]:
        status = t[f"action_status_{action.status}"].lower()
        if action.overdue(loop.today):
            status = f"{status}, {t['action_overdue']}"
        lessons = ", ".join(loop.entries[e]["title"] for e in action.lessons if e in loop.entries)
        items.append(FeedItem(
            id=permanent_id(state.config.title, "action", action.id),
            title=t["feed_action_item"].format(title=action.title, due=action.due.isoformat(), status=status),
            link=f"{prefix}/-/kb/actions/{quote(action.id, safe='')}" + ("?lang=en" if lang == "en" else ""),
            updated=(action.history[-1].date if action.history else action.due.isoformat()),
            summary=t["feed_action_summary"].format(owner=action.owner, lessons=lessons or "–"),
            author=action.owner, categories=loop.areas_of(action)))
    suffix = "" if lang == state.config.language else f"?lang={lang}"
    return Feed(id=permanent_id(state.config.title, "actions", lang), title=t["feed_actions_title"].format(
        title=state.config.title), link=f"{prefix}/-/kb/actions{suffix}", self_link=f"{prefix}/-/kb/actions.atom{suffix}",
        lang=lang, items=items, author=state.config.title)


def link_prefix(datasette, state: KBState) -> str:
    """Where a feed's links start: kb.toml's base_url, else this site's own paths."""
    return state.config.base_url or datasette.urls.path("").rstrip("/")


def _atom(feed: Feed) -> Response:
    return Response(render_atom(feed), content_type=ATOM_TYPE,
                    headers={**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'"})


async def entries_feed_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    given = read_filter_args(request.args, state.config, texts(lang))
    if given.errors:
        return json_response({"ok": False, "errors": given.errors}, 400)
    prefix = link_prefix(datasette, state)
    return _atom(await asyncio.to_thread(entries_feed, state, given.filters, lang, prefix))


async def actions_feed_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    prefix = link_prefix(datasette, state)
    return _atom(await asyncio.to_thread(actions_feed, state, lang, prefix))


ROUTES = [
    (r"^/-/kb/feed\.atom$", entries_feed_page),
    (r"^/-/kb/actions\.atom$", actions_feed_page),
]
