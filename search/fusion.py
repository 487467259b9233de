"""Combining the semantic and the keyword ranking into one.

Scores are normalised per query before they are weighed: cosine scores of e5 live in a
narrow band (~0.75-0.9) and BM25 has no fixed scale, so raw sums would let one side
drown the other.
"""

from __future__ import annotations

from collections.abc import Mapping


def normalise_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Divide by the best score (BM25: 0 = no match, 1 = the best match)."""
    if not scores:
        return {}
    top = max(scores.values())
    if top <= 0:
        return {key: 0.0 for key in scores}
    return {key: max(0.0, value) / top for key, value in scores.items()}


def normalise_minmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Map the lowest score to 0 and the highest to 1 (all equal: all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return {key: 1.0 for key in scores}
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def weighted_fusion(
    semantic: Mapping[str, float],
    keyword: Mapping[str, float],
    keyword_weight: float = 0.3,
) -> dict[str, float]:
    """``(1 - w) * semantic + w * keyword``, each normalised; a side without the key adds 0."""
    sem = normalise_minmax(semantic)
    kw = normalise_max(keyword)
    keys = set(sem) | set(kw)
    return {
        key: (1.0 - keyword_weight) * sem.get(key, 0.0) + keyword_weight * kw.get(key, 0.0)
        for key in keys
    }


def reciprocal_rank_fusion(*rankings: list[str], k: int = 60) -> dict[str, float]:
    """Plain RRF, kept as a baseline for the benchmark."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused
