"""Windows are cut with few token counts but exactly where a one-by-one greedy cuts them."""

from __future__ import annotations

import math
import random

import pytest

from indexer.chunk import ChunkSettings, sentences, windows_with_counts


def greedy_windows(text, count_tokens, settings):
    """The plain algorithm: extend a window one sentence at a time, counting each time."""
    units = sentences(text)
    windows, start = [], 0
    while start < len(units):
        end = start + 1
        while end < len(units) and count_tokens(" ".join(units[start : end + 1])) <= settings.max_tokens:
            end += 1
        windows.append(" ".join(units[start:end]))
        if end >= len(units):
            break
        start = max(start + 1, end - settings.overlap_sentences)
    return windows


def joins_cost_a_token(text):  # sums of parts undercount a joined text
    return 3 + len(text.split()) + text.count(". ")


def joins_save_tokens(text):  # sums of parts overcount a joined text
    return 2 + math.ceil(len(text) / 7)


def random_text(rng):
    words = ["grid", "capacity", "procurement", "appeal", "district", "heating", "tender", "delay"]
    return " ".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(2, 14))).capitalize() + "."
        for _ in range(rng.randint(1, 40))
    )


@pytest.mark.parametrize("count", [joins_cost_a_token, joins_save_tokens])
def test_same_windows_as_the_one_by_one_greedy(count):
    rng = random.Random(7)
    calls = 0

    def counting(text):
        nonlocal calls
        calls += 1
        return count(text)

    settings = ChunkSettings(max_tokens=40)
    units_total = 0
    for _ in range(200):
        text = random_text(rng)
        expected = [text] if count(text) <= settings.max_tokens else greedy_windows(text, count, settings)
        windows = windows_with_counts(text, counting, settings)
        assert [w for w, _ in windows] == expected
        assert all(n == count(w) for w, n in windows)
        units_total += len(sentences(text))
        assert all(count(w) <= settings.max_tokens for w in expected)
    assert calls < 4 * units_total  # linear in the number of sentences, not quadratic
