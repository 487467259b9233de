"""The open publication's format, shared by the publisher (``kb publish``, ``/-/kb/open/``)
and its followers (``kb follow``, ``kb sync``): file names, versions, limits, and the check of
a manifest and of each lesson against the JSON Schemas in ``schema/`` (shipped with the
package as ``kb/schema``).

A publication is a folder of static files::

    index.json                   the manifest (kb-publication/1.x): who, licence, contact,
                                 the lessons file with its SHA-256, the withdrawn lessons
    lessons.jsonl                one lesson a line (kb-lesson/1.x)
    feed.atom                    the same lessons as Atom, withdrawn ones as RFC 6721 tombstones
    catalog.rdf                  the dataset described in DCAT-AP-SE (RDF/XML), for Sveriges dataportal
    kb-lesson-1.schema.json      the schemas, so anyone can check the files without this program
    kb-publication-1.schema.json

A follower reads ``index.json`` first and the lessons only when it changed; a major version
it does not know is refused by name. Minor versions only add fields, which a reader ignores.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import uuid

import jsonschema
from jsonschema import Draft202012Validator

LESSON_FORMAT = "kb-lesson"
MANIFEST_FORMAT = "kb-publication"
MAJOR = 1
VERSION = "1.0"
LESSON_SCHEMA = f"{LESSON_FORMAT}/{VERSION}"
MANIFEST_SCHEMA = f"{MANIFEST_FORMAT}/{VERSION}"
LESSON_SCHEMA_FILE = f"{LESSON_FORMAT}-{MAJOR}.schema.json"
MANIFEST_SCHEMA_FILE = f"{MANIFEST_FORMAT}-{MAJOR}.schema.json"
SCHEMA_FILES = (LESSON_SCHEMA_FILE, MANIFEST_SCHEMA_FILE)

MANIFEST_FILE = "index.json"
LESSONS_FILE = "lessons.jsonl"
FEED_FILE = "feed.atom"
CATALOG_FILE = "catalog.rdf"
FILES = (MANIFEST_FILE, LESSONS_FILE, FEED_FILE, CATALOG_FILE, *SCHEMA_FILES)
MEDIA_TYPES = {
    MANIFEST_FILE: "application/json",
    LESSONS_FILE: "application/jsonl",
    FEED_FILE: "application/atom+xml",
    CATALOG_FILE: "application/rdf+xml",
    LESSON_SCHEMA_FILE: "application/schema+json",
    MANIFEST_SCHEMA_FILE: "application/schema+json",
}

# What a follower accepts at most: a broken or hostile publication cannot fill the disk or
# hold a sync for ever (kb.app.fetch enforces the sizes and the time while it reads).
MAX_MANIFEST_BYTES = 2_000_000
MAX_LESSONS_BYTES = 50_000_000
MAX_LINE_BYTES = 1_000_000
MAX_LESSONS = 20_000
MAX_WITHDRAWN = 100_000

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")  # as an entry id (fullmatch: no newline)
FILE_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
REF_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FOLLOWED_SEPARATOR = ":"  # a followed lesson's local id: "<source>:<its id>" (own ids never hold ':')


class PublicationProblem(ValueError):
    """What is wrong with a manifest or a lesson, in words a person can act on."""


@functools.cache
def schema(name: str) -> dict:
    """One of the JSON Schemas shipped with the package (``schema/`` in the repository)."""
    if name not in SCHEMA_FILES:
        raise KeyError(name)
    return json.loads((importlib.resources.files("kb") / "schema" / name).read_text(encoding="utf-8"))


def schema_bytes(name: str) -> bytes:
    return (importlib.resources.files("kb") / "schema" / name).read_bytes()


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def lesson_ref(publication_id: str, lesson_id: str) -> str:
    """A lesson's permanent identifier: a name-based UUID of the publication and its id."""
    namespace = uuid.UUID(publication_id.removeprefix("urn:uuid:"))
    return f"urn:uuid:{uuid.uuid5(namespace, lesson_id)}"


def major_of(value: str, fmt: str) -> int | None:
    """The major version in ``"<fmt>/<major>.<minor>"``, or None when it is not that format."""
    match = re.fullmatch(rf"{re.escape(fmt)}/(\d+)\.(\d+)", value or "")
    return int(match.group(1)) if match else None


def check_manifest(data) -> None:
    """Raise :class:`PublicationProblem` when ``data`` is not a manifest this program reads."""
    if not isinstance(data, dict):
        raise PublicationProblem("index.json is not a JSON object")
    for key, fmt in (("schema", MANIFEST_FORMAT), ("lessons", LESSON_FORMAT)):
        value = data.get(key)
        value = value.get("schema") if key == "lessons" and isinstance(value, dict) else value
        major = major_of(value if isinstance(value, str) else "", fmt)
        if major is not None and major != MAJOR:
            raise PublicationProblem(
                f"it is in format {value}, and this program reads {fmt}/{MAJOR}.x: update this program "
                "(a newer version reads both), or ask the publisher to keep publishing version 1")
    _check(MANIFEST_SCHEMA_FILE, data, "index.json")
    names = [data["lessons"]["file"], *(data.get("files") or {}).values()]
    for name in names:  # checked whole: a name never brings a path (or a line break) with it
        if not FILE_RE.fullmatch(name):
            raise PublicationProblem(f"index.json: {name[:60]!r} is not a file name of a publication")
    if not REF_RE.fullmatch(data["id"]) or not all(REF_RE.fullmatch(w["ref"]) for w in data["withdrawn"]):
        raise PublicationProblem("index.json: an id or a withdrawn ref is not urn:uuid:…")
    if len(data["withdrawn"]) > MAX_WITHDRAWN:
        raise PublicationProblem(f"index.json lists {len(data['withdrawn']):,} withdrawn lessons; "
                                 f"at most {MAX_WITHDRAWN:,} are read")


def check_lesson(record, where: str) -> None:
    """Raise :class:`PublicationProblem` when ``record`` (line ``where``) is not a lesson
    this program reads. Ids are checked whole (a JSON Schema pattern lets a final newline by)."""
    if not isinstance(record, dict):
        raise PublicationProblem(f"{where}: not a JSON object")
    _check(LESSON_SCHEMA_FILE, record, where)
    for value in (record["id"], *record.get("related", ()), *(a["id"] for a in record.get("actions", ()))):
        if not ID_RE.fullmatch(value):
            raise PublicationProblem(f"{where}: id {value[:60]!r} may hold only letters, digits, '.', '_' and '-'")
    if not REF_RE.fullmatch(record["ref"]):
        raise PublicationProblem(f"{where}: ref {record['ref'][:60]!r} is not urn:uuid:…")


def _check(name: str, data, where: str) -> None:
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(data))
    if error is not None:
        path = "/".join(str(p) for p in error.absolute_path)
        message = error.message
        if isinstance(error.instance, str) and len(error.instance) > 60:  # the value itself is not the news
            message = message.replace(repr(error.instance), repr(error.instance[:40] + "…"))
        message = message if len(message) <= 300 else message[:300] + "…"
        raise PublicationProblem(f"{where}: {('field ' + path + ': ') if path else ''}{message} "
                                 f"(schema {name})")


def followed_id(source_slug: str, lesson_id: str) -> str:
    """The local id of a followed lesson: never the same as an own entry's (those hold no ':')."""
    return f"{source_slug}{FOLLOWED_SEPARATOR}{lesson_id}"


def is_followed_id(entry_id: str) -> bool:
    return FOLLOWED_SEPARATOR in entry_id
