"""The open publication (kb publish, /-/kb/open/): the schema it follows and ships, what it
holds and what never leaves the knowledge base, tombstones for withdrawn lessons, the
DCAT-AP-SE description, and the same files served with conditional requests."""

from __future__ import annotations

import asyncio
import importlib.resources
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import feedparser
import jsonschema
import pytest
import rdflib
from click.testing import CliRunner

from datasette_plugins.serve import make_datasette
from kb.app.forget import forget
from kb.app.knowledge_base import KnowledgeBase
from kb.app.publish import build_publication, write_publication
from kb.app.published_state import STATE_FILE, load_state
from kb.cli import cli
from kb.core.config import load
from kb.core.errors import ConfigError, KBError
from kb.core.publication import (
    FILES,
    LESSON_SCHEMA_FILE,
    MANIFEST_SCHEMA_FILE,
    PublicationProblem,
    check_lesson,
    check_manifest,
    schema,
)

from .helpers import REPO
from .sharing_samples import (
    AUTHOR,
    INTERNAL_TEXT,
    INTERNAL_TITLE,
    PARTNER_TEXT,
    PARTNER_TITLE,
    PUBLIC_TITLE,
    validated_action,
    write_city,
)

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
RDF = rdflib.Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")


@pytest.fixture
def city(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_city(tmp_path / "malmo", base_url="https://larande.example.se")
    validated_action(root, "kapacitet-forst", "oppen", visibility="public", title="Kapacitetsbesked före projektering")
    validated_action(root, "intern-rutin", "oppen", visibility="internal", title="Hemlig rutin för Kvarnbyhallen")
    _index(root)
    return root


def _index(root: Path):
    kb = KnowledgeBase.open(root)
    report = kb.index()
    kb.close()
    return report


def publish(root: Path, out: Path, **options):
    kb = KnowledgeBase.open(root)
    try:
        publication = build_publication(kb.config, kb.store, **options)
        write_publication(publication, out, kb.config)
    finally:
        kb.close()
    return publication


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()))


# --- the schema ---------------------------------------------------------------------------------
def test_the_schemas_are_shipped_in_the_package_and_describe_every_field_in_swedish_and_english():
    for name in (LESSON_SCHEMA_FILE, MANIFEST_SCHEMA_FILE):
        shipped = (importlib.resources.files("kb") / "schema" / name).read_bytes()
        assert shipped == (REPO / "schema" / name).read_bytes()
        jsonschema.Draft202012Validator.check_schema(schema(name))

        def walk(node, path):
            if isinstance(node, dict):
                if "properties" in node:
                    for key, prop in node["properties"].items():
                        assert prop.get("description") and prop.get("x-description-sv"), f"{name}: {path}/{key}"
                for key, value in node.items():
                    walk(value, f"{path}/{key}")
            elif isinstance(node, list):
                for item in node:
                    walk(item, path)

        walk(schema(name), "")


@pytest.mark.slow
def test_an_installed_copy_has_the_schemas(tmp_path):
    source = tmp_path / "source"  # a copy: building leaves build/ behind in the tree it builds
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in ("kb", "indexer", "search", "analysis", "reports", "datasette_plugins", "schema"):
        shutil.copytree(REPO / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"kb/schema/{LESSON_SCHEMA_FILE}", f"kb/schema/{MANIFEST_SCHEMA_FILE}"} <= set(names)


# --- what is published ------------------------------------------------------------------------------
def test_the_publication_follows_the_schema_and_holds_the_public_lesson_with_its_public_action(city, tmp_path):
    out = tmp_path / "open"
    publication = publish(city, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    manifest = json.loads((out / "index.json").read_text(encoding="utf-8"))
    check_manifest(manifest)
    jsonschema.validate(manifest, schema(MANIFEST_SCHEMA_FILE))
    lines = (out / "lessons.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        record = json.loads(line)
        jsonschema.validate(record, schema(LESSON_SCHEMA_FILE))
        check_lesson(record, f"line {number}")
    assert manifest["lessons"]["count"] == len(lines) == publication.count == 1
    record = json.loads(lines[0])
    assert record["title"] == PUBLIC_TITLE and record["source"]["organisation"] == "Malmö stad"
    assert record["area"] == {"id": "bygg", "name": "Bygg och fastigheter"}
    assert [s["heading"] for s in record["sections"]] == ["Vad hände?", "Vad lärde vi oss?"]
    assert record["url"] == "https://larande.example.se/-/kb/entry/oppen"
    assert [a["title"] for a in record["actions"]] == ["Kapacitetsbesked före projektering"]
    assert record["actions"][0]["validated"] == "2026-05-20"
    # a person is never named: the actor that reads as a name is left out, with a warning
    assert record["actors"] == ["E.ON"]
    assert any("Karin Lindqvist" in w for w in publication.warnings)
    assert record["related"] == []  # its link goes to an internal lesson
    assert publication.kept_home == 2


def test_an_internal_or_partner_lesson_and_a_user_name_are_in_no_byte_of_the_publication(city, tmp_path):
    out = tmp_path / "open"
    publish(city, out)
    everything = all_bytes(out)
    for secret in (INTERNAL_TITLE, INTERNAL_TEXT, PARTNER_TITLE, PARTNER_TEXT, "Kvarnby", "Vattenverksgatan",
                   "Hemlig rutin", AUTHOR, "Karin Lindqvist", "BYG-9", "entries/"):
        assert secret.encode("utf-8") not in everything, secret
    assert PUBLIC_TITLE.encode("utf-8") in everything


def test_a_withdrawn_lesson_becomes_a_tombstone_remembered_through_a_rebuild(city, tmp_path):
    out = tmp_path / "open"
    first = publish(city, out)
    ref = first.records[0]["ref"]
    path = city / "entries" / "bygg" / "oppen.md"
    path.write_text(path.read_text(encoding="utf-8").replace("visibility: public", "visibility: partner"),
                    encoding="utf-8")
    kb = KnowledgeBase.open(city)
    kb.index(rebuild=True)  # a new index file: what was published is remembered beside it
    kb.close()
    second = publish(city, out)
    assert second.count == 0 and [w["ref"] for w in second.withdrawn] == [ref]
    manifest = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert manifest["withdrawn"][0]["ref"] == ref
    feed = (out / "feed.atom").read_text(encoding="utf-8")
    assert f'<at:deleted-entry ref="{ref}"' in feed
    assert not feedparser.parse(feed.encode()).bozo
    assert PUBLIC_TITLE not in (out / "lessons.jsonl").read_text(encoding="utf-8")
    # public again: published anew, the tombstone gone
    path.write_text(path.read_text(encoding="utf-8").replace("visibility: partner", "visibility: public"),
                    encoding="utf-8")
    _index(city)
    third = publish(city, out)
    assert [r["ref"] for r in third.records] == [ref] and third.withdrawn == []


def test_an_erased_lesson_is_withdrawn_and_leaves_only_its_ref_behind(city, tmp_path):
    out = tmp_path / "open"
    ref = publish(city, out).records[0]["ref"]
    forget(load(city), "oppen", yes=True)
    _index(city)
    again = publish(city, out)
    assert [w["ref"] for w in again.withdrawn] == [ref]
    memory = (city / STATE_FILE).read_text(encoding="utf-8")
    assert ref in memory and "oppen" not in memory and PUBLIC_TITLE not in memory


def test_updated_follows_what_is_published_not_when_it_is_asked(city, tmp_path):
    first = publish(city, tmp_path / "a")
    again = publish(city, tmp_path / "b")
    assert (tmp_path / "a" / "lessons.jsonl").read_bytes() == (tmp_path / "b" / "lessons.jsonl").read_bytes()
    assert first.manifest == again.manifest
    state = load_state(city)
    assert list(state.lessons) == [first.records[0]["ref"]]


def test_a_personal_identity_number_keeps_the_lesson_home(city, tmp_path):
    path = city / "entries" / "bygg" / "oppen.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nKontakt: 19811218-9876.\n", encoding="utf-8")
    _index(city)
    publication = publish(city, tmp_path / "open")
    assert publication.count == 0
    assert any("left out: a personal identity number" in w for w in publication.warnings)
    assert b"9876" not in all_bytes(tmp_path / "open")


# --- DCAT-AP-SE ------------------------------------------------------------------------------------
def test_the_dcat_ap_se_description_parses_and_has_what_sveriges_dataportal_requires(city, tmp_path):
    out = tmp_path / "open"
    publish(city, out)
    graph = rdflib.Graph().parse(out / "catalog.rdf", format="xml")
    catalog = graph.value(predicate=RDF.type, object=DCAT.Catalog, any=False)
    dataset = graph.value(catalog, DCAT.dataset)
    publisher = graph.value(catalog, DCTERMS.publisher)
    contact = graph.value(dataset, DCAT.contactPoint)
    distributions = list(graph.objects(dataset, DCAT.distribution))
    # the harvester needs IRIs (no blank nodes) for these, absolute ones
    for node in (catalog, dataset, publisher, contact, *distributions):
        assert isinstance(node, rdflib.URIRef) and str(node).startswith(("http://", "https://")), node
    assert str(publisher) == "http://dataportal.se/organisation/SE2120001124"
    assert (publisher, RDF.type, FOAF.Agent) in graph and str(graph.value(publisher, FOAF.name)) == "Malmö stad"
    for subject in (catalog, dataset):
        titles = {t.language: str(t) for t in graph.objects(subject, DCTERMS.title)}
        descriptions = {d.language for d in graph.objects(subject, DCTERMS.description)}
        assert set(titles) == descriptions == {"sv", "en"}
        assert graph.value(subject, DCTERMS.publisher) == publisher
    assert str(graph.value(catalog, DCTERMS.license)) == "http://creativecommons.org/licenses/by/4.0/"
    assert (dataset, RDF.type, DCAT.Dataset) in graph and (contact, RDF.type, VCARD.Organization) in graph
    assert str(graph.value(contact, VCARD.hasEmail)) == "mailto:klimat@example.se"
    assert {str(graph.value(d, DCAT.accessURL)).rsplit("/", 1)[1] for d in distributions} == {
        "lessons.jsonl", "feed.atom"}
    for distribution in distributions:
        assert graph.value(distribution, DCTERMS.license) is not None
        assert str(graph.value(distribution, DCTERMS["format"])).startswith(
            "http://publications.europa.eu/resource/authority/file-type/")
    assert str(graph.value(dataset, DCTERMS.conformsTo)).endswith("/kb-lesson-1.schema.json")
    assert str(graph.value(dataset, DCTERMS.accessRights)).endswith("access-right/PUBLIC")


def test_without_a_web_address_the_description_still_parses_and_the_publisher_is_told(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "hash")
    root = write_city(tmp_path / "kb")
    _index(root)
    publication = publish(root, tmp_path / "open")
    assert len(rdflib.Graph().parse(tmp_path / "open" / "catalog.rdf", format="xml")) > 20
    assert any("Sveriges dataportal cannot harvest it" in w for w in publication.warnings)


# --- the command and its refusals ---------------------------------------------------------------------
def test_kb_publish_reports_what_it_wrote_and_what_stayed_home(city, tmp_path):
    result = CliRunner().invoke(cli, ["publish", "--root", str(city), "-o", str(tmp_path / "open")])
    assert result.exit_code == 0, result.output
    assert "Published 1 public lessons (1 with validated actions) from Malmö stad" in result.output
    assert "2 internal or partner lessons stay home" in result.output
    assert "warning: entries/bygg/oppen.md: actor 'Karin Lindqvist' reads as a person's name" in result.output


def test_publishing_needs_a_publisher_a_licence_and_a_contact(kb_root, tmp_path):
    kb = KnowledgeBase.open(kb_root)
    kb.index()
    with pytest.raises(ConfigError, match=r"\[sharing\] needs organisation, licence, contact_email") as info:
        build_publication(kb.config, kb.store)
    kb.close()
    assert "contact_email" in info.value.hint
    result = CliRunner().invoke(cli, ["publish", "--root", str(kb_root), "-o", str(tmp_path / "open")])
    assert result.exit_code == 1 and "Hint:" in result.output


def test_a_publication_is_never_written_into_the_knowledge_bases_own_folders(city):
    kb = KnowledgeBase.open(city)
    publication = build_publication(kb.config, kb.store)
    kb.close()
    for inside in ("entries/open", "followed/x", ".kb"):
        with pytest.raises(KBError, match="inside the knowledge base's own folders"):
            write_publication(publication, city / inside, load(city))


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.pop("title"), "'title' is a required property"),
    (lambda r: r.update(id="../../etc/passwd"), "does not match"),
    (lambda r: r.update(id="ok-id\n"), "may hold only letters"),
    (lambda r: r.update(schema="kb-lesson/2.0"), "does not match"),
    (lambda r: r.update(type="rumour"), "is not one of"),
    (lambda r: r["sections"].append({"heading": "x", "text": "y" * 200_001}), "is too long"),
])
def test_a_lesson_outside_the_schema_is_refused_by_name(city, tmp_path, change, message):
    publish(city, tmp_path / "open")
    record = json.loads((tmp_path / "open" / "lessons.jsonl").read_text(encoding="utf-8"))
    change(record)
    with pytest.raises(PublicationProblem, match=message):
        check_lesson(record, "line 1")


def test_a_manifest_of_a_newer_major_version_is_refused_with_what_to_do(city, tmp_path):
    publish(city, tmp_path / "open")
    manifest = json.loads((tmp_path / "open" / "index.json").read_text(encoding="utf-8"))
    with pytest.raises(PublicationProblem, match="update this program"):
        check_manifest({**manifest, "schema": "kb-publication/2.0"})
    with pytest.raises(PublicationProblem, match="not a file name"):
        check_manifest({**manifest, "lessons": {**manifest["lessons"], "file": "lessons.jsonl\n"}})


# --- served by kb serve ---------------------------------------------------------------------------------
def test_the_same_files_are_served_under_open_with_conditional_requests(city, tmp_path):
    out = tmp_path / "open"
    publish(city, out)
    ds = make_datasette(city)

    async def go():
        await ds.invoke_startup()
        page = await ds.client.get("/-/kb/open/")
        files = {name: await ds.client.get(f"/-/kb/open/{name}") for name in FILES}
        etag = files["lessons.jsonl"].headers["etag"]
        again = await ds.client.get("/-/kb/open/lessons.jsonl", headers={"if-none-match": etag})
        since = await ds.client.get("/-/kb/open/index.json",
                                    headers={"if-modified-since": files["index.json"].headers["last-modified"]})
        spoofed = await ds.client.get("/-/kb/open/index.json", headers={"host": "evil.example"})
        missing = await ds.client.get("/-/kb/open/secrets.txt")
        return page, files, again, since, spoofed, missing

    page, files, again, since, spoofed, missing = asyncio.run(go())
    assert page.status_code == 200 and "Vad som aldrig publiceras" in page.text
    for name, response in files.items():
        assert response.status_code == 200
        assert response.content == (out / name).read_bytes(), name
        assert response.headers["access-control-allow-origin"] == "*"
    assert files["lessons.jsonl"].headers["content-type"] == "application/jsonl; charset=utf-8"
    assert again.status_code == 304 and since.status_code == 304
    assert json.loads(spoofed.content)["url"] == "https://larande.example.se/-/kb/open/"
    assert missing.status_code == 404


def test_a_knowledge_base_without_sharing_settings_says_so_on_its_open_page(indexed_kb):
    ds = make_datasette(indexed_kb.config.root)

    async def go():
        await ds.invoke_startup()
        return await ds.client.get("/-/kb/open/"), await ds.client.get("/-/kb/open/index.json")

    page, manifest = asyncio.run(go())
    assert page.status_code == 404 and "publicerar inga öppna lärdomar" in page.text
    assert manifest.status_code == 404
