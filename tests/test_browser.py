"""A real browser (Debian's headless Chromium) against a running ``kb serve``."""

from __future__ import annotations

import pytest

from .helpers import open_sql, running_server

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


@pytest.fixture
def open_sql_server(kb_root, tmp_path):
    open_sql(kb_root)  # the SQL editor for every visitor
    with running_server(kb_root, tmp_path / "serve.log") as (base, _):
        yield base


def test_datasette_pages_work_under_their_content_security_policy(chromium, open_sql_server):
    page = chromium.new_page()
    problems: list[str] = []  # a script the policy blocks is a console error ("Refused to execute ...")
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    response = page.goto(open_sql_server + "/kb?sql=select+id,+title+from+entries+order+by+id")
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    page.wait_for_selector(".CodeMirror")  # the SQL editor's inline set-up ran
    assert page.locator("button#sql-format").is_visible()
    assert page.locator("table.rows-and-columns tbody tr").count() == 4
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" limit 2")
    page.locator("form.sql input[type=submit]").click()
    page.wait_for_url("**limit+2**")
    assert page.locator("table.rows-and-columns tbody tr").count() == 2
    for path in ("/kb", "/kb/entries", "/kb/entries/laddplatser", "/kb/latest_obstacles_per_area"):
        assert page.goto(open_sql_server + path).headers.get("content-security-policy"), path
        page.wait_for_load_state("load")
    assert not problems, problems
