"""One page of a Triple Pattern Fragment, read from the Store, and the Hydra controls that describe it.

The triples are the default graph's, the one `/sparql` answers from (the union of the release's graphs but
`hg:hedged`), read with Haven's own SELECTs through the Store interface, so the embedded store and a remote
one answer alike. A page is `PAGE_SIZE` triples in a fixed order (`read_fragment`), and its
count (`hydra:totalItems`, `void:triples`) is exact: a COUNT of the same distinct matches.

Blank nodes cannot be named in a later request (a client's `_:b` means nothing to the server), so a fragment
writes each as a skolem IRI ``{base}.well-known/genid/{id}`` that can be. The id must be the same on every
replica, after a restart and on every store, while the labels a store gives blank nodes are not (pyoxigraph
draws new ones at each load, and the embedded store swaps its first copy for the on-disk one): it is computed
from the blank node's surroundings (`BlankNodes`), and the triples that touch a blank node are served from
that table, read once per release, never from a store query whose order would follow the labels.
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
from haven.store.base import Store
from haven.web.fragments.pattern import PARAMETERS, Pattern

HYDRA = Namespace(terms.HYDRA)
#: triples per page (what the reference LDF server sends)
PAGE_SIZE = 100
#: rounds of refinement after which blank nodes that still look alike are taken to be interchangeable
_MAX_ROUNDS = 64
#: seconds the blank-node table may take to read (once per release; 4 s at 128k triples on a loaded machine,
#: past the query timeout Haven's own queries get from a million triples on)
TABLE_TIMEOUT_S = 300.0
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


class BlankNodes:
    """Every triple of the default graph that touches a blank node, with a stable id for each blank node,
    read once per release.

    The id is a colour refinement (1-dimensional Weisfeiler-Leman) over those triples: a blank node starts
    with a hash of its triples, the other blank nodes blanked out, and each round folds in its neighbours'
    colours until the partition stops splitting. In Haven's data every blank node hangs off a named resource
    (evidence → selector, involvement, OWL lists), so the ids tell every blank node apart but true duplicates,
    which then share one skolem IRI. The table's triples, written with skolem IRIs and sorted, are the first
    part of every fragment (`read_fragment`), so their order does not depend on the store's labels either."""

    QUERY = "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o FILTER (isBlank(?s) || isBlank(?o)) }"

    def __init__(self, triples: list[tuple], ns: Iris):
        written_as: dict = {}  # each term's N-Triples form, computed once (rdflib's n3() is slow)

        def text(term) -> str:
            found = written_as.get(term)
            if found is None:
                found = written_as[term] = term.n3()
            return found

        self.id_of = _colours(triples, text)
        skolem = {node: ns.skolem_iri(blank_id) for node, blank_id in self.id_of.items()}
        written = {tuple(skolem.get(term, term) for term in triple) for triple in triples}
        #: the triples with skolem IRIs, in the fragments' order, and indexed by the positions a pattern binds
        self.triples = sorted(written, key=lambda triple: (text(triple[0]), text(triple[1]), text(triple[2])))
        self._index: dict[tuple[int, object], list[tuple]] = defaultdict(list)
        for triple in self.triples:
            for position in (0, 1, 2):
                self._index[position, triple[position]].append(triple)

    @classmethod
    def read(cls, store: Store, ns: Iris) -> "BlankNodes":
        rows = store.rows(cls.QUERY, timeout=max(store.query_timeout, TABLE_TIMEOUT_S))
        return cls([(row["s"], row["p"], row["o"]) for row in rows], ns)

    def matching(self, wanted: list) -> list[tuple]:
        """The table's triples that match a pattern (rdflib terms, None for any), in order."""
        bound = [(position, term) for position, term in enumerate(wanted) if term is not None]
        if not bound:
            return self.triples
        candidates = min((self._index.get(key, []) for key in bound), key=len)
        return [t for t in candidates if all(t[position] == term for position, term in bound)]


class BlankNodeTable:
    """The release's `BlankNodes`, read once: the first requests of a release (a TPF client sends several at
    once) wait for one read rather than each making its own."""

    def __init__(self):
        self._lock = threading.Lock()
        self._table: BlankNodes | None = None

    def get(self, store: Store, ns: Iris) -> BlankNodes:
        with self._lock:
            if self._table is None:
                self._table = BlankNodes.read(store, ns)
            return self._table


def _colours(triples: list[tuple], text) -> dict[BNode, str]:
    # blank nodes as numbers, and what does not change between rounds (direction, predicate, a named
    # neighbour) written once: a round is then string work only
    number: dict[BNode, int] = {}
    for s, _, o in triples:
        for term in (s, o):
            if isinstance(term, BNode) and term not in number:
                number[term] = len(number)
    edges: list[list[tuple[str, int]]] = [[] for _ in number]
    for s, p, o in triples:
        if isinstance(s, BNode):
            edges[number[s]].append((f"out {text(p)} ", number[o]) if isinstance(o, BNode)
                                    else (f"out {text(p)} {text(o)}", -1))
        if isinstance(o, BNode):
            edges[number[o]].append((f"in {text(p)} ", number[s]) if isinstance(s, BNode)
                                    else (f"in {text(p)} {text(s)}", -1))
    colour = [""] * len(number)
    classes = 1
    for _ in range(_MAX_ROUNDS):
        refined = []
        for around in edges:
            lines = sorted(fixed + colour[other] if other >= 0 else fixed for fixed, other in around)
            refined.append(hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:32])
        colour = refined
        split = len(set(colour))
        if split == classes:
            break
        classes = split
    return {node: colour[i] for node, i in number.items()}


def read_fragment(store: Store, ns: Iris, pattern: Pattern, page: int, blanks: BlankNodes) -> Fragment:
    """A page of the fragment: first the matching triples that touch a blank node (from the table, in the
    order of their skolem IRIs), then the others from the store (ORDER BY the pattern's variables), so that
    the order, the pages and the counts are the same on every replica and every store."""
    if pattern.matches_nothing:
        return Fragment(pattern, page, [], 0)
    wanted = [to_rdflib(term) for term in pattern.terms()]
    first = blanks.matching(wanted)
    start, stop = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
    triples = first[start:stop]
    if any(isinstance(term, URIRef) and ns.skolem_id(str(term)) for term in wanted):
        return Fragment(pattern, page, triples, len(first))  # a blank node's triples are all in the table
    where = " ".join(str(term) if term is not None else f"?{name}"
                     for name, term in zip(_VARIABLES, pattern.terms()))
    variables = [f"?{name}" for name, term in zip(_VARIABLES, pattern.terms()) if term is None]
    if not variables:
        found = store.ask(f"ASK {{ {where} }}")
        return Fragment(pattern, page, triples + ([tuple(wanted)] if found and page == 1 else []), int(found))
    named = " ".join(f"FILTER (!isBlank(?{name}))" for name, term in zip(_VARIABLES, pattern.terms())
                     if term is None and name != "p")
    selected = " ".join(variables)
    rest = int(store.rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT {selected} WHERE {{ {where} {named} }} }}")
               [0]["n"])
    offset, limit = max(0, start - len(first)), stop - max(start, len(first))
    if limit > 0 and offset < rest:
        for row in store.rows(f"SELECT DISTINCT {selected} WHERE {{ {where} {named} }} ORDER BY {selected} "
                              f"LIMIT {limit} OFFSET {offset}"):
            triples.append(tuple(row[name] if term is None else term for name, term in zip(_VARIABLES, wanted)))
    return Fragment(pattern, page, triples, len(first) + rest)


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
