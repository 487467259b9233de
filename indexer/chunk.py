"""Cut an entry into the pieces that are embedded.

Each entry gives one whole-entry chunk (title + summary) and one chunk per ``##``
section. A section longer than the model sees is split into overlapping windows at
sentence boundaries: nothing is silently cut off by the model's token limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kb.core.entry import Entry

ENTRY_CHUNK = "entry"
SECTION_CHUNK = "section"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass
class Chunk:
    entry_id: str
    seq: int
    kind: str  # "entry" (title + summary) or "section"
    heading: str
    text: str  # what is embedded (the model's prefix is added by the embedder)
    line: int  # 1-based line in the entry file where the text starts
    tokens: int = 0


WINDOW_TOKENS = 250  # measured: 250 beat 500 on SweQUAD-MC train (bench/levers.py)


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = WINDOW_TOKENS
    overlap_sentences: int = 1

    @classmethod
    def for_embedder(cls, embedder) -> ChunkSettings:
        """Windows of ``WINDOW_TOKENS``, never more than the model sees (its limit less room
        for the special tokens and the ``passage: `` prefix)."""
        return cls(max_tokens=max(64, min(WINDOW_TOKENS, embedder.max_tokens - 12)))


def chunk_entry(
    entry: Entry,
    count_tokens: Callable[[str], int],
    settings: ChunkSettings = ChunkSettings(),
) -> list[Chunk]:
    chunks: list[Chunk] = []

    def add(kind: str, heading: str, text: str, line: int) -> None:
        for piece, tokens in windows_with_counts(text, count_tokens, settings):
            chunks.append(
                Chunk(
                    entry_id=entry.id,
                    seq=len(chunks),
                    kind=kind,
                    heading=heading,
                    text=piece,
                    line=line,
                    tokens=tokens,
                )
            )

    if not entry.sections:
        # No sections: the title and the whole text, in windows if it is long (the first
        # window is the whole-entry chunk). Before, everything after the first window was
        # never embedded nor searchable by keyword.
        pieces = windows_with_counts(f"{entry.title}\n{entry.intro}".strip(), count_tokens, settings)
        for i, (piece, tokens) in enumerate(pieces):
            kind = ENTRY_CHUNK if i == 0 else SECTION_CHUNK
            chunks.append(Chunk(entry.id, i, kind, "", piece, 1, tokens))
        return chunks
    # The whole-entry chunk is a summary by design: the title and as much of the
    # summary as fits. The full text is covered by the section chunks below.
    summary = fit_prefix(f"{entry.title}\n{entry.summary}".strip(), count_tokens, settings.max_tokens)
    chunks.append(
        Chunk(entry.id, 0, ENTRY_CHUNK, "", summary, 1, count_tokens(summary))
    )
    if entry.intro.strip():
        add(SECTION_CHUNK, "", entry.intro, 1)
    for section in entry.sections:
        if not section.text.strip():
            continue
        add(SECTION_CHUNK, section.heading, f"{section.heading}\n{section.text}", section.line)
    return chunks


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def windows_with_counts(
    text: str, count_tokens: Callable[[str], int], settings: ChunkSettings
) -> list[tuple[str, int]]:
    """Windows of whole sentences, each within ``max_tokens``, overlapping by a sentence,
    with their token counts (each text counted once)."""
    whole = count_tokens(text)
    if whole <= settings.max_tokens:
        return [(text, whole)]
    units: list[str] = []
    counts: list[int] = []
    for sentence in sentences(text):
        n = count_tokens(sentence)
        if n <= settings.max_tokens:
            units.append(sentence)
            counts.append(n)
        else:
            for piece in _split_words(sentence, count_tokens, settings.max_tokens):
                units.append(piece)
                counts.append(count_tokens(piece))
    # A window's count is close to the sum of its units' (the tokenizer may differ by a
    # token where they join), so the sum proposes where a window ends and exact counts
    # settle it: the same windows as extending one unit at a time with an exact count
    # each, in a few counts per window instead of one per unit.
    overhead = count_tokens("")
    sizes = [max(0, n - overhead) for n in counts]
    exact: dict[tuple[int, int], int] = {(i, i + 1): n for i, n in enumerate(counts)}

    def count(start: int, end: int) -> int:
        if (start, end) not in exact:
            exact[start, end] = count_tokens(" ".join(units[start:end]))
        return exact[start, end]

    windows: list[tuple[str, int]] = []
    start = 0
    while start < len(units):
        end, total = start + 1, overhead + sizes[start]
        while end < len(units) and total + sizes[end] <= settings.max_tokens:
            total += sizes[end]
            end += 1
        while end > start + 1 and count(start, end) > settings.max_tokens:
            end -= 1
        while end < len(units) and count(start, end + 1) <= settings.max_tokens:
            end += 1
        windows.append((" ".join(units[start:end]), count(start, end)))
        if end >= len(units):
            break
        start = max(start + 1, end - settings.overlap_sentences)
    return windows


def fit_prefix(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> str:
    """The longest run of whole words from the start of ``text`` within ``max_tokens``."""
    if count_tokens(text) <= max_tokens:
        return text
    words = text.split(" ")
    low, high = 1, len(words)
    while low < high:  # binary search on the number of words
        mid = (low + high + 1) // 2
        if count_tokens(" ".join(words[:mid])) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    head = " ".join(words[:low])
    return head if count_tokens(head) <= max_tokens else ""


def _split_words(sentence: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    pieces: list[str] = []
    rest = sentence
    while rest:
        piece = fit_prefix(rest, count_tokens, max_tokens)
        if not piece:  # a single "word" longer than the limit: cut by characters
            low, high = 1, len(rest)
            while low < high:
                mid = (low + high + 1) // 2
                if count_tokens(rest[:mid]) <= max_tokens:
                    low = mid
                else:
                    high = mid - 1
            piece = rest[:low]
        pieces.append(piece)
        rest = rest[len(piece) :].strip()
    return pieces
