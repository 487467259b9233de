"""Whom a request reads as (kb.core.visibility): ``staff``, ``partner`` or ``public``.

The door (:func:`.signin.guard`) decides it once per request, from the person signed in
(their role) or, for a visitor who has not signed in, kb.toml ``[web] visitors``, and sets
:data:`AUDIENCE` for everything that answers the request: Datasette's own table, row and SQL
pages (:class:`.database.FollowingDatabase` opens that audience's database) and our pages
(:class:`.state.KBState` searches and analyses that audience's index). A partner's or a
visitor's database holds only what they may see (:mod:`indexer.audience`): what they may
not see is not filtered out of their answers, it is not there to be found.

Work handed to a thread with ``asyncio.to_thread`` keeps the audience (the context is
copied); Datasette's SQL threads get it from :meth:`.database.FollowingDatabase.execute_fn`.
Where nothing set it, the narrowest audience answers.
"""

from __future__ import annotations

from contextvars import ContextVar

from kb.app.auth import AuthSettings

NARROWEST = "public"
AUDIENCE: ContextVar[str] = ContextVar("kb_audience", default=NARROWEST)


def current() -> str:
    """The audience of the request being answered (``public`` outside of one)."""
    return AUDIENCE.get()


def of_request(settings: AuthSettings, sign_on: str | None, session) -> str:
    """The audience of a request: its single sign-on user's or password session's, else a
    visitor's (kb.toml ``[web] visitors``)."""
    name = sign_on or (session.name if session is not None else None)
    return settings.audience_of(name)


def may_see_all() -> bool:
    return current() == "staff"
