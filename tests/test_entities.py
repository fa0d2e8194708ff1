"""Entity URIs: 303 by Accept, documents in four RDF formats and HTML, validators, HEAD, gzip, Link, 404/406."""
from __future__ import annotations

import gzip
import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import FOAF, RDF, RDFS, SKOS

from plugins.release import settings_for, write_release

BASE = "https://w3id.org/haven/"
HAVEN = BASE + "ontology#"
HID = BASE + "id/"
AQ = URIRef(HID + "al-qaeda")
TALIBAN = URIRef(HID + "taliban")
SANCTUARY = URIRef(HID + "statement/taliban-sanctuary-al-qaeda")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PARSERS = {"ttl": "turtle", "nt": "nt", "rdf": "xml", "jsonld": "json-ld"}
MEDIA = {"ttl": "text/turtle", "nt": "application/n-triples", "rdf": "application/rdf+xml",
         "jsonld": "application/ld+json"}


def parse(client, response, ext) -> Graph:
    body = response.data.decode("utf-8")
    if ext == "jsonld":
        # a consumer fetches the @context the document names; here the test client plays that part
        doc = json.loads(body)
        context = json.loads(client.get("/context.jsonld").data)["@context"]
        doc["@context"] = context
        body = json.dumps(doc)
    return Graph().parse(data=body, format=PARSERS[ext])


@pytest.mark.parametrize("accept, target", [
    (BROWSER, "/page/al-qaeda"),
    ("text/html", "/page/al-qaeda"),
    ("*/*", "/page/al-qaeda"),
    (None, "/page/al-qaeda"),
    ("text/turtle", "/data/al-qaeda.ttl"),
    ("application/n-triples", "/data/al-qaeda.nt"),
    ("application/rdf+xml", "/data/al-qaeda.rdf"),
    ("application/ld+json", "/data/al-qaeda.jsonld"),
    ("text/html;q=0.5, text/turtle", "/data/al-qaeda.ttl"),
    ("text/turtle;q=0.2, application/ld+json;q=0.9", "/data/al-qaeda.jsonld"),
    ("text/*", "/page/al-qaeda"),
    ("application/*;q=0.9, text/html;q=0.1", "/data/al-qaeda.nt"),
    ("*/*;q=0.1, application/rdf+xml", "/data/al-qaeda.rdf"),
])
def test_get_id_see_other_by_accept(client, accept, target):
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/id/al-qaeda", headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(target)
    assert "Accept" in response.headers["Vary"]


def test_get_id_statement_slug_with_slash(client):
    response = client.get("/id/statement/taliban-sanctuary-al-qaeda", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/data/statement/taliban-sanctuary-al-qaeda.ttl")


@pytest.mark.parametrize("path", [
    "/id/no-such-thing", "/id/Al-Qaeda", "/id/al_qaeda", "/id/al-qaeda%3E%20%3Fp", "/id/..%2Fetc",
    "/page/no-such-thing", "/data/no-such-thing.ttl", "/data/al-qaeda.xyz", "/id/statement/nope",
])
def test_get_unknown_or_malformed_slug_404(client, path):
    assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 404


@pytest.mark.parametrize("accept", ["image/png", "application/json;q=0, image/*", "text/csv"])
def test_get_id_not_acceptable_406(client, accept):
    response = client.get("/id/al-qaeda", headers={"Accept": accept})
    assert response.status_code == 406
    assert "Accept" in response.headers["Vary"]


def test_head_id_is_303_without_body(client):
    response = client.head("/id/al-qaeda", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.data == b""


@pytest.mark.parametrize("ext", sorted(PARSERS))
def test_get_data_document_holds_the_description(client, ext):
    response = client.get(f"/data/al-qaeda.{ext}")
    assert response.status_code == 200
    assert response.mimetype == MEDIA[ext]
    g = parse(client, response, ext)
    haven = lambda name: URIRef(HAVEN + name)  # noqa: E731
    # own triples, with the blank-node evidence closed down to the selector
    assert (AQ, SKOS.prefLabel, Literal("al-Qaeda", lang="en")) in g
    assert (AQ, SKOS.altLabel, Literal("AQ", lang="en")) in g
    assert (AQ, haven("wikidata"), URIRef("http://www.wikidata.org/entity/Q34490")) in g
    evidence = g.value(AQ, haven("evidence"))
    selector = g.value(evidence, URIRef("http://www.w3.org/ns/oa#hasSelector"))
    assert g.value(selector, URIRef("http://www.w3.org/ns/oa#start")).toPython() == 163
    # statement nodes where it is the object, with their qualifiers and evidence
    assert (SANCTUARY, haven("object"), AQ) in g
    assert (SANCTUARY, haven("certainty"), haven("Reported")) in g
    assert (SANCTUARY, haven("attributedTo"), URIRef(HID + "gretchen-peters")) in g
    st_evidence = g.value(SANCTUARY, haven("evidence"))
    assert g.value(st_evidence, haven("locator")) == Literal("bullet 5", lang="en")
    # ... and where it is the subject
    assert (URIRef(HID + "statement/al-qaeda-allied-with-taliban"), haven("subject"), AQ) in g
    # incoming direct triples
    assert (TALIBAN, haven("providedSanctuaryTo"), AQ) in g
    assert (URIRef(HID + "osama-bin-laden"), haven("leaderOf"), AQ) in g
    # labels of what it links to, including places and sources named only in its statements
    assert (TALIBAN, SKOS.prefLabel, Literal("Taliban", lang="en")) in g
    assert (URIRef(HID + "kabul"), RDFS.label, Literal("Kabul", lang="en")) in g
    assert (URIRef(HAVEN + "providedSanctuaryTo"), RDFS.label, Literal("provided sanctuary to", lang="en")) in g
    # the document says what it is about, and no more than that
    doc = URIRef(BASE + "data/al-qaeda")
    assert (doc, FOAF.primaryTopic, AQ) in g and (doc, RDF.type, FOAF.Document) in g
    assert (URIRef(HID + "kabul"), URIRef(HAVEN + "locatedIn"), None) not in g


def test_data_formats_describe_the_same_graph(client):
    from rdflib.compare import isomorphic

    graphs = [parse(client, client.get(f"/data/al-qaeda.{ext}"), ext) for ext in sorted(PARSERS)]
    for other in graphs[1:]:
        assert isomorphic(graphs[0], other)


def test_get_statement_document(client):
    response = client.get("/data/statement/taliban-sanctuary-al-qaeda.ttl")
    g = Graph().parse(data=response.data, format="turtle")
    assert (SANCTUARY, URIRef(HAVEN + "relation"), URIRef(HAVEN + "providedSanctuaryTo")) in g
    assert (SANCTUARY, URIRef(HAVEN + "subject"), TALIBAN) in g
    assert (TALIBAN, SKOS.prefLabel, Literal("Taliban", lang="en")) in g


def test_jsonld_is_compact_against_the_published_context(client):
    doc = json.loads(client.get("/data/al-qaeda.jsonld").data)
    assert doc["@context"] == "https://w3id.org/haven/context.jsonld"
    node = doc  # the entity is the top-level object (tests/test_entity_jsonld.py)
    assert node["prefLabel"] == "al-Qaeda"
    assert sorted(node["altLabel"]) == ["AQ", "Al Qaida"]
    assert node["type"] == "MilitantOrganization"
    assert node["wikidata"] == "http://www.wikidata.org/entity/Q34490"


def test_get_data_validators_and_304(client):
    first = client.get("/data/al-qaeda.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    assert client.get("/data/al-qaeda.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/data/al-qaeda.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/data/al-qaeda.ttl", headers={"If-None-Match": '"other"'}).status_code == 200
    older = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert client.get("/data/al-qaeda.ttl", headers={"If-Modified-Since": older}).status_code == 200


def test_etag_differs_by_format_and_entity(client):
    tags = {client.get(path).headers["ETag"]
            for path in ("/data/al-qaeda.ttl", "/data/al-qaeda.nt", "/data/taliban.ttl", "/page/al-qaeda")}
    assert len(tags) == 4


def test_head_data_has_headers_and_no_body(client):
    get = client.get("/data/al-qaeda.ttl")
    head = client.head("/data/al-qaeda.ttl")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_gzip_when_allowed(client):
    plain = client.get("/data/al-qaeda.ttl")
    zipped = client.get("/data/al-qaeda.ttl", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    refused = client.get("/data/al-qaeda.ttl", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_link_header_lists_alternates_and_canonical(client):
    link = client.get("/data/al-qaeda.ttl").headers["Link"]
    assert '<http://localhost/page/al-qaeda>; rel="alternate"; type="text/html"' in link
    assert '<http://localhost/data/al-qaeda.jsonld>; rel="alternate"; type="application/ld+json"' in link
    assert 'al-qaeda.ttl>' not in link  # not itself
    assert f'<{HID}al-qaeda>; rel="canonical"' in link


def test_generic_data_document_negotiates(client):
    response = client.get("/data/al-qaeda", headers={"Accept": "application/ld+json"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/data/al-qaeda.jsonld")
    page = client.get("/data/al-qaeda", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["Location"].endswith("/page/al-qaeda")
    assert client.get("/data/al-qaeda", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize("accept, target", [
    ("application/json", "/data/al-qaeda.jsonld"),
    ("application/json, text/html;q=0.5", "/data/al-qaeda.jsonld"),
    ("text/plain", "/data/al-qaeda.nt"),
    ("application/xml", "/data/al-qaeda.rdf"),
    ("text/n3", "/data/al-qaeda.ttl"),
    ("application/xhtml+xml", "/page/al-qaeda"),
    ("*/*", "/page/al-qaeda"),
])
def test_get_id_lenient_accept_303(client, accept, target):
    """The generic and older names Oxigraph and Fuseki accept (issue 10: application/json was 406)."""
    response = client.get("/id/al-qaeda", headers={"Accept": accept})
    assert response.status_code == 303 and response.headers["Location"].endswith(target)


def test_base_differs_from_host(tmp_path):
    """Canonical IRIs under another base: RDF keeps them, HTML links stay on the serving host."""
    from haven.web.app import create_app

    other = "https://example.org/kb/"
    write_release(tmp_path, base=other)
    client = create_app(settings_for(tmp_path, base=other)).test_client()
    response = client.get("/id/al-qaeda", headers={"Accept": "text/turtle"}, base_url="http://127.0.0.1:9999")
    assert response.headers["Location"] == "http://127.0.0.1:9999/data/al-qaeda.ttl"
    g = Graph().parse(data=client.get("/data/al-qaeda.ttl").data, format="turtle")
    assert (URIRef(other + "id/taliban"), URIRef(other + "ontology#providedSanctuaryTo"),
            URIRef(other + "id/al-qaeda")) in g
    assert not any(str(t).startswith("http://127.0.0.1") for triple in g for t in triple)
    page = client.get("/page/al-qaeda", base_url="http://127.0.0.1:9999").data.decode()
    assert 'href="http://127.0.0.1:9999/page/taliban"' in page
    assert 'href="https://example.org/kb/' not in page
    assert other + "id/al-qaeda" in page  # the canonical IRI is shown, as text
