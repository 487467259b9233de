"""Labels of recurring obstacles: a head from the most shared tag and a phrase near the
group's centre, in the language most of the group's entries are written in."""

from __future__ import annotations

import numpy as np

from analysis.corpus import Corpus
from analysis.labels import entry_sentences, group_keywords, group_labels, shared_tag


def corpus_of(entries: list[dict]) -> Corpus:
    rows = {}
    for k, e in enumerate(entries):
        rows[e["id"]] = {"id": e["id"], "title": e["title"], "area": e.get("area", f"a{k % 3}"), "type": "obstacle",
                         "date": "2026-01-01", "sprint": None, "tags": e.get("tags", []), "actors": [],
                         "roadmap": [], "related": [], "body": e["body"], "lang": e.get("lang", "sv")}
    vectors = np.eye(len(entries), 8, dtype=np.float32)
    return Corpus(ids=[e["id"] for e in entries], rows=rows, vectors=vectors, sections=[])


GRID = [
    {"id": "mob", "title": "Elbussdepån i Fosie kan inte anslutas förrän 2029", "tags": ["elnät", "kapacitetsbrist", "buss"],
     "body": "## Vad hände?\nDepån behöver 8 MW. Transformatorstationen är fullt tecknad.\n\n"
             "## Vad lärde vi oss?\nLedtiderna för nya stationer i elnätet är flera år och anslutningar köas.\n\n"
             "## Nästa steg\nVi ringer E.ON om batterier och anslutningar i elnätet nästa vecka."},
    {"id": "byg", "title": "Värmepumparna i Lindängen väntar på elnätet", "tags": ["elnät", "kapacitetsbrist"],
     "body": "## Vad hände?\nNätstationen räcker inte och förstärkningen tar tre år.\n\n"
             "## Vad lärde vi oss?\nDet är elnätet och ledtiderna för anslutningar som bestämmer tidplanen."},
    {"id": "nar", "title": "Landström kräver effekt som nätet saknar", "tags": ["kapacitetsbrist", "hamn"],
     "body": "## Vad hände?\nHamnen fick besked att regionnätet är fullt.\n\n"
             "## Vad lärde vi oss?\nLedtiderna för anslutningar till elnätet sätter gränsen, inte pengarna."},
    {"id": "ene", "title": "The solar park waits in the grid connection queue", "tags": ["elnät", "kapacitetsbrist", "solceller"], "lang": "en",
     "body": "## What happened?\nThe substation has no free capacity for the connection.\n\n"
             "## What did we learn?\nConnections to the grid are queued and the lead times are long."},
    {"id": "other", "title": "Skolmaten fick fler baljväxter", "tags": ["skolmat"],
     "body": "## Vad hände?\nKöken lagade nya rätter med bönor och linser."},
]


def test_label_is_a_phrase_with_the_shared_tag_in_the_main_language():
    corpus = corpus_of(GRID)
    (label,) = group_labels(corpus, [[0, 1, 2, 3]])
    head, phrase = label.split(": ", 1)
    assert head == "Kapacitetsbrist"  # the tag all four carry
    assert len(phrase.split()) >= 4 and "," not in label.split(":")[0]
    assert any(phrase.lower() in s.lower() for i in (0, 1, 2) for s in entry_sentences(corpus.rows[GRID[i]["id"]]))
    assert "ledtiderna" in phrase.lower()  # the words the entries share, not one case's details
    assert not any(w in label for w in ("Fosie", "2029", "E.ON", "batterier"))  # names, numbers, next steps


def test_a_group_written_mostly_in_english_gets_an_english_label():
    english = [dict(GRID[3], id=f"en{k}", area=f"x{k}") for k in range(2)]
    english[1]["body"] = english[1]["body"].replace("queued", "waiting in line")
    corpus = corpus_of([GRID[0], *english, GRID[4], GRID[1]])  # a mostly Swedish knowledge base
    (label,) = group_labels(corpus, [[0, 1, 2]])
    assert label.split()[0].lower() in ("connections", "the")  # no Swedish tag in front of it
    assert "elnät" not in label and "apacitetsbrist" not in label


def test_shared_tag_needs_half_the_group_and_prefers_the_rarest():
    corpus = corpus_of(GRID)
    assert shared_tag(corpus, [0, 1, 2, 3]) == "kapacitetsbrist"  # on all four; elnät on three
    assert shared_tag(corpus, [0, 4]) is None  # nothing both share
    tied = corpus_of([*GRID, *(dict(GRID[4], id=f"more{k}", tags=["elnät"]) for k in range(2))])
    assert shared_tag(tied, [0, 1]) == "kapacitetsbrist"  # both on both; elnät is on more entries overall


def test_without_tags_the_head_is_the_groups_own_word_or_nothing():
    plain = [dict(e, tags=[]) for e in GRID]
    corpus = corpus_of(plain)
    (label,) = group_labels(corpus, [[0, 1, 2]])
    assert len(label.split()) >= 4 and not label.startswith(", ")
    assert group_keywords(corpus, [[0, 1, 2]])[0][0] in label.lower() or ":" not in label


def test_next_steps_are_not_sentences_of_the_obstacle():
    sentences = entry_sentences({"title": "T", "body": GRID[0]["body"]})
    assert "Depån behöver 8 MW." in sentences and not any("batterier" in s for s in sentences)
