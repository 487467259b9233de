"""``kb forget ID``: erase an entry and every trace of it (the right to erasure, GDPR art. 17).

Vectors computed from personal data are personal data too, so an erasure reaches, under the
write lock, in this order:

1. the entry file;
2. its rows in the index (``.kb/kb.db``: the entry, its chunks and vectors, its words in the
   full-text index), deleted with ``secure_delete`` so the freed pages hold zeros, the
   full-text index merged so no old segment keeps its words, the write-ahead log emptied;
3. its vectors in the FAISS file (rebuilt from the index without them) and in the embedding
   cache (``$KB_CACHE_DIR/embeddings.sqlite``, by the hash of each indexed chunk text);
4. verdicts naming it (``decisions.tsv``) and ``related:`` links to it in other entries;
5. its id in actions' ``lessons`` and learning questions' ``entries`` (an action left with no
   lesson keeps its file: see :func:`kb.app.actions.remove_lesson`), and in the obstacle
   groups of ``obstacles.md``, with a group label made from its words (the group keeps its
   id; the next listing makes it a new label);
6. generated files under ``.kb/`` that mention it, and every generated picture there.

The audit log gets one event with the id and the files, never the text. What it cannot reach
is said in :attr:`Erasure.beyond`: git history, backups, exports and briefs written elsewhere.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.actions import load_actions
from indexer.agenda import load_agenda
from indexer.audience import DERIVED_AUDIENCES, derive_audiences
from indexer.discover import discover, load_entries
from indexer.embed_cache import EmbeddingCache, default_cache_path, text_hash
from indexer.parse import parse_entry
from kb.app import git_commit
from kb.app.actions import remove_lesson
from kb.app.agenda import remove_entry
from kb.app.curation import set_related
from kb.core import audit, vector_index
from kb.core.config import AUDIENCE_DIR, KBConfig
from kb.core.decisions import DECISIONS_FILE, HEADER, decisions_path, load_decisions
from kb.core.errors import EntryInvalid, EntryNotFound, KBError
from kb.core.files import atomic_write_text, write_lock
from kb.core.obstacle_groups import GROUPS_FILE, load_groups, save_groups
from kb.core.store import Store

# files under .kb/ that are the index and its bookkeeping, not generated documents
KEPT_STATE = ("kb.db", "kb.db-wal", "kb.db-shm", "vectors.faiss", "vectors.faiss.json", "audit.jsonl")
PICTURE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".webp")
MIN_FRAGMENT = 24  # a sentence of the entry this long found in a file means the file quotes it


@dataclass
class Erasure:
    """What ``kb forget`` removes (a plan, before ``--yes``) or removed."""
    id: str
    done: bool = False
    entry_file: str | None = None
    index: dict[str, int] = field(default_factory=dict)  # entries, chunks in kb.db
    faiss_vectors: int = 0
    cache_vectors: int = 0
    decisions: list[str] = field(default_factory=list)  # "a b verdict" of each verdict naming it
    related_in: list[str] = field(default_factory=list)  # entry files whose related: held it
    actions: list[str] = field(default_factory=list)
    actions_without_lesson: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    obstacle_groups: list[str] = field(default_factory=list)  # kept groups (obstacles.md) listing it
    obstacle_labels: list[str] = field(default_factory=list)  # ...whose computed label was taken from it
    generated: list[str] = field(default_factory=list)  # files under .kb/
    beyond: list[str] = field(default_factory=list)  # what it cannot reach

    @property
    def files(self) -> list[str]:
        """Every file removed or edited."""
        removed = [self.entry_file] if self.entry_file else []
        edited = ([DECISIONS_FILE] if self.decisions else []) + self.related_in + self.actions
        edited += [GROUPS_FILE] if self.obstacle_groups else []
        return [*removed, *edited, *self.agenda, *self.generated]

    def to_dict(self) -> dict:
        return {**asdict(self), "files": self.files}


def forget(config: KBConfig, entry_id: str, *, yes: bool = False, who: str | None = None) -> Erasure:
    """Plan the erasure of ``entry_id`` and, with ``yes``, carry it out."""
    with write_lock(config.state_dir):
        plan, texts, chunk_texts, path = _plan(config, entry_id)
        if yes:
            _erase(config, plan, texts, chunk_texts, path)
            plan.done = True
            audit.record(config.state_dir, who, "entry.forget", path=plan.entry_file, id=plan.id,
                         files=plan.files, index=plan.index, cache_vectors=plan.cache_vectors)
    return plan


# --- planning --------------------------------------------------------------------------------
def _plan(config: KBConfig, entry_id: str):
    path, entry = _find_file(config, entry_id)
    plan = Erasure(id=entry_id, entry_file=_rel(config, path) if path else None)
    texts: list[str] = []  # pieces of the entry's text, to find generated files quoting it
    if entry is not None:
        texts = [entry.title, *(s.text for s in entry.sections), entry.intro]
    chunk_texts: list[str] = []
    store = _open_store(config)
    if store is not None:
        try:
            plan.index = {
                "entries": store.db.execute("select count(*) from entries where id = ?", [entry_id]).fetchone()[0],
                "chunks": store.db.execute("select count(*) from chunks where entry_id = ?", [entry_id]).fetchone()[0],
            }
            plan.faiss_vectors = plan.index["chunks"]
            chunk_texts = [r[0] for r in store.db.execute("select text from chunks where entry_id = ?", [entry_id])]
            row = store.db.execute("select title, body from entries where id = ?", [entry_id]).fetchone()
            if row:
                texts += [row[0], *row[1].splitlines()]
        finally:
            store.close()
    if path is None and not plan.index.get("entries"):
        raise EntryNotFound(f"no entry with id {entry_id!r} in {config.entries_dir} or the index",
                            hint="Check the id with `kb search` or `kb show`.")
    cache = default_cache_path()
    if cache.is_file() and chunk_texts:
        plan.cache_vectors = _cache_count(cache, [text_hash(t) for t in chunk_texts])
    plan.decisions = [f"{d.a} {d.b} {d.verdict}" for d in load_decisions(config.root) if entry_id in (d.a, d.b)]
    plan.related_in = [e.rel_path for e in load_entries(config).entries if entry_id in e.related and e.id != entry_id]
    for action in load_actions(config).citing(entry_id):
        plan.actions.append(action.rel_path)
        if action.lessons == [entry_id]:
            plan.actions_without_lesson.append(action.rel_path)
    plan.agenda = [q.rel_path for q in load_agenda(config).questions if entry_id in q.entries]
    for group in load_groups(config.root).groups:
        if entry_id in group.entries or group.label_from == entry_id:
            plan.obstacle_groups.append(group.id)
        if group.label_from == entry_id:
            plan.obstacle_labels.append(group.id)
    plan.generated = [_rel(config, p) for p in _generated_files(config, entry_id, texts)]
    if path is not None and git_commit.in_history(config, path):
        plan.beyond.append(f"git history: {plan.entry_file} was committed; rewrite the history "
                           "(e.g. git filter-repo) and every clone to erase it there")
    plan.beyond.append("backups (`kb backup`), exports (`kb export`) and briefs or reports written "
                       "outside .kb/ still hold it until they are deleted or expire")
    return plan, [t for t in texts if t], chunk_texts, path


def _find_file(config: KBConfig, entry_id: str):
    """The entry's file (and the entry, when it parses): by id, else a file named after it."""
    for entry in load_entries(config).entries:
        if entry.id == entry_id:
            return entry.path, entry
    paths, _ = discover(config)
    for path in paths:
        if path.stem == entry_id:
            try:
                return path, parse_entry(path, config)
            except EntryInvalid:
                return path, None  # a broken file is erased all the same
    return None, None


def _open_store(config: KBConfig) -> Store | None:
    if not config.db_path.exists():
        return None
    return Store(config.db_path)


def _cache_count(cache: Path, hashes: list[str]) -> int:
    db = EmbeddingCache(cache)
    try:
        marks = ",".join("?" * len(hashes))
        return int(db.conn.execute(f"select count(*) from embeddings where sha256 in ({marks})", hashes).fetchone()[0])
    finally:
        db.close()


def _generated_files(config: KBConfig, entry_id: str, texts: list[str]) -> list[Path]:
    """Files under .kb/ other than the index and the log that quote the entry (its id, title or
    one of its sentences), and every picture (a picture may show it without naming it)."""
    if not config.state_dir.is_dir():
        return []
    needles = {entry_id.encode("utf-8")}
    for piece in texts:
        for sentence in str(piece).replace("\n", " ").split(". "):
            sentence = sentence.strip()
            if len(sentence) >= MIN_FRAGMENT:
                needles.add(sentence[:200].encode("utf-8"))
    for piece in texts[:1]:  # the title, whole
        if piece:
            needles.add(piece.encode("utf-8"))
    found = []
    for path in sorted(config.state_dir.rglob("*")):
        if not path.is_file() or path.name in KEPT_STATE or path.suffix == ".lock" \
                or path.parent == config.state_dir / AUDIENCE_DIR:  # made anew from the index when erased
            continue
        if path.suffix.lower() in PICTURE_SUFFIXES:
            found.append(path)
            continue
        with contextlib.suppress(OSError):
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(path)
    return found


# --- erasing ---------------------------------------------------------------------------------
def _erase(config: KBConfig, plan: Erasure, texts: list[str], chunk_texts: list[str], path: Path | None) -> None:
    entry_id = plan.id
    if path is not None:
        path.unlink(missing_ok=True)
    store = _open_store(config)
    if store is not None:
        try:
            if not store.erase_entries([entry_id])["wal_emptied"]:
                plan.beyond.append(f"{_rel(config, config.db_path)}-wal: a reader kept it busy, so it still holds "
                                   "erased pages until SQLite empties it; restart `kb serve` to empty it now")
            dim = int(store.get_meta("dim") or 0)
            if dim and (config.faiss_path.exists() or plan.faiss_vectors):
                vector_index.rebuild(store, config.faiss_path, dim)
            if dim:  # partners' and visitors' databases, made anew without it
                derive_audiences(config, dim)
        finally:
            store.close()
    cache = default_cache_path()
    if cache.is_file() and chunk_texts:
        db = EmbeddingCache(cache)
        try:
            plan.cache_vectors = db.erase(text_hash(t) for t in chunk_texts)
        finally:
            db.close()
    if plan.decisions:
        kept = [d for d in load_decisions(config.root) if entry_id not in (d.a, d.b)]
        atomic_write_text(decisions_path(config.root), "\n".join([HEADER, *sorted(d.line() for d in kept)]) + "\n")
    for rel in plan.related_in:
        target = config.root / rel
        text = target.read_text(encoding="utf-8")
        atomic_write_text(target, set_related(text, entry_id, present=False))
    for action in load_actions(config).citing(entry_id):
        remove_lesson(config, action, entry_id)
    for question in load_agenda(config).questions:
        if entry_id in question.entries:
            remove_entry(config, question, entry_id)
    if plan.obstacle_groups:
        kept = load_groups(config.root)
        for group in kept.groups:
            group.entries = [e for e in group.entries if e != entry_id]
            if group.label_from == entry_id:  # its words: the next listing makes a new label
                group.label, group.label_from = "", None
        save_groups(config.root, kept)
    for rel in plan.generated:
        (config.root / rel).unlink(missing_ok=True)
    _check_gone(config, entry_id)


def _check_gone(config: KBConfig, entry_id: str) -> None:
    store = _open_store(config)
    if store is None:
        return
    try:
        if store.db.execute("select count(*) from entries where id = ?", [entry_id]).fetchone()[0]:
            raise KBError(f"{config.db_path}: {entry_id} is still in the index", hint="Run `kb forget` again.")
    finally:
        store.close()
    for audience in DERIVED_AUDIENCES:
        path = config.audience_db_path(audience)
        if not path.exists():
            continue
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("select count(*) from entries where id = ?", [entry_id]).fetchone()[0]:
                raise KBError(f"{path}: {entry_id} is still in it", hint="Run `kb forget` again.")


def _rel(config: KBConfig, path: Path) -> str:
    try:
        return path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def describe(erasure: Erasure) -> list[str]:
    """Lines for people: what was (or would be) removed, and what is beyond reach."""
    verb = "removed" if erasure.done else "would remove"
    lines = []
    if erasure.entry_file:
        lines.append(f"{verb} the file {erasure.entry_file}")
    if erasure.index:
        lines.append(f"{verb} from the index: {erasure.index.get('entries', 0)} entry, "
                     f"{erasure.index.get('chunks', 0)} chunks with their full-text rows and vectors "
                     "(secure delete; the FAISS file is rebuilt without them)")
    if erasure.cache_vectors:
        lines.append(f"{verb} {erasure.cache_vectors} vectors from the embedding cache")
    for d in erasure.decisions:
        lines.append(f"{verb} the verdict {d} (decisions.tsv)")
    for rel in erasure.related_in:
        lines.append(f"{verb} the link in related: of {rel}")
    for rel in erasure.actions:
        note = (" (no lesson left: the action stays, counting it in erased_lessons)"
                if rel in erasure.actions_without_lesson else "")
        lines.append(f"{verb} the lesson from {rel}{note}")
    for rel in erasure.agenda:
        lines.append(f"{verb} the entry from the learning question {rel}")
    for group_id in erasure.obstacle_groups:
        relabel = " and its label, taken from the entry (a new one is made)" if group_id in erasure.obstacle_labels else ""
        lines.append(f"{verb} the entry from the obstacle group {group_id}{relabel} ({GROUPS_FILE})")
    for rel in erasure.generated:
        lines.append(f"{verb} the generated file {rel}")
    return lines
