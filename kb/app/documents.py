"""Markdown documents with front matter, as this program writes them (entries, actions,
learning questions): one renderer, safe file names, free ids."""

from __future__ import annotations

import re
import unicodedata

import yaml

from kb.core.characters import CONTROL_RE

_TRANSLITERATE = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "a", "Ä": "a", "Ö": "o",
                                "æ": "ae", "ø": "o", "Æ": "ae", "Ø": "o", "ß": "ss"})


def document_text(meta: dict, sections: list[tuple[str, str]], *, keep_empty: bool = False) -> str:
    """Front matter through ``yaml.safe_dump`` (any title quoted as needed; dates given as
    dates are written plain, as people write them), then one ``##`` section per (heading,
    text). Text is kept as written, except that a line that would open a heading of its own
    is escaped. Empty sections are left out unless ``keep_empty`` (a template to fill)."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
    return f"---\n{front}---\n{sections_text(sections, keep_empty=keep_empty)}"


def sections_text(sections: list[tuple[str, str]], *, keep_empty: bool = False) -> str:
    """``## heading`` + text for each section, as :func:`document_text` writes them."""
    return "\n".join(
        f"## {' '.join(heading.split())}\n{escape_body(text)}\n"
        for heading, text in sections if keep_empty or text.strip()
    )


def escape_body(text: str) -> str:
    text = CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    # '#' at a line start would open a heading (maybe a new ## section): keep it as text
    text = re.sub(r"(?m)^(\s{0,3})#", r"\1\\#", text)
    # a line of dashes under text would make that text a heading (setext): escape it too
    return re.sub(r"(?m)^(\s{0,3})(-+\s*)$", r"\1\\\2", text)


def slugify(text: str, max_length: int = 60, *, whole_words: bool = True) -> str:
    """A safe file name stem: ascii letters, digits and '-', never empty, no path parts.
    A long one is cut after its last whole word (``whole_words``), so an id never ends in
    half a word; a single word longer than ``max_length`` is cut where it must be."""
    text = text.translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    if len(text) > max_length and whole_words and "-" in text[: max_length + 1]:
        text = text[: max_length + 1].rsplit("-", 1)[0]
    text = text[:max_length].rstrip("-")
    return text or "entry"


def free_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base[:190]}-{n}" in taken:
        n += 1
    return f"{base[:190]}-{n}"
