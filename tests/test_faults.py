"""Faults: the process killed (-9) during `kb index`, a damaged FAISS file, an old schema,
an index from another model, a full disk. The previous index stays usable and the next
run repairs. All with the hash embedder: quick.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from indexer.discover import load_entries
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import files as atomic
from kb.core import vector_index
from kb.core.config import load
from kb.core.errors import KBError
from kb.core.store import Store, migrations

from .helpers import REPO, entry_text
from .samples import write_kb

AREAS = ["mobilitet", "energi", "bygg"]


def entry(i: int, extra: str = "") -> str:
    """The i-th of many numbered entries, spread over the areas."""
    area = AREAS[i % 3]
    return entry_text(
        {"id": f"post-{i:03d}", "title": f"Lärdom nummer {i} om {area} i Malmö", "area": area,
         "date": f"2026-0{1 + i % 9}-1{i % 10}", "type": "lesson"},
        happened=f"Projekt {i} i {area} stötte på hinder med upphandling{i} och elnät{i}. {extra}",
        learned=f"Tidig dialog med nätägaren och leverantörerna sparade tid{i}.",
    )


@pytest.fixture
def big_root(tmp_path, monkeypatch) -> Path:
    """40 entries, indexed; then changes waiting: 8 edited, 8 added, 2 deleted."""
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_kb(tmp_path / "kb", entries={f"{AREAS[i % 3]}/post-{i:03d}.md": entry(i) for i in range(40)})
    assert CliRunner().invoke(cli, ["index", "-q", "--root", str(root)]).exit_code == 0
    return root


def pending_changes(root: Path) -> None:
    """16 edited, 16 added (two batches of 64 chunks to embed), 2 deleted."""
    for i in range(16):
        (root / f"entries/{AREAS[i % 3]}/post-{i:03d}.md").write_text(entry(i, "Ny text."), encoding="utf-8")
    for i in range(40, 56):
        (root / f"entries/{AREAS[i % 3]}/post-{i:03d}.md").write_text(entry(i), encoding="utf-8")
    for i in (38, 39):
        (root / f"entries/{AREAS[i % 3]}/post-{i:03d}.md").unlink()


def index_state(root: Path) -> dict:
    db = sqlite3.connect(root / ".kb/kb.db")
    state = {
        "entries": db.execute("select id, content_hash from entries order by id").fetchall(),
        "chunks": db.execute("select count(*) from chunks").fetchone()[0],
        "orphans": db.execute(
            "select count(*) from chunks where entry_id not in (select id from entries)"
        ).fetchone()[0],
        "fts": db.execute("select count(*) from chunks_fts").fetchone()[0],
        "integrity": db.execute("pragma integrity_check").fetchone()[0],
    }
    db.close()
    return state


def assert_usable(root: Path) -> None:
    """Searchable, consistent: every chunk has its entry, FTS rows and vectors match."""
    state = index_state(root)
    assert state["integrity"] == "ok" and state["orphans"] == 0 and state["fts"] == state["chunks"]
    result = CliRunner().invoke(cli, ["search", "upphandling20 elnät20", "--json", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == "post-020"  # an entry no run touched
    kb = KnowledgeBase.open(root)
    assert kb.vectors.ntotal == state["chunks"]
    kb.close()


def assert_repaired(root: Path, args: tuple[str, ...] = ()) -> None:
    """The next run (of the same command) completes and leaves what a clean run would."""
    result = CliRunner().invoke(cli, ["index", "--json", *args, "--root", str(root)])
    assert result.exit_code == 0, result.output
    again = json.loads(CliRunner().invoke(cli, ["index", "--json", "--root", str(root)]).stdout)
    assert not (again["added"] or again["updated"] or again["deleted"])  # nothing left to do

    files = {e.id: e.content_hash for e in load_entries(load(root)).entries}
    assert dict(index_state(root)["entries"]) == files
    assert_usable(root)
    sidecar = json.loads((root / ".kb/vectors.faiss.json").read_text())
    store = Store(root / ".kb/kb.db")
    assert sidecar["generation"] == store.generation and sidecar["count"] == store.counts()["chunks"]
    store.close()
    assert not list((root / ".kb").glob(".*.tmp")) and not list((root / ".kb").glob("*.rebuild*"))


# Hooks run inside the child `kb index`: each kills the process (SIGKILL, no clean-up) at one point.
KILL_AT = {
    "second_batch": """
        import indexer.build as m
        orig = m.write_transaction
        n = [0]
        def hook(*a, **k):
            n[0] += 1
            if n[0] == 2:  # the first transaction committed, the second not begun
                die()
            return orig(*a, **k)
        m.write_transaction = hook
    """,
    "inside_a_transaction": """
        from kb.core.store import Store
        orig = Store.write_entry
        n = [0]
        def hook(self, *a, **k):
            orig(self, *a, **k)
            n[0] += 1
            if n[0] == 3:  # two entries written, the third's rows inserted, nothing committed
                die()
        Store.write_entry = hook
    """,
    "after_deletes_before_embedding": """
        import indexer.build as m
        def hook(*a, **k):
            die()
        m.embed_and_write = hook
    """,
    "half_written_faiss_file": """
        import kb.core.files as a
        orig_fdopen = a.os.fdopen
        class Half:
            def __init__(self, h): self.h = h
            def __enter__(self): return self
            def __exit__(self, *e): return False
            def write(self, data):
                self.h.write(data[: len(data) // 2]); self.h.flush(); die()
            def __getattr__(self, n): return getattr(self.h, n)
        def fdopen(fd, mode="r", *x, **k):
            h = orig_fdopen(fd, mode, *x, **k)
            return Half(h) if "w" in mode else h
        a.os.fdopen = fdopen
    """,
    "faiss_replaced_sidecar_not": """
        import kb.core.vector_index as v
        def hook(*a, **k):
            die()
        v.atomic_write_text = hook
    """,
    "rebuild_before_swap": """
        import kb.app.knowledge_base as b
        orig = b.os.replace
        def hook(*a, **k):
            die()
        b.os.replace = hook
    """,
}

CHILD = """
import os, signal, sys, textwrap
sys.path.insert(0, {repo!r})
def die():
    os.kill(os.getpid(), signal.SIGKILL)
exec(textwrap.dedent({hook!r}))
from kb.cli import cli
cli({args!r})
"""


def run_killed(root: Path, hook: str, args: list[str]) -> subprocess.CompletedProcess:
    code = CHILD.format(repo=str(REPO), hook=hook, args=[*args, "--root", str(root)])
    env = {**os.environ, "KB_MODEL": "hash"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("point", sorted(KILL_AT))
def test_kill_9_during_index_keeps_the_old_index_and_the_next_run_repairs(big_root, point):
    pending_changes(big_root)
    args = ["index", "-q", "--rebuild"] if point == "rebuild_before_swap" else ["index", "-q"]
    proc = run_killed(big_root, KILL_AT[point], args)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    assert_usable(big_root)
    # a killed --rebuild leaves kb.db.rebuild, which the next --rebuild removes first (a plain
    # `kb index` cannot tell a dead rebuild from a running one, so it leaves it alone)
    assert_repaired(big_root, ("--rebuild",) if point == "rebuild_before_swap" else ())


@pytest.mark.parametrize(
    "delay", [0.05, 0.3, 0.6, *(pytest.param(d, marks=pytest.mark.slow) for d in (0.9, 1.2, 1.6))]
)
def test_kill_9_at_timed_offsets(big_root, delay):
    """The points above are chosen; these are wherever the clock says (import, parse, write...)."""
    pending_changes(big_root)
    env = {**os.environ, "KB_MODEL": "hash"}
    proc = subprocess.Popen([sys.executable, "-c", "from kb.cli import cli; cli()", "index", "-q", "--root", str(big_root)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert_usable(big_root)
    assert_repaired(big_root)


# --- the FAISS file ------------------------------------------------------------------------------
DAMAGE = {
    "deleted": lambda p: p.unlink(),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:100]),
    "garbage": lambda p: p.write_bytes(os.urandom(4096)),
    "empty": lambda p: p.write_bytes(b""),
    "sidecar_deleted": lambda p: p.with_name(p.name + ".json").unlink(),
    "sidecar_garbage": lambda p: p.with_name(p.name + ".json").write_text("{nope", encoding="utf-8"),
    "sidecar_lies": lambda p: p.with_name(p.name + ".json").write_text(
        json.dumps({"generation": 10**6, "count": 1, "dim": 256}), encoding="utf-8"),
    "other_dimension": lambda p: vector_index.save(
        p, vector_index._build(__import__("numpy").arange(3), __import__("numpy").eye(3, 8, dtype="float32"), 8),
        0, 8, vector_index.Centering()),
}


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_faiss_file_is_rebuilt_from_sqlite(big_root, damage, kind, monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_MAX", 10 if kind == "ivf" else 10**9)
    faiss_path = big_root / ".kb/vectors.faiss"
    KnowledgeBase.open(big_root).index(rebuild=True)
    DAMAGE[damage](faiss_path)
    kb = KnowledgeBase.open(big_root)
    assert kb.vectors.kind == kind and kb.vectors.ntotal == index_state(big_root)["chunks"]
    hits = kb.search("upphandling20 elnät20", mode="semantic", limit=3)
    assert hits[0].id == "post-020"
    filtered = kb.search("upphandling20", mode="semantic", limit=3,
                         filters=__import__("search.filters", fromlist=["Filters"]).Filters(areas=("bygg",)))
    assert filtered and all(r.area == "bygg" for r in filtered)
    kb.close()
    assert json.loads(faiss_path.with_name("vectors.faiss.json").read_text())["count"] == kb.store.counts()["chunks"]


# --- an older schema -----------------------------------------------------------------------------
def test_a_database_with_only_the_first_migration_is_migrated(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_kb(tmp_path / "kb")
    db_path = root / ".kb/kb.db"
    db_path.parent.mkdir()
    db = sqlite_utils.Database(db_path)
    later = [m.name for m in migrations.pending(db)][1:]
    migrations.apply(db, stop_before=later[0])
    assert [m.name for m in migrations.applied(db)] == ["m001_initial"]
    # an index as version 1 wrote it: one entry, one chunk, the old FTS columns
    vector = __import__("numpy").ones(256, dtype="<f4") / 16
    db["entries"].insert({"id": "gammal", "title": "Gammal post om fjärrvärme", "area": "energi",
                          "date": "2025-01-01", "type": "lesson", "tags": "[]", "actors": "[]",
                          "roadmap": "[]", "policy": "[]", "related": "[]", "extra": "{}",
                          "path": "entries/energi/gammal.md", "body": "Fjärrvärme.", "content_hash": "x",
                          "embedding": vector.tobytes()})
    db.execute("insert into chunks (id, entry_id, seq, kind, heading, text, line, tokens, embedding) "
               "values (1, 'gammal', 0, 'entry', '', 'Gammal post om fjärrvärme', 1, 5, ?)", [vector.tobytes()])
    db.execute("insert into chunks_fts (rowid, title, heading, text) values (1, 'Gammal post', '', 'fjärrvärme')")
    db["meta"].insert_all([{"key": "model_id", "value": "hash-256"}, {"key": "dim", "value": "256"}])
    db.conn.commit()
    db.close()

    # the web side opens read-only and says what to do rather than failing oddly

    with pytest.raises(KBError, match="from an older version"):
        Store(db_path, read_only=True)
    result = CliRunner().invoke(cli, ["search", "fjärrvärme", "--json", "--root", str(root)])
    assert result.exit_code == 0, result.output  # migrated on open
    store = Store(db_path)
    assert not list(migrations.pending(store.db))
    assert "lang" in store.db["chunks"].columns_dict
    store.close()
    index = CliRunner().invoke(cli, ["index", "--json", "--root", str(root)])
    assert index.exit_code == 0, index.output
    assert json.loads(index.stdout)["deleted"] == ["gammal"]  # no file behind it
    assert_state = index_state(root)
    assert assert_state["integrity"] == "ok" and assert_state["fts"] == assert_state["chunks"]


# --- another model -------------------------------------------------------------------------------
def test_an_index_from_another_model_is_refused_with_a_message(big_root):
    db = sqlite3.connect(big_root / ".kb/kb.db")
    db.execute("update meta set value = 'multilingual-e5-small-q4' where key = 'model_id'")
    db.commit()
    db.close()
    before = index_state(big_root)
    for args in (["search", "elnät"], ["similar", "post-001"], ["index"]):
        result = CliRunner().invoke(cli, [*args, "--root", str(big_root)])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        lines = result.stderr.strip().splitlines()
        assert "multilingual-e5-small-q4" in lines[0] and "hash-256" in lines[0], lines
        assert lines[1].startswith("Hint: ") and "--rebuild" in lines[1]
    assert index_state(big_root) == before


# --- a full disk ---------------------------------------------------------------------------------
def test_disk_full_while_writing_the_faiss_file_leaves_the_old_one(big_root, monkeypatch, capsys):
    faiss_path = big_root / ".kb/vectors.faiss"
    old = faiss_path.read_bytes()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()
            return False

        def write(self, data):
            self.handle.write(data[:1000])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.handle, name)

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode="r", *a, **k: Full(real_fdopen(fd, mode, *a, **k)))
    pending_changes(big_root)
    kb = KnowledgeBase.open(big_root)
    report = kb.index()  # the database is written; the FAISS file cannot be
    assert report.changed
    assert "No space left on device" in capsys.readouterr().err
    assert faiss_path.read_bytes() == old  # untouched, and no half-written temporary file
    assert not list(faiss_path.parent.glob(".*.tmp"))
    assert kb.search("upphandling45 elnät45", mode="semantic")[0].id == "post-045"  # served from memory
    kb.close()
    monkeypatch.setattr(atomic.os, "fdopen", real_fdopen)
    assert_repaired(big_root)


def test_disk_full_in_sqlite_gives_a_message_and_keeps_the_old_index(big_root, monkeypatch):
    """SQLite's own 'database or disk is full', forced with max_page_count."""
    before = index_state(big_root)
    real_init = Store.__init__

    def small_disk(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        pages = self.db.execute("pragma page_count").fetchone()[0]
        self.db.execute(f"pragma max_page_count = {pages + 2}")

    monkeypatch.setattr(Store, "__init__", small_disk)
    for i in range(40, 48):
        (big_root / f"entries/{AREAS[i % 3]}/post-{i:03d}.md").write_text(entry(i, "ord " * 3000), encoding="utf-8")
    result = CliRunner().invoke(cli, ["index", "-q", "--root", str(big_root)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert "disk is full" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    monkeypatch.setattr(Store, "__init__", real_init)
    after = index_state(big_root)
    assert after["integrity"] == "ok" and after["orphans"] == 0
    assert set(before["entries"]) <= set(after["entries"])  # what was indexed still is
    assert_usable(big_root)
    assert_repaired(big_root)
