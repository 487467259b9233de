"""The "no close match" cut-off of search (search.cutoff), in the library, the CLI and the
web page; and the keyword side's imputation for entries in the other language."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.core.vector_index import Reference
from search.cutoff import (
    AUTO,
    CROSS_LANGUAGE_LIFT,
    MATCH_GATE,
    MATCH_MIN,
    OTHER_LANGUAGE,
    coverage,
    impute_coverage,
    kept,
    match_value,
)
from search.fusion import impute_unseen, weighted_fusion

from .helpers import datasette_get

OFF_TOPIC = "recept på kanelbullar med kardemumma"


def test_an_off_topic_question_gets_nothing_and_says_how_much_was_left_out(indexed_kb):
    results = indexed_kb.search(OFF_TOPIC)
    assert results == [] and results.left_out == 4  # the four entries, all far from it
    every = indexed_kb.search(OFF_TOPIC, min_score=None)
    assert len(every) == 4 and every.left_out == 0
    assert all(r.match is not None and r.match < MATCH_GATE for r in every)


def test_a_question_the_entries_answer_keeps_its_answer_and_drops_the_unrelated(indexed_kb):
    results = indexed_kb.search("upphandling av cykelbana i Hyllie")
    assert results[0].id == "cykel-upphandling" and results[0].match >= MATCH_GATE
    every = indexed_kb.search("upphandling av cykelbana i Hyllie", min_score=None)
    assert len(results) + results.left_out == len(every) == 4
    assert results.left_out >= 1  # solar roofs share no word and no meaning with it
    assert all(r.match >= MATCH_MIN for r in results)
    assert results[0].to_dict()["match"] == round(results[0].match, 3)


def test_a_minimum_match_of_ones_own(indexed_kb):
    every = indexed_kb.search("elnätet kapacitet", min_score=None)
    cut = sorted(r.match for r in every)[1]
    chosen = indexed_kb.search("elnätet kapacitet", min_score=cut)
    assert {r.id for r in chosen} == {r.id for r in every if r.match >= cut}
    assert chosen.left_out == sum(1 for r in every if r.match < cut)


def test_keyword_mode_has_no_cutoff(indexed_kb):
    results = indexed_kb.search("Stadsfastigheter", mode="keyword")
    assert [r.id for r in results] == ["solar-roofs"] and results[0].match is None


def test_kept_rule():
    parts = {"a": (0.3, 0.0), "b": (MATCH_MIN, 0.0), "c": (MATCH_MIN - 0.01, 0.0)}
    assert kept(parts, AUTO) == {"a", "b"}
    assert kept({"a": (MATCH_GATE - 0.01, 0.0), "b": (MATCH_MIN, 0.0)}, AUTO) == set()  # no close match at all
    # it has every word (although far in meaning: its match does not open the gate for "a")
    assert kept({"a": (MATCH_GATE - 0.01, 0.0), "w": (-1.0, 1.0)}, AUTO) == {"w"}
    assert kept(parts, None) == {"a", "b", "c"}
    assert kept(parts, 0.2) == {"a"}


def test_coverage_weighs_rare_words_and_counts_unknown_words_as_rarest(indexed_kb):
    share = coverage(indexed_kb.store, "kapacitet kardemumma", ["laddplatser", "solar-roofs"])
    assert share["solar-roofs"] == 0.0
    assert 0.0 < share["laddplatser"] < 0.5  # it has 'kapacitet'; nothing has 'kardemumma', the rarer
    both = coverage(indexed_kb.store, "kapacitet elnätet", ["laddplatser"])
    assert both["laddplatser"] == pytest.approx(1.0)


def test_lift_is_read_against_the_knowledge_bases_own_mean_and_spread():
    rng = np.random.default_rng(3)
    mean = rng.normal(size=16).astype(np.float32)
    reference = Reference({"sv": mean}, spread=0.5)
    query = rng.normal(size=16).astype(np.float32)
    passages = np.vstack([mean, mean + query]).astype(np.float32)
    lift = reference.lift(query, passages, ["sv", "sv"])
    assert lift[0] == pytest.approx(0.0, abs=1e-5)  # the average text: no lift
    assert lift[1] == pytest.approx(float(query @ query) / 0.5, rel=1e-5)
    shifted = Reference({"sv": mean + 1.0}, spread=1.0).lift(query, passages + 1.0, ["sv", "sv"])
    assert shifted[1] == pytest.approx(lift[1] * 0.5, rel=1e-4)  # an offset of everything changes nothing


def test_reference_is_kept_beside_the_faiss_file(indexed_kb):
    reference = indexed_kb.vectors.reference
    assert set(reference.means) >= {"sv"} and reference.spread > 0
    sidecar = json.loads(indexed_kb.config.faiss_path.with_name("vectors.faiss.json").read_text(encoding="utf-8"))
    assert sidecar["reference"]["spread"] == pytest.approx(reference.spread, rel=1e-5)


# --- the CLI and the web page ----------------------------------------------------------------------
def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_leaves_out_and_says_so(indexed_kb):
    root = ["--root", str(indexed_kb.config.root)]
    nothing = run("search", OFF_TOPIC, *root)
    assert nothing.exit_code == 0 and nothing.stdout == ""
    assert "No close match" in nothing.stderr and "--all" in nothing.stderr
    every = run("search", OFF_TOPIC, *root, "--all", "--json")
    assert len(json.loads(every.stdout)) == 4 and all("match" in r for r in json.loads(every.stdout))
    some = run("search", "upphandling av cykelbana i Hyllie", *root)
    assert "cykel-upphandling" in some.stdout and "match " in some.stdout
    assert "left out: no close match (--all shows them)" in some.stderr
    low = run("search", OFF_TOPIC, *root, "--min-score", "-5", "--json")
    assert len(json.loads(low.stdout)) == 4
    both = run("search", OFF_TOPIC, *root, "--all", "--min-score", "0.1")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


def test_search_page_offers_the_nearest_and_browsing(indexed_kb):
    root = indexed_kb.config.root
    page, english, every, as_json, bad = datasette_get(
        root, f"/-/kb/search?q={OFF_TOPIC}", f"/-/kb/search?q={OFF_TOPIC}&lang=en", f"/-/kb/search?q={OFF_TOPIC}&all=1",
        f"/-/kb/search.json?q={OFF_TOPIC}", f"/-/kb/search.json?q={OFF_TOPIC}&min_score=mycket")
    assert page.status_code == 200 and "Ingen post ligger nära frågan" in page.text
    assert "all=1" in page.text and "Visa de närmaste ändå" in page.text and "Bläddra bland alla poster" in page.text
    assert page.text.count("Bläddra bland alla poster") == 1  # offered once, beside the nearest
    assert "No entry is close to the question" in english.text and "Show the nearest anyway" in english.text
    assert every.status_code == 200 and every.text.count('class="kb-result"') == 4
    assert "Alla träffar visas" in every.text and 'name="all" value="1"' in every.text
    data = as_json.json()
    assert data["ok"] and data["count"] == 0 and data["left_out"] == 4 and data["cutoff"] == "auto"
    assert bad.status_code == 400 and "min_score" in bad.json()["errors"][0]


def test_search_page_says_how_many_weaker_results_it_left_out(indexed_kb):
    page = datasette_get(indexed_kb.config.root, "/-/kb/search?q=upphandling av cykelbana i Hyllie")
    assert "svagare träffar visas inte" in page.text and "Visa alla träffar" in page.text
    assert "kb-score" not in page.text  # scores are left out of the page (they mean little to a reader)


# --- the other language ------------------------------------------------------------------------------
def test_an_entry_the_keyword_side_cannot_see_is_not_ranked_by_language():
    semantic = {"sv-near": 0.90, "sv-far": 0.80, "en-near": 0.95, "en-far": 0.10}
    keyword = {"sv-near": 9.0, "sv-far": 6.0}  # the query is Swedish: only Swedish entries share words
    plain = weighted_fusion(semantic, keyword, 0.3)
    fair = weighted_fusion(semantic, keyword, 0.3, unseen={"en-near", "en-far"})
    assert max(plain, key=plain.get) == "sv-near"  # the closest in meaning lost on language alone
    assert max(fair, key=fair.get) == "en-near"
    assert fair["en-far"] < fair["sv-far"]  # far in meaning stays far
    assert {k: fair[k] for k in ("sv-near", "sv-far")} == {k: plain[k] for k in ("sv-near", "sv-far")}


def test_imputed_keyword_follows_the_same_language_slope():
    sem = {"a": 1.0, "b": 0.5, "x": 0.8}
    out = impute_unseen(sem, {"a": 0.5, "b": 0.25}, {"x"})
    assert out["x"] == pytest.approx(0.4)  # keyword = 0.5 x semantic among a and b
    assert impute_unseen(sem, {}, {"x"})["x"] == 0.0


def test_coverage_of_an_entry_in_the_other_language_is_read_from_the_questions_own():
    parts = {"sv-a": (0.2, 0.8), "sv-b": (0.1, 0.4), "en": (0.15, 0.0)}
    out = impute_coverage(parts, {"en"})
    assert out["en"] == (0.15, pytest.approx(0.6), OTHER_LANGUAGE)  # coverage = 4 x lift in the question's language
    assert out["sv-a"] == parts["sv-a"]
    off_topic = impute_coverage({"sv": (0.1, 0.0), "en": (0.12, 0.0)}, {"en"})
    assert off_topic["en"] == (0.12, 0.0, OTHER_LANGUAGE)  # no words of its own language matched: nothing to impute


def test_the_lift_over_an_entry_in_the_other_language_counts_more():
    # "who maintains the green roofs" over the Swedish entry that answers it: the language gap
    # keeps its lift below the gate that the same lift in the question's own language misses too
    lift = MATCH_GATE / CROSS_LANGUAGE_LIFT + 0.005
    assert CROSS_LANGUAGE_LIFT > 1
    assert match_value((lift, 0.0, OTHER_LANGUAGE)) == pytest.approx(lift * CROSS_LANGUAGE_LIFT)
    assert match_value((lift, 0.0)) == match_value((lift, 0.0, False)) == lift
    assert kept({"sv": (lift, 0.0, OTHER_LANGUAGE)}, AUTO) == {"sv"}
    assert kept({"en": (lift, 0.0)}, AUTO) == set()
