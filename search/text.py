"""Query words, snippets and highlighting, shared by the CLI and the web pages."""

from __future__ import annotations

import functools
import html
import re

from kb.core.language import ENGLISH, SWEDISH

_WORD = re.compile(r"\w+", re.UNICODE)
FUNCTION_WORDS = SWEDISH | ENGLISH


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
    # little words ("av", "the") would light up every line: only the words that carry meaning
    terms = [t for t in terms if len(t) >= 2 and t not in FUNCTION_WORDS]
    if not terms:
        return None
    alternatives = sorted({re.escape(_stem_prefix(t)) for t in terms}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\w*", re.IGNORECASE | re.UNICODE)


_LIST_MARK = re.compile(r"^(?:[-*+]\s+|\d{1,3}[.)]\s+|#{1,6}\s+|>\s?)+")
_END_PUNCT = ".!?…:;,"
# a sentence starts after . ! ? or … and a space, with a capital, a digit or a quote
_SENTENCE_START = re.compile(r"(?<=[.!?…])\s+(?=[\"“”'(]?[A-ZÅÄÖÉÜ0-9])")
SEPARATOR = " · "


def flatten(text: str, labels: tuple[str, ...] = ()) -> tuple[str, list[int]]:
    """``text`` as one line for a snippet, and where its sentences start.

    A first line equal to one of ``labels`` (the section heading, the entry's title: shown
    apart by the caller) is left out. Markdown marks (``#``, ``-``, ``1.``, ``>``) go; a
    line that ends a sentence or a line that goes on in lower case joins the next with a
    space, any other line (a heading, a list item) is kept apart by a middle dot."""
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    lines = [line for line in lines if line]
    wanted = {" ".join(label.split()) for label in labels if label}
    if lines and " ".join(lines[0].split()) in wanted:
        lines = lines[1:]
    flat = ""
    starts = [0]
    after_heading = False
    for raw in lines:
        mark = _LIST_MARK.match(raw)
        line = " ".join(_LIST_MARK.sub("", raw).split())
        if not line:
            continue
        if flat:
            ends_sentence = flat[-1] in _END_PUNCT
            goes_on = line[0].islower() and not mark and not after_heading
            flat += " " if ends_sentence or goes_on else SEPARATOR
            if not goes_on:
                starts.append(len(flat))
        after_heading = bool(mark and mark.group(0).startswith("#"))
        flat += line
    starts += [m.end() for m in _SENTENCE_START.finditer(flat)]
    return flat, sorted(set(starts))


def make_snippet(text: str, terms: list[str], width: int = 220, *, labels: tuple[str, ...] = ()) -> str:
    """A window of ``text`` around the densest run of query words: from the start of the
    sentence the words are in (when it is near), to a sentence end or a word boundary. A
    leading line equal to one of ``labels`` is left out (see :func:`flatten`)."""
    flat, starts = flatten(text, labels)
    if len(flat) <= width:
        return flat
    pattern = term_pattern(terms)
    hit = 0
    if pattern:
        found = [m.start() for m in pattern.finditer(flat)]
        if found:
            best_count = -1
            for s in found:
                count = sum(1 for t in found if s <= t < s + width * 0.8)
                if count > best_count:
                    hit, best_count = s, count
    sentence = max((s for s in starts if s <= hit), default=0)
    if hit - sentence <= width * 0.6:
        begin = sentence
    else:  # a long sentence: a word boundary a little before the words
        begin = max(0, hit - width // 5)
        space = flat.rfind(" ", 0, begin)
        begin = space + 1 if space >= 0 else begin
    end = min(len(flat), begin + width)
    if end < len(flat):
        ends = [s for s in starts if begin + width * 0.5 <= s <= end]
        full = [s for s in ends if flat[:s].rstrip()[-1:] in ".!?…"]  # after a whole sentence
        if full or ends:
            end = (full or ends)[-1]
        else:
            space = flat.rfind(" ", begin, end)
            end = space if space > begin else end
    for s in sorted((s for s in starts if s < begin), reverse=True):  # room left: whole sentences before
        if end - s > width:
            break
        begin = s
    snippet = flat[begin:end].strip().removesuffix(SEPARATOR.strip()).strip()
    more = "" if end >= len(flat) else (" …" if end in starts else "…")
    return ("" if begin in starts else "…") + snippet + more


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
