"""Keyword search over the FTS5 table: BM25 on chunks, words OR-ed and quoted.

User text never reaches FTS5 as syntax: each word is quoted, so quotes, ``*``,
``NEAR`` or ``AND`` in a query are just words.
"""

from __future__ import annotations

import numpy as np

from kb.language import ENGLISH, SWEDISH

from .text import query_terms

MAX_TERMS = 64
STOPWORDS = SWEDISH | ENGLISH


def fts_query(query: str) -> str | None:
    """Quoted words OR-ed; function words ("och", "the") are dropped unless nothing else is left:
    they match every entry of one language and would rank by language, not by content."""
    terms = query_terms(query)[:MAX_TERMS]
    content = [t for t in terms if t not in STOPWORDS]
    terms = content or terms
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def keyword_chunks(store, query: str, k: int, allowed_ids: np.ndarray | None = None):
    """Top ``k`` (chunk id, bm25 score) pairs; higher is better."""
    match = fts_query(query)
    if match is None:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    sql = (
        "select rowid, -bm25(chunks_fts, 2.0, 1.5, 1.0) as score from chunks_fts "
        "where chunks_fts match ? order by score desc limit ?"
    )
    params: list = [match, k]
    if allowed_ids is not None:
        if len(allowed_ids) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        sql = (
            "select rowid, -bm25(chunks_fts, 2.0, 1.5, 1.0) as score from chunks_fts "
            "where chunks_fts match ? and rowid in (select value from json_each(?)) "
            "order by score desc limit ?"
        )
        params = [match, "[" + ",".join(str(int(i)) for i in allowed_ids) + "]", k]
    rows = store.db.execute(sql, params).fetchall()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float32),
    )
