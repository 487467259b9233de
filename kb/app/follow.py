"""Following other cities: ``kb follow URL --name Lund`` remembers a publication (another
knowledge base's ``/-/kb/open/``, or a folder written by ``kb publish``), ``kb sync`` fetches
each one and keeps its last good copy under ``followed/<name>/`` (:mod:`kb.core.followed`),
then updates the index: a lesson the publication no longer holds (withdrawn, tombstoned) is
gone from the pages, the SQL tables and the vectors after that sync.

A broken or hostile publication cannot harm the knowledge base: every file is read within a
size and a time limit (:mod:`kb.app.fetch`); the manifest and every lesson are checked against
the JSON Schemas before anything is kept, and the lessons against the manifest's SHA-256;
nothing it holds becomes a path; its text stays plain text on our pages. When anything is
wrong, nothing of the new version is taken and the last good copy stays, and the report names
the source, the problem and what to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

from kb.app.documents import slugify
from kb.app.fetch import FetchError, fetch, is_web
from kb.app.published_state import now_text, state_path
from kb.core.characters import has_control_characters
from kb.core.config import KBConfig
from kb.core.errors import KBError
from kb.core.files import atomic_write_bytes, atomic_write_text, write_lock
from kb.core.followed import (
    FETCH_FILE,
    MAX_NAME,
    SLUG_RE,
    SOURCE_FILE,
    FetchState,
    Source,
    find_source,
    followed_dir,
    load_sources,
)
from kb.core.publication import (
    LESSONS_FILE,
    MANIFEST_FILE,
    MAX_LESSONS,
    MAX_LESSONS_BYTES,
    MAX_LINE_BYTES,
    MAX_MANIFEST_BYTES,
    PublicationProblem,
    check_lesson,
    check_manifest,
)
from search.filters import OWN_SOURCE

READ_ONLY = 0o444


@dataclass
class SyncReport:
    """What one sync of one source did."""
    name: str
    url: str
    status: str  # updated | unchanged | failed
    lessons: int = 0  # in the copy kept now
    added: list[str] = field(default_factory=list)  # their ids
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    cause: str | None = None  # of a failure: "address" (not reached), "publication" (what it holds), "followed"
    contact: str = ""  # the publisher's e-mail, as the publication gives it
    fetched: str | None = None  # when the copy kept now was fetched (or confirmed unchanged)
    organisation: str = ""
    licence: str = ""

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# --- following ------------------------------------------------------------------------------------
def follow(config: KBConfig, url: str, name: str, *, today: dt.date | None = None) -> Source:
    """Remember a publication to follow under ``name`` (fetched by the next ``kb sync``).
    Following the same address under the same name again changes nothing."""
    name = " ".join(str(name).split())
    if not name or len(name) > MAX_NAME or has_control_characters(name):
        raise KBError(f"--name {name!r}: give the source a short name, e.g. --name Lund",
                      hint=f"At most {MAX_NAME} characters; it is shown beside every lesson from it.")
    slug = slugify(name, 40)
    if not SLUG_RE.fullmatch(slug):
        raise KBError(f"--name {name!r}: needs a letter or digit", hint="For example --name Lund.")
    if slug == OWN_SOURCE:
        raise KBError(f"--name {name!r}: '{OWN_SOURCE}' means our own lessons (--source {OWN_SOURCE})",
                      hint="Name the source after the city or organisation, e.g. --name Lund.")
    location = normalise_location(url)
    with write_lock(config.state_dir):
        for source in load_sources(config):
            if source.slug == slug:
                if source.url == location:
                    return source
                raise KBError(f"{source.name} is already followed, from {source.url}",
                              hint=f"`kb unfollow {source.name}` first, or choose another --name.")
            if source.url == location:
                raise KBError(f"{location} is already followed, as {source.name}",
                              hint=f"`kb unfollow {source.name}` first to follow it under another name.")
        folder = followed_dir(config) / slug
        since = (today or dt.date.today()).isoformat()
        data = {"name": name, "url": location, "since": since}
        atomic_write_text(folder / SOURCE_FILE, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return Source(slug=slug, name=name, url=location, since=since, folder=folder)


def start_following(kb, url: str, name: str, *, now: dt.datetime | None = None, progress=None):
    """``kb follow``: remember the publication and fetch it at once (then index it). A new
    source whose first fetch fails is not kept: the error says why, the hint what to do."""
    known = {s.slug for s in load_sources(kb.config)}
    source = follow(kb.config, url, name)
    report = sync_source(kb.config, source, now=now)
    if report.status == "failed" and source.slug not in known:
        with write_lock(kb.config.state_dir):
            shutil.rmtree(source.folder, ignore_errors=True)
        if report.cause == "publication":
            hint = ("Nothing was taken. Tell the publisher" + (f" ({report.contact})" if report.contact else "")
                    + ", then `kb follow` again once it is fixed.")
        elif report.cause == "followed":
            hint = report.hint
        else:
            hint = "Check the address: a knowledge base's /-/kb/open/, or a folder `kb publish` wrote."
        raise KBError(f"not followed: {report.error}", hint=hint)
    return source, [report], kb.index(progress=progress)


def unfollow(config: KBConfig, name: str) -> Source:
    """Stop following ``name``: its folder (and copy) goes; the next index update removes its
    lessons from the index."""
    with write_lock(config.state_dir):
        source = find_source(config, name)
        shutil.rmtree(source.folder)
    return source


def normalise_location(url: str) -> str:
    """A publication's address as we keep it: an http(s) address ending in ``/``, or the
    absolute path of a published folder. ``.../index.json`` means its folder."""
    value = str(url).strip()
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if parts.username or parts.password:
            raise KBError(f"{value}: an address with a user name or password in it",
                          hint="Follow the publication's public address; it needs no sign-in.")
        if not parts.netloc:
            raise KBError(f"{value}: no host in the address", hint="For example https://lund.example.se/-/kb/open/")
        base = value.split("#", 1)[0]
        if base.endswith("/" + MANIFEST_FILE):
            base = base[: -len(MANIFEST_FILE)]
        return base if base.endswith("/") else base + "/"
    if parts.scheme == "file":
        value = url2pathname(parts.path)
    elif parts.scheme and len(parts.scheme) > 1:
        raise KBError(f"{value}: only http(s) addresses and folders can be followed",
                      hint="Give the publication's address (…/-/kb/open/) or the folder `kb publish -o` wrote.")
    path = Path(value).expanduser().resolve()
    if path.name == MANIFEST_FILE:
        path = path.parent
    if not (path / MANIFEST_FILE).is_file():
        raise KBError(f"{path}: no {MANIFEST_FILE} here, so not a published folder",
                      hint="Give the folder `kb publish -o DIR` wrote, or the publication's web address.")
    return str(path)


def location_of(source: Source, name: str) -> str:
    """Where one file of a source's publication is read (``name`` is one we chose or checked)."""
    return urljoin(source.url, name) if is_web(source.url) else os.path.join(source.url, name)


# --- syncing --------------------------------------------------------------------------------------
def sync_sources(config: KBConfig, names=(), *, now: dt.datetime | None = None) -> list[SyncReport]:
    """Fetch every followed publication (or those ``names``) and keep what is new; one that
    fails keeps its last good copy and never stops the others. The index is not touched:
    :func:`sync` does both."""
    sources = [find_source(config, n) for n in names] if names else load_sources(config)
    return [sync_source(config, source, now=now) for source in sources]


def sync(kb, names=(), *, now: dt.datetime | None = None, progress=None):
    """``kb sync``: fetch, then bring the index up to date (also when nothing changed: a
    source unfollowed since leaves it). Returns the reports and the index's report."""
    reports = sync_sources(kb.config, names, now=now)
    return reports, kb.index(progress=progress)


def sync_source(config: KBConfig, source: Source, *, now: dt.datetime | None = None) -> SyncReport:
    moment = now_text(now)
    state = source.fetch_state()
    state.checked = moment
    report = SyncReport(name=source.name, url=source.url, status="unchanged")
    old_records = _copy_records(source)
    manifest = None
    try:
        manifest_file = fetch(location_of(source, MANIFEST_FILE), max_bytes=MAX_MANIFEST_BYTES,
                              etag=_if_copy(source, state.etag, MANIFEST_FILE),
                              last_modified=_if_copy(source, state.last_modified, MANIFEST_FILE))
        if manifest_file.status == 304:
            manifest = _read_json(source.path(MANIFEST_FILE))
            records, lessons = old_records, None
        else:
            manifest = _parse_manifest(manifest_file.content)
            _refuse_own(config, manifest)
            _refuse_twice(config, source, manifest)
            records, lessons = _lessons(source, state, manifest, old_records)
    except (FetchError, PublicationProblem) as exc:
        state.error = str(exc)
        _save_state(source, state)
        report.status = "failed"
        report.error = str(exc)
        report.hint = getattr(exc, "hint", None) or _hint(exc, source, manifest)
        report.contact = _contact(manifest) or _last_contact(source)
        report.cause = ("address" if isinstance(exc, FetchError) else
                        "followed" if isinstance(exc, AlreadyFollowed) else "publication")
        report.lessons, report.fetched = len(old_records), state.fetched
        return report
    with write_lock(config.state_dir):
        if manifest_file.status == 200:
            if lessons is not None:
                _keep(source.path(LESSONS_FILE), lessons)
            _keep(source.path(MANIFEST_FILE), manifest_file.content)
            _remember(state, MANIFEST_FILE, manifest_file)
        state.fetched, state.error = moment, None
        _save_state(source, state)
    report.lessons, report.fetched = len(records), moment
    report.organisation, report.licence = str(manifest.get("organisation", "")), str(manifest.get("licence", ""))
    report.added = sorted(set(records) - set(old_records))
    report.changed = sorted(i for i in set(records) & set(old_records) if records[i] != old_records[i])
    report.withdrawn = sorted(set(old_records) - set(records))
    if manifest_file.status == 200 and (report.added or report.changed or report.withdrawn or lessons is not None):
        report.status = "updated"
    return report


def _lessons(source: Source, state: FetchState, manifest: dict, old_records: dict[str, str]):
    """The publication's lessons (id -> updated) and the bytes to keep (None when our copy is
    already the one the manifest describes)."""
    described = manifest["lessons"]
    copy = source.path(LESSONS_FILE)
    if copy.is_file() and hashlib.sha256(copy.read_bytes()).hexdigest() == described["sha256"]:
        records = old_records
        lessons = None
    else:
        if described["bytes"] > MAX_LESSONS_BYTES:
            raise PublicationProblem(f"{MANIFEST_FILE} describes {described['file']} of {described['bytes']:,} bytes; "
                                     f"at most {MAX_LESSONS_BYTES:,} are read")
        lessons = fetch(location_of(source, described["file"]), max_bytes=MAX_LESSONS_BYTES).content
        if len(lessons) != described["bytes"] or hashlib.sha256(lessons).hexdigest() != described["sha256"]:
            what = "size" if len(lessons) != described["bytes"] else "SHA-256"
            raise PublicationProblem(f"{described['file']} is not the file {MANIFEST_FILE} describes (its {what} "
                                     "differs): it changed while it was read, or it is damaged")
        records = _check_lessons(lessons, described)
    withdrawn = {w["ref"] for w in manifest["withdrawn"]}
    if withdrawn:  # a tombstone wins over a line that still holds the lesson (new, or in our copy)
        current = lessons if lessons is not None else copy.read_bytes()
        lines = current.splitlines(keepends=True)
        kept = [line for line in lines if json.loads(line)["ref"] not in withdrawn]
        if len(kept) != len(lines):
            lessons = b"".join(kept)
            records = _check_lessons(lessons, None)
    return records, lessons


def _check_lessons(content: bytes, described: dict | None) -> dict[str, str]:
    """Every line a lesson of the format, ids unique; id -> its ``updated``."""
    records: dict[str, str] = {}
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) > MAX_LESSONS:
        raise PublicationProblem(f"{LESSONS_FILE} holds {len(lines):,} lessons; at most {MAX_LESSONS:,} are read")
    for number, raw in enumerate(lines, start=1):
        where = f"{LESSONS_FILE} line {number}"
        if len(raw) > MAX_LINE_BYTES:
            raise PublicationProblem(f"{where}: longer than {MAX_LINE_BYTES:,} bytes")
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise PublicationProblem(f"{where}: not UTF-8 text") from None
        except ValueError as exc:
            raise PublicationProblem(f"{where}: not JSON ({exc})") from None
        check_lesson(record, where)
        if record["id"] in records:
            raise PublicationProblem(f"{where}: the id {record['id']!r} appears twice")
        records[record["id"]] = record["updated"]
    if described is not None and described["count"] != len(records):
        raise PublicationProblem(f"{MANIFEST_FILE} says {described['count']} lessons, {LESSONS_FILE} holds "
                                 f"{len(records)}")
    return records


def _parse_manifest(content: bytes) -> dict:
    try:
        data = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise PublicationProblem(f"{MANIFEST_FILE}: not UTF-8 text") from None
    except ValueError as exc:
        raise PublicationProblem(f"{MANIFEST_FILE}: not JSON ({exc})") from None
    check_manifest(data)
    return data


def _refuse_own(config: KBConfig, manifest: dict) -> None:
    """A knowledge base does not follow its own publication (every lesson would be there twice)."""
    path = state_path(config.root)
    if path.is_file() and manifest["id"] in path.read_text(encoding="utf-8").split("\n", 1)[0]:
        raise PublicationProblem("this is this knowledge base's own publication")


def _refuse_twice(config: KBConfig, source: Source, manifest: dict) -> None:
    """One publication, one source: the same one followed under another address (a mirror,
    its folder and its web address) would put every lesson there twice."""
    for other in load_sources(config):
        if other.slug == source.slug:
            continue
        try:
            kept = _read_json(other.path(MANIFEST_FILE))
        except PublicationProblem:
            continue
        if kept.get("id") == manifest["id"]:
            raise AlreadyFollowed(other)


class AlreadyFollowed(PublicationProblem):
    """The publication is followed already, under another name and address."""

    def __init__(self, other: Source):
        super().__init__(f"this publication is already followed as {other.name} (from {other.url})")
        self.hint = f"Keep following it as {other.name}, or `kb unfollow {other.name}` first."


def _copy_records(source: Source) -> dict[str, str]:
    """The lessons of the copy we keep (id -> updated); nothing when there is none yet."""
    path = source.path(LESSONS_FILE)
    if not path.is_file():
        return {}
    out = {}
    for raw in path.read_bytes().splitlines():
        try:
            record = json.loads(raw)
            out[str(record["id"])] = str(record["updated"])
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PublicationProblem(f"our copy of {MANIFEST_FILE} cannot be read; it is fetched again next time") from None
    return data if isinstance(data, dict) else {}


def _if_copy(source: Source, values: dict[str, str], name: str) -> str | None:
    """A validator for a conditional request, only while we have the copy it stands for."""
    return values.get(name) if source.path(name).is_file() and source.path(LESSONS_FILE).is_file() else None


def _remember(state: FetchState, name: str, fetched) -> None:
    for store, value in ((state.etag, fetched.etag), (state.last_modified, fetched.last_modified)):
        if value:
            store[name] = value
        else:
            store.pop(name, None)


def _keep(path: Path, content: bytes) -> None:
    """Write a copy whole, then rename it into place, and mark it read-only."""
    atomic_write_bytes(path, content)
    os.chmod(path, READ_ONLY)


def _save_state(source: Source, state: FetchState) -> None:
    atomic_write_text(source.path(FETCH_FILE), json.dumps(state.to_dict(), ensure_ascii=False, indent=2) + "\n")


def _contact(manifest) -> str:
    contact = manifest.get("contact") if isinstance(manifest, dict) else None
    return str(contact.get("email") or "") if isinstance(contact, dict) else ""


def _last_contact(source: Source) -> str:
    try:
        return _contact(_read_json(source.path(MANIFEST_FILE)))
    except PublicationProblem:
        return ""


def _hint(exc: Exception, source: Source, manifest=None) -> str:
    contact = _contact(manifest) or _last_contact(source)
    kept = "The last good copy is kept." if source.path(LESSONS_FILE).is_file() else "Nothing is kept yet."
    if isinstance(exc, FetchError):
        return f"{kept} Check the address (`kb follow` lists it) and the network, then `kb sync` again."
    return (f"{kept} Nothing of the new version was taken. Tell the publisher"
            + (f" ({contact})" if contact else "") + "; `kb sync` takes it once it is fixed.")
