"""What keeps web sessions: the signing secret and the list of signed-out sessions, both in
the knowledge base's state folder (``.kb/``), so a restart keeps everyone signed in and a
signed-out cookie stays dead.

The secret is ``$DATASETTE_SECRET`` when set, else ``.kb/secret`` (made on first use,
readable by its owner only). Anyone who has it can sign cookies as anyone: keep ``.kb/``
out of backups that others read, or set ``$DATASETTE_SECRET`` from the service's own store.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path

from kb.core.files import atomic_write_text, file_lock

SECRET_FILE = "secret"
REVOKED_FILE = "signed-out.json"
SESSION_SECONDS = 12 * 3600


def session_secret(state_dir: Path) -> str:
    """``$DATASETTE_SECRET``, else the secret kept in ``<state_dir>/secret`` (created with
    mode 0600 when missing; a looser mode is tightened)."""
    explicit = os.environ.get("DATASETTE_SECRET", "").strip()
    if explicit:
        return explicit
    path = Path(state_dir) / SECRET_FILE
    for _ in range(3):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
            value = path.read_text(encoding="ascii").strip()
            if len(value) >= 32:
                return value
            path.unlink()  # empty or cut short: make a new one
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secret.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)  # two servers starting at once agree on the first one written
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    raise OSError(f"{path}: cannot create the session secret")


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


class SignedOut:
    """Sessions signed out before they expired: ``<state_dir>/signed-out.json``, session id
    -> expiry (Unix time). Read again when the file changes; expired ids are dropped on
    each write, so the file holds at most one session lifetime of sign-outs."""
    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / REVOKED_FILE
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._ids: dict[str, float] = {}

    def revoke(self, session_id: str, expires: float) -> None:
        with file_lock(self.path.with_name(REVOKED_FILE + ".lock")):
            now = time.time()
            ids = {k: v for k, v in self._read().items() if v > now}
            ids[session_id] = expires
            atomic_write_text(self.path, json.dumps(ids, sort_keys=True) + "\n")
        with self._lock:
            self._stamp = None

    def is_revoked(self, session_id: str) -> bool:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                self._ids, self._stamp = self._read(), stamp
        return session_id in self._ids

    def _file_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}
