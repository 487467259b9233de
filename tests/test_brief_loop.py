"""The brief closes the loop: actions to follow up (overdue and due before the next session,
with owners), learning questions on the agenda (with their age), and what was validated since
the last session; a recurring obstacle nobody acts on is marked."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from kb.app.actions import create_action, set_status
from kb.app.agenda import add_question
from kb.cli import cli
from kb.core.sessions import record_session
from reports.brief import Links, compose_brief, render_html_fragment, render_markdown
from reports.digest import compose_digest
from reports.digest import render_markdown as render_digest
from reports.report import render_markdown as render_report
from reports.report import yearly_report


def _loop(config):
    for day in ("2026-01-15", "2026-04-15", "2026-07-15"):
        record_session(config.root, day)
    late = create_action(config, title="Kapacitetsbesked före projektering", lessons=["vaermepump-holma"],
                         owner="Stadsfastigheter", due=dt.date(2026, 6, 30), today=dt.date(2026, 1, 15))
    set_status(config, late.id, "agreed", today=dt.date(2026, 1, 20))
    soon = create_action(config, title="Laddplatsrutin", lessons=["laddplatser"], owner="Gatukontoret",
                         due=dt.date(2026, 8, 20), today=dt.date(2026, 4, 15))
    create_action(config, title="Långt fram", lessons=["laddplatser"], owner="X", due=dt.date(2027, 6, 1),
                  today=dt.date(2026, 4, 15))
    done = create_action(config, title="Solceller med driftpersonalen", lessons=["solar-roofs"], owner="Energi",
                         due=dt.date(2026, 5, 1), today=dt.date(2026, 1, 15))
    for status, day in (("agreed", 20), ("done", 25)):
        set_status(config, done.id, status, today=dt.date(2026, 2, day))
    set_status(config, done.id, "validated", note="Alla tre skolor producerar sedan mars.", today=dt.date(2026, 7, 20))
    add_question(config, "Hur får vi effektbesked tidigt?", owner="Energi", entries=["vaermepump-holma"],
                 today=dt.date(2026, 1, 10))
    return late, soon, done


def test_the_brief_lists_actions_questions_and_validations(indexed_kb):
    late, soon, done = _loop(indexed_kb.config)
    brief = compose_brief(indexed_kb, last_brief="2026-07-15", today="2026-07-28", next_session="2026-09-01")
    assert [a.id for a in brief.follow_up] == [late.id, soon.id]
    assert brief.follow_up[0].overdue and not brief.follow_up[1].overdue
    assert [a.id for a in brief.validated] == [done.id] and brief.validated[0].validated_on == "2026-07-20"
    [question] = brief.agenda
    assert (question.sessions_open, question.own_session, question.age_days) == (3, True, 199)
    text = render_markdown(brief, Links(indexed_kb.config.root))
    follow = text.split("## Åtgärder att följa upp")[1].split("## Öppna lärfrågor")[0]
    assert "före nästa lärtillfälle (2026-09-01)" in follow
    assert "**Kapacitetsbesked före projektering** · Ägare: Stadsfastigheter · Klar senast 2026-06-30 – **försenad**" \
        in follow
    assert "Långt fram" not in follow
    agenda = text.split("## Öppna lärfrågor")[1].split("## Validerat sedan sist")[0]
    assert "öppen sedan 2026-01-10: 199 dagar, lärtillfällen sedan dess: 3" in agenda and "Dags för ett eget lärtillfälle" in agenda
    validated = text.split("## Validerat sedan sist (2026-07-15)")[1]
    assert "Solceller med driftpersonalen" in validated and "> Alla tre skolor producerar sedan mars." in validated
    questions = text.split("## Frågor att diskutera")[1]
    assert "har stått öppen i 3 lärtillfällen" in questions and "skulle ha varit klar 2026-06-30" in questions
    html = render_html_fragment(brief, Links(indexed_kb.config.root))
    assert "kbb-follow-up" in html and "kbb-state-overdue" in html and "Hur får vi effektbesked tidigt?" in html


def test_the_next_session_follows_the_rhythm_of_the_sessions_held(indexed_kb):
    _loop(indexed_kb.config)
    brief = compose_brief(indexed_kb, today="2026-07-28")
    assert brief.next_session == "2026-10-14"  # 2026-07-15 + the usual 91 days
    english = compose_brief(indexed_kb, today="2026-07-28", lang="en", last_brief="2026-07-15")
    text = render_markdown(english, Links(indexed_kb.config.root))
    assert "## Actions to follow up" in text and "## Validated since last time (2026-07-15)" in text
    assert "Åtgärder" not in text


def test_the_yearly_report_shows_lessons_leading_to_actions_and_the_loop_figures(indexed_kb):
    late, soon, done = _loop(indexed_kb.config)
    set_status(indexed_kb.config, late.id, "in-progress", today=dt.date(2026, 2, 1))
    set_status(indexed_kb.config, late.id, "done", outcome=["roadmap", "routine"], today=dt.date(2026, 3, 1))
    report = yearly_report(indexed_kb, 2026)
    bygg = next(a for a in report.areas if a.slug == "bygg")
    assert [a.id for a in bygg.loop] == [late.id] and bygg.loop[0].outcome == ["roadmap", "routine"]
    assert [e.id for e in bygg.loop[0].lessons] == ["vaermepump-holma"]
    # bygg's 2026 obstacle has an action, decided 2026-01-20 for a lesson of 2026-06-10: no lag counted
    assert bygg.figures["obstacles"] == 1 and bygg.figures["obstacles_with_action"] == 1
    assert bygg.figures["median_days_to_action"] is None
    text = render_report(report, Links(indexed_kb.config.root))
    section = text.split("## Bygg och fastigheter")[1].split("\n## ")[0]
    assert "Kapacitetsbesked före projektering (Stadsfastigheter; Genomförd; ändrade färdplanen, en rutin)" in section
    assert "Hinder med en åtgärd: 1 av 1 (100 %)" in section
    assert report.figures["validated"] == 1 and report.figures["actions"] == 4


def test_the_digest_brings_other_areas_lessons_on_our_roadmap_actions_and_what_falls_due(indexed_kb):
    root = indexed_kb.config.root
    (root / "roadmaps").mkdir()
    (root / "roadmaps/bygg.md").write_text(
        "---\narea: bygg\ntitle: Färdplan bygg\nactions:\n  - id: BYG-1\n    title: Värmepumpar utan effekttoppar\n"
        "    status: ongoing\n---\n", encoding="utf-8")
    path = root / "entries/mobilitet/laddplatser.md"
    path.write_text(path.read_text(encoding="utf-8").replace("tags: [laddinfrastruktur, elnät]",
                                                             "tags: [laddinfrastruktur, elnät]\nroadmap: [BYG-1]"),
                    encoding="utf-8")
    indexed_kb.index()
    late, soon, done = _loop(indexed_kb.config)
    digest = compose_digest(indexed_kb, "bygg", since="2025-01-01", today=dt.date(2026, 7, 28))
    assert [(t.entry.id, t.action_id) for t in digest.touches] == [("laddplatser", "BYG-1")]
    assert [a.id for a in digest.due] == [late.id] and digest.due[0].overdue
    assert [q["question"] for q in digest.questions] == ["Hur får vi effektbesked tidigt?"]
    text = render_digest(digest, Links(root))
    assert text.startswith("# Nytt för Bygg och fastigheter")
    assert "(Mobilitet och transporter, 2025-10-02) – hänvisar till BYG-1" in text
    result = CliRunner().invoke(cli, ["digest", "--area", "bygg", "--since", "2025-01", "--lang", "en",
                                      "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# News for Bygg och fastigheter")
    unknown = CliRunner().invoke(cli, ["digest", "--area", "hav", "--root", str(root)])
    assert unknown.exit_code == 2
