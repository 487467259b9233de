"""The learning loop on the web: the actions page (filters, facets, JSON), one action, the
agenda, the forms only facilitators may use (with CSRF), the entry page's actions and button,
the marked obstacles, and Atom feeds that a real feed parser reads."""

from __future__ import annotations

import asyncio
import datetime as dt

import feedparser
import pytest

from datasette_plugins.serve import make_datasette
from kb.app import auth
from kb.app.actions import create_action, set_status
from kb.app.agenda import add_question
from kb.app.knowledge_base import KnowledgeBase
from kb.core import audit
from kb.core.config import load
from kb.core.sessions import record_session

from .helpers import PASSWORD, TOKEN_RE, Browser


@pytest.fixture
def loop_root(indexed_kb, monkeypatch):
    hashed = auth.hash_password(PASSWORD, iterations=1000)
    monkeypatch.setenv("KB_WRITERS", f"anna:{hashed},erik:{hashed}")
    root = indexed_kb.config.root
    with open(root / "kb.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[auth]\nroles = { erik = "facilitator" }\n')
    config = load(root)
    late = create_action(config, title="Kapacitetsbesked före projektering", lessons=["vaermepump-holma"],
                         owner="Stadsfastigheter", due=dt.date(2020, 6, 30), today=dt.date(2020, 1, 15))
    set_status(config, late.id, "agreed", today=dt.date(2020, 1, 20))
    create_action(config, title="Laddplatsrutin", lessons=["laddplatser"], owner="Gatukontoret",
                  due=dt.date(2099, 1, 1), today=dt.date(2026, 1, 1))
    add_question(config, "Hur får vi effektbesked tidigt?", owner="Energi", entries=["vaermepump-holma"])
    return root


def run(root, scenario):
    ds = make_datasette(root)

    async def go():
        await ds.invoke_startup()
        return await scenario(Browser(ds))

    return asyncio.run(go())


def test_actions_page_filters_facets_and_json(loop_root):
    async def scenario(b):
        return [await b.get(p) for p in ("/-/kb/actions", "/-/kb/actions.json?overdue=1",
                                         "/-/kb/actions.json?area=mobilitet", "/-/kb/actions?lang=en",
                                         "/-/kb/actions/kapacitetsbesked-fore-projektering",
                                         "/-/kb/actions/kapacitetsbesked-fore-projektering.json",
                                         "/-/kb/actions/finns-inte")]

    page, overdue, mobility, english, one, one_json, missing = run(loop_root, scenario)
    assert page.status_code == 200 and "Kapacitetsbesked före projektering" in page.text
    assert "Beslutad" in page.text and "försenad" in page.text and "Föreslå åtgärd" not in page.text
    data = overdue.json()
    assert [a["id"] for a in data["actions"]] == ["kapacitetsbesked-fore-projektering"]
    assert data["facets"]["status"] == {"agreed": 1} and data["actions"][0]["areas"] == ["bygg"]
    assert [a["id"] for a in mobility.json()["actions"]] == ["laddplatsrutin"]
    assert "Agreed" in english.text and "Beslutad" not in english.text
    assert one.status_code == 200 and "Historik" in one.text and "Stadsfastigheter" in one.text
    # no status form for visitors: which role it takes, and a sign-in that comes back here
    assert "Att föreslå och besluta om åtgärder kräver rollen samordnare." in one.text
    assert "/-/kb/login?next=%2F-%2Fkb%2Factions%2Fkapacitetsbesked-fore-projektering" in one.text
    assert one_json.json()["history"][1]["status"] == "agreed"
    assert missing.status_code == 404


def test_only_facilitators_change_actions_and_the_agenda(loop_root):
    async def scenario(b):
        await b.sign_in("anna")  # a writer, not a facilitator
        form = await b.get("/-/kb/actions/new?lesson=laddplatser")
        token = await b.token("/-/kb/agenda")
        refused = await b.post("/-/kb/actions/kapacitetsbesked-fore-projektering/status",
                               {"csrftoken": token, "status": "in-progress"})
        return form, refused

    form, refused = run(loop_root, scenario)
    # signed in already: no sign-in page (it would loop), but which role it takes
    assert form.status_code == 403 and "/-/kb/login" not in form.text.split("<main")[1]
    assert "Att föreslå och besluta om åtgärder kräver rollen samordnare." in form.text
    assert "Du är inloggad som anna med rollen skribent" in form.text
    assert refused.status_code == 403
    assert "status: agreed" in (loop_root / "actions/kapacitetsbesked-fore-projektering.md").read_text("utf-8")


def test_a_facilitator_proposes_moves_and_validates_through_the_forms(loop_root):
    async def scenario(b):
        await b.sign_in("erik")
        form = await b.get("/-/kb/actions/new?lesson=laddplatser")
        token = TOKEN_RE.search(form.text).group(1)
        no_csrf = await b.post("/-/kb/actions/new", {"title": "x", "lessons": "laddplatser", "owner": "X",
                                                     "due": "2027-01-01"})
        bad = await b.post("/-/kb/actions/new", {"csrftoken": token, "title": "Tidig dialog", "lessons": "nej",
                                                 "owner": "E.ON", "due": "2027-01-31"})
        created = await b.post("/-/kb/actions/new", {"csrftoken": token, "title": "Tidig dialog med nätägaren",
                                                     "lessons": "laddplatser, vaermepump-holma", "owner": "E.ON",
                                                     "due": "2027-01-31", "roadmap": "", "note": "Från lärtillfället"})
        page = await b.get(created.headers["location"])
        moves = []
        for status, note in (("agreed", "Beslut"), ("done", ""), ("validated", "")):
            moves.append(await b.post("/-/kb/actions/tidig-dialog-med-natagaren/status",
                                      {"csrftoken": token, "status": status, "note": note, "outcome_routine": "1"}))
        return form, no_csrf, bad, created, page, moves

    form, no_csrf, bad, created, page, moves = run(loop_root, scenario)
    assert form.status_code == 200 and 'value="laddplatser"' in form.text
    assert no_csrf.status_code == 403
    assert bad.status_code == 400 and "Okänd lärdom &#39;nej&#39;" in bad.text
    assert created.status_code == 302 and created.headers["location"] == "/-/kb/actions/tidig-dialog-med-natagaren"
    assert "Tidig dialog med nätägaren" in page.text and 'name="status"' in page.text
    assert [m.status_code for m in moves] == [302, 302, 400]  # validated without evidence is refused
    assert "En validerad åtgärd behöver belägg" in moves[2].text
    text = (loop_root / "actions/tidig-dialog-med-natagaren.md").read_text("utf-8")
    assert "status: done" in text and "outcome: [routine]" in text
    assert [e["who"] for e in audit.read(loop_root / ".kb")][-3:] == ["erik", "erik", "erik"]


def test_the_agenda_page_and_its_forms(loop_root):
    async def scenario(b):
        page = await b.get("/-/kb/agenda")
        as_json = await b.get("/-/kb/agenda.json")
        await b.sign_in("erik")
        token = await b.token("/-/kb/agenda")
        added = await b.post("/-/kb/agenda/new", {"csrftoken": token, "question": "Vem äger laddfrågan?",
                                                  "owner": "Central", "entries": "laddplatser"})
        question_id = "lq-vem-ager-laddfragan"
        closed = await b.post(f"/-/kb/agenda/{question_id}/close",
                              {"csrftoken": token, "answer": "Fastighets- och gatukontoret.", "action": "answer"})
        after = await b.get("/-/kb/agenda")
        return page, as_json, added, closed, after

    page, as_json, added, closed, after = run(loop_root, scenario)
    assert page.status_code == 200 and "Hur får vi effektbesked tidigt?" in page.text
    assert "Att lägga till, formulera om och besvara lärfrågor kräver rollen samordnare." in page.text
    assert {"id", "question", "owner", "opened", "status", "entries", "sessions_open"} <= set(as_json.json()["questions"][0])
    assert added.status_code == 302 and closed.status_code == 302
    assert "Besvarade och avskrivna" in after.text and "Fastighets- och gatukontoret." in after.text


def test_entry_page_offers_proposing_an_action_by_role(loop_root):
    async def scenario(b):
        visitor = await b.get("/-/kb/entry/vaermepump-holma"), await b.get("/-/kb/entry/solar-roofs?lang=en")
        await b.sign_in("anna")  # a writer
        writer = await b.get("/-/kb/entry/vaermepump-holma")
        await b.sign_in("erik")  # a facilitator
        facilitator = await b.get("/-/kb/entry/vaermepump-holma"), await b.get("/-/kb/entry/solar-roofs?lang=en")
        return visitor, writer, facilitator

    (holma, solar), writer, (erik_holma, erik_solar) = run(loop_root, scenario)
    assert "Åtgärder på den här lärdomen" in holma.text and "Kapacitetsbesked före projektering" in holma.text
    # a visitor: which role it takes, and a sign-in that comes back to this entry
    assert "/-/kb/actions/new" not in holma.text
    assert "Att föreslå och besluta om åtgärder kräver rollen samordnare." in holma.text
    assert 'href="/-/kb/login?next=%2F-%2Fkb%2Fentry%2Fvaermepump-holma"' in holma.text
    assert "No action yet." in solar.text and "Proposing and deciding on actions takes the role facilitator" in solar.text
    # a writer: no button that leads to a sign-in page, no sign-in link, but why
    assert "/-/kb/actions/new" not in writer.text and "Föreslå åtgärd" not in writer.text
    assert "Du är inloggad som anna med rollen skribent" in writer.text
    assert "/-/kb/login" not in writer.text
    # a facilitator: the button
    assert 'href="/-/kb/actions/new?lesson=vaermepump-holma"' in erik_holma.text
    assert "kräver rollen" not in erik_holma.text and "Propose an action" in erik_solar.text


def test_atom_feeds_are_valid_for_a_real_feed_parser(loop_root):
    async def scenario(b):
        return [await b.get(p) for p in ("/-/kb/feed.atom", "/-/kb/feed.atom?area=bygg&lang=en",
                                         "/-/kb/actions.atom", "/-/kb/feed.atom?area=hav")]

    entries, bygg, actions, bad = run(loop_root, scenario)
    assert entries.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(entries.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title.startswith("Nya lärdomar") and len(feed.entries) == 4
    newest = feed.entries[0]
    assert newest.title == "Värmepumpar i Holma krävde kapacitetsbesked från E.ON"
    assert newest.link.endswith("/-/kb/entry/vaermepump-holma") and newest.id.startswith("urn:uuid:")
    assert newest.updated.startswith("2026-06-10") and "elnät" in [t.term for t in newest.tags]
    english = feedparser.parse(bygg.content)
    assert not english.bozo and [e.title for e in english.entries] == [newest.title]
    assert english.feed.title.startswith("New lessons")
    due = feedparser.parse(actions.content)
    assert not due.bozo and [e.title for e in due.entries][0].startswith("Kapacitetsbesked före projektering")
    assert "försenad" in due.entries[0].title and due.entries[0].author == "Stadsfastigheter"
    assert bad.status_code == 400


@pytest.mark.parametrize(("wanted", "landing"), [
    ("/-/kb/actions/new?lesson=laddplatser", "/-/kb/actions/new?lesson=laddplatser"),
    ("/-/kb/agenda", "/-/kb/agenda"),
    ("/-/kb/entry/laddplatser?lang=en", "/-/kb/entry/laddplatser?lang=en"),
    ("/", "/"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example/x", "/"),
    ("/-/kb/actions/new?lesson=x%22%3E<script>", "/"),
    ("/-/kb/../../etc", "/"),
    ("/-/kb/%2e%2e/etc", "/"),
    ("/-/kb/login?next=/-/kb/login", "/"),
])
def test_sign_in_returns_only_to_our_own_pages(loop_root, wanted, landing):
    async def scenario(b):
        token = await b.token("/-/kb/login")
        return await b.post("/-/kb/login", {"csrftoken": token, "username": "erik", "password": PASSWORD,
                                            "next": wanted})

    response = run(loop_root, scenario)
    assert response.status_code == 302 and response.headers["location"] == landing


def test_sessions_are_recorded_on_the_web_and_the_brief_counts_from_the_last_held(loop_root):
    record_session(loop_root, "2026-03-11", "Lärtillfälle mars 2026")
    ahead = (dt.date.today() + dt.timedelta(days=7)).isoformat()

    async def scenario(b):
        visitor = await b.get("/-/kb/sessions")
        await b.sign_in("erik")
        page = await b.get("/-/kb/sessions")
        token = TOKEN_RE.search(page.text).group(1)
        bad = await b.post("/-/kb/sessions/new", {"csrftoken": token, "date": "nästa onsdag", "title": "x"})
        long = await b.post("/-/kb/sessions/new", {"csrftoken": token, "date": ahead, "title": "x" * 400})
        control = await b.post("/-/kb/sessions/new", {"csrftoken": token, "date": ahead, "title": "Extra\x01"})
        english = await b.post("/-/kb/sessions/new", {"csrftoken": token, "lang": "en", "date": ahead, "title": "x" * 400})
        added = await b.post("/-/kb/sessions/new", {"csrftoken": token, "date": ahead,
                                                    "title": "Lärtillfälle nästa vecka"})
        return (visitor, page, bad, long, control, english, added, await b.get("/-/kb/sessions.json"),
                await b.get("/-/kb/brief"))

    visitor, page, bad, long, control, english, added, as_json, brief = run(loop_root, scenario)
    # refused in the page's language, and nothing recorded
    assert long.status_code == 400 and "Rubriken är för lång (högst 200 tecken)." in long.text
    assert control.status_code == 400 and "Rubriken innehåller otillåtna styrtecken." in control.text
    assert english.status_code == 400 and "The title is too long (at most 200 characters)." in english.text
    assert "Lärtillfälle mars 2026" in visitor.text
    assert "Att registrera lärtillfällen kräver rollen samordnare." in visitor.text
    assert 'name="title"' not in visitor.text and 'name="title"' in page.text
    assert bad.status_code == 400 and "Ogiltigt datum nästa onsdag" in bad.text
    assert added.status_code == 302
    data = as_json.json()
    assert data["next_session"] == ahead
    assert data["sessions"][-1] == {"date": ahead, "title": "Lärtillfälle nästa vecka", "held": False}
    # the brief's "since" still means the last session held, by its name
    assert "Sedan förra lärtillfället (2026-03-11, Lärtillfälle mars 2026)" in brief.text
    assert "Sedan förra underlaget" not in brief.text


def test_a_filtered_feed_names_its_filter_keeps_it_and_links_absolutely(loop_root):
    unfiltered_id = feedparser.parse(run(loop_root, lambda b: b.get("/-/kb/feed.atom")).content).feed.id
    path = loop_root / "entries/bygg/vaermepump-holma.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", "---\nauthor: anna.lind@malmo.se\n", 1),
                    encoding="utf-8")
    path = loop_root / "entries/mobilitet/laddplatser.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", "---\nauthor: erik\n", 1), encoding="utf-8")
    toml = loop_root / "kb.toml"
    toml.write_text('base_url = "https://larande.example.se"\n' + toml.read_text(encoding="utf-8")
                    + '\n[auth.names]\nerik = "Erik Holm"\n', encoding="utf-8")
    KnowledgeBase.open(loop_root).index()

    async def scenario(b):
        return [await b.get(p) for p in ("/-/kb/feed.atom?area=bygg", "/-/kb/feed.atom?area=mobilitet&type=lesson",
                                         "/-/kb/feed.atom", "/-/kb/actions.atom")]

    bygg, mobility, everything, actions = [feedparser.parse(r.content) for r in run(loop_root, scenario)]
    assert not bygg.bozo and not mobility.bozo
    # the title names the filter, so two subscriptions are told apart
    assert bygg.feed.title == "Nya lärdomar – Test-KB – Bygg och fastigheter"
    assert mobility.feed.title == "Nya lärdomar – Test-KB – Mobilitet och transporter · lärdomar"
    assert everything.feed.title == "Nya lärdomar – Test-KB" and everything.feed.id == unfiltered_id
    assert bygg.feed.id != everything.feed.id
    # the self link keeps the filter; every link is absolute, from base_url
    self_link = next(link.href for link in bygg.feed.links if link.rel == "self")
    assert self_link == "https://larande.example.se/-/kb/feed.atom?area=bygg"
    assert bygg.entries[0].link == "https://larande.example.se/-/kb/entry/vaermepump-holma"
    assert actions.entries[0].link.startswith("https://larande.example.se/-/kb/actions/")
    # the author: the writer's display name, else the area; never the e-mail they sign in with
    assert bygg.entries[0].author == "Bygg och fastigheter"
    assert "anna.lind" not in run(loop_root, lambda b: b.get("/-/kb/feed.atom")).text
    assert mobility.entries[0].author == "Erik Holm"
    assert everything.feed.author == "Test-KB"
