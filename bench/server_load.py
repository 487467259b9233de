"""`/-/kb/search.json` under concurrent clients: this checkout against another, in one run.

    HF_HUB_OFFLINE=1 python bench/server_load.py --root . --baseline /tmp/kb-base --requests 200 \\
        --clients 20 --rounds 3    # /tmp/kb-base: `git worktree add /tmp/kb-base 48bb339`

Each variant is a fresh ``kb serve`` process on 127.0.0.1 (the code of this checkout, "after",
and of ``--baseline DIR``, "before"), serving the same indexed knowledge base, warmed up with one
search. The load comes from this process (bench/search_load.py): ``--requests`` searches by
``--clients`` clients at once, every query text different and never sent before to that server
(``unique``: each must be embedded; the same texts for every variant), or the ten fixed queries
round robin (``repeated``, ``--loads unique,repeated``: the visitors are not signed in, so since
the per-session cache they are embedded too). Reported per variant: p50 and p95 latency and the
throughput (requests / wall time of the load); with ``--rounds`` the variants alternate round
by round (a slower minute slows both) and medians are shown. The server also has to answer
every request (errors counted) and still be up at the end.

The Python client needs some CPU itself; on a 2-core machine it competes with the server, the
same for every variant. Latencies are machine- and load-dependent: compare the variants of one
run, and measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from search_load import QUERIES, run_fixed, unique_queries  # noqa: E402 - a sibling script

from indexer.encoder_choice import cpu_model  # noqa: E402

SERVER = """
import sys
sys.path.insert(0, {repo!r})
from datasette_plugins import serve
serve.serve({root!r}, host="127.0.0.1", port={port}, echo=lambda m: None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/-/kb/search.json?q=uppv%C3%A4rmning", timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not come up")


def run_variant(repo: Path, root: str, loads: dict[str, list[str]], clients: int) -> dict:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("KB_MODEL", None)
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(repo=str(repo), root=root, port=port)],
                            env=env, stderr=subprocess.PIPE, text=True, cwd=str(repo))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        out: dict = {}
        for load, queries in loads.items():
            cpu_before = cpu_seconds(proc.pid)
            out[load] = asyncio.run(run_fixed(url, queries, clients))
            # the server's CPU time per search: what the load costs it, whatever else runs on the machine
            out[load]["server_cpu_ms"] = (cpu_seconds(proc.pid) - cpu_before) * 1000 / max(1, len(queries))
        out["alive_after"] = proc.poll() is None and httpx.get(url + "/-/kb/search", timeout=30).status_code == 200
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def query_encoder_after() -> str:
    """The query encoder this checkout's server uses on this machine (kb doctor says why)."""
    from indexer.embed import get_embedder

    embedder = get_embedder(None, server=True)
    choice = embedder.query_choice() if hasattr(embedder, "query_choice") else None
    return f"{choice.name} ({choice.why})" if choice else embedder.model_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(REPO), help="an indexed knowledge base (default: the example one)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="the code before: another checkout (e.g. `git worktree add DIR 48bb339`)")
    parser.add_argument("--requests", type=int, default=200, help="searches per load")
    parser.add_argument("--clients", type=int, default=20, help="clients searching at once")
    parser.add_argument("--loads", default="unique", help="unique (never-repeated queries), repeated, or both")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the variants this many times; medians")
    parser.add_argument("--out", default=str(REPO / "bench/results/server_load.json"))
    args = parser.parse_args()
    args.root = str(Path(args.root).resolve())  # every variant's server runs in its own checkout
    variants = []
    if args.baseline:
        rev = subprocess.run(["git", "-C", str(args.baseline), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=False).stdout.strip() or str(args.baseline)
        variants.append((f"before ({rev})", args.baseline.resolve()))
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()
    variants.append((f"after ({head})", REPO))
    rounds = []
    for r in range(args.rounds):
        # never-repeated: new texts every round (a server is fresh each time, but the texts are new anyway)
        loads = {}
        for load in args.loads.split(","):
            loads[load] = (unique_queries(args.requests, start=r * args.requests) if load == "unique"
                           else [QUERIES[i % len(QUERIES)] for i in range(args.requests)])
        order = variants if r % 2 == 0 else variants[::-1]  # alternate which goes first
        got = {name: run_variant(repo, args.root, loads, args.clients) for name, repo in order}
        rounds.append(got)
        print(json.dumps({"round": r + 1, **{n: {k: v for k, v in g.items() if k != "latencies_ms"}
                                               for n, g in got.items()}}), file=sys.stderr, flush=True)
    rows = []
    for name, _ in variants:
        row: dict = {"variant": name, "alive_after": all(r[name]["alive_after"] for r in rounds)}
        for load in args.loads.split(","):
            runs = [r[name][load] for r in rounds]
            row[load] = {k: statistics.median(run[k] for run in runs)
                         for k in ("throughput", "p50_ms", "p95_ms", "server_cpu_ms")}
            row[load].update(ok=sum(run["ok"] for run in runs), errors=sum(run["errors"] for run in runs),
                             p95_per_round=[round(run["p95_ms"]) for run in runs])
        rows.append(row)
    lines = [f"{args.requests} searches per load at {args.clients} clients, medians of {args.rounds} round(s); "
             f"load average {os.getloadavg()[0]:.2f}; CPU: {cpu_model()}; query encoder after: {query_encoder_after()}",
             "| server | queries | ok | errors | req/s | p50 ms | p95 ms | p95 per round | server CPU ms/search "
             "| up after |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for load in args.loads.split(","):
            d = r[load]
            lines.append(f"| {r['variant']} | {load} | {d['ok']} | {d['errors']} | {d['throughput']:.1f} "
                         f"| {d['p50_ms']:.0f} | {d['p95_ms']:.0f} | {', '.join(map(str, d['p95_per_round']))} "
                         f"| {d['server_cpu_ms']:.1f} | {r['alive_after']} |")
    print("\n".join(lines))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows, "rounds": rounds,
                                          "table": "\n".join(lines)}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
