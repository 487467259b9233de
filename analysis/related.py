"""Related lessons of one entry: the entry page's panel and ``kb similar --mode related``.

Four kinds of evidence, each a ranking of the other entries by how much they share with
this one (the evidence ``kb synergies`` weighs too, per entry):

- ``words``: the entry's own words as a keyword query (BM25 over the chunks, as
  ``kb similar --mode keyword``): the same terms, names and part numbers;
- ``meaning``: the whole-entry vectors, centred per language (crosses Swedish and English);
- ``rare_words``: rare words in common (TF-IDF of stemmed words);
- ``fields``: shared rare tags, actors and roadmap ids.

They are fused by reciprocal rank (k = :data:`RRF_K`): a scale-free sum, so no signal's
score range dominates. An entry is *related* (the cut-off) when two kinds of evidence put
it among their first 1 % of the knowledge base (:data:`TOP_SHARE`, at least :data:`MIN_TOP`
entries), or one puts it first: one loose resemblance (a shared common word, a vague
closeness in meaning) is not enough. Only positive evidence counts
(a shared word, a similarity above the entry's own average), so an entry without tags is
not ranked by its tags.

Chosen on the tuning halves (NASA LLIS author cross-references of citing lessons with an
even id, bench/malmo_eval's tuning pairs; ``bench/linking_quality.py``): the "what we
learned" section (the synergy list's strongest signal for *the same lesson*) lowered
recall of NASA's related lessons, and mutual ranks did not help, so neither is used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.corpus import Corpus
from analysis.links import link_verdicts, shared_field_reasons, shared_rare_words
from analysis.reasons import Reason
from search.match import CLOSE, NEAREST, WEAK
from search.query import SearchResult, SearchResults
from search.similar import other_areas_first, result_rows, similar

RRF_K = 20
TOP_SHARE = 0.01  # two kinds of evidence must rank a related entry among the first 1 % ...
MIN_TOP = 5  # ... of the knowledge base, or among its first 5 in a small one
DEPTH = 60  # how far down each ranking is read


@dataclass
class Related:
    id: str
    score: float  # the fused reciprocal-rank score
    support: list[str] = field(default_factory=list)  # the kinds of evidence ranking it among their first top()
    reasons: list[Reason] = field(default_factory=list)
    close: bool = True  # it passes the cut-off (or is confirmed); else a weak resemblance


class RelatedFinder:
    """The corpus-wide parts, made once per index generation (a long-lived holder such as
    the web server keeps one); each entry's rankings are computed when asked for.

    The facilitators' verdicts decide last, as for ``kb synergies``: a pair confirmed as
    related (``kb link``, or ``related:`` in the front matter) comes first whatever the
    evidence, a pair rejected as unrelated never comes back."""

    def __init__(self, corpus: Corpus, decisions=None):
        self.corpus = corpus
        self.confirmed: dict[str, dict[str, str]] = {}  # entry -> confirmed partner -> note
        self.rejected: dict[str, set[str]] = {}
        for (a, b), verdict in link_verdicts(corpus, decisions).items():
            if verdict["verdict"] == "unrelated":
                self.rejected.setdefault(a, set()).add(b)
                self.rejected.setdefault(b, set()).add(a)
            else:
                self.confirmed.setdefault(a, {})[b] = verdict["note"]
                self.confirmed.setdefault(b, {})[a] = verdict["note"]
        self.position = {e: k for k, e in enumerate(corpus.ids)}
        self.areas = corpus.areas
        self.vectors = corpus.centred(corpus.vectors)
        self.fields = corpus.field_matrix()
        self.weights = corpus.word_weights()
        postings: dict[str, list[tuple[int, float]]] = {}
        for k, weights in enumerate(self.weights):
            for word, weight in weights.items():
                postings.setdefault(word, []).append((k, weight))
        self.postings = {w: (np.array([k for k, _ in p]), np.array([v for _, v in p], dtype=np.float32))
                         for w, p in postings.items()}

    def rankings(self, kb, i: int) -> dict[str, list[int]]:
        """Each kind of evidence's ranking of the other entries (positions), best first,
        positive evidence only."""
        n = self.corpus.n
        out: dict[str, list[int]] = {}
        words = similar(kb, self.corpus.ids[i], limit=DEPTH, mode="keyword")  # entries sharing a word
        out["words"] = [self.position[r.id] for r in words if r.id in self.position]
        rows = {"meaning": self.vectors @ self.vectors[i], "fields": self.fields @ self.fields[i]}
        rare = np.zeros(n, dtype=np.float32)
        for word, weight in self.weights[i].items():
            docs, values = self.postings[word]
            np.add.at(rare, docs, weight * values)
        rows["rare_words"] = rare
        for name, row in rows.items():
            others = np.arange(n) != i
            mean = float(row[others].mean()) if others.any() else 0.0
            order = [int(j) for j in np.argsort(-row, kind="stable") if j != i][:DEPTH]
            positive = (lambda j, r=row: r[j] > 0) if name != "meaning" else (lambda j, r=row, m=mean: r[j] > m)
            out[name] = [j for j in order if positive(j)]
        return out

    @property
    def top(self) -> int:
        return max(MIN_TOP, round(TOP_SHARE * self.corpus.n))

    def find(self, kb, entry_id: str, *, limit: int | None = 10, cutoff: bool = True,
             other_areas: bool = False) -> list[Related]:
        i = self.position.get(entry_id)
        if i is None:
            return []
        top = self.top
        score: dict[int, float] = {}
        support: dict[int, list[str]] = {}
        first: set[int] = set()
        for name, ranked in self.rankings(kb, i).items():
            for rank, j in enumerate(ranked, start=1):
                score[j] = score.get(j, 0.0) + 1.0 / (RRF_K + rank)
                if rank <= top:
                    support.setdefault(j, []).append(name)
                if rank == 1:
                    first.add(j)
        confirmed = {self.position[e]: note for e, note in self.confirmed.get(entry_id, {}).items()}
        rejected = {self.position[e] for e in self.rejected.get(entry_id, ())}

        def close(j: int) -> bool:
            return j in confirmed or len(support.get(j, [])) >= 2 or j in first

        chosen = list(confirmed) + [
            j for j in sorted(score, key=lambda j: (-score[j], self.corpus.ids[j]))
            if j not in confirmed and j not in rejected and (not cutoff or close(j))
        ]
        if other_areas:
            chosen = [j for j in chosen if self.areas[j] != self.areas[i]]
        if limit is not None:
            chosen = chosen[:limit]
        return [Related(id=self.corpus.ids[j], score=score.get(j, 0.0), support=support.get(j, []),
                        reasons=self.reasons(i, j, support.get(j, []), confirmed.get(j)), close=close(j))
                for j in chosen]

    def reasons(self, i: int, j: int, support: list[str], confirmed: str | None = None) -> list[Reason]:
        out = []
        if confirmed is not None:
            out.append(Reason("reason_confirmed_note", {"note": confirmed}) if confirmed else Reason("reason_confirmed"))
        if "meaning" in support:
            out.append(Reason("reason_close_meaning"))
        if "words" in support:
            out.append(Reason("reason_words_in_common"))
        if "rare_words" in support:
            rare = shared_rare_words(self.corpus, i, j)
            if rare:
                out.append(Reason("reason_rare_words", {"words": rare}))
        if "fields" in support:
            out += shared_field_reasons(self.corpus, i, j)
        return out


def related_results(kb, finder: RelatedFinder, entry_id: str, *, limit: int | None = 10, cutoff: bool = True,
                    other_areas: bool = False) -> list[SearchResult]:
    """The related entries as search results (score: the fused reciprocal-rank score), with
    their reasons, each marked ``close`` (it passes the cut-off) or ``weak``."""
    found = finder.find(kb, entry_id, limit=limit, cutoff=cutoff, other_areas=other_areas)
    results = result_rows(kb, [(r.id, r.score) for r in found])
    by_id = {r.id: r for r in found}
    for result in results:
        result.reasons = by_id[result.id].reasons
        result.match = CLOSE if by_id[result.id].close else WEAK
    return results


def related_panel(kb, finder: RelatedFinder, entry_id: str, limit: int = 6) -> SearchResults:
    """The entry page's panel: related entries, those of other areas first (that is where
    silos hide), keeping up to two places for the entry's own area. When none passes the
    cut-off, the panel is not left empty: the nearest few (``search.match.NEAREST``) are
    shown, marked weak, as a search does."""
    row = finder.corpus.rows.get(entry_id)
    if row is None:
        return SearchResults()
    close = related_results(kb, finder, entry_id, limit=None)
    if close:
        return SearchResults(other_areas_first(close, row["area"], limit), any_close=True)
    nearest = other_areas_first(related_results(kb, finder, entry_id, limit=None, cutoff=False), row["area"],
                                min(limit, NEAREST))
    for r in nearest:
        r.match = WEAK
    return SearchResults(nearest, any_close=False)


__all__ = ["Related", "RelatedFinder", "RRF_K", "TOP_SHARE", "related_results", "related_panel"]
