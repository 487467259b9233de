"""``kb export -o FILE.zip``: the whole knowledge base in open, documented formats, for the
archive (e-arkiv) and for other tools. Everything is UTF-8 text; ``README.md`` inside the file
describes each part.

* the Markdown files as they are: ``entries/``, ``actions/``, ``agenda/``, ``roadmaps/``, with
  ``kb.toml`` (without its ``[auth]`` table: no password hash or role leaves the knowledge base),
  ``decisions.tsv``, ``sessions.tsv`` and ``obstacles.md``;
* ``entries.jsonl``: one JSON object per entry with every front matter field and every section
  (and the Markdown body), which ``kb import`` reads back without a mapping;
* ``entries.csv``: one row per entry for spreadsheets;
* ``actions.json``, ``agenda.json``, ``roadmaps.json``;
* ``report-YYYY.html``: the yearly report of the latest year with entries (when indexed);
* ``manifest.json``: when, from where, how many, and the SHA-256 of every file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from indexer.actions import load_actions
from indexer.agenda import load_agenda
from indexer.discover import load_entries
from indexer.roadmaps import load_roadmaps
from kb import __version__
from kb.app.backup import kb_files
from kb.core.config import CONFIG_NAME, KBConfig
from kb.core.decisions import DECISIONS_FILE
from kb.core.entry import Entry
from kb.core.errors import KBError
from kb.core.obstacle_groups import GROUPS_FILE
from kb.core.sessions import SESSIONS_FILE, session_dates
from kb.core.spreadsheet import safe_cell
from kb.core.toml_text import without_table
from reports.report import write_document, yearly_report

CSV_COLUMNS = ("id", "title", "area", "area_name", "date", "sprint", "type", "tags", "actors", "roadmap",
               "policy", "related", "author", "path", "body")
LIST_SEPARATOR = "; "
AUTH_TABLE = "auth"  # kb.toml's accounts: password hashes and roles, never exported


@dataclass
class ExportReport:
    output: str
    entries: int = 0
    files: list[str] = field(default_factory=list)
    report_year: int | None = None
    skipped: list[str] = field(default_factory=list)  # what is left out, and why

    def to_dict(self) -> dict:
        return {"output": self.output, "entries": self.entries, "files": self.files,
                "report_year": self.report_year, "skipped": self.skipped}


def entry_record(entry: Entry, config: KBConfig) -> dict:
    """One entry as ``entries.jsonl`` holds it: every field, every section, the Markdown body."""
    return {
        "id": entry.id, "title": entry.title, "area": entry.area, "area_name": config.area_name(entry.area),
        "date": entry.date.isoformat(), "sprint": entry.sprint, "type": entry.type, "tags": entry.tags,
        "actors": entry.actors, "roadmap": entry.roadmap, "policy": entry.policy, "related": entry.related,
        "extra": _plain(entry.extra), "lang": entry.lang, "path": entry.rel_path, "intro": entry.intro,
        "sections": [{"heading": s.heading, "text": s.text, "line": s.line} for s in entry.sections],
        "body": entry.body,
    }


def export_zip(config: KBConfig, output: Path, *, kb=None) -> ExportReport:
    """Write the export to ``output`` (atomically: a temporary file renamed into place).
    ``kb``: the opened knowledge base, for the yearly report (left out without an index)."""
    output = Path(output)
    report = ExportReport(output=str(output))
    files = {rel: (config.root / rel).read_bytes() for rel in kb_files(config, state=False, followed=False)}
    if CONFIG_NAME in files:  # the settings, never the accounts: [auth] stays in the knowledge base
        settings = without_table(files[CONFIG_NAME].decode("utf-8"), AUTH_TABLE)
        if settings is None:
            del files[CONFIG_NAME]
            report.skipped.append(f"{CONFIG_NAME}: its [{AUTH_TABLE}] table (passwords and roles) could not be "
                                  "taken out with certainty, so the file is left out; areas are in entries.jsonl")
        else:
            files[CONFIG_NAME] = settings.encode("utf-8")

    loaded = load_entries(config)
    entries = sorted(loaded.entries, key=lambda e: (e.date, e.id))
    report.entries = len(entries)
    if loaded.errors:
        report.skipped.append(f"{len({p.path for p in loaded.errors})} entry file(s) with errors are in "
                              "entries/ as they are, but not in entries.jsonl and entries.csv")
    records = [entry_record(e, config) for e in entries]
    files["entries.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    files["entries.csv"] = _csv(records)
    files["actions.json"] = _json([a.to_dict() for a in load_actions(config).actions])
    sessions = session_dates(config.root)
    files["agenda.json"] = _json([q.to_dict(sessions) for q in load_agenda(config).questions])
    files["roadmaps.json"] = _json([r.to_dict() for r in load_roadmaps(config).roadmaps])
    if entries and kb is not None and kb.indexed:
        year = max(e.date.year for e in entries)
        try:
            result = yearly_report(kb, year, lang=config.language)
        except KBError as exc:  # e.g. an index made with another model: the rest is still worth having
            report.skipped.append(f"the yearly report: {exc}")
        else:
            files[f"report-{year}.html"] = write_document(result, fmt="html", root=config.root).encode("utf-8")
            report.report_year = year
    elif entries:
        report.skipped.append("the yearly report: the knowledge base is not indexed (run `kb index` first)")
    files["README.md"] = readme(config, report).encode("utf-8")
    manifest = {
        "format": "malmo-kb export 1", "made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "made_by": f"kb {__version__}", "knowledge_base": config.title, "entries": report.entries,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["manifest.json"] = _json(manifest)
    report.files = sorted(files)
    _write_zip(output, files)
    return report


def _write_zip(output: Path, files: dict[str, bytes]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name in sorted(files):
                    archive.writestr(name, files[name])
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(value):
    """Front matter values as JSON has them (a date as YYYY-MM-DD)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def _csv(records: list[dict]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        row = {**r, "author": r["extra"].get("author", "")}
        cells = [LIST_SEPARATOR.join(row[c]) if isinstance(row[c], list) else str(row[c] or "") for c in CSV_COLUMNS]
        writer.writerow([safe_cell(cell) for cell in cells])  # no cell a spreadsheet runs as a formula
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the mark makes Excel read it as UTF-8


def readme(config: KBConfig, report: ExportReport) -> str:
    lines = [
        f"# Export of “{config.title}”",
        "",
        f"Made by kb {__version__}, {dt.date.today().isoformat()}: {report.entries} entries. Every file is "
        "UTF-8 text; dates are ISO 8601 (YYYY-MM-DD).",
        "",
        "## The files",
        "",
        "- `entries/<area>/<id>.md`: the entries as written, Markdown with YAML front matter (keys: id, title, "
        "area, date, sprint, type = lesson | obstacle | enabler | goal-conflict | idea, tags, actors, "
        "roadmap, policy = regional | national | eu, related; other keys such as author and source are kept). "
        "Each `## heading` starts a section.",
        "- `actions/<id>.md`, `agenda/<id>.md`, `roadmaps/<area>.md`: actions on lessons, learning questions "
        "and the areas' roadmaps, Markdown with YAML front matter.",
        f"- `{CONFIG_NAME}`: the knowledge base's settings and areas (TOML), without its `[{AUTH_TABLE}]` table "
        f"(the accounts: password hashes and roles stay in the knowledge base). `{DECISIONS_FILE}`: facilitators' "
        "verdicts on links, tab-separated: entry_a, entry_b, verdict, date, note. `"
        f"{SESSIONS_FILE}`: the learning sessions held, tab-separated: date, note. `{GROUPS_FILE}`: the "
        "recurring-obstacle groups, Markdown: one `## id: label` section per group with its entries "
        "(`- entries:`), whether a facilitator named it (`- named:`) or the group is no longer found "
        "(`- gone since:`); ids are never reused.",
        "- `entries.jsonl`: JSON Lines, one object per entry: `id`, `title`, `area`, `area_name`, `date`, "
        "`sprint`, `type`, `tags`, `actors`, `roadmap`, `policy`, `related` (lists of text), `extra` (every "
        "other front matter key), `lang` (sv or en, detected), `path` (of the Markdown file), `intro` (text "
        "before the first section), `sections` (a list of `{heading, text, line}`: text without Markdown, "
        "line in the file) and `body` (the Markdown after the front matter). `kb import entries.jsonl` reads "
        "it back as entries without any mapping.",
        f"- `entries.csv`: one row per entry, comma-separated, quoted where needed, with a UTF-8 byte-order "
        f"mark (so spreadsheet programs read å, ä, ö): {', '.join(CSV_COLUMNS)}. Lists are joined with "
        f"“{LIST_SEPARATOR.strip()} ”; `body` is the Markdown text. A cell that starts with = + - @, a tab or a "
        "carriage return (and is not a plain number) has an apostrophe (') in front, so that no spreadsheet runs "
        "it as a formula; entries.jsonl has every value as written.",
        "- `actions.json`: a JSON list of actions: id, title, owner, due, status (proposed | agreed | "
        "in-progress | done | validated | dropped), lessons (entry ids), roadmap, decided, outcome, reason, "
        "overdue, history (date, status, note), evidence, path.",
        "- `agenda.json`: a JSON list of learning questions: id, question, owner, opened, status (open | "
        "answered | dropped), entries, closed, answer, age_days, sessions_open, needs_own_session, path.",
        "- `roadmaps.json`: a JSON list of roadmaps: area, title, period, path, actions (id, title, actor, "
        "status = planned | ongoing | done | paused, area), sections (heading, text).",
    ]
    if report.report_year:
        lines.append(f"- `report-{report.report_year}.html`: the yearly report for {report.report_year}, "
                     "one HTML file with its style inside; links point to the entry files in this export.")
    lines += [
        "- `manifest.json`: the export's format, date, program, and the SHA-256 checksum of every other file.",
        "- `README.md`: this description.",
    ]
    if report.skipped:
        lines += ["", "## Left out", ""] + [f"- {s}" for s in report.skipped]
    return "\n".join(lines) + "\n"

