"""With the real default model, the default (hybrid) search beats keyword-only on Swedish
paraphrases: questions asked in other words than the answers use."""

from __future__ import annotations

import json

import pytest

from kb.app.evaluation import evaluate, index_corpus, load_dataset

pytestmark = pytest.mark.model

DOCS = {
    "laddning": "Elnätsbolaget måste få besked tidigt om var snabbladdare för taxibilar ska stå, "
    "annars räcker inte kapaciteten i ledningarna.",
    "cykel": "Överprövningen av anbudet gjorde att bygget av den nya cykelvägen i Hyllie sköts upp ett år.",
    "solceller": "Solpaneler monterades på taken till tre skolor i Rosengård i samarbete med Stadsfastigheter.",
    "matsvinn": "I skolköken vägde personalen det som slängdes varje dag, och mängden mat som kastades halverades.",
    "fjarrvarme": "Överskottsvärme från ett datacenter leds nu in i fjärrvärmenätet i stället för att kylas bort.",
    "dialog": "Boende i Sofielund fick tycka till om sommargatan på ett öppet möte innan trafiken stängdes av.",
    "parkering": "När p-platserna på gatan togs bort för att ge plats åt cykelbanan protesterade butiksägarna.",
    "renovering": "Hyresgästerna i Holma fick bo kvar medan fasaderna isolerades och fönstren byttes.",
}
QUERIES = {
    "laddning": "Vem ska man prata med om strömmen inte räcker för att ladda elbilar?",
    "cykel": "Varför blev cykelbanan försenad?",
    "solceller": "Har vi satt upp solenergi på skolbyggnader?",
    "matsvinn": "Hur minskade man maten som slängs i skolmatsalarna?",
    "fjarrvarme": "Kan spillvärme från serverhallar värma bostäder?",
    "dialog": "Hur involverades invånarna innan gatan gjordes bilfri?",
    "parkering": "Vilka var emot att bilplatser försvann?",
    "renovering": "Behövde folk flytta ut under upprustningen av husen?",
}


@pytest.fixture
def paraphrases(tmp_path):
    folder = tmp_path / "paraphrases"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"doc_id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in DOCS.items()),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "".join(
            json.dumps({"qid": f"q-{k}", "text": v, "split": "test"}, ensure_ascii=False) + "\n"
            for k, v in QUERIES.items()
        ),
        encoding="utf-8",
    )
    (folder / "qrels.tsv").write_text(
        "query_id\tcorpus_id\tscore\n" + "".join(f"q-{k}\t{k}\t1\n" for k in DOCS), encoding="utf-8"
    )
    return folder


def test_default_mode_beats_keyword_only_on_paraphrases(paraphrases, tmp_path):
    dataset = load_dataset(paraphrases)
    kb, ids = index_corpus(dataset, tmp_path / "kb")
    try:
        keyword = evaluate(kb, dataset, ids, mode="keyword")
        default = evaluate(kb, dataset, ids)
    finally:
        kb.close()
    assert default.mode == "hybrid" and default.queries == 8
    assert default.ndcg > keyword.ndcg
    assert default.recall_1 >= 0.75, default.to_dict()
