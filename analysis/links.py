"""``kb synergies``: lessons that cross areas, the area x area matrix and the silo index.

Why not a global list of raw similarity scores: e5 compresses scores (unrelated ~0.78)
and a global top-k fills up with same-topic pairs from neighbouring areas
(docs: linking-notes.md). So every signal is first turned into *per-entry evidence*:
for entry A, how far does B stand out from A's other candidates (a z-score of A's row)?
Z-scores do not care where the model puts "unrelated", so the same pairs come out for a
shifted or rescaled score range. A pair is suggested when one side has the other among
its ``PER_ENTRY_K`` best candidates from other areas; pairs are ranked by the mean of
both sides' evidence. Signals, each z-scored per row, and averaged with equal weights:

- ``entry``: whole-entry vectors;
- ``lesson``: the "what we learned" sections (they carry the lesson, not the topic);
- ``words``: rare-word overlap (TF-IDF on stemmed words);
- ``fields``: shared rare tags, actors and roadmap ids (IDF-weighted).

No weight is fitted. Chosen by cross-validation (``bench/synergy_cv.py``: fit on one half
of bench/malmo_eval's planted pairs and NASA's cross-centre author links, test on the
other, then swap): weights fitted on one half (rare words alone on one, a half weight on
the lesson section on the other) did not beat equal weights on the other half, and equal
weights held on both halves of both sets where the former half weight on rare words lost
on NASA (MRR 0.34 / 0.30 against 0.43 / 0.34).

The facilitators' verdicts (:mod:`kb.decisions`) decide last: rejected pairs never come
back, confirmed ones (also ``related:`` in the front matter) are listed first.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.corpus import Corpus, load_corpus, words_with_surface
from analysis.reasons import Reason
from kb.core.decisions import load_decisions
from search.text import make_snippet

SIGNAL_WEIGHTS = {"entry": 1.0, "lesson": 1.0, "words": 1.0, "fields": 1.0}  # equal: see the module
PER_ENTRY_K = 3  # a pair is suggested when it is among one side's 3 best other-area partners
STRONG_K = 3  # a strong link (matrix, silo index): mutual top-3 over all other entries
# Obstacle pairs are `kb obstacles`' job and goal conflicts `kb conflicts`'; a synergy
# needs at least one side that carries a lesson or an offer.
SYNERGY_TYPES = ("lesson", "enabler", "idea")


@dataclass
class Synergy:
    a: str
    b: str
    area_a: str
    area_b: str
    score: float
    status: str  # suggested | confirmed | rejected
    title_a: str = ""
    title_b: str = ""
    rank_a: int | None = None  # where b stands among a's other-area partners (1 = best)
    rank_b: int | None = None
    reasons: list[Reason] = field(default_factory=list)
    match: dict = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["score"] = round(float(self.score), 3)
        data["reasons"] = [r.to_dict() for r in self.reasons]
        return data


# --- evidence ------------------------------------------------------------------------
def row_z(similarity: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each row's scores as z-scores over the row's allowed cells (NaN elsewhere)."""
    values = np.where(mask, similarity.astype(np.float64), np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with no allowed cell
        mean = np.nanmean(values, axis=1, keepdims=True)
        std = np.nanstd(values, axis=1, keepdims=True)
    return (values - mean) / np.where(np.isfinite(std) & (std > 1e-9), std, 1.0)


def similarity_signals(corpus: Corpus) -> dict[str, np.ndarray]:
    """Raw pairwise similarities, one matrix per signal (any scale)."""
    lessons, has_lesson = corpus.role_matrix("lesson")
    lessons = corpus.centred(lessons, has_lesson)
    lesson_sim = lessons @ lessons.T
    # an entry without a lesson section compares by its whole vector instead
    vectors = corpus.centred(corpus.vectors)
    whole = vectors @ vectors.T
    lesson_sim = np.where(has_lesson[:, None] & has_lesson[None, :], lesson_sim, whole)
    tfidf = corpus.word_tfidf()
    return {
        "entry": whole,
        "lesson": lesson_sim,
        "words": tfidf @ tfidf.T,
        "fields": corpus.field_overlap(),
    }


def evidence(corpus: Corpus, mask: np.ndarray, signals=None, weights: dict[str, float] | None = None) -> np.ndarray:
    """Weighted per-row evidence (mean z-score of the signals) for the cells in ``mask``."""
    signals = signals if signals is not None else similarity_signals(corpus)
    weights = SIGNAL_WEIGHTS if weights is None else weights
    total = np.zeros(mask.shape, dtype=np.float64)
    for name, weight in weights.items():
        if weight:
            total += weight * np.nan_to_num(row_z(signals[name], mask), nan=0.0)
    total /= sum(weights.values())
    return np.where(mask, total, -np.inf)


@dataclass
class PairScores:
    """What the synergy list is built from: which pairs may be synergies, each entry's
    evidence for every other-area entry (row i: i's view), each entry's ranks of its allowed
    partners (1 = best) and the pairs' scores (both sides' evidence averaged)."""
    allowed: np.ndarray
    evidence: np.ndarray
    ranks: np.ndarray
    pair: np.ndarray


def pair_scores(corpus: Corpus, signals=None, weights: dict[str, float] | None = None) -> PairScores:
    area = corpus.areas
    types = np.array([corpus.rows[e]["type"] for e in corpus.ids])
    other_area = area[:, None] != area[None, :]
    carries = np.isin(types, SYNERGY_TYPES)
    allowed = other_area & (carries[:, None] | carries[None, :])
    allowed &= (types[:, None] != "goal-conflict") & (types[None, :] != "goal-conflict")
    signals = signals if signals is not None else similarity_signals(corpus)
    score = evidence(corpus, other_area, signals, weights)  # z over all other-area entries
    ranks = per_entry_ranks(np.where(allowed, score, -np.inf))
    pair = (np.nan_to_num(score, neginf=np.nan) + np.nan_to_num(score.T, neginf=np.nan)) / 2
    return PairScores(allowed=allowed, evidence=score, ranks=ranks, pair=pair)


def per_entry_ranks(scores: np.ndarray) -> np.ndarray:
    """rank[i, j] = 1 + how many of i's candidates score above j (inf where not allowed)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(scores.shape[0])[:, None]
    ranks[rows, order] = np.arange(scores.shape[1])[None, :] + 1
    return np.where(np.isfinite(scores), ranks, np.inf)


# --- synergies ---------------------------------------------------------------------------
def synergies(
    kb,
    *,
    limit: int | None = 20,
    areas=None,
    since: str | None = None,
    include_rejected: bool = False,
) -> list[Synergy]:
    corpus = load_corpus(kb)
    return find_synergies(
        corpus, load_decisions(kb.config.root), limit=limit, areas=areas, since=since,
        include_rejected=include_rejected,
    )


def find_synergies(
    corpus: Corpus,
    decisions=None,
    *,
    limit: int | None = 20,
    areas=None,
    since: str | None = None,
    include_rejected: bool = False,
    signals=None,
    weights: dict[str, float] | None = None,
    explained: bool = True,
) -> list[Synergy]:
    """The synergy list (see the module). ``weights``: the signals' weights (default
    :data:`SIGNAL_WEIGHTS`); ``explained``: add why each pair was suggested (the benchmarks
    leave it out)."""
    n = corpus.n
    if n < 2:
        return []
    area = corpus.areas
    other_area = area[:, None] != area[None, :]
    scores = pair_scores(corpus, signals, weights)
    allowed, ranks, pair = scores.allowed, scores.ranks, scores.pair

    verdicts = link_verdicts(corpus, decisions)
    position = {e: k for k, e in enumerate(corpus.ids)}
    decided = np.zeros((n, n), dtype=bool)
    for x, y in verdicts:
        if x in position and y in position:
            decided[position[x], position[y]] = decided[position[y], position[x]] = True
    near = allowed & (np.minimum(ranks, ranks.T) <= PER_ENTRY_K)
    keep = np.triu(other_area & (near | decided), k=1)  # same-area pairs are never synergies
    wanted = set(areas or ())
    found: list[Synergy] = []
    for i, j in zip(*np.nonzero(keep), strict=True):
        key = (corpus.ids[i], corpus.ids[j])
        verdict = verdicts.get(tuple(sorted(key)))
        status = "suggested"
        if verdict is not None:
            status = "confirmed" if verdict["verdict"] == "synergy" else "rejected"
        if status == "suggested" and not (
            allowed[i, j] and min(ranks[i, j], ranks[j, i]) <= PER_ENTRY_K
        ):
            continue
        if status == "rejected" and not include_rejected:
            continue
        row_a, row_b = corpus.rows[key[0]], corpus.rows[key[1]]
        if wanted and not ({row_a["area"], row_b["area"]} & wanted):
            continue
        if since and max(row_a["date"], row_b["date"]) < since:
            continue
        found.append(
            Synergy(
                a=key[0], b=key[1], area_a=row_a["area"], area_b=row_b["area"],
                score=float(np.nan_to_num(pair[i, j], nan=0.0)), status=status,
                title_a=row_a["title"], title_b=row_b["title"],
                rank_a=_int(ranks[i, j]), rank_b=_int(ranks[j, i]),
                note=(verdict or {}).get("note", ""),
            )
        )
    order = {"confirmed": 0, "suggested": 1, "rejected": 2}
    found.sort(key=lambda s: (order[s.status], -s.score, s.a, s.b))
    found = [s for s in found if s.status == "confirmed"] + spread_out(
        [s for s in found if s.status == "suggested"]) + [s for s in found if s.status == "rejected"]
    if limit is not None:
        found = found[:limit]
    for s in found if explained else ():
        explain(corpus, s)
    return found


def spread_out(pairs: list[Synergy]) -> list[Synergy]:
    """The same pairs, each entry's best pair before any entry's second: the pairs whose
    entries appear in no better pair first (in score order), then those with one entry
    already shown, and so on.

    An entry near many others (a broad idea, a long lesson) would otherwise fill the top of
    the list with its own pairs, and a facilitator would read one lesson eight times
    (linking-notes.md: build the global list from per-entry evidence)."""
    out: list[Synergy] = []
    shown: dict[str, int] = {}
    rest, level = list(pairs), 0  # best first
    while rest:
        later = []
        for s in rest:
            if max(shown.get(s.a, 0), shown.get(s.b, 0)) <= level:
                out.append(s)
                shown[s.a] = shown.get(s.a, 0) + 1
                shown[s.b] = shown.get(s.b, 0) + 1
            else:
                later.append(s)
        rest, level = later, level + 1
    return out


def strongest(pairs: list[Synergy]) -> list[Synergy]:
    """The head of a synergy list that a handout shows: as many pairs as the list holds
    confirmed pairs and pairs whose entries are each other's best match in another area.

    The size comes from the knowledge base, not from a count fixed for one set: a larger or
    more connected period holds more such pairs (10 in bench/malmo_eval's 54 entries, 16 in
    the example's 70). The head of the list, not only the mutual pairs themselves: a pair
    where one side is the other's second choice is often the lesson a planted synergy
    carries (bench/synergy_cv.py)."""
    size = sum(1 for s in pairs if s.status == "confirmed" or (s.rank_a == 1 and s.rank_b == 1))
    return pairs[:size]


def _int(value) -> int | None:
    return int(value) if np.isfinite(value) else None


def link_verdicts(corpus: Corpus, decisions) -> dict[tuple[str, str], dict]:
    """Pair -> {verdict, note}: the decisions file, and ``related:`` lists as confirmations."""
    out: dict[tuple[str, str], dict] = {}
    known = set(corpus.ids)
    for entry_id in corpus.ids:
        for other in corpus.rows[entry_id].get("related") or []:
            if other in known and other != entry_id:
                out[tuple(sorted((entry_id, other)))] = {"verdict": "synergy", "note": ""}
    for d in decisions or []:
        if d.a in known and d.b in known:  # a verdict on a deleted entry no longer applies
            out[tuple(sorted((d.a, d.b)))] = {"verdict": d.verdict, "note": d.note}
    return out


def explain(corpus: Corpus, s: Synergy) -> None:
    """Fill in why a pair was suggested: which section of A matched which of B, shared
    tags/actors/roadmap ids, shared rare words, and how each side ranks the other."""
    i, j = corpus.position(s.a), corpus.position(s.b)
    best = None
    for sa in corpus.sections_of(i):
        for sb in corpus.sections_of(j):
            sim = float(sa.vector @ sb.vector)
            # the lesson sections carry the lesson: prefer them when nearly as close
            bonus = 0.01 if (sa.role == "lesson" and sb.role == "lesson") else 0.0
            if best is None or sim + bonus > best[0]:
                best = (sim + bonus, sa, sb)
    if best is not None:
        _, sa, sb = best
        s.match = {
            "section_a": sa.heading, "line_a": sa.line, "snippet_a": _snippet(sa),
            "section_b": sb.heading, "line_b": sb.line, "snippet_b": _snippet(sb),
        }
        s.reasons.append(Reason("reason_section_match", {
            "section_a": sa.heading, "area_a": s.area_a, "section_b": sb.heading, "area_b": s.area_b}))
    if s.rank_a == 1 and s.rank_b == 1:
        s.reasons.append(Reason("reason_mutual_best"))
    elif s.rank_a and s.rank_b and max(s.rank_a, s.rank_b) <= PER_ENTRY_K:
        s.reasons.append(Reason("reason_mutual_top", {"k": PER_ENTRY_K, "rank_a": s.rank_a, "rank_b": s.rank_b}))
    elif s.rank_a is not None or s.rank_b is not None:
        rank, area = min((r, a) for r, a in ((s.rank_a, s.area_a), (s.rank_b, s.area_b)) if r is not None)
        s.reasons.append(Reason("reason_one_side_top", {"rank": rank, "area": area}))
    s.reasons += shared_field_reasons(corpus, i, j)
    rare = shared_rare_words(corpus, i, j)
    if rare:
        s.reasons.append(Reason("reason_rare_words", {"words": rare}))
    if s.status == "confirmed":
        s.reasons.insert(0, Reason("reason_confirmed_note", {"note": s.note}) if s.note else Reason("reason_confirmed"))


FIELD_REASONS = {"tags": "reason_shared_tags", "actors": "reason_shared_actors", "roadmap": "reason_shared_roadmap"}


def shared_field_reasons(corpus: Corpus, i: int, j: int, top: int = 5) -> list[Reason]:
    """One reason per kind of front-matter field the two entries share (rarest values first)."""
    shared = corpus.shared_field_values(i, j)
    return [Reason(code, {"values": shared[key][:top]}) for key, code in FIELD_REASONS.items() if shared.get(key)]


def _snippet(section) -> str:
    text = section.text.strip()
    if section.heading and text.startswith(section.heading):
        text = text[len(section.heading):]  # the chunk repeats its heading
    return make_snippet(text.strip(), [], 160)


def shared_rare_words(corpus: Corpus, i: int, j: int, top: int = 5) -> list[str]:
    docs = corpus.doc_words()
    df = corpus.doc_frequency()
    common = set(docs[i]) & set(docs[j])
    rare = sorted((df[w], w) for w in common if df[w] <= max(2, corpus.n // 10))
    surface = {w: t for w, t in _surface_pairs(corpus, i)}
    return [surface.get(w, w) for _, w in rare[:top]]


def _surface_pairs(corpus: Corpus, i: int):
    row = corpus.rows[corpus.ids[i]]
    return words_with_surface(row["title"] + "\n" + (row.get("body") or ""))


# --- area matrix and silo index --------------------------------------------------------
@dataclass
class AreaLinks:
    areas: list[str]
    names: dict[str, str]
    matrix: dict[str, dict[str, int]]  # strong links between each pair of areas (symmetric)
    silo_index: dict[str, float | None]  # share of an area's strong links that cross areas
    links: list[tuple[str, str]]

    def to_dict(self) -> dict:
        return {
            "areas": self.areas,
            "names": self.names,
            "matrix": self.matrix,
            "silo_index": {a: (round(v, 3) if v is not None else None) for a, v in self.silo_index.items()},
            "strong_links": [list(pair) for pair in self.links],
        }


def area_links(kb) -> AreaLinks:
    corpus = load_corpus(kb)
    return strong_link_matrix(corpus, load_decisions(kb.config.root), list(kb.config.areas))


def strong_link_matrix(corpus: Corpus, decisions=None, areas: list[str] | None = None) -> AreaLinks:
    """Strong links are mutual top-``STRONG_K`` neighbours over *all* other entries (same
    area included, so the silo index can be measured), plus confirmed links, minus
    rejected ones."""
    n = corpus.n
    area = corpus.areas
    names = areas or sorted(set(area.tolist()))
    matrix = {a: {b: 0 for b in names} for a in names}
    links: set[tuple[str, str]] = set()
    if n >= 2:
        not_self = ~np.eye(n, dtype=bool)
        score = evidence(corpus, not_self)
        ranks = per_entry_ranks(score)
        mutual = (ranks <= STRONG_K) & (ranks.T <= STRONG_K)
        for i, j in zip(*np.nonzero(np.triu(mutual, k=1)), strict=True):
            links.add((corpus.ids[i], corpus.ids[j]))
    for pair, v in link_verdicts(corpus, decisions).items():
        if v["verdict"] == "synergy":
            links.add(pair)
        else:
            links.discard(pair)
    for a, b in links:
        x, y = corpus.rows[a]["area"], corpus.rows[b]["area"]
        for p, q in ((x, y), (y, x)) if x != y else ((x, y),):
            matrix.setdefault(p, {}).setdefault(q, 0)
            matrix[p][q] += 1
    silo: dict[str, float | None] = {}
    for a in names:
        row = matrix.get(a, {})
        total = sum(row.values())
        silo[a] = (total - row.get(a, 0)) / total if total else None
    return AreaLinks(
        areas=names, names=dict(corpus.area_names), matrix=matrix, silo_index=silo,
        links=sorted(links),
    )


__all__ = ["Synergy", "synergies", "find_synergies", "strongest", "area_links", "strong_link_matrix"]
