"""The learning sessions held (lärtillfällen), in ``sessions.tsv`` at the knowledge base root:
one line per session, ``date<TAB>note``, sorted. ``kb brief --mark`` adds one; "new since the
last session" and the age of learning questions count from them. Beside the entries, not in
the index: re-indexing never forgets a session."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from kb.core.errors import KBError
from kb.core.files import atomic_write_text

SESSIONS_FILE = "sessions.tsv"
HEADER = "# learning sessions: date<TAB>note (one line per session, sorted; kb brief --mark adds one)"
LEGACY_MARK = Path(".kb") / "last-brief.json"  # where an older version kept the last brief's date


def sessions_path(root: Path) -> Path:
    return Path(root) / SESSIONS_FILE


def load_sessions(root: Path) -> list[tuple[str, str]]:
    """(ISO date, note) of every session, oldest first."""
    path = sessions_path(root)
    if not path.is_file():
        legacy = Path(root) / LEGACY_MARK
        try:
            date = json.loads(legacy.read_text(encoding="utf-8")).get("date")
            return [(str(date), "")] if date else []
        except (OSError, ValueError, AttributeError):
            return []
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        date, _, note = raw.partition("\t")
        try:
            dt.date.fromisoformat(date.strip())
        except ValueError:
            raise KBError(f"{path}:{number}: expected a date (YYYY-MM-DD), a tab and a note",
                          hint="Fix or delete the line.") from None
        out.append((date.strip(), note.strip()))
    return sorted(out)


def session_dates(root: Path) -> list[str]:
    return [date for date, _ in load_sessions(root)]


def last_session(root: Path) -> str | None:
    dates = session_dates(root)
    return dates[-1] if dates else None


def record_session(root: Path, date: str, note: str = "") -> None:
    """Add a session (a second one on the same date replaces the first's note)."""
    kept = [(d, n) for d, n in load_sessions(root) if d != date]
    lines = [f"{d}\t{' '.join(n.split())}" for d, n in sorted([*kept, (date, note)])]
    atomic_write_text(sessions_path(root), "\n".join([HEADER, *lines]) + "\n")
