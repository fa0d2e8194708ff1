"""Stage 5b: the release's search index (`haven.search.index`), from the build's store, read the way a client
reads the release: over the graphs of the default graph only (hg:hedged names nothing)."""
from __future__ import annotations

import pyoxigraph as ox

from haven.iris import DEFAULT_GRAPHS, iris_for
from haven.search.index import extract


def search_index(store: ox.Store, base: str) -> dict:
    """The index's content (`haven.search.index.to_bytes` writes it) over the graphs the store holds of the
    default graph (the metadata graph, written later, names no entity)."""
    ns = iris_for(base)
    present = {graph.value for graph in store.named_graphs()}
    default = [ox.NamedNode(str(iri)) for name, iri in ns.graphs.items()
               if name in DEFAULT_GRAPHS and str(iri) in present]

    def select(query: str):
        solutions = store.query(query, default_graph=default)
        names = [variable.value for variable in solutions.variables]
        for solution in solutions:
            yield {name: solution[name].value for name in names if solution[name] is not None}

    return extract(select, ns)
