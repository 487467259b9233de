"""The close threshold of one knowledge base, measured on it at index time.

How high an unrelated question scores depends on the knowledge base: on its size, its
subject, how alike its entries are. A threshold fixed once for every knowledge base marks
too much close in one and hides real answers in another. So ``kb index`` asks the
knowledge base a fixed set of everyday questions that no knowledge base of this kind
answers (:data:`PROBES`: cooking, pets, games, trivia, in Swedish and English; written for
this purpose, not taken from any evaluation set) and takes the best match score any of
them reaches there: that is what "close by accident" looks like in this knowledge base.
A result is close from that score less :data:`PROBE_MARGIN` times the spread of the probes'
scores (their standard deviation), the knowledge base's own unit of "by accident":
``threshold = max(best probe scores) + PROBE_MARGIN x sd(best probe scores)``, the scores
counting each probe's distance from the knowledge base's subject as every search's do
(:data:`search.match.SUBJECT_WEIGHT`, stored with the threshold)
(:data:`PROBE_QUANTILE` says which of the probes' scores the threshold starts from, 1.0
being the highest). The margin is negative: an answer may score a little below the luckiest
probe and still be one.

The threshold is stored in the index (``meta``, with the generation it was measured on)
and read by every search, so a search costs nothing more. ``kb index`` measures it again
whenever the knowledge base has changed; an entry saved from the web form is searched
with the last one until then (one entry more moves the best probe score little). An
index that has never been measured (written by an older version) falls back to the
size rule of :func:`search.match.close_threshold`.
"""

from __future__ import annotations

import csv
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.embed import QUERY
from search.match import META_KEY, SUBJECT_WEIGHT, stored
from search.query import normalise_query, search

PROBES = Path(__file__).resolve().parent / "data" / "offtopic_probes.tsv"
PROBE_QUANTILE = 1.0  # the threshold starts from the highest of the probes' best scores ...
PROBE_MARGIN = -0.54  # ... plus this x their standard deviation; chosen on tuning splits with the subject weight
# (bench/calibrate_match.py: -0.533, rounded to the side that marks more close)
PROBE_RESULTS = 10  # results scored per probe question


@lru_cache(maxsize=1)
def probe_questions() -> tuple[tuple[str, str], ...]:
    """The probe questions as (language, text)."""
    with PROBES.open(encoding="utf-8", newline="") as handle:
        return tuple((row["lang"], row["text"]) for row in csv.DictReader(handle, delimiter="\t"))


def probe_scores(kb) -> list[float]:
    """Each probe question's best match score in ``kb`` (its best result's), in probe order."""
    texts = [normalise_query(text) for _, text in probe_questions()]
    vectors = np.asarray(kb.embedder.embed(texts, QUERY), dtype=np.float32)  # one batch
    scores = []
    for text, vector in zip(texts, vectors, strict=True):
        results = search(kb, text, limit=PROBE_RESULTS, show="all", close_at=math.inf, query_vector=vector)
        scores.append(max((r.match_score for r in results if r.match_score is not None), default=-math.inf))
    return scores


def threshold_from(scores: list[float], quantile: float = PROBE_QUANTILE, margin: float = PROBE_MARGIN) -> float | None:
    """The close threshold from the probes' best scores (None when nothing was scored)."""
    finite = [s for s in scores if math.isfinite(s)]
    if not finite:
        return None
    return float(np.quantile(finite, quantile)) + margin * float(np.std(finite))


def measure(kb) -> dict | None:
    """``kb``'s close threshold as a record to store (None for an empty knowledge base:
    nothing to measure). Reads only: an audience's read-only index is measured the same way."""
    if not kb.store.entry_count():
        return None
    scores = probe_scores(kb)
    threshold = threshold_from(scores)
    if threshold is None:
        return None
    finite = [s for s in scores if math.isfinite(s)]
    return {"generation": kb.store.generation, "threshold": round(threshold, 5),
            "best_probe": round(max(finite), 5), "spread": round(float(np.std(finite)), 5),
            "probes": len(scores), "quantile": PROBE_QUANTILE, "margin": PROBE_MARGIN,
            "subject_weight": SUBJECT_WEIGHT}


def calibrate(kb) -> dict | None:
    """Measure ``kb``'s close threshold and store it in its index; the stored record, or
    None for an empty knowledge base (nothing to measure)."""
    record = measure(kb)
    kb.store.set_meta(META_KEY, json.dumps(record) if record is not None else "")
    return record


def needs_calibration(store) -> bool:
    """Whether the knowledge base changed since its threshold was measured (or never was)."""
    record = stored(store)
    rule = (record.get("quantile"), record.get("margin"), record.get("subject_weight")) if record else None
    return record is None or record.get("generation") != store.generation or \
        rule != (PROBE_QUANTILE, PROBE_MARGIN, SUBJECT_WEIGHT)


__all__ = ["measure", "PROBES", "PROBE_QUANTILE", "PROBE_MARGIN", "probe_questions", "probe_scores", "threshold_from", "calibrate",
           "needs_calibration"]
