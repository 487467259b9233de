"""What the open publication has published before, in ``published.tsv`` at the knowledge base
root: the memory that turns a lesson that is no longer public into a tombstone, so that every
follower removes it.

One line per lesson ever published, by its permanent ``ref`` (a name-based UUID, see
:func:`kb.core.publication.lesson_ref`) and never by its id or title: a lesson erased with
``kb forget`` leaves no words here, only the ref its followers need to remove it::

    # kb publish: publication urn:uuid:… since 2026-05-04T10:00:00Z; ref<TAB>published<TAB>…
    urn:uuid:…	2026-05-04T10:00:00Z	2026-05-06T08:12:00Z	3f1c…
    urn:uuid:…	2026-05-04T10:00:00Z	2026-05-04T10:00:00Z	9a0b…	2026-06-01T07:00:00Z

It lives beside the entries, not in the index (``kb index --rebuild`` never forgets what was
published), and goes into backups. Written whole, then renamed, under the write lock.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from kb.core.errors import KBError
from kb.core.files import atomic_write_text
from kb.core.publication import REF_RE

STATE_FILE = "published.tsv"
HEADER = "# kb publish: publication {id} since {since}; ref<TAB>published<TAB>updated<TAB>sha256<TAB>withdrawn"
_HEADER_RE = re.compile(r"# kb publish: publication (urn:uuid:[0-9a-f-]{36}) since (\S+);")


@dataclass(frozen=True)
class Published:
    ref: str
    published: str  # RFC 3339, UTC
    updated: str
    sha256: str  # of the lesson's record as last published (without its dates)
    withdrawn: str = ""  # when it stopped being public ("" while it is)

    def line(self) -> str:
        return "\t".join((self.ref, self.published, self.updated, self.sha256, self.withdrawn)).rstrip("\t")


@dataclass
class PublishedState:
    publication_id: str  # urn:uuid:…, made once, kept for ever
    since: str  # when it was made (RFC 3339, UTC)
    lessons: dict[str, Published]  # by ref

    def update(self, current: dict[str, str], now: str) -> bool:
        """Bring the memory up to date with ``current`` (ref -> sha256 of what is public now):
        new lessons are published now, changed ones updated now, lessons gone since are
        withdrawn now, and a withdrawn lesson that is public again is published anew.
        Returns True when anything changed."""
        changed = False
        for ref, digest in current.items():
            known = self.lessons.get(ref)
            if known is None:
                self.lessons[ref] = Published(ref, now, now, digest)
            elif known.withdrawn or known.sha256 != digest:
                self.lessons[ref] = replace(known, updated=now, sha256=digest, withdrawn="")
            else:
                continue
            changed = True
        for ref, known in list(self.lessons.items()):
            if ref not in current and not known.withdrawn:
                self.lessons[ref] = replace(known, withdrawn=now)
                changed = True
        return changed

    @property
    def withdrawn(self) -> list[Published]:
        return sorted((p for p in self.lessons.values() if p.withdrawn), key=lambda p: (p.withdrawn, p.ref))

    def text(self) -> str:
        lines = [HEADER.format(id=self.publication_id, since=self.since)]
        lines += [p.line() for p in sorted(self.lessons.values(), key=lambda p: p.ref)]
        return "\n".join(lines) + "\n"


def state_path(root: Path) -> Path:
    return Path(root) / STATE_FILE


def load_state(root: Path, now: str | None = None) -> PublishedState:
    """The memory of what was published (a new, empty one with a new publication id, made
    ``now``, when the file does not exist yet). A damaged line names the file and the line."""
    path = state_path(root)
    if not path.is_file():
        return PublishedState(f"urn:uuid:{uuid.uuid4()}", now or now_text(), {})
    publication_id = since = None
    lessons: dict[str, Published] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.startswith("#"):
            header = _HEADER_RE.match(raw)
            if header and REF_RE.fullmatch(header.group(1)) and _is_time(header.group(2)):
                publication_id, since = header.group(1), header.group(2)
            continue
        if not raw.strip():
            continue
        parts = raw.split("\t")
        if len(parts) not in (4, 5) or not REF_RE.fullmatch(parts[0]) or not all(_is_time(p) for p in parts[1:3]) \
                or (len(parts) == 5 and parts[4] and not _is_time(parts[4])):
            raise KBError(f"{path}:{number}: expected ref, published, updated, sha256[, withdrawn] separated by tabs",
                          hint="This file is written by kb publish: restore it from a backup, or delete the line "
                          "(a deleted line's lesson is no longer withdrawn from followers).")
        lessons[parts[0]] = Published(*parts[:4], parts[4] if len(parts) == 5 else "")
    if publication_id is None or since is None:
        raise KBError(f"{path}:1: the first line must name the publication "
                      "(# kb publish: publication urn:uuid:… since <time>; …)",
                      hint="Restore the file from a backup; a new publication id would make every follower "
                      "see every lesson as new.")
    return PublishedState(publication_id, since, lessons)


def save_state(root: Path, state: PublishedState) -> None:
    """Write the memory (the caller holds the write lock)."""
    atomic_write_text(state_path(root), state.text())


def now_text(now: dt.datetime | None = None) -> str:
    """An RFC 3339 time in UTC, to the second."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _is_time(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
