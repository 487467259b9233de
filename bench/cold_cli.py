"""Cold `kb search`: a new process per query, on the example KB (the repo root).

    HF_HUB_OFFLINE=1 python bench/cold_cli.py --runs 10

Reports the median and max wall time of ``kb search QUERY --root .`` (new process each
time, nothing shared but the OS page cache) and its CPU time (user + system, which
other people's load on a shared machine inflates far less than wall time), a ``python -X importtime`` breakdown of the
slowest imports on that path, and whether any heavy library was imported at all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "sentence_transformers", "datasette", "sklearn", "scipy", "uvicorn")
QUERIES = ["upphandling av laddplatser", "grid capacity for heat pumps", "medborgardialog om sommargator",
           "fjärrvärme och spillvärme", "solceller på skolor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--root", default=str(REPO))
    parser.add_argument("--out", default=str(REPO / "bench/results/cold_cli.json"))
    args = parser.parse_args()
    kb = str(Path(sys.executable).with_name("kb"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("KB_MODEL", None)
    times, cpu = [], []
    for i in range(args.runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([kb, "search", QUERIES[i % len(QUERIES)], "--root", args.root],
                              capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time does not grow with other people's load the way wall time does
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert proc.returncode == 0, proc.stderr
    probe = subprocess.run([sys.executable, "-X", "importtime", kb, "search", QUERIES[0], "--root", args.root],
                           capture_output=True, text=True, env=env, check=False)
    rows = [line.split("|") for line in probe.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    rows = [(int(r[1]), r[2].rstrip()) for r in rows[1:]]
    top_level = sorted(((us, name.strip()) for us, name in rows if not name.startswith("  ")), reverse=True)[:8]
    loaded = {name.strip().split(".")[0] for _, name in rows}
    result = {
        "runs": args.runs, "median_s": statistics.median(times), "max_s": max(times), "times_s": times,
        "cpu_median_s": statistics.median(cpu), "load_avg_1min": os.getloadavg()[0],
        "heavy_imported": sorted(loaded & set(HEAVY)),
        "slowest_top_level_imports_ms": [(name, us / 1000) for us, name in top_level],
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
