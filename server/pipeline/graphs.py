"""The build's one pyoxigraph store, and rdflib views of its graphs for the stages that need rdflib.

A build holds its sources in a single in-memory :class:`pyoxigraph.Store`, one named graph per part
(ontology, data, shapes, then derived): at a million triples rdflib graphs of the data cost most of the build's
time and memory, while pyoxigraph parses, joins and serialises them in seconds. pySHACL and HermiT work on
rdflib graphs, so the stages that run them (on builds small enough for them) ask for a view; nothing else
converts. Blank nodes keep the store's ids in a view (``BNode(value)``), so a finding reported against a
view names the same node as the store.
"""
from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from haven.namespaces import namespaces

#: where each source part lives in the build's store (data under its published name, so the derive and
#: validate queries read the same graph names as the release)
PARTS = ("ontology", "data", "shapes")


def graph_name(base: str, part: str) -> ox.NamedNode:
    ns = namespaces(base)
    return ox.NamedNode(str(ns.shapes_iri if part == "shapes" else ns.graphs[part]))


def to_rdflib(node):
    if node is None:
        return None
    if isinstance(node, ox.NamedNode):
        return URIRef(node.value)
    if isinstance(node, ox.BlankNode):
        return BNode(node.value)
    if node.language:
        return Literal(node.value, lang=node.language)
    if node.datatype.value == _XSD_STRING:  # rdflib's plain literal, as its own parser gives it
        return Literal(node.value)
    return Literal(node.value, datatype=URIRef(node.datatype.value))


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def view(store: ox.Store, name: ox.NamedNode, base: str) -> Graph:
    """An rdflib copy of one graph of the store (a copy: later changes to the store do not show)."""
    graph = namespaces(base).bind(Graph())
    memo: dict = {}

    def term(node):
        found = memo.get(node)
        if found is None:
            found = memo[node] = to_rdflib(node)
        return found

    graph.addN((term(q.subject), term(q.predicate), term(q.object), graph)
               for q in store.quads_for_pattern(None, None, None, name))
    return graph


def size(store: ox.Store, name: ox.NamedNode) -> int:
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name.value}> {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))["n"].value)
