"""Private persons named in free text: a Swedish first name followed by a surname.

A reflection should name roles ("projektledaren på gatukontoret"), not people: names in
free text are personal data that spread into the index, the vectors, briefs and exports.
This module only finds candidates; the callers (``kb validate``, ``kb index``, the web form)
warn and never block, since staff named in their duties may be published.

The first names are the 1,000 most common Swedish ones (``data/swedish_first_names.txt``,
its header says where they come from and under which licence). A hit is a first name from
that list followed, on the same line or the next, by one to three capitalised words: "Anna
Svensson", "Karl-Erik Nilsson", "Anna Karin Lind". Not counted:

* names of places and organisations made from a person's name: followed by (or joined with
  a hyphen to) a word such as *torg*, *gatan*, *skolan*, *stiftelsen*, *AB* ("Gustav Adolfs
  torg", "Anna Lindh-skolan", "Ingvar Kamprad AB");
* anything the caller exempts: the knowledge base's own actors, area names, its title and
  kb.toml's ``[personal_data] allow`` list (compared without regard to case).

Swedish personal identity numbers (personnummer, samordningsnummer) are found too
(:func:`find_identity_numbers`): ten or twelve digits that make a date (a samordningsnummer
adds 60 to the day) and pass the Luhn check. Organisation numbers (their month digits are 20
or more) and phone numbers (which rarely pass both checks) are not counted. A hit is shown
with its last four digits hidden.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

NAMES_FILE = Path(__file__).resolve().parent / "data" / "swedish_first_names.txt"
MAX_SURNAME_WORDS = 3  # a longer run of capitalised words is a title in Title Case, not a name

_WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# YYMMDD-NNNN, YYYYMMDD-NNNN, with "+" (over 100 years old), a space or nothing between
_IDENTITY_RE = re.compile(r"(?<![\w+-])(\d{2})?(\d{6})([-+ ]?)(\d{4})(?![\w-])")
# a name may wrap onto the next line, never across a blank line or punctuation
_GAP_RE = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?")

# Lower-case words that make "first name + capitalised word" a place or an institution
# named after a person, when they follow it or are joined to it with a hyphen.
PLACE_WORDS = frozenset("""
    torg torget gata gatan gränd gränden väg vägen allé allén plan planen plats platsen park parken
    backe backen bro bron hamn hamnen strand stranden skog skogen kulle kullen udde udden
    skola skolan gymnasiet gymnasium förskola förskolan hus huset hall hallen center centret
    centrum institutet institut stiftelse stiftelsen fond fonden pris priset sjukhus sjukhuset
    kyrka kyrkan kapell kapellet museum museet teater teatern bibliotek biblioteket akademi
    akademien salen rummet huset gården gård stadion arena arenan
    street road square avenue school hall centre center foundation prize institute museum
    """.split())
# Words (any case) that make a capitalised run an organisation or a role, not a person.
ORG_WORDS = frozenset("""
    ab hb kb ek förening föreningen stad staden kommun kommunen region regionen förvaltning
    förvaltningen kontoret bolag bolaget koncern koncernen group ltd inc gmbh oy asa as
    stiftelse stiftelsen fastigheter bostäder energi el nät universitet högskola
    center centre university college corporation company laboratory research institute telescope
    """.split())


@dataclass(frozen=True)
class NameHit:
    """One probable person's name in a text: the name, where it starts, its 1-based line."""
    name: str
    start: int
    line: int


@functools.cache
def first_names() -> frozenset[str]:
    lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def normalise(phrase: str) -> str:
    """A phrase as names are compared: case-folded, single spaces."""
    return " ".join(str(phrase).split()).casefold()


def find_person_names(text: str, exempt: Iterable[str] = ()) -> list[NameHit]:
    """Every "first name + surname" in ``text`` that is not a place, an organisation or an
    ``exempt`` phrase (the KB's actors and the like: a hit inside one of them is not counted)."""
    names = first_names()
    exempt_phrases = [p for p in (normalise(e) for e in exempt) if p]
    words = list(_WORD_RE.finditer(text))
    hits: list[NameHit] = []
    i = 0
    while i < len(words):
        first = words[i]
        if first.group() not in names:
            i += 1
            continue
        run = [first]
        j = i + 1
        while (j < len(words) and len(run) <= MAX_SURNAME_WORDS and _capitalised(words[j].group())
               and _adjacent(text, words[j - 1], words[j])):
            run.append(words[j])
            j += 1
        following = words[j] if j < len(words) and _adjacent(text, words[j - 1], words[j]) else None
        if len(run) >= 2 and not _too_long(text, words, j, run) and not _institution(run, following):
            name = " ".join(w.group() for w in run)
            key = normalise(name)
            if not any(key in phrase for phrase in exempt_phrases):
                hits.append(NameHit(name, first.start(), text.count("\n", 0, first.start()) + 1))
            i = j
            continue
        i += 1
    return hits


def find_identity_numbers(text: str) -> list[NameHit]:
    """Every Swedish personal identity or coordination number in ``text``, shown with its
    last four digits hidden ("811218-****")."""
    hits: list[NameHit] = []
    for match in _IDENTITY_RE.finditer(text):
        century, date, sep, tail = match.groups()
        if century not in (None, "18", "19", "20") or not _identity_number(date + tail):
            continue
        shown = f"{century or ''}{date}{sep or '-'}****"
        hits.append(NameHit(shown, match.start(), text.count("\n", 0, match.start()) + 1))
    return hits


def _identity_number(digits: str) -> bool:
    """Ten digits YYMMDDNNNN: a month, a day (or a day + 60) and the Luhn check digit."""
    month, day = int(digits[2:4]), int(digits[4:6])
    if not (1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)):
        return False
    total = 0
    for k, ch in enumerate(digits):
        n = int(ch) * (2 if k % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _capitalised(word: str) -> bool:
    """"Svensson", "Lind-Berg": upper-case first letter, not an all-capitals acronym."""
    return word[0].isupper() and any(ch.islower() for ch in word)


def _adjacent(text: str, a: re.Match, b: re.Match) -> bool:
    return _GAP_RE.fullmatch(text, a.end(), b.start()) is not None


def _too_long(text: str, words: list[re.Match], j: int, run: list[re.Match]) -> bool:
    """More capitalised words follow than a name has: a heading or title in Title Case."""
    return (len(run) > MAX_SURNAME_WORDS and j < len(words) and _capitalised(words[j].group())
            and _adjacent(text, words[j - 1], words[j]))


def _institution(run: list[re.Match], following: re.Match | None) -> bool:
    for word in run[1:]:
        parts = re.split(r"[-'’]", word.group())
        if word.group().casefold() in ORG_WORDS or any(p.casefold() in PLACE_WORDS for p in parts[1:]):
            return True
    if following is not None:
        after = following.group()
        if after.casefold() in ORG_WORDS or after in PLACE_WORDS or (after.isupper() and len(after) >= 2):
            return True
        if re.split(r"[-'’]", after)[0] in PLACE_WORDS:
            return True
    return False
