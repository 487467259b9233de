"""Learned means it did not come back: once an action is validated, a later obstacle entry that
joins its obstacle group, or lies close to its lessons, is flagged as a recurrence (and counted
in the loop's figures); nothing before the validation, nothing for an action not validated."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from click.testing import CliRunner

from analysis.corpus import load_corpus
from analysis.loop import load_loop, loop_figures
from analysis.obstacles import recurring_obstacles
from analysis.recurrence import CLOSE, GROUP, find_recurrences
from datasette_plugins.serve import make_datasette
from kb.app.actions import create_action, set_status
from kb.app.curation import record_link
from kb.app.forget import forget
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from reports.brief import Links, compose_brief, render_html_fragment, render_markdown
from reports.report import render_markdown as render_report
from reports.report import yearly_report

from .helpers import entry_text, set_web

# a fourth procurement obstacle: joins the group of the three (tests/test_obstacle_ids.py)
PROCUREMENT_AGAIN = entry_text(
    {"id": "byg-overprovning-2", "title": "Rivningsentreprenaden överprövades och återbruket fick vänta",
     "area": "bygg", "date": "2026-06-01", "sprint": "2026-S2", "type": "obstacle",
     "tags": ["upphandling", "överprövning"], "related": []},
    happened="Upphandlingen av rivningen överprövades av en leverantör och återbruket försenades.",
    learned="Överprövning av upphandlingen måste finnas med i tidplanen.",
)
# an obstacle that says again what the lesson mob-natagare (no obstacle of its own, so in no
# group) answered: the same words, the same tag
GRID_AGAIN = entry_text(
    {"id": "mob-natagare-igen", "title": "Vi ringde inte nätägaren innan platsen för laddhubben valdes",
     "area": "mobilitet", "date": "2026-06-15", "sprint": "2026-S2", "type": "obstacle", "tags": ["elnät"],
     "related": []},
    happened="Platsen för den nya laddhubben valdes innan nätägaren fick frågan om kapaciteten i elnätet, "
             "och nu väntar vi ett år på elnätet.",
    learned="Ring nätägaren om kapaciteten i elnätet innan platsen för laddhubben väljs, varje gång.",
)


def _add(kb, rel: str, text: str) -> None:
    (kb.config.root / "entries" / rel).write_text(text, encoding="utf-8")
    kb.index()


def _validated(config, title: str, lessons: list[str], on: dt.date, *, validate: bool = True):
    action = create_action(config, title=title, lessons=lessons, owner="Upphandlingsavdelningen",
                           due=on - dt.timedelta(days=30), today=on - dt.timedelta(days=60))
    for status in ("agreed", "done"):
        set_status(config, action.id, status, today=on - dt.timedelta(days=40))
    if validate:
        set_status(config, action.id, "validated", note="Inga överprövningar på ett halvår.", today=on)
    return action


def _watched(kb):
    return load_loop(kb.config, today=dt.date(2026, 12, 1)).watch(kb)


def test_an_entry_joining_the_group_of_a_validated_action_recurs(cross_kb):
    action = _validated(cross_kb.config, "Tid för överprövning i varje tidplan", ["mob-overprovning"],
                        dt.date(2026, 5, 15))
    # byg-overprovning (2026-05-01) is in the group but came before the validation
    assert _watched(cross_kb).recurred == {action.id: []}
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    group = next(g for g in recurring_obstacles(cross_kb) if "mob-overprovning" in g.entries)
    assert "byg-overprovning-2" in group.entries
    [again] = _watched(cross_kb).recurred[action.id]
    assert (again.entry, again.how, again.group, again.area, again.date) == (
        "byg-overprovning-2", GROUP, group.id, "bygg", "2026-06-01")
    assert again.group_label == group.label
    # a facilitator who judges it another obstacle than the action's lesson takes the flag away
    record_link(cross_kb.config, "mob-overprovning", "byg-overprovning-2", "unrelated")
    assert _watched(cross_kb).recurred[action.id] == []


def test_an_entry_close_to_the_lessons_recurs_without_joining_a_group(cross_kb):
    # the lesson is in no obstacle group: only closeness can watch it
    assert not any("mob-natagare" in g.entries for g in recurring_obstacles(cross_kb))
    action = _validated(cross_kb.config, "Nätägaren först", ["mob-natagare"], dt.date(2026, 4, 1))
    _add(cross_kb, "mobilitet/mob-natagare-igen.md", GRID_AGAIN)
    [again] = _watched(cross_kb).recurred[action.id]
    assert (again.entry, again.how, again.group, again.close_to) == (
        "mob-natagare-igen", CLOSE, None, ["mob-natagare"])
    # ene-effekt (2026-03-11, an obstacle about the grid) came before the validation
    # a facilitator who judges the pair unrelated takes the flag away
    record_link(cross_kb.config, "mob-natagare", "mob-natagare-igen", "unrelated")
    assert _watched(cross_kb).recurred[action.id] == []


def test_closeness_must_hold_from_both_sides(cross_kb):
    action = _validated(cross_kb.config, "Nätägaren först", ["mob-natagare"], dt.date(2026, 4, 1))
    _add(cross_kb, "mobilitet/mob-natagare-igen.md", GRID_AGAIN)
    corpus = load_corpus(cross_kb)
    one_side = {"mob-natagare": {"mob-natagare-igen"}}
    both = {**one_side, "mob-natagare-igen": {"mob-natagare"}}
    [action] = load_loop(cross_kb.config).actions
    assert find_recurrences([action], corpus, [], lambda e: one_side.get(e, set())) == {action.id: []}
    [again] = find_recurrences([action], corpus, [], lambda e: both.get(e, set()))[action.id]
    assert (again.entry, again.how, again.close_to) == ("mob-natagare-igen", CLOSE, ["mob-natagare"])


def test_nothing_dated_before_the_validation_counts(cross_kb):
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    late = _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning"], dt.date(2026, 6, 1))
    assert _watched(cross_kb).recurred[late.id] == []  # the same day is not after


def test_an_action_not_validated_watches_nothing(cross_kb):
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    done = _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning"], dt.date(2026, 1, 1),
                      validate=False)
    loop = _watched(cross_kb)
    assert loop.recurred == {done.id: []}
    assert loop.action_dict(done)["recurred"] == []
    assert load_loop(cross_kb.config).action_dict(done)["recurred"] is None  # not watched: not known


def test_a_withdrawn_entry_no_longer_recurs_and_a_withdrawn_lesson_is_no_longer_watched(cross_kb):
    action = _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning", "mob-natagare"],
                        dt.date(2026, 4, 1))
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    _add(cross_kb, "mobilitet/mob-natagare-igen.md", GRID_AGAIN)
    found = {r.entry: r.how for r in _watched(cross_kb).recurred[action.id]}
    assert found["byg-overprovning-2"] == GROUP and found["mob-natagare-igen"] == CLOSE
    forget(cross_kb.config, "byg-overprovning-2", yes=True)  # the recurring entry is erased
    assert "byg-overprovning-2" not in {r.entry for r in _watched(cross_kb).recurred[action.id]}
    forget(cross_kb.config, "mob-natagare", yes=True)  # the lesson is erased: kb forget takes it out of the action
    loop = _watched(cross_kb)
    assert [a.lessons for a in loop.actions] == [["mob-overprovning"]]
    # what the lesson watched is no longer a recurrence; byg-overprovning (2026-05-01) still is one
    assert [r.entry for r in loop.recurred[action.id]] == ["byg-overprovning"]


def test_the_loop_figures_count_validated_actions_that_held_and_that_recurred(cross_kb):
    recurred = _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning"], dt.date(2026, 5, 15))
    held = _validated(cross_kb.config, "Effektbesked i tid", ["mob-effekt"], dt.date(2026, 5, 20))
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    loop = _watched(cross_kb)
    assert [r.entry for r in loop.recurred[recurred.id]] == ["byg-overprovning-2"] and loop.recurred[held.id] == []
    figures = loop_figures(loop, since="2026-01-01", until="2026-12-31").to_dict()
    assert (figures["validated"], figures["validated_held"], figures["validated_recurred"]) == (2, 1, 1)
    # by the end of May the obstacle had not come back yet
    may = loop_figures(loop, since="2026-01-01", until="2026-05-31")
    assert (may.validated, may.validated_held, may.validated_recurred) == (2, 2, 0)
    # a loop not watched does not claim that anything held
    unwatched = loop_figures(load_loop(cross_kb.config), since="2026-01-01").to_dict()
    assert unwatched["validated"] == 2 and unwatched["validated_recurred"] is None


def test_kb_actions_shows_the_flag_and_gives_it_to_scripts(cross_kb):
    action = _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning"], dt.date(2026, 5, 15))
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    root = str(cross_kb.config.root)
    listed = CliRunner().invoke(cli, ["actions", "--root", root])
    assert listed.exit_code == 0, listed.output
    assert "ÅTERKOMMER TROTS VALIDERAD ÅTGÄRD" in listed.stdout
    assert "återkommer: byg-overprovning-2 (Bygg och fastigheter, 2026-06-01, gick med i hinder-" in listed.stdout
    data = json.loads(CliRunner().invoke(cli, ["actions", "--json", "--root", root]).stdout)
    [recurrence] = data[0]["recurred"]
    assert data[0]["id"] == action.id
    assert recurrence["entry"] == "byg-overprovning-2" and recurrence["how"] == "group"
    assert recurrence["group"].startswith("hinder-") and recurrence["date"] == "2026-06-01"


def test_the_brief_flags_it_near_the_actions_to_follow_up_within_its_window(cross_kb):
    action = _validated(cross_kb.config, "Tid för överprövning i varje tidplan", ["mob-overprovning"],
                        dt.date(2026, 5, 15))
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    root = cross_kb.config.root
    brief = compose_brief(cross_kb, since="2026-05-20", today="2026-07-01", next_session="2026-09-01")
    [item] = brief.recurred
    assert item.action.id == action.id and [e.id for e in item.entries] == ["byg-overprovning-2"]
    text = render_markdown(brief, Links(root))
    first = text.split("## Åtgärder att följa upp")[1].split("\n## ")[1]  # the section right after
    assert first.startswith("Återkommer trots validerad åtgärd\n")
    assert "Av 1 validerade åtgärder har 0 hållit och 1 fått sitt hinder tillbaka, 1 av dem i perioden." in first
    assert "- **Tid för överprövning i varje tidplan** (Upphandlingsavdelningen, validerad 2026-05-15)" in first
    assert ("  - 2026-06-01 · Bygg och fastigheter · [Rivningsentreprenaden överprövades och återbruket fick vänta]"
            "(entries/bygg/byg-overprovning-2.md) – gick med i ”") in first
    # the facilitator's first question
    assert brief.questions[0] == ("Åtgärden ”Tid för överprövning i varje tidplan” validerades 2026-05-15, men "
                                  "hindret kom tillbaka (Bygg och fastigheter, 2026-06-01). Höll inte förbättringen, "
                                  "eller är det ett annat hinder?")
    html = render_html_fragment(brief, Links(root))
    assert "kbb-recurred" in html and "Återkommer trots validerad åtgärd" in html
    english = render_markdown(compose_brief(cross_kb, since="2026-05-20", lang="en", today="2026-07-01"), Links(root))
    assert "## Recurs despite a validated action" in english and "joined “" in english
    # before the window it is not listed in this brief, but the action did not hold (as the
    # yearly report counts it: a recurrence by the period's end)
    later = compose_brief(cross_kb, since="2026-06-02", today="2026-07-01")
    assert later.recurred == [] and later.validated_total == 1 and later.recurred_total == 1
    later_text = render_markdown(later, Links(root))
    assert "Av 1 validerade åtgärder har 0 hållit och 1 fått sitt hinder tillbaka, 0 av dem i perioden." in later_text
    assert "Inget hinder för en validerad åtgärd har kommit tillbaka i perioden." in later_text
    # a period that ends before it came back: the action held then
    earlier = compose_brief(cross_kb, since="2026-05-16", until="2026-05-31", today="2026-07-01")
    assert earlier.validated_total == 1 and earlier.recurred_total == 0
    energy = compose_brief(cross_kb, since="2026-05-20", areas=["energi"], today="2026-07-01")
    assert energy.recurred == [] and energy.validated_total == 0
    # the action is mobilitet's (its lesson), the obstacle came back in bygg: both briefs show it
    for area in ("mobilitet", "bygg"):
        scoped = compose_brief(cross_kb, since="2026-05-20", areas=[area], today="2026-07-01")
        assert [i.action.id for i in scoped.recurred] == [action.id] and scoped.validated_total == 1
    # nothing validated yet: no such section at all
    (root / "actions" / f"{action.id}.md").unlink()
    assert "Återkommer trots" not in render_markdown(compose_brief(cross_kb, today="2026-07-01"), Links(root))


def test_the_yearly_report_counts_held_and_recurred(cross_kb):
    _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning"], dt.date(2026, 5, 15))
    _validated(cross_kb.config, "Effektbesked i tid", ["mob-effekt"], dt.date(2026, 5, 20))
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    report = yearly_report(cross_kb, 2026)
    assert (report.figures["validated"], report.figures["validated_held"], report.figures["validated_recurred"]) \
        == (2, 1, 1)
    text = render_report(report, Links(cross_kb.config.root))
    assert "Validerade åtgärder: 2, varav 1 höll och 1 fick sitt hinder tillbaka" in text


def test_the_action_pages_flag_it_with_the_entries_linked(cross_kb):
    action = _validated(cross_kb.config, "Tid för överprövning i varje tidplan", ["mob-overprovning"],
                        dt.date(2026, 5, 15))
    held = _validated(cross_kb.config, "Effektbesked i tid", ["mob-effekt"], dt.date(2026, 5, 20))
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    ds = make_datasette(cross_kb.config.root)

    async def go():
        await ds.invoke_startup()
        paths = (f"/-/kb/actions/{action.id}", f"/-/kb/actions/{action.id}.json", f"/-/kb/actions/{held.id}",
                 "/-/kb/actions", "/-/kb/actions.json", f"/-/kb/actions/{action.id}?lang=en")
        return [await ds.client.get(p) for p in paths]

    page, data, held_page, listing, listed, english = asyncio.run(go())
    assert page.status_code == 200
    flag = page.text.split('id="kb-recurred-heading"')[1].split("</section>")[0]
    assert ">Återkommer trots validerad åtgärd</h2>" in flag and "Åtgärden validerades 2026-05-15." in flag
    assert '<a href="/-/kb/entry/byg-overprovning-2">Rivningsentreprenaden överprövades och återbruket fick vänta</a>' \
        in flag
    assert "Bygg och fastigheter" in flag and '<time datetime="2026-06-01">2026-06-01</time>' in flag
    assert "gick med i ”" in flag and "(hinder-" in flag
    [recurrence] = data.json()["recurred"]
    assert recurrence["entry"] == "byg-overprovning-2" and recurrence["how"] == "group"
    assert "kb-recurred-heading" not in held_page.text
    assert "Inget hinder har kommit tillbaka sedan åtgärden validerades 2026-05-20." in held_page.text
    item = listing.text.split(f'/-/kb/actions/{action.id}"')[1].split("</li>")[0]
    assert "Återkommer trots validerad åtgärd" in item
    by_id = {a["id"]: a["recurred"] for a in listed.json()["actions"]}
    assert [r["entry"] for r in by_id[action.id]] == ["byg-overprovning-2"] and by_id[held.id] == []
    assert "Recurs despite a validated action" in english.text and "joined “" in english.text
    assert "Återkommer" not in english.text


def test_the_brief_page_shows_it_as_soon_as_the_action_is_validated(cross_kb):
    action = _validated(cross_kb.config, "Tid för överprövning i varje tidplan", ["mob-overprovning"],
                        dt.date(2026, 5, 15), validate=False)
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    ds = make_datasette(cross_kb.config.root)

    async def go():
        await ds.invoke_startup()
        before = await ds.client.get("/-/kb/brief?since=2026-05-20")
        # validated without a new index: the cached brief must not be served
        set_status(cross_kb.config, action.id, "validated", note="Inga överprövningar.", today=dt.date(2026, 5, 15))
        return before, await ds.client.get("/-/kb/brief?since=2026-05-20")

    before, after = asyncio.run(go())
    assert before.status_code == after.status_code == 200
    assert "Återkommer trots validerad åtgärd" not in before.text
    section = after.text.split('class="kbb-section kbb-recurred"')[1].split("</section>")[0]
    assert "Tid för överprövning i varje tidplan" in section and "Rivningsentreprenaden överprövades" in section


def test_every_action_says_recurred_in_json_and_null_only_without_an_index(cross_kb):
    open_action = create_action(cross_kb.config, title="Något att göra", lessons=["mob-effekt"], owner="Energi",
                                due=dt.date(2027, 1, 1))
    root = cross_kb.config.root
    data = json.loads(CliRunner().invoke(cli, ["actions", "--json", "--root", str(root)]).stdout)
    assert [(a["id"], a["recurred"]) for a in data] == [(open_action.id, [])]
    _validated(cross_kb.config, "Tid för överprövning", ["mob-overprovning"], dt.date(2026, 5, 15))
    (root / ".kb" / "kb.db").unlink()  # no index: not known
    result = CliRunner().invoke(cli, ["actions", "--json", "--root", str(root)])
    assert result.exit_code == 0 and {a["recurred"] for a in json.loads(result.stdout)} == {None}
    assert "run `kb index`" in result.stderr


def test_a_recurrence_is_shown_only_to_those_who_may_see_the_entry_that_came_back(cross_kb):
    """A public action whose obstacle came back in an internal entry: staff see the flag with the
    entry; a visitor sees the action as held (the internal entry is not theirs to know of)."""
    root = cross_kb.config.root
    with (root / "kb.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[sharing]\nvisibility = "public"\n')
    kb = KnowledgeBase.open(root)  # kb.toml read anew
    action = _validated(kb.config, "Tid för överprövning i varje tidplan",
                        ["mob-overprovning"], dt.date(2026, 5, 15))
    internal = PROCUREMENT_AGAIN.replace("type: obstacle\n", "type: obstacle\nvisibility: internal\n", 1)
    assert "visibility: internal" in internal
    (root / "entries" / "bygg" / "byg-overprovning-2.md").write_text(internal, encoding="utf-8")
    kb.index()
    kb.close()

    def answers(visitors: str):  # what a visitor who has not signed in reads as
        set_web(root, visitors=visitors)
        ds = make_datasette(root)

        async def go():
            await ds.invoke_startup()
            return [await ds.client.get(p) for p in
                    (f"/-/kb/actions/{action.id}", f"/-/kb/actions/{action.id}.json", "/-/kb/actions.json",
                     "/-/kb/brief?since=2026-05-20")]
        return asyncio.run(go())

    staff, visitor = answers("staff"), answers("public")
    assert all(r.status_code == 200 for r in staff + visitor)
    assert "Rivningsentreprenaden" in staff[0].text and staff[1].json()["recurred"]
    for answer in visitor:
        assert "Rivningsentreprenaden" not in answer.text and "byg-overprovning-2" not in answer.text
    assert visitor[1].json()["recurred"] == []


def test_the_pages_find_the_recurrences_once_per_state_of_the_index_and_the_actions(cross_kb, monkeypatch):
    import analysis.recurrence as recurrence_module

    action = _validated(cross_kb.config, "Tid för överprövning i varje tidplan", ["mob-overprovning"],
                        dt.date(2026, 5, 15), validate=False)
    _add(cross_kb, "bygg/byg-overprovning-2.md", PROCUREMENT_AGAIN)
    _validated(cross_kb.config, "Effektbesked i tid", ["mob-effekt"], dt.date(2026, 5, 20))
    calls = []
    found = recurrence_module.find_recurrences
    monkeypatch.setattr(recurrence_module, "find_recurrences", lambda *a, **k: calls.append(1) or found(*a, **k))
    ds = make_datasette(cross_kb.config.root)
    page = f"/-/kb/actions/{action.id}"

    async def go():
        await ds.invoke_startup()
        first = [await ds.client.get(p) for p in (page, "/-/kb/actions", f"{page}.json")]
        # validated now (on the web or by hand): the next page must not answer from before
        set_status(cross_kb.config, action.id, "validated", note="Inga överprövningar.", today=dt.date(2026, 5, 15))
        return first, await ds.client.get(page)

    first, after = asyncio.run(go())
    assert all(r.status_code == 200 for r in [*first, after])
    assert "kb-recurred-heading" not in first[0].text and 'id="kb-recurred-heading"' in after.text
    assert len(calls) == 2  # once for the three pages, once after the action's file changed


def test_the_brief_page_shows_a_group_renamed_since_it_was_made(cross_kb):
    from kb.app.curation import rename_obstacle

    group = next(g for g in recurring_obstacles(cross_kb) if "mob-overprovning" in g.entries)
    ds = make_datasette(cross_kb.config.root)

    async def go():
        await ds.invoke_startup()
        before = await ds.client.get("/-/kb/brief?since=2025-01-01")
        rename_obstacle(cross_kb.config, group.id, "Överprövningar stoppar upphandlingarna", who="omar")
        return before, await ds.client.get("/-/kb/brief?since=2025-01-01")

    before, after = asyncio.run(go())
    assert before.status_code == after.status_code == 200
    assert "Överprövningar stoppar upphandlingarna" not in before.text
    assert "Överprövningar stoppar upphandlingarna" in after.text
