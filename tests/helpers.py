"""What the tests share that is not a fixture (the fixtures are in conftest.py): the one way
to write an entry file's text, Datasette's test client, an HTML collector, a capture draft
and a ``kb serve`` process on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from datasette.app import Datasette

from kb.app import capture

REPO = Path(__file__).resolve().parent.parent
# Debian's Chromium, started the way this machine's closed network needs (never a downloaded build)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# --- entries ------------------------------------------------------------------------------
_NOTHING_HAPPENED = {"Vad hände?": "Något hände."}


def entry_text(
    front: str | Mapping[str, object],
    body: str | Mapping[str, str] | None = None,
    *,
    happened: str | None = None,
    learned: str | None = None,
) -> str:
    """The text of an entry file: the front matter between ``---`` lines, then the body.

    ``front`` is YAML as text (dedented; blank lines around it dropped) or a mapping written
    one ``key: value`` line each, in its order, lists as ``[a, b]``. ``body`` is the body as it
    is, or ``{heading: text}`` written as ``## heading`` sections with a blank line between;
    ``happened`` and ``learned`` are the template's two sections, "Vad hände?" and "Vad lärde
    vi oss?". Without any of them the body is one short "Vad hände?" section.
    """
    if isinstance(front, str):
        front_text = textwrap.dedent(front).strip()
    else:
        front_text = "\n".join(f"{key}: {_yaml_value(value)}" for key, value in front.items())
    if body is None:
        template = {"Vad hände?": happened, "Vad lärde vi oss?": learned}
        body = {heading: text for heading, text in template.items() if text is not None} or _NOTHING_HAPPENED
    if not isinstance(body, str):
        body = "\n".join(f"## {heading}\n{text}\n" for heading, text in body.items())
    return f"---\n{front_text}\n---\n{body}"


def _yaml_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def draft(**changes) -> capture.Draft:
    """A reflection as the web form sends it; ``changes`` replace its fields."""
    values = dict(
        title="Nätägaren sa nej till laddplatser på Västra hamnen",
        area="energi", type="obstacle", date="2026-05-04", tags=["elnät", "laddning"],
        sections=[("Vad hände?", "E.ON hade ingen kapacitet kvar i området."),
                  ("Vad lärde vi oss?", "Fråga nätägaren innan platsen väljs.")],
        author="anna",
    )
    values.update(changes)
    return capture.Draft(**values)


# --- the web pages ------------------------------------------------------------------------
def datasette_responses(root: Path, *paths: str) -> list:
    """GET each path through ``datasette.client`` on the knowledge base's database (plugins
    installed through the package's entry points), after the startup hooks ran."""
    ds = Datasette([str(root / ".kb" / "kb.db")], settings={"num_sql_threads": 1})

    async def go():
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(go())


def datasette_get(root: Path, *paths: str):
    """One response for one path, a list for several."""
    responses = datasette_responses(root, *paths)
    return responses if len(paths) > 1 else responses[0]


class Collect(HTMLParser):
    """The tags, links, images and style sheets of a page; no inline ``style`` anywhere."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.styles: list[str] = []
        self.open: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        assert "style" not in attrs, f"inline style on <{tag}>"
        if tag == "a":
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs["src"])
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag):
        self._in_style = False


def parse_html(text: str) -> Collect:
    parser = Collect()
    parser.feed(text)
    parser.close()
    return parser


# --- a server process -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(root, log_path, extra_env=None, cwd=None, args=()):
    """``kb serve`` in a subprocess on a free port, waited for; always stopped afterwards.
    Yields the base URL and the server's output so far. ``cwd``: the server's working folder
    (``python -c`` imports from it before PYTHONPATH); ``args``: more options for kb serve."""
    port = free_port()
    log = open(log_path, "w+", encoding="utf-8")
    env = {**os.environ, "KB_MODEL": "hash", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import cli; cli()", "serve", "--root", str(root),
         "--port", str(port), *args],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"kb serve exited early:\n{log.read()}")
            try:
                with urllib.request.urlopen(base + "/-/kb/search", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("kb serve did not answer within 60 s")
            time.sleep(0.2)
        log.seek(0)
        yield base, log.read()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- a server process for the hostile probes (its peer address, its memory, its log) -------
@dataclasses.dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen
    root: Path
    log: Path

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(root: Path, env: dict | None = None) -> Server:
    """``kb serve`` on a free port of 127.0.0.1 (hash embedder), its output in a file beside
    the knowledge base (a pipe nobody reads would fill up and stop the server)."""
    env = {**os.environ, "KB_MODEL": "hash", "HF_HUB_OFFLINE": "1", **(env or {})}
    port = free_port()
    log = root.parent / f"serve-{port}.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from kb.cli import cli; cli()", "serve", "--root", str(root), "--port", str(port)],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(url + "/-/kb/search.json?q=x", timeout=2).status_code == 200:
                return Server(url, port, proc, root, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("server did not start: " + log.read_text(encoding="utf-8"))


def stop_server(server: Server) -> str:
    """Stop the server; its output."""
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    return server.output()


def open_sql(root: Path, who: str = "all") -> None:
    """kb.toml ``[web] sql = who`` (SQL of one's own for every visitor, by default)."""
    set_web(root, sql=who)


def set_web(root: Path, **settings) -> None:
    """Keys of kb.toml's ``[web]`` table (added to the table when it is there: the sample
    knowledge bases have one, with ``visitors = "staff"``)."""
    path = root / "kb.toml"
    text = path.read_text(encoding="utf-8")
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    if "\n[web]\n" in text:
        head, _, tail = text.partition("\n[web]\n")
        kept = "".join(line + "\n" for line in tail.splitlines()
                       if line.split("=")[0].strip() not in settings)
        text = head + "\n[web]\n" + lines + kept
    else:
        text += "\n[web]\n" + lines
    path.write_text(text, encoding="utf-8")


def client_at(address: str, timeout: float = 30) -> httpx.Client:
    """A client whose requests come from ``address`` (any of 127.0.0.0/8 reaches loopback):
    another visitor, as the server counts them."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)


# --- signed-in pages ----------------------------------------------------------------------
PASSWORD = "hemligt lösenord"  # the test writers' password (few iterations: the format is real)
TOKEN_RE = re.compile(r'name="csrftoken" value="([^"]+)"')


class Browser:
    """datasette.client with a cookie jar, the way a browser would use the pages."""
    def __init__(self, ds):
        self.ds = ds
        self.cookies: dict[str, str] = {}

    async def get(self, path):
        r = await self.ds.client.get(path, cookies=self.cookies)
        self.cookies.update({k: v for k, v in r.cookies.items()})
        return r

    async def post(self, path, data):
        r = await self.ds.client.post(path, data=data, cookies=self.cookies)
        self.cookies.update({k: v for k, v in r.cookies.items()})
        return r

    async def token(self, path):
        r = await self.get(path)
        return TOKEN_RE.search(r.text).group(1)

    async def sign_in(self, name="anna", password=PASSWORD):
        token = await self.token("/-/kb/login")
        return await self.post("/-/kb/login", {"csrftoken": token, "username": name, "password": password})


FORM = {
    "title": "Laddplatser i Hyllie kräver kapacitetsbesked",
    "area": "mobilitet", "type": "obstacle", "date": "2026-05-04", "sprint": "",
    "tags": "elnät, laddning", "actors": "E.ON, Malmö stad", "roadmap": "MOB-3",
    "happened": "Nätägaren hade ingen kapacitet för snabbladdare.",
    "learned": "Begär kapacitetsbesked innan platsen väljs.", "next": "",
}


def entry_files(root):
    return sorted(p.relative_to(root).as_posix() for p in (root / "entries").rglob("*.md"))


def set_auth(root, body: str, writers: dict[str, str] | None = None) -> None:
    """Replace kb.toml's [auth] table (the rest stays)."""
    path = root / "kb.toml"
    text = path.read_text(encoding="utf-8").split("\n[auth]\n")[0].rstrip("\n")
    table = body
    if writers:
        table += "\nwriters = { " + ", ".join(f'{k} = "{v}"' for k, v in writers.items()) + " }"
    path.write_text(text + "\n\n[auth]\n" + table + "\n", encoding="utf-8")


def run(ds, scenario):
    """Datasette started, then ``scenario(browser)`` run with one cookie-keeping client."""
    async def go():
        await ds.invoke_startup()
        return await scenario(Browser(ds))

    return asyncio.run(go())
