"""Indexing: incremental by content hash, deletions, model checks, FAISS as a cache."""

from __future__ import annotations

import numpy as np
import pytest

import indexer.build as build
from indexer.chunk import ChunkSettings, chunk_entry
from indexer.embed import HashEmbedder, register_embedder
from indexer.parse import parse_entry
from kb.app.knowledge_base import KnowledgeBase
from kb.core import config as config_module
from kb.core.errors import ModelMismatch


def test_first_build_then_nothing_to_do(kb_root):
    kb = KnowledgeBase.open(kb_root)
    report = kb.index()
    assert sorted(report.added) == [
        "cykel-upphandling",
        "laddplatser",
        "solar-roofs",
        "vaermepump-holma",
    ]
    assert report.chunks_embedded > 4
    again = kb.index()
    assert again.added == again.updated == again.deleted == []
    assert again.chunks_embedded == 0 and again.unchanged == 4


def test_editing_one_entry_re_embeds_exactly_that_entry(indexed_kb, kb_root):
    path = kb_root / "entries/energi/solar-roofs.md"
    path.write_text(path.read_text(encoding="utf-8").replace("three", "four"), encoding="utf-8")
    report = indexed_kb.index()
    assert report.updated == ["solar-roofs"] and report.added == []
    entry = parse_entry(path, indexed_kb.config)
    assert report.chunks_embedded == len(chunk_entry(entry, indexed_kb.embedder.count_tokens))
    hits = indexed_kb.search("four school roofs", mode="keyword")
    assert hits[0].id == "solar-roofs"


def test_deleted_file_disappears_from_results(indexed_kb, kb_root):
    assert any(r.id == "laddplatser" for r in indexed_kb.search("laddplatser", mode="keyword"))
    (kb_root / "entries/mobilitet/laddplatser.md").unlink()
    report = indexed_kb.index()
    assert report.deleted == ["laddplatser"]
    for mode in ("keyword", "semantic", "hybrid"):
        assert all(r.id != "laddplatser" for r in indexed_kb.search("laddplatser Malmö C", mode=mode))
    assert indexed_kb.vectors.ntotal == indexed_kb.store.counts()["chunks"]


def test_an_entry_that_turns_invalid_is_dropped_and_reported(indexed_kb, kb_root):
    path = kb_root / "entries/bygg/vaermepump-holma.md"
    path.write_text(path.read_text(encoding="utf-8").replace("area: bygg", "area: hav"), encoding="utf-8")
    report = indexed_kb.index()
    assert report.deleted == ["vaermepump-holma"]
    assert [p.line for p in report.problems] == [3]


def test_another_model_is_refused_with_a_rebuild_hint(indexed_kb, kb_root, monkeypatch):
    register_embedder("hash32", lambda: HashEmbedder(32))
    other = KnowledgeBase.open(kb_root, model="hash32")
    with pytest.raises(ModelMismatch) as info:
        other.search("cykel")
    assert "kb index --rebuild --model hash-32" in info.value.hint
    with pytest.raises(ModelMismatch):
        other.index()
    report = other.index(rebuild=True)
    assert len(report.added) == 4
    assert other.search("cykelbanan", mode="semantic")[0].id == "cykel-upphandling"
    assert other.store.get_meta("model_id") == "hash-32"


def test_missing_or_corrupt_faiss_file_is_rebuilt_from_sqlite(indexed_kb):
    faiss_path = indexed_kb.config.faiss_path
    expected = [r.id for r in indexed_kb.search("elnät kapacitet", mode="semantic")]
    for damage in ("delete", "garbage"):
        indexed_kb.close()
        if damage == "delete":
            faiss_path.unlink()
        else:
            faiss_path.write_bytes(b"not a faiss index")
        kb = KnowledgeBase.open(indexed_kb.config.root)
        assert [r.id for r in kb.search("elnät kapacitet", mode="semantic")] == expected
        assert faiss_path.stat().st_size > 100  # written again
        kb.close()


def test_vectors_are_little_endian_float32_and_normalised(indexed_kb):
    blob, = indexed_kb.store.db.execute("select embedding from chunks limit 1").fetchone()
    vector = np.frombuffer(blob, dtype="<f4")
    assert vector.shape == (indexed_kb.embedder.dim,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_long_sections_are_split_not_truncated(kb_root):
    config = config_module.load(kb_root)
    sentences = " ".join(f"Mening nummer {i} handlar om laddplatser i Hyllie." for i in range(300))
    path = kb_root / "entries/energi/lang.md"
    path.write_text(
        f"---\ntitle: Lång\narea: energi\ndate: 2026-01-01\ntype: lesson\n---\n## Vad hände?\n{sentences}\n",
        encoding="utf-8",
    )
    entry = parse_entry(path, config)
    count = lambda text: len(text.split())  # noqa: E731 - a word is a token here
    chunks = chunk_entry(entry, count, ChunkSettings(max_tokens=100, overlap_sentences=1))
    sections = [c for c in chunks if c.kind == "section"]
    assert len(sections) > 20
    assert all(count(c.text) <= 100 for c in chunks)
    covered = " ".join(c.text for c in sections)
    for i in range(300):  # every sentence is in some chunk
        assert f"Mening nummer {i} handlar" in covered


def test_interrupted_run_leaves_a_usable_index(indexed_kb, kb_root, monkeypatch):
    for name in ("laddplatser", "cykel-upphandling"):
        path = kb_root / f"entries/mobilitet/{name}.md"
        path.write_text(path.read_text(encoding="utf-8") + "\nMer text.\n", encoding="utf-8")

    calls = {"n": 0}
    original = build.embed_and_write

    def crash_after_first_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(build, "embed_and_write", crash_after_first_batch)
    with pytest.raises(KeyboardInterrupt):
        build.build_index(indexed_kb.config, indexed_kb.store, indexed_kb.embedder, batch_chunks=1,
                          window_batches=1)
    monkeypatch.setattr(build, "embed_and_write", original)
    kb = KnowledgeBase.open(kb_root)
    assert len(kb.search("Hyllie cykelbanan", mode="hybrid", show="all")) == 4  # usable meanwhile
    report = kb.index()
    assert len(report.updated) == 1  # the run repairs what was left


def test_new_chunk_settings_re_embed_every_entry_as_updated(indexed_kb):
    report = indexed_kb.index(settings=ChunkSettings(max_tokens=100, overlap_sentences=0))
    assert report.added == [] and len(report.updated) == 4 and report.unchanged == 0
    assert indexed_kb.index(settings=ChunkSettings(max_tokens=100, overlap_sentences=0)).unchanged == 4
