"""``kb conflicts``: the goal-conflict entries and the areas they touch.

An entry is logged in one area; the conflict is with another one. That other area is
found from four kinds of evidence, each turned into a z-score across the candidate areas
(so no signal's scale dominates and no constant threshold is needed):

- ``roadmap``: roadmap action ids in the front matter that belong to another area
  (from ``roadmaps/*.md``, else the id's prefix, e.g. MOB-2 -> mobilitet);
- ``names``: the text names an area (slug or words of its name from kb.toml);
- ``words``: the entry's words weighted by how characteristic they are of each area's
  other entries (class-based TF-IDF: domain words learned from the corpus);
- ``neighbours``: how close the entry is to each area's 3 nearest entries.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from analysis.corpus import Corpus, load_corpus, words
from analysis.reasons import Reason
from indexer.parse import load_yaml
from kb.core.errors import EntryInvalid

SIGNAL_WEIGHTS = {"roadmap": 1.0, "names": 0.5, "words": 1.0, "neighbours": 1.0}  # names are noisy (bygg ~ bygga)
NEIGHBOURS = 3
ALSO_Z = 1.0  # further areas listed when their evidence is this far above the mean


@dataclass
class GoalConflict:
    id: str
    title: str
    area: str
    date: str
    sprint: str | None
    other_area: str | None
    areas: list[str]  # the entry's own area first, then the areas it conflicts with
    evidence: dict[str, float] = field(default_factory=dict)  # other area -> combined z
    # why these areas: catalogue messages (kb.core.texts) with area slugs as parameters
    reasons: list[Reason] = field(default_factory=list)
    status: str = "open"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["evidence"] = {k: round(v, 2) for k, v in self.evidence.items()}
        data["reasons"] = [r.to_dict() for r in self.reasons]
        return data


def goal_conflicts(kb, *, since: str | None = None, until: str | None = None, areas=None) -> list[GoalConflict]:
    corpus = load_corpus(kb)
    return find_conflicts(
        corpus, roadmap_areas(kb.config.root, list(kb.config.areas)), since=since, until=until, areas=areas
    )


def roadmap_areas(root: Path, slugs: list[str]) -> dict[str, str]:
    """Roadmap action id (upper-case) -> area slug, from ``roadmaps/*.md`` front matter."""
    out: dict[str, str] = {}
    folder = Path(root) / "roadmaps"
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8", errors="replace")
        match = re.match(r"\ufeff?---\s*\n(.*?)\n(?:---|\.\.\.)\s*\n", text, re.S)
        if not match:
            continue
        try:
            meta, _ = load_yaml(match.group(1), path)  # never expands an alias
        except EntryInvalid:
            continue  # `kb validate` reports the file
        if not isinstance(meta, dict):
            continue
        area = str(meta.get("area") or path.stem)
        if area not in slugs:
            continue
        for action in meta.get("actions") or []:
            if isinstance(action, dict) and action.get("id"):
                out[str(action["id"]).upper()] = area
    return out


def area_of_roadmap_id(action: str, mapping: dict[str, str], slugs: list[str]) -> str | None:
    action = action.upper()
    if action in mapping:
        return mapping[action]
    prefix = action.split("-")[0].lower()
    matches = [s for s in slugs if prefix and s.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None


def find_conflicts(
    corpus: Corpus,
    roadmap_map: dict[str, str] | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    areas=None,
) -> list[GoalConflict]:
    slugs = sorted(corpus.area_names) or sorted(set(corpus.areas.tolist()))
    roadmap_map = roadmap_map or {}
    area_of = corpus.areas
    vectors = corpus.centred(corpus.vectors)
    similarity = vectors @ vectors.T
    docs = corpus.doc_words()
    name_stems = {
        slug: {w for w in words(slug + " " + corpus.area_names.get(slug, slug))} for slug in slugs
    }
    wanted = set(areas or ())
    out = []
    for i, entry_id in enumerate(corpus.ids):
        row = corpus.rows[entry_id]
        if row["type"] != "goal-conflict":
            continue
        if (since and row["date"] < since) or (until and row["date"] > until):
            continue
        own = row["area"]
        candidates = [s for s in slugs if s != own]
        if not candidates:
            continue
        raw: dict[str, dict[str, float]] = {k: {} for k in SIGNAL_WEIGHTS}
        roadmap_hits: Counter = Counter()
        for action in row.get("roadmap") or []:
            area = area_of_roadmap_id(str(action), roadmap_map, slugs)
            if area:
                roadmap_hits[area] += 1
        area_words = _area_word_weights(corpus, docs, slugs, exclude=i)
        text_words = docs[i]
        for slug in candidates:
            raw["roadmap"][slug] = roadmap_hits[slug]
            raw["names"][slug] = sum(c for w, c in text_words.items() if w in name_stems[slug])
            weights = area_words.get(slug, {})
            raw["words"][slug] = sum(math.log1p(c) * weights.get(w, 0.0) for w, c in text_words.items())
            members = np.nonzero((area_of == slug) & (np.arange(corpus.n) != i))[0]
            top = np.sort(similarity[i, members])[-NEIGHBOURS:] if len(members) else np.array([])
            raw["neighbours"][slug] = float(top.mean()) if len(top) else 0.0
        combined = {s: 0.0 for s in candidates}
        for name, weight in SIGNAL_WEIGHTS.items():
            for slug, z in _z(raw[name]).items():
                combined[slug] += weight * z
        total = sum(SIGNAL_WEIGHTS.values())
        combined = {s: v / total for s, v in combined.items()}
        ranked = sorted(combined, key=lambda s: -combined[s])
        best = ranked[0]
        touched = [best] + [s for s in ranked[1:] if combined[s] >= ALSO_Z]
        if wanted and not ({own, *touched} & wanted):
            continue
        reasons = []
        others = {a: n for a, n in roadmap_hits.most_common() if a != own}
        if others:
            reasons.append(Reason("conflict_reason_roadmap", {"areas": others}))
        named = [s for s in touched if raw["names"][s]]
        if named:
            reasons.append(Reason("conflict_reason_names", {"areas": named}))
        close = max(candidates, key=lambda s: raw["neighbours"][s])
        reasons.append(Reason("conflict_reason_closest", {"area": close}))
        out.append(
            GoalConflict(
                id=entry_id, title=row["title"], area=own, date=row["date"], sprint=row.get("sprint"),
                other_area=best, areas=[own, *touched],
                evidence={s: combined[s] for s in ranked}, reasons=reasons,
            )
        )
    out.sort(key=lambda c: c.date, reverse=True)
    return out


def _z(values: dict[str, float]) -> dict[str, float]:
    arr = np.array(list(values.values()), dtype=float)
    std = arr.std()
    if std <= 1e-12:
        return {k: 0.0 for k in values}
    return {k: float((v - arr.mean()) / std) for k, v in values.items()}


def _area_word_weights(corpus: Corpus, docs, slugs, exclude: int) -> dict[str, dict[str, float]]:
    """c-TF-IDF: how characteristic each word is of each area (leaving one entry out)."""
    per_area: dict[str, Counter] = {s: Counter() for s in slugs}
    for k, entry_id in enumerate(corpus.ids):
        if k == exclude:
            continue
        per_area.setdefault(corpus.rows[entry_id]["area"], Counter()).update(docs[k])
    total: Counter = Counter()
    for counts in per_area.values():
        total.update(counts)
    average = sum(total.values()) / max(1, len(per_area))
    out = {}
    for slug, counts in per_area.items():
        size = sum(counts.values()) or 1
        out[slug] = {w: (c / size) * math.log(1 + average / total[w]) for w, c in counts.items()}
    return out
