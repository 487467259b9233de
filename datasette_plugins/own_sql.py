"""SQL of one's own on the web: who may run it, and how much of the server it may take.

Datasette runs the SQL a visitor writes (``/kb?sql=…``, ``/kb.json?sql=…``, a table's
``?_where=…``) on the same three threads as every page's own queries. Six visitors repeating
a slow recursive query each ran into the 3 s time limit, but together they held all three:
the front page took 7 s, the entries table over 30 s. Now:

* kb.toml ``[web] sql`` says who may run it: ``signed-in`` (the default), ``all`` or ``off``
  (Datasette's permission ``execute-sql``, :func:`may_run`); the tables with their facets,
  their JSON and CSV, and the saved queries stay open to everyone;
* it runs on threads of its own (:func:`sql_threads`: half the cores, at least one), so the
  pages keep Datasette's threads whatever it does, with a time limit of ``TIME_LIMIT_MS``
  (the pages keep Datasette's 3 s);
* one request with SQL of its own at a time per client (a signed-in person by name, anyone
  else by address as the sign-in door sees it): another while the first runs is answered 429
  at once; at most ``MAX_IN_FLIGHT`` such requests run or wait in all, past that 503;
* what one statement returns is capped (:mod:`.sql_limits`).
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import json
import os
import threading
from urllib.parse import parse_qsl, unquote_plus

from datasette_plugins.guard import app_path
from datasette_plugins.state import get_state
from datasette_plugins.web import SECURITY_HEADERS
from kb.core.texts import DEFAULT_LANGUAGE, pick_language, text

TIME_LIMIT_MS = 1000
MAX_IN_FLIGHT = 8  # requests with SQL of their own, running or waiting for a thread, over all clients
SQL_ARGUMENTS = ("sql", "_where")  # query arguments that carry SQL of the visitor's own
ATTRIBUTE = "_kb_own_sql"

# set for the whole handling of a request with SQL of its own: the database runs its
# queries on the threads below (database.FollowingDatabase.execute_fn)
OWN_SQL: contextvars.ContextVar[bool] = contextvars.ContextVar("kb_own_sql", default=False)
# the language of the page that asked (?lang=, else the knowledge base's): what SQLite's
# refusals on its behalf are written in, also on the SQL thread (database.FollowingDatabase)
SQL_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("kb_sql_language", default=DEFAULT_LANGUAGE)
_thread = threading.local()  # .own: a thread of the pool below
_create_lock = threading.Lock()


def sql_threads() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class OwnSql:
    """One Datasette instance's threads and counts for SQL of visitors' own. The counts are
    only touched on the event loop (one thread): no lock."""

    def __init__(self):
        self.executor = concurrent.futures.ThreadPoolExecutor(
            sql_threads(), thread_name_prefix="kb-own-sql", initializer=_mark_thread)
        self.running: dict[str, int] = {}
        self.in_flight = 0


def _mark_thread() -> None:
    _thread.own = True


def in_own_sql_thread() -> bool:
    """Whether this thread runs SQL of visitors' own (its connection gets a result budget)."""
    return getattr(_thread, "own", False)


def own_sql_of(datasette) -> OwnSql:
    own = getattr(datasette, ATTRIBUTE, None)
    if own is None:
        with _create_lock:
            own = getattr(datasette, ATTRIBUTE, None)
            if own is None:
                own = OwnSql()
                setattr(datasette, ATTRIBUTE, own)
    return own


def executor_for(datasette):
    """The threads a query of this request runs on: ours for SQL of a visitor's own,
    Datasette's for everything else."""
    return own_sql_of(datasette).executor if OWN_SQL.get() else datasette.executor


def may_run(datasette, actor) -> bool | None:
    """The permission ``execute-sql`` by kb.toml ``[web] sql`` (None: Datasette decides, as
    for ``all``)."""
    state = get_state(datasette)
    if state is None or state.config.web.sql == "all":
        return None
    if state.config.web.sql == "off":
        return False
    return bool(actor and actor.get("kb_auth"))  # signed in with us: a password or the sign-on proxy


def carries_own_sql(datasette, scope) -> bool:
    """Whether the request carries SQL of the visitor's own (our own pages take none)."""
    keys = {unquote_plus(part.split(b"=", 1)[0].decode("latin-1"))
            for part in (scope.get("query_string") or b"").split(b"&") if part}
    return bool(keys.intersection(SQL_ARGUMENTS)) and not app_path(datasette, scope).startswith("/-/kb/")


def with_time_limit(query_string: bytes, limit_ms: int) -> bytes:
    """The query string with ``_timelimit`` (Datasette's own argument, which can only lower
    its limit) at most ``limit_ms``; a value that is not a number is dropped."""
    given = [v for k, v in parse_qsl(query_string.decode("latin-1")) if k == "_timelimit"]
    wanted = limit_ms
    if given and given[-1].isdigit() and 0 < int(given[-1]) < limit_ms:
        wanted = int(given[-1])
    kept = [part for part in query_string.split(b"&")
            if part and unquote_plus(part.split(b"=", 1)[0].decode("latin-1")) != "_timelimit"]
    return b"&".join([*kept, b"_timelimit=%d" % wanted])


def client_key(scope) -> str:
    """Whose statement it is, for "one at a time": a signed-in person by name (behind a sign-on
    proxy that names no client address, everyone shares the proxy's), anyone else by address."""
    session = scope.get("kb_session")
    if scope.get("kb_sso_user") or session is not None:
        return "user:" + str(scope.get("kb_sso_user") or session.name)
    return "address:" + str(scope.get("kb_client") or (scope.get("client") or [""])[0] or "")


def page_language(datasette, scope) -> str:
    """The language the request's page is in: ``?lang=``, else the knowledge base's."""
    asked = [v for k, v in parse_qsl((scope.get("query_string") or b"").decode("latin-1")) if k == "lang"]
    state = get_state(datasette)
    return pick_language(asked[-1] if asked else None, state.config.language if state else DEFAULT_LANGUAGE)


def time_limit_seconds(datasette) -> float:
    """The time limit of the request at hand: ours for SQL of one's own, else Datasette's."""
    return TIME_LIMIT_MS / 1000 if OWN_SQL.get() else datasette.setting("sql_time_limit_ms") / 1000


def wrap(datasette, app):
    """The ASGI layer that holds requests with SQL of their own to the limits above (inside
    the sign-in door, which has found the client's address)."""

    async def refuse(scope, send, status: int, key: str, lang: str) -> None:
        message = text(key, lang)
        if scope.get("path", "").endswith(".json"):
            body, kind = json.dumps({"ok": False, "error": message, "status": status}), b"application/json"
        else:
            body, kind = message + "\n", b"text/plain"
        headers = [(b"content-type", kind + b"; charset=utf-8"), (b"retry-after", b"1"),
                   *[(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode("utf-8")})

    async def gate(scope, receive, send):
        if scope["type"] != "http" or get_state(datasette) is None or not carries_own_sql(datasette, scope):
            return await app(scope, receive, send)
        own = own_sql_of(datasette)
        client = client_key(scope)
        lang = page_language(datasette, scope)
        if own.running.get(client):
            return await refuse(scope, send, 429, "sql_one_at_a_time", lang)
        if own.in_flight >= MAX_IN_FLIGHT:
            return await refuse(scope, send, 503, "sql_busy", lang)
        own.running[client] = 1
        own.in_flight += 1
        token, lang_token = OWN_SQL.set(True), SQL_LANGUAGE.set(lang)
        try:
            scope = {**scope, "query_string": with_time_limit(scope.get("query_string") or b"", TIME_LIMIT_MS)}
            return await app(scope, receive, send)
        finally:
            OWN_SQL.reset(token)
            SQL_LANGUAGE.reset(lang_token)
            own.running.pop(client, None)
            own.in_flight -= 1

    return gate
