"""Finding and linking, measured on material we did not write for the example knowledge base.

    HF_HUB_OFFLINE=1 python bench/linking_quality.py --baseline /tmp/kb-base --nasa /tmp/nasa-kb --markdown

Sets (each measured for the code of this checkout, "after", and with ``--baseline DIR`` for
another checkout of the project, "before", side by side in one run, each in its own process
on the same indexes):

- ``bench/malmo_eval``: 54 Malmö-style entries with planted cross-area synergies, recurring
  obstacles, duplicates, 30 judged queries (each in Swedish and English) and 10 off-topic
  questions, split into a tuning and a held-out half (see its README). It is copied to
  ``--work`` and indexed with the default model (vectors come from the embedding cache
  after the first run).
- ``--nasa ROOT``: NASA's Lessons Learned register imported and indexed into ROOT (outside
  the repository; see ``--help``); the author cross-references (``llis_crossrefs.tsv``) are
  the judgements for "related lessons": protocol P1 (all links) and P2 (links across
  centres, ranked among other centres' lessons only) of the register's README. Citing
  lessons with an even id are the tuning half, odd ids the held-out half.
  ``--nasa-sample N`` measures N citing lessons only (a fixed random choice), for quick runs.
- ``--public``: SweFAQ and SweQUAD-MC (``../shared/benchmarks``): how many judged answers
  the search's "no close match" cut-off leaves out, on the report splits.

What is measured:

1. synergies: where the planted pairs stand in ``kb synergies`` and whether the brief shows
   them; on NASA, how many cross-centre author links ``kb synergies`` suggests;
2. obstacle labels: the labels of the groups found, beside the planted groups;
3. search: judged queries with a hit in the top 5, nDCG@10, results shown, results for
   off-topic questions, judged hits the cut-off leaves out;
4. the entry page's related panel: the planted partner among an entry's related lessons
   (Malmö), Recall@10/@50 and MRR@10 of the author links (NASA) against keyword-only and
   semantic ``kb similar``;
5. language parity: for each judged query and relevant entry, the reciprocal rank when the
   query is in the entry's language and when it is in the other one (1.0 = parity).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# These resolve to the checkout on PYTHONPATH: the parent process runs this checkout, each
# worker the checkout it measures.
from analysis.duplicates import near_duplicates
from analysis.links import synergies
from analysis.obstacles import recurring_obstacles
from datasette_plugins.state import KBState
from kb.app.knowledge_base import KnowledgeBase
from kb.core import config as config_module
from reports.brief import compose_brief
from search.query import search as search_entries

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "bench" / "malmo_eval"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
if not BENCHMARKS.is_dir():
    BENCHMARKS = Path("/work/shared/benchmarks")
NASA_DATA = BENCHMARKS / "nasa_llis"
DEPTH = 50


# --- the data ----------------------------------------------------------------------------------
def read_tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def judged_queries() -> list[dict]:
    out = []
    for row in read_tsv(EVAL / "queries.tsv"):
        relevant = {}
        for item in row["relevant"].split():
            entry, gain = item.rsplit(":", 1)
            relevant[entry] = int(gain)
        out.append({**row, "relevant": relevant, "original": row["original"] == "1"})
    return out


def nasa_links() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Citing lesson -> linked lessons (both directions): all links, and across centres."""
    every: dict[str, set[str]] = {}
    cross: dict[str, set[str]] = {}
    rows = read_tsv(NASA_DATA / "llis_crossrefs.tsv")
    citing = {r["citing_lesson_id"] for r in rows}
    for r in rows:
        a, b = r["citing_lesson_id"], r["cited_lesson_id"]
        for x, y in ((a, b), (b, a)):
            if x in citing:
                every.setdefault(f"llis-{x}", set()).add(f"llis-{y}")
                if r["cross_org"] == "1":
                    cross.setdefault(f"llis-{x}", set()).add(f"llis-{y}")
    return every, cross


def nasa_split(entry_id: str) -> str:
    return "tune" if int(entry_id.rsplit("-", 1)[1]) % 2 == 0 else "heldout"


# --- the worker: runs in the checkout to measure, prints what it found ------------------------
def worker(args) -> None:
    out = malmo_found(args.malmo)
    if args.nasa:
        out["nasa"] = nasa_worker(args)
    print(json.dumps(out, ensure_ascii=False))


def malmo_found(root) -> dict:
    """What the code on the path finds in the indexed evaluation knowledge base at ``root``
    (the metrics below read it; bench/precision.py too)."""
    out: dict = {"timings": {}}
    kb = KnowledgeBase.open(root)
    # "every result" where the checkout can show fewer: its show="all", or its cut-off switched off
    parameters = inspect.signature(search_entries).parameters
    every_result = {"show": "all"} if "show" in parameters else {"min_score": None} if "min_score" in parameters else {}
    started = time.perf_counter()
    out["synergies"] = [[s.a, s.b] for s in synergies(kb, limit=None)]
    out["timings"]["synergies_s"] = round(time.perf_counter() - started, 3)
    brief = compose_brief(kb, today="2026-11-30")
    out["brief_synergies"] = [[s.a.id, s.b.id] for s in brief.synergies]
    out["brief_obstacles"] = [o.label for o in brief.obstacles]
    out["brief_questions"] = brief.questions
    out["obstacles"] = [{"label": g.label, "entries": g.entries} for g in recurring_obstacles(kb)]
    out["duplicates"] = [[d.a, d.b] for d in near_duplicates(kb)]
    out["languages"] = dict(kb.store.db.execute("select id, lang from entries").fetchall())
    out["search"], out["search_all"], out["offtopic"] = {}, {}, {}
    for q in judged_queries():
        key = f"{q['qid']}:{q['lang']}"
        out["search"][key] = [[r.id, round(r.score, 4)] for r in kb.search(q["text"], limit=10)]
        out["search_all"][key] = [[r.id, round(r.score, 4)] for r in kb.search(q["text"], limit=10, **every_result)]
    for q in read_tsv(EVAL / "offtopic.tsv"):
        # a result counts when the checkout presents it as a match: marked close where results are
        # marked close or weak, shown at all where a cut-off decides
        out["offtopic"][q["qid"]] = [[r.id, round(r.score, 4)] for r in kb.search(q["text"], limit=10)
                                     if not isinstance(getattr(r, "match", None), str) or r.match == "close"]
    state = KBState(config_module.load(root), "kb")
    out["related"] = {e: [r.id for r in state.related_lessons(e)] for e in out["languages"]}
    state.close()
    kb.close()
    return out


def nasa_worker(args) -> dict:
    every, cross = nasa_links()
    sources = sorted(every)
    if args.nasa_sample:
        sources = sorted(random.Random(17).sample(sources, min(args.nasa_sample, len(sources))))
    kb = KnowledgeBase.open(args.nasa)
    known = set(kb.store.entry_ids())
    sources = [s for s in sources if s in known]
    state = KBState(config_module.load(args.nasa), "kb")
    found: dict = {"sources": sources, "keyword": {}, "keyword_other": {}, "semantic": {}, "semantic_other": {},
                   "panel": {}, "ranking": {}, "ranking_other": {}}
    ranking = getattr(state, "related_ranking", None)
    panel_ms = []
    state.related_lessons(sources[0], limit=10)  # loads what the server keeps in memory
    for s in sources:
        found["keyword"][s] = [r.id for r in kb.similar(s, limit=DEPTH, mode="keyword")]
        found["keyword_other"][s] = [r.id for r in kb.similar(s, limit=DEPTH, mode="keyword", other_areas=True)]
        found["semantic"][s] = [r.id for r in kb.similar(s, limit=DEPTH)]
        found["semantic_other"][s] = [r.id for r in kb.similar(s, limit=DEPTH, other_areas=True)]
        started = time.perf_counter()
        found["panel"][s] = [r.id for r in state.related_lessons(s, limit=10)]
        panel_ms.append((time.perf_counter() - started) * 1000)
        if ranking is not None:
            found["ranking"][s] = [r.id for r in ranking(s, limit=DEPTH)]
            found["ranking_other"][s] = [r.id for r in ranking(s, limit=DEPTH, other_areas=True)]
    found["panel_ms_median"] = round(statistics.median(panel_ms), 1)
    found["synergies"] = [[x.a, x.b] for x in synergies(kb, limit=None)]
    state.close()
    kb.close()
    return found


# --- metrics -------------------------------------------------------------------------------------
def ndcg(ranked: list[str], gains: dict[str, int], k: int = 10) -> float:
    dcg = sum(gains.get(e, 0) / math.log2(r + 1) for r, e in enumerate(ranked[:k], 1))
    ideal = sum(g / math.log2(r + 1) for r, g in enumerate(sorted(gains.values(), reverse=True)[:k], 1))
    return dcg / ideal if ideal else 0.0


def synergy_metrics(found: dict) -> dict:
    planted = [p for p in read_tsv(EVAL / "pairs.tsv") if p["kind"] == "synergy"]
    order = {frozenset(pair): k for k, pair in enumerate(found["synergies"], 1)}
    brief = {frozenset(pair) for pair in found["brief_synergies"]}
    out = {"positions": {p["pair_id"]: order.get(frozenset((p["a"], p["b"]))) for p in planted}}
    for split in ("tune", "heldout", None):
        chosen = [p for p in planted if split is None or p["split"] == split]
        name = split or "all"
        ranks = [order.get(frozenset((p["a"], p["b"]))) for p in chosen]
        out[name] = {
            "top10": sum(1 for r in ranks if r and r <= 10), "top30": sum(1 for r in ranks if r and r <= 30),
            "brief": sum(1 for p in chosen if frozenset((p["a"], p["b"])) in brief), "pairs": len(chosen),
        }
    out["brief_size"] = len(found["brief_synergies"])
    return out


def obstacle_metrics(found: dict) -> dict:
    planted: dict[str, dict] = {}
    for row in read_tsv(EVAL / "obstacles.tsv"):
        planted.setdefault(row["group_id"], {"split": row["split"], "entries": set(), "label": row["label"]})
        planted[row["group_id"]]["entries"].add(row["entry"])
    groups = [{"label": g["label"], "entries": set(g["entries"])} for g in found["obstacles"]]
    out = {}
    for gid, p in planted.items():
        best = max(groups, key=lambda g: len(g["entries"] & p["entries"]) / len(g["entries"] | p["entries"]),
                   default=None)
        jaccard = len(best["entries"] & p["entries"]) / len(best["entries"] | p["entries"]) if best else 0.0
        out[gid] = {"split": p["split"], "exact": bool(best and best["entries"] == p["entries"]),
                    "jaccard": round(jaccard, 2), "label": best["label"] if best else None,
                    "facilitator": p["label"]}
    out["groups_found"] = len(groups)
    out["all_labels"] = [g["label"] for g in found["obstacles"]]
    return out


def search_metrics(found: dict) -> dict:
    queries = judged_queries()
    languages = found["languages"]
    out: dict = {}
    for split in ("tune", "heldout", None):
        chosen = [q for q in queries if split is None or q["split"] == split]
        name = split or "all"
        original = [q for q in chosen if q["original"]]

        def top5(qs, key="search"):
            return sum(1 for q in qs if set(e for e, _ in found[key][f"{q['qid']}:{q['lang']}"][:5]) & set(q["relevant"]))

        lost = sum(len({e for e, _ in found["search_all"][f"{q['qid']}:{q['lang']}"]} & set(q["relevant"]))
                   - len({e for e, _ in found["search"][f"{q['qid']}:{q['lang']}"]} & set(q["relevant"]))
                   for q in chosen)
        off = [o for o in read_tsv(EVAL / "offtopic.tsv") if split is None or o["split"] == split]
        out[name] = {
            "top5_original": top5(original), "original_queries": len(original),
            "top5_both_languages": top5(chosen), "queries": len(chosen),
            "ndcg10_original": round(statistics.fmean(
                ndcg([e for e, _ in found["search"][f"{q['qid']}:{q['lang']}"]], q["relevant"]) for q in original), 3),
            "ndcg10_ranking_original": round(statistics.fmean(
                ndcg([e for e, _ in found["search_all"][f"{q['qid']}:{q['lang']}"]], q["relevant"])
                for q in original), 3),
            "results_per_query": round(statistics.fmean(
                len(found["search"][f"{q['qid']}:{q['lang']}"]) for q in chosen), 2),
            "judged_hits_left_out": lost,
            "offtopic_results": sum(len(found["offtopic"][o["qid"]]) for o in off),
            "offtopic_queries_with_results": sum(1 for o in off if found["offtopic"][o["qid"]]),
            "offtopic_queries": len(off),
        }
        # parity: the relevant entry's reciprocal rank for the query in its own language and in the other
        same = cross = 0.0
        same_hits = cross_hits = pairs = 0
        by_qid: dict[str, dict[str, list[str]]] = {}
        for q in chosen:
            by_qid.setdefault(q["qid"], {})[q["lang"]] = [e for e, _ in found["search_all"][f"{q['qid']}:{q['lang']}"]]
        for q in chosen:
            if q["lang"] != "sv":
                continue
            for entry in q["relevant"]:
                lang = languages.get(entry, "sv")
                other = "en" if lang == "sv" else "sv"
                own, foreign = by_qid[q["qid"]].get(lang, []), by_qid[q["qid"]].get(other, [])
                rr_own = 1 / (own.index(entry) + 1) if entry in own else 0.0
                rr_foreign = 1 / (foreign.index(entry) + 1) if entry in foreign else 0.0
                same += rr_own
                cross += rr_foreign
                same_hits += entry in own[:5]
                cross_hits += entry in foreign[:5]
                pairs += 1
        out[name]["parity"] = {"mrr_own_language": round(same / pairs, 3), "mrr_other_language": round(cross / pairs, 3),
                               "ratio": round(cross / same, 3) if same else None,
                               "top5_own_language": same_hits, "top5_other_language": cross_hits, "pairs": pairs}
    return out


def related_metrics(found: dict) -> dict:
    planted = [p for p in read_tsv(EVAL / "pairs.tsv") if p["kind"] == "synergy"]
    out: dict = {}
    for split in ("tune", "heldout", None):
        chosen = [p for p in planted if split is None or p["split"] == split]
        directions = sum((p["b"] in found["related"].get(p["a"], [])) + (p["a"] in found["related"].get(p["b"], []))
                         for p in chosen)
        either = sum(1 for p in chosen if p["b"] in found["related"].get(p["a"], [])
                     or p["a"] in found["related"].get(p["b"], []))
        out[split or "all"] = {"directions": directions, "of_directions": 2 * len(chosen), "pairs_either": either,
                               "pairs": len(chosen)}
    out["mean_shown"] = round(statistics.fmean(len(v) for v in found["related"].values()), 2)
    return out


def nasa_metrics(found: dict) -> dict:
    every, cross = nasa_links()
    out: dict = {"panel_ms_median": found.get("panel_ms_median")}
    systems = {"keyword": ("keyword", "keyword_other"), "semantic": ("semantic", "semantic_other"),
               "panel": ("panel", "panel")}
    if found.get("ranking"):
        systems["related"] = ("ranking", "ranking_other")
    for split in ("tune", "heldout", None):
        sources = [s for s in found["sources"] if split is None or nasa_split(s) == split]
        block = {}
        for system, (p1_key, p2_key) in systems.items():
            for protocol, links, key in (("P1", every, p1_key), ("P2", cross, p2_key)):
                r10 = r50 = rr = 0.0
                n = 0
                for s in sources:
                    relevant = links.get(s, set())
                    if not relevant:
                        continue
                    ranked = found[key][s]
                    n += 1
                    r10 += len(relevant & set(ranked[:10])) / len(relevant)
                    r50 += len(relevant & set(ranked[:50])) / len(relevant)
                    first = next((k for k, e in enumerate(ranked[:10], 1) if e in relevant), None)
                    rr += 1 / first if first else 0.0
                block[f"{system} {protocol}"] = {"recall@10": round(r10 / n, 3) if n else None,
                                                 "recall@50": round(r50 / n, 3) if n else None,
                                                 "mrr@10": round(rr / n, 3) if n else None, "queries": n,
                                                 "shown": round(statistics.fmean(len(found[key][s]) for s in sources), 1)
                                                 if sources else None}
        out[split or "all"] = block
    pairs = {frozenset((a, b)) for a, links in cross.items() for b in links}
    suggested = [frozenset(p) for p in found["synergies"]]
    out["synergies"] = {"cross_centre_links": len(pairs), "suggested": len(suggested),
                        "in_top100": sum(1 for p in suggested[:100] if p in pairs),
                        "in_all": sum(1 for p in suggested if p in pairs)}
    return out


def public_metrics(code: Path, work: Path, env: dict) -> dict:
    """Judged answers the default search leaves out (the cut-off) on SweFAQ and SweQUAD-MC."""
    script = (
        "import json, sys\n"
        "from kb.app.evaluation import load_dataset, index_corpus, evaluate\n"
        "out = {}\n"
        "for name, splits in (('swefaq', ['dev', 'test']), ('swequad_mc', ['train', 'dev', 'test'])):\n"
        "    ds = load_dataset(sys.argv[1] + '/' + name)\n"
        "    kb, ids = index_corpus(ds, sys.argv[2] + '/' + name)\n"
        "    for split in splits:\n"
        "        qs = [q for q in ds.queries if q.get('split') == split]\n"
        "        shown = kept = judged = 0\n"
        "        for q in qs:\n"
        "            found = [ids.get(r.id, r.id) for r in kb.search(q['text'], limit=10)]\n"
        "            rel = set(ds.qrels[str(q['qid'])])\n"
        "            shown += len(found); kept += len(rel & set(found)); judged += len(rel)\n"
        "        out[f'{name} {split}'] = {'queries': len(qs), 'results_per_query': round(shown / len(qs), 2),\n"
        "                                 'judged_in_results': kept, 'judged': judged}\n"
        "    kb.close()\n"
        "print(json.dumps(out))\n"
    )
    # cwd: `python -c` puts the current folder first on sys.path, before PYTHONPATH
    proc = subprocess.run([sys.executable, "-c", script, str(BENCHMARKS), str(work)], capture_output=True,
                          text=True, env={**env, "PYTHONPATH": str(code)}, check=False, cwd=str(code))
    if proc.returncode:
        sys.exit(f"public sets failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- running ----------------------------------------------------------------------------------------
def prepare_malmo(work: Path, env: dict) -> Path:
    root = work / "malmo_eval"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(EVAL, root)
    proc = subprocess.run([sys.executable, "-c", "from kb.cli import cli; cli()", "index", "--root", str(root), "-q"],
                          capture_output=True, text=True, env={**env, "PYTHONPATH": str(REPO)}, check=False,
                          cwd=str(REPO))
    if proc.returncode:
        sys.exit(f"indexing {root} failed:\n{proc.stderr[-3000:]}")
    return root


def run_side(code: Path, args, malmo: Path, env: dict) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--malmo", str(malmo)]
    if args.nasa:
        command += ["--nasa", str(args.nasa), "--nasa-sample", str(args.nasa_sample or 0)]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env={**env, "PYTHONPATH": str(code)},
                          check=False, cwd=str(code))
    if proc.returncode:
        sys.exit(f"measuring {code} failed:\n{proc.stderr[-4000:]}")
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    result = {"code": str(code), "wall_s": round(time.perf_counter() - started, 1),
              "synergies": synergy_metrics(found), "obstacles": obstacle_metrics(found),
              "search": search_metrics(found), "related": related_metrics(found),
              "brief_questions": found["brief_questions"][:2], "timings": found["timings"],
              "duplicates": found["duplicates"]}
    if args.nasa:
        result["nasa"] = nasa_metrics(found["nasa"])
    if args.public:
        result["public"] = public_metrics(code, Path(tempfile.mkdtemp(prefix="kb-public-", dir=args.work)), env)
    return result


def markdown(sides: dict[str, dict]) -> str:
    names = list(sides)
    lines = ["| measure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]

    def row(label, fn):
        cells = []
        for n in names:
            try:
                cells.append(str(fn(sides[n])))
            except (KeyError, TypeError):
                cells.append("–")
        if any(c != "–" for c in cells):  # a set that was not measured leaves no row
            lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for split in ("tune", "heldout", "all"):
        row(f"synergies: planted pairs in top 30 ({split})",
            lambda s, sp=split: f"{s['synergies'][sp]['top30']}/{s['synergies'][sp]['pairs']}")
        row(f"synergies: planted pairs in top 10 ({split})",
            lambda s, sp=split: f"{s['synergies'][sp]['top10']}/{s['synergies'][sp]['pairs']}")
        row(f"brief shows planted pairs ({split})",
            lambda s, sp=split: f"{s['synergies'][sp]['brief']}/{s['synergies'][sp]['pairs']}")
    row("positions of P01..P10 in kb synergies", lambda s: " ".join(str(v) for v in s["synergies"]["positions"].values()))
    row("obstacle groups found exactly (O1..O4)", lambda s: " ".join(
        "yes" if s["obstacles"][g]["exact"] else f"{s['obstacles'][g]['jaccard']}" for g in ("O1", "O2", "O3", "O4")))
    for split in ("tune", "heldout", "all"):
        row(f"search: originals with a judged hit in the top 5 ({split})",
            lambda s, sp=split: f"{s['search'][sp]['top5_original']}/{s['search'][sp]['original_queries']}")
        row(f"search: both languages, hit in top 5 ({split})",
            lambda s, sp=split: f"{s['search'][sp]['top5_both_languages']}/{s['search'][sp]['queries']}")
        row(f"search: nDCG@10 originals ({split})", lambda s, sp=split: s["search"][sp]["ndcg10_original"])
        row(f"search: results per judged query ({split})", lambda s, sp=split: s["search"][sp]["results_per_query"])
        row(f"search: judged hits left out by the cut-off ({split})",
            lambda s, sp=split: s["search"][sp]["judged_hits_left_out"])
        row(f"off-topic: results for {5 if split != 'all' else 10} questions ({split})",
            lambda s, sp=split: f"{s['search'][sp]['offtopic_results']} "
                                f"({s['search'][sp]['offtopic_queries_with_results']} questions with any)")
        row(f"parity: MRR other language / own language ({split})",
            lambda s, sp=split: f"{s['search'][sp]['parity']['mrr_other_language']} / "
                                f"{s['search'][sp]['parity']['mrr_own_language']} = {s['search'][sp]['parity']['ratio']}")
        row(f"parity: relevant in top 5, other / own language ({split})",
            lambda s, sp=split: f"{s['search'][sp]['parity']['top5_other_language']} / "
                                f"{s['search'][sp]['parity']['top5_own_language']} of {s['search'][sp]['parity']['pairs']}")
        row(f"related panel: partner shown, directions ({split})",
            lambda s, sp=split: f"{s['related'][sp]['directions']}/{s['related'][sp]['of_directions']}")
        row(f"related panel: pairs found from either side ({split})",
            lambda s, sp=split: f"{s['related'][sp]['pairs_either']}/{s['related'][sp]['pairs']}")
    row("related panel: entries shown (mean)", lambda s: s["related"]["mean_shown"])
    for split in ("tune", "heldout", "all"):
        for system in ("keyword", "semantic", "panel", "related"):
            for protocol in ("P1", "P2"):
                row(f"NASA {system} {protocol} R@10 / R@50 / MRR@10 ({split})",
                    lambda s, sp=split, key=f"{system} {protocol}": " / ".join(
                        str(s["nasa"][sp][key][m]) for m in ("recall@10", "recall@50", "mrr@10")))
    row("NASA panel median ms", lambda s: s["nasa"]["panel_ms_median"])
    row("NASA cross-centre author links among kb synergies (top 100 / all suggested)",
        lambda s: f"{s['nasa']['synergies']['in_top100']} / {s['nasa']['synergies']['in_all']} of "
                  f"{s['nasa']['synergies']['suggested']}")
    for name in ("swefaq dev", "swefaq test", "swequad_mc train", "swequad_mc dev", "swequad_mc test"):
        row(f"{name}: judged answers among the results shown (results per query)",
            lambda s, nm=name: f"{s['public'][nm]['judged_in_results']}/{s['public'][nm]['judged']} "
                               f"({s['public'][nm]['results_per_query']})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another checkout of the project, measured as 'before'")
    parser.add_argument("--nasa", type=Path, help="an indexed NASA LLIS knowledge base (see bench/nasa_register.py)")
    parser.add_argument("--nasa-sample", type=int, default=0, help="only this many citing lessons (0: all)")
    parser.add_argument("--public", action="store_true", help="also SweFAQ and SweQUAD-MC (the cut-off)")
    parser.add_argument("--work", type=Path, help="where to index the evaluation sets (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/linking_quality.json")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--malmo", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("KB_MODEL", None)
    args.work = args.work or Path(tempfile.mkdtemp(prefix="kb-linking-"))
    args.work.mkdir(parents=True, exist_ok=True)
    malmo = prepare_malmo(args.work, env)
    sides = {}
    if args.baseline:
        sides["before"] = run_side(args.baseline.resolve(), args, malmo, env)
    sides["after"] = run_side(REPO, args, malmo, env)
    result = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                          "load_avg_1min": round(os.getloadavg()[0], 1)},
              "command": " ".join(sys.argv), "sides": sides}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(sides) if args.markdown else json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
