"""Recording the learning sessions (lärtillfällen) by what happened: the date a session was
(or will be) held and its title. Under the write lock, checked, and in the audit log; the
file itself is :mod:`kb.core.sessions`."""

from __future__ import annotations

import datetime as dt

from kb.core import audit
from kb.core.config import KBConfig
from kb.core.files import write_lock
from kb.core.sessions import SESSIONS_FILE, LearningSession, check_session, record_session, remove_session
from kb.core.texts import text


def default_title(date: str, lang: str) -> str:
    """``Lärtillfälle 2026-12-09``: the title of a session nobody named."""
    return text("session_default_title", lang, date=date)


def add_session(config: KBConfig, date: str | dt.date | None = None, title: str = "", *,
                who: str | None = None, today: dt.date | None = None) -> LearningSession:
    """Record the session of ``date`` (default today) with ``title`` (default: "Lärtillfälle
    DATE" in the knowledge base's language). A date later than today records a planned
    session: it sets the next session's date, and counts as held only from that day on."""
    date = (date.isoformat() if isinstance(date, dt.date) else date) or (today or dt.date.today()).isoformat()
    date, title = check_session(date, title)
    title = title or default_title(date, config.language)
    with write_lock(config.state_dir):
        session = record_session(config.root, date, title)
        audit.record(config.state_dir, who, "session.add", path=SESSIONS_FILE, date=session.date)
    return session


def delete_session(config: KBConfig, date: str, *, who: str | None = None) -> LearningSession:
    with write_lock(config.state_dir):
        session = remove_session(config.root, date)
        audit.record(config.state_dir, who, "session.remove", path=SESSIONS_FILE, date=session.date)
    return session
