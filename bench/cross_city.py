"""Cross-city links (``kb cities``), measured on ``bench/malmo_eval`` split into two cities.

    HF_HUB_OFFLINE=1 python bench/cross_city.py [--work DIR] [--model NAME]

The 54 entries of ``bench/malmo_eval`` are split by area into two knowledge bases: "Malmö"
(mobilitet, energi, bygg) and "Lund" (konsumtion, naringsliv, stadsplanering). Lund publishes
everything (``kb publish``), Malmö follows it (``kb follow``, the real sync), and
``analysis.crosscity.city_links`` is asked what Malmö shares with Lund; then the other way
round (Lund following Malmö). What should be found is what was planted across the split:

- the planted **synergies** (``pairs.tsv``, kind ``synergy``) whose two entries fall in different
  cities: found when the pair is suggested, as an obstacle or a synergy;
- the planted **recurring obstacles** (``obstacles.tsv``): an obstacle of ours that the other city
  has in the same group is found when at least one of those is suggested for it.

Reported per half of ``malmo_eval`` (tuning, held-out) and in all, with how many links are
suggested and how many of them are planted ones (a lower bound of precision: an unplanted link
may still be a fair one). The constants (three nearest, one standard deviation) were chosen
before this was run, not fitted on it. A control (``--control N``): Malmö following N NASA
lessons (``../shared/benchmarks/nasa_llis``, a fixed random choice) that have nothing to do
with it; every link suggested there is counted. Writes ``bench/results/cross_city.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analysis import crosscity  # noqa: E402
from analysis.crosscity import PER_ENTRY_K, city_links  # noqa: E402
from kb.app.follow import follow, sync  # noqa: E402
from kb.app.knowledge_base import KnowledgeBase  # noqa: E402
from kb.app.publish import build_publication, write_publication  # noqa: E402

EVAL = REPO / "bench" / "malmo_eval"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
if not BENCHMARKS.is_dir():
    BENCHMARKS = Path("/work/shared/benchmarks")
NASA = BENCHMARKS / "nasa_llis"  # read by path, never copied into the repository
SPLIT = ({"mobilitet", "energi", "bygg"}, {"konsumtion", "naringsliv", "stadsplanering"})
SHARING = ('\n[sharing]\nvisibility = "public"\norganisation = "{name}"\n'
           'licence = "http://creativecommons.org/licenses/by/4.0/"\ncontact_email = "bench@example.se"\n')


def read_tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def make_city(work: Path, name: str, areas: set[str]) -> Path:
    root = work / name.lower()
    (root / "entries").mkdir(parents=True)
    (root / "kb.toml").write_text((EVAL / "kb.toml").read_text(encoding="utf-8") + SHARING.format(name=name),
                                  encoding="utf-8")
    for area in areas:
        shutil.copytree(EVAL / "entries" / area, root / "entries" / area)
    return root


def area_of(entry_id: str) -> str:
    return next(p.parent.name for p in (EVAL / "entries").rglob(f"{entry_id}.md"))


def run_direction(work: Path, own_areas: set[str], other_areas: set[str], model: str | None) -> dict:
    """One city following the other; what city_links suggests, by our entry."""
    own, other = make_city(work, "Malmo", own_areas), make_city(work, "Lund", other_areas)
    kb = KnowledgeBase.open(other, model=model)
    kb.index()
    write_publication(build_publication(kb.config, kb.store), work / "lund-open", kb.config)
    kb.close()
    kb = KnowledgeBase.open(own, model=model)
    kb.index()
    follow(kb.config, str(work / "lund-open"), "Lund")
    sync(kb)
    started = time.perf_counter()
    found = city_links(kb)
    seconds = time.perf_counter() - started
    kb.close()
    links = [(x.own, x.other.split(":", 1)[1], x.kind) for x in found.obstacles + found.synergies]
    return {"links": links, "seconds": round(seconds, 3)}


def make_control(work: Path, count: int, seed: int = 26) -> Path:
    """An unrelated register as a third city: ``count`` NASA lessons (a fixed random choice),
    published whole. Nothing in it was planted for Malmö; what is linked to it is counted."""
    rows = [json.loads(line) for line in (NASA / "llis_lessons.jsonl").read_text(encoding="utf-8").splitlines()]
    chosen = random.Random(seed).sample([r for r in rows if r.get("lessons_learned")], count)
    root = work / "nasa"
    (root / "entries" / "nasa").mkdir(parents=True)
    (root / "kb.toml").write_text('title = "NASA LLIS"\nlanguage = "en"\n[[areas]]\nslug = "nasa"\nname = "NASA"\n'
                                  + SHARING.format(name="NASA"), encoding="utf-8")
    for row in chosen:
        front = {"id": f"llis-{row['lesson_id']}", "title": " ".join(str(row["title"]).split())[:300],
                 "area": "nasa", "date": "2020-01-01", "type": "lesson"}
        text = "---\n" + "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in front.items()) + "---\n"
        for heading, key in (("Abstract", "abstract"), ("Lessons Learned", "lessons_learned"),
                             ("Recommendations", "recommendations")):
            if row.get(key):
                text += f"## {heading}\n{' '.join(str(row[key]).split())[:4000]}\n\n"
        (root / "entries" / "nasa" / f"llis-{row['lesson_id']}.md").write_text(text, encoding="utf-8")
    return root


def run_control(work: Path, own_areas: set[str], count: int, model: str | None) -> dict:
    """Malmö (its three areas) following an unrelated register only: the links it gets."""
    own, control = make_city(work, "Malmo", own_areas), make_control(work, count)
    kb = KnowledgeBase.open(control, model=model)
    kb.index()
    write_publication(build_publication(kb.config, kb.store), work / "nasa-open", kb.config)
    kb.close()
    kb = KnowledgeBase.open(own, model=model)
    kb.index()
    follow(kb.config, str(work / "nasa-open"), "NASA")
    sync(kb)
    found = city_links(kb)
    kb.close()
    return {"lessons": count, "links": [(x.own, x.other, x.kind, round(x.score, 2))
                                        for x in found.obstacles + found.synergies]}


def score(runs: list[dict]) -> dict:
    pairs = [p for p in read_tsv(EVAL / "pairs.tsv") if p["kind"] == "synergy"]
    groups: dict[str, list[dict]] = {}
    for row in read_tsv(EVAL / "obstacles.tsv"):
        groups.setdefault(row["group_id"], []).append(row)
    city = {entry: 0 if area_of(entry) in SPLIT[0] else 1
            for entry in {p["a"] for p in pairs} | {p["b"] for p in pairs}
            | {r["entry"] for rows in groups.values() for r in rows}}
    suggested = {frozenset((a, b)) for run in runs for a, b, _ in run["links"]}
    by_half: dict[str, dict] = {}
    planted_pairs: set[frozenset] = set()
    for half in ("tune", "heldout", "all"):
        chosen = [p for p in pairs if half == "all" or p["split"] == half]
        crossing = [p for p in chosen if city[p["a"]] != city[p["b"]]]
        found = [p["pair_id"] for p in crossing if frozenset((p["a"], p["b"])) in suggested]
        members = [(g, r) for g, rows in groups.items() for r in rows if half == "all" or r["split"] == half]
        reachable = [(g, r["entry"]) for g, r in members
                     if any(city[o["entry"]] != city[r["entry"]] for o in groups[g])]
        met = [(g, e) for g, e in reachable
               if any(frozenset((e, o["entry"])) in suggested for o in groups[g] if city[o["entry"]] != city[e])]
        by_half[half] = {
            "synergy_pairs_across": len(crossing), "synergy_pairs_found": len(found), "found": found,
            "obstacle_entries_with_a_partner_across": len(reachable), "obstacle_entries_linked": len(met),
        }
        if half == "all":
            planted_pairs = {frozenset((p["a"], p["b"])) for p in crossing}
            planted_pairs |= {frozenset((e, o["entry"])) for g, e in reachable for o in groups[g]
                              if city[o["entry"]] != city[e]}
    return {"by_half": by_half, "suggested": len(suggested),
            "suggested_planted": len(suggested & planted_pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, help="A folder for the two knowledge bases (default: a temporary one).")
    parser.add_argument("--model", help="The embedding model (default: the project's).")
    parser.add_argument("--control", type=int, default=27, metavar="N",
                        help="Also follow N unrelated NASA lessons as a third city (0: no control).")
    parser.add_argument("--min-evidence", type=float,
                        help="Another MIN_EVIDENCE, to see what the floor does (results go to a file of its own).")
    parser.add_argument("--out", type=Path, help="Default: bench/results/cross_city.json "
                        "(cross_city_min<X>.json with --min-evidence).")
    args = parser.parse_args()
    if args.min_evidence is not None:
        crosscity.MIN_EVIDENCE = args.min_evidence
    out = args.out or REPO / "bench" / "results" / (
        "cross_city.json" if args.min_evidence is None else f"cross_city_min{args.min_evidence:g}.json")
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-cross-city-"))
    os.environ.pop("KB_ROOT", None)
    runs = []
    for k, (own, other) in enumerate((SPLIT, SPLIT[::-1])):
        folder = work / f"direction-{k}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        runs.append({"own": sorted(own), **run_direction(folder, own, other, args.model)})
    result = {"constants": {"per_entry_k": PER_ENTRY_K, "min_evidence": crosscity.MIN_EVIDENCE},
              "model": args.model or "default", **score(runs),
              "runs": [{"own": r["own"], "links": r["links"], "city_links_seconds": r["seconds"]} for r in runs]}
    if args.control and (NASA / "llis_lessons.jsonl").is_file():
        folder = work / "control"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        result["control"] = run_control(folder, SPLIT[0], args.control, args.model)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for half, figures in result["by_half"].items():
        print(f"{half:>8}: synergy pairs across the cities found {figures['synergy_pairs_found']}/"
              f"{figures['synergy_pairs_across']} {figures['found']}; obstacle entries linked to their group "
              f"in the other city {figures['obstacle_entries_linked']}/{figures['obstacle_entries_with_a_partner_across']}")
    print(f"suggested links: {result['suggested']}, of them planted: {result['suggested_planted']}")
    if "control" in result:
        control = result["control"]
        print(f" control: Malmö (27 entries) following {control['lessons']} unrelated NASA lessons: "
              f"{len(control['links'])} links suggested")


if __name__ == "__main__":
    main()
