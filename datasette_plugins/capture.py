"""Capture plugin (entry point ``datasette: kb_capture``): log a reflection from the browser.

Routes: ``/-/kb/new`` (form, preview, save), ``/-/kb/login`` and ``/-/kb/logout``.
Hooks (0.65 and 1.0): ``register_routes``, ``permission_allowed``, ``menu_links``.

Anonymous visitors read; writing needs the ``kb-write`` permission, which a signed-in
writer has. Sign-in sets Datasette's own signed ``ds_actor`` cookie after checking a
password hash from kb.toml ``[auth] writers`` or ``$KB_WRITERS``. Every POST passes
Datasette's CSRF protection (asgi-csrf: the forms carry ``csrftoken()``). The work is
in :mod:`kb.capture`; saving happens under the KB's write lock and indexes only the new
entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from urllib.parse import parse_qsl, urlencode

from datasette.utils import baseconv
from datasette.utils.asgi import Response
from markupsafe import Markup

from datasette_plugins.render import markdown_to_html
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import (
    html_page,
    no_kb,
    page_context,
    request_language,
    static_url,
)
from indexer.personal_data import draft_name_hits, indexed_actors
from kb.app import auth, capture
from kb.app.capture import HEADINGS, default_sprint
from kb.core.config import ENTRY_TYPES
from kb.core.errors import KBError
from kb.core.texts import pick_language, text
from search.similar import similar_to_unsaved

WRITE_ACTION = "kb-write"
MAX_FORM_BYTES = 128_000  # three sections of 10,000 characters (UTF-8, url-encoded) fit
SESSION_SECONDS = 12 * 3600
SIMILAR_SHOWN = 6


# --- hooks ------------------------------------------------------------------------------
def may_write(datasette, actor) -> bool:
    """``kb-write``: a signed-in actor who is (still) in the KB's writer list."""
    state = get_state(datasette)
    if state is None or not actor or not actor.get("id"):
        return False
    return auth.has_role(state.config, actor.get("id"), "writer")


# --- helpers ------------------------------------------------------------------------------
async def _form(request) -> dict[str, str] | None:
    """The url-encoded POST body as a dict, or None if it is too large."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        return None
    body = await request.post_body()
    if len(body) > MAX_FORM_BYTES:
        return None
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _context(datasette, request, state: KBState, lang: str) -> dict:
    actor = request.actor or {}
    return {
        **page_context(datasette, state, lang),
        "actor_name": actor.get("id"),
        "capture_urls": {
            "new": datasette.urls.path("/-/kb/new"),
            "login": datasette.urls.path("/-/kb/login"),
            "logout": datasette.urls.path("/-/kb/logout"),
            "js": static_url(datasette, "capture.js"),
            "css": static_url(datasette, "capture.css"),
        },
    }


def _login_redirect(datasette, lang: str) -> Response:
    params = {"next": "/-/kb/new"}
    if lang != "sv":
        params["lang"] = lang
    return Response.redirect(datasette.urls.path("/-/kb/login") + "?" + urlencode(params))


def _form_values(form: dict[str, str] | None, lang: str) -> dict[str, str]:
    values = {"title": "", "area": "", "type": "lesson", "date": dt.date.today().isoformat(),
              "sprint": "", "tags": "", "actors": "", "roadmap": "", "lang": lang,
              **{name: "" for name in capture.SECTION_FIELDS}}
    if form:
        values.update({k: form.get(k, "") for k in values if k in form})
    return values


def _nudge(state: KBState, entry) -> tuple[list, list[dict]]:
    """Similar lessons (other areas first) and near-duplicate warnings for a draft."""
    def work(kb):
        try:
            similar = similar_to_unsaved(kb, entry, limit=SIMILAR_SHOWN)
        except KBError:
            return [], []
        try:
            duplicates = capture.duplicate_warnings(kb, entry)
        except KBError:
            duplicates = []
        return similar, duplicates

    return state.run(work)


def _person_names(state: KBState, draft: capture.Draft) -> list[str]:
    """Private persons' names in the draft's title and sections (a warning, never a block);
    the knowledge base's own actors (from the index) and the draft's are not counted."""
    fields = {"title": draft.title, **{f"section{i}": t for i, (_, t) in enumerate(draft.sections)}}

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
        form = await _form(request)
        if form is not None:
            lang = pick_language(form.get("lang"), state.config.language)
    allowed = await datasette.permission_allowed(request.actor, WRITE_ACTION, default=False)
    if not allowed:
        if request.method == "POST":
            return Response.text(text("capture_forbidden", lang), status=403)
        return _login_redirect(datasette, lang)
    context = _context(datasette, request, state, lang)
    t = context["t"]
    if request.method != "POST":
        return await _render_form(datasette, request, context, _form_values(None, lang), lang)
    if form is None:
        return Response.text(t["capture_too_large"], status=413)
    values = _form_values(form, lang)
    draft = capture.draft_from_form(values, author=request.actor["id"], default_lang=lang)
    try:
        _, entry = capture.build(state.config, draft)
    except capture.CaptureInvalid as exc:
        return await _render_form(datasette, request, context, values, lang, errors=exc.messages(lang),
                                  status=400)
    person_names = await asyncio.to_thread(_person_names, state, draft)
    if form.get("action") == "save":
        try:
            saved = await asyncio.to_thread(_save, state, draft)
        except capture.CaptureInvalid as exc:
            return await _render_form(datasette, request, context, values, lang, errors=exc.messages(lang),
                                  status=400)
        except KBError as exc:
            return await _render_form(datasette, request, context, values, lang,
                                      errors={"entry": [str(exc)]}, status=409)
        url = context["entry_url"](saved.id)
        if saved.indexed:
            saved_as = t["capture_saved"].format(path=saved.entry.rel_path)
            datasette.add_message(request, saved_as, datasette.INFO)
        else:
            datasette.add_message(request, t["capture_saved_unindexed"], datasette.WARNING)
        if person_names:
            datasette.add_message(request, t["capture_person_names"].format(names=", ".join(person_names)),
                                  datasette.WARNING)
        return Response.redirect(url + "#related")  # Datasette sets the message cookie
    # compared under a provisional id, so a same-titled existing entry is not skipped as "itself"
    _, probe = capture.build(state.config, draft, "draft--preview")
    similar, duplicates = await asyncio.to_thread(_nudge, state, probe)
    return await _render_form(
        datasette, request, context, values, lang,
        preview_html=Markup(markdown_to_html(entry.body)), similar=similar, duplicates=duplicates,
        previewed=True, person_names=person_names,
    )


async def _render_form(datasette, request, context, values, lang, *, errors=None, status=200,
                       preview_html=None, similar=None, duplicates=None, previewed=False, person_names=None):
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
        "duplicates": duplicates or [],
        "person_names": person_names or [],
        "previewed": previewed,
        "max_section": capture.WEB_LIMITS.section,
        "other_lang": "en" if lang == "sv" else "sv",
    }
    return await html_page(datasette, request, "capture_new.html", context, status=status)


async def login_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    next_url = _safe_next(request.args.get("next") or "/-/kb/new")
    error = None
    status = 200
    if request.method == "POST":
        form = await _form(request) or {}
        lang = pick_language(form.get("lang"), state.config.language)
        next_url = _safe_next(form.get("next") or next_url)
        name = (form.get("username") or "").strip()[:64]
        password = (form.get("password") or "")[:1024]
        throttle = state.login_throttle
        keys = throttle.keys(name, (request.scope.get("client") or [None])[0])
        wait = throttle.wait_seconds(keys)
        if wait > 0:
            context = _context(datasette, request, state, lang)
            context.update({"next": next_url, "error": "capture_too_many", "has_writers": True,
                            "wait_minutes": max(1, math.ceil(wait / 60))})
            response = await html_page(datasette, request, "capture_login.html", context, status=429)
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        ok = await asyncio.to_thread(auth.check_login, state.config, name, password)
        if ok:
            throttle.succeeded(name)
            response = Response.redirect(datasette.urls.path(next_url) + ("?lang=en" if lang == "en" else ""))
            expires = baseconv.base62.encode(int(time.time()) + SESSION_SECONDS)
            response.set_cookie("ds_actor", datasette.sign({"a": {"id": name}, "e": expires}, "actor"),
                                httponly=True, samesite="lax", max_age=SESSION_SECONDS)
            return response
        throttle.failed(keys)
        error, status = "capture_bad_login", 403
    context = _context(datasette, request, state, lang)
    context.update({"next": next_url, "error": error,
                    "has_writers": bool(auth.load_writers(state.config))})
    return await html_page(datasette, request, "capture_login.html", context, status=status)


async def logout_page(datasette, request):
    if request.method != "POST":
        return Response.redirect(datasette.urls.path("/-/kb/search"))
    response = Response.redirect(datasette.urls.path("/-/kb/search"))
    response.set_cookie("ds_actor", "", expires=0, max_age=0)
    return response


def _safe_next(value: str) -> str:
    """Only our own pages: never an absolute URL or ``//host`` (open redirect)."""
    return value if value in ("/-/kb/new", "/-/kb/search") else "/-/kb/new"


ROUTES = [
    (r"^/-/kb/new$", new_page),
    (r"^/-/kb/login$", login_page),
    (r"^/-/kb/logout$", logout_page),
]
