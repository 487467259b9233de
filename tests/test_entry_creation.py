"""One way to create an entry (the form, `kb new`, `kb new --from-stdin`): one renderer, one id
chooser, and every step under the knowledge base's write lock."""

from __future__ import annotations

import json
import threading
import time

from click.testing import CliRunner

from kb.app import capture
from kb.cli import cli
from kb.core.config import load
from kb.core.files import write_lock


def test_kb_new_waits_for_the_write_lock(kb_root):
    """While another writer holds the lock (choosing an id, writing, indexing), `kb new` waits."""
    config = load(kb_root)
    done = threading.Event()
    results = []

    def run():
        results.append(CliRunner().invoke(cli, ["new", "--area", "energi", "--title", "Vänta på låset",
                                                "--no-edit", "--root", str(kb_root)]))
        done.set()

    with write_lock(config.state_dir):
        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.5)
        assert not done.is_set() and not (kb_root / "entries/energi/vanta-pa-laset.md").exists()
    assert done.wait(10)
    worker.join()
    assert results[0].exit_code == 0, results[0].output
    assert (kb_root / "entries/energi/vanta-pa-laset.md").is_file()


def test_the_template_and_a_filled_draft_come_from_one_renderer(kb_root):
    config = load(kb_root)
    template = capture.template_draft(title="Samma rubrik", area="energi", lang="sv")
    text, entry = capture.build(config, template, "samma-rubrik", template=True)
    assert text.index("## Vad hände?") < text.index("## Vad lärde vi oss?") < text.index("## Nästa steg")
    assert f"\ndate: {entry.date.isoformat()}\n" in text  # a plain date, not a quoted string
    filled = capture.Draft(title="Samma rubrik", area="energi", date=entry.date.isoformat(),
                           sections=[("Vad hände?", "Det hände."), ("Nästa steg", "")])
    text2, _ = capture.build(config, filled, "samma-rubrik")
    assert text2.split("---\n")[1] == text.split("---\n")[1]  # the same front matter
    assert "## Nästa steg" not in text2  # an empty section of a filled draft is left out


def test_one_id_chooser_the_form_numbers_and_kb_new_refuses(kb_root):
    config = load(kb_root)
    draft = capture.Draft(title="Laddplatser i Hyllie", area="mobilitet", date="2026-03-01",
                          sections=[("Vad hände?", "Vi väntade på elnätet.")])
    first, second = capture.save(config, draft), capture.save(config, draft)
    assert (first.id, second.id) == ("laddplatser-i-hyllie", "laddplatser-i-hyllie-2")
    again = CliRunner().invoke(cli, ["new", "--area", "energi", "--title", "Laddplatser i Hyllie",
                                     "--no-edit", "--root", str(kb_root)])
    assert again.exit_code == 1 and "already exists; not overwritten" in again.stderr
    stdin = CliRunner().invoke(cli, ["new", "--from-stdin", "--root", str(kb_root)],
                               input=json.dumps({"title": "Laddplatser i Hyllie", "area": "energi",
                                                 "date": "2026-03-02", "learned": "Boka tidigt."}))
    assert stdin.exit_code == 0 and "laddplatser-i-hyllie-3.md" in stdin.output


def test_kb_new_shows_similar_lessons_once_the_editor_is_closed(indexed_kb, tmp_path, monkeypatch):
    editor = tmp_path / "skriv.sh"  # an "editor" that writes the lesson, as a person would
    editor.write_text("#!/bin/sh\ncat >> \"$1\" <<'TEXT'\nElnätet hade ingen kapacitet för laddplatser; "
                      "E.ON behövde ett år för att förstärka.\nTEXT\n", encoding="utf-8")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    root = str(indexed_kb.config.root)
    result = CliRunner().invoke(cli, ["new", "--area", "energi", "--type", "obstacle", "--edit",
                                      "--title", "Kapacitetsbrist i elnätet stoppade laddplatserna", "--root", root])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    heading = lines.index("Liknande lärdomar, andra områden först:")
    shown = lines[heading + 1:heading + 6]
    assert shown and "Laddplatser vid Malmö C kräver tidig kontakt med nätägaren" in "\n".join(shown)
    assert "(Mobilitet och transporter, 2025-10-02, laddplatser)" in "\n".join(shown)
    assert lines[-1] == "Run `kb index` to index it."
    # a template nobody has written in yet has nothing to compare: no list
    empty = CliRunner().invoke(cli, ["new", "--area", "energi", "--title", "Ännu tom", "--no-edit", "--root", root])
    assert "Liknande lärdomar" not in empty.stdout


def test_ids_end_on_a_whole_word(kb_root):
    saved = CliRunner().invoke(cli, [
        "new", "--area", "energi", "--no-edit", "--root", str(kb_root),
        "--title", "Solceller på förskolan i Oxie – nätägaren ville ha en effektbegränsning"])
    assert saved.exit_code == 0, saved.output
    assert (kb_root / "entries/energi/solceller-pa-forskolan-i-oxie-natagaren-ville-ha-en.md").is_file()
    question = CliRunner().invoke(cli, ["agenda", "add", "Hur driver vi åtgärder där rådigheten ligger hos staten?",
                                        "--owner", "Central", "--root", str(kb_root)])
    assert question.stdout.strip() == "lq-hur-driver-vi-atgarder-dar-radigheten-ligger"  # not "…-ligger-h"
