"""Time one encoder on the fixed sample, in a process of its own (``python -m indexer.encoder_probe``).

A fresh process for each encoder, as ``kb index`` and ``kb search`` are fresh processes: the
time to import its runtime and load the model is measured as a user pays it, and no thread
pool or memory of one runtime slows the next. Prints one JSON line; the parent
(:mod:`indexer.encoder_choice`) reads it.

    python -m indexer.encoder_probe passages NAME FOLDER   # load, chunks per second, the vectors
    python -m indexer.encoder_probe queries NAME FOLDER    # one query after a cold start, small batches
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from indexer.encoders import PASSAGE, QUERY, load_encoder

PROBE_FILE = Path(__file__).with_name("data") / "probe.json"
BATCH = 16  # as Embedder.embed: texts sorted by length, 16 to a forward pass
PASS_BUDGET_S = 2.5  # a second pass over the sample only when the first was quicker than this
QUERY_BATCH = 16  # the server's largest micro-batch


def probe_sample() -> dict:
    return json.loads(PROBE_FILE.read_text(encoding="utf-8"))


def time_passages(name: str, folder: Path | None) -> dict:
    passages = sorted((p["text"] for p in probe_sample()["passages"]), key=len)
    started = time.perf_counter()
    encoder = load_encoder(name, folder)
    encoder.encode(passages[:2], PASSAGE)  # the first forward pass pays one-time set-up
    load_s = time.perf_counter() - started
    passes = []
    while not passes or (len(passes) < 2 and passes[0] < PASS_BUDGET_S):
        begin = time.perf_counter()
        vectors = [encoder.encode(passages[i:i + BATCH], PASSAGE) for i in range(0, len(passages), BATCH)]
        passes.append(time.perf_counter() - begin)
    return {"load_s": load_s, "chunks": len(passages), "seconds": min(passes), "passes": passes,
            "vectors": [[round(float(x), 7) for x in row] for block in vectors for row in block]}


def time_queries(name: str, folder: Path | None) -> dict:
    queries = probe_sample()["queries"]
    started = time.perf_counter()
    encoder = load_encoder(name, folder, threads=1)  # the server's engines run one thread each
    encoder.encode(queries[:1], QUERY)
    first_s = time.perf_counter() - started  # what one `kb search` pays before it can search

    def timed(batch: list[str], repeats: int) -> float:
        times = []
        for _ in range(repeats):
            begin = time.perf_counter()
            encoder.encode(batch, QUERY)
            times.append(time.perf_counter() - begin)
        return statistics.median(times) * 1000

    one_ms = timed(queries[1:2], 7)
    batch_ms = timed(queries[:QUERY_BATCH], 3)
    return {"first_s": first_s, "one_ms": one_ms, "batch_ms": batch_ms, "batch": QUERY_BATCH}


def main(argv: list[str]) -> None:
    what, name, folder = argv[0], argv[1], (Path(argv[2]) if len(argv) > 2 and argv[2] else None)
    result = time_passages(name, folder) if what == "passages" else time_queries(name, folder)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
