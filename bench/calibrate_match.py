"""Choose the constants of ``search.match`` (close or weak) on tuning splits, report both halves.

    HF_HUB_OFFLINE=1 python bench/calibrate_match.py --work /tmp/kb-match --nasa /tmp/nasa-kb

Judged questions, whose answer is in the knowledge base asked (a "no close match" there is
a false negative): SweFAQ (dev = tuning, test = held out), SweQUAD-MC (train; dev+test) and
``bench/malmo_eval`` (its tuning and held-out halves, each question in Swedish and English).
Off-topic questions, asked of a knowledge base about something else: bench/malmo_eval's
``offtopic.tsv``, SweFAQ questions asked of the example knowledge base and of
bench/malmo_eval, Malmö questions asked of the NASA register, NASA lesson titles (a fixed
sample; even ids tuning, odd ids held out) asked of the Malmö knowledge bases and of the two
public corpora. Malmö questions asked of SweFAQ and SweQUAD-MC are reported too but not
fitted on: SweFAQ holds a municipality's answers on streets and buses, SweQUAD-MC public
texts on energy and electricity, so some of them are not off-topic there.

For every question the search's 10 best entries (every result, ``show="all"``) are kept with
the two parts of their match score (``search.match.match_parts``). Then, for every coverage
weight ``W`` and size weight ``C`` of a grid, the threshold ``CLOSE_AT`` is the highest that
leaves at most 1 % of each tuning set's judged questions with nothing close (none of the
Malmö set's 30), and the pair that marks the fewest off-topic questions close (mean over the
off-topic tuning sets fitted on) is chosen. The same procedure run on the held-out halves
alone is reported beside it, so a constant that only fits the tuning half shows.

Reported per set and half, at the chosen constants: judged entry in the top 5 as shown,
judged questions with nothing close, nDCG@10 as shown and with every result, off-topic
questions with any result close. "As shown" is what the search shows by default: every
result when one is close, else the nearest ``NEAREST``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import random
import shutil
import sys
from pathlib import Path

from kb.app.evaluation import entry_id, index_corpus, load_dataset, query_metrics
from kb.app.knowledge_base import KnowledgeBase
from search.match import CLOSE, CLOSE_AT, COVERAGE_WEIGHT, NEAREST, SIZE_WEIGHT, close_threshold, grade, shown

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "bench" / "malmo_eval"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
if not BENCHMARKS.is_dir():
    BENCHMARKS = Path("/work/shared/benchmarks")
NASA_TITLES = 150  # lesson titles per half
LIMIT = 0.01  # at most this share of a tuning set's judged questions with nothing close
WEIGHTS = [round(0.05 * k, 2) for k in range(9)]  # coverage weight W: 0 .. 0.4
SIZES = [round(0.02 * k, 2) for k in range(9)]  # size weight C: 0 .. 0.16
# knowledge base -> question sets asked of it; a set is judged where it is asked of its own corpus
PLAN = {
    "example": ["swefaq", "malmo_offtopic", "nasa_titles"],
    "malmo_eval": ["malmo_judged", "malmo_offtopic", "swefaq", "nasa_titles"],
    "swefaq": ["swefaq", "malmo_offtopic", "nasa_titles", "malmo_judged"],
    "swequad": ["swequad", "malmo_offtopic", "nasa_titles", "malmo_judged"],
    "nasa": ["malmo_judged", "malmo_offtopic", "swefaq"],
}
JUDGED = {("malmo_eval", "malmo_judged"), ("swefaq", "swefaq"), ("swequad", "swequad")}
NOT_FITTED = {("swefaq", "malmo_judged"), ("swequad", "malmo_judged")}  # partly on-topic there (see above)
HALVES = ("tune", "test")


def tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def question_sets() -> dict[str, list[dict]]:
    """Every question set: text, half, language and (for judged use) gains by entry id."""
    sets: dict[str, list[dict]] = {}
    sets["malmo_judged"] = [
        {"text": q["text"], "half": "tune" if q["split"] == "tune" else "test", "lang": q["lang"],
         "gains": {i.rsplit(":", 1)[0]: int(i.rsplit(":", 1)[1]) for i in q["relevant"].split()}}
        for q in tsv(EVAL / "queries.tsv")]
    sets["malmo_offtopic"] = [{"text": q["text"], "half": "tune" if q["split"] == "tune" else "test",
                               "lang": q["lang"]} for q in tsv(EVAL / "offtopic.tsv")]
    for name, folder, tune in (("swefaq", "swefaq", "dev"), ("swequad", "swequad_mc", "train")):
        data = load_dataset(BENCHMARKS / folder)
        sets[name] = [{"text": q["text"], "half": "tune" if q["split"] == tune else "test", "lang": "sv",
                       "gains": {entry_id(d): g for d, g in data.qrels[str(q["qid"])].items()}} for q in data.queries]
    lessons = [json.loads(line) for line in (BENCHMARKS / "nasa_llis" / "llis_lessons.jsonl").open(encoding="utf-8")]
    rng = random.Random(7)
    for half, parity in (("tune", 0), ("test", 1)):
        pool = [x for x in lessons if int(x["lesson_id"]) % 2 == parity and x["title"].strip()]
        sets.setdefault("nasa_titles", []).extend(
            {"text": x["title"], "half": half, "lang": "en"} for x in rng.sample(pool, NASA_TITLES))
    return sets


def open_kb(name: str, work: Path, nasa: Path | None) -> KnowledgeBase | None:
    """The knowledge base ``name``, indexed (reused from ``work`` when it is there)."""
    if name == "nasa":
        return KnowledgeBase.open(nasa) if nasa else None
    root = work / name
    if (root / ".kb").exists():
        kb = KnowledgeBase.open(root)
        kb.index()  # brings an index written by older code up to date (no re-embedding)
        return kb
    if name in ("swefaq", "swequad"):
        return index_corpus(load_dataset(BENCHMARKS / ("swefaq" if name == "swefaq" else "swequad_mc")), root)[0]
    if name == "malmo_eval":
        shutil.copytree(EVAL, root, dirs_exist_ok=True)
    else:  # the example knowledge base of the repository
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "kb.toml", root / "kb.toml")
        shutil.copytree(REPO / "entries", root / "entries", dirs_exist_ok=True)
    kb = KnowledgeBase.open(root)
    kb.index()
    return kb


def collect(work: Path, nasa: Path | None, known: dict | None = None) -> dict:
    """Per knowledge base: its number of entries and, per question, its 10 best entries as
    [id, meaning, words] (the knowledge bases in ``known`` are kept as they are)."""
    sets = question_sets()
    out: dict = dict(known or {})
    for name, asked in PLAN.items():
        if name in out:
            continue
        kb = open_kb(name, work, nasa)
        if kb is None:
            print(f"{name}: skipped (no --nasa)", file=sys.stderr)
            continue
        rows = []
        for source in asked:
            for q in sets[source]:
                results = kb.search(q["text"], limit=10, show="all")
                rows.append({"source": source, "half": q["half"], "lang": q["lang"], "text": q["text"],
                             "gains": q.get("gains") if (name, source) in JUDGED else None,
                             "results": [[r.id, round(r.match_parts[0], 5), round(r.match_parts[1], 5)]
                                         for r in results]})
            print(f"{name} <- {source}: {sum(1 for r in rows if r['source'] == source)} questions",
                  file=sys.stderr, flush=True)
        out[name] = {"entries": kb.store.entry_count(), "questions": rows}
        kb.close()
    return out


# --- the rule, simulated -------------------------------------------------------------------------
def grades(question: dict, entries: int, weight: float, close_at: float, size: float) -> list[str]:
    threshold = close_threshold(entries, close_at, size)
    return [grade(meaning + weight * words, threshold) for _, meaning, words in question["results"]]


def top_score(question: dict, entries: int, weight: float, size: float) -> float:
    """The best match score less the size term: the question has a close result iff this
    reaches CLOSE_AT."""
    best = max((meaning + weight * words for _, meaning, words in question["results"]), default=-math.inf)
    return best - size * math.sqrt(2.0 * math.log(max(1, entries)))


def groups(evidence: dict) -> dict[tuple, tuple[int, list[dict]]]:
    """(knowledge base, question set, half) -> (entries, questions)."""
    out: dict[tuple, tuple[int, list[dict]]] = {}
    for name, kb in evidence.items():
        for q in kb["questions"]:
            out.setdefault((name, q["source"], q["half"]), (kb["entries"], []))[1].append(q)
    return out


def fit(by_group: dict, half: str, weight: float, size: float) -> tuple[float, float]:
    """CLOSE_AT for (weight, size) on one half, and the mean share of off-topic questions of
    that half with a close result."""
    close_at = math.inf
    for (name, source, h), (entries, questions) in by_group.items():
        if h != half or (name, source) not in JUDGED:
            continue
        tops = sorted(top_score(q, entries, weight, size) for q in questions)
        allowed = math.floor(LIMIT * len(tops) + 1e-9)  # questions that may have nothing close
        close_at = min(close_at, tops[allowed])
    shares = [sum(top_score(q, e, weight, size) >= close_at for q in qs) / len(qs)
              for (name, source, h), (e, qs) in by_group.items()
              if h == half and (name, source) not in JUDGED and (name, source) not in NOT_FITTED]
    return close_at, sum(shares) / len(shares)


def choose(by_group: dict, half: str) -> dict:
    best = None
    for weight, size in itertools.product(WEIGHTS, SIZES):
        close_at, off = fit(by_group, half, weight, size)
        key = (round(off, 4), size, weight)  # then the smaller constants
        if best is None or key < best[0]:
            best = (key, {"coverage_weight": weight, "size_weight": size, "close_at": round(close_at, 4),
                          "offtopic_close_mean": round(off, 4)})
    return best[1]


def figures(by_group: dict, weight: float, close_at: float, size: float) -> dict:
    """Per (knowledge base, question set, half) the figures of the README's table."""
    out: dict = {}
    for (name, source, half), (entries, questions) in sorted(by_group.items()):
        row: dict = {"questions": len(questions)}
        marks = [grades(q, entries, weight, close_at, size) for q in questions]
        if (name, source) in JUDGED:
            as_shown = [[q["results"][k][0] for k in shown(m)] for q, m in zip(questions, marks, strict=True)]
            every = [[r[0] for r in q["results"]] for q in questions]
            row["top5_as_shown"] = sum(any(e in q["gains"] for e in s[:5]) for q, s in zip(questions, as_shown,
                                                                                         strict=True))
            row["nothing_close"] = sum(CLOSE not in m for m in marks)
            row["judged_shown_not_close"] = sum(
                any(q["results"][k][0] in q["gains"] and m[k] != CLOSE for k in shown(m))
                for q, m in zip(questions, marks, strict=True))
            row["ndcg10_as_shown"] = round(sum(query_metrics(s, q["gains"])["ndcg"] for q, s in
                                               zip(questions, as_shown, strict=True)) / len(questions), 4)
            row["ndcg10_all"] = round(sum(query_metrics(s, q["gains"])["ndcg"] for q, s in
                                          zip(questions, every, strict=True)) / len(questions), 4)
        else:
            row["any_close"] = sum(CLOSE in m for m in marks)
            row["fitted_on"] = (name, source) not in NOT_FITTED
        row["shown_per_question"] = round(sum(len(shown(m)) for m in marks) / len(questions), 2)
        out[f"{name} <- {source} ({half})"] = row
    return out


def report(evidence: dict, out: Path) -> dict:
    by_group = groups(evidence)
    chosen = choose(by_group, "tune")
    refit = choose(by_group, "test")  # the same procedure on the held-out halves alone
    weight, close_at, size = chosen["coverage_weight"], chosen["close_at"], chosen["size_weight"]
    result = {
        "chosen_on_tuning": chosen,
        "chosen_on_test_halves": refit,
        "in_search_match": {"coverage_weight": COVERAGE_WEIGHT, "close_at": CLOSE_AT, "size_weight": SIZE_WEIGHT,
                            "nearest": NEAREST},
        "limit_nothing_close": LIMIT,
        "figures": figures(by_group, COVERAGE_WEIGHT, CLOSE_AT, SIZE_WEIGHT),
        "figures_at_chosen": figures(by_group, weight, close_at, size),
        "knowledge_bases": {name: kb["entries"] for name, kb in evidence.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


def markdown(result: dict) -> str:
    """The README's table: each judged set and off-topic set, tuning and held-out half side by side."""
    rows = {}
    for key, row in result["figures"].items():
        name, half = key.rsplit(" (", 1)
        rows.setdefault(name, {})[half.rstrip(")")] = row
    lines = ["| questions <- asked of | top 5 as shown (tune / test) | nothing close | nDCG@10 as shown / all "
             "| off-topic with a close result |", "|---|---|---|---|---|"]
    for name, halves in rows.items():
        t, s = halves.get("tune", {}), halves.get("test", {})
        if "nothing_close" in t:
            lines.append(
                f"| {name} | {t['top5_as_shown']}/{t['questions']} / {s['top5_as_shown']}/{s['questions']} "
                f"| {t['nothing_close']}/{t['questions']} ({100 * t['nothing_close'] / t['questions']:.1f} %) / "
                f"{s['nothing_close']}/{s['questions']} ({100 * s['nothing_close'] / s['questions']:.1f} %) "
                f"| {t['ndcg10_as_shown']:.3f} / {t['ndcg10_all']:.3f} ; {s['ndcg10_as_shown']:.3f} / "
                f"{s['ndcg10_all']:.3f} | |")
        else:
            lines.append(
                f"| {name}{'' if t.get('fitted_on', True) else ' (not fitted on)'} | | | | "
                f"{t['any_close']}/{t['questions']} ({100 * t['any_close'] / t['questions']:.1f} %) / "
                f"{s['any_close']}/{s['questions']} ({100 * s['any_close'] / s['questions']:.1f} %) |")
    c, r = result["chosen_on_tuning"], result["chosen_on_test_halves"]
    lines += ["", "| constant | chosen on the tuning halves | the same procedure on the held-out halves |",
              "|---|---|---|"]
    lines += [f"| {k} | {c[k]} | {r[k]} |" for k in ("coverage_weight", "size_weight", "close_at",
                                                    "offtopic_close_mean")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="where to index the sets (reused if there)")
    parser.add_argument("--nasa", type=Path, help="NASA's register, imported and indexed (bench/nasa_register.py)")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/calibrate_match.json")
    parser.add_argument("--fresh", action="store_true",
                        help="search every set again (else the evidence kept in --work is reused, and only "
                             "knowledge bases missing from it are searched)")
    parser.add_argument("--markdown", action="store_true", help="print the README's tables")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "match-evidence.json"
    known = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() and not args.fresh else {}
    evidence = collect(args.work, args.nasa, known)
    if evidence != known:
        cache.write_text(json.dumps(evidence, ensure_ascii=False), encoding="utf-8")
    result = report(evidence, args.out)
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps({k: result[k] for k in ("chosen_on_tuning", "chosen_on_test_halves", "in_search_match")},
                         indent=1))


if __name__ == "__main__":
    main()
