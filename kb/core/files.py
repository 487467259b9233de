"""Files: written so that a reader sees the old or the new content, never half of it, and
locked so that two writers never interleave.

The knowledge base's write lock (:func:`write_lock`) is held by everything that writes
entries or the index (the web form, ``kb new``, ``kb import``, ``kb index``): choosing a free
id, creating the file and updating the index happen under it. Readers are never blocked:
SQLite runs in WAL mode and the FAISS file is replaced by rename.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

WRITE_LOCK_NAME = "write.lock"  # in the knowledge base's state folder (.kb/)


def _file_mode(path: Path) -> int:
    """The mode a replaced file keeps; a new file gets what the umask allows (mkstemp would
    leave 0600, unreadable for a web server or a colleague sharing the folder)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def create_exclusive(path: Path, text: str) -> None:
    """Write a new file atomically; refuse (FileExistsError) if ``path`` already exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails if the target exists, unlike rename
    finally:
        os.unlink(tmp)


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file now at ``path``, or None: a file replaced by rename (a
    rebuilt ``kb.db``) has a new identity, while its readers still hold the old one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def files_state(*paths: Path, folders: tuple[Path, ...] = ()) -> tuple:
    """The modification times of ``paths`` and of each folder of ``folders`` with its ``*.md``
    files (the folder's own time: a file taken out), 0 for what is missing: a cache made from
    them is stale when this changes."""
    files = list(paths)
    for folder in folders:
        if folder.is_dir():
            files += [folder, *sorted(folder.glob("*.md"))]
    out = []
    for path in files:
        try:
            out.append((path.name, path.stat().st_mtime_ns))
        except OSError:
            out.append((path.name, 0))
    return tuple(out)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive ``flock`` on ``path`` (created if missing). Held per open file, so it also
    separates threads of one process, each opening the file itself; released when the
    holder dies, so a killed writer never leaves a stale lock."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                break
            except OSError as exc:  # pragma: no cover - interrupted by a signal
                if exc.errno != errno.EINTR:
                    raise
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_lock(state_dir: Path) -> contextlib.AbstractContextManager[None]:
    """The knowledge base's write lock, ``<state_dir>/write.lock`` (``config.state_dir``)."""
    return file_lock(Path(state_dir) / WRITE_LOCK_NAME)
