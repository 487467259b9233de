"""The audit log: who changed what, when, in which file. One JSON object per line in
``<root>/.kb/audit.jsonl``, appended under a lock of its own (never the write lock, which
its callers may hold), never rewritten; no entry text goes in, only ids and file names."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from kb.core.files import file_lock

AUDIT_FILE = "audit.jsonl"


def audit_path(state_dir: Path) -> Path:
    return Path(state_dir) / AUDIT_FILE


def record(state_dir: Path, who: str | None, action: str, *, path: str | None = None, **details) -> dict:
    """Append one event: ``who`` (a user name; None for the command line's own user),
    ``action`` (``entry.create``, ``verdict``, ``action.status``...), the file it touched."""
    event = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "who": who or _local_user(),
             "action": action}
    if path is not None:
        event["path"] = str(path)
    event.update({k: v for k, v in details.items() if v is not None})
    line = json.dumps(event, ensure_ascii=False, sort_keys=False) + "\n"
    target = audit_path(state_dir)
    with file_lock(target.with_name(AUDIT_FILE + ".lock")):
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    return event


def read(state_dir: Path) -> list[dict]:
    """Every event, oldest first (a line that is not JSON is skipped: the log is append-only)."""
    target = audit_path(state_dir)
    if not target.is_file():
        return []
    events = []
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def select(events: list[dict], *, since: str | None = None, who: str | None = None,
           action: str | None = None) -> list[dict]:
    """The events on or after ``since`` (an ISO date or time, compared in UTC), by ``who``,
    of ``action`` (``entry`` also matches ``entry.create`` and ``entry.forget``)."""
    out = []
    for event in events:
        if since and str(event.get("at", ""))[: len(since)] < since:
            continue
        if who and event.get("who") != who:
            continue
        name = str(event.get("action", ""))
        if action and name != action and not name.startswith(action + "."):
            continue
        out.append(event)
    return out


def _local_user() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "local"
