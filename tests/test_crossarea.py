"""Cross-area learning with the hash embedder and controlled vectors:
synergies, the area matrix, recurring obstacles, goal conflicts, near-duplicates and the
facilitators' verdicts."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.conflicts import goal_conflicts
from analysis.corpus import Corpus, Section, load_corpus
from analysis.duplicates import find_duplicates, near_duplicates, relative_distances
from analysis.links import (
    Synergy,
    area_links,
    find_synergies,
    row_z,
    similarity_signals,
    spread_out,
    strong_link_matrix,
    strongest,
    synergies,
)
from analysis.obstacles import recurring_obstacles
from analysis.reasons import Reason, render_reason
from analysis.related import MIN_TOP, RelatedFinder, related_panel, related_results
from kb.app.curation import record_link, set_related
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import config as config_module
from kb.core.decisions import Decision, load_decisions
from kb.core.errors import EntryNotFound, KBError
from search.match import NEAREST

from .helpers import entry_text
from .samples import CROSS_ENTRIES, speak, write_kb


def _run(*args):
    return CliRunner().invoke(cli, list(args))


# --- synergies -----------------------------------------------------------------------------
def test_synergies_top_pair_and_never_same_area(cross_kb):
    found = synergies(cross_kb, limit=None)
    assert found, "expected suggestions"
    assert {found[0].a, found[0].b} == {"mob-natagare", "byg-natagare"}
    assert all(s.area_a != s.area_b for s in found)
    assert found[0].match["section_a"] and found[0].reasons


def _synthetic_corpus(vectors: np.ndarray, areas: list[str], types: list[str] | None = None) -> Corpus:
    ids = [f"e{k:02d}" for k in range(len(vectors))]
    rows = {
        e: {"id": e, "title": e, "area": a, "type": (types or ["lesson"] * len(ids))[k],
            "date": "2026-01-01", "sprint": "2026-S1", "tags": [], "actors": [], "roadmap": [],
            "related": [], "body": ""}
        for k, (e, a) in enumerate(zip(ids, areas, strict=True))
    }
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sections = [Section(k, "Vad lärde vi oss?", "lesson", "text", 3, vectors[k]) for k in range(len(ids))]
    return Corpus(ids=ids, rows=rows, vectors=vectors.astype(np.float32), sections=sections)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_areas=st.integers(1, 4))
def test_same_area_pairs_never_appear(seed, n_areas):
    rng = np.random.default_rng(seed)
    n = 12
    corpus = _synthetic_corpus(rng.normal(size=(n, 16)), [f"a{k % n_areas}" for k in range(n)])
    found = find_synergies(corpus, [], limit=None)
    assert all(corpus.rows[s.a]["area"] != corpus.rows[s.b]["area"] for s in found)
    if n_areas == 1:
        assert found == []


@pytest.mark.parametrize("scale, offset", [(1.0, 0.5), (0.1, 0.78), (3.0, -1.0)])
def test_thresholds_adapt_to_a_shifted_score_distribution(scale, offset):
    rng = np.random.default_rng(7)
    corpus = _synthetic_corpus(rng.normal(size=(15, 16)), [f"a{k % 3}" for k in range(15)])
    signals = similarity_signals(corpus)
    base = [(s.a, s.b) for s in find_synergies(corpus, [], limit=None, signals=signals)]
    # e5-like compression: every similarity squeezed and moved up
    shifted = {k: scale * v + offset for k, v in signals.items()}
    moved = [(s.a, s.b) for s in find_synergies(corpus, [], limit=None, signals=shifted)]
    assert base and moved == base
    sim = corpus.vectors @ corpus.vectors.T
    # cosine keeps identical texts at 1: a model compresses everything else towards it
    compressed = 1 - scale * (1 - sim) / 4
    np.testing.assert_allclose(relative_distances(compressed), relative_distances(sim), rtol=1e-3, atol=1e-3)
    mask = ~np.eye(15, dtype=bool)
    np.testing.assert_allclose(
        np.nan_to_num(row_z(scale * sim + offset, mask)), np.nan_to_num(row_z(sim, mask)), rtol=1e-3, atol=1e-3
    )


def test_area_matrix_and_silo_index(cross_kb):
    links = area_links(cross_kb)
    matrix = links.matrix
    assert set(matrix) == {"mobilitet", "energi", "bygg"}
    for a in matrix:
        for b in matrix:
            assert matrix[a][b] == matrix[b][a]
    for a, value in links.silo_index.items():
        row = matrix[a]
        total = sum(row.values())
        if total:
            assert value == pytest.approx((total - row[a]) / total)
    data = links.to_dict()
    assert set(data) >= {"areas", "matrix", "silo_index", "strong_links"}


def test_strong_links_follow_verdicts():
    rng = np.random.default_rng(3)
    corpus = _synthetic_corpus(rng.normal(size=(9, 8)), ["a", "b", "c"] * 3)
    links = strong_link_matrix(corpus, [])
    first = links.links[0]

    rejected = strong_link_matrix(corpus, [Decision(*sorted(first), "unrelated", "2026-01-01")])
    assert first not in rejected.links
    confirmed = strong_link_matrix(corpus, [Decision("e00", "e04", "synergy", "2026-01-01")])
    assert ("e00", "e04") in confirmed.links


# --- the verdicts ------------------------------------------------------------------------------
def test_rejected_pair_stays_gone_after_reindexing(cross_kb, cross_root):
    top = synergies(cross_kb, limit=1)[0]
    record_link(cross_kb.config, top.a, top.b, "unrelated", note="olika saker")
    cross_kb.index()
    assert (top.a, top.b) not in {(s.a, s.b) for s in synergies(cross_kb, limit=None)}
    cross_kb.index(rebuild=True)
    again = synergies(cross_kb, limit=None)
    assert (top.a, top.b) not in {(s.a, s.b) for s in again}
    shown = synergies(cross_kb, limit=None, include_rejected=True)
    assert any((s.a, s.b) == (top.a, top.b) and s.status == "rejected" for s in shown)


def test_confirmed_pair_is_shown_as_confirmed_first(cross_kb):
    record_link(cross_kb.config, "ene-fjarrvarme", "byg-tra", "synergy")
    cross_kb.index()
    first = synergies(cross_kb, limit=5)[0]
    assert {first.a, first.b} == {"ene-fjarrvarme", "byg-tra"} and first.status == "confirmed"
    text = (cross_kb.config.entries_dir / "energi/ene-fjarrvarme.md").read_text(encoding="utf-8")
    assert "related: [byg-tra]" in text


def test_decisions_file_is_sorted_one_line_per_pair(cross_root):
    config = config_module.load(cross_root)
    record_link(config, "mob-cykel", "ene-sol", "unrelated", note="nej\tinte\nalls")
    record_link(config, "byg-tra", "ene-sol", "synergy")
    record_link(config, "ene-sol", "mob-cykel", "synergy")  # changes its mind: one line per pair
    lines = (cross_root / "decisions.tsv").read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    assert lines[0].startswith("#") and body == sorted(body) and len(body) == 2
    assert [d.verdict for d in load_decisions(cross_root)] == ["synergy", "synergy"]
    assert all(len(line.split("\t")) == 5 for line in body)


def test_link_validates_ids(cross_root):
    config = config_module.load(cross_root)
    with pytest.raises(EntryNotFound):
        record_link(config, "mob-cykel", "finns-inte", "synergy")
    with pytest.raises(KBError):
        record_link(config, "mob-cykel", "mob-cykel", "synergy")
    assert not (cross_root / "decisions.tsv").exists()


FRONT = """\
---
# kommentar överst
id: a
title: "Citerad: titel"   # en kommentar
area: mobilitet
date: 2026-01-01
type: lesson
tags: ['x', "y"]
related: [b, 'c']  # bekräftade länkar
owner: gatukontoret
---
## Vad hände?
Text med å, ä och ö.
related: [inte, front, matter]
"""


def test_set_related_keeps_everything_else():
    out = set_related(FRONT, "d", present=True)
    assert out == FRONT.replace("related: [b, 'c']  # bekräftade", "related: [b, 'c', d]  # bekräftade")
    assert set_related(out, "d", present=True) == out
    back = set_related(out, "d", present=False)
    assert back == FRONT
    removed = set_related(FRONT, "c", present=False)
    assert "related: [b]  # bekräftade länkar" in removed
    assert removed.endswith("related: [inte, front, matter]\n")


@pytest.mark.parametrize(
    "front, expected",
    [
        ("related:\n  - b\n  - c\nowner: x\n", "related:\n  - b\n  - c\n  - d\nowner: x\n"),
        ("related:\nowner: x\n", "related: [d]\nowner: x\n"),
        ("owner: x\n", "owner: x\nrelated: [d]\n"),
        ("related: []\n", "related: [d]\n"),
    ],
)
def test_set_related_styles(front, expected):
    head = "---\nid: a\ntitle: T\n"
    text = head + front + "---\nBody\n"
    assert set_related(text, "d", present=True) == head + expected + "---\nBody\n"


def test_set_related_crlf_and_block_removal():
    text = "---\r\nid: a\r\nrelated:\r\n  - b\r\n  - d  # den\r\n---\r\nBody\r\n"
    assert set_related(text, "d", present=False) == "---\r\nid: a\r\nrelated:\r\n  - b\r\n---\r\nBody\r\n"


# --- obstacles, conflicts, duplicates ---------------------------------------------------------
def test_obstacles_group_paraphrases_across_areas(cross_kb):
    groups = recurring_obstacles(cross_kb)
    procurement = next(g for g in groups if "mob-overprovning" in g.entries)
    assert set(procurement.entries) == {"mob-overprovning", "ene-overprovning", "byg-overprovning"}
    assert procurement.areas == ["bygg", "energi", "mobilitet"]
    assert procurement.recurring and procurement.count == 3
    assert procurement.first_seen == "2025-06-01" and procurement.last_seen == "2026-05-01"
    assert procurement.sprints == ["2025-S2", "2026-S1", "2026-S2"]
    assert "byg-gdpr" not in {e for g in groups for e in g.entries}
    assert "upphandling" in procurement.label or "överprövning" in procurement.label
    assert set(procurement.to_dict()) >= {"label", "entries", "areas", "first_seen", "last_seen", "count",
                                          "sprints", "recurring"}


def test_obstacle_sections_of_other_entries_take_part(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    entries = dict(CROSS_ENTRIES)
    entries["mobilitet/mob-lesson-hinder.md"] = entry_text(
        {"id": "mob-lesson-hinder", "title": "Bussdepån blev klar till slut", "area": "mobilitet",
         "date": "2026-06-01", "sprint": "2026-S1", "type": "lesson", "tags": [], "related": []},
        {
            "Vad hände?": "Depån byggdes färdigt efter ett års arbete.",
            "Vad lärde vi oss?": "Tidplanen måste ha marginal.",
            "Hinder": "Upphandlingen av laddarna överprövades av en leverantör; överprövning av upphandlingen "
                      "tog månader.",
        },
    )
    kb = KnowledgeBase.open(write_kb(tmp_path / "kb", entries))
    kb.index()
    groups = recurring_obstacles(kb)
    kb.close()
    procurement = next(g for g in groups if "mob-overprovning" in g.entries)
    assert "mob-lesson-hinder" in procurement.entries


def test_obstacles_filters_choose_groups_met_in_the_period(cross_kb):
    rows = cross_kb.store.get_entries(cross_kb.store.entry_ids())
    everything = recurring_obstacles(cross_kb)
    # an area: the groups it has met, with the other areas' cases of the same obstacle
    bygg = recurring_obstacles(cross_kb, areas=["bygg"])
    assert bygg and all(any(rows[e]["area"] == "bygg" for e in g.entries) for g in bygg)
    procurement = next(g for g in bygg if "byg-overprovning" in g.entries)
    assert {"mob-overprovning", "ene-overprovning"} <= set(procurement.entries)
    # a period: the groups met again in it, however old their first case (grouped as without it)
    later = recurring_obstacles(cross_kb, since="2025-08-01")
    assert later and all(any(rows[e]["date"] >= "2025-08-01" for e in g.entries) for g in later)
    assert [g.entries for g in later] == [g.entries for g in everything
                                          if any(rows[e]["date"] >= "2025-08-01" for e in g.entries)]
    assert recurring_obstacles(cross_kb, since="2099-01-01") == []


def test_goal_conflict_other_area_from_text(cross_kb):
    (conflict,) = goal_conflicts(cross_kb)
    assert conflict.id == "ene-biogas" and conflict.area == "energi"
    assert conflict.other_area == "mobilitet" and conflict.areas[0] == "energi"


def test_goal_conflict_reasons_are_codes_shown_in_the_readers_language(cross_kb):
    (conflict,) = goal_conflicts(cross_kb)
    assert all(isinstance(r, Reason) for r in conflict.reasons)
    assert {r.code for r in conflict.reasons} <= {"conflict_reason_roadmap", "conflict_reason_names",
                                                  "conflict_reason_closest"}
    closest = next(r for r in conflict.reasons if r.code == "conflict_reason_closest")
    assert closest.params == {"area": "mobilitet"}  # the slug: data, not words
    names = {slug: a.name for slug, a in cross_kb.config.areas.items()}
    assert render_reason(closest, "sv", names) == "De närmaste posterna finns i Mobilitet och transporter"
    assert render_reason(closest, "en", names) == "The closest entries are in Mobilitet och transporter"
    # as JSON: the code and its parameters, as the other analyses' reasons
    assert {"code": "conflict_reason_closest", "area": "mobilitet"} in conflict.to_dict()["reasons"]
    assert render_reason({"code": "conflict_reason_closest", "area": "mobilitet"}, "en", names) == \
        "The closest entries are in Mobilitet och transporter"


def test_reason_params_show_area_names_and_counts():
    names = {"mobilitet": "Mobilitet och transporter", "bygg": "Bygg och fastigheter"}
    roadmap = Reason("conflict_reason_roadmap", {"areas": {"mobilitet": 2, "bygg": 1}})
    assert roadmap.render("sv", names) == "Färdplansåtgärder i Mobilitet och transporter (2), Bygg och fastigheter (1)"
    named = Reason("conflict_reason_names", {"areas": ["bygg", "okänt"]})
    assert named.render("en", names) == "The text names Bygg och fastigheter, okänt"
    assert render_reason("something new", "sv") == "something new"  # not a code: as it is


def test_near_duplicate_found_and_respects_verdicts(cross_kb):
    pairs = near_duplicates(cross_kb)
    assert [(d.a, d.b) for d in pairs] == [("ene-sol", "ene-sol-igen")]
    record_link(cross_kb.config, "ene-sol", "ene-sol-igen", "unrelated")
    assert near_duplicates(cross_kb) == []


def test_find_duplicates_controlled_vectors():
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(20, 32))
    vectors[5] = vectors[4] + 0.01 * rng.normal(size=32)
    corpus = _synthetic_corpus(vectors, ["a", "b"] * 10)
    assert [(d.a, d.b) for d in find_duplicates(corpus, [])] == [("e04", "e05")]


# --- the CLI ------------------------------------------------------------------------------------
def test_cli_synergies_json_and_text(cross_root):
    root = ["--root", str(cross_root)]
    assert _run("index", *root, "-q").exit_code == 0
    result = _run("synergies", *root, "--json", "-n", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 1 <= len(data) <= 3
    for item in data:
        assert {"a", "b", "area_a", "area_b", "score", "status"} <= set(item)
        assert item["area_a"] != item["area_b"] and item["status"] in ("suggested", "confirmed", "rejected")
    assert [d["score"] for d in data if d["status"] == "suggested"] == sorted(
        [d["score"] for d in data if d["status"] == "suggested"], reverse=True)
    text = _run("synergies", *root, "--area", "bygg")
    assert text.exit_code == 0 and "↔" in text.stdout
    matrix = _run("synergies", *root, "--matrix", "--json")
    assert matrix.exit_code == 0 and set(json.loads(matrix.stdout)["silo_index"]) == {"mobilitet", "energi", "bygg"}
    assert "Siloindex" in _run("synergies", *root, "--matrix").stdout  # the knowledge base speaks Swedish
    bad = _run("synergies", *root, "--area", "hav")
    assert bad.exit_code == 2 and "unknown area" in bad.stderr
    assert _run("synergies", *root, "--since", "igår").exit_code == 1


def test_cli_obstacles_conflicts_duplicates(cross_root):
    root = ["--root", str(cross_root)]
    _run("index", *root, "-q")
    obstacles = _run("obstacles", *root, "--json")
    assert obstacles.exit_code == 0
    groups = json.loads(obstacles.stdout)
    assert groups and {"label", "entries", "areas", "first_seen", "last_seen", "count"} <= set(groups[0])
    assert "återkommande" in _run("obstacles", *root).stdout
    conflicts = _run("conflicts", *root, "--json")
    assert conflicts.exit_code == 0 and json.loads(conflicts.stdout)[0]["other_area"] == "mobilitet"
    duplicates = _run("duplicates", *root, "--json")
    assert duplicates.exit_code == 0 and len(json.loads(duplicates.stdout)) == 1


def test_cli_commands_need_an_index(cross_root):
    result = _run("synergies", "--root", str(cross_root))
    assert result.exit_code == 1 and "kb index" in result.stderr


def test_cli_link(cross_root):
    root = ["--root", str(cross_root)]
    ok = _run("link", "mob-natagare", "byg-natagare", "--as", "synergy", "--note", "samma lärdom", *root, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"a": "byg-natagare", "b": "mob-natagare", "verdict": "synergy",
                                     "date": json.loads(ok.stdout)["date"], "note": "samma lärdom"}
    text = (cross_root / "entries/mobilitet/mob-natagare.md").read_text(encoding="utf-8")
    assert "related: [byg-natagare]" in text and "## Vad lärde vi oss?" in text
    unknown = _run("link", "mob-natagare", "nope", "--as", "synergy", *root)
    assert unknown.exit_code == 1 and "no entry with id 'nope'" in unknown.stderr
    bad = _run("link", "mob-natagare", "byg-natagare", "--as", "kanske", *root)
    assert bad.exit_code == 2
    missing = _run("link", "mob-natagare", "byg-natagare", *root)
    assert missing.exit_code == 2


def test_index_warns_about_a_new_near_duplicate(cross_root):
    root = ["--root", str(cross_root)]
    _run("index", *root, "-q")
    (cross_root / "entries/energi/ene-sol-tredje.md").write_text(
        textwrap.dedent(CROSS_ENTRIES["energi/ene-sol-igen.md"]).replace("id: ene-sol-igen", "id: ene-sol-tredje"),
        encoding="utf-8",
    )
    result = _run("index", *root, "-q")
    assert result.exit_code == 0
    assert "ene-sol-tredje looks like a near-duplicate" in result.stderr


def test_new_warns_about_a_near_duplicate(cross_root, tmp_path, monkeypatch):
    root = ["--root", str(cross_root)]
    _run("index", *root, "-q")
    # the "editor" writes the same lesson again, as a hurried author might
    written = tmp_path / "skrivet.md"
    written.write_text(CROSS_ENTRIES["energi/ene-sol-igen.md"].replace("id: ene-sol-igen\n", ""), encoding="utf-8")
    monkeypatch.setenv("EDITOR", f"cp {written}")
    result = _run("new", *root, "--area", "energi", "--title", "Solceller igen", "--edit")
    assert result.exit_code == 0, result.output
    assert "near-duplicate of ene-sol" in result.stderr
    plain = _run("new", *root, "--area", "bygg", "--title", "Något helt annat om betong", "--no-edit")
    assert plain.exit_code == 0 and "near-duplicate" not in plain.stderr


def test_rejection_removes_the_link_from_both_entries(cross_root):
    config = config_module.load(cross_root)
    record_link(config, "mob-cykel", "ene-sol", "synergy")
    record_link(config, "ene-sol", "mob-cykel", "duplicate")
    record_link(config, "mob-cykel", "ene-sol", "unrelated")
    for rel in ("mobilitet/mob-cykel.md", "energi/ene-sol.md"):
        assert "related: []" in (cross_root / "entries" / rel).read_text(encoding="utf-8")
    assert [d.verdict for d in load_decisions(cross_root)] == ["unrelated"]


def test_many_new_near_duplicates_give_one_summary_line(cross_root):
    root = ["--root", str(cross_root)]
    _run("index", *root, "-q")
    source = textwrap.dedent(CROSS_ENTRIES["energi/ene-sol-igen.md"])
    topics = ["Fjärrvärme i Rosengård", "Cykelbanor i Hyllie", "Laddplatser vid Malmö C", "Gröna tak i Augustenborg",
              "Matsvinn i skolköken", "Biogas till bussarna", "Skyfallsparker i Sofielund"]
    for k, topic in enumerate(topics):  # an import of a register that holds every lesson twice
        words = " ".join(f"{topic} ord{k}x{j}" for j in range(30))
        for copy in ("a", "b"):
            text = source.replace("id: ene-sol-igen", f"id: dubbel-{k}-{copy}")
            text = text.split("---\n", 2)
            (cross_root / f"entries/energi/dubbel-{k}-{copy}.md").write_text(
                "---\n" + text[1] + "---\n" + words + "\n", encoding="utf-8")
    result = _run("index", *root, "-q")
    assert result.exit_code == 0
    assert "pairs among the new entries look like near-duplicates; `kb duplicates` lists them" in result.stderr
    assert result.stderr.count("looks like a near-duplicate of") == 0


# --- reasons as codes, rendered in the reader's language ------------------------------------------
def test_synergy_and_duplicate_reasons_are_codes_with_parameters(cross_kb):
    top = synergies(cross_kb, limit=1)[0]
    codes = [r.code for r in top.reasons]
    assert codes[0] == "reason_section_match" and "reason_shared_tags" in codes
    match = top.reasons[0]
    assert {match.params["area_a"], match.params["area_b"]} == {"mobilitet", "bygg"}  # slugs in the data
    assert next(r for r in top.reasons if r.code == "reason_shared_tags").params == {"values": ["elnät"]}
    names = cross_kb.config.area_names()
    english = [r.render("en", names) for r in top.reasons]
    swedish = [r.render("sv", names) for r in top.reasons]
    assert "shared tags: elnät" in english and "samma taggar: elnät" in swedish
    assert "Mobilitet och transporter" in english[0] and "Bygg och fastigheter" in swedish[0]
    assert not any("mobilitet)" in line or "(bygg)" in line for line in english + swedish)  # names, not slugs
    (pair,) = near_duplicates(cross_kb)
    assert [r.code for r in pair.reasons] == [
        "reason_close_text", "reason_mutual_nearest", "reason_same_area", "reason_same_sprint"]
    assert pair.reasons[2].render("en", names) == "same area (Energi)"
    assert pair.reasons[0].render("sv", names).startswith(f"likhet {pair.score:.3f}: ")


def test_cli_renders_reasons_in_the_knowledge_bases_language_and_json_keeps_the_codes(cross_root):
    root = ["--root", str(cross_root)]
    _run("index", *root, "-q")
    data = json.loads(_run("synergies", *root, "--json", "-n", "1").stdout)
    assert data[0]["reasons"][0]["code"] == "reason_section_match"
    assert {"section_a", "section_b", "area_a", "area_b"} <= set(data[0]["reasons"][0])
    text = _run("synergies", *root, "-n", "1").stdout  # kb.toml says nothing: Swedish
    assert "- avsnittet ”" in text and "samma taggar: elnät" in text and "Bygg och fastigheter)" in text
    assert "section" not in text and "shared tags" not in text and "suggested" not in text
    duplicates = _run("duplicates", *root).stdout
    assert "varandras närmaste post; samma område (Energi); samma sprint (2025-S3)" in duplicates
    assert "förslag" in duplicates and "suggested" not in duplicates
    speak(cross_root, "en")
    assert json.loads(_run("synergies", *root, "--json", "-n", "1").stdout) == data  # --json never changes
    text = _run("synergies", *root, "-n", "1").stdout
    assert "- section “" in text and "shared tags: elnät" in text and "Bygg och fastigheter)" in text
    duplicates = _run("duplicates", *root).stdout
    assert "each other's nearest entry; same area (Energi); same sprint (2025-S3)" in duplicates
    assert json.loads(_run("duplicates", *root, "--json").stdout)[0]["reasons"][1] == {"code": "reason_mutual_nearest"}


def test_each_entrys_best_pair_comes_before_any_entrys_second():
    def pair(a, b, score):
        return Synergy(a=a, b=b, area_a="x", area_b="y", score=score, status="suggested")

    hub = [pair("hub", "a", 3.0), pair("hub", "b", 2.9), pair("hub", "c", 2.8), pair("d", "e", 1.0),
           pair("b", "f", 0.9), pair("a", "g", 0.5)]
    order = [(s.a, s.b) for s in spread_out(hub)]
    assert order == [("hub", "a"), ("d", "e"), ("b", "f"), ("hub", "b"), ("a", "g"), ("hub", "c")]
    assert sorted(order) == sorted((s.a, s.b) for s in hub)  # the same pairs, none lost


def test_synergies_list_each_entry_once_before_repeating_it(cross_kb):
    suggested = [s for s in synergies(cross_kb, limit=None) if s.status == "suggested"]
    counts: dict[str, int] = {}
    levels = []
    for s in suggested:  # how often its entries were listed before it
        levels.append(max(counts.get(s.a, 0), counts.get(s.b, 0)))
        counts[s.a], counts[s.b] = counts.get(s.a, 0) + 1, counts.get(s.b, 0) + 1
    assert levels == sorted(levels) and len(suggested) > 1


# --- related lessons (the entry page's panel) ---------------------------------------------------------
def test_related_lessons_need_two_kinds_of_evidence_and_say_which(cross_kb):
    finder = RelatedFinder(load_corpus(cross_kb))
    assert finder.top == MIN_TOP  # a small knowledge base: the first 5
    found = related_results(cross_kb, finder, "mob-natagare", limit=None)
    assert found[0].id == "byg-natagare"  # the same words, meaning and tag
    codes = [r.code for r in found[0].reasons]
    assert {"reason_words_in_common", "reason_shared_tags"} <= set(codes)
    every = related_results(cross_kb, finder, "mob-natagare", limit=None, cutoff=False)
    assert len(found) < len(every)  # the cut-off leaves out entries with one weak resemblance
    left_out = [r.id for r in every if r.id not in {f.id for f in found}]
    assert "ene-biogas" in left_out or "byg-renovering" in left_out
    assert {r.match for r in found} == {"close"} and {r.match for r in every} == {"close", "weak"}
    panel = related_panel(cross_kb, finder, "mob-natagare", limit=3)
    assert panel[0].area != "mobilitet"  # other areas first
    assert panel.any_close and {r.match for r in panel} == {"close"}
    others = related_results(cross_kb, finder, "mob-natagare", limit=None, other_areas=True)
    assert all(r.area != "mobilitet" for r in others)
    assert related_results(cross_kb, finder, "finns-inte") == []


def test_a_related_panel_with_nothing_close_shows_the_nearest_marked_weak(cross_kb, monkeypatch):
    finder = RelatedFinder(load_corpus(cross_kb))
    monkeypatch.setattr(finder, "find", lambda kb, entry_id, cutoff=True, **options: [] if cutoff else
                        RelatedFinder.find(finder, kb, entry_id, cutoff=False, **options))  # nothing passes
    panel = related_panel(cross_kb, finder, "mob-natagare", limit=6)
    assert not panel.any_close and len(panel) == NEAREST and {r.match for r in panel} == {"weak"}
    assert panel[0].area != "mobilitet"


def test_cli_similar_related_mode_says_why(cross_root):
    root = ["--root", str(cross_root)]
    _run("index", *root, "-q")
    data = json.loads(_run("similar", "mob-natagare", "--mode", "related", "--json", *root).stdout)
    assert data[0]["id"] == "byg-natagare" and {"code": "reason_shared_tags", "values": ["elnät"]} in data[0]["reasons"]
    text = _run("similar", "mob-natagare", "--mode", "related", "-n", "1", *root).stdout
    assert "varför: " in text and "samma taggar: elnät" in text and "why" not in text
    missing = _run("similar", "finns-inte", "--mode", "related", *root)
    assert missing.exit_code == 1 and "no entry with id" in missing.stderr


def test_verdicts_decide_the_related_lessons_too(cross_kb):
    record_link(cross_kb.config, "mob-natagare", "byg-natagare", "unrelated")
    record_link(cross_kb.config, "mob-natagare", "ene-fjarrvarme", "synergy", note="värmen")
    finder = RelatedFinder(load_corpus(cross_kb), load_decisions(cross_kb.config.root))
    found = related_results(cross_kb, finder, "mob-natagare", limit=None)
    assert found[0].id == "ene-fjarrvarme" and found[0].reasons[0].code == "reason_confirmed_note"
    assert "byg-natagare" not in [r.id for r in found]  # rejected: never again


def test_the_handouts_cut_is_as_many_pairs_as_are_each_others_best_match():
    def pair(a, b, rank_a, rank_b, status="suggested"):
        return Synergy(a=a, b=b, area_a="x", area_b="y", score=1.0, status=status, rank_a=rank_a, rank_b=rank_b)

    listed = [pair("a", "b", 1, 1, "confirmed"), pair("c", "d", 1, 2), pair("e", "f", 1, 1), pair("g", "h", 2, 3),
              pair("i", "j", 1, 1), pair("k", "l", 3, 1)]
    assert [s.a for s in strongest(listed)] == ["a", "c", "e"]  # 3 confirmed or mutual: the list's first 3
    assert strongest([pair("c", "d", 1, 2)]) == []
