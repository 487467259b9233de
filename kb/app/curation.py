"""Curation: a facilitator's verdict on a suggested link, and the front matter edit it causes;
a facilitator's name for a recurring obstacle.

``kb link A B --as synergy|conflict|duplicate|unrelated`` records one verdict in
``decisions.tsv`` (see :mod:`kb.core.decisions`) and, for a confirmed link, in A's
``related:`` list; a rejection takes the link out of both entries' lists again. The edit is
surgical: only the ``related`` line(s) change; other keys, comments, order, quoting and the
body stay.

``kb obstacles rename ID LABEL`` gives a kept obstacle group (``obstacles.md``, see
:mod:`kb.core.obstacle_groups`) a facilitator's label, which no clustering replaces.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from indexer.discover import load_entries
from indexer.parse import load_yaml
from kb.core import audit
from kb.core.config import KBConfig
from kb.core.decisions import CONFIRMING, HEADER, VERDICTS, Decision, decisions_path, load_decisions
from kb.core.errors import EntryInvalid, EntryNotFound, KBError
from kb.core.files import atomic_write_text, write_lock
from kb.core.obstacle_groups import MAX_LABEL, KeptGroup, groups_path, load_groups, save_groups


def record_link(
    config: KBConfig,
    a: str,
    b: str,
    verdict: str,
    *,
    note: str = "",
    today: dt.date | None = None,
    who: str | None = None,
) -> Decision:
    """Record a facilitator's verdict on the pair (A, B). Validates both ids. The files are
    written under the write lock and the verdict goes to the audit log (``who`` decided)."""
    if verdict not in VERDICTS:
        raise KBError(f"unknown verdict {verdict!r}", hint=f"Use one of: {', '.join(VERDICTS)}.")
    if a == b:
        raise KBError(f"{a}: an entry cannot be linked to itself")
    entries = {e.id: e for e in load_entries(config).entries}
    for entry_id in (a, b):
        if entry_id not in entries:
            raise EntryNotFound(
                f"no entry with id {entry_id!r}",
                hint="Check the id with `kb search` or `kb synergies` (ids are shown there).",
            )
    note = " ".join(note.split())  # one line, no tabs
    first, second = sorted((a, b))
    decision = Decision(first, second, verdict, (today or dt.date.today()).isoformat(), note)

    confirm = verdict in CONFIRMING
    changed = []
    with write_lock(config.state_dir):
        # a confirmation goes into A's list; a rejection takes the link out of both lists
        for source, target in ((a, b),) if confirm else ((a, b), (b, a)):
            path = entries[source].path
            text = path.read_text(encoding="utf-8")
            edited = set_related(text, target, present=confirm)
            if edited != text:
                atomic_write_text(path, edited)
                changed.append(entries[source].rel_path)

        kept = [d for d in load_decisions(config.root) if (d.a, d.b) != (first, second)]
        lines = sorted(d.line() for d in [*kept, decision])
        atomic_write_text(decisions_path(config.root), "\n".join([HEADER, *lines]) + "\n")
        audit.record(config.state_dir, who, "verdict", path=decisions_path(config.root).name, a=first, b=second,
                     verdict=verdict, files=changed)
    return decision


def rename_obstacle(config: KBConfig, group_id: str, label: str | None, *, today: dt.date | None = None,
                    who: str | None = None) -> KeptGroup:
    """Give the kept obstacle group ``group_id`` a facilitator's ``label`` (None: drop the
    facilitator's label; a new one is made from the group's entries the next time it is
    listed). Written under the write lock; the audit log records who renamed which group."""
    if label is not None:
        label = " ".join(str(label).split())
        if not label:
            raise KBError("the label is empty", hint="Give the group a short name, e.g. \"Elnät: lång väntan på "
                                                     "anslutning\".")
        if len(label) > MAX_LABEL:
            raise KBError(f"the label is longer than {MAX_LABEL} characters", hint="Say it in a few words.")
    with write_lock(config.state_dir):
        kept = load_groups(config.root)
        group = kept.get(group_id)
        if group is None:
            known = ", ".join(g.id for g in kept.groups if not g.gone) or "none yet"
            raise EntryNotFound(f"{groups_path(config.root)}: no obstacle group {group_id!r}",
                                hint=f"The ids are listed by `kb obstacles` ({known}).")
        if label is None:
            group.label, group.label_from, group.named = "", None, None
        else:
            group.label, group.label_from = label, None
            group.named = (today or dt.date.today()).isoformat()
        save_groups(config.root, kept)
        audit.record(config.state_dir, who, "obstacle.rename", path=groups_path(config.root).name, id=group_id,
                     reset=True if label is None else None)
    return group


# --- surgical front matter edit ------------------------------------------------------------
_KEY = re.compile(r"^related[ \t]*:(?P<rest>.*)$")
_TOP_KEY = re.compile(r"^[^\s#-][^:]*:")


def set_related(text: str, target: str, *, present: bool) -> str:
    """Add ``target`` to (or remove it from) the ``related:`` list in the front matter of
    ``text``; everything else is left byte for byte."""
    newline = "\r\n" if "\r\n" in text else "\n"
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = text[len(bom):].split(newline)
    if not lines or lines[0].strip() != "---":
        raise KBError("the entry has no front matter to edit")
    try:
        end = next(k for k in range(1, len(lines)) if lines[k].strip() in ("---", "..."))
    except StopIteration:
        raise KBError("the entry's front matter is not closed") from None
    front = lines[1:end]
    current = _related_values(newline.join(front))
    if (target in current) == present:
        return text  # nothing to do
    key_at = next((k for k, line in enumerate(front) if _KEY.match(line)), None)
    if key_at is None:
        # no related key yet: add one as the last key
        new_front = [*front, f"related: [{target}]"]
    else:
        rest = _KEY.match(front[key_at]).group("rest")
        value, comment = _split_comment(rest)
        block_end = key_at + 1
        while block_end < len(front) and not _TOP_KEY.match(front[block_end]) and (
            front[block_end].startswith((" ", "\t", "-")) or not front[block_end].strip()
        ):
            block_end += 1
        if value.strip().startswith("["):  # flow list: related: [a, "b"]
            new_line = "related:" + _edit_flow(value, target, present) + comment
            new_front = [*front[:key_at], new_line, *front[key_at + 1 :]]
        elif value.strip() in ("", "~", "null"):
            items = front[key_at + 1 : block_end]
            if not any(line.strip().startswith("-") for line in items):
                # empty value: write a flow list
                new_line = "related: " + (f"[{target}]" if present else "[]") + comment
                new_front = [*front[:key_at], new_line, *front[key_at + 1 :]]
            else:  # block list
                new_front = [*front[:key_at + 1], *_edit_block(items, target, present), *front[block_end:]]
        else:  # a single scalar: make it a flow list
            values = [v for v in [value.strip()] if _unquote(v) != target] + ([target] if present else [])
            new_line = "related: [" + ", ".join(values) + "]" + comment
            new_front = [*front[:key_at], new_line, *front[key_at + 1 :]]
    result = bom + newline.join([lines[0], *new_front, *lines[end:]])
    _check(text, result, target, present)
    return result


def _front_matter(front: str) -> dict:
    """The front matter through the parser's loader: safe, and no alias is ever expanded."""
    try:
        meta, _ = load_yaml(front, Path("front matter"))
    except EntryInvalid as exc:
        raise KBError(f"the front matter cannot be read: {exc.problems[0].message}") from None
    return meta if isinstance(meta, dict) else {}


def _related_values(front: str) -> list[str]:
    meta = _front_matter(front)
    value = meta.get("related") if isinstance(meta, dict) else None
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _split_comment(rest: str) -> tuple[str, str]:
    """Split ``value  # comment`` (a '#' after whitespace, outside quotes)."""
    quote = None
    for k, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or rest[k - 1] in " \t"):
            value = rest[:k]
            stripped = value.rstrip()
            return stripped, value[len(stripped):] + rest[k:]
    return rest.rstrip(), ""


def _unquote(item: str) -> str:
    item = item.strip()
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
        return item[1:-1]
    return item


def _edit_flow(value: str, target: str, present: bool) -> str:
    lead = value[: len(value) - len(value.lstrip())] or " "
    inner = value.strip()[1:-1]
    items = [part for part in inner.split(",") if part.strip()]
    if present:
        items = [*[p.strip() for p in items], target]
    else:
        items = [p.strip() for p in items if _unquote(p) != target]
    return lead + "[" + ", ".join(items) + "]"


def _edit_block(items: list[str], target: str, present: bool) -> list[str]:
    if present:
        last = max(k for k, line in enumerate(items) if line.strip().startswith("-"))
        indent = items[last][: len(items[last]) - len(items[last].lstrip())]
        return [*items[: last + 1], f"{indent}- {target}", *items[last + 1 :]]
    return [
        line for line in items
        if not (line.strip().startswith("-") and _unquote(_split_comment(line.strip()[1:])[0]) == target)
    ]


def _check(before: str, after: str, target: str, present: bool) -> None:
    """Refuse to write an edit that changed anything but ``related``."""
    def meta(text: str) -> dict:
        body = text.lstrip("\ufeff").split("\n")
        end = next(k for k in range(1, len(body)) if body[k].strip() in ("---", "..."))
        return _front_matter("\n".join(body[1:end]))

    old, new = meta(before), meta(after)
    old_related, new_related = _as_list(old.pop("related", None)), _as_list(new.pop("related", None))
    expected = [v for v in old_related if v != target] + ([target] if present else [])
    if old != new or sorted(new_related) != sorted(expected):
        raise KBError(
            "could not edit the related: list safely; the file was left unchanged",
            hint=f"Edit the front matter by hand: related: [{target}]",
        )


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]
