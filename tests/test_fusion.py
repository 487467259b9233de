"""Fusion of the semantic and keyword rankings: monotonic, one-sided, ties."""

from __future__ import annotations

import pytest

from search import query
from search.fusion import normalise_max, normalise_minmax, reciprocal_rank_fusion, weighted_fusion


def ranking(scores):
    return [k for k, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def test_weighted_fusion_is_monotonic_in_each_side():
    sem = {"a": 0.90, "b": 0.85, "c": 0.80}
    kw = {"a": 1.0, "b": 2.0, "c": 3.0}
    base = weighted_fusion(sem, kw, 0.4)
    better_kw = weighted_fusion(sem, {**kw, "a": 2.5}, 0.4)
    assert better_kw["a"] > base["a"]
    better_sem = weighted_fusion({**sem, "c": 0.88}, kw, 0.4)
    assert better_sem["c"] > base["c"]


def test_weighted_fusion_weight_zero_and_one_give_each_side_alone():
    sem = {"a": 0.9, "b": 0.8, "c": 0.7}
    kw = {"c": 5.0, "b": 1.0}
    assert ranking(weighted_fusion(sem, kw, 0.0)) == ["a", "b", "c"]
    assert ranking(weighted_fusion(sem, kw, 1.0))[:2] == ["c", "b"]


def test_a_side_with_no_hits_keeps_the_other_order():
    sem = {"a": 0.9, "b": 0.8, "c": 0.7}
    fused = weighted_fusion(sem, {}, 0.5)
    assert ranking(fused) == ["a", "b", "c"]
    assert fused["a"] == pytest.approx(0.5)
    assert ranking(weighted_fusion({}, {"x": 2.0, "y": 1.0}, 0.5)) == ["x", "y"]
    assert weighted_fusion({}, {}, 0.5) == {}


def test_a_key_on_one_side_only_gets_no_score_from_the_other():
    fused = weighted_fusion({"a": 0.9, "b": 0.7}, {"c": 4.0}, 0.3)
    assert fused["c"] == pytest.approx(0.3)
    assert fused["a"] == pytest.approx(0.7)
    assert fused["b"] == pytest.approx(0.0)


def test_ties_normalise_to_equal_scores():
    assert normalise_minmax({"a": 0.8, "b": 0.8}) == {"a": 1.0, "b": 1.0}
    assert normalise_max({"a": 2.0, "b": 2.0}) == {"a": 1.0, "b": 1.0}
    fused = weighted_fusion({"a": 0.8, "b": 0.8}, {"a": 1.0, "b": 1.0}, 0.3)
    assert fused["a"] == fused["b"]


def test_bm25_zero_or_negative_best_gives_zero():
    assert normalise_max({"a": 0.0, "b": -1.0}) == {"a": 0.0, "b": 0.0}


def test_rrf_sums_reciprocal_ranks_and_ties_across_lists():
    fused = reciprocal_rank_fusion(["a", "b"], ["b", "a"], k=60)
    assert fused["a"] == fused["b"] == pytest.approx(1 / 61 + 1 / 62)
    one_sided = reciprocal_rank_fusion(["a", "b"], [], k=60)
    assert ranking(one_sided) == ["a", "b"]
    assert one_sided["a"] == pytest.approx(1 / 61)


def test_adaptive_keyword_weight_grows_with_the_best_bm25_score():
    assert query.adaptive_keyword_weight({}) == pytest.approx(query.KEYWORD_WEIGHT_MIN)
    weights = [query.adaptive_keyword_weight({"a": s}) for s in (0.0, 5.0, 12.5, 25.0, 80.0)]
    assert weights == sorted(weights)
    assert weights[-1] == weights[-2] == pytest.approx(query.KEYWORD_WEIGHT_MAX)


def test_other_normalisers_keep_order_and_floor_missing_keys():
    scores = {"a": 3.0, "b": 2.0, "c": 1.0}
    for name in ("top", "z", "dbsf"):
        fused = weighted_fusion({}, scores, 1.0, keyword_norm=name)
        assert ranking(fused) == ["a", "b", "c"], name
    # z-scores go below 0: a key the keyword side did not find gets its lowest score, not 0
    fused = weighted_fusion({"x": 0.9}, scores, 0.5, keyword_norm="z")
    lowest_z = (1.0 - 2.0) / (2.0 / 3.0) ** 0.5
    assert fused["x"] == pytest.approx(0.5 * 1.0 + 0.5 * lowest_z)
    assert fused["x"] < fused["a"]
