"""Who may write: writers' password hashes, checking a sign-in, and slowing down guessing.

Writers and their password hashes come from kb.toml ``[auth] writers = {name = "hash"}``
and/or the environment ``KB_WRITERS="name:hash,name2:hash2"``. The hash format is the one
of datasette-auth-passwords: ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time

from kb.core.config import KBConfig

PBKDF2_ITERATIONS = 480_000
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def hash_password(password: str, *, salt: str | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode('ascii')}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algorithm, iterations, salt, _ = stored.split("$", 3)
        if algorithm != "pbkdf2_sha256":
            return False
        expected = hash_password(password, salt=salt, iterations=int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected.encode(), stored.encode())


def load_writers(config: KBConfig) -> dict[str, str]:
    """Name -> password hash, from kb.toml ``[auth] writers`` and ``$KB_WRITERS``."""
    writers: dict[str, str] = {}
    auth = config.raw.get("auth") or {}
    table = auth.get("writers") if isinstance(auth, dict) else None
    if isinstance(table, dict):
        writers.update({str(k): str(v) for k, v in table.items()})
    for item in re.split(r"[,\s]+", os.environ.get("KB_WRITERS", "").strip()):
        name, sep, hashed = item.partition(":")
        if sep and name and hashed:
            writers[name] = hashed
    return {k: v for k, v in writers.items() if _NAME_RE.match(k)}


# Roles, each allowed what the ones before it are: a reader reads; a writer logs entries; a
# facilitator also records verdicts and keeps actions and the learning agenda; an admin
# everything. kb.toml ``[auth] roles = { erik = "facilitator" }``; a writer with a password and
# no role of their own is a writer, anyone else a reader.
ROLES = ("reader", "writer", "facilitator", "admin")


def role_of(config: KBConfig, name: str | None) -> str:
    if not name:
        return "reader"
    auth = config.raw.get("auth") or {}
    table = auth.get("roles") if isinstance(auth, dict) else None
    if isinstance(table, dict) and table.get(name) in ROLES:
        return str(table[name])
    return "writer" if name in load_writers(config) else "reader"


def has_role(config: KBConfig, name: str | None, role: str) -> bool:
    """Whether ``name`` may do what ``role`` may (an admin may do what a facilitator may...)."""
    return ROLES.index(role_of(config, name)) >= ROLES.index(role)


def check_login(config: KBConfig, name: str, password: str) -> bool:
    stored = load_writers(config).get(name)
    if stored is None:
        verify_password(password, hash_password("x", iterations=1000))  # similar work either way
        return False
    return verify_password(password, stored)


class LoginThrottle:
    """Failed sign-ins counted per user name and per client address: after ``limit``
    failures of one name (``address_limit`` from one address) within ``window`` seconds,
    that name or address waits until the oldest counted failure is ``window`` old. A success
    clears the name's count. In memory, per server process (it slows guessing down; it is
    not an account lock-out). The address limit is higher: behind a proxy every writer
    shares one address, and one person's typos should not lock everyone out."""
    def __init__(self, limit: int = 5, window: float = 900, clock=None, max_keys: int = 10_000,
                 address_limit: int = 20):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self.address_limit = address_limit
        self.clock = clock or time.monotonic
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(name: str, address: str | None) -> list[str]:
        return [f"name:{name.strip().lower()}"] + ([f"address:{address}"] if address else [])

    def wait_seconds(self, keys: list[str]) -> float:
        """0 when a sign-in may be tried now, else how long until it may."""
        now = self.clock()
        with self._lock:
            waits = []
            for key in keys:
                limit = self._limit(key)
                recent = [t for t in self._failures.get(key, []) if now - t < self.window]
                if len(recent) >= limit:
                    waits.append(recent[-limit] + self.window - now)
            return max(waits, default=0.0)

    def _limit(self, key: str) -> int:
        return self.address_limit if key.startswith("address:") else self.limit

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:  # forget what is past the window
                self._failures = {k: v for k, v in self._failures.items() if now - v[-1] < self.window}
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if now - t < self.window]
                self._failures[key] = (recent + [now])[-self._limit(key):]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(self.keys(name, None)[0], None)

