"""Who may see a lesson, an action or a learning question: the model (kb.core.visibility),
kb.toml's default, the front matter key with its problems by line, the index column, the
pages and forms, ``kb show`` and the partner role."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from datasette_plugins.serve import make_datasette
from indexer.actions import load_actions
from indexer.agenda import load_agenda
from indexer.discover import load_entries
from kb.app import auth
from kb.app.actions import ActionInvalid, create_action, set_status
from kb.app.agenda import add_question, close_question
from kb.app.auth import AuthSettings, LiveAuth
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.config import load
from kb.core.errors import ConfigError
from kb.core.visibility import AUDIENCES, VISIBILITIES, may_see, sql_condition, visible_to

from .helpers import PASSWORD, TOKEN_RE, Browser, entry_text, set_auth, set_web

ENTRY = {"id": "delad", "title": "Elnätet räckte inte till laddhubben", "area": "energi", "date": "2026-02-01",
         "type": "obstacle"}


def set_sharing(root, body: str) -> None:
    with open(root / "kb.toml", "a", encoding="utf-8") as handle:
        handle.write("\n[sharing]\n" + body + "\n")


def write_entry(root, front: dict, name: str = "delad") -> None:
    path = root / "entries" / front["area"] / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(entry_text(front, happened="Kapaciteten saknades i elnätet."), encoding="utf-8")


# --- the model ------------------------------------------------------------------------------------
def test_each_audience_sees_its_own_levels_and_nothing_narrower():
    assert visible_to("staff") == VISIBILITIES
    assert visible_to("partner") == ("partner", "public")
    assert visible_to("public") == ("public",)
    assert visible_to("someone else") == ("public",)  # closed, not open
    assert [a for a in AUDIENCES if may_see(a, "internal")] == ["staff"]
    assert not may_see("partner", None)  # no value (an older index) counts as internal


def test_the_sql_condition_lets_each_audience_reach_only_its_rows(tmp_path):
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("create table entries (id text, visibility text)")
    conn.executemany("insert into entries values (?, ?)",
                     [("a", "internal"), ("b", "partner"), ("c", "public"), ("d", None)])
    seen = {}
    for audience in AUDIENCES:
        where, params = sql_condition(audience)
        seen[audience] = [r[0] for r in conn.execute(f"select id from entries where {where} order by id", params)]
    assert seen == {"staff": ["a", "b", "c", "d"], "partner": ["b", "c"], "public": ["c"]}


# --- kb.toml and the files ----------------------------------------------------------------------
def test_the_default_is_internal_and_kb_toml_can_change_it(kb_root):
    assert load(kb_root).default_visibility == "internal"
    assert {e.visibility for e in load_entries(load(kb_root)).entries} == {"internal"}
    set_sharing(kb_root, 'visibility = "partner"')
    write_entry(kb_root, {**ENTRY, "visibility": "public"})
    found = {e.id: e.visibility for e in load_entries(load(kb_root)).entries}
    assert found.pop("delad") == "public" and set(found.values()) == {"partner"}


@pytest.mark.parametrize(("body", "message"), [
    ('visibility = "hemlig"', r"kb.toml:\d+: \[sharing\] visibility = 'hemlig' is not a visibility"),
    ('licence = "CC BY"', r"licence = 'CC BY' is not a web address"),
    ('contact_email = "klimat"', r"contact_email = 'klimat' is not an e-mail address"),
    ('organisation_number = "12"', r"organisation_number = '12' is not an organisation number"),
    ("visibility = 3", r"visibility = 3 must be a short text"),
])
def test_a_wrong_sharing_value_names_kb_toml_its_line_and_what_to_write(kb_root, body, message):
    set_sharing(kb_root, body)
    with pytest.raises(ConfigError, match=message) as info:
        load(kb_root)
    line = (kb_root / "kb.toml").read_text(encoding="utf-8").splitlines().index(body) + 1
    assert f"kb.toml:{line}:" in str(info.value)
    assert info.value.hint


def test_kb_validate_names_a_wrong_visibility_by_file_and_line(kb_root):
    write_entry(kb_root, {**ENTRY, "visibility": "hemlig"})
    result = CliRunner().invoke(cli, ["validate", "--root", str(kb_root)])
    assert result.exit_code == 1
    assert ("entries/energi/delad.md:7: unknown visibility 'hemlig': use one of internal, partner, public"
            in result.output)


def test_actions_and_questions_have_a_visibility_checked_like_the_other_keys(kb_root):
    config = load(kb_root)
    folder = kb_root / "actions"
    folder.mkdir()
    front = ("---\nid: {id}\ntitle: Ring nätägaren\nowner: Energi\ndue: 2026-06-01\nstatus: proposed\n"
             "lessons: [laddplatser]\n{extra}---\n")
    (folder / "ok.md").write_text(front.format(id="ok", extra="visibility: public\n"), encoding="utf-8")
    (folder / "standard.md").write_text(front.format(id="standard", extra=""), encoding="utf-8")
    (folder / "fel.md").write_text(front.format(id="fel", extra="visibility: alla\n"), encoding="utf-8")
    found = load_actions(config)
    assert {a.id: a.visibility for a in found.actions} == {"ok": "public", "standard": "internal"}
    assert [p.format(kb_root) for p in found.problems] == [
        "actions/fel.md:8: unknown visibility 'alla': use one of internal, partner, public "
        "(or leave the key out for kb.toml's [sharing] visibility)"]
    question = add_question(config, "Hur når vi nätägaren?", owner="Energi", visibility="partner")
    assert question.visibility == "partner"
    assert "visibility: partner" in question.path.read_text(encoding="utf-8")
    with pytest.raises(ActionInvalid):
        add_question(config, "Vem bestämmer?", owner="Energi", visibility="hemlig")


def test_rewriting_an_action_or_question_keeps_what_its_file_says_and_adds_no_default(kb_root):
    config = load(kb_root)
    shared = create_action(config, title="Delad rutin", lessons=["laddplatser"], owner="Energi",
                           due=dt.date(2026, 6, 1), visibility="public")
    plain = create_action(config, title="Intern rutin", lessons=["laddplatser"], owner="Energi",
                          due=dt.date(2026, 6, 1))
    for action in (shared, plain):
        set_status(config, action.id, "agreed")
    assert "visibility: public" in shared.path.read_text(encoding="utf-8")
    assert "visibility" not in plain.path.read_text(encoding="utf-8")
    question = add_question(config, "Hur når vi nätägaren?", owner="Energi", visibility="public")
    close_question(config, question.id, answer="Genom kapacitetskartan.")
    assert load_agenda(config).by_id[question.id].visibility == "public"
    set_sharing(kb_root, 'visibility = "partner"')  # a new default reaches the file without a key
    assert {a.id: a.visibility for a in load_actions(load(kb_root)).actions} == {
        shared.id: "public", plain.id: "partner"}


# --- the index, kb show and kb new ----------------------------------------------------------------
def test_the_index_keeps_each_entrys_visibility_and_kb_show_says_it(kb_root):
    set_sharing(kb_root, 'visibility = "partner"')
    write_entry(kb_root, {**ENTRY, "visibility": "public"})
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    rows = dict(kb.store.db.execute("select id, visibility from entries").fetchall())
    kb.close()
    assert rows.pop("delad") == "public" and set(rows.values()) == {"partner"}
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", "delad", "--root", str(kb_root)])
    assert shown.exit_code == 0 and "visibility: public" in shown.output
    as_json = runner.invoke(cli, ["show", "laddplatser", "--root", str(kb_root), "--json"])
    assert json.loads(as_json.output)["visibility"] == "partner"
    # changing the key re-indexes the entry (its content hash changes)
    write_entry(kb_root, {**ENTRY, "visibility": "internal"})
    kb = KnowledgeBase.open(kb_root)
    report = kb.index()
    assert report.updated == ["delad"]
    assert kb.store.get_entries(["delad"])["delad"]["visibility"] == "internal"
    kb.close()


def test_kb_new_writes_the_default_visibility_into_the_template_or_the_one_asked_for(kb_root):
    set_sharing(kb_root, 'visibility = "partner"')
    runner = CliRunner()
    for args, expected in ((["--title", "Mall ett"], "partner"), (["--title", "Mall två", "--visibility", "public"],
                                                                  "public")):
        result = runner.invoke(cli, ["new", "--root", str(kb_root), "--area", "energi", "--no-edit", *args])
        assert result.exit_code == 0, result.output
        path = kb_root / result.output.split("Created ")[1].split("\n")[0]
        assert f"visibility: {expected}\n" in path.read_text(encoding="utf-8")
    refused = runner.invoke(cli, ["new", "--root", str(kb_root), "--area", "energi", "--no-edit",
                                  "--title", "Tre", "--visibility", "alla"])
    assert refused.exit_code == 2


# --- pages and forms ----------------------------------------------------------------------------
@pytest.fixture
def web_root(kb_root, monkeypatch):
    monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password(PASSWORD, iterations=1000))
    set_sharing(kb_root, 'visibility = "partner"')
    write_entry(kb_root, {**ENTRY, "visibility": "public"})
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    kb.close()
    return kb_root


def run(root, scenario):
    import asyncio

    ds = make_datasette(root)

    async def go():
        await ds.invoke_startup()
        return await scenario(Browser(ds))

    return asyncio.run(go())


def test_pages_say_intern_partner_oppen_in_swedish_and_the_words_in_english(web_root):
    async def scenario(b):
        return [await b.get(p) for p in ("/-/kb/entry/delad", "/-/kb/entry/delad?lang=en",
                                         "/-/kb/entry/laddplatser", "/kb/entries/delad")]

    sv, en, partner, row = run(web_root, scenario)
    assert 'kb-visibility-public">öppen</span>' in sv.text
    assert 'kb-visibility-public">public</span>' in en.text
    assert 'kb-visibility-partner">partner</span>' in partner.text
    assert "öppen" in row.text  # Datasette's row page shows the word, not the stored value


def test_the_form_offers_the_kb_toml_default_and_writes_the_choice(web_root):
    form = {"title": "Nätägaren svarade inom en vecka", "area": "energi", "type": "lesson", "date": "2026-05-04",
            "sprint": "", "tags": "", "actors": "", "roadmap": "", "happened": "Vi frågade tidigt.",
            "learned": "Fråga tidigt.", "next": ""}

    async def scenario(b):
        await b.sign_in()
        page = await b.get("/-/kb/new")
        token = TOKEN_RE.search(page.text).group(1)
        bad = await b.post("/-/kb/new", {**form, "csrftoken": token, "visibility": "alla", "action": "save"})
        saved = await b.post("/-/kb/new", {**form, "csrftoken": token, "visibility": "public", "action": "save"})
        return page, bad, saved

    page, bad, saved = run(web_root, scenario)
    assert '<legend>Synlighet</legend>' in page.text
    assert 'value="partner" id="f-visibility-partner" checked' in page.text
    assert bad.status_code == 400 and "Okänd synlighet" in bad.text
    assert saved.status_code == 302
    written = (web_root / "entries" / "energi" / "natagaren-svarade-inom-en-vecka.md").read_text(encoding="utf-8")
    assert "visibility: public\n" in written

# --- the partner role ---------------------------------------------------------------------------
def test_a_partner_reads_as_partner_staff_as_staff_and_a_visitor_as_public(kb_root):
    set_auth(kb_root, 'roles = { eon = "partner", erik = "facilitator" }',
             writers={"anna": auth.hash_password(PASSWORD, iterations=1000)})
    settings = AuthSettings.from_config(load(kb_root))
    assert settings.role_of("eon") == "partner"
    assert not settings.has_role("eon", "reader") and settings.has_role("anna", "partner")
    assert {name: settings.audience_of(name) for name in ("eon", "anna", "erik", "okänd")} == {
        "eon": "partner", "anna": "staff", "erik": "staff", "okänd": "staff"}
    # a visitor who has not signed in: as kb.toml [web] visitors says, public by default
    assert settings.audience_of(None) == "staff"  # the sample knowledge base is an intranet
    for visitors in ("public", "partner", None):
        set_web(kb_root, visitors=visitors or "public")
        if visitors is None:
            text = (kb_root / "kb.toml").read_text(encoding="utf-8").replace('visitors = "public"\n', "")
            (kb_root / "kb.toml").write_text(text, encoding="utf-8")
        assert AuthSettings.from_config(load(kb_root)).audience_of(None) == (visitors or "public")
    # a kb.toml that cannot be read closes the door: no one reads as staff
    live = LiveAuth(kb_root)
    (kb_root / "kb.toml").write_text("[[broken", encoding="utf-8")
    assert live.current().audience_of("erik") == "public"
