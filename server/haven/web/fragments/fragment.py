"""One page of a Triple Pattern Fragment, read from the Store, and the Hydra controls that describe it.

The triples are the default graph's, the one `/sparql` answers from (the union of the release's graphs but
`hg:hedged`), read with Haven's own SELECTs through the Store interface, so the embedded store and a remote
one answer alike. A page is `PAGE_SIZE` triples in a fixed order (ORDER BY the pattern's variables), and its
count (`hydra:totalItems`, `void:triples`) is exact: a COUNT of the same distinct matches.

Blank nodes cannot be named in a later request (a client's `_:b` means nothing to the server), so a fragment
writes each as a skolem IRI ``{base}.well-known/genid/{id}`` that can be. The id must be the same on every
replica, after a restart and on every store, while the labels a store gives blank nodes are not (pyoxigraph
draws new ones at each load): it is computed from the blank node's surroundings (`BlankNodes`). A pattern
naming a skolem IRI is answered from the table of triples that touch a blank node, read once per release.
"""
from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass

from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from haven import terms
from haven.iris import Iris
from haven.store.answers import to_rdflib
from haven.store.base import Store, StoreError
from haven.web.fragments.pattern import PARAMETERS, Pattern

HYDRA = Namespace(terms.HYDRA)
#: triples per page (what the reference LDF server sends)
PAGE_SIZE = 100
#: rounds of refinement after which blank nodes that still look alike are taken to be interchangeable
_MAX_ROUNDS = 64
_VARIABLES = ("s", "p", "o")


@dataclass
class Fragment:
    pattern: Pattern
    page: int
    #: the page's triples (rdflib terms, blank nodes as skolem IRIs), in the fragment's order
    triples: list[tuple]
    #: how many triples match the pattern (exact)
    total: int

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_next(self) -> bool:
        return self.page * PAGE_SIZE < self.total


class StaleBlankNodes(StoreError):
    """The store named a blank node the table does not know: its labels changed (the embedded store
    swapped its copy for the on-disk one), so the table is read again."""


class BlankNodes:
    """Every triple of the default graph that touches a blank node, with a stable id for each blank node.

    The id is a colour refinement (1-dimensional Weisfeiler-Leman) over those triples: a blank node starts
    with a hash of its triples, the other blank nodes blanked out, and each round folds in its neighbours'
    colours until the partition stops splitting. In Haven's data every blank node hangs off a named resource
    (evidence → selector, involvement, OWL lists), so the ids tell every blank node apart but true duplicates,
    which then share one skolem IRI."""

    QUERY = "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o FILTER (isBlank(?s) || isBlank(?o)) }"

    def __init__(self, triples: list[tuple]):
        self.triples = triples
        self.id_of = _colours(triples)
        self.labels: dict[str, set[BNode]] = defaultdict(set)
        for node, blank_id in self.id_of.items():
            self.labels[blank_id].add(node)
        self.by_subject: dict[BNode, list[tuple]] = defaultdict(list)
        self.by_object: dict[BNode, list[tuple]] = defaultdict(list)
        for triple in triples:
            if isinstance(triple[0], BNode):
                self.by_subject[triple[0]].append(triple)
            if isinstance(triple[2], BNode):
                self.by_object[triple[2]].append(triple)

    @classmethod
    def read(cls, store: Store) -> "BlankNodes":
        return cls([(row["s"], row["p"], row["o"]) for row in store.rows(cls.QUERY)])


def _colours(triples: list[tuple]) -> dict[BNode, str]:
    edges: dict[BNode, list[tuple[str, str, object]]] = defaultdict(list)
    for s, p, o in triples:
        if isinstance(s, BNode):
            edges[s].append(("out", p.n3(), o))
        if isinstance(o, BNode):
            edges[o].append(("in", p.n3(), s))
    colour = dict.fromkeys(edges, "")
    classes = 1
    for _ in range(_MAX_ROUNDS):
        refined = {}
        for node, around in edges.items():
            lines = sorted(f"{direction} {predicate} {colour[other] if isinstance(other, BNode) else other.n3()}"
                           for direction, predicate, other in around)
            refined[node] = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:32]
        colour = refined
        split = len(set(colour.values()))
        if split == classes:
            break
        classes = split
    return colour


class BlankNodeTable:
    """The release's `BlankNodes`, read on first use and again when the store's labels change."""

    def __init__(self):
        self._table: BlankNodes | None = None
        self._lock = threading.Lock()

    def get(self, store: Store, stale: BlankNodes | None = None) -> BlankNodes:
        with self._lock:
            if self._table is None or self._table is stale:
                self._table = BlankNodes.read(store)
            return self._table


def read_fragment(store: Store, ns: Iris, pattern: Pattern, page: int, table: BlankNodeTable) -> Fragment:
    blanks = table.get(store)
    try:
        return _read(store, ns, pattern, page, blanks)
    except StaleBlankNodes:
        return _read(store, ns, pattern, page, table.get(store, stale=blanks))


def _read(store: Store, ns: Iris, pattern: Pattern, page: int, blanks: BlankNodes) -> Fragment:
    wanted = [to_rdflib(term) for term in pattern.terms()]
    skolem = [ns.skolem_id(str(term)) if isinstance(term, URIRef) else None for term in wanted]
    if skolem[0] is not None or skolem[2] is not None:
        matches = _from_table(blanks, ns, wanted, skolem)
        return Fragment(pattern, page, matches[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], len(matches))
    where = " ".join(str(term) if term is not None else f"?{name}"
                     for name, term in zip(_VARIABLES, pattern.terms()))
    variables = [f"?{name}" for name, term in zip(_VARIABLES, pattern.terms()) if term is None]
    if not variables:
        found = store.ask(f"ASK {{ {where} }}")
        return Fragment(pattern, page, [tuple(wanted)] if found and page == 1 else [], int(found))
    selected = " ".join(variables)
    total = int(store.rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT {selected} WHERE {{ {where} }} }}")
                [0]["n"])
    rows = store.rows(f"SELECT DISTINCT {selected} WHERE {{ {where} }} ORDER BY {selected} "
                      f"LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}") if (page - 1) * PAGE_SIZE < total else []
    triples = []
    for row in rows:
        triple = tuple(row[name] if term is None else term for name, term in zip(_VARIABLES, wanted))
        triples.append(tuple(_skolemised(term, ns, blanks) for term in triple))
    return Fragment(pattern, page, triples, total)


def _skolemised(term, ns: Iris, blanks: BlankNodes):
    if not isinstance(term, BNode):
        return term
    blank_id = blanks.id_of.get(term)
    if blank_id is None:
        raise StaleBlankNodes(f"blank node {term} is not in the table")
    return ns.skolem_iri(blank_id)


def _from_table(blanks: BlankNodes, ns: Iris, wanted: list, skolem: list) -> list[tuple]:
    """The triples matching a pattern that names a blank node by its skolem IRI, from the table."""
    if skolem[0] is not None:
        candidates = [t for node in blanks.labels.get(skolem[0], ()) for t in blanks.by_subject[node]]
    else:
        candidates = [t for node in blanks.labels.get(skolem[2], ()) for t in blanks.by_object[node]]
    found = set()
    for triple in candidates:
        written = tuple(_skolemised(term, ns, blanks) for term in triple)
        if all(want is None or want == got for want, got in zip(wanted, written)):
            found.add(written)
    return sorted(found, key=lambda t: tuple(term.n3() for term in t))


# -- the document: data, and Hydra controls in a graph of their own ------------------------------------------

@dataclass(frozen=True)
class FragmentUrls:
    """Where this host serves fragments, and the URL the client asked for (the page's own identity, as the
    client will look it up in the controls)."""

    endpoint: str
    requested: str

    @property
    def dataset(self) -> URIRef:
        return URIRef(self.endpoint + "#dataset")

    def page(self, pattern: Pattern, page: int) -> URIRef:
        query = pattern.query_string(page)
        return URIRef(self.endpoint + ("?" + query if query else ""))


def template(endpoint: str) -> str:
    """The RFC 6570 template of every fragment of this endpoint."""
    return endpoint + "{?" + ",".join(PARAMETERS) + "}"


def add_search_form(graph: Graph, collection: URIRef, endpoint: str) -> None:
    """`collection hydra:search` the form that names any triple pattern: what a TPF client looks for (also
    in VoID, about the dataset)."""
    form = URIRef(endpoint + "#triple-pattern")
    graph.bind("hydra", HYDRA)
    graph.add((collection, HYDRA.search, form))
    graph.add((form, HYDRA.template, Literal(template(endpoint))))
    graph.add((form, HYDRA.variableRepresentation, HYDRA.ExplicitRepresentation))
    for name in PARAMETERS:
        mapping = URIRef(f"{endpoint}#{name}")
        graph.add((form, HYDRA.mapping, mapping))
        graph.add((mapping, HYDRA.variable, Literal(name)))
        graph.add((mapping, HYDRA.property, RDF[name]))


def fragment_dataset(fragment: Fragment, urls: FragmentUrls, ns: Iris) -> Dataset:
    """The page as a dataset: its triples in the default graph, the controls and counts in the graph
    ``<page>#metadata``, whose primary topic is the fragments' dataset (how Comunica finds them)."""
    dataset = ns.bind(Dataset())
    for triple in fragment.triples:
        dataset.default_graph.add(triple)
    page = URIRef(urls.requested)
    meta = dataset.graph(URIRef(urls.requested + "#metadata"))
    meta.add((meta.identifier, FOAF.primaryTopic, urls.dataset))
    meta.add((urls.dataset, RDF.type, VOID.Dataset))
    meta.add((urls.dataset, RDF.type, HYDRA.Collection))
    meta.add((urls.dataset, VOID.subset, page))
    meta.add((urls.dataset, RDFS.seeAlso, ns.dataset_iri))
    add_search_form(meta, urls.dataset, urls.endpoint)
    fragment_iri = urls.page(fragment.pattern, 1)
    meta.add((page, RDF.type, HYDRA.PartialCollectionView))
    meta.add((page, DCTERMS.title, Literal(title(fragment.pattern), lang="en")))
    meta.add((page, DCTERMS.source, urls.dataset))
    for about in {page, fragment_iri}:
        meta.add((about, HYDRA.totalItems, Literal(fragment.total, datatype=XSD.integer)))
        meta.add((about, VOID.triples, Literal(fragment.total, datatype=XSD.integer)))
    meta.add((page, HYDRA.itemsPerPage, Literal(PAGE_SIZE, datatype=XSD.integer)))
    if page != fragment_iri:
        meta.add((fragment_iri, HYDRA.view, page))
    meta.add((page, HYDRA.first, urls.page(fragment.pattern, 1)))
    meta.add((page, HYDRA.last, urls.page(fragment.pattern, fragment.last_page)))
    if fragment.page > 1:
        meta.add((page, HYDRA.previous, urls.page(fragment.pattern, min(fragment.page - 1, fragment.last_page))))
    if fragment.has_next:
        meta.add((page, HYDRA.next, urls.page(fragment.pattern, fragment.page + 1)))
    return dataset


def title(pattern: Pattern) -> str:
    shown = " ".join(str(term) if term is not None else f"?{name}" for name, term in zip(_VARIABLES, pattern.terms()))
    return f"Haven triples matching {{ {shown} }}"


def union(dataset: Dataset) -> Graph:
    """Data and controls as one graph, for the formats without named graphs (the specification allows it)."""
    graph = Graph()
    for prefix, namespace in dataset.namespaces():
        graph.bind(prefix, namespace, override=True, replace=True)
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph
