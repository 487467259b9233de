"""Which of today's obstacle clusters continues which kept group (``obstacles.md``).

The clustering is made anew on every run, and one new entry can move the cut: a group may
gain or lose members, split or merge with another. A facilitator's "hinder-3" must still mean
the same obstacle next month, so each cluster is matched to the kept groups by membership:

- a cluster and a kept group match when they share entries and their Jaccard index (shared
  entries over entries in either) is at least ``MIN_JACCARD`` = 1/3: a group may grow to three
  times its size or shrink to a third and stay itself; a cluster that holds less of it than
  that is another group;
- one to one, the pairs sharing the most entries first (then the higher Jaccard, a group
  still found before one that is gone, the older id): on a **split** the part that keeps
  more of the old members keeps the id, on a **merge** the merged cluster keeps the id of the
  group it holds more of, and the other part (or group) gets a new id (or is marked gone);
- a cluster that matches nothing is a **new** group and gets a new id, never a used one;
- a kept group that matches nothing is marked gone, not deleted: its id stays taken, and it
  takes its id back if the clustering finds it again.

A partner's or a visitor's view clusters only the entries they may see, at the same moment as
the kept groups: there a cluster shows a kept group's id only when it is that group's visible
part, a Jaccard index of at least ``AUDIENCE_JACCARD`` = 1/2 with the group's members they may
see (with 1/3, a cluster of three unrelated public entries took the id of the procurement group
because one of them was in it); any other cluster is shown without an id.

A group's label is made once, when its id is (or when a heading was left empty), and kept as
long as the group lives; a label a facilitator gave is never replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from kb.core.files import write_lock
from kb.core.obstacle_groups import GroupFile, KeptGroup, load_groups, save_groups

MIN_JACCARD = 1 / 3
AUDIENCE_JACCARD = 1 / 2
log = logging.getLogger(__name__)

LabelMaker = Callable[[int], tuple[str, str | None]]  # cluster position -> (label, entry it came from)


def match_clusters(kept: list[KeptGroup], clusters: list[list[str]], known: set[str], *,
                   min_jaccard: float = MIN_JACCARD) -> dict[int, KeptGroup]:
    """Cluster position -> the kept group it continues (see the module's rules). ``known``:
    the entries that still exist (an erased or deleted entry counts for no side), or that the
    audience may see."""
    candidates = []
    for k, group in enumerate(kept):
        old = set(group.entries) & known
        for c, members in enumerate(clusters):
            new = set(members)
            shared = len(old & new)
            if not shared:
                continue
            jaccard = shared / len(old | new)
            if jaccard < min_jaccard - 1e-12:
                continue
            candidates.append((-shared, -jaccard, group.gone is not None, group.number, c, k))
    candidates.sort()
    out: dict[int, KeptGroup] = {}
    taken: set[int] = set()
    for *_, c, k in candidates:
        if c in out or k in taken:
            continue
        out[c] = kept[k]
        taken.add(k)
    return out


def identify(
    root: Path | None,
    state_dir: Path | None,
    clusters: list[list[str]],
    known: set[str],
    make_label: LabelMaker,
    *,
    today: str,
    keep: bool = True,
    kept_labels: bool = True,
) -> list[tuple[str | None, str, bool]]:
    """(id, label, named by a facilitator) for each cluster, in order.

    With ``keep`` (the knowledge base's own clustering) the kept groups follow the clusters
    and new groups get ids, written to ``obstacles.md`` under the write lock when anything
    changed. Without it (a view with other entry types) nothing is written: a cluster that
    continues a kept group shows its id and label, any other has no id. Without ``root``
    (no knowledge base on disk) nothing is kept and no cluster has an id. Without
    ``kept_labels`` (a partner's or a visitor's view) every label is computed from the
    cluster's own entries, and nothing is written."""
    if root is None:
        return [(None, make_label(c)[0], False) for c in range(len(clusters))]
    made: dict[int, tuple[str, str | None]] = {}

    def label_of(c: int) -> tuple[str, str | None]:
        if c not in made:
            made[c] = make_label(c)
        return made[c]

    # the labels take the time (sentences, sometimes the model): make them before the lock
    first = match_clusters(load_groups(root).groups, clusters, known,
                           min_jaccard=MIN_JACCARD if kept_labels else AUDIENCE_JACCARD)
    if not kept_labels:
        return [(first[c].id if c in first else None, label_of(c)[0], False) for c in range(len(clusters))]
    for c in range(len(clusters)):
        if c not in first or not first[c].label:
            label_of(c)
    if not keep or state_dir is None:
        return [(first[c].id, first[c].label or label_of(c)[0], bool(first[c].named)) if c in first
                else (None, label_of(c)[0], False) for c in range(len(clusters))]
    try:
        with write_lock(state_dir):
            kept = load_groups(root)  # anew: another process may have kept a group meanwhile
            out = follow(kept, clusters, known, label_of, today)
            save_groups(root, kept)
        return out
    except OSError as exc:  # a read-only folder: show the groups, give no id that is not kept
        log.warning("%s: could not keep the obstacle groups (%s)", root, exc)
        return [(first[c].id, first[c].label or label_of(c)[0], bool(first[c].named)) if c in first
                else (None, label_of(c)[0], False) for c in range(len(clusters))]


def follow(kept: GroupFile, clusters: list[list[str]], known: set[str],
           label_of: LabelMaker, today: str) -> list[tuple[str | None, str, bool]]:
    """Move the kept groups to today's clusters (in place) and return (id, label, named)."""
    matched = match_clusters(kept.groups, clusters, known)
    out: list[tuple[str | None, str, bool]] = []
    for c, members in enumerate(clusters):
        group = matched.get(c)
        if group is None:
            label, source = label_of(c)
            group = KeptGroup(kept.new_id(), label, label_from=source)
            kept.groups.append(group)
        elif not group.label:
            group.label, group.label_from = label_of(c)
            group.named = None
        group.entries = list(members)
        group.gone = None
        out.append((group.id, group.label, bool(group.named)))
    alive = {group_id for group_id, _, _ in out}
    for group in kept.groups:
        if group.gone is None and group.id not in alive:
            group.gone = today
    return out
