"""The audit log: every write is one JSON line (who, when, what, which file), appended only,
safe with concurrent writers, and `kb audit` lists it with filters."""

from __future__ import annotations

import json
import multiprocessing

from click.testing import CliRunner

from kb.app import capture
from kb.cli import cli
from kb.core import audit
from kb.core.config import load


def events(root, action=None):
    return [e for e in audit.read(root / ".kb") if action is None or e["action"] == action]


def test_kb_new_and_the_form_save_record_who_created_which_file(kb_root, monkeypatch):
    monkeypatch.setenv("USER", "lokal-anvandare")
    result = CliRunner().invoke(cli, ["new", "--area", "energi", "--title", "Ny lärdom om värmepumpar",
                                      "--no-edit", "--root", str(kb_root)])
    assert result.exit_code == 0, result.output
    draft = capture.Draft(title="Från formuläret", area="bygg", date="2026-05-01", author="anna",
                          sections=[("Vad hände?", "Något hände.")])
    capture.save(load(kb_root), draft)
    created = events(kb_root, "entry.create")
    assert [(e["who"], e["path"], e["id"]) for e in created] == [
        ("lokal-anvandare", "entries/energi/ny-lardom-om-varmepumpar.md", "ny-lardom-om-varmepumpar"),
        ("anna", "entries/bygg/fran-formularet.md", "fran-formularet"),
    ]
    assert all("title" not in e and "Något" not in json.dumps(e) for e in created)  # never the text


def test_an_import_is_one_event_with_counts_and_files(kb_root, tmp_path):
    register = tmp_path / "lardomar.csv"
    register.write_text("Nr;Rubrik;Datum;Lärdom\n1;Första;2026-01-02;Text ett\n2;Andra;2026-01-03;Text två\n"
                        "3;Trasig;14 mars;Text\n", encoding="utf-8")
    args = ["import", str(register), "--root", str(kb_root), "--map", "id=Nr,title=Rubrik,date=Datum",
            "--area", "energi", "--section", "Vad lärde vi oss?=Lärdom", "--id-prefix", "reg"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert events(kb_root, "import") == []  # a dry run writes nothing and records nothing
    result = CliRunner().invoke(cli, [*args, "--write"])
    assert result.exit_code == 0, result.output
    (event,) = events(kb_root, "import")
    assert event["path"] == "lardomar.csv"
    assert event["counts"] == {"new": 2, "exists": 0, "duplicate": 0, "error": 1}
    assert event["files"] == ["entries/energi/reg-1.md", "entries/energi/reg-2.md"]


def test_a_verdict_is_recorded(kb_root):
    result = CliRunner().invoke(cli, ["link", "laddplatser", "vaermepump-holma", "--as", "synergy",
                                      "--root", str(kb_root)])
    assert result.exit_code == 0, result.output
    (event,) = events(kb_root, "verdict")
    assert (event["a"], event["b"], event["verdict"], event["path"]) == (
        "laddplatser", "vaermepump-holma", "synergy", "decisions.tsv")
    assert event["files"] == ["entries/mobilitet/laddplatser.md"]


def test_kb_audit_lists_and_filters(kb_root):
    state = kb_root / ".kb"
    audit.record(state, "anna", "entry.create", path="entries/a.md", id="a")
    audit.record(state, "erik", "verdict", path="decisions.tsv", a="a", b="b", verdict="synergy")
    audit.record(state, "anna", "entry.forget", path="entries/a.md", id="a", files=["entries/a.md"])
    run = lambda *args: CliRunner().invoke(cli, ["audit", "--root", str(kb_root), *args])  # noqa: E731
    listed = run()
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 3
    assert "anna  entry.create  entries/a.md  id=a" in listed.output
    assert [e["action"] for e in json.loads(run("--who", "anna", "--json").output)] == ["entry.create", "entry.forget"]
    assert [e["action"] for e in json.loads(run("--action", "entry", "--json").output)] == [
        "entry.create", "entry.forget"]
    assert [e["action"] for e in json.loads(run("--action", "verdict", "--json").output)] == ["verdict"]
    assert json.loads(run("--since", "2999-01-01", "--json").output) == []
    assert len(json.loads(run("--since", audit.read(state)[0]["at"][:10], "--json").output)) == 3


def _append_many(state: str, writer: int) -> None:
    for n in range(100):
        audit.record(state, f"w{writer}", "entry.create", path=f"entries/{writer}-{n}.md", id=f"{writer}-{n}",
                     note="x" * 3000)  # long lines: larger than one write of a pipe buffer


def test_concurrent_writers_never_interleave_and_nothing_is_lost(tmp_path):
    state = tmp_path / ".kb"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(state), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = (state / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400
    ids = {json.loads(line)["id"] for line in lines}  # every line is whole JSON
    assert len(ids) == 400
