"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

Built from what the store actually holds (its named graphs and their sizes), so it never drifts from the
data, and from the same format tables the endpoint negotiates with, so it never advertises a format that
is not served.
"""
from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID, XSD

from haven.formats import GRAPH_FORMATS, RESULT_FORMATS
from haven.store.base import Store

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

#: the formats the endpoint can answer in (what /sparql negotiates over)
ANSWER_FORMATS = RESULT_FORMATS + GRAPH_FORMATS

GRAPH_SIZES_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
UNION_SIZE_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"


def result_limit_iri(endpoint: str) -> URIRef:
    """Where a capped answer's head link points: a node of this description explaining the cap."""
    return URIRef(f"{endpoint}#result-limit")


def build(store: Store, endpoint: str, *, result_limit: int, query_timeout: float) -> Graph:
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    graph.add((service, SD.defaultEntailmentRegime, URIRef("http://www.w3.org/ns/entailment/Simple")))
    for fmt in ANSWER_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[fmt.w3c]))
    graph.add((service, DCTERMS.title, Literal("Haven SPARQL endpoint (read-only)", lang="en")))
    graph.add((
        service,
        RDFS.comment,
        Literal(
            "Read-only SPARQL 1.1 query service. SPARQL Update and SERVICE are refused; queries stop after "
            f"{query_timeout:g} s (answered 503). Without a dataset in the request the default graph is the "
            "union of the named graphs except <graph/hedged>, which holds the direct triples that only "
            "Believed, Alleged or Disputed statements support.",
            lang="en",
        ),
    ))
    limit_node = result_limit_iri(endpoint)
    graph.add((limit_node, RDFS.label, Literal("result limit", lang="en")))
    graph.add((
        limit_node,
        RDFS.comment,
        Literal(
            f"An answer holds at most {result_limit} rows or triples. A capped answer carries the HTTP header "
            f"'Haven-Result-Capped: true; limit={result_limit}' and, in JSON and XML results, a head link to "
            "this description; CSV, TSV and JSON-LD answers signal it by the header only.",
            lang="en",
        ),
    ))
    graph.add((service, RDFS.seeAlso, limit_node))

    dataset, default_graph = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    for row in store.rows(GRAPH_SIZES_QUERY):
        size = int(row["n"])
        named, described = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, row["g"]))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(size, datatype=XSD.integer)))
    # the default graph is the union of the named graphs but the hedged one: a triple in two graphs counts once
    union_size = int(store.rows(UNION_SIZE_QUERY)[0]["n"])
    graph.add((default_graph, VOID.triples, Literal(union_size, datatype=XSD.integer)))
    return graph
