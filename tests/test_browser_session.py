"""A learning session prepared in a real browser (headless Chromium, ``kb serve`` on a copy of
the example knowledge base): a writer signs in from an entry page and comes back to it, and
is shown what a writer may do there; a facilitator finds, on the obstacles page, the open
learning question an obstacle is already in, adds the obstacle to it instead of making a
second one, and rewords the question."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from kb.app.agenda import add_question
from kb.app.auth import hash_password
from kb.core.config import load

from .a11y_pages import REPO
from .helpers import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "korrekt häst batteri"
KB_PARTS = ("kb.toml", "entries", "roadmaps", "actions", "agenda", "sessions.tsv")
ENTRY = "byg-05-varmepump-effektabonnemang"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example knowledge base, served, with a writer (anna) and a facilitator (erik); one
    recurring obstacle group is cited by an open learning question."""
    root = tmp_path_factory.mktemp("session") / "kb"
    root.mkdir()
    for name in KB_PARTS:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
    with open(root / "kb.toml", "a", encoding="utf-8") as config:
        config.write('\n[auth]\nroles = { anna = "writer", erik = "facilitator" }\n')
        config.write('\n[web]\nvisitors = "staff"  # the obstacle groups of all 70 lessons, read before signing in\n')
    hashed = hash_password(PASSWORD, iterations=1000)
    with running_server(root, root.parent / "serve.log", {"KB_WRITERS": f"anna:{hashed},erik:{hashed}"}) as (base, _):
        with urllib.request.urlopen(base + "/-/kb/obstacles.json") as r:
            groups = [g for g in json.load(r)["groups"] if g["recurring"] and not g["questions"]]
        group = groups[0]
        question = add_question(load(root), "Hur får vi med alla fall av det här hindret?", owner="Central",
                                entries=group["entries"][:1])
        yield base, group, question


def sign_in_as(page, name):
    page.fill("#f-username", name)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")


def test_a_writer_signs_in_from_an_entry_and_comes_back_to_it(chromium, example):
    base, _, _ = example
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/-/kb/entry/{ENTRY}")
    page.click("nav.kb-nav >> text=Logga in")  # the menu's sign-in carries this page along
    assert "/-/kb/login" in page.url and page.locator("h1").inner_text() == "Logga in"
    sign_in_as(page, "anna")
    page.wait_for_url(f"**/-/kb/entry/{ENTRY}")  # back where she was, not on the form
    actions = page.locator("#actions").inner_text()
    assert "Föreslå åtgärd" not in actions  # no button that leads to a sign-in she cannot pass
    assert "Att föreslå och besluta om åtgärder kräver rollen samordnare." in actions
    assert "Du är inloggad som anna med rollen skribent" in actions
    nav = page.locator("nav.kb-nav").inner_text()
    assert "Logga en reflektion" in nav and "Logga ut" in nav and "Logga in" not in nav
    assert "Tillbaka till sökningen" not in page.content()  # she did not come from a search
    page.goto(f"{base}/-/kb/actions/new?lesson={ENTRY}")  # the form's address typed in: no loop either
    assert "kräver rollen samordnare" in page.locator("main").inner_text()
    assert "/-/kb/login" not in page.url


def test_a_facilitator_adds_an_obstacle_to_the_open_question_instead_of_a_second(chromium, example):
    base, group, question = example
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/-/kb/login?next=/-/kb/obstacles")
    sign_in_as(page, "erik")
    page.wait_for_url("**/-/kb/obstacles")
    section = page.locator("section.xa-group", has=page.locator(f"a[href='/-/kb/agenda#{question.id}']"))
    assert section.count() == 1
    text = section.inner_text()
    assert f"Tas redan upp i lärfrågan {question.question}" in text and "Gör till lärfråga" not in text
    section.locator("button", has_text="Lägg hindrets poster till den lärfrågan").click()
    page.wait_for_url(f"**/-/kb/agenda#{question.id}")
    assert "Hindrets poster är tillagda i lärfrågan." in page.locator("main").inner_text()
    item = page.locator(f"li#{question.id}")
    assert all(page.locator(f"li#{question.id} a[href*='{e}']").count() == 1 for e in group["entries"])
    # reword the question on the page
    item.locator("summary", has_text="Formulera om").click()
    item.locator("input[name=question]").fill("Hur får vi besked om ledig effekt innan vi väljer plats?")
    item.locator("button", has_text="Spara formuleringen").click()
    page.wait_for_url(f"**/-/kb/agenda#{question.id}")
    assert "Hur får vi besked om ledig effekt innan vi väljer plats?" in page.locator(f"li#{question.id} h3").inner_text()
