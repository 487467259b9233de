"""deploy/: the systemd units are valid for systemd and call real `kb` commands and options; the
nginx example passes the signed-in user in X-Remote-User and never the browser's own."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from kb.cli import CONTEXT_SETTINGS, cli

from .helpers import REPO

DEPLOY = REPO / "deploy"
UNITS = ("kb.service", "kb-backup.service", "kb-backup.timer", "kb-sync.service", "kb-sync.timer")
SERVICES = ("kb.service", "kb-backup.service", "kb-sync.service")


def exec_starts():
    for name in SERVICES:
        for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("ExecStart="):
                yield name, shlex.split(line.removeprefix("ExecStart="))


def test_the_units_call_real_commands_with_real_options():
    found = list(exec_starts())
    assert [name for name, _ in found] == list(SERVICES)
    for _, argv in found:
        assert argv[0].endswith("/bin/kb")
        # the root's context settings: click caches each command's help option from the first context
        with click.Context(cli, **CONTEXT_SETTINGS) as ctx:
            command = cli.get_command(ctx, argv[1])
            command.make_context(argv[1], argv[2:], parent=ctx)  # raises on an unknown option


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    kb = Path(sys.executable).with_name("kb")
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace("/opt/malmo-kb/.venv/bin/kb", str(kb))
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and "Failed to " not in line]  # no running systemd in a container
    assert done.returncode == 0 and not problems, problems


def test_the_proxy_sets_the_user_header_itself():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"^\s*proxy_set_header X-Remote-User \$kb_remote_user;", conf, re.M)
    assert "auth_request /oauth2/auth;" in conf
    assert "proxy_pass       http://127.0.0.1:8001;" in conf
    service = (DEPLOY / "kb.service").read_text(encoding="utf-8")
    assert "--host 127.0.0.1" in service  # only the proxy on this machine reaches kb serve


def test_the_sync_service_writes_only_the_followed_copies_and_the_index():
    service = (DEPLOY / "kb-sync.service").read_text(encoding="utf-8")
    paths = next(line for line in service.splitlines() if line.startswith("ReadWritePaths="))
    assert paths.split("=", 1)[1].split() == ["-/srv/kb/followed", "/srv/kb/.kb", "/var/cache/malmo-kb"]
    assert "OnCalendar=hourly" in (DEPLOY / "kb-sync.timer").read_text(encoding="utf-8")
