"""Atom feeds on the web: ``/-/kb/feed.atom`` (the newest entries; ``?area=``, ``?type=``,
``?tag=`` and ``?lang=`` as on the search page) and ``/-/kb/actions.atom`` (open actions by due
date, overdue first). Links are relative to the feed's own address, so no request header can
send a reader elsewhere."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from datasette.utils.asgi import Response

from analysis.loop import entries_from_index, load_loop
from analysis.policy import quote as entry_quote
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import SECURITY_HEADERS, json_response, no_kb, read_filter_args, request_language
from kb.core.actions import OPEN_STATUSES
from kb.core.texts import texts
from reports.feeds import MAX_SUMMARY, Feed, FeedItem, permanent_id, render_atom

MAX_ITEMS = 50
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def entries_feed(state: KBState, filters, lang: str, prefix: str) -> Feed:
    t = texts(lang)

    def work(kb):
        where, params = filters.where("entries")
        ids = [r[0] for r in kb.store.db.execute(
            f"select id from entries where {where} order by date desc, id limit {MAX_ITEMS}", params)]
        rows = kb.store.get_entries(ids)
        return [rows[i] for i in ids if i in rows]

    items = []
    publish_authors = state.config.web.publish_authors  # writers' user names: only when kb.toml says so
    for row in state.run(work):
        categories = [state.config.area_name(row["area"]), t.get(f"entry_type_{row['type']}", row["type"]),
                      *row["tags"]]
        items.append(FeedItem(
            id=permanent_id(state.config.title, "entry", row["id"]), title=row["title"],
            link=f"{prefix}/-/kb/entry/{quote(row['id'], safe='')}" + ("?lang=en" if lang == "en" else ""),
            updated=row["date"], summary=entry_quote(row.get("body") or "", MAX_SUMMARY),
            author=str((row.get("extra") or {}).get("author") or "") if publish_authors else "",
            categories=categories))
    return Feed(id=permanent_id(state.config.title, "entries", lang), title=t["feed_entries_title"].format(
        title=state.config.title), link=f"{prefix}/-/kb/search", self_link=f"{prefix}/-/kb/feed.atom",
        lang=lang, items=items)


def actions_feed(state: KBState, lang: str, prefix: str) -> Feed:
    t = texts(lang)
    loop = state.run(lambda kb: load_loop(kb.config, entries=entries_from_index(kb) if kb.indexed else None))
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
    return Feed(id=permanent_id(state.config.title, "actions", lang), title=t["feed_actions_title"].format(
        title=state.config.title), link=f"{prefix}/-/kb/actions", self_link=f"{prefix}/-/kb/actions.atom",
        lang=lang, items=items)


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
    prefix = datasette.urls.path("").rstrip("/")
    return _atom(await asyncio.to_thread(entries_feed, state, given.filters, lang, prefix))


async def actions_feed_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    prefix = datasette.urls.path("").rstrip("/")
    return _atom(await asyncio.to_thread(actions_feed, state, lang, prefix))


ROUTES = [
    (r"^/-/kb/feed\.atom$", entries_feed_page),
    (r"^/-/kb/actions\.atom$", actions_feed_page),
]
