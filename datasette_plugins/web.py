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
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from datasette.utils.asgi import Response
from markupsafe import Markup

from datasette_plugins.audience import current as current_audience
from datasette_plugins.metadata import entries_browse_query
from datasette_plugins.signin import FACILITATE_ACTION
from datasette_plugins.state import KBState, get_state
from kb.core.config import KBConfig
from kb.core.texts import DEFAULT_LANGUAGE, pick_language, text, texts
from kb.core.visibility import VISIBILITIES
from search.filters import Filters, read_filters

STATEMENT_PATH = "/-/kb/tillganglighet"  # the accessibility statement (tillgänglighetsredogörelse)
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
    return _script_hashes(importlib.resources.files("datasette") / "templates" / "_close_open_menus.html")


@functools.cache
def sql_editor_script_hashes() -> tuple[str, ...]:
    """CSP hashes of the SQL editor's set-up script on Datasette's query pages (our
    ``_codemirror_foot.html``, which has no template expressions: the same bytes every time)."""
    return _script_hashes(STATIC_DIR.parent / "templates" / "_codemirror_foot.html")


def _script_hashes(template) -> tuple[str, ...]:
    try:
        source = template.read_text()
    except OSError:
        return ()
    return tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        for script in re.findall(r"<script[^>]*>(.*?)</script>", source, re.S)
    )


def page_headers() -> dict[str, str]:
    script_src = "'self'" + "".join(f" '{h}'" for h in menu_script_hashes())
    return {**SECURITY_HEADERS, "Content-Security-Policy": f"{CSP_BASE}; script-src {script_src}"}


def datasette_csp() -> str:
    """The Content-Security-Policy of Datasette's own HTML pages (SQL, JSON views, its
    debugging pages), which set none: scripts from this site and its two known inline scripts
    only; inline styles allowed (its templates colour headings with style attributes and
    size the SQL editor with a <style> block), which lets no script run."""
    hashes = (*menu_script_hashes(), *sql_editor_script_hashes())
    base = CSP_BASE.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    return f"{base}; script-src 'self'" + "".join(f" '{h}'" for h in hashes)


async def html_page(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    """One of our pages. Its context gets ``lang_attr(entry_id)``: ``lang="en"`` (as Markup) for
    an entry written in another language than the page's, else nothing (WCAG 3.1.2)."""
    state = get_state(datasette)
    if state is not None and "lang" in context:
        languages = await entry_languages(datasette, state)
        context = {**context, "lang_attr": language_marker(languages, state.config.language, context["lang"])}
        if context.get("other_lang") and not context.get("other_lang_url"):
            context["other_lang_url"] = language_url(request, context["other_lang"], state.config.language)
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status, headers=page_headers())


async def entry_languages(datasette, state: KBState) -> dict[str, str]:
    """Entry id -> its language, for the entries not in the knowledge base's own language;
    read once per generation of the index (through Datasette's connection)."""
    db = datasette.get_database(state.database)
    try:
        row = (await db.execute("select value from meta where key = 'generation'")).first()
    except sqlite3.Error:  # an index from before the meta table: nothing to mark
        return {}
    generation = row[0] if row else None
    audience = current_audience()  # each reads its own index
    cached = state.entry_languages.get(audience)
    if cached is not None and cached[0] == generation:
        return cached[1]
    rows = (await db.execute("select id, lang from entries where lang is not null and lang != ?",
                             [state.config.language])).rows
    languages = {r[0]: r[1] for r in rows}
    state.entry_languages[audience] = (generation, languages)
    return languages


def language_url(request, lang: str, default: str) -> str:
    """This page's URL (its query string kept) in another language."""
    params = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k != "lang"]
    if lang != default:
        params.append(("lang", lang))
    return request.path + ("?" + urlencode(params) if params else "")


def language_marker(languages: dict[str, str], default: str, page_lang: str):
    """``lang_attr(entry_id)``, or ``lang_attr([ids])`` for a text drawn from several entries
    (marked only when they are all in the same other language)."""
    def lang_attr(entry_ids) -> Markup:
        ids = [entry_ids] if isinstance(entry_ids, str) else list(entry_ids)
        found = {languages.get(i, default) for i in ids}
        if len(found) != 1 or page_lang in found:
            return Markup("")
        return Markup(' lang="{}"').format(found.pop())

    return lang_attr


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


def lang_suffix(lang: str, state: KBState) -> str:
    """What a link adds to stay in the reader's language (nothing for the KB's own)."""
    return "" if lang == state.config.language else f"?lang={lang}"


def page_context(datasette, state: KBState, lang: str) -> dict:
    """What every one of our templates gets: texts, language, titles and the shared URLs
    (``kb_urls``: our pages in the reader's language; ``search`` and ``entry_prefix`` bare,
    as forms and ``entry_url`` add the language themselves)."""
    suffix = lang_suffix(lang, state)
    path = datasette.urls.path
    urls = {
        "search": path("/-/kb/search"),
        "css": static_url(datasette, "kb.css"),
        "entries_table": datasette.urls.table(state.database, "entries"),
        "entry_prefix": path("/-/kb/entry/"),
        "entry_suffix": suffix,
        **{name: path(f"/-/kb/{name}") + suffix
           for name in ("synergies", "obstacles", "conflicts", "roadmaps", "policy", "brief", "new")},
        "statement": path(STATEMENT_PATH) + suffix,
        "sql": datasette.urls.database(state.database),
    }
    other = "en" if lang == "sv" else "sv"
    # the KB's own title and description are in its language (kb.toml): marked on other pages
    kb_lang_attr = Markup(' lang="{}"').format(state.config.language) if lang != state.config.language else Markup("")
    return {
        "kb_lang_attr": kb_lang_attr,
        "kb_name": Markup("<span{}>{}</span>").format(kb_lang_attr, state.config.title) if kb_lang_attr
        else state.config.title,
        "t": texts(lang), "lang": lang, "lang_suffix": suffix, "kb_title": state.config.title, "kb_urls": urls,
        "other_lang": other,
        "entries_browse_url": urls["entries_table"] + "?" + entries_browse_query(state.config.web.publish_authors),
        "area_class": {slug: f"kb-area-{slug}" for slug in state.config.areas},  # colours: /-/kb/areas.css
        "entry_url": lambda entry_id: urls["entry_prefix"] + quote(entry_id, safe="") + urls["entry_suffix"],
        "decimal": lambda value, digits=2: decimal_text(value, lang, digits),
        "visibilities": VISIBILITIES,
    }


MAX_FORM_BYTES = 128_000  # a form: three sections of 10,000 characters, url-encoded, fit


async def may_facilitate(datasette, request) -> bool:
    return await datasette.permission_allowed(request.actor, FACILITATE_ACTION, default=False)


async def facilitator_post(datasette, request):
    """The common gate of the facilitators' forms: a knowledge base, a form of sane size, a POST
    by someone who may facilitate. Returns ``(state, form, lang)`` or the refusal to send."""
    state = get_state(datasette)
    if state is None:
        return no_kb()
    form = await read_form(request)
    if form is None:
        return Response.text(text("capture_too_large", request_language(request, state)), status=413)
    lang = pick_language(form.get("lang"), state.config.language)
    if request.method != "POST" or not await may_facilitate(datasette, request):
        return Response.text(text("loop_forbidden", lang), status=403)
    return state, form, lang


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


def decimal_text(value: float, lang: str, digits: int = 2) -> str:
    """0.42 as the language writes it: 0,42 in Swedish."""
    text = f"{float(value):.{digits}f}"
    return text.replace(".", ",") if lang == "sv" else text


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
    sources: list[str] = field(default_factory=list)


def read_filter_args(args, config: KBConfig, t) -> FilterArgs:
    """``?area=&type=&tag=&since=&until=&source=`` through the one filter reader of search and CLI."""
    areas, types, sources = list_arg(args, "area"), list_arg(args, "type"), list_arg(args, "source")
    tags = [tag.lower() for tag in list_arg(args, "tag")]
    since = (args.get("since") or "").strip()[:10]
    until = (args.get("until") or "").strip()[:10]
    filters, problems = read_filters(config, areas=areas, types=types, tags=tags,
                                     since=since or None, until=until or None, sources=sources)
    errors = [t[p.key].format(value=p.value) for p in problems]
    return FilterArgs(areas, types, tags, since, until, filters, errors, sources)
