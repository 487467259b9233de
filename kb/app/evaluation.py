"""``kb eval``: measure the search pipeline on a BEIR-style retrieval set.

A folder holds ``corpus.jsonl`` (``doc_id``, ``text``, optional ``title``),
``queries.jsonl`` (``qid``, ``text``, optional ``split``) and ``qrels.tsv``
(``query_id``, ``corpus_id``, ``score``, with a header). The corpus is written as
Markdown entries of one area into a knowledge base folder and indexed with the same
machinery as ``kb index``; each query then goes through :meth:`KnowledgeBase.search`,
the code path of ``kb search``. Corpus vectors come from the embedding cache
(:mod:`indexer.embed_cache`) after the first run, so reruns take seconds.
"""

from __future__ import annotations

import csv
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kb.app.knowledge_base import KnowledgeBase
from kb.core.errors import KBError

K = 10
EVAL_AREA = "corpus"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DatasetError(KBError):
    """A benchmark folder that is missing files or has malformed lines."""


@dataclass
class Dataset:
    corpus: list[dict]
    queries: list[dict]
    qrels: dict[str, dict[str, int]]
    name: str = ""


@dataclass
class EvalReport:
    mode: str
    queries: int
    ndcg: float
    mrr: float
    recall_1: float
    recall_k: float
    k: int = K
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        k = self.k
        return {
            f"ndcg@{k}": round(self.ndcg, 4),
            f"mrr@{k}": round(self.mrr, 4),
            "recall@1": round(self.recall_1, 4),
            f"recall@{k}": round(self.recall_k, 4),
            "queries": self.queries,
            "mode": self.mode,
        }


# --- loading ------------------------------------------------------------------------------
def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise DatasetError(f"{path}: not found", hint="A dataset folder needs corpus.jsonl, queries.jsonl, qrels.tsv.")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from None
    return rows


def split_names(split: str | Iterable[str] | None) -> list[str]:
    """``"dev,test"``, ``["dev", "test"]`` or ``None`` (all) as a list of split names."""
    if split is None:
        return []
    parts = split.split(",") if isinstance(split, str) else [str(s) for s in split]
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def load_dataset(folder: str | Path, split: str | Iterable[str] | None = None) -> Dataset:
    """The corpus, the queries (only those of ``split`` if given: one name, a comma-separated
    list or a list of names; and only those with judgements), the qrels."""
    folder = Path(folder)
    corpus = _read_jsonl(folder / "corpus.jsonl")
    queries = _read_jsonl(folder / "queries.jsonl")
    qrels_path = folder / "qrels.tsv"
    if not qrels_path.is_file():
        raise DatasetError(f"{qrels_path}: not found")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0] == "query_id":
                continue
            score = int(row[2]) if len(row) > 2 and row[2].strip() else 1
            if score > 0:
                qrels.setdefault(row[0], {})[row[1]] = score
    wanted = split_names(split)
    if wanted:
        splits = sorted({str(q.get("split")) for q in queries})
        missing = [name for name in wanted if name not in splits]
        if missing:
            raise DatasetError(
                f"{folder}: no queries with split={missing[0]!r}", hint=f"Splits in this set: {', '.join(splits)}."
            )
        queries = [q for q in queries if str(q.get("split")) in wanted]
    queries = [q for q in queries if qrels.get(str(q["qid"]))]
    return Dataset(corpus=corpus, queries=queries, qrels=qrels, name=folder.name)


# --- the corpus as a knowledge base ------------------------------------------------------
def entry_id(doc_id: str) -> str:
    """A valid entry id for a corpus id (they are usually valid already)."""
    clean = _ID_UNSAFE.sub("-", str(doc_id)).strip("-._") or "doc"
    return clean if clean[0].isalnum() else "d" + clean


def _title_and_body(doc: dict) -> tuple[str, str]:
    text = str(doc.get("text") or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    title = " ".join(str(doc.get("title") or "").split())
    if title and text.startswith(title):
        text = text[len(title) :].strip()  # SweQUAD-MC repeats the title as the first line
    if not title:  # FAQ answers have no title: the first words stand for one
        words = text.split()
        title = " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return title or str(doc.get("doc_id")), text


def _markdown_body(text: str) -> str:
    """Plain text as Markdown paragraphs; a leading '#' would otherwise make a heading."""
    lines = [line.strip() for line in text.split("\n")]
    return "\n\n".join(("\\" + line if line[:1] in "#>" else line) for line in lines if line)


def write_corpus(dataset: Dataset, root: str | Path) -> dict[str, str]:
    """Write ``kb.toml`` and one entry per document under ``root``; returns entry id -> doc id."""
    root = Path(root)
    (root / "entries" / EVAL_AREA).mkdir(parents=True, exist_ok=True)
    (root / "kb.toml").write_text(
        f'title = "eval: {dataset.name}"\n\n[[areas]]\nslug = "{EVAL_AREA}"\nname = "Corpus"\n',
        encoding="utf-8",
    )
    ids: dict[str, str] = {}
    for doc in dataset.corpus:
        doc_id = str(doc["doc_id"])
        eid = entry_id(doc_id)
        if eid in ids:
            raise DatasetError(f"two documents map to the entry id {eid!r}: {ids[eid]!r} and {doc_id!r}")
        ids[eid] = doc_id
        title, body = _title_and_body(doc)
        front = {"id": eid, "title": title, "area": EVAL_AREA, "date": "2026-01-01", "type": "lesson"}
        head = "\n".join(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items())
        (root / "entries" / EVAL_AREA / f"{eid}.md").write_text(
            f"---\n{head}\n---\n{_markdown_body(body)}\n", encoding="utf-8"
        )
    return ids


# --- metrics ----------------------------------------------------------------------------------
def query_metrics(ranked: Sequence[str], relevant: Mapping[str, int], k: int = K) -> dict[str, float]:
    """nDCG@k (gain = the qrels score), reciprocal rank of the first hit within k, recall@1, recall@k."""
    top = list(ranked[:k])
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(top, start=1))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal, start=1))
    first = next((rank for rank, doc in enumerate(top, start=1) if doc in relevant), None)
    n_rel = len(relevant)
    return {
        "ndcg": dcg / idcg if idcg else 0.0,
        "mrr": 1.0 / first if first else 0.0,
        "recall_1": len({d for d in top[:1] if d in relevant}) / n_rel if n_rel else 0.0,
        "recall_k": len({d for d in top if d in relevant}) / n_rel if n_rel else 0.0,
    }


def aggregate(per_query: Iterable[Mapping[str, float]], mode: str, k: int = K, options=None) -> EvalReport:
    rows = list(per_query)
    n = len(rows)

    def mean(key: str) -> float:
        return sum(r[key] for r in rows) / n if n else 0.0

    return EvalReport(
        mode=mode, queries=n, ndcg=mean("ndcg"), mrr=mean("mrr"), recall_1=mean("recall_1"),
        recall_k=mean("recall_k"), k=k, options=dict(options or {}),
    )


# --- running ----------------------------------------------------------------------------------
def index_corpus(dataset: Dataset, root: str | Path, model: str | None = None, settings=None, progress=None):
    """A knowledge base at ``root`` holding the corpus, indexed; returns (kb, entry id -> doc id)."""
    ids = write_corpus(dataset, root)
    kb = KnowledgeBase.open(root, model=model)
    report = kb.index(progress=progress, settings=settings)
    errors = [p for p in report.problems if p.severity == "error"]
    if errors:
        raise DatasetError(f"{len(errors)} corpus documents could not be indexed: {errors[0].format()}")
    return kb, ids


def evaluate(
    kb,
    dataset: Dataset,
    ids: Mapping[str, str],
    *,
    mode: str = "hybrid",
    k: int = K,
    search: Callable[[str], list[str]] | None = None,
    **options,
) -> EvalReport:
    """Run every query through ``kb.search`` (or ``search``: query -> entry ids) and score its
    ranking (every result, whatever its match: the match is measured by
    ``bench/calibrate_match.py``)."""
    def default_search(text: str) -> list[str]:
        # the ranking: every result, also where the search would show only the nearest few
        return [r.id for r in kb.search(text, mode=mode, limit=k, **{"show": "all", **options})]

    run = search or default_search
    rows = []
    for query in dataset.queries:
        ranked = [ids.get(e, e) for e in run(str(query["text"]))]
        rows.append(query_metrics(ranked, dataset.qrels[str(query["qid"])], k))
    return aggregate(rows, mode, k, options)


def run_eval(
    folder: str | Path,
    *,
    split: str | Iterable[str] | None = None,
    mode: str = "hybrid",
    k: int = K,
    model: str | None = None,
    workdir: str | Path | None = None,
    progress=None,
    **options,
) -> EvalReport:
    """Load ``folder``, index its corpus into ``workdir`` (default: a temporary folder), evaluate."""
    dataset = load_dataset(folder, split)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        kb, ids = index_corpus(dataset, Path(workdir) if workdir else Path(tmp), model, progress=progress)
        try:
            return evaluate(kb, dataset, ids, mode=mode, k=k, **options)
        finally:
            kb.close()
