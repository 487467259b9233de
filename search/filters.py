"""Filters on entries (area, type, tag, period): read from what a person typed (the CLI's
options, a page's query string) by one reader, and applied as SQL on the entries table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kb.core.config import ENTRY_TYPES, KBConfig
from kb.core.errors import KBError
from kb.core.followed import load_sources

OWN_SOURCE = "own"  # --source own, ?source=own: only the knowledge base's own lessons


@dataclass(frozen=True)
class Filters:
    areas: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive
    exclude_ids: tuple[str, ...] = field(default=())
    sources: tuple[str, ...] = ()  # followed sources' names, and OWN_SOURCE for our own lessons

    @property
    def active(self) -> bool:
        return bool(self.areas or self.types or self.tags or self.since or self.until or self.exclude_ids
                    or self.sources)

    def where(self, alias: str = "entries") -> tuple[str, list]:
        """A SQL condition on ``alias`` and its parameters (``1`` when nothing is filtered)."""
        clauses: list[str] = []
        params: list = []
        if self.areas:
            clauses.append(f"{alias}.area in ({','.join('?' * len(self.areas))})")
            params.extend(self.areas)
        if self.types:
            clauses.append(f"{alias}.type in ({','.join('?' * len(self.types))})")
            params.extend(self.types)
        if self.tags:
            clauses.append(
                f"exists (select 1 from json_each({alias}.tags) "
                f"where lower(value) in ({','.join('?' * len(self.tags))}))"
            )
            params.extend(t.lower() for t in self.tags)
        if self.since:
            clauses.append(f"{alias}.date >= ?")
            params.append(self.since)
        if self.until:
            clauses.append(f"{alias}.date <= ?")
            params.append(self.until)
        if self.exclude_ids:
            clauses.append(f"{alias}.id not in ({','.join('?' * len(self.exclude_ids))})")
            params.extend(self.exclude_ids)
        if self.sources:  # our own lessons have no source: '' stands for them
            clauses.append(f"coalesce({alias}.source, '') in ({','.join('?' * len(self.sources))})")
            params.extend("" if s == OWN_SOURCE else s for s in self.sources)
        return (" and ".join(clauses) or "1"), params


def parse_date(value: str | None, name: str) -> str | None:
    """Accept YYYY-MM-DD, YYYY-MM (first day) or YYYY (first day); return ISO text."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    for fmt, pad in (("%Y-%m-%d", ""), ("%Y-%m", "-01"), ("%Y", "-01-01")):
        try:
            dt.datetime.strptime(text, fmt)
            return text + pad
        except ValueError:
            continue
    raise KBError(f"{name}: bad date {value!r}", hint="Write dates as YYYY-MM-DD (or YYYY-MM, YYYY).")


def parse_until(value: str | None) -> str | None:
    """Like :func:`parse_date`, but YYYY-MM and YYYY mean the end of that month/year."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    start = parse_date(text, "--until")
    assert start is not None
    if len(text) == 4:
        return f"{text}-12-31"
    if len(text) == 7:
        first = dt.date.fromisoformat(start)
        next_month = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return (next_month - dt.timedelta(days=1)).isoformat()
    return start


@dataclass(frozen=True)
class FilterProblem:
    """One filter value that cannot be used. ``key`` names its text in the catalogue
    (``filter_unknown_area``, ``filter_unknown_type``, ``filter_bad_date``); ``option`` is
    where it came from."""

    key: str
    option: str
    value: str

    def describe(self, config: KBConfig) -> str:
        """In English, for the command line."""
        if self.key == "filter_unknown_area":
            return f"unknown area {self.value!r}; use one of: {', '.join(sorted(config.areas))}"
        if self.key == "filter_unknown_type":
            return f"unknown type {self.value!r}; use one of: {', '.join(ENTRY_TYPES)}"
        if self.key == "filter_unknown_source":
            names = [OWN_SOURCE, *(s.name for s in load_sources(config))]
            return f"unknown source {self.value!r}; use one of: {', '.join(names)} (`kb follow` lists them)"
        return f"bad date {self.value!r}; write YYYY-MM-DD (or YYYY-MM, YYYY)"


def read_filters(config: KBConfig, *, areas=(), types=(), tags=(), since: str | None = None,
                 until: str | None = None, sources=()) -> tuple[Filters, list[FilterProblem]]:
    """Filters from values as typed, and every value that cannot be used (left out of the
    filters). The one reader behind ``--area/--type/--tag/--since/--until/--source`` and the
    pages' ``?area=&type=&tag=&since=&until=&source=``. A source is a followed publication's
    name (any case) or ``own``."""
    problems = [FilterProblem("filter_unknown_area", "area", a) for a in areas if a not in config.areas]
    problems += [FilterProblem("filter_unknown_type", "type", t) for t in types if t not in ENTRY_TYPES]
    names = {OWN_SOURCE: OWN_SOURCE}
    if sources:
        names.update({s.name.casefold(): s.name for s in load_sources(config)})
        names.update({s.slug: s.name for s in load_sources(config)})
    problems += [FilterProblem("filter_unknown_source", "source", s) for s in sources
                 if s.strip().casefold() not in names]
    dates: dict[str, str | None] = {}
    for option, value, parse in (("since", since, lambda v: parse_date(v, "since")), ("until", until, parse_until)):
        try:
            dates[option] = parse(value)
        except KBError:
            problems.append(FilterProblem("filter_bad_date", option, str(value)))
            dates[option] = None
    filters = Filters(
        areas=tuple(a for a in areas if a in config.areas),
        types=tuple(t for t in types if t in ENTRY_TYPES),
        tags=tuple(t.lower() for t in tags),
        since=dates["since"],
        until=dates["until"],
        sources=tuple(dict.fromkeys(names[s.strip().casefold()] for s in sources if s.strip().casefold() in names)),
    )
    return filters, problems
