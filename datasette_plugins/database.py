"""``kb.db`` as Datasette reads it, following ``kb index --rebuild``.

A rebuild writes a new file and renames it over ``kb.db``. A connection opened before
keeps reading the old, deleted file (and keeps its disk space) for as long as it lives,
and Datasette keeps one connection per SQL thread for the life of the server: its table,
row and SQL pages, and our entry page, went on showing the old index (an entry saved
after the rebuild: 404 on its page while search found it) until a restart.

:class:`FollowingDatabase` checks, before each use of a thread's connection, whether the
file at the path is still the one it opened (one ``stat``), and opens the new one if not.
Our own searches do the same in :meth:`datasette_plugins.state.KBState.run`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import traceback

from datasette.database import Database

from datasette_plugins.audience import AUDIENCE
from datasette_plugins.audience import current as current_audience
from datasette_plugins.own_sql import OWN_SQL, SQL_LANGUAGE, TIME_LIMIT_MS, executor_for
from kb.core.errors import IndexMissing
from kb.core.files import file_identity


class FollowingDatabase(Database):
    """A Datasette database on a file that may be replaced by rename while it is served, and
    that answers each audience (datasette_plugins.audience) from its own file: kb.db for
    staff, the database of what partners, or visitors, may see for them (indexer.audience).
    Every query Datasette makes (its table, row, JSON, CSV, facet and SQL pages, our pages'
    own) runs on a connection to the file of the request's audience."""

    def __init__(self, ds, path: str, config=None):
        super().__init__(ds, path=path, is_mutable=True)
        self.kb_config = config  # where each audience's file is; None: kb.db for everyone
        self._local = threading.local()  # this thread's audience -> (connection, identity of its file)

    def audience_path(self, audience: str) -> str:
        if self.kb_config is None:
            return self.path
        return str(self.kb_config.audience_db_path(audience))

    def current_connection(self, audience: str = "staff"):
        """This thread's connection for ``audience``, to the file now at its path."""
        path = self.audience_path(audience)
        identity = file_identity(path)  # before connecting: a swap in between only costs a reopen
        held = self._local.__dict__.setdefault("conns", {})
        conn, known = held.get(audience, (None, None))
        if conn is None or known != identity:
            if conn is not None:
                conn.close()  # this thread's own, and not in use: the thread is here
            conn = self.connect_to(path)
            # what Datasette does to each connection it opens (row factory, plugins' SQL
            # functions); it has no public name for it
            self.ds._prepare_connection(conn, self.name)
            held[audience] = (conn, identity)
        return conn

    def connect_to(self, path: str):
        """A read-only connection to ``path`` (as Datasette's ``connect`` opens kb.db); a
        missing audience file is an error, never kb.db in its place."""
        if path == self.path:
            return self.connect()
        if not os.path.exists(path):
            raise AudienceFileMissing(f"{os.path.basename(path)} is missing: run `kb index`")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._all_file_connections.append(conn)
        return conn

    async def execute_fn(self, fn):
        executor = executor_for(self.ds)  # SQL of a visitor's own runs on threads of its own
        reader = current_audience()  # the request's; the SQL thread takes it over for our SQL functions
        timed = OWN_SQL.get()
        lang = SQL_LANGUAGE.get()

        def run():
            reads_as, speaks = AUDIENCE.set(reader), SQL_LANGUAGE.set(lang)
            try:
                conn = self.current_connection(reader)
                return fn(TimedConnection(conn, TIME_LIMIT_MS / 1000) if timed else conn)
            except BaseException as error:
                release_frames(error)
                raise
            finally:
                AUDIENCE.reset(reads_as)
                SQL_LANGUAGE.reset(speaks)

        if executor is None:  # Datasette without SQL threads
            return run()
        return await asyncio.get_running_loop().run_in_executor(executor, run)


class AudienceFileMissing(IndexMissing, sqlite3.OperationalError):
    """An audience's database is not there (not made yet, or withdrawn: indexer.audience).
    An SQLite error to Datasette, which handles those where a query runs; our error pages
    answer it as the index missing (503)."""


def release_frames(error: BaseException) -> None:
    """Let go, on this SQL thread, of what the frames of a failed query still hold.

    A statement that fails (a visitor's SQL stopped at its time limit, say) leaves its
    cursor in the traceback's frames. The exception travels to the event loop, and the
    cursor was freed there, with the exception: freeing a cursor resets its statement,
    which waits for the connection, and that connection was already running the next
    slow statement on this thread. The whole server stood still, holding Python's lock,
    until that statement ended: pages that take 0.03 s took 5 to 13 s while six
    visitors ran slow SQL. Freed here, the cursor's connection is idle."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


class TimedConnection:
    """A connection on which Datasette's time limit is kept by a timer that interrupts the
    statement, not by its progress handler.

    The progress handler is Python, called back from inside SQLite every 1,000 instructions.
    While a slow statement of a visitor's own ran on its own thread, those calls made every
    other thread wait its turn for the interpreter: the pages' queries came back a second or
    two late each (the front page took seconds, the entries table up to 30 s), even with a
    call every 200,000 instructions. ``Connection.interrupt`` needs no call back into Python,
    so a statement that runs long takes only its own core."""

    def __init__(self, conn, seconds: float):
        self._conn, self._seconds = conn, seconds
        self._timer: threading.Timer | None = None

    def set_progress_handler(self, handler, n):
        """Datasette sets its handler before a statement and clears it after: a timer starts
        and stops instead (its ``n`` and deadline are ours: ``TIME_LIMIT_MS``)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if handler is not None:
            self._timer = threading.Timer(self._seconds, self._conn.interrupt)
            self._timer.daemon = True
            self._timer.start()

    def __getattr__(self, name):
        return getattr(self._conn, name)


def follow_rebuilds(datasette, name: str, config=None) -> None:
    """Serve the database ``name`` (the knowledge base's ``kb.db``) as a
    :class:`FollowingDatabase` (each audience from its own file when ``config`` is given),
    also when it was opened as immutable (``datasette -i``), which would show every row to
    everyone and miss every later ``kb index``; left as it is when it is not a file."""
    db = datasette.databases.get(name)
    if db is None or isinstance(db, FollowingDatabase) or not db.path or db.is_memory:
        return
    following = FollowingDatabase(datasette, db.path, config)
    datasette.remove_database(name)
    datasette.add_database(following, name=name, route=db.route)
    db.close()  # connections Datasette may have opened at startup, before any request
