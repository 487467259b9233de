"""A real browser logs a reflection: sign in, fill the form, live preview, preview with
similar lessons, save, and land on the new entry's page (headless Chromium, ``kb serve``)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kb.app.auth import hash_password

from .helpers import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "korrekt häst batteri"


@pytest.fixture
def writer_server(kb_root, tmp_path):
    writers = {"KB_WRITERS": "anna:" + hash_password(PASSWORD, iterations=1000)}
    with running_server(kb_root, tmp_path / "serve.log", writers) as (base, _):
        yield base


def test_sign_in_fill_preview_save_and_see_the_entry(chromium, writer_server, kb_root, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(writer_server + "/-/kb/new")
    assert "/-/kb/login" in page.url  # anonymous: sent to sign in
    page.fill("#f-username", "anna")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#capture-form")
    assert page.locator("h1").inner_text() == "Logga en reflektion"

    page.fill("#f-title", "Kapacitetsbrist i elnätet stoppade laddplatser i Hyllie")
    page.select_option("#f-area", "mobilitet")
    page.select_option("#f-type", "obstacle")
    page.fill("#f-date", "2026-05-04")
    page.fill("#f-tags", "elnät, laddning")
    page.fill("#f-happened", "E.ON hade ingen kapacitet kvar för snabbladdare. <b>inte fet</b>")
    page.fill("#f-learned", "Boka kapacitetsbesked hos nätägaren innan platsen väljs.")
    # the live preview (static capture.js) follows the typing, rendered by the server
    # as the saved page will be (typed HTML stays text)
    live = page.locator("#capture-live")
    expect(live).to_contain_text("Boka kapacitetsbesked")  # waits for the round trip
    assert "Boka kapacitetsbesked" in live.inner_text()
    assert live.locator("h3").first.inner_text() == "Vad hände?"
    assert live.locator("b").count() == 0 and "<b>inte fet</b>" in live.inner_text()
    page.screenshot(path=str(shots / "form.png"), full_page=True)

    page.click("#capture-preview")
    page.wait_for_selector("#similar")
    first = page.locator("#similar .kb-related-item").first
    assert "kb-other-area" in (first.get_attribute("class") or "")  # other areas first
    assert page.locator("#f-title").input_value().startswith("Kapacitetsbrist")  # kept
    page.screenshot(path=str(shots / "preview.png"), full_page=True)

    page.click("#capture-save")
    page.wait_for_selector(".kb-related")
    assert "/-/kb/entry/kapacitetsbrist-i-elnatet-stoppade-laddplatser-i-hyllie" in page.url
    assert page.locator("h1").inner_text() == "Kapacitetsbrist i elnätet stoppade laddplatser i Hyllie"
    assert page.locator(".kb-related-item").count() >= 1
    # the author (from the actor) is in the file, and published only when kb.toml says so
    assert "anna" not in page.locator(".kb-facts").inner_text()
    page.screenshot(path=str(shots / "entry.png"), full_page=True)
    assert not problems, problems  # no script errors, no CSP violations
    saved = kb_root / "entries/mobilitet/kapacitetsbrist-i-elnatet-stoppade-laddplatser-i-hyllie.md"
    assert "author: anna" in saved.read_text(encoding="utf-8")
