"""Filters on entries (area, type, tag, period), as SQL on the entries table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kb.core.errors import KBError


@dataclass(frozen=True)
class Filters:
    areas: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive
    exclude_ids: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        return bool(self.areas or self.types or self.tags or self.since or self.until or self.exclude_ids)

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
