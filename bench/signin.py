"""Sign-in timing: does a wrong password tell a known user name from an unknown one?

    python bench/signin.py --runs 15

Times ``AuthSettings.check_password`` with a wrong password for a name that has a real hash
(480,000 iterations) and for an unknown name, rounds interleaved, and, side by side, the
former dummy hash of 1,000 iterations an unknown name used to cost. Reports medians and the
ratio unknown / known (1.0: no difference to time). Also the cost of the door's checks on
one request (``LiveAuth.current``: a stat of kb.toml) against a request without them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from kb.app.auth import AuthSettings, LiveAuth, hash_password, verify_password

REPO = Path(__file__).resolve().parent.parent


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default=str(REPO / "bench/results/signin.json"))
    args = parser.parse_args()
    settings = AuthSettings(writers={"anna": hash_password("rätt")})
    former_dummy = hash_password("x", iterations=1000)
    settings.check_password("okänd", "fel")  # the dummy hash is made once per process
    known, unknown, former = [], [], []
    for _ in range(args.runs):
        known.append(timed(lambda: settings.check_password("anna", "fel")))
        unknown.append(timed(lambda: settings.check_password("okänd", "fel")))
        former.append(timed(lambda: verify_password("fel", former_dummy)))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kb.toml").write_text('[[areas]]\nslug = "a"\nname = "A"\n', encoding="utf-8")
        live = LiveAuth(Path(tmp))
        live.current()
        time.sleep(2.1)  # past the "just changed" seconds: the steady state
        stat_us = statistics.median(timed(live.current) for _ in range(10_000)) * 1e6
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        "runs": args.runs,
        "wrong_password_known_name_ms": round(statistics.median(known) * 1000, 1),
        "wrong_password_unknown_name_ms": round(statistics.median(unknown) * 1000, 1),
        "former_unknown_name_ms": round(statistics.median(former) * 1000, 2),
        "ratio_unknown_to_known": round(statistics.median(unknown) / statistics.median(known), 3),
        "former_ratio_unknown_to_known": round(statistics.median(former) / statistics.median(known), 4),
        "live_auth_check_us": round(stat_us, 1),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
