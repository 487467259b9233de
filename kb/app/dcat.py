"""The open publication described in DCAT-AP-SE (the Swedish profile of DCAT-AP), as RDF/XML:
what Sveriges dataportal harvests.

The profile's rules for harvesting (docs.dataportal.se, "Skördning av DCAT-AP-SE"): RDF/XML,
absolute IRIs, and no blank nodes for the catalogue, datasets, distributions, publishers and
contact points. Written here, with the mandatory and the recommended properties of each class:

- ``dcat:Catalog``: title and description (sv, en), publisher, licence, dataset; issued,
  modified, language, homepage, theme taxonomy;
- ``foaf:Agent`` (the publisher): name, type (a local authority);
- ``dcat:Dataset``: title and description (sv, en), publisher, contact point, distributions,
  keywords, theme, issued, modified, access rights (public), temporal coverage, conformsTo the
  lesson schema;
- ``dcat:Distribution`` (JSON Lines, Atom): access and download URL, description, format and
  media type, licence, availability, conformsTo;
- ``vcard:Organization`` (the contact point): name, e-mail.

The IRIs are the publication's own web address (kb.toml ``[sharing] url``, or ``base_url``
+ ``/-/kb/open/``); the publisher is ``http://dataportal.se/organisation/SE<orgnr>`` when
kb.toml gives ``organisation_number``, so the portal knows it as the same organisation
everywhere. Without a web address the IRIs are URNs and ``kb publish`` warns that the portal
cannot harvest it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kb.app.open_feed import xml_text
from kb.core.config import KBConfig
from kb.core.publication import FEED_FILE, LESSON_SCHEMA_FILE, LESSONS_FILE
from kb.core.texts import text

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
EU = "http://publications.europa.eu/resource/authority/"
LANGUAGES = {"sv": EU + "language/SWE", "en": EU + "language/ENG"}
THEMES = (EU + "data-theme/ENVI", EU + "data-theme/GOVE")  # environment; government and public sector
LOCAL_AUTHORITY = "http://purl.org/adms/publishertype/LocalAuthority"
PUBLIC_ACCESS = EU + "access-right/PUBLIC"
STABLE = EU + "planned-availability/STABLE"
# file type (EU vocabulary) and IANA media type; JSON Lines has no registered media type yet
FORMATS = {LESSONS_FILE: (EU + "file-type/JSON", None),
           FEED_FILE: (EU + "file-type/ATOM", "application/atom+xml")}
IANA = "https://www.iana.org/assignments/media-types/"
MAX_KEYWORDS = 12


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def render_catalog(config: KBConfig, manifest: dict, records: list[dict], *, since: str) -> bytes:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    sharing = config.sharing
    base = manifest.get("url") or manifest["id"]  # the publication's URN when it has no web address
    iri = {name: f"{base}#{name}" for name in ("catalog", "lessons", "contact", "publisher")}
    publisher = (f"http://dataportal.se/organisation/SE{sharing.organisation_number}" if sharing.organisation_number
                 else iri["publisher"])
    organisation, title = manifest["organisation"], manifest["title"]
    root = ET.Element(_q("rdf:RDF"))

    def node(kind: str, about: str) -> ET.Element:
        return ET.SubElement(root, _q(kind), {_q("rdf:about"): about})

    def literal(parent, prop: str, value, lang: str | None = None, datatype: str | None = None) -> None:
        attrs = {}
        if lang:
            attrs["{http://www.w3.org/XML/1998/namespace}lang"] = lang
        if datatype:
            attrs[_q("rdf:datatype")] = NS["xsd"] + datatype
        ET.SubElement(parent, _q(prop), attrs).text = xml_text(value)

    def resource(parent, prop: str, about: str) -> None:
        ET.SubElement(parent, _q(prop), {_q("rdf:resource"): about})

    def both_languages(parent, prop: str, key: str, **params) -> None:
        for lang in ("sv", "en"):
            literal(parent, prop, text(key, lang, **params), lang)

    modified = manifest["updated"]
    dates = sorted(r["date"] for r in records)
    catalog = node("dcat:Catalog", iri["catalog"])
    both_languages(catalog, "dcterms:title", "open_catalog_title", organisation=organisation)
    both_languages(catalog, "dcterms:description", "open_catalog_description", organisation=organisation,
                   title=title)
    resource(catalog, "dcterms:publisher", publisher)
    resource(catalog, "dcterms:license", manifest["licence"])
    resource(catalog, "dcat:dataset", iri["lessons"])
    literal(catalog, "dcterms:issued", since[:10], datatype="date")
    literal(catalog, "dcterms:modified", modified[:10], datatype="date")
    resource(catalog, "dcterms:language", LANGUAGES.get(config.language, LANGUAGES["sv"]))
    if config.base_url:
        resource(catalog, "foaf:homepage", config.base_url + "/")
    resource(catalog, "dcat:themeTaxonomy", EU + "data-theme")

    agent = node("foaf:Agent", publisher)
    literal(agent, "foaf:name", organisation)
    resource(agent, "dcterms:type", LOCAL_AUTHORITY)

    dataset = node("dcat:Dataset", iri["lessons"])
    both_languages(dataset, "dcterms:title", "open_title", organisation=organisation)
    both_languages(dataset, "dcterms:description", "open_description", organisation=organisation, title=title)
    resource(dataset, "dcterms:publisher", publisher)
    resource(dataset, "dcat:contactPoint", iri["contact"])
    for lang in ("sv", "en"):
        for word in text("open_keywords", lang).split(", "):
            literal(dataset, "dcat:keyword", word, lang)
    for tag in _common_tags(records):
        literal(dataset, "dcat:keyword", tag, config.language)
    for theme in THEMES:
        resource(dataset, "dcat:theme", theme)
    literal(dataset, "dcterms:issued", since[:10], datatype="date")
    literal(dataset, "dcterms:modified", modified[:10], datatype="date")
    resource(dataset, "dcterms:accessRights", PUBLIC_ACCESS)
    for lang in sorted({r["language"] for r in records} or {config.language}):
        resource(dataset, "dcterms:language", LANGUAGES.get(lang, LANGUAGES["sv"]))
    resource(dataset, "dcterms:conformsTo", _file_iri(manifest, LESSON_SCHEMA_FILE))
    if dates:
        period = ET.SubElement(ET.SubElement(dataset, _q("dcterms:temporal")), _q("dcterms:PeriodOfTime"))
        literal(period, "dcat:startDate", dates[0], datatype="date")
        literal(period, "dcat:endDate", dates[-1], datatype="date")
    if manifest.get("url"):
        resource(dataset, "dcat:landingPage", manifest["url"])

    for name, key in ((LESSONS_FILE, "open_distribution_lessons"), (FEED_FILE, "open_distribution_feed")):
        about = _file_iri(manifest, name)
        resource(dataset, "dcat:distribution", about)
        distribution = node("dcat:Distribution", about)
        resource(distribution, "dcat:accessURL", about)
        resource(distribution, "dcat:downloadURL", about)
        both_languages(distribution, "dcterms:description", key)
        file_type, media_type = FORMATS[name]
        resource(distribution, "dcterms:format", file_type)
        if media_type:
            resource(distribution, "dcat:mediaType", IANA + media_type)
        resource(distribution, "dcterms:license", manifest["licence"])
        resource(distribution, "dcatap:availability", STABLE)
        if name == LESSONS_FILE:
            resource(distribution, "dcterms:conformsTo", _file_iri(manifest, LESSON_SCHEMA_FILE))

    contact = node("vcard:Organization", iri["contact"])
    literal(contact, "vcard:fn", manifest["contact"].get("name") or organisation)
    resource(contact, "vcard:hasEmail", f"mailto:{manifest['contact']['email']}")
    ET.indent(root)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def _file_iri(manifest: dict, name: str) -> str:
    return (manifest["url"] + name) if manifest.get("url") else f"{manifest['id']}#{name}"


def _common_tags(records: list[dict]) -> list[str]:
    """The tags most lessons share, as extra keywords (at most :data:`MAX_KEYWORDS`)."""
    counts: dict[str, int] = {}
    for record in records:
        for tag in {t.lower() for t in record.get("tags") or []}:
            counts[tag] = counts.get(tag, 0) + 1
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_KEYWORDS]]
