"""WCAG 2.0/2.1 A and AA violations (axe-core in Debian's Chromium) on every page a staff member
meets, for this checkout and optionally another one, side by side.

    make install   # puts axe-core in .axe/
    HF_HUB_OFFLINE=1 python bench/axe_pages.py [--baseline DIR] [--json bench/results/axe_pages.json]

Each checkout serves a copy of the example knowledge base (the repository root: kb.toml,
entries/, roadmaps/, ...) with the hash embedder, in a fresh ``kb serve`` process whose
PYTHONPATH is that checkout. The pages, the steps that reach a form's states and the axe run
are in tests/a11y_pages.py, shared with the browser test. Counted per page: the WCAG rules violated
and the elements (nodes) that violate them, the elements that break axe's best-practice rules
(landmarks, headings in order), ``<html lang>``, and the other language's words left on the
page (tests/a11y_pages.LEFTOVERS). A checkout without a page shows its HTTP status instead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from kb.app.auth import hash_password  # noqa: E402
from tests.a11y_pages import (  # noqa: E402
    AXE_JS,
    AXE_TAGS,
    BEST_PRACTICE,
    PAGES,
    PASSWORD,
    WRITER,
    axe_violations,
    follow_lund,
    leftovers,
    open_page,
    sign_in,
)
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402

KB_PARTS = ("kb.toml", "entries", "roadmaps", "actions", "agenda", "sessions.tsv", "obstacles.md")


def copy_example_kb(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in KB_PARTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.is_file():
            shutil.copy2(source, target / name)
    return target


def measure(code: Path, work: Path) -> dict[str, dict]:
    """Every page of PAGES served by the code in ``code``, checked."""
    root = copy_example_kb(work / "kb")
    follow_lund(root)  # the pages of sharing between cities need a followed city
    env = {"PYTHONPATH": str(code), "KB_WRITERS": f"{WRITER}:" + hash_password(PASSWORD, iterations=1000)}
    # cwd: "python -c" would import from the current folder before PYTHONPATH
    with running_server(root, work / "serve.log", env, cwd=work) as (base, _):
        return run_pages(base)


def run_pages(base: str) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    out: dict[str, dict] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        anonymous = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        writer = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        sign_in(writer, base)
        for spec in PAGES:
            context = writer if spec.signed_in else anonymous
            try:
                page, status = open_page(context, base, spec)
            except Exception as exc:  # noqa: BLE001 - a page state the other code cannot reach
                out[spec.name] = {"status": "error", "error": str(exc).splitlines()[0]}
                continue
            found = axe_violations(page, AXE_TAGS + BEST_PRACTICE)
            wcag = [v for v in found if set(v["tags"]) & set(AXE_TAGS)]
            out[spec.name] = {
                "status": status,
                "rules": len(wcag),
                "nodes": sum(v["count"] for v in wcag),
                "critical_serious": sum(v["count"] for v in wcag if v["impact"] in ("critical", "serious")),
                "best_practice_nodes": sum(v["count"] for v in found if v not in wcag),
                "lang": page.evaluate("document.documentElement.lang"),
                "leftovers": leftovers(page, spec.lang),
                "violations": found,
            }
            page.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure side by side")
    parser.add_argument("--json", type=Path, help="write every violation here")
    args = parser.parse_args()
    if not AXE_JS.is_file():
        sys.exit(f"{AXE_JS} is missing: run `make install` (npm install --prefix .axe axe-core)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            runs["baseline"] = measure(args.baseline.resolve(), Path(tmp) / "baseline")
        runs["this"] = measure(REPO, Path(tmp) / "this")
    names = list(runs)
    print("WCAG 2.0/2.1 A+AA: violated rules / elements; best practice (landmarks, headings): elements;")
    print("the page's <html lang>; words left from the other language")
    print(f"{'page':<20}" + "".join(f"{n:>44}" for n in names))
    for spec in PAGES:
        cells = []
        for n in names:
            r = runs[n][spec.name]
            if r["status"] not in (200, 400):
                cells.append(f"{'HTTP ' + str(r['status']):>44}")
            else:
                cell = (f"{r['rules']}/{r['nodes']} wcag, {r['best_practice_nodes']} bp, "
                        f"lang={r['lang'] or '-'}, {len(r['leftovers'])} left")
                cells.append(f"{cell:>44}")
        print(f"{spec.name:<20}" + "".join(cells))
    for n in names:
        shown = [r for r in runs[n].values() if r["status"] in (200, 400)]
        print(f"{n}: {sum(r['nodes'] for r in shown)} WCAG violations (elements) on {len(shown)} pages, "
              f"{sum(r['critical_serious'] for r in shown)} critical or serious; "
              f"{sum(r['best_practice_nodes'] for r in shown)} best-practice; "
              f"{sum(1 for r in shown if not r['lang'])} pages without lang")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
