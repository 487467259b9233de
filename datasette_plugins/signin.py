"""Who is behind a request, checked once at the door (an ASGI layer around Datasette).

- **Single sign-on**: with kb.toml ``[auth] proxy_header``, the user named in that header is
  signed in, but only when the request comes straight from a ``trusted_proxies`` address;
  from anywhere else the header is ignored.
- **Client address**: the peer, or (from a trusted proxy only) the last untrusted address
  of ``X-Forwarded-For``: what the sign-in throttle counts by. ``X-Forwarded-Proto`` from a
  trusted proxy sets the scheme (a session cookie over https is marked ``Secure``).
- **Sessions**: a password sign-in is Datasette's signed ``ds_actor`` cookie carrying a
  session id and a mark of the password; the cookie is dropped from the request (and from
  the browser) when that session was signed out, has expired, or the password changed.
- **Forms**: Datasette's CSRF check (asgi-csrf: the form's token must equal the
  ``ds_csrftoken`` cookie) is made to hold on our routes: a POST there must carry the
  cookie (a cross-site POST has none: no login CSRF) and loses any ``Authorization``
  header (``Bearer`` would skip the check). The token is bound to the signed-in session
  (or sign-on user): when it is not, a bound one is made, and a POST with the old one
  is refused.

Roles are looked up on every permission check (:func:`has_role`), from the current kb.toml.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from datasette.utils import baseconv
from itsdangerous import BadSignature

from datasette_plugins import audience
from datasette_plugins.state import get_state
from kb.app.auth import AuthSettings, valid_name
from kb.app.web_sessions import SESSION_SECONDS, new_session_id
from kb.core.texts import text

WRITE_ACTION = "kb-write"
FACILITATE_ACTION = "kb-facilitate"
ACTION_ROLES = {WRITE_ACTION: "writer", FACILITATE_ACTION: "facilitator"}
ACTOR_COOKIE = "ds_actor"
CSRF_COOKIE = "ds_csrftoken"
CSRF_NAMESPACE = "csrftoken"  # asgi-csrf's
FORM_PATHS = ("/-/kb/", "/-/logout")  # our routes: a POST here gets the full check
READ_ONLY_API = ("/-/kb/search.json",)  # GET only, changes nothing: not a form
STATIC_PATHS = ("/-/static/", "/-/static-plugins/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


@dataclass(frozen=True)
class Session:
    name: str
    id: str
    expires: int  # Unix time


# --- reading a request ------------------------------------------------------------------------
def client_address(request) -> str | None:
    """The client's address as the door saw it (see the module's notes)."""
    return request.scope.get("kb_client") or (request.scope.get("client") or [None])[0]


def current_session(request) -> Session | None:
    return request.scope.get("kb_session")


def cache_scope(request) -> str | None:
    """Whose query vectors a search may reuse: the signed-in session's (or the sign-on user's);
    None for a visitor who is not signed in, whose searches reuse nothing (datasette_plugins.query_vectors)."""
    return request.scope.get("kb_identity")


def has_role(datasette, actor, role: str) -> bool:
    """A signed-in actor of ours (password or sign-on) whose current role is ``role`` or above."""
    state = get_state(datasette)
    if state is None or not actor or not actor.get("id") or not actor.get("kb_auth"):
        return False
    return state.auth.current().has_role(str(actor["id"]), role)


def actor_from_sign_on(request) -> dict | None:
    name = request.scope.get("kb_sso_user")
    return {"id": name, "kb_auth": "proxy"} if name else None


# --- starting and ending a session --------------------------------------------------------------
def start_session(datasette, request, response, name: str, settings: AuthSettings) -> Session:
    session = Session(name, new_session_id(), int(time.time()) + SESSION_SECONDS)
    value = {"a": {"id": name, "kb_auth": "password"}, "e": baseconv.base62.encode(session.expires),
             "kb": {"sid": session.id, "pw": settings.password_mark(name)}}
    response.set_cookie(ACTOR_COOKIE, datasette.sign(value, "actor"), httponly=True, samesite="lax",
                        max_age=SESSION_SECONDS, secure=request.scheme == "https")
    return session


def end_session(datasette, request, response) -> None:
    """Sign out: the session is put on the signed-out list (a copy of the cookie is dead
    too), and the browser forgets the cookie and its form token."""
    state = get_state(datasette)
    session = current_session(request)
    if state is not None and session is not None:
        state.signed_out.revoke(session.id, session.expires)
    response.set_cookie(ACTOR_COOKIE, "", expires=0, max_age=0)
    response.set_cookie(CSRF_COOKIE, "", expires=0, max_age=0)


def _session_from_cookie(datasette, state, settings: AuthSettings, raw: str) -> Session | None:
    try:
        decoded = datasette.unsign(raw, "actor")
    except BadSignature:
        return None
    if not isinstance(decoded, dict):
        return None
    actor, kb = decoded.get("a"), decoded.get("kb")
    if not isinstance(actor, dict) or not isinstance(kb, dict) or not kb.get("sid"):
        return None  # not one of our sessions
    try:
        expires = int(baseconv.base62.decode(str(decoded.get("e") or "")))
    except (ValueError, KeyError):
        return None
    name = str(actor.get("id") or "")
    if expires <= time.time() or not name:
        return None
    if kb.get("pw") is None or kb.get("pw") != settings.password_mark(name):
        return None  # the password was changed or removed since
    if state.signed_out.is_revoked(str(kb["sid"])):
        return None
    return Session(name, str(kb["sid"]), expires)


# --- the door ------------------------------------------------------------------------------------
def guard(datasette, app):
    """The ASGI layer that does the checks above before Datasette (and its CSRF check) runs."""
    async def door(scope, receive, send):
        state = get_state(datasette) if scope["type"] == "http" else None
        if state is None:
            return await app(scope, receive, send)
        settings = state.auth.current()
        headers = list(scope.get("headers") or [])
        peer = (scope.get("client") or [None])[0]
        client = settings.client_address(peer, _header(headers, b"x-forwarded-for"))
        sign_on = None
        if settings.proxy_header and settings.is_trusted_proxy(peer):
            value = (_header(headers, settings.proxy_header.encode("latin-1")) or "").strip()
            sign_on = value if value and valid_name(value) else None
        cookies = _cookies(headers)  # name -> (value, as written)
        session, forget_actor, changed = None, False, False
        if ACTOR_COOKIE in cookies:
            if sign_on is None:
                session = _session_from_cookie(datasette, state, settings, cookies[ACTOR_COOKIE][0])
                forget_actor = session is None
            if session is None:
                del cookies[ACTOR_COOKIE]  # Datasette never sees it
                changed = True
        identity = f"u:{sign_on}" if sign_on else f"s:{session.id}" if session else None
        path = scope.get("path", "")
        new_token = None
        if identity and not path.startswith(STATIC_PATHS) \
                and _binding(datasette, cookies.get(CSRF_COOKIE, ("",))[0]) != identity:
            new_token = datasette.sign({"b": identity, "n": new_session_id()}, CSRF_NAMESPACE)
        refuse = False
        if scope.get("method") not in SAFE_METHODS and path.startswith(FORM_PATHS) \
                and not path.endswith(READ_ONLY_API):
            headers = [(k, v) for k, v in headers if k.lower() != b"authorization"]
            refuse = CSRF_COOKIE not in cookies or new_token is not None
        if new_token:
            cookies[CSRF_COOKIE] = (new_token, new_token)
        if new_token or changed:
            headers = [(k, v) for k, v in headers if k.lower() != b"cookie"]
            if cookies:
                line = "; ".join(f"{k}={coded}" for k, (_, coded) in cookies.items())
                headers.append((b"cookie", line.encode("latin-1")))
        scope = {**scope, "headers": headers, "kb_client": client, "kb_sso_user": sign_on,
                 "kb_session": session, "kb_identity": identity}
        if settings.is_trusted_proxy(peer) and _header(headers, b"x-forwarded-proto") in ("http", "https"):
            scope["scheme"] = _header(headers, b"x-forwarded-proto")  # TLS ends at the proxy
        set_cookies = []
        if forget_actor:
            set_cookies.append(f"{ACTOR_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
        if new_token:
            set_cookies.append(f"{CSRF_COOKIE}={new_token}; Path=/; SameSite=Lax")

        reader = audience.of_request(settings, sign_on, session)

        async def send_with_cookies(event):
            if event["type"] == "http.response.start" and not set_cookies and reader != audience.NARROWEST:
                # more than the open web may read: never kept by a shared cache (a proxy that
                # does not vary on the sign-on header would hand it to the next visitor)
                own = event.get("headers", [])
                kept = [(k, v) for k, v in own if k.lower() != b"cache-control"]
                event = {**event, "headers": kept + [(b"cache-control", b"private, no-cache")]}
            if event["type"] == "http.response.start" and set_cookies:
                own = event.get("headers", [])
                named = {v.split(b"=", 1)[0].strip() for k, v in own if k.lower() == b"set-cookie"}
                extra = [c.encode("latin-1") for c in set_cookies]  # unless the page set the same cookie
                extra = [c for c in extra if c.split(b"=", 1)[0] not in named]
                kept = [(k, v) for k, v in own if k.lower() != b"cache-control"]
                event = {**event, "headers": kept + [(b"set-cookie", c) for c in extra]
                         + [(b"cache-control", b"private, no-store")]}
            await send(event)

        if refuse:
            return await _refuse(send_with_cookies, text("signin_form_expired", state.config.language))
        reads_as = audience.AUDIENCE.set(reader)
        try:
            return await app(scope, receive, send_with_cookies)
        finally:
            audience.AUDIENCE.reset(reads_as)

    return door


def _header(headers: list, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def _cookies(headers: list) -> dict[str, tuple[str, str]]:
    """Name -> (value, value as written), read the way Datasette and asgi-csrf read them."""
    cookie: SimpleCookie = SimpleCookie()
    for key, value in headers:
        if key.lower() == b"cookie":
            try:
                cookie.load(value.decode("latin-1"))
            except CookieError:
                continue
    return {key: (morsel.value, morsel.coded_value) for key, morsel in cookie.items()}


def _binding(datasette, token: str | None) -> str | None:
    """The identity a form token was made for (None: made for no one, or not ours)."""
    if not token:
        return None
    try:
        value = datasette.unsign(token, CSRF_NAMESPACE)
    except BadSignature:
        return None
    return value.get("b") if isinstance(value, dict) else None


async def _refuse(send, message: str) -> None:
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": (message + "\n").encode("utf-8")})
