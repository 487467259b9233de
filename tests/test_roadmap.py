"""Roadmaps as data, `kb roadmap`, `kb policy` and `kb actors`, with the hash embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis import obstacles
from analysis import policy as policy_module
from analysis.actors import mandate_map
from analysis.policy import policy_needs, quote, to_markdown
from analysis.roadmaps import roadmap_report
from indexer.discover import load_entries
from indexer.roadmaps import load_roadmaps, roadmap_problems
from kb.cli import cli
from kb.core import config as config_module
from search.filters import Filters

from .helpers import entry_text


def _root(path: Path) -> list[str]:
    return ["--root", str(path)]


# --- roadmaps as data ---------------------------------------------------------------------
def test_roadmaps_parse(roadmap_root):
    roadmaps = load_roadmaps(config_module.load(roadmap_root))
    assert roadmaps.problems == []
    assert [r.area for r in roadmaps.roadmaps] == ["energi", "mobilitet"]
    mob = roadmaps.by_area["mobilitet"]
    assert mob.title == "Färdplan för mobilitet" and mob.period == "2025–2027"
    assert [(a.id, a.actor, a.status) for a in mob.actions] == [
        ("MOB-1", "Malmö stad", "ongoing"),
        ("MOB-2", "Fastighets- och gatukontoret", "planned"),
    ]
    assert mob.actions[1].line == 10  # the '- id: MOB-2' line
    assert "Vägtrafikens utsläpp" in mob.text
    assert roadmaps.find("mob-1").id == "MOB-1" and roadmaps.find("energi") is roadmaps.by_area["energi"]


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        ("area: energi\ntitle: [oops\n", 3, "broken YAML in front matter"),
        ("area: hav\ntitle: T\n", 2, "unknown area 'hav'"),
        ("area: bygg\n", 1, "missing title"),
        ("area: bygg\ntitle: T\nactions:\n  - title: Utan id\n    status: ongoing\n", 5, "action number 1 has no id"),
        ("area: bygg\ntitle: T\nactions:\n  - id: BYG-1\n    title: X\n    status: klar\n", 7,
         "action BYG-1: bad status 'klar': use one of planned, ongoing, done, paused"),
        ("area: bygg\ntitle: T\nactions:\n  - id: BYG-1\n    title: X\n    status: done\n"
         "  - id: BYG-1\n    title: Y\n    status: done\n", 8, "duplicate action id 'BYG-1': also on line 5"),
    ],
)
def test_roadmap_problems_have_file_and_line(roadmap_root, front, line, message):
    (roadmap_root / "roadmaps" / "bygg.md").write_text(f"---\n{front}---\n## Mål\nText.\n", encoding="utf-8")
    roadmaps = load_roadmaps(config_module.load(roadmap_root))
    assert len(roadmaps.problems) == 1, roadmaps.problems
    problem = roadmaps.problems[0]
    assert problem.path.name == "bygg.md" and problem.line == line and problem.severity == "error"
    assert message in problem.message
    assert len(roadmaps.roadmaps) == 2  # the good ones are still read


def test_duplicate_action_id_across_roadmaps(roadmap_root):
    (roadmap_root / "roadmaps" / "bygg.md").write_text(
        "---\narea: bygg\ntitle: Bygg\nactions:\n  - id: BYG-1\n    title: A\n    status: done\n"
        "  - id: MOB-1\n    title: Kopia\n    status: done\n---\n",
        encoding="utf-8",
    )
    roadmaps = load_roadmaps(config_module.load(roadmap_root))
    [problem] = roadmaps.problems
    # files are read in name order: the later one (mobilitet.md) loses the action
    assert problem.format(roadmap_root) == (
        "roadmaps/mobilitet.md:6: duplicate action id 'MOB-1': also in roadmaps/bygg.md:8; "
        "give this action its own id"
    )
    assert [a.id for a in roadmaps.by_area["mobilitet"].actions] == ["MOB-2"]
    assert roadmaps.actions["MOB-1"].area == "bygg"


def test_unknown_action_is_a_warning_with_file_and_line(roadmap_root):
    config = config_module.load(roadmap_root)

    [warning] = roadmap_problems(config, load_entries(config).entries)
    assert warning.severity == "warning"
    assert warning.format(roadmap_root) == (
        "entries/energi/effekt-typo.md:7: warning: unknown roadmap action 'ENE-9'"
        "; see roadmaps/*.md for the action ids"
    )
    (roadmap_root / "entries/energi/effekt-typo.md").write_text(
        entry_text("title: T\narea: energi\ndate: 2025-01-01\ntype: idea\nroadmap: [ene-1, MOB-2]",
                   happened="Något hände.", learned="Vi lärde oss något viktigt."),
        encoding="utf-8",
    )
    [warning] = roadmap_problems(config, load_entries(config).entries)
    assert warning.line == 6 and warning.message == "unknown roadmap action 'ene-1' (did you mean 'ENE-1'?)"


def test_validate_warns_but_passes_and_fails_on_broken_roadmap(roadmap_root):
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", *_root(roadmap_root)])
    assert ok.exit_code == 0, ok.output
    assert "entries/energi/effekt-typo.md:7: warning: unknown roadmap action 'ENE-9'" in ok.stderr
    data = json.loads(runner.invoke(cli, ["validate", "--json", *_root(roadmap_root)]).stdout)
    assert data["errors"] == [] and data["warnings"][0].startswith("entries/energi/effekt-typo.md:7:")
    (roadmap_root / "roadmaps" / "bygg.md").write_text("---\narea: bygg\n---\n", encoding="utf-8")
    bad = runner.invoke(cli, ["validate", *_root(roadmap_root)])
    assert bad.exit_code == 1 and "roadmaps/bygg.md:1: missing title" in bad.stderr


def test_index_reports_roadmap_warnings(roadmap_root):
    result = CliRunner().invoke(cli, ["index", "-q", *_root(roadmap_root)])
    assert result.exit_code == 0, result.output
    assert "entries/energi/effekt-typo.md:7: warning: unknown roadmap action 'ENE-9'" in result.stderr


def test_example_kb_is_consistent():
    """The repository's own roadmaps and entries agree (every cited action exists)."""
    config = config_module.load(Path(__file__).resolve().parent.parent)
    roadmaps = load_roadmaps(config)
    assert roadmaps.problems == [] and len(roadmaps.roadmaps) >= 6
    assert roadmap_problems(config, load_entries(config).entries) == []


# --- kb roadmap -----------------------------------------------------------------------------
def test_lessons_attach_to_the_right_actions(roadmap_kb):
    report = roadmap_report(roadmap_kb, "mobilitet", suggestions=2).to_dict()
    by_action = {a["id"]: a for a in report["actions"]}
    assert [e["id"] for e in by_action["MOB-1"]["entries"]["lesson"]] == ["laddplatser"]
    assert [e["id"] for e in by_action["MOB-1"]["entries"]["obstacle"]] == ["laddhubb-hinder"]
    assert [e["id"] for e in by_action["MOB-2"]["entries"]["obstacle"]] == ["cykel-upphandling"]
    assert report["count"] == 3
    assert {"sprint": "2026-S2", "total": 1, "counts": {"obstacle": 1}} in report["timeline"]
    actors = {a["name"]: a for a in report["actors"]}
    assert actors["Malmö stad"]["actions"] == ["MOB-1"] and actors["Malmö stad"]["entries"] == 2
    assert actors["Svenska kraftnät"]["actions"] == [] and actors["Svenska kraftnät"]["entries"] == 1


def test_suggested_links_come_from_other_areas_only(roadmap_kb):
    report = roadmap_report(roadmap_kb, "MOB-1", suggestions=10).to_dict()
    assert report["kind"] == "action" and report["id"] == "MOB-1"
    suggested = report["suggestions"]
    assert suggested, "expected suggestions from energi and bygg"
    assert {s["area"] for s in suggested} <= {"energi", "bygg"}
    cited = {e["id"] for refs in report["entries"].values() for e in refs}
    assert not cited & {s["id"] for s in suggested}
    # an entry of another area that cites the action is not suggested again
    ids = {s["id"] for s in roadmap_report(roadmap_kb, "ENE-1", suggestions=10).suggestions}
    assert "solar-roofs" not in ids and not any(i.startswith("effekt") for i in ids)


def test_roadmap_cli(roadmap_root):
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "-q", *_root(roadmap_root)]).exit_code == 0
    overview = runner.invoke(cli, ["roadmap", *_root(roadmap_root)])
    assert overview.exit_code == 0, overview.output
    assert "Färdplan för mobilitet" in overview.stdout and "MOB-2" in overview.stdout
    data = json.loads(runner.invoke(cli, ["roadmap", "--json", *_root(roadmap_root)]).stdout)
    assert {r["area"] for r in data} == {"mobilitet", "energi"}
    assert {a["id"]: a["count"] for a in data[1]["actions"]} == {"MOB-1": 2, "MOB-2": 1}
    action = runner.invoke(cli, ["roadmap", "MOB-1", "-n", "2", *_root(roadmap_root)])
    assert action.exit_code == 0 and "Laddplatser vid Malmö C" in action.stdout
    assert "Föreslagna kopplingar från andra områden" in action.stdout  # the knowledge base's language
    assert "Suggested links" not in action.stdout and "responsible:" not in action.stdout
    whole = json.loads(runner.invoke(cli, ["roadmap", "energi", "--json", *_root(roadmap_root)]).stdout)
    assert whole["kind"] == "roadmap" and [a["id"] for a in whole["actions"]] == ["ENE-1", "ENE-2"]
    missing = runner.invoke(cli, ["roadmap", "XYZ-1", *_root(roadmap_root)])
    assert missing.exit_code == 1 and "no roadmap or action 'XYZ-1'" in missing.stderr
    assert "Traceback" not in missing.output


def test_roadmap_needs_an_index(roadmap_root):
    result = CliRunner().invoke(cli, ["roadmap", "MOB-1", *_root(roadmap_root)])
    assert result.exit_code == 1 and "not indexed yet" in result.stderr


# --- kb policy ---------------------------------------------------------------------------
def test_policy_groups_by_level_and_theme(roadmap_kb, monkeypatch):
    def fake_groups(kb, *, since=None, until=None, areas=None, types=("obstacle",)):
        assert "obstacle" in types
        return [obstacles.ObstacleGroup(
            label="elnät, kapacitet", entries=["laddhubb-hinder", "vaermepump-holma"],
            areas=["bygg", "mobilitet"], sprints=["2026-S2"], first_seen="2026-05-02",
            last_seen="2026-06-10", count=2, recurring=True)]

    monkeypatch.setattr(policy_module, "recurring_obstacles", fake_groups)
    report = policy_needs(roadmap_kb).to_dict()
    assert [lv["level"] for lv in report["levels"]] == ["regional", "national", "eu"]
    national = report["levels"][1]
    assert national["areas"] == ["mobilitet"] and national["count"] == 2
    themes = {t["label"]: t for t in national["themes"]}
    assert [e["id"] for e in themes["elnät, kapacitet"]["evidence"]] == ["laddhubb-hinder"]
    assert themes["elnät, kapacitet"]["recurring"] is True
    assert [e["id"] for e in themes[policy_module.UNGROUPED]["evidence"]] == ["cykel-upphandling"]
    regional = report["levels"][0]["themes"][0]
    assert regional["label"] == "elnät, kapacitet" and regional["areas"] == ["bygg"]
    evidence = themes[policy_module.UNGROUPED]["evidence"][0]
    assert evidence["quote"].startswith("Överprövningar enligt LOU tar för lång tid.")
    assert report["levels"][2]["themes"][0]["evidence"][0]["id"] == "laddhubb-hinder"


def test_policy_filters_by_date_and_area(roadmap_kb):
    since = policy_needs(roadmap_kb, Filters(since="2026-04-01")).to_dict()
    ids = {e["id"] for lv in since["levels"] for t in lv["themes"] for e in t["evidence"]}
    assert ids == {"laddhubb-hinder", "vaermepump-holma"}
    until = policy_needs(roadmap_kb, Filters(until="2026-03-31")).to_dict()
    assert [lv["level"] for lv in until["levels"]] == ["national"]
    area = policy_needs(roadmap_kb, Filters(areas=("bygg",))).to_dict()
    assert [lv["level"] for lv in area["levels"]] == ["regional"]


def test_policy_without_obstacle_grouping(roadmap_kb, monkeypatch):
    monkeypatch.setattr(policy_module, "obstacle_themes", lambda kb, rows, filters: None)
    report = policy_needs(roadmap_kb)
    assert report.themes_from == "none"
    assert all(t.label == policy_module.UNGROUPED for lv in report.levels for t in lv.themes)


def test_quote_prefers_what_we_learned():
    body = "## What happened?\nA thing.\n\n## What did we learn?\n" + "Rules matter. " * 40
    assert quote(body).startswith("Rules matter.") and len(quote(body)) <= 240
    assert quote("## Vad hände?\nBara detta.") == "Bara detta."


def test_policy_cli(roadmap_root):
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "-q", *_root(roadmap_root)]).exit_code == 0
    text = runner.invoke(cli, ["policy", *_root(roadmap_root)])
    assert text.exit_code == 0, text.output
    assert "Nationell nivå" in text.stdout and "cykel-upphandling" in text.stdout
    data = json.loads(runner.invoke(cli, ["policy", "--json", "--since", "2026", *_root(roadmap_root)]).stdout)
    assert data["since"] == "2026-01-01" and data["count"] == 3
    md = runner.invoke(cli, ["policy", "--format", "md", "--until", "2026-03", "--area", "mobilitet",
                             *_root(roadmap_root)])
    assert md.exit_code == 0
    assert md.stdout.startswith("# Behov av ändrade styrmedel\n")
    assert "## Nationell nivå" in md.stdout and "`cykel-upphandling`" in md.stdout
    assert "> Överprövningar enligt LOU" in md.stdout and "laddhubb-hinder" not in md.stdout
    bad = runner.invoke(cli, ["policy", "--area", "hav", *_root(roadmap_root)])
    assert bad.exit_code == 2 and "unknown area 'hav'" in bad.stderr
    bad_date = runner.invoke(cli, ["policy", "--since", "igår", *_root(roadmap_root)])
    assert bad_date.exit_code == 1 and "bad date" in bad_date.stderr


def test_policy_markdown_empty():
    report = policy_module.PolicyReport(levels=[], since="2030-01-01")
    assert "Inga poster med `policy:`" in to_markdown(report)


# --- kb actors --------------------------------------------------------------------------
def test_mandate_map_and_gaps(roadmap_kb):
    result = mandate_map(roadmap_kb)
    actors = {a.name: a for a in result.actors}
    assert [a["id"] for a in actors["E.ON"].actions] == ["ENE-2"]
    assert dict(actors["E.ON"].entry_areas) == {"bygg": 1, "mobilitet": 2}
    assert actors["E.ON"].areas == ["bygg", "energi", "mobilitet"]
    assert [a.name for a in result.gaps] == ["Svenska kraftnät"]
    gap = result.to_dict()["gaps"][0]
    assert gap["areas"] == ["bygg", "mobilitet"]
    assert {o["id"] for o in gap["obstacles"]} == {"laddhubb-hinder", "vaermepump-holma"}
    # an actor holding an action but named in no entry is on the map too
    assert actors["Stadsfastigheter"].to_dict()["entries"] == 0


def test_actors_cli(roadmap_root):
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "-q", *_root(roadmap_root)]).exit_code == 0
    text = runner.invoke(cli, ["actors", *_root(roadmap_root)])
    assert text.exit_code == 0, text.output
    assert "Svenska kraftnät: åtgärder –" in text.stdout and "Luckor i rådigheten (1)" in text.stdout
    assert "Gaps in mandate" not in text.stdout and "entries per area" not in text.stdout
    data = json.loads(runner.invoke(cli, ["actors", "--json", *_root(roadmap_root)]).stdout)
    assert [g["name"] for g in data["gaps"]] == ["Svenska kraftnät"]
    gaps = json.loads(runner.invoke(cli, ["actors", "--gaps", "--json", *_root(roadmap_root)]).stdout)
    assert list(gaps) == ["gaps"]
