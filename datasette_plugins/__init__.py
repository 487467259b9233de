"""The Datasette plugin that publishes a knowledge base (entry point ``datasette: kb``).

Datasette finds this package's ``templates/`` and ``static/`` folders itself. The hooks
below (all exist in Datasette 0.65 and 1.0) only connect Datasette to the work, which is
in the page modules: search and entry pages (:mod:`.pages`), cross-area learning
(:mod:`.crossarea`), roadmaps and policy (:mod:`.roadmaps`), the brief (:mod:`.brief`),
actions and the learning agenda (:mod:`.loop`), Atom feeds (:mod:`.feeds`) and the form to
log a reflection (:mod:`.capture`); the SQL functions are in :mod:`.sql`.
"""

from __future__ import annotations

from datasette import hookimpl
from markupsafe import Markup

from datasette_plugins import (
    brief,
    capture,
    crossarea,
    feeds,
    guard,
    internals,
    loop,
    pages,
    roadmaps,
    signin,
    sql,
)
from datasette_plugins import metadata as kb_metadata
from datasette_plugins.database import follow_rebuilds
from datasette_plugins.render import markdown_to_html
from datasette_plugins.state import get_state
from datasette_plugins.web import request_language, static_url
from kb.core.texts import text, texts

READ_ONLY_API = signin.READ_ONLY_API


@hookimpl
def startup(datasette):
    state = get_state(datasette)
    if state is None:
        return
    follow_rebuilds(datasette, state.database)  # `kb index --rebuild` replaces kb.db while we serve it
    defaults = kb_metadata.build_metadata(
        state.config, state.database, search_path=datasette.urls.path("/-/kb/search")
    )
    kb_metadata.apply_default_metadata(datasette, defaults)


@hookimpl
def register_routes(datasette):
    return [*pages.ROUTES, *crossarea.ROUTES, *roadmaps.ROUTES, *brief.ROUTES, *capture.ROUTES, *loop.ROUTES,
            *feeds.ROUTES, *internals.ROUTES]


@hookimpl
def prepare_connection(conn, database, datasette):
    state = get_state(datasette)
    if state is not None and database == state.database:
        sql.register_functions(conn, state)


@hookimpl
def render_cell(value, column, table, database, datasette):
    state = get_state(datasette)
    if state is None or database != state.database:
        return None
    if column == "embedding" and isinstance(value, bytes | bytearray):
        # Datasette's table pages know no ?lang: the knowledge base's own language
        label = text("table_vector_cell", state.config.language, dim=len(value) // 4)
        return Markup('<span class="kb-muted">{}</span>').format(label)
    if table == "entries" and column == "body" and isinstance(value, str):
        return Markup('<div class="kb-cell-body">') + Markup(markdown_to_html(value)) + Markup("</div>")
    return None


@hookimpl
def extra_css_urls(database, datasette):
    state = get_state(datasette)
    if state is None or database != state.database:
        return []
    return [static_url(datasette, "kb.css")]


@hookimpl
def extra_template_vars(template, request, datasette):
    return brief.template_vars(template, request, datasette)


@hookimpl
def menu_links(datasette, actor, request):
    state = get_state(datasette)
    if state is None:
        return []
    # request is None when Datasette renders a page outside a request (then: the KB's language)
    t = texts(request_language(request, state) if request is not None else state.config.language)
    path = datasette.urls.path
    signed_in = bool(actor and actor.get("id"))
    return [
        {"href": path("/-/kb/search"), "label": t["search_title"]},
        {"href": datasette.urls.table(state.database, "entries") + "?" + kb_metadata.entries_browse_query(),
         "label": t["menu_browse"]},
        {"href": path("/-/kb/synergies"), "label": t["synergies_title"]},
        {"href": path("/-/kb/obstacles"), "label": t["obstacles_title"]},
        {"href": path("/-/kb/conflicts"), "label": t["conflicts_title"]},
        {"href": path("/-/kb/roadmaps"), "label": t["roadmaps_title"]},
        {"href": path("/-/kb/policy"), "label": t["policy_title"]},
        {"href": path("/-/kb/actions"), "label": t["actions_title"]},
        {"href": path("/-/kb/agenda"), "label": t["agenda_title"]},
        {"href": path("/-/kb/brief"), "label": t["brief_title"]},
        {"href": path("/-/kb/new"), "label": t["capture_new_title"]} if signed_in
        else {"href": path("/-/kb/login"), "label": t["capture_login_title"]},
    ]


@hookimpl
def permission_allowed(datasette, actor, action):
    """``kb-write`` (writer and above), ``kb-facilitate`` (facilitator and above): the role
    from the current kb.toml, so a removed role is gone at once."""
    role = signin.ACTION_ROLES.get(action)
    if role is None:
        return None
    return signin.has_role(datasette, actor, role)


@hookimpl(tryfirst=True)
def actor_from_request(request):
    """The user the trusted sign-on proxy names (the door checked where it came from)."""
    return signin.actor_from_sign_on(request)


@hookimpl
def canned_queries(datasette, database):
    state = get_state(datasette)
    if state is None or database != state.database:
        return None
    return kb_metadata.canned_queries(state.config.language)


@hookimpl
def skip_csrf(datasette, scope):
    """The JSON search API takes GET only and changes nothing: no CSRF cookie to make and
    sign on each of its calls (the form pages keep the protection)."""
    path = scope.get("path", "")
    return scope.get("method") in ("GET", "HEAD") and any(path.endswith(p) for p in READ_ONLY_API)


@hookimpl
def asgi_wrapper(datasette):
    """Security headers, request body limits and the internal pages (:mod:`.guard`), then the
    sign-in checks (:func:`.signin.guard`)."""
    return lambda app: guard.wrap(datasette, signin.guard(datasette, app))


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    """Our error page in place of every other handler's (see :mod:`.internals`): Datasette's
    own turned a 404 for an unknown path into a 500."""
    outcome = yield
    outcome.force_result([internals.error_response(datasette, request, exception)])
