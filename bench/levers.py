"""Two retrieval levers measured side by side on the tuning splits (a measurement, not a test):

1. passage prefix: documents embedded with ``passage: `` (the default) against ``query: `` on
   both sides (e5's advice for symmetric tasks), on SweFAQ dev;
2. chunk size: windows of at most 500 tokens (the default) against 250, on SweQUAD-MC train,
   whose passages average ~360 words (SweFAQ answers fit in one chunk either way).

    HF_HUB_OFFLINE=1 python bench/levers.py --markdown

Each variant indexes the corpus into its own temporary knowledge base with the ``kb index`` code
and runs every query through ``kb search`` (search.evaluate), semantic and hybrid.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.chunk import ChunkSettings  # noqa: E402
from indexer.embed import QUERY, E5Embedder  # noqa: E402
from kb.app.evaluation import evaluate, load_dataset, write_corpus  # noqa: E402
from kb.app.knowledge_base import KnowledgeBase  # noqa: E402
from kb.core import config as config_module  # noqa: E402

BENCHMARKS = REPO.parent / "shared" / "benchmarks"


class QueryPrefixEverywhere(E5Embedder):
    """e5 with ``query: `` on documents too (a different model id, so no cached vector is reused)."""
    def __init__(self):
        super().__init__()
        self.model_id = "multilingual-e5-small-q4+query-prefix"

    def embed_batch(self, texts, kind):
        return super().embed_batch(texts, QUERY)


def run(dataset_dir: Path, split: str, *, embedder=None, settings=None) -> dict:
    dataset = load_dataset(dataset_dir, split)
    with tempfile.TemporaryDirectory(prefix="kb-lever-") as tmp:
        ids = write_corpus(dataset, tmp)
        kb = KnowledgeBase(config_module.load(tmp), embedder=embedder)
        kb.index(settings=settings)
        try:
            return {
                mode: evaluate(kb, dataset, ids, mode=mode).to_dict()["ndcg@10"]
                for mode in ("semantic", "hybrid")
            }
        finally:
            kb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    swefaq, swequad = args.benchmarks / "swefaq", args.benchmarks / "swequad_mc"
    rows = [
        ("prefix", "SweFAQ dev", "passage: (default)", run(swefaq, "dev")),
        ("prefix", "SweFAQ dev", "query: on both sides", run(swefaq, "dev", embedder=QueryPrefixEverywhere())),
        ("chunk size", "SweQUAD-MC train", "500 tokens, overlap 1 sentence (default)",
         run(swequad, "train", settings=ChunkSettings(max_tokens=500, overlap_sentences=1))),
        ("chunk size", "SweQUAD-MC train", "250 tokens, overlap 1 sentence",
         run(swequad, "train", settings=ChunkSettings(max_tokens=250, overlap_sentences=1))),
    ]
    if args.markdown:
        print("| lever | split | variant | semantic nDCG@10 | hybrid nDCG@10 |\n|---|---|---|---|---|")
        for lever, split, variant, scores in rows:
            print(f"| {lever} | {split} | {variant} | {scores['semantic']:.3f} | {scores['hybrid']:.3f} |")
    else:
        print(json.dumps([dict(lever=a, split=b, variant=c, **d) for a, b, c, d in rows], indent=2))


if __name__ == "__main__":
    main()
