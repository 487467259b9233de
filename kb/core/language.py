"""Which language a text is in (Swedish or English), from its function words.

Used to centre vectors per language (see kb.vector_index.Centering): e5 places all
Swedish text and all English text in two offset regions, so without centring an English
query finds English entries before the Swedish entry that answers it.
"""

from __future__ import annotations

import re

LANGUAGES = ("sv", "en")
SWEDISH = frozenset(
    "och att det som är för med på till av inte har vi var men jag den ett en om kan ska "
    "hade så från när eller också nu då här där vid efter innan under över mot mellan hur "
    "vad vem vår våra oss sig sin sina blev blir varit skulle måste fick får".split()
)
ENGLISH = frozenset(
    "the and that to of is for with we was not but in on it this are were has have had "
    "they their our from by as at be been will would could should which what when who "
    "how did does into other than then there also only just".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


def language_scores(text: str) -> tuple[int, int]:
    words = _WORD.findall(text.lower())
    return sum(w in SWEDISH for w in words), sum(w in ENGLISH for w in words)


def detect_language(text: str, default: str = "sv") -> str:
    """``"sv"`` or ``"en"``; ``default`` when the text gives no evidence either way."""
    sv, en = language_scores(text)
    if sv == en:
        return default
    return "en" if en > sv else "sv"
