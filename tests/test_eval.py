"""``kb eval`` on a tiny BEIR-style set whose metric values are computed by hand."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from kb.app import evaluation
from kb.app.evaluation import Dataset, load_dataset, query_metrics, write_corpus
from kb.cli import cli

CORPUS = [
    {"doc_id": "d1", "text": "Cykelbanan i Hyllie blev försenad av överprövningen."},
    {"doc_id": "d2", "text": "Elnätet vid Malmö C saknade kapacitet för snabbladdare."},
    {"doc_id": "d3", "text": "Solceller på skolans tak gav billig el åt köket."},
    {"doc_id": "d4", "title": "Matsvinn", "text": "Matsvinn\r\nMatsvinnet i skolköken halverades med vågar."},
]
QUERIES = [
    # keyword ranks, by construction (each word occurs in one document only):
    {"qid": "q1", "text": "cykelbanan Hyllie", "split": "dev"},  # d1 first
    {"qid": "q2", "text": "snabbladdare", "split": "dev"},  # d2 first
    {"qid": "q3", "text": "solceller", "split": "dev"},  # only d3 matches; d1 is judged: a miss
    {"qid": "q4", "text": "elnätet kapacitet snabbladdare solceller", "split": "dev"},  # d2 (3 words), d3 (1)
    {"qid": "q5", "text": "matsvinnet skolköken", "split": "test"},  # d4 first
    {"qid": "q6", "text": "unjudged question", "split": "dev"},  # no qrels: not counted
]
QRELS = [("q1", "d1"), ("q2", "d2"), ("q3", "d1"), ("q4", "d3"), ("q5", "d4")]

# dev: q1, q2 found at rank 1; q3 misses; q4 finds its document at rank 2.
DEV = {
    "ndcg@10": round((1 + 1 + 0 + 1 / math.log2(3)) / 4, 4),  # 0.6577
    "mrr@10": round((1 + 1 + 0 + 0.5) / 4, 4),  # 0.625
    "recall@1": 0.5,
    "recall@10": 0.75,
    "queries": 4,
    "mode": "keyword",
}


@pytest.fixture
def dataset_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in CORPUS) + "\n", encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in QUERIES) + "\n", encoding="utf-8"
    )
    (folder / "qrels.tsv").write_text(
        "query_id\tcorpus_id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in QRELS), encoding="utf-8"
    )
    return folder


def run(*args):
    result = CliRunner().invoke(cli, ["eval", *map(str, args)])
    return result


def test_eval_keyword_dev_split_exact(dataset_dir):
    result = run(dataset_dir, "--split", "dev", "--mode", "keyword", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == DEV


def test_eval_all_splits_and_text_output(dataset_dir):
    result = run(dataset_dir, "--mode", "keyword")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["queries"] == "5"
    assert float(lines["recall@10"]) == 0.8  # q3 is the only miss
    assert float(lines["mrr@10"]) == 0.7  # (1 + 1 + 0 + 0.5 + 1) / 5


def test_eval_default_mode_runs(dataset_dir):
    result = run(dataset_dir, "--split", "test", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "hybrid" and data["queries"] == 1
    assert data["recall@10"] == 1.0  # the hash embedder shares words, and so does BM25


def test_eval_unknown_split_is_an_error_with_a_hint(dataset_dir):
    result = run(dataset_dir, "--split", "train")
    assert result.exit_code == 1
    assert "no queries with split='train'" in result.output
    assert "dev, test" in result.output


def test_eval_missing_files(tmp_path):
    result = run(tmp_path)
    assert result.exit_code == 1
    assert "corpus.jsonl: not found" in result.output


def test_corpus_written_as_entries_keeps_text_and_drops_repeated_title(dataset_dir, tmp_path):
    data = load_dataset(dataset_dir)
    ids = write_corpus(data, tmp_path / "kb")
    assert ids == {"d1": "d1", "d2": "d2", "d3": "d3", "d4": "d4"}
    text = (tmp_path / "kb" / "entries" / "corpus" / "d4.md").read_text(encoding="utf-8")
    assert 'title: "Matsvinn"' in text
    assert text.rstrip().endswith("Matsvinnet i skolköken halverades med vågar.")


def test_query_metrics_graded_and_several_relevant():
    m = query_metrics(["x", "a", "b"], {"a": 2, "b": 1, "c": 1}, k=10)
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg"] == pytest.approx(dcg / idcg)
    assert m["mrr"] == 0.5
    assert m["recall_1"] == 0.0
    assert m["recall_k"] == pytest.approx(2 / 3)


def test_split_filter_keeps_only_judged_queries(dataset_dir):
    data = load_dataset(dataset_dir, "dev")
    assert isinstance(data, Dataset)
    assert [q["qid"] for q in data.queries] == ["q1", "q2", "q3", "q4"]


def test_eval_takes_a_list_of_splits(dataset_dir):
    both = run(dataset_dir, "--split", "dev,test", "--mode", "keyword", "--json")
    assert both.exit_code == 0, both.output
    data = json.loads(both.stdout)
    assert data["queries"] == 5  # the 4 judged dev queries and the test one: all of them here
    assert data == json.loads(run(dataset_dir, "--mode", "keyword", "--json").stdout)
    spaced = run(dataset_dir, "--split", " test , dev ", "--mode", "keyword", "--json")
    assert json.loads(spaced.stdout) == data


def test_a_list_of_splits_names_the_missing_one(dataset_dir):
    result = run(dataset_dir, "--split", "dev,train")
    assert result.exit_code == 1
    assert "no queries with split='train'" in result.output and "dev, test" in result.output


def test_load_dataset_split_as_list_or_comma_separated(dataset_dir):
    assert [q["qid"] for q in load_dataset(dataset_dir, ["test", "dev"]).queries] == ["q1", "q2", "q3", "q4", "q5"]
    assert [q["qid"] for q in load_dataset(dataset_dir, "test").queries] == ["q5"]
    assert load_dataset(dataset_dir, "dev,test").queries == load_dataset(dataset_dir, ("dev", "test")).queries


def test_eval_scores_the_ranking_whatever_the_match(dataset_dir, monkeypatch):
    seen = []
    original = evaluation.KnowledgeBase.search

    def spy(self, query, **options):
        seen.append(options.get("show", "default"))
        return original(self, query, **options)

    monkeypatch.setattr(evaluation.KnowledgeBase, "search", spy)
    assert run(dataset_dir, "--split", "test", "--json").exit_code == 0
    assert seen and all(value == "all" for value in seen)
