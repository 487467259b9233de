"""The facilitators' verdicts on suggested links, as kept in ``decisions.tsv``.

The file lives at the knowledge base root: plain text, one line per pair of entries (the
latest verdict wins), sorted, tab-separated, so a diff shows exactly what a facilitator
decided. It lives beside the entries, not in the index, so re-indexing (even ``--rebuild``)
never forgets a verdict. Writing a verdict is curation (:mod:`kb.app.curation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.core.errors import KBError

DECISIONS_FILE = "decisions.tsv"
VERDICTS = ("synergy", "conflict", "duplicate", "unrelated")
CONFIRMING = ("synergy", "conflict", "duplicate")
HEADER = "# kb link verdicts: entry_a<TAB>entry_b<TAB>verdict<TAB>date<TAB>note (one line per pair, sorted)"


@dataclass(frozen=True)
class Decision:
    a: str
    b: str
    verdict: str
    date: str
    note: str = ""

    def line(self) -> str:
        return "\t".join((self.a, self.b, self.verdict, self.date, self.note))

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "verdict": self.verdict, "date": self.date, "note": self.note}


def decisions_path(root: Path) -> Path:
    return Path(root) / DECISIONS_FILE


def load_decisions(root: Path) -> list[Decision]:
    """All verdicts in the knowledge base (an absent file means none)."""
    path = decisions_path(root)
    if not path.is_file():
        return []
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) < 4 or parts[2] not in VERDICTS:
            raise KBError(
                f"{path}:{number}: expected entry_a, entry_b, verdict, date[, note] separated by tabs",
                hint=f"Verdicts are one of: {', '.join(VERDICTS)}. Fix or delete the line.",
            )
        out.append(Decision(parts[0], parts[1], parts[2], parts[3], "\t".join(parts[4:])))
    return out


def verdict_for(decisions: list[Decision], a: str, b: str) -> Decision | None:
    key = tuple(sorted((a, b)))
    for d in decisions:
        if (d.a, d.b) == key:
            return d
    return None
