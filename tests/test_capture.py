"""Capture: the library (kb.capture) and the web form (/-/kb/new) through datasette.client."""

from __future__ import annotations

import threading

import pytest

from datasette_plugins.serve import make_datasette
from datasette_plugins.state import get_state
from indexer.discover import load_entries
from indexer.parse import parse_entry
from kb.app import auth, capture
from kb.app.knowledge_base import KnowledgeBase
from kb.app.login_throttle import LoginThrottle
from kb.cli import cli
from kb.core.config import load
from kb.core.errors import KBError
from kb.core.store import Store
from search.match import NEAREST
from search.similar import similar_to_unsaved

from .helpers import FORM, PASSWORD, draft, entry_files, run


@pytest.fixture
def writer_env(monkeypatch):
    # few iterations: the hash format is the real one, the test stays fast
    monkeypatch.setenv("KB_WRITERS", "anna:" + auth.hash_password(PASSWORD, iterations=1000))


@pytest.fixture
def web_kb(indexed_kb, writer_env):
    return indexed_kb.config.root


# --- the library --------------------------------------------------------------------------
def test_build_renders_a_valid_entry_with_author(kb_root):
    config = load(kb_root)
    text, entry = capture.build(config, draft())
    assert entry.id == "natagaren-sa-nej-till-laddplatser-pa-vastra-hamnen"
    assert entry.area == "energi" and entry.type == "obstacle" and entry.sprint == "2026-S2"
    assert entry.extra == {"author": "anna"}
    assert [s.heading for s in entry.sections] == ["Vad hände?", "Vad lärde vi oss?"]
    assert "tags: [elnät, laddning]" in text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"area": "rymden"}, "area"),
        ({"type": "klagomål"}, "type"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "14 mars"}, "date"),
        ({"sprint": "S1; rm -rf /"}, "sprint"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"sections": [("Vad hände?", "x" * 10_001)]}, "happened"),
        ({"sections": [("Vad hände?", " ")]}, "happened"),
        ({"title": "rad ett\x00"}, "title"),
    ],
)
def test_bad_fields_are_reported_per_field(kb_root, changes, field):
    with pytest.raises(capture.CaptureInvalid) as info:
        capture.build(load(kb_root), draft(**changes))
    assert field in info.value.errors


def test_headings_and_setext_lines_in_the_body_stay_text(kb_root):
    config = load(kb_root)
    body = "Första raden\n---\n## Inte en rubrik\n# Inte heller"
    text, entry = capture.build(config, draft(sections=[("Vad hände?", body)]))
    assert [s.heading for s in entry.sections] == ["Vad hände?"]
    assert "\\## Inte en rubrik" in text


def test_save_writes_one_file_indexes_it_and_never_overwrites(indexed_kb):
    config = indexed_kb.config
    before = entry_files(config.root)
    first = capture.save(config, draft(), embedder=indexed_kb.embedder)
    second = capture.save(config, draft(), embedder=indexed_kb.embedder)  # same title
    assert first.indexed and second.indexed
    assert second.id == first.id + "-2"
    assert len(entry_files(config.root)) == len(before) + 2
    parse_entry(first.path, config)  # valid by the rules of kb validate
    store = Store(config.db_path, read_only=True)
    try:
        assert {first.id, second.id} <= set(store.entry_ids())
    finally:
        store.close()
    # the incremental indexer agrees: nothing left to do
    report = KnowledgeBase.open(config.root).index()
    assert not report.changed and report.unchanged == len(before) + 2


def test_an_explicit_existing_id_is_refused(indexed_kb):
    with pytest.raises(KBError, match="already exists"):
        capture.save(indexed_kb.config, draft(id="cykel-upphandling"), embedder=indexed_kb.embedder)


def test_similar_to_draft_puts_other_areas_first(indexed_kb):
    _, entry = capture.build(indexed_kb.config, draft(area="mobilitet"), "draft--preview")
    found = similar_to_unsaved(indexed_kb, entry, limit=4)
    assert found and found[0].area != "mobilitet"
    assert len({s.id for s in found}) == len(found)
    # each marked by the search's own rule, the draft standing for the question
    assert all(s.match in ("close", "weak") and s.match_score is not None for s in found)
    assert found.any_close == any(s.match == "close" for s in found)
    if not found.any_close:
        assert len(found) <= NEAREST


def test_duplicate_warning_for_a_copy(indexed_kb):
    original = parse_entry(indexed_kb.config.entries_dir / "bygg/vaermepump-holma.md", indexed_kb.config)
    copy = capture.Draft(title=original.title, area="bygg", type="obstacle", date="2026-06-11",
                         tags=original.tags,
                         sections=[(s.heading, s.text) for s in original.sections])
    _, entry = capture.build(indexed_kb.config, copy, "draft--preview")
    warnings = capture.duplicate_warnings(indexed_kb, entry)
    assert [w["id"] for w in warnings] == ["vaermepump-holma"]


def test_passwords():
    stored = auth.hash_password("rätt", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert auth.verify_password("rätt", stored)
    assert not auth.verify_password("fel", stored)
    assert not auth.verify_password("rätt", "garbage")


def test_writers_from_kb_toml_and_environment(kb_root, monkeypatch):
    with open(kb_root / "kb.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[auth]\nwriters = { erik = "pbkdf2_sha256$1000$s$h" }\n')
    monkeypatch.setenv("KB_WRITERS", "anna:pbkdf2_sha256$1000$a$b, ../bad:x")
    assert sorted(auth.load_writers(load(kb_root))) == ["anna", "erik"]


# --- concurrency ----------------------------------------------------------------------------
def test_eight_concurrent_writers_five_entries_each(indexed_kb):
    """8 threads x 5 saves, each with its own embedder use: 40 files, 40 indexed, consistent."""
    config = indexed_kb.config
    base = len(entry_files(config.root))
    embedder = indexed_kb.embedder  # the hash embedder is thread-safe
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(w: int) -> None:
        try:
            start.wait()
            for i in range(5):
                # half the writers use the same titles: ids must still be unique
                title = f"Samtidig reflektion {i}" if w % 2 else f"Skrivare {w} lärdom {i} om värmepumpar"
                capture.save(config, draft(title=title, area=("energi", "bygg", "mobilitet")[w % 3]),
                             embedder=embedder)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    files = entry_files(config.root)
    assert len(files) == base + 40
    assert not list(config.entries_dir.rglob(".*.tmp"))  # no temp files left behind
    loaded = load_entries(config)
    assert not loaded.errors and len(loaded.entries) == base + 40
    store = Store(config.db_path, read_only=True)
    try:
        counts = store.counts()
        assert counts["entries"] == base + 40
        assert set(store.entry_ids()) == {e.id for e in loaded.entries}
        hashes = store.entry_hashes()
        assert all(hashes[e.id] == e.content_hash for e in loaded.entries)
        fts = store.db.execute("select count(*) from chunks_fts").fetchone()[0]
        assert fts == counts["chunks"]
    finally:
        store.close()
    kb = KnowledgeBase.open(config.root)
    try:
        assert kb.vectors.ntotal == counts["chunks"]  # FAISS agrees with SQLite
        assert not kb.index().changed
    finally:
        kb.close()


def _process_writer(root: str, w: int) -> list[str]:
    """One writer process: its own config, embedder and file descriptors."""
    import os

    os.environ["KB_MODEL"] = "hash"
    kb = KnowledgeBase.open(root)
    ids = []
    for i in range(5):
        saved = capture.save(kb.config, draft(title=f"Process {w} reflektion {i % 2}"), embedder=kb.embedder)
        ids.append(saved.id)
    return ids


@pytest.mark.slow
def test_eight_writer_processes_five_entries_each(indexed_kb):
    """The same through separate processes: the flock, not a Python lock, keeps them apart."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    config = indexed_kb.config
    base = len(entry_files(config.root))
    with ProcessPoolExecutor(8, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_process_writer, [str(config.root)] * 8, range(8)))
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) == 40
    assert len(entry_files(config.root)) == base + 40
    store = Store(config.db_path, read_only=True)
    try:
        assert set(ids) <= set(store.entry_ids()) and store.counts()["entries"] == base + 40
    finally:
        store.close()
    kb = KnowledgeBase.open(config.root)
    try:
        assert not kb.index().changed and kb.vectors.ntotal == kb.store.counts()["chunks"]
    finally:
        kb.close()


# --- the web form -----------------------------------------------------------------------------
def test_anonymous_get_goes_to_sign_in_and_anonymous_post_is_refused(web_kb):
    ds = make_datasette(web_kb)
    before = entry_files(web_kb)

    async def scenario(b):
        page = await b.get("/-/kb/new")
        assert page.status_code == 302 and page.headers["location"].startswith("/-/kb/login")
        token = await b.token("/-/kb/login")  # a CSRF cookie, but no sign-in
        return await b.post("/-/kb/new", {**FORM, "csrftoken": token, "action": "save"})

    assert run(ds, scenario).status_code == 403
    assert entry_files(web_kb) == before


def test_wrong_password_is_refused(web_kb):
    async def scenario(b):
        r = await b.sign_in(password="fel")
        return r, "ds_actor" in b.cookies

    r, signed_in = run(make_datasette(web_kb), scenario)
    assert r.status_code == 403 and not signed_in
    assert "Fel användarnamn eller lösenord" in r.text


def test_signed_in_post_without_csrf_token_is_refused(web_kb):
    before = entry_files(web_kb)

    async def scenario(b):
        await b.sign_in()
        await b.get("/-/kb/new")
        return await b.post("/-/kb/new", {**FORM, "action": "save"})  # no csrftoken field

    r = run(make_datasette(web_kb), scenario)
    assert r.status_code == 403 and "did not match cookie" in r.text  # asgi-csrf
    assert entry_files(web_kb) == before


def test_a_writer_removed_from_the_list_can_no_longer_write(web_kb, monkeypatch):
    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        monkeypatch.setenv("KB_WRITERS", "")
        return await b.post("/-/kb/new", {**FORM, "csrftoken": token, "action": "save"})

    assert run(make_datasette(web_kb), scenario).status_code == 403


def test_valid_post_writes_one_valid_entry_indexes_it_and_shows_it(web_kb):
    before = entry_files(web_kb)

    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        preview = await b.post("/-/kb/new", {**FORM, "csrftoken": token, "action": "preview"})
        saved = await b.post("/-/kb/new", {**FORM, "csrftoken": token, "action": "save"})
        page = await b.get(saved.headers["location"].split("#")[0])
        return preview, saved, page

    preview, saved, page = run(make_datasette(web_kb), scenario)
    assert preview.status_code == 200
    assert "Liknande lärdomar, andra områden först" in preview.text
    assert saved.status_code == 302
    assert saved.headers["location"].startswith("/-/kb/entry/laddplatser-i-hyllie-kraver-kapacitetsbesked")
    new = sorted(set(entry_files(web_kb)) - set(before))  # one file: the preview wrote nothing
    assert new == ["entries/mobilitet/laddplatser-i-hyllie-kraver-kapacitetsbesked.md"]
    config = load(web_kb)
    entry = parse_entry(web_kb / new[0], config)
    assert entry.extra["author"] == "anna" and entry.actors == ["E.ON", "Malmö stad"]
    assert entry.roadmap == ["MOB-3"] and entry.sprint == "2026-S2"
    store = Store(config.db_path, read_only=True)
    try:
        assert entry.id in store.entry_ids()
    finally:
        store.close()
    assert page.status_code == 200
    assert "Laddplatser i Hyllie kräver kapacitetsbesked" in page.text
    # staff are told what was saved, in words, not where the file lies
    assert "Sparad: ”Laddplatser i Hyllie kräver kapacitetsbesked”" in page.text
    assert "entries/mobilitet/" not in page.text
    assert page.text.count("kb-related-item") >= 1


def test_invalid_fields_give_the_form_back_with_messages_and_write_nothing(web_kb):
    before = entry_files(web_kb)

    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        bad = {**FORM, "title": "", "area": "rymden", "date": "2026-13-01", "csrftoken": token, "action": "save"}
        return await b.post("/-/kb/new", bad)

    r = run(make_datasette(web_kb), scenario)
    assert r.status_code == 400
    assert 'id="err-title"' in r.text and 'id="err-area"' in r.text and 'id="err-date"' in r.text
    assert "Begär kapacitetsbesked innan platsen väljs." in r.text  # the text is kept
    assert entry_files(web_kb) == before


def test_field_messages_are_in_the_language_of_the_form(web_kb):
    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        bad = {**FORM, "title": "", "date": "14 mars", "csrftoken": token, "action": "preview"}
        return await b.post("/-/kb/new", bad), await b.post("/-/kb/new", {**bad, "lang": "en"})

    swedish, english = run(make_datasette(web_kb), scenario)
    assert swedish.status_code == english.status_code == 400
    assert "Skriv en rubrik." in swedish.text and "Give a title." not in swedish.text
    assert "Give a title." in english.text and "Skriv en rubrik." not in english.text
    assert "Bad date &#39;14 mars&#39;: write YYYY-MM-DD." in english.text


def test_html_and_script_in_the_body_are_stored_as_text_and_rendered_inert(web_kb):
    nasty = '<script>alert("x")</script> <img src=x onerror=alert(1)> [länk](javascript:alert(1))'

    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        form = {**FORM, "title": "Farlig <b>rubrik</b>", "happened": nasty, "csrftoken": token}
        preview = await b.post("/-/kb/new", {**form, "action": "preview"})
        saved = await b.post("/-/kb/new", {**form, "action": "save"})
        return preview, await b.get(saved.headers["location"].split("#")[0])

    preview, page = run(make_datasette(web_kb), scenario)
    path = web_kb / "entries/mobilitet/farlig-b-rubrik-b.md"
    assert nasty in path.read_text(encoding="utf-8")  # stored as written
    for html in (preview.text, page.text):
        assert "<script>alert" not in html and "<img" not in html
        assert 'href="javascript' not in html and "<b>rubrik" not in html
    assert "&lt;script&gt;" in page.text


def test_oversized_form_is_refused(web_kb):
    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        return await b.post("/-/kb/new", {**FORM, "csrftoken": token, "happened": "å" * 200_000})

    assert run(make_datasette(web_kb), scenario).status_code == 413


def test_english_form_and_login_page(web_kb):
    async def scenario(b):
        await b.sign_in()
        return await b.get("/-/kb/new?lang=en"), await b.get("/-/kb/login?lang=en")

    form, login = run(make_datasette(web_kb), scenario)
    assert "What happened?" in form.text and "Log a reflection" in form.text
    assert "<h1>Sign in</h1>" in login.text
    assert "unsafe-inline" not in form.headers["content-security-policy"]


# --- kb new --from-stdin --------------------------------------------------------------------
def test_kb_new_from_stdin_writes_a_valid_entry(kb_root):
    import json

    from click.testing import CliRunner

    payload = {"title": "Medborgardialog i Rosengård gav nya cykelstråk", "area": "mobilitet",
               "tags": ["dialog", "cykel"], "author": "erik", "date": "2026-04-20",
               "sections": {"Vad hände?": "Vi höll dialogen på biblioteket.", "Vad lärde vi oss?": "Gå dit folk är."}}
    result = CliRunner().invoke(cli, ["new", "--from-stdin", "--root", str(kb_root)],
                                input=json.dumps(payload, ensure_ascii=False))
    assert result.exit_code == 0, result.output
    path = kb_root / "entries/mobilitet/medborgardialog-i-rosengard-gav-nya-cykelstrak.md"
    entry = parse_entry(path, load(kb_root))
    assert entry.extra == {"author": "erik"} and entry.tags == ["dialog", "cykel"]
    bad = CliRunner().invoke(cli, ["new", "--from-stdin", "--root", str(kb_root)], input='{"title": ""}')
    assert bad.exit_code == 1 and "title: Skriv en rubrik" in bad.output and "Traceback" not in bad.output
    broken = CliRunner().invoke(cli, ["new", "--from-stdin", "--root", str(kb_root)], input="{nope")
    assert broken.exit_code == 1 and "not JSON" in broken.output


def test_kb_new_shows_the_similar_lessons_marked_close_or_weak(indexed_kb):
    import json
    import re

    from click.testing import CliRunner

    payload = {"title": "Upphandlingen av cykelbanan i Hyllie överprövades", "area": "energi",
               "sections": {"Vad hände?": "Upphandlingen av cykelbana överprövades.", "Vad lärde vi oss?": "Räkna med tid."}}
    result = CliRunner().invoke(cli, ["new", "--from-stdin", "--root", str(indexed_kb.config.root)],
                                input=json.dumps(payload, ensure_ascii=False))
    assert result.exit_code == 0, result.output
    assert "Liknande lärdomar, andra områden först:" in result.output  # the knowledge base's language
    listed = re.findall(r"^  .*, (\S+)\) · (Nära frågan|Svag träff)$", result.output, re.M)
    assert listed and listed[0][0] == "cykel-upphandling"  # the one in another area with the same words
    assert ("cykel-upphandling", "Nära frågan") in listed


def test_kb_hash_password_prints_a_usable_hash():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["hash-password"], input="hemligt\nhemligt\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert stored.startswith("pbkdf2_sha256$") and auth.verify_password("hemligt", stored)


def test_a_failing_embedder_keeps_the_saved_file_and_says_not_indexed(indexed_kb):
    class Broken:
        model_id = indexed_kb.embedder.model_id
        max_tokens = indexed_kb.embedder.max_tokens
        dim = indexed_kb.embedder.dim

        def count_tokens(self, text, kind="passage"):
            return 10

        def embed(self, *args, **kwargs):
            raise RuntimeError("model crashed")

    saved = capture.save(indexed_kb.config, draft(), embedder=Broken())
    assert saved.path.exists() and not saved.indexed
    report = KnowledgeBase.open(indexed_kb.config.root).index()  # the next `kb index` catches up
    assert saved.id in report.added


def test_repeated_wrong_passwords_are_slowed_down(web_kb):
    async def scenario(b):
        codes = [(await b.sign_in(password=f"fel{i}")).status_code for i in range(3)]
        blocked = await b.sign_in()  # even the right password waits now, from this address
        other = await b.sign_in(name="erik", password="fel")  # another name, same address: tried
        return codes, blocked, other, "ds_actor" in b.cookies

    ds = make_datasette(web_kb)
    get_state(ds).login_throttle = LoginThrottle(clock=lambda: 0.0)  # the clock stands still
    codes, blocked, other, signed_in = run(ds, scenario)
    assert codes == [403] * 3 and other.status_code == 403
    assert blocked.status_code == 429 and not signed_in
    assert int(blocked.headers["retry-after"]) > 0
    assert "För många misslyckade inloggningar" in blocked.text


def test_live_preview_renders_markdown_as_the_saved_page_will(web_kb):
    text = "E.ON hade **ingen** kapacitet\nkvar.\n\n- snabbladdare\n- taxi\n\n<script>alert(1)</script>"

    async def scenario(b):
        anonymous_token = await b.token("/-/kb/login")
        anonymous = await b.post("/-/kb/new/preview", {**FORM, "happened": text, "csrftoken": anonymous_token})
        await b.sign_in()
        token = await b.token("/-/kb/new")
        no_token = await b.post("/-/kb/new/preview", {**FORM, "happened": text})
        shown = await b.post("/-/kb/new/preview", {**FORM, "happened": text, "csrftoken": token})
        return anonymous, no_token, shown

    anonymous, no_token, shown = run(make_datasette(web_kb), scenario)
    assert anonymous.status_code == 403 and no_token.status_code == 403  # writers only, CSRF checked
    data = shown.json()
    html = data["html"]
    assert data["ok"] and html.startswith('<h2 class="capture-live-title">Laddplatser i Hyllie')
    # the entry page's renderer, one heading level down: sections as <h3>, bold, a list
    assert "<h3>Vad hände?</h3>" in html and "<h3>Vad lärde vi oss?</h3>" in html
    assert "<strong>ingen</strong>" in html and "<li>snabbladdare</li>" in html and "<li>taxi</li>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Nästa steg" not in html  # an empty section is left out, as in the saved file


def test_form_errors_name_the_areas_as_the_form_shows_them(web_kb):
    async def scenario(b):
        await b.sign_in()
        token = await b.token("/-/kb/new")
        return await b.post("/-/kb/new", {**FORM, "area": "", "csrftoken": token, "action": "preview"})

    page = run(make_datasette(web_kb), scenario)
    assert page.status_code == 400
    assert "Välj ett område: Bygg och fastigheter, Energi, Mobilitet och transporter." in page.text
    assert 'aria-invalid="true" aria-describedby="err-area"' in page.text and '<a href="#f-area">' in page.text
