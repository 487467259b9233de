"""Who may do what: password hashes, roles, a trusted sign-on proxy, all from kb.toml ``[auth]``.

```toml
[auth]
writers = { anna = "pbkdf2_sha256$480000$…" }        # password sign-in (also $KB_WRITERS)
roles = { anna = "writer", erik = "facilitator", eon = "partner" }  # partner, reader (default), writer, facilitator, admin
proxy_header = "X-Remote-User"                       # single sign-on behind a reverse proxy
trusted_proxies = ["127.0.0.1", "10.20.0.0/16"]      # default: loopback when proxy_header is set
```

The hash format is the one of datasette-auth-passwords:
``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>``. :class:`LiveAuth` reads these again
whenever kb.toml changes (a stat per call), so a removed role or password stops working
at once, without a restart; a kb.toml that cannot be read gives no one any role (closed,
not open) until it is fixed.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kb.core import config as config_module
from kb.core.config import KBConfig
from kb.core.errors import ConfigError

PBKDF2_ITERATIONS = 480_000
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")  # the whole name (fullmatch: no final newline)
# Datasette gives an actor named "root" every power (its permission debugger, the _internal
# database with the server's file paths): no one of ours may carry that name
RESERVED_NAMES = ("root",)
# a trusted proxy range this wide (holding public addresses) lets anyone name themselves
WIDE_PREFIX = {4: 16, 6: 48}
LOOPBACK = ("127.0.0.0/8", "::1/128")
FRESH_SECONDS = 2.0
log = logging.getLogger(__name__)

# Roles, each allowed what the ones before it are: a partner (one of the project's external
# partners) reads what is shared with partners; a reader reads everything; a writer logs
# entries; a facilitator also records verdicts and keeps actions and the learning agenda; an
# admin everything. A user with a password and no role of their own is a writer, anyone else
# signed in a reader: partners are named in [auth] roles, never assumed.
ROLES = ("partner", "reader", "writer", "facilitator", "admin")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def iterations_of(stored: str) -> int | None:
    parts = stored.split("$")
    return int(parts[1]) if len(parts) == 4 and parts[0] == "pbkdf2_sha256" and parts[1].isdigit() else None


@functools.lru_cache(maxsize=8)
def _dummy_hash(iterations: int) -> str:
    return hash_password(secrets.token_hex(16), iterations=iterations)


def valid_name(name: str) -> bool:
    """A user name we accept: from the form, kb.toml or the sign-on proxy's header. Never
    ``root`` (in any case), which Datasette treats as its all-powerful administrator."""
    return bool(_NAME_RE.fullmatch(name)) and name.casefold() not in RESERVED_NAMES


def parse_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address (an IPv4 address mapped into IPv6 as the IPv4 one), or None."""
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class AuthSettings:
    """The ``[auth]`` table of one version of kb.toml (plus ``$KB_WRITERS``)."""
    writers: dict[str, str] = field(default_factory=dict)   # name -> password hash
    roles: dict[str, str] = field(default_factory=dict)     # casefolded name -> role
    proxy_header: str | None = None                         # lower case, as ASGI gives headers
    trusted_proxies: tuple[Network, ...] = ()
    closed: bool = False  # kb.toml could not be read: no one has a role, and no one reads as staff
    visitors: str = "public"  # kb.toml [web] visitors: whom a visitor who has not signed in reads as

    @classmethod
    def from_config(cls, config: KBConfig) -> AuthSettings:
        where = config.root / config_module.CONFIG_NAME
        auth = config.raw.get("auth") or {}
        if not isinstance(auth, dict):
            raise ConfigError(f"{where}: [auth] must be a table")
        writers = {str(k): str(v) for k, v in _table(auth, "writers", where).items()}
        for key in ("writers", "roles"):
            for name in _table(auth, key, where):
                if str(name).casefold() in RESERVED_NAMES:
                    raise ConfigError(f"{where}: [auth] {key}: the user name {name!r} is reserved "
                                      "(Datasette gives a user named root every power)",
                                      hint="Give that person another user name.")
        for item in re.split(r"[,\s]+", os.environ.get("KB_WRITERS", "").strip()):
            name, sep, hashed = item.partition(":")
            if sep and name and hashed:
                writers[name] = hashed
        roles = {}
        for name, role in _table(auth, "roles", where).items():
            if role not in ROLES:
                raise ConfigError(f"{where}: [auth] roles: {name} = {role!r} is not a role",
                                  hint="Use one of: " + ", ".join(ROLES) + ".")
            roles[str(name).casefold()] = str(role)
        header = auth.get("proxy_header")
        if header is not None and not (isinstance(header, str) and re.fullmatch(r"[A-Za-z0-9-]{1,64}", header)):
            raise ConfigError(f"{where}: [auth] proxy_header = {header!r} is not a header name",
                              hint='For example proxy_header = "X-Remote-User".')
        proxies = auth.get("trusted_proxies")
        if proxies is None:
            proxies = list(LOOPBACK) if header else []
        elif isinstance(proxies, str):
            proxies = [proxies]
        networks = []
        for value in proxies if isinstance(proxies, list) else [proxies]:
            try:
                networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
            except ValueError:
                raise ConfigError(f"{where}: [auth] trusted_proxies: {value!r} is not an address or network",
                                  hint='For example trusted_proxies = ["127.0.0.1", "10.20.0.0/16"].') from None
        return cls(writers={k: v for k, v in writers.items() if valid_name(k)}, roles=roles,
                   proxy_header=header.lower() if header else None, trusted_proxies=tuple(networks),
                   visitors=config.web.visitors)

    # --- roles ----------------------------------------------------------------------------
    def role_of(self, name: str | None) -> str:
        if not name:
            return "reader"
        role = self.roles.get(name.casefold())
        if role is not None:
            return role
        return "writer" if name in self.writers else "reader"

    def has_role(self, name: str | None, role: str) -> bool:
        """Whether ``name`` may do what ``role`` may (an admin may do what a facilitator may...)."""
        return ROLES.index(self.role_of(name)) >= ROLES.index(role)

    def audience_of(self, name: str | None) -> str:
        """Who ``name`` reads as (:mod:`kb.core.visibility`): a visitor who has not signed in
        as kb.toml ``[web] visitors`` says (``public`` unless set), a partner what is shared
        with partners, staff everything. :func:`kb.core.visibility.visible_to` says which
        visibilities each audience sees."""
        if self.closed:
            return "public"
        if not name:
            return self.visitors
        return "partner" if self.role_of(name) == "partner" else "staff"

    def password_mark(self, name: str) -> str | None:
        """A short digest of ``name``'s password hash: a session started with a password
        carries it and ends when the password is changed or removed."""
        stored = self.writers.get(name)
        return hashlib.sha256(stored.encode()).hexdigest()[:16] if stored else None

    # --- the proxy in front ---------------------------------------------------------------
    def warnings(self) -> list[str]:
        """What is allowed but almost certainly a mistake: a ``trusted_proxies`` range so wide
        that anyone on the Internet may name themselves in ``proxy_header`` (or forge their
        address for the sign-in throttle)."""
        out = []
        for network in self.trusted_proxies:
            if network.prefixlen < WIDE_PREFIX[network.version] and not network.is_private:
                whom = "every address" if network.prefixlen == 0 else f"{network.num_addresses:,} addresses"
                header = self.proxy_header or "the sign-on header"
                out.append(f"[auth] trusted_proxies: {str(network)!r} trusts {whom}, public ones included: "
                           f"anyone who reaches the server may sign in as anyone through {header} and choose "
                           "the address the sign-in throttle counts; list only the proxy's own address "
                           "(or its private network)")
        return out

    def is_trusted_proxy(self, address: str | None) -> bool:
        parsed = parse_address(address) if address else None
        return parsed is not None and any(parsed in network for network in self.trusted_proxies)

    def client_address(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The address of the person at the other end: the peer itself, unless the peer is a
        trusted proxy; then the last address in ``X-Forwarded-For`` that is not a trusted
        proxy (a client can write anything at the start of that header, not at its end)."""
        if not forwarded_for or not self.is_trusted_proxy(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.is_trusted_proxy(hop):
                return str(parse_address(hop) or hop)[:64]
        return hops[0] if hops else peer

    # --- passwords --------------------------------------------------------------------------
    def check_password(self, name: str, password: str) -> bool:
        """True for the right password. An unknown name costs as much as a known one: its
        dummy hash has the iterations of the configured hashes (no timing tells them apart)."""
        stored = self.writers.get(name)
        if stored is None:
            counts = [n for n in (iterations_of(s) for s in self.writers.values()) if n]
            verify_password(password, _dummy_hash(max(counts, default=PBKDF2_ITERATIONS)))
            return False
        return verify_password(password, stored)


def _table(auth: dict, key: str, where: Path) -> dict:
    value = auth.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [auth] {key} must be a table", hint=f'For example {key} = {{ anna = "…" }}.')
    return value


class LiveAuth:
    """The current :class:`AuthSettings` of a knowledge base, read again when kb.toml (or
    ``$KB_WRITERS``) changes. Cheap to ask on every request: one ``stat``. A kb.toml changed
    in the last seconds is read each time (two saves within one tick of the file system's
    clock, of the same size, would look alike)."""
    def __init__(self, root: Path):
        self.path = Path(root) / config_module.CONFIG_NAME
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._settings = AuthSettings()
        self._extra = AuthSettings()  # accounts held in memory only (kb serve --demo-accounts)

    def add_accounts(self, writers: dict[str, str], roles: dict[str, str]) -> None:
        """Accounts that live only as long as this process (never written anywhere): name ->
        password hash, and name -> role. They win over kb.toml's of the same name."""
        with self._lock:
            self._extra = AuthSettings(writers={**self._extra.writers, **writers},
                                       roles={**self._extra.roles, **{k.casefold(): v for k, v in roles.items()}})
            self._key = None  # merge them in at the next request

    def current(self) -> AuthSettings:
        key = self._stamp()
        if key == self._key and key[0] is not None and time.time() - key[0][2] / 1e9 > FRESH_SECONDS:
            return self._settings
        with self._lock:
            if key != self._key or key[0] is None or time.time() - key[0][2] / 1e9 <= FRESH_SECONDS:
                try:
                    read = AuthSettings.from_config(config_module.load(self.path.parent))
                    self._settings = dataclasses.replace(
                        read, writers={**read.writers, **self._extra.writers},
                        roles={**read.roles, **self._extra.roles})
                    for warning in self._settings.warnings():
                        log.warning("%s: warning: %s", self.path, warning)
                except ConfigError as exc:
                    log.error("sign-in closed until kb.toml is fixed: %s", exc)
                    self._settings = AuthSettings(closed=True)  # no one has a role or a password
                self._key = key
            return self._settings

    def _stamp(self) -> tuple:
        try:
            st = os.stat(self.path)
            stat = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        except OSError:
            stat = None
        return stat, os.environ.get("KB_WRITERS", "")


# --- accounts for trying the service on one's own machine ----------------------------------------
DEMO_ACCOUNTS = (("lisa", "writer"), ("omar", "facilitator"))  # the README walks through a session with them


@dataclass(frozen=True)
class DemoAccount:
    name: str
    role: str
    password: str  # new on every start, shown once, never written anywhere


def demo_accounts(host: str) -> list[DemoAccount]:
    """A writer and a facilitator with fresh random passwords, for ``kb serve --demo-accounts``
    (``make demo``): only on a loopback address, so they never open a server to a network."""
    address = parse_address(host) if host != "localhost" else parse_address("127.0.0.1")
    if address is None or not address.is_loopback:
        raise ConfigError(f"--demo-accounts only on this machine's own address, not {host}",
                          hint="Serve on 127.0.0.1 (the default), or add real users with `kb user add`.")
    return [DemoAccount(name, role, secrets.token_urlsafe(9)) for name, role in DEMO_ACCOUNTS]


# --- from kb.toml as loaded ---------------------------------------------------------------------
def load_writers(config: KBConfig) -> dict[str, str]:
    """Name -> password hash, from kb.toml ``[auth] writers`` and ``$KB_WRITERS``."""
    return AuthSettings.from_config(config).writers
