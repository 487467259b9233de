"""``kb similar``: the entries closest in meaning to one entry.

Each entry has one vector (the mean of its chunk vectors, normalised), stored in SQLite
at index time; comparing one against all is a single matrix product.
"""

from __future__ import annotations

import json

import numpy as np

from indexer.chunk import ChunkSettings, chunk_entry
from indexer.embed import PASSAGE
from kb.core.errors import EntryNotFound, KBError
from search.filters import Filters
from search.fusion import weighted_fusion
from search.keyword import keyword_chunks
from search.match import CLOSE, grade, kb_rule, match_parts, match_score, off_subject, shown
from search.query import (
    KEYWORD_WEIGHT,
    RESULT_COLUMNS,
    SearchResult,
    SearchResults,
    area_name_of,
    normalise_query,
    roll_up,
)
from search.text import make_snippet

SIMILAR_MODES = ("semantic", "keyword", "hybrid")


def _keyword_scores(kb, text: str, k: int) -> dict[str, float]:
    """Entries sharing words with ``text``, by their best chunk's BM25 score."""
    chunk_ids, scores = keyword_chunks(kb.store, text, max(200, k))
    return roll_up(kb, chunk_ids, scores)[0]


def other_areas_first(results: list[SearchResult], area: str, limit: int,
                      same_area_places: int = 2) -> list[SearchResult]:
    """The closest entries of other areas first (that is where silos hide), keeping up to
    ``same_area_places`` places for the own area's closest; fewer of one side leave more
    places to the other. Each side keeps its own order."""
    other = [r for r in results if r.area != area]
    same = [r for r in results if r.area == area]
    picked = other[: max(limit - same_area_places, limit - len(same))]
    return picked + same[: limit - len(picked)]


def unsaved_entry_vector(kb, entry) -> np.ndarray:
    """The vector an entry that is not indexed yet would get: chunked and embedded as the
    indexer does, the chunks' mean, normalised (as the store keeps entry vectors)."""
    embedder = kb.embedder
    chunks = chunk_entry(entry, embedder.count_tokens, ChunkSettings.for_embedder(embedder))
    vectors = np.asarray(embedder.embed([c.text for c in chunks], PASSAGE), dtype=np.float32)
    vector = vectors.mean(axis=0)
    return vector / (np.linalg.norm(vector) or 1.0)


def similar_to_unsaved(kb, entry, *, limit: int = 6) -> SearchResults:
    """Indexed entries closest to an entry that is not saved yet (a draft), other areas first:
    its vector, centred like the stored ones, against every entry vector (one product).

    Each is marked close or weak by the search's own rule (``search.match``), the draft's
    title and text standing for the question; when none is close, only the nearest few are
    kept, as in a search."""
    kb.require_index()
    ids, matrix = entry_matrix(kb)
    if not ids:
        return SearchResults()
    vector = kb.vectors.centering.passages(unsaved_entry_vector(kb, entry)[None, :], [entry.lang])[0]
    scores = matrix @ vector
    order = [i for i in np.argsort(-scores) if ids[i] != entry.id][: limit * 4]
    rows = kb.store.get_entries([ids[i] for i in order], RESULT_COLUMNS)
    found = other_areas_first([_result(kb, rows[ids[i]], float(scores[i])) for i in order if ids[i] in rows],
                              entry.area, limit)
    return graded(kb, f"{entry.title}\n{entry.body}", found)


def graded(kb, question: str, results: list[SearchResult], show: str = "default") -> SearchResults:
    """``results`` marked close or weak as answers to ``question`` (``search.match``), those a
    search would show kept (``search.match.shown``)."""
    if not results:
        return SearchResults()
    question = normalise_query(question)
    vector = kb.embedder.embed_query(question)
    parts = match_parts(kb, question, vector, [r.id for r in results])
    threshold, subject_weight = kb_rule(kb)
    off = subject_weight * off_subject(kb, vector)
    for r in results:
        r.match_score = match_score(parts[r.id], off)
        r.match = grade(r.match_score, threshold)
    keep = shown([r.match for r in results], show)
    return SearchResults([results[k] for k in keep], len(results) - len(keep), threshold,
                         any(r.match == CLOSE for r in results))


def _result(kb, row: dict, score: float, snippet: str = "") -> SearchResult:
    return SearchResult(id=row["id"], title=row["title"], area=row["area"],
                        area_name=area_name_of(kb.config, row), type=row["type"], date=row["date"],
                        score=score, snippet=snippet, path=row["path"], sprint=row.get("sprint"),
                        tags=row["tags"], source=row.get("source"))


def result_rows(kb, scored: list[tuple[str, float]]) -> list[SearchResult]:
    """Search results for (entry id, score) pairs, in that order (unknown ids left out);
    the snippet is each entry's first chunk."""
    ids = [e for e, _ in scored]
    rows = kb.store.get_entries(ids, RESULT_COLUMNS)
    summaries = dict(kb.store.db.execute(
        "select entry_id, text from chunks where seq = 0 and entry_id in (select value from json_each(?))",
        [_json_list(ids)],
    ).fetchall())
    return [_result(kb, rows[e], score, make_snippet(summaries.get(e, ""), [])) for e, score in scored if e in rows]


def entry_matrix(kb) -> tuple[list[str], np.ndarray]:
    """Entry ids and their vectors, centred per language like the chunk vectors."""
    ids, matrix, languages = kb.store.entry_vectors(kb.embedder.dim)
    return ids, kb.vectors.centering.passages(matrix, languages)


def similar(
    kb,
    entry_id: str,
    *,
    limit: int = 10,
    other_areas: bool = False,
    filters: Filters | None = None,
    mode: str = "semantic",
    keyword_weight: float | None = None,
) -> list[SearchResult]:
    """Entries like ``entry_id``. ``mode``: "semantic" (entry vectors), "keyword" (the entry's
    own words as a BM25 query) or "hybrid" (both, fused like ``kb search``)."""
    if mode not in SIMILAR_MODES:
        raise KBError(f"unknown similar mode {mode!r}", hint=f"Use one of: {', '.join(SIMILAR_MODES)}.")
    kb.require_index()
    store = kb.store
    source = store.get_entries([entry_id]).get(entry_id)
    if source is None:
        raise EntryNotFound(
            f"no entry with id {entry_id!r}",
            hint="Check the id with `kb search` (ids are shown in the results), or run `kb index`.",
        )
    ids, matrix = entry_matrix(kb)
    if not ids:
        return []
    scored: dict[str, float] = {}
    if mode in ("semantic", "hybrid") and entry_id in ids:
        position = {e: i for i, e in enumerate(ids)}
        cosines = matrix @ matrix[position[entry_id]]
        scored = {ids[i]: float(cosines[i]) for i in range(len(ids))}
    if mode in ("keyword", "hybrid"):
        words = _keyword_scores(kb, f"{source['title']}\n{source.get('body') or ''}", len(ids))
        scored = words if mode == "keyword" else weighted_fusion(
            scored, words, KEYWORD_WEIGHT if keyword_weight is None else keyword_weight
        )
    candidates = [
        (e, score) for e, score in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0])) if e != entry_id
    ]
    allowed = None
    if filters is not None and filters.active:
        where, params = filters.where("entries")
        allowed = {r[0] for r in store.db.execute(f"select id from entries where {where}", params)}
    picked: list[tuple[str, float]] = []
    rows = store.get_entries([c for c, _ in candidates[: max(limit * 20, 200)]])
    for candidate, score in candidates:
        if len(picked) >= limit:
            break
        row = rows.get(candidate) or store.get_entries([candidate]).get(candidate)
        if row is None or (other_areas and row["area"] == source["area"]):
            continue
        if allowed is not None and candidate not in allowed:
            continue
        picked.append((candidate, score))
    summaries = dict(
        store.db.execute(
            "select entry_id, text from chunks where seq = 0 and entry_id in "
            "(select value from json_each(?))",
            [_json_list([c for c, _ in picked])],
        ).fetchall()
    )
    out = []
    for c, score in picked:
        row = rows.get(c) or store.get_entries([c])[c]
        out.append(_result(kb, row, score, make_snippet(summaries.get(c, ""), [], labels=(row["title"],))))
    return out


def _json_list(values: list[str]) -> str:
    return json.dumps(values)
