"""`kb backup DIR` and `kb restore`: a consistent snapshot of the index (SQLite's backup API)
and the files, with checksums; restoring gives a knowledge base that searches the same and
whose index needs no work."""

from __future__ import annotations

import json
import sqlite3
import threading

from click.testing import CliRunner

from kb.app import capture
from kb.app.backup import backup
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import audit
from kb.core.config import load


def files_of(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for folder in ("entries", "actions", "agenda", "roadmaps")
            for p in (root / folder).rglob("*") if p.is_file()} | {
        name: (root / name).read_bytes() for name in ("kb.toml", "decisions.tsv") if (root / name).is_file()}


def test_backup_then_restore_gives_the_same_knowledge_base(indexed_kb, tmp_path):
    root = indexed_kb.config.root
    CliRunner().invoke(cli, ["link", "laddplatser", "vaermepump-holma", "--as", "synergy", "--root", str(root)])
    indexed_kb.index()
    (root / ".kb/last-brief.json").write_text('{"date": "2026-03-01"}\n', encoding="utf-8")
    hits = [(r.id, round(r.score, 6)) for r in indexed_kb.search("kapacitet i elnätet", limit=5)]
    counts = indexed_kb.store.counts()

    made = CliRunner().invoke(cli, ["backup", str(tmp_path / "backups"), "--root", str(root), "--json"])
    assert made.exit_code == 0, made.output
    report = json.loads(made.output)
    folder = tmp_path / "backups" / report["path"].rsplit("/", 1)[1]
    assert folder.name.startswith("kb-backup-") and (folder / ".kb/kb.db").is_file()
    assert report["index"]["entries"] == counts["entries"] and report["index"]["chunks"] == counts["chunks"]
    assert not (folder / ".kb/vectors.faiss").exists()  # a cache, rebuilt from the index
    with sqlite3.connect(folder / ".kb/kb.db") as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"  # one file, no -wal

    target = tmp_path / "restored"
    restored = CliRunner().invoke(cli, ["restore", str(folder), "--to", str(target)])
    assert restored.exit_code == 0, restored.output
    assert files_of(target) == files_of(root)
    assert (target / ".kb/last-brief.json").read_bytes() == (root / ".kb/last-brief.json").read_bytes()
    kb = KnowledgeBase.open(target)
    try:
        assert kb.store.counts() == counts
        assert [(r.id, round(r.score, 6)) for r in kb.search("kapacitet i elnätet", limit=5)] == hits
        update = kb.index()
        assert not update.changed and update.chunks_embedded == 0  # the index matches the files
    finally:
        kb.close()
    assert [e["action"] for e in audit.read(target / ".kb")][-2:] == ["verdict", "restore"]
    assert audit.read(root / ".kb")[-1]["action"] == "backup"


def test_restore_refuses_a_damaged_backup_and_a_folder_in_use(indexed_kb, tmp_path):
    root = indexed_kb.config.root
    report = backup(indexed_kb.config, tmp_path / "b")
    folder = tmp_path / "b" / report.path.rsplit("/", 1)[1]
    occupied = CliRunner().invoke(cli, ["restore", str(folder), "--to", str(root)])
    assert occupied.exit_code == 1 and "not empty" in occupied.output
    entry = next((folder / "entries").rglob("*.md"))
    entry.write_text(entry.read_text(encoding="utf-8") + "ändrad\n", encoding="utf-8")
    damaged = CliRunner().invoke(cli, ["restore", str(folder), "--to", str(tmp_path / "x")])
    assert damaged.exit_code == 1 and "damaged" in damaged.output
    assert not (tmp_path / "x").exists()


def test_a_backup_taken_while_entries_are_saved_is_consistent(indexed_kb, tmp_path):
    """Saving entries (file + index) while backups run: each backup's index holds exactly the
    entries whose files it holds (the backup takes the write lock)."""
    config = indexed_kb.config
    embedder = indexed_kb.embedder
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set() and n < 30:
            draft = capture.Draft(title=f"Lärdom nummer {n}", area="energi", date="2026-02-02",
                                  sections=[("Vad hände?", f"Något hände för {n}:e gången.")])
            capture.save(config, draft, embedder=embedder)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    reports = []
    try:
        for k in range(4):
            reports.append(backup(config, tmp_path / f"b{k}"))
    finally:
        stop.set()
        thread.join()
    for report in reports:
        folder = tmp_path / report.path.split("/")[-2] / report.path.split("/")[-1]
        restored = load(folder)
        assert restored.db_path.is_file()
        stems = {p.stem for p in (folder / "entries").rglob("*.md")}
        with sqlite3.connect(restored.db_path) as conn:
            indexed = {r[0] for r in conn.execute("select id from entries")}
        assert indexed == stems


def test_keep_removes_the_oldest_backups(indexed_kb, tmp_path):
    import datetime as dt

    config = indexed_kb.config
    for day in range(1, 5):
        backup(config, tmp_path / "b", keep=2, now=dt.datetime(2026, 1, day, tzinfo=dt.UTC))
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["kb-backup-20260103T000000Z", "kb-backup-20260104T000000Z"]


def test_a_backup_inside_the_knowledge_base_is_refused(indexed_kb):
    root = indexed_kb.config.root
    result = CliRunner().invoke(cli, ["backup", str(root / "entries" / "b"), "--root", str(root)])
    assert result.exit_code == 1 and "inside the knowledge base" in result.output
