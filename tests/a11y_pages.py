"""The pages a staff member meets, and how to check them in a browser: axe-core's WCAG 2.0/2.1
A and AA rules, the page's ``lang`` and words left over from the other language.

Shared by the browser test (tests/test_browser_a11y.py) and the measurement script
(bench/axe_pages.py). A new page is one line in :data:`PAGES`; a page that needs a
signed-in writer says ``signed_in=True``, a page state reached by using the page (a form
sent empty, a preview) names a step from :data:`STEPS`.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from kb.cli import cli

REPO = Path(__file__).resolve().parent.parent
AXE_JS = REPO / ".axe" / "node_modules" / "axe-core" / "axe.min.js"  # `make install` puts it there
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # the law's level: WCAG 2.1 A and AA
BEST_PRACTICE = ["best-practice"]  # landmarks, headings in order, one <h1>, a skip link that works
WRITER, PASSWORD = "anna", "korrekt häst batteri"

# Words of the other language that must not be left in a page's own-language text. Entry
# content is exempt: it is marked with its own ``lang`` (WCAG 3.1.2) and skipped.
LEFTOVERS = {
    "sv": [r"\bhome\b", r"\brows?\b", r"Suggested facets", r"\bMenu\b", r"Powered by", r"This data as",
           r"Advanced export", r"Next page", r"\bApply\b", r"closest entries", r"roadmap actions of",
           r"\bmutual\b", r"\bshares\b", r"rare words", r"confirmed by", r"\bsimilarity\b", r"\bauthor\b",
           r"kb link", r"\bsearch\b", r"\bSkip\b", r"\bentries\b", r"\bLog out\b", r"nearest entry",
           r"same (area|sprint)", r"\bmatches\b", r"\btop-\d"],
    "en": [r"\bSök\b", r"\bområden?\b", r"\bposter\b", r"Hoppa", r"\bträffar\b", r"\bLogga\b", r"\bnärmaste\b",
           r"\bdelar\b", r"\bbekräftad\b", r"\bFörhandsgranska\b", r"\bTillgänglighet", r"\bgemensamma\b",
           r"\bStart\b"],
}


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    lang: str = "sv"
    signed_in: bool = False
    step: str | None = None  # a key of STEPS, run after the page has loaded (returns the HTTP status)
    ours: bool = True  # False: Datasette's own page (no ?lang there, the KB's language)


def submit_empty(page) -> int:
    """The form sent with nothing filled in, from the keyboard: the page with errors."""
    page.fill("#f-title", "")
    page.focus("#capture-preview")
    with page.expect_navigation() as sent:
        page.keyboard.press("Enter")
    page.wait_for_selector(".kb-errors")
    return sent.value.status


def fill_and_preview(page) -> int:
    """A draft typed in and previewed on the server: the page with the preview and the
    similar lessons."""
    page.fill("#f-title", "Kapacitetsbrist i elnätet stoppade laddplatser i Hyllie")
    page.select_option("#f-area", "mobilitet")
    page.select_option("#f-type", "obstacle")
    page.fill("#f-tags", "elnät, laddning")
    page.fill("#f-happened", "E.ON hade **ingen** kapacitet kvar.\n\n- snabbladdare\n- taxi")
    page.fill("#f-learned", "Boka kapacitetsbesked hos nätägaren innan platsen väljs.")
    with page.expect_navigation() as sent:
        page.click("#capture-preview")
    page.wait_for_selector("#similar")
    return sent.value.status


STEPS = {"submit_empty": submit_empty, "fill_and_preview": fill_and_preview}


def follow_lund(root: Path) -> None:
    """The example's second knowledge base (examples/lund) published and followed as Lund."""
    shutil.copytree(REPO / "examples" / "lund", root.parent / "lund")
    env = {"KB_MODEL": "hash", "KB_ROOT": None}
    for args in (["index", "--root", str(root.parent / "lund"), "--quiet"],
                 ["publish", "--root", str(root.parent / "lund"), "-o", str(root.parent / "lund-open")],
                 ["index", "--root", str(root), "--quiet"],
                 ["follow", str(root.parent / "lund-open"), "--name", "Lund", "--root", str(root)]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output

ENTRY = "mob-02-cykelbana-overprovning"  # in the example knowledge base (the repository root)
NO_HITS = "/-/kb/search?q=upphandling&area=central&type=idea&since=2099-01-01"

_OURS = [
    ("front", "/"),
    ("search", "/-/kb/search"),
    ("search-results", "/-/kb/search?q=upphandling+av+laddplatser"),
    ("search-none", NO_HITS),
    ("search-no-close", "/-/kb/search?q=recept+p%C3%A5+kanelbullar+med+kardemumma"),  # the nearest, all weak
    ("search-close-only", "/-/kb/search?q=recept+p%C3%A5+kanelbullar+med+kardemumma&close=1"),
    ("entry", f"/-/kb/entry/{ENTRY}"),
    ("synergies", "/-/kb/synergies"),
    ("obstacles", "/-/kb/obstacles"),
    ("conflicts", "/-/kb/conflicts"),
    ("links", "/-/kb/links/mob-01-laddhubb-eon-tidig-dialog"),
    ("brief", "/-/kb/brief"),
    ("policy", "/-/kb/policy"),
    ("roadmaps", "/-/kb/roadmaps"),
    ("roadmap", "/-/kb/roadmaps/mobilitet"),
    ("sign-in", "/-/kb/login"),
    ("statement", "/-/kb/tillganglighet"),
    ("actions", "/-/kb/actions"),
    ("actions-overdue", "/-/kb/actions?overdue=1&area=energi"),
    ("action", "/-/kb/actions/energidata-per-byggnad-avtal"),
    ("action-recurred", "/-/kb/actions/en-forvaltning-ager-laddplatsfragan"),  # its obstacle came back
    ("agenda", "/-/kb/agenda"),
    ("sessions", "/-/kb/sessions"),
    # sharing between cities: the open publication, and Lund (examples/lund) followed
    ("open", "/-/kb/open/"),
    ("cities", "/-/kb/cities"),
    ("entry-followed", "/-/kb/entry/lund:lu-01-elbussar-overprovning"),
    ("search-source", "/-/kb/search?q=%C3%B6verpr%C3%B6vning&source=Lund&all=1"),
]


def with_lang(path: str, lang: str) -> str:
    if lang == "sv":
        return path
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


PAGES: list[Page] = [
    *(Page(name, path) for name, path in _OURS),
    Page("form", "/-/kb/new", signed_in=True),
    Page("form-errors", "/-/kb/new", signed_in=True, step="submit_empty"),
    Page("form-preview", "/-/kb/new", signed_in=True, step="fill_and_preview"),
    # the learning loop's forms (the test's writer is also a facilitator)
    Page("action-new", "/-/kb/actions/new?lesson=mob-02-cykelbana-overprovning", signed_in=True),
    Page("action-status", "/-/kb/actions/energidata-per-byggnad-avtal", signed_in=True),
    Page("agenda-forms", "/-/kb/agenda", signed_in=True),
    Page("obstacles-forms", "/-/kb/obstacles", signed_in=True),
    Page("sessions-forms", "/-/kb/sessions", signed_in=True),
    # Datasette's own pages that ours link to (template overrides in datasette_plugins/templates/)
    Page("browse", "/kb/entries?_sort_desc=date&_nocol=embedding&_nocol=content_hash", ours=False),
    Page("row", f"/kb/entries/{ENTRY}", ours=False),
    Page("database", "/kb", ours=False),
    # the same pages in English
    *(Page(name + "-en", with_lang(path, "en"), lang="en") for name, path in _OURS),
    Page("form-en", "/-/kb/new?lang=en", lang="en", signed_in=True),
    Page("form-errors-en", "/-/kb/new?lang=en", lang="en", signed_in=True, step="submit_empty"),
    Page("form-preview-en", "/-/kb/new?lang=en", lang="en", signed_in=True, step="fill_and_preview"),
    Page("action-new-en", "/-/kb/actions/new?lesson=mob-02-cykelbana-overprovning&lang=en", lang="en",
         signed_in=True),
    Page("agenda-forms-en", "/-/kb/agenda?lang=en", lang="en", signed_in=True),
]

# the own-language text of a page: text nodes whose nearest [lang] is the page's own
_OWN_TEXT_JS = """() => {
  const lang = document.documentElement.lang;
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, code, pre, textarea, [hidden]')) continue;
    const marked = parent.closest('[lang]');
    if (marked && marked.lang !== lang) continue;
    out.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], img[alt]')) {
    const marked = el.closest('[lang]');
    if (marked && marked.lang !== lang) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      if (el.hasAttribute(name)) out.push(el.getAttribute(name));
    }
  }
  out.push(document.title);
  return out.join(' ');
}"""

_AXE_RUN_JS = """async tags => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, tags: v.tags,
    count: v.nodes.length, targets: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
}"""


def sign_in(context, base: str) -> None:
    page = context.new_page()
    page.goto(base + "/-/kb/login")
    page.fill("#f-username", WRITER)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.close()


def open_page(context, base: str, spec: Page):
    """The page loaded (and its step run); returns the Playwright page and the HTTP status
    of the last page loaded."""
    page = context.new_page()
    response = page.goto(base + spec.path)
    status = response.status if response else 0
    if spec.step:
        status = STEPS[spec.step](page)
    return page, status


def axe_violations(page, tags: list[str] = AXE_TAGS) -> list[dict]:
    """axe-core's violations of the rules with these tags (WCAG 2.0/2.1 A and AA unless told)
    on the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_AXE_RUN_JS, tags)


def leftovers(page, lang: str) -> list[str]:
    """Words of the other language found in the page's own-language text."""
    own = page.evaluate(_OWN_TEXT_JS)
    return [m.group(0) for pattern in LEFTOVERS[lang] for m in [re.search(pattern, own)] if m]
