"""The default model in ONNX Runtime: the graph, exported once, and an encoder that runs it.

ONNX Runtime runs the converted multilingual-e5-small with its own matrix kernels and thread
pool, where PyTorch runs the model op by op; the same vectors (cosine >= 0.9999). Whether that is
faster than PyTorch depends on the CPU (faster on the project's AMD EPYC, slower on an Intel Xeon
with AMX), so it is one of the encoders timed on each machine (indexer/encoder_choice.py). The
graph is exported once from the converted sentence-transformers folder (that needs torch, once,
~10 s) into a folder beside it; then it runs without torch.

``int8`` is the same graph with its matrix weights quantised per output channel (activations
quantised batch by batch): faster, with vectors that differ (cosine ~0.996 to fp32), so it is a
model of its own (``multilingual-e5-small-q4-int8``), chosen by the user, never mixed with fp32.
Tokenising, mean pooling and normalising are done here exactly as sentence-transformers does for
this folder (the ``passage: `` / ``query: `` prompts, 512 tokens, mean over the attention mask, L2).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from kb.core.errors import EmbedderError
from kb.core.files import file_lock

EXPORT_VERSION = 1  # bump when the export or quantisation changes: the files are made anew
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
SOURCE_FILE = "kb-source.json"
LOCK_NAME = ".export.lock"


def onnx_folder(st_folder: Path) -> Path:
    return st_folder.with_name(st_folder.name.removesuffix("-st") + "-onnx")


def ensure_exported(st_folder: Path, int8: bool = False) -> Path:
    """The ONNX file for ``st_folder`` (exporting, and quantising for ``int8``, when missing or
    made from another source or export version). Files are written whole, then renamed."""
    dest = onnx_folder(st_folder)
    source = {"export_version": EXPORT_VERSION,
              "source": json.loads((st_folder / SOURCE_FILE).read_text(encoding="utf-8"))
              if (st_folder / SOURCE_FILE).exists() else None}
    wanted = dest / (INT8_FILE if int8 else FP32_FILE)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with file_lock(dest / LOCK_NAME):
            stamp = dest / SOURCE_FILE
            current = stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == source
            if not current:
                for old in (FP32_FILE, INT8_FILE):
                    (dest / old).unlink(missing_ok=True)
            if not (dest / FP32_FILE).exists():
                _export(st_folder, dest / FP32_FILE)
            if int8 and not (dest / INT8_FILE).exists():
                _quantise(dest / FP32_FILE, dest / INT8_FILE)
            if not current:
                tmp = stamp.with_name(stamp.name + ".tmp")
                tmp.write_text(json.dumps(source), encoding="utf-8")
                os.replace(tmp, stamp)
    except OSError as exc:
        raise EmbedderError(
            f"cannot prepare the ONNX model in {dest}: {exc}",
            hint="Set KB_CACHE_DIR to a writable folder with about 500 MB free.",
        ) from exc
    return wanted


def _export(st_folder: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(st_folder)).eval()
    sample = AutoTokenizer.from_pretrained(str(st_folder))(["passage: Malmö"], return_tensors="pt")

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    tmp = target.with_name(target.name + ".tmp")
    axes = {0: "batch", 1: "tokens"}
    # the tracer warns about the model's own Python branches (known, harmless for this graph):
    # a user sees that once as a wall of text on the first `kb index`, and nothing they can act on
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(model), (sample["input_ids"], sample["attention_mask"]), str(tmp),
            input_names=["input_ids", "attention_mask"], output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp, target)


def _quantise(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(target.name + ".tmp")
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    os.replace(tmp, target)


class OnnxEncoder:
    """Texts -> L2-normalised float32 vectors, as ``encode_document`` (passages) or
    ``encode_query`` (queries) of the folder gives them.

    One session may serve several threads at once (ONNX Runtime's ``run`` is thread-safe):
    the server's query engines share one, each run on its caller's thread when
    ``threads=1``."""
    def __init__(self, st_folder: Path, model_file: Path, threads: int | None = None):
        import onnxruntime
        from tokenizers import Tokenizer

        config = json.loads((st_folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        prompts = config.get("prompts") or {}
        self.prompts = {"passage": prompts.get("document", ""), "query": prompts.get("query", "")}
        max_tokens = json.loads((st_folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(st_folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(max_tokens.get("max_seq_length", 512)))
        pad = json.loads((st_folder / "config.json").read_text(encoding="utf-8")).get("pad_token_id", 1)
        self.tokenizer.enable_padding(pad_id=pad, pad_token=self.tokenizer.id_to_token(pad))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], kind: str = "passage") -> np.ndarray:
        """One batch (padded to its longest text): the caller sorts by length."""
        if not texts:
            return np.zeros((0, 0), np.float32)
        prompt = self.prompts["query" if kind == "query" else "passage"]
        encodings = self.tokenizer.encode_batch([prompt + t for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
