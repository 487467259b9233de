"""Cross-area learning with the real default model (multilingual-e5-small) on a small
Swedish knowledge base: paraphrased lessons and obstacles in different words, no shared
tags, so only the model can see that they say the same thing."""

from __future__ import annotations

import pytest

from analysis.labels import is_action, is_fragment, states_blocker
from analysis.links import synergies
from analysis.obstacles import recurring_obstacles
from kb.app.knowledge_base import KnowledgeBase

from .helpers import entry_text
from .samples import write_kb

pytestmark = [pytest.mark.model, pytest.mark.slow]  # one index with the real model


ENTRIES = {
    # the same lesson in two areas, in different words
    "mobilitet/mob-natagare.md": entry_text(
        {"id": "mob-natagare", "title": "Vi ringde elnätsbolaget innan vi valde plats för laddstationen",
         "area": "mobilitet", "date": "2026-01-10", "type": "lesson"},
        happened="Förra gången ritade vi först och fick sedan vänta ett år på besked om anslutning. Den här "
                 "gången bad vi nätbolagets planerare om ett möte innan platsen var bestämd.",
        learned="Den som äger elnätet vet var det finns ledig kapacitet. Fråga dem innan ni låser platsen, "
                "inte efter att ritningen är klar.",
    ),
    "bygg/byg-natagare.md": entry_text(
        {"id": "byg-natagare", "title": "Kapacitetsbesked före projekteringen av värmepumparna",
         "area": "bygg", "date": "2026-01-10", "type": "enabler"},
        happened="Innan arkitekten började rita renoveringen kontaktade vi nätägaren och frågade om effekten "
                 "räckte för värmepumparna i kvarteret.",
        learned="Stäm av med nätägaren om abonnemang och effekt redan innan projekteringen börjar, så "
                "slipper ni göra om handlingarna.",
    ),
    # three procurement obstacles, three areas, different words
    "mobilitet/mob-overprovning.md": entry_text(
        {"id": "mob-overprovning", "title": "Cykelbanan försenades när en anbudsgivare gick till domstol",
         "area": "mobilitet", "date": "2026-01-10", "type": "obstacle"},
        happened="En leverantör som förlorade anbudet begärde överprövning i förvaltningsrätten och bygget "
                 "av cykelbanan stod stilla i fyra månader.",
        learned="Vi måste räkna med att offentliga upphandlingar kan överprövas och lägga in tid för det.",
    ),
    "konsumtion/kon-overprovning.md": entry_text(
        {"id": "kon-overprovning", "title": "Det nya livsmedelsavtalet stoppades av en förlorande leverantör",
         "area": "konsumtion", "date": "2026-01-10", "type": "obstacle"},
        happened="Skolmatens nya ramavtal med mer vegetariskt överklagades av en grossist enligt LOU, och de "
                 "gamla menyerna fick ligga kvar ett år till.",
        learned="Juridiken kring upphandlingen kan stoppa klimatmålen i månader.",
    ),
    "energi/ene-overprovning.md": entry_text(
        {"id": "ene-overprovning", "title": "Elavtalet blev försenat av en rättslig prövning",
         "area": "energi", "date": "2026-01-10", "type": "obstacle"},
        happened="Tilldelningen av det långa avtalet om förnybar el prövades rättsligt efter en begäran från "
                 "en anbudsgivare, och pilotåret gick förlorat.",
        learned="Stora inköp enligt lagen om offentlig upphandling riskerar alltid att hamna i rätten.",
    ),
    # other obstacles and lessons, about other things
    "energi/ene-data.md": entry_text(
        {"id": "ene-data", "title": "Vi får inte ut energidata per byggnad", "area": "energi",
         "date": "2026-01-10", "type": "obstacle"},
        happened="Nätbolaget lämnar inte ut förbrukning per fastighet med hänvisning till "
                 "dataskyddsförordningen.",
        learned="Utan ett avtal om datadelning kan vi inte följa upp energimålen.",
    ),
    "bygg/byg-data.md": entry_text(
        {"id": "byg-data", "title": "Fastighetsägarna delar inte sin energiförbrukning", "area": "bygg",
         "date": "2026-01-10", "type": "obstacle"},
        happened="Privata fastighetsägare vill inte lämna siffror om sin energianvändning till kommunens "
                 "uppföljning.",
        learned="Uppföljningen bygger på gissningar när data saknas.",
    ),
    "mobilitet/mob-radighet.md": entry_text(
        {"id": "mob-radighet", "title": "Busskörfältet ligger på statens väg", "area": "mobilitet",
         "date": "2026-01-10", "type": "obstacle"},
        happened="Vi ville måla ett busskörfält på infarten men vägen ägs av Trafikverket och beslutet är "
                 "deras.",
        learned="Vi har ingen rådighet över statliga vägar och måste påverka Trafikverket.",
    ),
    "konsumtion/kon-textil.md": entry_text(
        {"id": "kon-textil", "title": "Textilinsamlingen i skolorna blev en succé", "area": "konsumtion",
         "date": "2026-01-10", "type": "lesson"},
        happened="Eleverna samlade in kläder i tre veckor och fyllde tolv säckar.",
        learned="Barn engagerar sina föräldrar när insamlingen blir en tävling mellan klasserna.",
    ),
    "energi/ene-sol.md": entry_text(
        {"id": "ene-sol", "title": "Solcellerna på skoltaken producerar mer än väntat", "area": "energi",
         "date": "2026-01-10", "type": "lesson"},
        happened="Tre skoltak med solceller gav tio procent mer el än kalkylen under sommaren.",
        learned="Sydvända tak på skolor passar bra för solceller.",
    ),
    "bygg/byg-tra.md": entry_text(
        {"id": "byg-tra", "title": "Trästommen i Hyllie halverade klimatpåverkan", "area": "bygg",
         "date": "2026-01-10", "type": "lesson"},
        happened="Bostadshuset byggdes med stomme av korslimmat trä i stället för betong.",
        learned="Trästomme är ett bra val när klimatdeklarationen ska bli låg.",
    ),
    "konsumtion/kon-matsvinn.md": entry_text(
        {"id": "kon-matsvinn", "title": "Köken minskade matsvinnet med tallrikssvinnsmätning",
         "area": "konsumtion", "date": "2026-01-10", "type": "lesson"},
        happened="Skolköken vägde tallrikssvinnet varje dag i en månad och visade siffrorna för eleverna.",
        learned="Synliga siffror får eleverna att ta mindre mat och äta upp.",
    ),
}


@pytest.fixture(scope="module")
def model_kb(tmp_path_factory):
    root = write_kb(tmp_path_factory.mktemp("model-kb") / "kb", ENTRIES)
    (root / "kb.toml").write_text(
        (root / "kb.toml").read_text(encoding="utf-8")
        + '\n[[areas]]\nslug = "konsumtion"\nname = "Konsumtion och livsstil"\n',
        encoding="utf-8",
    )
    kb = KnowledgeBase.open(root)
    kb.index()
    yield kb
    kb.close()


def test_paraphrased_lessons_are_the_top_synergy(model_kb):
    top = synergies(model_kb, limit=3)[0]
    assert {top.a, top.b} == {"mob-natagare", "byg-natagare"}
    assert top.match["section_a"] and top.match["section_b"]


def test_procurement_obstacles_fall_in_one_group(model_kb):
    groups = recurring_obstacles(model_kb)
    procurement = {"mob-overprovning", "kon-overprovning", "ene-overprovning"}
    assert any(procurement <= set(g.entries) and len(g.entries) <= 4 for g in groups), [
        g.entries for g in groups
    ]


def test_the_procurement_groups_label_names_the_obstacle_in_general_words(model_kb):
    group = next(g for g in recurring_obstacles(model_kb) if "mob-overprovning" in g.entries)
    phrase = group.label.split(": ", 1)[-1]
    assert group.id and states_blocker(phrase, "sv") and not is_action(phrase) and not is_fragment(phrase)
    # what the cases learned, not one case's story ("En leverantör som förlorade anbudet ...")
    assert "leverantör" not in group.label and "Vi måste" not in group.label
    learned = ("Juridiken kring upphandlingen kan stoppa klimatmålen i månader",
               "Stora inköp enligt lagen om offentlig upphandling riskerar alltid att hamna i rätten")
    assert phrase.lower() in {s.lower() for s in learned}, group.label
