"""Query words, snippets and highlighting, shared by the CLI and the web pages."""

from __future__ import annotations

import functools
import html
import re

_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """The words of a query, lower-cased, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in seen:
            seen[word] = None
    return list(seen)


def _stem_prefix(term: str) -> str:
    # Swedish inflects at the end (upphandling -> upphandlingen, -ar, -arna): match on a
    # prefix for longer words, the whole word for short ones.
    return term if len(term) < 5 else term[: max(4, len(term) - 2)]


def term_pattern(terms: list[str]) -> re.Pattern | None:
    return _term_pattern(tuple(terms))


@functools.lru_cache(maxsize=256)  # one pattern per query, not one per snippet
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    terms = [t for t in terms if len(t) >= 2]
    if not terms:
        return None
    alternatives = sorted({re.escape(_stem_prefix(t)) for t in terms}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\w*", re.IGNORECASE | re.UNICODE)


def make_snippet(text: str, terms: list[str], width: int = 220) -> str:
    """A window of ``text`` around the densest run of query words, on word boundaries."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    pattern = term_pattern(terms)
    best = 0
    if pattern:
        starts = [m.start() for m in pattern.finditer(flat)]
        if starts:
            best_count = -1
            for s in starts:
                count = sum(1 for t in starts if s <= t < s + width * 0.8)
                if count > best_count:
                    best, best_count = s, count
            best = max(0, best - width // 5)
    if best > 0:
        space = flat.rfind(" ", 0, best)
        best = space + 1 if space >= 0 else best
    end = min(len(flat), best + width)
    if end < len(flat):
        space = flat.rfind(" ", best, end)
        end = space if space > best else end
    snippet = flat[best:end]
    return ("…" if best > 0 else "") + snippet + ("…" if end < len(flat) else "")


def highlight_html(text: str, terms: list[str]) -> str:
    """Escape ``text`` for HTML and wrap the query words in <mark>."""
    pattern = term_pattern(terms)
    if not pattern:
        return html.escape(text)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)
