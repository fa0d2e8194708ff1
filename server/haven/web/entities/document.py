"""The RDF document about one entity, built with Haven's own CONSTRUCTs through the Store interface.

DESCRIBE differs from store to store, so the document is defined here (a bounded, symmetric description):

1. the entity's own triples, with the blank nodes they lead to (evidence → selector), closed to depth 3;
2. its statement nodes, as subject or object, with their evidence, provenance and blank-node closure;
3. the incoming triples from other named resources (``?s ?p <entity>``);
4. ``rdfs:label``/``skos:prefLabel`` of every other IRI the document mentions (parties, places, properties,
   classes), so that a client can show names without a second round-trip.

Sections 2 and 3 are capped; when a cap is hit the document says so (``dcterms:description`` on the document
node, and `EntityDocument.capped`). The only text ever embedded in a query is an IRI built from the configured
base and a slug that matched :data:`haven.iris.SLUG_PATTERN`, or an IRI read back from the store and checked
by :func:`haven.iris.sparql_iri`.
"""
from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, VOID, XSD

from haven.iris import UrlMap, iris_for, is_embeddable, sparql_iri
from haven.store.base import Store

#: most statement nodes a document carries (the busiest entities have far fewer)
MAX_STATEMENTS = 400
#: most incoming triples a document carries (the source document is the object of every wasDerivedFrom)
MAX_INCOMING = 1000
#: IRIs per label query, so that one VALUES block stays a reasonable size
_LABEL_BATCH = 300

LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")

# The closure of blank nodes hanging off ?x (evidence → selector → ...), to a fixed depth that covers the
# contract's deepest structure (statement → evidence → selector) with one level to spare.
_BNODE_CLOSURE = """
  OPTIONAL { ?o1 ?p2 ?o2 . FILTER(isBlank(?o1))
    OPTIONAL { ?o2 ?p3 ?o3 . FILTER(isBlank(?o2))
      OPTIONAL { ?o3 ?p4 ?o4 . FILTER(isBlank(?o3)) } } }
"""
_BNODE_TEMPLATE = "?o1 ?p2 ?o2 . ?o2 ?p3 ?o3 . ?o3 ?p4 ?o4 ."


@dataclass
class EntityDocument:
    iri: URIRef
    graph: Graph
    capped: bool
    statements: list[URIRef]


def exists(store: Store, iri: URIRef) -> bool:
    """An IRI is one of ours to serve when it is the subject of at least one triple."""
    return store.ask(f"ASK {{ {sparql_iri(iri)} ?p ?o }}")


def continuity_record(store: Store, iri: URIRef, base: str) -> dict:
    """What the data says about where a published IRI went (`haven.pipeline.continuity`): ``sameAs`` (the
    slug it moved to), ``replacedBy`` (its successor's slug) and ``deprecated``; {} for an IRI in use."""
    hid = str(iris_for(base).hid)
    record: dict = {}
    for row in store.rows(f"""
SELECT ?p ?o WHERE {{ {sparql_iri(iri)} ?p ?o .
  FILTER(?p IN (<{OWL.sameAs}>, <{DCTERMS.isReplacedBy}>, <{OWL.deprecated}>)) }}"""):
        prop, value = str(row["p"]), row["o"]
        if prop == str(OWL.deprecated):
            record["deprecated"] = record.get("deprecated") or str(value).lower() in ("true", "1")
        elif isinstance(value, URIRef) and str(value).startswith(hid) and value != iri:
            record["sameAs" if prop == str(OWL.sameAs) else "replacedBy"] = str(value)[len(hid):]
    return {key: value for key, value in record.items() if value}


def _own_triples(store: Store, subject: str) -> Graph:
    return store.graph(f"""
CONSTRUCT {{ ?s ?p1 ?o1 . {_BNODE_TEMPLATE} }}
WHERE {{ VALUES ?s {{ {subject} }} ?s ?p1 ?o1 . {_BNODE_CLOSURE} }}""")


def _statement_nodes(store: Store, iri: str, haven: str) -> tuple[list[URIRef], bool]:
    rows = store.rows(f"""
SELECT DISTINCT ?st WHERE {{
  {{ ?st <{haven}subject> {iri} }} UNION {{ ?st <{haven}object> {iri} }}
  UNION {{ ?st <{haven}involves>/<{haven}participant> {iri} }}
}} ORDER BY ?st LIMIT {MAX_STATEMENTS + 1}""")
    nodes = [r["st"] for r in rows if isinstance(r.get("st"), URIRef) and is_embeddable(r["st"])]
    return nodes[:MAX_STATEMENTS], len(nodes) > MAX_STATEMENTS


def _statements(store: Store, nodes: list[URIRef]) -> Graph:
    if not nodes:
        return Graph()
    values = " ".join(sparql_iri(n) for n in nodes)
    return store.graph(f"""
CONSTRUCT {{ ?s ?p1 ?o1 . {_BNODE_TEMPLATE} }}
WHERE {{ VALUES ?s {{ {values} }} ?s ?p1 ?o1 . {_BNODE_CLOSURE} }}""")


def _incoming(store: Store, iri: str) -> tuple[Graph, bool]:
    rows = store.rows(f"""
SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {iri} . FILTER(isIRI(?s)) }}
ORDER BY ?p ?s LIMIT {MAX_INCOMING + 1}""")
    g = Graph()
    for row in rows[:MAX_INCOMING]:
        g.add((row["s"], row["p"], URIRef(iri[1:-1])))
    return g, len(rows) > MAX_INCOMING


def labels(store: Store, iris) -> Graph:
    """rdfs:label and skos:prefLabel of the given IRIs (those safe to embed), as triples."""
    wanted = sorted({str(i) for i in iris if isinstance(i, URIRef) and is_embeddable(i)})
    g = Graph()
    for start in range(0, len(wanted), _LABEL_BATCH):
        values = " ".join(f"<{i}>" for i in wanted[start:start + _LABEL_BATCH])
        g += store.graph(f"""
CONSTRUCT {{ ?x <{RDFS.label}> ?l . ?x <{SKOS.prefLabel}> ?pl . }}
WHERE {{ VALUES ?x {{ {values} }}
  {{ ?x <{RDFS.label}> ?l }} UNION {{ ?x <{SKOS.prefLabel}> ?pl }} }}""")
    return g


def entity_document(store: Store, urls: UrlMap, iri: URIRef, slug: str | None = None) -> EntityDocument:
    """The bounded document about `iri` (one of ours, already known to exist)."""
    ns = iris_for(urls.base)
    embedded = sparql_iri(iri)
    graph = ns.bind(Graph())
    graph += _own_triples(store, embedded)
    nodes, capped_statements = _statement_nodes(store, embedded, str(ns.haven))
    graph += _statements(store, nodes)
    incoming, capped_incoming = _incoming(store, embedded)
    graph += incoming

    mentioned = {t for triple in graph for t in triple if isinstance(t, URIRef) and t != iri}
    graph += labels(store, mentioned)

    capped = capped_statements or capped_incoming
    if slug is not None:
        _add_document_facts(graph, urls, slug, iri, capped)
    return EntityDocument(iri=iri, graph=graph, capped=capped, statements=nodes)


def _add_document_facts(graph: Graph, urls: UrlMap, slug: str, iri: URIRef, capped: bool) -> None:
    """Say what the document is (and that it is partial when capped): the httpRange-14 document/thing split."""
    doc = urls.document_iri(slug)
    graph.add((doc, RDF.type, FOAF.Document))
    graph.add((doc, FOAF.primaryTopic, iri))
    graph.add((doc, DCTERMS.license, LICENCE))
    graph.add((doc, DCTERMS.isPartOf, URIRef(urls.dataset_iri)))
    if capped:
        graph.add((doc, DCTERMS.description, Literal(
            f"Partial description: at most {MAX_STATEMENTS} statement nodes and {MAX_INCOMING} incoming "
            "triples are included; query the SPARQL endpoint for the rest.", lang="en")))
        graph.add((doc, VOID.triples, Literal(len(graph) + 1, datatype=XSD.integer)))

