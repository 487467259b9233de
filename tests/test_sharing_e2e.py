"""Two cities on loopback, each a real `kb serve`: Lund publishes, Malmö follows and syncs; a
Lund lesson appears in Malmö's search with its source and in a cross-city link; Lund withdraws
it, and after the next sync it is gone from Malmö's pages, tables and vectors. What Lund serves
follows the schema, its DCAT-AP-SE description parses, and no byte of it holds a lesson that
is not public."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest
import rdflib
from click.testing import CliRunner

from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import vector_index
from kb.core.publication import FILES, LESSON_SCHEMA_FILE, MANIFEST_SCHEMA_FILE, schema

from .helpers import entry_text, running_server
from .samples import write_kb
from .sharing_samples import (
    INTERNAL_TEXT,
    INTERNAL_TITLE,
    PARTNER_TEXT,
    PARTNER_TITLE,
    city_entries,
    write_city,
)

pytestmark = pytest.mark.slow

LUND_TITLE = "Överprövningen av elbussupphandlingen kostade Lund en vinter"
LUND_ID = "lund:lu-overprovning"
MALMO_OBSTACLE = entry_text(
    {"id": "mob-overprovning", "title": "Överprövningen stoppade cykelstråket i fyra månader", "area": "mobilitet",
     "date": "2026-02-10", "type": "obstacle", "tags": ["upphandling", "överprövning"]},
    happened="En anbudsgivare begärde överprövning av upphandlingen och avtalsspärren stoppade entreprenaden.",
    learned="Formulera klimatkraven så att de går att verifiera, och lägg in buffert för överprövning.")
LUND_OBSTACLE = entry_text(
    {"id": "lu-overprovning", "title": LUND_TITLE, "area": "mobilitet", "date": "2026-03-01", "type": "obstacle",
     "tags": ["upphandling", "överprövning"], "visibility": "public"},
    happened="En anbudsgivare begärde överprövning av upphandlingen av laddning för elbussarna; avtalsspärren "
             "stoppade installationen.",
    learned="Formulera klimatkraven så att de går att verifiera, och lägg in buffert för överprövning.")


def cli_run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_two_cities_share_a_lesson_and_its_withdrawal_reaches_the_follower(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    lund = write_city(tmp_path / "lund", organisation="Lunds kommun",
                      entries={**city_entries("lund-"), "mobilitet/lu-overprovning.md": LUND_OBSTACLE})
    malmo = write_kb(tmp_path / "malmo")
    (malmo / "entries" / "mobilitet" / "mob-overprovning.md").write_text(MALMO_OBSTACLE, encoding="utf-8")
    for root in (lund, malmo):
        cli_run("index", "--root", str(root), "--quiet")
    with running_server(lund, tmp_path / "lund.log") as (lund_url, _), \
            running_server(malmo, tmp_path / "malmo.log") as (malmo_url, _):
        http = httpx.Client(timeout=30)
        # --- what Lund serves ---------------------------------------------------------------
        served = {name: http.get(f"{lund_url}/-/kb/open/{name}") for name in FILES}
        assert all(r.status_code == 200 for r in served.values())
        manifest = served["index.json"].json()
        jsonschema.validate(manifest, schema(MANIFEST_SCHEMA_FILE))
        records = [json.loads(line) for line in served["lessons.jsonl"].text.splitlines()]
        for record in records:
            jsonschema.validate(record, schema(LESSON_SCHEMA_FILE))
        assert {r["title"] for r in records} >= {LUND_TITLE} and manifest["organisation"] == "Lunds kommun"
        assert len(rdflib.Graph().parse(data=served["catalog.rdf"].content, format="xml")) > 20
        everything = b"".join(r.content for r in served.values()) + http.get(f"{lund_url}/-/kb/open/").content
        for secret in (INTERNAL_TITLE, INTERNAL_TEXT, PARTNER_TITLE, PARTNER_TEXT):
            assert secret.encode() not in everything, secret

        # --- Malmö follows and syncs ------------------------------------------------------------
        followed = cli_run("follow", f"{lund_url}/-/kb/open/", "--name", "Lund", "--root", str(malmo))
        assert "Lund: updated: 2 lessons (2 new) from Lunds kommun" in followed
        unchanged = cli_run("sync", "--root", str(malmo), "--quiet")
        assert "Lund: unchanged: 2 lessons" in unchanged
        found = http.get(f"{malmo_url}/-/kb/search.json", params={"q": "överprövning elbussarna", "all": "1"}).json()
        lund_hits = [r for r in found["results"] if r["id"] == LUND_ID]
        assert lund_hits and lund_hits[0]["source"] == "Lund"
        assert all(r["source"] is None for r in found["results"] if not r["id"].startswith("lund:"))
        only_lund = http.get(f"{malmo_url}/-/kb/search.json",
                             params={"q": "överprövning", "all": "1", "source": "Lund"}).json()
        assert {r["source"] for r in only_lund["results"]} == {"Lund"}
        page = http.get(f"{malmo_url}/-/kb/search", params={"q": "överprövning elbussarna", "all": "1"}).text
        assert "Från Lund" in page and LUND_TITLE in page
        entry = http.get(f"{malmo_url}/-/kb/entry/{LUND_ID}")
        assert entry.status_code == 200 and "publicerad öppet av Lunds kommun" in entry.text
        cities = http.get(f"{malmo_url}/-/kb/cities.json").json()
        shared = [(x["own"], x["other"]) for x in cities["obstacles"] + cities["synergies"]]
        assert ("mob-overprovning", LUND_ID) in shared
        assert "Lund har mött samma hinder" in http.get(f"{malmo_url}/-/kb/cities").text
        table = http.get(f"{malmo_url}/kb/followed_entries.json", params={"_shape": "array"}).json()
        assert LUND_ID in {row["id"] for row in table}

        # --- Lund withdraws it; Malmö's next sync removes it everywhere --------------------------
        path = lund / "entries" / "mobilitet" / "lu-overprovning.md"
        path.write_text(path.read_text(encoding="utf-8").replace("visibility: public", "visibility: internal"),
                        encoding="utf-8")
        cli_run("index", "--root", str(lund), "--quiet")
        withdrawn = http.get(f"{lund_url}/-/kb/open/index.json").json()["withdrawn"]
        assert len(withdrawn) == 1
        assert 'at:deleted-entry' in http.get(f"{lund_url}/-/kb/open/feed.atom").text
        kb = KnowledgeBase.open(malmo)
        chunks = {r[0] for r in kb.store.db.execute("select id from chunks where entry_id = ?", [LUND_ID])}
        kb.close()
        assert chunks
        synced = cli_run("sync", "--root", str(malmo), "--quiet")
        assert "Lund: updated: 1 lessons (1 withdrawn)" in synced
        assert http.get(f"{malmo_url}/-/kb/entry/{LUND_ID}").status_code == 404
        again = http.get(f"{malmo_url}/-/kb/search.json", params={"q": "överprövning elbussarna", "all": "1"}).json()
        assert LUND_ID not in {r["id"] for r in again["results"]}
        assert LUND_TITLE not in http.get(f"{malmo_url}/-/kb/search", params={"q": "elbussarna", "all": "1"}).text
        table = http.get(f"{malmo_url}/kb/followed_entries.json", params={"_shape": "array"}).json()
        assert LUND_ID not in {row["id"] for row in table}
        rows = http.get(f"{malmo_url}/kb/chunks.json", params={"_shape": "array", "entry_id": LUND_ID}).json()
        assert rows == []
        kb = KnowledgeBase.open(malmo)
        try:
            in_vectors = {int(i) for i in vector_index.faiss_ids(kb.load_vectors().index)}
            assert not chunks & in_vectors
            words = kb.store.db.execute("select count(*) from chunks_fts where rowid in (select value from json_each(?))",
                                        [json.dumps(sorted(chunks))]).fetchone()[0]
            assert words == 0
        finally:
            kb.close()
        assert LUND_ID not in {x["other"] for x in http.get(f"{malmo_url}/-/kb/cities.json").json()["obstacles"]}
