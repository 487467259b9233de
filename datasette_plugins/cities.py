"""``/-/kb/cities`` (and ``.json``): what our lessons share with the cities we follow
(:mod:`analysis.crosscity`): the followed publications with their licence and fetch date,
obstacles another city has met too ("Lund har mött samma hinder"), and lessons that carry
across cities, each with why. ``?area=&since=&until=&n=`` as on the cross-area pages."""

from __future__ import annotations

import asyncio

from analysis.crosscity import city_links
from analysis.reasons import render_reason
from datasette_plugins.crossarea import parse_filters
from datasette_plugins.state import get_state
from datasette_plugins.web import html_page, json_response, no_kb, page_context, request_language, static_url
from kb.core.errors import KBError


async def cities_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    lang = request_language(request, state)
    form, errors = parse_filters(request, state)
    found = None
    if errors and as_json:
        return json_response({"ok": False, "errors": errors}, 400)
    if not errors:
        try:
            found = await asyncio.to_thread(state.run, lambda kb: city_links(
                kb, since=form["since"], until=form["until"], areas=form["areas"] or None, limit=form["limit"]))
        except KBError as exc:
            if as_json:
                return json_response({"ok": False, "errors": [str(exc)]}, 503)
            errors = [str(exc)]
    if as_json:
        return json_response({"ok": True, **found.to_dict()})
    area_names = state.config.area_names()
    context = {
        **page_context(datasette, state, lang),
        "found": found, "errors": errors, "form": form,
        "areas": list(state.config.areas.values()), "area_names": area_names,
        "why": lambda reason: render_reason(reason, lang, area_names),
        "xa_css": static_url(datasette, "crossarea.css"),
        "page_url": datasette.urls.path("/-/kb/cities"),
        "json_url": datasette.urls.path("/-/kb/cities.json"),
    }
    return await html_page(datasette, request, "kb_cities.html", context, status=400 if errors else 200)


ROUTES = [(r"^/-/kb/cities(\.(?P<format>json))?$", cities_page)]
