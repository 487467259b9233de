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
the two parts of their match score (``search.match.match_parts``) and the question's distance
from the knowledge base's subject (``search.match.off_subject``), and so are those of the 64
probe questions of ``search.calibration`` asked of each knowledge base. Rules compared:

- before, the size rule: threshold = CLOSE_AT + SIZE_WEIGHT x sqrt(2 ln entries), refitted over
  a grid of coverage weights W and size weights;
- now, the probes: threshold = the p-quantile of the probes' best scores in that knowledge base
  + PROBE_MARGIN x their standard deviation (p in QUANTILES; W kept at the match score's), every
  score less SUBJECT_WEIGHT x the question's distance from the knowledge base's average text
  (S in SUBJECTS; S = 0 is the rule before the subject counted, reported beside it);
- the probes with the margin in score units instead (for comparison).

For each candidate the fitted constant is the highest that leaves at most 1 % of each tuning
set's judged questions with nothing close (none of the Malmö set's 30), and the candidate that
marks the fewest off-topic questions close (mean over the off-topic tuning sets fitted on) is
chosen. The same procedure run on the held-out halves alone is reported beside it, so a
constant that only fits the tuning half shows.

Reported per set and half, at the constants in the code (now and before): judged entry in the
top 5 as shown, judged questions with nothing close, nDCG@10 as shown and with every result,
off-topic questions with any result close, each knowledge base's threshold. "As shown" is
what the search shows by default: every result when one is close, else the nearest ``NEAREST``.
``--samples N`` prints up to N off-topic questions per pair that get a close result, with the
close results' titles, to judge by eye whether they are unrelated (printed only: the questions
and titles are the benchmarks' data).
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

import numpy as np

from indexer.embed import QUERY
from kb.app.evaluation import entry_id, index_corpus, load_dataset, query_metrics
from kb.app.knowledge_base import KnowledgeBase
from search.calibration import PROBE_MARGIN, PROBE_QUANTILE, probe_questions
from search.match import (
    CLOSE,
    CLOSE_AT,
    COVERAGE_WEIGHT,
    NEAREST,
    SIZE_WEIGHT,
    SUBJECT_WEIGHT,
    grade,
    off_subject,
    shown,
)
from search.query import normalise_query

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "bench" / "malmo_eval"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
if not BENCHMARKS.is_dir():
    BENCHMARKS = Path("/work/shared/benchmarks")
NASA_TITLES = 150  # lesson titles per half
LIMIT = 0.01  # at most this share of a tuning set's judged questions with nothing close
WEIGHTS = [round(0.05 * k, 2) for k in range(9)]  # coverage weight W: 0 .. 0.4
SIZES = [round(0.02 * k, 2) for k in range(9)]  # size weight C: 0 .. 0.16 (the size rule, before)
QUANTILES = [0.5, 0.75, 0.9, 0.95, 1.0]  # which of the probes' best scores the threshold starts from
SUBJECTS = [round(0.1 * k, 1) for k in range(16)]  # subject weight S: 0 .. 1.5
WITHOUT_SUBJECT_MARGIN = -1.28  # the margin shipped before the subject counted (S = 0), for the figures before
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
            if "probes" not in out[name] or "away" not in out[name]["probes"][0]:  # evidence kept from before
                kb = open_kb(name, work, nasa)
                if kb is not None:
                    kept = out[name]  # a new dict: ``known`` stays as read
                    out[name] = {**kept, "questions": with_subject(kb, kept["questions"]),
                                 "probes": with_subject(kb, kept.get("probes") or probe_rows(kb))}
                    kb.close()
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
        out[name] = {"entries": kb.store.entry_count(), "questions": with_subject(kb, rows),
                     "probes": with_subject(kb, probe_rows(kb))}
        kb.close()
    return out


def with_subject(kb, rows: list[dict]) -> list[dict]:
    """``rows`` (questions with their results) each with ``away``: the question's distance from
    the knowledge base's subject (``search.match.off_subject``; one batch of vectors)."""
    if not rows:
        return rows
    vectors = np.asarray(kb.embedder.embed([normalise_query(r["text"]) for r in rows], QUERY), dtype=np.float32)
    return [{**r, "away": round(off_subject(kb, v), 5)} for r, v in zip(rows, vectors, strict=True)]


def probe_rows(kb) -> list[dict]:
    """The off-topic probe questions of ``search.calibration`` asked of ``kb``, as evidence."""
    return [{"text": text, "lang": lang,
             "results": [[r.id, round(r.match_parts[0], 5), round(r.match_parts[1], 5)]
                         for r in kb.search(text, limit=10, show="all", close_at=math.inf)]}
            for lang, text in probe_questions()]


# --- the rules, simulated --------------------------------------------------------------------------
# A rule is (kind, W, x, S) with a fitted constant D:
# - ("size", W, C): threshold = D + C x sqrt(2 ln entries) (before);
# - ("probes", W, p): threshold = the p-quantile of the probe questions' best scores in that
#   knowledge base + D;
# - ("spread", W, p): the same + D x the probes' standard deviation (D in the knowledge base's
#   own unit of spread: now).
# W is the coverage weight of the match score, S the subject weight (every score of a question
# less S x its distance from the knowledge base's subject).
KINDS = ("size", "probes", "spread")


def best(question: dict, weight: float, subject: float = 0.0) -> float:
    off = subject * question.get("away", 0.0)
    return max((meaning + weight * words - off for _, meaning, words in question["results"]), default=-math.inf)


def base(kb: dict, rule: tuple) -> tuple[float, float]:
    """(offset, scale) of a knowledge base's threshold: threshold = offset + D x scale."""
    kind, weight, x, subject = rule
    if kind == "size":
        return x * math.sqrt(2.0 * math.log(max(1, kb["entries"]))), 1.0
    tops = [t for t in (best(p, weight, subject) for p in kb["probes"]) if math.isfinite(t)]
    return float(np.quantile(tops, x)), float(np.std(tops)) if kind == "spread" else 1.0


def threshold_of(kb: dict, rule: tuple, constant: float) -> float:
    offset, scale = base(kb, rule)
    return offset + constant * scale


def grades(question: dict, threshold: float, weight: float, subject: float = 0.0) -> list[str]:
    off = subject * question.get("away", 0.0)
    return [grade(meaning + weight * words - off, threshold) for _, meaning, words in question["results"]]


def groups(evidence: dict) -> dict[tuple, tuple[dict, list[dict]]]:
    """(knowledge base, question set, half) -> (the knowledge base's evidence, questions)."""
    out: dict[tuple, tuple[dict, list[dict]]] = {}
    for name, kb in evidence.items():
        for q in kb["questions"]:
            out.setdefault((name, q["source"], q["half"]), (kb, []))[1].append(q)
    return out


def fit(by_group: dict, half: str, rule: tuple) -> tuple[float, float]:
    """D for ``rule`` on one half (the highest that leaves at most LIMIT of each judged set with
    nothing close), and the mean share of off-topic questions of that half with a close result."""
    weight, subject = rule[1], rule[3]
    bases = {name: base(kb, rule) for (name, _, _), (kb, _) in by_group.items()}

    def margin(name: str, question: dict) -> float:  # the question has a close result iff this reaches D
        offset, scale = bases[name]
        return (best(question, weight, subject) - offset) / scale

    constant = math.inf
    for (name, source, h), (_, questions) in by_group.items():
        if h != half or (name, source) not in JUDGED:
            continue
        tops = sorted(margin(name, q) for q in questions)
        allowed = math.floor(LIMIT * len(tops) + 1e-9)  # questions that may have nothing close
        constant = min(constant, tops[allowed])
    shares = [sum(margin(name, q) >= constant for q in qs) / len(qs)
              for (name, source, h), (_, qs) in by_group.items()
              if h == half and (name, source) not in JUDGED and (name, source) not in NOT_FITTED]
    return constant, sum(shares) / len(shares)


def choose(by_group: dict, half: str, kind: str, subjects: list[float] | None = None) -> dict:
    """The rule of ``kind`` that marks the fewest off-topic questions of ``half`` close."""
    chosen = None
    # the size rule is refitted over the whole grid, as it was chosen; the probe rule keeps the
    # coverage weight of the match score and fits the quantile, the margin and (``subjects``) the
    # subject weight
    grid = itertools.product(WEIGHTS, SIZES, [0.0]) if kind == "size" else \
        itertools.product([COVERAGE_WEIGHT], QUANTILES, subjects or [0.0])
    for weight, x, subject in grid:
        constant, off = fit(by_group, half, (kind, weight, x, subject))
        key = (round(off, 4), x if kind == "size" else -x, subject, weight)  # then the smaller constants
        if chosen is None or key < chosen[0]:
            named = {"size_weight": x, "close_at": round(constant, 4)} if kind == "size" else \
                {"probe_quantile": x, "probe_margin": round(constant, 4), "subject_weight": subject,
                 "margin_in": "standard deviations of the probes' scores" if kind == "spread" else "score"}
            chosen = (key, {"coverage_weight": weight, **named, "offtopic_close_mean": round(off, 4)})
    return chosen[1]


def figures(by_group: dict, rule: tuple, constant: float) -> dict:
    """Per (knowledge base, question set, half) the figures of the README's table."""
    out: dict = {}
    weight, subject = rule[1], rule[3]
    for (name, source, half), (kb, questions) in sorted(by_group.items()):
        row: dict = {"questions": len(questions)}
        threshold = threshold_of(kb, rule, constant)
        marks = [grades(q, threshold, weight, subject) for q in questions]
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
        row["threshold"] = round(threshold, 4)
        out[f"{name} <- {source} ({half})"] = row
    return out


def subject_curve(by_group: dict) -> list[dict]:
    """Per subject weight S: the margin fitted on the tuning halves and the off-topic questions
    marked close (mean of the sets fitted on) on both halves at that margin, so that how much
    the choice of S matters shows."""
    rows = []
    for subject in SUBJECTS:
        rule = ("spread", COVERAGE_WEIGHT, PROBE_QUANTILE, subject)
        constant, tune = fit(by_group, "tune", rule)
        held = [row["any_close"] / row["questions"] for key, row in figures(by_group, rule, constant).items()
                if "any_close" in row and row["fitted_on"] and key.endswith("(test)")]
        rows.append({"subject_weight": subject, "probe_margin": round(constant, 4),
                     "offtopic_close_mean_tune": round(tune, 4), "offtopic_close_mean_test": round(sum(held) / len(held), 4)})
    return rows


def report(evidence: dict, out: Path) -> dict:
    by_group = groups(evidence)
    size_rule = ("size", COVERAGE_WEIGHT, SIZE_WEIGHT, 0.0)
    probe_rule = ("spread", COVERAGE_WEIGHT, PROBE_QUANTILE, SUBJECT_WEIGHT)
    result = {
        # the same procedure on the held-out halves alone beside each: a constant that only fits
        # the tuning half shows
        "chosen_on_tuning": choose(by_group, "tune", "spread", SUBJECTS),
        "chosen_on_test_halves": choose(by_group, "test", "spread", SUBJECTS),
        "without_subject_chosen_on_tuning": choose(by_group, "tune", "spread"),
        "without_subject_chosen_on_test_halves": choose(by_group, "test", "spread"),
        "subject_curve": subject_curve(by_group),
        "margin_in_score_chosen_on_tuning": choose(by_group, "tune", "probes"),
        "margin_in_score_chosen_on_test_halves": choose(by_group, "test", "probes"),
        "size_rule_chosen_on_tuning": choose(by_group, "tune", "size"),
        "size_rule_chosen_on_test_halves": choose(by_group, "test", "size"),
        "in_search": {"coverage_weight": COVERAGE_WEIGHT, "probe_quantile": PROBE_QUANTILE,
                      "probe_margin": PROBE_MARGIN, "subject_weight": SUBJECT_WEIGHT,
                      "margin_in": "standard deviations of the probes' scores",
                      "probes": len(probe_questions()), "nearest": NEAREST},
        "before": {"coverage_weight": COVERAGE_WEIGHT, "close_at": CLOSE_AT, "size_weight": SIZE_WEIGHT},
        "limit_nothing_close": LIMIT,
        "figures": figures(by_group, probe_rule, PROBE_MARGIN),
        "figures_without_subject": figures(by_group, ("spread", COVERAGE_WEIGHT, PROBE_QUANTILE, 0.0),
                                           WITHOUT_SUBJECT_MARGIN),
        "figures_size_rule": figures(by_group, size_rule, CLOSE_AT),
        "figures_margin_in_score": figures(by_group, ("probes", COVERAGE_WEIGHT, 1.0, 0.0),
                                           choose(by_group, "tune", "probes")["probe_margin"]),
        "knowledge_bases": {name: kb["entries"] for name, kb in evidence.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return result


def share(row: dict, key: str) -> str:
    return f"{row[key]}/{row['questions']} ({100 * row[key] / row['questions']:.1f} %)"


def markdown(result: dict) -> str:
    """The README's tables: each judged and off-topic set, tuning and held-out half side by side,
    before (the probes without the subject) and now (with it)."""
    rows: dict = {}
    for which in ("figures_without_subject", "figures"):
        for key, row in result[which].items():
            name, half = key.rsplit(" (", 1)
            rows.setdefault(name, {}).setdefault(which, {})[half.rstrip(")")] = row
    lines = ["| questions <- asked of | nothing close, before: tune / test | now: tune / test "
             "| nDCG@10 as shown (now), tune / test | top 5 as shown (now), tune / test |", "|---|---|---|---|---|"]
    off = ["| questions <- asked of | any close, before: tune / test | now: tune / test |", "|---|---|---|"]
    for name, both in rows.items():
        b, n = both["figures_without_subject"], both["figures"]
        if "nothing_close" in n["tune"]:
            lines.append(f"| {name} | {share(b['tune'], 'nothing_close')} / {share(b['test'], 'nothing_close')} "
                         f"| {share(n['tune'], 'nothing_close')} / {share(n['test'], 'nothing_close')} "
                         f"| {n['tune']['ndcg10_as_shown']:.3f} / {n['test']['ndcg10_as_shown']:.3f} "
                         f"| {n['tune']['top5_as_shown']}/{n['tune']['questions']} / "
                         f"{n['test']['top5_as_shown']}/{n['test']['questions']} |")
        else:
            off.append(f"| {name}{'' if n['tune'].get('fitted_on', True) else ' (not fitted on)'} "
                       f"| {share(b['tune'], 'any_close')} / {share(b['test'], 'any_close')} "
                       f"| {share(n['tune'], 'any_close')} / {share(n['test'], 'any_close')} |")
    c, r = result["chosen_on_tuning"], result["chosen_on_test_halves"]
    lines += [""] + off + ["", "| constant | chosen on the tuning halves | the same procedure on the held-out halves |",
                           "|---|---|---|"]
    lines += [f"| {k} | {c[k]} | {r[k]} |" for k in ("coverage_weight", "probe_quantile", "subject_weight",
                                                    "probe_margin", "offtopic_close_mean")]
    lines += ["", "| subject weight | margin (tuning) | off-topic close, tune / test |", "|---|---|---|"]
    lines += [f"| {row['subject_weight']} | {row['probe_margin']} | {100 * row['offtopic_close_mean_tune']:.1f} % / "
              f"{100 * row['offtopic_close_mean_test']:.1f} % |" for row in result["subject_curve"]]
    return "\n".join(lines)


def close_samples(evidence: dict, work: Path, nasa: Path | None, per_pair: int) -> str:
    """Up to ``per_pair`` off-topic questions per pair with a result marked close (now), each with
    its close results' titles, to judge by eye whether they are really unrelated (not written to
    the results: the questions and titles are the benchmarks' data)."""
    rng = random.Random(11)
    lines = []
    rule = ("spread", COVERAGE_WEIGHT, PROBE_QUANTILE, SUBJECT_WEIGHT)
    for name, kb_evidence in evidence.items():
        threshold = threshold_of(kb_evidence, rule, PROBE_MARGIN)
        kb = open_kb(name, work, nasa)
        if kb is None:
            continue
        for source in PLAN[name]:
            if (name, source) in JUDGED:
                continue
            hits = [q for q in kb_evidence["questions"] if q["source"] == source
                    and CLOSE in grades(q, threshold, COVERAGE_WEIGHT, SUBJECT_WEIGHT)]
            lines.append(f"## {name} <- {source}: {len(hits)} with a close result; {min(per_pair, len(hits))} shown")
            for q in rng.sample(hits, min(per_pair, len(hits))):
                close = [r[0] for r, m in zip(q["results"], grades(q, threshold, COVERAGE_WEIGHT, SUBJECT_WEIGHT), strict=True)
                         if m == CLOSE]
                titles = kb.store.get_entries(close[:3], ("title",))
                lines.append(f"- {q['text']}")
                lines.extend(f"    -> {titles[e]['title']}" for e in close[:3] if e in titles)
        kb.close()
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
    parser.add_argument("--samples", type=int, metavar="N",
                        help="print up to N off-topic questions per pair that get a close result, with the "
                             "close results' titles, to judge by eye (nothing is written)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "match-evidence.json"
    known = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() and not args.fresh else {}
    evidence = collect(args.work, args.nasa, known)
    if evidence != known:
        cache.write_text(json.dumps(evidence, ensure_ascii=False), encoding="utf-8")
    result = report(evidence, args.out)
    if args.samples:
        print(close_samples(evidence, args.work, args.nasa, args.samples))
    elif args.markdown:
        print(markdown(result))
    else:
        print(json.dumps({k: v for k, v in result.items() if k.startswith(("chosen", "margin", "size", "in_"))},
                         indent=1))


if __name__ == "__main__":
    main()
