"""SQL functions for Datasette's SQL editor: ``kb_search(query[, k])`` and
``kb_similar(id[, k])``, each a JSON array of ``{id, score}``."""

from __future__ import annotations

import json

from datasette_plugins.state import MAX_K, MAX_QUERY_CHARS, KBState
from kb.core.errors import EntryNotFound


def register_functions(conn, state: KBState) -> None:
    def kb_search(query, k=10):
        if not query:
            return "[]"
        results = state.search(str(query)[:MAX_QUERY_CHARS], limit=clamp(k))
        return json.dumps([{"id": r.id, "score": round(r.score, 4)} for r in results])

    def kb_similar(entry_id, k=10):
        if not entry_id:
            return "[]"
        try:
            results = state.similar(str(entry_id), limit=clamp(k))
        except EntryNotFound:
            return "[]"
        return json.dumps([{"id": r.id, "score": round(r.score, 4)} for r in results])

    for name, fn in (("kb_search", kb_search), ("kb_similar", kb_similar)):
        conn.create_function(name, 1, fn)
        conn.create_function(name, 2, fn)


def clamp(k) -> int:
    """``k`` as a number of results between 1 and MAX_K (10 when it is not a number)."""
    try:
        return max(1, min(MAX_K, int(k)))
    except (TypeError, ValueError):
        return 10
