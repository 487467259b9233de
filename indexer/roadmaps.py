"""Reading the roadmaps (``roadmaps/<area>.md``) into the model of :mod:`kb.core.roadmap`.

Problems are reported like those of entries, as ``path:line: message``. Entries cite actions
in their ``roadmap:`` key; an id no roadmap holds is a warning (the entry is still indexed),
a broken roadmap file is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from indexer import parse
from kb.core.config import KBConfig
from kb.core.errors import EntryInvalid, Problem
from kb.core.roadmap import ACTION_STATUSES, ROADMAPS_DIR, Action, Roadmap, RoadmapSet


def roadmaps_dir(config: KBConfig) -> Path:
    return config.root / ROADMAPS_DIR


def parse_roadmap(path: Path, config: KBConfig) -> Roadmap:
    """Parse and validate one roadmap file. Raises :class:`EntryInvalid` with all its problems."""
    text = parse.read_text(path)
    if not text.strip():
        raise EntryInvalid([Problem(path, 1, "empty file; a roadmap starts with front matter")])
    tokens = parse.markdown.parse(text)
    if not tokens or tokens[0].type != "front_matter":
        message = (
            "front matter is not closed: add a '---' line after the last key"
            if text.startswith("---")
            else "no front matter: a roadmap starts with a '---' line, then keys "
            "(area, title, period, actions), then another '---' line"
        )
        raise EntryInvalid([Problem(path, 1, message)])
    content = tokens[0].content
    meta, key_lines = parse.load_front_matter(content, path)
    problems: list[Problem] = []

    def line_of(key: str) -> int:
        return key_lines.get(key, 1)

    area = meta.get("area")
    problems.extend(parse.area_problems(area, path, line_of("area"), config))
    title = meta.get("title")
    if title is None or not str(title).strip():
        problems.append(Problem(path, line_of("title"), "missing title"))

    actions: list[Action] = []
    raw_actions = meta.get("actions")
    item_lines = _action_lines(content)
    if raw_actions is None:
        raw_actions = []
    if not isinstance(raw_actions, list):
        problems.append(
            Problem(path, line_of("actions"), "actions must be a list of '- id: ...' items")
        )
        raw_actions = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw_actions):
        lines = item_lines[i] if i < len(item_lines) else {}
        item_line = lines.get("", line_of("actions"))
        if not isinstance(item, dict):
            problems.append(
                Problem(path, item_line, f"action number {i + 1} must be keys (id, title, actor, status)")
            )
            continue
        action_id = item.get("id")
        if action_id is None or not str(action_id).strip():
            problems.append(Problem(path, item_line, f"action number {i + 1} has no id"))
            continue
        action_id = str(action_id).strip()
        id_line = lines.get("id", item_line)
        if not parse.ID_RE.fullmatch(action_id):
            problems.append(
                Problem(path, id_line, f"action id {action_id!r} may hold only letters, digits, '.', '_' and '-'")
            )
            continue
        if action_id in seen:
            problems.append(
                Problem(path, id_line, f"duplicate action id {action_id!r}: also on line {seen[action_id]}")
            )
            continue
        seen[action_id] = id_line
        action_title = item.get("title")
        if action_title is None or not str(action_title).strip():
            problems.append(Problem(path, lines.get("title", item_line), f"action {action_id}: missing title"))
        status = item.get("status")
        if status is None or str(status) not in ACTION_STATUSES:
            what = "missing status" if status is None else f"bad status {status!r}"
            problems.append(
                Problem(
                    path,
                    lines.get("status", item_line),
                    f"action {action_id}: {what}: use one of {', '.join(ACTION_STATUSES)}",
                )
            )
        actor = item.get("actor")
        if isinstance(actor, (list, dict)):
            problems.append(
                Problem(path, lines.get("actor", item_line), f"action {action_id}: actor must be one name")
            )
            actor = None
        actions.append(
            Action(
                id=action_id,
                title=str(action_title or "").strip(),
                status=str(status),
                area=str(area or ""),
                actor=str(actor).strip() if actor is not None and str(actor).strip() else None,
                line=id_line,
            )
        )
    if problems:
        raise EntryInvalid(problems)
    intro, sections = parse.split_sections(tokens[1:])
    period = meta.get("period")
    return Roadmap(
        area=str(area),
        title=str(title).strip(),
        path=path,
        period=str(period) if period is not None else None,
        actions=actions,
        sections=sections,
        intro=intro,
        rel_path=parse.relative_path(path, config.root),
        extra={k: v for k, v in meta.items() if k not in ("area", "title", "period", "actions")},
    )


def load_roadmaps(config: KBConfig) -> RoadmapSet:
    """Parse every ``roadmaps/*.md``; a bad file never stops the others."""
    result = RoadmapSet()
    folder = roadmaps_dir(config)
    if not folder.is_dir():
        return result
    owner: dict[str, Action] = {}
    owner_path: dict[str, Roadmap] = {}
    areas: dict[str, Roadmap] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(config.root.resolve()):
            result.problems.append(
                Problem(path, 1, "symbolic link points outside the knowledge base; not read")
            )
            continue
        try:
            roadmap = parse_roadmap(path, config)
        except EntryInvalid as exc:
            result.problems.extend(exc.problems)
            continue
        if roadmap.area in areas:
            result.problems.append(
                Problem(
                    path,
                    _key_line(path, "area"),
                    f"area {roadmap.area!r} already has a roadmap: {areas[roadmap.area].rel_path}; "
                    "keep one roadmap per area",
                )
            )
            continue
        # a clash drops only the later action (files in name order), not a whole roadmap
        for action in [a for a in roadmap.actions if a.id in owner]:
            first = owner_path[action.id]
            result.problems.append(
                Problem(
                    path,
                    action.line,
                    f"duplicate action id {action.id!r}: also in {first.rel_path}:{owner[action.id].line}; "
                    "give this action its own id",
                )
            )
            roadmap.actions.remove(action)
        areas[roadmap.area] = roadmap
        for action in roadmap.actions:
            owner[action.id] = action
            owner_path[action.id] = roadmap
        result.roadmaps.append(roadmap)
    return result


def unknown_action_warnings(
    roadmaps: RoadmapSet, citations: Iterable[tuple[Path, list[str]]]
) -> list[Problem]:
    """A warning per entry that cites an action id no roadmap holds, on its ``roadmap:`` line.

    ``citations`` are (entry file, cited action ids) pairs: see :func:`entry_citations`.
    """
    known = roadmaps.actions
    problems: list[Problem] = []
    for path, cited in citations:
        unknown = [c for c in cited if c not in known]
        if not unknown:
            continue
        listed = ", ".join(repr(u) for u in unknown)
        hint = _closest(unknown[0], known)
        problems.append(
            Problem(
                path,
                _key_line(path, "roadmap"),
                f"unknown roadmap action {listed}"
                + (f" (did you mean {hint!r}?)" if hint else "; see roadmaps/*.md for the action ids"),
                severity="warning",
            )
        )
    return problems


def entry_citations(entries: Iterable, root: Path | None = None) -> list[tuple[Path, list[str]]]:
    """(file, roadmap ids) of parsed entries, or of index rows (``path`` relative to ``root``)."""
    out: list[tuple[Path, list[str]]] = []
    for entry in entries:
        if isinstance(entry, dict):
            path = Path(entry["path"])
            if root is not None and not path.is_absolute():
                path = root / path
            out.append((path, list(entry.get("roadmap") or [])))
        else:
            out.append((entry.path, list(entry.roadmap)))
    return out


def roadmap_problems(config: KBConfig, entries: Iterable) -> list[Problem]:
    """Everything ``kb validate`` and ``kb index`` report about roadmaps: broken roadmap
    files (errors) and entries citing unknown actions (warnings)."""
    roadmaps = load_roadmaps(config)
    if not roadmaps.roadmaps and not roadmaps.problems:
        return []  # a knowledge base without roadmaps: nothing to check against
    return roadmaps.problems + unknown_action_warnings(
        roadmaps, entry_citations(entries, config.root)
    )


def _action_lines(content: str) -> list[dict[str, int]]:
    """For each item of ``actions``: the file line of the item ("") and of each of its keys."""
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key_node, value_node in node.value:
        if str(key_node.value) == "actions" and isinstance(value_node, yaml.SequenceNode):
            out = []
            for item in value_node.value:
                lines = {"": item.start_mark.line + 2}  # +1 for 0-based, +1 for the '---' line
                if isinstance(item, yaml.MappingNode):
                    for k, _ in item.value:
                        lines[str(k.value)] = k.start_mark.line + 2
                out.append(lines)
            return out
    return []


def _key_line(path: Path, key: str) -> int:
    """The line of a top-level front matter key in a file (1 when it cannot be found)."""
    try:
        text = parse.read_text(path)
        tokens = parse.markdown.parse(text)
        if tokens and tokens[0].type == "front_matter":
            _, key_lines = parse.load_front_matter(tokens[0].content, path)
            return key_lines.get(key, 1)
    except (EntryInvalid, OSError):
        pass
    return 1


def _closest(action_id: str, known: dict[str, Action]) -> str | None:
    """The known id that differs only in case (``mob-1`` for ``MOB-1``)."""
    return next((k for k in known if k.casefold() == action_id.casefold()), None)
