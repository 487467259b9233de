"""The brief page, its downloads and the pictures in Datasette, through
``datasette.client``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

import pytest
from datasette.plugins import pm

from datasette_plugins import brief as brief_plugin
from datasette_plugins import crossarea as crossarea_plugin
from datasette_plugins.brief import BriefCache, query_string

from .helpers import datasette_responses as get
from .helpers import parse_html
from .samples import CONFLICT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def plugins():
    """Our modules as plugins for the test (in production they are entry points)."""
    added = []
    for module, name in ((brief_plugin, "kb_brief"), (crossarea_plugin, "kb_crossarea")):
        if not pm.is_registered(module):
            pm.register(module, name=name)
            added.append(module)
    yield
    for module in added:
        pm.unregister(module)


def test_brief_page_shows_the_brief_with_pictures_and_downloads(brief_root, plugins):
    page, = get(brief_root, "/-/kb/brief")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers and "unsafe-inline" not in page.headers["content-security-policy"]
    html = page.text
    assert "Överprövning av upphandlingen stoppade cykelstråket" in html
    parsed = parse_html(html)
    assert {"/-/kb/pictures/map.svg", "/-/kb/pictures/network.svg", "/-/kb/pictures/timeline.svg"} <= {
        urlsplit(src).path for src in parsed.images}
    # it opens with what is to be followed up, as the README says; the map is an appendix at the end
    body = html.split('class="kbb-brief"')[1]
    order = [body.index(h) for h in ("Åtgärder att följa upp", "Återkommande hinder", "Synergier mellan områden",
                                     "Frågor att diskutera", "Bilaga: karta över alla lärdomar")]
    assert order == sorted(order) and body.index("map.svg") > body.index("Frågor att diskutera")
    assert "PCA" not in html and "heatmap" not in html
    assert "/-/kb/brief.html" in html and "/-/kb/brief.md" in html
    entry_links = [h for h in parsed.links if h.startswith("/-/kb/entry/")]
    assert entry_links
    checked = get(brief_root, *entry_links[:3], "/-/kb/entry/mob-overprovning")
    assert all(r.status_code == 200 for r in checked)  # the links lead to real entry pages


def test_brief_page_filters_and_bad_input(brief_root, plugins):
    bygg, bad, unknown = get(brief_root, "/-/kb/brief?area=bygg&since=2026-01-01",
                             "/-/kb/brief?since=igår", "/-/kb/brief?area=hav")
    assert bygg.status_code == 200
    # bygg met the procurement obstacle again in the period: the group shows, with its earlier cases
    obstacles = bygg.text.split('class="kbb-section kbb-obstacles"')[1].split("</section>")[0]
    assert "Upphandlingen av återbrukat material överprövades</a> <strong class=\"kbb-state kbb-state-new\">" \
           "ny i perioden" in obstacles
    assert "Överprövning av upphandlingen stoppade cykelstråket</a></li>" in obstacles  # mobilitet, 2025: older
    assert "Tidig kontakt med nätägaren om kapaciteten sparade tid" in bygg.text  # bygg, 2026: a synergy
    assert "map.svg?area=bygg&amp;since=2026-01-01" in bygg.text
    assert bad.status_code == 400 and unknown.status_code == 400


def test_downloads_are_attachments(brief_root, plugins):
    html, md = get(brief_root, "/-/kb/brief.html?area=energi&lang=en", "/-/kb/brief.md?until=2026-12-31")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.headers["content-disposition"] == f'attachment; filename="learning-session-{_today()}.html"'
    page = parse_html(html.text)
    assert "script" not in page.tags and len(page.images) == 3
    assert all(src.startswith("data:image/svg+xml;base64,") for src in page.images)
    # no base_url in kb.toml: links relative to the site, never to the request's Host header
    assert any(link.startswith("/-/kb/entry/") for link in page.links)
    assert not any("localhost" in link for link in page.links)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"].startswith('attachment; filename="lartillfalle-')
    assert CONFLICT in md.text and "](/-/kb/pictures/map.png?until=2026-12-31)" in md.text
    # the links work on this instance
    paths = [unquote(urlsplit(u).path) for u in ("/-/kb/entry/" + CONFLICT,)]
    assert get(brief_root, *paths)[0].status_code == 200


def _today():
    import datetime as dt

    return dt.date.today().isoformat()


def test_pictures_served_and_cached(brief_root, plugins):
    svg, png, png_again, bad = get(brief_root, "/-/kb/pictures/map.svg?area=bygg", "/-/kb/pictures/network.png",
                                   "/-/kb/pictures/network.png", "/-/kb/pictures/map.svg?since=nej")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    assert "Byggnader och återbruk" in " ".join(root.itertext())
    assert png.status_code == 200 and png.content[:8] == PNG_SIGNATURE
    assert png.headers["etag"] == png_again.headers["etag"] and png.content == png_again.content
    assert bad.status_code == 400


def test_pictures_on_the_synergies_and_obstacles_pages(brief_root, plugins):
    synergies, obstacles = get(brief_root, "/-/kb/synergies?area=energi", "/-/kb/obstacles")
    assert synergies.status_code == 200 and obstacles.status_code == 200
    # the page's own table is the area x area matrix: no heatmap repeating it
    assert "xa-matrix" in synergies.text and "heatmap" not in synergies.text
    assert "/-/kb/pictures/map.svg?area=energi" in synergies.text
    assert "/-/kb/pictures/timeline.svg" in obstacles.text


def test_cache_is_bounded_and_keyed():
    cache = BriefCache(size=2)
    calls = []
    for key in ("a", "b", "a", "c", "b"):
        cache.get_or_make(key, lambda key=key: calls.append(key) or key)
    assert calls == ["a", "b", "c", "b"]  # "a" hit once, "b" was evicted by "c"
    assert query_string({"areas": ["bygg", "energi"], "since": "2026-01-01", "theme": "el nät", "lang": "en"}) == (
        "area=bygg&area=energi&since=2026-01-01&theme=el+n%C3%A4t&lang=en")
