"""`haven publish` against real stores: a fresh Oxigraph server per test (tests/plugins/stores.py), and Virtuoso too
when HAVEN_TEST_VIRTUOSO_URL names one (`make test-virtuoso` starts it).

Every test publishes releases derived from the tiny fixture release under a base IRI of its own, so that
tests sharing one Virtuoso cannot see each other's control graph or releases.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from haven.cli import main
from haven.credentials import account
from haven.publish import (PublishError, StoreClient, triple_chunks, insert_request, publish,
                                    resolve_endpoints, split_graphs)
from haven.store import releases
from plugins.stores import free_port, start_oxigraph_server

FIXTURE = Path(__file__).parent / "resources" / "release"
FIXTURE_BASE = "https://w3id.org/haven/"
VIRTUOSO_URL = os.environ.get("HAVEN_TEST_VIRTUOSO_URL", "")
# Virtuoso runs only where one is configured: listed, not skipped, so every collected test runs
# real servers: live tier
BACKENDS = [pytest.param("oxigraph", marks=pytest.mark.live)] + ([pytest.param("virtuoso", marks=pytest.mark.live)] if VIRTUOSO_URL else [])


# -- releases -------------------------------------------------------------------------------------------------

class Releases:
    """Makes build-like release folders: the fixture rebased to `base`, with extra triples in some graphs."""

    def __init__(self, root: Path, base: str):
        self.root, self.base = root, base

    def make(self, name: str, *, extra: int = 0, bnode_trees: int = 0, part: str = "data",
             broken_part: str | None = None) -> Path:
        graph = f"{self.base}graph/{part}"
        lines = FIXTURE.joinpath("haven.nq").read_text("utf-8").replace(FIXTURE_BASE, self.base).splitlines()
        for i in range(extra):
            lines.append(f'<{self.base}id/{name}-thing-{i}> <http://www.w3.org/2000/01/rdf-schema#label> '
                         f'"{name} thing {i}"@en <{graph}> .')
        for i in range(bnode_trees):  # evidence-like trees: IRI → bnode → bnode
            lines.append(f"<{self.base}id/{name}-st-{i}> <{self.base}ontology#evidence> _:ev{i} <{graph}> .")
            lines.append(f'_:ev{i} <http://www.w3.org/ns/oa#hasSelector> _:sel{i} <{graph}> .')
            lines.append(f'_:sel{i} <http://www.w3.org/ns/oa#start> "{i}"^^<http://www.w3.org/2001/XMLSchema#integer> <{graph}> .')
            lines.append(f'_:sel{i} <http://www.w3.org/ns/oa#end> "{i + 9}"^^<http://www.w3.org/2001/XMLSchema#integer> <{graph}> .')
        if broken_part:  # counted like any triple, refused by the store's parser
            lines.append(f'<{self.base}id/broken> <{self.base}ontology#p> "unterminated <{self.base}graph/{broken_part}> .')
        body = ("\n".join(sorted(set(lines))) + "\n").encode("utf-8")
        counts = {iri: 0 for iri in releases.canonical_graphs(self.base).values()}
        for line in body.decode().splitlines():
            counts[line[line.rindex("<") + 1: line.rindex(">")]] += 1
        folder = self.root / name
        folder.mkdir(parents=True)
        folder.joinpath("haven.nq").write_bytes(body)
        manifest = {"id": name, "base": self.base, "created": "2026-01-01T00:00:00Z", "version": "1.0.0",
                    "triples": sum(counts.values()), "graphs": counts,
                    "sha256": {"haven.nq": hashlib.sha256(body).hexdigest()}}
        folder.joinpath("manifest.json").write_text(json.dumps(manifest, indent=2))
        return folder


def manifest_of(release: Path) -> dict:
    return json.loads(release.joinpath("manifest.json").read_text())


# -- stores ---------------------------------------------------------------------------------------------------

class Store:
    """A store under test, read through the publisher's own client (plain SPARQL JSON over HTTP)."""

    def __init__(self, engine: str, url: str, base: str, server=None):
        self.engine, self.url, self.base, self.server = engine, url, base, server
        # the account `make test-virtuoso` names (HAVEN_STORE_USER/PASSWORD), as `haven publish` finds it
        self.client = StoreClient(url, account=account(None, None, [url]))
        self.client.connect("auto", None, None)

    def pointer(self) -> str | None:
        return releases.current_release(self.client.select, self.base)

    def count(self, release_id: str, part: str) -> int:
        return self.client.count(releases.release_graphs(self.base, release_id)[part])

    def counts(self, release_id: str) -> dict[str, int]:
        canonical = releases.canonical_graphs(self.base)
        return {canonical[part]: self.count(release_id, part) for part in releases.PARTS}

    def served(self) -> list[tuple[str, int]]:
        """(release, triples in its data graph) as ONE query sees them: pointer and data in one snapshot."""
        rows = self.client.select(
            f"SELECT ?r (COUNT(?s) AS ?n) WHERE {{ GRAPH <{releases.control_graph(self.base)}> "
            f"{{ <{releases.dataset_node(self.base)}> <{releases.POINTER}> ?r }} "
            f"BIND(IRI(CONCAT(\"{self.base}graph/release/\", STR(?r), \"/data\")) AS ?g) "
            f"OPTIONAL {{ GRAPH ?g {{ ?s ?p ?o }} }} }} GROUP BY ?r")
        return [(row["r"], int(row["n"])) for row in rows]

    def release_graph_state(self) -> list[tuple[str, ...]]:
        """Every triple of this test's control graph and release graphs, for before/after comparisons."""
        rows = self.client.select(
            "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(STRSTARTS(STR(?g), \"{self.base}graph/\")) }}")
        return sorted(tuple(row.get(k, "") for k in ("g", "s", "p", "o")) for row in rows)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    base = f"http://example.org/{uuid.uuid4().hex[:12]}/"
    if request.param == "oxigraph":
        server = start_oxigraph_server(tmp_path)
        yield Store("oxigraph", server.url, base, server)
        server.stop()
    else:
        yield Store("virtuoso", VIRTUOSO_URL, base)


@pytest.fixture
def oxigraph(tmp_path):
    """Oxigraph only: for the tests that kill the store."""
    server = start_oxigraph_server(tmp_path)
    yield Store("oxigraph", server.url, f"http://example.org/{uuid.uuid4().hex[:12]}/", server)
    server.stop()


@pytest.fixture
def make_release(tmp_path, request):
    def factory(store: Store, name: str, **kwargs) -> Path:
        return Releases(tmp_path / "releases", store.base).make(name, **kwargs)
    return factory


# -- publishing -----------------------------------------------------------------------------------------------

def test_first_publish_loads_the_graphs_and_points_at_them(store, make_release):
    a = make_release(store, "rel-a")
    lines: list[str] = []
    result = publish(a, store.url, progress=lines.append)
    assert (result.release_id, result.previous, result.loaded, result.switched) == ("rel-a", None, True, True)
    assert result.method == "graph-store"
    assert store.pointer() == "rel-a"
    assert store.counts("rel-a") == manifest_of(a)["graphs"] == result.counts
    record = releases.read_release_record(store.client.select, store.base, "rel-a")
    assert record["graphs"] == manifest_of(a)["graphs"] and record["triples"] == manifest_of(a)["triples"]
    assert any(line.startswith("[load data]") for line in lines)
    assert any(line.startswith("[switch] (none) → rel-a") for line in lines)


def test_publishing_the_same_build_twice_sends_no_write(store, make_release):
    a = make_release(store, "rel-a")
    publish(a, store.url)
    before = store.release_graph_state()
    again = publish(a, store.url)
    assert (again.writes, again.loaded, again.switched, again.method, again.changed) == (0, False, False, "none", False)
    assert again.previous == "rel-a"
    assert store.release_graph_state() == before


def test_a_new_build_switches_keeps_the_previous_and_drops_older_ones(store, make_release):
    a, b, c = (make_release(store, name, extra=n) for name, n in (("rel-a", 1), ("rel-b", 2), ("rel-c", 3)))
    publish(a, store.url)
    second = publish(b, store.url)
    assert (second.previous, second.dropped, store.pointer()) == ("rel-a", [], "rel-b")
    assert store.counts("rel-a") == manifest_of(a)["graphs"]  # the previous release stays, for a switch back
    third = publish(c, store.url)
    assert (third.previous, third.dropped, store.pointer()) == ("rel-b", ["rel-a"], "rel-c")
    assert set(store.counts("rel-a").values()) == {0}
    assert set(releases.loaded_releases(store.client.select, store.base)) == {"rel-b", "rel-c"}


PRIOR_ONTOLOGY = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{base}ontology> a owl:Ontology ; owl:versionIRI <{base}ontology/0.9.0> ; owl:versionInfo "0.9.0" .
<{base}ontology#Statement> a owl:Class ; <http://www.w3.org/2000/01/rdf-schema#subClassOf>
    [ a owl:Restriction ; owl:onProperty <{base}ontology#subject> ; owl:cardinality "1"^^xsd:nonNegativeInteger ] .
"""


def test_prior_ontology_versions_are_published_beside_the_release_and_pruned_with_it(store, make_release):
    """A server with no build folder resolves the prior version IRIs too (issue 10): their files go into
    graphs of their own beside the release, recorded, checked like the shapes, and dropped with the release."""
    a, b, c = (make_release(store, name, extra=n) for name, n in (("rel-a", 1), ("rel-b", 2), ("rel-c", 3)))
    for release in (a, b, c):
        release.joinpath("ontology-0.9.0.ttl").write_text(PRIOR_ONTOLOGY.format(base=store.base))
    graph = releases.prior_ontology_graph(store.base, "rel-a", "0.9.0")
    publish(a, store.url)
    record = releases.read_release_record(store.client.select, store.base, "rel-a")
    assert record["prior_ontologies"] == {"0.9.0": 8} and store.client.count(graph) == 8
    assert publish(a, store.url).writes == 0  # complete as it is: nothing to load again
    publish(b, store.url)
    assert publish(c, store.url).dropped == ["rel-a"]
    assert store.client.count(graph) == 0


def test_switching_back_to_the_previous_release_loads_nothing(store, make_release):
    a, b = make_release(store, "rel-a", extra=1), make_release(store, "rel-b", extra=2)
    publish(a, store.url)
    publish(b, store.url)
    back = publish(a, store.url)
    assert (back.loaded, back.switched, back.method, back.writes) == (False, True, "none", 1)
    assert store.pointer() == "rel-a"
    assert store.counts("rel-b") == manifest_of(b)["graphs"]


def test_a_reader_sees_the_old_release_or_the_new_one_never_a_mix(store, make_release):
    a = make_release(store, "rel-a")
    b = make_release(store, "rel-b", extra=3000)
    publish(a, store.url)
    complete = {("rel-a", manifest_of(a)["graphs"][f"{store.base}graph/data"]),
                ("rel-b", manifest_of(b)["graphs"][f"{store.base}graph/data"])}
    seen: list[tuple[str, int]] = []
    during_load = threading.Event()
    done = threading.Event()

    def reader():
        reading = Store(store.engine, store.url, store.base)
        while not done.is_set():
            rows = reading.served()
            seen.append(rows[0] if len(rows) == 1 else ("<rows>", len(rows)))
            if during_load.is_set() and seen[-1][0] == "rel-a":
                seen.append(("read-during-load", 0))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        # small INSERT DATA chunks: many requests, so the reader polls while half of rel-b is in the store
        publish(b, store.url, use_graph_store=False, chunk_triples=100,
                progress=lambda line: during_load.set() if line.startswith("[load ontology]") else None)
        for _ in range(5):
            seen.append(Store(store.engine, store.url, store.base).served()[0])
    finally:
        done.set()
        thread.join(timeout=30)
    observations = [s for s in seen if s[0] != "read-during-load"]
    assert set(observations) <= complete, set(observations) - complete
    assert ("read-during-load", 0) in seen  # the reader did poll while rel-b was half loaded
    assert observations[-1][0] == "rel-b"


def test_a_bad_graph_half_way_leaves_the_old_release_served(store, make_release):
    a = make_release(store, "rel-a")
    bad = make_release(store, "rel-bad", extra=5, broken_part="derived")  # the 3rd graph the publisher loads
    publish(a, store.url)
    lines: list[str] = []
    with pytest.raises(PublishError) as failure:
        publish(bad, store.url, progress=lines.append)
    message = str(failure.value)
    assert "still serves rel-a" in message
    assert re.search(r"answered HTTP (400|500) to the load of <\S+/graph/release/rel-bad/derived>", message)
    assert any(line.startswith("[load data]") for line in lines)  # it failed half-way, not before starting
    assert any(line.startswith("[load derived] FAILED") for line in lines)
    assert store.pointer() == "rel-a"
    assert store.served() == [("rel-a", manifest_of(a)["graphs"][f"{store.base}graph/data"])]
    assert releases.read_release_record(store.client.select, store.base, "rel-bad") is None
    assert set(store.counts("rel-bad").values()) == {0}  # the half-loaded graphs were removed


@pytest.mark.live
def test_losing_the_store_half_way_leaves_the_old_release_served(oxigraph, make_release):
    a, b = make_release(oxigraph, "rel-a"), make_release(oxigraph, "rel-b", extra=50)

    def kill_after_data(line: str) -> None:
        if line.startswith("[load data]"):
            oxigraph.server.kill()

    publish(a, oxigraph.url)
    with pytest.raises(PublishError, match=r"cannot reach the store .*connection refused[\s\S]*still serves rel-a"):
        publish(b, oxigraph.url, progress=kill_after_data)
    oxigraph.server.start()
    assert oxigraph.pointer() == "rel-a"
    assert oxigraph.served() == [("rel-a", manifest_of(a)["graphs"][f"{oxigraph.base}graph/data"])]
    assert releases.read_release_record(oxigraph.client.select, oxigraph.base, "rel-b") is None
    assert oxigraph.count("rel-b", "data") == manifest_of(b)["graphs"][f"{oxigraph.base}graph/data"]  # left over
    retried = publish(b, oxigraph.url)  # starts over on the leftovers and completes
    assert (retried.loaded, oxigraph.pointer()) == (True, "rel-b")
    assert oxigraph.counts("rel-b") == manifest_of(b)["graphs"]


@pytest.mark.live
def test_losing_the_store_at_the_switch_says_so_and_a_retry_only_switches(oxigraph, make_release):
    a, b = make_release(oxigraph, "rel-a"), make_release(oxigraph, "rel-b", extra=5)
    publish(a, oxigraph.url)
    with pytest.raises(PublishError, match="rel-b is loaded, but whether the store now serves it or still rel-a "
                                           "is unknown; publish again"):
        publish(b, oxigraph.url, progress=lambda line: oxigraph.server.kill() if line.startswith("[verify]") else None)
    oxigraph.server.start()
    assert oxigraph.pointer() == "rel-a"
    retried = publish(b, oxigraph.url)
    assert (retried.loaded, retried.switched, oxigraph.pointer()) == (True, True, "rel-b")


def test_a_publisher_that_loses_the_race_says_so(store, make_release):
    a, b, c = (make_release(store, name, extra=n) for name, n in (("rel-a", 1), ("rel-b", 2), ("rel-c", 3)))
    publish(a, store.url)

    def race(line: str) -> None:
        if line.startswith("[verify]"):  # rel-b is loaded; another publisher switches first
            publish(c, store.url)

    with pytest.raises(PublishError, match="release rel-b is loaded, but the pointer names rel-c: another publish"):
        publish(b, store.url, progress=race)
    assert store.pointer() == "rel-c"
    assert store.counts("rel-b") == manifest_of(b)["graphs"]
    winner = publish(b, store.url)  # loaded and recorded by the loser: switching is all that is left
    assert (winner.loaded, winner.switched, store.pointer()) == (False, True, "rel-b")


def test_insert_data_chunks_keep_blank_node_trees_whole(store, make_release):
    a = make_release(store, "rel-a", bnode_trees=40)
    result = publish(a, store.url, use_graph_store=False, chunk_triples=7)
    assert result.method == "insert-data"
    assert store.counts("rel-a") == manifest_of(a)["graphs"]
    trees = ("SELECT (COUNT(DISTINCT ?ev) AS ?trees) (COUNT(DISTINCT ?sel) AS ?selectors) WHERE {{ GRAPH <{}> {{ "
             f"?st <{store.base}ontology#evidence> ?ev . ?ev <http://www.w3.org/ns/oa#hasSelector> ?sel . "
             "?sel <http://www.w3.org/ns/oa#start> ?start ; <http://www.w3.org/ns/oa#end> ?end }} }}")
    # the same query on the file itself: a tree cut between two requests would lose joins in the store
    local = ox.Store()
    local.bulk_load(path=str(a / "haven.nq"), format=ox.RdfFormat.N_QUADS)
    expected = next(iter(local.query(trees.format(f"{store.base}graph/data"))))
    found = store.client.select(trees.format(releases.release_graphs(store.base, "rel-a")["data"]))[0]
    assert (int(found["trees"]), int(found["selectors"])) == (int(expected["trees"].value), int(expected["selectors"].value))
    assert int(found["trees"]) >= 40


def test_graph_store_posts_in_chunks_keep_blank_node_trees_whole(store, make_release, monkeypatch):
    import haven.publish as publishing

    def small_posts(*args, **kwargs):
        found = resolve_endpoints(*args, **kwargs)
        found.graph_store_chunk_triples = 7  # as Virtuoso does at 100,000
        return found

    monkeypatch.setattr(publishing, "resolve_endpoints", small_posts)
    a = make_release(store, "rel-a", bnode_trees=30)
    result = publish(a, store.url)
    assert result.method == "graph-store" and result.writes > 20
    assert store.counts("rel-a") == manifest_of(a)["graphs"]
    data = releases.release_graphs(store.base, "rel-a")["data"]
    rows = store.client.select(
        f"SELECT (COUNT(DISTINCT ?ev) AS ?n) WHERE {{ GRAPH <{data}> {{ ?ev <http://www.w3.org/ns/oa#hasSelector> ?sel . "
        "?sel <http://www.w3.org/ns/oa#start> ?start } }")
    assert int(rows[0]["n"]) >= 30


def test_chunks_never_split_a_blank_node_tree(tmp_path):
    nt = tmp_path / "g.nt"
    nt.write_text("".join(
        [f'<http://x/s{i}> <http://x/p> _:b{i % 5} .\n' for i in range(20)]
        + [f'_:b{i} <http://x/q> _:c{i} .\n' for i in range(5)]
        + [f'_:c{i} <http://x/r> "_:b{i} in a literal" .\n' for i in range(5)]
        + [f'<http://x/plain{i}> <http://x/p> "v" .\n' for i in range(9)]))
    chunks = list(triple_chunks(nt, 4))
    assert sum(len(c) for c in chunks) == 39
    owner: dict[str, int] = {}
    for number, chunk in enumerate(chunks):
        for line in chunk:
            for label in ("_:b", "_:c"):
                for i in range(5):
                    if f"{label}{i} " in line or line.rstrip().endswith(f"{label}{i} ."):
                        assert owner.setdefault(f"{label}{i}", number) == number, line


def test_blank_node_chunks_are_templates_and_bounded(tmp_path):
    nt = tmp_path / "g.nt"
    nt.write_text("".join(f'<http://x/s{i}> <http://x/p> _:b{i} .\n_:b{i} <http://x/q> "{i}" .\n' for i in range(30))
                  + '<http://x/plain> <http://x/p> "_:b1 is no node" .\n')
    chunks = list(triple_chunks(nt, chunk_triples=1000, bnode_chunk_triples=10))
    assert chunks[0] == ['<http://x/plain> <http://x/p> "_:b1 is no node" .\n']
    assert [len(c) for c in chunks[1:]] == [10, 10, 10, 10, 10, 10]  # whole pairs, at most 10 lines
    plain = insert_request("http://g", chunks[0], "DEFINE sql:big-data-const 1\n")
    assert plain.startswith("DEFINE sql:big-data-const 1\nINSERT DATA { GRAPH <http://g> {")
    assert insert_request("http://g", chunks[1], "DEFINE x\n").startswith("INSERT { GRAPH <http://g> {")
    assert insert_request("http://g", chunks[1]).endswith("} } WHERE {}")


# -- the release on disk ----------------------------------------------------------------------------------------

@pytest.mark.live
def test_a_tampered_release_is_refused_before_anything_is_sent(oxigraph, make_release):
    a = make_release(oxigraph, "rel-a")
    with a.joinpath("haven.nq").open("a") as nq:
        nq.write(f"<{oxigraph.base}id/x> <http://x/p> <http://x/o> <{oxigraph.base}graph/data> .\n")
    with pytest.raises(PublishError, match="does not match the sha256 in its manifest"):
        publish(a, oxigraph.url)
    assert oxigraph.server.quad_count() == 0


@pytest.mark.live
def test_a_release_whose_counts_differ_from_its_manifest_is_refused(tmp_path, make_release, oxigraph):
    a = make_release(oxigraph, "rel-a")
    manifest = manifest_of(a)
    manifest["graphs"][f"{oxigraph.base}graph/derived"] += 1
    del manifest["sha256"]
    a.joinpath("manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match=r"inconsistent .*graph/derived: \d+ in haven.nq, \d+ in the manifest"):
        split_graphs(a, manifest, tmp_path)
    with pytest.raises(PublishError, match="inconsistent"):
        publish(a, oxigraph.url)
    assert oxigraph.pointer() is None


def test_a_triple_outside_the_release_graphs_is_refused(tmp_path):
    folder = tmp_path / "odd"
    shutil.copytree(FIXTURE, folder)
    with folder.joinpath("haven.nq").open("a") as nq:
        nq.write("<http://x/s> <http://x/p> <http://x/o> .\n")
    with pytest.raises(PublishError, match=r"haven.nq:\d+: not a triple in one of the release's graphs"):
        split_graphs(folder, manifest_of(folder), tmp_path)


# -- endpoints ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, server, expected", [
    ("http://h:7878", "Oxigraph/0.5.13", ("oxigraph", "http://h:7878/query", "http://h:7878/update", "http://h:7878/store")),
    ("http://h:7878/query", "Oxigraph/0.5.13", ("oxigraph", "http://h:7878/query", "http://h:7878/update", "http://h:7878/store")),
    ("http://h:8890/sparql", "Virtuoso/07.20.3229 (Linux)",
     ("virtuoso", "http://h:8890/sparql", "http://h:8890/sparql-auth", "http://h:8890/sparql-graph-crud-auth")),
    ("http://h:3030/ds/sparql", "Apache Jena Fuseki", ("generic", "http://h:3030/ds/sparql", "http://h:3030/ds/sparql", None)),
])
def test_endpoints_are_derived_from_the_engine(url, server, expected):
    found = resolve_endpoints(url, "auto", server_header=server)
    assert (found.engine, found.query, found.update, found.graph_store) == expected
    assert found.graph_param == ("graph-uri" if found.engine == "virtuoso" else "graph")
    # Virtuoso's SPARQL compiler needs smaller requests and constant data passed as one parameter
    assert (found.max_chunk_triples, found.insert_data_prefix) == (
        (2000, "DEFINE sql:big-data-const 1\n") if found.engine == "virtuoso" else (None, ""))
    # Oxigraph loads the (not yet served) release graphs with its bulk loader
    assert found.graph_store_params == ({"no_transaction": ""} if found.engine == "oxigraph" else {})


def test_explicit_endpoints_win_over_the_derived_ones():
    found = resolve_endpoints("http://h:3030/ds/query", "generic", update_url="http://h:3030/ds/update",
                              store_url="http://h:3030/ds/data")
    assert (found.query, found.update, found.graph_store) == (
        "http://h:3030/ds/query", "http://h:3030/ds/update", "http://h:3030/ds/data")
    with pytest.raises(PublishError, match="unknown engine 'blazegraph'"):
        resolve_endpoints("http://h/sparql", "blazegraph")


@pytest.mark.live
def test_a_generic_store_gets_insert_data_at_the_given_update_url(oxigraph, make_release):
    a = make_release(oxigraph, "rel-a", bnode_trees=3)
    result = publish(a, f"{oxigraph.url}/query", engine="generic", update_url=f"{oxigraph.url}/update")
    assert (result.method, result.endpoints.graph_store, oxigraph.pointer()) == ("insert-data", None, "rel-a")
    assert oxigraph.counts("rel-a") == manifest_of(a)["graphs"]


# -- the command ----------------------------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(main, ["publish", *args], catch_exceptions=False)


@pytest.mark.live
def test_cli_publishes_then_reports_nothing_to_do(oxigraph, make_release):
    a = make_release(oxigraph, "rel-a")
    first = run("--to", f"{oxigraph.url}/query", "--release", str(a))
    assert first.exit_code == 0, first.output
    assert f"published release rel-a ({manifest_of(a)['triples']} triples)" in first.stderr
    assert "[switch] (none) → rel-a" in first.stderr
    second = run("--to", f"{oxigraph.url}/query", "--release", str(a))
    assert second.exit_code == 0
    assert "release rel-a is already published" in second.stderr and "(already published)" in second.stderr


@pytest.mark.live
def test_cli_publishes_build_dir_current_by_default(oxigraph, make_release, tmp_path):
    a = make_release(oxigraph, "rel-a")
    build = tmp_path / "build"
    build.mkdir()
    (build / "current").symlink_to(a, target_is_directory=True)
    result = run("--to", oxigraph.url, "--build-dir", str(build))
    assert result.exit_code == 0, result.output
    assert oxigraph.pointer() == "rel-a"


def test_cli_store_unreachable_is_a_clear_error(make_release, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
    result = run("--to", url, "--release", str(FIXTURE))
    assert result.exit_code == 1
    assert f"cannot reach the store at {url}" in result.stderr and "connection refused" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.live
def test_cli_missing_release_is_a_clear_error(oxigraph, tmp_path):
    result = run("--to", oxigraph.url, "--release", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "no release at" in result.stderr and "run `haven build` first" in result.stderr


@pytest.mark.live
def test_cli_failure_half_way_exits_non_zero_and_says_what_is_served(oxigraph, make_release):
    a, bad = make_release(oxigraph, "rel-a"), make_release(oxigraph, "rel-bad", broken_part="derived")
    assert run("--to", oxigraph.url, "--release", str(a)).exit_code == 0
    result = run("--to", oxigraph.url, "--release", str(bad))
    assert result.exit_code == 1
    assert "HTTP 400" in result.stderr and "the store still serves rel-a" in result.stderr
    assert "failed after" in result.stderr
