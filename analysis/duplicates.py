"""``kb duplicates``: pairs so alike they are probably one lesson logged twice.

The threshold is read from the corpus. Every entry has a nearest neighbour; most of
those are merely "the closest other text". A near-duplicate is a pair of mutual nearest
neighbours whose cosine *distance* (1 - similarity) is a small fraction, at most
``RELATIVE_DISTANCE``, of the corpus's median nearest-neighbour distance: far in the top
tail. Identical texts sit at similarity 1 for every model; what differs between models
is how far from 1 everything else is (e5 compresses: unrelated ~0.78), and a ratio of
distances to 1 does not change under that compression. Same-area pairs are allowed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.corpus import Corpus, load_corpus
from analysis.reasons import Reason
from kb.core.decisions import load_decisions
from search.similar import unsaved_entry_vector

RELATIVE_DISTANCE = 0.35


@dataclass
class DuplicatePair:
    a: str
    b: str
    area_a: str
    area_b: str
    score: float  # cosine of the two entries
    relative_distance: float  # distance as a share of the median nearest-neighbour distance
    status: str = "suggested"  # suggested | confirmed | rejected
    title_a: str = ""
    title_b: str = ""
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["score"] = round(float(self.score), 4)
        data["relative_distance"] = round(float(self.relative_distance), 3)
        data["reasons"] = [r.to_dict() for r in self.reasons]
        return data


def relative_distances(similarity: np.ndarray) -> np.ndarray:
    """Every pair's distance (1 - similarity) divided by the median distance from an
    entry to its nearest neighbour (the diagonal is ignored)."""
    masked = similarity.astype(np.float64).copy()
    np.fill_diagonal(masked, -np.inf)
    typical = float(np.median(1.0 - masked.max(axis=1)))
    return (1.0 - similarity) / max(typical, 1e-9)


def near_duplicates(kb, *, ids=None, include_rejected: bool = False) -> list[DuplicatePair]:
    """Near-duplicate pairs in the index; with ``ids``, only pairs involving those entries."""
    corpus = load_corpus(kb)
    return find_duplicates(corpus, load_decisions(kb.config.root), ids=ids, include_rejected=include_rejected)


def find_duplicates(
    corpus: Corpus, decisions=None, *, ids=None, include_rejected: bool = False,
    threshold: float = RELATIVE_DISTANCE,
) -> list[DuplicatePair]:
    n = corpus.n
    if n < 3:
        return []
    similarity = corpus.vectors @ corpus.vectors.T
    z = relative_distances(similarity)
    masked = similarity.copy()
    np.fill_diagonal(masked, -np.inf)
    nearest = np.argmax(masked, axis=1)
    verdicts = {tuple(sorted((d.a, d.b))): d for d in decisions or []}
    wanted = set(ids) if ids is not None else None
    found = []
    position = {e: k for k, e in enumerate(corpus.ids)}
    candidates = {tuple(sorted((i, int(nearest[i])))) for i in range(n) if nearest[nearest[i]] == i}
    for d in verdicts.values():  # confirmed duplicates are listed even when not mutual nearest
        if d.verdict == "duplicate" and d.a in position and d.b in position:
            candidates.add(tuple(sorted((position[d.a], position[d.b]))))
    for i, j in sorted(candidates):
        key = (corpus.ids[i], corpus.ids[j])
        if wanted is not None and not (set(key) & wanted):
            continue
        verdict = verdicts.get(tuple(sorted(key)))
        status = "suggested"
        if verdict is not None:
            status = "confirmed" if verdict.verdict == "duplicate" else "rejected"
        strong = z[i, j] <= threshold and nearest[i] == j and nearest[j] == i
        if not strong and status != "confirmed":
            continue
        if status == "rejected" and not include_rejected:
            continue
        a, b = corpus.rows[key[0]], corpus.rows[key[1]]
        reasons = [Reason("reason_close_text", {"similarity": round(float(similarity[i, j]), 4),
                                                "share": round(float(z[i, j]), 3)})]
        if nearest[i] == j and nearest[j] == i:
            reasons.append(Reason("reason_mutual_nearest"))
        if status == "confirmed":
            reasons.insert(0, Reason("reason_confirmed"))
        if a["area"] == b["area"]:
            reasons.append(Reason("reason_same_area", {"area": a["area"]}))
        if a.get("sprint") and a.get("sprint") == b.get("sprint"):
            reasons.append(Reason("reason_same_sprint", {"sprint": a["sprint"]}))
        found.append(
            DuplicatePair(
                a=key[0], b=key[1], area_a=a["area"], area_b=b["area"],
                score=float(similarity[i, j]), relative_distance=float(z[i, j]), status=status,
                title_a=a["title"], title_b=b["title"], reasons=reasons,
            )
        )
    found.sort(key=lambda d: (d.relative_distance, d.a, d.b))
    return found


def duplicates_of_entry(kb, entry) -> list[DuplicatePair]:
    """Near-duplicates of an entry that is not indexed yet (``kb new``): it is embedded
    as the indexer would, added to the corpus for the comparison, and compared with the
    same corpus-derived threshold."""
    corpus = load_corpus(kb)
    if entry.id in corpus.rows:
        return []
    vector = unsaved_entry_vector(kb, entry)
    row = {**entry.to_row(), "tags": entry.tags, "actors": entry.actors, "roadmap": entry.roadmap,
           "policy": entry.policy, "related": entry.related}
    extended = Corpus(
        ids=[*corpus.ids, entry.id],
        rows={**corpus.rows, entry.id: row},
        vectors=np.vstack([corpus.vectors, vector[None, :]]),
        sections=corpus.sections,
        area_names=corpus.area_names,
        audience=corpus.audience,
    )
    return find_duplicates(extended, load_decisions(kb.config.root), ids=[entry.id])
