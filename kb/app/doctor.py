"""``kb doctor``: which encoders this machine uses for the default model, and why.

What it reports comes from :mod:`indexer.encoder_choice`: the CPU signature, the timings kept
for it (or none yet), and the choice for an edit, a small knowledge base and a register, for
``kb search`` and for ``kb serve``. ``measure=True`` times the encoders again first.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from indexer.embed import E5Embedder, get_embedder
from indexer.encoder_choice import (
    TYPICAL_RUNS,
    cpu_signature,
    measure,
    read_measurement,
    record_path,
)
from indexer.encoders import INTERCHANGEABLE_COSINE, QUALITY_HOLDS, SPECS
from kb.core.config import KBConfig, cache_dir
from kb.core.errors import KBError

PLAIN = "torch-fp32"  # the plain PyTorch encode the others are compared with


@dataclass
class Diagnosis:
    model: str
    cpu: dict
    record: str  # the file the timings are kept in
    measured: dict | None  # when, how long, the load average; None: never on this machine
    passages: list[dict] = field(default_factory=list)
    queries: list[dict] = field(default_factory=list)
    chosen: list[dict] = field(default_factory=list)
    forced: dict = field(default_factory=dict)  # "passage"/"query" -> {"encoder", "by"}
    busy: bool = False  # measured while the machine was busy: the timings may mislead

    def to_dict(self) -> dict:
        return asdict(self)


def diagnose(config: KBConfig | None = None, model: str | None = None, *, measure_again: bool = False,
             progress=None) -> Diagnosis:
    """What the default model's encoders are on this machine (measuring them first when asked)."""
    spec = model or os.environ.get("KB_MODEL") or (config.model if config else None)
    embedder = get_embedder(spec, passage_encoder=config.passage_encoder if config else None,
                            query_encoder=config.query_encoder if config else None)
    if not isinstance(embedder, E5Embedder):
        raise KBError(f"the model {embedder.model_id!r} is not the default one: it has one encoder and nothing to choose",
                      hint="Run kb doctor without --model (and without KB_MODEL) to see the default model's encoders.")
    cache = cache_dir()
    signature = cpu_signature()
    measurement = measure(cache, embedder.path, progress) if measure_again else read_measurement(cache, signature)
    embedder._measurement = measurement
    diagnosis = Diagnosis(model=embedder.model_id, cpu=signature, record=str(record_path(cache)), measured=None)
    diagnosis.forced = embedder.forced_by()
    if measurement is not None:
        diagnosis.measured = {"at": measurement.measured_at, "seconds": measurement.seconds,
                              "load_average": measurement.load_average}
        diagnosis.busy = measurement.busy
        plain = (measurement.passages.get(PLAIN) or {}).get("chunks_per_s")
        for name, row in measurement.passages.items():
            usable = name in QUALITY_HOLDS and measurement.interchangeable(name)
            diagnosis.passages.append({
                "encoder": name, "about": SPECS[name].about, **row,
                "vs_plain": round(row["chunks_per_s"] / plain, 2) if plain and "chunks_per_s" in row else None,
                "usable": usable, "why_not": None if usable else _why_not(name, row),
            })
        for name, row in measurement.queries.items():
            diagnosis.queries.append({"encoder": name, **row})
    for count in TYPICAL_RUNS:
        choice = embedder.passage_choice(count)
        diagnosis.chosen.append({"for": f"passages, a run of {count}", "encoder": choice.name, "why": choice.why})
    for server, label in ((False, "queries, kb search"), (True, "queries, kb serve")):
        embedder.server = server
        choice = embedder.query_choice()
        diagnosis.chosen.append({"for": label, "encoder": choice.name, "why": choice.why})
    return diagnosis


def _why_not(name: str, row: dict) -> str:
    if "error" in row:
        return f"cannot run here: {row['error']}"
    if name not in QUALITY_HOLDS:
        return "its quality did not hold (bench/precision.py)"
    if SPECS[name].identity != "fp32":
        return "another model's vectors"
    return f"its vectors differ from fp32's on this CPU (cosine {row.get('cosine_min')} < {INTERCHANGEABLE_COSINE})"
