"""Obstacle groups keep their identity: ids and labels kept in obstacles.md, matched to each
new clustering by membership, renamed by a facilitator (CLI and web), surviving a rebuild."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from analysis.obstacle_identity import AUDIENCE_JACCARD, MIN_JACCARD, follow, identify, match_clusters
from analysis.obstacles import recurring_obstacles
from datasette_plugins.serve import make_datasette
from kb.app import auth
from kb.app.agenda import question_from_obstacle
from kb.app.curation import rename_obstacle
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import audit
from kb.core import config as config_module
from kb.core.errors import EntryNotFound, KBError
from kb.core.obstacle_groups import GroupFile, KeptGroup, load_groups, parse_groups, save_groups
from reports.brief import Links, compose_brief, render_markdown
from reports.report import render_markdown as report_markdown
from reports.report import yearly_report

from .helpers import PASSWORD, TOKEN_RE, Browser, entry_text
from .samples import OVERPROVNING, write_kb

MORE_PROCUREMENT = entry_text(
    {"id": "byg-overprovning-2", "title": "Rivningsentreprenaden överprövades och återbruket fick vänta",
     "area": "bygg", "date": "2026-06-01", "sprint": "2026-S2", "type": "obstacle",
     "tags": ["upphandling", "överprövning"], "related": []},
    happened="Upphandlingen av rivningen överprövades av en leverantör och återbruket försenades.",
    learned="Överprövning av upphandlingen måste finnas med i tidplanen.",
)
MORE_DATA = entry_text(
    {"id": "ene-gdpr", "title": "E.ON lämnar inte ut energidata per byggnad", "area": "energi",
     "date": "2026-06-02", "sprint": "2026-S2", "type": "obstacle", "tags": [], "related": []},
    happened="E.ON vill inte lämna ut energiförbrukning per byggnad på grund av GDPR.",
    learned="Utan avtal om datadelning blir uppföljningen av energin gissningar.",
)


def _by_member(groups, entry_id):
    return next(g for g in groups if entry_id in g.entries)


def _add(root, rel, text):
    path = root / "entries" / rel
    path.write_text(text, encoding="utf-8")


# --- the whole story, as a facilitator meets it ------------------------------------------------
def test_groups_keep_ids_and_labels_when_entries_join_and_a_new_group_starts(cross_kb, cross_root):
    before = recurring_obstacles(cross_kb)
    assert all(g.id and g.id.startswith("hinder-") for g in before)
    procurement = _by_member(before, "mob-overprovning")
    assert set(procurement.entries) == OVERPROVNING
    grid = _by_member(before, "mob-effekt")
    assert "byg-gdpr" not in {e for g in before for e in g.entries}  # alone: no group yet
    kept = load_groups(cross_root)
    assert {g.id for g in kept.groups} == {g.id for g in before}
    assert kept.get(procurement.id).label == procurement.label

    # one more procurement obstacle, and one that makes the lone data obstacle a group
    _add(cross_root, "bygg/byg-overprovning-2.md", MORE_PROCUREMENT)
    _add(cross_root, "energi/ene-gdpr.md", MORE_DATA)
    cross_kb.index()
    after = recurring_obstacles(cross_kb)
    grown = _by_member(after, "mob-overprovning")
    assert set(grown.entries) == OVERPROVNING | {"byg-overprovning-2"}
    assert (grown.id, grown.label) == (procurement.id, procurement.label)
    assert (_by_member(after, "mob-effekt").id, _by_member(after, "mob-effekt").label) == (grid.id, grid.label)
    data = _by_member(after, "ene-gdpr")
    assert set(data.entries) == {"byg-gdpr", "ene-gdpr"}
    old_numbers = [int(g.id.split("-")[1]) for g in before]
    assert data.id not in {g.id for g in before} and int(data.id.split("-")[1]) > max(old_numbers)
    assert load_groups(cross_root).next == int(data.id.split("-")[1]) + 1


def test_a_renamed_label_survives_reclustering_and_a_rebuild(cross_kb, cross_root):
    procurement = _by_member(recurring_obstacles(cross_kb), "mob-overprovning")
    result = CliRunner().invoke(cli, ["obstacles", "rename", procurement.id, "Överprövningar försenar upphandlingar",
                                      "--root", str(cross_root)])
    assert result.exit_code == 0, result.output
    assert f"## {procurement.id}: Överprövningar försenar upphandlingar" in (
        cross_root / "obstacles.md").read_text(encoding="utf-8")
    _add(cross_root, "bygg/byg-overprovning-2.md", MORE_PROCUREMENT)
    cross_kb.index(rebuild=True)
    listed = CliRunner().invoke(cli, ["obstacles", "--json", "--root", str(cross_root)])
    assert listed.exit_code == 0, listed.output
    group = next(g for g in json.loads(listed.stdout) if "mob-overprovning" in g["entries"])
    assert (group["id"], group["label"], group["named"]) == (procurement.id, "Överprövningar försenar upphandlingar",
                                                             True)
    assert list(group)[:2] == ["id", "label"]
    events = [e for e in audit.read(cross_root / ".kb") if e["action"] == "obstacle.rename"]
    assert events and events[-1]["id"] == procurement.id

    # back to a computed label: made anew from the entries, under the same id
    back = CliRunner().invoke(cli, ["obstacles", "rename", procurement.id, "--computed", "--root", str(cross_root)])
    assert back.exit_code == 0, back.output
    again = _by_member(recurring_obstacles(cross_kb), "mob-overprovning")
    assert again.id == procurement.id and not again.named and again.label
    assert again.label != "Överprövningar försenar upphandlingar"


def test_rename_refuses_unknown_ids_and_empty_labels(cross_kb, cross_root):
    recurring_obstacles(cross_kb)
    config = config_module.load(cross_root)
    with pytest.raises(EntryNotFound, match="no obstacle group 'hinder-99'"):
        rename_obstacle(config, "hinder-99", "Något")
    group_id = load_groups(cross_root).groups[0].id
    with pytest.raises(KBError, match="empty"):
        rename_obstacle(config, group_id, "   ")
    with pytest.raises(KBError, match="longer than"):
        rename_obstacle(config, group_id, "x" * 201)
    bad = CliRunner().invoke(cli, ["obstacles", "rename", group_id, "--root", str(cross_root)])
    assert bad.exit_code == 2 and "give the LABEL, or --computed" in bad.stderr
    unknown = CliRunner().invoke(cli, ["obstacles", "rename", "hinder-99", "X", "--root", str(cross_root)])
    assert unknown.exit_code == 1 and "kb obstacles" in unknown.stderr


def test_filters_show_the_same_ids_and_other_types_keep_nothing(cross_kb, cross_root):
    every = recurring_obstacles(cross_kb)
    text = (cross_root / "obstacles.md").read_text(encoding="utf-8")
    procurement = _by_member(every, "mob-overprovning")
    later = recurring_obstacles(cross_kb, since="2025-08-01")
    part = _by_member(later, "ene-overprovning")
    assert part.id == procurement.id and part.label == procurement.label
    # met again in the period: shown with its earlier case too (for context; the brief marks the new ones)
    assert set(part.entries) == OVERPROVNING
    wider = recurring_obstacles(cross_kb, types=("obstacle", "lesson", "enabler"))
    assert (cross_root / "obstacles.md").read_text(encoding="utf-8") == text  # a view keeps nothing
    kept = {g.id for g in load_groups(cross_root).groups}
    assert all(g.id is None or g.id in kept for g in wider)  # no id that is not kept
    assert _by_member(wider, "mob-overprovning").id == procurement.id


def test_a_read_only_knowledge_base_shows_groups_without_ids(cross_kb, cross_root, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr("analysis.obstacle_identity.save_groups", refuse)
    groups = recurring_obstacles(cross_kb)
    assert groups and all(g.id is None and g.label for g in groups)
    assert not (cross_root / "obstacles.md").exists()


# --- matching ------------------------------------------------------------------------------------
def _kept(*groups, gone=()):
    return [KeptGroup(f"hinder-{k}", f"label {k}", list(members), gone="2026-01-01" if k in gone else None)
            for k, members in groups]


KNOWN = set("abcdefghijklmnop")


def test_growth_and_loss_keep_the_id():
    kept = _kept((1, "abc"))
    assert match_clusters(kept, [list("abcdef")], KNOWN)[0].id == "hinder-1"  # 3 of 6: Jaccard 1/2
    assert match_clusters(kept, [list("ab")], KNOWN)[0].id == "hinder-1"
    assert match_clusters(_kept((1, "ab")), [list("abcdef")], KNOWN)[0].id == "hinder-1"  # 1/3: still itself
    assert match_clusters(_kept((1, "ab")), [list("abcdefg")], KNOWN) == {}  # 2/7: another group
    assert MIN_JACCARD == pytest.approx(1 / 3)


def test_split_and_merge_the_larger_share_keeps_the_id():
    split = match_clusters(_kept((1, "abcdef")), [list("ef"), list("abcd")], KNOWN)
    assert split == {1: _kept((1, "abcdef"))[0]}
    merge = match_clusters(_kept((1, "abc"), (2, "de")), [list("abcde")], KNOWN)
    assert merge[0].id == "hinder-1"
    tie = match_clusters(_kept((2, "abc"), (1, "def")), [list("abcdef")], KNOWN)
    assert tie[0].id == "hinder-1"  # an equal share: the older id
    equal_halves = match_clusters(_kept((1, "abcd")), [list("cdx"), list("ab")], KNOWN)
    assert list(equal_halves) == [1]  # the same share: the closer part (Jaccard 2/4 over 2/5)


def test_an_audiences_cluster_shows_a_kept_id_only_when_it_is_that_groups_visible_part(tmp_path):
    # the procurement group a-d, of which only a is public; x and y are public, unrelated
    kept = GroupFile(groups=_kept((2, "abcd"), (3, "xq")), next=4)
    save_groups(tmp_path, kept)
    visible = set("axy")
    lumped = identify(tmp_path, None, [list("axy")], visible, lambda c: ("beräknad", None), today="2026-12-06",
                      keep=False, kept_labels=False)
    # before: a third of the cluster was in hinder-2 (Jaccard 1/3 with its visible part): hinder-2
    assert lumped == [(None, "beräknad", False)]
    part = identify(tmp_path, None, [list("xy")], visible, lambda c: ("beräknad", None), today="2026-12-06",
                    keep=False, kept_labels=False)
    assert part == [("hinder-3", "beräknad", False)]  # x, y: half of it is hinder-3's visible x
    assert match_clusters(kept.groups, [list("axy")], visible, min_jaccard=AUDIENCE_JACCARD) == {}


def test_erased_entries_count_for_no_side():
    kept = _kept((1, "abcdef"))
    assert match_clusters(kept, [list("ab")], set("ab")) == {0: kept[0]}


def test_new_groups_get_new_ids_never_reused_and_gone_groups_come_back():
    kept = GroupFile(groups=_kept((1, "abc"), (2, "def")), next=3)
    made = []

    def label(c):
        made.append(c)
        return f"ny {c}", None

    out = follow(kept, [list("abc"), list("xyz")], KNOWN | set("xyz"), label, "2026-02-01")
    assert [o[0] for o in out] == ["hinder-1", "hinder-3"] and made == [1]
    assert kept.get("hinder-2").gone == "2026-02-01"
    kept.groups.remove(kept.get("hinder-3"))  # a section deleted by hand: its number is not reused
    out = follow(kept, [list("xyz")], KNOWN | set("xyz"), label, "2026-03-01")
    assert out[0][0] == "hinder-4"
    out = follow(kept, [list("def"), list("xyz")], KNOWN | set("xyz"), label, "2026-04-01")
    assert [o[0] for o in out] == ["hinder-2", "hinder-4"] and kept.get("hinder-2").gone is None
    assert kept.get("hinder-1").gone == "2026-03-01"


# --- the file ----------------------------------------------------------------------------------
def test_the_file_round_trips_and_keeps_what_people_wrote(tmp_path):
    text = (
        "---\nnext: 7\n---\n# Återkommande hinder\n\nVår egen inledning.\n\n"
        "## hinder-2: Elnät: lång väntan på anslutning\n- entries: a, b\n- named: 2026-03-14\n"
        "Diskuterat på lärtillfället i mars.\n\n"
        "## hinder-5: Överprövningar: upphandlingar försenas\n- entries: c, d, e\n- label from: c\n"
        "- gone since: 2026-05-01\n"
    )
    parsed = parse_groups(text, tmp_path / "obstacles.md")
    assert parsed.next == 7 and [g.id for g in parsed.groups] == ["hinder-2", "hinder-5"]
    assert parsed.get("hinder-2").named == "2026-03-14"
    assert parsed.get("hinder-2").notes == ["Diskuterat på lärtillfället i mars."]
    assert parsed.get("hinder-5").gone == "2026-05-01" and parsed.get("hinder-5").label_from == "c"
    assert parsed.render() == text
    assert parsed.new_id() == "hinder-7"


@pytest.mark.parametrize("text, line, words", [
    ("---\nnext: x\n---\n", 2, "next: N"),
    ("## H1: label\n- entries: a\n", 1, "not a group id"),
    ("## hinder-1: a\n- entries: a\n## hinder-1: b\n", 3, "appears twice"),
    ("## hinder-1: a\n- entries: a, b c\n", 2, "not an entry id"),
])
def test_a_broken_file_is_named_with_its_line(tmp_path, text, line, words):
    root = write_kb(tmp_path / "kb", {})
    (root / "obstacles.md").write_text(text, encoding="utf-8")
    with pytest.raises(KBError, match=words) as caught:
        load_groups(root)
    assert f"obstacles.md:{line}:" in str(caught.value) and caught.value.hint


def test_cli_lists_ids(cross_root):
    kb = KnowledgeBase.open(cross_root)
    kb.index()
    kb.close()
    result = CliRunner().invoke(cli, ["obstacles", "--root", str(cross_root)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("hinder-")


# --- the web: facilitators rename, with CSRF and audit ---------------------------------------
def test_a_facilitator_renames_a_group_on_the_obstacles_page(cross_kb, cross_root, monkeypatch):
    hashed = auth.hash_password(PASSWORD, iterations=1000)
    monkeypatch.setenv("KB_WRITERS", f"anna:{hashed},erik:{hashed}")
    with open(cross_root / "kb.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[auth]\nroles = { erik = "facilitator" }\n')
    group = _by_member(recurring_obstacles(cross_kb), "mob-overprovning")
    path = f"/-/kb/obstacles/{group.id}/rename"
    ds = make_datasette(cross_root)

    async def scenario():
        await ds.invoke_startup()
        visitor, writer, facilitator = Browser(ds), Browser(ds), Browser(ds)
        shown = await visitor.get("/-/kb/obstacles")
        await writer.sign_in("anna")
        refused = await writer.post(path, {"csrftoken": await writer.token("/-/kb/obstacles"), "label": "Nej"})
        await facilitator.sign_in("erik")
        page = await facilitator.get("/-/kb/obstacles")
        token = TOKEN_RE.search(page.text).group(1)
        forged = await facilitator.post(path, {"label": "Utan token"})
        empty = await facilitator.post(path, {"csrftoken": token, "label": "  "})
        renamed = await facilitator.post(path, {"csrftoken": token, "label": "Överprövningar försenar allt"})
        after = await facilitator.get("/-/kb/obstacles")
        english = await visitor.get("/-/kb/obstacles?lang=en")
        data = await visitor.get("/-/kb/obstacles.json")
        unknown = await facilitator.post("/-/kb/obstacles/hinder-99/rename", {"csrftoken": token, "label": "X"})
        return shown, refused, page, forged, empty, renamed, after, english, data, unknown

    shown, refused, page, forged, empty, renamed, after, english, data, unknown = asyncio.run(scenario())
    assert shown.status_code == 200 and f'id="{group.id}"' in shown.text and "xa-rename" not in shown.text
    assert refused.status_code == 403
    assert 'class="kb-form xa-rename"' in page.text and f'action="{path}"' in page.text
    assert forged.status_code == 403  # Datasette's CSRF check
    assert empty.status_code == 302 and renamed.status_code == 302
    assert renamed.headers["location"].endswith(f"#{group.id}")
    assert "Överprövningar försenar allt" in after.text and "namn satt av en samordnare" in after.text
    assert "named by a facilitator" in english.text
    listed = next(g for g in data.json()["groups"] if g["id"] == group.id)
    assert listed["label"] == "Överprövningar försenar allt" and listed["named"] is True
    assert unknown.status_code == 404
    events = [e for e in audit.read(cross_root / ".kb") if e["action"] == "obstacle.rename"]
    assert [e["who"] for e in events] == ["erik"] and events[0]["id"] == group.id


# --- the brief, the yearly report and the agenda cite the kept id --------------------------------
def test_brief_report_and_agenda_cite_the_kept_id(cross_kb, cross_root):
    procurement = _by_member(recurring_obstacles(cross_kb), "mob-overprovning")
    rename_obstacle(cross_kb.config, procurement.id, "Överprövningar försenar upphandlingar")
    brief = compose_brief(cross_kb, today="2026-11-30")
    item = next(o for o in brief.obstacles if o.id == procurement.id)
    assert item.label == "Överprövningar försenar upphandlingar"
    text = render_markdown(brief, Links(cross_root))
    assert f"### {procurement.id} · Överprövningar försenar upphandlingar (3, " in text
    assert any(f"”Överprövningar försenar upphandlingar” ({procurement.id})" in q for q in brief.questions)
    later = compose_brief(cross_kb, since="2026-01-01", today="2026-11-30")
    assert [o.id for o in later.obstacles if set(e.id for e in o.entries) & OVERPROVNING] == [procurement.id]
    themed = compose_brief(cross_kb, theme="överprövning av upphandlingen", today="2026-11-30")
    assert procurement.id in [o.id for o in themed.obstacles]

    report = yearly_report(cross_kb, 2026)
    bygg = next(a for a in report.areas if a.slug == "bygg")
    assert [(o.id, o.label) for o in bygg.obstacles] == [(procurement.id, "Överprövningar försenar upphandlingar")]
    assert f"- {procurement.id} · Överprövningar försenar upphandlingar (möttes i " in report_markdown(
        report, Links(cross_root))

    question = question_from_obstacle(cross_kb, procurement.id, owner="Upphandlingsenheten", lang="en")
    assert question.question == f"How do we remove the obstacle “Överprövningar försenar upphandlingar” ({procurement.id})?"
    assert set(question.entries) == OVERPROVNING


def test_validate_names_a_broken_obstacles_file(cross_root):
    (cross_root / "obstacles.md").write_text("# Hinder\n\n## hinder-1: Elnät\n- entries: a, b c\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--root", str(cross_root)])
    assert result.exit_code == 1
    assert "obstacles.md:4: 'b c' is not an entry id" in result.stderr
