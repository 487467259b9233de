"""The retrieval quality table in one run (a measurement, not a test).

    HF_HUB_OFFLINE=1 python bench/retrieval.py                      # SweFAQ + SweQUAD-MC
    HF_HUB_OFFLINE=1 python bench/retrieval.py --llis               # also NASA LLIS kb similar
    HF_HUB_OFFLINE=1 python bench/retrieval.py --markdown > table.md

For each set the corpus is indexed once into a work folder (``--workdir``, default a
temporary one) with the same machinery as ``kb index``; corpus vectors come from the
embedding cache after the first run. Every query goes through ``KnowledgeBase.search``
(the code path of ``kb search``) in each mode, plus plain reciprocal-rank fusion (k=60)
of the same two sides as the baseline. Splits: tuning (SweFAQ dev, SweQUAD-MC train)
and reporting (SweFAQ test and all 219, SweQUAD-MC dev+test), see
``../shared/benchmarks/README.md``.

NASA LLIS (``--llis``): protocol P1 and P2 of ``nasa_llis/README.txt`` through
``KnowledgeBase.similar``. Each lesson is an entry of its centre's area whose text is the
title, lessons learned and recommendations (never driving_event or where_other_refs,
where the citation text is); P1 ranks all other lessons, P2 only lessons of other centres
(``other_areas``) for the cross-centre links.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.app.evaluation import Dataset, evaluate, index_corpus, load_dataset
from kb.app.knowledge_base import KnowledgeBase

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"
SETS = [  # (folder, label, [(split label, split values)])
    ("swefaq", "SweFAQ", [("dev (tune)", ["dev"]), ("test", ["test"]), ("all 219", None)]),
    ("swequad_mc", "SweQUAD-MC", [("train (tune)", ["train"]), ("dev+test", ["dev", "test"])]),
]
MODES = [
    ("keyword", {"mode": "keyword"}),
    ("semantic", {"mode": "semantic"}),
    ("RRF k=60 (baseline)", {"mode": "hybrid", "fusion": "rrf"}),
    ("hybrid (default)", {"mode": "hybrid"}),
]


def subset(dataset: Dataset, splits: list[str] | None) -> Dataset:
    if splits is None:
        return dataset
    queries = [q for q in dataset.queries if str(q.get("split")) in splits]
    return Dataset(dataset.corpus, queries, dataset.qrels, dataset.name)


def memoise_queries(kb: KnowledgeBase) -> None:
    """Each query is embedded once per run, not once per mode."""
    embedder = kb.embedder
    embedder.embed_query = functools.lru_cache(maxsize=None)(embedder.embed_query)


def retrieval_rows(workdir: Path, benchmarks: Path = BENCHMARKS) -> list[dict]:
    rows = []
    for folder, label, splits in SETS:
        dataset = load_dataset(benchmarks / folder)
        started = time.perf_counter()
        kb, ids = index_corpus(dataset, workdir / folder)
        print(f"{label}: indexed {kb.store.counts()} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        memoise_queries(kb)
        for split_label, split_values in splits:
            part = subset(dataset, split_values)
            for mode_label, options in MODES:
                report = evaluate(kb, part, ids, **options).to_dict()
                rows.append({"set": label, "split": split_label, "system": mode_label, **report})
                print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
        kb.close()
    return rows


# --- NASA LLIS: related lessons through kb similar ------------------------------------------
LLIS_FIELDS = ("lessons_learned", "recommendations")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "unknown").lower()).strip("-") or "unknown"


def write_llis_kb(folder: Path, root: Path) -> dict[str, str]:
    """One entry per lesson in its centre's area; returns lesson id -> area slug."""
    lessons = [json.loads(line) for line in (folder / "llis_lessons.jsonl").open(encoding="utf-8")]
    areas = sorted({_slug(lesson["organization"]) for lesson in lessons})
    (root / "kb.toml").write_text(
        'title = "NASA LLIS"\nlanguage = "en"\n'
        + "".join(f'\n[[areas]]\nslug = "{a}"\nname = "{a.upper()}"\n' for a in areas),
        encoding="utf-8",
    )
    out = {}
    for lesson in lessons:
        lid = str(lesson["lesson_id"])
        area = _slug(lesson["organization"])
        out[lid] = area
        body = "\n\n".join(
            " ".join(str(lesson.get(f) or "").split()) for f in LLIS_FIELDS if (lesson.get(f) or "").strip()
        )
        title = " ".join(str(lesson.get("title") or lid).split())
        date = str(lesson.get("publish_date") or "2000-01-01")[:10]
        path = root / "entries" / area / f"{lid}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        front = {"id": lid, "title": title, "area": area, "date": date, "type": "lesson"}
        head = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items())
        body = "\n\n".join(("\\" + p if p[:1] in "#>" else p) for p in body.split("\n\n"))
        path.write_text(f"---\n{head}\n---\n{body}\n", encoding="utf-8")
    return out


def llis_links(folder: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per citing lesson (the queries), the lessons linked to it in either direction: all
    links (P1) and the cross-centre ones (P2)."""
    every: dict[str, set[str]] = {}
    cross: dict[str, set[str]] = {}
    rows = list(csv.DictReader((folder / "llis_crossrefs.tsv").open(encoding="utf-8", newline=""), delimiter="\t"))
    citing = {row["citing_lesson_id"] for row in rows}
    for row in rows:
        a, b = row["citing_lesson_id"], row["cited_lesson_id"]
        for x, y in ((a, b), (b, a)):
            if x in citing:
                every.setdefault(x, set()).add(y)
                if row["cross_org"] == "1":
                    cross.setdefault(x, set()).add(y)
    return every, cross


def llis_rows(workdir: Path, benchmarks: Path = BENCHMARKS, depth: int = 50) -> list[dict]:
    import math

    folder = benchmarks / "nasa_llis"
    root = workdir / "nasa_llis"
    root.mkdir(parents=True, exist_ok=True)
    write_llis_kb(folder, root)
    kb = KnowledgeBase.open(root)
    started = time.perf_counter()
    kb.index()
    print(f"NASA LLIS: indexed {kb.store.counts()} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    every, cross = llis_links(folder)
    known = set(kb.store.entry_ids())
    rows = []
    for protocol, links, other_areas in (("P1 all links", every, False), ("P2 cross-centre", cross, True)):
        for mode in ("keyword", "semantic", "hybrid"):
            r10 = r50 = rr = ndcg = 0.0
            n = 0
            for source, relevant in sorted(links.items()):
                relevant = relevant & known
                if source not in known or not relevant:
                    continue
                ranked = [r.id for r in kb.similar(source, limit=depth, other_areas=other_areas, mode=mode)]
                n += 1
                r10 += len(relevant & set(ranked[:10])) / len(relevant)
                r50 += len(relevant & set(ranked[:50])) / len(relevant)
                first = next((i for i, e in enumerate(ranked[:10], 1) if e in relevant), None)
                rr += 1 / first if first else 0.0
                dcg = sum(1 / math.log2(i + 1) for i, e in enumerate(ranked[:10], 1) if e in relevant)
                ndcg += dcg / sum(1 / math.log2(i + 1) for i in range(1, min(10, len(relevant)) + 1))
            rows.append({
                "protocol": protocol, "mode": mode, "queries": n,
                "recall@10": round(r10 / n, 4), "recall@50": round(r50 / n, 4),
                "mrr@10": round(rr / n, 4), "ndcg@10": round(ndcg / n, 4),
            })
            print(json.dumps(rows[-1]), file=sys.stderr)
    kb.close()
    return rows


# --- output ---------------------------------------------------------------------------------
def markdown(rows: list[dict], llis: list[dict]) -> str:
    lines = [
        "| set | split | system | nDCG@10 | MRR@10 | R@1 | R@10 | queries |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['split']} | {r['system']} | {r['ndcg@10']:.3f} | {r['mrr@10']:.3f} "
            f"| {r['recall@1']:.3f} | {r['recall@10']:.3f} | {r['queries']} |"
        )
    if llis:
        lines += ["", "| NASA LLIS `kb similar` | mode | R@10 | R@50 | MRR@10 | nDCG@10 | queries |",
                  "|---|---|---|---|---|---|---|"]
        for r in llis:
            lines.append(
                f"| {r['protocol']} | {r['mode']} | {r['recall@10']:.3f} | {r['recall@50']:.3f} "
                f"| {r['mrr@10']:.3f} | {r['ndcg@10']:.3f} | {r['queries']} |"
            )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS, help="the shared benchmarks folder")
    parser.add_argument("--workdir", type=Path, help="keep the indexed corpora here (default: temporary)")
    parser.add_argument("--llis", action="store_true", help="also run the NASA LLIS kb similar check")
    parser.add_argument("--only-llis", action="store_true", help="only the NASA LLIS check")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables instead of JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        rows = [] if args.only_llis else retrieval_rows(workdir, args.benchmarks)
        llis = llis_rows(workdir, args.benchmarks) if (args.llis or args.only_llis) else []
    if args.markdown:
        print(markdown(rows, llis))
    else:
        print(json.dumps({"retrieval": rows, "llis": llis}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
