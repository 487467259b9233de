"""What measuring the close threshold costs ``kb index``, and that a search pays nothing for it.

    HF_HUB_OFFLINE=1 python bench/calibration_cost.py --rounds 5
    HF_HUB_OFFLINE=1 python bench/calibration_cost.py --root /tmp/nasa-kb --rounds 5

On an indexed knowledge base (default: a copy of the example one, indexed first), in one
process with the model loaded: the median wall and CPU time of ``search.calibration.calibrate``
(embedding the probe questions in one batch, then one search each) over ``--rounds`` rounds,
of the probe questions' embedding alone, and of a warm search that reads the stored threshold
against the same search given the threshold (``close_at``), rounds interleaved. Results in
``bench/results/calibration_cost.json`` with the CPU model and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from indexer.embed import QUERY
from indexer.encoder_choice import cpu_model
from kb.app.knowledge_base import KnowledgeBase
from search.calibration import calibrate, probe_questions
from search.match import kb_threshold

REPO = Path(__file__).resolve().parent.parent
QUERIES = ["upphandling av laddplatser", "grid capacity for heat pumps", "medborgardialog om sommargator",
           "fjärrvärme och spillvärme", "solceller på skolor"]


def timed(run) -> tuple[float, float]:
    """(wall, CPU) seconds of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu



def example_copy() -> Path:
    root = Path(tempfile.mkdtemp(prefix="kb-calibration-cost-"))
    shutil.copy(REPO / "kb.toml", root / "kb.toml")
    shutil.copytree(REPO / "entries", root / "entries")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="an indexed knowledge base (default: a copy of the example one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/calibration_cost.json")
    args = parser.parse_args()
    root = args.root or example_copy()
    kb = KnowledgeBase.open(root)
    kb.index()
    texts = [text for _, text in probe_questions()]
    kb.search(QUERIES[0])  # model and index loaded before anything is timed
    threshold = kb_threshold(kb)
    sides: dict[str, list[tuple[float, float]]] = {"calibrate": [], "embed_probes": [], "search_stored": [],
                                                   "search_given": []}
    for _ in range(args.rounds):
        sides["calibrate"].append(timed(lambda: calibrate(kb)))
        sides["embed_probes"].append(timed(lambda: kb.embedder.embed(texts, QUERY)))
        for query in QUERIES:  # interleaved: the stored threshold, then the same one given
            sides["search_stored"].append(timed(lambda q=query: kb.search(q)))
            sides["search_given"].append(timed(lambda q=query: kb.search(q, close_at=threshold)))
    result = {
        "root": str(root), "entries": kb.store.entry_count(), "probes": len(texts), "rounds": args.rounds,
        "cpu": cpu_model(), "load_average_1min": round(os.getloadavg()[0], 2), "python": sys.version.split()[0],
        **{f"{name}_median_s": round(statistics.median(w for w, _ in values), 4) for name, values in sides.items()},
        **{f"{name}_cpu_median_s": round(statistics.median(c for _, c in values), 4) for name, values in sides.items()},
    }
    kb.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
