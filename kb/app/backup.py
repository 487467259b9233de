"""``kb backup DIR`` and ``kb restore BACKUP``: a consistent copy of a knowledge base, and
putting it back.

A backup is a folder ``DIR/kb-backup-<UTC time>/`` laid out like the knowledge base itself:
``kb.toml``, ``entries/``, ``actions/``, ``agenda/``, ``roadmaps/``, ``decisions.tsv``, ``obstacles.md``,
``sessions.tsv``, ``.kb/audit.jsonl``, ``.kb/last-brief.json`` and ``.kb/kb.db``, plus ``backup-manifest.json`` with the
SHA-256 of every file. The index is copied with SQLite's online backup API (a consistent
snapshot even while the web server reads it), and everything is copied under the write lock,
so no entry is saved half-way through: the files and the index match. The FAISS file and the
embedding cache are caches, rebuilt from the index when missing, and are not copied.

Restoring checks every checksum first, then copies the backup into an empty folder (never
over a knowledge base: restore beside it and swap, see the README's "Drift" section).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from kb import __version__
from kb.core import audit
from kb.core.config import CONFIG_NAME, STATE_DIR, KBConfig
from kb.core.decisions import DECISIONS_FILE
from kb.core.errors import KBError
from kb.core.files import atomic_write_text, write_lock
from kb.core.obstacle_groups import GROUPS_FILE
from kb.core.sessions import LEGACY_MARK, SESSIONS_FILE

FOLDERS = ("entries", "actions", "agenda", "roadmaps")
ROOT_FILES = (CONFIG_NAME, DECISIONS_FILE, SESSIONS_FILE, GROUPS_FILE)
STATE_FILES = (audit.AUDIT_FILE, LEGACY_MARK.name)  # in .kb/, besides the index
DB_NAME = "kb.db"
MANIFEST = "backup-manifest.json"
PREFIX = "kb-backup-"


class BackupError(KBError):
    """A backup that cannot be made, or one that cannot be restored as it is."""


@dataclass
class BackupReport:
    path: str
    files: int = 0
    bytes: int = 0
    index: dict = field(default_factory=dict)  # entries, chunks, generation of the copied index
    removed: list[str] = field(default_factory=list)  # older backups removed by --keep

    def to_dict(self) -> dict:
        return {"path": self.path, "files": self.files, "bytes": self.bytes, "index": self.index,
                "removed": self.removed}


def backup(config: KBConfig, target: Path, *, keep: int | None = None, who: str | None = None,
           now: dt.datetime | None = None) -> BackupReport:
    """Copy the knowledge base into a new folder under ``target``; with ``keep``, remove the
    oldest backups there beyond that many. Written to a ``.partial`` folder renamed when done,
    so a folder named ``kb-backup-*`` is always complete."""
    target = Path(target).expanduser().resolve()
    inside = [config.root.resolve() / name for name in (*FOLDERS, STATE_DIR)]
    if target == config.root.resolve() or any(target.is_relative_to(folder) for folder in inside):
        raise BackupError(f"{target}: a backup inside the knowledge base would be read as part of it",
                          hint="Give a folder outside the knowledge base (another disk, preferably).")
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    final = target / f"{PREFIX}{stamp}"
    if final.exists():
        raise BackupError(f"{final}: already exists", hint="Wait a second and run it again.")
    partial = target / f".{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    report = BackupReport(path=str(final))
    try:
        with write_lock(config.state_dir):
            for rel in kb_files(config):
                destination = partial / rel
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(config.root / rel, destination)
            if config.db_path.is_file():
                (partial / STATE_DIR).mkdir(exist_ok=True)
                report.index = _snapshot(config.db_path, partial / STATE_DIR / DB_NAME)
        checksums = {rel: _sha256(partial / rel) for rel in _all_files(partial)}
        manifest = {"made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "made_by": f"kb {__version__}",
                    "knowledge_base": config.title, "from": str(config.root), "index": report.index,
                    "files": checksums}
        atomic_write_text(partial / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    report.files = len(checksums)
    report.bytes = sum((final / rel).stat().st_size for rel in checksums)
    if keep is not None:
        report.removed = _prune(target, keep)
    audit.record(config.state_dir, who, "backup", path=str(final), files=report.files, index=report.index)
    return report


def restore(backup_dir: Path, target: Path, *, who: str | None = None) -> dict:
    """Check the backup's checksums and copy it into ``target`` (a new or empty folder).
    Returns what was restored; the FAISS file is rebuilt from the index on first use."""
    backup_dir = Path(backup_dir).expanduser().resolve()
    target = Path(target).expanduser().resolve()
    manifest = verify(backup_dir)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target}: not empty; a restore never writes over a knowledge base",
                          hint="Restore into a new folder, then swap the folders (README: Drift).")
    partial = target.with_name(f".{target.name}.restoring")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        for rel in manifest["files"]:
            destination = partial / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(backup_dir / rel, destination)
        if target.exists():
            target.rmdir()
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    audit.record(target / STATE_DIR, who, "restore", path=str(backup_dir), files=len(manifest["files"]))
    return {"from": str(backup_dir), "to": str(target), "files": len(manifest["files"]),
            "index": manifest.get("index", {}), "made": manifest.get("made")}


def verify(backup_dir: Path) -> dict:
    """The backup's manifest, once every file in it is present with its checksum."""
    try:
        manifest = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BackupError(f"{backup_dir}: no readable {MANIFEST}; not a backup made by `kb backup`") from None
    for rel, checksum in files.items():
        path = backup_dir / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise BackupError(f"{backup_dir / MANIFEST}: {rel!r} is not a path inside the backup")
        if not path.is_file():
            raise BackupError(f"{path}: missing from the backup", hint="Use another backup.")
        if _sha256(path) != checksum:
            raise BackupError(f"{path}: damaged (its checksum differs from the manifest)",
                              hint="Use another backup.")
    return manifest


def _snapshot(source: Path, destination: Path) -> dict:
    """Copy the index with SQLite's online backup API: a consistent snapshot even while other
    connections read it; the copy is a single file (no write-ahead log)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(destination))
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        counts = {"entries": dst.execute("select count(*) from entries").fetchone()[0],
                  "chunks": dst.execute("select count(*) from chunks").fetchone()[0]}
        row = dst.execute("select value from meta where key = 'generation'").fetchone()
        counts["generation"] = int(row[0]) if row else 0
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{source}: the index copy fails SQLite's integrity check ({check})",
                              hint="Run `kb index --rebuild`, then back up again.")
        return counts
    finally:
        dst.close()
        src.close()


def kb_files(config: KBConfig, *, state: bool = True) -> list[str]:
    """The files that make up the knowledge base (relative paths): kb.toml, the verdicts and
    sessions, the entry, action, agenda and roadmap folders, and with ``state`` the audit log
    and the last brief's date from ``.kb/``; never the index and its caches."""
    rels = [name for name in ROOT_FILES if (config.root / name).is_file()]
    for folder in FOLDERS:
        base = config.root / folder
        if base.is_dir():
            rels += sorted(p.relative_to(config.root).as_posix() for p in base.rglob("*")
                           if p.is_file() and not p.is_symlink() and not p.name.startswith("."))
    if state:
        rels += [f"{STATE_DIR}/{name}" for name in STATE_FILES if (config.state_dir / name).is_file()]
    return rels


def _all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prune(target: Path, keep: int) -> list[str]:
    backups = sorted(p for p in target.glob(f"{PREFIX}*") if p.is_dir())
    old = backups[: max(0, len(backups) - max(keep, 1))]
    for path in old:
        shutil.rmtree(path)
    return [str(p) for p in old]
