"""``kb obstacles``: the same obstacle met in different words, across areas and sprints.

Obstacle entries (and the obstacle sections of other entries) are clustered with
scikit-learn's average-link agglomerative clustering. The affinity of two obstacles is
per-row evidence, as in :mod:`search.links`: the z-score of their (language-centred)
vector similarity within each one's row, plus shared rare tags/actors/roadmap ids. No
cosine constant: where to cut the tree is chosen by the silhouette score of the
resulting groups, so it adapts to the model's score range and to the corpus.
Each group gets a label a facilitator can say (:mod:`analysis.labels`: the most shared tag
and the sentence nearest the group's centre, in the language of most of its entries) and
its most characteristic words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.corpus import Corpus, load_corpus
from analysis.labels import group_keywords, group_labels
from analysis.links import row_z

OBSTACLE_WEIGHTS = {"vector": 1.0, "fields": 1.0}


@dataclass
class ObstacleGroup:
    label: str
    entries: list[str]
    areas: list[str]
    sprints: list[str]
    first_seen: str
    last_seen: str
    count: int
    recurring: bool
    titles: dict[str, str] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)  # the group's most characteristic words

    def to_dict(self) -> dict:
        return asdict(self)


def recurring_obstacles(
    kb,
    *,
    since: str | None = None,
    until: str | None = None,
    areas=None,
    types=("obstacle",),
) -> list[ObstacleGroup]:
    """Groups of entries describing the same obstacle, most widespread first.

    ``types`` are the entry types taken whole; other entries take part only through a
    section whose heading names an obstacle (``Hinder``, ``Obstacles``...). Singletons
    are not groups. Works with any embedder (also the tests' hash embedder).

    The period and areas choose which groups are shown, not what is grouped: everything
    logged up to ``until`` is grouped, and a group is kept when one of its entries is dated
    from ``since`` (of one of ``areas``). So a new case joins the older ones it repeats, and
    a group that gained a member in the period shows as met again, however old the rest.
    """
    corpus = load_corpus(kb)
    return group_obstacles(corpus, since=since, until=until, areas=areas, types=types)


def group_obstacles(
    corpus: Corpus,
    *,
    since: str | None = None,
    until: str | None = None,
    areas=None,
    types=("obstacle",),
) -> list[ObstacleGroup]:
    wanted_areas = set(areas or ())
    items: list[int] = []  # entry positions in the corpus
    vectors: list[np.ndarray] = []
    for i, entry_id in enumerate(corpus.ids):
        row = corpus.rows[entry_id]
        if until and row["date"] > until:
            continue
        if row["type"] in types:
            vector = corpus.obstacle_vector(i, whole=True)
        else:
            vector = corpus.obstacle_vector(i, whole=False)
        if vector is None:
            continue
        items.append(i)
        vectors.append(vector)
    if len(items) < 3:
        return []  # the cut is read from the data: two texts give no distribution
    matrix = corpus.centred(np.vstack(vectors), positions=items)
    labels = cluster(affinity(corpus, items, matrix))

    groups: list[ObstacleGroup] = []
    members_by_label: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members_by_label.setdefault(int(label), []).append(items[position])
    clusters = [sorted(m, key=lambda i: corpus.rows[corpus.ids[i]]["date"]) for m in members_by_label.values() if len(m) >= 2]
    labels = group_labels(corpus, clusters)
    keywords = group_keywords(corpus, clusters)
    def met(row: dict) -> bool:  # logged in the period, in the chosen areas
        return (not since or row["date"] >= since) and (not wanted_areas or row["area"] in wanted_areas)

    for members, label, words in zip(clusters, labels, keywords, strict=True):
        rows = [corpus.rows[corpus.ids[i]] for i in members]
        if not any(met(r) for r in rows):
            continue
        member_areas = sorted({r["area"] for r in rows})
        sprints = sorted({r["sprint"] for r in rows if r.get("sprint")})
        dates = sorted(r["date"] for r in rows)
        groups.append(
            ObstacleGroup(
                label=label,
                entries=[r["id"] for r in rows],
                areas=member_areas,
                sprints=sprints,
                first_seen=dates[0],
                last_seen=dates[-1],
                count=len(rows),
                recurring=len(sprints) >= 2 or len(member_areas) >= 2,
                titles={r["id"]: r["title"] for r in rows},
                keywords=words,
            )
        )
    groups.sort(key=lambda g: g.last_seen, reverse=True)
    groups.sort(key=lambda g: (not g.recurring, -len(g.areas), -g.count))
    return groups


def affinity(corpus: Corpus, items: list[int], matrix: np.ndarray) -> np.ndarray:
    """Symmetric per-row evidence that two obstacle texts state the same obstacle."""
    n = len(items)
    others = ~np.eye(n, dtype=bool)
    raw = {"vector": matrix @ matrix.T, "fields": corpus.field_overlap()[np.ix_(items, items)]}
    total = sum(w * np.nan_to_num(row_z(raw[k], others), nan=0.0) for k, w in OBSTACLE_WEIGHTS.items())
    total = total / sum(OBSTACLE_WEIGHTS.values())
    return (total + total.T) / 2


def cluster(affinity_matrix: np.ndarray) -> np.ndarray:
    """Average-link clustering; among the cuts where groups stay more alike than the
    typical pair, the one with the best silhouette wins (singletons if none is positive)."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    n = len(affinity_matrix)
    distances = affinity_matrix.max() - affinity_matrix
    np.fill_diagonal(distances, 0.0)
    distances = np.maximum(distances, 0.0)
    tree = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=0.0,
        compute_distances=True,
    ).fit(distances)
    best_labels, best_score = np.arange(n), 0.0
    # a group's members must be, on average, closer than their typical pair (affinity
    # above 0, the mean of the z-scores): cuts above that merge unrelated obstacles
    ceiling = float(affinity_matrix.max())
    for cut in np.unique(tree.distances_):
        if cut >= ceiling:
            break
        labels = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average",
            distance_threshold=float(cut) + 1e-9,
        ).fit_predict(distances)
        k = len(set(labels.tolist()))
        if not 2 <= k <= n - 1:
            continue
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if score > best_score + 1e-9:
            best_labels, best_score = labels, score
    return best_labels
