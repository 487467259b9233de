"""A name for a group of entries (a recurring obstacle, a policy theme) that a facilitator
can say out loud, in the language most of the group's entries are written in:
``"Elnät: ledtiderna för nya stationer är flera år"``, never a fragment, an action to take
or one case's story.

No language model writes it: the label is a clause someone wrote, chosen by rules that can
be checked, with a template when no clause passes them. A label has a head and a phrase:

- the **head** is the tag most of the group's entries share (the rarest in the knowledge
  base when several tie), if it is a word of the label's language; it is left out when the
  phrase already says it;
- the **phrase** is a sentence, or the main clause that begins it, from the titles and the
  sections of the group's entries in that language (not the next steps or recommendations:
  those say what to do, not what stood in the way) that passes three checks:

  1. it **states what blocks**: it holds a blocker word (``väntar``, ``saknas``, ``försenade``,
     ``stoppade``, ``kö``, ``ledtid``, ``avslag``, ``överprövning``, ``brist``, ``ingen``,
     ``inte``; ``lacks``, ``delayed``, ``queue``, ``cannot``, ``failure`` ...: :data:`BLOCKERS`);
  2. it is **no action**: it does not open with a verb telling someone what to do (``Boka``,
     ``Ensure``) and says no ``bör``, ``borde``, ``vi måste``, ``should``, ``must`` ...;
  3. it is **no fragment**: it does not open with a word that continues another sentence
     (``men``, ``och``, ``but``) or, cut from a longer sentence, with a subordinate clause
     (``När ...``) whose main clause was cut off, it has a verb, and it does not end on a word
     that needs more (``att``, ``som``, ``the``, ``of``).

  The clauses are looked for first in what the entries learned and in their obstacle
  sections (they say it in general words), then in the titles, then in the rest (what
  happened tells one case). Of the clauses that pass, the one the *other* entries share most
  in meaning wins: its
  vector (the knowledge base's model, centred per language like the entries) nearest the
  mean of the other entries' obstacle vectors; a name or a number, which ties a clause to
  one case, counts against it (``SPECIFIC_PENALTY``). Only the ``SHORTLIST`` clauses sharing
  most words with the other entries (stemmed TF-IDF) are given to the model, which bounds
  the cost; without a model (a corpus made by hand) the shared words decide.

When no clause passes, the label is a template of words people chose for the group, never
a bad sentence: ``"<the head>: <the other shared tags>"`` (``"Elnät: kapacitetsbrist,
anslutning"``), or the group's own characteristic words where it shares too few tags.
Words are stemmed with Snowball, so ``överprövningen`` and ``Överprövningar`` are one word.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from analysis.corpus import Corpus, role_of, words, words_with_surface

MAX_PHRASE_WORDS = 12
MIN_PHRASE_WORDS = 4
SPECIFIC_PENALTY = 0.85  # per name or number in a phrase: "Fosie", "2029" belong to one case
SHORTLIST = 12  # clauses per group compared in meaning by the model (a bound on its work)
TEMPLATE_WORDS = 3  # words after the head in a template label
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"”“'(\[]?[A-ZÅÄÖÉ0-9])")
_TOKEN = re.compile(r"\S+")
_PUNCT = ".,;:!?()\"”“'«»[]…"
# where a label is looked for first: what was learned and what stood in the way say it in
# general words; a title or what happened tells one case (the last pool takes the rest)
POOLS = (("lesson", "obstacle"), ("title",), ())
_RECOMMENDATIONS = re.compile(r"recommend|rekommend", re.I)  # NASA's "Recommendations": next steps

CLAUSE_CONJUNCTIONS = frozenset("men utan but".split())  # the part before is a clause of its own
AND = frozenset("och samt and".split())  # ... if it has a verb: "och" joins noun phrases too

# 1. what blocks: whole words, word beginnings, parts of compounds (kapacitetsbrist), phrases
BLOCKERS = {
    "sv": {
        "words": frozenset("""inte ingen inget inga ingenting ingens ej aldrig varken saknas saknar saknade kö kön
            köer köas köar köade fullt stopp oklart oklar svårt svår omöjligt""".split()),
        "starts": ("vänt", "sakn", "försen", "försin", "stopp", "avslag", "avslog", "avslå", "överpröv", "fastn",
                   "hindr", "dröj", "begräns", "stann", "låst", "ledtid", "konkurrer", "krock", "ohållbar",
                   "sårbar", "osäker", "förhind", "problem", "svårighet", "misslyck", "förlor", "försvinn",
                   "försvann", "slutar", "slutade", "motsatt", "motverk"),
        "parts": ("brist", "ledtid", "väntetid", "flaskhals", "överprövning", "hinder", "problem", "beroende",
                  "konflikt"),
        "phrases": ("för sent", "för lite", "för länge", "räcker inte", "olika håll", "går emot"),
    },
    "en": {
        "words": frozenset("""no not none nobody nothing never cannot can't neither nor without unable
            unclear""".split()),
        "starts": ("wait", "lack", "missing", "delay", "stuck", "queue", "queuing", "block", "shortag", "denied",
                   "deny", "reject", "appeal", "challeng", "fail", "insufficien", "inadequa", "bottleneck", "limit",
                   "barrier", "problem", "obstacle", "difficult", "prevent", "conflict", "constrain", "error",
                   "anomal", "mishap", "damag", "loss", "lost", "incorrect", "unavailab", "overrun", "slip",
                   "postpon", "cancel", "halt", "stopp", "quit", "retire", "disappear", "vanish"),
        "parts": ("shortage", "bottleneck"),
        "phrases": ("lead time", "long-lead", "too late", "too long", "not enough", "no one", "at odds",
                    "trade-off", "work against"),
    },
}
# 2. what to do: a verb first (an imperative), or a word of advice anywhere
IMPERATIVES = frozenset("""
    boka ring ta gör lägg använd starta inför planera kontakta fråga skriv säkra säkerställ involvera bjud sätt
    be kräv börja undvik utse dokumentera beställ räkna håll tänk välj låt skapa bygg prata ställ ge skicka samla
    kolla kontrollera testa pröva avsätt begär sök anlita lyft ordna följ upprätta etablera hitta tydliggör
    förankra prioritera se avsätt
    ensure make book plan start use add involve include consider check avoid get set build talk ask require
    define assign document establish verify provide develop identify review perform conduct coordinate
    communicate maintain implement create keep allow apply budget schedule train test track do don't be always
    never design evaluate obtain utilize consult""".split())
ADVICE = re.compile(
    r"\b(bör|borde|vi måste|måste vi|vi behöver|behöver vi|vi ska|ska vi|should|must|ought|recommend\w*|"
    r"need to|needs to|we will|we need)\b", re.I)
# a finite verb: a clause cut before "och"/"and" must have one ("Ledtiderna är långa och ..."), or
# the cut split a noun phrase ("Landström för fartygen och ...")
VERBS = frozenset("""är var har hade kan kunde ska skall skulle får fick måste vill ville bör borde blir blev finns
    fanns går gick tar tog ger gav kommer kom står stod ligger låg gör gjorde sa sade säger ser såg saknas behövs
    krävs räcker beror betyder verkar hänger väntar saknar kräver behöver stoppar försenar
    is are was were has have had can could cannot will would shall should may might must does did do
    takes took gets got lacks needs requires""".split())
_PAST = ("ade", "ades", "des", "tes", "dde", "ats", "ed")


def has_verb(text: str) -> bool:
    """A word that is surely a finite verb (a common one, or a regular past tense)."""
    return any(t in VERBS or (len(t) > 4 and t.endswith(_PAST)) for t in _plain_tokens(text))


def may_have_verb(text: str, language: str) -> bool:
    """A word that may be a finite verb: :func:`has_verb`'s, or a present tense ending
    (``-r``, ``-s`` in Swedish: ``äger``, ``saknas``; ``-s`` in English: ``lacks``). Plural
    nouns end so too, so this only rejects what has no verb at all: "without the benefit of
    the previous work", "Kapacitetsbrist i elnätet"."""
    if has_verb(text):
        return True
    endings = ("r", "s") if language == "sv" else ("s",)
    return any(len(t) > 2 and t.endswith(endings) and not t.endswith(("ss", "us", "is")) for t in _plain_tokens(text))


# 3. a fragment: it continues another sentence, or a subordinate clause was cut from its main clause
CONTINUATIONS = frozenset("och men eller så samt också därför sedan and but or so also then therefore".split())
SUBJUNCTIONS = frozenset("""när om eftersom då innan medan trots även fast tills att som vilket där
    if when because although while since as once unless until whereas though""".split())
ANAPHORA = frozenset([*"detta dessa denna han hon this these those it they he she that".split(),
                      "det här", "den här", "de här"])
CLAUSE_JOINERS = frozenset("och men eller samt and but or".split())
DANGLING = frozenset("""och eller men att som en ett än samt
    the a an of and or that which than is are was were""".split())  # (a particle may end a clause: "går ... med")


@dataclass
class Candidate:
    text: str
    entry: int  # position of the entry it comes from
    lexical: float = 0.0  # cosine of its words with the other entries' centre
    specific: int = 0  # names and numbers in it
    meaning: float | None = None  # nearness in meaning to the other entries (model), 0..1

    @property
    def score(self) -> float:
        base = self.meaning if self.meaning is not None else self.lexical
        return base * SPECIFIC_PENALTY ** self.specific


def group_labels(corpus: Corpus, groups: list[list[int]]) -> list[str]:
    """One label per group of entry positions."""
    return [group_label(corpus, members)[0] for members in groups]


def group_label(corpus: Corpus, members: list[int]) -> tuple[str, str | None]:
    """The label of one group, and the entry its phrase comes from (None for a template)."""
    languages = list(corpus.languages)
    main = majority_language(languages, list(range(corpus.n)))
    language = majority_language(languages, members, main)
    # a tag nobody writes in the text counts as written in the knowledge base's main language
    heads = [t for t in shared_tags(corpus, members) if (word_language(corpus, languages, t) or main) == language]
    head = heads[0] if heads else None
    found = best_phrase(corpus, members, language)
    if found is None:
        return template_label(corpus, members, language, heads), None
    phrase, source = found.text, corpus.ids[found.entry]
    names = _proper_names(corpus)
    if not head or set(words(head)) & set(words(phrase)):
        return _capital(phrase), source
    return f"{_capital(head)}: {_lower_first(phrase, names)}", source


def template_label(corpus: Corpus, members: list[int], language: str, heads: list[str]) -> str:
    """``<head>: <other shared tags>``, or the group's characteristic words in its language."""
    own = [i for i in members if corpus.languages[i] == language] or members
    keywords = [w for w in group_keywords(corpus, [own], top=TEMPLATE_WORDS + 1)[0]]
    topic = heads[0] if heads else (keywords[0] if keywords else None)
    if topic is None:  # nothing shared at all: the oldest title in the language
        return _capital(corpus.rows[corpus.ids[own[0]]]["title"])
    taken = set(words(topic))
    rest = []
    for word in [*heads[1:], *keywords]:
        stems = set(words(word))
        if stems and not stems & taken:
            rest.append(word)
            taken |= stems
    rest = rest[:TEMPLATE_WORDS]
    return _capital(topic) + (": " + ", ".join(rest) if rest else "")


def best_phrase(corpus: Corpus, members: list[int], language: str) -> Candidate | None:
    """The clause that states the group's obstacle (see the module's three checks), nearest
    in meaning to the other entries."""
    languages = corpus.languages
    idf = _idf(corpus)
    names = _proper_names(corpus)
    vectors = {i: _unit(_tfidf(corpus.doc_words()[i], idf)) for i in members}
    pools: list[dict[str, Candidate]] = [{} for _ in POOLS]
    for i in members:
        if languages[i] != language:
            continue
        centre: Counter = Counter()  # the other entries' words: what the cases share
        for j in members:
            if j != i or len(members) == 1:
                centre.update(vectors[j])
        for sentence, role in sentences_with_roles(corpus.rows[corpus.ids[i]]):
            pool = pools[next((k for k, roles in enumerate(POOLS) if role in roles), len(POOLS) - 1)]
            for text, whole, next_word in _candidates(sentence):
                if text in pool or not passes(text, language, whole=whole, next_word=next_word):
                    continue
                lexical = _cosine(_unit(_tfidf(Counter(words(text)), idf)), centre)
                pool[text] = Candidate(text, i, lexical=lexical, specific=_specific_tokens(text, names))
    found = next((pool for pool in pools if pool), None)
    if not found:
        return None
    shortlist = sorted(found.values(), key=lambda c: (-c.lexical * SPECIFIC_PENALTY ** c.specific, c.text))
    shortlist = shortlist[:SHORTLIST]
    if corpus.embed is not None and len(members) >= 2:
        _add_meaning(corpus, members, shortlist, language)
    return max(shortlist, key=lambda c: (c.score, -len(c.text)))


def _add_meaning(corpus: Corpus, members: list[int], shortlist: list[Candidate], language: str) -> None:
    """Each candidate's nearness in meaning to the other entries' obstacle texts: the cosine
    of its vector and their mean, both centred per language like the entries, as 0..1."""
    means = corpus.language_means()
    dim = corpus.vectors.shape[1]
    others = {}
    for i in members:
        vector = corpus.obstacle_vector(i, whole=True)
        vector = vector - means.get(corpus.languages[i], np.zeros(dim, dtype=np.float32))
        others[i] = vector / (np.linalg.norm(vector) + 1e-12)
    embedded = np.asarray(corpus.embed([c.text for c in shortlist]), dtype=np.float32)
    embedded = embedded - means.get(language, np.zeros(dim, dtype=np.float32))
    embedded /= np.linalg.norm(embedded, axis=1, keepdims=True) + 1e-12
    for c, vector in zip(shortlist, embedded, strict=True):
        centre = np.mean([v for j, v in others.items() if j != c.entry], axis=0)
        centre /= np.linalg.norm(centre) + 1e-12
        c.meaning = (1.0 + float(vector @ centre)) / 2


# --- the three checks ------------------------------------------------------------------------
def passes(text: str, language: str, *, whole: bool = True, next_word: str = "") -> bool:
    """A clause that states what blocks, no action and no fragment. ``whole``: the whole
    sentence, not its beginning cut at a comma or a conjunction (``next_word``: the word
    after the cut)."""
    return (states_blocker(text, language) and not is_action(text)
            and not is_fragment(text, whole=whole, next_word=next_word, language=language))


def states_blocker(text: str, language: str) -> bool:
    cues = BLOCKERS.get(language, BLOCKERS["en"])
    if any(phrase in text.lower() for phrase in cues["phrases"]):
        return True
    for token in _plain_tokens(text):
        if token in cues["words"] or token.startswith(cues["starts"]) or any(p in token for p in cues["parts"]):
            return True
    return False


def is_action(text: str) -> bool:
    tokens = _plain_tokens(text)
    return bool(tokens) and (tokens[0] in IMPERATIVES or bool(ADVICE.search(text)))


def is_fragment(text: str, *, whole: bool = True, next_word: str = "", language: str = "sv") -> bool:
    """``whole``: the whole sentence; else ``next_word`` is the word after the cut."""
    tokens = _plain_tokens(text)
    if len(tokens) < MIN_PHRASE_WORDS or not may_have_verb(text, language):
        return True
    if tokens[0] in CONTINUATIONS or tokens[0] in ANAPHORA or " ".join(tokens[:2]) in ANAPHORA:
        return True  # "Men ...", "Så är det inte", "Det här kan inte lösas": they need the sentence before
    if tokens[-1] in DANGLING:
        return True
    # "När ansvaret är delat, [the main clause]": a subordinate clause cut from its main clause;
    # "När någon slutar går kunskapen med, och ...": a whole clause before a conjunction
    return not whole and tokens[0] in SUBJUNCTIONS and next_word.lower() not in CLAUSE_JOINERS


def _plain_tokens(text: str) -> list[str]:
    return [t.strip(_PUNCT).lower() for t in _TOKEN.findall(text) if t.strip(_PUNCT)]


# --- sentences and clauses -------------------------------------------------------------------------
def entry_sentences(row: dict) -> list[str]:
    """The title and the sentences of every section except the next steps (and
    recommendations)."""
    return [sentence for sentence, _ in sentences_with_roles(row)]


def sentences_with_roles(row: dict) -> list[tuple[str, str | None]]:
    """(sentence, role) of the title (role ``title``) and of every section except the next
    steps; the role from the section's heading (:func:`analysis.corpus.role_of`)."""
    out: list[tuple[str, str | None]] = [(row["title"], "title")]
    role = None
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph and role != "next":
            out.extend((s.strip(), role) for s in _SENTENCE_END.split(" ".join(paragraph)) if s.strip())
        paragraph.clear()

    for line in (row.get("body") or "").splitlines():
        heading = _HEADING.match(line.strip())
        if heading or not line.strip():
            flush()
            if heading:
                title = heading.group(1)
                role = "next" if _RECOMMENDATIONS.search(title) else role_of(title)
            continue
        paragraph.append(line.strip().lstrip("-*> ").strip())
    flush()
    return out


def _candidates(sentence: str) -> list[tuple[str, bool, str]]:
    """(clause, whole sentence?, the word after it): the sentence if it is short enough to be a label, and its
    beginnings up to a clause boundary (a comma, a dash, ``men``, or ``och`` after a verb)
    that are: a main clause reads on its own, a later clause ("men ...", "inte efter ...")
    does not."""
    sentence = sentence.strip().rstrip(".!?").strip()
    tokens = _TOKEN.findall(sentence)
    out = []
    if MIN_PHRASE_WORDS <= len(tokens) <= MAX_PHRASE_WORDS:
        out.append((sentence, True, ""))
    for k in range(MIN_PHRASE_WORDS, min(len(tokens), MAX_PHRASE_WORDS + 1)):
        before, after = tokens[k - 1], tokens[k] if k < len(tokens) else ""
        clause = " ".join(tokens[:k]).rstrip(",;:")
        if (before[-1:] in ",;:" or after in ("–", "—", "-") or after.lower() in CLAUSE_CONJUNCTIONS
                or (after.lower() in AND and _verb_in_last_clause(clause))):
            out.append((clause, False, after.strip(_PUNCT)))
    return out


def _verb_in_last_clause(clause: str) -> bool:
    """A verb after the last subjunction too: "... eftersom byggområdet" och ... is cut inside
    its subordinate clause, "... eftersom ingen äger frågan" och ... is not."""
    tokens = _plain_tokens(clause)
    last = max((k for k, t in enumerate(tokens) if k and t in SUBJUNCTIONS), default=0)
    return has_verb(" ".join(tokens[last:]))


# --- shared tags and languages ---------------------------------------------------------------------
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


def majority_language(languages: list[str], members: list[int], tie: str | None = None) -> str:
    """The language most of ``members`` are written in; ``tie`` (the knowledge base's main
    language) wins a tie."""
    counts = Counter(languages[i] for i in members)
    return sorted(counts, key=lambda lang: (-counts[lang], lang != tie, lang))[0]


# --- words -----------------------------------------------------------------------------------------
def _specific_tokens(phrase: str, names: set[str]) -> int:
    tokens = [t.strip(_PUNCT) for t in _TOKEN.findall(phrase)]
    count = sum(1 for t in tokens if any(ch.isdigit() for ch in t))
    count += sum(1 for k, t in enumerate(tokens) if k > 0 and t[:1].isupper())
    count += 1 if tokens and tokens[0] in names else 0
    return count


def _proper_names(corpus: Corpus) -> set[str]:
    """Words written with a capital in the middle of a sentence and never in lower case
    (Fosie, E.ON; not "En" after a colon)."""
    if corpus._names is None:
        capital: set[str] = set()
        lower: set[str] = set()
        for e in corpus.ids:
            for sentence in entry_sentences(corpus.rows[e]):
                tokens = [t.strip(_PUNCT) for t in _TOKEN.findall(sentence)]
                capital.update(t for t in tokens[1:] if t[:1].isupper())
                lower.update(t for t in tokens if t[:1].islower())
        corpus._names = {t for t in capital if t.lower() not in lower}
    return corpus._names


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
    word = first.group(0).strip(_PUNCT)
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


__all__ = ["group_label", "group_labels", "group_keywords", "shared_tag", "best_phrase", "entry_sentences",
           "passes"]
