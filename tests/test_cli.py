"""Every command through click's CliRunner: exit codes, JSON on stdout, messages on stderr."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kb.cli import cli


def _root(kb_root):
    return ["--root", str(kb_root)]


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "kb, version" in result.output


def test_validate_ok_and_with_problems(kb_root):
    ok = CliRunner().invoke(cli, ["validate", *_root(kb_root)])
    assert ok.exit_code == 0 and "4 valid entries; ok." in ok.stdout
    (kb_root / "entries/energi/trasig.md").write_text(
        "---\ntitle: x\narea: hav\ndate: 2026-01-01\ntype: lesson\n---\n", encoding="utf-8"
    )
    bad = CliRunner().invoke(cli, ["validate", *_root(kb_root)])
    assert bad.exit_code == 1
    assert "entries/energi/trasig.md:3: unknown area 'hav'" in bad.stderr
    assert "entries/energi" not in bad.stdout
    as_json = CliRunner().invoke(cli, ["validate", "--json", *_root(kb_root)])
    data = json.loads(as_json.stdout)
    assert data["entries"] == 4 and data["errors"][0].startswith("entries/energi/trasig.md:3:")


def test_index_search_similar_show_json(kb_root):
    runner = CliRunner()
    index = runner.invoke(cli, ["index", "--json", *_root(kb_root)])
    assert index.exit_code == 0, index.output
    assert len(json.loads(index.stdout)["added"]) == 4
    search = runner.invoke(cli, ["search", "Stadsfastigheter solceller", "--json", *_root(kb_root)])
    assert search.exit_code == 0
    hits = json.loads(search.stdout)
    assert hits[0]["id"] == "solar-roofs"
    assert set(hits[0]) >= {"id", "title", "area", "type", "date", "score", "snippet", "path"}
    filtered = runner.invoke(
        cli, ["search", "elnät", "--area", "bygg", "--type", "obstacle", "--json", *_root(kb_root)]
    )
    assert {h["area"] for h in json.loads(filtered.stdout)} == {"bygg"}
    similar = runner.invoke(cli, ["similar", "laddplatser", "--other-areas", "--json", *_root(kb_root)])
    assert similar.exit_code == 0
    assert all(h["area"] != "mobilitet" for h in json.loads(similar.stdout))
    for mode in ("keyword", "hybrid"):
        by_mode = runner.invoke(cli, ["similar", "laddplatser", "--mode", mode, "--json", *_root(kb_root)])
        assert by_mode.exit_code == 0, by_mode.output
        assert "laddplatser" not in {h["id"] for h in json.loads(by_mode.stdout)}
    bad = runner.invoke(cli, ["similar", "laddplatser", "--mode", "fuzzy", *_root(kb_root)])
    assert bad.exit_code == 2 and "fuzzy" in bad.output
    show = runner.invoke(cli, ["show", "cykel-upphandling", "--json", *_root(kb_root)])
    assert json.loads(show.stdout)["extra"] == {"owner": "gatukontoret"}
    # --all: the hash embedder sees no meaning and "cykelbana" is not a word of the entry
    text = runner.invoke(cli, ["search", "cykelbana", "--all", *_root(kb_root)])
    assert "Upphandlingen försenade cykelbanan i Hyllie" in text.stdout


def test_user_errors_are_one_line_messages_not_tracebacks(kb_root, tmp_path):
    runner = CliRunner()
    not_indexed = runner.invoke(cli, ["search", "x", *_root(kb_root)])
    assert not_indexed.exit_code == 1 and "not indexed yet" in not_indexed.stderr
    assert "Hint: Run `kb index` first." in not_indexed.stderr
    no_kb = runner.invoke(cli, ["search", "x", "--root", str(tmp_path)])
    assert no_kb.exit_code == 1 and "kb.toml: not found" in no_kb.stderr
    runner.invoke(cli, ["index", *_root(kb_root)])
    unknown = runner.invoke(cli, ["similar", "nope", *_root(kb_root)])
    assert unknown.exit_code == 1 and "no entry with id 'nope'" in unknown.stderr
    bad_area = runner.invoke(cli, ["search", "x", "--area", "hav", *_root(kb_root)])
    assert bad_area.exit_code == 2 and "unknown area 'hav'" in bad_area.stderr
    bad_date = runner.invoke(cli, ["search", "x", "--since", "igår", *_root(kb_root)])
    assert bad_date.exit_code == 1 and "bad date" in bad_date.stderr
    for result in (not_indexed, no_kb, unknown, bad_area, bad_date):
        assert "Traceback" not in result.output


def test_root_from_environment(kb_root, monkeypatch):
    monkeypatch.setenv("KB_ROOT", str(kb_root))
    assert CliRunner().invoke(cli, ["validate"]).exit_code == 0


def test_index_reports_bad_entries_but_indexes_the_rest(kb_root):
    (kb_root / "entries/energi/trasig.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    result = CliRunner().invoke(cli, ["index", *_root(kb_root)])
    assert result.exit_code == 1
    assert "entries/energi/trasig.md:2: not UTF-8 text" in result.stderr
    assert "Indexed 4 entries: 4 added" in result.stdout


def test_new_creates_a_valid_entry_and_refuses_to_overwrite(kb_root):
    runner = CliRunner()
    args = ["new", "--area", "energi", "--type", "idea", "--title", "Värme från Öresund: åtgärd/../x",
            "--date", "2026-02-03", "--no-edit", *_root(kb_root)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    path = kb_root / "entries/energi/varme-fran-oresund-atgard-x.md"
    text = path.read_text(encoding="utf-8")
    assert "## Vad hände?" in text and "## Vad lärde vi oss?" in text
    assert "date: 2026-02-03" in text and "sprint: 2026-S1" in text
    assert runner.invoke(cli, ["validate", *_root(kb_root)]).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "already exists; not overwritten" in again.stderr
    english = runner.invoke(
        cli, ["new", "--area", "bygg", "--title", "Heat pumps", "--lang", "en", "--no-edit", *_root(kb_root)]
    )
    assert english.exit_code == 0
    assert "## What did we learn?" in (kb_root / "entries/bygg/heat-pumps.md").read_text(encoding="utf-8")
    missing = runner.invoke(cli, ["new", "--title", "x", *_root(kb_root)])
    assert missing.exit_code == 2 and "--area is required" in missing.stderr


def test_new_opens_the_editor_when_asked(kb_root, monkeypatch):
    edited = {}

    def fake_edit(filename=None, **kwargs):
        edited["path"] = filename

    monkeypatch.setattr("click.edit", fake_edit)
    result = CliRunner().invoke(
        cli, ["new", "--area", "energi", "--title", "Med editor", "--edit", *_root(kb_root)]
    )
    assert result.exit_code == 0
    assert edited["path"].endswith("entries/energi/med-editor.md")


def test_serve_indexes_with_the_checks_of_kb_index(kb_root, monkeypatch):
    """`kb serve` reports a broken entry and a wrong roadmap id as `kb index` does, then serves."""
    (kb_root / "entries/energi/trasig.md").write_text(
        "---\ntitle: x\narea: hav\ndate: 2026-01-01\ntype: lesson\n---\n", encoding="utf-8"
    )
    (kb_root / "roadmaps").mkdir()
    (kb_root / "roadmaps/mobilitet.md").write_text(
        "---\narea: mobilitet\ntitle: Färdplan\nactions:\n  - id: MOB-1\n    title: Laddhubbar\n"
        "    status: ongoing\n---\n", encoding="utf-8"
    )
    served = []
    monkeypatch.setattr("kb.cli.web.serve_kb", lambda root, **options: served.append(root))
    result = CliRunner().invoke(cli, ["serve", *_root(kb_root)])
    assert result.exit_code == 0, result.output
    assert served == [kb_root.resolve()]
    assert "entries/energi/trasig.md:3: unknown area 'hav'" in result.stderr
    assert "unknown roadmap action 'MOB-2'" in result.stderr  # cykel-upphandling cites it
    assert "1 entry file(s) skipped" in result.stderr
    assert "Index up to date: 4 entries" in result.stdout
