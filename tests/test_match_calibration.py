"""The close threshold measured on each knowledge base at index time (search.calibration):
the probe questions' best scores, stored in the index, read by every search, measured again
when the knowledge base changes."""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pytest

from kb.app.knowledge_base import KnowledgeBase
from search.calibration import (
    PROBE_MARGIN,
    PROBE_QUANTILE,
    calibrate,
    needs_calibration,
    probe_questions,
    probe_scores,
    threshold_from,
)
from search.match import (
    COVERAGE_WEIGHT,
    META_KEY,
    SUBJECT_WEIGHT,
    close_threshold,
    kb_rule,
    kb_threshold,
    stored,
)

NEW_ENTRY = """\
    ---
    title: Bilpoolen i Västra hamnen fick fler medlemmar när garaget blev billigare
    area: mobilitet
    date: 2026-05-02
    type: lesson
    ---
    ## Vad hände?
    Parkeringsavgiften i garaget sänktes för bilpoolens bilar.
    """


def test_the_probes_are_everyday_questions_in_both_languages():
    probes = probe_questions()
    languages = [lang for lang, _ in probes]
    assert len(probes) >= 60 and set(languages) == {"sv", "en"}
    assert abs(languages.count("sv") - languages.count("en")) <= 2  # neither language decides alone
    assert len({text.casefold() for _, text in probes}) == len(probes)


def test_the_threshold_is_the_best_probe_score_less_a_margin_in_the_probes_own_spread():
    assert PROBE_QUANTILE == 1.0 and PROBE_MARGIN < 0  # the highest, less a margin: what the bench chose
    spread = float(np.std([0.1, 0.3, 0.2]))
    assert threshold_from([0.1, 0.3, 0.2]) == pytest.approx(0.3 + PROBE_MARGIN * spread)
    assert threshold_from([0.1, 0.3, 0.2], quantile=0.5, margin=0.0) == pytest.approx(0.2)
    # the same scores spread twice as wide: the margin doubles (a unit of the knowledge base's own)
    assert threshold_from([0.0, 0.4, 0.2]) - 0.4 == pytest.approx(2 * (threshold_from([0.1, 0.3, 0.2]) - 0.3))
    assert threshold_from([0.1, 0.3, -math.inf]) == pytest.approx(0.3 + PROBE_MARGIN * 0.1)  # a probe with no result
    assert threshold_from([0.25]) == pytest.approx(0.25)  # one probe: no spread
    assert threshold_from([]) is None and threshold_from([-math.inf]) is None


def test_kb_index_measures_the_threshold_and_every_search_reads_it(indexed_kb):
    record = stored(indexed_kb.store)
    assert record is not None and record["generation"] == indexed_kb.store.generation
    assert record["probes"] == len(probe_questions()) and record["margin"] == PROBE_MARGIN
    scores = probe_scores(indexed_kb)
    assert record["threshold"] == pytest.approx(max(scores) + PROBE_MARGIN * float(np.std(scores)), abs=1e-4)
    assert not needs_calibration(indexed_kb.store)
    assert kb_threshold(indexed_kb) == record["threshold"]
    assert indexed_kb.search("upphandling av cykelbana").threshold == record["threshold"]
    similar_found = indexed_kb.search("kapacitet i elnätet", show="all")
    assert all((r.match == "close") == (r.match_score >= record["threshold"]) for r in similar_found)


def test_the_forms_similar_lessons_and_the_web_search_use_the_measured_threshold(indexed_kb):
    from kb.app import capture
    from search.similar import similar_to_unsaved

    from .helpers import datasette_get, draft

    threshold = stored(indexed_kb.store)["threshold"]
    _, entry = capture.build(indexed_kb.config, draft(area="mobilitet"), "draft--preview")
    found = similar_to_unsaved(indexed_kb, entry, limit=4)
    assert found.threshold == threshold
    page = datasette_get(indexed_kb.config.root, "/-/kb/search.json?q=kapacitet+i+elnätet")
    assert page.json()["close_at"] == round(threshold, 3)  # the page gives three decimals


def test_a_changed_knowledge_base_is_measured_again_and_an_unchanged_one_is_not(indexed_kb, monkeypatch):
    first = stored(indexed_kb.store)
    calls = []
    monkeypatch.setattr("kb.app.knowledge_base.calibrate", lambda kb: calls.append(kb) or calibrate(kb))
    indexed_kb.index()  # nothing changed: the stored threshold holds
    assert calls == [] and stored(indexed_kb.store) == first
    path = indexed_kb.config.root / "entries" / "mobilitet" / "bilpool.md"
    path.write_text(textwrap.dedent(NEW_ENTRY), encoding="utf-8")
    indexed_kb.index()
    assert len(calls) == 1
    second = stored(indexed_kb.store)
    assert second["generation"] == indexed_kb.store.generation != first["generation"]
    indexed_kb.index(rebuild=True)  # a rebuild always measures (a new database)
    assert len(calls) == 2 and stored(indexed_kb.store)["generation"] == indexed_kb.store.generation


def test_an_index_never_measured_falls_back_to_the_size_rule(indexed_kb):
    indexed_kb.store.set_meta(META_KEY, "")
    assert stored(indexed_kb.store) is None and needs_calibration(indexed_kb.store)
    assert kb_threshold(indexed_kb) == close_threshold(indexed_kb.store.entry_count())
    indexed_kb.store.set_meta(META_KEY, "{not json")
    assert stored(indexed_kb.store) is None
    indexed_kb.store.set_meta(META_KEY, json.dumps({"threshold": "high"}))
    assert stored(indexed_kb.store) is None
    indexed_kb.index()  # the next `kb index` measures it
    assert stored(indexed_kb.store) is not None


def test_a_record_of_other_constants_is_measured_again(indexed_kb):
    record = dict(stored(indexed_kb.store), margin=PROBE_MARGIN - 0.5)
    indexed_kb.store.set_meta(META_KEY, json.dumps(record))
    assert needs_calibration(indexed_kb.store)
    indexed_kb.index()
    assert stored(indexed_kb.store)["margin"] == PROBE_MARGIN


def test_a_threshold_measured_before_the_subject_counted_is_read_without_it_until_measured_again(indexed_kb):
    record = stored(indexed_kb.store)
    assert record["subject_weight"] == SUBJECT_WEIGHT and kb_rule(indexed_kb) == (record["threshold"], SUBJECT_WEIGHT)
    older = {k: v for k, v in record.items() if k != "subject_weight"}
    indexed_kb.store.set_meta(META_KEY, json.dumps(older))
    assert needs_calibration(indexed_kb.store)
    assert kb_rule(indexed_kb) == (record["threshold"], 0.0)  # the score it was measured with
    results = indexed_kb.search("kapacitet i elnätet", show="all")
    assert all(r.match_score == pytest.approx(r.match_parts[0] + COVERAGE_WEIGHT * r.match_parts[1], abs=1e-6) for r in results)
    assert kb_rule(indexed_kb, close_at=0.2) == (0.2, SUBJECT_WEIGHT)  # a threshold given: the current rule
    indexed_kb.index()
    assert stored(indexed_kb.store)["subject_weight"] == SUBJECT_WEIGHT


def test_an_empty_knowledge_base_has_nothing_to_measure(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = tmp_path / "empty"
    (root / "entries").mkdir(parents=True)
    (root / "kb.toml").write_text('[[areas]]\nslug = "energi"\nname = "Energi"\n', encoding="utf-8")
    kb = KnowledgeBase.open(root)
    try:
        kb.index()
        assert stored(kb.store) is None
        assert kb.search("upphandling av cykelbana") == []
    finally:
        kb.close()


def test_each_audience_answers_with_the_threshold_measured_on_what_it_may_see(indexed_kb):
    """The partners' and visitors' files are measured themselves (their probes' best scores
    are those of what they may see), after every measurement of the whole index; a copy made
    later (a save from the form, kb forget) carries the same."""
    from indexer.audience import derive_audiences
    from search.calibration import measure

    root = indexed_kb.config.root
    with (root / "kb.toml").open("a", encoding="utf-8") as toml:  # all shared but the new one
        toml.write('\n[sharing]\nvisibility = "public"\n')
    indexed_kb.config = KnowledgeBase.open(root).config
    path = root / "entries" / "mobilitet" / "bilpool.md"
    path.write_text(textwrap.dedent(NEW_ENTRY).replace("type: lesson\n", "type: lesson\nvisibility: internal\n"),
                    encoding="utf-8")
    indexed_kb.index()
    whole = stored(indexed_kb.store)

    def own(audience):
        reader = KnowledgeBase(indexed_kb.config, embedder=indexed_kb.embedder, read_only=True, audience=audience)
        try:
            return stored(reader.store), measure(reader), reader.store.entry_count()
        finally:
            reader.close()

    for audience in ("partner", "public"):
        kept, measured, entries = own(audience)
        assert kept == measured and kept["generation"] == whole["generation"]
        assert entries < indexed_kb.store.entry_count()  # a file of its own, not the whole index
    derive_audiences(indexed_kb.config, indexed_kb.embedder.dim)  # as a save from the form does
    assert [own(a)[0] for a in ("partner", "public")] == [own(a)[1] for a in ("partner", "public")]
