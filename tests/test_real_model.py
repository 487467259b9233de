"""The claims that matter, with the real default model on the example knowledge base:
a Swedish paraphrase finds its entry first; an English question finds Swedish entries."""

from __future__ import annotations

import shutil

import pytest

from kb.app.knowledge_base import KnowledgeBase

from .helpers import REPO

pytestmark = [pytest.mark.model, pytest.mark.slow]  # one index of the example knowledge base


@pytest.fixture(scope="module")
def example_kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("example")
    shutil.copy(REPO / "kb.toml", root / "kb.toml")
    shutil.copytree(REPO / "entries", root / "entries")
    kb = KnowledgeBase.open(root, model=None)
    kb.index()
    yield kb
    kb.close()


@pytest.mark.parametrize(
    "query, expected",
    [
        # the author wrote "textilinsamling på skolorna i samband med avslutningen"
        ("barnen lämnade in gamla kläder när terminen slutade", "kon-06-textilinsamling-skolor"),
        # the author wrote about a "sommargata" with an "exitregel"
        (
            "politikerna sa ja till gatuförsöket när vi lovade att avbryta om det inte fungerade",
            "mob-03-sommargata-sofielund-exitregel",
        ),
    ],
)
def test_swedish_paraphrase_finds_its_entry_first(example_kb, query, expected):
    results = example_kb.search(query, limit=5)
    assert results[0].id == expected, [r.id for r in results]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("appeal against the procurement delayed the bike lane by a year", "mob-02-cykelbana-overprovning"),
        ("the harbour owns the land so we cannot plan green areas there", "sta-04-nyhamnen-mark-cmp"),
    ],
)
def test_english_query_finds_a_swedish_entry_in_the_top_3(example_kb, query, expected):
    results = example_kb.search(query, limit=3)
    assert expected in [r.id for r in results]
    assert example_kb.store.get_entries([expected])[expected]["lang"] == "sv"


def test_the_index_records_the_default_model(example_kb):
    assert example_kb.store.get_meta("model_id") == "multilingual-e5-small-q4"
    assert example_kb.store.get_meta("dim") == "384"
