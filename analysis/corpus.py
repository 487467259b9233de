"""The indexed knowledge base as arrays, for the cross-area analyses (links, obstacles,
conflicts, duplicates): entry rows, entry vectors, one vector per section role, and word
statistics for rare-word overlap and readable group labels.

Loaded from SQLite in one pass; everything after that is numpy.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from indexer.embed import PASSAGE
from indexer.parse import body_is_unfilled
from kb.core.store import decode_vector

# Section roles from the headings people actually write (Swedish and English).
ROLE_PATTERNS = {
    "lesson": re.compile(r"lär|learn|lesson|insikt|takeaway|slutsats|lärdom", re.I),
    "happened": re.compile(r"hände|happen|bakgrund|background|situation", re.I),
    "next": re.compile(r"nästa|next|framåt|steg\b|steps?\b|åtgärd|recommend|rekommend", re.I),
    "obstacle": re.compile(r"hinder|obstacle|barri|problem|utmaning|challenge|svårighet", re.I),
}

_WORD = re.compile(r"[^\W\d_][\w\-]*", re.UNICODE)
STOPWORDS = frozenset(
    """
    och att det som en ett den de är var vi för med på till av om inte har hade men så
    från kan ska vid när eller också nu då här där inga ingen alla andra efter innan
    under över utan mot mellan genom hur vad vem vilka vilket vilken sin sina sitt sig
    oss vår våra vårt man mer mest bara även redan sedan sen ju kunde skulle måste blev
    blir bli varit vara gör göra gjorde får fick första två tre fyra fem helt hela
    många mycket något några inget dem deras dess denna detta dessa eftersom medan
    samma också igen andra annan annat därför
    the and that this with from for was were are has have had not but they their them
    our we you its into than then there which what when who how also only just more
    most some any all one two three four five first after before about over under
    between through would could should been being will can did does done
    """.split()
)


_SV = frozenset("och att det som är för med på till av inte har vi var men jag den ett en".split())
_EN = frozenset("the and that to of is for with we was not but in on it this".split())


def detect_language(text: str) -> str:
    tokens = re.findall(r"\w+", text.lower())
    sv = sum(t in _SV for t in tokens)
    en = sum(t in _EN for t in tokens)
    return "en" if en > sv else "sv"


def role_of(heading: str) -> str | None:
    for role, pattern in ROLE_PATTERNS.items():
        if heading and pattern.search(heading):
            return role
    return None


def words(text: str) -> list[str]:
    """Content words, lower-cased and stemmed (Swedish and English snowball)."""
    return [w for w, _ in words_with_surface(text)]


def words_with_surface(text: str) -> list[tuple[str, str]]:
    """(stem, word as written) of each content word, for labels people can read."""
    out = []
    for token in _WORD.findall(text.lower()):
        if len(token) < 4 or token in STOPWORDS:
            continue
        out.append((_stem(token), token))
    return out


_stemmers: dict = {}


@functools.lru_cache(maxsize=200_000)  # a register repeats its words: 600k tokens, 30k words
def _stem(token: str) -> str:
    if "sv" not in _stemmers:
        import snowballstemmer

        _stemmers["sv"] = snowballstemmer.stemmer("swedish")
        _stemmers["en"] = snowballstemmer.stemmer("english")
    stem = _stemmers["sv"].stemWord(token)
    return _stemmers["en"].stemWord(stem) if token.isascii() else stem


@dataclass
class Section:
    entry: int  # position in Corpus.ids
    heading: str
    role: str | None
    text: str
    line: int
    vector: np.ndarray


@dataclass
class Corpus:
    ids: list[str]
    rows: dict[str, dict]
    vectors: np.ndarray  # (n, dim) whole-entry vectors, L2-normalised
    sections: list[Section]
    area_names: dict[str, str] = field(default_factory=dict)
    # the knowledge base's model, for texts that are not in the index (a label's candidate
    # clauses): texts -> L2-normalised passage vectors; None where there is no model
    embed: Callable[[list[str]], np.ndarray] | None = field(default=None, repr=False)
    _by_entry: dict[int, list[Section]] = field(default_factory=dict, repr=False)
    _doc_words: list[Counter] | None = field(default=None, repr=False)
    _df: Counter | None = field(default=None, repr=False)
    _names: set[str] | None = field(default=None, repr=False)  # analysis.labels' proper names
    _clusters: dict[tuple, list[list[int]]] = field(default_factory=dict, repr=False)  # analysis.obstacles
    # who reads the analyses made of it (kb.core.visibility): an audience other than staff reads
    # an index of only what it may see, and nothing kept from the whole one (obstacles.md's labels)
    audience: str = "staff"

    def __post_init__(self) -> None:
        for section in self.sections:
            self._by_entry.setdefault(section.entry, []).append(section)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def areas(self) -> np.ndarray:
        return np.array([self.rows[i]["area"] for i in self.ids])

    @property
    def languages(self) -> np.ndarray:
        """'sv' or 'en' per entry, from function words (cheap and good enough to centre)."""
        return np.array([
            self.rows[e].get("lang") or detect_language(self.rows[e]["title"] + " " + (self.rows[e].get("body") or ""))
            for e in self.ids
        ])

    def centred(
        self, matrix: np.ndarray, mask: np.ndarray | None = None, positions: list[int] | None = None
    ) -> np.ndarray:
        """Subtract each language's mean vector, then renormalise.

        e5 places all Swedish text and all English text in two offset regions; without
        this, a Swedish and an English entry about the same thing look less alike than
        two unrelated Swedish ones. A language needs 3 entries before it is centred."""
        mask = np.ones(len(matrix), dtype=bool) if mask is None else mask
        out = matrix.astype(np.float32).copy()
        languages = self.languages if positions is None else self.languages[positions]
        for language in set(languages.tolist()):
            members = (languages == language) & mask
            if members.sum() >= 3:
                out[members] -= out[members].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def language_means(self) -> dict[str, np.ndarray]:
        """Each language's mean entry vector (what :meth:`centred` subtracts), for languages
        with 3 entries or more."""
        languages = self.languages
        return {lang: self.vectors[languages == lang].mean(axis=0) for lang in set(languages.tolist())
                if (languages == lang).sum() >= 3}

    def position(self, entry_id: str) -> int:
        return self.ids.index(entry_id)

    def sections_of(self, i: int) -> list[Section]:
        return self._by_entry.get(i, [])

    def role_matrix(self, role: str) -> tuple[np.ndarray, np.ndarray]:
        """One vector per entry for a section role (mean of its windows), and a has-role mask."""
        dim = self.vectors.shape[1] if self.vectors.size else 0
        out = np.zeros((self.n, dim), dtype=np.float32)
        mask = np.zeros(self.n, dtype=bool)
        for i in range(self.n):
            vecs = [s.vector for s in self.sections_of(i) if s.role == role]
            if vecs:
                v = np.mean(vecs, axis=0)
                out[i] = v / (np.linalg.norm(v) + 1e-12)
                mask[i] = True
        return out, mask

    def obstacle_vector(self, i: int, *, whole: bool) -> np.ndarray | None:
        """The text that states the obstacle: an obstacle section if there is one; for an
        obstacle entry otherwise the whole entry; for other entries nothing."""
        vecs = [s.vector for s in self.sections_of(i) if s.role == "obstacle"]
        if vecs:
            v = np.mean(vecs, axis=0)
            return v / (np.linalg.norm(v) + 1e-12)
        return self.vectors[i] if whole else None

    # --- words -------------------------------------------------------------------
    def doc_words(self) -> list[Counter]:
        if self._doc_words is None:
            self._doc_words = [
                Counter(words(self.rows[e]["title"] + "\n" + (self.rows[e].get("body") or "")))
                for e in self.ids
            ]
        return self._doc_words

    def doc_frequency(self) -> Counter:
        """In how many entries each (stemmed) word occurs."""
        if self._df is None:
            self._df = Counter()
            for doc in self.doc_words():
                self._df.update(doc.keys())
        return self._df

    def word_weights(self) -> list[dict[str, float]]:
        """Per entry, its words' L2-normalised sublinear TF-IDF weights (words on 2+ entries):
        the rows of :meth:`word_tfidf` without the zeros."""
        docs = self.doc_words()
        df = self.doc_frequency()
        out = []
        for doc in docs:
            weights = {w: (1 + math.log(c)) * math.log(self.n / df[w]) for w, c in doc.items() if df[w] >= 2}
            norm = math.sqrt(sum(v * v for v in weights.values()))
            out.append({w: v / norm for w, v in weights.items()} if norm else {})
        return out

    def word_tfidf(self) -> np.ndarray:
        """Rows: entries; L2-normalised sublinear TF-IDF of their content words."""
        docs = self.doc_words()
        df = self.doc_frequency()
        vocab = {w: k for k, w in enumerate(sorted(df))}
        matrix = np.zeros((self.n, len(vocab)), dtype=np.float32)
        for i, doc in enumerate(docs):
            for w, c in doc.items():
                if df[w] < 2:  # a word in one entry links nothing
                    continue
                matrix[i, vocab[w]] = (1 + math.log(c)) * math.log(self.n / df[w])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

    def shared_field_values(self, i: int, j: int) -> dict[str, list[str]]:
        """Tags, actors and roadmap ids the two entries share, per field, rarest first."""
        counts = self._field_counts()
        a, b = self.rows[self.ids[i]], self.rows[self.ids[j]]
        out: dict[str, list[str]] = {}
        for key in ("tags", "actors", "roadmap"):
            shared = set(_lower(a.get(key))) & set(_lower(b.get(key)))
            if shared:
                out[key] = sorted(shared, key=lambda v: (counts[(key, v)], v))
        return out

    def field_overlap(self) -> np.ndarray:
        """IDF-weighted count of shared rare tags/actors/roadmap ids, for all pairs."""
        m = self.field_matrix()
        return m @ m.T

    def field_matrix(self) -> np.ndarray:
        """Rows: entries; columns: tag/actor/roadmap values on 2+ entries, weighted by
        sqrt(IDF) (a row times another is their IDF-weighted overlap)."""
        counts = self._field_counts()
        keys = sorted(counts)
        col = {k: c for c, k in enumerate(keys)}
        m = np.zeros((self.n, len(keys)), dtype=np.float32)
        for i, e in enumerate(self.ids):
            for key in ("tags", "actors", "roadmap"):
                for value in set(_lower(self.rows[e].get(key))):
                    df = counts[(key, value)]
                    if df >= 2:
                        m[i, col[(key, value)]] = math.sqrt(math.log(self.n / df))
        return m

    def _field_counts(self) -> Counter:
        counts: Counter = Counter()
        for e in self.ids:
            for key in ("tags", "actors", "roadmap"):
                counts.update((key, v) for v in set(_lower(self.rows[e].get(key))))
        return counts


def _lower(values) -> list[str]:
    return [str(v).strip().lower() for v in (values or []) if str(v).strip()]


def load_corpus(kb, *, followed: bool = False) -> Corpus:
    """Everything the cross-area analyses need, read once from the index: our own entries,
    and with ``followed`` the other cities' lessons after them (:mod:`analysis.crosscity`)."""
    kb.require_index()
    store = kb.store
    dim = int(store.get_meta("dim") or kb.embedder.dim)
    found = store.entry_vectors(dim)  # (ids, vectors[, languages]) as the store grows
    ids, vectors = found[0], found[1]
    if followed:
        theirs = store.entry_vectors(dim, followed=True)
        ids, vectors = ids + theirs[0], np.vstack([vectors, theirs[1]])
    rows = store.get_entries(ids)
    # an unfilled template (headings, no text) has nothing to compare: it stays searchable
    # but takes no part in links, groups, conflicts or the brief's counts
    with_text = {r[0] for r in store.db.execute("select distinct entry_id from chunks where kind = 'section'")}
    keep = [k for k, e in enumerate(ids) if e in with_text or not body_is_unfilled(rows[e].get("body") or "")]
    if len(keep) < len(ids):
        ids, vectors = [ids[k] for k in keep], vectors[keep]
        rows = {e: rows[e] for e in ids}
    position = {e: k for k, e in enumerate(ids)}
    grouped: dict[tuple[int, str], list] = {}
    for entry_id, kind, heading, text, line, blob in store.db.execute(
        "select entry_id, kind, heading, text, line, embedding from chunks "
        "where kind = 'section' order by entry_id, seq"
    ):
        if entry_id not in position or not blob:
            continue
        grouped.setdefault((position[entry_id], heading or ""), []).append((text, line, decode_vector(blob)))
    sections = []
    for (i, heading), parts in grouped.items():
        v = np.mean([p[2] for p in parts], axis=0)
        sections.append(
            Section(
                entry=i,
                heading=heading,
                role=role_of(heading),
                text=" ".join(p[0] for p in parts),
                line=parts[0][1],
                vector=(v / (np.linalg.norm(v) + 1e-12)).astype(np.float32),
            )
        )
    return Corpus(
        ids=list(ids),
        rows=rows,
        vectors=vectors,
        sections=sections,
        area_names={slug: a.name for slug, a in kb.config.areas.items()},
        embed=lambda texts: kb.embedder.embed(texts, PASSAGE),
        audience=getattr(kb, "audience", "staff"),
    )
