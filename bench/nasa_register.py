"""A real register through the whole pipeline: NASA's Lessons Learned (2,102 lessons).

    HF_HUB_OFFLINE=1 python bench/nasa_register.py --root /tmp/nasa-kb
    HF_HUB_OFFLINE=1 python bench/nasa_register.py --root /tmp/nasa-kb --steps search,synergies

Steps, each a new ``kb`` process as a user would run it (timed as wall and CPU time):

1. ``import``: ``kb import llis_lessons.jsonl --write`` into a fresh KB at ``--root`` (centres
   as areas, abstract / driving event / lessons learned / recommendations as sections);
2. ``index``: ``kb index`` with the default model, the embedding cache off (so the model's
   work is measured, not a cache); entries/s and chunks/s;
3. ``search``: warm ``kb search`` in one process (model loaded, index open), median of
   ``--runs`` rounds over the queries below, and one cold ``kb search`` process;
4. ``synergies``: ``kb synergies --json`` across the centres.

The register is read from ``../shared/benchmarks/nasa_llis`` by path; the imported entries
go to ``--root`` (keep it outside the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from kb.app.knowledge_base import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REGISTER = REPO.parent / "shared/benchmarks/nasa_llis/llis_lessons.jsonl"
QUERIES = [
    "battery thermal runaway during ground testing",
    "contamination of optics in the clean room",
    "software requirements changed late in the project",
    "procurement delays of long-lead parts",
    "communication between contractor and project office",
    "leverantören levererade för sent",  # Swedish question over English lessons
]
IMPORT_ARGS = [
    "--map", "id=lesson_id,title=title,date=date_lesson_occurred,tags=topics",
    "--id-prefix", "llis", "--area-from", "organization", "--add-areas", "--lang", "en",
    "--section", "Abstract=abstract", "--section", "Driving Event=driving_event",
    "--section", "Lessons Learned=lessons_learned", "--section", "Recommendations=recommendations",
]


def kb_command() -> str:
    return str(Path(sys.executable).with_name("kb"))


def timed(args: list[str], env: dict) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([kb_command(), *args], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"`kb {' '.join(args)}` failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "stdout": proc.stdout, "stderr": proc.stderr,
            "load_avg_1min": os.getloadavg()[0]}


def counts(root: Path) -> dict:
    import sqlite_utils

    db = sqlite_utils.Database(root / ".kb/kb.db")
    return {"entries": db["entries"].count, "chunks": db["chunks"].count,
            "areas": len(list(db.query("select distinct area from entries")))}


def step_import(root: Path, register: Path, env: dict) -> dict:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "kb.toml").write_text('title = "NASA Lessons Learned (import test)"\nlanguage = "en"\n',
                                  encoding="utf-8")
    rows = sum(1 for line in register.open(encoding="utf-8") if line.strip())
    run = timed(["import", str(register), "--root", str(root), *IMPORT_ARGS, "--write"], env)
    files = len(list((root / "entries").rglob("*.md")))
    return {"rows": rows, "files": files, "wall_s": run["wall_s"], "cpu_s": run["cpu_s"],
            "rows_per_s": round(rows / run["wall_s"], 1), "load_avg_1min": run["load_avg_1min"],
            "summary": run["stdout"].strip().splitlines()[-3:]}


def step_index(root: Path, env: dict) -> dict:
    run = timed(["index", "--root", str(root)], {**env, "KB_EMBED_CACHE": "0"})
    c = counts(root)
    return {**c, "wall_s": run["wall_s"], "cpu_s": run["cpu_s"], "load_avg_1min": run["load_avg_1min"],
            "entries_per_s": round(c["entries"] / run["wall_s"], 2),
            "chunks_per_s": round(c["chunks"] / run["wall_s"], 2)}


def step_search(root: Path, env: dict, runs: int) -> dict:
    kb = KnowledgeBase.open(root)
    first = time.perf_counter()
    top = {q: [r.id for r in kb.search(q, limit=3)] for q in QUERIES}
    first_round = time.perf_counter() - first
    times = []
    for _ in range(runs):
        for q in QUERIES:
            start = time.perf_counter()
            kb.search(q, limit=10)
            times.append((time.perf_counter() - start) * 1000)
    kb.close()
    cold = timed(["search", QUERIES[0], "--root", str(root)], env)
    return {"warm_median_ms": round(statistics.median(times), 1),
            "warm_p90_ms": round(statistics.quantiles(times, n=10)[-1], 1),
            "first_round_s": round(first_round, 2), "cold_cli_s": cold["wall_s"],
            "queries": len(QUERIES), "runs": runs, "top3": top}


def step_synergies(root: Path, env: dict) -> dict:
    run = timed(["synergies", "--root", str(root), "--json", "-n", "20"], env)
    pairs = json.loads(run["stdout"])
    pairs = pairs.get("synergies", pairs) if isinstance(pairs, dict) else pairs
    areas = {(p["area_a"], p["area_b"]) for p in pairs}
    return {"wall_s": run["wall_s"], "cpu_s": run["cpu_s"], "pairs": len(pairs),
            "area_pairs": sorted({"-".join(sorted(a)) for a in areas}),
            "top3": [{k: p[k] for k in ("a", "b", "title_a", "title_b", "score")} for p in pairs[:3]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="where to build the KB (outside the repository)")
    parser.add_argument("--register", type=Path, default=REGISTER)
    parser.add_argument("--steps", default="import,index,search,synergies")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/nasa_register.json")
    args = parser.parse_args()
    root = args.root.resolve()
    if root == REPO or REPO in root.parents:
        sys.exit(f"{root}: keep the imported KB outside the repository (e.g. /tmp/nasa-kb)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("KB_MODEL", None)
    os.environ.pop("KB_MODEL", None)
    result = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    for step in args.steps.split(","):
        print(f"== {step}", file=sys.stderr, flush=True)
        if step == "import":
            result[step] = step_import(root, args.register, env)
        elif step == "index":
            result[step] = step_index(root, env)
        elif step == "search":
            result[step] = step_search(root, env, args.runs)
        elif step == "synergies":
            result[step] = step_synergies(root, env)
        else:
            sys.exit(f"unknown step {step!r}: use import, index, search, synergies")
        print(json.dumps(result[step], indent=1, ensure_ascii=False), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
