"""The embedding cache: a second index run embeds nothing; another model or kind misses."""

from __future__ import annotations

import numpy as np

from indexer.embed import PASSAGE, QUERY, HashEmbedder
from indexer.embed_cache import CachedEmbedder, EmbeddingCache, with_cache
from kb.app.knowledge_base import KnowledgeBase


class CountingEmbedder(HashEmbedder):
    cache_vectors = True  # a stand-in for a slow model

    def __init__(self, model_id: str = "count-64"):
        super().__init__(dim=64)
        self.model_id = model_id
        self.embedded: list[str] = []
        self.passages: list[str] = []  # kb index also embeds its probe questions (search.calibration)

    def embed_batch(self, texts, kind):
        self.embedded.extend(texts)
        if kind == PASSAGE:
            self.passages.extend(texts)
        return super().embed_batch(texts, kind)


def test_second_run_embeds_nothing_and_vectors_match(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path / "e.sqlite"))
    texts = ["Laddplatser vid Malmö C", "Värmepumpar i Holma", "Laddplatser vid Malmö C"]
    first = cached.embed(texts, PASSAGE)
    assert len(inner.embedded) == 3
    again = CachedEmbedder(inner, EmbeddingCache(tmp_path / "e.sqlite"))  # a new process, same file
    second = again.embed(texts, PASSAGE)
    assert len(inner.embedded) == 3
    assert again.hits == 3 and again.misses == 0
    np.testing.assert_array_equal(first, second)


def test_other_model_or_kind_is_a_miss(tmp_path):
    path = tmp_path / "e.sqlite"
    a = CountingEmbedder("model-a")
    CachedEmbedder(a, EmbeddingCache(path), kinds=(PASSAGE, QUERY)).embed(["solceller"], PASSAGE)
    b = CountingEmbedder("model-b")
    CachedEmbedder(b, EmbeddingCache(path), kinds=(PASSAGE, QUERY)).embed(["solceller"], PASSAGE)
    assert b.embedded == ["solceller"]
    again = CachedEmbedder(a, EmbeddingCache(path), kinds=(PASSAGE, QUERY))
    again.embed(["solceller"], QUERY)
    assert a.embedded == ["solceller", "solceller"]
    assert again.misses == 1


def test_queries_are_not_cached_by_default(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path / "e.sqlite"))
    cached.embed_query("fråga")
    cached.embed_query("fråga")
    assert inner.embedded == ["fråga", "fråga"]
    assert EmbeddingCache(tmp_path / "e.sqlite").count() == 0


def test_wrapper_keeps_identity(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path / "e.sqlite"))
    assert (cached.model_id, cached.dim, cached.max_tokens) == ("count-64", 64, inner.max_tokens)
    assert cached.count_tokens("ett två tre") == inner.count_tokens("ett två tre")


def test_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("KB_EMBED_CACHE", "0")
    inner = CountingEmbedder()
    assert with_cache(inner) is inner


def test_hash_embedder_is_not_cached():
    plain = HashEmbedder()
    assert with_cache(plain) is plain
    assert isinstance(with_cache(CountingEmbedder()), CachedEmbedder)


def test_rebuild_reuses_vectors(kb_root, tmp_path, monkeypatch):
    """`kb index --rebuild` embeds nothing new: every chunk text is in the cache."""
    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path / "cache"))  # empty at first, also when KB_TEST_CACHE_DIR is kept
    counting = CountingEmbedder("hash-256")
    counting.dim = 256
    kb = KnowledgeBase.open(kb_root, embedder=counting)
    first = kb.index()
    assert len(counting.passages) == first.chunks_embedded > 0
    counting.passages.clear()
    report = kb.index(rebuild=True)
    assert report.chunks_embedded == first.chunks_embedded  # chunks were written again ...
    assert counting.passages == []  # ... but their vectors came from the cache
    assert [r.id for r in kb.search("cykelbanan", mode="keyword")] == ["cykel-upphandling"]
    kb.close()
