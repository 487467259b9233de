"""Shared fixtures: a small Swedish/English knowledge base and the fake (hash) embedder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from kb.app.knowledge_base import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent

KB_TOML = """\
title = "Test-KB"

[[areas]]
slug = "mobilitet"
name = "Mobilitet och transporter"

[[areas]]
slug = "energi"
name = "Energi"

[[areas]]
slug = "bygg"
name = "Bygg och fastigheter"
"""

ENTRIES = {
    "mobilitet/cykel-upphandling.md": """\
        ---
        id: cykel-upphandling
        title: Upphandlingen försenade cykelbanan i Hyllie
        area: mobilitet
        date: 2026-03-14
        sprint: 2026-S1
        type: obstacle
        tags: [upphandling, cykel]
        actors: [Malmö stad]
        roadmap: [MOB-2]
        policy: [national]
        related: []
        owner: gatukontoret
        ---
        ## Vad hände?
        Överprövningen av upphandlingen gjorde att cykelbanan i Hyllie blev ett år försenad.

        ## Vad lärde vi oss?
        Börja upphandlingen tidigt och för dialog med leverantörerna innan annonsen.
        """,
    "mobilitet/laddplatser.md": """\
        ---
        title: Laddplatser vid Malmö C kräver tidig kontakt med nätägaren
        area: mobilitet
        date: 2025-10-02
        sprint: 2025-S4
        type: lesson
        tags: [laddinfrastruktur, elnät]
        ---
        ## Vad hände?
        Elnätet vid Malmö C hade inte kapacitet för snabbladdare till taxibilar.

        ## Vad lärde vi oss?
        Kontakta E.ON om kapaciteten innan platsen väljs.
        """,
    "energi/solar-roofs.md": """\
        ---
        title: Solar panels on school roofs with Stadsfastigheter
        area: energi
        date: 2025-05-01
        sprint: 2025-S2
        type: enabler
        tags: [solceller]
        ---
        ## What happened?
        We installed solar panels on three school roofs in Rosengård together with Stadsfastigheter.

        ## What did we learn?
        A joint framework agreement made the procurement fast.
        """,
    "bygg/vaermepump-holma.md": """\
        ---
        title: Värmepumpar i Holma krävde kapacitetsbesked från E.ON
        area: bygg
        date: 2026-06-10
        sprint: 2026-S2
        type: obstacle
        tags: [elnät, värmepump]
        ---
        ## Vad hände?
        Renoveringen i Holma stannade när elnätet saknade kapacitet för värmepumparna.

        ## Vad lärde vi oss?
        Boka kapacitetsbesked hos nätägaren innan projekteringen.
        """,
}


def write_kb(root: Path, entries: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kb.toml").write_text(KB_TOML, encoding="utf-8")
    for rel, text in (ENTRIES if entries is None else entries).items():
        path = root / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path_factory):
    """No test touches the user's folders or inherits their settings."""
    for name in ("KB_ROOT", "KB_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KB_CACHE_DIR", str(shared_cache(tmp_path_factory)))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def shared_cache(tmp_path_factory) -> Path:
    # The converted model is shared by all tests of a run (converting takes seconds).
    explicit = os.environ.get("KB_TEST_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return tmp_path_factory.getbasetemp() / "kb-cache"


@pytest.fixture
def kb_root(tmp_path, monkeypatch) -> Path:
    """A small knowledge base using the fast, deterministic hash embedder."""
    monkeypatch.setenv("KB_MODEL", "hash")
    return write_kb(tmp_path / "kb")


@pytest.fixture
def indexed_kb(kb_root):
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    yield kb
    kb.close()


def datasette_responses(root: Path, *paths: str) -> list:
    """GET each path through ``datasette.client`` on the knowledge base's database (plugins
    installed through the package's entry points), after the startup hooks ran."""
    import asyncio

    from datasette.app import Datasette

    ds = Datasette([str(root / ".kb" / "kb.db")], settings={"num_sql_threads": 1})

    async def go():
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(go())


def datasette_get(root: Path, *paths: str):
    """One response for one path, a list for several."""
    responses = datasette_responses(root, *paths)
    return responses if len(paths) > 1 else responses[0]
