"""A real browser (Debian's headless Chromium) against a running ``kb serve``."""

from __future__ import annotations

import pytest

from .helpers import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(kb_root, tmp_path):
    with running_server(kb_root, tmp_path / "serve.log") as (base, output):
        assert f"{base}/" in output  # kb serve prints its URL
        yield base


def test_search_then_open_an_entry_and_its_related_lessons(chromium, server, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = chromium.new_page(viewport={"width": 390, "height": 844})  # a phone
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
    assert (shots / "search.png").stat().st_size > 1000
    assert (shots / "entry.png").stat().st_size > 1000
