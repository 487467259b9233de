"""Datasette pages for cross-area learning: a plugin module of its own.

* ``/-/kb/synergies``          suggested and confirmed links between areas, with why, and
                               the area x area matrix as a coloured table (``.json`` too;
                               ``?area=&since=&n=``)
* ``/-/kb/obstacles``          recurring obstacles (``.json`` too; ``?area=&since=&until=``),
                               each with its kept id; a facilitator renames a group there
                               (POST ``/-/kb/obstacles/<id>/rename``)
* ``/-/kb/conflicts``          goal conflicts and the areas they touch (``.json`` too)
* ``/-/kb/links/<entry_id>``   one entry's links to other areas: confirmed ones marked,
                               suggestions, near-duplicates (``.json`` too)

The work is done by :mod:`search.links`, :mod:`search.obstacles`, :mod:`search.conflicts`
and :mod:`search.duplicates` through the shared :class:`~datasette_plugins.state.KBState`;
layout, CSS and security headers come from :mod:`.pages` (the ``kb`` plugin).
"""

from __future__ import annotations

import asyncio

from datasette.utils.asgi import Response

from analysis.conflicts import goal_conflicts
from analysis.corpus import load_corpus
from analysis.duplicates import find_duplicates
from analysis.links import area_links, find_synergies, synergies
from analysis.loop import visible_actions, visible_questions
from analysis.obstacles import recurring_obstacles
from analysis.reasons import render_reason
from datasette_plugins.audience import current as current_audience
from datasette_plugins.state import get_state
from datasette_plugins.web import (
    facilitator_post,
    html_page,
    json_response,
    may_facilitate,
    no_kb,
    page_context,
    read_filter_args,
    request_language,
    static_url,
)
from indexer.actions import load_actions
from indexer.agenda import load_agenda
from kb.app.agenda import questions_on_group
from kb.app.curation import rename_obstacle
from kb.core.decisions import load_decisions
from kb.core.errors import EntryNotFound, KBError
from kb.core.obstacle_groups import MAX_LABEL
from kb.core.texts import text, texts

CSS_FILE = "crossarea.css"
MAX_PAIRS = 200
HEAT_LEVELS = 6


# --- request parsing ----------------------------------------------------------------------
def parse_filters(request, state) -> tuple[dict, list[str]]:
    """``area`` (repeatable), ``since``, ``until``, ``n`` from the query string, and the
    errors in the page's language."""
    t = texts(request_language(request, state))
    given = read_filter_args(request.args, state.config, t)
    errors = list(given.errors)
    out: dict = {"areas": list(given.filters.areas), "since": given.filters.since, "until": given.filters.until}
    try:
        out["limit"] = max(1, min(MAX_PAIRS, int(request.args.get("n") or 30)))
    except ValueError:
        errors.append(t["filter_bad_limit"].format(value=request.args.get("n")))
        out["limit"] = 30
    return out, errors


def heat_class(value: int, top: int) -> str:
    """A CSS class for a matrix cell: 0 (none) .. HEAT_LEVELS-1 (the most links)."""
    if value <= 0 or top <= 0:
        return "xa-heat-0"
    return f"xa-heat-{max(1, round(value / top * (HEAT_LEVELS - 1)))}"


def matrix_rows(links) -> list[dict]:
    top = max((v for row in links.matrix.values() for v in row.values()), default=0)
    return [
        {"area": a, "cells": [{"area": b, "value": links.matrix[a].get(b, 0),
                               "cls": heat_class(links.matrix[a].get(b, 0), top) + (" xa-diag" if a == b else "")}
                              for b in links.areas],
         "silo": links.silo_index.get(a)}
        for a in links.areas
    ]


def _context(datasette, state, request) -> dict:
    lang = request_language(request, state)
    common = page_context(datasette, state, lang)
    names = state.config.area_names()
    return {
        **common,
        "xa_css": static_url(datasette, CSS_FILE),
        "area_names": names,
        "why": lambda reason: render_reason(reason, lang, names),  # a reason in the page's language
        "areas": list(state.config.areas.values()),
        "xa_urls": {name: datasette.urls.path(f"/-/kb/{name}")
                    for name in ("synergies", "obstacles", "conflicts", "links")},
    }


async def _run(state, fn):
    return await asyncio.to_thread(state.run, fn)


def _error(exc: KBError, as_json: bool):
    return json_response({"ok": False, "errors": [str(exc)]}, 503) if as_json else None


# --- views ------------------------------------------------------------------------------------
async def synergies_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    form, errors = parse_filters(request, state)
    if errors:
        if as_json:
            return json_response({"ok": False, "errors": errors}, 400)
        found, links = [], None
    else:
        try:
            found, links = await _run(state, lambda kb: (
                synergies(kb, limit=form["limit"], areas=form["areas"] or None, since=form["since"]),
                area_links(kb),
            ))
        except KBError as exc:
            if as_json:
                return _error(exc, True)
            found, links, errors = [], None, [str(exc)]
    if as_json:
        return json_response({"ok": True, "count": len(found), "synergies": [s.to_dict() for s in found],
                      "matrix": links.to_dict()})
    context = _context(datasette, state, request)
    context.update(pairs=found, matrix=matrix_rows(links) if links else [], links=links,
                   errors=errors, form=form)
    return await html_page(datasette, request, "crossarea_synergies.html", context, status=400 if errors else 200)


async def _filtered_listing(datasette, request, compute, key: str, template: str, annotate=None):
    """A page (or ``.json``) listing what ``compute(kb, since, until, areas)`` finds, with the
    period/area filter form and its errors. ``annotate(config, items) -> [dict]`` adds to
    each item's JSON and is given to the template as ``notes``."""
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    form, errors = parse_filters(request, state)
    found = []
    if errors and as_json:
        return json_response({"ok": False, "errors": errors}, 400)
    if not errors:
        try:
            found = await _run(state, lambda kb: compute(
                kb, since=form["since"], until=form["until"], areas=form["areas"] or None))
        except KBError as exc:
            if as_json:
                return _error(exc, True)
            errors = [str(exc)]
    notes = await asyncio.to_thread(annotate, state.config, found) if annotate else [{} for _ in found]
    if as_json:
        return json_response({"ok": True, "count": len(found),
                              key: [{**item.to_dict(), **note} for item, note in zip(found, notes, strict=True)]})
    context = _context(datasette, state, request)
    context.update({key: found, "notes": notes, "errors": errors, "form": form,
                    "facilitator": await may_facilitate(datasette, request),
                    "agenda_new_url": datasette.urls.path("/-/kb/agenda/new"),
                    "agenda_url": datasette.urls.path("/-/kb/agenda") + context["lang_suffix"],
                    "rename_url": lambda group_id: datasette.urls.path(f"/-/kb/obstacles/{group_id}/rename"),
                    "max_label": MAX_LABEL})
    return await html_page(datasette, request, template, context, status=400 if errors else 200)


def obstacle_notes(config, groups) -> list[dict]:
    """For each obstacle group: how many actions cite one of its entries (0: nobody acts on
    it yet) and the open learning questions that already ask about it (with how many of the
    group's entries each one lacks), so that no second question is made."""
    audience = current_audience()  # what the reader may see of them (all of each group's lessons are)
    lessons = {e for g in groups for e in g.entries}
    actions = visible_actions(load_actions(config).actions, audience, lessons)
    questions = visible_questions(load_agenda(config).questions, audience, lessons)
    return [{"actions": sum(1 for a in actions if set(g.entries) & set(a.lessons)),
             "questions": [{"id": q.id, "question": q.question,
                            "missing": len(set(g.entries) - set(q.entries))} for q in questions_on_group(questions, g)]}
            for g in groups]


async def obstacles_page(datasette, request):
    return await _filtered_listing(datasette, request, recurring_obstacles, "groups",
                                   "crossarea_obstacles.html", annotate=obstacle_notes)


async def obstacle_rename(datasette, request):
    """POST: a facilitator gives an obstacle group a label of their own (kept in obstacles.md)."""
    checked = await facilitator_post(datasette, request)
    if isinstance(checked, Response):
        return checked
    state, form, lang = checked
    group_id = request.url_vars["group_id"]
    label = " ".join((form.get("label") or "").split())
    back = datasette.urls.path("/-/kb/obstacles") + ("" if lang == "sv" else f"?lang={lang}") + f"#{group_id}"
    if not label or len(label) > MAX_LABEL:
        datasette.add_message(request, text("obstacle_rename_empty" if not label else "obstacle_rename_too_long",
                                            lang, limit=MAX_LABEL), datasette.ERROR)
        return Response.redirect(back)
    try:
        await asyncio.to_thread(rename_obstacle, state.config, group_id, label, who=request.actor["id"])
    except EntryNotFound:
        return Response.text(text("obstacle_rename_unknown", lang, id=group_id), status=404)
    datasette.add_message(request, text("obstacle_renamed", lang, id=group_id), datasette.INFO)
    return Response.redirect(back)


async def conflicts_page(datasette, request):
    return await _filtered_listing(datasette, request, goal_conflicts, "conflicts",
                                   "crossarea_conflicts.html")


def entry_links(kb, entry_id: str) -> dict | None:
    """One entry's cross-area panel: confirmed links first, then suggestions, duplicates."""
    corpus = load_corpus(kb)
    if entry_id not in corpus.rows:
        return None
    decisions = load_decisions(kb.config.root)
    pairs = [s for s in find_synergies(corpus, decisions, limit=None) if entry_id in (s.a, s.b)]
    row = corpus.rows[entry_id]
    links = []
    for s in pairs:
        other = s.b if s.a == entry_id else s.a
        links.append({**s.to_dict(), "other": other, "other_title": corpus.rows[other]["title"],
                      "other_area": corpus.rows[other]["area"]})
    duplicates = [d.to_dict() for d in find_duplicates(corpus, decisions, ids=[entry_id])]
    return {"id": entry_id, "title": row["title"], "area": row["area"], "links": links,
            "duplicates": duplicates}


async def links_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    entry_id = request.url_vars["entry_id"]
    try:
        data = await _run(state, lambda kb: entry_links(kb, entry_id))
    except KBError as exc:
        if as_json:
            return _error(exc, True)
        data = None
    if as_json:
        if data is None:
            return json_response({"ok": False, "errors": [f"no entry with id {entry_id!r}"]}, 404)
        return json_response({"ok": True, **data})
    context = _context(datasette, state, request)
    context.update(data=data, entry_id=entry_id)
    return await html_page(datasette, request, "crossarea_links.html", context, status=404 if data is None else 200)


ROUTES = [
    (r"^/-/kb/synergies(\.(?P<format>json))?$", synergies_page),
    (r"^/-/kb/obstacles(\.(?P<format>json))?$", obstacles_page),
    (r"^/-/kb/obstacles/(?P<group_id>hinder-[0-9]{1,9})/rename$", obstacle_rename),
    (r"^/-/kb/conflicts(\.(?P<format>json))?$", conflicts_page),
    (r"^/-/kb/links/(?P<entry_id>[^/]+?)(\.(?P<format>json))?$", links_page),
]
