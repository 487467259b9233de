"""The open publication on the web: ``/-/kb/open/`` (a page that says what is published, what
never is, and how to follow it) and its files (``index.json``, ``lessons.jsonl``,
``feed.atom``, ``catalog.rdf`` and the schemas), the same bytes ``kb publish -o`` writes
(:mod:`kb.app.publish`).

The files answer conditional requests (``ETag``, ``Last-Modified``: a follower's unchanged
sync costs a 304) and are made again only when the index, the action files, kb.toml or
``published.tsv`` changed. Their addresses come from kb.toml, never from a request's ``Host``
header, so no request can put another address into what every follower reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import threading
from dataclasses import dataclass, field

from datasette.utils.asgi import Response

from datasette_plugins.audience import AUDIENCE
from datasette_plugins.state import KBState, get_state
from datasette_plugins.web import SECURITY_HEADERS, html_page, no_kb, page_context, request_language
from kb.app.publish import Publication, build_publication, publication_url
from kb.app.published_state import state_path
from kb.core.config import CONFIG_NAME
from kb.core.errors import ConfigError, IndexMissing, KBError
from kb.core.files import file_identity
from kb.core.publication import FILES, MANIFEST_FILE, MEDIA_TYPES
from kb.core.texts import text

HOLDER_ATTRIBUTE = "_kb_open_publication"
TEXT_TYPES = ("application/json", "application/jsonl", "application/atom+xml", "application/rdf+xml",
              "application/schema+json")


@dataclass
class Holder:
    """The publication last made for one Datasette instance, and what it was made from."""
    key: tuple | None = None
    publication: Publication | None = None
    etags: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def holder(datasette) -> Holder:
    found = getattr(datasette, HOLDER_ATTRIBUTE, None)
    if found is None:
        found = Holder()
        setattr(datasette, HOLDER_ATTRIBUTE, found)
    return found


def _stamp(path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _key(state: KBState, generation: int) -> tuple:
    """What the publication is made from: the index (file and generation), the action files,
    kb.toml and the memory of what was published."""
    root = state.config.root
    actions = root / "actions"
    files = tuple(sorted((p.name, _stamp(p)) for p in actions.glob("*.md"))) if actions.is_dir() else ()
    return (file_identity(state.config.audience_db_path("public")), generation, files, _stamp(root / CONFIG_NAME),
            _stamp(state_path(root)))


def current_publication(state: KBState, datasette) -> tuple[Publication, dict[str, str]]:
    """The publication as it stands (made again only when what it is made from changed),
    and each file's ETag."""
    found = holder(datasette)

    def work(kb) -> tuple[Publication, dict[str, str]]:
        if not kb.indexed:
            raise IndexMissing(f"{kb.config.root}: not indexed yet")
        with found.lock:
            key = _key(state, kb.store.generation)
            if found.key != key or found.publication is None:
                publication = build_publication(kb.config, kb.store)
                found.publication = publication
                found.etags = {name: '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
                               for name, content in publication.files.items()}
                found.key = _key(state, kb.store.generation)  # published.tsv may have just been written
            return found.publication, found.etags

    # whoever asks, it is made from what the public may see (the database of that audience)
    reads_as = AUDIENCE.set("public")
    try:
        return state.run(work)
    finally:
        AUDIENCE.reset(reads_as)


def _file_response(request, name: str, publication: Publication, etag: str) -> Response:
    modified = _http_date(publication.manifest["updated"])
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'",
               "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache", "ETag": etag,
               "Last-Modified": modified}
    if _not_modified(request, etag, modified):
        return Response("", status=304, headers=headers)
    media = MEDIA_TYPES[name]
    content_type = f"{media}; charset=utf-8" if media in TEXT_TYPES else media
    return Response(publication.files[name], content_type=content_type, headers=headers)


def _not_modified(request, etag: str, modified: str) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return email.utils.parsedate_to_datetime(since) >= email.utils.parsedate_to_datetime(modified)
        except (TypeError, ValueError):
            return False
    return False


def _http_date(rfc3339: str) -> str:
    moment = dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


async def open_file(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    name = request.url_vars["name"]
    lang = request_language(request, state)
    try:
        publication, etags = await asyncio.to_thread(current_publication, state, datasette)
    except ConfigError:
        return Response.text(text("open_not_published", lang), status=404, headers=SECURITY_HEADERS)
    except KBError:
        return Response.text(text("open_not_ready", lang), status=503, headers=SECURITY_HEADERS)
    return _file_response(request, name, publication, etags[name])


async def open_page(datasette, request):
    state = get_state(datasette)
    if state is None:
        return no_kb()
    lang = request_language(request, state)
    context = {**page_context(datasette, state, lang), "published": None, "problem": None}
    try:
        publication, _ = await asyncio.to_thread(current_publication, state, datasette)
    except ConfigError:
        context["problem"] = text("open_not_published", lang)
    except KBError:
        context["problem"] = text("open_not_ready", lang)
    else:
        manifest = publication.manifest
        url = publication_url(state.config)
        context.update({
            "published": manifest, "count": publication.count, "withdrawn": len(publication.withdrawn),
            "with_actions": sum(1 for r in publication.records if r["actions"]),
            "files": [(name, datasette.urls.path("/-/kb/open/" + name), MEDIA_TYPES[name]) for name in FILES],
            "follow_url": url or datasette.urls.path("/-/kb/open/"),
            "dcat_url": datasette.urls.path("/-/kb/open/catalog.rdf"),
            "manifest_url": datasette.urls.path("/-/kb/open/" + MANIFEST_FILE),
            "has_url": url is not None,
        })
    status = 200 if context["problem"] is None else 404
    return await html_page(datasette, request, "kb_open.html", context, status=status)


async def open_redirect(datasette, request):
    return Response.redirect(datasette.urls.path("/-/kb/open/"))


ROUTES = [
    (r"^/-/kb/open$", open_redirect),
    (r"^/-/kb/open/$", open_page),
    (r"^/-/kb/open/(?P<name>" + "|".join(n.replace(".", r"\.") for n in FILES) + r")$", open_file),
]
