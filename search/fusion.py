"""Combining the semantic and the keyword ranking into one.

Scores are normalised per query before they are weighed: cosine scores of e5 live in a
narrow band (~0.75-0.9) and BM25 has no fixed scale, so raw sums would let one side
drown the other. The normalisers and the weight were chosen on the tuning splits of
SweFAQ and SweQUAD-MC (see :mod:`search.evaluate` and ``bench/retrieval.py``).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping

Scores = Mapping[str, float]


def normalise_max(scores: Scores) -> dict[str, float]:
    """Divide by the best score (BM25: 0 = no match, 1 = the best match)."""
    if not scores:
        return {}
    top = max(scores.values())
    if top <= 0:
        return {key: 0.0 for key in scores}
    return {key: max(0.0, value) / top for key, value in scores.items()}


def normalise_minmax(scores: Scores) -> dict[str, float]:
    """Map the lowest score to 0 and the highest to 1 (all equal: all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return {key: 1.0 for key in scores}
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def normalise_top(scores: Scores, n: int = 20) -> dict[str, float]:
    """Min-max between the n-th best score (0) and the best (1); lower ones are clipped to 0.

    Unlike plain min-max this does not depend on how far down the candidate list goes."""
    if not scores:
        return {}
    ordered = sorted(scores.values(), reverse=True)
    high, low = ordered[0], ordered[min(n, len(ordered)) - 1]
    if high - low <= 1e-12:
        return {key: 1.0 for key in scores}
    return {key: max(0.0, (value - low) / (high - low)) for key, value in scores.items()}


def normalise_z(scores: Scores) -> dict[str, float]:
    """Standard scores: (value - mean) / standard deviation (all equal: all 0)."""
    if not scores:
        return {}
    values = list(scores.values())
    mean = statistics.fmean(values)
    spread = statistics.pstdev(values)
    if spread <= 1e-12:
        return {key: 0.0 for key in scores}
    return {key: (value - mean) / spread for key, value in scores.items()}


def normalise_dbsf(scores: Scores) -> dict[str, float]:
    """Distribution-based: mean - 3 sd maps to 0, mean + 3 sd to 1."""
    return {key: (z + 3.0) / 6.0 for key, z in normalise_z(scores).items()}


NORMALISERS: dict[str, Callable[[Scores], dict[str, float]]] = {
    "max": normalise_max,
    "minmax": normalise_minmax,
    "top": normalise_top,
    "z": normalise_z,
    "dbsf": normalise_dbsf,
}


IMPUTE_TOP = 20  # same-language entries the keyword side's slope is read from


def impute_unseen(sem: Scores, kw: Scores, unseen, top: int = IMPUTE_TOP) -> dict[str, float]:
    """Keyword scores for the keys the keyword side cannot see (entries in another language
    than the query: it matches words, and they have none of the query's words).

    Zero would rank every entry of the other language below the query's own language, where
    it would be only for its meaning (language before meaning). Instead each gets what the
    keyword side gives, on average, to an entry of the query's language with the same
    semantic score: the least-squares slope of keyword on semantic score (through 0) over
    the ``top`` best same-language entries by meaning."""
    unseen = set(unseen)
    if not unseen:
        return dict(kw)
    seen = sorted((k for k in sem if k not in unseen), key=lambda k: -sem[k])[:top]
    den = sum(sem[k] ** 2 for k in seen)
    slope = sum(kw.get(k, 0.0) * sem[k] for k in seen) / den if den > 1e-12 else 0.0
    out = dict(kw)
    for key in unseen:
        if key in sem:
            out[key] = min(1.0, max(0.0, slope * sem[key]))
    return out


def weighted_fusion(
    semantic: Scores,
    keyword: Scores,
    keyword_weight: float = 0.3,
    *,
    semantic_norm: str = "minmax",
    keyword_norm: str = "max",
    unseen=(),
) -> dict[str, float]:
    """``(1 - w) * semantic + w * keyword``, each normalised. A key missing on one side gets
    that side's floor: 0, or the lowest normalised score if that is below 0 (z-scores).
    ``unseen``: keys the keyword side cannot judge; see :func:`impute_unseen`."""
    sem = NORMALISERS[semantic_norm](semantic)
    kw = NORMALISERS[keyword_norm](keyword)
    if unseen:
        kw = impute_unseen(sem, kw, unseen)
    sem_floor = min(0.0, min(sem.values(), default=0.0))
    kw_floor = min(0.0, min(kw.values(), default=0.0))
    return {
        key: (1.0 - keyword_weight) * sem.get(key, sem_floor) + keyword_weight * kw.get(key, kw_floor)
        for key in set(sem) | set(kw)
    }


def reciprocal_rank_fusion(*rankings: list[str], k: int = 60) -> dict[str, float]:
    """Plain RRF, kept as a baseline for the benchmark."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused
