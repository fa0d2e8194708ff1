"""Namespace constants and the base-IRI rewriting used when a build publishes under another base.

Source files are always written against :data:`DEFAULT_BASE`. Everything that needs a namespace at run
time asks :func:`namespaces` for the set that matches the configured base, so nothing downstream has to
know whether a build was rebased.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS, XSD, DCTERMS, FOAF, VOID, DCAT, TIME

from haven.config import DEFAULT_BASE

ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
OA = Namespace("http://www.w3.org/ns/oa#")
VANN = Namespace("http://purl.org/vocab/vann/")
SH = Namespace("http://www.w3.org/ns/shacl#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
WIKIDATA = Namespace("http://www.wikidata.org/entity/")
DBPEDIA = Namespace("http://dbpedia.org/resource/")

#: external vocabularies of the contract, by their usual prefix
EXTERNAL = {
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS, "foaf": FOAF,
    "prov": PROV, "org": ORG, "schema": SCHEMA, "oa": OA, "vann": VANN, "void": VOID, "dcat": DCAT,
    "time": TIME, "sh": SH, "sd": SD, "wd": WIKIDATA, "dbr": DBPEDIA,
}


@dataclass(frozen=True)
class HavenNamespaces:
    """The Haven namespaces under one base (which ends with '/')."""

    base: str

    @property
    def haven(self) -> Namespace:
        return Namespace(f"{self.base}ontology#")

    @property
    def ontology_iri(self) -> URIRef:
        return URIRef(f"{self.base}ontology")

    @property
    def hsh(self) -> Namespace:
        return Namespace(f"{self.base}shapes#")

    @property
    def shapes_iri(self) -> URIRef:
        return URIRef(f"{self.base}shapes")

    @property
    def hid(self) -> Namespace:
        return Namespace(f"{self.base}id/")

    @property
    def hst(self) -> Namespace:
        return Namespace(f"{self.base}id/statement/")

    @property
    def hg(self) -> Namespace:
        return Namespace(f"{self.base}graph/")

    @property
    def graphs(self) -> dict[str, URIRef]:
        """The named graphs of a build, in the order they are written."""
        return {name: self.hg[name] for name in ("ontology", "data", "derived", "metadata")}

    def prefixes(self) -> dict[str, str]:
        """Prefix → namespace IRI, Haven's first, for serialisers and readable output."""
        own = {"haven": self.haven, "hsh": self.hsh, "hst": self.hst, "hid": self.hid, "hg": self.hg}
        return {p: str(ns) for p, ns in {**own, **EXTERNAL}.items()}

    def bind(self, graph: Graph) -> Graph:
        for prefix, iri in self.prefixes().items():
            graph.bind(prefix, iri, override=True, replace=True)
        return graph


@lru_cache(maxsize=8)
def namespaces(base: str = DEFAULT_BASE) -> HavenNamespaces:
    return HavenNamespaces(base if base.endswith("/") else base + "/")


def compact(iri: str, prefixes: dict[str, str]) -> str:
    """`haven:Person` for a known namespace, `<iri>` otherwise (longest namespace wins)."""
    best = max((ns for ns in prefixes.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return f"<{iri}>"
    local = iri[len(best):]
    prefix = next(p for p, ns in prefixes.items() if ns == best)
    # a local name Turtle would reject is shown in full rather than as a misleading CURIE
    if local and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", local) or local.endswith("."):
        return f"<{iri}>"
    return f"{prefix}:{local}"


# A literal that is nothing but one of our IRIs (vann:preferredNamespaceUri, xsd:anyURI values) names that
# IRI and must follow it to the new base; text that merely mentions the IRI is left as written.
_IRI_ONLY = re.compile(r"\S+")


def rebase_term(term, old: str, new: str):
    if isinstance(term, URIRef):
        return URIRef(new + term[len(old):]) if term.startswith(old) else term
    if isinstance(term, Literal) and term.startswith(old) and _IRI_ONLY.fullmatch(str(term)):
        if term.datatype in (None, XSD.anyURI, XSD.string) and term.language is None:
            return Literal(new + str(term)[len(old):], datatype=term.datatype)
    return term


def rebase_ox(term, old: str, new: str):
    """:func:`rebase_term` for pyoxigraph terms (the build's store), by the same rules."""
    if isinstance(term, ox.NamedNode):
        return ox.NamedNode(new + term.value[len(old):]) if term.value.startswith(old) else term
    if isinstance(term, ox.Literal) and not term.language and term.value.startswith(old) \
            and term.datatype.value in (str(XSD.anyURI), str(XSD.string)) and _IRI_ONLY.fullmatch(term.value):
        return ox.Literal(new + term.value[len(old):], datatype=term.datatype)
    return term


def rebase_graph(graph: Graph, new: str, old: str = DEFAULT_BASE) -> Graph:
    """A copy of `graph` with every IRI under `old` moved under `new` (the graph itself when they match)."""
    if new == old:
        return graph
    out = Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, rebase_term(URIRef(ns), old, new), override=True, replace=True)
    for s, p, o in graph:
        out.add((rebase_term(s, old, new), rebase_term(p, old, new), rebase_term(o, old, new)))
    return out
