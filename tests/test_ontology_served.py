"""The ontology is served exactly as released, in every format, whatever other clients did before or do at the
same time (issue 10, item 1: one visit to the HTML page used to grow the Turtle from 1,437 to 2,533 triples,
because the documentation generator wrote into the graph the server kept; and the store's copy had its
cardinalities typed `xsd:integer` instead of the released `xsd:nonNegativeInteger`).

Every document is compared with the release folder's file: isomorphic, and the same number of triples."""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS, XSD

from haven import buildfolder
from haven.formats import HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE
from haven.iris import UrlMap
from plugins.release import settings_for, write_release

RDF_FORMATS = (TURTLE, RDF_XML, JSON_LD, N_TRIPLES)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ONTOLOGY = "https://w3id.org/haven/ontology"

#: a prior version, named by the fixture's current version (owl:priorVersion), with an OWL cardinality
PRIOR_VERSION = "0.9.0"
PRIOR_TURTLE = f"""@prefix haven: <{ONTOLOGY}#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{ONTOLOGY}> a owl:Ontology ; dcterms:title "Haven ontology"@en ; owl:versionIRI <{ONTOLOGY}/{PRIOR_VERSION}> ; owl:versionInfo "{PRIOR_VERSION}" .
haven:Statement a owl:Class ; rdfs:label "Statement"@en ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty haven:subject ;
                      owl:cardinality "1"^^xsd:nonNegativeInteger ] .
"""
NAMES_PRIOR = f"hg:ontology {{ <{ONTOLOGY}> owl:priorVersion <{ONTOLOGY}/{PRIOR_VERSION}> . }}"


def document_graph(client, response, fmt) -> Graph:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == fmt.media_type
    if fmt is JSON_LD:  # the document names the published context by URL: read it from this server
        doc = json.loads(response.data)
        doc["@context"] = json.loads(client.get("/context.jsonld").data)["@context"]
        return Graph().parse(data=json.dumps(doc), format="json-ld")
    return Graph().parse(data=response.data, format=fmt.rdflib)


def assert_released(client, path: str, released: Path):
    """`path` in every RDF format, by Accept and (for /ontology) by file extension, is the released file."""
    expected = Graph().parse(released, format="turtle")
    for fmt in RDF_FORMATS:
        responses = [client.get(path, headers={"Accept": fmt.media_type})]
        if path == "/ontology":
            responses.append(client.get(f"{path}.{fmt.extension}"))
        for response in responses:
            served = document_graph(client, response, fmt)
            assert len(served) == len(expected), (path, fmt.media_type)
            assert isomorphic(served, expected), (path, fmt.media_type)
            if fmt is TURTLE:  # the file itself, comments and layout included
                assert response.data == released.read_bytes()


def test_get_ontology_after_the_html_page_is_the_release_in_every_format(client, release_dir):
    released = release_dir / buildfolder.ONTOLOGY
    assert_released(client, "/ontology", released)
    page = client.get("/ontology", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == HTML.media_type
    assert client.get("/ontology.html").status_code == 200
    assert_released(client, "/ontology", released)


def test_get_ontology_while_pages_render_is_the_release(make_app, release_dir):
    """Several first renders of the page (a fresh app: nothing cached) while other clients fetch the RDF."""
    app = make_app()
    released = release_dir / buildfolder.ONTOLOGY
    expected = Graph().parse(released, format="turtle")
    start = threading.Barrier(3 + len(RDF_FORMATS))
    failures: list[str] = []

    def render():
        client = app.test_client()
        start.wait()
        if client.get("/ontology", headers={"Accept": "text/html"}).status_code != 200:
            failures.append("html")

    def fetch(fmt):
        client = app.test_client()
        start.wait()
        for _ in range(3):
            served = document_graph(client, client.get("/ontology", headers={"Accept": fmt.media_type}), fmt)
            if len(served) != len(expected) or not isomorphic(served, expected):
                failures.append(f"{fmt.media_type}: {len(served)} triples")

    threads = [threading.Thread(target=render) for _ in range(3)]
    threads += [threading.Thread(target=fetch, args=(fmt,)) for fmt in RDF_FORMATS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert_released(app.test_client(), "/ontology", released)


@pytest.fixture(scope="module")
def versioned(tmp_path_factory):
    """The fixture release naming a prior version, whose file the release folder keeps: (client, release)."""
    from haven.web.app import create_app

    build = tmp_path_factory.mktemp("versions")
    release = write_release(build, extra_trig=NAMES_PRIOR)
    (release / buildfolder.prior_ontology(PRIOR_VERSION)).write_text(PRIOR_TURTLE, encoding="utf-8")
    app = create_app(settings_for(build))
    app.config["TESTING"] = True
    yield app.test_client(), release
    app.extensions["haven"].close()


def version_files(release: Path) -> dict[str, Path]:
    """Version IRI → the release folder's file of that version."""
    files = {}
    for path in release.glob("ontology*.ttl"):
        for iri in Graph().parse(path, format="turtle").objects(URIRef(ONTOLOGY), OWL.versionIRI):
            files[str(iri)] = path
    return files


def test_every_version_iri_a_release_mentions_serves_that_version(versioned):
    client, release = versioned
    files = version_files(release)
    mentioned = set()
    for path in files.values():
        graph = Graph().parse(path, format="turtle")
        mentioned |= {str(o) for o in graph.objects(URIRef(ONTOLOGY), OWL.versionIRI)}
        mentioned |= {str(o) for o in graph.objects(URIRef(ONTOLOGY), OWL.priorVersion)}
    assert mentioned == {f"{ONTOLOGY}/1.0.0", f"{ONTOLOGY}/{PRIOR_VERSION}"} and set(files) == mentioned
    urls = UrlMap(base="https://w3id.org/haven/", host_root="http://localhost/")
    for iri in sorted(mentioned):
        path = urls.served(iri).removeprefix("http://localhost")
        client.get(path, headers={"Accept": "text/html"})  # the page first: it must change nothing
        assert_released(client, path, files[iri])
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.mimetype == HTML.media_type, iri
    # the prior version's page links its RDF, which a browser's click gets in that format
    prior_page = client.get(f"/ontology/{PRIOR_VERSION}", headers={"Accept": "text/html"}).get_data(as_text=True)
    documents = re.findall(r'<a href="([^"]+)" type="([^"]+)"', prior_page)
    assert {media_type for _, media_type in documents} == {f.media_type for f in RDF_FORMATS}
    for url, media_type in documents:
        assert url.startswith(f"http://localhost/ontology/{PRIOR_VERSION}?format=")
        fmt = next(f for f in RDF_FORMATS if f.media_type == media_type)
        response = client.get(url.removeprefix("http://localhost"), headers={"Accept": BROWSER_ACCEPT})
        assert isomorphic(document_graph(client, response, fmt), Graph().parse(data=PRIOR_TURTLE, format="turtle"))
    assert client.get(f"/ontology/{PRIOR_VERSION}", headers={"Accept": "image/png"}).status_code == 406
    for missing in ("/ontology/0.9.1", "/ontology/0.9", "/ontology/..%2Fmanifest.json"):
        assert client.get(missing).status_code == 404, missing


def test_released_ontology_from_a_store_types_cardinalities_back():
    """Without the release folder (a remote store), the graph comes from the store, which gives integer
    subtypes back as xsd:integer (oxigraph#1413): the OWL cardinalities are typed as released."""
    from haven.web.dataset.catalogue import released_ontology

    restriction = BNode()
    stored = Graph()
    stored.add((URIRef(f"{ONTOLOGY}#Statement"), RDFS.subClassOf, restriction))
    stored.add((restriction, RDF.type, OWL.Restriction))
    stored.add((restriction, OWL.qualifiedCardinality, Literal("1", datatype=XSD.integer)))
    stored.add((URIRef(f"{ONTOLOGY}#footnote"), RDFS.comment, Literal("2", datatype=XSD.integer)))

    class Store:
        def graph(self, query):
            assert "graph/ontology" in query
            return stored

    graph = released_ontology(None, Store(), "https://w3id.org/haven/").graph
    assert len(graph) == len(stored)
    assert graph.value(restriction, OWL.qualifiedCardinality) == Literal("1", datatype=XSD.nonNegativeInteger)
    assert graph.value(URIRef(f"{ONTOLOGY}#footnote"), RDFS.comment) == Literal("2", datatype=XSD.integer)
