"""The project's own exceptions. The CLI turns each into a one-line message with a hint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.core.texts import text


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


class RecordNotFound(EntryNotFound):
    """An action or learning question id that is not there, said from the catalogue: in the
    reader's language with :meth:`message` and :meth:`hint_text` (``str()`` in English)."""

    def __init__(self, key: str, hint_key: str, **params):
        self.key, self.hint_key, self.params = key, hint_key, params
        super().__init__(self.message("en"), hint=self.hint_text("en"))

    def message(self, lang: str) -> str:
        return text(self.key, lang, **self.params)

    def hint_text(self, lang: str) -> str:
        return text(self.hint_key, lang, **self.params)


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
