"""The learning loop on the web: the actions page (filters, facets, JSON), one action with its
history, the learning agenda, and the forms with which signed-in facilitators propose actions,
move them through their statuses and keep the agenda (same CSRF protection, write lock and
validation as the entry form: the work is in :mod:`kb.app.actions` and :mod:`kb.app.agenda`)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from dataclasses import replace
from urllib.parse import quote

from datasette.utils.asgi import Response
from markupsafe import Markup

from analysis.loop import Loop, entries_from_index, load_loop
from analysis.obstacles import group_obstacles
from analysis.recurrence import validated_on
from datasette_plugins import roles
from datasette_plugins.render import markdown_to_html
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import (
    facilitator_post,
    html_page,
    json_response,
    list_arg,
    may_facilitate,
    no_kb,
    page_context,
    read_form,
    request_language,
    static_url,
)
from kb.app.actions import ActionInvalid, check_text, create_action, set_status
from kb.app.agenda import add_question, close_question, edit_question, question_from_obstacle
from kb.app.sessions import add_session
from kb.core.actions import ACTIONS_DIR, OUTCOMES, STATUSES, TRANSITIONS
from kb.core.errors import EntryInvalid, EntryNotFound, KBError
from kb.core.files import files_state
from kb.core.obstacle_groups import groups_path, load_groups
from kb.core.sessions import MAX_TITLE as MAX_SESSION_TITLE
from kb.core.sessions import load_sessions
from kb.core.texts import pick_language, text


# --- shared ---------------------------------------------------------------------------------
def _loop(state: KBState) -> Loop:
    return state.run(lambda kb: load_loop(kb.config, entries=entries_from_index(kb) if kb.indexed else None,
                                              audience=kb.audience))


def _watched_loop(state: KBState) -> Loop:
    """The loop with the recurrences of the validated actions' obstacles (analysis.recurrence):
    the obstacle groups made once per index generation, their labels read anew (a facilitator
    may have renamed one), the related panel's finder shared with the entry pages."""
    def make(kb) -> Loop:
        loop = load_loop(kb.config, entries=entries_from_index(kb) if kb.indexed else None,
                         audience=kb.audience)
        if not kb.indexed:
            return loop  # "recurred" stays unknown (null)
        if not any(validated_on(a) for a in loop.actions):
            return loop.watch(kb)  # nothing is watched: no group or finder needed
        # the recurrences of one index, one state of the actions' files and of obstacles.md (a
        # status changed or a group renamed on the web), made once and shared by every request
        signature = _files_signature(kb)
        held = state.per_index("recurrences", kb, lambda kb: {})
        known = held.get(signature)
        if known is not None:
            loop.recurred = known
            return loop
        finder = state.related_finder(kb)
        made = state.per_index("obstacle_groups", kb, lambda kb: group_obstacles(finder.corpus, kb.config))
        if kb.audience != "staff":  # a kept label may be made from what this audience may not see
            groups = made
        else:
            labels = {g.id: g.label for g in load_groups(kb.config.root).groups}
            groups = [replace(g, label=labels.get(g.id, g.label)) for g in made]  # the shared ones stay as made
        loop.watch(kb, finder=finder, groups=groups)
        held.clear()  # only the latest state is asked for again
        # as the files are now: grouping may have written obstacles.md (a new group's id)
        held[_files_signature(kb)] = loop.recurred
        return loop

    return state.run(make)


def _files_signature(kb) -> tuple:
    """The actions' files and obstacles.md as they are now."""
    root = kb.config.root
    return files_state(groups_path(root), folders=(root / ACTIONS_DIR,))


def _context(datasette, request, state: KBState, lang: str, facilitator: bool) -> dict:
    suffix = "" if lang == "sv" else f"?lang={lang}"
    return {
        **page_context(datasette, state, lang),
        "loop_css": static_url(datasette, "loop.css"),
        "facilitator": facilitator,
        "actor_name": (request.actor or {}).get("id"),
        "loop_urls": {
            "actions": datasette.urls.path("/-/kb/actions"),
            "agenda": datasette.urls.path("/-/kb/agenda"),
            "sessions": datasette.urls.path("/-/kb/sessions"),
            "new_action": datasette.urls.path("/-/kb/actions/new"),
            "feed": datasette.urls.path("/-/kb/actions.atom"),
            "suffix": suffix,
        },
        "action_url": lambda action_id: datasette.urls.path("/-/kb/actions/" + quote(action_id, safe="")) + suffix,
        "statuses": STATUSES,
        "outcomes": OUTCOMES,
        "area_names": {slug: a.name for slug, a in state.config.areas.items()},
    }


def _agenda_url(datasette, lang: str) -> str:
    return datasette.urls.path("/-/kb/agenda") + ("" if lang == "sv" else f"?lang={lang}")


def _lines(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").replace(";", ",").replace("\n", ",").split(",") if v.strip()]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


# --- the actions page ---------------------------------------------------------------------------
async def actions_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    lang = request_language(request, state)
    args = request.args
    statuses = [s for s in list_arg(args, "status") if s in STATUSES]
    areas = [a for a in list_arg(args, "area") if a in state.config.areas]
    owner = " ".join((args.get("owner") or "").split())[:200] or None
    overdue = args.get("overdue") in ("1", "on", "true")
    loop = await asyncio.to_thread(_watched_loop, state)
    chosen = loop.select(statuses=statuses, overdue=overdue, areas=areas, owner=owner)
    facets = {
        "status": dict(Counter(a.status for a in chosen)),
        "area": dict(Counter(area for a in chosen for area in loop.areas_of(a))),
        "owner": dict(Counter(a.owner for a in chosen).most_common()),
        "overdue": sum(a.overdue(loop.today) for a in chosen),
    }
    if as_json:
        return json_response({"ok": True, "count": len(chosen), "filters": {
            "status": statuses, "area": areas, "owner": owner, "overdue": overdue},
            "facets": facets, "actions": [loop.action_dict(a) for a in chosen]})
    facilitator = await may_facilitate(datasette, request)
    context = _context(datasette, request, state, lang, facilitator)
    context.update({
        "actions": [loop.action_dict(a) for a in chosen], "facets": facets, "loop": loop,
        "form": {"status": statuses, "area": areas, "owner": owner or "", "overdue": overdue},
        "areas": list(state.config.areas.values()),
        "owners": sorted({a.owner for a in loop.actions}, key=str.casefold),
        "json_url": datasette.urls.path("/-/kb/actions.json") + ("?" + request.query_string
                                                                  if request.query_string else ""),
    })
    return await html_page(datasette, request, "loop_actions.html", context)


async def action_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    lang = request_language(request, state)
    action_id = request.url_vars["action_id"]
    loop = await asyncio.to_thread(_watched_loop, state)
    action = next((a for a in loop.actions if a.id == action_id), None)
    if as_json:
        if action is None:
            return json_response({"ok": False, "error": f"no action {action_id!r}"}, 404)
        return json_response({"ok": True, **loop.action_dict(action)})
    facilitator = await may_facilitate(datasette, request)
    context = _context(datasette, request, state, lang, facilitator)
    return await _render_action(datasette, request, context, loop, action, status=200 if action else 404)


async def _render_action(datasette, request, context, loop: Loop, action, *, errors=(), note="", status=200):
    context.update({
        "action": loop.action_dict(action) if action else None,
        "next_statuses": TRANSITIONS[action.status] if action else (),
        "body_html": Markup(markdown_to_html(action.body)) if action and action.body.strip() else "",
        "errors": list(errors), "note": note,
        "validated_on": validated_on(action) if action else None,
    })
    return await html_page(datasette, request, "loop_action.html", context, status=status)


async def action_status(datasette, request):
    """POST: a facilitator moves an action to a new status."""
    checked = await facilitator_post(datasette, request)
    if isinstance(checked, Response):
        return checked
    state, form, lang = checked
    action_id = request.url_vars["action_id"]
    status, note = form.get("status", ""), form.get("note", "")
    outcome = [o for o in OUTCOMES if form.get(f"outcome_{o}")]
    try:
        changed = await asyncio.to_thread(set_status, state.config, action_id, status, note=note,
                                          outcome=outcome, who=request.actor["id"], lang=lang)
    except EntryNotFound:
        return Response.text(text("selection_empty", lang), status=404)
    except (ActionInvalid, EntryInvalid, KBError) as exc:
        loop = await asyncio.to_thread(_watched_loop, state)
        context = _context(datasette, request, state, lang, True)
        action = next((a for a in loop.actions if a.id == action_id), None)
        return await _render_action(datasette, request, context, loop, action, errors=[_message(exc, lang)],
                                    note=note, status=400)
    status_name = text(f"action_status_{changed.status}", lang).lower()
    datasette.add_message(request, text("action_updated", lang, status=status_name), datasette.INFO)
    return Response.redirect(_context(datasette, request, state, lang, True)["action_url"](changed.id))


async def new_action_page(datasette, request):
    """GET: the form (``?lesson=ID`` fills in a lesson); POST: propose the action."""
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    form = None
    if request.method == "POST":
        form = await read_form(request)
        if form is None:
            return Response.text(text("capture_too_large", lang), status=413)
        lang = pick_language(form.get("lang"), state.config.language)
    facilitator = await may_facilitate(datasette, request)
    context = _context(datasette, request, state, lang, facilitator)
    if not facilitator:
        if request.method == "POST":
            return Response.text(text("loop_forbidden", lang), status=403)
        return await roles.role_required(datasette, request, lang, "role_needed_actions", "facilitator")
    values = {"title": "", "lessons": ", ".join(list_arg(request.args, "lesson")), "owner": "",
              "due": "", "roadmap": "", "note": "", "visibility": state.config.default_visibility}
    errors: list[str] = []
    if form is not None:
        values.update({k: form.get(k, "") for k in values})
        visibility = values["visibility"] or None  # not sent: kb.toml's default, not written
        values["visibility"] = values["visibility"] or state.config.default_visibility
        due = _date(values["due"])
        if due is None:
            errors.append(text("loop_error_date", lang, value=values["due"] or "–"))
        else:
            try:
                created = await asyncio.to_thread(
                    create_action, state.config, title=values["title"], lessons=_lines(values["lessons"]),
                    owner=values["owner"], due=due, roadmap=_lines(values["roadmap"]), note=values["note"],
                    who=request.actor["id"], lang=lang, visibility=visibility)
            except (ActionInvalid, EntryInvalid, KBError) as exc:
                errors.append(_message(exc, lang))
            else:
                datasette.add_message(request, text("action_created", lang), datasette.INFO)
                return Response.redirect(context["action_url"](created.id))
    loop = await asyncio.to_thread(_loop, state)
    lesson_titles = {e: loop.entries[e]["title"] for e in _lines(values["lessons"]) if e in loop.entries}
    context.update({"values": values, "errors": errors, "lesson_titles": lesson_titles})
    return await html_page(datasette, request, "loop_action_new.html", context, status=400 if errors else 200)


# --- the learning agenda ------------------------------------------------------------------------
async def agenda_page(datasette, request):
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    lang = request_language(request, state)
    loop = await asyncio.to_thread(_loop, state)
    questions = sorted(loop.agenda.questions, key=lambda q: (q.status != "open", q.opened, q.id))
    if as_json:
        return json_response({"ok": True, "count": len(questions),
                              "questions": [loop.question_dict(q) for q in questions]})
    facilitator = await may_facilitate(datasette, request)
    return await _render_agenda(datasette, request, state, lang, facilitator, loop)


async def _render_agenda(datasette, request, state, lang, facilitator, loop, *, errors=(), values=None, status=200):
    context = _context(datasette, request, state, lang, facilitator)
    questions = [loop.question_dict(q) for q in sorted(loop.agenda.questions, key=lambda q: (q.opened, q.id))]
    context.update({
        "open": [q for q in questions if q["status"] == "open"],
        "closed": [q for q in questions if q["status"] != "open"],
        "entries": loop.entries, "errors": list(errors),
        "values": values or {"question": "", "owner": "", "entries": "", "visibility": state.config.default_visibility},
    })
    return await html_page(datasette, request, "loop_agenda.html", context, status=status)


async def agenda_add(datasette, request):
    """POST: a facilitator adds a question (or makes one from a recurring obstacle)."""
    checked = await facilitator_post(datasette, request)
    if isinstance(checked, Response):
        return checked
    state, form, lang = checked
    values = {k: form.get(k, "") for k in ("question", "owner", "entries", "from_obstacle", "into", "visibility")}
    visibility = values["visibility"] or None  # not sent: kb.toml's default, not written
    values["visibility"] = values["visibility"] or state.config.default_visibility
    who = request.actor["id"]
    try:
        if values["from_obstacle"]:
            # an open question that already asks about the group refuses a second (QuestionExists)
            await asyncio.to_thread(state.run, lambda kb: question_from_obstacle(
                kb, values["from_obstacle"], owner=values["owner"], question=values["question"] or None,
                into=values["into"] or None, lang=lang, who=who, visibility=visibility))
        else:
            await asyncio.to_thread(add_question, state.config, values["question"], owner=values["owner"],
                                    entries=_lines(values["entries"]), who=who, visibility=visibility)
    except (ActionInvalid, EntryInvalid, KBError) as exc:
        loop = await asyncio.to_thread(_loop, state)
        return await _render_agenda(datasette, request, state, lang, True, loop, errors=[_message(exc, lang)],
                                    values=values, status=400)
    datasette.add_message(request, text("agenda_extended" if values["into"] else "agenda_added", lang),
                          datasette.INFO)
    return Response.redirect(_agenda_url(datasette, lang) + (f"#{values['into']}" if values["into"] else ""))


async def agenda_edit(datasette, request):
    """POST: a facilitator rewords an open question (or gives it another owner)."""
    checked = await facilitator_post(datasette, request)
    if isinstance(checked, Response):
        return checked
    state, form, lang = checked
    question_id = request.url_vars["question_id"]
    try:
        await asyncio.to_thread(edit_question, state.config, question_id, question=form.get("question"),
                                owner=form.get("owner"), who=request.actor["id"])
    except EntryNotFound:
        return Response.text(text("selection_empty", lang), status=404)
    except (ActionInvalid, EntryInvalid, KBError) as exc:
        loop = await asyncio.to_thread(_loop, state)
        return await _render_agenda(datasette, request, state, lang, True, loop, errors=[_message(exc, lang)],
                                    status=400)
    datasette.add_message(request, text("agenda_edited", lang), datasette.INFO)
    return Response.redirect(_agenda_url(datasette, lang) + f"#{question_id}")


async def agenda_close(datasette, request):
    """POST: a facilitator answers or drops a question."""
    checked = await facilitator_post(datasette, request)
    if isinstance(checked, Response):
        return checked
    state, form, lang = checked
    question_id = request.url_vars["question_id"]
    try:
        await asyncio.to_thread(close_question, state.config, question_id, answer=form.get("answer", ""),
                                drop=form.get("action") == "drop", who=request.actor["id"], lang=lang)
    except EntryNotFound:
        return Response.text(text("selection_empty", lang), status=404)
    except (ActionInvalid, EntryInvalid, KBError) as exc:
        loop = await asyncio.to_thread(_loop, state)
        return await _render_agenda(datasette, request, state, lang, True, loop, errors=[_message(exc, lang)],
                                    status=400)
    datasette.add_message(request, text("agenda_closed_message", lang), datasette.INFO)
    return Response.redirect(_agenda_url(datasette, lang))


# --- the learning sessions ------------------------------------------------------------------------
async def sessions_page(datasette, request):
    """The learning sessions held and planned (``.json`` too); facilitators record one."""
    state = get_state(datasette)
    as_json = request.url_vars.get("format") == "json"
    if state is None:
        return no_kb(as_json)
    lang = request_language(request, state)
    loop = await asyncio.to_thread(_loop, state)
    sessions = await asyncio.to_thread(load_sessions, state.config.root)
    if as_json:
        return json_response({"ok": True, "next_session": loop.next_session().isoformat(),
                              "sessions": [s.to_dict(loop.today) for s in sessions]})
    facilitator = await may_facilitate(datasette, request)
    return await _render_sessions(datasette, request, state, lang, facilitator, loop, sessions)


async def _render_sessions(datasette, request, state, lang, facilitator, loop, sessions, *, errors=(),
                           values=None, status=200):
    context = _context(datasette, request, state, lang, facilitator)
    context.update({
        "held": [s for s in reversed(sessions) if s.held(loop.today)],
        "planned": [s for s in sessions if not s.held(loop.today)],
        "next_session": loop.next_session().isoformat(), "errors": list(errors),
        "values": values or {"date": "", "title": ""},
        "sessions_new_url": datasette.urls.path("/-/kb/sessions/new"),
    })
    return await html_page(datasette, request, "loop_sessions.html", context, status=status)


async def session_add(datasette, request):
    """POST: a facilitator records a learning session (held, or planned for a later date)."""
    checked = await facilitator_post(datasette, request)
    if isinstance(checked, Response):
        return checked
    state, form, lang = checked
    values = {"date": (form.get("date") or "").strip(), "title": form.get("title") or ""}
    date = _date(values["date"])
    errors = [] if date else [text("loop_error_date", lang, value=values["date"] or "–")]
    if values["title"].strip():
        try:
            check_text({"title": MAX_SESSION_TITLE}, title=values["title"].strip())
        except ActionInvalid as exc:  # a title past its limit, or with a control character
            errors.append(exc.message(lang))
    if not errors:
        try:
            await asyncio.to_thread(add_session, state.config, date, values["title"], who=request.actor["id"])
        except KBError as exc:
            errors.append(_message(exc, lang))
    if errors:
        loop = await asyncio.to_thread(_loop, state)
        sessions = await asyncio.to_thread(load_sessions, state.config.root)
        return await _render_sessions(datasette, request, state, lang, True, loop, sessions, values=values,
                                      errors=errors, status=400)
    datasette.add_message(request, text("sessions_added", lang), datasette.INFO)
    return Response.redirect(datasette.urls.path("/-/kb/sessions") + ("" if lang == "sv" else f"?lang={lang}"))


def _message(exc: Exception, lang: str) -> str:
    """A refusal in the page's language (the file format's own problems stay as written)."""
    if isinstance(exc, ActionInvalid):
        return exc.message(lang)
    if isinstance(exc, EntryInvalid):
        return "; ".join(p.message for p in exc.problems)
    return str(exc)


ROUTES = [
    (r"^/-/kb/actions(?:\.(?P<format>json))?$", actions_page),
    (r"^/-/kb/actions/new$", new_action_page),
    (r"^/-/kb/actions/(?P<action_id>[A-Za-z0-9][A-Za-z0-9._-]{0,199})/status$", action_status),
    (r"^/-/kb/actions/(?P<action_id>[A-Za-z0-9][A-Za-z0-9._-]{0,199}?)(?:\.(?P<format>json))?$", action_page),
    (r"^/-/kb/agenda(?:\.(?P<format>json))?$", agenda_page),
    (r"^/-/kb/sessions(?:\.(?P<format>json))?$", sessions_page),
    (r"^/-/kb/sessions/new$", session_add),
    (r"^/-/kb/agenda/new$", agenda_add),
    (r"^/-/kb/agenda/(?P<question_id>[A-Za-z0-9][A-Za-z0-9._-]{0,199})/close$", agenda_close),
    (r"^/-/kb/agenda/(?P<question_id>[A-Za-z0-9][A-Za-z0-9._-]{0,199})/edit$", agenda_edit),
]
