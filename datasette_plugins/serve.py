"""``kb serve``: publish an indexed knowledge base with Datasette and our plugin."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import sqlite3
from collections.abc import Callable

from datasette_plugins.metadata import build_metadata
from datasette_plugins.state import get_state
from kb.app.auth import AuthSettings, demo_accounts, hash_password
from kb.app.checks import config_warnings
from kb.app.knowledge_base import KnowledgeBase
from kb.app.web_sessions import session_secret
from kb.core import config as config_module
from kb.core.errors import KBError

DATABASE_NAME = "kb"  # Datasette names a database after its file: .kb/kb.db


def make_datasette(root=None, model: str | None = None):
    """A Datasette instance on ``<root>/.kb/kb.db`` (read-only) with the KB metadata, signing
    cookies with the KB's session secret (sessions outlive a restart)."""
    from datasette.app import Datasette

    config = config_module.load(root)
    plugin = {"root": str(config.root)}
    if model:
        plugin["model"] = model
    metadata = build_metadata(config, DATABASE_NAME, plugin=plugin)
    # a mutable (not immutable) database: Datasette opens it with mode=ro, and still sees
    # a later `kb index` (an immutable open would ignore the WAL file)
    return Datasette([str(config.db_path)], metadata=metadata, settings={"sql_time_limit_ms": 3000},
                     secret=session_secret(config.state_dir))


def serve(root=None, model: str | None = None, host: str = "127.0.0.1", port: int = 8001,
          echo: Callable[[str], None] = print, demo: bool = False,
          warn: Callable[[str], None] | None = None) -> None:
    """Serve until stopped (the caller indexes first: ``kb serve`` does). ``demo``: a writer
    and a facilitator with passwords made for this run only (loopback addresses only).
    ``warn``: where warnings about the settings go (``echo`` when not given)."""
    import uvicorn

    kb = KnowledgeBase.open(root, model=model)
    kb.require_index()
    kb.close()
    settings = AuthSettings.from_config(kb.config)  # a broken [auth] table stops the start (ConfigError)
    for warning in settings.warnings():
        (warn or echo)(f"{kb.config.root / config_module.CONFIG_NAME}: warning: {warning}")
    accounts = demo_accounts(host) if demo else []
    _check_port(host, port)
    ds = make_datasette(kb.config.root, model)
    asyncio.run(ds.invoke_startup())
    state = get_state(ds)
    assert state is not None
    state.auth.add_accounts({a.name: hash_password(a.password) for a in accounts},
                            {a.name: a.role for a in accounts})
    state.warm()
    shown = f"[{host}]" if ":" in host else host
    for warning in config_warnings(kb.config):
        echo(warning.format(kb.config.root))
    echo(f"Serving {kb.config.title} at http://{shown}:{port}/")
    echo(f"Search: http://{shown}:{port}/-/kb/search   (Ctrl+C to stop)")
    echo(visitors_line(kb.config))
    if accounts:
        echo(f"Demo sign-in at http://{shown}:{port}/-/kb/login (this run only; new passwords at each start):")
        for a in accounts:
            echo(f"  {a.role + ':':<13} {a.name} / {a.password}")
    # proxy_headers off: uvicorn would believe X-Forwarded-For from any loopback client; the
    # plugin reads it itself, from kb.toml's trusted_proxies only (datasette_plugins.signin)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", proxy_headers=False)


def visitors_line(config) -> str:
    """What a visitor who has not signed in reads (kb.toml [web] visitors), in a line."""
    visitors = config.web.visitors
    if visitors == "staff":
        return 'Visitors who have not signed in read everything (kb.toml [web] visitors = "staff").'
    counts = []
    for audience in (visitors, "staff"):
        with contextlib.closing(sqlite3.connect(f"file:{config.audience_db_path(audience)}?mode=ro", uri=True)) as conn:
            counts.append(conn.execute("select count(*) from entries").fetchone()[0])
    return (f"Visitors who have not signed in read {counts[0]} of {counts[1]} lessons, those shared with "
            f'{"the public" if visitors == "public" else "partners"} (kb.toml [web] visitors = "{visitors}").')


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KBError(f"port {port} on {host} is already in use",
                              hint="Pick another with --port, or stop the other server.") from None
            raise KBError(f"cannot listen on {host}:{port}: {exc.strerror}",
                          hint="Check --host and --port.") from None
