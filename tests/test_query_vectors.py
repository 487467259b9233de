"""Query vectors in the server: queries arriving together share a forward pass, and a query
vector is reused only by the session that asked for it, so the time of an answer never tells
what someone else searched (datasette_plugins/query_vectors.py)."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from datasette_plugins.query_vectors import MAX_BATCH, QueryBatcher
from datasette_plugins.serve import make_datasette
from indexer.embed import HashEmbedder, register_embedder
from kb.app import auth

from .helpers import PASSWORD, Browser, set_auth

FAST = 1000  # password hash iterations: the format is real, the cost is not


class Recording(HashEmbedder):
    """The hash embedder (its vectors match an index made with "hash"), recording every query
    it embeds, one list per call, and taking ``delay`` seconds per call."""
    calls: list[list[str]] = []
    delay = 0.0
    lock = threading.Lock()

    def embed(self, texts, kind="passage", *args, **kwargs):
        texts = list(texts)
        if kind == "query":
            with Recording.lock:
                Recording.calls.append(texts)
            time.sleep(Recording.delay)
        return super().embed(texts, kind, *args, **kwargs)

    @classmethod
    def embedded(cls, text: str) -> int:
        return sum(call.count(text) for call in cls.calls)


@pytest.fixture
def recording_kb(indexed_kb, monkeypatch):
    register_embedder("recording", Recording)
    monkeypatch.setenv("KB_MODEL", "recording")
    monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password(PASSWORD, iterations=FAST))
    monkeypatch.delenv("DATASETTE_SECRET", raising=False)
    Recording.calls, Recording.delay = [], 0.0
    root = indexed_kb.config.root
    set_auth(root, 'proxy_header = "X-Remote-User"')  # datasette.client asks from 127.0.0.1: trusted
    return root


def search(client_get, q: str, **kwargs):
    return client_get("/-/kb/search.json?q=" + q.replace(" ", "+"), **kwargs)


def test_queries_arriving_together_are_embedded_in_a_few_batches():
    calls: list[list[str]] = []

    def embed_many(texts):
        calls.append(list(texts))
        time.sleep(0.02)  # an engine busy for a while: the next batch fills meanwhile
        return HashEmbedder().embed(texts, "query")

    batcher = QueryBatcher(embed_many, slots=1)
    texts = [f"fråga nummer {i}" for i in range(20)]

    async def go():
        return await asyncio.gather(*(batcher.embed(t) for t in texts))

    vectors = asyncio.run(go())
    assert len(calls) < 20 / 2 and max(len(c) for c in calls) <= MAX_BATCH
    assert sorted(t for c in calls for t in c) == sorted(texts)  # each embedded once
    for text, vector in zip(texts, vectors, strict=True):  # and each gets its own vector back
        assert np.array_equal(vector, HashEmbedder().embed_query(text))


def test_an_error_reaches_every_query_of_the_batch_and_the_next_batch_runs():
    fail = [True]

    def embed_many(texts):
        if fail[0]:
            fail[0] = False
            raise RuntimeError("the engine broke")
        return HashEmbedder().embed(texts, "query")

    batcher = QueryBatcher(embed_many, slots=1)

    async def go():
        first = await asyncio.gather(batcher.embed("a"), batcher.embed("b"), return_exceptions=True)
        return first, await batcher.embed("c")

    first, after = asyncio.run(go())
    assert all(isinstance(r, RuntimeError) for r in first) and after.shape == (256,)


def test_twenty_new_searches_at_once_share_forward_passes(recording_kb):
    ds = make_datasette(recording_kb)
    queries = [f"upphandling av laddplatser {i}" for i in range(20)]

    async def go():
        await ds.invoke_startup()
        return await asyncio.gather(*(search(ds.client.get, q) for q in queries))

    responses = asyncio.run(go())
    assert all(r.status_code == 200 and r.json()["ok"] for r in responses)
    assert [r.json()["query"] for r in responses] == queries
    assert len(Recording.calls) < len(queries) / 2  # batched, not one pass per request
    assert sorted(t for call in Recording.calls for t in call) == sorted(queries)


def test_a_query_vector_is_reused_only_by_the_session_that_asked(recording_kb):
    """Anna (signed in with a password), Maria (single sign-on) and two visitors search the same
    text: each but Anna's repeat is embedded anew; nobody's answer comes from another's cache."""
    ds = make_datasette(recording_kb)
    text = "upphandling av laddplatser"

    async def go():
        await ds.invoke_startup()
        anna = Browser(ds)
        signed_in = await anna.sign_in("anna")
        assert signed_in.status_code in (302, 303), signed_in.text
        counts = []
        for ask in (lambda: search(anna.get, text),  # 1: Anna's first
                    lambda: search(anna.get, text),  # 2: Anna again: her cache
                    lambda: search(ds.client.get, text),  # 3: a visitor: not Anna's cache
                    lambda: search(ds.client.get, text),  # 4: a visitor again: visitors keep none
                    lambda: search(ds.client.get, text, headers={"X-Remote-User": "maria@malmo.se"}),  # 5
                    lambda: search(ds.client.get, text, headers={"X-Remote-User": "maria@malmo.se"})):  # 6
            response = await ask()
            assert response.status_code == 200 and response.json()["ok"]
            counts.append(Recording.embedded(text))
        return counts

    assert asyncio.run(go()) == [1, 1, 2, 3, 4, 4]


def test_the_time_of_an_answer_does_not_tell_that_someone_else_asked(recording_kb):
    """Each embedding takes at least DELAY (the engine sleeps): an answer quicker than that would
    have come from a cache. Whatever the machine's speed, a visitor asking what a signed-in
    user asked first never gets it quicker than embedding takes."""
    delay = 0.25
    Recording.delay = delay
    ds = make_datasette(recording_kb)
    texts = [f"fråga om fjärrvärme {i}" for i in range(4)]
    sso = {"X-Remote-User": "maria@malmo.se"}

    async def timed(coro):
        started = time.perf_counter()
        response = await coro
        assert response.status_code == 200
        return time.perf_counter() - started

    async def go():
        await ds.invoke_startup()
        asked_before, asked_never = [], []
        for text in texts:
            await search(ds.client.get, text, headers=sso)  # Maria asks first
            asked_before.append(await timed(search(ds.client.get, text)))  # then a visitor
            asked_never.append(await timed(search(ds.client.get, text + " och spillvärme")))
        return asked_before, asked_never

    asked_before, asked_never = asyncio.run(go())
    assert min(asked_before) >= delay and min(asked_never) >= delay
