"""Dataset-level documents: ontology and shapes by Accept, VoID/DCAT, the dumps, the JSON-LD context."""
from __future__ import annotations

import gzip
import json

import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, SKOS, VOID

from plugins.pending import when_ready

BASE = "https://w3id.org/haven/"
ONTOLOGY = URIRef(BASE + "ontology")
DATASET = URIRef(BASE + "dataset")
# a plain namespace: pytest probes module globals, and rdflib's closed namespaces warn on unknown names
DCAT = Namespace("http://www.w3.org/ns/dcat#")


@pytest.mark.parametrize("accept, media_type, fmt", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
])
def test_get_ontology_by_accept(client, accept, media_type, fmt):
    response = client.get("/ontology", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]
    body = response.data.decode()
    if fmt == "json-ld":
        doc = json.loads(body)
        doc["@context"] = json.loads(client.get("/context.jsonld").data)["@context"]
        body = json.dumps(doc)
    g = Graph().parse(data=body, format=fmt)
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in g
    assert (URIRef(BASE + "ontology#providedSanctuaryTo"), OWL.inverseOf,
            URIRef(BASE + "ontology#receivedSanctuaryFrom")) in g


def test_ontology_by_extension_version_iri_and_406(client):
    assert client.get("/ontology.ttl").mimetype == "text/turtle"
    assert client.get("/ontology.html").mimetype == "text/html"
    assert client.get("/ontology/1.0.0", headers={"Accept": "text/turtle"}).status_code == 200
    assert client.get("/ontology/9.9.9").status_code == 404
    assert client.get("/ontology", headers={"Accept": "image/png"}).status_code == 406


def test_get_shapes(client):
    g = Graph().parse(data=client.get("/shapes", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (URIRef(BASE + "shapes#EntityShape"), RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")) in g
    assert client.get("/shapes", headers={"Accept": "text/html"}).mimetype == "text/html"


@pytest.mark.parametrize("accept, fmt", [("text/turtle", "turtle"), ("application/rdf+xml", "xml")])
def test_get_void(client, accept, fmt):
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200
    g = Graph().parse(data=response.data, format=fmt)
    assert (DATASET, RDF.type, VOID.Dataset) in g
    assert (DATASET, VOID.sparqlEndpoint, URIRef(BASE + "sparql")) in g
    assert (DATASET, VOID.dataDump, URIRef(BASE + "dumps/haven.nq")) in g
    assert (DATASET, VOID.uriSpace, Literal(BASE + "id/")) in g
    # the build left out the root resource; the server adds it
    assert (DATASET, VOID.rootResource, URIRef(BASE + "id/the-al-qaeda-afghan-taliban-connections")) in g


def test_void_html_and_dataset_redirect(client):
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).data.decode()
    assert "http://localhost/sparql" in html and "http://localhost/dumps/haven.nq" in html
    response = client.get("/dataset")
    assert response.status_code == 303 and response.headers["Location"].endswith("/.well-known/void")


def test_dump_nquads_keeps_named_graphs(client):
    response = client.get("/dumps/haven.nq")
    assert response.status_code == 200 and response.mimetype == "application/n-quads"
    ds = Dataset()
    ds.parse(data=response.data.decode(), format="nquads")
    names = {str(g.identifier) for g in ds.graphs()}
    assert {BASE + "graph/" + n for n in ("ontology", "data", "derived", "metadata")} <= names
    assert client.get("/dumps/haven.nq", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("ext, fmt", [("ttl", "turtle"), ("nt", "nt")])
def test_dump_single_graph_formats_hold_the_union(client, ext, fmt):
    response = when_ready(client, f"/dumps/haven.{ext}")
    assert response.status_code == 200 and response.headers["ETag"]
    g = Graph().parse(data=response.data, format=fmt)
    nq = Dataset()
    nq.parse(data=client.get("/dumps/haven.nq").data.decode(), format="nquads")
    assert len(g) == len({q[:3] for q in nq.quads((None, None, None, None))})
    assert (URIRef(BASE + "id/al-qaeda"), SKOS.prefLabel, Literal("al-Qaeda", lang="en")) in g


def test_dump_jsonld_parses_with_named_graphs(client):
    ds = Dataset()
    ds.parse(data=when_ready(client, "/dumps/haven.jsonld").data.decode(), format="json-ld")
    assert (URIRef(BASE + "id/al-qaeda"), SKOS.prefLabel, Literal("al-Qaeda", lang="en"),
            URIRef(BASE + "graph/data")) in set((s, p, o, g.identifier if hasattr(g, "identifier") else g)
                                              for s, p, o, g in ds.quads((None, None, None, None)))


def test_unknown_dump_404(client):
    assert client.get("/dumps/haven.xml").status_code == 404


@pytest.mark.parametrize("ext", ["ttl", "nt", "nq", "jsonld"])
def test_dump_gzip_file_is_application_gzip_without_content_encoding(client, ext):
    """Issue 10.9. A .gz URL is a file: every client saves the bytes its name promises (see routes.dump)."""
    packed = when_ready(client, f"/dumps/haven.{ext}.gz", headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200 and packed.mimetype == "application/gzip"
    assert "Content-Encoding" not in packed.headers
    plain = when_ready(client, f"/dumps/haven.{ext}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert gzip.decompress(packed.data) == plain.data


def test_plain_dump_is_sent_gzipped_to_a_client_that_takes_gzip(client):
    when_ready(client, "/dumps/haven.nt.gz")
    plain = client.get("/dumps/haven.nt")
    packed = client.get("/dumps/haven.nt", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.mimetype == plain.mimetype == "application/n-triples"
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.data) == plain.data
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get("/dumps/haven.nt", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/dumps/haven.xml.gz", "/dumps/haven.nt.zip", "/dumps/haven.gz"])
def test_unknown_compressed_dump_404(client, path):
    assert client.get(path).status_code == 404


def test_void_gives_each_dump_file_its_byte_size(client):
    sizes = {f"haven.{ext}{gz}": len(when_ready(client, f"/dumps/haven.{ext}{gz}",
                                                headers={"Accept-Encoding": "identity"}).data)
             for ext in ("ttl", "nt", "nq", "jsonld") for gz in ("", ".gz")}
    void = Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "text/turtle"}).data,
                         format="turtle")
    for name, size in sizes.items():
        assert void.value(URIRef(f"{BASE}dumps/{name}"), DCAT.byteSize).toPython() == size, name


def test_void_validator_changes_when_a_dump_appears(client, tmp_path, monkeypatch):
    """A client that cached the description before the dumps were written must not keep it (no byte sizes)."""
    from haven.web.dataset import routes

    monkeypatch.setattr(routes, "dump_sizes", lambda *args: {})
    before = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    monkeypatch.setattr(routes, "dump_sizes", lambda *args: {URIRef(f"{BASE}dumps/haven.nt"): 12})
    after = client.get("/.well-known/void", headers={"Accept": "text/turtle", "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    sized = Graph().parse(data=after.data, format="turtle")
    assert sized.value(URIRef(f"{BASE}dumps/haven.nt"), DCAT.byteSize).toPython() == 12


def test_context_document(client):
    response = client.get("/context.jsonld")
    assert response.mimetype == "application/ld+json"
    context = json.loads(response.data)["@context"]
    assert context["prefLabel"] == {"@id": "skos:prefLabel", "@language": "en"}
    assert context["@vocab"] == BASE + "ontology#"
