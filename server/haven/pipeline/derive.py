"""Stage 2: derive the direct layer (`hg:derived`, and `hg:hedged`) from the statement nodes.

Every statement ``?st haven:subject ?s ; haven:relation ?p ; haven:object ?o`` yields ``?s ?p ?o``; every
party of a multiparty statement (``?st haven:subject ?s ; haven:involves [ haven:participant ?a ;
haven:role ?r ]`` with ``?r haven:roleProperty ?p`` in the ontology) yields ``?a ?p ?s``. The ontology then
closes that set under three rules, applied until nothing new appears, so that their combinations are
covered whatever order the ontology declares them in (the superproperty of an inverse, the inverse of a
superproperty, a symmetric superproperty...):

* ``?p rdfs:subPropertyOf ?q`` (or an equivalent property): ``?s ?q ?o``;
* ``?p owl:inverseOf ?q`` or ``?q owl:inverseOf ?p``: ``?o ?q ?s``;
* ``?p a owl:SymmetricProperty``: ``?o ?p ?s``.

Each derived triple is therefore a consequence of at least one statement. The rules run as SPARQL in
pyoxigraph, which evaluates property paths and joins far faster than rdflib's engine.

The class hierarchy is materialised too (`materialise_types`): every ``?x a ?c`` of the data (``?x`` an IRI)
gives ``?x a ?d`` for each named superclass ``?d`` of ``?c`` (``rdfs:subClassOf+`` in the ontology), so that
``?s a haven:Organization`` finds the militant organisations, coalitions and state agencies as well, without
``rdfs:subClassOf*`` in every query. It runs after the checks: the shapes judge the types that were written
(a statement's relation must be the direct property of an *asserted* class), and an entailed type cannot make
a consistent release inconsistent. Those triples are part of `hg:derived`, firm whatever the certainty.

The layer is certainty-aware, as Wikidata's truthy ``wdt:`` triples keep only best-rank statements: the
closure of the statements the source states or reports (:data:`haven.iris.FIRM_CERTAINTIES`) is `hg:derived`, part of the
default graph clients query; what only the closure of *all* statements adds, the triples whose every
derivation needs a Believed, Alleged or Disputed statement, is `hg:hedged`, a named graph outside the
default graph (docs/architecture.md, "The direct layer"). The closure is monotone, so the firm closure
is contained in the full one and the difference is exactly the hedged-only triples.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pyoxigraph as ox
from rdflib import Graph

from haven.iris import FIRM_CERTAINTIES, compact, iris_for
from haven.pipeline import BuildError, graphs

# An upper bound on closure rounds: each round adds at least one step of a property chain, and no
# sensible ontology has chains this long; hitting it means the rules are looping.
MAX_ROUNDS = 50

# {firm} is a FILTER keeping the statements of the FIRM certainties, or nothing for every statement (one
# without a certainty, which SHACL refuses, counts as hedged)
SEED = """
PREFIX haven: <{haven}>
CONSTRUCT {{ ?s ?p ?o }}
WHERE {{
  {{
    GRAPH <{data}> {{ ?statement haven:subject ?s ; haven:relation ?p ; haven:object ?o }}
  }} UNION {{
    GRAPH <{data}> {{
      ?statement haven:subject ?o ; haven:involves ?involvement .
      ?involvement haven:participant ?s ; haven:role ?role .
    }}
    GRAPH <{ontology}> {{ ?role haven:roleProperty ?p }}
  }}
  OPTIONAL {{ GRAPH <{data}> {{ ?statement haven:certainty ?certainty }} }}
  {firm}
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
    store: ox.Store  # the build's store, now holding the derived graphs too
    name: ox.NamedNode  # the derived graph's name in it: the direct layer of the default graph
    hedged: ox.NamedNode  # the hedged graph's name: direct triples that only hedged statements support
    base: str
    statements: int
    seeded: int
    rounds: int

    @property
    def names(self) -> list[ox.NamedNode]:
        """Both graphs of the direct layer, which the checks judge together with the ontology and data."""
        return [self.name, self.hedged]

    @cached_property
    def graph(self) -> Graph:
        """An rdflib copy of the whole direct layer (both graphs), for the stages that need rdflib (pySHACL,
        HermiT)."""
        whole = graphs.view(self.store, self.name, self.base)
        whole += graphs.view(self.store, self.hedged, self.base)
        return whole

    @cached_property
    def size(self) -> int:
        return graphs.size(self.store, self.name) + self.hedged_size

    @cached_property
    def hedged_size(self) -> int:
        return graphs.size(self.store, self.hedged)


def derive(store: ox.Store, base: str) -> Derivation:
    """Adds the derived and hedged graphs to the build's store, which holds the ontology and data under their
    published names (:mod:`haven.pipeline.graphs`); a rerun replaces them."""
    ns = iris_for(base)
    names = {k: str(v) for k, v in ns.graphs.items()}
    derived, hedged = ox.NamedNode(names["derived"]), ox.NamedNode(names["hedged"])
    everything = ox.NamedNode(f"{names['hedged']}#closure-of-every-statement")  # scratch, removed below
    for graph in (derived, hedged, everything):
        store.remove_graph(graph)

    firm = "FILTER (?certainty IN (" + ", ".join(f"<{ns.haven[level]}>" for level in FIRM_CERTAINTIES) + "))"
    seeded, rounds = _close(store, derived, SEED.format(haven=ns.haven, firm=firm, **names), names)
    all_seeded, all_rounds = _close(store, everything, SEED.format(haven=ns.haven, firm="", **names), names)
    store.update(f"INSERT {{ GRAPH <{hedged.value}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{everything.value}> {{ ?s ?p ?o }} "
                 f"FILTER NOT EXISTS {{ GRAPH <{derived.value}> {{ ?s ?p ?o }} }} }}")
    store.remove_graph(everything)

    data = ox.NamedNode(names["data"])
    statements = len({q.subject for q in store.quads_for_pattern(None, ox.NamedNode(ns.haven.certainty), None, data)})
    check_no_hand_written_direct_triples(store, base)
    return Derivation(store, derived, hedged, base, statements, all_seeded, max(rounds, all_rounds))


def _close(store: ox.Store, graph: ox.NamedNode, seed: str, names: dict[str, str]) -> tuple[int, int]:
    """Writes the seed's triples into `graph` and closes them there; returns (seed triples, rounds)."""
    triples = {(t.subject, t.predicate, t.object) for t in store.query(seed)}
    store.extend(ox.Quad(s, p, o, graph) for s, p, o in triples)
    closure = CLOSURE.format(**{**names, "derived": graph.value})
    rounds = 0
    while True:
        new = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in store.query(closure)]
        if not new:
            return len(triples), rounds
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise BuildError(f"derive: the property closure did not settle after {MAX_ROUNDS} rounds")
        store.extend(new)


TYPE_CLOSURE = """
PREFIX rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl:  <http://www.w3.org/2002/07/owl#>
CONSTRUCT {{ ?x rdf:type ?super }}
WHERE {{
  GRAPH <{data}> {{ ?x rdf:type ?class }}
  GRAPH <{ontology}> {{ ?class rdfs:subClassOf+ ?super }}
  # IRIs only: a blank node's label is canonicalised per graph, so its copy in hg:derived would be another node
  FILTER (isIRI(?x) && isIRI(?super) && ?super NOT IN (owl:Thing, rdfs:Resource))
  FILTER NOT EXISTS {{ GRAPH <{data}> {{ ?x rdf:type ?super }} }}
}}
"""


def materialise_types(store: ox.Store, base: str) -> int:
    """Adds the RDFS subclass closure of the data's rdf:type triples to `hg:derived`; returns how many."""
    names = {k: str(v) for k, v in iris_for(base).graphs.items()}
    derived = ox.NamedNode(names["derived"])
    added = {(t.subject, t.predicate, t.object) for t in store.query(TYPE_CLOSURE.format(**names))}
    store.extend(ox.Quad(s, p, o, derived) for s, p, o in added)
    return len(added)


# rdf:type is left out of the predicates the direct layer owns: the data states types, the build only adds
# the superclasses (materialise_types)
HAND_WRITTEN = """
PREFIX haven: <{haven}>
PREFIX rdf:   <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?s ?p ?o WHERE {{
  {{ SELECT DISTINCT ?p WHERE {{ {{ GRAPH <{derived}> {{ ?a ?p ?b }} }} UNION {{ GRAPH <{hedged}> {{ ?a ?p ?b }} }}
                                UNION {{ GRAPH <{ontology}> {{ ?p haven:qualifiedBy ?c }} }}
                                FILTER (?p != rdf:type) }} }}
  GRAPH <{data}> {{ ?s ?p ?o }}
}}
ORDER BY ?s ?p ?o
"""


def check_no_hand_written_direct_triples(store: ox.Store, base: str) -> None:
    """The direct layer comes from statements only; a direct triple typed into data/ has no provenance."""
    ns = iris_for(base)
    query = HAND_WRITTEN.format(haven=ns.haven, **{k: str(v) for k, v in ns.graphs.items()})
    written = [(row["s"].value, row["p"].value, row["o"]) for row in store.query(query)]
    if not written:
        return
    prefixes = ns.prefixes()
    show = lambda term: compact(term.value, prefixes) if isinstance(term, ox.NamedNode) else str(term)  # noqa: E731
    lines = [f"  {compact(s, prefixes)} {compact(p, prefixes)} {show(o)}" for s, p, o in written[:30]]
    raise BuildError(f"{len(written)} direct triple(s) written by hand in data/ (the build derives them from "
                     "statement nodes; write a haven:Statement instead):\n" + "\n".join(lines))
