"""How close a search result really is: ``close`` or ``weak``.

A ranking always has a first place, also for a question the knowledge base knows nothing
about ("recept på kanelbullar"). Each result therefore gets a **match score**, made of two
kinds of evidence read against the knowledge base itself, not against constants of the
model, and a **match**: ``close`` when the score reaches the knowledge base's threshold,
else ``weak``. Nothing is hidden for being weak: a search shows every result with its
match, and when none is close it says so and shows the nearest few (:data:`NEAREST`).

- **meaning**: the cosine of the question and the result's best passage after both have
  lost the knowledge base's average text of their language
  (:meth:`kb.core.vector_index.Reference.centred_cosine`). What every entry shares (the
  knowledge base's own subject, its register, the gap between Swedish and English) no
  longer counts; what is left says how much of what sets the question apart the passage
  holds too. e5 puts any two texts at a cosine of ~0.8; centred, unrelated texts are near 0.
- **words**: the share of the question's words the result contains (exact or as a
  Snowball stem), each weighted by its rarity in the knowledge base (a word it has never
  seen counts as the rarest). For an entry in the other language of a two-language
  knowledge base the share is imputed from the question's own language
  (:func:`impute_coverage`).

- **subject**: how far the question itself is from what the knowledge base is about: 1 less
  the cosine of the question and the knowledge base's average text in the question's
  language (:meth:`kb.core.vector_index.Reference.subject_cosine`). One value per question,
  the same for all its results. An everyday question ("Vem kan söka?") can share one rare
  word with an entry and lie near it after centring, yet be far from everything the
  knowledge base is about; a question on its subject is near its average text.

``score = meaning + COVERAGE_WEIGHT x words - SUBJECT_WEIGHT x (1 - subject cosine)``. A
result is close from the knowledge base's
own threshold, measured on it at index time (:mod:`search.calibration`): the best score that
a fixed set of everyday off-topic questions reaches there, plus a margin. How high an
unrelated question scores differs between knowledge bases (their size, their subject, how
alike their entries are), so one threshold for all marked too much close in one and hid
real answers in another. An index that has not been measured yet (written by an older
version, until the next ``kb index``) uses the former size rule: the more entries, the more
chances that one of them comes near any question by accident (the best of ``n`` unrelated
scores grows like ``sqrt(2 ln n)``), so ``CLOSE_AT + SIZE_WEIGHT x sqrt(2 ln entries)``.
The constants were chosen on tuning splits only (``bench/calibrate_match.py``: SweFAQ dev,
SweQUAD-MC train, the tuning half of bench/malmo_eval as judged questions; questions of one
corpus asked of another as off-topic ones), with the README's "Search quality" figures for
both halves.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import numpy as np

from kb.core.stem import stem_word
from kb.core.store import decode_matrix
from search.keyword import STOPWORDS
from search.text import query_terms

CLOSE = "close"
WEAK = "weak"
COVERAGE_WEIGHT = 0.3  # of the share of the question's words
SUBJECT_WEIGHT = 1.1  # of the question's distance from the knowledge base's average text (bench/calibrate_match.py)
CLOSE_AT = -0.066  # an index not yet measured (search.calibration): the threshold of one entry ...
SIZE_WEIGHT = 0.12  # ... plus this x sqrt(2 ln entries)
NEAREST = 5  # results shown when none is close (the rest: --all)
MAX_TERMS = 16
OTHER_LANGUAGE = True  # the third part of an entry's (meaning, words, other language)
META_KEY = "match_calibration"  # the threshold measured on the knowledge base (search.calibration)
SHOW = ("default", "all", "close")  # every result if one is close, else the nearest few | every result | close only


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


def meaning(kb, query_vector: np.ndarray, entry_ids: Sequence[str]) -> dict[str, float]:
    """Per entry, the centred cosine of the query and the entry's best passage."""
    if not entry_ids:
        return {}
    rows = kb.store.db.execute(
        "select entry_id, embedding, lang from chunks where entry_id in (select value from json_each(?))",
        [json.dumps(list(entry_ids))],
    ).fetchall()
    out = dict.fromkeys(entry_ids, 0.0)
    if not rows:
        return out
    vectors = decode_matrix([r[1] for r in rows], kb.embedder.dim)
    values = kb.vectors.reference.centred_cosine(np.asarray(query_vector, dtype=np.float32), vectors,
                                                 [r[2] or "sv" for r in rows])
    best: dict[str, float] = {}
    for row, value in zip(rows, values.tolist(), strict=True):
        if row[0] not in best or value > best[row[0]]:
            best[row[0]] = value
    out.update(best)
    return out


def match_parts(kb, query: str, query_vector: np.ndarray, entry_ids: Sequence[str]) -> dict[str, tuple]:
    """(meaning, words) of each entry."""
    closeness = meaning(kb, query_vector, entry_ids)
    cover = coverage(kb.store, query, list(entry_ids))
    return {e: (closeness[e], cover[e]) for e in entry_ids}


def impute_coverage(parts: Mapping[str, tuple], unseen) -> dict[str, tuple]:
    """Coverage for entries in another language than the question: their words cannot be
    the question's, so zero would judge them by language. Each gets the coverage that the
    question's own language gives, on average, at its closeness in meaning: the
    least-squares slope of coverage on meaning (through 0) over the other entries. An
    off-topic question finds no words in its own language either, so its slope, and the
    imputed coverage, stay near 0. Those entries come back as (meaning, coverage,
    OTHER_LANGUAGE)."""
    unseen = set(unseen) & set(parts)
    if not unseen:
        return dict(parts)
    seen = [p for e, p in parts.items() if e not in unseen and p[0] > 0]
    den = sum(p[0] * p[0] for p in seen)
    slope = sum(p[0] * p[1] for p in seen) / den if den > 1e-12 else 0.0
    out = dict(parts)
    for e in unseen:
        near = parts[e][0]
        out[e] = (near, min(1.0, max(0.0, slope * near)), OTHER_LANGUAGE)
    return out


def off_subject(kb, query_vector: np.ndarray) -> float:
    """How far the question is from the knowledge base's subject: 1 less the cosine of its
    vector and the knowledge base's average text in its language."""
    return 1.0 - kb.vectors.reference.subject_cosine(np.asarray(query_vector, dtype=np.float32))


def match_score(parts: tuple, off: float = 0.0, weight: float = COVERAGE_WEIGHT) -> float:
    """An entry's match score from its (meaning, words[, other language]), less ``off``: the
    question's own part, the subject weight times its distance from the knowledge base's
    subject (:func:`off_subject`, :func:`kb_rule`)."""
    return float(parts[0]) + weight * float(parts[1]) - off


def close_threshold(entries: int, close_at: float = CLOSE_AT, size_weight: float = SIZE_WEIGHT) -> float:
    """The size rule: the match score from which a result is close in a knowledge base of
    ``entries`` whose own threshold has not been measured (:func:`kb_threshold`)."""
    return close_at + size_weight * math.sqrt(2.0 * math.log(max(1, entries)))


def stored(store) -> dict | None:
    """The calibration stored in the index, or None."""
    text = store.get_meta(META_KEY)
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("threshold"), (int, float)) else None


def kb_threshold(kb) -> float:
    """The match score from which a result in ``kb`` is close: measured at index time, or the
    size rule for an index that has not been measured."""
    return kb_rule(kb)[0]


def kb_rule(kb, close_at: float | None = None) -> tuple[float, float]:
    """(threshold, subject weight) of the match in ``kb``: the threshold measured at index time
    with the subject weight it was measured with (none for one measured before the subject
    counted, until the next ``kb index`` measures it again), or the size rule (without the
    subject, as it was fitted) for an index never measured. ``close_at``: a threshold given
    for the current rule (:data:`SUBJECT_WEIGHT`), as the calibration itself uses."""
    if close_at is not None:
        return float(close_at), SUBJECT_WEIGHT
    record = stored(kb.store)
    if record is not None:
        weight = record.get("subject_weight", 0.0)
        return float(record["threshold"]), float(weight) if isinstance(weight, (int, float)) else 0.0
    return close_threshold(kb.store.entry_count()), 0.0


def grade(score: float | None, threshold: float) -> str | None:
    """``close`` or ``weak`` (None for a result without a score)."""
    if score is None:
        return None
    return CLOSE if score >= threshold else WEAK


def shown(grades: Sequence[str | None], show: str = "default") -> list[int]:
    """The positions of the ranked results a search shows: every one when one of them is
    close (``default``) and else the first :data:`NEAREST`; every one (``all``); only the
    close ones (``close``)."""
    if show not in SHOW:
        raise ValueError(f"show must be one of {SHOW}, not {show!r}")
    if show == "all":
        return list(range(len(grades)))
    if show == "close":
        return [k for k, g in enumerate(grades) if g == CLOSE]
    if any(g == CLOSE for g in grades) or all(g is None for g in grades):
        return list(range(len(grades)))
    return list(range(min(NEAREST, len(grades))))


__all__ = ["CLOSE", "WEAK", "NEAREST", "SHOW", "COVERAGE_WEIGHT", "SUBJECT_WEIGHT", "off_subject", "kb_rule", "CLOSE_AT", "SIZE_WEIGHT", "OTHER_LANGUAGE",
           "coverage", "meaning", "match_parts", "impute_coverage", "match_score", "close_threshold", "stored",
           "kb_threshold", "grade",
           "shown"]
