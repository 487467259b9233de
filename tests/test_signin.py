"""Sign-in: roles and the sign-on proxy from kb.toml (read again when it changes), the
throttle, the session secret and sign-out, and the form checks (login CSRF, a token bound to
the user, no Bearer bypass). The pages through datasette.client; the peer address and
X-Forwarded-For against a real server in test_signin_server.py."""

from __future__ import annotations

import asyncio
import os
import stat
import statistics
import threading
import time

import httpx
import pytest

from datasette_plugins.serve import make_datasette
from datasette_plugins.state import get_state
from kb.app import auth
from kb.app.auth import AuthSettings, LiveAuth
from kb.app.login_throttle import LoginThrottle
from kb.app.web_sessions import SignedOut, session_secret
from kb.core import audit
from kb.core.config import load
from kb.core.errors import ConfigError

from .helpers import FORM, PASSWORD, TOKEN_RE, Browser, entry_files, set_auth

FAST = 1000  # iterations: the real hash format, fast tests


@pytest.fixture
def web_kb(indexed_kb, monkeypatch):
    monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password(PASSWORD, iterations=FAST)
                       + ",erik:" + auth.hash_password("eriks lösen", iterations=FAST))
    monkeypatch.delenv("DATASETTE_SECRET", raising=False)
    return indexed_kb.config.root


def run(ds, scenario, *browsers):
    async def go():
        await ds.invoke_startup()
        return await scenario(*[Browser(ds) for _ in range(browsers[0] if browsers else 1)])

    return asyncio.run(go())


# --- settings from kb.toml ---------------------------------------------------------------------
def test_roles_proxy_and_trusted_networks_from_kb_toml(kb_root):
    set_auth(kb_root, 'roles = { Anna = "writer", erik = "facilitator", lena = "admin" }\n'
             'proxy_header = "X-Remote-User"\ntrusted_proxies = ["10.20.0.0/16", "192.0.2.7"]')
    settings = AuthSettings.from_config(load(kb_root))
    assert settings.proxy_header == "x-remote-user"
    assert [settings.role_of(n) for n in ("anna", "erik", "lena", "okänd", None)] == \
        ["writer", "facilitator", "admin", "reader", "reader"]
    assert settings.has_role("lena", "facilitator") and not settings.has_role("anna", "facilitator")
    assert settings.is_trusted_proxy("10.20.3.4") and settings.is_trusted_proxy("::ffff:192.0.2.7")
    assert not settings.is_trusted_proxy("127.0.0.1") and not settings.is_trusted_proxy("nonsense")


def test_trusted_proxies_default_to_loopback_only_with_a_proxy_header(kb_root):
    set_auth(kb_root, 'proxy_header = "X-Remote-User"')
    with_header = AuthSettings.from_config(load(kb_root))
    assert with_header.is_trusted_proxy("127.0.0.1") and with_header.is_trusted_proxy("::1")
    set_auth(kb_root, 'roles = { anna = "writer" }')
    assert not AuthSettings.from_config(load(kb_root)).is_trusted_proxy("127.0.0.1")


def test_client_address_believes_x_forwarded_for_only_from_a_trusted_proxy(kb_root):
    set_auth(kb_root, 'trusted_proxies = ["10.0.0.1", "10.0.0.2"]')
    settings = AuthSettings.from_config(load(kb_root))
    assert settings.client_address("198.51.100.9", "1.2.3.4") == "198.51.100.9"
    assert settings.client_address("10.0.0.1", "1.2.3.4") == "1.2.3.4"
    # a client writes anything at the start; the proxies append at the end
    assert settings.client_address("10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2") == "203.0.113.5"
    assert settings.client_address("10.0.0.1", None) == "10.0.0.1"


@pytest.mark.parametrize("body", ['roles = { anna = "editor" }', 'trusted_proxies = ["10.0.0.0/33"]',
                                  'proxy_header = "X Remote"', 'roles = "anna"'])
def test_a_bad_auth_table_is_an_error_naming_kb_toml(kb_root, body):
    set_auth(kb_root, body)
    with pytest.raises(ConfigError, match="kb.toml"):
        AuthSettings.from_config(load(kb_root))


def test_live_auth_reads_kb_toml_again_when_it_changes_and_closes_when_it_breaks(kb_root):
    live = LiveAuth(kb_root)
    set_auth(kb_root, 'roles = { erik = "facilitator" }')
    assert live.current().role_of("erik") == "facilitator"
    set_auth(kb_root, 'roles = { }')
    assert live.current().role_of("erik") == "reader"
    set_auth(kb_root, 'roles = { erik = "admin" }')
    assert live.current().role_of("erik") == "admin"
    (kb_root / "kb.toml").write_text((kb_root / "kb.toml").read_text() + "\n[[broken", encoding="utf-8")
    assert live.current().role_of("erik") == "reader"  # closed until fixed, not the last good one


# --- passwords and the throttle ----------------------------------------------------------------
def test_an_unknown_name_costs_as_much_as_a_known_one():
    # the dummy hash takes the configured iteration count (the default 480,000 in bench/signin.py)
    settings = AuthSettings(writers={"anna": auth.hash_password("rätt", iterations=100_000)})

    def timed(name):
        start = time.perf_counter()
        assert not settings.check_password(name, "fel")
        return time.perf_counter() - start

    timed("okänd")  # the dummy hash is made once
    known, unknown = [], []
    for _ in range(5):
        known.append(timed("anna"))
        unknown.append(timed("okänd"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (known, unknown)  # was 2 ms against 90 ms


def test_each_attempt_is_counted_before_its_password_is_checked():
    """12 concurrent wrong passwords for one name from one client: 3 are checked."""
    throttle = LoginThrottle(free=3)
    checked, refused = [], []
    start = threading.Barrier(12)

    def attempt():
        start.wait()
        if throttle.begin("anna", "192.0.2.1") > 0:
            refused.append(1)
            return
        time.sleep(0.05)  # the hash
        checked.append(1)
        throttle.failed("anna", "192.0.2.1")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 3 and len(refused) == 9


def test_throttle_is_per_name_and_client_with_growing_delays():
    now = [1000.0]
    throttle = LoginThrottle(free=3, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.begin("anna", "203.0.113.66") == 0  # a stranger guesses
        throttle.failed("anna", "203.0.113.66")
    waits = []
    for _ in range(4):
        wait = throttle.begin("anna", "203.0.113.66")
        waits.append(wait)
        now[0] += wait
        assert throttle.begin("anna", "203.0.113.66") == 0
        throttle.failed("anna", "203.0.113.66")
    assert waits == [1, 2, 4, 8]  # growing, not a lock
    assert throttle.begin("anna", "198.51.100.20") == 0  # anna at her own desk: not slowed
    throttle.succeeded("anna", "198.51.100.20")
    assert throttle.begin("Anna ", "203.0.113.66") > 0  # the same name, however written


def test_a_guessing_network_does_not_keep_a_writer_out_of_her_usual_place():
    throttle = LoginThrottle(free=3, name_free=10)
    assert throttle.begin("anna", "198.51.100.20") == 0
    throttle.succeeded("anna", "198.51.100.20")  # anna's usual address
    for i in range(10):
        assert throttle.begin("anna", f"203.0.113.{i}") == 0
        throttle.failed("anna", f"203.0.113.{i}")
    assert throttle.begin("anna", "203.0.113.200") > 0  # a new address waits now
    assert throttle.begin("anna", "198.51.100.20") == 0


def test_bursts_not_single_failures_are_reported():
    now = [0.0]
    throttle = LoginThrottle(free=3, clock=lambda: now[0])
    reported = []
    for _ in range(10):
        wait = throttle.begin("anna", "192.0.2.1")
        if wait:
            now[0] += wait
            assert throttle.begin("anna", "192.0.2.1") == 0
        reported += [(b.scope, b.failures) for b in throttle.failed("anna", "192.0.2.1")]
    assert reported == [("name+address", 5), ("name+address", 10)]


# --- the secret and the sign-out list -----------------------------------------------------------
def test_session_secret_file_is_made_once_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("DATASETTE_SECRET", raising=False)
    first = session_secret(tmp_path / ".kb")
    path = tmp_path / ".kb" / "secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(first) == 64
    assert session_secret(tmp_path / ".kb") == first
    os.chmod(path, 0o644)
    assert session_secret(tmp_path / ".kb") == first and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    monkeypatch.setenv("DATASETTE_SECRET", "från miljön")
    assert session_secret(tmp_path / ".kb") == "från miljön"


def test_signed_out_sessions_are_kept_until_they_expire(tmp_path):
    store = SignedOut(tmp_path)
    store.revoke("gammal", time.time() - 1)
    store.revoke("ny", time.time() + 3600)
    assert SignedOut(tmp_path).is_revoked("ny") and not store.is_revoked("annan")
    assert "gammal" not in (tmp_path / "signed-out.json").read_text()


# --- the pages ------------------------------------------------------------------------------------
def test_login_refuses_a_cross_site_post_without_cookies(web_kb):
    async def scenario(b):
        r = await b.ds.client.post("/-/kb/login", data={"username": "anna", "password": PASSWORD})
        return r

    r = run(make_datasette(web_kb), scenario)
    assert r.status_code == 403 and "ds_actor" not in r.cookies
    assert "Formuläret har gått ut" in r.text


def test_bearer_does_not_skip_the_form_check(web_kb):
    before = entry_files(web_kb)

    async def scenario(b):
        await b.sign_in()
        await b.get("/-/kb/new")
        return await b.ds.client.post("/-/kb/new", data={**FORM, "action": "save"}, cookies=b.cookies,
                                      headers={"Authorization": "Bearer anything"})

    r = run(make_datasette(web_kb), scenario)
    assert r.status_code == 403 and entry_files(web_kb) == before


def test_the_form_token_is_bound_to_the_signed_in_user(web_kb):
    before = entry_files(web_kb)

    async def scenario(anna, erik):
        await anna.sign_in()
        annas_token = await anna.token("/-/kb/new")
        await erik.sign_in(name="erik", password="eriks lösen")
        await erik.get("/-/kb/new")
        # erik's session with anna's token and token cookie (e.g. planted from a sibling site)
        cookies = {**erik.cookies, "ds_csrftoken": anna.cookies["ds_csrftoken"]}
        r = await erik.ds.client.post("/-/kb/new", cookies=cookies,
                                      data={**FORM, "csrftoken": annas_token, "action": "save"})
        own = await erik.post("/-/kb/new", {**FORM, "csrftoken": await erik.token("/-/kb/new"),
                                            "action": "preview"})
        return r, own

    r, own = run(make_datasette(web_kb), scenario, 2)
    assert r.status_code == 403 and entry_files(web_kb) == before
    assert own.status_code == 200  # his own token works


def test_a_token_from_before_sign_in_is_replaced(web_kb):
    async def scenario(b):
        before = await b.token("/-/kb/login")
        await b.post("/-/kb/login", {"csrftoken": before, "username": "anna", "password": PASSWORD})
        stale = await b.ds.client.post("/-/kb/new", cookies={**b.cookies, "ds_csrftoken": before},
                                       data={**FORM, "csrftoken": before, "action": "preview"})
        return before, stale, await b.token("/-/kb/new")

    before, stale, after = run(make_datasette(web_kb), scenario)
    assert stale.status_code == 403 and after != before


@pytest.mark.parametrize("logout_path", ["/-/kb/logout", "/-/logout"])
def test_logout_revokes_a_copied_cookie(web_kb, logout_path):
    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        copied = dict(b.cookies)
        out = await b.post(logout_path, {"csrftoken": token})
        page = await b.ds.client.get("/-/kb/new", cookies=copied)
        post = await b.ds.client.post("/-/kb/new", cookies=copied, data={**FORM, "csrftoken": token,
                                                                          "action": "save"})
        return out, page, post

    out, page, post = run(make_datasette(web_kb), scenario)
    assert out.status_code == 302
    assert page.status_code == 302 and "/-/kb/login" in page.headers["location"]
    assert post.status_code == 403
    assert "ds_actor=;" in page.headers.get("set-cookie", "")  # the browser is told to forget it


def test_sessions_survive_a_restart(web_kb):
    async def sign_in(b):
        await b.sign_in()
        return dict(b.cookies)

    cookies = run(make_datasette(web_kb), sign_in)
    assert (web_kb / ".kb" / "secret").is_file()

    async def later(b):
        return await b.ds.client.get("/-/kb/new", cookies=cookies)

    assert run(make_datasette(web_kb), later).status_code == 200


def test_a_changed_password_ends_the_session(web_kb, monkeypatch):
    async def scenario(b):
        await b.sign_in()
        monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password("nytt", iterations=FAST))
        return await b.get("/-/kb/new")

    assert run(make_datasette(web_kb), scenario).status_code == 302


def test_a_removed_role_takes_effect_without_a_restart(web_kb):
    set_auth(web_kb, 'roles = { anna = "facilitator" }')

    async def scenario(b):
        await b.sign_in()
        actor = {"id": "anna", "kb_auth": "password"}
        allowed = [await b.ds.permission_allowed(actor, "kb-facilitate"), (await b.get("/-/kb/new")).status_code]
        set_auth(web_kb, 'roles = { anna = "reader" }')
        allowed += [await b.ds.permission_allowed(actor, "kb-facilitate"), (await b.get("/-/kb/new")).status_code]
        return allowed

    assert run(make_datasette(web_kb), scenario) == [True, 200, False, 403]


def test_sign_on_header_from_a_trusted_proxy_signs_in_with_the_role_from_kb_toml(web_kb):
    set_auth(web_kb, 'proxy_header = "X-Remote-User"\nroles = { "maria@malmo.se" = "facilitator" }')
    header = {"X-Remote-User": "maria@malmo.se"}

    async def scenario(b):
        page = await b.ds.client.get("/-/kb/new", headers=header)  # datasette.client: from 127.0.0.1
        actor = await b.ds.client.get("/-/actor.json", headers=header)
        allowed = await b.ds.permission_allowed(actor.json()["actor"], "kb-facilitate")
        set_auth(web_kb, 'proxy_header = "X-Remote-User"')  # her role is removed
        after = await b.ds.client.get("/-/kb/new", headers=header)
        return page, actor.json(), allowed, after

    page, actor, allowed, after = run(make_datasette(web_kb), scenario)
    assert page.status_code == 200 and "maria@malmo.se" in page.text
    assert 'action="/-/kb/logout"' not in page.text  # signing out is the proxy's
    assert actor == {"actor": {"id": "maria@malmo.se", "kb_auth": "proxy"}} and allowed
    assert after.status_code == 403 and "Att logga en reflektion kräver rollen skribent" in after.text


def test_sign_on_header_from_anywhere_else_is_ignored(web_kb):
    set_auth(web_kb, 'proxy_header = "X-Remote-User"\ntrusted_proxies = ["10.9.9.9"]\n'
             'roles = { anna = "admin" }')
    ds = make_datasette(web_kb)

    async def scenario():
        await ds.invoke_startup()
        transport = httpx.ASGITransport(app=ds.app(), client=("10.9.9.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as proxy:
            trusted = await proxy.get("/-/actor.json", headers={"X-Remote-User": "anna"})
        direct = await ds.client.get("/-/actor.json", headers={"X-Remote-User": "anna"})  # 127.0.0.1
        form = await ds.client.get("/-/kb/new", headers={"X-Remote-User": "anna"})
        return trusted.json(), direct.json(), form

    trusted, direct, form = asyncio.run(scenario())
    assert trusted["actor"]["id"] == "anna"
    assert direct == {"actor": None}
    assert form.status_code == 302 and "/-/kb/login" in form.headers["location"]


def test_a_burst_of_failed_sign_ins_is_one_line_in_the_audit_log(web_kb):
    ds = make_datasette(web_kb)
    now = [0.0]

    async def scenario(b):
        get_state(ds).login_throttle = LoginThrottle(clock=lambda: now[0])
        for i in range(6):
            token = TOKEN_RE.search((await b.get("/-/kb/login")).text).group(1)
            await b.post("/-/kb/login", {"csrftoken": token, "username": "anna", "password": f"fel{i}"})
            now[0] += 60  # past the growing delay

    run(ds, scenario)
    events = [e for e in audit.read(web_kb / ".kb") if e["action"] == "signin.failures"]
    assert len(events) == 1
    assert events[0]["target"] == "anna" and events[0]["failures"] == 5 and events[0]["who"] == "anonymous"
    assert "fel" not in (web_kb / ".kb" / "audit.jsonl").read_text()  # no password in the log


def test_kb_serve_refuses_to_start_with_a_bad_auth_table(indexed_kb):
    from click.testing import CliRunner

    from kb.cli import cli

    set_auth(indexed_kb.config.root, 'roles = { anna = "redaktör" }')
    result = CliRunner().invoke(cli, ["serve", "--root", str(indexed_kb.config.root), "--port", "1"])
    assert result.exit_code == 1 and "kb.toml" in result.output and "redaktör" in result.output
    assert "Traceback" not in result.output


def test_one_guesser_behind_a_shared_address_does_not_slow_the_others_down():
    throttle = LoginThrottle(free=3, address_free=5)
    assert throttle.begin("anna", "10.0.0.1") == 0
    throttle.succeeded("anna", "10.0.0.1")  # anna signs in through the proxy
    for i in range(5):  # someone sprays names from the same address
        assert throttle.begin(f"namn{i}", "10.0.0.1") == 0
        throttle.failed(f"namn{i}", "10.0.0.1")
    assert throttle.begin("erik", "10.0.0.1") > 0  # a name never seen here waits
    assert throttle.begin("anna", "10.0.0.1") == 0  # anna does not


def test_https_at_a_trusted_proxy_gives_a_secure_session_cookie(web_kb):
    set_auth(web_kb, 'trusted_proxies = ["10.9.9.9"]')
    ds = make_datasette(web_kb)

    async def sign_in(source):
        transport = httpx.ASGITransport(app=ds.app(), client=(source, 40000))
        headers = {"X-Forwarded-Proto": "https"}
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=headers) as http:
            token = TOKEN_RE.search((await http.get("/-/kb/login")).text).group(1)
            r = await http.post("/-/kb/login", data={"csrftoken": token, "username": "anna", "password": PASSWORD})
            return [c for c in r.headers.get_list("set-cookie") if c.startswith("ds_actor=")][0]

    async def scenario():
        await ds.invoke_startup()
        return await sign_in("10.9.9.9"), await sign_in("192.0.2.50")

    via_proxy, direct = asyncio.run(scenario())
    assert "Secure" in via_proxy and "Secure" not in direct
