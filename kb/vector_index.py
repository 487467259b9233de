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


class Centering:
    """Per-language mean vectors, subtracted before comparing (then renormalised).

    e5 puts Swedish and English text in two offset regions: an English query scores
    every English entry above the Swedish one that answers it. Removing each language's
    mean removes that offset (measured on the example KB: an English query found its
    Swedish entry in the top 3 for 7 of 9 test questions, against 4 of 9 without).
    Only used when the corpus has at least two languages with enough text each; a query's
    language is the one whose mean it is closest to, which works for two-word queries too.
    """

    MIN_SHARE = 0.05
    MIN_COUNT = 10

    def __init__(self, means: dict[str, np.ndarray] | None = None):
        self.means = means or {}

    @property
    def active(self) -> bool:
        return len(self.means) >= 2

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, languages: list[str]) -> Centering:
        counts = {lang: languages.count(lang) for lang in set(languages)}
        enough = [
            lang
            for lang, n in counts.items()
            if n >= cls.MIN_COUNT and n >= cls.MIN_SHARE * len(languages)
        ]
        if len(enough) < 2:
            return cls()
        marks = np.array(languages)
        return cls({lang: vectors[marks == lang].mean(axis=0).astype(np.float32) for lang in enough})

    def language_of(self, vector: np.ndarray) -> str:
        return max(self.means, key=lambda lang: float(vector @ self.means[lang]))

    def passages(self, vectors: np.ndarray, languages: list[str]) -> np.ndarray:
        if not self.active or not len(vectors):
            return vectors
        out = vectors.astype(np.float32, copy=True)
        for row, lang in enumerate(languages):
            mean = self.means.get(lang)
            out[row] -= mean if mean is not None else self.means[self.language_of(out[row])]
        return _normalise(out)

    def query(self, vector: np.ndarray) -> np.ndarray:
        if not self.active:
            return vector
        return _normalise((vector - self.means[self.language_of(vector)])[None, :])[0]

    def to_json(self) -> dict:
        return {lang: [round(float(x), 7) for x in mean] for lang, mean in self.means.items()}

    @classmethod
    def from_json(cls, data: dict | None) -> Centering:
        return cls({lang: np.array(v, dtype=np.float32) for lang, v in (data or {}).items()})


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


class VectorIndex:
    def __init__(self, index, dim: int, generation: int, centering: Centering | None = None):
        self.index = index
        self.dim = dim
        self.generation = generation
        self.centering = centering or Centering()

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        """Top ``k`` (chunk id, score) pairs; ``allowed_ids`` restricts the search exactly."""
        import faiss

        if self.ntotal == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, self.ntotal)
        q = np.ascontiguousarray(self.centering.query(query).reshape(1, -1), dtype=np.float32)
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


def save(path: Path, index, generation: int, dim: int, centering: Centering) -> None:
    import faiss

    data = faiss.serialize_index(index).tobytes()
    atomic_write_bytes(path, data)
    atomic_write_text(
        _sidecar(path),
        json.dumps(
            {
                "generation": generation,
                "count": int(index.ntotal),
                "dim": dim,
                "centering": centering.to_json(),
            }
        ),
    )


def rebuild(store: Store, path: Path, dim: int, *, write: bool = True) -> VectorIndex:
    ids, vectors, languages = store.chunk_vectors(dim)
    centering = Centering.from_vectors(vectors, languages)
    index = _build(ids, centering.passages(vectors, languages), dim)
    generation = store.generation
    if write:
        try:
            save(path, index, generation, dim, centering)
        except OSError as exc:  # read-only folder or full disk: serve from memory
            print(f"warning: could not write {path}: {exc.strerror}", file=sys.stderr)
    return VectorIndex(index, dim, generation, centering)


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
                return VectorIndex(index, dim, generation, Centering.from_json(info.get("centering")))
    except (OSError, ValueError, RuntimeError, json.JSONDecodeError):
        pass
    if os.environ.get("KB_DEBUG"):
        print(f"rebuilding {path} from {store.path}", file=sys.stderr)
    return rebuild(store, path, dim, write=write)
