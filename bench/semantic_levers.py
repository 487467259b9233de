"""Levers on the semantic side for SweFAQ (the open stretch), on the tuning splits only.

    HF_HUB_OFFLINE=1 python bench/semantic_levers.py --work /tmp/kb-levers

The corpus of SweFAQ dev and SweQUAD-MC train is indexed with the ``kb index`` code (into
``--work``, reused); then every question is compared with every chunk vector in memory, the
best chunk deciding for its entry, under each geometry:

- ``raw``: cosine of the stored vectors (what the search does in a one-language knowledge base);
- ``centred``: the corpus's mean passage vector subtracted from passages and questions
  (what the search does per language in a two-language knowledge base);
- ``whitened s``: centred and whitened with the passages' covariance, shrunk by ``s`` towards
  its mean variance (a known trick for sentence embeddings).

Reports semantic nDCG@10 (the search's semantic side alone).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kb.app.evaluation import entry_id, index_corpus, load_dataset, query_metrics
from kb.app.knowledge_base import KnowledgeBase
from kb.core.store import decode_matrix

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
if not BENCHMARKS.is_dir():
    BENCHMARKS = Path("/work/shared/benchmarks")


def ndcg(kb, data, owners: np.ndarray, scores: np.ndarray) -> float:
    values = []
    for row, query in enumerate(data.queries):
        best: dict[str, float] = {}
        for entry, value in zip(owners, scores[row], strict=True):
            if value > best.get(entry, -9.0):
                best[entry] = float(value)
        ranked = sorted(best, key=lambda e: -best[e])[:10]
        relevant = {entry_id(d): g for d, g in data.qrels[str(query["qid"])].items()}
        values.append(query_metrics(ranked, relevant)["ndcg"])
    return round(float(np.mean(values)), 4)


def unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def measure(kb, data) -> dict[str, float]:
    rows = kb.store.db.execute("select entry_id, embedding from chunks order by id").fetchall()
    passages = decode_matrix([r[1] for r in rows], kb.embedder.dim)
    owners = np.array([r[0] for r in rows])
    questions = np.vstack([kb.embedder.embed_query(q["text"]) for q in data.queries])
    mean = passages.mean(axis=0)
    out = {"raw": ndcg(kb, data, owners, questions @ passages.T),
           "centred": ndcg(kb, data, owners, unit(questions - mean) @ unit(passages - mean).T)}
    deviations = passages - mean
    covariance = deviations.T @ deviations / len(deviations)
    for shrink in (0.5, 0.8):
        shrunk = (1 - shrink) * covariance + shrink * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
        values, vectors = np.linalg.eigh(shrunk)
        whiten = vectors @ np.diag(values ** -0.5) @ vectors.T
        out[f"whitened {shrink}"] = ndcg(kb, data, owners, unit((questions - mean) @ whiten) @ unit(deviations @ whiten).T)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    result = {}
    for name, split in (("swefaq", "dev"), ("swequad_mc", "train")):
        data = load_dataset(BENCHMARKS / name, split)
        where = args.work / name
        kb = KnowledgeBase.open(where) if (where / ".kb").exists() else index_corpus(data, where)[0]
        result[f"{name} {split}"] = measure(kb, data)
        kb.close()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
