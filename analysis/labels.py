"""A name for a group of entries (a recurring obstacle, a policy theme) that a facilitator
can say out loud: ``"Kapacitetsbrist: ledtiderna för nya stationer är fem till sju år"``
rather than a bag of words.

A label has a head and a phrase, both taken from what people wrote:

- the **head** is the tag most of the group's entries share (the rarest in the knowledge
  base when several tie), if it is a word of the label's language; without one, no head;
- the **phrase** is the sentence (or the clause of it) that lies closest to the group's
  centre: the group's entries as TF-IDF vectors of stemmed words, their mean as the centre,
  each sentence compared with it. Only sentences in the language most of the entries are
  written in take part, from titles and from every section but the next steps (those say
  what to do, not what stood in the way); names and numbers, which tie a sentence to one
  case, count against it.

Words are stemmed with Snowball, so ``överprövningen`` and ``Överprövningar`` are one word
and a head repeated in the phrase is dropped. No model, no network: the same words in, the
same label out.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from analysis.corpus import Corpus, role_of, words, words_with_surface

MAX_PHRASE_WORDS = 12
MIN_PHRASE_WORDS = 4
SPECIFIC_PENALTY = 0.85  # per name or number in a phrase: "Fosie", "2029" belong to one case
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"”“'(\[]?[A-ZÅÄÖÉ0-9])")
CONJUNCTIONS = frozenset("och men eller samt utan and but or".split())  # coordinating: the part before stands alone
_TOKEN = re.compile(r"\S+")


def group_labels(corpus: Corpus, groups: list[list[int]]) -> list[str]:
    """One label per group of entry positions."""
    if not groups:
        return []
    idf = _idf(corpus)
    names = _proper_names(corpus)
    languages = list(corpus.languages)
    return [_label(corpus, members, idf, names, languages) for members in groups]


def group_label(corpus: Corpus, members: list[int]) -> tuple[str, str | None]:
    """The label of one group and the entry its phrase comes from."""
    (label,) = group_labels(corpus, [members])
    return label, None


def _label(corpus: Corpus, members: list[int], idf: dict[str, float], names: set[str], languages: list[str]) -> str:
    main = majority_language(languages, list(range(corpus.n)))
    language = majority_language(languages, members, main)
    # a tag nobody writes in the text counts as written in the knowledge base's main language
    heads = [t for t in shared_tags(corpus, members) if (word_language(corpus, languages, t) or main) == language]
    head = heads[0] if heads else None
    phrase = key_phrase(corpus, members, idf, names, languages)
    if not phrase:  # no sentence shares words with the others: the first title in the language
        phrase = next(corpus.rows[corpus.ids[i]]["title"] for i in members if languages[i] == language)
    if not head or set(words(head)) & set(words(phrase)):
        return _capital(phrase)
    return f"{_capital(head)}: {_lower_first(phrase, names)}"


def shared_tag(corpus: Corpus, members: list[int]) -> str | None:
    """The tag most members carry (at least two, and at least half of them); the rarest in
    the whole knowledge base wins a tie (it says more)."""
    tags = shared_tags(corpus, members)
    return tags[0] if tags else None


def shared_tags(corpus: Corpus, members: list[int]) -> list[str]:
    """The tags at least two members and at least half of them carry, best first (see
    :func:`shared_tag`)."""
    counts: Counter = Counter()
    for i in members:
        counts.update({str(t).strip().lower() for t in corpus.rows[corpus.ids[i]].get("tags") or [] if str(t).strip()})
    if not counts:
        return []
    overall: Counter = Counter()
    for e in corpus.ids:
        overall.update({str(t).strip().lower() for t in corpus.rows[e].get("tags") or []})
    need = max(2, math.ceil(len(members) / 2))
    return sorted((tag for tag, n in counts.items() if n >= need), key=lambda t: (-counts[t], overall[t], t))


def word_language(corpus: Corpus, languages: list[str], word: str) -> str | None:
    """The language whose entries use ``word`` most (as a share of that language's entries);
    None if no entry uses it (a tag nobody writes in the text)."""
    stems = set(words(word))
    if not stems:
        return None
    docs = corpus.doc_words()
    sizes = Counter(languages)
    uses: Counter = Counter(languages[i] for i in range(corpus.n) if stems & docs[i].keys())
    if not uses:
        return None
    return max(uses, key=lambda lang: (uses[lang] / sizes[lang], lang))


def key_phrase(corpus: Corpus, members: list[int], idf: dict[str, float], names: set[str],
               languages: list[str]) -> str | None:
    """The sentence or clause nearest the group's centre, in the group's main language."""
    language = majority_language(languages, members, majority_language(languages, list(range(corpus.n))))
    vectors = {i: _unit(_tfidf(corpus.doc_words()[i], idf)) for i in members}
    best: tuple[float, str] | None = None
    for i in members:
        if languages[i] != language:
            continue
        # the centre of the *other* entries: a phrase scores by the words it shares with
        # them, not by the details of its own case
        centre: Counter = Counter()
        for j in members:
            if j != i or len(members) == 1:
                centre.update(vectors[j])
        for sentence in entry_sentences(corpus.rows[corpus.ids[i]]):
            for candidate in _candidates(sentence):
                score = _cosine(_unit(_tfidf(Counter(words(candidate)), idf)), centre)
                score *= SPECIFIC_PENALTY ** _specific_tokens(candidate, names)
                if score > 0 and (best is None or score > best[0] + 1e-12):
                    best = (score, candidate)
    return best[1] if best else None


def majority_language(languages: list[str], members: list[int], tie: str | None = None) -> str:
    """The language most of ``members`` are written in; ``tie`` (the knowledge base's main
    language) wins a tie."""
    counts = Counter(languages[i] for i in members)
    return sorted(counts, key=lambda lang: (-counts[lang], lang != tie, lang))[0]


def entry_sentences(row: dict) -> list[str]:
    """The title and the sentences of every section except the next steps."""
    out = [row["title"]]
    role = None
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph and role != "next":
            out.extend(s.strip() for s in _SENTENCE_END.split(" ".join(paragraph)) if s.strip())
        paragraph.clear()

    for line in (row.get("body") or "").splitlines():
        heading = _HEADING.match(line.strip())
        if heading or not line.strip():
            flush()
            if heading:
                role = role_of(heading.group(1))
            continue
        paragraph.append(line.strip().lstrip("-*> ").strip())
    flush()
    return out


def _candidates(sentence: str) -> list[str]:
    """The sentence if it is short enough to be a label, and its beginnings up to a clause
    boundary (a comma, a dash, a conjunction) that are: a main clause reads on its own, a
    later clause ("men ...", "inte efter ...") does not."""
    sentence = sentence.strip().rstrip(".!?").strip()
    tokens = _TOKEN.findall(sentence)
    out = []
    if MIN_PHRASE_WORDS <= len(tokens) <= MAX_PHRASE_WORDS:
        out.append(sentence)
    for k in range(MIN_PHRASE_WORDS, min(len(tokens), MAX_PHRASE_WORDS + 1)):
        before, after = tokens[k - 1], tokens[k] if k < len(tokens) else ""
        if before[-1:] in ",;:" or after in ("–", "—", "-") or after.lower() in CONJUNCTIONS:
            out.append(" ".join(tokens[:k]).rstrip(",;:"))
    return out


def _specific_tokens(phrase: str, names: set[str]) -> int:
    tokens = [t.strip(".,;:!?()\"”“'") for t in _TOKEN.findall(phrase)]
    count = sum(1 for t in tokens if any(ch.isdigit() for ch in t))
    count += sum(1 for k, t in enumerate(tokens) if k > 0 and t[:1].isupper())
    count += 1 if tokens and tokens[0] in names else 0
    return count


def _proper_names(corpus: Corpus) -> set[str]:
    """Words written with a capital in the middle of a sentence and never in lower case
    (Fosie, E.ON; not "En" after a colon)."""
    capital: set[str] = set()
    lower: set[str] = set()
    for e in corpus.ids:
        for sentence in entry_sentences(corpus.rows[e]):
            tokens = [t.strip(".,;:!?()\"”“'") for t in _TOKEN.findall(sentence)]
            capital.update(t for t in tokens[1:] if t[:1].isupper())
            lower.update(t for t in tokens if t[:1].islower())
    return {t for t in capital if t.lower() not in lower}


def _idf(corpus: Corpus) -> dict[str, float]:
    df = corpus.doc_frequency()
    return {w: math.log((1 + corpus.n) / (1 + c)) + 1.0 for w, c in df.items()}


def _tfidf(counts: Counter, idf: dict[str, float]) -> dict[str, float]:
    top = max(idf.values(), default=1.0)
    return {w: (1 + math.log(c)) * idf.get(w, top) for w, c in counts.items() if c > 0}


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {w: v / norm for w, v in vector.items()} if norm else {}


def _cosine(a: dict[str, float], b: Counter) -> float:
    norm = math.sqrt(sum(v * v for v in b.values()))
    return sum(v * b.get(w, 0.0) for w, v in a.items()) / norm if norm else 0.0


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str, names: set[str]) -> str:
    first = _TOKEN.match(text)
    if not first:
        return text
    word = first.group(0).strip(".,;:!?()\"”“'")
    keep = word in names or any(ch.isupper() for ch in word[1:]) or any(ch.isdigit() for ch in word)
    return text if keep else text[:1].lower() + text[1:]


def group_keywords(corpus: Corpus, groups: list[list[int]], top: int = 4) -> list[list[str]]:
    """Each group's most characteristic words (class-based TF-IDF against the whole corpus),
    in their most common written form."""
    docs = corpus.doc_words()
    surface: dict[str, Counter] = {}
    for e in corpus.ids:
        row = corpus.rows[e]
        for stem, token in words_with_surface(row["title"] + "\n" + (row.get("body") or "")):
            surface.setdefault(stem, Counter())[token] += 1
    total: Counter = Counter()
    for doc in docs:
        total.update(doc)
    avg = sum(total.values()) / max(1, len(groups) or 1)
    out = []
    for members in groups:
        tf: Counter = Counter()
        present: Counter = Counter()
        for i in members:
            tf.update(docs[i])
            present.update(docs[i].keys())
        scored = []
        for w, c in tf.items():
            if len(members) > 1 and present[w] < 2:
                continue  # a label word should describe the group, not one member
            scored.append((c * math.log(1 + avg / total[w]) * present[w], w))
        scored.sort(reverse=True)
        out.append([surface[w].most_common(1)[0][0] for _, w in scored[:top]])
    return out


__all__ = ["group_labels", "group_keywords", "shared_tag", "key_phrase", "entry_sentences"]
