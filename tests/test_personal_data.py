"""Personal data in free text: `kb validate`, `kb index` and the web form warn when an entry's
title or body names a private person (a Swedish first name + a surname), naming the file,
the line and the name; they stay quiet on the example knowledge base and on the knowledge
base's own actors, places and organisations named after people."""

from __future__ import annotations

from click.testing import CliRunner

from datasette_plugins.serve import make_datasette
from indexer.discover import load_entries
from indexer.personal_data import name_warnings
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.config import load
from kb.core.person_names import NAMES_FILE, find_identity_numbers, find_person_names, first_names

from .helpers import FORM, PASSWORD, REPO, run

PLANTED = """\
---
id: planerat-namn
title: Vi fick hjälp av Lena Bergqvist på nätbolaget
area: energi
date: 2026-04-01
type: lesson
actors: [Johan Ek (Sweco), Malmö stad]
---
## Vad hände?
Mötet hölls på Gustav Adolfs torg och eleverna på Anna Lindh-skolan var med.
Johan Ek från Sweco visade kartan; Ingvar Kamprad AB var inte inbjudet.

## Vad lärde vi oss?
Projektledaren tog kontakt med Karl-Erik
Nilsson på E.ON, och det gick fort.
"""


def names(text, exempt=()):
    return [h.name for h in find_person_names(text, exempt)]


def test_the_first_name_list_ships_with_its_source_and_licence():
    header = NAMES_FILE.read_text(encoding="utf-8").split("\n\n")[0]
    assert "Isof" in header and "Faker" in header and "MIT" in header
    assert {"Anna", "Lars", "Mohammed", "Åsa", "Björn"} <= first_names()
    assert len(first_names()) > 900


def test_names_and_what_is_not_a_name():
    assert names("Vi pratade med Anna Svensson igår.") == ["Anna Svensson"]
    assert names("Anna Karin Lind och Karl-Erik Nilsson") == ["Anna Karin Lind", "Karl-Erik Nilsson"]
    assert names("Eva\nLind ringde") == ["Eva Lind"]  # wrapped onto the next line
    assert [h.line for h in find_person_names("rad ett\nsedan ringde Eva\nLind")] == [2]
    assert names("Gustav Adolfs torg, Anna Lindh-skolan, Ingvar Kamprad AB, Per kvartal") == []
    assert names("Hans Malmö Stad och Eva. Lind") == []  # an organisation; a sentence break
    assert names("Will Grid Capacity Planning Matter Soon") == []  # a title in Title Case
    assert names("Glenn Research Center och Lunds universitet, Malin Lindgren University") == []
    assert names("Johan Ek visade", exempt=["Johan Ek (Sweco)"]) == []  # one of the KB's actors


def test_validate_and_index_name_the_entry_line_and_name(kb_root):
    (kb_root / "entries/energi/planerat-namn.md").write_text(PLANTED, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--root", str(kb_root)])
    assert result.exit_code == 0, result.output  # a warning, never an error
    warnings = [line for line in result.output.splitlines() if "personal data?" in line]
    assert warnings == [
        "entries/energi/planerat-namn.md:3: warning: personal data? the text names 'Lena Bergqvist', which "
        "looks like a private person; write the role instead (e.g. 'projektledaren på gatukontoret'), or list "
        "the name in kb.toml [personal_data] allow if it may be published",
        "entries/energi/planerat-namn.md:14: warning: personal data? the text names 'Karl-Erik Nilsson', which "
        "looks like a private person; write the role instead (e.g. 'projektledaren på gatukontoret'), or list "
        "the name in kb.toml [personal_data] allow if it may be published",
    ]
    index = CliRunner().invoke(cli, ["index", "--root", str(kb_root)])
    assert index.exit_code == 0, index.output
    assert "planerat-namn.md:3: warning: personal data? the text names 'Lena Bergqvist'" in index.output
    assert "5 added" in index.output


def test_the_allow_list_in_kb_toml(kb_root):
    (kb_root / "entries/energi/planerat-namn.md").write_text(PLANTED, encoding="utf-8")
    toml = kb_root / "kb.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[personal_data]\nallow = ["Lena Bergqvist", "Karl-Erik Nilsson"]\n', encoding="utf-8")
    config = load(kb_root)
    assert name_warnings(config, load_entries(config).entries) == []


def test_quiet_on_the_example_knowledge_base():
    config = load(REPO)
    entries = load_entries(config).entries
    assert len(entries) >= 70
    assert name_warnings(config, entries) == []
    result = CliRunner().invoke(cli, ["validate", "--root", str(REPO)])
    assert "personal data?" not in result.output


def test_the_web_form_warns_on_preview_and_after_saving_but_saves(indexed_kb, monkeypatch):
    from kb.app import auth


    monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password(PASSWORD, iterations=1000))
    root = indexed_kb.config.root
    form = {**FORM, "happened": "Vi ringde Lena Bergqvist på nätbolaget om kapaciteten."}

    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        preview = await b.post("/-/kb/new", {**form, "csrftoken": token, "action": "preview"})
        english = await b.post("/-/kb/new", {**form, "lang": "en", "csrftoken": token, "action": "preview"})
        saved = await b.post("/-/kb/new", {**form, "csrftoken": token, "action": "save"})
        page = await b.get(saved.headers["location"].split("#")[0])
        clean = await b.post("/-/kb/new", {**FORM, "csrftoken": token, "action": "preview"})
        return preview, english, saved, page, clean

    preview, english, saved, page, clean = run(make_datasette(root), scenario)
    assert preview.status_code == 200
    assert "Texten nämner Lena Bergqvist, som ser ut som en privatpersons namn" in preview.text
    assert "The text names Lena Bergqvist, which looks like a private person" in english.text
    assert saved.status_code == 302  # a warning, not a block
    assert (root / "entries/mobilitet/laddplatser-i-hyllie-kraver-kapacitetsbesked.md").is_file()
    assert "Texten nämner Lena Bergqvist" in page.text
    assert "capture-person-names" in preview.text and "capture-person-names" not in clean.text


def test_actors_in_the_index_are_not_counted_by_the_form(indexed_kb):
    from indexer.personal_data import draft_name_hits, indexed_actors

    kb = KnowledgeBase.open(indexed_kb.config.root)
    actors = indexed_actors(kb.store)
    kb.close()
    assert "Malmö stad" in actors
    config = indexed_kb.config
    assert draft_name_hits(config, {"happened": "Vi ringde Lena Bergqvist."}, actors) == {
        "happened": ["Lena Bergqvist"]}
    assert draft_name_hits(config, {"happened": "Vi ringde Lena Bergqvist."}, {"Lena Bergqvist"}) == {}


# --- personal identity numbers ------------------------------------------------------------------
def test_identity_numbers_and_what_is_not_one():
    def found(text):
        return [h.name for h in find_identity_numbers(text)]

    assert found("Hon har personnummer 811218-9876 och bor i Oxie.") == ["811218-****"]
    assert found("19811218-9876, 811218 9876 och 8112189876") == ["19811218-****", "811218 ****", "811218-****"]
    assert found("samordningsnummer 701063-2391") == ["701063-****"]  # the day + 60
    assert found("811218-9875") == []  # the check digit is wrong
    assert found("Malmö stads organisationsnummer 212000-1124") == []  # month 20: an organisation
    assert found("ring 040-34 10 00 eller 0701234567") == []
    assert found("år 2026, projekt 2026-0101, ärende abc811218-9876x") == []
    hit = find_identity_numbers("rad ett\nrad två 121212-1212")[0]
    assert (hit.line, hit.name) == (2, "121212-****")


def test_validate_warns_of_an_identity_number_without_printing_it(kb_root):
    (kb_root / "entries/energi/med-personnummer.md").write_text(
        "---\nid: med-personnummer\ntitle: Bidraget till solcellerna\narea: energi\ndate: 2026-04-01\n"
        "type: lesson\n---\n## Vad hände?\nSökanden (811218-9876) fick avslag på bidraget.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--root", str(kb_root)])
    assert result.exit_code == 0, result.output  # a warning, never an error
    assert ("entries/energi/med-personnummer.md:9: warning: personal data! the text holds '811218-****', "
            "which looks like a Swedish personal identity number; remove it: a lesson never needs one") in result.output
    assert "9876" not in result.output


def test_the_web_form_warns_of_an_identity_number(indexed_kb, monkeypatch):
    from kb.app import auth

    monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password(PASSWORD, iterations=1000))
    form = {**FORM, "happened": "Sökanden 19811218-9876 ringde om bidraget."}

    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        return await b.post("/-/kb/new", {**form, "csrftoken": token, "action": "preview"})

    preview = run(make_datasette(indexed_kb.config.root), scenario)
    assert preview.status_code == 200
    assert "Texten innehåller 19811218-****, som ser ut som ett personnummer" in preview.text
    warning = preview.text.split("Texten innehåller", 1)[1].split("</p>", 1)[0]
    assert "9876" not in warning  # the number itself stays where the writer put it: the field and the preview
