"""How close a search result really is, and the "no close match" cut-off.

A ranking always has a first place, also for a question the knowledge base knows nothing
about ("recept på kanelbullar"). Each result therefore gets a **match** value, fused from
two kinds of evidence read against the knowledge base itself, not against constants of
the model:

- the query's *lift* over the result's best passage: how much closer the query is to it
  than to the average passage of its language, in units of how far passages lie from that
  average (:class:`kb.core.vector_index.Reference`);
- the share of the query's words the result contains (exact or as a Snowball stem), each
  word weighted by its rarity in the knowledge base (a word it has never seen counts as
  the rarest): ``kanelbullar`` and ``kardemumma`` are in no entry, ``kapacitet`` is. For an
  entry in the other language of a two-language knowledge base the share is imputed from
  the question's own language (:func:`impute_coverage`).

A question in the other language than an entry sits farther from every passage of it by
the language gap (e5 puts a translation at ~0.89, not 1), so the lift over such an entry
counts :data:`CROSS_LANGUAGE_LIFT` times: ``match = lift x (CROSS_LANGUAGE_LIFT for an entry
in the other language, else 1) + COVERAGE_WEIGHT x coverage``. By default a result is shown
when its match reaches :data:`MATCH_MIN` and the query's best match reaches
:data:`MATCH_GATE` (else the query has no close match and nothing is shown), and always when
it holds every word of the question. The four values were chosen on the tuning splits only
(``bench/calibrate_cutoff.py``: the tuning half of bench/malmo_eval with its off-topic
questions, SweFAQ dev, SweQUAD-MC train): of the combinations that lose at most 2 of the
Malmö set's 28 judged top-5 hits and 1 % of the others', and keep 90 % of every set's
judged results, the one that leaves the fewest off-topic results (it lost 2, 0 and 2 of
908 top-5 hits). e5-small cannot tell every off-topic question from a vague on-topic one:
on those tuning sets the off-topic questions kept 3 of 50 results on the Malmö set, 0 on
SweFAQ and 19 on SweQUAD-MC, whose long passages match anything a little.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from kb.core.stem import stem_word
from kb.core.store import decode_matrix
from search.keyword import STOPWORDS
from search.text import query_terms

MATCH_MIN = 0.07  # a result's match must reach this ...
MATCH_GATE = 0.16  # ... and the query's best match this, or nothing is a close match
COVERAGE_WEIGHT = 0.2
CROSS_LANGUAGE_LIFT = 1.25  # the lift over an entry in the other language than the question counts this much
WHOLE = 0.999  # an entry with every word of the question (coverage 1) is always a close match
MAX_TERMS = 16
AUTO = "auto"  # min_score: the calibrated cut-off above
OTHER_LANGUAGE = True  # the third part of an entry's (lift, coverage, other language)


def content_terms(query: str) -> list[str]:
    terms = [t for t in query_terms(query) if t not in STOPWORDS and len(t) > 2]
    return terms[:MAX_TERMS]


def term_match(term: str) -> str:
    """An FTS5 expression for one query word: the word, or its Swedish or English stem."""
    stems = sorted({stem_word(term, "sv"), stem_word(term, "en")})
    quoted = " OR ".join('"' + s.replace('"', '""') + '"' for s in stems)
    word = '"' + term.replace('"', '""') + '"'
    return f"{{title heading text}} : {word} OR {{title_stem heading_stem text_stem}} : ({quoted})"


def coverage(store, query: str, entry_ids: list[str]) -> dict[str, float]:
    """Per entry, the share of the query's words it contains, weighted by rarity (IDF over
    chunks; a word no chunk contains gets the highest weight)."""
    terms = content_terms(query)
    if not terms or not entry_ids:
        return {e: 0.0 for e in entry_ids}
    total = store.db.execute("select count(*) from chunks").fetchone()[0] or 1
    wanted = json.dumps(entry_ids)
    weight_sum = 0.0
    got = dict.fromkeys(entry_ids, 0.0)
    for term in terms:
        expression = term_match(term)
        df = store.db.execute("select count(*) from chunks_fts where chunks_fts match ?", [expression]).fetchone()[0]
        weight = math.log((total + 1) / (df + 1)) + 1.0
        weight_sum += weight
        if not df:
            continue
        for (entry_id,) in store.db.execute(
            "select distinct c.entry_id from chunks_fts f join chunks c on c.id = f.rowid "
            "where chunks_fts match ? and c.entry_id in (select value from json_each(?))",
            [expression, wanted],
        ):
            got[entry_id] += weight
    return {e: got[e] / weight_sum for e in entry_ids}


def lifts(kb, query_vector: np.ndarray, chunks: Mapping[str, list[int]]) -> dict[str, float]:
    """Per entry, the query's best lift over the given chunks of it."""
    ids = sorted({int(c) for cs in chunks.values() for c in cs if c is not None})
    if not ids:
        return {e: 0.0 for e in chunks}
    rows = kb.store.db.execute(
        "select id, embedding, lang from chunks where id in (select value from json_each(?))", [json.dumps(ids)]
    ).fetchall()
    if not rows:
        return {e: 0.0 for e in chunks}
    vectors = decode_matrix([r[1] for r in rows], kb.embedder.dim)
    values = kb.vectors.reference.lift(np.asarray(query_vector, dtype=np.float32), vectors, [r[2] or "sv" for r in rows])
    by_chunk = {r[0]: float(v) for r, v in zip(rows, values, strict=True)}
    return {e: max((by_chunk[c] for c in cs if c in by_chunk), default=0.0) for e, cs in chunks.items()}


def match_parts(kb, query: str, query_vector: np.ndarray, chunks: Mapping[str, list[int]]) -> dict[str, tuple]:
    """(lift, coverage) of each entry (its chunks to compare: the ones the search found it by)."""
    lift = lifts(kb, query_vector, chunks)
    cover = coverage(kb.store, query, list(chunks))
    return {e: (lift[e], cover[e]) for e in chunks}


def impute_coverage(parts: Mapping[str, tuple], unseen) -> dict[str, tuple]:
    """Coverage for entries in another language than the question: their words cannot be
    the question's, so zero would judge them by language. Each gets the coverage that the
    question's own language gives, on average, at its lift: the least-squares slope of
    coverage on lift (through 0) over the other entries. An off-topic question finds no
    words in its own language either, so its slope, and the imputed coverage, stay near 0.
    Those entries come back as (lift, coverage, OTHER_LANGUAGE), for :func:`match_value`."""
    unseen = set(unseen) & set(parts)
    if not unseen:
        return dict(parts)
    seen = [p for e, p in parts.items() if e not in unseen and p[0] > 0]
    den = sum(p[0] * p[0] for p in seen)
    slope = sum(p[0] * p[1] for p in seen) / den if den > 1e-12 else 0.0
    out = dict(parts)
    for e in unseen:
        lift = parts[e][0]
        out[e] = (lift, min(1.0, max(0.0, slope * lift)), OTHER_LANGUAGE)
    return out


def match_value(parts: tuple, weight: float = COVERAGE_WEIGHT, cross: float = CROSS_LANGUAGE_LIFT) -> float:
    """An entry's match from its (lift, coverage) or (lift, coverage, in the other language)."""
    lift, cover = parts[0], parts[1]
    other = len(parts) > 2 and parts[2]
    return lift * (cross if other else 1.0) + weight * cover


def kept(parts: Mapping[str, tuple], min_score) -> set[str]:
    """The entries a search shows, from their (lift, coverage): all of them (``min_score``
    None), those whose match reaches ``min_score``, or (``"auto"``) the calibrated rule: an
    entry that holds every word of the question, and, when the question's best match
    reaches the gate, every entry whose match reaches the minimum."""
    matches = {e: match_value(p) for e, p in parts.items()}
    if min_score is None:
        return set(matches)
    if min_score != AUTO:
        return {e for e, m in matches.items() if m >= float(min_score)}
    whole = {e for e, p in parts.items() if p[1] >= WHOLE}
    if max(matches.values(), default=0.0) < MATCH_GATE:
        return whole
    return whole | {e for e, m in matches.items() if m >= MATCH_MIN}


__all__ = ["AUTO", "MATCH_MIN", "MATCH_GATE", "CROSS_LANGUAGE_LIFT", "OTHER_LANGUAGE", "match_parts", "match_value",
           "impute_coverage", "kept", "coverage", "lifts"]
