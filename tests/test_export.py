"""`kb export`: one .zip with the Markdown files, entries.jsonl, entries.csv, actions, agenda and
roadmaps as JSON, the latest yearly report and a README, all UTF-8; and `kb import` reads its
own entries.jsonl back without any --map, restoring the same ids, fields and sections."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile

import pytest
from click.testing import CliRunner

from indexer.discover import load_entries
from kb.app.export import CSV_COLUMNS
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core import audit
from kb.core.config import load

from .helpers import REPO

EXAMPLE = ("kb.toml", "entries", "actions", "agenda", "roadmaps", "sessions.tsv", "decisions.tsv", "obstacles.md")


@pytest.fixture(scope="module")
def example_export(tmp_path_factory):
    """The example knowledge base (the repository root), copied, indexed with the hash embedder
    and exported."""
    root = tmp_path_factory.mktemp("example") / "kb"
    root.mkdir()
    for name in EXAMPLE:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        elif source.is_file():
            shutil.copy2(source, root / name)
    mp = pytest.MonkeyPatch()
    mp.setenv("KB_MODEL", "hash")
    try:
        kb = KnowledgeBase.open(root)
        kb.index()
        kb.close()
        output = root.parent / "export.zip"
        result = CliRunner().invoke(cli, ["export", "-o", str(output), "--root", str(root)])
        assert result.exit_code == 0, result.output
    finally:
        mp.undo()
    return root, output, result.output


def read_zip(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_export_holds_every_part_in_utf8(example_export):
    root, output, printed = example_export
    files = read_zip(output)
    entries = load_entries(load(root)).entries
    assert f"Wrote {output}: {len(entries)} entries" in printed
    for name in ("kb.toml", "sessions.tsv", "obstacles.md", "entries.jsonl", "entries.csv", "actions.json",
                 "agenda.json", "roadmaps.json", "README.md", "manifest.json"):
        assert name in files, name
    markdown = {p.relative_to(root).as_posix() for folder in ("entries", "actions", "agenda", "roadmaps")
                for p in (root / folder).rglob("*.md")}
    assert markdown <= set(files)
    assert all(files[m] == (root / m).read_bytes() for m in markdown)  # as written, byte for byte
    for name, data in files.items():
        data.decode("utf-8")  # UTF-8 throughout
    years = [n for n in files if n.startswith("report-")]
    assert years == [f"report-{max(e.date.year for e in entries)}.html"]
    assert b"<html" in files[years[0]] and years[0][7:11].encode() in files[years[0]]
    readme = files["README.md"].decode("utf-8")
    for part in ("entries.jsonl", "entries.csv", "actions.json", "agenda.json", "roadmaps.json", years[0],
                 "manifest.json", "decisions.tsv", "UTF-8"):
        assert part in readme, part
    manifest = json.loads(files["manifest.json"])
    assert all(hashlib.sha256(files[n]).hexdigest() == digest for n, digest in manifest["files"].items())


def test_jsonl_and_csv_carry_every_field_and_section(example_export):
    root, output, _ = example_export
    files = read_zip(output)
    rows = [json.loads(line) for line in files["entries.jsonl"].decode("utf-8").splitlines()]
    entries = {e.id: e for e in load_entries(load(root)).entries}
    assert {r["id"] for r in rows} == set(entries)
    for row in rows:
        entry = entries[row["id"]]
        assert (row["title"], row["area"], row["type"], row["date"], row["sprint"]) == (
            entry.title, entry.area, entry.type, entry.date.isoformat(), entry.sprint)
        assert (row["tags"], row["actors"], row["roadmap"], row["policy"], row["related"]) == (
            entry.tags, entry.actors, entry.roadmap, entry.policy, entry.related)
        assert [(s["heading"], s["text"]) for s in row["sections"]] == [(s.heading, s.text) for s in entry.sections]
        assert row["body"] == entry.body
    table = list(csv.DictReader(io.StringIO(files["entries.csv"].decode("utf-8-sig"))))
    assert tuple(table[0]) == CSV_COLUMNS and len(table) == len(entries)
    first = entries[table[0]["id"]]
    assert table[0]["title"] == first.title and table[0]["tags"] == "; ".join(first.tags)
    actions = json.loads(files["actions.json"])
    assert actions and {"id", "title", "owner", "due", "status", "lessons", "history"} <= set(actions[0])
    roadmaps = json.loads(files["roadmaps.json"])
    assert {r["area"] for r in roadmaps} >= {"mobilitet", "energi"} and roadmaps[0]["actions"]


def test_export_then_import_restores_ids_fields_and_sections(example_export, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root, output, _ = example_export
    files = read_zip(output)
    target = tmp_path / "restored"
    target.mkdir()
    (target / "kb.toml").write_bytes(files["kb.toml"])
    jsonl = tmp_path / "entries.jsonl"
    jsonl.write_bytes(files["entries.jsonl"])

    result = CliRunner().invoke(cli, ["import", str(jsonl), "--root", str(target), "--write"])  # no --map
    assert result.exit_code == 0, result.output
    before = {e.id: e for e in load_entries(load(root)).entries}
    after = {e.id: e for e in load_entries(load(target)).entries}
    assert set(after) == set(before)
    for entry_id, old in before.items():
        new = after[entry_id]
        assert (new.title, new.area, new.type, new.date, new.sprint) == (old.title, old.area, old.type, old.date,
                                                                         old.sprint)
        assert (new.tags, new.actors, new.roadmap, new.policy, new.related, new.extra) == (
            old.tags, old.actors, old.roadmap, old.policy, old.related, old.extra)
        assert [(s.heading, s.text) for s in new.sections] == [(s.heading, s.text) for s in old.sections]
        assert new.body == old.body and new.rel_path == old.rel_path
    again = CliRunner().invoke(cli, ["import", str(jsonl), "--root", str(target), "--write", "--json"])
    assert json.loads(again.output)["counts"]["new"] == 0  # importing twice creates nothing


def test_import_into_a_knowledge_base_without_the_areas(example_export, tmp_path):
    _, output, _ = example_export
    jsonl = tmp_path / "entries.jsonl"
    jsonl.write_bytes(read_zip(output)["entries.jsonl"])
    target = tmp_path / "new"
    target.mkdir()
    (target / "kb.toml").write_text('title = "Ny"\n', encoding="utf-8")
    refused = CliRunner().invoke(cli, ["import", str(jsonl), "--root", str(target), "--json"])
    assert refused.exit_code == 1  # kb.toml has no areas
    added = CliRunner().invoke(cli, ["import", str(jsonl), "--root", str(target), "--add-areas", "--write"])
    assert added.exit_code == 0, added.output
    config = load(target)
    assert config.areas["mobilitet"].name == "Mobilitet och transporter"
    (event,) = [e for e in audit.read(config.state_dir) if e["action"] == "import"]
    assert "mobilitet" in event["areas"] and event["counts"]["new"] == len(event["files"]) > 0
    assert len(load_entries(config).entries) == len(jsonl.read_text(encoding="utf-8").splitlines())


def test_a_register_without_a_mapping_is_a_usage_error(kb_root, tmp_path):
    other = tmp_path / "register.jsonl"
    other.write_text('{"Rubrik": "x", "Datum": "2026-01-01"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(other), "--root", str(kb_root)])
    assert result.exit_code == 2 and "not an entries.jsonl made by `kb export`" in result.output
    csv_file = tmp_path / "register.csv"
    csv_file.write_text("Rubrik,Datum\nx,2026-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(csv_file), "--root", str(kb_root)])
    assert result.exit_code == 2 and "give --map and --section" in result.output
