"""Accounts for the web pages (``kb user add|list|remove``): a user name, a role, a password
hash and a display name, kept in kb.toml's ``[auth]`` table. kb.toml is edited with tomlkit,
so its comments, order and everything else stay as written; the new text is checked with
the same rules the server uses before it replaces the file (whole, then renamed).

```toml
[auth]
roles = { anna = "writer", erik = "facilitator" }

[auth.writers]                      # password hashes (kb user add writes them)
anna = "pbkdf2_sha256$480000$..."

[auth.names]                        # how a person is named to others (feeds)
anna = "Anna Lind"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import tomlkit
from tomlkit.items import InlineTable, Table

from kb.app.auth import ROLES, AuthSettings, hash_password, valid_name
from kb.core import audit
from kb.core import config as config_module
from kb.core.config import KBConfig
from kb.core.errors import ConfigError, KBError
from kb.core.files import atomic_write_text, write_lock

MIN_PASSWORD = 10  # characters: long enough to resist guessing at the sign-in's pace
MAX_DISPLAY_NAME = 100


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password: bool  # signs in with a password (else only through the sign-on proxy)
    display_name: str | None = None
    from_environment: bool = False  # its password comes from $KB_WRITERS, not kb.toml

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "password": self.password,
                "display_name": self.display_name, "from_environment": self.from_environment}


def display_names(config: KBConfig) -> dict[str, str]:
    """User name -> the name others see (``[auth] names``); none for most users."""
    auth = config.raw.get("auth") or {}
    names = auth.get("names") if isinstance(auth, dict) else None
    return {str(k): " ".join(str(v).split()) for k, v in (names or {}).items()} if isinstance(names, dict) else {}


def list_accounts(config: KBConfig) -> list[Account]:
    """Everyone with a password or a role, by name."""
    settings = AuthSettings.from_config(config)
    auth = config.raw.get("auth") or {}
    in_file = set((auth.get("writers") or {}) if isinstance(auth, dict) else ())
    shown = display_names(config)
    role_names = {name.casefold(): name for name in (auth.get("roles") or {})} if isinstance(auth, dict) else {}
    names = set(settings.writers) | {role_names.get(key, key) for key in settings.roles}
    return [Account(name=name, role=settings.role_of(name), password=name in settings.writers,
                    display_name=shown.get(name), from_environment=name in settings.writers and name not in in_file)
            for name in sorted(names, key=str.casefold)]


def add_account(config: KBConfig, name: str, *, role: str = "writer", password: str | None = None,
                display_name: str | None = None, who: str | None = None) -> Account:
    """Add (or change) a user: their role, their password (hashed here; None: no password,
    the sign-on proxy signs them in) and the name others see. Anyone signed in with an old
    password is signed out by the change (the server compares the hash)."""
    if not valid_name(name):
        raise KBError(f"{name!r} is not a user name",
                      hint="Use ASCII letters, digits and . _ @ - (at most 128, starting with a letter or digit).")
    if role not in ROLES:
        raise KBError(f"{role!r} is not a role", hint="Use one of: " + ", ".join(ROLES) + ".")
    if password is not None and len(password) < MIN_PASSWORD:
        raise KBError(f"the password is {len(password)} characters long; at least {MIN_PASSWORD}",
                      hint="A few words in a row make a long password that is easy to remember.")
    display_name = " ".join((display_name or "").split()) or None
    if display_name and len(display_name) > MAX_DISPLAY_NAME:
        raise KBError(f"the display name is longer than {MAX_DISPLAY_NAME} characters")
    hashed = hash_password(password) if password is not None else None

    def change(auth: Table) -> None:
        _entry(auth, "roles", inline=True)[name] = role
        if hashed is not None:
            _entry(auth, "writers")[name] = hashed
        else:
            _drop(auth, "writers", name)
        if display_name:
            _entry(auth, "names")[name] = display_name

    _edit(config, change)
    audit.record(config.state_dir, who, "user.add", path=config_module.CONFIG_NAME, name=name, role=role)
    return next(a for a in list_accounts(config_module.load(config.root)) if a.name == name)


def remove_account(config: KBConfig, name: str, *, who: str | None = None) -> Account:
    """Take a user out of ``[auth]`` (password, role, display name): their sessions end."""
    current = next((a for a in list_accounts(config) if a.name == name), None)
    if current is None:
        raise KBError(f"no user {name!r} in kb.toml", hint="List them with `kb user list`.")
    if current.from_environment:
        raise KBError(f"{name}'s password comes from $KB_WRITERS, not kb.toml",
                      hint="Remove it there (and restart the server).")

    def change(auth: Table) -> None:
        for key in ("writers", "roles", "names"):
            _drop(auth, key, name)

    _edit(config, change)
    audit.record(config.state_dir, who, "user.remove", path=config_module.CONFIG_NAME, name=name)
    return current


def _edit(config: KBConfig, change) -> None:
    """Apply ``change`` to kb.toml's [auth] table, check the result as the server would read
    it, and replace the file whole, under the write lock."""
    path = config.root / config_module.CONFIG_NAME
    with write_lock(config.state_dir):
        try:
            document = tomlkit.parse(path.read_text(encoding="utf-8"))
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"{path}: {exc}", hint="Fix the TOML syntax in kb.toml first.") from None
        auth = document.get("auth")
        if auth is None:
            auth = tomlkit.table()
            document.add("auth", auth)
        elif not isinstance(auth, Table):
            raise ConfigError(f"{path}: [auth] must be a table")
        change(auth)
        text = tomlkit.dumps(document)
        data = tomllib.loads(text)  # what the server will read: checked before it lands
        AuthSettings.from_config(KBConfig(root=config.root, raw=data))
        atomic_write_text(path, text)  # a new file: the server sees the change at its next request


def _entry(auth: Table, key: str, *, inline: bool = False):
    """``auth[key]`` as a table to write names into: as it is in the file, or new (a short
    inline table for roles, a table of its own for hashes and names)."""
    value = auth.get(key)
    if value is None:
        value = tomlkit.inline_table() if inline else tomlkit.table()
        auth[key] = value
    elif not isinstance(value, Table | InlineTable):
        raise ConfigError(f"kb.toml: [auth] {key} must be a table")
    return value


def _drop(auth: Table, key: str, name: str) -> None:
    value = auth.get(key)
    if isinstance(value, Table | InlineTable):
        for existing in [k for k in value if k == name or (key == "roles" and k.casefold() == name.casefold())]:
            del value[existing]
        if not value and isinstance(value, Table):
            del auth[key]
