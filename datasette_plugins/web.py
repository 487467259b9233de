"""What every page of ours shares: the knowledge base behind the request, the response
headers (a Content-Security-Policy without inline scripts), HTML and JSON responses, the
context every template gets, and URLs of our static files."""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.resources
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote

from datasette.utils.asgi import Response

from datasette_plugins.metadata import entries_browse_query
from datasette_plugins.state import KBState
from kb.core.config import KBConfig
from kb.core.texts import DEFAULT_LANGUAGE, pick_language, text, texts
from search.filters import Filters, read_filters

PLUGIN_NAME = "malmo-kb"  # the distribution: Datasette serves our static/ under this name
STATIC_DIR = Path(__file__).parent / "static"
MAX_LIST_VALUES = 20

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # search URLs hold the query: keep it off other sites
}
CSP_BASE = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@functools.cache
def menu_script_hashes() -> tuple[str, ...]:
    """CSP hashes of Datasette's own small inline menu script (the only inline script our
    pages allow), from its template."""
    try:
        source = (importlib.resources.files("datasette") / "templates" / "_close_open_menus.html").read_text()
    except OSError:
        return ()
    return tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        for script in re.findall(r"<script[^>]*>(.*?)</script>", source, re.S)
    )


def page_headers() -> dict[str, str]:
    script_src = "'self'" + "".join(f" '{h}'" for h in menu_script_hashes())
    return {**SECURITY_HEADERS, "Content-Security-Policy": f"{CSP_BASE}; script-src {script_src}"}


async def html_page(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status, headers=page_headers())


def json_response(data, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, default=str), status=status,
        content_type="application/json; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'",
                 "Access-Control-Allow-Origin": "*"},
    )


def no_kb(as_json: bool = False) -> Response:
    """The answer of every page when this Datasette instance serves no knowledge base."""
    message = text("page_no_kb", DEFAULT_LANGUAGE)
    return json_response({"ok": False, "error": message}, 404) if as_json else Response.text(message, status=404)


def static_url(datasette, name: str) -> str:
    """The URL of one of our static files, with a content hash so a changed file is fetched
    anew (Datasette serves the plugin's static/ folder)."""
    return datasette.urls.static_plugins(PLUGIN_NAME, name) + "?v=" + static_version(name)


def static_version(name: str) -> str:
    """A short content hash of one of our static files, recomputed only when it changes."""
    path = STATIC_DIR / name
    return _file_hash(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _file_hash(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def request_language(request, state: KBState) -> str:
    """``?lang=`` if we have that language, else the knowledge base's own (kb.toml)."""
    return pick_language(request.args.get("lang"), state.config.language)


def page_context(datasette, state: KBState, lang: str) -> dict:
    """What every one of our templates gets: texts, language, titles and the shared URLs."""
    suffix = "" if lang == "sv" else f"?lang={lang}"
    urls = {
        "search": datasette.urls.path("/-/kb/search"),
        "css": static_url(datasette, "kb.css"),
        "entries_table": datasette.urls.table(state.database, "entries"),
        "entry_prefix": datasette.urls.path("/-/kb/entry/"),
        "entry_suffix": suffix,
    }
    return {
        "t": texts(lang), "lang": lang, "kb_title": state.config.title, "kb_urls": urls,
        "entries_browse_url": urls["entries_table"] + "?" + entries_browse_query(),
        "area_class": {slug: f"kb-area-c{i % 8}" for i, slug in enumerate(state.config.areas)},
        "entry_url": lambda entry_id: urls["entry_prefix"] + quote(entry_id, safe="") + urls["entry_suffix"],
    }


MAX_FORM_BYTES = 128_000  # a form: three sections of 10,000 characters, url-encoded, fit


async def read_form(request, max_bytes: int = MAX_FORM_BYTES) -> dict[str, str] | None:
    """A url-encoded POST body as a dict (empty for other methods), or None if it is too large."""
    if request.method != "POST":
        return {}
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        return None
    body = await request.post_body()
    if len(body) > max_bytes:
        return None
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def list_arg(args, name: str) -> list[str]:
    """A repeatable, comma-separated query argument (``?area=a&area=b,c``) as a list."""
    out: list[str] = []
    for raw in args.getlist(name):
        out += [v.strip() for v in raw.split(",") if v.strip()]
    return out[:MAX_LIST_VALUES]


@dataclass
class FilterArgs:
    """The filters of a page's query string: as typed (for the form and links), as
    :class:`Filters`, and what is wrong with them, in the page's language."""

    areas: list[str]
    types: list[str]
    tags: list[str]
    since: str
    until: str
    filters: Filters
    errors: list[str]


def read_filter_args(args, config: KBConfig, t) -> FilterArgs:
    """``?area=&type=&tag=&since=&until=`` through the one filter reader of search and CLI."""
    areas, types = list_arg(args, "area"), list_arg(args, "type")
    tags = [tag.lower() for tag in list_arg(args, "tag")]
    since = (args.get("since") or "").strip()[:10]
    until = (args.get("until") or "").strip()[:10]
    filters, problems = read_filters(config, areas=areas, types=types, tags=tags,
                                     since=since or None, until=until or None)
    errors = [t[p.key].format(value=p.value) for p in problems]
    return FilterArgs(areas, types, tags, since, until, filters, errors)
