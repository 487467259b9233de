"""Other cities in the analyses: kb cities and /-/kb/cities (obstacles another city has met
too, lessons that carry across cities), the brief's "Från andra städer", and the yearly
report's "Mest angelägna erfarenheter att dela" (public validated actions, public lessons only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.crosscity import city_links
from kb.app.follow import follow, sync
from kb.app.knowledge_base import KnowledgeBase
from kb.app.publish import build_publication, write_publication
from kb.cli import cli
from kb.core.config import load
from reports.brief import compose_brief, render_html, render_markdown
from reports.rendering import Links
from reports.report import render_html as report_html
from reports.report import render_markdown as report_markdown
from reports.report import yearly_report

from .helpers import datasette_get, entry_text
from .samples import write_kb
from .sharing_samples import validated_action, write_city

OURS = {
    "mobilitet/mob-overprovning.md": entry_text(
        {"id": "mob-overprovning", "title": "Överprövningen stoppade cykelstråket i fyra månader", "area": "mobilitet",
         "date": "2026-02-10", "type": "obstacle", "tags": ["upphandling", "överprövning"]},
        happened="En anbudsgivare begärde överprövning av upphandlingen och avtalsspärren stoppade entreprenaden.",
        learned="Formulera klimatkraven så att de går att verifiera, och lägg in buffert för överprövning."),
    "energi/ene-solceller.md": entry_text(
        {"id": "ene-solceller", "title": "Solcellerna på skolan stod still utan driftansvar", "area": "energi",
         "date": "2026-03-02", "type": "lesson", "tags": ["solceller", "drift"]},
        happened="Solcellerna på skolan stod still i veckor efter ett strömavbrott.",
        learned="Ge driftorganisationen ansvaret för solcellerna från början, med en budget för driften."),
    "bygg/byg-fasad.md": entry_text(
        {"id": "byg-fasad", "title": "Fasadrenoveringen i Kirseberg fick bygglov på tre veckor", "area": "bygg",
         "date": "2026-01-20", "type": "enabler", "tags": ["bygglov"]},
        happened="Vi hade ett förhandsbesked från bygglovshandläggaren innan ansökan skickades.",
        learned="Ett tidigt möte med bygglovsenheten sparade månader."),
}
THEIRS = {
    "mobilitet/lu-overprovning.md": entry_text(
        {"id": "lu-overprovning", "title": "Överprövningen av elbussupphandlingen kostade Lund en vinter",
         "area": "mobilitet", "date": "2026-03-01", "type": "obstacle", "tags": ["upphandling", "överprövning"]},
        happened="En anbudsgivare begärde överprövning av upphandlingen av laddning för elbussarna; "
                 "avtalsspärren stoppade installationen.",
        learned="Formulera klimatkraven så att de går att verifiera, och lägg in buffert för överprövning."),
    "energi/lu-solceller.md": entry_text(
        {"id": "lu-solceller", "title": "Solcellerna på förskolorna saknade någon som ansvarade för driften",
         "area": "energi", "date": "2026-04-22", "type": "obstacle", "tags": ["solceller", "drift"]},
        happened="Solcellerna på fyra förskolor stod still efter ett strömavbrott.",
        learned="Solceller behöver en budget för driften och en roll som ansvarar för dem från början."),
    "stadsplanering/lu-park.md": entry_text(
        {"id": "lu-park", "title": "Parkens träd valdes av barnen på förskolan", "area": "stadsplanering",
         "date": "2026-05-02", "type": "idea", "tags": ["träd"]},
        happened="Barnen på förskolan fick välja vilka träd som skulle planteras i parken.",
        learned="Barn som är med och väljer vårdar träden."),
}
LUND_TOML_AREAS = '\n[[areas]]\nslug = "stadsplanering"\nname = "Stadsplanering"\n'


@pytest.fixture
def malmo_following_lund(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    lund = write_city(tmp_path / "lund", organisation="Lunds kommun", entries=THEIRS)
    text = (lund / "kb.toml").read_text(encoding="utf-8")
    (lund / "kb.toml").write_text(text.replace("\n[sharing]", LUND_TOML_AREAS + "\n[sharing]")
                                  .replace('contact_email = "klimat@example.se"',
                                           'contact_email = "klimat@example.se"\nvisibility = "public"'),
                                  encoding="utf-8")
    kb = KnowledgeBase.open(lund)
    kb.index()
    write_publication(build_publication(kb.config, kb.store), tmp_path / "lund-open", kb.config)
    kb.close()
    malmo = write_kb(tmp_path / "malmo", OURS)
    follow(load(malmo), str(tmp_path / "lund-open"), "Lund")
    kb = KnowledgeBase.open(malmo)
    sync(kb)
    kb.close()
    return malmo


def test_another_citys_obstacle_and_lesson_are_found_beside_ours(malmo_following_lund):
    kb = KnowledgeBase.open(malmo_following_lund)
    try:
        found = city_links(kb)
    finally:
        kb.close()
    assert [(x.own, x.other, x.source) for x in found.obstacles] == [
        ("mob-overprovning", "lund:lu-overprovning", "Lund")]
    assert ("ene-solceller", "lund:lu-solceller") in [(x.own, x.other) for x in found.synergies]
    # the tree-planting idea is near nothing of ours: never suggested
    assert "lund:lu-park" not in {x.other for x in found.obstacles + found.synergies}
    link = found.obstacles[0]
    assert link.other_area == "Mobilitet och transporter" and link.reasons[1].code == "reason_city_rank"
    assert found.sources[0]["organisation"] == "Lunds kommun"


def test_kb_cities_says_it_in_words_and_as_json(malmo_following_lund):
    runner = CliRunner()
    text = runner.invoke(cli, ["cities", "--root", str(malmo_following_lund)])
    assert text.exit_code == 0, text.output
    # the knowledge base speaks Swedish: so do the words around the lessons
    assert "Lund har mött samma hinder" in text.output and "hos oss: Överprövningen stoppade" in text.output
    assert "Vi följer Lund" in text.output and "Hinder som andra städer också har mött" in text.output
    for english in ("has met the same obstacle", "ours:", "why:", "Obstacles other cities", "Following Lund"):
        assert english not in text.output, english
    data = json.loads(runner.invoke(cli, ["cities", "--root", str(malmo_following_lund), "--json"]).output)
    assert data["obstacles"][0]["other"] == "lund:lu-overprovning"
    assert data["sources"][0]["name"] == "Lund"
    asked = runner.invoke(cli, ["cities", "--root", str(malmo_following_lund), "--lang", "en"])
    assert "Lund has met the same obstacle" in asked.output and "ours: Överprövningen stoppade" in asked.output


def test_without_followed_cities_there_is_nothing_to_compare(indexed_kb):
    assert city_links(indexed_kb).obstacles == []
    result = CliRunner().invoke(cli, ["cities", "--root", str(indexed_kb.config.root)])
    assert "Vi följer inga andra städer än" in result.output


def test_the_cities_page_says_lund_has_met_the_same_obstacle(malmo_following_lund):
    page, english, data = datasette_get(malmo_following_lund, "/-/kb/cities", "/-/kb/cities?lang=en",
                                        "/-/kb/cities.json")
    assert page.status_code == 200 and "Lund har mött samma hinder" in page.text
    assert "Överprövningen av elbussupphandlingen kostade Lund en vinter" in page.text
    assert "Lund has met the same obstacle" in english.text
    assert data.json()["obstacles"][0]["own"] == "mob-overprovning"


def test_the_brief_has_a_section_from_other_cities(malmo_following_lund):
    kb = KnowledgeBase.open(malmo_following_lund)
    try:
        brief = compose_brief(kb)
    finally:
        kb.close()
    assert [(c.kind, c.own.id, c.other_id) for c in brief.other_cities if c.kind == "obstacle"] == [
        ("obstacle", "mob-overprovning", "lund:lu-overprovning")]
    links = Links(malmo_following_lund)
    text = render_markdown(brief, links)
    section = text.split("## Från andra städer")[1].split("\n## ")[0]
    assert "### Lund har mött samma hinder" in section
    assert "Överprövningen av elbussupphandlingen kostade Lund en vinter (Lund, Mobilitet och transporter, 2026-03-01)" in section
    assert any("Lund har mött samma hinder som vi" in q for q in brief.questions)
    html = render_html(brief, links)
    assert "Från andra städer" in html and "Lund har mött samma hinder" in html
    web = render_markdown(brief, Links(malmo_following_lund, base_url="https://larande.example.se"))
    assert "(https://larande.example.se/-/kb/entry/lund%3Alu-overprovning)" in web


def test_a_brief_without_followed_cities_says_so(brief_kb):
    brief = compose_brief(brief_kb)
    assert brief.other_cities == [] and brief.followed == []
    assert "Vi följer inga andra städer än (kb follow)." in render_markdown(brief, Links(brief_kb.config.root))


# --- the yearly report's experiences to share ------------------------------------------------------
@pytest.fixture
def sharing_kb(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("KB_MODEL", "hash")
    entries = {
        **OURS,
        "mobilitet/mob-overprovning.md": OURS["mobilitet/mob-overprovning.md"].replace(
            "type: obstacle", "type: obstacle\nvisibility: public"),
        "energi/ene-solceller.md": OURS["energi/ene-solceller.md"].replace(
            "type: lesson", "type: lesson\nvisibility: public"),
    }
    root = write_city(tmp_path / "kb", entries=entries)
    validated_action(root, "buffert-for-overprovning", "mob-overprovning", visibility="public",
                     title="Tre månaders buffert för överprövning i varje stor upphandling")
    validated_action(root, "intern-atgard", "byg-fasad", visibility="public", title="Förhandsbesked som rutin")
    validated_action(root, "hemlig-atgard", "mob-overprovning", visibility="internal",
                     title="Hemlig förhandling med anbudsgivaren")
    folder = root / "actions"
    text = (folder / "buffert-for-overprovning.md").read_text(encoding="utf-8")
    (folder / "driftansvar.md").write_text(
        text.replace("buffert-for-overprovning", "driftansvar").replace("[mob-overprovning]",
                                                                        "[mob-overprovning, ene-solceller]")
        .replace("Tre månaders buffert för överprövning i varje stor upphandling", "Driftansvar och överprövning"),
        encoding="utf-8")
    kb = KnowledgeBase.open(root)
    kb.index()
    kb.close()
    return root


def test_the_report_lists_public_validated_actions_with_their_public_lessons_only(sharing_kb):
    kb = KnowledgeBase.open(sharing_kb)
    try:
        report = yearly_report(kb, 2026)
    finally:
        kb.close()
    assert [(a.id, [e.id for e in a.lessons], a.areas) for a in report.sharing] == [
        ("driftansvar", ["mob-overprovning", "ene-solceller"], ["energi", "mobilitet"]),  # two areas first
        ("buffert-for-overprovning", ["mob-overprovning"], ["mobilitet"]),
    ]
    assert report.sharing[0].validated == "2026-05-20" and report.sharing[0].outcome == ["routine"]
    text = report_markdown(report, Links(sharing_kb))
    section = text.split("## Mest angelägna erfarenheter att dela")[1]
    assert "### 1. Driftansvar och överprövning" in section and "validerad 2026-05-20" in section
    for hidden in ("Hemlig förhandling", "Förhandsbesked som rutin", "Fasadrenoveringen"):
        assert hidden not in section
    assert "Mest angelägna erfarenheter att dela" in report_html(report, Links(sharing_kb))
    assert yearly_report(KnowledgeBase.open(sharing_kb), 2025).sharing == []
