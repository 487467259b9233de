"""Language detection and per-language centring of vectors."""

from __future__ import annotations

import numpy as np

from kb.core.language import detect_language
from kb.core.vector_index import Centering


def test_detects_swedish_and_english_from_function_words():
    assert detect_language("Vi fick vänta ett år på beskedet om elnätet och det var för sent.") == "sv"
    assert detect_language("We had to wait a year for the grid decision and it was too late.") == "en"
    assert detect_language("laddplatser", default="en") == "en"  # no evidence: the default


def _offset_corpus(rng, offset_sv, offset_en, n=30, dim=16):
    topics = rng.normal(size=(n, dim))
    swedish = topics + offset_sv
    english = rng.normal(size=(n, dim)) + offset_en  # other topics, in English
    vectors = np.vstack([swedish, english]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return topics, vectors, ["sv"] * n + ["en"] * n


def test_centring_lets_an_english_query_find_the_swedish_text_on_its_topic():
    rng = np.random.default_rng(7)
    dim = 16
    offset_sv, offset_en = rng.normal(size=dim) * 3, rng.normal(size=dim) * 3
    topics, vectors, languages = _offset_corpus(rng, offset_sv, offset_en, dim=dim)
    query = topics[4] + offset_en  # an English question about Swedish text number 4
    query /= np.linalg.norm(query)
    raw_best = int(np.argmax(vectors @ query))
    assert languages[raw_best] == "en"  # without centring the language wins
    centring = Centering.from_vectors(vectors, languages)
    assert centring.active and centring.language_of(query) == "en"
    centred = centring.passages(vectors, languages)
    assert int(np.argmax(centred @ centring.query(query))) == 4
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    again = Centering.from_json(centring.to_json())
    assert np.allclose(again.query(query), centring.query(query), atol=1e-5)


def test_one_language_or_too_little_text_means_no_centring():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    assert not Centering.from_vectors(vectors, ["sv"] * 40).active
    assert not Centering.from_vectors(vectors, ["sv"] * 38 + ["en"] * 2).active
    identity = Centering()
    assert identity.passages(vectors, ["sv"] * 40) is vectors
