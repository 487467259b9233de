"""The roadmap and policy pages (datasette_plugins/roadmaps.py) through ``datasette.client``."""

from __future__ import annotations

import pytest
from datasette.plugins import pm

from datasette_plugins import roadmaps as roadmap_plugin
from kb.app.knowledge_base import KnowledgeBase

from .helpers import datasette_get as get


@pytest.fixture
def web_root(roadmap_root):
    kb = KnowledgeBase.open(roadmap_root)
    kb.index()
    kb.close()
    return roadmap_root


@pytest.fixture
def plugin():
    """Our module as a plugin for the test (in production it is an entry point)."""
    registered = not pm.is_registered(roadmap_plugin)
    if registered:
        pm.register(roadmap_plugin, name="kb_roadmaps")
    yield
    if registered:
        pm.unregister(roadmap_plugin)


def test_hooks_registered(web_root, plugin):
    plugins = get(web_root, "/-/plugins.json").json()
    # named after the module here, after the distribution once it is an entry point
    ours = [p for p in plugins if p["name"] in ("datasette_plugins.roadmaps", "malmo-kb")]
    assert any({"register_routes", "menu_links"} <= set(p["hooks"]) for p in ours)


def test_roadmap_pages(web_root, plugin):
    index, page, as_json, missing = get(
        web_root, "/-/kb/roadmaps", "/-/kb/roadmaps/mobilitet", "/-/kb/roadmaps/mobilitet.json",
        "/-/kb/roadmaps/hav",
    )
    assert index.status_code == 200
    assert "Färdplan för mobilitet" in index.text and "/-/kb/roadmaps/energi" in index.text
    assert page.status_code == 200
    assert 'id="MOB-1"' in page.text and "Laddplatser vid Malmö C" in page.text
    assert "/-/kb/entry/cykel-upphandling" in page.text and "Svenska kraftnät" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    data = as_json.json()
    assert data["ok"] and [a["id"] for a in data["actions"]] == ["MOB-1", "MOB-2"]
    assert data["actions"][1]["entries"]["obstacle"][0]["id"] == "cykel-upphandling"
    assert missing.status_code == 404 and "Ingen färdplan för hav" in missing.text


def test_policy_page(web_root, plugin):
    page, filtered, as_json, bad = get(
        web_root, "/-/kb/policy", "/-/kb/policy?since=2026-04-01&lang=en",
        "/-/kb/policy.json?area=bygg", "/-/kb/policy?since=igår",
    )
    assert page.status_code == 200
    assert "Nationell nivå" in page.text and "Upphandlingen försenade cykelbanan" in page.text
    assert "Överprövningar enligt LOU" in page.text
    assert filtered.status_code == 200 and "Policy needs" in filtered.text
    assert "cykel-upphandling" not in filtered.text and "laddhubb-hinder" in filtered.text
    data = as_json.json()
    assert [lv["level"] for lv in data["levels"]] == ["regional"] and data["areas"] == ["bygg"]
    assert bad.status_code == 400 and "igår" in bad.text


def test_menu_links(web_root, plugin):
    home = get(web_root, "/")
    assert "/-/kb/roadmaps" in home.text and "/-/kb/policy" in home.text


def test_array_facets_on_roadmap_actors_and_policy(web_root):
    """The entries table facets by action, actor and policy level (JSON-array columns)."""
    data = get(
        web_root,
        "/kb/entries.json?_facet_array=roadmap&_facet_array=actors&_facet_array=policy&_size=0",
    ).json()
    facets = data["facet_results"]
    facets = facets.get("results", facets)  # Datasette 1.0 nests them
    counts = {name: {v["value"]: v["count"] for v in facets[name]["results"]}
              for name in ("roadmap", "actors", "policy")}
    assert counts["roadmap"]["MOB-1"] == 2 and counts["roadmap"]["ENE-9"] == 1
    assert counts["actors"]["Svenska kraftnät"] == 2
    assert counts["policy"] == {"national": 2, "eu": 1, "regional": 1}
