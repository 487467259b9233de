"""The learning-session brief and the yearly report, on the cross-area fixture KB
with its planted structure: a procurement obstacle met in three areas, a grid-capacity
synergy between mobility and building, a goal conflict logged in energy about buses."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import unquote

from click.testing import CliRunner

from kb.cli import all_commands, cli
from kb.core.sessions import last_session, record_session
from reports.brief import Links, compose_brief, make_document, render_markdown
from reports.report import render_html as report_html
from reports.report import render_markdown as report_markdown
from reports.report import yearly_report

from .helpers import parse_html
from .samples import BRIEF_EXTRA, CONFLICT, CROSS_ENTRIES, OVERPROVNING, SYNERGY


def _run(*args):
    return CliRunner().invoke(cli, list(args))


def _all_refs(brief):
    refs = [e for o in brief.obstacles for e in o.entries]
    refs += [e for s in brief.synergies for e in (s.a, s.b)]
    refs += [c.entry for c in brief.conflicts] + list(brief.new_entries)
    return refs


# --- the data ---------------------------------------------------------------------------------
def test_brief_holds_the_planted_obstacle_synergy_and_conflict(brief_kb):
    brief = compose_brief(brief_kb, today="2026-07-01")
    group = next(o for o in brief.obstacles if OVERPROVNING <= {e.id for e in o.entries})
    assert group.recurring and set(group.area_counts) == {"mobilitet", "energi", "bygg"}
    assert group.first_seen == "2025-06-01" and "2025-S2" in group.sprints
    assert any({s.a.id, s.b.id} == SYNERGY for s in brief.synergies)
    assert brief.synergies[0].status == "confirmed"  # the recorded verdict comes first
    assert all(s.a.quote and s.b.quote for s in brief.synergies)
    assert CONFLICT in [c.entry.id for c in brief.conflicts]
    assert brief.questions and any("Energi och värme" in q for q in brief.questions)
    assert brief.total == len(CROSS_ENTRIES) + len(BRIEF_EXTRA)
    assert brief.made == "2026-07-01"


def test_since_and_until_filter_everything(brief_kb):
    brief = compose_brief(brief_kb, since="2026-01-01", until="2026-04-30")
    assert brief.scope_ids and all("2026-01-01" <= brief_kb.store.get_entries([e])[e]["date"] <= "2026-04-30"
                                   for e in brief.scope_ids)
    for o in brief.obstacles:  # met in the period: a case in it, earlier ones for context, none later
        assert o.new and all("2026-01-01" <= e.date <= "2026-04-30" for e in o.entries if e.id in o.new)
        assert all(e.date <= "2026-04-30" for e in o.entries)
    for s in brief.synergies:  # a link belongs to the period in which its newer entry was logged
        assert "2026-01-01" <= max(s.a.date, s.b.date) <= "2026-04-30"
    assert CONFLICT in [c.entry.id for c in brief.conflicts]
    ids = {e.id for e in _all_refs(brief) if e not in [x for o in brief.obstacles for x in o.entries]}
    assert "mob-overprovning" not in ids and "byg-overprovning" not in ids
    earlier = compose_brief(brief_kb, until="2025-12-31")
    assert CONFLICT not in [c.entry.id for c in earlier.conflicts]
    assert not any({s.a.id, s.b.id} == SYNERGY for s in earlier.synergies)  # both 2026


def test_since_the_last_session_finds_the_obstacle_that_recurred(brief_kb):
    # the procurement obstacle was met in 2025 and 2026-02; one new case since the last session
    record_session(brief_kb.config.root, "2026-03-31", "Lärtillfälle mars")
    brief = compose_brief(brief_kb, since="2026-04-01", last_brief="2026-03-31", today="2026-07-01")
    group = next(o for o in brief.obstacles if "byg-overprovning" in {e.id for e in o.entries})
    assert {e.id for e in group.entries} >= OVERPROVNING and group.new == ["byg-overprovning"]
    assert group.recurring and group.first_seen == "2025-06-01"  # however old its other members
    text = render_markdown(brief, Links(brief_kb.config.root))
    section = text.split("## Återkommande hinder")[1].split("\n## ")[0]
    assert "Inget i urvalet" not in section and "ny sedan 2026-04-01" in section
    assert "Upphandlingen av återbrukat material överprövades](" in section and "**ny i perioden**" in section
    # and the brief opens with what is to be followed up, as the README says
    assert text.index("## Åtgärder att följa upp") < text.index("## Återkommande hinder")


def test_area_filter(brief_kb):
    brief = compose_brief(brief_kb, areas=["bygg"])
    rows = brief_kb.store.get_entries(brief.scope_ids)
    assert brief.scope_ids and {r["area"] for r in rows.values()} == {"bygg"}
    assert brief.obstacles and all(o.new and all(e.area == "bygg" for e in o.entries if e.id in o.new)
                                   for o in brief.obstacles)
    assert brief.synergies and all("bygg" in (s.a.area, s.b.area) for s in brief.synergies)
    assert CONFLICT not in [c.entry.id for c in brief.conflicts]  # energi <-> mobilitet
    assert "Byggnader och återbruk" in render_markdown(brief, Links(brief_kb.config.root))


def test_theme_restricts_to_entries_near_it(brief_kb):
    brief = compose_brief(brief_kb, theme="överprövning av upphandlingen", theme_size=5)
    assert len(brief.scope_ids) == 5
    assert OVERPROVNING <= set(brief.scope_ids)
    assert {e.id for e in _all_refs(brief)} <= set(brief.scope_ids)


def test_new_since_the_last_brief(brief_kb):
    assert last_session(brief_kb.config.root) is None
    first = compose_brief(brief_kb, today="2026-03-01")
    record_session(brief_kb.config.root, first.made)
    assert last_session(brief_kb.config.root) == "2026-03-01"
    brief = compose_brief(brief_kb, last_brief="2026-03-01")
    assert brief.new_entries and all(e.date > "2026-03-01" for e in brief.new_entries)
    assert "ene-biogas" in [e.id for e in brief.new_entries]
    assert any("nya poster" in q for q in brief.questions)


# --- documents and their links ------------------------------------------------------------------
def test_markdown_brief_file_links_and_pictures_exist(brief_kb, tmp_path):
    out = tmp_path / "handouts" / "brief.md"
    written = make_document(brief_kb, fmt="md", output=out)
    text = out.read_text(encoding="utf-8")
    assert text == written.text and text.startswith("# Underlag för lärtillfälle")
    targets = re.findall(r"\]\(([^)]+)\)", text)
    entries = [t for t in targets if t.endswith(".md")]
    images = [t for t in targets if t.endswith(".png")]
    assert len(images) == 3 and entries
    for target in targets:
        assert (out.parent / unquote(target)).is_file(), target
    assert any(t.endswith("mob-overprovning.md") for t in entries)
    assert {p.name for p in written.files} >= {"brief.md", "map.png", "map.svg", "timeline.svg"}


def test_html_brief_is_self_contained_printable_and_safe(brief_kb, tmp_path):
    out = tmp_path / "brief.html"
    make_document(brief_kb, fmt="html", output=out, lang="en")
    text = out.read_text(encoding="utf-8")
    page = parse_html(text)
    assert "script" not in page.tags and "<script" not in text.lower()
    assert "@page" in page.styles[0] and "size: A4" in page.styles[0]
    assert len(page.images) == 3 and all(src.startswith("data:image/svg+xml;base64,") for src in page.images)
    assert "Recurring obstacles" in text and "Energi och värme" in text
    for href in page.links:
        assert (out.parent / unquote(href)).is_file(), href
    assert not list(tmp_path.glob(".brief.html.*"))  # no temp file left behind


def test_base_url_links_to_datasette_entry_pages(brief_kb):
    brief = compose_brief(brief_kb)
    text = render_markdown(brief, Links(brief_kb.config.root, base_url="https://kb.example/"))
    assert "(https://kb.example/-/kb/entry/mob-overprovning)" in text
    assert "entries/" not in text


# --- the yearly report -------------------------------------------------------------------------
def test_yearly_report_per_area(brief_kb, tmp_path):
    report = yearly_report(brief_kb, 2026)
    by_area = {a.slug: a for a in report.areas}
    assert set(by_area) == {"mobilitet", "energi", "bygg"}
    mob = by_area["mobilitet"]
    assert mob.counts == {"lesson": 1, "obstacle": 1}  # mob-natagare, mob-stod (2026)
    assert [p.entry.id for p in mob.policy] == ["mob-stod"] and mob.policy[0].levels == ["national", "eu"]
    action = next(a for a in mob.actions if a.id == "MOB-1")
    assert [e.id for e in action.entries] == ["mob-stod"]
    assert mob.lessons[0].entry.id == "mob-natagare" and mob.lessons[0].echoes >= 1
    out = tmp_path / "out"
    out.mkdir()
    links = Links(brief_kb.config.root, out_dir=out)
    md = report_markdown(report, links)
    assert "## Gång, cykel och kollektivtrafik" in md and "nationell nivå, EU-nivå" in md
    for target in re.findall(r"\]\(([^)]+)\)", md):
        assert (out / unquote(target)).is_file(), target
    page = parse_html(report_html(report, links))
    assert "script" not in page.tags and page.links
    earlier = yearly_report(brief_kb, 2025)
    assert all(e.entry.date.startswith("2025") for a in earlier.areas for e in a.lessons)
    assert not any(a.policy for a in earlier.areas)


# --- the CLI -------------------------------------------------------------------------------------
def test_cli_brief_writes_file_and_marks_a_session_only_when_asked(brief_root, tmp_path):
    out = tmp_path / "b.html"
    result = _run("brief", "--root", str(brief_root), "--area", "bygg", "--area", "energi", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr and result.stdout == ""
    page = parse_html(out.read_text(encoding="utf-8"))
    assert "script" not in page.tags
    assert last_session(brief_root) is None  # writing a brief is not holding a session
    marked = _run("brief", "--root", str(brief_root), "-o", str(out), "--mark")
    assert marked.exit_code == 0, marked.output
    day = last_session(brief_root)
    assert day == dt.date.today().isoformat()
    assert f"Lärtillfället {day} (Lärtillfälle {day}) är registrerat i sessions.tsv." in marked.stderr
    assert "kb brief" not in (brief_root / "sessions.tsv").read_text(encoding="utf-8")  # a title, not a command
    again = _run("brief", "--root", str(brief_root), "--since-last", "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["last_brief"] == day and data["since"] > day


def test_preparing_next_weeks_session_does_not_move_the_window(brief_root, tmp_path):
    today = dt.date.today()
    held = (today - dt.timedelta(days=40)).isoformat()
    ahead = (today + dt.timedelta(days=7)).isoformat()
    assert _run("session", "add", "--date", held, "--title", "Lärtillfälle i höstas", "--root",
                str(brief_root)).exit_code == 0
    marked = _run("brief", "--root", str(brief_root), "--since-last", "-o", str(tmp_path / "b.md"), "--mark",
                  "--date", ahead, "--title", "Lärtillfälle nästa vecka")
    assert marked.exit_code == 0, marked.output
    assert f"Lärtillfället {ahead} (Lärtillfälle nästa vecka) är planerat" in marked.stderr
    lines = (brief_root / "sessions.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert lines == [f"{held}\tLärtillfälle i höstas", f"{ahead}\tLärtillfälle nästa vecka"]
    # the window still starts at the session held; the planned one is the next session
    again = json.loads(_run("brief", "--root", str(brief_root), "--since-last", "--json").stdout)
    assert again["last_brief"] == held and again["next_session"] == ahead
    assert last_session(brief_root) == held
    digest = json.loads(_run("digest", "--area", "energi", "--since-last", "--json", "--root", str(brief_root)).stdout)
    assert digest["since"] == held
    listed = _run("session", "list", "--root", str(brief_root))
    assert listed.stdout.splitlines() == [f"{held}  Lärtillfälle i höstas",
                                          f"{ahead}  Lärtillfälle nästa vecka  (planerat)"]
    # marking without --mark is refused, not silently ignored
    assert _run("brief", "--root", str(brief_root), "--date", ahead).exit_code == 2
    assert _run("session", "add", "--date", "9 december", "--root", str(brief_root)).exit_code == 1
    control = _run("session", "add", "--date", held, "--title", "Extra\x01", "--root", str(brief_root))
    assert control.exit_code == 1 and "U+0001" in control.stderr and "Traceback" not in control.output
    assert "\x01" not in (brief_root / "sessions.tsv").read_text(encoding="utf-8")
    removed = _run("session", "remove", ahead, "--root", str(brief_root))
    assert removed.exit_code == 0 and "borttaget" in removed.stdout


def test_cli_brief_prints_markdown_and_rejects_bad_options(brief_root):
    result = _run("brief", "--root", str(brief_root), "--since", "2026", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Brief for a learning session") and "**Period:** 2026-01-01" in result.stdout
    assert _run("brief", "--root", str(brief_root), "--area", "hav").exit_code == 2
    assert _run("brief", "--root", str(brief_root), "--since-last").exit_code == 2  # no brief yet
    bad = _run("brief", "--root", str(brief_root), "--since", "igår")
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_cli_report(brief_root, tmp_path):
    result = _run("report", "--root", str(brief_root), "--year", "2026")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Årsrapport 2026")
    out = tmp_path / "r.html"
    assert _run("report", "--root", str(brief_root), "--year", "2026", "-o", str(out)).exit_code == 0
    assert "script" not in parse_html(out.read_text(encoding="utf-8")).tags
    data = json.loads(_run("report", "--root", str(brief_root), "--year", "2026", "--json").stdout)
    assert data["year"] == 2026 and len(data["areas"]) == 3


def test_every_new_command_has_help():
    for name in ("brief", "report", "pictures"):
        result = _run(name, "-h")
        assert result.exit_code == 0 and len(result.output) > 100
        assert all_commands()[name].help


def test_brief_markdown_golden_head(brief_kb):
    brief = compose_brief(brief_kb, since="2026-01-01", today="2026-07-01")
    head = render_markdown(brief, Links(brief_kb.config.root)).splitlines()[:3]
    assert head == [
        "# Underlag för lärtillfälle – Test-KB för lärtillfällen",
        "",
        "**Period:** 2026-01-01 – till idag · **Områden:** alla (3) · **Underlaget gjort:** 2026-07-01  ",
    ]


def test_brief_reasons_in_its_language_with_area_names(brief_kb):
    swedish = compose_brief(brief_kb, today="2026-07-01")
    english = compose_brief(brief_kb, today="2026-07-01", lang="en")
    assert swedish.synergies[0].reasons[0] == "bekräftad av en samordnare: värme i trähus"
    assert english.synergies[0].reasons[0] == "confirmed by a facilitator: värme i trähus"
    pair = next(s for s in english.synergies if {s.a.id, s.b.id} == SYNERGY)
    assert any("(Gång, cykel och kollektivtrafik)" in r for r in pair.reasons)  # the area's name
    assert "samma taggar: elnät" in next(s for s in swedish.synergies if {s.a.id, s.b.id} == SYNERGY).reasons
    assert "shared tags: elnät" in pair.reasons
