"""Following other cities (kb follow, kb sync, kb unfollow): the copies under followed/, the
index and search with their source, withdrawals that leave pages, SQL and vectors, and a
broken or hostile publication that cannot harm the knowledge base."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.app import fetch as fetch_module
from kb.app import follow as follow_module
from kb.app.fetch import FetchError, fetch
from kb.app.follow import follow, normalise_location, sync, sync_source
from kb.app.knowledge_base import KnowledgeBase
from kb.app.publish import build_publication, write_publication
from kb.cli import cli
from kb.core import vector_index
from kb.core.config import load
from kb.core.errors import KBError
from kb.core.followed import find_source
from search.filters import Filters

from .helpers import datasette_get, entry_text
from .samples import write_kb
from .sharing_samples import PUBLIC_TITLE, city_entries, write_city


def index(root: Path):
    kb = KnowledgeBase.open(root)
    try:
        return kb.index()
    finally:
        kb.close()


def publish(root: Path, out: Path) -> Path:
    kb = KnowledgeBase.open(root)
    try:
        write_publication(build_publication(kb.config, kb.store), out, kb.config)
    finally:
        kb.close()
    return out


@pytest.fixture
def lund(tmp_path, monkeypatch):
    """Lund: a knowledge base that publishes one public lesson, into a folder."""
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_city(tmp_path / "lund", organisation="Lunds kommun", entries=city_entries("lund-"))
    index(root)
    publish(root, tmp_path / "lund-open")
    return root


@pytest.fixture
def malmo(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_kb(tmp_path / "malmo")
    index(root)
    return root


def followed(root: Path, url: str, name: str = "Lund"):
    config = load(root)
    follow(config, url, name)
    kb = KnowledgeBase.open(root)
    try:
        reports, report = sync(kb)
    finally:
        kb.close()
    return reports, report


def rewrite(folder: Path, change) -> None:
    """Change the published lessons with ``change(records)`` and describe them anew in
    index.json (as a publisher would), so only the change is wrong."""
    lessons = folder / "lessons.jsonl"
    records = [json.loads(line) for line in lessons.read_text(encoding="utf-8").splitlines()]
    changed = change(records)
    records = changed if isinstance(changed, list) else records
    content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    lessons.write_bytes(content)
    manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    manifest["lessons"].update(count=len(records), bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
    (folder / "index.json").write_text(json.dumps(manifest), encoding="utf-8")


# --- following a folder ----------------------------------------------------------------------------
def test_a_followed_lesson_is_kept_apart_read_only_and_found_with_its_source(malmo, lund, tmp_path):
    reports, report = followed(malmo, str(tmp_path / "lund-open"))
    assert [(r.name, r.status, r.lessons, r.organisation) for r in reports] == [
        ("Lund", "updated", 1, "Lunds kommun")]
    assert report.followed == 1 and report.added == ["lund:lund-oppen"]
    folder = malmo / "followed" / "lund"
    assert sorted(p.name for p in folder.iterdir()) == ["fetch.json", "index.json", "lessons.jsonl", "source.json"]
    for name in ("index.json", "lessons.jsonl"):
        assert not os.stat(folder / name).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not list((malmo / "entries").rglob("*lund*"))  # never mixed with our own
    kb = KnowledgeBase.open(malmo)
    try:
        own = {r[0] for r in kb.store.db.execute("select id from entries")}
        assert "lund:lund-oppen" not in own
        row = kb.store.get_entries(["lund:lund-oppen"])["lund:lund-oppen"]
        assert row["source"] == "Lund" and row["visibility"] == "public"
        assert row["extra"]["licence"] == "http://creativecommons.org/licenses/by/4.0/"
        assert row["roadmap"] == [] and "author" not in row["extra"]
        found = kb.search("nätägaren kapaciteten elnätet", filters=Filters(sources=("Lund",)), show="all")
        assert [(r.id, r.source, r.area_name) for r in found] == [("lund:lund-oppen", "Lund", "Bygg och fastigheter")]
        own_only = kb.search("nätägaren kapaciteten elnätet", filters=Filters(sources=("own",)), show="all")
        assert own_only and all(r.source is None for r in own_only)
        assert kb.store.sources()[0]["licence"] == "http://creativecommons.org/licenses/by/4.0/"
    finally:
        kb.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "nätägaren kapaciteten", "--root", str(malmo), "--source", "lund",
                                 "--all", "--json"])
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["source"]) for r in json.loads(result.output)] == [("lund:lund-oppen", "Lund")]
    unknown = runner.invoke(cli, ["search", "x", "--root", str(malmo), "--source", "Göteborg"])
    assert unknown.exit_code == 2 and "unknown source 'Göteborg'; use one of: own, Lund" in unknown.output
    listed = runner.invoke(cli, ["follow", "--root", str(malmo)])
    assert "Lund" in listed.output and "fetched" in listed.output


def test_the_own_analyses_never_see_another_citys_lessons(malmo, lund, tmp_path):
    followed(malmo, str(tmp_path / "lund-open"))
    from analysis.corpus import load_corpus

    kb = KnowledgeBase.open(malmo)
    try:
        assert all(":" not in e for e in load_corpus(kb).ids)
    finally:
        kb.close()


def test_a_second_sync_of_an_unchanged_publication_fetches_nothing_new(malmo, lund, tmp_path):
    followed(malmo, str(tmp_path / "lund-open"))
    config = load(malmo)
    again = sync_source(config, find_source(config, "Lund"))
    assert again.status == "unchanged" and again.lessons == 1 and not again.added


def test_a_withdrawn_lesson_leaves_the_pages_the_sql_tables_and_the_vectors(malmo, lund, tmp_path):
    followed(malmo, str(tmp_path / "lund-open"))
    path = lund / "entries" / "bygg" / "lund-oppen.md"
    path.write_text(path.read_text(encoding="utf-8").replace("visibility: public", "visibility: internal"),
                    encoding="utf-8")
    index(lund)
    publish(lund, tmp_path / "lund-open")
    kb = KnowledgeBase.open(malmo)
    try:
        before = {int(i) for i in vector_index.faiss_ids(kb.vectors.index)}
        chunks = {r[0] for r in kb.store.db.execute("select id from chunks where entry_id = 'lund:lund-oppen'")}
        assert chunks and chunks <= before
        reports, report = sync(kb)
        assert reports[0].withdrawn == ["lund-oppen"] and report.deleted == ["lund:lund-oppen"]
        db = kb.store.db
        assert db.execute("select count(*) from followed_entries").fetchone()[0] == 0
        assert db.execute("select count(*) from chunks where entry_id like 'lund:%'").fetchone()[0] == 0
        assert db.execute("select count(*) from chunks_fts where rowid in (select value from json_each(?))",
                          [json.dumps(sorted(chunks))]).fetchone()[0] == 0
        after = {int(i) for i in vector_index.faiss_ids(kb.load_vectors().index)}
        assert not chunks & after
    finally:
        kb.close()
    page = datasette_get(malmo, "/-/kb/entry/lund:lund-oppen")
    assert page.status_code == 404


def test_unfollowing_removes_the_copy_and_the_lessons(malmo, lund, tmp_path):
    followed(malmo, str(tmp_path / "lund-open"))
    result = CliRunner().invoke(cli, ["unfollow", "lund", "--root", str(malmo)])
    assert result.exit_code == 0, result.output
    assert "1 of its lessons left the index" in result.output
    assert not (malmo / "followed" / "lund").exists()


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://lund.example.se/open/", r"only http\(s\) addresses and folders"),
    ("https://user:secret@lund.example.se/-/kb/open/", "user name or password"),
    ("/no/such/folder", "not a published folder"),
])
def test_an_address_that_cannot_be_followed_is_named(url, message):
    with pytest.raises(KBError, match=message):
        normalise_location(url)


def test_an_address_is_kept_as_its_folder():
    assert normalise_location("https://lund.example.se/-/kb/open") == "https://lund.example.se/-/kb/open/"
    assert normalise_location("https://lund.example.se/-/kb/open/index.json") == "https://lund.example.se/-/kb/open/"


def test_a_knowledge_base_does_not_follow_its_own_publication(lund, tmp_path):
    reports, _ = followed(lund, str(tmp_path / "lund-open"), "Oss")
    assert reports[0].status == "failed" and "own publication" in reports[0].error


def test_a_failed_first_follow_keeps_nothing_and_says_why(malmo, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "index.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["follow", str(tmp_path / "empty"), "--name", "Tom", "--root", str(malmo)])
    assert result.exit_code == 1
    assert "not followed: index.json: 'schema' is a required property" in result.output
    assert not (malmo / "followed" / "tom").exists()


def test_a_failed_first_follow_whose_publication_is_wrong_names_the_publisher(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"
    rewrite(folder, lambda rs: rs[0].pop("title"))
    result = CliRunner().invoke(cli, ["follow", str(folder), "--name", "Lund", "--root", str(malmo)])
    assert result.exit_code == 1 and "'title' is a required property" in result.output
    # before: "Check the address", for a publication that was reached and read
    assert "Tell the publisher (klimat@example.se)" in result.output and "kb follow" in result.output
    assert "Check the address" not in result.output


def test_one_publication_is_followed_once_whatever_its_address(malmo, lund, tmp_path):
    followed(malmo, str(tmp_path / "lund-open"))
    shutil.copytree(tmp_path / "lund-open", tmp_path / "mirror")
    result = CliRunner().invoke(cli, ["follow", str(tmp_path / "mirror"), "--name", "Lund igen", "--root", str(malmo)])
    # before: followed twice, every Lund lesson listed twice in search, kb cities and the brief
    assert result.exit_code == 1 and "already followed as Lund" in result.output
    assert "Keep following it as Lund" in result.output and not (malmo / "followed" / "lund-igen").exists()


def test_partners_and_visitors_are_not_told_where_a_followed_folder_lies(malmo, lund, tmp_path):
    followed(malmo, str(tmp_path / "lund-open"))
    config = load(malmo)

    def urls(path):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return [r[0] for r in conn.execute("select url from followed_sources")]

    assert urls(config.db_path) == [str(tmp_path / "lund-open")]  # staff: where it is read from
    for audience in ("partner", "public"):
        assert urls(config.audience_db_path(audience)) == [None]  # before: the server's folder
    made = config.audience_db_path("public").stat().st_ino
    KnowledgeBase.open(malmo).index()
    assert config.audience_db_path("public").stat().st_ino == made  # still up to date: not made again


def test_own_is_no_name_for_a_source(malmo, lund, tmp_path):
    # --source own means our own lessons: a source of that name could never be filtered
    with pytest.raises(KBError, match="means our own lessons"):
        follow(load(malmo), str(tmp_path / "lund-open"), "Own")


# --- a broken or hostile publication ------------------------------------------------------------------
def _copy_survives(malmo: Path, report) -> None:
    assert report.status == "failed" and report.hint
    kb = KnowledgeBase.open(malmo)
    try:
        assert kb.store.get_entries(["lund:lund-oppen"])["lund:lund-oppen"]["title"] == PUBLIC_TITLE
    finally:
        kb.close()


@pytest.mark.parametrize(("change", "message"), [
    (lambda rs: rs[0].pop("title"), "lessons.jsonl line 1: 'title' is a required property"),
    (lambda rs: rs[0].update(id="../../kb.toml"), "lessons.jsonl line 1: field id"),
    (lambda rs: [*rs, rs[0]], "the id 'lund-oppen' appears twice"),
    (lambda rs: rs[0].update(schema="kb-lesson/2.0"), "field schema"),
])
def test_a_publication_outside_the_schema_is_refused_and_the_old_copy_kept(malmo, lund, tmp_path, change,
                                                                           message):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    rewrite(folder, change)
    kb = KnowledgeBase.open(malmo)
    try:
        reports, _ = sync(kb)
    finally:
        kb.close()
    assert message in reports[0].error
    assert "Nothing of the new version was taken" in reports[0].hint and "klimat@example.se" in reports[0].hint
    _copy_survives(malmo, reports[0])
    state = json.loads((malmo / "followed" / "lund" / "fetch.json").read_text(encoding="utf-8"))
    assert state["error"] == reports[0].error


def test_lessons_that_are_not_the_file_the_manifest_describes_are_refused(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    rewrite(folder, lambda rs: rs[0].update(summary="En ny sammanfattning."))  # a new version, described
    lessons = folder / "lessons.jsonl"  # ... then damaged on its way (or changed while it was read)
    lessons.write_bytes(lessons.read_bytes().replace("En ny".encode(), "En NY".encode()))
    reports, _ = followed(malmo, str(folder))
    assert "is not the file index.json describes (its SHA-256 differs)" in reports[0].error
    _copy_survives(malmo, reports[0])
    lessons.write_bytes(lessons.read_bytes().replace("En NY".encode(), "Ett nytt".encode()))
    reports, _ = followed(malmo, str(folder))
    assert "(its size differs)" in reports[0].error


def test_a_publication_past_the_size_limit_is_refused(malmo, lund, tmp_path, monkeypatch):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    rewrite(folder, lambda rs: rs[0]["sections"].append({"heading": "Mer", "text": "ord " * 5000}))
    monkeypatch.setattr(follow_module, "MAX_LESSONS_BYTES", 10_000)
    reports, _ = followed(malmo, str(folder))
    assert "at most 10,000 are read" in reports[0].error
    _copy_survives(malmo, reports[0])


def test_a_newer_major_version_is_refused_with_what_to_do(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    (folder / "index.json").write_text(json.dumps({**manifest, "schema": "kb-publication/2.0"}), encoding="utf-8")
    reports, _ = followed(malmo, str(folder))
    assert "this program reads kb-publication/1.x: update this program" in reports[0].error
    _copy_survives(malmo, reports[0])


def test_another_citys_words_stay_text_on_our_pages(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"

    def hostile(records):
        records[0]["title"] = "<script>alert('titel')</script> Laddning"
        records[0]["sections"] = [
            {"heading": "## Rubrik <img src=x onerror=alert(1)>", "text": "[Klicka här](javascript:alert(1))\n"
             "# Inte en rubrik\n<iframe src='https://evil.example'></iframe>\n- inte en lista"},
        ]
        records[0]["url"] = "javascript:alert(1)"
        records[0]["licence"] = "javascript:alert(2)"
        records[0]["area"]["name"] = "<b>Fet</b>"

    rewrite(folder, hostile)
    manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    (folder / "index.json").write_text(json.dumps({**manifest, "licence": "javascript:alert(3)",
                                                   "organisation": "<script>x</script>"}), encoding="utf-8")
    reports, _ = followed(malmo, str(folder))
    assert reports[0].status == "updated"
    page, cities = datasette_get(malmo, "/-/kb/entry/lund:lund-oppen", "/-/kb/cities")
    assert page.status_code == 200 and cities.status_code == 200
    assert "javascript:" not in cities.text and "<script>x" not in cities.text
    body = page.text
    for unsafe in ("<script>alert", 'href="javascript', "<img", "<iframe", "<b>Fet</b>", "<h1>Inte", "<h2>Inte",
                   "<li>inte"):
        assert unsafe not in body, unsafe
    # the words are all there, as text
    assert "&lt;script&gt;alert" in body and "[Klicka här](javascript:alert(1))" in body
    assert "# Inte en rubrik" in body and "- inte en lista" in body


# --- over the web --------------------------------------------------------------------------------------
class Publisher(http.server.ThreadingHTTPServer):
    """A web server that answers each path as its ``routes`` say: (status, headers, body,
    seconds to wait between two bytes of it)."""

    def __init__(self):
        self.routes: dict[str, tuple] = {}
        self.requests: list[tuple[str, dict]] = []
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append((self.path, dict(self.headers)))
        status, headers, body, pause = self.server.routes.get(self.path, (404, {}, b"", 0))
        if status == 200 and "ETag" in headers and self.headers.get("If-None-Match") == headers["ETag"]:
            status, body = 304, b""
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if pause:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(pause)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def publisher():
    server = Publisher()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_over_the_web_an_unchanged_publication_costs_a_304(malmo, lund, tmp_path, publisher):
    folder = tmp_path / "lund-open"
    for name in ("index.json", "lessons.jsonl"):
        publisher.routes[f"/open/{name}"] = (200, {"ETag": f'"{name}-1"'}, (folder / name).read_bytes(), 0)
    reports, _ = followed(malmo, publisher.base + "/open/")
    assert reports[0].status == "updated"
    publisher.requests.clear()
    config = load(malmo)
    again = sync_source(config, find_source(config, "Lund"))
    assert again.status == "unchanged"
    assert [(path, headers.get("If-None-Match")) for path, headers in publisher.requests] == [
        ("/open/index.json", '"index.json-1"')]


def test_a_decompression_bomb_is_stopped_at_the_size_limit(publisher):
    bomb = gzip.compress(b"0" * 20_000_000)
    publisher.routes["/index.json"] = (200, {"Content-Encoding": "gzip"}, bomb, 0)
    with pytest.raises(FetchError, match="more than 2,000,000 bytes"):
        fetch(publisher.base + "/index.json", max_bytes=2_000_000)


def test_a_publication_that_trickles_is_given_up_on(publisher, monkeypatch):
    publisher.routes["/index.json"] = (200, {}, b"{" + b" " * 200 + b"}", 0.02)
    with pytest.raises(FetchError, match="still arriving after 1 s"):
        fetch(publisher.base + "/index.json", max_bytes=1000, total_seconds=1)


def test_a_silent_server_and_a_redirect_loop_are_named(publisher, monkeypatch):
    monkeypatch.setattr(fetch_module, "READ_SECONDS", 0.5)
    publisher.routes["/slow"] = (200, {}, b"x" * 10, 1.0)
    with pytest.raises(FetchError, match="no answer within"):
        fetch(publisher.base + "/slow", max_bytes=1000)
    publisher.routes["/loop"] = (302, {"Location": "/loop"}, b"", 0)
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(publisher.base + "/loop", max_bytes=1000)


def test_a_lesson_withdrawn_by_tombstone_goes_even_while_its_line_is_still_there(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    ref = json.loads((folder / "lessons.jsonl").read_text(encoding="utf-8"))["ref"]
    manifest["withdrawn"] = [{"ref": ref, "when": "2026-06-01T00:00:00Z"}]
    rewrite(folder, lambda rs: rs[0].update(summary="ändrad"))  # a new version, with its tombstone
    manifest.update({k: v for k, v in json.loads((folder / "index.json").read_text(encoding="utf-8")).items()
                     if k == "lessons"})
    (folder / "index.json").write_text(json.dumps(manifest), encoding="utf-8")
    reports, report = followed(malmo, str(folder))
    assert reports[0].withdrawn == ["lund-oppen"] and report.deleted == ["lund:lund-oppen"]


def test_a_tombstone_for_a_lesson_in_our_copy_removes_it_though_the_lessons_did_not_change(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    manifest = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    ref = json.loads((folder / "lessons.jsonl").read_text(encoding="utf-8"))["ref"]
    manifest["withdrawn"] = [{"ref": ref, "when": "2026-06-01T00:00:00Z"}]  # the same lessons file, described
    (folder / "index.json").write_text(json.dumps(manifest), encoding="utf-8")
    reports, report = followed(malmo, str(folder))
    assert reports[0].withdrawn == ["lund-oppen"] and report.deleted == ["lund:lund-oppen"]


def test_kb_sync_names_every_problem_and_exits_1(malmo, lund, tmp_path):
    folder = tmp_path / "lund-open"
    followed(malmo, str(folder))
    (folder / "index.json").write_text("{ inte json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sync", "--root", str(malmo), "-q"])
    assert result.exit_code == 1
    assert "Lund: failed: index.json: not JSON" in result.output
    assert "kept the copy of" in result.output and "Hint:" in result.output


def test_entry_files_of_another_kb_are_never_read_as_ours(malmo, tmp_path):
    # a folder under followed/ without source.json is named, not indexed
    stray = malmo / "followed" / "stray"
    stray.mkdir(parents=True)
    (stray / "x.md").write_text(entry_text({"title": "x", "area": "energi", "date": "2026-01-01",
                                            "type": "lesson"}), encoding="utf-8")
    with pytest.raises(KBError, match="not a followed source"):
        index(malmo)
