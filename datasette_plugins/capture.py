"""Capture plugin (entry point ``datasette: kb_capture``): log a reflection from the browser.

Routes: ``/-/kb/new`` (form, preview, save), ``/-/kb/login`` and ``/-/kb/logout`` (also
Datasette's own ``/-/logout``, so its menu button signs out for real).
Hooks (0.65 and 1.0): ``register_routes``, ``permission_allowed``, ``menu_links``.

Anonymous visitors read; writing needs the ``kb-write`` permission, which a signed-in
writer (or facilitator, admin) has. Users come from a trusted sign-on proxy or sign in here
with a password hash from kb.toml ``[auth] writers`` or ``$KB_WRITERS``; the session is
Datasette's signed ``ds_actor`` cookie, checked by :mod:`.signin` (which also holds every
POST to Datasette's CSRF check: the forms carry ``csrftoken()``). The work is in
:mod:`kb.capture`; saving happens under the KB's write lock and indexes only the new entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re

from datasette.utils.asgi import Response
from markupsafe import Markup

from datasette_plugins import roles, signin
from datasette_plugins.render import markdown_to_html
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import (
    html_page,
    json_response,
    no_kb,
    page_context,
    read_form,
    request_language,
    static_url,
)
from indexer.personal_data import draft_identity_numbers, draft_name_hits, indexed_actors
from kb.app import capture
from kb.app.auth import valid_name
from kb.app.capture import HEADINGS, default_sprint
from kb.app.documents import sections_text
from kb.core import audit
from kb.core.config import ENTRY_TYPES
from kb.core.errors import KBError
from kb.core.texts import pick_language, text
from search.similar import similar_to_unsaved

WRITE_ACTION = signin.WRITE_ACTION
HEADING_TAG = re.compile(r"<(/?)h([1-5])>")
# a field's name in capture's messages -> the id of its control in capture_new.html
FIELD_IDS = {"title": "f-title", "area": "f-area", "type": "f-type", "date": "f-date", "sprint": "f-sprint",
             "tags": "f-tags", "actors": "f-actors", "roadmap": "f-roadmap", "visibility": "f-visibility-internal",
             **{name: f"f-{name}" for name in capture.SECTION_FIELDS}}


# --- helpers ------------------------------------------------------------------------------
def _context(datasette, request, state: KBState, lang: str) -> dict:
    actor = request.actor or {}
    return {
        **page_context(datasette, state, lang),
        "actor_name": actor.get("id"),
        "signed_in_by_proxy": actor.get("kb_auth") == "proxy",  # signing out is the proxy's
        "area_names": {slug: a.name for slug, a in state.config.areas.items()},
        "capture_urls": {
            "new": datasette.urls.path("/-/kb/new"),
            "login": datasette.urls.path("/-/kb/login"),
            "logout": datasette.urls.path("/-/kb/logout"),
            "preview": datasette.urls.path("/-/kb/new/preview"),
            "js": static_url(datasette, "capture.js"),
            "css": static_url(datasette, "capture.css"),
        },
    }


def _form_values(form: dict[str, str] | None, lang: str, visibility: str) -> dict[str, str]:
    """The form's values: as sent, else a new form's (today, kb.toml's default visibility)."""
    values = {"title": "", "area": "", "type": "lesson", "date": dt.date.today().isoformat(),
              "sprint": "", "tags": "", "actors": "", "roadmap": "", "lang": lang, "visibility": visibility,
              **{name: "" for name in capture.SECTION_FIELDS}}
    if form:
        values.update({k: form.get(k, "") for k in values if k in form})
    return values


def _nudge(state: KBState, entry) -> tuple[list, list[dict]]:
    """Similar lessons (other areas first) and near-duplicate warnings for a draft."""
    def work(kb):
        try:
            similar = similar_to_unsaved(kb, entry, limit=capture.SIMILAR_SHOWN)
        except KBError:
            return [], []
        try:
            duplicates = capture.duplicate_warnings(kb, entry)
        except KBError:
            duplicates = []
        return similar, duplicates

    return state.run(work)


def _draft_fields(draft: capture.Draft) -> dict[str, str]:
    return {"title": draft.title, **{f"section{i}": t for i, (_, t) in enumerate(draft.sections)}}


def _person_names(state: KBState, draft: capture.Draft) -> list[str]:
    """Private persons' names in the draft's title and sections (a warning, never a block);
    the knowledge base's own actors (from the index) and the draft's are not counted."""
    fields = _draft_fields(draft)

    def actors(kb):
        try:
            return indexed_actors(kb.store) if kb.indexed else set()
        except KBError:
            return set()

    known = state.run(actors) | set(draft.actors)
    found = draft_name_hits(state.config, fields, known)
    return list(dict.fromkeys(name for names in found.values() for name in names))


def _save(state: KBState, draft: capture.Draft) -> capture.Saved:
    """Write and index under the KB write lock; the one embedder is used under the
    state lock (a short hold: one entry is embedded)."""
    return state.run(lambda kb: capture.save(kb.config, draft, embedder=kb.embedder))


# --- views --------------------------------------------------------------------------------
async def new_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    if request.method == "POST":
        form = await read_form(request)
        if form is not None:
            lang = pick_language(form.get("lang"), state.config.language)
    allowed = await datasette.permission_allowed(request.actor, WRITE_ACTION, default=False)
    if not allowed:
        if request.method == "POST":
            return Response.text(text("capture_forbidden", lang), status=403)
        return await roles.role_required(datasette, request, lang, "role_needed_write", "writer")
    context = _context(datasette, request, state, lang)
    t = context["t"]
    if request.method != "POST":
        return await _render_form(datasette, request, context, _form_values(None, lang, state.config.default_visibility), lang)
    if form is None:
        return Response.text(t["capture_too_large"], status=413)
    values = _form_values(form, lang, state.config.default_visibility)
    draft = capture.draft_from_form(values, author=request.actor["id"], default_lang=lang)
    try:
        capture.build(state.config, draft)  # checks the draft: raises CaptureInvalid
    except capture.CaptureInvalid as exc:
        return await _render_form(datasette, request, context, values, lang,
                                  errors=exc.messages(lang, context["area_names"]), status=400)
    person_names = await asyncio.to_thread(_person_names, state, draft)
    identity_numbers = draft_identity_numbers(_draft_fields(draft))
    if form.get("action") == "save":
        try:
            saved = await asyncio.to_thread(_save, state, draft)
        except capture.CaptureInvalid as exc:
            return await _render_form(datasette, request, context, values, lang,
                                      errors=exc.messages(lang, context["area_names"]), status=400)
        except KBError as exc:
            return await _render_form(datasette, request, context, values, lang,
                                      errors={"entry": [str(exc)]}, status=409)
        url = context["entry_url"](saved.id)
        if saved.indexed:
            saved_as = t["capture_saved"].format(title=saved.entry.title)
            datasette.add_message(request, saved_as, datasette.INFO)
        else:
            datasette.add_message(request, t["capture_saved_unindexed"], datasette.WARNING)
        if person_names:
            datasette.add_message(request, t["capture_person_names"].format(names=", ".join(person_names)),
                                  datasette.WARNING)
        if identity_numbers:
            datasette.add_message(request, t["capture_identity_numbers"].format(numbers=", ".join(identity_numbers)),
                                  datasette.WARNING)
        return Response.redirect(url + "#related")  # Datasette sets the message cookie
    # compared under a provisional id, so a same-titled existing entry is not skipped as "itself"
    _, probe = capture.build(state.config, draft, "draft--preview")
    similar, duplicates = await asyncio.to_thread(_nudge, state, probe)
    return await _render_form(
        datasette, request, context, values, lang,
        preview_html=preview_html(draft), similar=similar, duplicates=duplicates,
        previewed=True, person_names=person_names, identity_numbers=identity_numbers,
    )


async def _render_form(datasette, request, context, values, lang, *, errors=None, status=200,
                       preview_html=None, similar=None, duplicates=None, previewed=False, person_names=None,
                       identity_numbers=None):
    state = get_state(datasette)
    headings = HEADINGS.get(lang, HEADINGS["sv"])
    try:
        sprint_default = default_sprint(dt.date.fromisoformat(values["date"]))
    except ValueError:
        sprint_default = ""
    context = {
        **context,
        "values": values,
        "errors": errors or {},
        "areas": list(state.config.areas.values()),
        "types": ENTRY_TYPES,
        "sections": list(zip(capture.SECTION_FIELDS, headings, strict=True)),
        "sprint_default": sprint_default,
        "preview_html": preview_html,
        "similar": similar or [],
        "similar_any_close": bool(getattr(similar, "any_close", False)),
        "duplicates": duplicates or [],
        "person_names": person_names or [],
        "identity_numbers": identity_numbers or [],
        "previewed": previewed,
        "max_section": capture.WEB_LIMITS.section,
        "other_lang": "en" if lang == "sv" else "sv",
        "field_ids": FIELD_IDS,
    }
    return await html_page(datasette, request, "capture_new.html", context, status=status)


async def preview_fragment(datasette, request):
    """``POST /-/kb/new/preview``: the form's sections as the saved entry's page will show
    them (the same Markdown renderer, sanitised HTML), for the form's live preview."""
    state = get_state(datasette)
    if state is None:
        return no_kb(as_json=True)
    if request.method != "POST":
        return json_response({"ok": False}, 405)
    if not await datasette.permission_allowed(request.actor, WRITE_ACTION, default=False):
        return json_response({"ok": False}, 403)
    form = await read_form(request)
    if form is None:
        return json_response({"ok": False}, 413)
    lang = pick_language(form.get("lang"), state.config.language)
    draft = capture.draft_from_form(_form_values(form, lang, state.config.default_visibility), default_lang=lang)
    return json_response({"ok": True, "html": str(preview_html(draft))})


def preview_html(draft: capture.Draft) -> Markup:
    """The draft as its page will show it, one heading level down (the preview sits under
    the form's own headings): the title, then the sections through the entry renderer."""
    body = markdown_to_html(sections_text(draft.sections))
    body = HEADING_TAG.sub(lambda m: f"<{m[1]}h{int(m[2]) + 1}>", body)
    title = " ".join(draft.title.split())
    return (Markup('<h2 class="capture-live-title">{}</h2>').format(title) if title else Markup("")) + Markup(body)


async def login_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    next_url = roles.safe_next(request.args.get("next"))
    settings = state.auth.current()
    error = None
    status = 200
    if request.method == "POST":
        form = await read_form(request) or {}
        lang = pick_language(form.get("lang"), state.config.language)
        next_url = roles.safe_next(form.get("next") or next_url)
        name = (form.get("username") or "").strip()[:64]
        password = (form.get("password") or "")[:1024]
        throttle = state.login_throttle
        client = signin.client_address(request)
        wait = throttle.begin(name, client)  # counted as a failure until it succeeds
        if wait > 0:
            context = _context(datasette, request, state, lang)
            context.update({"next": next_url, "error": "capture_too_many", "has_writers": True,
                            "wait_minutes": max(1, math.ceil(wait / 60))})
            response = await html_page(datasette, request, "capture_login.html", context, status=429)
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        if await asyncio.to_thread(settings.check_password, name, password):
            throttle.succeeded(name, client)
            response = Response.redirect(datasette.urls.path(roles.with_language(next_url, lang)))
            signin.start_session(datasette, request, response, name, settings)
            return response
        for burst in throttle.failed(name, client):  # the audit log gets bursts, not each failure
            await asyncio.to_thread(
                audit.record, state.config.state_dir, "anonymous", "signin.failures",
                target=name if valid_name(name) else "(not a user name)", address=client,
                scope=burst.scope, failures=burst.failures)
        error, status = "capture_bad_login", 403
    context = _context(datasette, request, state, lang)
    who = roles.viewer(datasette, request, lang)
    context.update({"next": next_url, "error": error, "has_writers": bool(settings.writers),
                    "proxy_sign_on": bool(settings.proxy_header),
                    "already": text("capture_already_signed_in", lang, name=who.name,
                                    role=text(f"role_{who.role}", lang)) if who.signed_in else None})
    return await html_page(datasette, request, "capture_login.html", context, status=status)


async def logout_page(datasette, request):
    response = Response.redirect(datasette.urls.path("/-/kb/search"))
    if request.method == "POST":  # the door checked the form's token
        signin.end_session(datasette, request, response)
    return response


ROUTES = [
    (r"^/-/kb/new$", new_page),
    (r"^/-/kb/new/preview$", preview_fragment),
    (r"^/-/kb/login$", login_page),
    (r"^/-/kb/logout$", logout_page),
    (r"^/-/logout$", logout_page),  # Datasette's menu button
]
