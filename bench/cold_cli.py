"""Cold `kb search`: a new process per query, on the example KB (the repo root).

    HF_HUB_OFFLINE=1 python bench/cold_cli.py --runs 10
    HF_HUB_OFFLINE=1 python bench/cold_cli.py --runs 10 --baseline /work/before   # side by side

Reports the median and max wall time of ``kb search QUERY --root .`` (new process each
time, nothing shared but the OS page cache and Python's compiled modules, after one untimed run) and its CPU time (user + system, which
other people's load on a shared machine inflates far less than wall time), a ``python -X importtime`` breakdown of the
slowest imports on that path, and whether any heavy library was imported at all.

With ``--baseline DIR`` (another checkout, its example KB indexed by its own code) the same
command runs on both, rounds interleaved (this checkout, then the other, then the other
first), each as ``python -c "from kb.cli import cli; cli()"`` from its own folder, and the
ratio of the medians is reported beside each side's figures.
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
    parser.add_argument("--baseline", type=Path, help="another checkout to measure side by side")
    parser.add_argument("--out", default=str(REPO / "bench/results/cold_cli.json"))
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("KB_MODEL", None)
    # as on a user's machine: Python keeps compiled modules (a shell with PYTHONDONTWRITEBYTECODE
    # would compile every module of the command on every start, and charge the larger code for it)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.baseline is None:
        kb = [str(Path(sys.executable).with_name("kb"))]
        result = measure({"now": (kb, Path(args.root), env)}, args.runs)["now"]
        result.update(imports(kb, args.root, env))
    else:
        launcher = [sys.executable, "-c", "from kb.cli import cli; cli()"]
        sides = {name: (launcher, code.resolve(), {**env, "PYTHONPATH": str(code.resolve())})
                 for name, code in (("now", REPO), ("baseline", args.baseline))}
        result = measure(sides, args.runs)
        result["ratio_median_now_over_baseline"] = round(result["now"]["median_s"] / result["baseline"]["median_s"], 3)
        result["ratio_cpu_now_over_baseline"] = round(
            result["now"]["cpu_median_s"] / result["baseline"]["cpu_median_s"], 3)
        result["baseline"]["code"] = str(args.baseline.resolve())
        result["now"].update(imports(launcher, str(REPO), sides["now"][2]))
    print(json.dumps(result, indent=1, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


def measure(sides: dict, runs: int) -> dict:
    """Wall and CPU time of ``kb search`` in a new process, per side, rounds interleaved."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for command, root, env in sides.values():  # once untimed: compiled modules written, files in the page cache
        subprocess.run([*command, "search", QUERIES[0], "--root", str(root)], capture_output=True, env=env,
                       check=False, cwd=str(root))
    for i in range(runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            command, root, env = sides[name]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run([*command, "search", QUERIES[i % len(QUERIES)], "--root", str(root)],
                                  capture_output=True, text=True, env=env, check=False, cwd=str(root))
            times[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # CPU time does not grow with other people's load the way wall time does
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            assert proc.returncode == 0, f"{name}: {proc.stderr}"
    return {name: {"runs": runs, "median_s": statistics.median(times[name]), "max_s": max(times[name]),
                   "times_s": times[name], "cpu_median_s": statistics.median(cpu[name]),
                   "load_avg_1min": os.getloadavg()[0]} for name in sides}


def imports(command: list[str], root: str, env: dict) -> dict:
    """What ``kb search`` imports: the slowest top-level imports, and any heavy library."""
    args = command[1:] if command[0] == sys.executable else command  # the script, or -c and its code
    probe = subprocess.run([sys.executable, "-X", "importtime", *args, "search", QUERIES[0], "--root", root],
                           capture_output=True, text=True, env=env, check=False, cwd=root)
    rows = [line.split("|") for line in probe.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    rows = [(int(r[1]), r[2].rstrip()) for r in rows[1:]]
    top_level = sorted(((us, name.strip()) for us, name in rows if not name.startswith("  ")), reverse=True)[:8]
    loaded = {name.strip().split(".")[0] for _, name in rows}
    return {"heavy_imported": sorted(loaded & set(HEAVY)),
            "slowest_top_level_imports_ms": [(name, us / 1000) for us, name in top_level]}


if __name__ == "__main__":
    main()
