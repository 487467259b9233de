"""Entry Markdown to safe HTML: markdown-it-py without raw HTML, then nh3 as the backstop.

Two layers on purpose: markdown-it with ``html=False`` escapes any HTML written in an
entry and refuses ``javascript:`` links; nh3 then removes anything a future parser
option might let through (scripts, event handlers, unsafe URL schemes).
"""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def markdown_to_html(text: str | None) -> str:
    """Render ``text`` as Markdown and return sanitised HTML (safe to mark as Markup)."""
    if not text:
        return ""
    raw = _parser().render(text)
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
