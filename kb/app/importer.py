"""``kb import``: lessons kept in a register (CSV, XLSX or JSONL) as entry files.

A :class:`Mapping` says which column fills which front matter key and which columns
become body sections. Every row goes through :mod:`kb.capture` (the rules of
``kb validate``); a bad row is reported with its row number and skipped.

Idempotent: each row gets a stable id, from a source key (``--map id=Column``) or else
from a hash of its content, and a row whose id is already in the knowledge base is left
alone. Dry run by default; :func:`run_import` with ``write=True`` creates the files,
under the same write lock as the web form.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer.parse import parse_text
from kb.app.capture import (
    IMPORT_LIMITS,
    CaptureInvalid,
    Draft,
    build,
    content_id,
    split_list,
    taken_ids,
    write_entry_file,
)
from kb.app.documents import document_text, slugify
from kb.core import audit
from kb.core.config import CONFIG_NAME, ENTRY_TYPES, Area, KBConfig
from kb.core.errors import EntryInvalid, KBError
from kb.core.files import atomic_write_text, create_exclusive, write_lock

# the columns of `kb export`'s entries.jsonl that `kb import` recognises it by
EXPORT_KEYS = ("id", "title", "area", "date", "type", "sections", "body")
EXPORT_LISTS = ("tags", "actors", "roadmap", "policy", "related")
TARGETS = ("id", "title", "area", "date", "sprint", "type", "tags", "actors", "roadmap", "author")
LIST_TARGETS = ("tags", "actors", "roadmap")
FORMATS = ("csv", "xlsx", "jsonl")


class MappingError(KBError):
    """The mapping does not fit the file (a wrong column name, a missing title ...)."""


@dataclass
class Mapping:
    fields: dict[str, str] = field(default_factory=dict)  # target key -> source column
    sections: list[tuple[str, str]] = field(default_factory=list)  # heading -> source column
    area: str | None = None  # one area for every row
    area_from: str | None = None  # or: the column holding it ...
    area_map: dict[str, str] = field(default_factory=dict)  # ... with value -> slug
    add_areas: bool = False  # unknown values become new areas in kb.toml
    type: str = "lesson"
    lang: str = "sv"
    id_prefix: str = ""
    source_name: str = ""  # recorded as `source:` in each entry

    def check(self, columns: list[str]) -> None:
        """Refuse a mapping that cannot work, before any row is read."""
        unknown = [t for t in self.fields if t not in TARGETS]
        if unknown:
            raise MappingError(f"--map: unknown key {unknown[0]!r}",
                               hint=f"Keys are: {', '.join(TARGETS)}; area comes from --area or --area-from.")
        if "title" not in self.fields:
            raise MappingError("--map: no column for the title", hint="Add e.g. --map title=Lesson.")
        if "date" not in self.fields:
            raise MappingError("--map: no column for the date", hint="Add e.g. --map date=Date.")
        if bool(self.area) == bool(self.area_from):
            raise MappingError("give exactly one of --area SLUG and --area-from COLUMN")
        if not self.sections:
            raise MappingError("no body sections", hint='Add e.g. --section "Vad hände?=Description".')
        if self.type not in ENTRY_TYPES:
            raise MappingError(f"--type {self.type!r}: use one of {', '.join(ENTRY_TYPES)}")
        wanted = [*self.fields.values(), *(c for _, c in self.sections)]
        if self.area_from:
            wanted.append(self.area_from)
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise MappingError(
                f"column {missing[0]!r} is not in the file",
                hint=f"Columns found: {', '.join(columns[:30])}" + (" ..." if len(columns) > 30 else ""),
            )


@dataclass
class RowResult:
    row: int
    status: str  # new | exists | duplicate | error
    id: str = ""
    area: str = ""
    title: str = ""
    path: str = ""
    message: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class ImportReport:
    source: str
    written: bool
    rows: list[RowResult] = field(default_factory=list)
    new_areas: list[Area] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    def to_dict(self) -> dict:
        return {
            "source": self.source, "written": self.written, "seconds": round(self.seconds, 2),
            "counts": {s: self.count(s) for s in ("new", "exists", "duplicate", "error")},
            "new_areas": [dataclasses.asdict(a) for a in self.new_areas],
            "rows": [r.to_dict() for r in self.rows],
        }


# --- reading registers ------------------------------------------------------------------
def read_register(path: Path, fmt: str | None = None) -> tuple[list[str], list[tuple[int, dict | str]]]:
    """Columns and ``(row number, values)`` pairs; a row that cannot be read is
    ``(row number, message)``. Row numbers are what a person sees: the spreadsheet row
    (header = 1) or the JSONL line."""
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt == "ndjson":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise MappingError(f"{path.name}: unknown format {fmt!r}", hint="Use a .csv, .xlsx or .jsonl file, or --format.")
    if not path.is_file():
        raise KBError(f"{path}: no such file")
    return {"csv": _read_csv, "xlsx": _read_xlsx, "jsonl": _read_jsonl}[fmt](path)


def _read_csv(path: Path):
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # Excel's "CSV" on Swedish Windows
    # the header line decides the delimiter (Swedish Excel writes ';'); csv.Sniffer is
    # easily misled by a broken row further down
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], []
    rows: list[tuple[int, dict | str]] = []
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append((line, f"unreadable CSV: {exc}"))
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            rows.append((line, f"has {len(values)} fields, the header has {len(header)}"))
            continue
        rows.append((line, dict(zip(header, values, strict=True))))
    return header, rows


def _read_xlsx(path: Path):
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency
        raise KBError("reading .xlsx needs openpyxl", hint="pip install openpyxl") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any broken workbook is the user's to fix
        raise KBError(f"{path.name}: not a readable .xlsx file ({exc})") from None
    sheet = book.active
    rows: list[tuple[int, dict | str]] = []
    header: list[str] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number == 1:
            header = [str(v).strip() if v is not None else f"column{i + 1}" for i, v in enumerate(values)]
            continue
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        rows.append((number, {h: v for h, v in zip(header, values, strict=False)}))
    book.close()
    return header, rows


def _read_jsonl(path: Path):
    rows: list[tuple[int, dict | str]] = []
    columns: dict[str, None] = {}
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((number, f"not JSON ({exc.msg} at column {exc.colno})"))
                continue
            if not isinstance(value, dict):
                rows.append((number, "not a JSON object"))
                continue
            columns.update(dict.fromkeys(value))
            rows.append((number, value))
    return list(columns), rows


# --- rows to drafts -----------------------------------------------------------------------
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if v is not None)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date_text(value) -> str:
    text = _text(value)
    # "2021-12-10T00:00:00" or "2021-12-10 08:00" from exports: the date part
    return text[:10] if len(text) > 10 and text[10] in "T " else text


def _area(value: str, mapping: Mapping, config: KBConfig, new_areas: dict[str, Area]) -> str:
    value = value.strip()
    if not value:
        raise CaptureInvalid({"area": [f"column {mapping.area_from!r} is empty"]})
    lowered = {k.lower(): v for k, v in mapping.area_map.items()}
    if value.lower() in lowered:
        return lowered[value.lower()]
    slug = slugify(value, whole_words=False)  # as earlier imports made them
    if value in config.areas or slug in config.areas or slug in new_areas:
        return value if value in config.areas else slug
    if mapping.add_areas:
        new_areas[slug] = Area(slug=slug, name=value)
        return slug
    raise CaptureInvalid({"area": [
        f"no area for {value!r}: add --area-map \"{value}=SLUG\", or --add-areas to create {slug!r}"
    ]})


def row_to_draft(values: dict, mapping: Mapping, config: KBConfig, new_areas: dict[str, Area]) -> Draft:
    get = {target: values.get(column) for target, column in mapping.fields.items()}
    area = mapping.area or _area(_text(values.get(mapping.area_from)), mapping, config, new_areas)
    sections = [(heading, _text(values.get(column))) for heading, column in mapping.sections]
    draft = Draft(
        title=_text(get.get("title")),
        area=area,
        type=_text(get.get("type")).lower() or mapping.type,
        date=_date_text(get.get("date")),
        sprint=_text(get.get("sprint")),
        tags=[t[:80] for t in split_list(get.get("tags") if isinstance(get.get("tags"), list) else _text(get.get("tags")))],
        actors=split_list(get.get("actors") if isinstance(get.get("actors"), list) else _text(get.get("actors"))),
        roadmap=split_list(get.get("roadmap") if isinstance(get.get("roadmap"), list) else _text(get.get("roadmap"))),
        lang=mapping.lang,
        sections=sections,
        author=_text(get.get("author")),
    )
    key = _text(get.get("id"))
    if "id" in mapping.fields:
        if not key:
            raise CaptureInvalid({"id": [f"column {mapping.fields['id']!r} is empty"]})
        # as earlier versions made them: importing again must find the same ids
        draft.id = slugify((mapping.id_prefix + "-" if mapping.id_prefix else "") + key, max_length=120,
                           whole_words=False)
        draft.extra["source_id"] = key
    else:
        draft.id = content_id(draft.title, draft.area, draft.date, *(t for _, t in sections),
                              prefix=mapping.id_prefix or "imp")
    if mapping.source_name:
        draft.extra["source"] = mapping.source_name
    return draft


# --- the import ---------------------------------------------------------------------------------
def run_import(config: KBConfig, path: Path, mapping: Mapping, *, write: bool = False,
               fmt: str | None = None, who: str | None = None) -> ImportReport:
    started = time.perf_counter()
    columns, rows = read_register(Path(path), fmt)
    mapping.check(columns)
    report = ImportReport(source=str(path), written=write)
    new_areas: dict[str, Area] = {}
    lock = write_lock(config.state_dir) if write else _nothing()
    with lock:
        taken = taken_ids(config)
        seen: dict[str, int] = {}
        for number, values in rows:
            if isinstance(values, str):
                report.rows.append(RowResult(number, "error", message=values))
                continue
            try:
                draft = row_to_draft(values, mapping, config, new_areas)
                if draft.id in seen:
                    report.rows.append(RowResult(number, "duplicate", draft.id, draft.area, draft.title,
                                                 message=f"same id as row {seen[draft.id]}"))
                    continue
                if draft.id in taken:
                    report.rows.append(RowResult(number, "exists", draft.id, draft.area, draft.title,
                                                 message="already in the knowledge base"))
                    seen[draft.id] = number
                    continue
                target = dataclasses.replace(config, areas={**config.areas, **new_areas})
                if write:
                    if new_areas.keys() - config.areas.keys():
                        config = add_areas(config, [a for s, a in new_areas.items() if s not in config.areas])
                        target = config
                    file_path, entry = write_entry_file(target, draft, taken=taken, limits=IMPORT_LIMITS)
                else:
                    _, entry = build(target, draft, draft.id, limits=IMPORT_LIMITS)
                    file_path = entry.path
                seen[draft.id] = number
                report.rows.append(RowResult(number, "new", entry.id, entry.area, entry.title,
                                             str(Path(file_path).relative_to(config.root))))
            except CaptureInvalid as exc:  # in the language of the mapping (kb import --lang)
                report.rows.append(RowResult(number, "error", message="; ".join(exc.lines(mapping.lang))))
            except KBError as exc:
                report.rows.append(RowResult(number, "error", message=str(exc)))
        report.new_areas = [a for s, a in new_areas.items()]
        if write:
            record_import(config, report, who)
    report.seconds = time.perf_counter() - started
    return report


def record_import(config: KBConfig, report: ImportReport, who: str | None = None) -> None:
    """One audit event for a written import: the register, the counts, the files created and
    the areas added to kb.toml."""
    audit.record(config.state_dir, who, "import", path=Path(report.source).name,
                 counts={s: report.count(s) for s in ("new", "exists", "duplicate", "error")},
                 files=[r.path for r in report.rows if r.status == "new"],
                 areas=[a.slug for a in report.new_areas] or None)


# --- reading our own export back -------------------------------------------------------------------
def is_export(columns: list[str]) -> bool:
    """Whether a JSONL file's columns are those of ``kb export``'s ``entries.jsonl``."""
    return all(key in columns for key in EXPORT_KEYS)


def export_text(values: dict) -> str:
    """The entry file for one row of ``entries.jsonl``: its fields as front matter (the other
    keys it had come from ``extra``), then its Markdown body as it was."""
    date_text = _text(values.get("date"))
    try:
        date: dt.date | str = dt.date.fromisoformat(date_text)
    except ValueError:
        date = date_text  # parsed below, where a bad date is the row's error
    meta: dict = {"id": _text(values.get("id")), "title": _text(values.get("title")),
                  "area": _text(values.get("area")), "date": date, "sprint": values.get("sprint"),
                  "type": _text(values.get("type"))}
    for key in EXPORT_LISTS:
        value = values.get(key)
        if value:
            meta[key] = [str(v) for v in value] if isinstance(value, list) else split_list(str(value))
    extra = values.get("extra")
    if isinstance(extra, dict):
        meta.update({k: v for k, v in extra.items() if k not in meta})
    meta = {k: v for k, v in meta.items() if v is not None}
    body = str(values.get("body") or "")
    return document_text(meta, []) + (body if body.endswith("\n") or not body else body + "\n")


def run_export_import(config: KBConfig, path: Path, *, write: bool = False, add_areas_from_rows: bool = False,
                      who: str | None = None) -> ImportReport:
    """``kb import entries.jsonl`` of a file made by ``kb export``: no mapping needed; the
    same ids, fields and sections come back. Rows whose id the knowledge base already holds
    are left alone (importing twice creates nothing); an area kb.toml does not have is a
    row error, unless ``add_areas_from_rows`` adds it (with the row's ``area_name``)."""
    started = time.perf_counter()
    columns, rows = read_register(Path(path), "jsonl")
    if not is_export(columns):
        raise MappingError(f"{Path(path).name}: not an entries.jsonl made by `kb export`",
                           hint="Say which column is which with --map and --section.")
    report = ImportReport(source=str(path), written=write)
    new_areas: dict[str, Area] = {}
    with write_lock(config.state_dir) if write else _nothing():
        taken = taken_ids(config)
        seen: dict[str, int] = {}
        for number, values in rows:
            if isinstance(values, str):
                report.rows.append(RowResult(number, "error", message=values))
                continue
            entry_id, area, title = _text(values.get("id")), _text(values.get("area")), _text(values.get("title"))
            if entry_id in seen:
                report.rows.append(RowResult(number, "duplicate", entry_id, area, title,
                                             message=f"same id as row {seen[entry_id]}"))
                continue
            seen[entry_id] = number
            if entry_id in taken:
                report.rows.append(RowResult(number, "exists", entry_id, area, title,
                                             message="already in the knowledge base"))
                continue
            if area not in config.areas and area not in new_areas:
                if not (add_areas_from_rows and area and slugify(area, whole_words=False) == area):
                    report.rows.append(RowResult(number, "error", entry_id, area, title, message=(
                        f"unknown area {area!r}: copy kb.toml from the export first, or add --add-areas")))
                    continue
                new_areas[area] = Area(slug=area, name=_text(values.get("area_name")) or area)
            target = dataclasses.replace(config, areas={**config.areas, **new_areas})
            text = export_text(values)
            file_path = target.entries_dir / area / f"{entry_id}.md"
            try:
                entry = parse_text(text, file_path, target)
            except EntryInvalid as exc:
                report.rows.append(RowResult(number, "error", entry_id, area, title,
                                             message="; ".join(p.message for p in exc.problems)))
                continue
            if write:
                if new_areas.keys() - config.areas.keys():
                    config = add_areas(config, [a for s, a in new_areas.items() if s not in config.areas])
                try:
                    create_exclusive(file_path, text)
                except FileExistsError:
                    report.rows.append(RowResult(number, "exists", entry_id, area, title,
                                                 message=f"{file_path.name} already exists; not overwritten"))
                    continue
                taken.add(entry_id)
            report.rows.append(RowResult(number, "new", entry.id, entry.area, entry.title,
                                         file_path.relative_to(config.root).as_posix()))
        report.new_areas = list(new_areas.values())
        if write:
            record_import(config, report, who)
    report.seconds = time.perf_counter() - started
    return report


def add_areas(config: KBConfig, areas: list[Area]) -> KBConfig:
    """Append ``[[areas]]`` tables to kb.toml (atomically) and return the new config."""
    path = config.root / CONFIG_NAME
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    for area in areas:
        text += f"\n[[areas]]\nslug = {json.dumps(area.slug)}\nname = {json.dumps(area.name, ensure_ascii=False)}\n"
    tomllib.loads(text)  # never write a kb.toml that does not parse
    atomic_write_text(path, text)
    return dataclasses.replace(config, areas={**config.areas, **{a.slug: a for a in areas}})


def parse_pairs(items: list[str] | tuple[str, ...], what: str) -> list[tuple[str, str]]:
    """``["title=Lesson", "date=Date,tags=Tags"]`` -> pairs; commas split several in one."""
    out: list[tuple[str, str]] = []
    for item in items:
        for part in _split_commas(item):
            if "=" not in part:
                raise MappingError(f"{what}: {part!r} is not KEY=VALUE")
            key, _, value = part.partition("=")
            if not key.strip() or not value.strip():
                raise MappingError(f"{what}: {part!r} is not KEY=VALUE")
            out.append((key.strip(), value.strip()))
    return out


def load_area_map(value: str) -> dict[str, str]:
    """``"JSC=jsc,KSC=ksc"``, or a .toml file (``value = "slug"`` lines) or a two-column .csv."""
    path = Path(value)
    if path.suffix.lower() in (".toml", ".csv") and path.is_file():
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return {str(k): str(v) for k, v in data.items()}
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return {r[0].strip(): r[1].strip() for r in csv.reader(handle) if len(r) >= 2 and r[0].strip()}
    return dict(parse_pairs([value], "--area-map"))


def _split_commas(text: str) -> list[str]:
    # "title=T,date=D" holds two pairs; "Vad hände, egentligen?=Text" holds one: a piece
    # without '=' (or following one without) belongs to its neighbour
    parts: list[str] = []
    for piece in text.split(","):
        if parts and ("=" not in piece or "=" not in parts[-1]):
            parts[-1] += "," + piece
        else:
            parts.append(piece)
    return [p for p in (p.strip() for p in parts) if p]


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def iter_preview(report: ImportReport, limit: int = 20) -> Iterator[str]:
    """Lines for people: one per row (the first ``limit`` new ones, every error)."""
    shown = 0
    for r in report.rows:
        if r.status == "new":
            shown += 1
            if shown <= limit:
                yield f"  row {r.row}: {'create' if not report.written else 'created'} {r.path}  ({r.title[:60]})"
        elif r.status == "error":
            yield f"  row {r.row}: skipped: {r.message}"
        elif r.status == "duplicate":
            yield f"  row {r.row}: skipped, {r.message} ({r.id})"
    if shown > limit:
        yield f"  ... and {shown - limit} more"
