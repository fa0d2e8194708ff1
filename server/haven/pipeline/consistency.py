"""Stage 4: OWL 2 consistency of ontology + data + derived, checked by HermiT through owlready2.

The derived layer goes in too: the domains and ranges of the direct properties, with the disjointness
axioms, are exactly what can make a statement contradict the ontology (an organisation as the subject
of ``haven:leaderOf``, whose domain is ``haven:Person``). HermiT says *that* the whole is inconsistent,
not why, so on failure a cheap pass over the asserted types names the individuals typed into disjoint
classes, the most common cause.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from haven.iris import compact, iris_for
from haven.pipeline import BuildError, graphs
from haven import terms
from haven.store.answers import to_rdflib


@dataclass
class Consistency:
    axioms: int
    unsatisfiable: list[str]


def check_consistency(ontology: Graph, data: Graph, derived: Graph, base: str) -> Consistency:
    import owlready2  # a heavy import (and a JVM), so only paid when the stage runs

    union = dl_projection(ontology, data, derived)
    # owlready2 would try to download imports; everything the reasoner may use is already in the union
    union.remove((None, OWL.imports, None))
    prefixes = iris_for(base).prefixes()
    with tempfile.TemporaryDirectory(prefix="haven-owl-") as tmp:
        path = Path(tmp) / "haven.nt"
        union.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
                world.get_ontology(path.as_uri()).load()
                # every datatype is checked: the projection holds none outside the OWL 2 datatype map
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            raise BuildError("OWL: ontology + data + derived is INCONSISTENT (HermiT)."
                             + _disjointness_hints(union, prefixes)) from None
        except owlready2.OwlReadyJavaError as exc:
            detail = _last_lines(str(exc))
            raise BuildError(f"OWL: the reasoner could not run: {detail}") from None
        unsatisfiable = sorted(compact(c.iri, prefixes) for c in world.inconsistent_classes()
                               if c is not owlready2.Nothing)
        world.close()
    if unsatisfiable:
        raise BuildError(f"OWL: {len(unsatisfiable)} unsatisfiable class(es) (equivalent to owl:Nothing): "
                         + ", ".join(unsatisfiable))
    return Consistency(len(union), unsatisfiable)


XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")


def dl_projection(*graphs: Graph) -> Graph:
    """The union of `graphs` as the reasoner reads it: OWL 2 DL, every datatype in the OWL 2 datatype map.

    The published data keeps xsd:date (SPARQL engines compare it reliably, and a day is what the source
    gives); xsd:date is not in the OWL 2 datatype map, so here each one is the xsd:dateTime of its midnight
    ("1996-01-01" → "1996-01-01T00:00:00"), which orders the same (docs/architecture.md, "OWL 2 DL").
    """
    union = Graph()
    for graph in graphs:
        union += graph
    dates = [(s, p, o) for s, p, o in union if isinstance(o, Literal) and o.datatype == XSD_DATE]
    for s, p, o in dates:
        union.remove((s, p, o))
        union.add((s, p, Literal(f"{o}T00:00:00", datatype=XSD_DATETIME)))
    return union


def disjoint_pairs(ontology: Graph) -> set[frozenset]:
    pairs = {frozenset((a, b)) for a, b in ontology.subject_objects(OWL.disjointWith)}
    for axiom in ontology.subjects(RDF.type, OWL.AllDisjointClasses):
        members = ontology.value(axiom, OWL.members)
        if members is not None:
            pairs |= {frozenset(p) for p in itertools.combinations(Collection(ontology, members), 2)}
    return pairs


def _disjointness_hints(graph: Graph, prefixes: dict[str, str]) -> str:
    pairs = disjoint_pairs(graph)
    if not pairs:
        return ""
    supers: dict[URIRef, set] = defaultdict(set)
    for individual, cls in graph.subject_objects(RDF.type):
        if isinstance(cls, URIRef):
            supers[individual] |= set(graph.transitive_objects(cls, RDFS.subClassOf))
    hints = []
    for individual, classes in sorted(supers.items(), key=lambda kv: str(kv[0])):
        for pair in sorted(pairs, key=sorted):
            if pair <= classes:
                a, b = sorted(pair)
                hints.append(f"  {compact(individual, prefixes)} is a {compact(a, prefixes)} and a "
                             f"{compact(b, prefixes)}, declared disjoint")
    if not hints:
        return ("\nNo individual is typed into two disjoint classes directly; look at the domains and ranges "
                "of the direct properties used by the statements.")
    return "\nLikely cause(s):\n" + "\n".join(hints[:20])


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "(no detail)"


# -- at scale ------------------------------------------------------------------------------------------
# HermiT over a million triples does not finish in the build budget. Above the threshold the build runs it
# on the ontology alone (TBox: is it consistent, is every class satisfiable) and checks the individuals in
# SPARQL on pyoxigraph for the ways this ontology's axioms can be contradicted by data:
#   * an individual whose types include two disjoint classes (owl:disjointWith, owl:AllDisjointClasses),
#     its types being the asserted ones, those implied by the rdfs:domain / rdfs:range of the properties it
#     is used with, and those implied by an owl:allValuesFrom restriction on a class of a node pointing at
#     it (the statement classes restrict haven:subject / haven:object), all closed under rdfs:subClassOf;
#   * a functional property (or an owl:cardinality / owl:maxCardinality / owl:qualifiedCardinality of 1)
#     with two values: two different literals contradict it; two IRIs are merged by the reasoner (no unique
#     name assumption), which contradicts only when their types together include two disjoint classes.
# Not covered, left to HermiT on small builds: consequences needing more than these one-step inferences
# (a type implied by a type implied by a merge...), owl:someValuesFrom / minimum cardinalities (never
# contradicted under the open world without closure axioms), property chains, datatype facets.

OWL_NS = terms.OWL
TYPES_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?x ?t WHERE {
  { ?x a ?t } UNION { ?x ?p ?o . ?p rdfs:domain ?t } UNION { ?s ?p ?x . ?p rdfs:range ?t FILTER (!isLiteral(?x)) }
  FILTER (isIRI(?t))
}"""
VALUES_QUERY = "SELECT ?x ?c ?p ?v WHERE {{ VALUES ?p {{ {properties} }} ?x a ?c ; ?p ?v }}"


def _restrictions(ontology: Graph) -> tuple[dict, dict]:
    """Per class (with what it inherits): {property: allValuesFrom class}, and the properties allowed one value."""
    own_all, own_one = defaultdict(set), defaultdict(set)
    for cls, restriction in ontology.subject_objects(RDFS.subClassOf):
        prop = ontology.value(restriction, OWL.onProperty)
        if prop is None:
            continue
        target = ontology.value(restriction, OWL.allValuesFrom)
        if target is not None:
            own_all[cls].add((prop, target))
        for bound in (OWL.cardinality, OWL.maxCardinality, OWL.qualifiedCardinality, OWL.maxQualifiedCardinality):
            value = ontology.value(restriction, bound)
            if value is not None and str(value) == "1" and ontology.value(restriction, OWL.onClass) in (None, OWL.Thing):
                own_one[cls].add(prop)
    every_all, every_one = {}, {}
    for cls in set(ontology.subjects(RDFS.subClassOf)) | set(own_all) | set(own_one):
        supers = set(ontology.transitive_objects(cls, RDFS.subClassOf))
        every_all[cls] = {pair for s in supers for pair in own_all.get(s, ())}
        every_one[cls] = {prop for s in supers for prop in own_one.get(s, ())}
    return every_all, every_one


def check_consistency_at_scale(store: ox.Store, union: list[ox.NamedNode], ontology: Graph, base: str) -> Consistency:
    """HermiT on `ontology`, the individuals of the graphs `union` of the build's store in SPARQL (above)."""
    prefixes = iris_for(base).prefixes()
    check_consistency(ontology, Graph(), Graph(), base)
    pairs = disjoint_pairs(ontology)
    up = lru_cache(maxsize=None)(lambda cls: frozenset(ontology.transitive_objects(URIRef(cls), RDFS.subClassOf)))
    types: dict = defaultdict(set)  # node (pyoxigraph term) → class IRIs (str)
    for row in store.query(TYPES_QUERY, default_graph=union):
        types[row["x"]].add(row["t"].value)
    every_all, every_one = _restrictions(ontology)
    functional = set(ontology.subjects(RDF.type, OWL.FunctionalProperty))
    watched = {p for pairs_ in every_all.values() for p, _ in pairs_} | functional \
        | {p for props in every_one.values() for p in props}
    values: dict = defaultdict(set)  # (node, property) → values, where at most one is allowed
    if watched:
        query = VALUES_QUERY.format(properties=" ".join(p.n3() for p in sorted(watched)))
        for row in store.query(query, default_graph=union):
            node, cls, value = row["x"], URIRef(row["c"].value), row["v"]
            prop = URIRef(row["p"].value)
            for restricted, target in every_all.get(cls, ()):
                if restricted == prop and not isinstance(value, ox.Literal):
                    types[value].add(str(target))
            if prop in functional or prop in every_one.get(cls, ()):
                values[(node, prop)].add(value)
    # many individuals share one set of types: close and judge each set once
    ordered_pairs = sorted(tuple(sorted(pair)) for pair in pairs)
    closure = lru_cache(maxsize=None)(lambda found: frozenset().union(*(up(t) for t in found)))

    @lru_cache(maxsize=None)
    def clash(classes: frozenset) -> tuple | None:
        return next(((a, b) for a, b in ordered_pairs if a in classes and b in classes), None)

    def show(node) -> str:
        return compact(node.value, prefixes) if isinstance(node, ox.NamedNode) else str(node)

    closed = {node: closure(frozenset(found)) for node, found in types.items()}
    problems = []
    for node, classes in closed.items():
        found = clash(classes)
        if found:
            problems.append(f"  {show(node)} is a {compact(found[0], prefixes)} and a "
                            f"{compact(found[1], prefixes)} (asserted, by domain/range or allValuesFrom), declared disjoint")
    for (node, prop), found in values.items():
        if len(found) < 2:
            continue
        literals = {to_rdflib(v) for v in found if isinstance(v, ox.Literal)}
        merged = frozenset().union(*(closed.get(v, frozenset()) for v in found if not isinstance(v, ox.Literal)))
        if len({v.toPython() for v in literals}) > 1 or (literals and len(found) > len(literals)) or clash(merged):
            problems.append(f"  {show(node)} has {len(found)} values of {compact(prop, prefixes)}, "
                            "which allows one (and they cannot be the same individual)")
    problems.sort()
    if problems:
        raise BuildError(f"OWL: ontology + data + derived is INCONSISTENT ({len(problems)} problem(s), "
                         "HermiT on the ontology + SPARQL on the individuals):\n" + "\n".join(problems[:40]))
    return Consistency(sum(graphs.size(store, name) for name in union), [])
