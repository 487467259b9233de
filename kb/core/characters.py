"""Characters that text in the knowledge base may not hold, and text made safe for XML.

Control characters (C0 but tab, line feed and carriage return; DEL) have no place in a title
or a tag: Word writes U+000B for a line break inside a cell, and one such character makes an
Atom feed that is not well-formed XML, which feed readers drop whole."""

from __future__ import annotations

import re

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# what XML 1.0 cannot carry at all (its Char production), escaped or not
_NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def has_control_characters(text: str) -> bool:
    return bool(CONTROL_RE.search(text))


def first_control_character(value) -> str | None:
    """The first control character in ``value`` (text, or lists and tables of text, at any
    depth, keys included), as ``U+000B``; None when there is none."""
    if isinstance(value, str):
        found = CONTROL_RE.search(value)
        return f"U+{ord(found.group()):04X}" if found else None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        found = first_control_character(item)
        if found:
            return found
    return None


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 does not allow (control characters, lone
    surrogates, U+FFFE and U+FFFF); a vertical tab or form feed (a line or page break from
    Word) becomes a space."""
    return _NOT_XML_RE.sub("", text.replace("\v", " ").replace("\f", " "))
