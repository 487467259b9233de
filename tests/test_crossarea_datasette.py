"""The cross-area Datasette pages, through ``datasette.client``."""

from __future__ import annotations

import pytest
from datasette.plugins import pm

from datasette_plugins import crossarea as crossarea_plugin
from datasette_plugins.crossarea import heat_class
from datasette_plugins.serve import make_datasette
from indexer.agenda import load_agenda
from kb.app.agenda import add_question
from kb.app.auth import hash_password
from kb.app.curation import record_link
from kb.app.knowledge_base import KnowledgeBase
from kb.core.config import load

from .helpers import PASSWORD, TOKEN_RE, run, set_auth
from .helpers import datasette_get as get


@pytest.fixture
def web_root(cross_root):
    kb = KnowledgeBase.open(cross_root)
    record_link(kb.config, "ene-fjarrvarme", "byg-tra", "synergy", note="värme i trähus")
    kb.index()
    kb.close()
    return cross_root


@pytest.fixture
def plugin():
    """Our module as a plugin for the test (in production it is an entry point)."""
    registered = not pm.is_registered(crossarea_plugin)
    if registered:
        pm.register(crossarea_plugin, name="kb_crossarea")
    yield
    if registered:
        pm.unregister(crossarea_plugin)


def test_hooks_registered(web_root, plugin):
    plugins = get(web_root, "/-/plugins.json").json()
    ours = [p for p in plugins if p["name"] in ("datasette_plugins.crossarea", "kb_crossarea", "malmo-kb")]
    assert any({"register_routes", "menu_links"} <= set(p["hooks"]) for p in ours)


def test_synergies_page_and_json(web_root, plugin):
    page, as_json, bad = get(web_root, "/-/kb/synergies", "/-/kb/synergies.json?n=5", "/-/kb/synergies.json?area=hav")
    assert page.status_code == 200, page.text
    assert "xa-matrix" in page.text and "xa-heat-" in page.text
    assert "bekräftad" in page.text and "/-/kb/entry/byg-tra" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    data = as_json.json()
    assert data["ok"] and 1 <= data["count"] <= 5
    assert data["synergies"][0]["status"] == "confirmed"
    assert {"a", "b", "area_a", "area_b", "score", "status"} <= set(data["synergies"][0])
    assert set(data["matrix"]["silo_index"]) == {"mobilitet", "energi", "bygg"}
    assert bad.status_code == 400 and not bad.json()["ok"]


def test_obstacles_conflicts_and_links_pages(web_root, plugin):
    obstacles, obstacles_json, conflicts, conflicts_json, links, links_json, missing = get(
        web_root, "/-/kb/obstacles", "/-/kb/obstacles.json", "/-/kb/conflicts", "/-/kb/conflicts.json",
        "/-/kb/links/byg-tra", "/-/kb/links/byg-tra.json", "/-/kb/links/finns-inte.json",
    )
    assert obstacles.status_code == 200 and "återkommande" in obstacles.text
    groups = obstacles_json.json()["groups"]
    assert any(set(g["entries"]) == {"mob-overprovning", "ene-overprovning", "byg-overprovning"} for g in groups)
    assert conflicts.status_code == 200 and "Mindre matavfall ger mindre biogas" in conflicts.text
    assert conflicts_json.json()["conflicts"][0]["other_area"] == "mobilitet"
    assert links.status_code == 200 and "xa-status-confirmed" in links.text
    panel = links_json.json()
    assert panel["links"][0]["other"] == "ene-fjarrvarme" and panel["links"][0]["status"] == "confirmed"
    assert missing.status_code == 404


def test_heat_class():
    assert heat_class(0, 5) == "xa-heat-0"
    assert heat_class(5, 5) == "xa-heat-5"
    assert heat_class(1, 100) == "xa-heat-1"


def test_reasons_follow_the_page_language(web_root, plugin):
    swedish, english, links = get(web_root, "/-/kb/synergies", "/-/kb/synergies?lang=en", "/-/kb/links/byg-tra?lang=en")
    assert "bekräftad av en samordnare: värme i trähus" in swedish.text and "avsnittet ”" in swedish.text
    assert "confirmed by a facilitator: värme i trähus" in english.text and "section “" in english.text
    assert "(Bygg och fastigheter)" in english.text and "(bygg)" not in english.text
    assert "confirmed by a facilitator" in links.text


def test_entry_page_related_panel_says_why_in_the_page_language(web_root, plugin):
    swedish, english = get(web_root, "/-/kb/entry/mob-natagare", "/-/kb/entry/mob-natagare?lang=en")
    assert swedish.status_code == english.status_code == 200
    panel_sv = swedish.text.split('id="related"', 1)[1]
    panel_en = english.text.split('id="related"', 1)[1]
    assert "byg-natagare" in panel_sv and "Varför: " in panel_sv and "samma taggar: elnät" in panel_sv
    assert "Why: " in panel_en and "shared tags: elnät" in panel_en


def test_the_obstacles_page_offers_the_open_question_instead_of_a_second(web_root):
    set_auth(web_root, 'roles = { erik = "facilitator" }', {"erik": hash_password(PASSWORD, iterations=1000)})
    config = load(web_root)
    open_one = add_question(config, "Hur planerar vi runt överprövningar?", owner="Upphandling",
                            entries=["byg-overprovning"])
    agenda_files = sorted(p.name for p in (web_root / "agenda").glob("*.md"))

    async def scenario(b):
        visitor = await b.get("/-/kb/obstacles")
        await b.sign_in("erik")
        page = await b.get("/-/kb/obstacles")
        token = TOKEN_RE.search(page.text).group(1)
        second = await b.post("/-/kb/agenda/new", {"csrftoken": token, "from_obstacle": "mob-overprovning",
                                                   "owner": "Central", "question": "En fråga till?"})
        into = await b.post("/-/kb/agenda/new", {"csrftoken": token, "from_obstacle": "mob-overprovning",
                                                 "into": open_one.id})
        return visitor, page, second, into

    visitor, page, second, into = run(make_datasette(web_root), scenario)
    group = next(s for s in page.text.split('<section class="xa-group"')[1:] if "mob-overprovning" in s)
    # everyone sees which question takes the obstacle up; a visitor which role acting on it takes
    assert f'Tas redan upp i lärfrågan <a href="/-/kb/agenda#{open_one.id}">Hur planerar vi runt överprövningar?</a>' \
        in visitor.text
    assert "Att göra ett hinder till en lärfråga kräver rollen samordnare." in visitor.text
    assert "Gör till lärfråga" not in visitor.text
    # the facilitator is offered the open question, not a second one
    assert "Gör till lärfråga" not in group and "Lägg hindrets poster till den lärfrågan" in group
    assert "2 av hindrets poster finns inte med i den" in group
    assert "kräver rollen" not in page.text
    # a second question is refused by name, also when the form is sent by hand
    assert second.status_code == 400 and "tar redan upp det här hindret" in second.text
    assert sorted(p.name for p in (web_root / "agenda").glob("*.md")) == agenda_files
    assert into.status_code == 302 and into.headers["location"] == f"/-/kb/agenda#{open_one.id}"
    assert set(load_agenda(config).by_id[open_one.id].entries) == {"byg-overprovning", "mob-overprovning",
                                                                   "ene-overprovning"}


def test_a_facilitator_rewords_a_question_on_the_web(web_root):
    set_auth(web_root, 'roles = { erik = "facilitator" }', {"erik": hash_password(PASSWORD, iterations=1000)})
    config = load(web_root)
    question = add_question(config, "Hur undanröjer vi hindret ”Upphandling: en grossist”?", owner="Central",
                            entries=["byg-overprovning"])

    async def scenario(b):
        await b.sign_in("erik")
        page = await b.get("/-/kb/agenda")
        token = TOKEN_RE.search(page.text).group(1)
        edited = await b.post(f"/-/kb/agenda/{question.id}/edit", {
            "csrftoken": token, "question": "Hur planerar vi upphandlingar så att en överprövning inte stoppar allt?",
            "owner": "Upphandlingsavdelningen"})
        return page, edited, await b.get("/-/kb/agenda")

    page, edited, after = run(make_datasette(web_root), scenario)
    assert f'action="/-/kb/agenda/{question.id}/edit"' in page.text and "Formulera om" in page.text
    assert edited.status_code == 302
    assert "Hur planerar vi upphandlingar så att en överprövning inte stoppar allt?" in after.text
    assert load_agenda(config).by_id[question.id].owner == "Upphandlingsavdelningen"
