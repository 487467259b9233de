"""Whether the learning loop closes: which lessons led to actions, which actions are due or
overdue, which were validated, whether the obstacle of a validated action came back
(:mod:`analysis.recurrence`), and the loop's figures (the share of obstacles acted on, the
days from a lesson to its action, the validated actions that held and those whose obstacle
recurred)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from analysis.recurrence import Recurrence, recurrences
from indexer.actions import ActionSet, load_actions
from indexer.agenda import Agenda, load_agenda
from indexer.discover import load_entries
from indexer.roadmaps import load_roadmaps
from kb.core.actions import OPEN_STATUSES, LearningAction
from kb.core.agenda import LearningQuestion
from kb.core.config import KBConfig
from kb.core.sessions import planned_sessions, session_dates
from kb.core.visibility import may_see

DEFAULT_SESSION_INTERVAL_DAYS = 91  # a learning session a quarter


@dataclass
class Loop:
    """Actions and learning questions with what they need from the entries (area, type,
    date, title) and the learning sessions held."""

    actions: list[LearningAction]
    agenda: Agenda
    entries: dict[str, dict]  # id -> {title, area, type, date}
    roadmap_areas: dict[str, str]  # roadmap action id -> area
    sessions: list[str]  # the learning sessions held (ISO dates, oldest first)
    today: dt.date
    problems: list = field(default_factory=list)
    planned: list[str] = field(default_factory=list)  # sessions recorded for a later date, soonest first
    # action id -> the obstacle entries that came back after it was validated (:meth:`watch`);
    # None until watched (it needs the index)
    recurred: dict[str, list[Recurrence]] | None = None

    def watch(self, kb, actions: list[LearningAction] | None = None, **options) -> Loop:
        """Look for the obstacles that came back after their action was validated (needs the
        index): of ``actions`` (default: all). ``options``: the corpus, groups or related
        finder the caller already has."""
        self.recurred = recurrences(kb, self.actions if actions is None else actions, **options)
        return self

    def recurred_of(self, action: LearningAction) -> list[Recurrence]:
        return (self.recurred or {}).get(action.id, [])

    def areas_of(self, action: LearningAction) -> list[str]:
        areas = {self.entries[e]["area"] for e in action.lessons if e in self.entries}
        areas |= {self.roadmap_areas[r] for r in action.roadmap if r in self.roadmap_areas}
        return sorted(areas)

    def action_dict(self, action: LearningAction) -> dict:
        recurred = None if self.recurred is None else [r.to_dict() for r in self.recurred_of(action)]
        return {**action.to_dict(self.today), "areas": self.areas_of(action),
                "lesson_titles": {e: self.entries[e]["title"] for e in action.lessons if e in self.entries},
                "recurred": recurred}

    def select(self, *, statuses=(), overdue: bool = False, areas=(), owner: str | None = None) -> list[LearningAction]:
        """Actions by status, overdue, area (of their lessons or roadmap actions) and owner
        (case-insensitive), soonest due first."""
        chosen = []
        for action in self.actions:
            if statuses and action.status not in statuses:
                continue
            if overdue and not action.overdue(self.today):
                continue
            if areas and not set(areas) & set(self.areas_of(action)):
                continue
            if owner and owner.casefold() != action.owner.casefold():
                continue
            chosen.append(action)
        return sorted(chosen, key=lambda a: (a.due, a.id))

    def citing(self, entry_id: str) -> list[LearningAction]:
        return [a for a in self.actions if entry_id in a.lessons]

    def to_follow_up(self, before: dt.date) -> list[LearningAction]:
        """Open actions overdue or due before ``before`` (the next learning session)."""
        return [a for a in self.select(statuses=OPEN_STATUSES) if a.due < before]

    def validated_since(self, since: str | None) -> list[LearningAction]:
        out = [a for a in self.actions if a.status == "validated"
               and (since is None or (a.changed_on("validated") or "") > since)]
        return sorted(out, key=lambda a: (a.changed_on("validated") or "", a.id))

    def question_dict(self, question) -> dict:
        return question.to_dict(self.sessions, self.today)

    def next_session(self) -> dt.date:
        """When the next learning session will be: the soonest planned one (recorded with a
        later date than today), else the last one held plus the usual interval (the median of
        the last few; a quarter when fewer than two were held), and never before today."""
        if self.planned:
            return dt.date.fromisoformat(self.planned[0])
        dates = [dt.date.fromisoformat(s) for s in self.sessions]
        gaps = [(b - a).days for a, b in zip(dates[-5:], dates[-4:], strict=False) if (b - a).days > 0]
        interval = dt.timedelta(days=int(statistics.median(gaps)) if gaps else DEFAULT_SESSION_INTERVAL_DAYS)
        upcoming = (dates[-1] if dates else self.today) + interval
        while upcoming <= self.today:
            upcoming += interval
        return upcoming


def load_loop(config: KBConfig, *, entries: dict[str, dict] | None = None, today: dt.date | None = None,
              audience: str = "staff") -> Loop:
    """The loop of a knowledge base as ``audience`` may see it (kb.core.visibility).
    ``entries`` (id -> row with title, area, type, date): from the index when the caller has
    it (the audience's index, for an audience), else read from the entry files."""
    if entries is None:
        entries = {e.id: {"title": e.title, "area": e.area, "type": e.type, "date": e.date.isoformat()}
                   for e in load_entries(config).entries if may_see(audience, e.visibility)}
    roadmaps = load_roadmaps(config)
    actions: ActionSet = load_actions(config)
    agenda = load_agenda(config)
    problems = actions.problems + agenda.problems
    if audience != "staff":
        actions = ActionSet(visible_actions(actions.actions, audience, entries))
        agenda = Agenda(visible_questions(agenda.questions, audience, entries))
        problems = []  # a broken file is the staff's to mend, and may quote what it holds
    today = today or dt.date.today()
    return Loop(actions=actions.actions, agenda=agenda, entries=entries,
                roadmap_areas={a.id: a.area for a in roadmaps.actions.values()},
                sessions=session_dates(config.root, today), today=today,
                problems=problems,
                planned=[s.date for s in planned_sessions(config.root, today)])


def visible_actions(actions: Iterable[LearningAction], audience: str,
                    lessons: Collection[str]) -> list[LearningAction]:
    """The actions ``audience`` may see, each citing only the ``lessons`` (ids) it may see:
    an id names its lesson, so a hidden lesson is not even cited."""
    if audience == "staff":
        return list(actions)
    return [dataclasses.replace(a, lessons=[e for e in a.lessons if e in lessons])
            for a in actions if may_see(audience, a.visibility)]


def visible_questions(questions: Iterable[LearningQuestion], audience: str,
                      lessons: Collection[str]) -> list[LearningQuestion]:
    """The learning questions ``audience`` may see, with only the lessons it may see."""
    if audience == "staff":
        return list(questions)
    return [dataclasses.replace(q, entries=[e for e in q.entries if e in lessons])
            for q in questions if may_see(audience, q.visibility)]


def entries_from_index(kb) -> dict[str, dict]:
    rows = kb.store.db.execute("select id, title, area, type, date from entries").fetchall()
    return {r[0]: {"title": r[1], "area": r[2], "type": r[3], "date": r[4]} for r in rows}


@dataclass
class LoopFigures:
    obstacles: int  # obstacle entries in the period
    obstacles_with_action: int
    median_days_to_action: float | None  # from a lesson's date to the decision on its action
    overdue: int
    validated: int
    actions: int
    # of the validated ones, those whose obstacle came back by the period's end (None: not watched)
    validated_recurred: int | None = None

    @property
    def validated_held(self) -> int | None:
        return None if self.validated_recurred is None else self.validated - self.validated_recurred

    @property
    def share_with_action(self) -> float | None:
        return self.obstacles_with_action / self.obstacles if self.obstacles else None

    def to_dict(self) -> dict:
        share = self.share_with_action
        return {"obstacles": self.obstacles, "obstacles_with_action": self.obstacles_with_action,
                "share_with_action": round(share, 3) if share is not None else None,
                "median_days_to_action": self.median_days_to_action, "overdue": self.overdue,
                "validated": self.validated, "validated_held": self.validated_held,
                "validated_recurred": self.validated_recurred, "actions": self.actions}


def loop_figures(loop: Loop, *, since: str | None = None, until: str | None = None,
                 areas=()) -> LoopFigures:
    """The loop's figures for a period and areas: the share of the period's obstacles with an
    action, the median days from a lesson to the decision on its action, and of the areas'
    actions active in the period, how many are overdue today and how many were validated in it;
    of those, when the loop was watched (:meth:`Loop.watch`), how many saw their obstacle come
    back by the period's end ("validated, recurred") and how many held."""
    start, end = since or "0000-01-01", until or "9999-12-31"

    def in_scope(entry: dict) -> bool:
        return start <= entry["date"] <= end and (not areas or entry["area"] in areas)

    scoped = {e for e, row in loop.entries.items() if in_scope(row)}
    obstacles = {e for e in scoped if loop.entries[e]["type"] == "obstacle"}
    with_action = {e for a in loop.actions for e in a.lessons} & obstacles
    days = []
    for action in loop.actions:
        decided = action.decided or (dt.date.fromisoformat(action.history[0].date) if action.history else None)
        for lesson in action.lessons if decided else ():
            lag = (decided - dt.date.fromisoformat(loop.entries[lesson]["date"])).days if lesson in scoped else -1
            if lag >= 0:  # a lesson logged after the decision did not lead to it
                days.append(lag)
    active = [a for a in loop.actions
              if (not areas or set(areas) & set(loop.areas_of(a)))
              and (any(start <= c.date <= end for c in a.history) or scoped & set(a.lessons))]
    validated = [a for a in active if a.status == "validated" and start <= (a.changed_on("validated") or "") <= end]
    recurred = None
    if loop.recurred is not None:
        recurred = sum(any(r.date <= end for r in loop.recurred_of(a)) for a in validated)
    return LoopFigures(
        obstacles=len(obstacles), obstacles_with_action=len(with_action),
        median_days_to_action=float(statistics.median(days)) if days else None,
        overdue=sum(a.overdue(loop.today) for a in active),
        validated=len(validated), actions=len(active), validated_recurred=recurred,
    )
