"""``kb backup DIR`` and ``kb restore BACKUP``: a consistent copy of a knowledge base, and
putting it back.

A backup is a folder ``DIR/kb-backup-<UTC time>/`` laid out like the knowledge base itself:
``kb.toml``, ``entries/``, ``actions/``, ``agenda/``, ``roadmaps/``, ``decisions.tsv``, ``obstacles.md``,
``sessions.tsv``, ``.kb/audit.jsonl``, ``.kb/last-brief.json`` and ``.kb/kb.db``, plus ``backup-manifest.json`` with the
SHA-256 of every file. The index is copied with SQLite's online backup API (a consistent
snapshot even while the web server reads it), and everything is copied under the write lock,
so no entry is saved half-way through: the files and the index match. The FAISS file and the
embedding cache are caches, rebuilt from the index when missing, and are not copied.

Restoring checks the manifest and every checksum first, then copies the backup into an empty
folder (never over a knowledge base: restore beside it and swap, see the README's "Drift"
section). It takes only the files a backup holds, never follows a link, and sets the modes
itself: a backup is read as untrusted input (it may have been copied off-site and back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path

from kb import __version__
from kb.app.published_state import STATE_FILE as PUBLISHED_FILE
from kb.core import audit
from kb.core.config import CONFIG_NAME, STATE_DIR, KBConfig
from kb.core.decisions import DECISIONS_FILE
from kb.core.errors import KBError
from kb.core.files import atomic_write_text, write_lock
from kb.core.followed import FOLLOWED_DIR
from kb.core.obstacle_groups import GROUPS_FILE
from kb.core.sessions import LEGACY_MARK, SESSIONS_FILE

# followed/: the other cities' last good copies (a restored knowledge base searches them at once);
# published.tsv: what the open publication published, so a withdrawal still reaches followers
FOLDERS = ("entries", "actions", "agenda", "roadmaps", FOLLOWED_DIR)
ROOT_FILES = (CONFIG_NAME, DECISIONS_FILE, SESSIONS_FILE, PUBLISHED_FILE, GROUPS_FILE)
STATE_FILES = (audit.AUDIT_FILE, LEGACY_MARK.name)  # in .kb/, besides the index
DB_NAME = "kb.db"
MANIFEST = "backup-manifest.json"
PREFIX = "kb-backup-"
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
        checksums = {rel: _sha256(partial, rel) for rel in _all_files(partial)}
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
    """Check the backup's manifest and checksums and copy it into ``target`` (a new or empty
    folder). Only what a backup of ours holds is restored (:func:`restorable`), only regular
    files (never a link, nor a file in a linked folder), each with the mode a knowledge base
    has (files 0644, the ``.kb`` folder 0700 and its files 0600), never the backup's own
    modes. Returns what was restored; the FAISS file is rebuilt from the index on first use."""
    backup_dir = Path(backup_dir).expanduser().resolve()
    target = Path(target).expanduser().resolve()
    manifest = verify(backup_dir)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target}: not empty; a restore never writes over a knowledge base",
                          hint="Restore into a new folder, then swap the folders (README: Drift).")
    partial = target.with_name(f".{target.name}.restoring")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    files = manifest["files"]
    file_mode, folder_mode = restored_modes()
    try:
        for rel, checksum in files.items():
            destination = partial / rel
            destination.parent.mkdir(parents=True, exist_ok=True, mode=folder_mode)
            _copy_checked(backup_dir, rel, checksum, destination, file_mode)
        if target.exists():
            target.rmdir()
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    audit.record(target / STATE_DIR, who, "restore", path=str(backup_dir), files=len(files))
    return {"from": str(backup_dir), "to": str(target), "files": len(files),
            "index": manifest.get("index", {}), "made": manifest.get("made")}


def restorable(rel: str) -> bool:
    """Whether ``rel`` (a manifest's path) is a file a backup of ours holds: kb.toml, the
    verdicts and sessions, a file under entries/, actions/, agenda/ or roadmaps/ (no hidden
    part), and ``.kb/audit.jsonl``, ``.kb/last-brief.json``, ``.kb/kb.db``. Nothing else (a
    git hook, ``.kb/secret``) comes back from a backup, whatever its manifest says."""
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in rel or "\x00" in rel:
        return False
    if len(parts) == 1:
        return rel in ROOT_FILES
    if parts[0] == STATE_DIR:
        return len(parts) == 2 and parts[1] in (*STATE_FILES, DB_NAME)
    return parts[0] in FOLDERS and not any(part.startswith(".") for part in parts[1:])


def verify(backup_dir: Path) -> dict:
    """The backup's manifest, once it has the shape ``kb backup`` writes, lists only files a
    backup holds, and every one is present, a regular file, with its checksum."""
    where = backup_dir / MANIFEST
    try:
        manifest = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{backup_dir}: no readable {MANIFEST}; not a backup made by `kb backup`") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
            isinstance(rel, str) and isinstance(checksum, str) and _SHA256.fullmatch(checksum)
            for rel, checksum in files.items()):
        raise BackupError(f"{where}: not a manifest of `kb backup`: \"files\" must map each file's path to its "
                          "SHA-256 (64 hexadecimal digits)", hint="Use a backup made by `kb backup`.")
    for rel in files:
        if not restorable(rel):
            raise BackupError(f"{where}: lists {rel!r}, which no backup of a knowledge base holds; "
                              "nothing was restored", hint="Use a backup made by `kb backup`, as it was made.")
    for rel, checksum in files.items():
        if _sha256(backup_dir, rel) != checksum:
            raise BackupError(f"{backup_dir / rel}: damaged (its checksum differs from the manifest)",
                              hint="Use another backup.")
    return manifest


def _open_regular(backup_dir: Path, rel: str):
    """The regular file ``rel`` in ``backup_dir``, opened for reading, refusing a link anywhere
    on the way (the file, or a folder above it inside the backup) and anything but a plain file."""
    path = backup_dir
    for part in rel.split("/"):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            raise BackupError(f"{path}: missing from the backup", hint="Use another backup.") from None
        if stat.S_ISLNK(mode):
            raise BackupError(f"{path}: a symbolic link; a backup of ours holds none, so nothing was restored",
                              hint="Use a backup made by `kb backup`, as it was made.")
    handle = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # what was opened, not what was looked at
        handle.close()
        raise BackupError(f"{path}: not a regular file", hint="Use a backup made by `kb backup`.")
    return handle


def restored_modes() -> tuple[int, int]:
    """The modes of restored files and folders: what ``kb index`` and every other writer of the
    knowledge base gives a new file under the current umask (so a server that reads the index
    under another user reads the restored one too), never a mode from the backup, and never
    executable, setuid or sticky."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask, 0o777 & ~umask


def _copy_checked(backup_dir: Path, rel: str, checksum: str, destination: Path, mode: int) -> None:
    """Copy ``rel`` to ``destination`` (a new file, ``mode``), checking its SHA-256 on the
    bytes copied: what is written is what was checked."""
    digest = hashlib.sha256()
    with _open_regular(backup_dir, rel) as source:
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as handle:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                handle.write(block)
    os.chmod(destination, mode)  # whatever the umask
    if digest.hexdigest() != checksum:
        raise BackupError(f"{backup_dir / rel}: damaged (its checksum differs from the manifest)",
                          hint="Use another backup.")


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


def kb_files(config: KBConfig, *, state: bool = True, followed: bool = True) -> list[str]:
    """The files that make up the knowledge base (relative paths): kb.toml, the verdicts and
    sessions, what was published, the entry, action, agenda and roadmap folders, with
    ``followed`` the copies of other cities' publications, and with ``state`` the audit log
    and the last brief's date from ``.kb/``; never the index and its caches."""
    rels = [name for name in ROOT_FILES if (config.root / name).is_file()]
    for folder in FOLDERS if followed else [f for f in FOLDERS if f != FOLLOWED_DIR]:
        base = config.root / folder
        if base.is_dir():
            rels += sorted(p.relative_to(config.root).as_posix() for p in base.rglob("*")
                           if p.is_file() and not p.is_symlink() and not p.name.startswith("."))
    if state:
        rels += [f"{STATE_DIR}/{name}" for name in STATE_FILES if (config.state_dir / name).is_file()]
    return rels


def _all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _sha256(folder: Path, rel: str) -> str:
    digest = hashlib.sha256()
    with _open_regular(folder, rel) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prune(target: Path, keep: int) -> list[str]:
    backups = sorted(p for p in target.glob(f"{PREFIX}*") if p.is_dir())
    old = backups[: max(0, len(backups) - max(keep, 1))]
    for path in old:
        shutil.rmtree(path)
    return [str(p) for p in old]
