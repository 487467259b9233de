"""The learning sessions (lärtillfällen), in ``sessions.tsv`` at the knowledge base root: one
line per session, ``date<TAB>title``, sorted. ``kb session add`` (or ``kb brief --mark``, or
the web's sessions page) adds one. A session dated today or earlier was *held*; one dated
later is *planned*. "New since the last session" and the age of learning questions count
from the sessions held only, so preparing next week's session never moves the window.
Beside the entries, not in the index: re-indexing never forgets a session."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from kb.core.characters import first_control_character
from kb.core.errors import KBError
from kb.core.files import atomic_write_text

SESSIONS_FILE = "sessions.tsv"
HEADER = "# learning sessions: date<TAB>title (one line per session, sorted; kb session add adds one)"
LEGACY_MARK = Path(".kb") / "last-brief.json"  # where an older version kept the last brief's date
MAX_TITLE = 200


@dataclass(frozen=True)
class LearningSession:
    date: str  # ISO date
    title: str

    def held(self, today: dt.date | None = None) -> bool:
        return self.date <= (today or dt.date.today()).isoformat()

    def to_dict(self, today: dt.date | None = None) -> dict:
        return {"date": self.date, "title": self.title, "held": self.held(today)}


def sessions_path(root: Path) -> Path:
    return Path(root) / SESSIONS_FILE


def load_sessions(root: Path) -> list[LearningSession]:
    """Every session in the file, held and planned, oldest first."""
    path = sessions_path(root)
    if not path.is_file():
        legacy = Path(root) / LEGACY_MARK
        try:
            date = json.loads(legacy.read_text(encoding="utf-8")).get("date")
            return [LearningSession(str(date), "")] if date else []
        except (OSError, ValueError, AttributeError):
            return []
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        date, _, title = raw.partition("\t")
        try:
            dt.date.fromisoformat(date.strip())
        except ValueError:
            raise KBError(f"{path}:{number}: expected a date (YYYY-MM-DD), a tab and a title",
                          hint="Fix or delete the line.") from None
        out.append(LearningSession(date.strip(), title.strip()))
    return sorted(out, key=lambda s: s.date)


def held_sessions(root: Path, today: dt.date | None = None) -> list[LearningSession]:
    """The sessions held: dated today or earlier."""
    return [s for s in load_sessions(root) if s.held(today)]


def session_dates(root: Path, today: dt.date | None = None) -> list[str]:
    """The dates of the sessions held, oldest first."""
    return [s.date for s in held_sessions(root, today)]


def last_session(root: Path, today: dt.date | None = None) -> str | None:
    """The date of the last session held (a planned one does not count)."""
    dates = session_dates(root, today)
    return dates[-1] if dates else None


def last_held(root: Path, today: dt.date | None = None) -> LearningSession | None:
    held = held_sessions(root, today)
    return held[-1] if held else None


def planned_sessions(root: Path, today: dt.date | None = None) -> list[LearningSession]:
    """The sessions recorded for a later date than today, soonest first."""
    return [s for s in load_sessions(root) if not s.held(today)]


def check_session(date: str, title: str) -> tuple[str, str]:
    """The date as ISO and the title on one line; a bad date or a long title is refused."""
    try:
        date = dt.date.fromisoformat(str(date).strip()).isoformat()
    except ValueError:
        raise KBError(f"{date!r} is not a date", hint="Write it as YYYY-MM-DD.") from None
    character = first_control_character(str(title or ""))
    if character:
        raise KBError(f"the title holds the control character {character}",
                      hint="Write the title without it (a line break from Word is one).")
    title = " ".join(str(title or "").split())
    if len(title) > MAX_TITLE:
        raise KBError(f"the title is {len(title)} characters long; at most {MAX_TITLE}",
                      hint="Shorten the title.")
    return date, title


def record_session(root: Path, date: str, title: str = "") -> LearningSession:
    """Add a session (a second one on the same date replaces the first's title)."""
    date, title = check_session(date, title)
    kept = [s for s in load_sessions(root) if s.date != date]
    _write(root, [*kept, LearningSession(date, title)])
    return LearningSession(date, title)


def remove_session(root: Path, date: str) -> LearningSession:
    """Take the session of ``date`` out of the file (a mistake, or a session cancelled)."""
    date, _ = check_session(date, "")
    sessions = load_sessions(root)
    found = [s for s in sessions if s.date == date]
    if not found:
        raise KBError(f"no learning session on {date} in {SESSIONS_FILE}", hint="List them with `kb session list`.")
    _write(root, [s for s in sessions if s.date != date])
    return found[0]


def _write(root: Path, sessions: list[LearningSession]) -> None:
    lines = [f"{s.date}\t{s.title}" for s in sorted(sessions, key=lambda s: s.date)]
    atomic_write_text(sessions_path(root), "\n".join([HEADER, *lines]) + "\n")
