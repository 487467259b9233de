"""Keyword search over the FTS5 table: BM25 on chunks, words OR-ed and quoted.

User text never reaches FTS5 as syntax: each word is quoted, so quotes, ``*``,
``NEAR`` or ``AND`` in a query are just words.

By default the query matches the exact words and, in the stemmed columns (Snowball
Swedish and English, see :mod:`kb.stem`), their stems, so "upphandlingen" finds
"upphandlingar" and an exact match counts twice. Each query word is stemmed both ways,
because a short query does not say which language it is in.
"""

from __future__ import annotations

import numpy as np

from kb.core.language import ENGLISH, SWEDISH
from kb.core.stem import stem_word
from search.text import query_terms

MAX_TERMS = 64
STOPWORDS = SWEDISH | ENGLISH
STEM: bool | str = "both"  # exact words and stems; measured best (README retrieval table)
PLAIN_WEIGHTS = "2.0, 1.5, 1.0, 0, 0, 0"
STEM_WEIGHTS = "0, 0, 0, 2.0, 1.5, 1.0"
STEM_COLUMNS = "{title_stem heading_stem text_stem}"
PLAIN_COLUMNS = "{title heading text}"
BOTH_WEIGHTS = "2.0, 1.5, 1.0, 2.0, 1.5, 1.0"


def _content_terms(query: str) -> list[str]:
    terms = query_terms(query)[:MAX_TERMS]
    content = [t for t in terms if t not in STOPWORDS]
    return content or terms


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_query(query: str, stem: bool | str = False, prefix: bool = False) -> str | None:
    """Quoted words OR-ed; function words ("och", "the") are dropped unless nothing else is left:
    they match every entry of one language and would rank by language, not by content.

    ``stem``: match the stemmed columns with the Swedish and English stems of each word.
    ``prefix``: words of 5+ letters also match longer words starting with them.
    """
    terms = _content_terms(query)
    if not terms:
        return None

    def any_of(words: list[str]) -> str:
        return " OR ".join(_quote(t) + ("*" if prefix and len(t) >= 5 else "") for t in words)

    if not stem:
        return any_of(terms)
    stems = list(dict.fromkeys(stem_word(t, lang) for t in terms for lang in ("sv", "en")))
    stemmed = f"{STEM_COLUMNS} : ({any_of(stems)})"
    if stem == "both":  # exact words and stems: an exact match counts twice
        return f"{PLAIN_COLUMNS} : ({any_of(terms)}) OR {stemmed}"
    return stemmed


def keyword_chunks(
    store,
    query: str,
    k: int,
    allowed_ids: np.ndarray | None = None,
    *,
    stem: bool | str | None = None,
    prefix: bool = False,
):
    """Top ``k`` (chunk id, bm25 score) pairs; higher is better."""
    stem = STEM if stem is None else stem
    match = fts_query(query, stem=stem, prefix=prefix)
    if match is None:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    weights = BOTH_WEIGHTS if stem == "both" else STEM_WEIGHTS if stem else PLAIN_WEIGHTS
    score = f"-bm25(chunks_fts, {weights})"
    sql = (
        f"select rowid, {score} as score from chunks_fts "
        "where chunks_fts match ? order by score desc limit ?"
    )
    params: list = [match, k]
    if allowed_ids is not None:
        if len(allowed_ids) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        sql = (
            f"select rowid, {score} as score from chunks_fts "
            "where chunks_fts match ? and rowid in (select value from json_each(?)) "
            "order by score desc limit ?"
        )
        params = [match, "[" + ",".join(str(int(i)) for i in allowed_ids) + "]", k]
    rows = store.db.execute(sql, params).fetchall()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float32),
    )
