"""Snowball stemming of Swedish and English text, for the keyword index.

Swedish inflects at the end of words (upphandling, upphandlingen, upphandlingar); the
stemmed columns of the full-text index let a query match every form. Diacritics are
kept: å, ä and ö are separate letters in Swedish.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"\w+", re.UNICODE)
STEMMER_LANGUAGES = {"sv": "swedish", "en": "english"}


@functools.lru_cache(maxsize=4)
def _stemmer(lang: str):
    import snowballstemmer

    return snowballstemmer.stemmer(STEMMER_LANGUAGES.get(lang, "swedish"))


@functools.lru_cache(maxsize=200_000)
def stem_word(word: str, lang: str = "sv") -> str:
    return _stemmer(lang).stemWord(word)


def stem_text(text: str | None, lang: str = "sv") -> str:
    """The words of ``text``, lower-cased and stemmed, joined by spaces."""
    return " ".join(stem_word(w, lang) for w in _WORD.findall((text or "").lower()))
