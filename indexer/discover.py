"""Find the entry files of a knowledge base and load every valid one.

One bad entry never stops the others: problems are collected, valid entries returned.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.parse import parse_entry
from kb.core.config import KBConfig
from kb.core.entry import Entry
from kb.core.errors import EntryInvalid, Problem

UNFILLED_WARNING = ("no text under its headings yet (an unfilled template): write what happened and what "
                    "you learned; until then it is searchable but left out of the brief and the cross-area analyses")


@dataclass
class LoadResult:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def discover(config: KBConfig) -> tuple[list[Path], list[Problem]]:
    """All ``entries/**/*.md`` files, sorted; links that leave the knowledge base are refused."""
    root = config.entries_dir
    if not root.is_dir():
        return [], []
    real_root = config.root.resolve()
    found: list[Path] = []
    problems: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        for d in list(dirnames):
            if d.endswith(".md"):
                problems.append(
                    Problem(here / d, 1, "a folder named .md is not an entry; skipped", "warning")
                )
        for name in sorted(filenames):
            if not name.endswith(".md") or name.startswith("."):
                continue
            path = here / name
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    problems.append(
                        Problem(
                            path,
                            1,
                            "symbolic link points outside the knowledge base; not read "
                            "(copy the file into entries/ instead)",
                        )
                    )
                    continue
                if not target.is_file():
                    problems.append(Problem(path, 1, "symbolic link to a missing file; not read"))
                    continue
            found.append(path)
        # symlinked folders are not followed (os.walk followlinks=False) but say so
        for d in dirnames:
            if (here / d).is_symlink():
                problems.append(
                    Problem(here / d, 1, "linked folder not followed; skipped", "warning")
                )
    return found, problems


def load_entries(config: KBConfig) -> LoadResult:
    """Parse every entry file; collect problems; of duplicate ids keep the file named after
    the id, else the oldest file.

    Not simply the first by name: a new file that reuses an id must not take the place of
    the indexed entry that had it (entries/energi/x.md sorts before entries/mobilitet/).
    """
    paths, problems = discover(config)
    result = LoadResult(problems=list(problems))
    parsed: list[tuple[Path, Entry]] = []
    for path in paths:
        try:
            parsed.append((path, parse_entry(path, config)))
        except EntryInvalid as exc:
            result.problems.extend(exc.problems)
    owner: dict[str, Path] = {}
    for path, entry in sorted(parsed, key=lambda pe: (pe[0].stem != pe[1].id, _age_key(pe[0]), str(pe[0]))):
        owner.setdefault(entry.id, path)
    seen: dict[str, Entry] = {e.id: e for path, e in parsed if owner[e.id] == path}
    for path, entry in parsed:
        if owner[entry.id] != path:
            result.problems.append(
                Problem(
                    path,
                    _id_line(path),
                    f"duplicate id {entry.id!r}: also used by {seen[entry.id].rel_path}; "
                    "give this entry its own id",
                )
            )
            continue
        if entry.unfilled:
            result.problems.append(Problem(
                path, entry.sections[0].line, UNFILLED_WARNING, severity="warning"))
        result.entries.append(entry)
    return result


def _age_key(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _id_line(path: Path) -> int:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("id:"):
                return number
    except (OSError, UnicodeDecodeError):
        pass
    return 1
