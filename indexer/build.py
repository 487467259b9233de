"""Build or update the index: only entries whose content hash changed are embedded.

Writes happen in small transactions (an entry with all its chunks and vectors at a
time), so an interrupted run leaves a consistent database; the FAISS file is rebuilt
from SQLite at the end, and again on the next load if the run was cut short.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from indexer.audience import derive_audiences, refresh_audiences
from indexer.chunk import ChunkSettings, chunk_entry
from indexer.discover import load_entries
from indexer.embed import PASSAGE
from indexer.embed_cache import with_cache
from indexer.followed import load_followed
from indexer.personal_data import name_warnings
from indexer.roadmaps import roadmap_problems
from kb.core import vector_index
from kb.core.errors import Problem
from kb.core.files import write_lock
from kb.core.language import detect_language
from kb.core.store import Store

ProgressFactory = Callable[[int, str], "Progress"]


class Progress:
    """Minimal progress protocol: the CLI passes a click progress bar adapter."""
    def update(self, n: int) -> None:  # pragma: no cover - interface
        pass

    def close(self) -> None:  # pragma: no cover - interface
        pass


@dataclass
class IndexReport:
    entries: int = 0
    followed: int = 0  # lessons from the publications the knowledge base follows
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    model: str = ""
    encoder: str = ""  # whose vectors the passages got (indexer/encoders.py), fresh or from the cache

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["problems"] = [p.format() for p in self.problems]
        return data


def build_index(
    config,
    store,
    embedder,
    *,
    rebuild: bool = False,
    progress: ProgressFactory | None = None,
    settings: ChunkSettings | None = None,
    batch_chunks: int = 64,
    window_batches: int = 4,
    locked: bool = False,
    vectors_file: bool = True,
) -> IndexReport:
    """Bring the index in ``store`` up to date with the knowledge base's entry files.

    ``rebuild`` re-embeds everything; callers pass a fresh store for it (see
    :meth:`kb.app.knowledge_base.KnowledgeBase.index`) so that the old index stays usable meanwhile.
    ``locked``: the caller holds the write lock already. ``vectors_file=False`` leaves the
    FAISS file alone (a store that is not ``kb.db`` yet must not replace it).

    Chunks are written ``batch_chunks`` at a time (one transaction each, so an interrupted run
    keeps what it wrote) and embedded ``window_batches`` transactions at a time: the encoder
    sorts a call's texts by length, and a wider window pads less.
    """
    started = time.perf_counter()
    embedder = with_cache(embedder)  # re-chunked or rebuilt text re-uses its vectors
    settings = settings or ChunkSettings.for_embedder(embedder)
    report = IndexReport(model=embedder.model_id)

    indexed_model = store.get_meta("model_id")
    if not rebuild:
        store.check_model(embedder.model_id)
    settings_key = _settings_key(settings)
    if indexed_model and store.get_meta("chunking") != settings_key:
        rebuild = True  # chunks cut another way: every entry is embedded again

    # Under the KB write lock (kb.capture): an entry saved from the web between reading
    # the files and reading the index must not look deleted. Embedding runs unlocked.
    with contextlib.nullcontext() if locked else write_lock(config.state_dir):
        loaded = load_entries(config)
        # broken entries (errors: skipped) and roadmap actions no roadmap holds (warnings)
        report.problems = loaded.problems + roadmap_problems(config, loaded.entries)
        report.entries = len(loaded.entries)
        followed = load_followed(config)  # other cities' lessons (kb sync), in a table of their own
        report.problems += followed.problems
        report.followed = len(followed.entries)
        everything = loaded.entries + followed.entries
        known = store.entry_hashes()  # what the index holds: decides "added" or "updated"
        current = {entry.id for entry in everything}
        to_embed = [e for e in everything if rebuild or known.get(e.id) != e.content_hash]
        report.unchanged = len(everything) - len(to_embed)
        report.deleted = sorted(set(store.entry_ids()) - current)

        with store.db.atomic():
            store.set_meta("model_id", embedder.model_id)
            store.set_meta("dim", embedder.dim)
            store.set_meta("chunking", settings_key)
            if report.deleted:
                store.delete_entries(report.deleted)
                store.set_meta("generation", store.generation + 1)
            store.set_sources(followed.sources)

    # private persons named in free text: a warning with the file and line (never blocks)
    report.problems += name_warnings(config, loaded.entries)
    planned = [(entry, chunk_entry(entry, embedder.count_tokens, settings)) for entry in to_embed]
    total = sum(len(chunks) for _, chunks in planned)
    # one encoder for the whole run, the one predicted to finish it first (indexer/encoder_choice.py)
    run = getattr(embedder, "passage_run", None)
    texts = [chunk.text for _, chunks in planned for chunk in chunks]
    with run(texts, progress) if run and total else contextlib.nullcontext() as choice:
        report.encoder = choice.name if choice else ""
        bar = progress(total, "Embedding") if (progress and total) else None
        try:
            window: list = []
            window_size = 0
            for entry, chunks in planned:
                window.append((entry, chunks))
                window_size += len(chunks)
                if window_size >= batch_chunks * window_batches:
                    embed_and_write(store, embedder, window, bar, known, report, batch_chunks)
                    window, window_size = [], 0
            if window:
                embed_and_write(store, embedder, window, bar, known, report, batch_chunks)
        finally:
            if bar:
                bar.close()

    if not vectors_file:
        pass
    elif report.changed or not config.faiss_path.exists():
        vector_index.rebuild(store, config.faiss_path, embedder.dim)
    else:
        vector_index.load(store, config.faiss_path, embedder.dim)  # repairs a stale file
    if vectors_file:  # what partners and visitors may see, from the index as it now is
        refresh_audiences(config, store, embedder.dim, changed=bool(report.changed))
    report.seconds = time.perf_counter() - started
    return report


def index_entries(config, entries: list, embedder) -> bool:
    """Embed and store just these entries (the caller holds the write lock), then refresh
    the FAISS file: one saved entry is searchable at once.

    Returns False (and leaves the index alone) when there is no index yet, or it was made
    with another model or chunking: then a full ``kb index`` is the right step."""
    if not config.db_path.exists():
        return False
    settings = ChunkSettings.for_embedder(embedder)
    store = Store(config.db_path)
    try:
        if store.get_meta("model_id") != embedder.model_id or store.get_meta("chunking") != _settings_key(settings):
            return False
        known = store.entry_hashes()
        batch = [(e, chunk_entry(e, embedder.count_tokens, settings)) for e in entries
                 if known.get(e.id) != e.content_hash]
        if batch:
            embed_and_write(store, embedder, batch, None, known, IndexReport(model=embedder.model_id))
            vector_index.rebuild(store, config.faiss_path, embedder.dim)
            derive_audiences(config, embedder.dim)
        return True
    finally:
        store.close()


def _settings_key(settings: ChunkSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def embed_and_write(store, embedder, batch, bar, known, report, transaction_chunks: int | None = None) -> None:
    """Embed the chunks of a batch of (entry, chunks) in one call, then write each entry with
    its chunks and vectors: one transaction (one new generation) per ``transaction_chunks``
    chunks or so (all of them when None)."""
    texts = [chunk.text for _, chunks in batch for chunk in chunks]
    tokens = [chunk.tokens for _, chunks in batch for chunk in chunks]  # the encoder's batches by length
    vectors = embedder.embed(texts, PASSAGE, progress=bar.update if bar else None, lengths=tokens)
    offset = 0
    for part in _transactions(batch, transaction_chunks):
        offset = write_transaction(store, part, vectors, offset, known, report)
    report.chunks_embedded += len(texts)


def _transactions(batch: list, size: int | None) -> list[list]:
    """The batch's (entry, chunks) pairs in groups of about ``size`` chunks (whole entries)."""
    if not size:
        return [batch]
    groups: list[list] = [[]]
    count = 0
    for pair in batch:
        if count >= size:
            groups.append([])
            count = 0
        groups[-1].append(pair)
        count += len(pair[1])
    return groups


def write_transaction(store, batch: list, vectors, offset: int, known, report) -> int:
    """Write entries with their chunks and vectors (from ``offset``) in one transaction; returns
    the offset after them."""
    with store.db.atomic():
        for entry, chunks in batch:
            entry_lang = entry.lang
            rows = [
                {
                    "seq": c.seq,
                    "kind": c.kind,
                    "heading": c.heading,
                    "text": c.text,
                    "line": c.line,
                    "tokens": c.tokens,
                    "lang": detect_language(c.text, default=entry_lang),
                }
                for c in chunks
            ]
            store.write_entry(entry.to_row(), rows, vectors[offset : offset + len(chunks)])
            offset += len(chunks)
            (report.updated if entry.id in known else report.added).append(entry.id)
        store.set_meta("generation", store.generation + 1)
    return offset
