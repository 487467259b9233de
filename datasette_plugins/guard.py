"""The ASGI layer in front of Datasette (hook ``asgi_wrapper``): what every request passes
before Datasette sees it, and what every response gets on its way out.

* ``nosniff`` and a Referrer-Policy on every response (our own pages also set a CSP);
* a request body is at most ``MAX_REQUEST_BYTES``, whether its length is announced
  (``Content-Length``) or it comes in chunks without one: past the limit the answer is 413
  and the connection is closed, before more is read (a chunked body used to be read whole,
  200 MB and more, by the CSRF check of a form);
* Datasette's own debugging pages (:data:`INTERNAL_PAGES`) answer 404 to anyone but a signed-in
  facilitator,
  its ``_internal`` database (the files' paths) to everyone;
* Datasette's own HTML pages get a Content-Security-Policy when they have none
  (:func:`datasette_csp`), and its CSV no cell a spreadsheet would run (:mod:`.csv_cells`).
"""

from __future__ import annotations

import re

from datasette.utils import await_me_maybe
from datasette.utils.asgi import Request

from datasette_plugins import csv_cells
from datasette_plugins.signin import has_role
from datasette_plugins.state import get_state
from datasette_plugins.web import SECURITY_HEADERS, datasette_csp
from kb.core.texts import DEFAULT_LANGUAGE, text

MAX_REQUEST_BYTES = 1_000_000  # no page takes more (the capture form: 128 kB)
# Datasette's pages about itself that no visitor needs: versions, threads, the permission
# and message debuggers (whose POST puts any text in a visitor's message banner), patterns,
# the permission checks made so far (others' actors). Matched as a prefix, so that every path
# Datasette's own routes take (theirs end in "$", which also takes a final newline) is covered.
INTERNAL_PAGES = re.compile(r"^/-/(versions|threads|allow-debug|messages|patterns|permissions)(?![\w-])")
# Datasette's own database of its databases (the files' absolute paths): for no one
INTERNAL_DATABASE = re.compile(r"^/_internal(?![\w-])")


def wrap(datasette, app):
    """``app`` (Datasette) behind the checks above."""
    extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    csp = datasette_csp().encode()
    csv_app = csv_cells.wrap(app, lambda scope: app_path(datasette, scope).endswith(".csv"))

    async def refuse(send, status: int, key: str) -> None:
        state = get_state(datasette)
        message = text(key, state.config.language if state else DEFAULT_LANGUAGE) + "\n"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"connection", b"close"), *extra]})
        await send({"type": "http.response.body", "body": message.encode()})

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            return await refuse(send, 413, "page_request_too_large")
        if b"transfer-encoding" in headers:
            # no length announced: read the body here, up to the limit, and hand it on
            messages = await read_body(receive, MAX_REQUEST_BYTES)
            if messages is None:
                return await refuse(send, 413, "page_request_too_large")
            receive = replay(messages, receive)
        path = app_path(datasette, scope)
        if INTERNAL_DATABASE.match(path) or (
                INTERNAL_PAGES.match(path) and not await facilitator(datasette, scope, receive)):
            return await refuse(send, 404, "page_not_found")

        async def with_headers(event):
            if event["type"] == "http.response.start":
                headers = list(event.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in extra if h[0] not in present]
                if b"content-security-policy" not in present and _is_html(headers):
                    headers.append((b"content-security-policy", csp))  # one of Datasette's own pages
                event = {**event, "headers": headers}
            await send(event)

        return await csv_app(scope, receive, with_headers)

    return guarded


def _is_html(headers: list) -> bool:
    kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    return kind.split(b";")[0].strip().lower() == b"text/html"


async def read_body(receive, limit: int) -> list[dict] | None:
    """The messages of a request body, or None as soon as it is longer than ``limit``."""
    messages: list[dict] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":  # the client went away
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body"):
            return messages


def replay(messages: list[dict], receive):
    """A ``receive`` that gives ``messages`` first, then whatever the connection sends."""
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed


def app_path(datasette, scope) -> str:
    """The request path as Datasette routes it (without the ``base_url`` prefix)."""
    path = scope.get("path", "")
    base = (datasette.setting("base_url") or "/").rstrip("/")
    return path[len(base):] if base and path.startswith(base + "/") else path


async def facilitator(datasette, scope, receive) -> bool:
    """Whether the request carries an actor, found as Datasette finds it (every plugin's
    ``actor_from_request``: the signed ``ds_actor`` cookie, tokens), who is a facilitator (or
    above): Datasette's debugging pages are for whoever runs the service, not for every writer."""
    # imported here: importing datasette.plugins loads every plugin, this package among them
    from datasette.plugins import pm

    request = Request(scope, receive)
    for found in pm.hook.actor_from_request(datasette=datasette, request=request):
        actor = await await_me_maybe(found)
        if actor:
            return has_role(datasette, actor, "facilitator")
    return False
