"""Search: modes, filters, roll-up to entries, safe keyword queries, snippets, similar."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.core.errors import EntryNotFound, KBError
from search.filters import Filters, parse_until
from search.keyword import fts_query
from search.query import SearchResult
from search.similar import other_areas_first
from search.text import highlight_html, make_snippet


def test_results_are_entries_with_the_promised_fields(indexed_kb):
    results = indexed_kb.search("upphandling av cykelbana", limit=10)
    ids = [r.id for r in results]
    assert ids[0] == "cykel-upphandling"
    assert len(ids) == len(set(ids))  # one row per entry, not per chunk
    data = results[0].to_dict()
    for key in ("id", "title", "area", "type", "date", "score", "snippet", "path"):
        assert key in data
    assert data["path"] == "entries/mobilitet/cykel-upphandling.md"
    assert "upphandling" in data["snippet"].lower()


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_filters_apply_in_every_mode(indexed_kb, mode):
    query = "elnät kapacitet upphandling solar"
    by_area = indexed_kb.search(query, mode=mode, filters=Filters(areas=("bygg",)))
    assert {r.area for r in by_area} == {"bygg"}
    by_type = indexed_kb.search(query, mode=mode, filters=Filters(types=("obstacle",)))
    assert {r.type for r in by_type} <= {"obstacle"} and by_type
    by_tag = indexed_kb.search(query, mode=mode, filters=Filters(tags=("ELNÄT",)))
    assert {r.id for r in by_tag} <= {"laddplatser", "vaermepump-holma"} and by_tag
    by_period = indexed_kb.search(query, mode=mode, filters=Filters(since="2026-01-01", until="2026-03-31"))
    assert {r.id for r in by_period} <= {"cykel-upphandling"}
    nothing = indexed_kb.search(query, mode=mode, filters=Filters(since="2030-01-01"))
    assert nothing == []


def test_keyword_mode_finds_only_entries_with_the_words(indexed_kb):
    results = indexed_kb.search("Stadsfastigheter", mode="keyword")
    assert [r.id for r in results] == ["solar-roofs"]
    assert indexed_kb.search("ordetfinnsinte", mode="keyword") == []


@pytest.mark.parametrize(
    "query",
    ['"', 'cykel" OR "', "NEAR(a b)", "a*", "AND OR NOT", "col:value", "'; drop table entries; --", "^(", "x" * 10_000],
)
def test_fts_syntax_in_queries_is_just_text(indexed_kb, query):
    for mode in ("keyword", "hybrid"):
        indexed_kb.search(query, mode=mode)  # never raises


def test_empty_query_and_unknown_mode(indexed_kb):
    assert indexed_kb.search("   ") == []
    with pytest.raises(KBError, match="unknown search mode"):
        indexed_kb.search("x", mode="fuzzy")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_search(indexed_kb, text):
    for mode in ("keyword", "hybrid"):
        results = indexed_kb.search(text, mode=mode)
        assert isinstance(results, list)
    assert fts_query(text) is None or fts_query(text).count('"') % 2 == 0


def test_similar_and_other_areas(indexed_kb):
    results = indexed_kb.similar("laddplatser", limit=3)
    assert "laddplatser" not in [r.id for r in results]
    others = indexed_kb.similar("laddplatser", other_areas=True)
    assert others and all(r.area != "mobilitet" for r in others)
    with pytest.raises(EntryNotFound):
        indexed_kb.similar("finns-inte")


def test_snippet_and_highlight():
    text = "Inledning. " + "fyll " * 80 + "Upphandlingen av laddplatser blev försenad. " + "slut " * 80
    snippet = make_snippet(text, ["upphandling"], width=120)
    assert "Upphandlingen" in snippet and snippet.startswith("…") and snippet.endswith("…")
    marked = highlight_html("<b>Upphandlingen</b> & laddplatser", ["upphandling", "laddplats"])
    assert marked == "&lt;b&gt;<mark>Upphandlingen</mark>&lt;/b&gt; &amp; <mark>laddplatser</mark>"


def test_until_accepts_months_and_years():
    assert parse_until("2026-02") == "2026-02-28"
    assert parse_until("2025") == "2025-12-31"
    with pytest.raises(KBError):
        parse_until("juni")


def test_other_areas_first_keeps_two_places_for_the_own_area_and_fills_from_either_side():
    def hit(entry_id, area):
        return SearchResult(id=entry_id, title=entry_id, area=area, area_name=area, type="lesson",
                            date="2026-01-01", score=0.5, snippet="", path="")

    found = [hit("s1", "bygg"), hit("o1", "energi"), hit("s2", "bygg"), hit("o2", "mobilitet"),
             hit("o3", "energi"), hit("s3", "bygg"), hit("o4", "energi")]
    assert [r.id for r in other_areas_first(found, "bygg", 4)] == ["o1", "o2", "s1", "s2"]
    # few of the own area: the other areas take the places
    assert [r.id for r in other_areas_first(found[:2] + found[3:5], "bygg", 4)] == ["o1", "o2", "o3", "s1"]
    # few of other areas: the own area fills up
    assert [r.id for r in other_areas_first([found[0], found[1], found[2], found[5]], "bygg", 4)] == \
        ["o1", "s1", "s2", "s3"]


def test_snippet_starts_at_a_sentence_and_keeps_headings_apart():
    chunk = ("Vad hände?\nMKB ska byta från fjärrvärme till bergvärme i Holma. Sweco skulle börja rita i "
             "januari. Vår energiingenjör ville först skicka en förfrågan om kapacitetskontroll till E.ON, "
             "med en grov uppskattning av effektbehovet, innan någon började projektera. Det kändes som en "
             "omväg.\n\n### Lärdomar\n- boka kapacitetsbesked\n- rita sedan")
    snippet = make_snippet(chunk, ["kapacitetskontroll"], width=200, labels=("Vad hände?",))
    # the section heading is not run into the text: the page shows it apart
    assert not snippet.startswith("Vad hände?") and "hände? MKB" not in snippet
    # the window begins where the sentence with the words begins, whole sentences after it
    assert snippet.startswith("Vår energiingenjör") or snippet.startswith("Sweco skulle")
    assert "kapacitetskontroll" in snippet and snippet.endswith("…")
    # headings and list items inside the text stay apart from each other
    whole = make_snippet(chunk, ["kapacitetsbesked"], width=120, labels=("Vad hände?",))
    assert "Lärdomar · boka kapacitetsbesked · rita sedan" in whole
    # a first line that is not a label is text, kept
    assert make_snippet("Kort rad\nmed fortsättning.", [], labels=("Något annat",)) == "Kort rad med fortsättning."
    # an entry's title line (the whole-entry chunk) is left out too
    assert make_snippet("Rubriken\nTexten börjar här.", [], labels=("", "Rubriken")) == "Texten börjar här."


def test_little_words_are_not_highlighted():
    marked = highlight_html("Upphandling av laddplatser och elnät", ["upphandling", "av", "laddplatser", "och"])
    assert marked == "<mark>Upphandling</mark> av <mark>laddplatser</mark> och elnät"
