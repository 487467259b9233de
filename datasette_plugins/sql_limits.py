"""What every connection the web server opens to ``kb.db`` may do and show.

* **Values** are at most ``MAX_VALUE_BYTES`` (SQLite's length limit, 1 GB by default): the
  largest in the index is an entry's body, which ``kb index`` limits to 1 MB. Three visitors
  asking for ``length(printf('%.*c', 400000000, 'x'))`` took the server from 241 MB to 1.4 GB
  in 2.5 s; now SQLite refuses at once ("string or blob too big").
* **Results** of SQL of a visitor's own (on :mod:`.own_sql`'s threads) are at most
  ``MAX_RESULT_BYTES`` a statement: a thousand rows of just-short values would still be gigabytes.
* **Hidden**: the file column of ``pragma_database_list`` (the server's absolute path of
  ``kb.db``), and ``entries.author`` (writers' user names, e-mail addresses under single
  sign-on) unless kb.toml ``[web] publish_authors = true``. SQLite's authorizer reads them as
  NULL, so every query still runs.

Our own searches' connections (:class:`.state.KBState`) get a length limit too, a higher one
(they bind long lists of ids, and run no visitor's SQL).
"""

from __future__ import annotations

import sqlite3

from datasette_plugins import sql
from datasette_plugins.own_sql import SQL_LANGUAGE
from datasette_plugins.state import KBState
from indexer.parse import MAX_ENTRY_BYTES
from kb.core.texts import text

MAX_VALUE_BYTES = 2 * MAX_ENTRY_BYTES
MAX_RESULT_BYTES = 10_000_000


class ResultTooLarge(sqlite3.DataError):
    """A statement of a visitor's own returned more than :data:`MAX_RESULT_BYTES` (a
    DatabaseError, so Datasette shows it as the query's error)."""


def limit_values(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)


def hide_columns(publish_authors: bool):
    """SQLite's authorizer: the columns above read as NULL."""
    hidden = {("pragma_database_list", "file")}
    if not publish_authors:
        hidden.add(("entries", "author"))

    def authorize(action, table, column, _database, _trigger):
        if action == sqlite3.SQLITE_READ and (table, column) in hidden:
            return sqlite3.SQLITE_IGNORE
        return sqlite3.SQLITE_OK

    return authorize


def budget_rows(conn: sqlite3.Connection, limit: int = MAX_RESULT_BYTES):
    """Count what each statement returns (through the row factory); past ``limit`` the
    fetch stops with :class:`ResultTooLarge`. Returns the function that starts a new count."""
    used = [0]
    make_row = conn.row_factory or sqlite3.Row

    def counted(cursor, row):
        used[0] += sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)
        if used[0] > limit:
            raise ResultTooLarge(text("sql_result_too_large", SQL_LANGUAGE.get(), mb=limit // 1_000_000))
        return make_row(cursor, row)

    conn.row_factory = counted
    return lambda: used.__setitem__(0, 0)


def prepare(conn: sqlite3.Connection, state: KBState, *, own_sql: bool) -> None:
    """Everything above, and our SQL functions, on one of Datasette's connections to kb.db;
    ``own_sql``: a connection that runs SQL of visitors' own (a result budget)."""
    limit_values(conn)
    conn.set_authorizer(hide_columns(state.config.web.publish_authors))
    new_statement = [sql.register_functions(conn, state)]
    if own_sql:
        new_statement.append(budget_rows(conn))

    def started(_statement) -> None:  # SQLite calls this as each statement starts running
        for reset in new_statement:
            reset()

    conn.set_trace_callback(started)
