"""``kb obstacles``: the same obstacle met in different words, across areas and sprints.

Obstacle entries (and the obstacle sections of other entries) are clustered with
scikit-learn's average-link agglomerative clustering. The affinity of two obstacles is
per-row evidence, as in :mod:`search.links`: the z-score of their (language-centred)
vector similarity within each one's row, plus shared rare tags/actors/roadmap ids. No
cosine constant: where to cut the tree is chosen by the silhouette score of the
resulting groups, so it adapts to the model's score range and to the corpus.
Each group keeps an id and a label from one run to the next (``obstacles.md``, matched by
membership: :mod:`analysis.obstacle_identity`); a new group's label is made by
:mod:`analysis.labels`. Each group also gets its most characteristic words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np

from analysis.corpus import Corpus, load_corpus
from analysis.labels import group_keywords, group_label
from analysis.links import row_z
from analysis.obstacle_identity import identify
from kb.core.config import KBConfig
from kb.core.texts import text

OBSTACLE_WEIGHTS = {"vector": 1.0, "fields": 1.0}


DEFAULT_TYPES = ("obstacle",)


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
    id: str | None = None  # kept in obstacles.md; None only in a view that keeps nothing
    named: bool = False  # the label is a facilitator's

    def to_dict(self) -> dict:
        data = asdict(self)
        return {"id": data.pop("id"), "label": data.pop("label"), **data}


def obstacle_ref(label: str, group_id: str | None, lang: str | None) -> str:
    """A group named in a sentence: its label in quotes, and its kept id."""
    if group_id:
        return text("obstacle_quoted", lang, label=label, id=group_id)
    return text("obstacle_quoted_no_id", lang, label=label)


def recurring_obstacles(
    kb,
    *,
    since: str | None = None,
    until: str | None = None,
    areas=None,
    types=DEFAULT_TYPES,
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
    return group_obstacles(corpus, kb.config, since=since, until=until, areas=areas, types=types)


def group_obstacles(
    corpus: Corpus,
    config: KBConfig | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    areas=None,
    types=DEFAULT_TYPES,
    within: set[str] | None = None,
    today: str | None = None,
) -> list[ObstacleGroup]:
    """The knowledge base's obstacle groups, each with its kept id and label
    (:mod:`analysis.obstacle_identity`; ``config``: where ``obstacles.md`` is, None to keep
    nothing), as far as they lie in the period, the areas and ``within`` (entry ids).

    The clustering is of the whole knowledge base, so a group is the same group in every
    period and on every page. The period and the areas choose which groups are shown, not
    what is grouped: a group is shown when one of its entries is dated from ``since`` to
    ``until`` (in one of ``areas``), with its members up to ``until`` (those in ``within``,
    when given), two or more of them. So a new case joins the older ones it repeats, and a
    group that gained a member in the period shows as met again, however old the rest. Only
    the default types keep ids: a view with other types clusters the entries it selects
    (a register's lessons, one centre at a time), and shows the id of a kept group a cluster
    continues and no id for any other."""
    types = tuple(types) or DEFAULT_TYPES
    keep = set(types) == set(DEFAULT_TYPES)
    wanted_areas = set(areas or ())

    def in_window(entry_id: str) -> bool:  # a member shown: logged by the period's end
        return (not until or corpus.rows[entry_id]["date"] <= until) and (within is None or entry_id in within)

    def met(entry_id: str) -> bool:  # logged in the period, in the chosen areas
        row = corpus.rows[entry_id]
        return ((not since or row["date"] >= since) and (not until or row["date"] <= until)
                and (not wanted_areas or row["area"] in wanted_areas))

    def in_scope(entry_id: str) -> bool:  # what a view with other types clusters
        return met(entry_id) and (within is None or entry_id in within)

    # the kept groups are those of the whole knowledge base; a view with other types keeps
    # nothing, so it clusters only what it shows
    clusters = obstacle_clusters(corpus, types, only=None if keep else in_scope)
    ids = [[corpus.ids[i] for i in members] for members in clusters]

    def make_label(c: int) -> tuple[str, str | None]:
        return group_label(corpus, clusters[c])

    # an audience other than staff sees a kept group's id, never its kept label (made from,
    # or by a facilitator reading, lessons it may not see), and keeps nothing
    whole = corpus.audience == "staff"
    names = identify(
        config.root if config else None, config.state_dir if config else None, ids, set(corpus.ids), make_label,
        today=today or dt.date.today().isoformat(), keep=keep and whole, kept_labels=whole,
    )
    chosen = []
    for members, (group_id, label, named) in zip(clusters, names, strict=True):
        shown = [i for i in members if in_window(corpus.ids[i])]
        if len(shown) >= 2 and any(met(corpus.ids[i]) for i in shown):
            chosen.append((shown, group_id, label, named))
    keywords = group_keywords(corpus, [shown for shown, *_ in chosen])
    groups: list[ObstacleGroup] = []
    for (members, group_id, label, named), words in zip(chosen, keywords, strict=True):
        rows = [corpus.rows[corpus.ids[i]] for i in members]
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
                id=group_id,
                named=named,
            )
        )
    groups.sort(key=lambda g: g.last_seen, reverse=True)
    groups.sort(key=lambda g: (not g.recurring, -len(g.areas), -g.count))
    return groups


def obstacle_clusters(corpus: Corpus, types=DEFAULT_TYPES, only=None) -> list[list[int]]:
    """Groups (2+ entry positions, oldest first) of the knowledge base's obstacle texts (those
    of the entries ``only(entry_id)`` accepts, when given). The whole knowledge base's are
    made once per corpus (the brief, its recurrences and the report each ask for them)."""
    if only is None:
        key = tuple(sorted(types))
        if key not in corpus._clusters:
            corpus._clusters[key] = _clusters(corpus, types, None)
        return [list(members) for members in corpus._clusters[key]]
    return _clusters(corpus, types, only)


def _clusters(corpus: Corpus, types, only) -> list[list[int]]:
    items: list[int] = []  # entry positions in the corpus
    vectors: list[np.ndarray] = []
    for i, entry_id in enumerate(corpus.ids):
        if only is not None and not only(entry_id):
            continue
        row = corpus.rows[entry_id]
        vector = corpus.obstacle_vector(i, whole=row["type"] in types)
        if vector is None:
            continue
        items.append(i)
        vectors.append(vector)
    if len(items) < 3:
        return []  # the cut is read from the data: two texts give no distribution
    matrix = corpus.centred(np.vstack(vectors), positions=items)
    labels = cluster(affinity(corpus, items, matrix))
    members_by_label: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members_by_label.setdefault(int(label), []).append(items[position])
    def first(i: int) -> tuple[str, str]:
        return corpus.rows[corpus.ids[i]]["date"], corpus.ids[i]

    # oldest first, within and between groups: a first run numbers the groups by age
    groups = [sorted(m, key=first) for m in members_by_label.values() if len(m) >= 2]
    return sorted(groups, key=lambda m: first(m[0]))


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
