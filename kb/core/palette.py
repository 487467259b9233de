"""One colour per area, the same in badges, charts and maps.

An area's colour is ``colour = "#RRGGBB"`` in its ``[[areas]]`` table of kb.toml, else the
next colour of :data:`AREA_PALETTE` in kb.toml's order (Okabe–Ito: told apart with the common
colour-vision deficiencies). Text on a badge of that colour is black or white, whichever
contrasts more: that is always at least 4.6:1 (WCAG AA asks 4.5:1), and
:func:`contrast_ratio` lets the tests check it for every colour. Pictures draw markers of
the colour with a dark edge and a shape per area, so no picture relies on colour alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Okabe & Ito (2008), "Color Universal Design": the palette the pictures have always used
AREA_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
HEX_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
BLACK, WHITE = "#000000", "#FFFFFF"
TEXT_CONTRAST = 4.5  # WCAG 2.1 AA for text


@dataclass(frozen=True)
class AreaColour:
    background: str  # the area's colour, #RRGGBB
    text: str  # black or white: the one that reads best on it

    @property
    def contrast(self) -> float:
        return contrast_ratio(self.background, self.text)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour ``#RRGGBB``."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1's contrast ratio of two colours (1 to 21)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    return BLACK if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE) else WHITE


def area_colours(slugs, chosen: dict[str, str | None] | None = None) -> dict[str, AreaColour]:
    """Slug -> its colour, in the given order: ``chosen`` (kb.toml's) where set, else the
    palette's next colour."""
    chosen = chosen or {}
    out = {}
    for k, slug in enumerate(slugs):
        background = (chosen.get(slug) or AREA_PALETTE[k % len(AREA_PALETTE)]).upper()
        out[slug] = AreaColour(background, text_colour(background))
    return out


def area_css(colours: dict[str, AreaColour], selector: str = ".kb-area-{slug}") -> str:
    """A CSS rule per area: its colour as the background, the text colour that reads on it.
    (Pages may not carry inline styles: this is served, or put in a document's <style>.)"""
    return "".join(
        f"{selector.format(slug=slug)} {{ background: {c.background}; color: {c.text}; "
        f"border-color: {c.background}; print-color-adjust: exact; -webkit-print-color-adjust: exact; }}\n"
        for slug, c in colours.items()
    )
