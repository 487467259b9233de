"""`kb forget ID --yes`: the entry and every trace of it are gone, byte for byte: the file, its
rows and words in kb.db (and its write-ahead log), its vectors in FAISS and in the embedding
cache, verdicts and links naming it, its id in actions and learning questions, generated files
under .kb/. The audit log records the erasure without the text."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.actions import load_actions
from indexer.agenda import load_agenda
from indexer.embed import PASSAGE, HashEmbedder
from indexer.embed_cache import EmbeddingCache, default_cache_path, text_hash
from kb.app.curation import record_link
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import audit
from kb.core.config import load
from kb.core.obstacle_groups import load_groups

# words found nowhere else, so a byte scan for them proves the text is gone
SECRET_TITLE = "Zqworbel Vintrafjäll berättade om Kvixtorpsprojektet"
SECRET_SENTENCE = "Blixtrandefjärilsmötet med Omnivoxbolaget gav oss hundratrettiosju idéer om laddning."
SECRET_WORDS = ("Zqworbel", "Vintrafjäll", "Kvixtorpsprojektet", "Blixtrandefjärilsmötet", "Omnivoxbolaget",
                "hundratrettiosju")
SECRET_ENTRY = f"""\
---
id: hemlig-post
title: {SECRET_TITLE}
area: energi
date: 2026-05-05
type: lesson
tags: [laddning]
related: [cykel-upphandling]
---
## Vad hände?
{SECRET_SENTENCE}

## Vad lärde vi oss?
Blixtrandefjärilsmötet lärde oss att fråga Omnivoxbolaget tidigt om hundratrettiosju saker.

## Bakgrund
""" + "\n".join(f"Kvixtorpsprojektet steg {n}: Omnivoxbolaget och Zqworbel Vintrafjäll gick igenom punkt {n}."
                 for n in range(120)) + "\n"

ACTION_ONLY = """\
---
id: bara-hemlig
title: Åtgärd som bara bygger på den hemliga posten
owner: Energi
due: 2027-01-31
status: proposed
lessons: [hemlig-post]
history:
- {date: 2026-06-01, status: proposed, note: ''}
---
"""
ACTION_TWO = ACTION_ONLY.replace("bara-hemlig", "tva-lardomar").replace(
    "lessons: [hemlig-post]", "lessons: [hemlig-post, cykel-upphandling]")
QUESTION = """\
---
id: lq-hemlig
question: Hur gör vi med laddningen?
owner: Energi
opened: 2026-06-01
status: open
entries: [hemlig-post, cykel-upphandling]
---
"""


@pytest.fixture
def secret_kb(kb_root, tmp_path, monkeypatch):
    """The test KB with the secret entry, linked and cited everywhere, indexed with an embedder
    whose vectors go to the embedding cache (the hash embedder is not cached by default)."""
    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path / "cache"))
    (kb_root / "entries/energi/hemlig-post.md").write_text(SECRET_ENTRY, encoding="utf-8")
    (kb_root / "actions").mkdir()
    (kb_root / "actions/bara-hemlig.md").write_text(ACTION_ONLY, encoding="utf-8")
    (kb_root / "actions/tva-lardomar.md").write_text(ACTION_TWO, encoding="utf-8")
    (kb_root / "agenda").mkdir()
    (kb_root / "agenda/lq-hemlig.md").write_text(QUESTION, encoding="utf-8")
    # a kept obstacle group with the entry, named with its words
    (kb_root / "obstacles.md").write_text(
        "---\nnext: 3\n---\n# Recurring obstacles\n\n"
        "## hinder-1: Laddning: Omnivoxbolaget gav oss hundratrettiosju idéer\n"
        "- entries: hemlig-post, cykel-upphandling, laddplatser\n- label from: hemlig-post\n\n"
        "## hinder-2: Upphandling: ramavtal\n- entries: cykel-upphandling, hemlig-post\n", encoding="utf-8")
    config = load(kb_root)
    record_link(config, "laddplatser", "hemlig-post", "synergy", note="samma sak")
    record_link(config, "solar-roofs", "hemlig-post", "unrelated")
    embedder = HashEmbedder()
    embedder.cache_vectors = True
    kb = KnowledgeBase(config, embedder=embedder)
    kb.index()
    texts = [r[0] for r in kb.store.db.execute("select text from chunks where entry_id = 'hemlig-post'")]
    vectors = [bytes(r[0]) for r in kb.store.db.execute(
        "select embedding from chunks where entry_id = 'hemlig-post'")]
    cache = EmbeddingCache(default_cache_path())
    cached = cache.get_many(embedder.model_id, PASSAGE, [text_hash(t) for t in texts], embedder.dim)
    cache.close()
    assert len(cached) == len(texts)
    vectors += [np.asarray(v, dtype="<f4").tobytes() for v in cached.values()]
    # the FAISS file holds them centred per language: as it stores them
    ids = [r[0] for r in kb.store.db.execute("select id from chunks where entry_id = 'hemlig-post'")]
    vectors += [np.asarray(kb.vectors.index.reconstruct(int(i)), dtype="<f4").tobytes() for i in ids]
    faiss_file = (kb_root / ".kb/vectors.faiss").read_bytes()
    assert all(v in faiss_file for v in vectors[-len(ids):])
    kb.close()
    # a generated brief and picture under .kb/ that show the entry
    (kb_root / ".kb/briefs").mkdir()
    (kb_root / ".kb/briefs/brief.html").write_text(f"<h1>Brief</h1><p>{SECRET_TITLE}</p>", encoding="utf-8")
    (kb_root / ".kb/briefs/map.png").write_bytes(b"\x89PNG fake")
    (kb_root / ".kb/briefs/other.md").write_text("# Nothing about it\n", encoding="utf-8")
    return kb_root, vectors


def every_file_bytes(*folders):
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                yield path, path.read_bytes()


def test_secret_text_is_present_before_forget(secret_kb, tmp_path):
    root, vectors = secret_kb
    found = {p.name for p, data in every_file_bytes(root / ".kb", root / "entries") if b"Omnivoxbolaget" in data}
    assert "kb.db" in found or "kb.db-wal" in found  # the scan below can see text in the index
    cache = default_cache_path()
    assert cache.is_file() and any(v in cache.read_bytes() + _wal(cache) for v in vectors)


def _wal(path):
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_without_yes_it_only_lists(secret_kb):
    root, _ = secret_kb
    result = CliRunner().invoke(cli, ["forget", "hemlig-post", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "would remove the file entries/energi/hemlig-post.md" in result.output
    assert "Nothing removed yet" in result.output
    assert (root / "entries/energi/hemlig-post.md").is_file()
    assert not [e for e in audit.read(root / ".kb") if e["action"] == "entry.forget"]


def test_forget_leaves_no_byte_of_the_text_anywhere(secret_kb):
    root, vectors = secret_kb
    result = CliRunner().invoke(cli, ["forget", "hemlig-post", "--yes", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "removed the file entries/energi/hemlig-post.md" in result.output
    assert "removed the generated file .kb/briefs/brief.html" in result.output

    cache_dir = default_cache_path().parent
    needles = [w.encode("utf-8") for w in (*SECRET_WORDS, SECRET_TITLE, SECRET_SENTENCE)]
    for path, data in [*every_file_bytes(root / "entries", root / ".kb", cache_dir),
                       (root / "obstacles.md", (root / "obstacles.md").read_bytes())]:
        for needle in needles:
            assert needle not in data, f"{needle!r} left in {path}"
        for vector in vectors:
            assert vector not in data, f"a vector of the entry left in {path}"
    assert not (root / ".kb/briefs/map.png").exists()  # pictures are regenerated, never kept
    assert (root / ".kb/briefs/other.md").exists()  # a generated file that does not mention it stays

    kb = KnowledgeBase.open(root)
    assert "hemlig-post" not in kb.store.entry_ids()
    assert kb.vectors.ntotal == kb.store.counts()["chunks"]
    assert all(r.id != "hemlig-post" for r in kb.search("Omnivoxbolaget laddning", limit=10))
    related = kb.store.get_entries(["laddplatser"])["laddplatser"]["related"]
    assert "hemlig-post" not in related
    kb.close()


def test_forget_removes_every_reference_and_records_it(secret_kb):
    root, _ = secret_kb
    result = CliRunner().invoke(cli, ["forget", "hemlig-post", "--yes", "--json", "--root", str(root)])
    assert result.exit_code == 0, result.output
    erasure = json.loads(result.output)
    assert erasure["done"] and erasure["index"] == {"entries": 1, "chunks": erasure["index"]["chunks"]}
    assert erasure["cache_vectors"] == erasure["index"]["chunks"] > 0
    config = load(root)
    assert "hemlig-post" not in (root / "decisions.tsv").read_text(encoding="utf-8")
    assert "hemlig-post" not in (root / "entries/mobilitet/laddplatser.md").read_text(encoding="utf-8")
    actions = load_actions(config, lessons={"cykel-upphandling", "laddplatser"}).by_id
    assert actions["tva-lardomar"].lessons == ["cykel-upphandling"]
    # an action left with no lesson stays (it records a decision) and stays valid
    assert actions["bara-hemlig"].lessons == [] and actions["bara-hemlig"].extra["erased_lessons"] == 1
    assert erasure["actions_without_lesson"] == ["actions/bara-hemlig.md"]
    assert load_agenda(config).by_id["lq-hemlig"].entries == ["cykel-upphandling"]
    groups = load_groups(root)
    assert [g.entries for g in groups.groups] == [["cykel-upphandling", "laddplatser"], ["cykel-upphandling"]]
    assert (groups.get("hinder-1").label, groups.get("hinder-2").label) == ("", "Upphandling: ramavtal")
    assert erasure["obstacle_groups"] == ["hinder-1", "hinder-2"] and erasure["obstacle_labels"] == ["hinder-1"]
    assert "obstacles.md" in erasure["files"]
    validate = CliRunner().invoke(cli, ["validate", "--root", str(root)])
    assert validate.exit_code == 0, validate.output

    event = [e for e in audit.read(root / ".kb") if e["action"] == "entry.forget"][-1]
    assert event["id"] == "hemlig-post" and "entries/energi/hemlig-post.md" in event["files"]
    assert "decisions.tsv" in event["files"] and "actions/bara-hemlig.md" in event["files"]
    log = (root / ".kb/audit.jsonl").read_bytes()
    assert not any(w.encode("utf-8") in log for w in SECRET_WORDS)

    again = CliRunner().invoke(cli, ["forget", "hemlig-post", "--root", str(root)])
    assert again.exit_code == 1 and "no entry with id 'hemlig-post'" in again.output


def test_an_entry_only_in_the_index_is_erased_from_it(secret_kb):
    root, _ = secret_kb
    (root / "entries/energi/hemlig-post.md").unlink()  # deleted by hand, not yet re-indexed
    result = CliRunner().invoke(cli, ["forget", "hemlig-post", "--yes", "--root", str(root)])
    assert result.exit_code == 0, result.output
    data = (root / ".kb/kb.db").read_bytes()
    assert b"Omnivoxbolaget" not in data


def test_secure_delete_keeps_other_entries_searchable(indexed_kb):
    before = indexed_kb.store.counts()
    chunks = indexed_kb.store.db.execute("select count(*) from chunks where entry_id='laddplatser'").fetchone()[0]
    counts = indexed_kb.store.erase_entries(["laddplatser"])
    assert counts == {"entries": 1, "chunks": chunks, "wal_emptied": 1}
    assert indexed_kb.store.counts() == {"entries": before["entries"] - 1, "chunks": before["chunks"] - chunks}
    hits = indexed_kb.store.db.execute(
        "select count(*) from chunks_fts where chunks_fts match 'Hyllie'").fetchone()[0]
    assert hits > 0


def test_forget_in_a_git_repository_says_history_keeps_it(secret_kb):
    import subprocess

    root, _ = secret_kb
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "HOME": str(root), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "entries"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "x"], check=True, env=env)
    result = CliRunner().invoke(cli, ["forget", "hemlig-post", "--root", str(root)])
    assert "not reached: git history" in result.output


def test_forget_while_the_web_server_reads(secret_kb):
    """The web server keeps the index open (read-only): the erasure still empties the
    write-ahead log, and the server stops showing and finding the entry at once."""
    import asyncio

    from datasette_plugins.serve import make_datasette

    root, _ = secret_kb
    ds = make_datasette(root)

    async def go():
        await ds.invoke_startup()
        before = await ds.client.get("/-/kb/entry/hemlig-post")
        found = await ds.client.get("/-/kb/search.json?q=Omnivoxbolaget")
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["forget", "hemlig-post", "--yes",
                                                                 "--root", str(root)])
        after = await ds.client.get("/-/kb/entry/hemlig-post")
        search = await ds.client.get("/-/kb/search.json?q=Omnivoxbolaget")
        return before, found, result, after, search

    before, found, result, after, search = asyncio.run(go())
    assert before.status_code == 200
    assert "hemlig-post" in [r["id"] for r in found.json()["results"]]
    assert result.exit_code == 0, result.output
    assert after.status_code == 404
    assert "hemlig-post" not in [r["id"] for r in search.json()["results"]]
    wal = root / ".kb/kb.db-wal"
    assert not wal.exists() or b"Omnivoxbolaget" not in wal.read_bytes()
    assert b"Omnivoxbolaget" not in (root / ".kb/kb.db").read_bytes()


def test_a_reader_holding_the_log_is_waited_for_then_reported(indexed_kb, monkeypatch):
    import sqlite3

    from kb.core import store as store_module

    reader = sqlite3.connect(f"file:{indexed_kb.config.db_path}?mode=ro", uri=True)
    reader.execute("begin")
    reader.execute("select count(*) from chunks").fetchone()  # a read transaction on the old snapshot
    monkeypatch.setattr(store_module, "CHECKPOINT_WAIT_MS", 200)
    try:
        counts = indexed_kb.store.erase_entries(["laddplatser"])
    finally:
        reader.close()
    assert counts["entries"] == 1 and counts["wal_emptied"] == 0
    assert store_module.checkpoint(indexed_kb.store.db.conn)  # the reader is gone: now it empties
