"""How ``kb synergies`` should weigh its evidence, chosen by cross-validation.

    HF_HUB_OFFLINE=1 python bench/synergy_cv.py --malmo /tmp/malmo-kb --nasa /tmp/nasa-kb --markdown

Two sets with judged cross-area synergies, each split in two halves:

- ``bench/malmo_eval`` (``pairs.tsv``): 10 planted synergies, tuning half P01 P02 P05 P07 P10,
  held-out half P03 P04 P06 P08 P09. Measured on the list ``kb synergies`` shows: planted
  pairs in the top 30, top 10, in the brief (``analysis.links.strongest``: as many pairs as are
  each other's best match in another area; and in the first 8, the brief's fixed cut before),
  and the mean reciprocal rank of their places in the list (MRR; a pair not suggested counts 0);
- NASA's Lessons Learned (``--nasa ROOT``, imported and indexed as ``bench/nasa_register.py``
  does): the 23 author cross-references between lessons of different centres
  (``llis_crossrefs.tsv``, ``cross_org = 1``), tuning half: citing lessons with an even id, the
  other half odd. Measured per link: is it suggested (one side has the other among its
  ``PER_ENTRY_K`` best other-area partners), the reciprocal rank of the cited lesson among the
  citing lesson's other-area partners (MRR), and is it in the list's top 100.

The signals are computed once per set (``analysis.links.similarity_signals``); each method is
a choice of weights for them (``entry``, ``lesson``, ``words``, ``fields``). Fixed methods
fit nothing; ``grid`` fits the three weights relative to ``entry`` (each of 0, 0.5, 1, 2) on
one half of both sets (the mean of the two sets' MRR) and is measured on the other half, then
the halves swap. A method that fits fewer constants and holds on both halves of both sets is
preferred to one that wins on one.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path

from analysis.corpus import load_corpus
from analysis.links import (
    PER_ENTRY_K,
    find_synergies,
    pair_scores,
    similarity_signals,
    strongest,
)
from kb.app.knowledge_base import KnowledgeBase
from reports.brief import MAX_SYNERGIES

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "bench" / "malmo_eval"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
if not BENCHMARKS.is_dir():
    BENCHMARKS = Path("/work/shared/benchmarks")
NASA_LINKS = BENCHMARKS / "nasa_llis" / "llis_crossrefs.tsv"
OLD_BRIEF = 8  # the brief's fixed cut before: its first 8 pairs
TOP_NASA = 100

FIXED = {
    "before: rare words half (1, 1, 0.5, 1)": {"entry": 1.0, "lesson": 1.0, "words": 0.5, "fields": 1.0},
    "equal (1, 1, 1, 1)": {"entry": 1.0, "lesson": 1.0, "words": 1.0, "fields": 1.0},
    "vectors only (1, 1, 0, 0)": {"entry": 1.0, "lesson": 1.0, "words": 0.0, "fields": 0.0},
    "no lesson section (1, 0, 1, 1)": {"entry": 1.0, "lesson": 0.0, "words": 1.0, "fields": 1.0},
    "no rare words (1, 1, 0, 1)": {"entry": 1.0, "lesson": 1.0, "words": 0.0, "fields": 1.0},
    "no fields (1, 1, 1, 0)": {"entry": 1.0, "lesson": 1.0, "words": 1.0, "fields": 0.0},
    "whole entry only (1, 0, 0, 0)": {"entry": 1.0, "lesson": 0.0, "words": 0.0, "fields": 0.0},
}
GRID_VALUES = (0.0, 0.5, 1.0, 2.0)
HALVES = ("tune", "heldout")


def read_tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# --- the sets ------------------------------------------------------------------------------------
class MalmoSet:
    name = "malmo_eval"

    def __init__(self, root: Path):
        self.kb = KnowledgeBase.open(root)
        self.corpus = load_corpus(self.kb)
        self.signals = similarity_signals(self.corpus)
        self.pairs = [p for p in read_tsv(EVAL / "pairs.tsv") if p["kind"] == "synergy"]

    def measure(self, weights: dict[str, float]) -> dict[str, dict]:
        listed = find_synergies(self.corpus, [], limit=None, signals=self.signals, weights=weights, explained=False)
        place = {frozenset((s.a, s.b)): k for k, s in enumerate(listed, 1)}
        mutual = {frozenset((s.a, s.b)) for s in listed if s.rank_a == 1 and s.rank_b == 1}
        brief = {frozenset((s.a, s.b)) for s in strongest(listed)[:MAX_SYNERGIES]}
        out = {}
        for half in HALVES:
            chosen = [frozenset((p["a"], p["b"])) for p in self.pairs if p["split"] == half]
            ranks = [place.get(pair) for pair in chosen]
            out[half] = {"mrr": round(statistics.fmean(1 / r if r else 0.0 for r in ranks), 3),
                         "top30": sum(1 for r in ranks if r and r <= 30), "top10": sum(1 for r in ranks if r and r <= 10),
                         "brief_first8": sum(1 for r in ranks if r and r <= OLD_BRIEF), "pairs": len(ranks),
                         "brief": sum(1 for pair in chosen if pair in brief), "brief_size": len(brief),
                         "mutual_best": sum(1 for pair in chosen if pair in mutual), "mutual_best_size": len(mutual),
                         "places": ranks}
        return out


class NasaSet:
    name = "nasa"

    def __init__(self, root: Path):
        self.kb = KnowledgeBase.open(root)
        self.corpus = load_corpus(self.kb)
        self.signals = similarity_signals(self.corpus)
        position = {e: k for k, e in enumerate(self.corpus.ids)}
        self.links = []
        for row in read_tsv(NASA_LINKS):
            if row["cross_org"] != "1":
                continue
            a, b = f"llis-{row['citing_lesson_id']}", f"llis-{row['cited_lesson_id']}"
            if a in position and b in position:
                half = "tune" if int(row["citing_lesson_id"]) % 2 == 0 else "heldout"
                self.links.append((position[a], position[b], half))

    def measure(self, weights: dict[str, float]) -> dict[str, dict]:
        scores = pair_scores(self.corpus, self.signals, weights)
        listed = find_synergies(self.corpus, [], limit=TOP_NASA, signals=self.signals, weights=weights, explained=False)
        top = {frozenset((s.a, s.b)) for s in listed}
        out = {}
        for half in HALVES:
            links = [(a, b) for a, b, h in self.links if h == half]
            ranks = [float(scores.ranks[a, b]) for a, b in links]
            mutual = int(((scores.ranks == 1) & (scores.ranks.T == 1)).sum() // 2)
            out[half] = {
                "mutual_best": sum(1 for a, b in links if scores.ranks[a, b] == 1 and scores.ranks[b, a] == 1),
                "mutual_best_size": mutual,
                "mrr": round(statistics.fmean(1 / r for r in ranks), 3) if ranks else None,
                "suggested": sum(1 for a, b in links if min(scores.ranks[a, b], scores.ranks[b, a]) <= PER_ENTRY_K),
                "top100": sum(1 for a, b in links if frozenset((self.corpus.ids[a], self.corpus.ids[b])) in top),
                "links": len(links), "ranks": [int(r) for r in ranks],
            }
        return out


# --- fitting and measuring ------------------------------------------------------------------------
def objective(results: dict[str, dict], half: str) -> float:
    """What the grid fits on one half: the mean of the sets' MRR."""
    return statistics.fmean(r[half]["mrr"] for r in results.values() if r[half]["mrr"] is not None)


def grid() -> list[dict[str, float]]:
    out = []
    for lesson, words, fields in itertools.product(GRID_VALUES, repeat=3):
        out.append({"entry": 1.0, "lesson": lesson, "words": words, "fields": fields})
    return out


def run(sets: list) -> dict:
    measured: dict[str, dict] = {}
    started = time.perf_counter()
    candidates = {**{name: w for name, w in FIXED.items()},
                  **{f"grid {w['lesson']}/{w['words']}/{w['fields']}": w for w in grid()}}
    for name, weights in candidates.items():
        measured[name] = {"weights": weights, "sets": {s.name: s.measure(weights) for s in sets}}
    folds = {}
    for fit, test in (("tune", "heldout"), ("heldout", "tune")):
        grid_names = [n for n in measured if n.startswith("grid ")]
        best = max(grid_names, key=lambda n: (round(objective(measured[n]["sets"], fit), 6), -grid_names.index(n)))
        folds[f"fit on {fit}"] = {"chosen": best, "weights": measured[best]["weights"],
                                  "fit": round(objective(measured[best]["sets"], fit), 3),
                                  "test": round(objective(measured[best]["sets"], test), 3), "test_half": test}
    return {"methods": {n: m for n, m in measured.items() if not n.startswith("grid ") or n in
                        {f["chosen"] for f in folds.values()}},
            "grid_size": len(grid()), "folds": folds, "wall_s": round(time.perf_counter() - started, 1)}


def markdown(result: dict, sets: list[str]) -> str:
    lines = ["| method | fitted | " + " | ".join(f"{s} {h}" for s in sets for h in HALVES) + " |",
             "|---|---|" + "---|" * (len(sets) * len(HALVES))]
    for name, m in result["methods"].items():
        cells = []
        for s in sets:
            for h in HALVES:
                r = m["sets"][s][h]
                if s == "malmo_eval":
                    cells.append(f"MRR {r['mrr']} · top30 {r['top30']}/{r['pairs']} · brief {r['brief']}/{r['pairs']} "
                                 f"of {r['brief_size']} shown (first 8: {r['brief_first8']})")
                else:
                    cells.append(f"MRR {r['mrr']} · suggested {r['suggested']}/{r['links']} · top100 {r['top100']}")
        fitted = "3" if name.startswith("grid ") else "0"
        lines.append(f"| {name} | {fitted} | " + " | ".join(cells) + " |")
    lines += ["", "| fold | grid's choice (lesson/words/fields, entry = 1) | objective on the fitted half | on the other |",
              "|---|---|---|---|"]
    for fold, f in result["folds"].items():
        lines.append(f"| {fold} | {f['chosen']} | {f['fit']} | {f['test']} ({f['test_half']}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--malmo", type=Path, required=True, help="bench/malmo_eval, indexed (a copy outside the repository)")
    parser.add_argument("--nasa", type=Path, help="the NASA register, imported and indexed")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/synergy_cv.json")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    sets = [MalmoSet(args.malmo)]
    if args.nasa:
        sets.append(NasaSet(args.nasa))
    result = run(sets)
    result.update(machine={"cpus": os.cpu_count(), "python": sys.version.split()[0],
                           "load_avg_1min": round(os.getloadavg()[0], 1)}, command=" ".join(sys.argv))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(result, [s.name for s in sets]) if args.markdown else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
