"""The build's one pyoxigraph store, and rdflib views of its graphs for the stages that need rdflib.

A build holds its sources in a single in-memory :class:`pyoxigraph.Store`, one named graph per part
(ontology, data, shapes, then derived): at a million triples rdflib graphs of the data cost most of the build's
time and memory, while pyoxigraph parses, joins and serialises them in seconds. pySHACL and HermiT work on
rdflib graphs, so the stages that run them (on builds small enough for them) ask for a view; nothing else
converts. Blank nodes keep the store's ids in a view (``BNode(value)``), so a finding reported against a
view names the same node as the store.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pyoxigraph as ox
from rdflib import Graph

from haven.iris import iris_for
from haven.formats import N_TRIPLES
from haven.store.answers import oxigraph_format, to_rdflib

#: where each source part lives in the build's store (data under its published name, so the derive and
#: validate queries read the same graph names as the release)
PARTS = ("ontology", "data", "shapes")


def graph_name(base: str, part: str) -> ox.NamedNode:
    ns = iris_for(base)
    return ox.NamedNode(str(ns.shapes_iri if part == "shapes" else ns.graphs[part]))


def view(store: ox.Store, name: ox.NamedNode, base: str) -> Graph:
    """An rdflib copy of one graph of the store (a copy: later changes to the store do not show). The store
    writes integer subtypes as xsd:integer: for source parts use :func:`view_of_text`."""
    return _rdflib_graph((q.triple for q in store.quads_for_pattern(None, None, None, name)), base)


def view_of_text(ntriples: bytes, base: str) -> Graph:
    """An rdflib graph of N-Triples text, blank nodes keeping their labels (the store's ids for the same nodes)."""
    return _rdflib_graph((q.triple for q in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)), base)


def _rdflib_graph(triples, base: str) -> Graph:
    graph = iris_for(base).bind(Graph())
    memo: dict = {}

    def term(node):
        found = memo.get(node)
        if found is None:
            found = memo[node] = to_rdflib(node)
        return found

    graph.addN((term(s), term(p), term(o), graph) for s, p, o in triples)
    return graph


def store_of(named: dict[ox.NamedNode, Graph]) -> ox.Store:
    """A store of rdflib graphs (tests, and callers holding small rdflib graphs), by way of N-Triples."""
    store = ox.Store()
    for name, graph in named.items():
        store.load(graph.serialize(format=N_TRIPLES.rdflib, encoding="utf-8"), format=oxigraph_format(N_TRIPLES), to_graph=name)
    return store


def size(store: ox.Store, name: ox.NamedNode) -> int:
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name.value}> {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))["n"].value)


#: a scratch graph holding a copy of several graphs while the checks run (see :func:`merged`)
MERGED = ox.NamedNode("urn:x-haven:build:merged")


@contextmanager
def merged(store: ox.Store, names: list[ox.NamedNode]) -> Iterator[list[ox.NamedNode]]:
    """The graphs `names` copied into one scratch graph for as long as the block runs, as a one-graph union.

    Oxigraph matches each triple pattern against every graph of a query's default graph; with the three
    graphs the checks read, SHACL at 1M took 72 s, against 43 s on one graph holding their union (+3.8 s to
    copy, and the memory of a second copy while the checks run)."""
    store.remove_graph(MERGED)
    values = " ".join(f"<{name.value}>" for name in names)
    store.update(f"INSERT {{ GRAPH <{MERGED.value}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
    try:
        yield [MERGED]
    finally:
        store.remove_graph(MERGED)
