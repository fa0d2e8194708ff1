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
from functools import cached_property

import pyoxigraph as ox
from rdflib import Graph

from haven.iris import compact, iris_for
from haven.pipeline import BuildError, graphs

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
    store: ox.Store  # the build's store, now holding the derived graph too
    name: ox.NamedNode  # the derived graph's name in it
    base: str
    statements: int
    seeded: int
    rounds: int

    @cached_property
    def graph(self) -> Graph:
        """An rdflib copy of the derived graph, for the stages that need rdflib (pySHACL, HermiT)."""
        return graphs.view(self.store, self.name, self.base)

    @cached_property
    def size(self) -> int:
        return graphs.size(self.store, self.name)


def derive(store: ox.Store, base: str) -> Derivation:
    """Adds the derived graph to the build's store, which holds the ontology and data under their published
    names (:mod:`haven.pipeline.graphs`); a rerun replaces it."""
    ns = iris_for(base)
    names = {k: str(v) for k, v in ns.graphs.items()}
    derived = ox.NamedNode(names["derived"])
    store.remove_graph(derived)

    seed = [ox.Quad(t.subject, t.predicate, t.object, derived)
            for t in store.query(SEED.format(haven=ns.haven, **names))]
    store.extend(seed)
    closure = CLOSURE.format(**names)
    rounds = 0
    while True:
        new = [ox.Quad(t.subject, t.predicate, t.object, derived) for t in store.query(closure)]
        if not new:
            break
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise BuildError(f"derive: the property closure did not settle after {MAX_ROUNDS} rounds")
        store.extend(new)

    data = ox.NamedNode(names["data"])
    statements = len({q.subject for q in store.quads_for_pattern(None, ox.NamedNode(ns.haven.relation), None, data)})
    check_no_hand_written_direct_triples(store, base)
    return Derivation(store, derived, base, statements, len(set(seed)), rounds)


HAND_WRITTEN = """
PREFIX haven: <{haven}>
SELECT DISTINCT ?s ?p ?o WHERE {{
  {{ SELECT DISTINCT ?p WHERE {{ {{ GRAPH <{derived}> {{ ?a ?p ?b }} }} UNION {{ GRAPH <{ontology}> {{ ?p haven:qualifiedBy ?c }} }} }} }}
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
