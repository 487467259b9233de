"""Docs that cannot drift: every command has help text and appears in the README."""

from __future__ import annotations

from kb.cli import all_commands

from .helpers import REPO


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in all_commands() if f"kb {name}" not in readme]
    assert not missing, f"README.md does not mention: {missing}"


def test_the_readme_starts_with_the_two_commands():
    first_screen = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen
