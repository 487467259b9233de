"""The front page (``/``): a search box first, then what is new, the recurring obstacles and
the synergies at a glance, and the ways on (brief, form, statement; Datasette's database
page for those who want SQL).

It replaces Datasette's instance index, which a plugin route may do (plugin routes come
first). An instance that serves no knowledge base keeps Datasette's own index.
"""

from __future__ import annotations

import asyncio

from datasette.views.index import IndexView

from analysis.corpus import load_corpus
from analysis.links import find_synergies
from analysis.obstacles import group_obstacles
from datasette_plugins.state import get_state
from datasette_plugins.web import html_page, page_context, request_language
from kb.core.decisions import load_decisions
from kb.core.errors import KBError

NEWEST = 6
AT_A_GLANCE = 3


def glance(kb) -> tuple[list, list]:
    """The most widespread recurring obstacles and the strongest synergies, from one corpus."""
    corpus = load_corpus(kb)
    groups = [g for g in group_obstacles(corpus, kb.config) if g.recurring][:AT_A_GLANCE]
    pairs = find_synergies(corpus, load_decisions(kb.config.root), limit=AT_A_GLANCE)
    return groups, pairs


async def front_page(datasette, request):
    state = get_state(datasette)
    if state is None:  # Datasette's own index, which reads the format from the route
        request.scope.setdefault("url_route", {}).setdefault("kwargs", {}).setdefault("format", None)
        return await IndexView(datasette).get(request)
    lang = request_language(request, state)
    db = datasette.get_database(state.database)
    newest = [dict(r) for r in (await db.execute(
        "select id, title, area, type, date, lang from entries order by date desc, id limit ?", [NEWEST])).rows]
    total = (await db.execute("select count(*) from entries")).first()[0]
    try:
        groups, pairs = await asyncio.to_thread(state.run, lambda kb: state.per_index("glance", kb, glance))
    except KBError:  # no index yet: the page still offers search and the form
        groups, pairs = [], []
    context = {
        **page_context(datasette, state, lang),
        "description": state.config.description,
        "newest": newest,
        "total": total,
        "groups": groups,
        "pairs": pairs,
        "area_names": {slug: a.name for slug, a in state.config.areas.items()},
    }
    return await html_page(datasette, request, "kb_front.html", context)


ROUTES = [(r"^/$", front_page)]
