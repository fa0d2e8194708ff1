"""End to end against the real process (waitress, `python -m haven.web.serve`) over loopback, with the clients
consumers use: SPARQLWrapper and rdflib's SPARQLStore. Also what only a real process can show: SERVICE and
FROM never open a connection, limits hold over HTTP, and the latency of a small SELECT."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from plugins.servers import start_live_server

pytestmark = pytest.mark.live

HID = "https://w3id.org/haven/id/"
HAVEN = "https://w3id.org/haven/ontology#"
SELECT_ORGS = f"SELECT ?s WHERE {{ ?s a <{HAVEN}MilitantOrganization> }} ORDER BY ?s"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


def connect(server) -> http.client.HTTPConnection:
    url = urlsplit(server.url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def request(server, method, path, body=None, headers=None):
    connection = connect(server)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_live_server_binds_loopback_and_is_waitress(live_server):
    assert urlsplit(live_server.url).hostname == "127.0.0.1"
    response, body = request(live_server, "GET", "/healthz")
    assert response.status == 200 and json.loads(body)["status"] == "ok"
    assert response.getheader("Server") == "waitress"


def test_sparqlwrapper_select_json(live_server):
    client = SPARQLWrapper(live_server.url + "sparql")
    client.setQuery(SELECT_ORGS)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert [b["s"]["value"] for b in result["results"]["bindings"]] == [HID + "al-qaeda", HID + "taliban"]


def test_sparqlwrapper_post_select_xml(live_server):
    client = SPARQLWrapper(live_server.url + "sparql")
    client.setMethod("POST")
    client.setQuery(SELECT_ORGS)
    client.setReturnFormat(XML)
    document = client.query().convert()
    uris = [node.firstChild.data for node in document.getElementsByTagName("uri")]
    assert uris == [HID + "al-qaeda", HID + "taliban"]


def test_sparqlwrapper_ask_and_construct(live_server):
    client = SPARQLWrapper(live_server.url + "sparql")
    client.setReturnFormat(JSON)
    client.setQuery(f"ASK {{ <{HID}taliban> <{HAVEN}providedSanctuaryTo> <{HID}al-qaeda> }}")
    assert client.query().convert()["boolean"] is True
    client.setQuery(f"CONSTRUCT WHERE {{ <{HID}osama-bin-laden> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")
    assert (rdflib.URIRef(HID + "osama-bin-laden"), rdflib.URIRef(HAVEN + "leaderOf"),
            rdflib.URIRef(HID + "al-qaeda")) in graph


def test_sparqlwrapper_update_is_refused(live_server):
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    client = SPARQLWrapper(live_server.url + "sparql")
    client.setMethod("POST")
    client.setQuery("INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }")
    with pytest.raises((SPARQLWrapperException, Exception)) as caught:
        client.query()
    assert "403" in str(caught.value)
    client.setQuery("ASK { GRAPH ?g { <http://e/s> ?p ?o } }")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is False


def test_rdflib_sparqlstore_as_a_read_only_graph(live_server):
    graph = rdflib.Graph(store=SPARQLStore(live_server.url + "sparql"))
    rows = list(graph.query(SELECT_ORGS))
    assert [str(row.s) for row in rows] == [HID + "al-qaeda", HID + "taliban"]
    labels = set(graph.objects(rdflib.URIRef(HID + "al-qaeda"), rdflib.SKOS.prefLabel))
    assert labels == {rdflib.Literal("al-Qaeda", lang="en")}
    assert graph.query(f"ASK {{ <{HID}al-qaeda> ?p ?o }}").askAnswer is True


@pytest.mark.parametrize("accept, rdflib_format", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                                   ("application/ld+json", "json-ld"),
                                                   ("application/n-triples", "nt")])
def test_live_service_description_parses(live_server, accept, rdflib_format):
    response, body = request(live_server, "GET", "/sparql", headers={"Accept": accept})
    assert response.status == 200
    assert response.getheader("Content-Type").split(";")[0] == accept
    graph = rdflib.Graph().parse(data=body, format=rdflib_format)
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (rdflib.URIRef(live_server.url + "sparql"), sd.endpoint, rdflib.URIRef(live_server.url + "sparql")) in graph


def test_live_cors_preflight(live_server):
    response, body = request(live_server, "OPTIONS", "/sparql", headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status == 204 and body == b""
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    assert "POST" in response.getheader("Access-Control-Allow-Methods")


# -- nothing is ever fetched ----------------------------------------------------------------------------------

@pytest.fixture
def listener():
    """A socket that records whether anybody connects to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.5)
    yield sock
    sock.close()


def assert_no_connection(sock) -> None:
    with pytest.raises(socket.timeout):
        connection, _ = sock.accept()
        connection.close()


def test_live_service_refused_without_connecting(live_server, listener):
    port = listener.getsockname()[1]
    for query in (
        f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o<1).SERVICE#>\n<http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
    ):
        response, body = request(live_server, "GET", "/sparql?" + urlencode({"query": query}))
        assert response.status == 403, body
    assert_no_connection(listener)


def test_live_from_remote_is_empty_and_never_fetched(live_server, listener):
    port = listener.getsockname()[1]
    for query in (
        f"SELECT * FROM <http://127.0.0.1:{port}/data.ttl> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <http://127.0.0.1:{port}/data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ):
        response, body = request(live_server, "GET", "/sparql?" + urlencode({"query": query}))
        assert response.status == 200
        assert json.loads(body)["results"]["bindings"] == []
    response, body = request(live_server, "GET", "/sparql?" + urlencode({
        "query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": f"http://127.0.0.1:{port}/x"}))
    assert response.status == 200 and json.loads(body)["results"]["bindings"] == []
    response, _ = request(live_server, "POST", "/sparql", body=f"LOAD <http://127.0.0.1:{port}/x>".encode(),
                          headers={"Content-Type": "application/sparql-update"})
    assert response.status == 403
    assert_no_connection(listener)


# -- limits over HTTP -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def strict_server(build_dir):
    # a 3 s limit leaves the concurrency test a wide window on a loaded 2-core machine
    server = start_live_server(build_dir, query_timeout=3, max_concurrent_queries=1, result_limit=5,
                               max_query_bytes=300, query_queue_timeout=0.5)
    yield server
    server.stop()


def test_live_timeout_is_503_and_the_server_recovers(strict_server):
    started = time.monotonic()
    response, body = request(strict_server, "GET", "/sparql?" + urlencode({"query": ENDLESS}))
    elapsed = time.monotonic() - started
    assert response.status == 503 and b"time limit" in body
    assert 3 <= elapsed < 10
    response, body = request(strict_server, "GET", "/sparql?" + urlencode({"query": "ASK {}"}))
    assert response.status == 200 and json.loads(body)["boolean"] is True


def test_live_concurrency_cap_503_with_retry_after_once_the_queue_wait_is_over(strict_server):
    slow = {}
    thread = threading.Thread(target=lambda: slow.setdefault(
        "response", request(strict_server, "GET", "/sparql?" + urlencode({"query": ENDLESS}))))
    thread.start()
    # the slow query must hold the only slot first: a probe sent at the same instant can win it instead
    time.sleep(0.3)
    refused = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and refused is None:
        response, body = request(strict_server, "GET", "/sparql?" + urlencode({"query": "ASK {}"}))
        if response.status == 503:
            assert b"as many queries as it allows" in body  # waited 0.5 s for the one slot, not a time limit
            refused = response
        else:
            time.sleep(0.02)
    thread.join()
    assert refused is not None and refused.getheader("Retry-After") == "1"
    assert slow["response"][0].status == 503


def test_live_result_cap_signalled(strict_server):
    response, body = request(strict_server, "GET", "/sparql?" + urlencode({"query": "SELECT * { ?s ?p ?o }"}),
                             headers={"Accept": "text/csv"})
    assert response.status == 200
    assert response.getheader("Haven-Result-Capped") == "true; limit=5"
    assert len(body.decode().strip().splitlines()) == 1 + 5


def test_live_body_limit_413(strict_server):
    big = ("ASK { " + "?s ?p ?o . " * 40 + "}").encode()
    response, _ = request(strict_server, "POST", "/sparql", body=big,
                          headers={"Content-Type": "application/sparql-query"})
    assert response.status == 413


# -- keep-alive -------------------------------------------------------------------------------------------------

def test_live_selects_on_one_keep_alive_connection(live_server):
    """Many small SELECTs on one keep-alive connection, as SPARQL clients send them, each answered whole
    (their median and p95 over loopback: bench/budgets.py select)."""
    path = "/sparql?" + urlencode({"query": SELECT_ORGS})
    connection = connect(live_server)
    try:
        for _ in range(120):
            connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200 and b"taliban" in body
    finally:
        connection.close()


def test_live_restart_opens_the_on_disk_store_built_by_the_first_start(tmp_path, release_dir):
    from plugins.release import make_build_dir
    build = make_build_dir(tmp_path, release_dir)
    release_id = json.loads((release_dir / "manifest.json").read_text())["id"]
    marker = build / "cache" / release_id / "oxigraph" / "haven-loaded"
    for start in ("first", "again"):
        server = start_live_server(build)
        try:
            with server.get("sparql?" + urlencode({"query": SELECT_ORGS}),
                            {"Accept": "application/sparql-results+json"}) as answer:
                rows = json.loads(answer.read())["results"]["bindings"]
            assert rows, start
            # the first start builds the store while it serves; a restart finds it complete at once
            deadline = time.monotonic() + 60
            while not marker.is_file() and start == "first" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert marker.is_file(), start
            with server.get("data/al-qaeda.ttl", {"Accept": "text/turtle"}) as answer:
                assert answer.status == 200
        finally:
            server.stop()
