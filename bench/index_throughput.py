"""Indexing speed against the raw model, bf16 against fp32, and incremental against full.

    HF_HUB_OFFLINE=1 python bench/index_throughput.py --runs 3

1. ``kb index --rebuild`` (in process, model already loaded, embedding cache off) on a copy
   of the example KB, against ``SentenceTransformer.encode_document`` of the same model on
   the very same chunk texts (batch 32), interleaved run by run; ratio of chunks/s, median.
   The bf16 copy of the model is timed in the first round (it is slow here), with its cosine to fp32.
2. A 2,000-entry KB made from the example entries (short: title + ~30 words, no sections,
   so one chunk an entry and a full build that finishes in minutes here): one full build,
   then ``--runs`` times: edit one entry, ``kb index`` (in process), and ``kb index`` as a
   new CLI process (what a user runs). Reported as a fraction of the full build.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kb.app.knowledge_base import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["KB_EMBED_CACHE"] = "0"  # measure embedding, not the cache
os.environ.pop("KB_MODEL", None)

WORDS = 25  # words of each synthetic entry's one section (kept short: see the docstring)
DISTRICTS = ["Rosengård", "Hyllie", "Limhamn", "Kirseberg", "Fosie", "Husie", "Oxie", "Västra hamnen"]


def copy_example(dest: Path, limit: int | None) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(REPO / "kb.toml", dest / "kb.toml")
    files = sorted((REPO / "entries").rglob("*.md"))[:limit]
    for f in files:
        target = dest / f.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    return dest


def synthetic_kb(dest: Path, n: int) -> Path:
    """``n`` short entries made from the example ones: same front matter, ~30 words, one chunk."""
    import yaml

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(REPO / "kb.toml", dest / "kb.toml")
    bases = []
    for f in sorted((REPO / "entries").rglob("*.md")):
        _, front, body = f.read_text(encoding="utf-8").split("---", 2)
        meta = yaml.safe_load(front)
        first = re.split(r"^## .*$", body, flags=re.MULTILINE)[1].split()
        bases.append((meta, " ".join(first[:WORDS])))
    for i in range(n):
        meta, words = bases[i % len(bases)]
        district = DISTRICTS[i % len(DISTRICTS)]
        text = (
            "---\n"
            f"id: syn-{i:04d}\n"
            f"title: {json.dumps(meta['title'] + f' ({district}, fall {i // len(bases) + 1})', ensure_ascii=False)}\n"
            f"area: {meta['area']}\ndate: {meta['date']}\ntype: {meta['type']}\n"
            "---\n"
            f"{words} Det gällde delprojekt {i} i {district}.\n"
        )
        path = dest / "entries" / meta["area"] / f"syn-{i:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dest


def edit_one(root: Path, round_no: int) -> None:
    files = sorted((root / "entries").rglob("*.md"))
    path = files[round_no * 37 % len(files)]
    path.write_text(path.read_text(encoding="utf-8") + f"\nTillägg {round_no}: uppföljning i nästa sprint.\n",
                    encoding="utf-8")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def part_ratio(work: Path, runs: int, limit: int | None) -> dict:
    import torch

    root = copy_example(work / "example", limit)
    kb = KnowledgeBase.open(root)
    start = time.perf_counter()
    model = kb.embedder.model  # torch + sentence-transformers + the converted e5
    load_s = time.perf_counter() - start
    kb.index(rebuild=True)  # warm-up, and the chunk texts
    texts = [r[0] for r in kb.store.db.execute("select text from chunks order by id")]
    bf16 = copy.deepcopy(model).to(torch.bfloat16)

    def raw(m):
        start = time.perf_counter()
        out = m.encode_document(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                                show_progress_bar=False)
        return time.perf_counter() - start, np.asarray(out, dtype=np.float32)

    rows = []
    for _ in range(runs):
        t_raw, v32 = raw(model)
        start = time.perf_counter()
        report = kb.index(rebuild=True)
        t_build = time.perf_counter() - start
        if not rows:  # bf16 once: it is the slow one on CPUs without AVX-512 bf16
            t_bf16, v16 = raw(bf16)
            cos = cosines(v32, v16)
        assert report.chunks_embedded == len(texts), (report.chunks_embedded, len(texts))
        rows.append({"raw_s": t_raw, "build_s": t_build, "ratio": t_raw / t_build})
        if len(rows) == 1:
            rows[0].update(bf16_s=t_bf16, bf16_speed=t_raw / t_bf16)
    kb.close()
    n = len(texts)
    return {
        "entries": len(list((root / "entries").rglob("*.md"))), "chunks": n,
        "words_per_chunk": statistics.median(len(t.split()) for t in texts),
        "model_load_s": load_s, "torch_threads": torch.get_num_threads(), "runs": rows,
        "raw_chunks_per_s": n / statistics.median(r["raw_s"] for r in rows),
        "build_chunks_per_s": n / statistics.median(r["build_s"] for r in rows),
        "bf16_chunks_per_s": n / t_bf16,
        "ratio_median": statistics.median(r["ratio"] for r in rows),
        "bf16_speed_first_round": rows[0]["bf16_speed"],
        "bf16_cosine_min": float(cos.min()), "bf16_cosine_median": float(np.median(cos)),
    }


def part_incremental(work: Path, runs: int, n: int) -> dict:
    root = synthetic_kb(work / f"kb-{n}", n)
    kb = KnowledgeBase.open(root)
    start = time.perf_counter()
    _ = kb.embedder.model
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    report = kb.index()
    full_s = time.perf_counter() - start
    chunks = report.chunks_embedded
    inc, cli = [], []
    for r in range(runs):
        edit_one(root, 2 * r)
        start = time.perf_counter()
        rep = kb.index()
        inc.append(time.perf_counter() - start)
        assert len(rep.updated) == 1, rep.to_dict()
        edit_one(root, 2 * r + 1)
        start = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).with_name("kb")), "index", "-q", "--root", str(root)],
                              capture_output=True, text=True, check=False)
        cli.append(time.perf_counter() - start)
        assert proc.returncode == 0 and "1 updated" in proc.stdout, proc.stdout + proc.stderr
    kb.close()
    return {
        "entries": n, "chunks": chunks, "full_build_s": full_s, "model_load_s": load_s,
        "incremental_s": inc, "incremental_cli_s": cli,
        "fraction_in_process": statistics.median(inc) / full_s,
        # a user's full build is a CLI run too: it pays the model load the in-process one did not
        "fraction_cli": statistics.median(cli) / (full_s + load_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=None, help="example entries for part 1 (default all)")
    parser.add_argument("--kb-size", type=int, default=2000)
    parser.add_argument("--skip", choices=["ratio", "incremental"], action="append", default=[])
    parser.add_argument("--work", default="/tmp/kb-bench-index")
    parser.add_argument("--out", default=str(REPO / "bench/results/index_throughput.json"))
    args = parser.parse_args()
    work = Path(args.work)
    out: dict = {}
    if "ratio" not in args.skip:
        out["ratio"] = part_ratio(work, args.runs, args.entries)
        print(json.dumps(out["ratio"]), flush=True)
    if "incremental" not in args.skip:
        out["incremental"] = part_incremental(work, args.runs, args.kb_size)
        print(json.dumps(out["incremental"]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
