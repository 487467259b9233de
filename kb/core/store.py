"""The SQLite store (through sqlite-utils): entries, chunks, vectors, full-text index, meta.

Vectors are little-endian float32 blobs. The schema is built by migrations, so an
older database is brought up to date when it is opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import sqlite_utils
from sqlite_utils import Migrations

from kb.core.errors import KBError, ModelMismatch
from kb.core.language import detect_language
from kb.core.stem import stem_text

migrations = Migrations("kb")

FTS_TOKENIZER = "unicode61 remove_diacritics 0"  # keep å, ä, ö distinct from a, o
JSON_COLUMNS = ("tags", "actors", "roadmap", "policy", "related", "extra")  # stored as JSON text


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["entries"].create(
        {
            "id": str,
            "title": str,
            "area": str,
            "date": str,
            "sprint": str,
            "type": str,
            "tags": str,
            "actors": str,
            "roadmap": str,
            "policy": str,
            "related": str,
            "extra": str,
            "path": str,
            "body": str,
            "content_hash": str,
            "embedding": bytes,
        },
        pk="id",
    )
    db["chunks"].create(
        {
            "id": int,
            "entry_id": str,
            "seq": int,
            "kind": str,
            "heading": str,
            "text": str,
            "line": int,
            "tokens": int,
            "embedding": bytes,
        },
        pk="id",
        foreign_keys=[("entry_id", "entries", "id")],
    )
    db["chunks"].create_index(["entry_id"])
    db["entries"].create_index(["area"])
    db["entries"].create_index(["date"])
    db["meta"].create({"key": str, "value": str}, pk="key")
    db.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "title, heading, text, "
        f"tokenize='{FTS_TOKENIZER}')"
    )


@migrations()
def m002_languages(db: sqlite_utils.Database) -> None:
    """The language of each chunk and entry, for centring vectors per language."""
    db["chunks"].add_column("lang", str)
    db["entries"].add_column("lang", str)
    for entry_id, title, body in db.execute("select id, title, body from entries").fetchall():
        db.execute(
            "update entries set lang = ? where id = ?",
            [detect_language(f"{title}\n{body}"), entry_id],
        )
    for chunk_id, text, entry_lang in db.execute(
        "select c.id, c.text, e.lang from chunks c join entries e on e.id = c.entry_id"
    ).fetchall():
        db.execute(
            "update chunks set lang = ? where id = ?",
            [detect_language(text, default=entry_lang or "sv"), chunk_id],
        )


@migrations()
def m003_stemmed_fts(db: sqlite_utils.Database) -> None:
    """Stemmed copies of the full-text columns (Snowball, by the chunk's language), so a
    keyword query for "upphandling" also finds "upphandlingen" and "upphandlingar"."""
    db.execute("DROP TABLE IF EXISTS chunks_fts")
    db.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "title, heading, text, title_stem, heading_stem, text_stem, "
        f"tokenize='{FTS_TOKENIZER}')"
    )
    rows = db.execute(
        "select c.id, e.title, c.heading, c.text, coalesce(c.lang, e.lang, 'sv') "
        "from chunks c join entries e on e.id = c.entry_id"
    ).fetchall()
    for chunk_id, title, heading, text, lang in rows:
        db.execute(FTS_INSERT, [chunk_id, *fts_values(title, heading, text, lang)])


@migrations()
def m004_visibility(db: sqlite_utils.Database) -> None:
    """Who may see each entry (kb.core.visibility). An older index has no value: NULL counts
    as ``internal`` until the next ``kb index`` writes the entry again (its content hash
    changes with the new column)."""
    db["entries"].add_column("visibility", str)
    db["entries"].create_index(["visibility"])


FOLLOWED_TABLE = "followed_entries"  # other cities' lessons (kb sync): never mixed with our own
SOURCES_TABLE = "followed_sources"


@migrations()
def m005_followed(db: sqlite_utils.Database) -> None:
    """Lessons from other cities' publications (kb follow, kb sync) get a table of their own,
    shaped like ``entries`` plus the source's name, so that nothing that reads ``entries``
    (the analyses, the brief, the feeds, the report) mixes them with our own; their chunks
    share ``chunks``, the full-text index and the vectors, so a search finds both. ``entries``
    gets the ``source`` column too (always NULL), so a row of either table reads the same."""
    db["entries"].add_column("source", str)
    columns = {name: str for name in ("id", "title", "area", "date", "sprint", "type", "tags", "actors", "roadmap",
                                      "policy", "related", "extra", "path", "body", "content_hash")}
    db[FOLLOWED_TABLE].create({**columns, "embedding": bytes, "lang": str, "visibility": str, "source": str},
                              pk="id")
    db[FOLLOWED_TABLE].create_index(["source"])
    db[SOURCES_TABLE].create({"name": str, "slug": str, "url": str, "organisation": str, "licence": str,
                              "contact": str, "fetched": str, "lessons": int}, pk="slug")


@migrations()
def m006_author_column(db: sqlite_utils.Database) -> None:
    """The writer's user name (front matter ``author``) in a column of its own, out of
    ``extra``: the web server hides that one column from visitors' SQL unless kb.toml says to
    publish it (an e-mail address under single sign-on), and shows the rest of ``extra``.
    Followed lessons get the column too, always empty (a publication names no persons), so a
    row of either table reads the same."""
    db["entries"].add_column("author", str)
    db.execute("update entries set author = json_extract(extra, '$.author'), "
               "extra = json_remove(extra, '$.author') where json_type(extra, '$.author') is not null")
    db[FOLLOWED_TABLE].add_column("author", str)


FTS_INSERT = (
    "insert into chunks_fts (rowid, title, heading, text, title_stem, heading_stem, text_stem) "
    "values (?, ?, ?, ?, ?, ?, ?)"
)


def fts_values(title: str, heading: str, text: str, lang: str | None) -> list[str]:
    lang = lang or "sv"
    return [title, heading, text, stem_text(title, lang), stem_text(heading, lang), stem_text(text, lang)]


def decode_entry_row(row: dict) -> dict:
    """An ``entries`` row as Python values: the JSON columns (lists, ``extra``) decoded, the
    vector left out, and ``author`` back in ``extra``, where the front matter has it. The one
    decoder of entry rows, for the library and the web pages."""
    row.pop("embedding", None)
    author = row.pop("author", None)
    for key in JSON_COLUMNS:
        if key in row:
            row[key] = json.loads(row[key]) if row[key] else ({} if key == "extra" else [])
    if author is not None and isinstance(row.get("extra"), dict):
        row["extra"] = {**row["extra"], "author": author}
    return row


def encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def decode_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def decode_matrix(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype(np.float32)


CHECKPOINT_WAIT_MS = 10_000  # how long an erasure waits for readers to let go of the log


def checkpoint(conn: sqlite3.Connection) -> bool:
    """Copy the write-ahead log into the database file and empty it, so that no older copy
    of a page (with erased text) stays in ``-wal``. A reader in the middle of a query holds
    the log: SQLite's busy handler waits for it up to :data:`CHECKPOINT_WAIT_MS`. False when
    it could not be emptied; SQLite empties it later, at the latest when the last connection
    closes."""
    before = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_WAIT_MS)}")
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(before)}")
    return not busy


class Store:
    """The knowledge base's SQLite file."""
    def __init__(self, path: Path | str, *, read_only: bool = False):
        self.path = Path(path)
        if read_only:
            if not self.path.exists():
                raise KBError(f"{self.path}: no index yet", hint="Run `kb index` first.")
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        if not read_only:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            migrations.apply(self.db)
        else:
            pending = [m.name for m in migrations.pending(self.db)]
            if pending:
                raise KBError(
                    f"{self.path}: the index is from an older version",
                    hint="Run `kb index` to bring it up to date.",
                )

    def close(self) -> None:
        self.db.conn.close()

    # --- meta -------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("select value from meta where key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value) -> None:
        self.db["meta"].upsert({"key": key, "value": str(value)}, pk="key")

    def check_model(self, model_id: str) -> None:
        """Refuse to mix two embedding models' vectors (they mean different things): raise
        :class:`ModelMismatch` when the index was built with another model."""
        indexed = self.get_meta("model_id")
        if indexed is not None and indexed != model_id:
            raise ModelMismatch(
                f"{self.path}: the index was built with model {indexed!r}, not {model_id!r}",
                hint=f"Run `kb index --rebuild --model {model_id}` to re-embed every entry with "
                f"{model_id!r}, or use --model {indexed} (or unset KB_MODEL) to keep the index.",
            )

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation", "0") or 0)

    # --- entries ----------------------------------------------------------
    def entry_hashes(self) -> dict[str, str]:
        """Id -> content hash of every indexed entry, our own and those followed."""
        return dict(self.db.execute(
            f"select id, content_hash from entries union all select id, content_hash from {FOLLOWED_TABLE}").fetchall())

    def write_entry(self, row: dict, chunks: Sequence[dict], vectors: np.ndarray) -> None:
        """Replace one entry with its chunks and vectors. Call inside ``self.db.atomic()``."""
        self.delete_entries([row["id"]])
        entry_vector = vectors.mean(axis=0) if len(vectors) else np.zeros(0, np.float32)
        norm = float(np.linalg.norm(entry_vector)) if len(vectors) else 0.0
        if norm:
            entry_vector = entry_vector / norm
        table = FOLLOWED_TABLE if row.get("source") else "entries"
        self.db[table].insert({**row, "embedding": encode_vector(entry_vector)}, pk="id")
        for chunk, vector in zip(chunks, vectors, strict=True):
            cursor = self.db.execute(
                "insert into chunks (entry_id, seq, kind, heading, text, line, tokens, lang, embedding) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    row["id"],
                    chunk["seq"],
                    chunk["kind"],
                    chunk["heading"],
                    chunk["text"],
                    chunk["line"],
                    chunk["tokens"],
                    chunk.get("lang"),
                    encode_vector(vector),
                ],
            )
            self.db.execute(
                FTS_INSERT,
                [
                    cursor.lastrowid,
                    *fts_values(
                        row["title"], chunk["heading"], chunk["text"], chunk.get("lang") or row.get("lang")
                    ),
                ],
            )

    def delete_entries(self, ids: Iterable[str]) -> None:
        for entry_id in ids:
            chunk_ids = [
                r[0] for r in self.db.execute("select id from chunks where entry_id = ?", [entry_id])
            ]
            for chunk_id in chunk_ids:
                self.db.execute("delete from chunks_fts where rowid = ?", [chunk_id])
            self.db.execute("delete from chunks where entry_id = ?", [entry_id])
            self.db.execute("delete from entries where id = ?", [entry_id])
            self.db.execute(f"delete from {FOLLOWED_TABLE} where id = ?", [entry_id])

    def erase_entries(self, ids: Sequence[str]) -> dict[str, int]:
        """Delete entries for good (``kb forget``): their rows and chunks, their words in the
        full-text index, their ids in other entries' ``related`` lists; deleted content is
        overwritten with zeros (``secure_delete``), the full-text index is merged so no
        segment keeps their words, and the write-ahead log is emptied into the file.
        Returns the number of entries and chunks removed, and ``wal_emptied`` (0 when a
        reader kept the log busy: SQLite empties it later)."""
        ids = list(ids)
        placeholders = ",".join("?" * len(ids))
        counts = {
            "entries": self.db.execute(f"select count(*) from entries where id in ({placeholders})", ids).fetchone()[0],
            "chunks": self.db.execute(f"select count(*) from chunks where entry_id in ({placeholders})", ids).fetchone()[0],
        }
        self.db.execute("PRAGMA secure_delete=ON")
        with self.db.atomic():
            self.delete_entries(ids)
            for other, related in self.db.execute("select id, related from entries").fetchall():
                values = json.loads(related) if related else []
                kept = [v for v in values if v not in ids]
                if kept != values:
                    self.db.execute("update entries set related = ? where id = ?",
                                    [json.dumps(kept, ensure_ascii=False), other])
            # FTS5 only marks deleted rows; merging the segments drops their words for good
            self.db.execute("insert into chunks_fts(chunks_fts) values('optimize')")
            self.set_meta("generation", self.generation + 1)
        counts["wal_emptied"] = int(checkpoint(self.db.conn))
        return counts

    def entry_ids(self) -> list[str]:
        """Every indexed entry's id, our own and those followed, sorted."""
        return [r[0] for r in self.db.execute(f"select id from entries union all select id from {FOLLOWED_TABLE} "
                                              "order by id")]

    def set_sources(self, sources: Iterable[dict]) -> None:
        """The followed publications as the index last read them (one row each), replacing the
        rows there were. Call inside ``self.db.atomic()``."""
        self.db.execute(f"delete from {SOURCES_TABLE}")
        for source in sources:
            self.db[SOURCES_TABLE].insert(source, pk="slug", replace=True)

    def sources(self) -> list[dict]:
        """The followed publications, by name."""
        cursor = self.db.execute(f"select * from {SOURCES_TABLE} order by name")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def get_entries(self, ids: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, dict]:
        """Entry rows by id (JSON columns decoded, no vector); ``columns`` picks fewer
        (a result list needs neither the body nor the actors)."""
        if not ids:
            return {}
        if columns is not None and "extra" in columns:
            columns = [*columns, "author"]  # the front matter's author is part of extra
        wanted = "*" if columns is None else ", ".join(dict.fromkeys(["id", *columns]))
        out: dict[str, dict] = {}
        for table in ("entries", FOLLOWED_TABLE):  # our own first; a followed id holds a ':'
            missing = [i for i in ids if i not in out]
            if not missing:
                break
            rows = self.db.execute(
                f"select {wanted} from {table} where id in (select value from json_each(?))", [json.dumps(missing)]
            )
            names = [d[0] for d in rows.description]
            for values in rows.fetchall():
                row = decode_entry_row(dict(zip(names, values, strict=True)))
                out[row["id"]] = row
        return out

    def chunk_entries(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """The entry of each chunk id (ids no longer in the index are left out)."""
        if not len(chunk_ids):
            return {}
        rows = self.db.execute(
            "select id, entry_id from chunks where id in (select value from json_each(?))",
            ["[" + ",".join(str(int(i)) for i in chunk_ids) + "]"],
        ).fetchall()
        return dict(rows)

    def chunk_owners(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Every chunk id (sorted), the position of its entry in the list that follows, the entry ids."""
        entry_ids = self.entry_ids()
        position = {e: k for k, e in enumerate(entry_ids)}
        rows = self.db.execute("select id, entry_id from chunks order by id").fetchall()
        chunk_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        owners = np.fromiter((position.get(r[1], -1) for r in rows), dtype=np.int32, count=len(rows))
        return chunk_ids, owners, entry_ids

    def entry_vectors(self, dim: int, *, followed: bool = False) -> tuple[list[str], np.ndarray, list[str]]:
        """Entry ids, their raw (uncentred) mean vectors and languages, in id order: our own
        entries, or (``followed``) the lessons of the publications we follow."""
        table = FOLLOWED_TABLE if followed else "entries"
        rows = self.db.execute(
            f"select id, embedding, lang from {table} where length(embedding) = ? order by id",
            [dim * 4],
        ).fetchall()
        return [r[0] for r in rows], decode_matrix([r[1] for r in rows], dim), [r[2] or "sv" for r in rows]

    def entry_count(self) -> int:
        return self.db.execute("select count(*) from entries").fetchone()[0]

    def counts(self) -> dict[str, int]:
        return {
            "entries": self.db.execute("select count(*) from entries").fetchone()[0],
            "chunks": self.db.execute("select count(*) from chunks").fetchone()[0],
        }


class ChunkOwners:
    """Chunk id -> entry id for one generation of the index, held in memory.

    For a long-lived searcher (the web server): a search then needs no SQL to roll chunk
    hits up to entries. 12 bytes a chunk (12 MB at a million chunks)."""
    def __init__(self, store: Store, attempts: int = 3):
        for _ in range(attempts):  # an index update between the two reads: read again
            self.generation = store.generation
            self.chunk_ids, self.owners, self.entry_ids = store.chunk_owners()
            if store.generation == self.generation:
                return
        raise KBError(f"{store.path}: the index kept changing while it was read", hint="Try again.")

    def lookup(self, chunk_ids) -> dict[int, str]:
        ids = np.asarray(chunk_ids, dtype=np.int64).reshape(-1)
        if not len(ids) or not len(self.chunk_ids):
            return {}
        at = np.minimum(np.searchsorted(self.chunk_ids, ids), len(self.chunk_ids) - 1)
        found = (self.chunk_ids[at] == ids) & (self.owners[at] >= 0)
        entry_ids = self.entry_ids
        return {int(c): entry_ids[o] for c, o in zip(ids[found].tolist(), self.owners[at[found]].tolist(), strict=True)}

