"""Find the entry files of a knowledge base and load every valid one.

One bad entry never stops the others: problems are collected, valid entries returned.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kb.config import KBConfig
from kb.entry import Entry
from kb.errors import EntryInvalid, Problem

from .parse import parse_entry


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
    """Parse every entry file; collect problems; keep the first of duplicate ids."""
    paths, problems = discover(config)
    result = LoadResult(problems=list(problems))
    seen: dict[str, Entry] = {}
    for path in paths:
        try:
            entry = parse_entry(path, config)
        except EntryInvalid as exc:
            result.problems.extend(exc.problems)
            continue
        if entry.id in seen:
            first = seen[entry.id]
            result.problems.append(
                Problem(
                    path,
                    _id_line(path),
                    f"duplicate id {entry.id!r}: also used by {first.rel_path}; "
                    "give this entry its own id",
                )
            )
            continue
        seen[entry.id] = entry
        result.entries.append(entry)
    return result


def _id_line(path: Path) -> int:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("id:"):
                return number
    except (OSError, UnicodeDecodeError):
        pass
    return 1
