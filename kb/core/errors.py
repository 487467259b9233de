"""The project's own exceptions. The CLI turns each into a one-line message with a hint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class KBError(Exception):
    """Base class: anything a user can fix. ``hint`` says how."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(KBError):
    """kb.toml is missing or wrong."""


class EntryNotFound(KBError):
    """An entry id that the knowledge base does not hold."""


class IndexMissing(KBError):
    """Search asked of a knowledge base that has not been indexed."""

    hint = "Run `kb index` first."


class ModelMismatch(KBError):
    """The index was built with another embedding model than the one asked for."""


class EmbedderError(KBError):
    """The embedding model could not be loaded or used."""


@dataclass(frozen=True)
class Problem:
    """One problem in one file, reported as ``path:line: message``."""

    path: Path
    line: int
    message: str
    severity: str = "error"  # "error" stops the file from being indexed; "warning" does not

    def format(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            try:
                path = self.path.relative_to(root)
            except ValueError:
                pass
        prefix = "" if self.severity == "error" else "warning: "
        return f"{path}:{self.line}: {prefix}{self.message}"


class EntryInvalid(KBError):
    """One entry file has problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.format() for p in problems))
