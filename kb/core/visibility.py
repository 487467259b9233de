"""Who may see a lesson, an action or a learning question: its ``visibility``.

Three levels, from the narrowest: ``internal`` (the city's own staff), ``partner`` (also the
project's external partners: E.ON, Sweco, Lunds universitet, Malmö Ideella ...) and
``public`` (anyone, and the open publication other cities follow). A file says it in its
front matter (``visibility: partner``); a file that does not gets kb.toml's
``[sharing] visibility``, and ``internal`` when kb.toml says nothing either, so nothing is
shared by accident.

Who reads is an *audience*: ``staff`` sees every level, ``partner`` sees ``partner`` and
``public``, ``public`` (a visitor who has not signed in, a follower of the publication) sees
``public`` only. :func:`visible_to` is the one place that says so; every page, query or
export that filters by audience asks it (:func:`sql_condition` for SQL on the index).
"""

from __future__ import annotations

VISIBILITIES = ("internal", "partner", "public")  # narrowest first
DEFAULT_VISIBILITY = "internal"
AUDIENCES = ("staff", "partner", "public")  # widest view first
_SEEN_BY = {
    "staff": VISIBILITIES,
    "partner": ("partner", "public"),
    "public": ("public",),
}


def visible_to(audience: str) -> tuple[str, ...]:
    """The visibilities ``audience`` may see; an unknown audience sees only ``public``
    (closed, not open)."""
    return _SEEN_BY.get(audience, _SEEN_BY["public"])


def may_see(audience: str, visibility: str | None) -> bool:
    """Whether ``audience`` may see something of ``visibility`` (None counts as the
    narrowest level: a value missing from an older index is never shown outside)."""
    return (visibility or DEFAULT_VISIBILITY) in visible_to(audience)


def sql_condition(audience: str, column: str = "visibility") -> tuple[str, list[str]]:
    """A SQL condition on ``column`` for what ``audience`` may see, and its parameters."""
    allowed = visible_to(audience)
    if allowed == VISIBILITIES:
        return "1", []
    return f"coalesce({column}, '{DEFAULT_VISIBILITY}') in ({','.join('?' * len(allowed))})", list(allowed)


def visibility_problem(value) -> str | None:
    """What is wrong with a ``visibility`` value as written (None when it is one of ours)."""
    if value in VISIBILITIES:
        return None
    return (f"unknown visibility {value!r}: use one of {', '.join(VISIBILITIES)} "
            "(or leave the key out for kb.toml's [sharing] visibility)")

