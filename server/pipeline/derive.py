"""Stage 2: derive the direct layer (`hg:derived`) from the statement nodes.

Every statement ``?st haven:subject ?s ; haven:relation ?p ; haven:object ?o`` yields ``?s ?p ?o``. The
ontology then closes that set under three rules, applied until nothing new appears, so that their
combinations are covered whatever order the ontology declares them in (the superproperty of an inverse,
the inverse of a superproperty, a symmetric superproperty...):

* ``?p rdfs:subPropertyOf ?q`` (or an equivalent property): ``?s ?q ?o``;
* ``?p owl:inverseOf ?q`` or ``?q owl:inverseOf ?p``: ``?o ?q ?s``;
* ``?p a owl:SymmetricProperty``: ``?o ?p ?s``.

Each derived triple is therefore a consequence of at least one statement. The rules run as SPARQL in
pyoxigraph, which evaluates property paths and joins far faster than rdflib's engine.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, URIRef

from haven.namespaces import compact, namespaces
from haven.pipeline import BuildError

# An upper bound on closure rounds: each round adds at least one step of a property chain, and no
# sensible ontology has chains this long; hitting it means the rules are looping.
MAX_ROUNDS = 50

SEED = """
PREFIX haven: <{haven}>
CONSTRUCT {{ ?s ?p ?o }}
WHERE {{
  GRAPH <{data}> {{ ?statement haven:subject ?s ; haven:relation ?p ; haven:object ?o }}
  FILTER (isIRI(?s) && isIRI(?p) && isIRI(?o))
}}
"""

CLOSURE = """
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
CONSTRUCT {{ ?x ?q ?y }}
WHERE {{
  # each branch binds its own variables: SPARQL evaluates a UNION branch without the outer bindings
  {{
    GRAPH <{derived}> {{ ?x ?p ?y }}
    GRAPH <{ontology}> {{ ?p rdfs:subPropertyOf|owl:equivalentProperty|^owl:equivalentProperty ?q }}
  }} UNION {{
    GRAPH <{derived}> {{ ?y ?p ?x }}
    GRAPH <{ontology}> {{ ?p owl:inverseOf|^owl:inverseOf ?q }}
  }} UNION {{
    GRAPH <{derived}> {{ ?y ?q ?x }}
    GRAPH <{ontology}> {{ ?q rdf:type owl:SymmetricProperty }}
  }}
  FILTER (isIRI(?q))
  FILTER NOT EXISTS {{ GRAPH <{derived}> {{ ?x ?q ?y }} }}
}}
"""


@dataclass
class Derivation:
    graph: Graph
    statements: int
    seeded: int
    rounds: int


def to_store(store: ox.Store, graph: Graph, name: str) -> None:
    data = graph.serialize(format="nt", encoding="utf-8")
    store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))


def derive(ontology: Graph, data: Graph, base: str) -> Derivation:
    ns = namespaces(base)
    graphs = {k: str(v) for k, v in ns.graphs.items()}
    store = ox.Store()
    to_store(store, ontology, graphs["ontology"])
    to_store(store, data, graphs["data"])
    derived = ox.NamedNode(graphs["derived"])

    seed = [ox.Quad(t.subject, t.predicate, t.object, derived)
            for t in store.query(SEED.format(haven=ns.haven, **graphs))]
    store.extend(seed)
    closure = CLOSURE.format(**graphs)
    rounds = 0
    while True:
        new = [ox.Quad(t.subject, t.predicate, t.object, derived) for t in store.query(closure)]
        if not new:
            break
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise BuildError(f"derive: the property closure did not settle after {MAX_ROUNDS} rounds")
        store.extend(new)

    graph = ns.bind(Graph())
    for quad in store.quads_for_pattern(None, None, None, derived):
        graph.add((URIRef(quad.subject.value), URIRef(quad.predicate.value), URIRef(quad.object.value)))
    statements = len(set(data.subjects(ns.haven.relation)))
    check_no_hand_written_direct_triples(ontology, data, graph, base)
    return Derivation(graph, statements, len(set(seed)), rounds)


def check_no_hand_written_direct_triples(ontology: Graph, data: Graph, derived: Graph, base: str) -> None:
    """The direct layer comes from statements only; a direct triple typed into data/ has no provenance."""
    ns = namespaces(base)
    direct = set(derived.predicates()) | set(ontology.subjects(ns.haven.qualifiedBy))
    written = sorted({(s, p, o) for p in direct for s, o in data.subject_objects(p)})
    if not written:
        return
    prefixes = ns.prefixes()
    lines = [f"  {compact(s, prefixes)} {compact(p, prefixes)} {compact(o, prefixes)}" for s, p, o in written[:30]]
    raise BuildError(f"{len(written)} direct triple(s) written by hand in data/ (the build derives them from "
                     "statement nodes; write a haven:Statement instead):\n" + "\n".join(lines))
