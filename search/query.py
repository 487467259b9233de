"""``kb search``: find entries by meaning, by words, or both (the default).

Chunks are searched; the best chunk of an entry decides its score and its snippet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from kb.core.errors import KBError
from kb.core.store import FOLLOWED_TABLE
from search.filters import Filters
from search.fusion import IMPUTE_TOP, reciprocal_rank_fusion, weighted_fusion
from search.keyword import keyword_chunks
from search.match import (
    CLOSE,
    SHOW,
    grade,
    impute_coverage,
    kb_rule,
    match_parts,
    match_score,
    off_subject,
    shown,
)
from search.text import make_snippet, query_terms

MODES = ("hybrid", "semantic", "keyword")
FUSIONS = ("weighted", "rrf")  # rrf: plain reciprocal-rank fusion, the benchmark's baseline
MAX_QUERY_CHARS = 2000
# Chosen on the tuning splits (SweFAQ dev, SweQUAD-MC train); see bench/retrieval.py.
# The keyword side's weight follows its own evidence: from KEYWORD_WEIGHT_MIN when the
# best BM25 score is 0 up to KEYWORD_WEIGHT_MAX at KEYWORD_FULL_BM25 and above. A query
# that shares several rare words with a text (SweQUAD-MC) is then ranked mostly by those
# words; a paraphrase with weak word overlap (SweFAQ) mostly by meaning. No fixed weight
# beat both single sides on both sets; this does (see the README's retrieval table).
KEYWORD_WEIGHT = 0.3  # fixed weight (min-max semantic, max-normalised BM25): bilingual KBs, similar
KEYWORD_WEIGHT_MIN = 0.2
KEYWORD_WEIGHT_MAX = 0.7
KEYWORD_FULL_BM25 = 25.0
SEMANTIC_NORM = "minmax"
KEYWORD_NORM = "dbsf"
# An entry's score is its best chunk's, plus this share of its second-best chunk's:
# a long entry with two matching passages beats one with a single lucky one.
SEMANTIC_CHUNK_BONUS = 0.0
KEYWORD_CHUNK_BONUS = 0.0
RRF_K = 60
RESULT_COLUMNS = ("title", "area", "type", "date", "path", "sprint", "tags", "source", "extra")  # what a result shows


@dataclass
class SearchResult:
    id: str
    title: str
    area: str
    area_name: str
    type: str
    date: str
    score: float
    snippet: str
    path: str
    sprint: str | None = None
    tags: list[str] = field(default_factory=list)
    heading: str = ""
    line: int = 1
    chunk_text: str = ""
    match: str | None = None  # "close" or "weak" (search.match); None where there is no question to match
    match_score: float | None = None  # the score the match is read from
    match_parts: tuple | None = None  # (meaning, words[, other language]) the score is made of, for calibration
    reasons: list = field(default_factory=list)  # why it is related (analysis.reasons.Reason); related lessons only
    source: str | None = None  # the other city a followed lesson comes from (kb sync); None for our own

    def to_dict(self) -> dict:
        # a shallow copy: dataclasses.asdict deep-copies every field and was a third of the
        # time of a /-/kb/search.json request
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("chunk_text", "match_parts", "reasons")}
        if self.reasons:
            data["reasons"] = [r.to_dict() for r in self.reasons]
        data["tags"] = list(self.tags)
        data["score"] = round(float(self.score), 4)
        data["match_score"] = None if self.match_score is None else round(float(self.match_score), 3) + 0.0  # no -0.0
        return data


class SearchResults(list):
    """The results shown, best first, each with its match (``search.match``).

    ``left_out``: how many of the best ``limit`` entries are not shown (the weak ones past
    the nearest few when none is close, or every weak one when only close ones are asked
    for); ``threshold``: the match score from which a result is close."""

    def __init__(self, results=(), left_out: int = 0, threshold: float | None = None, any_close: bool = False):
        super().__init__(results)
        self.left_out = left_out
        self.threshold = threshold
        self.any_close = any_close


def search(
    kb,
    query: str,
    *,
    filters: Filters | None = None,
    mode: str = "hybrid",
    limit: int = 10,
    keyword_weight: float | None = None,
    fusion: str = "weighted",
    stem: bool | None = None,
    show: str = "default",
    close_at: float | None = None,
    query_vector: np.ndarray | None = None,
) -> SearchResults:
    """Entries for ``query``, best first, each marked ``close`` or ``weak``
    (:mod:`search.match`). ``fusion`` and ``stem`` are for benchmarks; the defaults are the
    measured best (see :mod:`search.evaluate`). ``query_vector``: the query's vector when the
    caller has it already (the server embeds queries in batches).

    ``show``: ``"default"`` shows every result when one of them is close and else the
    nearest few; ``"all"`` every result; ``"close"`` only the close ones. ``close_at``: a
    match score from which a result counts as close, instead of the knowledge base's
    calibrated threshold (the score then counts the question's subject with the current
    weight, :data:`search.match.SUBJECT_WEIGHT`)."""
    if show not in SHOW:
        raise KBError(f"unknown show {show!r}", hint=f"Use one of: {', '.join(SHOW)}.")
    if mode not in MODES:
        raise KBError(f"unknown search mode {mode!r}", hint=f"Use one of: {', '.join(MODES)}.")
    if fusion not in FUSIONS:
        raise KBError(f"unknown fusion {fusion!r}", hint=f"Use one of: {', '.join(FUSIONS)}.")
    filters = filters or Filters()
    query = normalise_query(query)
    if not query or limit <= 0:
        return SearchResults()
    kb.require_index()
    store = kb.store
    allowed = _allowed_chunks(store, filters) if filters.active else None

    best_chunk: dict[str, tuple[float, int]] = {}  # entry -> (score, chunk id) per side
    semantic: dict[str, float] = {}
    keyword: dict[str, float] = {}
    sem_chunk: dict[str, int] = {}
    kw_chunk: dict[str, int] = {}
    # In a knowledge base of two languages the keyword side only sees texts in the query's
    # language, so its strength says little about relevance: there the fusion keeps the fixed
    # weight and exact words (the tests with English questions on Swedish entries hold it).
    bilingual = mode == "hybrid" and kb.vectors.centering.active
    if bilingual and stem is None:
        stem = False
    given, query_vector = query_vector, None
    if mode in ("hybrid", "semantic"):
        semantic, sem_chunk, query_vector = _semantic(kb, query, limit, allowed, given)
    if mode in ("hybrid", "keyword"):
        keyword, kw_chunk = _keyword(kb, query, limit, allowed, stem)

    if mode == "semantic":
        scores = semantic
    elif mode == "keyword":
        scores = keyword
    elif fusion == "rrf":
        scores = reciprocal_rank_fusion(_ranking(semantic), _ranking(keyword), k=RRF_K)
    elif bilingual or keyword_weight is not None:
        fixed = KEYWORD_WEIGHT if keyword_weight is None else keyword_weight
        scores = weighted_fusion(semantic, keyword, fixed, unseen=unseen_by_words(kb, semantic, query_vector))
    else:
        scores = weighted_fusion(
            semantic,
            keyword,
            adaptive_keyword_weight(keyword),
            semantic_norm=SEMANTIC_NORM,
            keyword_norm=KEYWORD_NORM,
        )
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    for entry_id, _ in ranked:
        # the snippet comes from the chunk that decided: semantic if it found the entry
        chunk = sem_chunk.get(entry_id) if mode != "keyword" else None
        best_chunk[entry_id] = (scores[entry_id], chunk or kw_chunk.get(entry_id) or sem_chunk[entry_id])
    if not ranked:
        return SearchResults()
    if query_vector is None:  # keyword mode: the match needs the question's meaning too
        query_vector = kb.embedder.embed_query(query)
    wanted = [e for e, _ in ranked]
    unseen = unseen_by_words(kb, semantic or dict(ranked), query_vector) if kb.vectors.centering.active else set()
    if unseen & set(wanted):
        # the same-language entries nearest in meaning, to read the slope from: in the whole
        # knowledge base, so that a filter (an area written in one language) does not change
        # how close an entry is
        nearest = _semantic(kb, query, IMPUTE_TOP * 2, None, query_vector)[0] if allowed is not None else semantic
        language = unseen_by_words(kb, nearest, query_vector)
        seen = sorted((e for e in nearest if e not in language), key=lambda e: -nearest[e])[:IMPUTE_TOP]
        wanted += [e for e in seen if e not in dict(ranked)]
    parts = impute_coverage(match_parts(kb, query, query_vector, wanted), unseen)
    threshold, subject_weight = kb_rule(kb, close_at)
    off = subject_weight * off_subject(kb, query_vector)
    grades = {e: grade(match_score(parts[e], off), threshold) for e, _ in ranked}
    keep = shown([grades[e] for e, _ in ranked], show)
    results = _results(kb, query, [ranked[k] for k in keep], best_chunk, parts, grades, off)
    return SearchResults(results, len(ranked) - len(keep), threshold, any(g == CLOSE for g in grades.values()))


def unseen_by_words(kb, entries, query_vector) -> set[str]:
    """The entries written in another language than the query (the language whose mean
    vector the query is closest to): the keyword side cannot see them. Only in a knowledge
    base of two languages."""
    if query_vector is None or not entries or not kb.vectors.centering.active:
        return set()
    language = kb.vectors.centering.language_of(query_vector)
    rows = kb.store.db.execute(
        "select id from entries where lang != ? and id in (select value from json_each(?)) union all "
        f"select id from {FOLLOWED_TABLE} where lang != ? and id in (select value from json_each(?))",
        [language, json.dumps(list(entries))] * 2,
    ).fetchall()
    return {r[0] for r in rows}


def normalise_query(query: str) -> str:
    """The text a search embeds and matches (also its key in query-vector caches)."""
    return " ".join(query.split())[:MAX_QUERY_CHARS]


def adaptive_keyword_weight(keyword: dict[str, float]) -> float:
    """The keyword side's weight for one query, from its best (raw BM25) score."""
    top = max(keyword.values(), default=0.0)
    strength = min(1.0, max(0.0, top / KEYWORD_FULL_BM25))
    return KEYWORD_WEIGHT_MIN + (KEYWORD_WEIGHT_MAX - KEYWORD_WEIGHT_MIN) * strength


def _ranking(scores: dict[str, float]) -> list[str]:
    return [key for key, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def _allowed_chunks(store, filters: Filters) -> np.ndarray:
    where, params = filters.where("e")
    rows = store.db.execute(  # our own entries' chunks, and the followed lessons'
        f"select c.id from chunks c join entries e on e.id = c.entry_id where {where} union all "
        f"select c.id from chunks c join {FOLLOWED_TABLE} e on e.id = c.entry_id where {where}", params * 2
    ).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def area_name_of(config, row: dict) -> str:
    """An entry's area as a reader sees it: ours by kb.toml's name; a followed lesson's as its
    own publication names it."""
    if row.get("source"):
        return str((row.get("extra") or {}).get("area_name") or row["area"])
    return config.area_name(row["area"])


def roll_up(kb, chunk_ids, scores, bonus: float = 0.0) -> tuple[dict[str, float], dict[str, int]]:
    """Entry score = its best chunk's score (+ ``bonus`` x its second best's, if any)."""
    owner = kb.chunk_entries(chunk_ids)
    best: dict[str, float] = {}
    second: dict[str, float] = {}
    which: dict[str, int] = {}
    for chunk_id, score in zip(np.asarray(chunk_ids).tolist(), np.asarray(scores).tolist(), strict=True):
        entry_id = owner.get(chunk_id)
        if entry_id is None:
            continue
        if entry_id not in best or score > best[entry_id]:
            if entry_id in best:
                second[entry_id] = best[entry_id]
            best[entry_id] = score
            which[entry_id] = int(chunk_id)
        elif entry_id not in second or score > second[entry_id]:
            second[entry_id] = score
    if bonus:
        best = {e: s + bonus * second[e] if e in second else s for e, s in best.items()}
    return best, which


def _semantic(kb, query: str, limit: int, allowed, query_vector=None):
    vectors = kb.vectors
    qv = kb.embedder.embed_query(query) if query_vector is None else query_vector
    total = vectors.ntotal if allowed is None else len(allowed)
    k = min(total, max(200, limit * 20))
    while True:
        ids, scores = vectors.search(qv, k, allowed)
        best, which = roll_up(kb, ids, scores, SEMANTIC_CHUNK_BONUS)
        if len(best) >= limit or k >= total:
            return best, which, qv
        k = min(total, k * 4)


def _keyword(kb, query: str, limit: int, allowed, stem: bool | None = None):
    ids, scores = keyword_chunks(kb.store, query, max(200, limit * 20), allowed, stem=stem)
    return roll_up(kb, ids, scores, KEYWORD_CHUNK_BONUS)


def _results(kb, query: str, ranked, best_chunk, parts, grades, off: float = 0.0) -> list[SearchResult]:
    store = kb.store
    entries = store.get_entries([entry_id for entry_id, _ in ranked], RESULT_COLUMNS)
    chunk_ids = [best_chunk[e][1] for e, _ in ranked]
    chunks = {
        row[0]: row[1:]
        for row in store.db.execute(
            "select id, heading, text, line from chunks where id in (select value from json_each(?))",
            ["[" + ",".join(str(int(c)) for c in chunk_ids) + "]"],
        ).fetchall()
    }
    terms = query_terms(query)
    results = []
    for entry_id, score in ranked:
        entry = entries.get(entry_id)
        if entry is None:
            continue
        heading, text, line = chunks.get(best_chunk[entry_id][1], ("", "", 1))
        results.append(
            SearchResult(
                id=entry_id,
                title=entry["title"],
                area=entry["area"],
                area_name=area_name_of(kb.config, entry),
                type=entry["type"],
                date=entry["date"],
                score=float(score),
                snippet=make_snippet(text, terms, labels=(heading or "", entry["title"])),
                path=entry["path"],
                sprint=entry.get("sprint"),
                tags=entry["tags"],
                heading=heading or "",
                line=line or 1,
                chunk_text=text,
                match=grades.get(entry_id),
                match_score=match_score(parts[entry_id], off) if entry_id in parts else None,
                match_parts=parts.get(entry_id),
                source=entry.get("source"),
            )
        )
    return results
