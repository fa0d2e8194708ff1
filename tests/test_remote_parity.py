"""A remote store answers exactly what the embedded store answers, for graph names wherever a query writes
them, and serves the release's documents (shapes, ontology, dumps, VoID) with no build folder on its disk.

The release here is the fixture release rebased to a base IRI of this run (so that it cannot disturb
another test's release in a shared Virtuoso) plus metadata that names the graphs *as data* (VoID's
`sd:name`, a graph as a subject, a literal spelling a graph IRI): the case that a graph-position-only
rewrite gets wrong. Each query runs on the embedded store and on every remote backend, and the parsed
answers must be equal. Backends: a real Oxigraph server, and Virtuoso when HAVEN_TEST_VIRTUOSO_URL names
one (`make test-virtuoso`).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.compare import isomorphic

from haven import buildfolder
from haven.web.app import create_app
from haven.config import Settings
from haven.publish import PublishError, publish, split_graphs
from haven.store import releases
from haven.store.base import StoreError
from haven.store.embedded import EmbeddedStore
from haven.store.remote import RemoteStore
from haven.store.rewrite import rewrite_graph_names
from plugins.answers import rdf, solutions, sparql
from plugins.pending import when_ready
from plugins.stores import start_oxigraph_server

# a plain namespace: pytest probes module globals, and rdflib's closed namespaces warn on unknown names
DCAT = Namespace("http://www.w3.org/ns/dcat#")

FIXTURE = Path(__file__).parent / "resources" / "release"
FIXTURE_BASE = "https://w3id.org/haven/"
VIRTUOSO_URL = os.environ.get("HAVEN_TEST_VIRTUOSO_URL", "")
# real servers: live tier
REMOTES = [pytest.param("oxigraph", marks=pytest.mark.live)] + ([pytest.param("virtuoso", marks=pytest.mark.live)] if VIRTUOSO_URL else [])
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


#: a prior version of the ontology the world's release keeps (with a cardinality, typed as OWL types it)
PRIOR_VERSION = "0.9.0"
PRIOR_ONTOLOGY = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{base}ontology> a owl:Ontology ; owl:versionIRI <{base}ontology/0.9.0> ; owl:versionInfo "0.9.0" .
<{base}ontology#Statement> a owl:Class ; <http://www.w3.org/2000/01/rdf-schema#subClassOf>
    [ a owl:Restriction ; owl:onProperty <{base}ontology#subject> ; owl:cardinality "1"^^xsd:nonNegativeInteger ] .
"""


def make_release(root: Path, base: str, release_id: str, *, shapes: bool = True) -> Path:
    """The fixture rebased to `base`, with graph IRIs used as data in its metadata graph."""
    metadata = f"<{base}graph/metadata>"
    lines = FIXTURE.joinpath("haven.nq").read_text("utf-8").replace(FIXTURE_BASE, base).splitlines()
    for part in releases.PARTS:
        lines.append(f"<{base}dataset#graph-{part}> <{SD}name> <{base}graph/{part}> {metadata} .")
        lines.append(f"<{base}dataset> <{VOID}subset> <{base}graph/{part}> {metadata} .")
    lines.append(f'<{base}graph/data> <{RDFS}label> "the data graph"@en {metadata} .')
    # a direct triple only a hedged statement supports: in its named graph, outside the default graph
    lines.append(f"<{base}id/al-qaeda> <{base}ontology#alliedWith> <{base}id/kabul> <{base}graph/hedged> .")
    # not a graph name: the text of a literal stays as written on every store
    lines.append(f'<{base}dataset> <{RDFS}comment> "graphs: <{base}graph/data> and more" {metadata} .')
    body = ("\n".join(sorted(set(lines))) + "\n").encode("utf-8")
    counts = dict.fromkeys(releases.canonical_graphs(base).values(), 0)
    for line in body.decode().splitlines():
        counts[line[line.rindex("<") + 1: line.rindex(">")]] += 1
    folder = root / release_id
    folder.mkdir(parents=True)
    folder.joinpath("haven.nq").write_bytes(body)
    for name in ("ontology.ttl", "shapes.ttl") if shapes else ("ontology.ttl",):
        folder.joinpath(name).write_text(FIXTURE.joinpath(name).read_text("utf-8").replace(FIXTURE_BASE, base))
    manifest = {"id": release_id, "base": base, "created": "2026-01-01T00:00:00Z", "version": "1.0.0",
                "triples": sum(counts.values()), "graphs": counts,
                "sha256": {"haven.nq": hashlib.sha256(body).hexdigest()}}
    folder.joinpath("manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def build_folder(parent: Path, release: Path | None) -> Path:
    build = parent / "build"
    build.mkdir(parents=True)
    if release is not None:
        (build / "current").symlink_to(release.resolve(), target_is_directory=True)
    return build


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(base, release folder, embedded test client) for this module's release."""
    root = tmp_path_factory.mktemp("parity")
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    release = make_release(root / "releases", base, "parity-0001")
    release.joinpath(buildfolder.prior_ontology(PRIOR_VERSION)).write_text(PRIOR_ONTOLOGY.format(base=base))
    store = EmbeddedStore(release, workers=2)
    app = create_app(Settings(build_dir=build_folder(root / "embedded", release), base=base), store=store)
    app.config["TESTING"] = True
    yield base, release, app.test_client()
    store.close()


@pytest.fixture(scope="module", params=REMOTES)
def remote(request, world, tmp_path_factory):
    """(name, store query URL, test client of an app over it whose build folder is EMPTY)."""
    base, release, _ = world
    server = None
    if request.param == "oxigraph":
        server = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph"))
        url = server.query_url
    else:
        url = VIRTUOSO_URL
    publish(release, url)
    build = build_folder(tmp_path_factory.mktemp("replica"), None)
    settings = Settings(build_dir=build, base=base, store=url)
    store = RemoteStore(url, settings)
    app = create_app(settings, store=store)
    app.config["TESTING"] = True
    yield request.param, url, app.test_client()
    store.close()
    if server is not None:
        server.stop()


# -- graph names wherever the query writes them -----------------------------------------------------------

QUERIES = {
    "group by graph": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "values": "SELECT ?g ?s ?p ?o WHERE { VALUES ?g { <{G}data> } GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) } "
              "ORDER BY ?s ?p ?o LIMIT 5",
    "values, prefixed": "PREFIX hg: <{G}> SELECT ?g (COUNT(*) AS ?n) WHERE { VALUES ?g { hg:data hg:derived } "
                        "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "filter =": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g = <{G}data>) } GROUP BY ?g",
    "filter !=": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != <{G}data>) } GROUP BY ?g",
    "filter in": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                 "FILTER(?g IN (<{G}ontology>, <{G}metadata>)) } GROUP BY ?g",
    "bind": "SELECT ?g (COUNT(*) AS ?n) WHERE { BIND(<{G}derived> AS ?g) GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "relative, with BASE": "BASE <{G}> SELECT (COUNT(*) AS ?n) WHERE { VALUES ?g { <derived> } GRAPH ?g { ?s ?p ?o } }",
    # graph names as data: the metadata names the graphs, and joins to them
    "sd:name joined to GRAPH": f"SELECT ?d ?g (COUNT(*) AS ?n) WHERE {{ ?d <{SD}name> ?g . GRAPH ?g {{ ?s ?p ?o }} }} "
                               "GROUP BY ?d ?g",
    "sd:name object constant": f"SELECT ?d WHERE {{ ?d <{SD}name> <{{G}}data> }}",
    "graph as subject": "SELECT ?p ?o WHERE { <{G}data> ?p ?o }",
    "graph names listed": f"SELECT ?g WHERE {{ ?ds <{VOID}subset> ?g }} ORDER BY ?g",
    "projected constant": "SELECT ?x WHERE { BIND(<{G}metadata> AS ?x) }",
    "literal spelling a graph IRI": f'SELECT ?c WHERE {{ ?s <{RDFS}comment> ?c FILTER(CONTAINS(?c, "graph/data")) }}',
    "datatype IRI": 'SELECT ?x WHERE { BIND("1"^^<{G}data> AS ?x) }',
    "graph names projected as strings": "SELECT DISTINCT (STR(?g) AS ?name) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "graph names as strings": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                              'FILTER(STRSTARTS(STR(?g), "{G}")) }',
    # the store's own names for the release, written by a client, name nothing (as on the embedded store)
    "release name in VALUES": "SELECT ?g (COUNT(?s) AS ?n) WHERE { VALUES ?g { <{R}data> } "
                              "OPTIONAL { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g",
    "release name as data": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?d <{SD}name> <{{R}}data> }}",
    "release shapes graph": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <{R}shapes> { ?s ?p ?o } }",
    "control graph in VALUES": "SELECT (COUNT(*) AS ?n) WHERE { VALUES ?g { <{C}> } GRAPH ?g { ?s ?p ?o } }",
    "control graph in FILTER": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != <{C}>) } "
                               "GROUP BY ?g",
    "another release's graph": "SELECT ?g (COUNT(?s) AS ?n) WHERE { VALUES ?g { <{G}release/old-1/data> } "
                               "OPTIONAL { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g",
}


HEDGED_IN_DEFAULT = ('SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o '
                     'FILTER(STRENDS(STR(?p), "#alliedWith") && STRENDS(STR(?o), "/kabul")) }')
HEDGED_BY_NAME = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <{G}hedged> { ?s ?p ?o } }"


def test_the_default_graph_leaves_out_the_hedged_graph_on_every_store(world, remote):
    base, _, reference = world
    name, _, client = remote
    for query, expected in ((HEDGED_IN_DEFAULT, 0), (_fill(HEDGED_BY_NAME, base), 1)):
        for who, answer in ((name, sparql(client, query)), ("embedded", sparql(reference, query))):
            assert answer.status_code == 200, (who, answer.data[:300])
            assert int(answer.json["results"]["bindings"][0]["n"]["value"]) == expected, (who, query)


def _fill(query: str, base: str) -> str:
    return (query.replace("{G}", f"{base}graph/").replace("{R}", f"{releases.release_node(base, 'parity-0001')}/")
            .replace("{C}", releases.control_graph(base)))


@pytest.mark.parametrize("label", list(QUERIES))
def test_graph_names_anywhere_same_answer(world, remote, label):
    base, _, reference = world
    name, _, client = remote
    query = _fill(QUERIES[label], base)
    got, expected = sparql(client, query), sparql(reference, query)
    assert got.status_code == expected.status_code == 200, (name, got.data[:500])
    assert expected.json["results"]["bindings"], "every case must have an answer to compare"
    assert solutions(got) == solutions(expected), (name, label)
    # the layout's names show only where the client wrote them
    shown = re.findall(re.escape(f"{base}graph/release/") + r'[^"]*', got.get_data(as_text=True))
    assert all(name in query for name in shown), shown


def test_graph_names_come_back_canonical(world, remote):
    """Not only equal to the embedded answer: the named values are the canonical graph IRIs themselves."""
    base, _, _ = world
    _, _, client = remote
    query = _fill(f"SELECT ?d ?g WHERE {{ ?d <{SD}name> ?g . FILTER(?g IN (<{{G}}data>, <{{G}}derived>)) }}", base)
    rows = sparql(client, query).json["results"]["bindings"]
    assert sorted(row["g"]["value"] for row in rows) == [f"{base}graph/data", f"{base}graph/derived"]


@pytest.mark.parametrize("query", [
    f"CONSTRUCT {{ ?d <{SD}name> ?g }} WHERE {{ ?d <{SD}name> ?g }}",
    "DESCRIBE <{G}data>",
    "CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?g { <{G}derived> } GRAPH ?g { ?s ?p ?o } }",
])
def test_graph_answers_same(world, remote, query):
    base, _, reference = world
    name, _, client = remote
    query = _fill(query, base)
    got, expected = (sparql(c, query, "text/turtle") for c in (client, reference))
    assert got.status_code == expected.status_code == 200, (name, got.data[:500])
    assert len(rdf(expected)) > 0
    assert isomorphic(rdf(got), rdf(expected)), name


def test_a_release_name_written_by_a_client_comes_back_as_written(world, remote):
    base, _, _ = world
    _, _, client = remote
    written = f"{releases.release_node(base, 'parity-0001')}/data"
    rows = sparql(client, f"SELECT ?x WHERE {{ BIND(<{written}> AS ?x) }}").json["results"]["bindings"]
    assert rows == [{"x": {"type": "uri", "value": written}}]


# -- the rewrite and the renaming, term by term ----------------------------------------------------------

def test_rewrite_maps_constants_but_not_literals_datatypes_or_prologue():
    graph = "http://x/graph/data"
    query = (f'PREFIX g: <http://x/graph/> SELECT * WHERE {{ VALUES ?g {{ g:data <{graph}> }} '
             f'?s ?p "<{graph}>" , "1"^^<{graph}> , "2"^^g:data FILTER(?g = <{graph}>) }}')
    text = rewrite_graph_names(query, lambda iri: iri, None, None,
                               lambda iri: "http://y/stored" if iri == graph else iri).text
    assert text.count("<http://y/stored>") == 3
    assert f'"<{graph}>"' in text and f'"1"^^<{graph}>' in text and '"2"^^g:data' in text
    assert "PREFIX g: <http://x/graph/>" in text
    # without map_constant only graph positions change
    untouched = rewrite_graph_names(query, lambda iri: "http://y/stored").text
    assert "http://y/stored" not in untouched


def test_split_renames_graph_iris_in_term_positions_only(tmp_path, world):
    base, release, _ = world
    manifest = json.loads((release / "manifest.json").read_text())
    files = split_graphs(release, manifest, tmp_path)
    metadata = files[f"{base}graph/metadata"].read_text()
    stored = releases.release_graphs(base, "parity-0001")
    assert f"<{SD}name> <{stored['data']}> ." in metadata
    assert f"<{stored['data']}> <{RDFS}label>" in metadata
    assert f'"graphs: <{base}graph/data> and more"' in metadata
    assert f"<{base}graph/data>" not in metadata.replace(f'"graphs: <{base}graph/data> and more"', "")
    # same number of lines, same graphs: the renaming is one-to-one
    (tmp_path / "plain").mkdir()
    plain = split_graphs(release, manifest, tmp_path / "plain", rename=False)
    assert len(plain[f"{base}graph/metadata"].read_text().splitlines()) == len(metadata.splitlines())
    assert f"<{SD}name> <{base}graph/data> ." in plain[f"{base}graph/metadata"].read_text()


# -- documents without the build folder --------------------------------------------------------------------

def _dataset(response, fmt: str) -> Dataset:
    dataset = Dataset()
    dataset.parse(data=response.data.decode("utf-8"), format=fmt)
    return dataset


def _graphs(dataset: Dataset) -> dict[str, Graph]:
    out = {}
    for context in dataset.contexts():
        if len(context):
            graph = Graph()
            for triple in context:
                graph.add(triple)
            out[str(context.identifier)] = graph
    return out


def test_documents_from_the_store_with_an_empty_build_folder(world, remote):
    base, _, reference = world
    name, _, client = remote
    for path in ("/shapes", "/ontology", "/.well-known/void"):
        got, expected = (c.get(path, headers={"Accept": "text/turtle"}) for c in (client, reference))
        assert got.status_code == expected.status_code == 200, (name, path, got.data[:300])
        assert len(rdf(expected)) > 0
        # the dumps' byte sizes are of the files each host has (a remote store's are written in the background)
        assert isomorphic(_without_byte_sizes(rdf(got)), _without_byte_sizes(rdf(expected))), (name, path)
    html = client.get("/shapes", headers={"Accept": "text/html"})
    assert html.status_code == 200 and "MilitantOrganizationShape" in html.get_data(as_text=True)
    page = client.get("/ontology", headers={"Accept": "text/html"})  # rendered from the store's graph
    assert page.status_code == 200 and 'id="Stated"' in page.get_data(as_text=True)
    got = client.get("/ontology", headers={"Accept": "text/turtle"})  # and the page changed nothing
    assert isomorphic(rdf(got), rdf(reference.get("/ontology", headers={"Accept": "text/turtle"}))), name
    # a prior version the release keeps, from the graph published beside it: as released, cardinality included
    prior = Graph().parse(data=PRIOR_ONTOLOGY.format(base=base), format="turtle")
    assert client.get(f"/ontology/{PRIOR_VERSION}", headers={"Accept": "text/html"}).status_code == 200
    for accept, fmt in (("text/turtle", "turtle"), ("application/rdf+xml", "xml")):
        got = client.get(f"/ontology/{PRIOR_VERSION}", headers={"Accept": accept})
        assert got.status_code == 200, (name, accept)
        assert isomorphic(Graph().parse(data=got.data, format=fmt), prior), (name, accept)
    assert client.get("/ontology/0.9.1", headers={"Accept": "text/turtle"}).status_code == 404
    for ext, fmt in (("ttl", "turtle"), ("nt", "nt")):
        got, expected = (when_ready(c, f"/dumps/haven.{ext}") for c in (client, reference))
        assert got.status_code == expected.status_code == 200, (name, ext)
        assert isomorphic(Graph().parse(data=got.data.decode(), format=fmt),
                          Graph().parse(data=expected.data.decode(), format=fmt)), (name, ext)
    for ext, fmt in (("nq", "nquads"), ("jsonld", "json-ld")):
        got, expected = (when_ready(c, f"/dumps/haven.{ext}") for c in (client, reference))
        assert got.status_code == expected.status_code == 200, (name, ext)
        mine, theirs = _graphs(_dataset(got, fmt)), _graphs(_dataset(expected, fmt))
        assert set(mine) == set(theirs) == set(releases.canonical_graphs(base).values()), (name, ext)
        for graph in theirs:
            assert isomorphic(mine[graph], theirs[graph]), (name, ext, graph)
    # once written, the remote host's dumps are announced with their sizes too
    void = rdf(client.get("/.well-known/void", headers={"Accept": "text/turtle"}))
    body = when_ready(client, "/dumps/haven.nt").data
    assert void.value(URIRef(f"{base}dumps/haven.nt"), DCAT.byteSize).toPython() == len(body), name


def _without_byte_sizes(graph: Graph) -> Graph:
    graph.remove((None, DCAT.byteSize, None))
    return graph


def test_dump_cached_per_release_in_the_build_folder(world, remote):
    _, _, client = remote
    settings = client.application.config["HAVEN_SETTINGS"]
    assert when_ready(client, "/dumps/haven.nq").status_code == 200
    cached = Path(settings.build_dir) / "cache" / "parity-0001" / "haven.nq"
    assert cached.is_file() and cached.stat().st_size > 0
    assert not list(cached.parent.glob("*.part"))


def test_documents_read_in_pages_where_the_store_cuts_answers(world, remote, monkeypatch):
    """A store with a row limit (Virtuoso) gives a graph in sorted pages; blank nodes must join up across them.
    Here the limit is made 4 rows, so every graph of the fixture (evidence trees included) spans pages."""
    base, release, _ = world
    name, url, _ = remote
    store = RemoteStore(url, Settings(base=base))
    monkeypatch.setattr(RemoteStore, "_silent_row_cap", lambda self, server: 4)
    pages = []
    select = RemoteStore._select_terms
    monkeypatch.setattr(RemoteStore, "_select_terms",
                        lambda self, query, *args: pages.append(query) or select(self, query, *args))
    text = ox.serialize(list(store.dump_quads()), format=ox.RdfFormat.N_QUADS).decode()
    triples = json.loads((release / "manifest.json").read_text())["triples"]
    assert sum("OFFSET" in query for query in pages) >= triples // 3
    mine = _graphs(Dataset().parse(data=text, format="nquads"))
    theirs = _graphs(Dataset().parse(release / "haven.nq", format="nquads"))
    assert set(mine) == set(theirs)
    for graph in theirs:
        assert isomorphic(mine[graph], theirs[graph]), (name, graph)


# -- one Oxigraph server per test below: these change what the store holds -------------------------------

@pytest.fixture
def oxigraph(tmp_path):
    server = start_oxigraph_server(tmp_path)
    yield server
    server.stop()


def _app(build: Path, base: str, url: str):
    settings = Settings(build_dir=build, base=base, store=url)
    app = create_app(settings, store=RemoteStore(url, settings))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.live
def test_another_local_release_is_not_served_as_this_one(tmp_path, oxigraph):
    """A build folder holding another release must not leak into what the store's release serves."""
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    served = make_release(tmp_path / "r", base, "served-1")
    other = make_release(tmp_path / "r", base, "other-1", shapes=False)
    other.joinpath("haven.nq").write_text(other.joinpath("haven.nq").read_text().splitlines()[0] + "\n")
    publish(served, oxigraph.url)
    client = _app(build_folder(tmp_path / "b", other), base, oxigraph.query_url)
    dump = Dataset().parse(data=when_ready(client, "/dumps/haven.nq").data.decode(), format="nquads")
    assert len(dump) == json.loads((served / "manifest.json").read_text())["triples"]
    assert client.get("/shapes", headers={"Accept": "text/turtle"}).status_code == 200


@pytest.mark.live
def test_no_shapes_published_means_404(tmp_path, oxigraph):
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    release = make_release(tmp_path / "r", base, "bare-1", shapes=False)
    publish(release, oxigraph.url)
    client = _app(build_folder(tmp_path / "b", None), base, oxigraph.query_url)
    assert client.get("/shapes", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/ontology", headers={"Accept": "text/turtle"}).status_code == 200


@pytest.mark.live
def test_shapes_are_recorded_verified_and_pruned(tmp_path, oxigraph):
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    shape_triples = len(list(ox.parse(path=str(FIXTURE / "shapes.ttl"), format=ox.RdfFormat.TURTLE)))
    names = ["a-1", "b-1", "c-1"]
    folders = [make_release(tmp_path / "r", base, n) for n in names]
    first = publish(folders[0], oxigraph.url)
    record = releases.read_release_record(oxigraph.select, base, "a-1")
    assert record["shapes"] == shape_triples and record["layout"] == releases.LAYOUT
    assert first.writes > 0 and publish(folders[0], oxigraph.url).writes == 0  # same build twice: nothing
    publish(folders[1], oxigraph.url)
    publish(folders[2], oxigraph.url)
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{releases.shapes_graph(base, 'a-1')}> {{ ?s ?p ?o }} }}"
    assert oxigraph.select(count)[0]["n"] == "0"  # a-1 pruned, its shapes with it
    kept = count.replace("a-1", "c-1")
    assert int(oxigraph.select(kept)[0]["n"]) == shape_triples


@pytest.mark.live
def test_a_release_published_by_an_older_layout_is_refused_then_republished(tmp_path, oxigraph):
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    release = make_release(tmp_path / "r", base, "old-1")
    publish(release, oxigraph.url)
    oxigraph.update(f"DELETE WHERE {{ GRAPH <{releases.control_graph(base)}> "
                    f"{{ <{releases.release_node(base, 'old-1')}> <{releases.DCTERMS}conformsTo> ?l }} }}")
    with pytest.raises(StoreError, match="older Haven"):
        RemoteStore(oxigraph.query_url, Settings(base=base))
    with pytest.raises(PublishError, match="older layout.*--force"):
        publish(release, oxigraph.url)
    assert publish(release, oxigraph.url, force=True).loaded
    store = RemoteStore(oxigraph.query_url, Settings(base=base))
    assert store.manifest["layout"] == releases.LAYOUT


@pytest.mark.live
def test_a_running_server_serves_a_release_once_it_is_republished_in_this_layout(tmp_path, oxigraph):
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    release = make_release(tmp_path / "r", base, "old-2")
    publish(release, oxigraph.url)
    store = RemoteStore(oxigraph.query_url, Settings(base=base), pointer_ttl=0)
    layout = (f"GRAPH <{releases.control_graph(base)}> "
              f"{{ <{releases.release_node(base, 'old-2')}> <{releases.DCTERMS}conformsTo> ?l }}")
    oxigraph.update(f"DELETE WHERE {{ {layout} }}")
    store._records.clear()  # as after a restart of the server process, or a release it had not read yet
    with pytest.raises(StoreError, match="older Haven"):
        store.release_id
    publish(release, oxigraph.url, force=True)
    assert store.release_id == "old-2"


@pytest.mark.live
def test_the_local_folder_of_the_served_release_is_used_as_it_is(tmp_path, oxigraph):
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    release = make_release(tmp_path / "r", base, "local-1")
    publish(release, oxigraph.url)
    client = _app(build_folder(tmp_path / "b", release), base, oxigraph.query_url)
    assert when_ready(client, "/dumps/haven.nq").data == (release / "haven.nq").read_bytes()
    shapes = client.get("/shapes", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "@prefix hsh:" in shapes.replace("&#64;", "@")  # the source file's text, prefixes as written
    assert not (tmp_path / "b" / "build" / "cache" / "local-1" / "haven.nq").exists()
