"""SQL functions for Datasette's SQL editor: ``kb_search(query[, k])``, a JSON array of
``{id, score, match}`` (``match``: ``close`` or ``weak``), and ``kb_similar(id[, k])``, of
``{id, score}``.

One SQL statement may call them at most ``MAX_CALLS_PER_STATEMENT`` times together; the
next call interrupts the statement at once (Datasette reports it as a query over its time
limit). A search takes milliseconds, so a statement calling one per row of a 10,000-row
recursive CTE held one of Datasette's three SQL threads until its time limit, and six of
them left every other page waiting for seconds. (Interrupted rather than raised: Datasette
logs every exception raised in a SQL function with its traceback.)
"""

from __future__ import annotations

import json
from collections.abc import Callable

from datasette_plugins.state import MAX_K, MAX_QUERY_CHARS, KBState
from kb.core.errors import EntryNotFound

MAX_CALLS_PER_STATEMENT = 10


def register_functions(conn, state: KBState) -> Callable[[], None]:
    """Register the functions on ``conn``; returns what to call as each statement starts
    (:func:`.sql_limits.prepare` calls it from SQLite's trace callback): a new count."""
    calls = [0]  # calls by the statement running now on this connection

    def new_statement() -> None:
        calls[0] = 0

    def over_budget() -> bool:
        calls[0] += 1
        if calls[0] > MAX_CALLS_PER_STATEMENT:
            conn.interrupt()  # the statement stops at its next step
            return True
        return False

    def kb_search(query, k=10):
        if over_budget() or not query:
            return "[]"
        results = state.search(str(query)[:MAX_QUERY_CHARS], limit=clamp(k), show="all")
        return json.dumps([{"id": r.id, "score": round(r.score, 4), "match": r.match} for r in results])

    def kb_similar(entry_id, k=10):
        if over_budget() or not entry_id:
            return "[]"
        try:
            results = state.similar(str(entry_id), limit=clamp(k))
        except EntryNotFound:
            return "[]"
        return json.dumps([{"id": r.id, "score": round(r.score, 4)} for r in results])

    for name, fn in (("kb_search", kb_search), ("kb_similar", kb_similar)):
        conn.create_function(name, 1, fn)
        conn.create_function(name, 2, fn)
    return new_statement


def clamp(k) -> int:
    """``k`` as a number of results between 1 and MAX_K (10 when it is not a number)."""
    try:
        return max(1, min(MAX_K, int(k)))
    except (TypeError, ValueError):
        return 10
