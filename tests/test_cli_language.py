"""The command line speaks the knowledge base's language (kb.toml ``language``, Swedish when it
says nothing): the labels, states and messages around the content come from the catalogue, so no
English label sits around Swedish lessons; ids, paths and ``--json`` stay as programs read them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kb.app.agenda import add_question, close_question
from kb.cli import cli
from kb.core.config import load

from .samples import speak

# command -> (what a Swedish knowledge base shows, what an English one shows in the same place)
LISTINGS = {
    "obstacles": (["obstacles"], ["(3 poster, 3 områden, ", "återkommande)", "    områden: ", "; sprintar: "],
                  ["(3 entries, 3 areas, ", "recurring)", "    areas: ", "; sprints: "]),
    "synergies": (["synergies", "-n", "2"],
                  ["bekräftad av en samordnare", "avsnittet ”", "samma taggar: elnät", "  förslag   "],
                  ["confirmed by a facilitator", "section “", "shared tags: elnät", "  suggested "]),
    "matrix": (["synergies", "--matrix"], ["Starka länkar (", "Siloindex (", " länkar)"],
               ["Strong links (", "Silo index (", " links)"]),
    "conflicts": (["conflicts"], ["De närmaste posterna finns i"], ["The closest entries are in"]),
    "duplicates": (["duplicates"], ["  förslag   ", "varandras närmaste post; samma område"],
                   ["  suggested ", "each other's nearest entry; same area"]),
    "search": (["search", "elnät", "-n", "2"], [" · svag (", " · hinder · ", "Ingen nära träff"],
               [" · weak (", " · obstacle · ", "No close match"]),
    "similar": (["similar", "mob-natagare", "--mode", "related", "-n", "1"], ["    varför: ", " · nära\n"],
                ["    why: ", " · close\n"]),
    "roadmap": (["roadmap"], ["; 1 post hänvisar till den)", "  pågår  "], ["; 1 entry cites it)", "  ongoing  "]),
    "roadmap-area": (["roadmap", "mobilitet"],
                     ["1 post hänvisar till dess åtgärder.", "  Hinder:", "[pågår]", "Föreslagna kopplingar",
                      "Aktörer:", "ansvarar för MOB-1; nämns i 0 poster", "Inga poster kopplar till åtgärden"],
                     ["1 entry cites its actions.", "  Obstacles:", "[ongoing]", "Suggested links", "Actors:",
                      "responsible for MOB-1; named in 0 entries", "No entries cite this action"]),
    "policy": (["policy"], ["Nationell nivå (1 post; "], ["National level (1 entry; "]),
    "actors": (["actors", "--gaps"], ["Luckor i rådigheten (0)"], ["Gaps in mandate (0)"]),
}
JSON_COMMANDS = [["obstacles"], ["synergies", "-n", "3"], ["duplicates"], ["search", "elnät", "-n", "3"],
                 ["policy"], ["actors"]]


def run(root, *args):
    result = CliRunner().invoke(cli, [*args, "--root", str(root)])
    assert result.exit_code == 0, result.output
    return result


def kb(root, *args):
    return run(root, *args).output  # stdout and stderr: the notices speak too


@pytest.mark.parametrize("command", LISTINGS)
def test_a_listing_speaks_the_knowledge_bases_language(brief_root, command):
    args, swedish, english = LISTINGS[command]
    shown = kb(brief_root, *args)  # kb.toml says nothing: Swedish
    assert all(s in shown for s in swedish), shown
    assert not any(e in shown for e in english), shown
    speak(brief_root, "en")
    shown = kb(brief_root, *args)
    assert all(e in shown for e in english), shown
    assert not any(s in shown for s in swedish), shown


def test_json_is_the_same_in_either_language(brief_root):
    swedish = [json.loads(run(brief_root, *args, "--json").stdout) for args in JSON_COMMANDS]
    speak(brief_root, "en")
    assert [json.loads(run(brief_root, *args, "--json").stdout) for args in JSON_COMMANDS] == swedish
    assert {r["match"] for r in swedish[3]} <= {"close", "weak"} and swedish[0][0]["recurring"] is True


def test_a_verdict_is_confirmed_in_the_knowledge_bases_language(brief_root):
    linked = kb(brief_root, "link", "mob-natagare", "byg-natagare", "--as", "synergy")
    assert "mob-natagare → byg-natagare är länkade som synergi (related: i mob-natagare; decisions.tsv)." in linked
    assert "Kör `kb index` för att uppdatera indexet." in linked and "Linked" not in linked
    rejected = kb(brief_root, "link", "ene-sol", "ene-sol-igen", "--as", "unrelated")
    assert "ene-sol ↔ ene-sol-igen är avvisade som par; de föreslås inte igen" in rejected
    speak(brief_root, "en")
    assert "Linked ene-sol → ene-biogas as conflict" in kb(brief_root, "link", "ene-sol", "ene-biogas", "--as",
                                                          "conflict")


def test_a_refusal_and_its_hint_speak_the_knowledge_bases_language(kb_root):
    config = load(kb_root)
    question = add_question(config, "Vem äger laddfrågan?", owner="Central", entries=["laddplatser"])
    close_question(config, question.id, drop=True)
    refused = CliRunner().invoke(cli, ["agenda", "edit", question.id, "--owner", "Energi", "--root", str(kb_root)])
    assert refused.exit_code == 1
    assert f"Frågan är redan stängd.\nTips: {question.id} är avskriven." in refused.stderr
    assert "Hint" not in refused.stderr and "already closed" not in refused.stderr
    unknown = CliRunner().invoke(cli, ["agenda", "close", "lq-finns-inte", "--drop", "--root", str(kb_root)])
    assert unknown.exit_code == 1
    assert "det finns ingen lärfråga med id 'lq-finns-inte'\nTips: Se dem med `kb agenda`." in unknown.stderr
    unknown = CliRunner().invoke(cli, ["action", "set", "finns-inte", "--status", "agreed", "--root", str(kb_root)])
    assert "det finns ingen åtgärd med id 'finns-inte'\nTips: Se dem med `kb actions`." in unknown.stderr
    speak(kb_root, "en")
    refused = CliRunner().invoke(cli, ["agenda", "edit", question.id, "--owner", "Energi", "--root", str(kb_root)])
    assert f"The question is already closed.\nHint: {question.id} is dropped." in refused.stderr
    unknown = CliRunner().invoke(cli, ["agenda", "close", "lq-finns-inte", "--drop", "--root", str(kb_root)])
    assert "no learning question with id 'lq-finns-inte'\nHint: List them with `kb agenda`." in unknown.stderr


def test_an_obstacle_group_given_back_its_computed_label_is_told_in_the_knowledge_bases_language(brief_root):
    kb(brief_root, "obstacles")  # the groups get their ids
    told = kb(brief_root, "obstacles", "rename", "hinder-1", "--computed")
    assert "hinder-1: namnet görs av gruppens poster nästa gång den listas (obstacles.md)." in told


def test_handouts_are_written_in_the_knowledge_bases_language_unless_asked(brief_root):
    swedish = [kb(brief_root, "brief"), kb(brief_root, "report", "--year", "2026"),
               kb(brief_root, "digest", "--area", "energi", "--since", "2026-01-01")]
    assert swedish[0].startswith("# Underlag för lärtillfälle") and swedish[1].startswith("# Årsrapport 2026")
    assert "Nytt för Energi" in swedish[2]
    speak(brief_root, "en")
    english = [kb(brief_root, "brief"), kb(brief_root, "report", "--year", "2026"),
               kb(brief_root, "digest", "--area", "energi", "--since", "2026-01-01")]
    # before: Swedish handouts from an English knowledge base, unless --lang en was given
    assert english[0].startswith("# Brief for a learning session") and english[1].startswith("# Yearly report 2026")
    assert "News for Energi" in english[2]
    assert kb(brief_root, "brief", "--lang", "sv").startswith("# Underlag för lärtillfälle")  # asked for

