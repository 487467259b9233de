"""The pages while visitors run slow SQL of their own: idle beside loaded, in one run.

An attacker's probe found that six clients repeating a recursive query that counts to 10^8
(each stopped at Datasette's 3 s time limit) held all of Datasette's SQL threads: the front
page took 7 s, an entry page 12 s, the entries table over 30 s. The goal: the front page
under 1 s while six clients do that.

    python bench/slow_sql.py [--root DIR] [--clients 6] [--samples 15] [--baseline DIR]

Each variant (this checkout; with --baseline another one, e.g. ``git worktree add /tmp/main
main``) serves its own copy of the knowledge base (``--root``, default this repository's
example) with kb.toml ``[web] sql = "all"`` (so visitors may run SQL at all), indexed with
the hash embedder (the SQL's cost does not depend on the model), through ``kb serve`` on
127.0.0.1. For each page (the front page, an entry page, the entries table) it times
``--samples`` requests one after another with no other load, then again while ``--clients``
clients, each from its own loopback address (127.0.0.x: as many visitors, as the server
counts them), send the slow SQL back to back. It reports the median and the slowest time of
each page idle and loaded, and what the slow requests got (status codes), and writes
``bench/results/slow_sql.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from indexer.encoder_choice import cpu_model

REPO = Path(__file__).resolve().parent.parent
SLOW_SQL = ("with recursive c(x) as (select 1 union all select x+1 from c where x<100000000) "
            "select count(*) from c")
PAGES = {"front page": "/", "entry page": None, "entries table": "/kb/entries"}  # None: found at start
COPIED = ("kb.toml", "entries", "actions", "agenda", "roadmaps", "decisions.tsv", "sessions.tsv")



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_kb(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in COPIED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name)
        elif path.is_file():
            shutil.copy2(path, target / name)
    with (target / "kb.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[web]\nsql = "all"\n')
    return target


def start(repo: Path, root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = f"import sys; sys.path.insert(0, {str(repo)!r}); from kb.cli import cli; cli()"
    env = {**os.environ, "KB_MODEL": "hash", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(repo)}
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--root", str(root), "--port", str(port)],
                            cwd=repo, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(url + "/-/kb/search.json?q=test", timeout=5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not come up")


PAGE_TIMEOUT = 60.0  # a page that takes longer counts as this long, with the status "timeout"


def time_pages(url: str, pages: dict[str, str], samples: int) -> dict[str, dict]:
    out = {}
    with httpx.Client(timeout=PAGE_TIMEOUT) as client:
        for name, path in pages.items():
            seconds, statuses = [], collections.Counter()
            for _ in range(samples):
                started = time.perf_counter()
                try:
                    statuses[client.get(url + path).status_code] += 1
                except httpx.TimeoutException:
                    statuses["timeout"] += 1
                seconds.append(time.perf_counter() - started)
                time.sleep(0.05)
            out[name] = {"median_s": statistics.median(seconds), "max_s": max(seconds),
                         "statuses": dict(statuses)}
    return out


class SlowClients:
    """``n`` clients, each from its own loopback address, sending the slow SQL back to back."""

    def __init__(self, url: str, n: int):
        self.url, self.stop = url, threading.Event()
        self.statuses: collections.Counter = collections.Counter()
        self.seconds: list[float] = []
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(f"127.0.0.{10 + k}",), daemon=True)
                        for k in range(n)]

    def _run(self, address: str) -> None:
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(transport=transport, timeout=120) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    status = client.get(self.url + "/kb.json", params={"sql": SLOW_SQL}).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with self._lock:
                    self.statuses[status] += 1
                    self.seconds.append(time.perf_counter() - started)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        time.sleep(1.0)  # every client has a statement running or waiting
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=150)


def run_variant(name: str, repo: Path, source: Path, work: Path, clients: int, samples: int) -> dict:
    root = copy_kb(source, work / "kb")
    proc, url = start(repo, root, work / "serve.log")
    try:
        first = httpx.get(url + "/kb/entries.json", params={"_shape": "array", "_size": 1, "_col": "id"},
                          timeout=30).json()
        pages = {k: v or f"/-/kb/entry/{first[0]['id']}" for k, v in PAGES.items()}
        idle = time_pages(url, pages, samples)
        with SlowClients(url, clients) as slow:
            loaded = time_pages(url, pages, samples)
        slow_seconds = sorted(slow.seconds)
        return {"variant": name, "repo": str(repo), "idle": idle, "loaded": loaded,
                "slow_sql": {"requests": len(slow_seconds), "statuses": {str(k): v for k, v in slow.statuses.items()},
                             "median_s": statistics.median(slow_seconds) if slow_seconds else None},
                "alive_after": proc.poll() is None}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO, help="the knowledge base to copy (default: the example)")
    parser.add_argument("--clients", type=int, default=6, help="clients running the slow SQL (default 6)")
    parser.add_argument("--samples", type=int, default=15, help="requests per page, idle and loaded (default 15)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also serve with the code of another checkout (e.g. `git worktree add DIR main`)")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/slow_sql.json")
    args = parser.parse_args()
    variants = [("this checkout", REPO)]
    if args.baseline:
        rev = subprocess.run(["git", "-C", str(args.baseline), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=False).stdout.strip() or str(args.baseline)
        variants.append((f"code at {rev}", args.baseline.resolve()))
    results = []
    with tempfile.TemporaryDirectory(prefix="slow-sql-") as tmp:
        for k, (name, repo) in enumerate(variants):
            results.append(run_variant(name, repo, args.root.resolve(), Path(tmp) / str(k), args.clients,
                                       args.samples))
    lines = [f"{args.clients} clients running the slow SQL; {args.samples} requests per page; medians (slowest)",
             "| server | page | idle s | loaded s |", "|---|---|---|---|"]
    for r in results:
        for page in r["idle"]:
            idle, loaded = r["idle"][page], r["loaded"][page]
            lines.append(f"| {r['variant']} | {page} | {idle['median_s']:.3f} ({idle['max_s']:.3f}) "
                         f"| {loaded['median_s']:.3f} ({loaded['max_s']:.3f}) |")
    for r in results:
        lines.append(f"{r['variant']}: slow SQL requests {r['slow_sql']['requests']}, statuses "
                     f"{r['slow_sql']['statuses']}, up after: {r['alive_after']}")
    table = "\n".join(lines)
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(), "load_average_1m_at_end": os.getloadavg()[0]}
    print(f"CPU: {machine['cpu']} ({machine['cores']} cores), load average {machine['load_average_1m_at_end']:.2f}")
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "rows": results, "table": table}, indent=1) + "\n",
                        encoding="utf-8")


if __name__ == "__main__":
    main()
