"""The Datasette plugin, through ``datasette.client`` (Datasette's "testing plugins" way)."""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
from html.parser import HTMLParser

import pytest
from datasette.app import Datasette

from datasette_plugins import metadata as kb_metadata
from datasette_plugins.audience import AUDIENCE
from datasette_plugins.render import markdown_to_html
from datasette_plugins.serve import _check_port, make_datasette
from datasette_plugins.state import get_state
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import config as config_module
from kb.core.errors import KBError

from .helpers import set_web

EXTRA_ENTRIES = {
    "bygg/farlig.md": """\
        ---
        id: farlig-text
        title: Farlig text i en post om elnät
        area: bygg
        date: 2026-02-01
        type: lesson
        tags: [elnät]
        related: [vaermepump-holma, cykel-upphandling, finns-inte]
        ---
        ## Vad hände?
        <script>alert('x')</script>
        <img src=x onerror=alert(1)>

        En länk: [x](javascript:alert(1)) och en [riktig](https://malmo.se).
        """,
    "energi/kapacitet.md": """\
        ---
        id: natkapacitet
        title: Nätkapacitet styr var vi kan bygga laddning
        area: energi
        date: 2026-04-20
        type: obstacle
        tags: [elnät]
        related: [vaermepump-holma]
        ---
        ## Vad lärde vi oss?
        Elnätets kapacitet måste kontrolleras med E.ON tidigt.
        """,
}


@pytest.fixture
def web_root(kb_root):
    set_web(kb_root, sql="all")  # SQL of one's own for visitors: the SQL functions' tests need it
    for rel, text in EXTRA_ENTRIES.items():
        path = kb_root / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    kb.close()
    return kb_root


def db_path(root):
    return str(root / ".kb" / "kb.db")


def fetch(ds: Datasette, *paths: str):
    """GET each path after startup; returns the responses in order."""
    async def go():
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    responses = asyncio.run(go())
    return responses if len(paths) > 1 else responses[0]


def get(root, *paths, **kwargs):
    return fetch(Datasette([db_path(root)], **kwargs), *paths)


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def assert_no_active_payload(page: str):
    parser = TagCollector()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x")
    assert not any("alert(" in s for s in parser.scripts)


# --- hooks ------------------------------------------------------------------------------
def test_plugin_is_registered_with_its_hooks(web_root):
    plugins = get(web_root, "/-/plugins.json").json()
    ours = [p for p in plugins if p["name"] == "malmo-kb"]
    assert len(ours) == 1, plugins  # one plugin: the datasette_plugins package
    assert {"startup", "prepare_connection", "register_routes", "render_cell", "menu_links",
            "canned_queries", "asgi_wrapper", "extra_css_urls", "permission_allowed",
            "skip_csrf", "extra_template_vars"} <= set(ours[0]["hooks"])
    # Datasette itself finds the package's templates/ and static/ folders
    assert ours[0]["templates"] and ours[0]["static"]


def test_startup_gives_plain_datasette_the_kb_metadata(web_root):
    metadata, home, database = get(web_root, "/-/metadata.json", "/", "/kb.json")
    data = metadata.json()
    assert data["title"] == "Test-KB"
    assert data["databases"]["kb"]["tables"]["entries"]["facets"][2] == {"array": "tags"}
    assert "/-/kb/search" in home.text  # the home page links to the search page
    hidden = {t["name"]: t["hidden"] for t in database.json()["tables"]}
    assert hidden["meta"] and hidden["_sqlite_migrations"] and hidden["chunks_fts"]
    assert not hidden["entries"]


def test_user_metadata_wins_over_the_defaults(web_root):
    data = get(web_root, "/-/metadata.json", metadata={"title": "Egen titel"}).json()
    assert data["title"] == "Egen titel"
    assert data["databases"]["kb"]["tables"]["entries"]["sort_desc"] == "date"


def test_kb_serve_passes_metadata_and_plugin_config(web_root):
    ds = make_datasette(web_root)
    assert ds.metadata("title") == "Test-KB"
    assert ds.plugin_config("kb") == {"root": str(web_root)}
    assert fetch(ds, "/-/kb/search.json?q=cykel").json()["count"] > 0


def test_plugin_config_root_finds_a_kb_db_served_from_elsewhere(web_root, tmp_path):
    copy = tmp_path / "copy" / "published.db"
    copy.parent.mkdir()
    shutil.copy(db_path(web_root), copy)
    ds = Datasette([str(copy)], metadata={"plugins": {"kb": {"root": str(web_root)}}})
    assert fetch(ds, "/-/kb/search.json?q=cykel").json()["count"] > 0
    assert get_state(ds).database == "published"


def test_a_database_that_is_not_a_kb_is_left_alone(tmp_path):
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("create table t (body text)").connection.commit()
    ds = Datasette([str(other)])
    page, search = fetch(ds, "/other/t", "/-/kb/search.json?q=x")
    assert page.status_code == 200
    assert search.status_code == 404


def test_facets_on_the_entries_table(web_root):
    data = get(web_root, "/kb/entries.json?_extra=facet_results").json()
    facets = data["facet_results"]
    facets = facets.get("results", facets)
    assert {"area", "type", "tags", "sprint", "date"} <= set(facets)
    tags = {f["value"]: f["count"] for f in facets["tags"]["results"]}
    assert tags["elnät"] == 4


def test_render_cell_renders_body_and_hides_vectors(web_root):
    page = get(web_root, "/kb/entries?_sort=id").text
    assert 'class="kb-cell-body"' in page
    assert "<h2>Vad hände?</h2>" in page
    assert "vektor, " in page and "dim</span>" in page
    assert "/-/static-plugins/malmo-kb/kb.css" in page  # extra_css_urls


def test_menu_links_point_to_search_and_browse(web_root):
    page = get(web_root, "/").text
    assert 'href="/-/kb/search"' in page
    assert "_nocol=embedding" in page


def test_security_headers_everywhere(web_root):
    home, search, entry, css = get(
        web_root, "/", "/-/kb/search?q=cykel", "/-/kb/entry/cykel-upphandling", "/-/static-plugins/malmo-kb/kb.css"
    )
    for r in (home, search, entry, css):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    for r in (search, entry):
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert "default-src 'self'" in csp
    assert css.headers["content-type"].startswith("text/css")


def test_read_only_for_visitors(web_root):
    r = get(web_root, "/kb.json?sql=delete+from+entries")
    assert r.status_code == 400
    ds = Datasette([db_path(web_root)])
    assert fetch(ds, "/kb/entries.json?_shape=array&_size=max").status_code == 200

    async def write():
        await ds.get_database("kb").execute("insert into meta (key, value) values ('x', 'y')")

    with pytest.raises(Exception, match="readonly|read-only|Statement may not"):
        asyncio.run(write())


# --- search page and JSON -------------------------------------------------------------
def test_search_page_in_swedish_with_highlighted_snippets(web_root):
    r = get(web_root, "/-/kb/search?q=upphandlingen+cykelbanan")
    assert r.status_code == 200
    assert "Sök i kunskapsbanken" in r.text
    assert "Upphandlingen försenade cykelbanan i Hyllie" in r.text
    assert "<mark>" in r.text
    assert 'class="kb-badge' in r.text and "Mobilitet och transporter" in r.text
    assert "Hinder" in r.text  # the type, in Swedish
    assert 'href="/-/kb/entry/cykel-upphandling"' in r.text
    assert '<link rel="stylesheet" href="/-/static-plugins/malmo-kb/kb.css?v=' in r.text
    assert 'action="/-/kb/search"' in r.text


def test_search_page_in_english(web_root):
    r = get(web_root, "/-/kb/search?q=solar&lang=en")
    assert "Search the knowledge base" in r.text
    assert "Enabler" in r.text
    assert 'href="/-/kb/entry/solar-roofs?lang=en"' in r.text


def test_search_json_shape(web_root):
    data = get(web_root, "/-/kb/search.json?q=upphandling").json()
    assert data["ok"] and data["query"] == "upphandling" and data["count"] == len(data["results"])
    first = data["results"][0]
    assert {"id", "title", "area", "type", "date", "score", "snippet", "path", "url"} <= set(first)
    assert first["url"] == f"/-/kb/entry/{first['id']}"


def test_only_the_read_only_json_api_skips_csrf(web_root):
    from datasette.plugins import pm

    ds = Datasette([db_path(web_root)])

    def skipped(method, path):
        return any(pm.hook.skip_csrf(datasette=ds, scope={"type": "http", "method": method, "path": path}))

    assert skipped("GET", "/-/kb/search.json") and skipped("GET", "/prefix/-/kb/search.json")
    assert not skipped("POST", "/-/kb/search.json")
    assert not any(skipped(m, p) for m in ("GET", "POST") for p in ("/-/kb/new", "/-/kb/search", "/-/login"))


def test_search_json_filters(web_root):
    area, types, tag, period = get(
        web_root,
        "/-/kb/search.json?q=elnät&area=bygg",
        "/-/kb/search.json?q=elnät&type=obstacle&type=enabler",
        "/-/kb/search.json?q=elnät&tag=cykel&all=1",  # the entry tagged cykel is no close match for elnät
        "/-/kb/search.json?q=elnät&since=2026-01&until=2026-03&all=1",  # and the period: every result
    )
    assert {r["area"] for r in area.json()["results"]} == {"bygg"}
    assert {r["type"] for r in types.json()["results"]} <= {"obstacle", "enabler"}
    assert [r["id"] for r in tag.json()["results"]] == ["cykel-upphandling"]
    assert {r["date"] for r in period.json()["results"]} == {"2026-02-01", "2026-03-14"}


def test_empty_query_and_no_hits(web_root):
    empty_json, empty_page, none_json, none_page = get(
        web_root,
        "/-/kb/search.json?q=",
        "/-/kb/search",
        "/-/kb/search.json?q=sol&area=energi&type=idea",
        "/-/kb/search?q=sol&area=energi&type=idea",
    )
    assert empty_json.json()["count"] == 0
    assert "Skriv en fråga" in empty_page.text
    assert none_json.json()["results"] == []
    assert "Inga poster hittades" in none_page.text


def test_quotes_and_sql_in_the_query_are_just_words(web_root):
    q = "\"cykel' OR 1=1; DROP TABLE entries; -- <b>"
    page, data, after = get(
        web_root,
        "/-/kb/search?" + _qs(q=q, all="1"),  # every result: the words must not break anything
        "/-/kb/search.json?" + _qs(q=q, all="1"),
        "/kb.json?sql=select+count(*)+as+n+from+entries&_shape=array",
    )
    assert page.status_code == 200 and data.status_code == 200
    assert "<b>" not in page.text.split("<main", 1)[1]
    assert data.json()["results"]
    assert after.json() == [{"n": 6}]


def test_bad_requests_are_refused_with_a_message(web_root):
    long_q, area, date, page = get(
        web_root,
        "/-/kb/search.json?" + _qs(q="ord " * 100),
        "/-/kb/search.json?q=x&area=nowhere",
        "/-/kb/search.json?q=x&since=14/3",
        "/-/kb/search?q=x&area=nowhere",
    )
    assert long_q.status_code == 400 and "för lång" in long_q.json()["errors"][0]
    assert area.status_code == 400 and "nowhere" in area.json()["errors"][0]
    assert date.status_code == 400
    assert page.status_code == 400 and "Okänt område: nowhere" in page.text


# --- entry page ---------------------------------------------------------------------------
def test_entry_page_renders_body_front_matter_and_related(web_root):
    r = get(web_root, "/-/kb/entry/cykel-upphandling")
    assert r.status_code == 200
    text = r.text
    assert "<h1>Upphandlingen försenade cykelbanan i Hyllie</h1>" in text
    assert "<h2>Vad lärde vi oss?</h2>" in text
    assert "Malmö stad" in text and "MOB-2" in text and "nationell" in text
    assert "gatukontoret" in text  # an unknown front-matter key is kept and shown
    assert "Relaterade lärdomar" in text
    # the entry that confirmed a link to this one
    assert "Kopplas ihop med av" in text and "/-/kb/entry/farlig-text" in text


def test_related_panel_puts_other_areas_first(web_root):
    page = get(web_root, "/-/kb/entry/cykel-upphandling").text
    panel = page.split('class="kb-related"', 1)[1]
    items = panel.split('class="kb-related-item')[1:]
    assert items
    areas = ["same" if not item.startswith(" kb-other-area") else "other" for item in items]
    assert areas == sorted(areas, key=lambda a: a != "other")
    assert areas[0] == "other"


def test_a_related_panel_with_nothing_close_says_so_over_the_nearest(web_root, monkeypatch):
    from analysis.related import RelatedFinder

    every = RelatedFinder.find
    monkeypatch.setattr(RelatedFinder, "find", lambda self, kb, entry_id, cutoff=True, **options: [] if cutoff else
                        every(self, kb, entry_id, cutoff=False, **options))  # nothing passes the cut-off
    page, english = get(web_root, "/-/kb/entry/cykel-upphandling", "/-/kb/entry/cykel-upphandling?lang=en")
    panel = page.text.split('class="kb-related"', 1)[1]
    assert "Ingen annan lärdom ligger nära den här ännu. De närmaste visas här" in panel
    assert panel.count('class="kb-related-item') == panel.count(">Svag likhet<") >= 1
    assert "No other lesson is close to this one yet" in english.text and ">Weak resemblance<" in english.text


def test_confirmed_related_links(web_root):
    page = get(web_root, "/-/kb/entry/farlig-text").text
    confirmed = page.split("Bekräftade kopplingar", 1)[1]
    assert "/-/kb/entry/vaermepump-holma" in confirmed
    assert "/-/kb/entry/cykel-upphandling" in confirmed
    assert "finns-inte" in confirmed and "finns inte i indexet" in confirmed


def test_back_to_the_search_only_when_the_entry_was_opened_from_one(web_root):
    ds = Datasette([str(web_root / ".kb" / "kb.db")], settings={"num_sql_threads": 1})
    search = "/-/kb/search?q=cykelbana&area=mobilitet"

    async def go():
        await ds.invoke_startup()
        return [await ds.client.get("/-/kb/entry/cykel-upphandling", headers=headers) for headers in (
            {}, {"Referer": "http://localhost" + search}, {"Referer": "http://localhost/-/kb/search"},
            {"Referer": "https://evil.example/-/kb/search?q=x"})]

    direct, from_search, empty_search, other_site = asyncio.run(go())
    assert "Tillbaka till sökningen" not in direct.text  # no search to go back to
    assert 'href="/-/kb/search?q=cykelbana&amp;area=mobilitet">← Tillbaka till sökningen' in from_search.text
    assert "Tillbaka till sökningen" not in empty_search.text and "Tillbaka" not in other_site.text


def test_entry_not_found(web_root):
    r = get(web_root, "/-/kb/entry/nope")
    assert r.status_code == 404
    assert "Posten finns inte" in r.text


# --- sanitising -------------------------------------------------------------------------
def test_entry_page_neutralises_html_in_entries(web_root):
    page = get(web_root, "/-/kb/entry/farlig-text").text
    body = page.split('class="kb-body"', 1)[1].split("</article>", 1)[0]
    assert_no_active_payload(page)
    assert "&lt;script&gt;" in body  # shown as text, not run
    assert 'href="https://malmo.se"' in body


def test_table_cell_and_row_neutralise_html_in_entries(web_root):
    table, row = get(web_root, "/kb/entries?id=farlig-text", "/kb/entries/farlig-text")
    for page in (table.text, row.text):
        assert 'class="kb-cell-body"' in page
        assert_no_active_payload(page)


def test_markdown_to_html_sanitises():
    html = markdown_to_html(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) "
        "[y](JaVaScRiPt:alert(1)) <a href=\"javascript:alert(1)\" onclick=\"x()\">z</a>"
    )
    assert "<script" not in html and "<img" not in html and "<a href=\"javascript" not in html.lower()
    assert_no_active_payload(html)


# --- SQL functions ------------------------------------------------------------------------
def test_kb_search_and_kb_similar_in_sql(web_root):
    search_sql = (
        "select json_extract(value, '$.id') as id, json_extract(value, '$.score') as score "
        "from json_each(kb_search('upphandling cykelbana', 3))"
    )
    similar_sql = "select json_extract(value, '$.id') as id from json_each(kb_similar('vaermepump-holma', 2))"
    ds = Datasette([db_path(web_root)])
    hits, similar, one_arg, unknown = fetch(
        ds,
        "/kb.json?_shape=array&" + _qs(sql=search_sql),
        "/kb.json?_shape=array&" + _qs(sql=similar_sql),
        "/kb.json?_shape=array&" + _qs(sql="select json_array_length(kb_search('elnät')) as n"),
        "/kb.json?_shape=array&" + _qs(sql="select kb_similar('no-such-id', 3) as j"),
    )
    rows = hits.json()
    kb = KnowledgeBase.open(web_root)
    expected = [r.id for r in kb.search("upphandling cykelbana", limit=3)]
    kb.close()
    assert [r["id"] for r in rows] == expected  # the project's own search, not a copy
    assert all(isinstance(r["score"], float) for r in rows)
    ids = [r["id"] for r in similar.json()]
    assert len(ids) == 2 and "vaermepump-holma" not in ids
    assert one_arg.json()[0]["n"] > 0
    assert unknown.json() == [{"j": "[]"}]


def test_one_knowledge_base_per_process_reloaded_when_the_index_changes(web_root):
    ds = Datasette([db_path(web_root)])
    sql = "/kb.json?_shape=array&" + _qs(sql="select kb_search('fjärrvärme ackumulatortank', 20) as j")
    first = fetch(ds, sql)
    state = get_state(ds)
    embedder, vectors = state._embedder, state._vectors
    assert vectors is not None
    fetch(ds, sql, "/-/kb/search.json?q=cykel")
    # loaded once, not per call, and shared by the threads
    assert state._embedder is embedder and state._vectors is vectors
    new = web_root / "entries" / "energi" / "ackumulator.md"
    new.write_text(
        "---\nid: ackumulator\ntitle: Fjärrvärme med ackumulatortank\narea: energi\n"
        "date: 2026-05-05\ntype: idea\n---\nEn ackumulatortank jämnar ut fjärrvärmen.\n",
        encoding="utf-8",
    )
    writer = KnowledgeBase.open(web_root)
    writer.index()
    writer.close()
    second = fetch(ds, sql)
    assert "ackumulator" not in first.text
    assert "ackumulator" in second.text
    assert state._vectors is not vectors  # reloaded for the new generation
    # the in-memory chunk -> entry map moved on with it and agrees with the database
    reads_as = AUDIENCE.set("staff")  # as the requests above read (the sample KB is an intranet)
    try:
        kb = state._current()
    finally:
        AUDIENCE.reset(reads_as)
    assert kb.owners is state._vectors["staff"][2] and kb.owners.generation == kb.store.generation
    chunk_ids = [r[0] for r in kb.store.db.execute("select id from chunks")] + [10**9, -1]
    assert kb.owners.lookup(chunk_ids) == kb.store.chunk_entries(chunk_ids)
    assert "ackumulator" in set(kb.owners.lookup(chunk_ids).values())


def test_canned_queries(web_root):
    linked, obstacles, months, search = get(
        web_root,
        "/kb/most_linked_entries.json?_shape=array",
        "/kb/latest_obstacles_per_area.json?_shape=array",
        "/kb/entries_per_area_and_month.json?_shape=array",
        "/kb/search.json?_shape=array&q=cykel",
    )
    top = linked.json()[0]
    assert top["id"] == "vaermepump-holma" and top["cited_by"] == 2
    assert {r["area"] for r in obstacles.json()} == {"mobilitet", "bygg", "energi"}
    assert sum(r["entries"] for r in months.json()) == 6
    assert "cykel-upphandling" in [r["id"] for r in search.json()]


# --- kb serve -----------------------------------------------------------------------------
def test_serve_refuses_a_port_in_use():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(KBError, match="already in use"):
            _check_port("127.0.0.1", sock.getsockname()[1])


def test_serve_help():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "Datasette" in result.output


def test_metadata_licence_from_kb_toml(kb_root):
    config = config_module.load(kb_root)
    assert "license" not in kb_metadata.build_metadata(config, "kb")
    config.raw["license"] = "CC BY 4.0"
    config.raw["license_url"] = "https://creativecommons.org/licenses/by/4.0/"
    data = kb_metadata.build_metadata(config, "kb")
    assert data["license"] == "CC BY 4.0" and data["license_url"].startswith("https://")


def _qs(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_json_is_utf8(web_root):
    r = get(web_root, "/-/kb/search.json?q=n%C3%A4tkapacitet")
    assert "Nätkapacitet" in r.content.decode("utf-8")
    assert json.loads(r.text)["ok"]
