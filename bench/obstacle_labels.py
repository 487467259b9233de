"""Obstacle labels before and after, on knowledge bases we did not write the labels for.

    HF_HUB_OFFLINE=1 python bench/obstacle_labels.py --baseline /tmp/kb-base \\
        --kb example=/tmp/example-kb --kb malmo=/tmp/malmo-kb \\
        --kb "nasa=/tmp/nasa-kb?types=lesson&area=jsc" --markdown

Each ``--kb NAME=ROOT`` is an indexed knowledge base (the example KB, ``bench/malmo_eval``
indexed by ``bench/linking_quality.py``, the NASA register imported as in
``bench/nasa_register.py``); ``?types=lesson&area=jsc&since=2010`` chooses which entries are
grouped (NASA has no obstacle entries: its lessons are taken whole, one centre at a time, so
the clustering stays a few hundred texts). For this checkout ("after") and ``--baseline DIR``
("before"), each in its own process on the same index, the script lists the labels of the
first ``--top`` groups (in the order ``kb obstacles`` lists them). Nothing is written to the
knowledge bases: the labels are made afresh, as for a new group.

Each label is checked as a facilitator would read it, by the rules of
:mod:`analysis.labels` (for both sides, so the "before" labels are judged by the same
rules): does its phrase state what blocks, is it an action, is it a fragment, and was it a
template. On ``bench/malmo_eval`` (``obstacles.tsv``) the groups found are matched to the
planted groups, and each label is compared in meaning with the facilitator's label for it
(e5 cosine of the two as queries, in Swedish; O1/O3 are the tuning half, O2/O4 held out).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "bench" / "malmo_eval"


def worker(root: Path, options: dict, top: int) -> list[dict]:
    """The groups' labels with the checkout on PYTHONPATH, kept nowhere."""
    from analysis.corpus import load_corpus
    from analysis.obstacles import group_obstacles
    from kb.app.knowledge_base import KnowledgeBase

    kb = KnowledgeBase.open(root)
    corpus = load_corpus(kb)
    kwargs = {"types": tuple(options.get("types", "obstacle").split(",")),
              "areas": options["area"].split(",") if options.get("area") else None,
              "since": options.get("since"), "until": options.get("until")}
    if "config" in inspect.signature(group_obstacles).parameters:
        groups = group_obstacles(corpus, None, **kwargs)  # None: no obstacles.md, every label made anew
    else:
        groups = group_obstacles(corpus, **kwargs)
    kb.close()
    return [{"label": g.label, "entries": g.entries, "areas": g.areas} for g in groups[:top]]


def judge(label: str, language: str) -> dict:
    """The rules of analysis.labels applied to a label's phrase (after the head's colon)."""
    from analysis.labels import is_action, is_fragment, states_blocker

    phrase = label.split(": ", 1)[1] if ": " in label else label
    template = ", " in phrase and len(phrase.split()) <= 4 and not any(c in phrase for c in ".!?")
    if template:  # words, not a sentence: judged as what it is
        return {"states_blocker": False, "action": False, "fragment": False, "template": True}
    return {"states_blocker": states_blocker(phrase, language), "action": is_action(phrase),
            "fragment": is_fragment(phrase, language=language), "template": False}


def planted_groups() -> dict[str, dict]:
    with (EVAL / "obstacles.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    out: dict[str, dict] = {}
    for row in rows:
        group = out.setdefault(row["group_id"], {"split": row["split"], "label": row["label"], "entries": set()})
        group["entries"].add(row["entry"])
    return out


def facilitator_similarity(sides: dict[str, list[dict]]) -> dict:
    """Per planted group: the best-matching group found (Jaccard), its label, and the e5
    cosine of that label and the facilitator's."""
    from indexer.embed import QUERY, get_embedder

    embedder = get_embedder(None)
    out: dict = {}
    for gid, planted in planted_groups().items():
        row = {"split": planted["split"], "facilitator": planted["label"]}
        for side, groups in sides.items():
            best = max(groups, default=None, key=lambda g: len(set(g["entries"]) & planted["entries"])
                       / len(set(g["entries"]) | planted["entries"]))
            if best is None or not set(best["entries"]) & planted["entries"]:
                row[side] = None
                continue
            jaccard = len(set(best["entries"]) & planted["entries"]) / len(set(best["entries"]) | planted["entries"])
            vectors = embedder.embed([best["label"], planted["label"]], QUERY)
            row[side] = {"label": best["label"], "jaccard": round(jaccard, 2),
                         "cosine": round(float(vectors[0] @ vectors[1]), 3)}
        out[gid] = row
    return out


def run_side(code: Path, root: Path, options: dict, top: int, env: dict) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(root), "--options",
               json.dumps(options), "--top", str(top)]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env={**env, "PYTHONPATH": str(code)},
                          check=False, cwd=str(code))
    if proc.returncode:
        sys.exit(f"labelling {root} with {code} failed:\n{proc.stderr[-3000:]}")
    return {"groups": json.loads(proc.stdout.strip().splitlines()[-1]),
            "wall_s": round(time.perf_counter() - started, 1)}


def markdown(result: dict) -> str:
    lines = []
    for name, kb in result["kbs"].items():
        sides = list(kb["sides"])
        lines += [f"### {name} ({kb['root']}{' ' + kb['options_text'] if kb['options_text'] else ''})", "",
                  "| # | " + " | ".join(sides) + " |", "|---" * (len(sides) + 1) + "|"]
        longest = max(len(kb["sides"][s]["groups"]) for s in sides)
        for k in range(longest):
            cells = []
            for s in sides:
                groups = kb["sides"][s]["groups"]
                if k >= len(groups):
                    cells.append("–")
                    continue
                g = groups[k]
                flags = [f for f, bad in (("no blocker", not g["judged"]["states_blocker"] and not g["judged"]["template"]),
                                          ("action", g["judged"]["action"]), ("fragment", g["judged"]["fragment"]),
                                          ("template", g["judged"]["template"])) if bad]
                cells.append(g["label"].replace("|", "/") + (f" *({', '.join(flags)})*" if flags else ""))
            lines.append(f"| {k + 1} | " + " | ".join(cells) + " |")
        lines += ["", "| side | labels | state what blocks | actions | fragments | templates |", "|---|---|---|---|---|---|"]
        for s in sides:
            judged = [g["judged"] for g in kb["sides"][s]["groups"]]
            lines.append(f"| {s} | {len(judged)} | {sum(j['states_blocker'] for j in judged)} | "
                         f"{sum(j['action'] for j in judged)} | {sum(j['fragment'] for j in judged)} | "
                         f"{sum(j['template'] for j in judged)} |")
        if kb.get("facilitator"):
            lines += ["", "| planted | half | facilitator's label | " + " | ".join(sides) + " |",
                      "|---|---|---|" + "---|" * len(sides)]
            for gid, row in kb["facilitator"].items():
                cells = [f"{row[s]['label']} (J {row[s]['jaccard']}, cos {row[s]['cosine']})" if row.get(s) else "–"
                         for s in sides]
                lines.append(f"| {gid} | {row['split']} | {row['facilitator']} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", action="append", default=[], metavar="NAME=ROOT[?types=..&area=..]",
                        help="an indexed knowledge base (repeatable)")
    parser.add_argument("--baseline", type=Path, help="another checkout of the project, measured as 'before'")
    parser.add_argument("--top", type=int, default=10, help="labels per knowledge base")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/obstacle_labels.json")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.options), args.top), ensure_ascii=False))
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("KB_MODEL", None)
    result: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                "load_avg_1min": round(os.getloadavg()[0], 1)},
                    "command": " ".join(sys.argv), "kbs": {}}
    for spec in args.kb:
        name, _, location = spec.partition("=")
        root_text, _, query = location.partition("?")
        options = {k: v[-1] for k, v in parse_qs(query).items()}
        root = Path(root_text).resolve()
        language = "en" if "nasa" in name else "sv"
        sides = {}
        if args.baseline:
            sides["before"] = run_side(args.baseline.resolve(), root, options, args.top, env)
        sides["after"] = run_side(REPO, root, options, args.top, env)
        for side in sides.values():
            for g in side["groups"]:
                g["judged"] = judge(g["label"], language)
        entry = {"root": str(root), "options": options, "options_text": query, "sides": sides}
        if (root / "obstacles.tsv").is_file():  # bench/malmo_eval: the facilitators' labels
            entry["facilitator"] = facilitator_similarity({s: v["groups"] for s, v in sides.items()})
        result["kbs"][name] = entry
        print(f"{name}: done", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(result) if args.markdown else json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
