"""A facilitator closes the loop in a real browser: from an entry's page, "Föreslå åtgärd", the
form, the new action's page, a status change with a note, the actions page (headless
Chromium, ``kb serve``)."""

from __future__ import annotations

import pytest

from kb.app.auth import hash_password

from .helpers import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "korrekt häst batteri"


@pytest.fixture
def facilitator_server(indexed_kb, tmp_path):
    root = indexed_kb.config.root
    with open(root / "kb.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[auth]\nroles = { erik = "facilitator" }\n')
    writers = {"KB_WRITERS": "erik:" + hash_password(PASSWORD, iterations=1000)}
    with running_server(root, tmp_path / "serve.log", writers) as (base, _):
        yield base


def test_propose_an_action_from_an_entry_and_move_it(chromium, facilitator_server, indexed_kb):
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(facilitator_server + "/-/kb/entry/vaermepump-holma")
    assert page.locator("#actions").inner_text().count("Ingen åtgärd ännu.") == 1
    # anonymous: no button, but which role it takes and a sign-in that comes back here
    assert page.locator("#actions a.kb-button-link").count() == 0
    page.click("#actions .kb-role-note a")
    assert "/-/kb/login" in page.url
    page.fill("#f-username", "erik")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/-/kb/entry/vaermepump-holma")
    page.click("#actions a.kb-button-link")  # "Föreslå åtgärd", now that a facilitator is signed in
    page.wait_for_selector("#f-title")
    assert page.locator("#f-lessons").input_value() == "vaermepump-holma"  # the lesson came along
    page.fill("#f-title", "Kapacitetsbesked före projektering")
    page.fill("#f-owner", "Stadsfastigheter")
    page.fill("#f-due", "2027-03-31")
    page.press("#f-note", "Tab")  # from the keyboard to the button
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Kapacitetsbesked före projektering')")
    assert page.url.endswith("/-/kb/actions/kapacitetsbesked-fore-projektering")
    assert "Föreslagen" in page.locator(".kb-status").first.inner_text()
    page.select_option("#f-status", "agreed")
    page.fill("#f-note", "Beslut i styrgruppen")
    page.click(".kb-loop-form button[type=submit]")
    page.wait_for_selector(".kb-status-agreed")
    assert "Beslut i styrgruppen" in page.locator(".kb-history").inner_text()
    page.goto(facilitator_server + "/-/kb/entry/vaermepump-holma")
    assert "Kapacitetsbesked före projektering" in page.locator("#actions").inner_text()
    page.goto(facilitator_server + "/-/kb/actions?status=agreed")
    assert page.locator(".kb-action-list h2").count() == 1
    assert not problems, problems
    text = (indexed_kb.config.root / "actions/kapacitetsbesked-fore-projektering.md").read_text("utf-8")
    assert "status: agreed" in text and "owner: Stadsfastigheter" in text
