"""The FAISS index beside the SQLite file: a cache of the chunk vectors.

Inner product on L2-normalised vectors (= cosine). The index is written to a temporary
file and renamed into place; a small JSON file beside it records which database
generation it holds. If the file is missing, unreadable or from another generation,
it is rebuilt from SQLite, which is the source of truth.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes, atomic_write_text
from .store import Store


class VectorIndex:
    def __init__(self, index, dim: int, generation: int):
        self.index = index
        self.dim = dim
        self.generation = generation

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        """Top ``k`` (chunk id, score) pairs; ``allowed_ids`` restricts the search exactly."""
        import faiss

        if self.ntotal == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, self.ntotal)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed_ids, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
            scores, ids = self.index.search(q, min(k, len(allowed_ids)), params=params)
        else:
            scores, ids = self.index.search(q, k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]


def _build(ids: np.ndarray, vectors: np.ndarray, dim: int):
    import faiss

    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    return index


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save(path: Path, index, generation: int, dim: int) -> None:
    import faiss

    data = faiss.serialize_index(index).tobytes()
    atomic_write_bytes(path, data)
    atomic_write_text(
        _sidecar(path),
        json.dumps({"generation": generation, "count": int(index.ntotal), "dim": dim}),
    )


def rebuild(store: Store, path: Path, dim: int, *, write: bool = True) -> VectorIndex:
    ids, vectors = store.chunk_vectors(dim)
    index = _build(ids, vectors, dim)
    generation = store.generation
    if write:
        try:
            save(path, index, generation, dim)
        except OSError as exc:  # read-only folder or full disk: serve from memory
            print(f"warning: could not write {path}: {exc.strerror}", file=sys.stderr)
    return VectorIndex(index, dim, generation)


def load(store: Store, path: Path, dim: int, *, write: bool = True) -> VectorIndex:
    """Load the FAISS file if it matches the database, else rebuild it from SQLite."""
    import faiss

    generation = store.generation
    try:
        info = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        count = store.counts()["chunks"]
        if info.get("generation") == generation and info.get("count") == count and info.get("dim") == dim:
            index = faiss.deserialize_index(np.fromfile(path, dtype=np.uint8))
            if index.ntotal == count and index.d == dim:
                return VectorIndex(index, dim, generation)
    except (OSError, ValueError, RuntimeError, json.JSONDecodeError):
        pass
    if os.environ.get("KB_DEBUG"):
        print(f"rebuilding {path} from {store.path}", file=sys.stderr)
    return rebuild(store, path, dim, write=write)
