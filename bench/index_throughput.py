"""Indexing speed against the plain model, and incremental against full.

    HF_HUB_OFFLINE=1 python bench/index_throughput.py --runs 3 --skip incremental --baseline /tmp/kb-base
    HF_HUB_OFFLINE=1 python bench/index_throughput.py --runs 3 --skip ratio --kb-size 2000

1. ``ratio``: the whole command a user runs, ``kb index --rebuild`` (a new process, embedding
   cache off, wall time: import, model load, parse, chunk, embed, SQLite + FTS, FAISS), against a
   plain ``SentenceTransformer.encode_document`` (PyTorch fp32, batch 32, the library's own
   length sort) of exactly the same chunk texts in a new process (only the encode timed), on a
   fixed sample of NASA lessons (every 14th of the register, imported as
   ``bench/nasa_register.py`` does) and on the example KB. First the encoders are timed on this
   machine if they were not (``kb doctor --measure``; ``--measure`` does it anyway), and the
   chosen backend is printed with the reason; no round pays for that. Variants: ``kb index``
   as a user gets it (the encoder measured fastest here), each encoder of ``--encoders`` forced
   (``KB_PASSAGE_ENCODER``; ``onnx-int8`` is the int8 model), and the code of another checkout
   (``--baseline DIR``, e.g. ``git worktree add /tmp/kb-base 48bb339``). Interleaved round by
   round (the order rotates), ratios of chunks/s to the plain encode of the same round, medians;
   the table names the encoder each variant used.
2. ``incremental``: a 2,000-entry KB made from the example entries (short: title + ~30 words, no
   sections, so one chunk an entry and a full build that finishes in minutes here): one full
   build, then ``--runs`` times: edit one entry, ``kb index`` (in process), and ``kb index`` as a
   new CLI process (what a user runs). Reported as a fraction of the full build.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

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


NASA = REPO.parent / "shared/benchmarks/nasa_llis/llis_lessons.jsonl"
if not NASA.exists():  # shared/ lies beside the checkout, or beside the folder of worktrees
    NASA = REPO.parent.parent / "shared/benchmarks/nasa_llis/llis_lessons.jsonl"
NASA_IMPORT = [
    "--map", "id=lesson_id,title=title,date=date_lesson_occurred,tags=topics",
    "--id-prefix", "llis", "--area-from", "organization", "--add-areas", "--lang", "en",
    "--section", "Abstract=abstract", "--section", "Driving Event=driving_event",
    "--section", "Lessons Learned=lessons_learned", "--section", "Recommendations=recommendations",
]
ENCODE = """
import json, sys, time
from sentence_transformers import SentenceTransformer
texts = json.load(open(sys.argv[2], encoding="utf-8"))
model = SentenceTransformer(sys.argv[1], device="cpu")
model.encode_document(texts[:4])  # warm-up, as kb index's first batch is
start = time.perf_counter()
model.encode_document(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
print(json.dumps({"encode_s": time.perf_counter() - start}))
"""


def kb_cli(checkout: Path) -> list[str]:
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(checkout)!r}); from kb.cli import cli; cli()"]


def nasa_sample(dest: Path, lessons: int, every: int) -> Path:
    """Every ``every``-th lesson of the register, ``lessons`` of them, imported into a new KB."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "kb.toml").write_text('title = "NASA sample"\nlanguage = "en"\n', encoding="utf-8")
    rows = [line for line in NASA.read_text(encoding="utf-8").splitlines() if line.strip()]
    sample = dest.parent / f"{dest.name}.jsonl"
    sample.write_text("\n".join(rows[::every][:lessons]) + "\n", encoding="utf-8")
    subprocess.run([*kb_cli(REPO), "import", str(sample), "--root", str(dest), *NASA_IMPORT, "--write"],
                   check=True, capture_output=True, text=True)
    return dest


def run_index(cli: list[str], root: Path, model: str | None, encoder: str | None = None) -> dict:
    """``kb index --rebuild`` in a new process; ``encoder``: forced (KB_PASSAGE_ENCODER), else
    the one measured fastest on this machine (what a user gets)."""
    args = [*cli, "index", "--rebuild", "--json", "--root", str(root)] + (["--model", model] if model else [])
    env = {**os.environ, "KB_EMBED_CACHE": "0"}
    for name in ("KB_MODEL", "KB_PASSAGE_ENCODER", "KB_QUERY_ENCODER"):
        env.pop(name, None)
    if encoder:
        env["KB_PASSAGE_ENCODER"] = encoder
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    return {"s": wall, "chunks": report["chunks_embedded"], "encoder": report.get("encoder", "")}


def chosen_backend(measure_first: bool) -> dict:
    """``kb doctor --json`` (timing the encoders first when this machine has no timings, or when
    asked): which encoder ``kb index`` will use, and why. Done before any round, so that no
    round pays for the measurement."""
    doctor = [*kb_cli(REPO), "doctor", "--json"]
    env = {k: v for k, v in os.environ.items() if k not in ("KB_MODEL", "KB_PASSAGE_ENCODER", "KB_QUERY_ENCODER")}
    got = json.loads(subprocess.run(doctor, capture_output=True, text=True, env=env, check=True).stdout)
    if measure_first or got["measured"] is None:
        got = json.loads(subprocess.run([*doctor, "--measure"], capture_output=True, text=True, env=env,
                                        check=True).stdout)
    return got


def run_encode(model_path: Path, texts_file: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", ENCODE, str(model_path), str(texts_file)],
                          capture_output=True, text=True, check=True)
    return {"s": json.loads(proc.stdout.strip().splitlines()[-1])["encode_s"]}


def part_ratio(work: Path, runs: int, datasets: list[str], encoders: list[str], baseline: Path | None,
               lessons: int, partial: Path | None = None, measure_first: bool = False) -> dict:
    from indexer.e5_onnx import ensure_exported
    from indexer.embed import DEFAULT_MODEL, INT8, E5Embedder
    from kb.core.store import Store

    model_path = E5Embedder().path  # the converted folder both sides load
    ensure_exported(model_path, int8="onnx-int8" in encoders)  # the one-time export is not part of any round
    doctor = chosen_backend(measure_first)
    out: dict = {"load_avg_start": os.getloadavg()[0], "cpu": doctor["cpu"], "measured": doctor["measured"],
                 "encoders_measured": doctor["passages"], "chosen": doctor["chosen"], "datasets": {}}
    print("chosen backend: " + "; ".join(f"{c['for']}: {c['encoder']} ({c['why']})" for c in doctor["chosen"]),
          file=sys.stderr, flush=True)
    for name in datasets:
        root = nasa_sample(work / "nasa", lessons, 14) if name == "nasa" else copy_example(work / "example", None)
        run_index(kb_cli(REPO), root, None)  # the chunk texts (and a warm disk cache)
        store = Store(root / ".kb/kb.db")
        texts = [r[0] for r in store.db.execute("select text from chunks order by id")]
        store.close()
        texts_file = work / f"{name}-texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        variants: dict = {"encode fp32": lambda: run_encode(model_path, texts_file),
                          "kb index": lambda: run_index(kb_cli(REPO), root, None)}
        for encoder in encoders:
            if encoder == "onnx-int8":
                variants["kb index onnx-int8"] = lambda: run_index(kb_cli(REPO), root, f"{DEFAULT_MODEL}-{INT8}")
            else:
                variants[f"kb index {encoder}"] = (lambda e=encoder: run_index(kb_cli(REPO), root, None, e))
        if baseline:
            variants["kb index (baseline)"] = lambda: run_index(kb_cli(baseline), root, None)
        times: dict[str, list[float]] = {k: [] for k in variants}
        ratios: dict[str, list[float]] = {k: [] for k in variants}
        used: dict[str, set[str]] = {k: set() for k in variants}
        names = list(variants)
        for r in range(runs):
            order = names[r % len(names):] + names[: r % len(names)]  # rotate: no variant always first
            for key in order:
                got = variants[key]()
                assert got.get("chunks", len(texts)) == len(texts), (key, got, len(texts))
                times[key].append(got["s"])
                if got.get("encoder"):
                    used[key].add(got["encoder"])
            for key in names:
                ratios[key].append(times["encode fp32"][-1] / times[key][-1])
            print(json.dumps({name: {k: round(v[-1], 1) for k, v in times.items()}}), file=sys.stderr, flush=True)
            summarise(out, name, root, texts, times, ratios, used)
            if partial:  # a long run under load can be cut short: the rounds so far are kept
                partial.write_text(json.dumps({"ratio": out}, indent=1), encoding="utf-8")
    out["load_avg_end"] = os.getloadavg()[0]
    print(table(out), flush=True)
    return out


def table(out: dict) -> str:
    """The side-by-side table: chunks/s and the ratio to the plain encode of the same round."""
    lines = [f"CPU: {out['cpu']['model']} ({' '.join(out['cpu']['flags'])}), {out['cpu']['cores']} cores; "
             f"load average {out['load_avg_start']:.1f} -> {out['load_avg_end']:.1f}",
             "| data | variant | encoder | chunks/s (median) | x plain encode, per round | median |",
             "|---|---|---|---|---|---|"]
    for name, d in out["datasets"].items():
        for key, rate in d["chunks_per_s"].items():
            encoder = "sentence-transformers fp32" if key == "encode fp32" else ", ".join(d["encoders"][key]) or "–"
            per_round = ", ".join(f"{x:.2f}" for x in d["ratios"][key])
            lines.append(f"| {name} ({d['entries']} entries, {d['chunks']} chunks) | {key} | {encoder} | {rate:.2f} "
                         f"| {per_round} | **{d['ratio_to_encode'][key]:.2f}** |")
    return "\n".join(lines)


def summarise(out: dict, name: str, root: Path, texts: list[str], times: dict, ratios: dict,
              used: dict | None = None) -> None:
    n = len(texts)
    out["datasets"][name] = {
        "encoders": {k: sorted(v) for k, v in (used or {}).items()},
        "entries": len(list((root / "entries").rglob("*.md"))), "chunks": n,
        "words_per_chunk": statistics.median(len(t.split()) for t in texts),
        "rounds": len(times["encode fp32"]), "seconds": times,
        "chunks_per_s": {k: n / statistics.median(v) for k, v in times.items()},
        "ratio_to_encode": {k: statistics.median(v) for k, v in ratios.items()},
        "ratios": ratios, "load_avg": os.getloadavg()[0],
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
    parser.add_argument("--datasets", default="nasa,example", help="for part 1: nasa, example")
    parser.add_argument("--lessons", type=int, default=150, help="NASA lessons in the sample (every 14th)")
    parser.add_argument("--encoders", default="",
                        help="kb index variants in part 1 besides the measured choice, each forced: e.g. "
                             "onnx-fp32,torch-bf16,onnx-int8 (onnx-int8: the int8 model)")
    parser.add_argument("--measure", action="store_true", help="time the encoders again before the rounds")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout's kb index, side by side")
    parser.add_argument("--kb-size", type=int, default=2000)
    parser.add_argument("--skip", choices=["ratio", "incremental"], action="append", default=[])
    parser.add_argument("--work", default="/tmp/kb-bench-index")
    parser.add_argument("--out", default=str(REPO / "bench/results/index_throughput.json"))
    args = parser.parse_args()
    work = Path(args.work)
    out: dict = {}
    if "ratio" not in args.skip:
        out["ratio"] = part_ratio(work, args.runs, args.datasets.split(","), [e for e in args.encoders.split(",") if e],
                                  args.baseline, args.lessons, Path(args.out), args.measure)
        print(json.dumps(out["ratio"]), flush=True)
    if "incremental" not in args.skip:
        out["incremental"] = part_incremental(work, args.runs, args.kb_size)
        print(json.dumps(out["incremental"]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
