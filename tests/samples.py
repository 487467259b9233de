"""The sample knowledge bases of the tests, and the functions that write them.

- the small one (``KB_TOML``, ``ENTRIES``): four entries in three areas, Swedish and English;
- the cross-area one (``CROSS_ENTRIES``) with a planted structure that the hash embedder can
  see through shared words: a procurement obstacle met in three areas, a grid-capacity synergy
  between mobility and building, a goal conflict logged in energy about buses, a near-duplicate;
- the brief's: the cross-area one with area names in å, ä, ö, one more entry and a roadmap;
- the roadmap one: two roadmaps, and entries citing their actions (one a typo) and policy levels.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .helpers import entry_text

# --- the small knowledge base ----------------------------------------------------------------
KB_TOML = """\
title = "Test-KB"

[[areas]]
slug = "mobilitet"
name = "Mobilitet och transporter"

[[areas]]
slug = "energi"
name = "Energi"

[[areas]]
slug = "bygg"
name = "Bygg och fastigheter"

[web]
visitors = "staff"  # the tests read as the city's staff, unless one says otherwise
"""

ENTRIES = {
    "mobilitet/cykel-upphandling.md": """\
        ---
        id: cykel-upphandling
        title: Upphandlingen försenade cykelbanan i Hyllie
        area: mobilitet
        date: 2026-03-14
        sprint: 2026-S1
        type: obstacle
        tags: [upphandling, cykel]
        actors: [Malmö stad]
        roadmap: [MOB-2]
        policy: [national]
        related: []
        owner: gatukontoret
        ---
        ## Vad hände?
        Överprövningen av upphandlingen gjorde att cykelbanan i Hyllie blev ett år försenad.

        ## Vad lärde vi oss?
        Börja upphandlingen tidigt och för dialog med leverantörerna innan annonsen.
        """,
    "mobilitet/laddplatser.md": """\
        ---
        title: Laddplatser vid Malmö C kräver tidig kontakt med nätägaren
        area: mobilitet
        date: 2025-10-02
        sprint: 2025-S4
        type: lesson
        tags: [laddinfrastruktur, elnät]
        ---
        ## Vad hände?
        Elnätet vid Malmö C hade inte kapacitet för snabbladdare till taxibilar.

        ## Vad lärde vi oss?
        Kontakta E.ON om kapaciteten innan platsen väljs.
        """,
    "energi/solar-roofs.md": """\
        ---
        title: Solar panels on school roofs with Stadsfastigheter
        area: energi
        date: 2025-05-01
        sprint: 2025-S2
        type: enabler
        tags: [solceller]
        ---
        ## What happened?
        We installed solar panels on three school roofs in Rosengård together with Stadsfastigheter.

        ## What did we learn?
        A joint framework agreement made the procurement fast.
        """,
    "bygg/vaermepump-holma.md": """\
        ---
        title: Värmepumpar i Holma krävde kapacitetsbesked från E.ON
        area: bygg
        date: 2026-06-10
        sprint: 2026-S2
        type: obstacle
        tags: [elnät, värmepump]
        ---
        ## Vad hände?
        Renoveringen i Holma stannade när elnätet saknade kapacitet för värmepumparna.

        ## Vad lärde vi oss?
        Boka kapacitetsbesked hos nätägaren innan projekteringen.
        """,
}


def write_kb(root: Path, entries: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kb.toml").write_text(KB_TOML, encoding="utf-8")
    for rel, text in (ENTRIES if entries is None else entries).items():
        path = root / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def speak(root: Path, language: str) -> Path:
    """The knowledge base at ``root`` with kb.toml's ``language`` set (a top-level key, first)."""
    path = root / "kb.toml"
    path.write_text(f'language = "{language}"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    return root


# --- the cross-area knowledge base -----------------------------------------------------------
CROSS_ENTRIES = {
    "mobilitet/mob-natagare.md": entry_text(
        {"id": "mob-natagare", "title": "Ring nätägaren innan platsen för laddhubben väljs",
         "area": "mobilitet", "date": "2026-01-10", "sprint": "2026-S1", "type": "lesson", "tags": ["elnät"],
         "related": []},
        happened="Vi valde plats för laddhubben först och fick vänta ett år på elnätet.",
        learned="Ring nätägaren tidigt om kapaciteten i elnätet innan platsen väljs.",
    ),
    "bygg/byg-natagare.md": entry_text(
        {"id": "byg-natagare", "title": "Tidig kontakt med nätägaren om kapaciteten sparade tid",
         "area": "bygg", "date": "2026-01-10", "sprint": "2026-S1", "type": "enabler", "tags": ["elnät"],
         "related": []},
        happened="Innan projekteringen av värmepumparna frågade vi nätägaren om kapaciteten i elnätet.",
        learned="Fråga nätägaren tidigt om kapaciteten i elnätet innan projekteringen.",
    ),
    "mobilitet/mob-cykel.md": entry_text(
        {"id": "mob-cykel", "title": "Cykelbanan på Amiralsgatan blev bredare", "area": "mobilitet",
         "date": "2025-05-02", "sprint": "2025-S2", "type": "lesson", "tags": [], "related": []},
        happened="Cykelbanan på Amiralsgatan byggdes om med bredare körfält för lastcyklar.",
        learned="Lastcyklar behöver bredare cykelbanor och fler parkeringar.",
    ),
    "mobilitet/mob-buss.md": entry_text(
        {"id": "mob-buss", "title": "Bussarna i Fosie går oftare", "area": "mobilitet", "date": "2025-09-02",
         "sprint": "2025-S3", "type": "lesson", "tags": [], "related": []},
        happened="Busslinjen i Fosie fick tätare turer på morgonen för pendlarna.",
        learned="Pendlare väljer bussen när turerna går var tionde minut.",
    ),
    "energi/ene-sol.md": entry_text(
        {"id": "ene-sol", "title": "Solcellerna på skoltaken producerar mer än väntat", "area": "energi",
         "date": "2025-08-01", "sprint": "2025-S3", "type": "lesson", "tags": [], "related": []},
        happened="Solcellerna på tre skoltak gav mer el än kalkylen sa under sommaren.",
        learned="Sydvända tak på skolor är bra för solceller och sommarens produktion.",
    ),
    "energi/ene-fjarrvarme.md": entry_text(
        {"id": "ene-fjarrvarme", "title": "Fjärrvärme från datacenter", "area": "energi",
         "date": "2026-03-01", "sprint": "2026-S1", "type": "idea", "tags": [], "related": []},
        happened="Datacentret i Sorgenfri har spillvärme som kan gå till fjärrvärmen.",
        learned="Spillvärme från datacenter kan värma bostäder via fjärrvärmenätet.",
    ),
    "bygg/byg-tra.md": entry_text(
        {"id": "byg-tra", "title": "Trästommen i Hyllie minskade klimatpåverkan", "area": "bygg",
         "date": "2025-04-01", "sprint": "2025-S2", "type": "lesson", "tags": [], "related": []},
        happened="Huset i Hyllie byggdes med trästomme i stället för betong.",
        learned="Trästomme halverade klimatpåverkan från stommen jämfört med betong.",
    ),
    "bygg/byg-renovering.md": entry_text(
        {"id": "byg-renovering", "title": "Hyresgästerna valde nivå i renoveringen", "area": "bygg",
         "date": "2025-11-01", "sprint": "2025-S4", "type": "lesson", "tags": [], "related": []},
        happened="Hyresgästerna i Rosengård fick välja nivå på renoveringen av badrummen.",
        learned="Valfrihet i renoveringen minskade oron för höjda hyror.",
    ),
    # three procurement obstacles in three areas, different words but shared core words
    "mobilitet/mob-overprovning.md": entry_text(
        {"id": "mob-overprovning", "title": "Överprövning av upphandlingen stoppade cykelstråket",
         "area": "mobilitet", "date": "2025-06-01", "sprint": "2025-S2", "type": "obstacle",
         "tags": ["upphandling", "överprövning"], "related": []},
        happened="En leverantör begärde överprövning av upphandlingen och cykelstråket stod still i "
                 "fyra månader.",
        learned="Upphandlingen behöver tid för överprövning i tidplanen.",
    ),
    "energi/ene-overprovning.md": entry_text(
        {"id": "ene-overprovning", "title": "Elavtalets upphandling överprövades", "area": "energi",
         "date": "2026-02-01", "sprint": "2026-S1", "type": "obstacle",
         "tags": ["upphandling", "överprövning"], "related": []},
        happened="Upphandlingen av elavtalet överprövades av en leverantör i förvaltningsrätten och "
                 "pilotåret försvann.",
        learned="Räkna med överprövning av upphandlingen när avtalet är stort.",
    ),
    "bygg/byg-overprovning.md": entry_text(
        {"id": "byg-overprovning", "title": "Upphandlingen av återbrukat material överprövades",
         "area": "bygg", "date": "2026-05-01", "sprint": "2026-S2", "type": "obstacle",
         "tags": ["upphandling", "överprövning"], "related": []},
        happened="Upphandlingen av återbrukat byggmaterial överprövades av en leverantör och "
                 "allt försenades.",
        learned="Överprövning av upphandlingen är en risk i varje tidplan.",
    ),
    # two grid obstacles (another group) and one lone obstacle
    "mobilitet/mob-effekt.md": entry_text(
        {"id": "mob-effekt", "title": "Ingen effekt i elnätet för tunga lastbilar", "area": "mobilitet",
         "date": "2025-08-20", "sprint": "2025-S3", "type": "obstacle", "tags": ["effektbrist"],
         "related": []},
        happened="Elnätet i hamnen saknar effekt för laddning av tunga lastbilar till 2028.",
        learned="Effektbrist i elnätet stoppar elektrifieringen av lastbilar.",
    ),
    "energi/ene-effekt.md": entry_text(
        {"id": "ene-effekt", "title": "Solparken står i kö för effekt i elnätet", "area": "energi",
         "date": "2026-03-11", "sprint": "2026-S1", "type": "obstacle", "tags": ["effektbrist"],
         "related": []},
        happened="Solparken i Oxie fick ingen anslutning eftersom elnätet saknar effekt.",
        learned="Effektbrist i elnätet stoppar nya solparker.",
    ),
    "bygg/byg-gdpr.md": entry_text(
        {"id": "byg-gdpr", "title": "Fastighetsägarna delar inte energidata", "area": "bygg",
         "date": "2025-07-01", "sprint": "2025-S3", "type": "obstacle", "tags": [], "related": []},
        happened="Privata fastighetsägare vill inte lämna ut sin energiförbrukning på grund av GDPR.",
        learned="Utan avtal om datadelning blir uppföljningen gissningar.",
    ),
    # a goal conflict logged in energi that is about mobility (buses)
    "energi/ene-biogas.md": entry_text(
        {"id": "ene-biogas", "title": "Mindre matavfall ger mindre biogas till bussarna", "area": "energi",
         "date": "2026-04-01", "sprint": "2026-S1", "type": "goal-conflict", "tags": [], "related": []},
        happened="När matsvinnet minskar får bussarna och busslinjerna mindre biogas från rötningen.",
        learned="Målet om mindre matsvinn krockar med biogasen till bussarna och pendlarna.",
    ),
    # a near-duplicate of ene-sol, logged the same sprint
    "energi/ene-sol-igen.md": entry_text(
        {"id": "ene-sol-igen", "title": "Solcellerna på skoltaken producerade mer än väntat",
         "area": "energi", "date": "2025-08-03", "sprint": "2025-S3", "type": "lesson", "tags": [],
         "related": []},
        happened="Solcellerna på tre skoltak gav mer el än kalkylen sa under sommaren.",
        learned="Sydvända tak på skolor är bra för solceller och sommarens produktion.",
    ),
}

OVERPROVNING = {"mob-overprovning", "ene-overprovning", "byg-overprovning"}
SYNERGY = {"mob-natagare", "byg-natagare"}
CONFLICT = "ene-biogas"

# --- the brief's knowledge base: area names with å, ä, ö (the pictures and documents must
# carry them intact), one more entry and a roadmap --------------------------------------------
BRIEF_KB_TOML = """\
title = "Test-KB för lärtillfällen"

[[areas]]
slug = "mobilitet"
name = "Gång, cykel och kollektivtrafik"

[[areas]]
slug = "energi"
name = "Energi och värme"

[[areas]]
slug = "bygg"
name = "Byggnader och återbruk"

[web]
visitors = "staff"  # the tests read as the city's staff, unless one says otherwise
"""

BRIEF_ROADMAP = """\
---
area: mobilitet
title: Färdplan för mobilitet
actions:
  - id: MOB-1
    title: Laddinfrastruktur för tunga fordon
    actor: Malmö stad
    status: ongoing
  - id: MOB-2
    title: Cykelstråk Hyllie–Triangeln
    status: planned
---
## Mål och behov
Mindre utsläpp från vägtrafiken.
"""

BRIEF_EXTRA = {
    "mobilitet/mob-stod.md": entry_text(
        {"id": "mob-stod", "title": "Statligt stöd till laddstationer för åkerier saknas",
         "area": "mobilitet", "date": "2026-06-01", "sprint": "2026-S2", "type": "obstacle",
         "tags": ["stöd"], "related": [], "roadmap": ["MOB-1"], "policy": ["national", "eu"]},
        happened="Åkerierna i hamnen fick avslag på ansökan om stöd till gemensamma laddstationer.",
        learned="Stödreglerna passar inte delade stationer; reglerna måste ändras nationellt.",
    ),
}


# --- the roadmap knowledge base --------------------------------------------------------------
ROADMAP_KB_ROADMAPS = {
    "mobilitet.md": """\
        ---
        area: mobilitet
        title: Färdplan för mobilitet
        period: 2025–2027
        actions:
          - id: MOB-1
            title: Laddhubbar för tunga fordon i Norra hamnen
            actor: Malmö stad
            status: ongoing
          - id: MOB-2
            title: Sammanhängande cykelstråk Hyllie–Triangeln
            actor: Fastighets- och gatukontoret
            status: planned
        ---
        ## Mål och behov
        Vägtrafikens utsläpp ska halveras; laddning kräver effekt i elnätet.
        """,
    "energi.md": """\
        ---
        area: energi
        title: Färdplan för energi
        period: 2025–2027
        actions:
          - id: ENE-1
            title: Solceller på Stadsfastigheters tak
            actor: Stadsfastigheter
            status: ongoing
          - id: ENE-2
            title: Effektsamverkan i elnätet
            actor: E.ON
            status: paused
        ---
        ## Mål och behov
        Mer lokal solel och mindre effekttoppar.
        """,
}


ROADMAP_KB_ENTRIES = {
    "mobilitet/cykel-upphandling.md": entry_text(
        """\
        id: cykel-upphandling
        title: Upphandlingen försenade cykelbanan i Hyllie
        area: mobilitet
        date: 2026-03-14
        sprint: 2026-S1
        type: obstacle
        actors: [Malmö stad]
        roadmap: [MOB-2]
        policy: [national]
        """,
        happened="Något hände.",
        learned="Överprövningar enligt LOU tar för lång tid. Reglerna behöver ändras nationellt.",
    ),
    "mobilitet/laddplatser.md": entry_text(
        """\
        title: Laddplatser vid Malmö C kräver tidig kontakt med nätägaren
        area: mobilitet
        date: 2025-10-02
        sprint: 2025-S4
        type: lesson
        actors: [Malmö stad, E.ON]
        roadmap: [MOB-1]
        """,
        happened="Något hände.",
        learned="Vi lärde oss något viktigt.",
    ),
    "mobilitet/laddhubb-hinder.md": entry_text(
        """\
        title: Ingen effekt för laddhubben i Norra hamnen förrän 2028
        area: mobilitet
        date: 2026-05-02
        sprint: 2026-S2
        type: obstacle
        actors: [E.ON, Svenska kraftnät]
        roadmap: [MOB-1]
        policy: [national, eu]
        """,
        happened="Något hände.",
        learned="Stamnätet avgör, och ingen här har rådighet över det.",
    ),
    "energi/solar-roofs.md": entry_text(
        """\
        title: Solar panels on school roofs with Stadsfastigheter
        area: energi
        date: 2025-05-01
        sprint: 2025-S2
        type: enabler
        roadmap: [ENE-1]
        """,
        happened="Något hände.",
        learned="Vi lärde oss något viktigt.",
    ),
    "energi/effekt-typo.md": entry_text(
        """\
        title: Effektsamverkan med E.ON kom igång
        area: energi
        date: 2025-11-20
        sprint: 2025-S4
        type: lesson
        roadmap: [ENE-9]
        """,
        happened="Något hände.",
        learned="Vi lärde oss något viktigt.",
    ),
    "bygg/vaermepump-holma.md": entry_text(
        """\
        title: Värmepumpar i Holma krävde kapacitetsbesked från E.ON
        area: bygg
        date: 2026-06-10
        sprint: 2026-S2
        type: obstacle
        actors: [E.ON, Svenska kraftnät]
        policy: [regional]
        """,
        happened="Något hände.",
        learned="Elnätet saknade kapacitet för laddning och värmepumpar. Boka kapacitetsbesked tidigt.",
    ),
}


def write_roadmap_kb(root: Path, roadmaps: dict[str, str] | None = None) -> Path:
    write_kb(root, ROADMAP_KB_ENTRIES)
    folder = root / "roadmaps"
    folder.mkdir(exist_ok=True)
    for name, text in (ROADMAP_KB_ROADMAPS if roadmaps is None else roadmaps).items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root
