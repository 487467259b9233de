"""Load-test the search JSON of a running ``kb serve`` (a measurement, not a test).

    kb serve --root . --port 8765 &          # in another terminal / process
    python bench/search_load.py --url http://127.0.0.1:8765 --clients 20 --seconds 20

Prints median and p95 latency of /-/kb/search.json under N concurrent clients (a fixed
set of Swedish queries, round robin), the throughput, and the page weight of the
search page (HTML + our CSS + Datasette's app.css). Only talks to 127.0.0.1/localhost.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from urllib.parse import urlencode, urljoin, urlparse

import httpx

QUERIES = [
    "upphandling av laddplatser",
    "elnätets kapacitet för värmepumpar",
    "medborgardialog om sommargator",
    "målkonflikt mellan parkering och cykel",
    "solceller på skolor",
    "samverkan med näringslivet",
    "överprövning försenade projektet",
    "fjärrvärme och spillvärme",
    "matsvinn i skolköken",
    "rådighet styrmedel nationell nivå",
]
# what makes a query never seen before: a place, a group or a time added to one of QUERIES
VARIANTS = [
    "i Hyllie", "i Rosengård", "i Limhamn", "i Kirseberg", "i Fosie", "i Husie", "i Oxie", "i Västra hamnen",
    "för förskolor", "för äldreboenden", "med E.ON", "med VA SYD", "med fastighetsägare", "med Trafikverket",
    "under 2025", "under 2026", "efter pandemin", "i stadsbyggnadsnämnden", "i ett pilotprojekt", "i upphandlingen",
]


def unique_queries(n: int, start: int = 0) -> list[str]:
    """``n`` different, plausible questions (QUERIES x VARIANTS, then numbered), from ``start``."""
    out = []
    for i in range(start, start + n):
        base = f"{QUERIES[i % len(QUERIES)]} {VARIANTS[(i // len(QUERIES)) % len(VARIANTS)]}"
        rounds = i // (len(QUERIES) * len(VARIANTS))
        out.append(base if rounds == 0 else f"{base} ({rounds + 1})")
    return out


async def client_loop(client: httpx.AsyncClient, base: str, stop_at: float, offset: int, out: list, errors: list,
                      unique: bool = False):
    i = offset
    while time.perf_counter() < stop_at:
        query = QUERIES[i % len(QUERIES)]
        if unique:  # a query text never seen before: no cached query vector helps
            query += f" {offset}x{i}"
        url = base + "/-/kb/search.json?" + urlencode({"q": query})
        i += len(QUERIES) + 1 if unique else 1
        start = time.perf_counter()
        try:
            r = await client.get(url)
            elapsed = time.perf_counter() - start
            if r.status_code == 200:
                out.append(elapsed)
            else:
                errors.append(r.status_code)
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)


async def page_weight(client: httpx.AsyncClient, base: str) -> dict[str, int]:
    page = await client.get(base + "/-/kb/search?" + urlencode({"q": QUERIES[0]}))
    weights = {"html": len(page.content)}
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text):
        css = await client.get(urljoin(base + "/", href))
        weights[href.split("?")[0]] = len(css.content)
    return weights


async def run_load(url: str, clients: int, seconds: float, unique: bool = False) -> dict:
    """Measure; returns {"ok", "errors", "throughput", "p50_ms", "p95_ms", "weights"}."""
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only loads a server on this machine (127.0.0.1)")
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await client.get(url + "/-/kb/search.json?q=uppv%C3%A4rmning")  # warm up
        latencies: list[float] = []
        errors: list = []
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(
            *(client_loop(client, url, stop_at, n, latencies, errors, unique) for n in range(clients))
        )
        weights = await page_weight(client, url)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    return {
        "ok": len(latencies), "errors": len(errors), "error_kinds": sorted({str(e) for e in errors}),
        "throughput": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": p95 * 1000, "weights": weights,
    }


async def run_fixed(url: str, queries: list[str], clients: int) -> dict:
    """Send exactly ``queries`` (in order) from ``clients`` concurrent clients, each taking the
    next query when its last answer came; latencies of each request and the wall time of all."""
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only loads a server on this machine (127.0.0.1)")
    pending = list(reversed(queries))
    latencies: list[float] = []
    errors: list = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await client.get(url + "/-/kb/search")  # connections and the page code warm, no query embedded

        async def one_client():
            while pending:
                query = pending.pop()
                started = time.perf_counter()
                try:
                    r = await client.get(url + "/-/kb/search.json?" + urlencode({"q": query}))
                    (latencies.append(time.perf_counter() - started) if r.status_code == 200
                     else errors.append(r.status_code))
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "ok": len(latencies), "errors": len(errors), "error_kinds": sorted({str(e) for e in errors}),
        "seconds": wall, "throughput": len(latencies) / wall if wall else 0.0,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000 if ordered else float("nan"),
        "max_ms": ordered[-1] * 1000 if ordered else float("nan"),
        "latencies_ms": [round(x * 1000, 1) for x in latencies],
    }


async def main(url: str, clients: int, seconds: float, unique: bool = False) -> None:
    result = await run_load(url, clients, seconds, unique)
    weights = result["weights"]
    print(f"{clients} clients x {seconds:.0f} s against {url}/-/kb/search.json"
          + (" (unique queries)" if unique else ""))
    print(f"requests ok: {result['ok']}  errors: {result['errors']}  throughput: {result['throughput']:.1f} req/s")
    print(f"latency median: {result['p50_ms']:.1f} ms  p95: {result['p95_ms']:.1f} ms")
    total = sum(weights.values())
    parts = ", ".join(f"{k} {v} B" for k, v in weights.items())
    print(f"search page weight: {total} B uncompressed ({parts})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--unique", action="store_true", help="never repeat a query text (no cache hits)")
    args = parser.parse_args()
    asyncio.run(main(args.url.rstrip("/"), args.clients, args.seconds, args.unique))
