"""Cross-area learning with the real default model (multilingual-e5-small) on a small
Swedish knowledge base: paraphrased lessons and obstacles in different words, no shared
tags, so only the model can see that they say the same thing."""

from __future__ import annotations

import pytest

from analysis.links import synergies
from analysis.obstacles import recurring_obstacles
from kb.app.knowledge_base import KnowledgeBase

from .conftest import write_kb

pytestmark = pytest.mark.model


def _entry(id, area, type, title, happened, learned, date="2026-01-10"):
    return f"""\
---
id: {id}
title: {title}
area: {area}
date: {date}
type: {type}
---
## Vad hände?
{happened}

## Vad lärde vi oss?
{learned}
"""


ENTRIES = {
    # the same lesson in two areas, in different words
    "mobilitet/mob-natagare.md": _entry(
        "mob-natagare", "mobilitet", "lesson", "Vi ringde elnätsbolaget innan vi valde plats för laddstationen",
        "Förra gången ritade vi först och fick sedan vänta ett år på besked om anslutning. Den här gången "
        "bad vi nätbolagets planerare om ett möte innan platsen var bestämd.",
        "Den som äger elnätet vet var det finns ledig kapacitet. Fråga dem innan ni låser platsen, "
        "inte efter att ritningen är klar."),
    "bygg/byg-natagare.md": _entry(
        "byg-natagare", "bygg", "enabler", "Kapacitetsbesked före projekteringen av värmepumparna",
        "Innan arkitekten började rita renoveringen kontaktade vi nätägaren och frågade om effekten räckte "
        "för värmepumparna i kvarteret.",
        "Stäm av med nätägaren om abonnemang och effekt redan innan projekteringen börjar, så slipper ni "
        "göra om handlingarna."),
    # three procurement obstacles, three areas, different words
    "mobilitet/mob-overprovning.md": _entry(
        "mob-overprovning", "mobilitet", "obstacle", "Cykelbanan försenades när en anbudsgivare gick till domstol",
        "En leverantör som förlorade anbudet begärde överprövning i förvaltningsrätten och bygget av "
        "cykelbanan stod stilla i fyra månader.",
        "Vi måste räkna med att offentliga upphandlingar kan överprövas och lägga in tid för det."),
    "konsumtion/kon-overprovning.md": _entry(
        "kon-overprovning", "konsumtion", "obstacle", "Det nya livsmedelsavtalet stoppades av en förlorande leverantör",
        "Skolmatens nya ramavtal med mer vegetariskt överklagades av en grossist enligt LOU, och de gamla "
        "menyerna fick ligga kvar ett år till.",
        "Juridiken kring upphandlingen kan stoppa klimatmålen i månader."),
    "energi/ene-overprovning.md": _entry(
        "ene-overprovning", "energi", "obstacle", "Elavtalet blev försenat av en rättslig prövning",
        "Tilldelningen av det långa avtalet om förnybar el prövades rättsligt efter en begäran från en "
        "anbudsgivare, och pilotåret gick förlorat.",
        "Stora inköp enligt lagen om offentlig upphandling riskerar alltid att hamna i rätten."),
    # other obstacles and lessons, about other things
    "energi/ene-data.md": _entry(
        "ene-data", "energi", "obstacle", "Vi får inte ut energidata per byggnad",
        "Nätbolaget lämnar inte ut förbrukning per fastighet med hänvisning till dataskyddsförordningen.",
        "Utan ett avtal om datadelning kan vi inte följa upp energimålen."),
    "bygg/byg-data.md": _entry(
        "byg-data", "bygg", "obstacle", "Fastighetsägarna delar inte sin energiförbrukning",
        "Privata fastighetsägare vill inte lämna siffror om sin energianvändning till kommunens uppföljning.",
        "Uppföljningen bygger på gissningar när data saknas."),
    "mobilitet/mob-radighet.md": _entry(
        "mob-radighet", "mobilitet", "obstacle", "Busskörfältet ligger på statens väg",
        "Vi ville måla ett busskörfält på infarten men vägen ägs av Trafikverket och beslutet är deras.",
        "Vi har ingen rådighet över statliga vägar och måste påverka Trafikverket."),
    "konsumtion/kon-textil.md": _entry(
        "kon-textil", "konsumtion", "lesson", "Textilinsamlingen i skolorna blev en succé",
        "Eleverna samlade in kläder i tre veckor och fyllde tolv säckar.",
        "Barn engagerar sina föräldrar när insamlingen blir en tävling mellan klasserna."),
    "energi/ene-sol.md": _entry(
        "ene-sol", "energi", "lesson", "Solcellerna på skoltaken producerar mer än väntat",
        "Tre skoltak med solceller gav tio procent mer el än kalkylen under sommaren.",
        "Sydvända tak på skolor passar bra för solceller."),
    "bygg/byg-tra.md": _entry(
        "byg-tra", "bygg", "lesson", "Trästommen i Hyllie halverade klimatpåverkan",
        "Bostadshuset byggdes med stomme av korslimmat trä i stället för betong.",
        "Trästomme är ett bra val när klimatdeklarationen ska bli låg."),
    "konsumtion/kon-matsvinn.md": _entry(
        "kon-matsvinn", "konsumtion", "lesson", "Köken minskade matsvinnet med tallrikssvinnsmätning",
        "Skolköken vägde tallrikssvinnet varje dag i en månad och visade siffrorna för eleverna.",
        "Synliga siffror får eleverna att ta mindre mat och äta upp."),
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
