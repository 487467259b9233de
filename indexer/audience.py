"""What each audience may see, as a database of its own: ``.kb/audience/partner.db`` and
``.kb/audience/public.db`` beside ``kb.db``.

The web server answers a partner or a visitor from their audience's database (its pages,
search, Datasette's tables, JSON, CSV and SQL alike), so a row they may not see is not
filtered out of their answers: it is not in the file they read. Each is made from ``kb.db``
whenever the index changes (``kb index``, a save from the web form, ``kb forget``, ``kb
sync``), with the same schema:

* ``entries`` and ``followed_entries``: the rows whose ``visibility`` the audience may see
  (:func:`kb.core.visibility.sql_condition`); in each ``related`` list, only ids of rows
  that are in the file too (an id names its lesson);
* ``chunks`` and the full-text index: the chunks of those rows, with the vectors computed
  for ``kb.db`` (nothing is embedded again);
* ``meta`` as it is, except what was measured on the audience's own file (kb.db's
  ``key@audience``: the close threshold), and ``followed_sources``; the FAISS file of these
  chunks beside it.

Everything computed from several lessons (obstacle groups and their labels, synergies,
counts) is computed by the server from this file, so it knows no word of a hidden lesson.
Each file is written whole under a temporary name and renamed over the last one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path

from kb.core import vector_index
from kb.core.config import KBConfig
from kb.core.errors import KBError
from kb.core.files import file_lock
from kb.core.store import FOLLOWED_TABLE, SOURCES_TABLE, Store
from kb.core.visibility import AUDIENCES, sql_condition

DERIVED_AUDIENCES = tuple(a for a in AUDIENCES if a != "staff")  # staff reads kb.db itself
ENTRY_TABLES = ("entries", FOLLOWED_TABLE)
AUDIENCE_MARK = "@"  # kb.db's meta "key@partner": the partners' file's "key" (see _meta_of)


def refresh_audiences(config: KBConfig, store: Store, dim: int, *, changed: bool = True) -> None:
    """Derive the audiences' databases when ``kb.db`` ``changed``, or when one is missing, of
    another generation than ``store`` (an index made before them, a run cut short) or with
    other followed publications (a ``kb sync`` that changed no lesson)."""
    now = (store.generation, [shown_source(source) for source in store.sources()])
    if changed or any(_state_of(config.audience_db_path(a)) != now for a in DERIVED_AUDIENCES):
        derive_audiences(config, dim)


def shown_source(source: dict) -> dict:
    """A followed publication as partners and visitors read it: a folder on this server is no
    address of theirs (its path would tell how the server is laid out)."""
    url = source.get("url")
    web = isinstance(url, str) and url.lower().startswith(("http://", "https://"))  # as SQLite's LIKE below
    return {**source, "url": url if web else None}


def _state_of(path: Path) -> tuple | None:
    """(generation, followed publications) of an audience's database; None when there is none."""
    if not path.exists():
        return None
    try:
        store = Store(path, read_only=True)
    except (KBError, sqlite3.Error):
        return None
    try:
        return store.generation, store.sources()
    except sqlite3.Error:
        return None
    finally:
        store.close()


def derive_audiences(config: KBConfig, dim: int) -> dict[str, int]:
    """Write the database (and FAISS file) of each audience but staff from ``kb.db``;
    returns the number of entries each holds.

    One writer at a time (a lock of its own: callers may hold the index's write lock), so the
    last to rename its files is the last to have read ``kb.db``: a ``kb index`` that read it
    before a ``kb forget`` cannot put the erased lesson back after the forget's own copy."""
    folder = config.audience_db_path(DERIVED_AUDIENCES[0]).parent
    try:
        with file_lock(folder / "derive.lock"):
            return {audience: derive_audience(config, audience, dim) for audience in DERIVED_AUDIENCES}
    except (OSError, sqlite3.Error, KBError) as error:
        # fail closed: an older file may still hold what is no longer theirs (a lesson made
        # internal, a text changed): better no answer for partners and visitors than that
        withdraw_audiences(config)
        where = getattr(error, "filename", None) or folder
        raise KBError(f"{where}: could not write what partners and visitors may see ({error}); until it "
                      "is written, the web server answers them that the index is missing",
                      hint="Free disk space or fix the folder's permissions, then run `kb index`.") from error


def withdraw_audiences(config: KBConfig) -> None:
    """Remove every audience's database and FAISS file (the server then refuses their readers)."""
    for audience in DERIVED_AUDIENCES:
        _remove_sqlite(config.audience_db_path(audience))
        with contextlib.suppress(FileNotFoundError):
            config.audience_faiss_path(audience).unlink()


def derive_audience(config: KBConfig, audience: str, dim: int) -> int:
    """Write ``audience``'s database from ``kb.db`` (see the module's notes); returns its
    number of entries."""
    target = config.audience_db_path(audience)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    _remove_sqlite(tmp)
    try:
        conn = sqlite3.connect(tmp)
        try:
            # a new file, renamed into place only when complete: no journal to keep, and
            # whatever is overwritten (a related list cut short) is zeroed, not left in a page
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA secure_delete=ON")
            count = _copy_visible(conn, config.db_path, audience)
        finally:
            conn.close()
        os.replace(tmp, target)
    finally:
        _remove_sqlite(tmp)
    store = Store(target, read_only=True)
    try:
        vector_index.rebuild(store, config.audience_faiss_path(audience), dim)
    finally:
        store.close()
    return count


def _copy_visible(conn: sqlite3.Connection, source: Path, audience: str) -> int:
    """Make ``source``'s schema in the empty file of ``conn`` and copy what ``audience`` may
    see into it, all read in one transaction of the source (one consistent state of it)."""
    conn.execute("ATTACH DATABASE ? AS src", [str(source)])
    try:
        conn.execute("BEGIN")
        schema = conn.execute("select name, sql from src.sqlite_master where sql is not null "
                              "and type in ('table', 'index') order by rowid").fetchall()
        virtual = [name for name, sql in schema if sql.upper().startswith("CREATE VIRTUAL TABLE")]
        for name, sql in schema:
            if not any(name.startswith(f"{v}_") for v in virtual):  # a full-text index makes its own tables
                conn.execute(sql)
        for table in ("_sqlite_migrations", SOURCES_TABLE):
            conn.execute(f"insert into main.{table} select * from src.{table}")
        conn.execute(f"update main.{SOURCES_TABLE} set url = null "  # see shown_source
                     "where url not like 'http://%' and url not like 'https://%'")
        conn.executemany("insert or replace into main.meta (key, value) values (?, ?)",
                         _meta_of(conn.execute("select key, value from src.meta").fetchall(), audience))
        for table in ENTRY_TABLES:
            where, params = sql_condition(audience)
            columns = _columns(conn, table)
            conn.execute(f"insert into main.{table} ({columns}) select {columns} from src.{table} "
                         f"where {where}", params)
        kept = {r[0] for table in ENTRY_TABLES for r in conn.execute(f"select id from main.{table}")}
        for table in ENTRY_TABLES:
            for entry_id, related in conn.execute(f"select id, related from main.{table}").fetchall():
                values = json.loads(related) if related else []
                visible = [v for v in values if v in kept]
                if visible != values:
                    conn.execute(f"update main.{table} set related = ? where id = ?",
                                 [json.dumps(visible, ensure_ascii=False), entry_id])
        columns = _columns(conn, "chunks")
        conn.execute(f"insert into main.chunks ({columns}) select {columns} from src.chunks "
                     "where entry_id in (select id from main.entries union all select id from "
                     f"main.{FOLLOWED_TABLE})")
        conn.execute("insert into main.chunks_fts (rowid, title, heading, text, title_stem, heading_stem, "
                     "text_stem) select rowid, title, heading, text, title_stem, heading_stem, text_stem "
                     "from src.chunks_fts where rowid in (select id from main.chunks)")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.execute("DETACH DATABASE src")
    return len(kept)


def _meta_of(rows: list[tuple], audience: str) -> list[tuple]:
    """kb.db's meta as ``audience``'s file holds it: a value measured on that file itself
    (kb.db's ``key@audience``, e.g. the close threshold of search.calibration) in place of the
    whole index's ``key``; another audience's values left out."""
    own = {key.rsplit(AUDIENCE_MARK, 1)[0]: value for key, value in rows
           if key.endswith(AUDIENCE_MARK + audience)}
    return [(key, own.get(key, value)) for key, value in rows if AUDIENCE_MARK not in key]


def _columns(conn: sqlite3.Connection, table: str) -> str:
    """The columns of ``table`` in both files (the same: one schema)."""
    names = [r[1] for r in conn.execute(f"pragma main.table_info({table})")]
    return ", ".join(f'"{n}"' for n in names)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
