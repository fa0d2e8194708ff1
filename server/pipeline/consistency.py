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
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from haven.namespaces import compact, namespaces
from haven.pipeline import BuildError


@dataclass
class Consistency:
    axioms: int
    unsatisfiable: list[str]


def check_consistency(ontology: Graph, data: Graph, derived: Graph, base: str) -> Consistency:
    import owlready2  # a heavy import (and a JVM), so only paid when the stage runs

    union = Graph()
    for graph in (ontology, data, derived):
        union += graph
    # owlready2 would try to download imports; everything the reasoner may use is already in the union
    union.remove((None, OWL.imports, None))
    prefixes = namespaces(base).prefixes()
    with tempfile.TemporaryDirectory(prefix="haven-owl-") as tmp:
        path = Path(tmp) / "haven.nt"
        union.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
                world.get_ontology(path.as_uri()).load()
                # xsd:date is not in the OWL 2 datatype map; the dates are checked by SHACL instead
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                               ignore_unsupported_datatypes=True)
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
