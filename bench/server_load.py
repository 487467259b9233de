"""`/-/kb/search.json` under 20 concurrent clients: the server as it is, against the old
design (one lock around every search, no query-vector cache), side by side in one run.

    HF_HUB_OFFLINE=1 python bench/server_load.py --root . --clients 20 --seconds 15 --rounds 3 \\
        [--baseline DIR]    # DIR: another checkout, e.g. `git worktree add /tmp/prev REV`

Each variant is a fresh server process on 127.0.0.1 (``kb serve`` without re-indexing);
the load comes from a second process: ``wrk`` (a C load generator, one thread, one
connection per client; ``apt-get install wrk``) when it is installed, else this process's
Python client (bench/search_load.py), which itself needs much of a core. Two loads per variant: the ten
fixed queries round robin (repeats: the query-vector cache helps) and never-repeated
query texts (every request embeds). The server also has to stay up and answer
without errors; the script checks that it is still alive at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from search_load import QUERIES, run_load  # noqa: E402 - a sibling script, found through sys.path

# wrk's script: the ten queries round robin (or made unique per request), and at the end one
# JSON line with the counts and latency percentiles (microseconds)
WRK_SCRIPT = """
local queries = {QUERIES}
local unique = {UNIQUE}
local counter = 0
request = function()
  counter = counter + 1
  local q = queries[(counter % #queries) + 1]
  if unique then q = q .. "%20" .. tostring(math.random(1, 1000000000)) .. "x" .. counter end
  return wrk.format("GET", "/-/kb/search.json?q=" .. q)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {{"requests": %d, "seconds": %f, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50": %f, "p90": %f, "p95": %f, "p99": %f, "max": %f}}\\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def run_wrk(url: str, clients: int, seconds: float, unique: bool) -> dict:
    queries = "{" + ", ".join(f'"{quote(q)}"' for q in QUERIES) + "}"
    script = WRK_SCRIPT.replace("{QUERIES}", queries).replace("{UNIQUE}", "true" if unique else "false")
    script = script.replace("{{", "{").replace("}}", "}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        proc = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "10s", "-s", f.name, url],
            capture_output=True, text=True, check=True,
        )
    finally:
        os.unlink(f.name)
    line = re.search(r"^WRK (.*)$", proc.stdout, re.M)
    if not line:
        raise SystemExit(f"wrk gave no summary:\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line.group(1))
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return {"client": "wrk", "ok": data["requests"] - data["status"], "errors": errors,
            "throughput": data["requests"] / data["seconds"],
            **{f"{p}_ms": data[p] / 1000 for p in ("p50", "p90", "p95", "p99", "max")}}

SERVER = """
import sys, threading
sys.path.insert(0, {repo!r})
from datasette_plugins import state, serve
if {serialised!r}:
    lock = threading.Lock()
    plain_run = state.KBState.run
    def run(self, fn):
        with lock:  # the old design: one search at a time, no cached query vectors
            return plain_run(self, fn)
    state.KBState.run = run
    state.SharedEmbedder.__init__.__defaults__ = (0,) + state.SharedEmbedder.__init__.__defaults__[1:]
serve.serve({root!r}, host="127.0.0.1", port={port}, echo=lambda m: None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/-/kb/search.json?q=test", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not come up")


def run_variant(name: str, serialised: bool, root: str, clients: int, seconds: float, client: str,
                repo: Path = REPO) -> dict:
    port = free_port()
    code = SERVER.format(repo=str(repo), serialised=serialised, root=root, port=port)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        out = {"variant": name}
        for load in ("repeated", "unique"):
            if client == "wrk":
                out[load] = run_wrk(url, clients, seconds, unique=load == "unique")
            else:
                out[load] = asyncio.run(run_load(url, clients, seconds, unique=load == "unique"))
                out[load].pop("weights", None)
        out["alive_after"] = proc.poll() is None and httpx.get(url + "/-/kb/search", timeout=10).status_code == 200
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(REPO))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                        help="the load generator (default: wrk if installed)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also serve with the code of another checkout (e.g. `git worktree add DIR REV`)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the variants this many times; medians")
    parser.add_argument("--out", default=str(REPO / "bench/results/server_load.json"))
    args = parser.parse_args()
    variants = [("per-thread connections + cached query vectors (now)", False, REPO)]
    if args.baseline:
        rev = subprocess.run(["git", "-C", str(args.baseline), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=False).stdout.strip() or str(args.baseline)
        variants.append((f"code at {rev}", False, args.baseline.resolve()))
    variants.append(("one lock, no cache (before)", True, REPO))
    rounds = []  # the variants interleaved, round after round: a slower minute slows all alike
    for _ in range(args.rounds):
        rounds.append([run_variant(name, serialised, args.root, args.clients, args.seconds, args.client, repo=repo)
                       for name, serialised, repo in variants])
    rows = []
    for k, (name, _, _) in enumerate(variants):
        runs = [r[k] for r in rounds]
        row = {"variant": name, "rounds": runs, "alive_after": all(r["alive_after"] for r in runs)}
        for load in ("repeated", "unique"):
            row[load] = {key: statistics.median(r[load][key] for r in runs)
                         for key in ("ok", "errors", "throughput", "p50_ms", "p95_ms")}
            row[load]["errors"] = sum(r[load]["errors"] for r in runs)
        rows.append(row)
    lines = [f"Medians of {args.rounds} rounds (errors: the sum).",
             "| server | queries | ok | errors | req/s | p50 ms | p95 ms | up after |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for load in ("repeated", "unique"):
            d = r[load]
            lines.append(f"| {r['variant']} | {load} | {d['ok']:.0f} | {d['errors']} | {d['throughput']:.1f} "
                         f"| {d['p50_ms']:.0f} | {d['p95_ms']:.0f} | {r['alive_after']} |")
    print(f"client: {args.client}, {args.clients} connections, {args.seconds:g} s per load, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("\n".join(lines))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "table": "\n".join(lines)}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
