"""The match of a search result, close or weak (search.match), in the library, the CLI and the
web page; and the keyword side's imputation for entries in the other language."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.core.vector_index import Reference
from search.fusion import impute_unseen, weighted_fusion
from search.match import (
    CLOSE,
    CLOSE_AT,
    COVERAGE_WEIGHT,
    NEAREST,
    OTHER_LANGUAGE,
    SIZE_WEIGHT,
    SUBJECT_WEIGHT,
    WEAK,
    close_threshold,
    coverage,
    grade,
    impute_coverage,
    match_score,
    off_subject,
    shown,
)

from .helpers import datasette_get

OFF_TOPIC = "recept på kanelbullar med kardemumma"
ANSWERED = "upphandling av cykelbana i Hyllie"


def test_an_off_topic_question_gets_its_nearest_marked_weak(indexed_kb):
    results = indexed_kb.search(OFF_TOPIC)
    assert len(results) == 4 and results.left_out == 0  # four entries: all of them are the nearest few
    assert not results.any_close and {r.match for r in results} == {WEAK}
    assert all(r.match_score < results.threshold for r in results)
    close = indexed_kb.search(OFF_TOPIC, show="close")
    assert close == [] and close.left_out == 4


def test_a_question_the_entries_answer_gets_its_answer_marked_close(indexed_kb):
    results = indexed_kb.search(ANSWERED)
    assert results[0].id == "cykel-upphandling" and results[0].match == CLOSE and results.any_close
    assert len(results) == 4 and results.left_out == 0  # one is close: every result is shown, each marked
    assert {r.match for r in results[1:]} == {WEAK}  # solar roofs share no word and no meaning with it
    data = results[0].to_dict()
    assert data["match"] == CLOSE and data["match_score"] == round(results[0].match_score, 3)
    assert [r.id for r in indexed_kb.search(ANSWERED, show="close")] == ["cykel-upphandling"]


def test_a_threshold_of_ones_own(indexed_kb):
    every = indexed_kb.search("elnätet kapacitet", show="all")
    cut = sorted(r.match_score for r in every)[1]
    chosen = indexed_kb.search("elnätet kapacitet", close_at=cut, show="all")
    assert chosen.threshold == cut
    assert {r.id for r in chosen if r.match == CLOSE} == {r.id for r in every if r.match_score >= cut}


def test_when_none_is_close_the_nearest_few_are_shown_and_the_rest_counted(cross_root):
    from kb.app.knowledge_base import KnowledgeBase

    kb = KnowledgeBase.open(cross_root)
    kb.index()
    try:
        nothing_close = kb.search(OFF_TOPIC, close_at=10.0)  # a threshold no result reaches
        assert len(nothing_close) == NEAREST and nothing_close.left_out == 10 - NEAREST
        assert [r.id for r in nothing_close] == [r.id for r in kb.search(OFF_TOPIC, close_at=10.0, show="all")][:NEAREST]
        assert len(kb.search(OFF_TOPIC, close_at=10.0, show="all")) == 10
        assert kb.search(OFF_TOPIC, close_at=-10.0).any_close  # every result close: every result shown
    finally:
        kb.close()


def test_keyword_mode_is_graded_too(indexed_kb):
    results = indexed_kb.search("Stadsfastigheter", mode="keyword")
    assert [r.id for r in results] == ["solar-roofs"] and results[0].match in (CLOSE, WEAK)


def test_only_filters_or_an_empty_knowledge_base_give_no_results(indexed_kb):
    from search.filters import Filters

    assert indexed_kb.search(OFF_TOPIC)  # never empty for want of closeness
    assert indexed_kb.search(OFF_TOPIC, filters=Filters(types=["goal-conflict"])) == []  # no such entry


def test_the_rule():
    assert grade(0.3, 0.2) == CLOSE and grade(0.2, 0.2) == CLOSE and grade(0.19, 0.2) == WEAK and grade(None, 0.2) is None
    assert match_score((0.2, 0.4)) == pytest.approx(0.2 + COVERAGE_WEIGHT * 0.4)
    assert match_score((0.2, 0.4, OTHER_LANGUAGE)) == match_score((0.2, 0.4))
    # the bigger the knowledge base, the more chances of an accidental near one: the threshold grows
    assert close_threshold(54) < close_threshold(543) < close_threshold(5430)
    assert close_threshold(543) - close_threshold(54) == pytest.approx(
        SIZE_WEIGHT * (math.sqrt(2 * math.log(543)) - math.sqrt(2 * math.log(54))))
    assert close_threshold(1) == CLOSE_AT
    assert close_threshold(0) == close_threshold(1)
    weak8, one_close = [WEAK] * 8, [WEAK, CLOSE] + [WEAK] * 6
    assert shown(weak8) == list(range(NEAREST))
    assert shown(one_close) == list(range(8)) and shown(one_close, "close") == [1]
    assert shown(weak8, "all") == list(range(8)) and shown(weak8, "close") == []
    assert shown([]) == []
    with pytest.raises(ValueError):
        shown(weak8, "some")


def test_a_question_far_from_the_knowledge_bases_subject_scores_lower():
    sv, en = np.array([1.0, 1.0, 0, 0], dtype=np.float32), np.array([0, 0, 1.0, 1.0], dtype=np.float32)
    reference = Reference({"sv": sv, "en": en}, counts={"sv": 90, "en": 90})
    on_subject = (sv / np.linalg.norm(sv)).astype(np.float32)
    assert reference.subject_cosine(on_subject) == pytest.approx(1.0)
    # read against the average text of the question's own language, not the other one's
    assert reference.subject_cosine(np.array([0, 0, 0.6, 0.8], dtype=np.float32)) == pytest.approx(
        1.4 / math.sqrt(2.0))
    assert reference.subject_cosine(np.array([1.0, -1.0, 0, 0], dtype=np.float32)) == pytest.approx(0.0)
    assert Reference().subject_cosine(on_subject) == 0.0  # no passages
    # the question's distance lowers every result's score by the same amount
    assert match_score((0.2, 0.4), 0.1) == pytest.approx(0.2 + COVERAGE_WEIGHT * 0.4 - 0.1)


def test_every_result_of_a_search_counts_the_questions_distance_from_the_subject(indexed_kb):
    from search.query import normalise_query

    assert SUBJECT_WEIGHT > 0
    for question in (OFF_TOPIC, ANSWERED):
        results = indexed_kb.search(question, show="all")
        away = off_subject(indexed_kb, indexed_kb.embedder.embed_query(normalise_query(question)))
        assert 0.0 < away < 2.0
        assert all(r.match_score == pytest.approx(match_score(r.match_parts) - SUBJECT_WEIGHT * away, abs=1e-6)
                   for r in results)
        assert all((r.match == CLOSE) == (r.match_score >= results.threshold) for r in results)


def test_coverage_weighs_rare_words_and_counts_unknown_words_as_rarest(indexed_kb):
    share = coverage(indexed_kb.store, "kapacitet kardemumma", ["laddplatser", "solar-roofs"])
    assert share["solar-roofs"] == 0.0
    assert 0.0 < share["laddplatser"] < 0.5  # it has 'kapacitet'; nothing has 'kardemumma', the rarer
    both = coverage(indexed_kb.store, "kapacitet elnätet", ["laddplatser"])
    assert both["laddplatser"] == pytest.approx(1.0)


def test_closeness_in_meaning_is_read_without_the_knowledge_bases_average_text():
    rng = np.random.default_rng(3)
    mean = rng.normal(size=16).astype(np.float32)
    reference = Reference({"sv": mean}, counts={"sv": 100})
    query = rng.normal(size=16).astype(np.float32)
    passages = np.vstack([mean + query, mean - query, mean + rng.normal(size=16)]).astype(np.float32)
    near = reference.centred_cosine(mean + query, passages, ["sv"] * 3)
    assert near[0] == pytest.approx(1.0, abs=1e-5) and near[1] == pytest.approx(-1.0, abs=1e-5)
    assert abs(near[2]) < 0.9
    shifted = Reference({"sv": mean + 1.0}, counts={"sv": 100}).centred_cosine(mean + query + 1.0, passages + 1.0,
                                                                                  ["sv"] * 3)
    assert shifted == pytest.approx(near, abs=1e-5)  # an offset of everything changes nothing


def test_a_language_with_a_handful_of_passages_is_read_against_all_of_them():
    sv, en = np.ones(4, dtype=np.float32), np.array([1, 0, 0, 0], dtype=np.float32)
    reference = Reference({"sv": sv, "en": en}, counts={"sv": 90, "en": 3})
    assert "en" not in reference.settled
    assert np.allclose(reference.mean_of("en"), (90 * sv + 3 * en) / 93)
    assert np.allclose(reference.mean_of("sv"), sv)


def test_reference_is_kept_beside_the_faiss_file(indexed_kb):
    reference = indexed_kb.vectors.reference
    assert set(reference.means) >= {"sv"} and reference.counts["sv"] > 0
    sidecar = json.loads(indexed_kb.config.faiss_path.with_name("vectors.faiss.json").read_text(encoding="utf-8"))
    assert sidecar["reference"]["counts"] == reference.counts
    assert np.allclose(sidecar["reference"]["means"]["sv"], reference.means["sv"], atol=1e-6)


# --- the CLI and the web page ----------------------------------------------------------------------
def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_says_nothing_is_close_and_shows_the_nearest_marked_weak(indexed_kb):
    root = ["--root", str(indexed_kb.config.root)]  # a Swedish knowledge base: the CLI speaks Swedish
    nothing = run("search", OFF_TOPIC, *root)
    assert nothing.exit_code == 0 and nothing.stdout.count(" · svag (") == 4
    assert "Ingen nära träff" in nothing.stderr and "närmaste posterna, alla svaga" in nothing.stderr
    as_json = json.loads(run("search", OFF_TOPIC, *root, "--json").stdout)
    assert len(as_json) == 4 and {r["match"] for r in as_json} == {"weak"}  # --json keeps its codes
    assert all(isinstance(r["match_score"], float) for r in as_json)
    only = run("search", OFF_TOPIC, *root, "--close-only")
    assert only.exit_code == 0 and only.stdout == "" and "Ingen nära träff" in only.stderr
    assert json.loads(run("search", OFF_TOPIC, *root, "--close-only", "--json").stdout) == []
    some = run("search", ANSWERED, *root)
    assert "cykel-upphandling · Mobilitet" in some.stdout and " · nära (" in some.stdout and " · svag (" in some.stdout
    assert "Ingen nära träff" not in some.stderr
    assert " · close (" not in some.stdout and " · weak (" not in some.stdout and " · lesson · " not in some.stdout
    some_only = run("search", ANSWERED, *root, "--close-only")
    assert some_only.stdout.count(" · nära (") == 1 and "3 svaga träffar visas inte" in some_only.stderr
    low = run("search", OFF_TOPIC, *root, "--close-at", "-5", "--json")
    assert {r["match"] for r in json.loads(low.stdout)} == {"close"}
    both = run("search", OFF_TOPIC, *root, "--all", "--close-only")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


def test_search_page_says_nothing_is_close_and_shows_the_nearest(indexed_kb):
    root = indexed_kb.config.root
    page, english, only, as_json, bad = datasette_get(
        root, f"/-/kb/search?q={OFF_TOPIC}", f"/-/kb/search?q={OFF_TOPIC}&lang=en", f"/-/kb/search?q={OFF_TOPIC}&close=1",
        f"/-/kb/search.json?q={OFF_TOPIC}", f"/-/kb/search.json?q={OFF_TOPIC}&close_at=mycket")
    assert page.status_code == 200 and "Ingen post ligger nära frågan. De närmaste visas här" in page.text
    assert page.text.count('class="kb-result kb-match-weak"') == 4 and page.text.count(">Svag träff<") == 4
    assert page.text.index("Ingen post ligger nära frågan") < page.text.index('class="kb-result')  # the notice first
    assert "No entry is close to the question" in english.text and english.text.count(">Weak match<") == 4
    assert "Svag träff" not in english.text
    assert only.status_code == 200 and 'class="kb-result kb-match' not in only.text
    assert "Visa de närmaste" in only.text and 'name="close" value="1"' in only.text
    data = as_json.json()
    assert data["ok"] and data["count"] == 4 and data["left_out"] == 0 and data["any_close"] is False
    assert data["show"] == "default" and isinstance(data["close_at"], float)
    assert {r["match"] for r in data["results"]} == {"weak"}
    assert bad.status_code == 400 and "close_at" in bad.json()["errors"][0]


def test_search_page_marks_each_result_in_words(indexed_kb):
    root = indexed_kb.config.root
    page, close_only = datasette_get(root, f"/-/kb/search?q={ANSWERED}", f"/-/kb/search?q={ANSWERED}&close=1")
    assert "4 träffar, 1 nära frågan" in page.text and page.text.count(">Nära frågan<") == 1
    assert page.text.count(">Svag träff<") == 3 and "Ingen post ligger nära frågan" not in page.text
    assert "kb-score" not in page.text  # scores are left out of the page (they mean little to a reader)
    assert close_only.text.count('class="kb-result kb-match') == 1
    assert "3 svaga träffar visas inte." in close_only.text and "Visa alla träffar" in close_only.text


def test_one_weak_result_left_out_is_counted_in_the_singular(indexed_kb):
    root = indexed_kb.config.root
    swedish, english = datasette_get(root, f"/-/kb/search?q={ANSWERED}&close=1&n=2",
                                     f"/-/kb/search?q={ANSWERED}&close=1&n=2&lang=en")
    assert "1 svag träff visas inte." in swedish.text and "svaga träffar" not in swedish.text
    assert "1 weak result is not shown." in english.text


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
    assert out["en"] == (0.15, pytest.approx(0.6), OTHER_LANGUAGE)  # coverage = 4 x meaning in the question's language
    assert out["sv-a"] == parts["sv-a"]
    off_topic = impute_coverage({"sv": (0.1, 0.0), "en": (0.12, 0.0)}, {"en"})
    assert off_topic["en"] == (0.12, 0.0, OTHER_LANGUAGE)  # no words of its own language matched: nothing to impute
