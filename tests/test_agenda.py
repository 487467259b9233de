"""The learning agenda: questions with an owner, made from a recurring obstacle in one step,
answered or dropped, and flagged when they stay open for three learning sessions."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from analysis import obstacles
from analysis.loop import load_loop
from indexer.agenda import load_agenda
from kb.app.actions import ActionInvalid
from kb.app.agenda import QuestionExists, add_question, close_question, edit_question, question_from_obstacle
from kb.cli import cli
from kb.core import audit
from kb.core.config import load
from kb.core.errors import EntryInvalid, EntryNotFound
from kb.core.sessions import record_session, session_dates


def test_a_question_is_added_answered_and_never_reopened(kb_root):
    config = load(kb_root)
    q = add_question(config, "Hur får vi effektbesked tidigt?", owner="Energi", entries=["laddplatser"],
                     today=dt.date(2026, 1, 10))
    assert (q.id, q.status, q.entries) == ("lq-hur-far-vi-effektbesked-tidigt", "open", ["laddplatser"])
    with pytest.raises(ActionInvalid, match="Unknown lesson 'nope'"):
        add_question(config, "En fråga till", owner="Energi", entries=["nope"])
    with pytest.raises(ActionInvalid, match="Give the answer, or drop the question"):
        close_question(config, q.id)
    closed = close_question(config, q.id, answer="Ett samråd med E.ON per kvartal.", today=dt.date(2026, 6, 1))
    assert (closed.status, closed.closed, closed.answer) == ("answered", dt.date(2026, 6, 1),
                                                             "Ett samråd med E.ON per kvartal.")
    assert "## Svar\nEtt samråd med E.ON per kvartal." in closed.path.read_text(encoding="utf-8")
    with pytest.raises(ActionInvalid, match="already closed"):
        close_question(config, q.id, drop=True)
    with pytest.raises(EntryNotFound, match="no learning question with id 'lq-finns-inte'"):
        close_question(config, "lq-finns-inte", drop=True)
    assert load_agenda(config).problems == []
    broken = q.path.with_name("lq-trasig.md")
    broken.write_text("---\nquestion: [\n---\n", encoding="utf-8")
    with pytest.raises(EntryInvalid, match="lq-trasig.md"):  # a file that did not load names its problem
        close_question(config, "lq-trasig", drop=True)


def test_three_sessions_open_flag_a_question_for_its_own_session(kb_root):
    config = load(kb_root)
    q = add_question(config, "Vem äger laddfrågan?", owner="Central", today=dt.date(2026, 1, 10))
    for day in ("2025-12-01", "2026-02-01", "2026-04-01"):
        record_session(config.root, day, "lärtillfälle")
    assert session_dates(config.root) == ["2025-12-01", "2026-02-01", "2026-04-01"]
    loop = load_loop(config, today=dt.date(2026, 5, 1))
    data = loop.question_dict(loop.agenda.by_id[q.id])
    assert (data["sessions_open"], data["needs_own_session"], data["age_days"]) == (2, False, 111)
    record_session(config.root, "2026-05-01")
    data = load_loop(config, today=dt.date(2026, 5, 1)).question_dict(loop.agenda.by_id[q.id])
    assert (data["sessions_open"], data["needs_own_session"]) == (3, True)
    listed = CliRunner().invoke(cli, ["agenda", "--json", "--root", str(config.root)])
    assert json.loads(listed.stdout)[0]["needs_own_session"] is True
    assert set(json.loads(listed.stdout)[0]) >= {"id", "question", "owner", "opened", "status", "entries",
                                                 "sessions_open"}


def test_a_recurring_obstacle_becomes_a_question_in_one_step(indexed_kb, monkeypatch):
    group = obstacles.ObstacleGroup(label="elnät, kapacitet", entries=["laddplatser", "vaermepump-holma"],
                                    areas=["bygg", "mobilitet"], sprints=["2025-S4", "2026-S2"],
                                    first_seen="2025-10-02", last_seen="2026-06-10", count=2, recurring=True,
                                    id="hinder-4")
    monkeypatch.setattr("kb.app.agenda.recurring_obstacles", lambda kb: [group])
    q = question_from_obstacle(indexed_kb, "hinder-4", owner="Energi")
    assert q.question == "Hur undanröjer vi hindret ”elnät, kapacitet” (hinder-4)?"
    assert q.entries == ["laddplatser", "vaermepump-holma"]
    assert "obstacle: hinder-4" in q.path.read_text(encoding="utf-8")
    by_entry = question_from_obstacle(indexed_kb, "vaermepump-holma", owner="Bygg", separate=True)  # an entry of it
    assert by_entry.question == q.question and by_entry.entries == q.entries
    with pytest.raises(EntryNotFound, match="no recurring obstacle group"):
        question_from_obstacle(indexed_kb, "solar-roofs", owner="Energi")
    # a second question from the same group only when asked for by name
    result = CliRunner().invoke(cli, ["agenda", "add", "--from-obstacle", "hinder-4", "--owner", "Energi",
                                      "--new", "--lang", "en", "--root", str(indexed_kb.config.root)])
    assert result.exit_code == 0, result.output
    assert "How do we remove the obstacle “elnät, kapacitet” (hinder-4)?" in result.stderr


def test_no_second_question_for_an_obstacle_an_open_question_covers(indexed_kb, monkeypatch):
    group = obstacles.ObstacleGroup(label="elnät, kapacitet", entries=["laddplatser", "vaermepump-holma"],
                                    areas=["bygg", "mobilitet"], sprints=["2025-S4", "2026-S2"],
                                    first_seen="2025-10-02", last_seen="2026-06-10", count=2, recurring=True)
    monkeypatch.setattr("kb.app.agenda.recurring_obstacles", lambda kb: [group])
    config, root = indexed_kb.config, str(indexed_kb.config.root)
    # an open question that cites one entry of the group (as lq-effekt-i-elnatet cites byg-05)
    open_one = add_question(config, "Hur får vi besked om ledig effekt?", owner="Energi",
                            entries=["vaermepump-holma"])
    with pytest.raises(QuestionExists) as refused:
        question_from_obstacle(indexed_kb, "laddplatser", owner="Central")
    assert [q.id for q in refused.value.questions] == [open_one.id]
    # the command line without a terminal: nothing added, the open question named
    before = sorted(p.name for p in (indexed_kb.config.root / "agenda").glob("*.md"))
    result = CliRunner().invoke(cli, ["agenda", "add", "--from-obstacle", "laddplatser", "--owner", "Central",
                                      "--root", root])
    assert result.exit_code == 1
    assert f"Lärfrågan ”Hur får vi besked om ledig effekt?” ({open_one.id}) tar redan upp det här hindret" \
        in result.stderr
    assert f"Tips: lägg hindrets poster till den med --into {open_one.id}" in result.stderr
    assert "Hint" not in result.stderr  # one language around the content
    assert sorted(p.name for p in (indexed_kb.config.root / "agenda").glob("*.md")) == before
    # --into adds the group's other entries to the open question instead
    result = CliRunner().invoke(cli, ["agenda", "add", "--from-obstacle", "laddplatser", "--into", open_one.id,
                                      "--root", root])
    assert result.exit_code == 0, result.output
    assert load_agenda(config).by_id[open_one.id].entries == ["vaermepump-holma", "laddplatser"]
    assert sorted(p.name for p in (indexed_kb.config.root / "agenda").glob("*.md")) == before
    assert audit.read(config.state_dir)[-1]["action"] == "agenda.extend"
    # a closed question covers nothing: then a new one may be made
    close_question(config, open_one.id, drop=True)
    assert question_from_obstacle(indexed_kb, "laddplatser", owner="Central").id != open_one.id


def test_a_question_is_reworded_on_the_command_line(kb_root):
    config = load(kb_root)
    q = add_question(config, "Hur undanröjer vi hindret ”Värmepumpar: effekten”?", owner="Energi",
                     entries=["laddplatser"])
    result = CliRunner().invoke(cli, ["agenda", "edit", q.id, "--question", "Hur får vi effektbesked i tid?",
                                      "--owner", "Energiområdets samordnare", "--root", str(kb_root)])
    assert result.exit_code == 0, result.output
    edited = load_agenda(config).by_id[q.id]  # the id stays, so links to it keep working
    assert (edited.question, edited.owner, edited.entries) == (
        "Hur får vi effektbesked i tid?", "Energiområdets samordnare", ["laddplatser"])
    assert "agenda.edit" == audit.read(config.state_dir)[-1]["action"]
    nothing = CliRunner().invoke(cli, ["agenda", "edit", q.id, "--root", str(kb_root)])
    assert nothing.exit_code == 1 and "Frågan saknas." in nothing.stderr
    close_question(config, q.id, drop=True)
    with pytest.raises(ActionInvalid, match="already closed"):
        edit_question(config, q.id, question="Ny")


def test_the_agenda_listing_speaks_the_knowledge_bases_language(kb_root):
    config = load(kb_root)
    add_question(config, "Vem äger laddfrågan?", owner="Central", entries=["laddplatser"],
                 today=dt.date(2025, 1, 10))
    for day in ("2025-03-01", "2025-06-01", "2025-09-01"):
        record_session(config.root, day)
    listed = CliRunner().invoke(cli, ["agenda", "--root", str(kb_root)])
    assert listed.exit_code == 0, listed.output
    assert "DAGS FÖR ETT EGET LÄRTILLFÄLLE" in listed.stdout
    assert "Central · öppen sedan 2025-01-10, lärtillfällen sedan dess: 3" in listed.stdout
    assert "poster: laddplatser" in listed.stdout
    for english in ("OPEN", "SESSIONS", "opened", "entries:", "learning session"):
        assert english not in listed.stdout, english
