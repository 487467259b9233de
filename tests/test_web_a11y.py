"""The pages as a Swedish municipality may publish them, checked without a browser: the front
page, the accessibility statement, the page language on every page (Datasette's own too),
Datasette's table page in Swedish with labelled controls, and the navigation keeping the
reader's language. The browser's checks (axe-core, the keyboard) are in test_browser_a11y.py."""

from __future__ import annotations

import re

import pytest

from kb.app.knowledge_base import KnowledgeBase

from .helpers import datasette_responses

HTML_LANG = re.compile(r'<html lang="([a-z]+)">')


@pytest.fixture
def web_kb(kb_root):
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    kb.close()
    return kb_root


def html_lang(page: str) -> str:
    match = HTML_LANG.search(page)
    return match.group(1) if match else ""


def test_front_page_is_for_people(web_kb):
    page, english = datasette_responses(web_kb, "/", "/?lang=en")
    assert page.status_code == 200 and html_lang(page.text) == "sv"
    text = page.text
    # a search box first, then what is new, obstacles and synergies, then the ways on
    order = [text.index(s) for s in ('role="search"', "Nytt", "Återkommande hinder", "Synergier mellan områden")]
    assert order == sorted(order)
    assert '<label class="kb-q-label" for="kb-q">' in text
    assert "Upphandlingen försenade cykelbanan i Hyllie" in text  # the newest entries
    for href in ('href="/-/kb/brief"', 'href="/-/kb/new"', 'href="/-/kb/tillganglighet"', 'href="/kb"'):
        assert href in text  # brief, form, statement; the database (SQL) behind a link
    assert "rows in" not in text and "hidden table" not in text  # not Datasette's index
    assert 'lang="en"' in text  # the English entry's title says its language
    assert html_lang(english.text) == "en" and "Search" in english.text and 'href="/-/kb/brief?lang=en"' in english.text
    assert '<p class="kb-lead" lang="sv">' not in text  # the KB's own language: not marked


def test_accessibility_statement_in_both_languages_with_the_default_contact(web_kb):
    swedish, english = datasette_responses(web_kb, "/-/kb/tillganglighet", "/-/kb/tillganglighet?lang=en")
    assert swedish.status_code == english.status_code == 200
    assert html_lang(swedish.text) == "sv" and html_lang(english.text) == "en"
    for words in ("Tillgänglighetsredogörelse för Test-KB", "delvis förenlig",
                  "Myndigheten för digital förvaltning (Digg)", "WCAG", "Innehåll som inte är tillgängligt",
                  "Kontakta den som driver tjänsten i din organisation."):
        assert words in swedish.text
    assert 'href="https://www.digg.se/tdosanmalan"' in swedish.text
    assert "Accessibility statement for" in english.text and "Agency for Digital Government" in english.text
    # every page's footer leads to it
    assert 'href="/-/kb/tillganglighet"' in datasette_responses(web_kb, "/-/kb/search")[0].text


def test_accessibility_statement_contact_from_kb_toml(web_kb):
    toml = web_kb / "kb.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[accessibility]\ncontact = "Klimatenheten, Malmö stad"\n'
                    'email = "klimat@example.se"\nreviewed = 2026-11-29\n', encoding="utf-8")
    (page,) = datasette_responses(web_kb, "/-/kb/tillganglighet")
    assert "Klimatenheten, Malmö stad" in page.text and 'href="mailto:klimat@example.se"' in page.text
    assert "Redogörelsen sågs senast över 2026-11-29." in page.text
    assert "Kontakta den som driver tjänsten" not in page.text


OUR_PAGES = ("/", "/-/kb/search?q=cykel", "/-/kb/entry/cykel-upphandling", "/-/kb/synergies", "/-/kb/obstacles",
             "/-/kb/conflicts", "/-/kb/links/cykel-upphandling", "/-/kb/brief", "/-/kb/policy", "/-/kb/roadmaps",
             "/-/kb/login", "/-/kb/tillganglighet")
DATASETTE_PAGES = ("/kb/entries?_sort_desc=date", "/kb/entries/cykel-upphandling", "/kb")


def test_every_page_says_its_language_and_has_one_main_and_a_skip_link(web_kb):
    paths = [*OUR_PAGES, *DATASETTE_PAGES, *(p + ("&" if "?" in p else "?") + "lang=en" for p in OUR_PAGES)]
    for path, response in zip(paths, datasette_responses(web_kb, *paths), strict=True):
        assert response.status_code == 200, path
        assert html_lang(response.text) == ("en" if "lang=en" in path else "sv"), path
        assert response.text.count("<main ") == 1 and '<a class="kb-skip" href="#main"' in response.text, path
        assert 'aria-label="Huvudmeny"' in response.text or 'aria-label="Main menu"' in response.text, path


def test_datasette_pages_we_do_not_translate_say_they_are_english(web_kb):
    # (Datasette's own /-/versions, also English, answers 404 to anyone but a signed-in facilitator)
    # a saved query: Datasette's query page, open to every visitor (SQL of one's own is not, by default)
    not_found, versions = datasette_responses(web_kb, "/kb/no-such-table", "/kb/latest_obstacles_per_area")
    assert not_found.status_code == 404 and html_lang(not_found.text) == "sv"
    assert "Sidan finns inte" in not_found.text and '<div class="kb-errors" lang="en">' in not_found.text
    assert html_lang(versions.text) == "en"
    assert '<header class="kb-header" lang="sv">' in versions.text  # the chrome is Swedish, and says so


def test_the_entries_table_page_is_swedish_with_labelled_controls(web_kb):
    (page,) = datasette_responses(web_kb, "/kb/entries?_sort_desc=date&_facet=area&_nocol=embedding")
    text = page.text
    for english in (">home<", " rows", "Suggested facets", "Advanced export", "This data as", "Apply",
                    "- column -", "View and edit SQL", "Powered by"):
        assert english not in text, english
    assert "4 rader" in text and "sorterade efter Datum fallande" in text
    assert "Föreslagna facetter:" in text and "Exportera CSV" in text and ">Start<" in text
    # every select and text field has a label
    for control_id in re.findall(r'<(?:select|input type="text")[^>]* id="([^"]+)"', text):
        assert f'<label class="kb-visually-hidden" for="{control_id}">' in text, control_id
    assert 'aria-label="Ta bort facetten Område"' in text
    assert "Mobilitet och transporter" in text and ">obstacle<" not in text  # words, not slugs
    assert "table.js" not in text  # no column menus that only a mouse opens


def test_the_navigation_keeps_the_readers_language(web_kb):
    swedish, english = datasette_responses(web_kb, "/-/kb/obstacles", "/-/kb/obstacles?lang=en")
    assert '<a href="/-/kb/synergies">Synergier</a>' in swedish.text
    assert '<a href="/-/kb/synergies?lang=en">Synergies</a>' in english.text
    assert 'href="/-/kb/obstacles?lang=en" aria-current="page"' in english.text


def test_synergies_page_shows_area_names_and_no_command_line(web_kb):
    (page,) = datasette_responses(web_kb, "/-/kb/synergies")
    assert "kb link" not in page.text
    assert '<th scope="col">Mobilitet och transporter</th>' in page.text  # not "mobili"
    assert "<caption>" in page.text


def test_links_other_plugins_add_to_database_and_table_pages_are_in_their_menus(web_kb):
    import types

    from datasette import hookimpl
    from datasette.plugins import pm

    probe = types.ModuleType("probe_actions")
    probe.database_actions = hookimpl(lambda datasette, actor, database: [{"href": "/x-db", "label": "Exportera"}])
    probe.table_actions = hookimpl(
        lambda datasette, actor, database, table: [{"href": "/x-table", "label": "Ladda ner"}])
    pm.register(probe, name="probe_actions")
    try:
        database, table = datasette_responses(web_kb, "/kb", "/kb/entries")
    finally:
        pm.unregister(name="probe_actions")
    for page, summary, link in ((database, "Databasåtgärder", '<a href="/x-db">Exportera</a>'),
                                (table, "Tabellåtgärder", '<a href="/x-table">Ladda ner</a>')):
        assert page.status_code == 200
        menu = page.text.split('<details class="actions-menu-links">', 1)[1].split("</details>", 1)[0]
        assert f"<summary>{summary}</summary>" in menu and link in menu
