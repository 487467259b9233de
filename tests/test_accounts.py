"""Accounts for the web pages: kb user add (the password asked twice, or read from standard
input; only its hash written), list and remove, kb.toml kept as written around the change;
the demo's accounts live only as long as the server that printed them."""

from __future__ import annotations

import http.cookiejar
import re
import types
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner

from datasette_plugins.serve import make_datasette
from kb.app.auth import LiveAuth, demo_accounts, hash_password, verify_password
from kb.cli import cli
from kb.core import audit
from kb.core.config import load
from kb.core.errors import ConfigError

from .helpers import TOKEN_RE, run, running_server
from .samples import speak

COMMENTED = """\
title = "Test-KB"  # the title stays

[[areas]]
slug = "mobilitet"
name = "Mobilitet och transporter"

[[areas]]
slug = "energi"
name = "Energi"

[[areas]]
slug = "bygg"
name = "Bygg och fastigheter"

[auth]
# roles given by hand stay too
roles = { erik = "facilitator" }
"""
PASSWORD = "korrekt häst batteri"


def kb(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
def root(kb_root):
    (kb_root / "kb.toml").write_text(COMMENTED, encoding="utf-8")
    return kb_root


def test_a_user_is_added_from_standard_input_and_signs_in(root):
    added = kb("user", "add", "anna", "--role", "writer", "--name", "Anna Lind", "--root", str(root),
               input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "anna: skribent, ett lösenord, visas som Anna Lind (kb.toml [auth])."
    text = (root / "kb.toml").read_text(encoding="utf-8")
    assert "# the title stays" in text and "# roles given by hand stay too" in text  # nothing else lost
    assert 'erik = "facilitator"' in text and PASSWORD not in text
    config = load(root)
    stored = config.raw["auth"]["writers"]["anna"]
    assert stored.startswith("pbkdf2_sha256$") and verify_password(PASSWORD, stored)
    assert config.raw["auth"]["roles"]["anna"] == "writer" and config.raw["auth"]["names"]["anna"] == "Anna Lind"
    assert audit.read(config.state_dir)[-1]["action"] == "user.add"
    assert "pbkdf2" not in str(audit.read(config.state_dir)[-1])

    async def scenario(b):
        return await b.sign_in("anna", PASSWORD), await b.get("/-/kb/new")

    signed_in, form = run(make_datasette(root), scenario)
    assert signed_in.status_code == 302 and form.status_code == 200 and "Logga en reflektion" in form.text


def test_in_a_terminal_the_password_is_asked_twice(root, monkeypatch):
    monkeypatch.setattr("kb.cli.users.sys", types.SimpleNamespace(stdin=types.SimpleNamespace(isatty=lambda: True)))
    added = kb("user", "add", "erik", "--role", "facilitator", "--root", str(root),
               input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert added.stderr.count("Lösenord: ") == 1 and "Lösenordet en gång till: " in added.stderr
    assert verify_password(PASSWORD, load(root).raw["auth"]["writers"]["erik"])
    mismatch = kb("user", "add", "maria", "--root", str(root), input=f"{PASSWORD}\nannat lösenord\n")
    assert mismatch.exit_code != 0 and "maria" not in (root / "kb.toml").read_text("utf-8")


def test_bad_users_are_refused_and_kb_toml_stays(root):
    before = (root / "kb.toml").read_text(encoding="utf-8")
    short = kb("user", "add", "anna", "--root", str(root), input="kort\n")
    assert short.exit_code == 1 and "at least 10" in short.stderr
    bad = kb("user", "add", "anna lind", "--root", str(root), input=PASSWORD + "\n")
    assert bad.exit_code == 2 and "is not a user name" in bad.stderr
    reserved = kb("user", "add", "Root", "--root", str(root), input=PASSWORD + "\n")
    assert reserved.exit_code == 2 and "is reserved" in reserved.stderr and "ASCII" not in reserved.stderr
    empty = kb("user", "add", "anna", "--root", str(root), input="")
    assert empty.exit_code == 2 and "no password" in empty.stderr
    assert (root / "kb.toml").read_text(encoding="utf-8") == before


def test_users_are_listed_and_removed(root):
    kb("user", "add", "anna", "--root", str(root), input=PASSWORD + "\n")
    kb("user", "add", "maria@malmo.se", "--role", "admin", "--sign-on", "--root", str(root))
    listed = kb("user", "list", "--root", str(root))
    assert listed.stdout.splitlines() == ["anna            skribent       lösenord",  # the KB's language
                                          "erik            samordnare     enkel inloggning",
                                          "maria@malmo.se  administratör  enkel inloggning"]
    speak(root, "en")
    assert kb("user", "list", "--root", str(root)).stdout.splitlines() == ["anna            writer         password",
                                                                          "erik            facilitator    sign-on",
                                                                          "maria@malmo.se  administrator  sign-on"]
    removed = kb("user", "remove", "anna", "--root", str(root))
    assert removed.exit_code == 0 and "Removed anna (writer)" in removed.stdout
    text = (root / "kb.toml").read_text(encoding="utf-8")
    assert "anna" not in text and "# roles given by hand stay too" in text
    assert kb("user", "remove", "anna", "--root", str(root)).exit_code == 1


def test_demo_accounts_live_in_memory_and_only_on_loopback(root):
    with pytest.raises(ConfigError, match="only on this machine's own address"):
        demo_accounts("0.0.0.0")
    accounts = demo_accounts("127.0.0.1")
    assert [(a.name, a.role) for a in accounts] == [("lisa", "writer"), ("omar", "facilitator")]
    assert accounts[0].password != demo_accounts("127.0.0.1")[0].password  # new at every start
    live = LiveAuth(root)
    live.add_accounts({a.name: hash_password(a.password, iterations=1000) for a in accounts},
                      {a.name: a.role for a in accounts})
    settings = live.current()
    assert settings.role_of("omar") == "facilitator" and settings.role_of("erik") == "facilitator"
    assert settings.check_password("lisa", accounts[0].password)
    assert "lisa" not in (root / "kb.toml").read_text(encoding="utf-8")  # never written


@pytest.mark.slow
def test_kb_serve_prints_demo_sign_ins_that_work(indexed_kb, tmp_path):
    root = indexed_kb.config.root
    with running_server(root, tmp_path / "serve.log", args=["--demo-accounts"]) as (base, output):
        found = dict(re.findall(r"(writer|facilitator):\s+\S+ / (\S+)", output))
        assert set(found) == {"writer", "facilitator"}, output
        assert "warning: base_url is not set" in output  # said at start, with what to do
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(base + "/-/kb/login?next=/-/kb/agenda") as page:
            token = TOKEN_RE.search(page.read().decode()).group(1)
        form = urllib.parse.urlencode({"csrftoken": token, "username": "omar", "password": found["facilitator"],
                                       "next": "/-/kb/agenda"}).encode()
        with opener.open(base + "/-/kb/login", data=form) as landed:
            assert landed.url == base + "/-/kb/agenda"  # back where sign-in was asked for
            assert "Lägg till en lärfråga" in landed.read().decode()  # the facilitator's form
    assert "omar" not in (root / "kb.toml").read_text(encoding="utf-8")
