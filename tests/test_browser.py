"""A real browser (Debian's headless Chromium) against a running ``kb serve``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(root, log_path, extra_env=None, cwd=None):
    """``kb serve`` in a subprocess on a free port, waited for; always stopped afterwards.
    Yields the base URL and the server's output so far. ``cwd``: the server's working folder
    (``python -c`` imports from it before PYTHONPATH)."""
    port = free_port()
    log = open(log_path, "w+", encoding="utf-8")
    env = {**os.environ, "KB_MODEL": "hash", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import cli; cli()", "serve", "--root", str(root),
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"kb serve exited early:\n{log.read()}")
            try:
                with urllib.request.urlopen(base + "/-/kb/search", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("kb serve did not answer within 60 s")
            time.sleep(0.2)
        log.seek(0)
        yield base, log.read()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def server(kb_root, tmp_path):
    with running_server(kb_root, tmp_path / "serve.log") as (base, output):
        assert f"{base}/" in output  # kb serve prints its URL
        yield base


def test_search_then_open_an_entry_and_its_related_lessons(server, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(server + "/-/kb/search")
            assert page.locator("h1").inner_text() == "Sök i kunskapsbanken"
            page.fill("#kb-q", "överprövning av upphandlingen")
            page.press("#kb-q", "Enter")
            page.wait_for_selector(".kb-result")
            assert "q=%C3%B6verpr%C3%B6vning" in page.url  # a shareable URL
            assert page.locator(".kb-result mark").count() > 0
            badge = page.locator(".kb-result .kb-badge").first  # our stylesheet is applied
            assert badge.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
            page.screenshot(path=str(shots / "search.png"), full_page=True)
            page.click("text=Upphandlingen försenade cykelbanan i Hyllie")
            page.wait_for_selector(".kb-related-item")
            assert page.locator("h1").inner_text() == "Upphandlingen försenade cykelbanan i Hyllie"
            assert page.locator(".kb-related h2").inner_text() == "Relaterade lärdomar"
            first_related = page.locator(".kb-related-item").first
            assert "kb-other-area" in (first_related.get_attribute("class") or "")
            page.screenshot(path=str(shots / "entry.png"), full_page=True)
            assert not problems, problems  # no script errors, no CSP violations
        finally:
            browser.close()
    assert (shots / "search.png").stat().st_size > 1000
    assert (shots / "entry.png").stat().st_size > 1000
