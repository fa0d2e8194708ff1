"""Haven read by clients nobody on the project wrote, over real HTTP (issue 10: client conformance).

* Raptor's `rapper` parses every RDF document Haven serves in the formats it reads (every entity and
  statement document in Turtle, N-Triples and RDF/XML, the ontology, the shapes, VoID, the service
  description, a CONSTRUCT answer, the dumps) and counts the same triples as rdflib. JSON-LD is the one format
  Raptor has no parser for; PyLD reads it instead:
* PyLD expands every entity's JSON-LD, fetching the @context from its permanent IRI through a loader that
  sends the base to this server (as w3id sends a real client), to a graph isomorphic with the Turtle.
* Comunica 4.5 answers queries over `/sparql` (a SPARQL endpoint source) and over an entity URI (a Linked
  Data document it dereferences, following the 303 and fetching the context) as rdflib does on the same data.
  One difference is Comunica's: it prints the literals of a SPARQL endpoint's results without their language
  tag (`"Taliban"^^<undefined>` in TSV; the same against an Oxigraph server, and Haven's JSON and XML results
  carry `xml:lang`), so those answers are compared without tags and the tag is checked through LANG().

The suite reads the fixture release; `HAVEN_CONFORMANCE_BUILD=build` runs it on a real build instead, where
at most `MAX_ENTITIES` entities and as many statements are read (spread evenly over the sorted slugs).
SPARQLWrapper and rdflib's SPARQLStore are tested with content negotiation (tests/test_conneg_clients.py).
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse

import pytest
from pyld import jsonld
from rdflib import BNode, Dataset, Graph, Literal
from rdflib.compare import isomorphic

from haven.buildfolder import prior_ontology
from haven.formats import DUMP_FORMATS
from haven.iris import FRAGMENTS_PATH, route
from plugins.clients import (RAPPER_PARSERS, comunica, rapper_count, rdflib_count, rdflib_rows, sample)
from plugins.figures import report_line
from plugins.jsonld import pyld_graph, served_loader

pytestmark = pytest.mark.live

#: most entities (and most statements) whose documents are read on a large release
MAX_ENTITIES = 400
#: the RDF formats of an entity document that Raptor reads, by extension
ENTITY_FORMATS = {"ttl": "text/turtle", "nt": "application/n-triples", "rdf": "application/rdf+xml"}
GRAPH_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml")
#: the fragments' RDF formats Raptor reads (a fragment carries its controls in a named graph)
FRAGMENT_TYPES = ("application/trig", "application/n-quads", "text/turtle", "application/n-triples")
#: a graph answer of the endpoint, the same whatever the format (no LIMIT, so no order to depend on)
CONSTRUCT = "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s a <{haven}MilitantOrganization> ; ?p ?o }}"


def get(server, path: str, accept: str | None = None) -> tuple[bytes, str]:
    headers = {"Accept": accept} if accept else {}
    with server.get(path, headers=headers, timeout=60) as response:
        return response.read(), response.headers.get_content_type()


def wait_for(server, path: str, accept: str | None = None, patience: float = 120.0) -> tuple[bytes, str]:
    """`get`, asked again while the server is still writing the document (503 with Retry-After)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return get(server, path, accept)
        except urllib.error.HTTPError as error:
            if error.code != 503 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def release_slugs(release, base: str) -> tuple[list[str], list[str]]:
    """(entities, statements): the slugs of the `/id/` subjects of the release, sampled on a large one."""
    prefix = f"<{base}id/"
    entities, statements = set(), set()
    with open(release / "haven.nq", encoding="utf-8") as lines:
        for line in lines:
            subject = line.split(" ", 1)[0]
            if subject.startswith(prefix):
                slug = subject[len(prefix):-1]
                (statements if slug.startswith("statement/") else entities).add(slug)
    return sample(entities, MAX_ENTITIES), sample(statements, MAX_ENTITIES)


def base_of(release) -> str:
    return json.loads((release / "manifest.json").read_text("utf-8"))["base"]


def described_paths(release, base: str) -> list[str]:
    """The documents Haven serves about the dataset rather than one entity, each in every RDF format."""
    versions = [path.name[len("ontology-"):-len(".ttl")] for path in sorted(release.glob(prior_ontology("*")))]
    construct = "/sparql?" + urllib.parse.urlencode({"query": CONSTRUCT.format(haven=base + "ontology#")})
    return ["/ontology", *(f"/ontology/{v}" for v in versions), "/shapes", "/.well-known/void", "/sparql", "/releases",
            construct]


def rdf_documents(release, base: str) -> list[tuple[str, str | None, str]]:
    """(path, Accept, expected media type) of every RDF document in a format Raptor reads."""
    entities, statements = release_slugs(release, base)
    documents = [(f"/data/{slug}.{ext}", None, media) for slug in entities + statements
                 for ext, media in ENTITY_FORMATS.items()]
    documents += [(path, media, media) for path in described_paths(release, base) for media in GRAPH_TYPES]
    documents += [(f"/dumps/haven.{fmt.extension}", None, fmt.media_type) for fmt in DUMP_FORMATS
                  if fmt.media_type in RAPPER_PARSERS]
    documents += [(path, media, media) for path in fragment_paths(base) for media in FRAGMENT_TYPES]
    return documents


def fragment_paths(base: str) -> list[str]:
    """Triple Pattern Fragments: the first page of all triples, and the fragment of one entity."""
    one = urllib.parse.urlencode({"subject": base + "id/al-qaeda"})
    return [route(FRAGMENTS_PATH), f"{route(FRAGMENTS_PATH)}?{one}"]


# -- Raptor ---------------------------------------------------------------------------------------------------

def test_rapper_parses_every_rdf_document_with_rdflibs_count(conformance_server, request):
    server, release = conformance_server
    documents = rdf_documents(release, base_of(release))
    started, mismatches, triples = time.monotonic(), [], 0
    for path, accept, expected in documents:
        body, media_type = wait_for(server, path, accept)
        assert media_type == expected, (path, accept, media_type)
        count = rapper_count(body, media_type, server.url)
        triples += count
        if count != rdflib_count(body, media_type) or count == 0:
            mismatches.append((path, media_type, count, rdflib_count(body, media_type)))
    assert not mismatches, mismatches
    report_line(request.config, f"rapper: {len(documents)} RDF documents, {triples} triples, as rdflib counts "
                                f"them ({time.monotonic() - started:.1f} s)")


def test_every_dump_format_raptor_reads_is_checked():
    """The dump list above is the formats' own: a dump Raptor could read is never left out silently."""
    checked = {fmt.media_type for fmt in DUMP_FORMATS if fmt.media_type in RAPPER_PARSERS}
    assert {"text/turtle", "application/n-triples", "application/n-quads"} <= checked


# -- PyLD ---------------------------------------------------------------------------------------------------

def test_pyld_reads_every_entity_document_as_the_turtle(conformance_server, request):
    server, release = conformance_server
    base = base_of(release)
    entities, statements = release_slugs(release, base)
    fetched = []
    loader = served_loader(base, server.url)

    def counting_loader(url, options=None):
        fetched.append(url)
        return loader(url, options)

    started, different = time.monotonic(), []
    for slug in entities + statements:
        doc = json.loads(get(server, f"/data/{slug}.jsonld")[0])
        turtle = Graph().parse(data=get(server, f"/data/{slug}.ttl")[0], format="turtle")
        if not isomorphic(pyld_graph(doc, counting_loader), turtle):
            different.append(slug)
    assert not different, different
    assert set(fetched) == {base + "context.jsonld"}  # through the base, as a client behind w3id gets it
    report_line(request.config, f"PyLD: {len(entities) + len(statements)} entity JSON-LD documents isomorphic "
                                f"with their Turtle ({time.monotonic() - started:.1f} s)")


def test_pyld_reads_the_other_json_ld_documents_as_their_turtle(conformance_server):
    """The ontology (current and prior versions), shapes, VoID, service description and a CONSTRUCT answer in
    JSON-LD: PyLD's graph is rdflib's reading of the same document in Turtle."""
    server, release = conformance_server
    base = base_of(release)
    loader = served_loader(base, server.url)
    different = []
    for path in described_paths(release, base):
        doc = json.loads(get(server, path, "application/ld+json")[0])
        turtle = Graph().parse(data=get(server, path, "text/turtle")[0], format="turtle")
        if not isomorphic(pyld_graph(doc, loader), turtle):
            different.append(path)
    assert not different, different


def test_pyld_reads_the_json_ld_dump_as_the_n_quads_dump(conformance_server):
    server, release = conformance_server
    doc = json.loads(wait_for(server, "/dumps/haven.jsonld")[0])
    nquads = Dataset()
    nquads.parse(data=wait_for(server, "/dumps/haven.nq")[0], format="nquads")
    read = Dataset()
    read.parse(data=jsonld.to_rdf(doc, {"format": "application/n-quads"}), format="nquads")
    assert _ground(read) == _ground(nquads)


def test_pyld_reads_the_fragments_as_their_n_quads(conformance_server):
    server, release = conformance_server
    loader = served_loader(base_of(release), server.url)
    for path in fragment_paths(base_of(release)):
        doc = json.loads(get(server, path, "application/ld+json")[0])
        nquads = Dataset()
        nquads.parse(data=get(server, path, "application/n-quads")[0], format="nquads")
        read = Dataset()
        read.parse(data=jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader}),
                   format="nquads")
        assert _ground(read) == _ground(nquads), path


def _ground(dataset: Dataset) -> set:
    """The quads without blank nodes (their labels differ from one parse to the next), and how many there are."""
    quads = list(dataset.quads((None, None, None, None)))
    return {q for q in quads if not any(isinstance(t, BNode) for t in q)} | {len(quads)}


# -- Comunica -----------------------------------------------------------------------------------------------

def _default_graph(release) -> Graph:
    """The data a client queries: the union of the release's graphs but the hedged one (docs/architecture.md)."""
    dataset = Dataset()
    dataset.parse(release / "haven.nq", format="nquads")
    union = Graph()
    for s, p, o, g in dataset.quads((None, None, None, None)):
        if not str(g).endswith("/graph/hedged"):
            union.add((s, p, o))
    return union


@pytest.fixture(scope="module")
def self_based(self_based_server):
    return self_based_server, self_based_server.release, base_of(self_based_server.release)


ENDPOINT_QUERIES = {
    "labels": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?s ?label (LANG(?label) AS ?lang) "
              "WHERE {{ ?s a <{haven}MilitantOrganization> ; skos:prefLabel ?label }}",
    "statements": "SELECT ?st ?relation ?subject ?object ?certainty WHERE {{ ?st <{haven}relation> ?relation ; "
                  "<{haven}subject> ?subject ; <{haven}object> ?object ; <{haven}certainty> ?certainty }}",
    "dates": "SELECT ?st ?start WHERE {{ ?st <{haven}startDate> ?start }}",
    "ask": "ASK {{ ?s <{haven}alliedWith> ?o }}",
}


@pytest.mark.parametrize("name", sorted(ENDPOINT_QUERIES))
def test_comunica_on_the_sparql_endpoint_answers_as_rdflib(self_based, name):
    server, release, base = self_based
    query = ENDPOINT_QUERIES[name].format(haven=base + "ontology#")
    expected = rdflib_rows(_default_graph(release), query)
    assert expected  # a query with no answer would prove nothing
    assert without_language(comunica([f"sparql@{server.url}sparql"], query)) == without_language(expected)


def without_language(rows):
    """Comunica's endpoint answers lose the language tag of a literal (see above): compare the rest."""
    if isinstance(rows, bool):
        return rows
    return sorted(tuple((name, Literal(str(term)) if isinstance(term, Literal) and term.language else term)
                        for name, term in row) for row in rows)


def test_comunica_dereferences_an_entity_uri_as_rdflib_reads_its_document(self_based):
    server, _, base = self_based
    entity = f"{base}id/al-qaeda"
    query = (f"SELECT ?p ?o WHERE {{ <{entity}> ?p ?o FILTER(!isBlank(?o)) }}")
    incoming = (f"SELECT ?st ?relation WHERE {{ ?st <{base}ontology#object> <{entity}> ; "
                f"<{base}ontology#relation> ?relation }}")
    document = Graph().parse(data=get(server, "/data/al-qaeda.ttl")[0], format="turtle")
    for q in (query, incoming):
        expected = rdflib_rows(document, q)
        assert expected
        assert comunica([entity], q) == expected
