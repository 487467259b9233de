"""A knowledge base opened for work: its configuration, store, embedder and vectors.

The CLI, the benchmark and the Datasette plugins all go through this one object, so
every path (search, similar, index) is the same code everywhere.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from indexer.audience import AUDIENCE_MARK, DERIVED_AUDIENCES, derive_audiences
from indexer.build import build_index
from indexer.embed import get_embedder
from kb.core import config as config_module
from kb.core import vector_index
from kb.core.config import KBConfig
from kb.core.errors import IndexMissing
from kb.core.files import write_lock
from kb.core.store import Store
from search.calibration import calibrate, measure, needs_calibration
from search.match import META_KEY
from search.query import search
from search.similar import similar


class KnowledgeBase:
    def __init__(self, config: KBConfig, model: str | None = None, *, embedder=None, read_only: bool = False,
                 audience: str = "staff"):
        self.config = config
        self.model_spec = model or os.environ.get("KB_MODEL") or config.model or None
        self.read_only = read_only  # the web side never writes to the index
        # who reads (kb.core.visibility): staff reads kb.db, a partner or a visitor (read-only)
        # the database made with only what they may see (indexer.audience)
        self.audience = audience
        if audience != "staff" and not read_only:
            raise ValueError("an audience's index is read-only")
        self.db_path = config.audience_db_path(audience)
        self.faiss_path = config.audience_faiss_path(audience)
        self._embedder = embedder
        self._store: Store | None = None
        self._vectors: vector_index.VectorIndex | None = None
        self.owners = None  # a kb.store.ChunkOwners a long-lived holder keeps current, or None

    @classmethod
    def open(cls, root: str | os.PathLike | None = None, model: str | None = None, **kwargs) -> KnowledgeBase:
        return cls(config_module.load(root), model=model, **kwargs)

    # --- parts, made when first needed ----------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = get_embedder(self.model_spec, passage_encoder=self.config.passage_encoder,
                                          query_encoder=self.config.query_encoder)
        return self._embedder

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path, read_only=self.read_only)
        return self._store

    @property
    def indexed(self) -> bool:
        return self.db_path.exists() and self.store.get_meta("model_id") is not None

    def require_index(self) -> None:
        """Refuse to search an index that is missing or made with another model."""
        if not self.indexed:
            raise IndexMissing(f"{self.config.root}: not indexed yet")
        self.store.check_model(self.embedder.model_id)

    @property
    def vectors(self) -> vector_index.VectorIndex:
        """The FAISS index, loaded once and reloaded when the database has moved on."""
        if self._vectors is None or self._vectors.generation != self.store.generation:
            self._vectors = self.load_vectors()
        return self._vectors

    def load_vectors(self) -> vector_index.VectorIndex:
        """The FAISS index of the index's current generation, read anew."""
        self.require_index()
        return vector_index.load(self.store, self.faiss_path, self.embedder.dim, write=self.audience == "staff")

    def use_vectors(self, vectors: vector_index.VectorIndex, owners=None) -> None:
        """Search with vectors (and chunk owners) that a long-lived holder loaded once and
        shares between the KnowledgeBase objects of its threads."""
        self._vectors = vectors
        self.owners = owners

    def chunk_entries(self, chunk_ids) -> dict[int, str]:
        """The entry of each chunk id: from memory when a holder keeps ``owners``, else SQL."""
        if self.owners is not None:
            return self.owners.lookup(chunk_ids)
        return self.store.chunk_entries(chunk_ids)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        self._vectors = None

    # --- the pipeline ------------------------------------------------------------
    def index(self, *, rebuild: bool = False, progress=None, settings=None):
        """Update the index (or rebuild it into a new file, swapped in when complete)."""
        if not rebuild:
            report = build_index(self.config, self.store, self.embedder, progress=progress, settings=settings)
            self.calibrate_match()
            return report
        started = time.perf_counter()
        db_path = self.config.db_path
        tmp_path = db_path.with_name(db_path.name + ".rebuild")
        for stale in _sqlite_files(tmp_path):
            stale.unlink(missing_ok=True)
        fresh = Store(tmp_path)
        try:
            report = build_index(self.config, fresh, self.embedder, rebuild=True, progress=progress,
                                 settings=settings, vectors_file=False)
            # The files were read at the start; what was saved, edited or deleted since then
            # (the web form does not wait for a rebuild) went to the old file only. Catch up
            # from the files: once as usual, then under the write lock, and swap while it is
            # held, so that no save lands between the last look and the swap.
            late = build_index(self.config, fresh, self.embedder, settings=settings, vectors_file=False)
            with write_lock(self.config.state_dir):
                last = build_index(self.config, fresh, self.embedder, settings=settings, locked=True,
                                   vectors_file=False)
                fresh.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                fresh.close()
                self.close()
                # fold the old file's WAL into it first: its -wal and -shm must go before the
                # swap (they would be read as the new file's), and a crash in between then
                # loses nothing
                if db_path.exists():
                    old_store = Store(db_path)
                    try:
                        old_store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    finally:
                        old_store.close()
                for old in _sqlite_files(db_path)[1:]:
                    old.unlink(missing_ok=True)
                os.replace(tmp_path, db_path)
                for leftover in _sqlite_files(tmp_path):
                    leftover.unlink(missing_ok=True)
                # the FAISS file belongs to the old database: make it anew from the new one
                vector_index.rebuild(self.store, self.config.faiss_path, self.embedder.dim)
                derive_audiences(self.config, self.embedder.dim)
        finally:
            fresh.close()
        for step in (late, last):  # a rebuild reports every entry it holds as added
            report.added = sorted((set(report.added) - set(step.deleted)) | set(step.added))
            report.chunks_embedded += step.chunks_embedded
        report.entries, report.problems = last.entries, last.problems
        self.calibrate_match(always=True)
        report.seconds = time.perf_counter() - started
        return report

    def calibrate_match(self, *, always: bool = False) -> None:
        """Measure the close threshold of search results on this knowledge base
        (``search.calibration``) when it has changed since the last time."""
        if always or needs_calibration(self.store):
            calibrate(self)
            # each audience's own threshold, measured on its own file (what it may see: made by
            # the index just before), kept in kb.db beside the whole index's and carried into
            # that file when it is made again
            for audience in DERIVED_AUDIENCES:
                reader = KnowledgeBase(self.config, self.model_spec, embedder=self.embedder, read_only=True,
                                       audience=audience)
                try:
                    record = measure(reader)
                finally:
                    reader.close()
                self.store.set_meta(f"{META_KEY}{AUDIENCE_MARK}{audience}", json.dumps(record) if record else "")
            derive_audiences(self.config, self.embedder.dim)

    def search(self, query: str, **options):
        return search(self, query, **options)

    def similar(self, entry_id: str, **options):
        return similar(self, entry_id, **options)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


__all__ = ["KnowledgeBase"]
