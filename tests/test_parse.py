"""Parsing and validation: every problem is reported as path:line: message."""

from __future__ import annotations

import os

import pytest

from indexer.discover import load_entries
from indexer.parse import parse_entry
from kb.core import config as config_module
from kb.core.errors import ConfigError, EntryInvalid

from .helpers import entry_text
from .samples import write_kb

GOOD = """\
title: Ett test
area: energi
date: 2026-01-02
type: lesson
"""


@pytest.fixture
def config(tmp_path):
    return config_module.load(write_kb(tmp_path / "kb", entries={}))


def _write(config, name, text, binary=False):
    path = config.entries_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if binary:
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _problems(config, name, text, binary=False):
    path = _write(config, name, text, binary)
    with pytest.raises(EntryInvalid) as info:
        parse_entry(path, config)
    return [(p.line, p.message) for p in info.value.problems]


def test_parses_sections_extra_keys_and_defaults(config):
    path = _write(
        config,
        "energi/ett-test.md",
        entry_text(
            GOOD + "owner: miljöförvaltningen\ntags: [sol, el]\n",
            "Inledning.\n\n## Vad hände?\nVi **byggde** något i Malmö.\n\n## Vad lärde vi oss?\nAtt *vänta*.\n",
        ),
    )
    entry = parse_entry(path, config)
    assert entry.id == "ett-test"  # defaults to the file stem
    assert entry.extra == {"owner": "miljöförvaltningen"}
    assert entry.tags == ["sol", "el"]
    assert [s.heading for s in entry.sections] == ["Vad hände?", "Vad lärde vi oss?"]
    assert entry.sections[0].text == "Vi byggde något i Malmö."  # plain text, no markup
    assert entry.sections[0].line == 11
    assert entry.intro == "Inledning."
    assert entry.rel_path == "entries/energi/ett-test.md"


@pytest.mark.parametrize(
    "front, line, fragment",
    [
        ("title: x\ndate: 2026-01-02\ntype: lesson", 1, "missing area"),
        ("title: x\narea: hav\ndate: 2026-01-02\ntype: lesson", 3, "unknown area 'hav'"),
        ("title: x\narea: energi\ndate: 2026-13-02\ntype: lesson", 4, "bad date"),
        ("title: x\narea: energi\ndate: 14 mars\ntype: lesson", 4, "bad date"),
        ("title: x\narea: energi\ntype: lesson", 1, "missing date"),
        ("title: x\narea: energi\ndate: 2026-01-02\ntype: lärdom", 5, "unknown type 'lärdom'"),
        ("title: x\narea: energi\ndate: 2026-01-02", 1, "missing type"),
        ("area: energi\ndate: 2026-01-02\ntype: lesson", 1, "missing title"),
        ("title: x\narea: energi\ndate: 2026-01-02\ntype: lesson\npolicy: [kommunal]", 6, "unknown policy level"),
        ("title: x\narea: energi\ndate: 2026-01-02\ntype: lesson\ntags: {a: 1}", 6, "tags: must be a list"),
        ("title: [x\narea: energi", 2, "broken YAML"),
        ("id: ../../etc\ntitle: x\narea: energi\ndate: 2026-01-02\ntype: lesson", 2, "id '../../etc'"),
    ],
)
def test_each_validation_error_names_its_line(config, front, line, fragment):
    problems = _problems(config, "energi/e.md", entry_text(front))
    assert any(fragment in message and got == line for got, message in problems), problems


def test_file_level_problems(config):
    assert _problems(config, "energi/a.md", "Bara text.\n") == [
        (1, "no front matter: an entry starts with a '---' line, then keys (title, area, date, type), then another '---' line")
    ]
    assert "not closed" in _problems(config, "energi/b.md", "---\ntitle: x\n")[0][1]
    assert "empty file" in _problems(config, "energi/c.md", "")[0][1]
    assert _problems(config, "energi/d.md", b"---\ntitle: caf\xe9\n", binary=True)[0] == (
        2,
        "not UTF-8 text; save the file as UTF-8",
    )
    assert "binary file" in _problems(config, "energi/e.md", b"\x00\x01\x02", binary=True)[0][1]
    big = entry_text(GOOD, "## Vad hände?\n" + "ord " * 400_000)
    assert "limited to" in _problems(config, "energi/f.md", big)[0][1]


def test_one_bad_entry_never_stops_the_others_and_duplicates_are_caught(config):
    _write(config, "energi/a.md", entry_text("id: same\n" + GOOD))
    _write(config, "energi/b.md", entry_text("id: same\n" + GOOD))
    _write(config, "energi/c.md", entry_text("title: [x"))
    _write(config, "energi/d.md", entry_text(GOOD))
    result = load_entries(config)
    assert [e.id for e in result.entries] == ["same", "d"]
    messages = [p.format(config.root) for p in result.errors]
    assert any(m.startswith("entries/energi/b.md:2: duplicate id 'same'") for m in messages), messages
    assert any(m.startswith("entries/energi/c.md:2: broken YAML") for m in messages), messages


def test_links_outside_the_kb_and_folders_named_md_are_not_read(config, tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text(entry_text(GOOD), encoding="utf-8")
    (config.entries_dir / "energi").mkdir(parents=True)
    os.symlink(outside, config.entries_dir / "energi" / "link.md")
    (config.entries_dir / "energi" / "folder.md").mkdir()
    result = load_entries(config)
    assert result.entries == []
    messages = [p.format(config.root) for p in result.problems]
    assert any("link.md:1: symbolic link points outside" in m for m in messages), messages
    assert any("folder.md:1: warning: a folder named .md" in m for m in messages), messages


def test_config_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="kb.toml: not found"):
        config_module.load(tmp_path)
    (tmp_path / "kb.toml").write_text("title = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no \\[\\[areas\\]\\] defined"):
        config_module.load(tmp_path)
    (tmp_path / "kb.toml").write_text("[[areas]\nslug='a'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="kb.toml:1"):
        config_module.load(tmp_path)
