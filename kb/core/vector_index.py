"""The FAISS index beside the SQLite file: a cache of the chunk vectors.

Inner product on L2-normalised vectors (= cosine). The index is written to a temporary
file and renamed into place; a small JSON file beside it records which database
generation it holds. If the file is missing, unreadable or from another generation,
it is rebuilt from SQLite, which is the source of truth.

The kind of index depends on the number of chunks (measured in ``bench/query_latency.py``,
table in ``bench/README.md``): below :data:`EXACT_MAX` an exact ``IndexFlatIP`` (fast
enough, and exact); above it an inverted file over float16 vectors
(``IndexIVFScalarQuantizer``, QT_fp16): it scans NPROBE of NLIST clusters, answers in a
millisecond or two, and holds 768 bytes a chunk (1M chunks: ~0.8 GB, against 1.5 GB for
float32 vectors). IVF rather than HNSW: it trains and builds in seconds where HNSW took
74 s for 100k chunks on this machine, and it supports removing ids. Both sit in an
``IndexIDMap2``, so FAISS ids are chunk ids and filtering by id works.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from kb.core.files import atomic_write_bytes, atomic_write_text, file_lock
from kb.core.store import Store, decode_matrix


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


class Reference:
    """What "no particular match" looks like in this index, for judging how close a search
    result really is (``search.match``): each language's mean passage vector (the average
    text of the knowledge base in that language) and how many passages it is the mean of.

    e5 puts any two texts at a cosine of ~0.8 and related ones a few hundredths higher; with
    the average text of the knowledge base taken out of the question and the passage, what is
    left is what sets each apart, and their cosine reads the difference against the knowledge
    base's own texts instead of a constant of the model (:meth:`centred_cosine`)."""

    def __init__(self, means: dict[str, np.ndarray] | None = None, counts: dict[str, int] | None = None):
        self.means = means or {}
        self.counts = counts or {}  # passages per language (an index written before they were kept: none)
        # a language with a handful of passages has no mean to speak of: they are read against all passages'
        weights = {lang: self.counts.get(lang, 1) for lang in self.means}
        total = sum(weights.values())
        self.overall = (sum(self.means[lang] * (w / total) for lang, w in weights.items()).astype(np.float32)
                        if total and self.means else None)
        self.settled = {lang: mean for lang, mean in self.means.items()
                        if not self.counts or self.counts.get(lang, 0) >= Centering.MIN_COUNT}

    def mean_of(self, lang: str) -> np.ndarray | None:
        """The mean passage vector a passage of ``lang`` is read against."""
        mean = self.settled.get(lang)
        return mean if mean is not None else self.overall

    def centred_cosine(self, query: np.ndarray, vectors: np.ndarray, languages: list[str]) -> np.ndarray:
        """The cosine of the query and each passage after each has lost the mean passage of its
        own language (the query's language: the settled mean it is closest to): what the
        knowledge base's texts share with each other, and the gap between languages, no
        longer count, so the value says how much of what sets the question apart from the
        knowledge base's average text the passage holds too."""
        if not len(vectors) or self.overall is None:
            return np.zeros(len(vectors), dtype=np.float32)
        query = np.asarray(query, dtype=np.float32)
        settled = self.settled or {"": self.overall}
        own = max(settled.values(), key=lambda mean: float(query @ mean))
        centred_query = _normalise((query - own)[None, :])[0]
        centres = np.vstack([self.mean_of(lang) for lang in languages])
        return (_normalise(np.asarray(vectors, dtype=np.float32) - centres) @ centred_query).astype(np.float32)

    def subject_cosine(self, query: np.ndarray) -> float:
        """The cosine of the query and the average text of the knowledge base in the query's
        language (the settled mean it is closest to, as in :meth:`centred_cosine`): how near
        the question is to what the knowledge base is about at all (0 without passages)."""
        if self.overall is None:
            return 0.0
        query = np.asarray(query, dtype=np.float32)
        own = max((self.settled or {"": self.overall}).values(), key=lambda mean: float(query @ mean))
        norm = float(np.linalg.norm(own)) * float(np.linalg.norm(query))
        return float(query @ own) / norm if norm > 0 else 0.0

    @classmethod
    def from_store(cls, store: Store, dim: int) -> Reference:
        """Computed from the chunk vectors in SQLite."""
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for _, vectors, languages in _chunk_batches(store, dim):
            _add_sums(sums, counts, vectors, languages)
        return cls.from_sums(sums, counts)

    @classmethod
    def from_sums(cls, sums: dict, counts: dict) -> Reference:
        return cls({lang: (sums[lang] / counts[lang]).astype(np.float32) for lang in sums if counts[lang]},
                   {lang: int(n) for lang, n in counts.items() if n})

    def to_json(self) -> dict:
        return {"means": {lang: [round(float(x), 7) for x in mean] for lang, mean in self.means.items()},
                "counts": dict(self.counts)}

    @classmethod
    def from_json(cls, data: dict | None) -> Reference | None:
        if not data or "means" not in data:
            return None
        return cls({lang: np.array(v, dtype=np.float32) for lang, v in data["means"].items()},
                   {lang: int(n) for lang, n in (data.get("counts") or {}).items()})


def _add_sums(sums: dict, counts: dict, vectors: np.ndarray, languages: list[str]) -> None:
    marks = np.array(languages)
    for lang in set(languages):
        rows = vectors[marks == lang]
        sums[lang] = sums.get(lang, np.zeros(vectors.shape[1], np.float64)) + rows.sum(axis=0, dtype=np.float64)
        counts[lang] = counts.get(lang, 0) + len(rows)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


# Index choice by size. Below EXACT_MAX chunks an exact flat index (100k chunks: 5-22 ms a
# query on one thread, depending on the machine's load); above it IVF. NPROBE gives
# recall@10 >= 0.98 against exact search (bench/query_latency.py measures it).
EXACT_MAX = int(os.environ.get("KB_EXACT_MAX", "50000"))
NPROBE = int(os.environ.get("KB_NPROBE", "32"))
TRAIN_PER_LIST = 40  # k-means sample: this many vectors per cluster
# A filter that keeps at most this many chunks is searched exactly over their vectors
# (IVF with a selective filter misses allowed chunks outside the probed clusters).
EXACT_FILTER_MAX = 50_000
READ_BATCH = 50_000  # rows read from SQLite at a time when building (bounded memory)


def kind_for(count: int) -> str:
    return "flat" if count < EXACT_MAX else "ivf"


def nlist_for(count: int) -> int:
    return max(16, int(2 * count**0.5))


class VectorIndex:
    def __init__(self, index, dim: int, generation: int, centering: Centering | None = None,
                 reference: Reference | None = None):
        self.index = index
        self.dim = dim
        self.generation = generation
        self.centering = centering or Centering()
        self.reference = reference or Reference()
        self.kind = _kind_of(index)
        if self.kind == "ivf":  # to fetch vectors by id (filtered search); made once, before threads share it
            import faiss

            ivf = faiss.extract_index_ivf(index.index)
            if ivf.direct_map.type == faiss.DirectMap.NoMap:
                ivf.make_direct_map()

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None):
        """Top ``k`` (chunk id, score) pairs; ``allowed_ids`` restricts the search exactly."""
        import faiss

        if self.ntotal == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        # one query at a time: OpenMP start-up costs more than a second thread saves
        # (measured: bench/query_latency.py); the setting is per calling thread
        faiss.omp_set_num_threads(1)
        k = min(k, self.ntotal)
        q = np.ascontiguousarray(self.centering.query(query).reshape(1, -1), dtype=np.float32)
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            allowed = np.ascontiguousarray(allowed_ids, dtype=np.int64)
            k = min(k, len(allowed))
            if self.kind == "ivf" and len(allowed) <= EXACT_FILTER_MAX:
                return self._exact_among(q[0], k, allowed)
            selector = faiss.IDSelectorBatch(allowed)
            params: Any
            if self.kind == "ivf":  # a broad filter: probe more clusters to still fill k
                params = faiss.SearchParametersIVF(sel=selector, nprobe=min(4 * NPROBE, self._nlist))
            else:
                params = faiss.SearchParameters(sel=selector)
            scores, ids = self.index.search(q, k, params=params)
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=min(NPROBE, self._nlist))
            scores, ids = self.index.search(q, k, params=params)
        else:
            scores, ids = self.index.search(q, k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    @property
    def _nlist(self) -> int:
        import faiss

        return int(faiss.extract_index_ivf(self.index.index).nlist)

    def _exact_among(self, q: np.ndarray, k: int, allowed: np.ndarray):
        present = allowed[np.isin(allowed, faiss_ids(self.index))]
        if not len(present):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        vectors = self.index.reconstruct_batch(present)
        scores = vectors @ q
        top = np.argsort(-scores, kind="stable")[:k]
        return present[top], scores[top].astype(np.float32)


def faiss_ids(index) -> np.ndarray:
    import faiss

    return faiss.vector_to_array(index.id_map)


def _kind_of(index) -> str:
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return "ivf" if isinstance(inner, faiss.IndexIVF) else "flat"


def _empty(dim: int, kind: str, count: int = 0):
    import faiss

    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    quantizer = faiss.IndexFlatIP(dim)
    inner = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist_for(count), faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    inner.own_fields = True
    quantizer.this.disown()  # the IVF index owns (and frees) its quantizer
    inner.nprobe = NPROBE
    index = faiss.IndexIDMap2(inner)
    index.own_fields = True
    inner.this.disown()
    return index


def _train(index, sample: np.ndarray) -> None:
    import faiss

    if not index.is_trained:
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))


def _build(ids: np.ndarray, vectors: np.ndarray, dim: int, kind: str | None = None):
    kind = kind or kind_for(len(ids))
    index = _empty(dim, kind, len(ids))
    if kind == "ivf":
        rng = np.random.default_rng(0)
        size = min(len(ids), TRAIN_PER_LIST * nlist_for(len(ids)))
        _train(index, vectors[np.sort(rng.choice(len(ids), size, replace=False))])
    _add(index, ids, vectors)
    return index


def _add(index, ids: np.ndarray, vectors: np.ndarray) -> None:
    import faiss

    if not len(ids):
        return
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building: use every core
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save(path: Path, index, generation: int, dim: int, centering: Centering,
         reference: Reference | None = None) -> None:
    import faiss

    data = faiss.serialize_index(index).tobytes()
    with file_lock(path.with_name(path.name + ".lock")):  # one writer of the FAISS file at a time
        # temporary files of a writer killed mid-write (kill -9, power loss): no one else
        # writes while we hold the lock, so they are garbage (a 1M-chunk index is ~0.8 GB)
        for name in (path.name, _sidecar(path).name):
            for stale in path.parent.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
        atomic_write_bytes(path, data)
        sidecar = {"generation": generation, "count": int(index.ntotal), "dim": dim,
                   "centering": centering.to_json(), "reference": (reference or Reference()).to_json()}
        atomic_write_text(_sidecar(path), json.dumps(sidecar))


def _chunk_batches(store: Store, dim: int):
    """(ids, vectors, languages) in id order, READ_BATCH rows at a time."""
    cursor = store.db.conn.execute("select id, embedding, lang from chunks order by id")
    while rows := cursor.fetchmany(READ_BATCH):
        yield (
            np.array([r[0] for r in rows], dtype=np.int64),
            decode_matrix([r[1] for r in rows], dim),
            [r[2] or "sv" for r in rows],
        )


def _centering_streamed(store: Store, dim: int) -> tuple[Centering, Reference, int]:
    """Centering.from_vectors (and the Reference) without holding every vector in memory at once."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for _, vectors, languages in _chunk_batches(store, dim):
        _add_sums(sums, counts, vectors, languages)
    total = sum(counts.values())
    reference = Reference.from_sums(sums, counts)
    enough = [
        lang for lang, n in counts.items()
        if n >= Centering.MIN_COUNT and n >= Centering.MIN_SHARE * total
    ]
    if len(enough) < 2:
        return Centering(), reference, total
    return Centering({lang: (sums[lang] / counts[lang]).astype(np.float32) for lang in enough}), reference, total


def _training_sample(store: Store, dim: int, total: int, centering: Centering) -> np.ndarray:
    """Every n-th chunk, about TRAIN_PER_LIST per cluster."""
    step = max(1, total // (TRAIN_PER_LIST * nlist_for(total)))
    rows = store.db.conn.execute(
        "select embedding, lang from chunks where id % ? = 0", [step]
    ).fetchall()
    vectors = decode_matrix([r[0] for r in rows], dim)
    return centering.passages(vectors, [r[1] or "sv" for r in rows])


def rebuild(store: Store, path: Path, dim: int, *, write: bool = True) -> VectorIndex:
    centering, reference, total = _centering_streamed(store, dim)
    kind = kind_for(total)
    index = _empty(dim, kind, total)
    if kind == "ivf":
        _train(index, _training_sample(store, dim, total, centering))
    for ids, vectors, languages in _chunk_batches(store, dim):
        _add(index, ids, centering.passages(vectors, languages))
    generation = store.generation
    if write:
        try:
            save(path, index, generation, dim, centering, reference)
        except OSError as exc:  # read-only folder or full disk: serve from memory
            print(f"warning: could not write {path}: {exc.strerror}", file=sys.stderr)
    return VectorIndex(index, dim, generation, centering, reference)


def load(store: Store, path: Path, dim: int, *, write: bool = True) -> VectorIndex:
    """Load the FAISS file if it matches the database, else rebuild it from SQLite."""
    import faiss

    generation = store.generation
    try:
        info = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        count = store.counts()["chunks"]
        if info.get("generation") == generation and info.get("count") == count and info.get("dim") == dim:
            index = faiss.read_index(str(path))  # straight from the file: no second copy in memory
            if index.ntotal == count and index.d == dim:
                # an index written before the reference (or its passages per language) was kept:
                # compute it (not written back; `kb index --rebuild` writes it)
                reference = Reference.from_json(info.get("reference"))
                if reference is None or not reference.counts:
                    reference = Reference.from_store(store, dim)
                return VectorIndex(index, dim, generation, Centering.from_json(info.get("centering")), reference)
    except (OSError, ValueError, RuntimeError, json.JSONDecodeError):
        pass
    if os.environ.get("KB_DEBUG"):
        print(f"rebuilding {path} from {store.path}", file=sys.stderr)
    return rebuild(store, path, dim, write=write)
