"""The git helper: a saved entry is committed alone, with its writer as author."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from kb.app import capture
from kb.cli import cli
from kb.core.config import load

from .helpers import draft


def git(root, *args):
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def git_kb(kb_root, monkeypatch):
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(key, "Setup" if key.endswith("NAME") else "setup@example.org")
    (kb_root / ".gitignore").write_text(".kb/\n", encoding="utf-8")  # the index is made, not kept
    git(kb_root, "init", "-q")
    git(kb_root, "add", "-A")
    git(kb_root, "commit", "-qm", "Start")
    return kb_root


def turn_on(root, email="{name}@malmo.se"):
    with open(root / "kb.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[capture]\ngit_commit = true\ngit_email = "{email}"\n')
    git(root, "commit", "-qam", "git_commit on")


def test_a_saved_entry_is_committed_alone_with_its_writer_as_author(git_kb):
    turn_on(git_kb)
    (git_kb / "notes.txt").write_text("someone's unrelated work\n", encoding="utf-8")
    git(git_kb, "add", "notes.txt")
    saved = capture.save(load(git_kb), draft(author="anna"))
    assert saved.commit and git(git_kb, "rev-parse", "HEAD").strip() == saved.commit
    assert git(git_kb, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == \
        "anna <anna@malmo.se>|anna <anna@malmo.se>"
    assert git(git_kb, "show", "--name-only", "--format=", "HEAD").split() == [
        saved.path.relative_to(git_kb).as_posix()]
    assert "A  notes.txt" in git(git_kb, "status", "--porcelain")  # still staged, not committed


def test_without_git_the_entry_is_still_saved(kb_root, capsys):
    with open(kb_root / "kb.toml", "a", encoding="utf-8") as f:
        f.write("\n[capture]\ngit_commit = true\n")
    saved = capture.save(load(kb_root), draft())
    assert saved.path.is_file() and saved.commit is None
    assert "saved but not committed" in capsys.readouterr().err


def test_kb_new_commit(git_kb):
    result = CliRunner().invoke(cli, ["new", "--from-stdin", "--commit", "--root", str(git_kb)],
                                input=json.dumps({"title": "Cykelparkering vid Triangeln", "area": "mobilitet",
                                                  "date": "2026-05-02", "learned": "Fråga Trafikverket tidigt."}))
    assert result.exit_code == 0, result.output
    assert "Committed entries/mobilitet/" in result.output
    assert git(git_kb, "log", "-1", "--format=%s").strip().startswith("New entry ")
    assert git(git_kb, "status", "--porcelain").strip() == ""


def test_kb_new_commit_outside_a_repository_says_what_to_do(kb_root):
    result = CliRunner().invoke(cli, ["new", "--from-stdin", "--commit", "--root", str(kb_root)],
                                input=json.dumps({"title": "Solceller på förskolor", "area": "energi",
                                                  "date": "2026-05-02", "learned": "Börja med taken."}))
    assert result.exit_code == 1
    assert "git rev-parse" in result.output and "git init" in result.output
