"""Learned means it did not come back: the obstacles of validated actions, watched.

NATO counts a lesson as *learned* only when a remedial action was validated **and the
improvement holds**. So once an action is validated (the date of ``validated`` in its file's
history), what it answered is watched, and a later obstacle entry that states the same
obstacle again is a **recurrence**, in one of two ways:

- ``group``: it joins a watched obstacle group, one of the kept groups (``obstacles.md``,
  :mod:`analysis.obstacle_identity`, cited by its stable id) that hold one of the action's
  lessons;
- ``close``: it lies close to one of the action's lessons by the rule of the entry page's
  related panel (:mod:`analysis.related`: two kinds of evidence rank it among the other's
  first 1 %, or one ranks it first, or a facilitator confirmed the link), **both ways**: it is
  among the lesson's related lessons and the lesson among its own. The panel's rule is read
  from one entry's side; an entry whose neighbours are all far has *a* nearest in meaning all
  the same: added to the example knowledge base (tests/test_recurrence_model.py), a new
  obstacle about a consultation held in Swedish only was the nearest in meaning of the lesson
  on who owns the charging points, but not the other way round. No constant of its own.

A facilitator has the last word, as for the links: an entry judged unrelated to the action's
lessons (``kb link LESSON ENTRY --as unrelated``; to each of them in the group it joined) is
no recurrence either way.

Only entries dated after the validation count, and only entries that state an obstacle (of
type ``obstacle``, or with an obstacle section): an action that is not validated watches
nothing, and a lesson taken out of an action (``kb forget``) is no longer watched through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from analysis.corpus import Corpus, load_corpus
from analysis.obstacles import group_obstacles, obstacle_ref
from analysis.related import RelatedFinder
from kb.core.actions import LearningAction
from kb.core.decisions import load_decisions
from kb.core.texts import text

GROUP = "group"  # joined a watched obstacle group
CLOSE = "close"  # lies close to one of the action's lessons


@dataclass
class Recurrence:
    """An obstacle entry that came back after an action on it was validated."""

    entry: str
    title: str
    area: str
    date: str
    how: str  # GROUP or CLOSE (GROUP when both hold)
    group: str | None = None  # the watched group it joined (hinder-N)
    group_label: str | None = None
    close_to: list[str] = field(default_factory=list)  # the action's lessons it lies close to

    def to_dict(self) -> dict:
        return asdict(self)

    def within(self, since: str | None = None, until: str | None = None, areas: Iterable[str] = ()) -> bool:
        """Dated in the period (and logged in one of ``areas``, when given)."""
        areas = set(areas)
        return ((not since or self.date >= since) and (not until or self.date <= until)
                and (not areas or self.area in areas))


def how_text(recurrence: Recurrence, lang: str | None, *, titles: dict[str, str] | None = None,
             label: bool = True) -> str:
    """How it came back, in words: the group it joined (its label and id, or the id alone
    without ``label``), or the lessons it lies close to (by their ``titles`` when given)."""
    if recurrence.how == GROUP:
        group = (obstacle_ref(recurrence.group_label, recurrence.group, lang)
                 if label and recurrence.group_label else recurrence.group or recurrence.group_label)
        return text("recurrence_joined", lang, group=group)
    titles = titles or {}
    lessons = ", ".join(f"”{titles[e]}”" if e in titles else e for e in recurrence.close_to)
    return text("recurrence_close", lang, lessons=lessons)


def validated_on(action: LearningAction) -> str | None:
    """The day an action was validated (ISO), None for an action that is not (or undated)."""
    return action.changed_on("validated") if action.status == "validated" else None


def states_obstacle(corpus: Corpus, entry_id: str) -> bool:
    """An obstacle entry, or an entry with an obstacle section (what the groups are made of)."""
    if corpus.rows[entry_id]["type"] == "obstacle":
        return True
    return any(s.role == "obstacle" for s in corpus.sections_of(corpus.position(entry_id)))


def find_recurrences(actions: Iterable[LearningAction], corpus: Corpus, groups,
                     close_to: Callable[[str], set[str]],
                     unrelated: Callable[[str, str], bool] = lambda a, b: False) -> dict[str, list[Recurrence]]:
    """Action id -> the obstacle entries that came back after it was validated, oldest first
    (an empty list for an action that is watched and held, or not watched).

    ``groups``: the knowledge base's obstacle groups (each with ``id``, ``label`` and
    ``entries``), all of them; ``close_to(entry)``: the entries close to an entry by the
    related panel's rule, from its side (asked of both sides of a pair); ``unrelated(a, b)``:
    a facilitator judged the pair unrelated."""
    close_cache: dict[str, set[str]] = {}

    def close(entry_id: str) -> set[str]:
        if entry_id not in close_cache:
            close_cache[entry_id] = close_to(entry_id)
        return close_cache[entry_id]

    group_of: dict[str, list] = {}
    for group in groups:
        for entry_id in group.entries:
            group_of.setdefault(entry_id, []).append(group)
    out: dict[str, list[Recurrence]] = {}
    for action in actions:
        out[action.id] = []
        since = validated_on(action)
        if since is None:
            continue
        lessons = [e for e in action.lessons if e in corpus.rows]
        watched = {g.id or g.label: g for e in lessons for g in group_of.get(e, [])}
        found: dict[str, Recurrence] = {}

        def later(entry_id: str, since: str = since, lessons: list[str] = lessons) -> bool:
            return entry_id not in lessons and entry_id in corpus.rows and corpus.rows[entry_id]["date"] > since

        def recurrence(entry_id: str) -> Recurrence:
            if entry_id not in found:
                row = corpus.rows[entry_id]
                found[entry_id] = Recurrence(entry=entry_id, title=row["title"], area=row["area"],
                                             date=row["date"], how=CLOSE)
            return found[entry_id]

        for group in watched.values():
            held = [e for e in lessons if e in group.entries]
            for entry_id in group.entries:
                if later(entry_id) and not all(unrelated(entry_id, lesson) for lesson in held):
                    hit = recurrence(entry_id)
                    if hit.how != GROUP:
                        hit.how, hit.group, hit.group_label = GROUP, group.id, group.label
        for lesson in lessons:
            for entry_id in sorted(close(lesson)):
                if later(entry_id) and states_obstacle(corpus, entry_id) and lesson in close(entry_id):
                    hit = recurrence(entry_id)
                    if lesson not in hit.close_to:
                        hit.close_to.append(lesson)
        out[action.id] = sorted(found.values(), key=lambda r: (r.date, r.entry))
    return out


def recurrences(kb, actions: Iterable[LearningAction], *, corpus: Corpus | None = None,
                finder: RelatedFinder | None = None, groups=None) -> dict[str, list[Recurrence]]:
    """:func:`find_recurrences` on an opened knowledge base: the obstacle groups of the whole
    knowledge base (kept ids; made here unless given) and the related panel's rule (the
    ``finder``, made here unless given; a long-lived server keeps one)."""
    actions = list(actions)
    if not any(validated_on(a) for a in actions):
        return {a.id: [] for a in actions}
    corpus = corpus if corpus is not None else (finder.corpus if finder is not None else load_corpus(kb))
    if groups is None:
        groups = group_obstacles(corpus, kb.config)
    if finder is None:
        finder = RelatedFinder(corpus, load_decisions(kb.config.root))

    def close_to(entry_id: str) -> set[str]:
        return {r.id for r in finder.find(kb, entry_id, limit=None) if r.close}

    def unrelated(a: str, b: str) -> bool:
        return b in finder.rejected.get(a, ())

    return find_recurrences(actions, corpus, groups, close_to, unrelated)


__all__ = ["GROUP", "CLOSE", "Recurrence", "find_recurrences", "how_text", "recurrences", "states_obstacle", "validated_on"]
