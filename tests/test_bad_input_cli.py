"""Bad input through the CLI, table-driven: each case gives a one-line message naming the file
(and line), exit code 1 (or 0 where nothing is wrong, e.g. a long query), never a
traceback, and the index built before is intact afterwards.

Unit-level checks of the same problems live in test_parse.py, test_search.py and
test_cli.py; this file checks the whole path a user takes, and the index afterwards.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.conflicts import roadmap_areas
from analysis.corpus import load_corpus
from indexer.parse import parse_text
from kb.app.curation import set_related
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.config import load as load_config
from kb.core.errors import EntryInvalid, KBError
from reports.brief import compose_brief

from .helpers import REPO, entry_text
from .samples import write_kb


def good(title: str) -> str:
    """A valid entry, titled ``title``."""
    return entry_text({"title": title, "area": "energi", "date": "2026-01-15", "type": "lesson"},
                      happened="Fjärrvärmen i Hyllie fick ackumulatortank.")


def alias_bomb(levels: int, width: int = 9, head: str = "title: Bomb\narea: energi\ndate: 2026-01-01\n"
               "type: lesson\n") -> str:
    """A front matter of nested YAML anchors: ``levels`` of ``width`` aliases each, a few
    hundred bytes that a YAML loader expands to ``width ** levels`` strings (9 levels of 9:
    387 million). The first anchor is on line 6 of the file."""
    lines = ["---", head.rstrip("\n"), "l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n---\n## Vad hände?\nText.\n"


# name -> (relative path, content as str or bytes, expected "path:line: fragment", exit code)
ENTRY_CASES = {
    "broken_yaml": ("entries/energi/trasig.md", "---\ntitle: [oops\narea: energi\n---\ntext\n",
                    "entries/energi/trasig.md:2: broken YAML in front matter", 1),
    "missing_front_matter": ("entries/energi/inget.md", "Bara text, inga nycklar.\n",
                             "entries/energi/inget.md:1: no front matter", 1),
    "unclosed_front_matter": ("entries/energi/oppen.md", "---\ntitle: x\narea: energi\n",
                              "entries/energi/oppen.md:1: front matter is not closed", 1),
    "missing_area": ("entries/energi/utan.md", "---\ntitle: x\ndate: 2026-01-01\ntype: lesson\n---\nt\n",
                     "entries/energi/utan.md:1: missing area", 1),
    "unknown_area": ("entries/energi/hav.md",
                     "---\ntitle: x\narea: havet\ndate: 2026-01-01\ntype: lesson\n---\nt\n",
                     "entries/energi/hav.md:3: unknown area 'havet'", 1),
    "bad_date": ("entries/energi/datum.md",
                 "---\ntitle: x\narea: energi\ndate: 2026-13-45\ntype: lesson\n---\nt\n",
                 "entries/energi/datum.md:4: bad date '2026-13-45'", 1),
    "unknown_type": ("entries/energi/typ.md",
                     "---\ntitle: x\narea: energi\ndate: 2026-01-01\ntype: rant\n---\nt\n",
                     "entries/energi/typ.md:5: unknown type 'rant'", 1),
    "duplicate_id": ("entries/energi/dubblett.md",
                     "---\nid: cykel-upphandling\ntitle: x\narea: energi\ndate: 2026-01-01\ntype: lesson\n---\nt\n",
                     "entries/energi/dubblett.md:2: duplicate id 'cykel-upphandling'", 1),
    "non_utf8": ("entries/energi/latin1.md", b"---\ntitle: caf\xe9\narea: energi\n---\n",
                 "entries/energi/latin1.md:2: not UTF-8 text", 1),
    "binary": ("entries/energi/bild.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
               "entries/energi/bild.md:1: binary file", 1),
    "empty": ("entries/energi/tom.md", "", "entries/energi/tom.md:1: empty file", 1),
    "five_mb": ("entries/energi/stor.md",
                good("Stor") + ("ord " * 1_310_720),
                "entries/energi/stor.md:1: file is 5.2 MB", 1),
    # small enough to survive even if it were expanded; the full-size bomb runs in a
    # memory-capped process below
    "alias_bomb": ("entries/energi/bomb.md", alias_bomb(5),
                   "entries/energi/bomb.md:6: YAML anchor '&l0'", 1),
    "single_alias": ("entries/energi/alias.md",
                     "---\ntitle: x\narea: energi\ndate: 2026-01-01\ntype: lesson\ntags: [a]\n"
                     "actors: *ref\n---\nt\n", "entries/energi/alias.md:7: YAML alias '*ref'", 1),
    "merge_key": ("entries/energi/merge.md",
                  "---\ntitle: x\narea: energi\ndate: 2026-01-01\ntype: lesson\nbase: &b {k: v}\n"
                  "other:\n  <<: *b\n---\nt\n", "entries/energi/merge.md:6: YAML anchor '&b'", 1),
    "huge_front_matter": ("entries/energi/lang.md",
                          "---\ntitle: x\narea: energi\ndate: 2026-01-01\ntype: lesson\nnotes: |\n"
                          + "  rad\n" * 30_000 + "---\n## Vad hände?\nText.\n",
                          "entries/energi/lang.md:1: front matter is 180,060 characters", 1),
    "huge_extra_value": ("entries/energi/extra.md",
                         "---\ntitle: x\narea: energi\ndate: 2026-01-01\ntype: lesson\nnotes: ["
                         + ", ".join(["ord"] * 4000) + "]\n---\n## Vad hände?\nText.\n",
                         "entries/energi/extra.md:6: 'notes' holds 28,000 characters", 1),
}


def _root(path: Path) -> list[str]:
    return ["--root", str(path)]


def snapshot(root: Path) -> dict:
    """What must not change: the rows of the index and what a search finds."""
    runner = CliRunner()
    found = runner.invoke(cli, ["search", "cykelbanan Hyllie upphandling", "--json", *_root(root)])
    assert found.exit_code == 0, found.output
    import sqlite3

    db = sqlite3.connect(root / ".kb/kb.db")
    rows = db.execute("select id, content_hash from entries order by id").fetchall()
    chunks = db.execute("select count(*) from chunks").fetchone()[0]
    db.close()
    return {"entries": rows, "chunks": chunks, "top": [r["id"] for r in json.loads(found.stdout)]}


@pytest.fixture
def indexed_root(kb_root) -> Path:
    result = CliRunner().invoke(cli, ["index", "-q", *_root(kb_root)])
    assert result.exit_code == 0, result.output
    return kb_root


def assert_one_line_error(result, fragment: str, code: int = 1) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if fragment in line]
    assert len(lines) == 1, result.stderr
    assert re.match(r"^\S+:\d+: ", lines[0]), lines[0]  # path:line: message


@pytest.mark.parametrize("command", ["index", "validate"])
@pytest.mark.parametrize("case", sorted(ENTRY_CASES))
def test_bad_entry_files(indexed_root, case, command):
    rel, content, expected, code = ENTRY_CASES[case]
    before = snapshot(indexed_root)
    path = indexed_root / rel
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, [command, *_root(indexed_root)])
    assert_one_line_error(result, expected.split(": ", 1)[1], code)
    assert expected in result.stderr
    after = snapshot(indexed_root)
    assert after == before  # the bad file is skipped; nothing indexed changed
    path.unlink()
    again = CliRunner().invoke(cli, ["index", "-q", *_root(indexed_root)])
    assert again.exit_code == 0 and snapshot(indexed_root) == before


def test_symlink_outside_the_kb_is_refused(indexed_root, tmp_path):
    outside = tmp_path / "hemligt.md"
    outside.write_text(good("Utanför"), encoding="utf-8")
    before = snapshot(indexed_root)
    link = indexed_root / "entries/energi/lank.md"
    os.symlink(outside, link)
    result = CliRunner().invoke(cli, ["index", *_root(indexed_root)])
    assert_one_line_error(result, "symbolic link points outside the knowledge base")
    assert "entries/energi/lank.md:1:" in result.stderr
    assert snapshot(indexed_root) == before
    os.symlink("/etc/passwd", indexed_root / "entries/energi/passwd.md")
    result = CliRunner().invoke(cli, ["validate", *_root(indexed_root)])
    assert result.exit_code == 1 and "root:" not in result.output


def test_a_folder_named_md_is_a_warning_not_an_entry(indexed_root):
    before = snapshot(indexed_root)
    (indexed_root / "entries/energi/mapp.md").mkdir()
    result = CliRunner().invoke(cli, ["index", *_root(indexed_root)])
    # nothing is broken, so no failure: one warning line, and the index as it was
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert_one_line_error(result, "a folder named .md is not an entry", 0)
    assert snapshot(indexed_root) == before


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["show", "../../etc/passwd"], "no entry with id '../../etc/passwd'"),
        (["show", "/etc/passwd"], "no entry with id '/etc/passwd'"),
        (["similar", "../x"], "no entry with id '../x'"),
        (["similar", "../../kb.toml", "--other-areas"], "no entry with id"),
    ],
)
def test_paths_as_ids_are_just_unknown_ids(indexed_root, args, fragment):
    before = snapshot(indexed_root)
    result = CliRunner().invoke(cli, [*args, *_root(indexed_root)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert fragment in result.stderr and "root:x:0:0" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2  # the message and its hint
    assert snapshot(indexed_root) == before


def test_new_with_dots_and_slashes_in_the_title_stays_inside(indexed_root):
    outside_before = set(indexed_root.parent.iterdir())
    result = CliRunner().invoke(
        cli, ["new", "--area", "energi", "--title", "../../x", "--no-edit", *_root(indexed_root)]
    )
    assert result.exit_code == 0, result.output
    created = [p for p in (indexed_root / "entries").rglob("*.md") if "x" == p.stem or p.stem.endswith("x")]
    assert created and all(p.resolve().is_relative_to((indexed_root / "entries/energi").resolve())
                           for p in created)
    assert set(indexed_root.parent.iterdir()) == outside_before
    bad_area = CliRunner().invoke(
        cli, ["new", "--area", "../energi", "--title", "x", "--no-edit", *_root(indexed_root)]
    )
    assert bad_area.exit_code in (1, 2) and "Traceback" not in bad_area.output


QUERIES = {
    "ten_thousand_chars": "värmepump " * 1000,
    "quotes": 'cykel "Hyllie',
    "star": "upphandl*",
    "near": "NEAR(cykel Hyllie, 3)",
    "operators": "cykel AND OR NOT ( ) : ^ -Hyllie",
    "column_filter": "title: cykel",
    "only_punctuation": '"*"()^:',
    "sql_like": "'; drop table entries; --",
    "control_chars": "cykel\x00\x1b[31m\u202e",
}


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "semantic"])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_odd_queries_answer_without_errors(indexed_root, name, mode):
    before = snapshot(indexed_root)
    result = CliRunner().invoke(cli, ["search", QUERIES[name], "--mode", mode, "--json", *_root(indexed_root)])
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)
    assert snapshot(indexed_root) == before


def test_empty_kb_indexes_and_searches(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_kb(tmp_path / "tom", entries={})
    runner = CliRunner()
    index = runner.invoke(cli, ["index", *_root(root)])
    assert index.exit_code == 0 and "Indexed 0 entries" in index.stdout
    search = runner.invoke(cli, ["search", "cykel", *_root(root)])
    assert search.exit_code == 0 and "Inga poster hittades." in search.stderr
    for args in (["similar", "x"], ["show", "x"]):
        result = runner.invoke(cli, [*args, *_root(root)])
        assert result.exit_code == 1 and "no entry with id 'x'" in result.stderr


@pytest.mark.parametrize("command", [["index"], ["validate"], ["search", "x"], ["show", "x"], ["similar", "x"]])
def test_a_folder_without_kb_toml(tmp_path, command):
    (tmp_path / "entries").mkdir()
    result = CliRunner().invoke(cli, [*command, "--root", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    first = result.stderr.strip().splitlines()[0]
    assert "kb.toml: not found" in first and str(tmp_path) in first
    assert not (tmp_path / ".kb").exists()  # nothing written


# --- Hypothesis: the parser never raises anything but EntryInvalid --------------------------------
@pytest.fixture(scope="module")
def parse_config(tmp_path_factory):
    return load_config(write_kb(tmp_path_factory.mktemp("parse"), entries={}))


yaml_values = st.one_of(
    st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.lists(st.text(max_size=10), max_size=4), st.just("2026-02-30"), st.just("[unclosed"),
    st.just("{a: [b"), st.just("&anchor *alias"), st.just("!!python/object:os.system 'x'"),
)
keys = st.sampled_from(["id", "title", "area", "date", "type", "tags", "actors", "related", "sprint", "x"])


@st.composite
def entry_texts(draw):
    lines = [f"{draw(keys)}: {draw(yaml_values)}" for _ in range(draw(st.integers(0, 8)))]
    body = draw(st.text(max_size=300))
    closing = draw(st.sampled_from(["---\n", "", "--- \n", "...\n"]))
    return "---\n" + "\n".join(lines) + "\n" + closing + body


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=2000), entry_texts()))
def test_parse_text_never_crashes(parse_config, text):
    try:
        entry = parse_text(text, parse_config.root / "entries/energi/x.md", parse_config)
    except EntryInvalid as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)
        assert all("\n" not in p.format() for p in exc.problems)  # one line each
    else:
        assert entry.area in parse_config.areas and entry.id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.one_of(
    st.text(max_size=3000),
    st.lists(st.sampled_from(['"', "*", "NEAR", "AND", "OR", "NOT", "(", ")", ":", "^", "-", "+",
                              "cykel", "Hyllie", "ö", "\x00", "{", "}"]), max_size=40).map(" ".join),
))
def test_query_path_never_crashes(indexed_kb, query):
    for mode in ("hybrid", "keyword", "semantic"):
        try:
            results = indexed_kb.search(query, mode=mode, limit=5)
        except KBError as exc:  # only our own, one-line errors are allowed
            assert "\n" not in str(exc)
        else:
            assert all(r.id for r in results)


def test_a_new_file_reusing_an_id_never_replaces_the_indexed_entry(indexed_root):
    before = snapshot(indexed_root)
    dup = indexed_root / "entries/bygg/kopia.md"
    dup.write_text("---\nid: cykel-upphandling\ntitle: Kopia\narea: bygg\ndate: 2026-01-01\ntype: idea\n---\nx\n",
                   encoding="utf-8")
    original = indexed_root / "entries/mobilitet/cykel-upphandling.md"
    os.utime(original, (time.time() + 60, time.time() + 60))  # even when the original is edited later
    result = CliRunner().invoke(cli, ["index", *_root(indexed_root)])
    assert_one_line_error(result, "duplicate id 'cykel-upphandling'")
    assert "entries/bygg/kopia.md:2:" in result.stderr
    assert snapshot(indexed_root) == before


# --- the YAML alias bomb at full size, in a process that may not take more than 1 GB ---------
BOMB_SCRIPT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from kb.cli import cli
cli()
"""


@pytest.mark.parametrize("command", ["validate", "index"])
def test_a_full_size_alias_bomb_is_refused_before_it_expands(indexed_root, command):
    """9 levels of 9 aliases: 387 million strings if expanded (gigabytes, minutes)."""
    before = snapshot(indexed_root)
    (indexed_root / "entries/energi/bomb.md").write_text(alias_bomb(9), encoding="utf-8")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, command, *_root(indexed_root)],
                            capture_output=True, text=True, timeout=120, cwd=REPO,
                            env={**os.environ, "KB_MODEL": "hash"})
    assert time.perf_counter() - started < 60
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "bomb.md" in line]
    assert lines == ["entries/energi/bomb.md:6: YAML anchor '&l0': anchors and aliases are not allowed "
                     "in front matter; write each value out"], result.stderr
    assert snapshot(indexed_root) == before


@pytest.mark.parametrize("folder, what", [("actions", "action"), ("agenda", "learning question"),
                                          ("roadmaps", "roadmap")])
def test_alias_bombs_in_actions_agenda_and_roadmaps_are_refused(indexed_root, folder, what):
    path = indexed_root / folder / "bomb.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(alias_bomb(6, head="title: Bomb\narea: energi\nowner: x\nquestion: y\n"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", *_root(indexed_root)])
    assert result.exit_code == 1 and "Traceback" not in result.output, (what, result.output)
    assert f"{folder}/bomb.md:6: YAML anchor '&l0'" in result.stderr, result.stderr


def test_the_goal_conflict_roadmap_reader_never_expands_a_bomb(indexed_root):
    (indexed_root / "roadmaps").mkdir(exist_ok=True)
    (indexed_root / "roadmaps/energi.md").write_text(
        alias_bomb(9, head="area: energi\nactions: [{id: ENE-1, title: t}]\n"), encoding="utf-8")
    started = time.perf_counter()
    assert roadmap_areas(indexed_root, ["energi"]) == {}  # a refused roadmap maps nothing
    assert time.perf_counter() - started < 5


def test_linking_never_expands_aliases_in_an_entry(indexed_root):
    text = alias_bomb(9).replace("type: lesson\n", "type: lesson\nrelated: []\n")
    with pytest.raises(KBError, match="anchors and aliases"):
        set_related(text, "laddplatser", present=True)


# --- an unfilled template: valid, but flagged and left out of the analyses -----------------------
def test_an_unfilled_template_is_flagged_by_validate_and_index(indexed_root):
    before = snapshot(indexed_root)
    made = CliRunner().invoke(cli, ["new", "--area", "energi", "--title", "Mall som ingen fyllde i",
                                    "--no-edit", *_root(indexed_root)])
    assert made.exit_code == 0, made.output
    rel = "entries/energi/mall-som-ingen-fyllde-i.md"
    for command in ("validate", "index"):
        result = CliRunner().invoke(cli, [command, *_root(indexed_root)])
        assert result.exit_code == 0, result.output  # a warning, not an error
        assert_one_line_error(result, "no text under its headings yet", 0)
        assert f"{rel}:" in result.stderr and "warning: " in result.stderr
    assert len(snapshot(indexed_root)["entries"]) == len(before["entries"]) + 1  # still searchable


def test_a_filled_template_is_not_flagged(indexed_root):
    path = indexed_root / "entries/energi/ifylld.md"
    path.write_text("---\ntitle: Ifylld\narea: energi\ndate: 2026-01-01\ntype: lesson\n---\n"
                    "## Vad hände?\n\n## Vad lärde vi oss?\nAtt fylla i mallen.\n\n## Nästa steg\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", *_root(indexed_root)])
    assert result.exit_code == 0 and "ifylld.md" not in result.stderr, result.output


def test_an_unfilled_template_is_left_out_of_the_brief_and_the_analyses(indexed_root):
    kb = KnowledgeBase.open(indexed_root)
    counted = compose_brief(kb).counts
    kb.close()
    for i in range(3):  # several, so they could have formed a group or a synergy of their own
        made = CliRunner().invoke(cli, ["new", "--area", ["energi", "bygg", "mobilitet"][i], "--type", "obstacle",
                                        "--title", f"Tom mall {i}", "--no-edit", *_root(indexed_root)])
        assert made.exit_code == 0, made.output
    assert CliRunner().invoke(cli, ["index", "-q", *_root(indexed_root)]).exit_code == 0
    kb = KnowledgeBase.open(indexed_root)
    try:
        assert {f"tom-mall-{i}" for i in range(3)} <= set(kb.store.entry_ids())  # indexed, searchable
        corpus = load_corpus(kb)
        assert not any(e.startswith("tom-mall") for e in corpus.ids)
        assert corpus.vectors.shape[0] == len(corpus.ids) == len(corpus.rows)
        brief = compose_brief(kb)
        assert brief.counts == counted and not any(e.startswith("tom-mall") for e in brief.scope_ids)
    finally:
        kb.close()
