"""Canonical N-Quads and the dataset description, computed from one pyoxigraph store."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from haven.config import DEFAULT_BASE, PROJECT_ROOT
from haven.iris import iris_for
from haven.pipeline.metadata import dataset_description
from haven.pipeline.release import canonical_nquads, canonical_nquads_of
from haven.pipeline.sources import find_files

# the recordings and how they are made live in scripts/regen.py (`make regen` rewrites them)
_spec = importlib.util.spec_from_file_location("regen", PROJECT_ROOT / "scripts" / "regen.py")
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)
store_of = regen.store_of

NS = iris_for(DEFAULT_BASE)
# a plain namespace: pytest probes module globals, and rdflib's closed ones warn on unknown names
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
NAMES = ("ontology", "data", "derived", "hedged")
FIXTURES = regen.METADATA
WHEN = regen.CREATED
G1, G2 = ox.NamedNode("http://x/g1"), ox.NamedNode("http://x/g2")

# cycles (a two-cycle and an interchangeable three-cycle), twins, and twins whose children are twins
AWKWARD = """
@prefix : <http://x/> .
:a :p _:c1 . _:c1 :q _:c2 . _:c2 :q _:c1 . _:c2 :v "2" .
:a :ring _:r1 . _:r1 :next _:r2 . _:r2 :next _:r3 . _:r3 :next _:r1 .
:a :twin [ :q 1 ] , [ :q 1 ] .
:a :deep [ :s [ :t "x _:fake ." ] ] , [ :s [ :t "x _:fake ." ] ] .
"""


def store_with(text: str, graph: ox.NamedNode = G1, store: ox.Store | None = None, rename: bool = True) -> ox.Store:
    store = store if store is not None else ox.Store()
    parsed = ox.parse(text.encode(), format=ox.RdfFormat.TURTLE, rename_blank_nodes=rename)
    store.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed)
    return store


def blank_ids(store: ox.Store) -> set[str]:
    return {t.value for q in store for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)}


def quads(body: bytes) -> Dataset:
    return Dataset().parse(data=body, format="nquads")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return regen.generated_tree(tmp_path_factory.mktemp("generated") / "tree")


def rdflib_content(root: Path, store: ox.Store) -> dict[str, Graph]:
    """The same content as rdflib parses it (which keeps the literals as written)."""
    content = {}
    files = find_files(root)
    for name in ("ontology", "data"):
        content[name] = Graph()
        for path in files[name]:
            content[name].parse(path, format="turtle", publicID=DEFAULT_BASE)
    for name in ("derived", "hedged"):
        direct = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(str(NS.graphs[name])))
        content[name] = Graph().parse(data=direct, format="nt")
    return content


# -- canonical N-Quads -------------------------------------------------------------------------------

def test_same_turtle_parsed_twice_gives_the_same_bytes():
    text = (PROJECT_ROOT / "data" / "statements" / "trade.ttl").read_text()
    first, second = store_with(text), store_with(text)
    assert blank_ids(first) and not blank_ids(first) & blank_ids(second)
    assert canonical_nquads_of(first, [G1]) == canonical_nquads_of(second, [G1])


def test_cycles_and_twins_do_not_depend_on_ids_or_loading_order():
    forward = store_with(AWKWARD)
    lines = store_with(AWKWARD).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=G1).decode().splitlines()
    backward = store_with("\n".join(reversed(lines)))
    body = canonical_nquads_of(forward, [G1])
    assert body == canonical_nquads_of(backward, [G1])
    graph = quads(body).graph(URIRef(G1.value))
    assert isomorphic(graph, Graph().parse(data=AWKWARD, format="turtle"))
    assert len(set(re.findall(rb"_:g1[0-9a-f]+", body))) == 11  # every blank node keeps its own label


def test_different_content_gives_different_bytes():
    changed = AWKWARD.replace(':c2 :v "2"', ':c2 :v "3"')
    assert canonical_nquads_of(store_with(AWKWARD), [G1]) != canonical_nquads_of(store_with(changed), [G1])


def test_lines_are_sorted_unique_and_blank_labels_are_scoped_per_graph():
    text = "_:b1 <http://x/q> 1 .\n<http://x/a> <http://x/p> _:b1 .\n"
    store = ox.Store()
    for graph in (G1, G2, G1):  # the same label text in both graphs, and the first graph loaded twice
        store_with(text, graph, store, rename=False)
    body = canonical_nquads_of(store, [G2, G1, G1]).decode()
    lines = body.splitlines()
    assert lines == sorted(set(lines)) and len(lines) == 4
    labels = {line.split()[2] for line in lines if "<http://x/p>" in line}
    assert len(labels) == 2 and all(label.startswith(("_:g1", "_:g2")) for label in labels)


@pytest.mark.slow  # a generated 10k tree, in both forms
def test_store_and_rdflib_forms_agree_on_the_generated_tree(generated):
    store = store_of(generated)
    content = rdflib_content(generated, store)
    names = [ox.NamedNode(str(NS.graphs[name])) for name in NAMES]
    from_store = canonical_nquads_of(store, names)
    # the store gives back integer subtypes as xsd:integer (see canonical_nquads_of); otherwise the two
    # forms label and write the same content byte for byte (rdflib's isomorphic() takes minutes here)
    assert from_store == canonical_nquads({NS.graphs[n]: integers_as_xsd_integer(g) for n, g in content.items()})
    from_rdflib = quads(canonical_nquads({NS.graphs[name]: graph for name, graph in content.items()}))
    for name in NAMES:
        written, expected = from_rdflib.graph(NS.graphs[name]), content[name]
        assert len(written) == len(expected)
        assert {t for t in written if not any(isinstance(x, BNode) for x in t)} == \
            {t for t in expected if not any(isinstance(x, BNode) for x in t)}


def integers_as_xsd_integer(graph: Graph) -> Graph:
    subtypes = {XSD.nonNegativeInteger, XSD.positiveInteger, XSD.negativeInteger, XSD.nonPositiveInteger,
                XSD.int, XSD.long, XSD.short, XSD.byte}
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype in subtypes:
            o = Literal(str(int(o)), datatype=XSD.integer)
        out.add((s, p, o))
    return out


def test_the_store_still_rewrites_integer_subtypes():
    """If pyoxigraph keeps them one day, canonical_nquads_of's warning and the test above must change."""
    store = store_with('<http://x/a> <http://x/p> "7"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .')
    assert b'"7"^^<http://www.w3.org/2001/XMLSchema#integer>' in canonical_nquads_of(store, [G1])


# -- dataset description -----------------------------------------------------------------------------
# The fixtures are what dataset_description gave, before it read a store, for the project's own sources
# (data/ and ontology/ as of the fixture's commit) and for the generated 10k tree.

@pytest.mark.parametrize("fixture", ["project", pytest.param("generated-10k", marks=pytest.mark.slow)])
def test_description_from_the_store_is_the_recorded_one(fixture, request):
    root = PROJECT_ROOT if fixture == "project" else request.getfixturevalue("generated")
    store = store_of(root)
    expected = Graph().parse(FIXTURES / f"{fixture}.nt", format="nt")
    from_store = dataset_description(DEFAULT_BASE, store, regen.RELEASE_ID, WHEN, regen.VERSION)
    from_graphs = dataset_description(DEFAULT_BASE, rdflib_content(root, store), regen.RELEASE_ID, WHEN, regen.VERSION)
    assert set(from_store) == set(expected)
    assert set(from_graphs) == set(expected)


def test_description_counts_the_union_once_and_derived_only_properties():
    x = "http://x/"
    store = ox.Store()
    names = {name: ox.NamedNode(str(NS.graphs[name])) for name in NAMES}
    hid = str(NS.hid)
    typed = f"<{hid}a> a <{x}C> .\n<{hid}b> a <{x}C> .\n"
    store_with(typed + f"<{hid}a> <{x}p> <{hid}b> .", names["data"], store)
    store_with(f"<{hid}a> <{x}p> <{hid}b> . <{hid}b> <{x}q> <{hid}a> .", names["derived"], store)
    store_with(f"<{x}C> a <http://www.w3.org/2002/07/owl#Class> . <{hid}a> <{x}p> <{hid}b> .", names["ontology"], store)
    g = dataset_description(DEFAULT_BASE, store, "r", WHEN, "1")
    void = "http://rdfs.org/ns/void#"
    dataset = URIRef(DEFAULT_BASE + "dataset")
    # 3 data + 1 derived-only + 1 ontology-only, and the description itself: the size of the default graph
    assert g.value(dataset, URIRef(void + "triples")).toPython() == 5 + len(g)
    assert g.value(URIRef(f"{dataset}#graph-metadata"), URIRef(void + "triples")).toPython() == len(g)
    assert g.value(dataset, URIRef(void + "entities")).toPython() == 2
    partitions = {g.value(p, URIRef(void + "property")): g.value(p, URIRef(void + "triples")).toPython()
                  for p in g.objects(dataset, URIRef(void + "propertyPartition"))}
    type_ = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert partitions == {type_: 2, URIRef(x + "p"): 1, URIRef(x + "q"): 1}
    classes = {g.value(p, URIRef(void + "class")): g.value(p, URIRef(void + "entities")).toPython()
               for p in g.objects(dataset, URIRef(void + "classPartition"))}
    assert classes == {URIRef(x + "C"): 2}
    assert not list(g.objects(dataset, URIRef(void + "exampleResource")))


def test_description_counts_itself_once_in_the_default_graph():
    """Issue 10.7: VoID said 6,284 triples where the landing page, service description and dumps said 6,878 (the
    default graph, this description included). A triple both described and stated counts once."""
    store = ox.Store()
    names = {name: ox.NamedNode(str(NS.graphs[name])) for name in NAMES}
    dataset = URIRef(DEFAULT_BASE + "dataset")
    void = "http://rdfs.org/ns/void#"
    store_with(f"<{NS.hid}a> <http://x/p> <{NS.hid}b> .", names["data"], store)
    store_with(f"<{dataset}> a <{void}Dataset> .", names["ontology"], store)
    g = dataset_description(DEFAULT_BASE, store, "r", WHEN, "1")
    assert (dataset, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(void + "Dataset")) in g
    assert g.value(dataset, URIRef(void + "triples")).toPython() == 2 + len(g) - 1


# -- size: labelling is linear in the blank nodes, however deep (issue 14.15) ----------------------------------

def _hashes_for(text: str, monkeypatch) -> int:
    """How many colour hashes the canonical labelling of `text` computes (its work, counted, not timed)."""
    from haven.pipeline import release

    calls = []
    original = release._hash
    monkeypatch.setattr(release, "_hash", lambda rows: calls.append(1) or original(rows))
    canonical_nquads_of(store_with(text), [G1])
    return len(calls)


@pytest.mark.parametrize("shape", ["list", "nesting"])
def test_labelling_work_grows_linearly_with_a_long_list_or_a_deep_nesting(shape, monkeypatch):
    def text(n: int) -> str:
        if shape == "list":
            return "<http://x/a> <http://x/p> ( " + "1 " * n + ") .\n"
        return "<http://x/a> <http://x/p> " + "[ <http://x/p> " * n + '"end"' + " ]" * n + " .\n"

    small, large = (_hashes_for(text(n), monkeypatch) for n in (500, 2000))
    # refinement took a round per step of depth, each over every node: 16 times the work for 4 times the input
    assert large <= 4.5 * small, (small, large)


def test_a_large_tangle_of_labelled_blank_nodes_is_refused_with_the_limit():
    from haven.pipeline import BuildError
    from haven.pipeline.release import MAX_TANGLED_BLANK_NODES

    n = MAX_TANGLED_BLANK_NODES + 1
    ring = "".join(f"_:r{i} <http://x/next> _:r{(i + 1) % n} .\n" for i in range(n))
    with pytest.raises(BuildError, match=rf"graph g1: {n} blank nodes linked with shared nodes or cycles .*limit of "
                                         rf"{MAX_TANGLED_BLANK_NODES}"):
        canonical_nquads_of(store_with("<http://x/a> <http://x/p> _:r0 .\n" + ring), [G1])
    small = "".join(f"_:r{i} <http://x/next> _:r{(i + 1) % 8} .\n" for i in range(8))
    assert canonical_nquads_of(store_with("<http://x/a> <http://x/p> _:r0 .\n" + small), [G1]).count(b"\n") == 9
