"""The Datasette plugin that publishes a knowledge base (entry point ``datasette: kb``).

Datasette finds this package's ``templates/`` and ``static/`` folders itself. The hooks
below (all exist in Datasette 0.65 and 1.0) only connect Datasette to the work, which is
in the page modules: the front page (:mod:`.front`), search and entry pages (:mod:`.pages`),
cross-area learning (:mod:`.crossarea`), roadmaps and policy (:mod:`.roadmaps`), the brief
(:mod:`.brief`), actions and the learning agenda (:mod:`.loop`), Atom feeds (:mod:`.feeds`), the
form to log a reflection (:mod:`.capture`) and the accessibility statement (:mod:`.statement`);
the SQL functions are in :mod:`.sql`. Every page, Datasette's own included, has the layout of
``templates/base.html`` (language, skip link, navigation).
"""

from __future__ import annotations

import json

from datasette import Forbidden, hookimpl
from markupsafe import Markup

from datasette_plugins import (
    brief,
    capture,
    cities,
    colours,
    crossarea,
    feeds,
    front,
    guard,
    internals,
    loop,
    opendata,
    own_sql,
    pages,
    roadmaps,
    signin,
    sql_limits,
    statement,
)
from datasette_plugins import metadata as kb_metadata
from datasette_plugins.chrome import chrome_defaults, chrome_vars, nav_links, value_label
from datasette_plugins.database import follow_rebuilds
from datasette_plugins.render import markdown_to_html
from datasette_plugins.state import get_state
from datasette_plugins.web import static_url
from kb.core.store import FOLLOWED_TABLE
from kb.core.texts import text

READ_ONLY_API = signin.READ_ONLY_API
LIST_COLUMNS = ("tags", "actors", "roadmap", "related", "policy")  # JSON lists in the entries table


@hookimpl
def startup(datasette):
    state = get_state(datasette)
    if state is None:
        return
    # `kb index --rebuild` replaces kb.db while we serve it; partners and visitors read their own files
    follow_rebuilds(datasette, state.database, state.config)
    defaults = kb_metadata.build_metadata(
        state.config, state.database, search_path=datasette.urls.path("/-/kb/search")
    )
    kb_metadata.apply_default_metadata(datasette, defaults)


ROUTES_OF_PLUGINS = [*front.ROUTES, *colours.ROUTES, *pages.ROUTES, *crossarea.ROUTES, *roadmaps.ROUTES,
                     *brief.ROUTES, *capture.ROUTES, *loop.ROUTES, *feeds.ROUTES, *statement.ROUTES,
                     *opendata.ROUTES, *cities.ROUTES, *internals.ROUTES]


@hookimpl
def register_routes(datasette):
    return ROUTES_OF_PLUGINS


@hookimpl
def prepare_connection(conn, database, datasette):
    """Our SQL functions, and the limits of :mod:`.sql_limits` (value length, what is hidden,
    and on the threads of SQL of visitors' own, the result budget)."""
    state = get_state(datasette)
    if state is not None and database == state.database:
        sql_limits.prepare(conn, state, own_sql=own_sql.in_own_sql_thread())


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    state = get_state(datasette)
    if state is None or database != state.database:
        return None
    if column == "embedding" and isinstance(value, bytes | bytearray):
        # Datasette's table pages know no ?lang: the knowledge base's own language
        label = text("table_vector_cell", state.config.language, dim=len(value) // 4)
        return Markup('<span class="kb-muted">{}</span>').format(label)
    if table not in ("entries", FOLLOWED_TABLE) or not isinstance(value, str):
        return None
    entry_lang = _row_value(row, "lang")
    marked = Markup(' lang="{}"').format(entry_lang) if entry_lang and entry_lang != state.config.language else ""
    if column == "body":
        return Markup('<div class="kb-cell-body"{}>').format(marked) + Markup(markdown_to_html(value)) + Markup("</div>")
    if column == "title" and marked:  # an entry in the other language says so (WCAG 3.1.2)
        return Markup("<span{}>{}</span>").format(marked, value)
    if column == "path":  # a file name, not words
        return Markup("<code>{}</code>").format(value)
    if column == "extra" and value == "{}":
        return ""
    if column in ("area", "type", "visibility"):  # the word, not the stored slug (Datasette's filters keep the slug)
        return value_label(column, value, state.config.language, state)
    if column in LIST_COLUMNS and value.startswith("["):  # a JSON list: its values, as words
        try:
            values = json.loads(value)
        except ValueError:
            return None
        return ", ".join(str(value_label(column, v, state.config.language, state)) for v in values)
    return None


def _row_value(row, key: str):
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None


@hookimpl
def extra_css_urls(datasette):
    """Our stylesheet on every page (the navigation, skip link and focus styles of our
    base.html are in it), Datasette's own pages included."""
    state = get_state(datasette)
    if state is None:
        return []
    return [static_url(datasette, "kb.css"), colours.stylesheet_url(datasette, state.config)]


@hookimpl
def extra_template_vars(template, request, datasette):
    return {**chrome_vars(datasette, request), **brief.template_vars(template, request, datasette)}


@hookimpl
def prepare_jinja2_environment(env, datasette):
    """The chrome's texts for the pages Datasette renders without our template variables
    (its error pages): the knowledge base's language, and our stylesheet."""
    env.globals.update(chrome_defaults(datasette))


@hookimpl
def menu_links(datasette, actor, request):
    return nav_links(datasette, actor, request)


@hookimpl
def permission_allowed(datasette, actor, action):
    """``kb-write`` (writer and above), ``kb-facilitate`` (facilitator and above): the role
    from the current kb.toml, so a removed role is gone at once. ``execute-sql``: as kb.toml
    ``[web] sql`` says (:func:`.own_sql.may_run`)."""
    if action == "execute-sql":
        return own_sql.may_run(datasette, actor)
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
    """Security headers, request body limits, the internal pages and safe CSV cells
    (:mod:`.guard`), then the sign-in checks (:func:`.signin.guard`), then the limits on SQL
    of visitors' own (:mod:`.own_sql`)."""
    return lambda app: guard.wrap(datasette, signin.guard(datasette, own_sql.wrap(datasette, app)))


@hookimpl
def forbidden(datasette, request, message):
    """Our error page for a refused permission too (Datasette's names only the permission, as
    HTML even for ``.json``); SQL of one's own refused says why (:mod:`.internals`)."""
    return internals.error_response(datasette, request, Forbidden(message))


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    """Our error page in place of every other handler's (see :mod:`.internals`): Datasette's
    own turned a 404 for an unknown path into a 500."""
    outcome = yield
    outcome.force_result([internals.error_response(datasette, request, exception)])
