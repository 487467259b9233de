"""``kb cities``: what our lessons share with the cities we follow (``kb sync``): obstacles
another city has met too ("Lund har mött samma hinder"), and lessons that carry across
cities. The brief's "Från andra städer" and the page ``/-/kb/cities`` show them.

The same evidence as the cross-area links (:mod:`analysis.links`): whole-entry and lesson
vectors (centred per language), rare shared words and shared tags and actors, each turned
into z-scores of one entry's row. A row here is one of our entries against *every* other
entry, ours and theirs; another city's lesson is suggested when it stands among that row's
:data:`PER_ENTRY_K` best and stands out from the row (:data:`MIN_EVIDENCE`). No similarity
constant: an unrelated lesson from Lund is not among the three nearest of an entry in a
knowledge base of dozens, nor a standard deviation above the rest. The matrix is our entries times
all entries (not all times all), so a hundred followed cities cost rows, not squares.

A knowledge base that has no lessons of its own (an aggregator: a follower of many cities)
compares each city's lessons with the other cities' instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from analysis.corpus import Corpus, load_corpus
from analysis.links import SIGNAL_WEIGHTS, SYNERGY_TYPES, Synergy, explain, per_entry_ranks, row_z
from analysis.reasons import Reason

PER_ENTRY_K = 3
# ... and stands out in that row by at least this much (the mean of the signals' z-scores: one
# standard deviation above the row's mean). Scale-free, like the ranks; it keeps a small
# knowledge base, where three nearest are half of everything, from suggesting anything at all.
MIN_EVIDENCE = 1.0
RANK_REASONS = ("reason_mutual_best", "reason_mutual_top", "reason_one_side_top")


@dataclass
class CityLink:
    kind: str  # "obstacle": another city met the same obstacle; "synergy": a lesson that carries
    own: str  # our entry's id (for an aggregator: the first city's lesson)
    other: str  # the other city's lesson (a followed id, "<source>:<id>")
    source: str  # the other city's name
    score: float  # the pair's evidence (mean z-score, as kb synergies)
    own_title: str = ""
    other_title: str = ""
    own_area: str = ""
    other_area: str = ""  # as the other city names it
    own_type: str = ""
    other_type: str = ""
    own_date: str = ""
    other_date: str = ""
    other_url: str = ""  # the lesson's page at the other city (http(s)), when it has one
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "reasons"}
        data["score"] = round(float(self.score), 3)
        data["reasons"] = [r.to_dict() for r in self.reasons]
        return data


@dataclass
class CityLinks:
    obstacles: list[CityLink]
    synergies: list[CityLink]
    sources: list[dict]  # the followed publications (name, organisation, licence, fetched, lessons)

    def to_dict(self) -> dict:
        return {"sources": self.sources, "obstacles": [x.to_dict() for x in self.obstacles],
                "synergies": [x.to_dict() for x in self.synergies]}


def city_links(kb, *, since: str | None = None, until: str | None = None, areas=None,
               only: set[str] | None = None, limit: int | None = None) -> CityLinks:
    """Shared obstacles and synergies between our entries and the followed lessons.
    ``since``/``until``/``areas``/``only`` (entry ids) choose which of *our* entries take part."""
    sources = kb.store.sources()
    if not sources:
        return CityLinks([], [], sources)
    corpus = load_corpus(kb, followed=True)
    if not any(corpus.rows[e].get("source") for e in corpus.ids):
        return CityLinks([], [], sources)
    return find_city_links(corpus, sources, since=since, until=until, areas=areas, only=only, limit=limit)


def find_city_links(corpus: Corpus, sources: list[dict], *, since=None, until=None, areas=None,
                    only: set[str] | None = None, limit: int | None = None) -> CityLinks:
    rows = corpus.rows
    source = np.array([rows[e].get("source") or "" for e in corpus.ids])
    aggregator = not (source == "").any()
    wanted = set(areas or ())

    def ours(e: str) -> bool:
        row = rows[e]
        return ((aggregator or not row.get("source")) and (not since or row["date"] >= since)
                and (not until or row["date"] <= until) and (not wanted or row["area"] in wanted)
                and (only is None or e in only))

    mine = [i for i, e in enumerate(corpus.ids) if ours(e)]
    if not mine:
        return CityLinks([], [], sources)
    score = _evidence_rows(corpus, mine)  # (len(mine), n), -inf on the diagonal
    ranks = per_entry_ranks(score)
    types = np.array([rows[e]["type"] for e in corpus.ids])
    obstacles: list[CityLink] = []
    synergies: list[CityLink] = []
    for k, i in enumerate(mine):
        for j in np.nonzero((ranks[k] <= PER_ENTRY_K) & (score[k] >= MIN_EVIDENCE))[0]:
            if source[j] == source[i] or not source[j] or types[i] == "goal-conflict" or types[j] == "goal-conflict":
                continue
            if types[i] == "obstacle" and types[j] == "obstacle":
                kind = "obstacle"
            elif types[i] in SYNERGY_TYPES or types[j] in SYNERGY_TYPES:
                kind = "synergy"
            else:
                continue
            link = _link(corpus, kind, i, int(j), float(score[k, j]), int(ranks[k, j]))
            (obstacles if kind == "obstacle" else synergies).append(link)
    obstacles.sort(key=_order)
    synergies.sort(key=_order)
    if limit is not None:
        obstacles, synergies = obstacles[:limit], synergies[:limit]
    return CityLinks(obstacles, synergies, sources)


def _order(link: CityLink) -> tuple:
    return (-link.score, link.own, link.other)


def _evidence_rows(corpus: Corpus, mine: list[int]) -> np.ndarray:
    """Per-row evidence of ``mine`` (rows) against every entry (columns): the signals of
    :mod:`analysis.links`, each a z-score within the row, weighted and averaged."""
    n = corpus.n
    lessons, has_lesson = corpus.role_matrix("lesson")
    lessons = corpus.centred(lessons, has_lesson)
    vectors = corpus.centred(corpus.vectors)
    whole = vectors[mine] @ vectors.T
    lesson_sim = np.where(has_lesson[mine][:, None] & has_lesson[None, :], lessons[mine] @ lessons.T, whole)
    words = _sparse_rows(corpus.word_weights())
    fields = corpus.field_matrix()
    signals = {
        "entry": whole,
        "lesson": lesson_sim,
        "words": (words[mine] @ words.T).toarray(),
        "fields": fields[mine] @ fields.T,
    }
    mask = np.ones((len(mine), n), dtype=bool)
    mask[np.arange(len(mine)), mine] = False
    total = np.zeros(mask.shape, dtype=np.float64)
    for name, weight in SIGNAL_WEIGHTS.items():
        total += weight * np.nan_to_num(row_z(signals[name], mask), nan=0.0)
    total /= sum(SIGNAL_WEIGHTS.values())
    return np.where(mask, total, -np.inf)


def _sparse_rows(weights: list[dict[str, float]]) -> sparse.csr_matrix:
    vocab: dict[str, int] = {}
    data, columns, pointers = [], [], [0]
    for row in weights:
        for word, value in row.items():
            columns.append(vocab.setdefault(word, len(vocab)))
            data.append(value)
        pointers.append(len(columns))
    return sparse.csr_matrix((data, columns, pointers), shape=(len(weights), max(len(vocab), 1)))


def _link(corpus: Corpus, kind: str, i: int, j: int, score: float, rank: int) -> CityLink:
    a, b = corpus.ids[i], corpus.ids[j]
    row_a, row_b = corpus.rows[a], corpus.rows[b]
    extra = row_b.get("extra") or {}
    # the reasons of kb synergies: which sections matched, shared tags and rare words
    # the other city's area by its own name (our area names are for our slugs)
    other_area = str(extra.get("area_name") or row_b["area"])
    pair = Synergy(a=a, b=b, area_a=row_a["area"], area_b=other_area, score=score, status="suggested",
                   rank_a=rank)
    explain(corpus, pair)
    # its rank is among every lesson, ours and theirs, not among other areas' as in kb synergies
    reasons = [r for r in pair.reasons if r.code not in RANK_REASONS]
    reasons.insert(1 if reasons and reasons[0].code == "reason_section_match" else 0,
                   Reason("reason_city_rank", {"rank": rank}))
    return CityLink(
        kind=kind, own=a, other=b, source=str(row_b.get("source")), score=score,
        own_title=row_a["title"], other_title=row_b["title"], own_area=row_a["area"],
        other_area=other_area, own_type=row_a["type"], other_type=row_b["type"],
        own_date=row_a["date"], other_date=row_b["date"], other_url=str(extra.get("url") or ""),
        reasons=reasons,
    )


__all__ = ["CityLink", "CityLinks", "city_links", "find_city_links"]
