"""Datasette pages for roadmaps and policy needs: a plugin module of its own.

* ``/-/kb/roadmaps``            all roadmaps, their actions and how many entries cite each
* ``/-/kb/roadmaps/<area>``     one roadmap: each action with the lessons that cite it,
                                the actors and the counts per sprint (``.json`` too)
* ``/-/kb/policy``              policy needs by level and theme (``?since=&until=&area=``;
                                ``.json`` too)

The work is done by :mod:`search.roadmaps` and :mod:`search.policy`; these views read the
entries through Datasette's own connection, and the shared layout, CSS and security headers
come from :mod:`.pages` (the ``kb`` plugin), which must be installed alongside.
"""

from __future__ import annotations

import asyncio

from analysis.policy import policy_needs
from analysis.roadmaps import entry_rows, full_roadmap_report, overview
from datasette_plugins.state import get_state
from datasette_plugins.web import (
    html_page,
    json_response,
    no_kb,
    page_context,
    read_filter_args,
    request_language,
    static_url,
)
from indexer.roadmaps import load_roadmaps
from kb.core.errors import KBError
from kb.core.texts import text
from search.filters import Filters


def _context(datasette, state, request) -> dict:
    common = page_context(datasette, state, request_language(request, state))
    shared_urls = common.get("kb_urls") or common.get("urls") or {}
    return {
        **common,
        "css_url": shared_urls.get("css") or static_url(datasette, "kb.css"),
        "search_url": shared_urls.get("search") or datasette.urls.path("/-/kb/search"),
        "area_names": {slug: a.name for slug, a in state.config.areas.items()},
        "roadmaps_url": datasette.urls.path("/-/kb/roadmaps"),
        "policy_url": datasette.urls.path("/-/kb/policy"),
    }


async def _rows(datasette, state) -> list[dict]:
    db = datasette.get_database(state.database)
    return await db.execute_fn(entry_rows)


async def roadmaps_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    context = _context(datasette, state, request)
    roadmaps = await asyncio.to_thread(load_roadmaps, state.config)
    context["roadmaps"] = overview(roadmaps, await _rows(datasette, state), context["area_names"])
    return await html_page(datasette, request, "roadmap_index.html", context)


async def roadmap_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    context = _context(datasette, state, request)
    key = request.url_vars["key"]
    roadmaps = await asyncio.to_thread(load_roadmaps, state.config)
    roadmap = roadmaps.by_area.get(key)
    if roadmap is None:
        message = text("roadmap_missing", context["lang"], key=key)
        if as_json:
            return json_response({"ok": False, "error": message}, 404)
        return await html_page(datasette, request, "roadmap_page.html", {**context, "report": None, "message": message},
                           status=404)
    report = full_roadmap_report(roadmap, await _rows(datasette, state), context["area_names"].get(key))
    if as_json:
        return json_response({"ok": True, **report.to_dict()})
    return await html_page(datasette, request, "roadmap_page.html", {**context, "report": report.to_dict()})


async def policy_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    context = _context(datasette, state, request)
    t = context["t"]
    errors: list[str] = []
    given = read_filter_args(request.args, state.config, t)
    areas, since_text, until_text, errors = given.areas, given.since, given.until, list(given.errors)
    report = None
    if not errors:
        filters = Filters(areas=given.filters.areas, since=given.filters.since, until=given.filters.until)
        try:
            report = await asyncio.to_thread(state.run, lambda kb: policy_needs(kb, filters, context["lang"]))
        except KBError as exc:
            errors.append(str(exc))
    if as_json:
        if report is None:
            return json_response({"ok": False, "errors": errors}, 400)
        return json_response({"ok": True, **report.to_dict()})
    context.update(
        report=report.to_dict() if report else None,
        errors=errors,
        form={"areas": areas, "since": since_text, "until": until_text},
        areas=list(state.config.areas.values()),
    )
    return await html_page(datasette, request, "roadmap_policy.html", context, status=400 if errors else 200)


ROUTES = [
    (r"^/-/kb/roadmaps$", roadmaps_page),
    (r"^/-/kb/roadmaps/(?P<key>[A-Za-z0-9_-]+?)(\.(?P<format>json))?$", roadmap_page),
    (r"^/-/kb/policy(\.(?P<format>json))?$", policy_page),
]
