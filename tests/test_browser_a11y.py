"""Accessibility in a real browser (Debian's headless Chromium, ``kb serve`` on a copy of the
example knowledge base): axe-core finds no WCAG 2.0/2.1 A or AA violation and no landmark or
heading problem on any page of tests/a11y_pages.py, each page says its language and has no
words left from the other one, and the pages work from the keyboard alone.

axe-core comes from npm (``make install`` puts it in .axe/); the test fails, not skips, without
it, so CI keeps the check. A new page is one line in ``tests/a11y_pages.PAGES``.
"""

from __future__ import annotations

import shutil

import pytest

from kb.app.auth import hash_password

from .a11y_pages import (
    AXE_JS,
    AXE_TAGS,
    BEST_PRACTICE,
    PAGES,
    PASSWORD,
    REPO,
    WRITER,
    axe_violations,
    follow_lund,
    leftovers,
    open_page,
    sign_in,
)
from .helpers import CHROMIUM, CHROMIUM_ARGS, running_server

pytestmark = pytest.mark.browser
KB_PARTS = ("kb.toml", "entries", "roadmaps", "actions", "agenda", "sessions.tsv", "obstacles.md")


@pytest.fixture(scope="module")
def example_server(tmp_path_factory):
    """``kb serve`` on a copy of the repository's example knowledge base, with a writer."""
    root = tmp_path_factory.mktemp("a11y") / "kb"
    root.mkdir()
    for name in KB_PARTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        elif source.is_file():
            shutil.copy2(source, root / name)
    with open(root / "kb.toml", "a", encoding="utf-8") as config:  # the writer also keeps the loop
        config.write(f'\n[auth]\nroles = {{ {WRITER} = "facilitator" }}\n')
        config.write('\n[web]\nvisitors = "staff"  # every page with all it can hold, as the staff read it\n')
    follow_lund(root)
    writers = {"KB_WRITERS": f"{WRITER}:" + hash_password(PASSWORD, iterations=1000)}
    with running_server(root, root.parent / "serve.log", writers) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: run `make install` (it installs axe-core from npm)"
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def contexts(browser, example_server):
    """An anonymous visitor and a signed-in writer; axe is injected, so the CSP is bypassed
    here (the keyboard tests below keep it)."""
    anonymous = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    writer = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    sign_in(writer, example_server)
    yield {"anonymous": anonymous, "writer": writer}
    anonymous.close()
    writer.close()


@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_accessibility_violations(spec, contexts, example_server):
    page, status = open_page(contexts["writer" if spec.signed_in else "anonymous"], example_server, spec)
    try:
        assert status == (400 if spec.step == "submit_empty" else 200), status  # 400: a form with errors
        assert page.evaluate("document.documentElement.lang") == spec.lang
        violations = axe_violations(page, AXE_TAGS + BEST_PRACTICE)  # one run: WCAG, then structure
        assert not violations, [(v["id"], v["count"], v["targets"]) for v in violations]
        assert page.locator("main#main").count() == 1 and page.locator("nav").count() >= 1
        assert page.locator("h1").count() == 1
        assert not leftovers(page, spec.lang)
    finally:
        page.close()


def focused(page) -> dict:
    """What has the keyboard focus, and whether it shows it (an outline or a background)."""
    return page.evaluate("""() => {
      const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
      return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: (el.innerText || '').trim(),
              outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
              inView: box.top >= 0 && box.bottom <= innerHeight && box.width > 0};
    }""")


def test_skip_link_and_visible_focus(browser, example_server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # the CSP applies here
    try:
        page.goto(example_server + "/-/kb/search")
        page.keyboard.press("Tab")
        first = focused(page)
        assert first["cls"] == "kb-skip" and first["text"] == "Hoppa till innehållet"
        assert first["inView"] and first["outline"]  # shown when focused, not off screen
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        for _ in range(3):  # then into the page's own content, each stop visibly focused
            page.keyboard.press("Tab")
            now = focused(page)
            assert now["outline"] and now["inView"], now
            assert page.evaluate("document.activeElement.closest('main') !== null")
    finally:
        page.close()


def test_search_from_the_keyboard_on_a_phone(browser, example_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(example_server + "/")
        query, main = page.locator("#kb-q"), page.locator("main")
        # the query box takes the whole width of the page's content on a phone
        assert query.bounding_box()["width"] >= 0.9 * main.bounding_box()["width"] - 32
        page.focus("#kb-q")
        page.keyboard.type("upphandling av laddplatser")
        page.keyboard.press("Enter")
        page.wait_for_selector(".kb-result")
        page.wait_for_load_state("load")  # its stylesheet too: a box measured before it has the browser's width
        assert page.locator("#kb-q").bounding_box()["width"] >= 0.9 * page.locator("main").bounding_box()["width"] - 32
        # dates are typed as ÅÅÅÅ-MM-DD, never the browser's mm/dd/yyyy
        for name in ("since", "until"):
            field = page.locator(f"input[name={name}]")
            assert field.get_attribute("type") == "text"
            assert "ÅÅÅÅ-MM-DD" in page.locator(f"label[for={field.get_attribute('id')}]").inner_text()
        # snippets begin at a sentence or say they are cut, and never start with the heading
        for snippet in page.locator(".kb-snippet").all_inner_texts()[:5]:
            assert snippet[0].isupper() or snippet[0] in "…\"”0123456789", snippet
            assert not snippet.startswith(("Vad hände?", "Vad lärde vi oss?", "Nästa steg"))
    finally:
        page.close()


def test_sign_in_fill_preview_and_save_with_the_keyboard_only(browser, example_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # the CSP applies here
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(example_server + "/-/kb/new")
        assert "/-/kb/login" in page.url
        page.focus("#f-username")
        page.keyboard.type(WRITER)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("#capture-form")

        page.focus("#f-title")
        page.keyboard.type("Kapacitetsbrist stoppade laddplatser vid depån")
        page.keyboard.press("Tab")  # the title's hint is text: next stop is the area
        assert page.evaluate("document.activeElement.id") == "f-area"
        page.keyboard.press("ArrowDown")  # the first area
        assert page.locator("#f-area").input_value() != ""
        page.focus("#f-happened")
        page.keyboard.type("E.ON hade **ingen** kapacitet kvar.")
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.keyboard.type("- snabbladdare\n- taxi")
        # the live preview renders the Markdown as the saved page will: bold, a list
        live = page.locator("#capture-live")
        page.wait_for_selector("#capture-live strong")
        assert live.locator("strong").inner_text() == "ingen"
        assert live.locator("li").all_inner_texts() == ["snabbladdare", "taxi"]
        assert live.locator("h3").first.inner_text() == "Vad hände?"

        page.focus("#capture-preview")
        page.keyboard.press("Enter")
        page.wait_for_selector("#similar")
        assert page.locator("#capture-live li").count() == 2  # the server's preview: the same
        page.focus("#capture-save")
        page.keyboard.press("Enter")
        page.wait_for_url("**/-/kb/entry/**")  # the form has a .kb-related list of its own: wait for the page
        page.wait_for_selector("#related")
        body = page.locator(".kb-body")
        assert body.locator("strong").inner_text() == "ingen" and body.locator("li").count() == 2
        assert not problems, problems  # no script errors, no CSP violations
    finally:
        context.close()


def test_form_errors_are_announced_and_lead_to_the_field(browser, example_server, contexts):
    page, status = open_page(contexts["writer"], example_server,
                             next(p for p in PAGES if p.name == "form-errors"))
    try:
        assert status == 400
        summary = page.locator("#capture-errors")
        assert summary.get_attribute("role") == "alert"
        title = page.locator("#f-title")
        assert title.get_attribute("aria-invalid") == "true"
        assert "err-title" in title.get_attribute("aria-describedby")
        summary.locator("a[href='#f-title']").focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "f-title"
    finally:
        page.close()
