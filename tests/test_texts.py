"""The text catalogue: both languages for every key, the same placeholders, no key unused,
and pages, messages and handouts in one language at a time."""

from __future__ import annotations

import ast
import re
import string
from html.parser import HTMLParser
from types import MappingProxyType

import pytest
from click.testing import CliRunner

from analysis.policy import group_policy
from kb.app import capture
from kb.app.auth import ROLES
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import config as config_module
from kb.core.actions import OUTCOMES
from kb.core.actions import STATUSES as LOOP_STATUSES
from kb.core.agenda import QUESTION_STATUSES
from kb.core.config import ENTRY_TYPES, POLICY_LEVELS
from kb.core.roadmap import ACTION_STATUSES
from kb.core.texts import LANGUAGES, TEXTS, Message, pick_language, text, texts
from kb.core.visibility import VISIBILITIES
from reports.pictures import NAMES as PICTURE_NAMES
from search.match import CLOSE, WEAK

from .helpers import REPO, datasette_responses

CATALOGUE = REPO / "kb" / "core" / "texts.py"
SOURCE_DIRS = ("kb", "indexer", "search", "analysis", "reports", "datasette_plugins")
LINK_STATUSES = ("confirmed", "suggested", "rejected")  # analysis.links.Synergy.status
# Keys the code builds as a prefix plus an id; each such key must exist for every id.
MATCHES = (CLOSE, WEAK)
BUILT_KEYS = {
    "entry_type_": ENTRY_TYPES,
    "entry_type_plural_": ENTRY_TYPES,
    "policy_level_": POLICY_LEVELS,
    "policy_level_name_": POLICY_LEVELS,
    "report_level_": POLICY_LEVELS,
    "roadmap_status_": ACTION_STATUSES,
    "link_status_": LINK_STATUSES,
    "action_status_": LOOP_STATUSES,
    "outcome_": OUTCOMES,
    "question_status_": QUESTION_STATUSES,
    "visibility_": VISIBILITIES,
    "loop_field_": ("title", "owner", "note", "question", "answer"),  # kb.app.actions.ActionInvalid
    "brief_figure_": PICTURE_NAMES,
    "role_": ROLES,
    "picture_": PICTURE_NAMES,
    "search_match_": MATCHES,  # a search result's match, close or weak
    "related_match_": MATCHES,  # a related or similar lesson's
    "cli_match_": MATCHES,  # a result's mark on its line in kb search and kb similar
}


def placeholders(value: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}


def project_source() -> str:
    files = [p for d in SOURCE_DIRS for p in (REPO / d).rglob("*") if p.suffix in (".py", ".html")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p != CATALOGUE)


# --- the table ---------------------------------------------------------------------------
def test_every_key_has_a_text_in_each_language():
    for key, pair in TEXTS.items():
        assert len(pair) == len(LANGUAGES), key
        assert all(isinstance(value, str) and value.strip() for value in pair), key


def test_each_key_has_the_same_placeholders_in_both_languages():
    mismatched = {key: [placeholders(v) for v in pair] for key, pair in TEXTS.items()
                  if len({frozenset(placeholders(v)) for v in pair}) > 1}
    assert not mismatched


def test_keys_are_written_once():
    # a repeated key in a dict literal silently replaces the first: read the source itself
    tree = ast.parse(CATALOGUE.read_text(encoding="utf-8"))
    table = next(node.value for node in tree.body if isinstance(node, ast.AnnAssign)
                 and getattr(node.target, "id", None) == "TEXTS")
    keys = [k.value for k in table.keys]
    assert len(keys) == len(set(keys)) == len(TEXTS)


def test_no_key_hides_behind_a_mapping_method():
    # templates read t.key; Jinja looks for an attribute first, so t.items would be a method
    assert not set(TEXTS) & set(dir(MappingProxyType({})))


def test_built_keys_exist_for_every_id():
    missing = [prefix + i for prefix, ids in BUILT_KEYS.items() for i in ids if prefix + i not in TEXTS]
    assert not missing


def test_no_key_is_unused():
    source = project_source()
    for prefix in BUILT_KEYS:  # "entry_type_" ~ ty, f"entry_type_{kind}"
        assert re.search(rf"(?<![\w-]){re.escape(prefix)}(?=[\"'{{])", source), prefix
    built = {prefix + i for prefix, ids in BUILT_KEYS.items() for i in ids}
    unused = [key for key in TEXTS if key not in built
              and not re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", source)]
    assert not unused


# --- the API ---------------------------------------------------------------------------------
def test_pick_language_and_lookups():
    assert pick_language("en") == "en" and pick_language("de") == "sv" and pick_language(None, "en") == "en"
    assert pick_language("fr", default="de") == "sv"
    assert texts("en")["search_title"] == "Search the knowledge base" and texts("xx") is texts("sv")
    assert text("search_query_too_long", "en", n=300) == "The query is too long (at most 300 characters)."
    assert text("roadmap_missing", "sv", key="MOB") == "Ingen färdplan för MOB."  # a placeholder named key
    assert Message("capture_check_title_missing").render("en") == "Give a title."
    with pytest.raises(TypeError):
        texts("sv")["search_title"] = "x"  # one shared table: read-only


# --- one language at a time -------------------------------------------------------------------
class VisibleText(HTMLParser):
    """What a reader sees: text nodes and the attributes read out or shown (no markup, URLs
    or class names, which hold English words on every page)."""

    SHOWN = ("placeholder", "title", "alt", "aria-label")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")
        self.parts += [value for name, value in attrs if name in self.SHOWN and value]

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def other_language_phrases(lang: str) -> dict[str, str]:
    """The other language's texts that cannot be this one's: not shared, at least two words
    (single words such as "entries" occur in file paths and entry text), no placeholders. The
    link to the other language is named in that language on purpose."""
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    mine = set(texts(lang).values())
    return {key: value for key, value in texts(other).items()
            if value not in mine and "{" not in value and len(value.split()) >= 2
            and key != "page_other_language"}


def found_phrases(page: str, lang: str) -> dict[str, str]:
    seen = visible_text(page)
    return {key: value for key, value in other_language_phrases(lang).items()
            if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", seen)}


PAGES = ("/-/kb/search?q=cykel", "/-/kb/search", "/-/kb/entry/cykel-upphandling", "/-/kb/synergies",
         "/-/kb/obstacles", "/-/kb/conflicts", "/-/kb/links/cykel-upphandling", "/-/kb/roadmaps",
         "/-/kb/policy", "/-/kb/brief", "/-/kb/login", "/", "/-/kb/tillganglighet")


@pytest.fixture
def web_kb(kb_root):
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    kb.close()
    return kb_root


def test_search_pages_are_in_one_language(web_kb):
    swedish, english = datasette_responses(web_kb, "/-/kb/search?q=cykel", "/-/kb/search?q=cykel&lang=en")
    assert swedish.status_code == english.status_code == 200
    for word in ("Sök i kunskapsbanken", "Vad letar du efter?", "Alla områden", "Hinder", "träffar"):
        assert word in swedish.text and word not in visible_text(english.text)
    for word in ("Search the knowledge base", "What are you looking for?", "All areas", "Obstacle", "results"):
        assert word in english.text and word not in visible_text(swedish.text)
    assert not found_phrases(swedish.text, "sv") and not found_phrases(english.text, "en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_is_in_one_language(web_kb, lang):
    paths = [p + ("" if lang == "sv" else ("&" if "?" in p else "?") + "lang=en") for p in PAGES]
    for path, response in zip(paths, datasette_responses(web_kb, *paths), strict=True):
        assert response.status_code == 200, path
        assert not found_phrases(response.text, lang), path


def test_page_errors_are_in_the_page_language(web_kb):
    swedish, english = datasette_responses(web_kb, "/-/kb/synergies?since=igår&n=x",
                                           "/-/kb/synergies?since=igår&n=x&lang=en")
    assert "Ogiltigt datum: igår" in swedish.text and "Antalet (n)" in swedish.text
    assert "Bad date: igår" in english.text and "The number (n)" in english.text


# --- capture's messages ------------------------------------------------------------------------
def test_capture_messages_come_in_the_language_asked_for(kb_root):
    config = config_module.load(kb_root)
    draft = capture.Draft(title="", area="rymden", date="14 mars", sections=[("Vad hände?", "x")])
    with pytest.raises(capture.CaptureInvalid) as info:
        capture.build(config, draft)
    swedish, english = info.value.lines("sv"), info.value.lines("en")
    assert "title: Skriv en rubrik." in swedish and "date: Ogiltigt datum '14 mars': skriv ÅÅÅÅ-MM-DD." in swedish
    assert "title: Give a title." in english and "date: Bad date '14 mars': write YYYY-MM-DD." in english
    assert not any(" / " in line for line in swedish + english)
    assert str(info.value) == "; ".join(swedish)


def test_kb_new_from_stdin_answers_in_its_lang(kb_root):
    result = CliRunner().invoke(cli, ["new", "--from-stdin", "--lang", "en", "--root", str(kb_root)],
                                input='{"title": "", "area": "energi"}')
    assert result.exit_code == 1
    assert "title: Give a title." in result.output and "Skriv" not in result.output


def test_kb_import_answers_in_its_lang(kb_root, tmp_path):
    register = tmp_path / "register.csv"
    register.write_text("Title,Date,Text\nSolar roofs,14 March,We learned.\n", encoding="utf-8")
    args = ["import", str(register), "--root", str(kb_root), "--map", "title=Title,date=Date",
            "--area", "energi", "--section", "What happened?=Text"]
    english, swedish = (CliRunner().invoke(cli, [*args, "--lang", lang]) for lang in ("en", "sv"))
    assert "row 2: skipped: date: Bad date '14 March': write YYYY-MM-DD." in english.output
    assert "row 2: skipped: date: Ogiltigt datum '14 March': skriv ÅÅÅÅ-MM-DD." in swedish.output


def test_policy_levels_in_the_language_asked_for():
    rows = [{"id": "a", "title": "A", "area": "energi", "type": "obstacle", "date": "2026-01-01",
             "sprint": None, "path": None, "policy": ["national"], "body": ""}]
    (swedish,), (english,) = group_policy(rows), group_policy(rows, lang="en")
    assert (swedish.name, swedish.themes[0].label) == ("Nationell nivå", "Övriga behov")
    assert (english.name, english.themes[0].label) == ("National level", "Other needs")
