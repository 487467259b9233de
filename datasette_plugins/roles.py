"""Who is looking at a page, and what they may do there: a page shows a button only to those
whose role allows it, and where the role is missing, says which role it takes in a plain
sentence ("Att föreslå åtgärder kräver rollen samordnare.") instead of sending a signed-in
person to a sign-in page they have already passed. Visitors who are not signed in get a
link to sign in that brings them back to the page they were on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from datasette.utils.asgi import Response

from datasette_plugins.state import get_state
from datasette_plugins.web import html_page, page_context
from kb.app.auth import ROLES
from kb.core.texts import text

LOGIN_PATH = "/-/kb/login"
DEFAULT_NEXT = "/"
# a page of this site to come back to: a path (never //host or a scheme) and a plain query
_NEXT_RE = re.compile(r"/(?![/\\])[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,400}(\?[A-Za-z0-9=&%._,+~:-]{0,600})?")  # fullmatch


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: their name (None when not signed in), their role, and
    where "Logga in" takes them (the sign-in page, coming back here)."""

    name: str | None
    role: str
    login_url: str

    @property
    def signed_in(self) -> bool:
        return self.name is not None

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def viewer(datasette, request, lang: str) -> Viewer:
    actor = request.actor if request is not None else None
    name = str(actor["id"]) if actor and actor.get("id") and actor.get("kb_auth") else None
    state = get_state(datasette)
    role = state.auth.current().role_of(name) if name and state is not None else "reader"
    return Viewer(name=name, role=role, login_url=login_url(datasette, request, lang))


def here(request) -> str:
    """This page's path and query, as the sign-in page's ``next``."""
    if request is None:
        return DEFAULT_NEXT
    path = request.scope.get("route_path") or request.path
    return path + (f"?{request.query_string}" if request.query_string else "")


def login_url(datasette, request, lang: str, next_url: str | None = None) -> str:
    """The sign-in page, coming back to ``next_url`` (default: this page)."""
    target = safe_next(next_url or here(request))
    params = {"next": target}
    if lang != "sv" and "lang=" not in target:
        params["lang"] = lang
    return datasette.urls.path(LOGIN_PATH) + "?" + urlencode(params)


def safe_next(value: str | None) -> str:
    """A page of this site to return to after signing in; anything else (another host,
    ``//host``, a scheme, the sign-in page itself) becomes the front page."""
    value = value or ""
    path = value.split("?")[0]
    if not _NEXT_RE.fullmatch(value) or path in (LOGIN_PATH, "/-/kb/logout", "/-/logout") \
            or any(part in (".", "..") or part.lower().startswith("%2e") for part in path.split("/")):
        return DEFAULT_NEXT
    return value


def with_language(url: str, lang: str) -> str:
    """``url`` in ``lang`` (its own ``lang=`` wins), for the redirect after signing in."""
    path, _, query = url.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    if lang != "sv" and not any(k == "lang" for k, _ in params):
        params.append(("lang", lang))
    return path + ("?" + urlencode(params) if params else "")


def role_sentence(what_key: str, role: str, who: Viewer, lang: str) -> str:
    """"Att föreslå åtgärder kräver rollen samordnare." and, for someone signed in, which
    role they have and whom to ask."""
    sentence = text(what_key, lang, role=text(f"role_{role}", lang))
    if who.signed_in:
        sentence += " " + text("role_you_have", lang, name=who.name, role=text(f"role_{who.role}", lang))
    return sentence


def template_vars(datasette, request, lang: str) -> dict:
    """``kb_who`` (the :class:`Viewer`) and ``kb_role_sentence(what_key, role)`` for every
    page (the ``role_note`` macro of ``_kb_macros.html`` uses both)."""
    who = viewer(datasette, request, lang)
    return {"kb_who": who, "kb_role_sentence": lambda what_key, role: role_sentence(what_key, role, who, lang)}


async def role_required(datasette, request, lang: str, what_key: str, role: str):
    """The answer to a signed-in person whose role does not allow a page (a 403 that says
    which role it takes), or, for a visitor not signed in, the sign-in page coming back."""
    who = viewer(datasette, request, lang)
    if not who.signed_in:
        return Response.redirect(who.login_url)
    state = get_state(datasette)
    context = {**page_context(datasette, state, lang), "what_key": what_key, "role": role,
               "front_url": datasette.urls.instance()}
    return await html_page(datasette, request, "role_required.html", context, status=403)
