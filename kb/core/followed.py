"""Where the publications of other cities that a knowledge base follows are kept: one folder
each under ``followed/``, never mixed with our own entries::

    followed/lund/source.json     what we follow: its name, address, since when (kb follow)
    followed/lund/index.json      the last good copy of its manifest   (read-only, kb sync)
    followed/lund/lessons.jsonl   the last good copy of its lessons    (read-only, kb sync)
    followed/lund/fetch.json      when it was fetched, its ETag and Last-Modified, the last problem

The folder's name is made from the name we give the source (``--name Lund``), never from
anything the publication says: nothing a publication holds becomes a path.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kb.core.config import KBConfig
from kb.core.errors import KBError

FOLLOWED_DIR = "followed"
SOURCE_FILE = "source.json"
FETCH_FILE = "fetch.json"
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MAX_NAME = 80


@dataclass
class FetchState:
    """What the last ``kb sync`` of a source found (``fetch.json``)."""
    fetched: str | None = None  # the last time a good copy was confirmed (fetched, or unchanged)
    checked: str | None = None  # the last attempt
    error: str | None = None  # what went wrong at the last attempt (None when it went well)
    etag: dict[str, str] = field(default_factory=dict)  # file -> ETag of our copy
    last_modified: dict[str, str] = field(default_factory=dict)  # file -> Last-Modified of our copy

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Source:
    """One followed publication."""
    slug: str
    name: str
    url: str
    since: str  # when it was first followed (ISO date)
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name

    def fetch_state(self) -> FetchState:
        try:
            data = json.loads(self.path(FETCH_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return FetchState()
        if not isinstance(data, dict):
            return FetchState()
        known = {k: v for k, v in data.items() if k in FetchState.__dataclass_fields__}
        state = FetchState(**known)
        state.etag = dict(state.etag) if isinstance(state.etag, dict) else {}
        state.last_modified = dict(state.last_modified) if isinstance(state.last_modified, dict) else {}
        return state

    def to_dict(self) -> dict:
        return {"name": self.name, "slug": self.slug, "url": self.url, "since": self.since}


def followed_dir(config: KBConfig) -> Path:
    return config.root / FOLLOWED_DIR


def load_sources(config: KBConfig) -> list[Source]:
    """Every followed publication, by name. A folder without a readable ``source.json`` is
    named with what to do."""
    root = followed_dir(config)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        path = folder / SOURCE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            source = Source(slug=folder.name, name=str(data["name"]), url=str(data["url"]), since=str(data["since"]),
                            folder=folder)
        except (OSError, ValueError, KeyError, TypeError):
            raise KBError(f"{path}: not a followed source (name, url, since)",
                          hint=f"Follow it again with `kb follow URL --name NAME`, or remove {folder}.") from None
        if not SLUG_RE.fullmatch(folder.name):
            raise KBError(f"{folder}: not a folder `kb follow` makes", hint=f"Remove {folder}.")
        out.append(source)
    return sorted(out, key=lambda s: s.name.casefold())


def find_source(config: KBConfig, name: str) -> Source:
    """The followed source called ``name`` (its name or folder, without regard to case)."""
    wanted = name.strip().casefold()
    sources = load_sources(config)
    for source in sources:
        if wanted in (source.name.casefold(), source.slug):
            return source
    known = ", ".join(s.name for s in sources) or "none yet"
    raise KBError(f"no followed source called {name!r}", hint=f"Followed: {known}. See `kb follow`.")
