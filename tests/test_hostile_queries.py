"""Hostile queries against the real server process (2 s time limit, 100-row cap): each is answered within
the limit plus a margin, with a clear status, and afterwards the data is exactly what it was and the server
answers normally. Nothing is fetched on a client's behalf: a listening socket sees no connection.

test_live_server.py already covers the plain SERVICE/FROM/LOAD cases and the basic limits; this module is
the attacker's list: expensive shapes of queries, SERVICE and dataset tricks, and every SPARQL Update form
through every way of sending it.
"""
from __future__ import annotations

import json
import socket
from urllib.parse import urlencode

import pytest

from plugins.figures import report_line
from plugins.rawhttp import timed_exchange
from plugins.servers import start_live_server

pytestmark = pytest.mark.live

TIMEOUT = 2.0
MARGIN = 3.0
LIMIT = 100
HID = "https://w3id.org/haven/id/"
HG = "https://w3id.org/haven/graph/"
P = "<https://w3id.org/haven/ontology#alliedWith>"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
SENTINEL = "<http://attacker.example/s> <http://attacker.example/p> <http://attacker.example/o>"


@pytest.fixture(scope="module")
def server(build_dir):
    live = start_live_server(build_dir, query_timeout=TIMEOUT, result_limit=LIMIT, max_concurrent_queries=4)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def tally(pytestconfig):
    counts: dict[str, dict[int, int]] = {}
    yield counts
    total = sum(sum(c.values()) for c in counts.values())
    detail = "; ".join(f"{kind} {sum(c.values())} ({', '.join(f'{s}×{n}' for s, n in sorted(c.items()))})"
                       for kind, c in counts.items())
    report_line(pytestconfig, f"hostile queries: {total} sent, all within {TIMEOUT:g} s + {MARGIN:g} s, "
                              f"data unchanged — {detail}")


def send(server, tally, kind: str, method: str, path: str, body: bytes | None = None, headers=None):
    response, data, elapsed = timed_exchange(server, method, path, body, headers, timeout=TIMEOUT + MARGIN + 10)
    tally.setdefault(kind, {})
    tally[kind][response.status] = tally[kind].get(response.status, 0) + 1
    assert elapsed < TIMEOUT + MARGIN, (path[:200], elapsed)
    assert response.status < 500 or response.status == 503, (path[:200], data[:300])
    # a 503 is the time limit or a full house, never a query worker that died under the query
    assert not (response.status == 503 and b"could not answer" in data), (path[:200], data[:300])
    assert server.process.poll() is None, "the server process died"
    return response, data


def get(server, tally, kind, query, **params):
    return send(server, tally, kind, "GET", "/sparql?" + urlencode({"query": query, **params}),
                headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})


def count_all(server, tally) -> int:
    response, data = get(server, tally, "control", COUNT_ALL)
    assert response.status == 200
    return int(json.loads(data)["results"]["bindings"][0]["n"]["value"])


def assert_no_connection(listener) -> None:
    listener.settimeout(0.3)
    with pytest.raises(socket.timeout):
        connection, _ = listener.accept()
        connection.close()


# -- expensive shapes ---------------------------------------------------------------------------------------

CROSS = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o"
EXPENSIVE = {
    "cross product, streamed": (f"SELECT * WHERE {{ {CROSS} }}", {200, 503}),
    "cross product, counted": (f"SELECT (COUNT(*) AS ?x) WHERE {{ {CROSS} }}", {503}),
    "cross product, sorted": (f"SELECT * WHERE {{ {CROSS} }} ORDER BY ?a ?o", {503}),
    "cross product, distinct": (f"SELECT DISTINCT ?a ?o WHERE {{ {CROSS} }}", {200, 503}),
    "cross product, constructed": (f"CONSTRUCT {{ ?a ?b ?o }} WHERE {{ {CROSS} }}", {200, 503}),
    "deep path (p|!p)*": (f"SELECT * WHERE {{ ?s ({P}|!{P})* ?o }}", {200, 503}),
    "deep path, counted and chained": (f"SELECT (COUNT(*) AS ?x) WHERE {{ ?s ({P}|!{P})*/({P}|!{P})*/(!{P})+ ?o }}",
                                       {200, 503}),
    "path between every pair": (f"ASK {{ ?s (!{P})* ?o . ?o (!{P})* ?t . ?t (^!{P})* ?s . FILTER(?s != ?t) }}",
                                {200, 503}),
    "regex on every literal": ('SELECT ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o) && REGEX(STR(?o), "^(a|a?)+$|(.*a){20}", "i")) }',
                               {200, 503}),
    "regex on every pair of literals": (f'SELECT (COUNT(*) AS ?x) WHERE {{ ?s ?p ?o . ?t ?q ?u '
                                        f'FILTER(REGEX(CONCAT(STR(?o), STR(?u)), "(x+x+)+y")) }}', {200, 503}),
    "huge string building": ('SELECT (STRLEN(GROUP_CONCAT(CONCAT(STR(?a),STR(?b),STR(?c)); separator=" ")) AS ?x) '
                             "WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }", {200, 503}),
    "nested subqueries": ("SELECT * WHERE { " + "{ SELECT * WHERE { " * 30 + "?s ?p ?o" + " } }" * 30 + " }",
                          {200, 400, 503}),
    "deeply nested groups": ("SELECT * WHERE " + "{ " * 500 + "?s ?p ?o" + " }" * 500, {400}),  # past MAX_NESTING
    "OFFSET past everything": (f"SELECT * WHERE {{ {CROSS} }} OFFSET 999999999999", {200, 503}),
    "unbounded LIMIT": ("SELECT * WHERE { ?s ?p ?o . ?t ?q ?u } LIMIT 999999999999999", {200, 503}),
}


@pytest.mark.parametrize("name", list(EXPENSIVE))
def test_expensive_query_answered_within_the_limit(server, tally, name):
    query, allowed = EXPENSIVE[name]
    response, data = get(server, tally, "expensive", query)
    assert response.status in allowed, (response.status, data[:300])
    if response.status == 503:
        # stopped by one of the two resource limits (which comes first depends on the machine), or shed with Retry-After
        assert b"time limit" in data or b"of memory a query may use" in data or response.getheader("Retry-After")
    if response.status == 200 and query.startswith("SELECT *"):
        rows = json.loads(data)["results"]["bindings"]
        assert len(rows) <= LIMIT
        if len(rows) == LIMIT:
            assert response.getheader("Haven-Result-Capped") == f"true; limit={LIMIT}"
    # the endpoint is still answering at once after each one
    assert get(server, tally, "control", "ASK {}")[0].status == 200


def test_huge_values_are_answered_or_refused_by_size(server, tally):
    rows = " ".join(f"(<{HID}x{i}> {i})" for i in range(1500))
    small = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES (?s ?i) {{ {rows} }} OPTIONAL {{ ?s ?p ?o }} }}"
    assert len(small.encode()) < 64 * 1024
    response, data = send(server, tally, "huge VALUES", "POST", "/sparql", small.encode(),
                          {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert response.status == 200 and json.loads(data)["results"]["bindings"][0]["n"]["value"] == "1500"
    rows = " ".join(f"(<{HID}x{i}> {i})" for i in range(3000))  # over the 64 KiB cap, under what waitress cuts off
    big = f"SELECT * WHERE {{ VALUES (?s ?i) {{ {rows} }} ?s ?p ?o }}"
    for method, path, body, headers in (
        ("POST", "/sparql", big.encode(), {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", urlencode({"query": big}).encode(), {"Content-Type": "application/x-www-form-urlencoded"}),
        ("GET", "/sparql?" + urlencode({"query": big}), None, {}),
    ):
        response, _ = send(server, tally, "huge VALUES", method, path, body, headers)
        assert response.status in {413, 414, 431}, (method, response.status)


# -- nothing fetched ----------------------------------------------------------------------------------------

def fetching_queries(port: int) -> list[tuple[str, set[int]]]:
    local = f"http://127.0.0.1:{port}"
    remotes = [f"{local}/sparql", f"http://localhost:{port}/", f"http://[::1]:{port}/", "http://169.254.169.254/latest/",
               "http://example.org/sparql", "https://query.wikidata.org/sparql", "file:///etc/passwd",
               f"http://2130706433:{port}/"]
    out = []
    for remote in remotes:
        out += [
            (f"SELECT * WHERE {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}", {403}),
            (f"SELECT * WHERE {{ ?s ?p ?o . FILTER EXISTS {{ SERVICE SILENT <{remote}> {{ ?s ?p ?o }} }} }}", {403}),
            (f"SELECT * WHERE {{ {{ SELECT * WHERE {{ service <{remote}> {{ ?s ?p ?o }} }} }} }}", {403}),
            (f"SELECT * FROM <{remote}> WHERE {{ ?s ?p ?o }}", {200}),
            (f"SELECT * FROM NAMED <{remote}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {200}),
            (f"ASK FROM <{remote}> {{ ?s ?p ?o }}", {200}),
            (f"DESCRIBE <{remote}>", {200}),
            (f"LOAD <{remote}>", {403}),
            (f"LOAD SILENT <{remote}> INTO GRAPH <{HG}data>", {403}),
        ]
    out += [
        (f"SELECT * WHERE {{ VALUES ?svc {{ <{local}/> }} SERVICE ?svc {{ ?s ?p ?o }} }}", {403}),
        (f"SELECT * WHERE {{ \\u0053\\u0045RVICE <{local}/> {{ ?s ?p ?o }} }}", {403}),
        (f"PREFIX x: <{local}/> SELECT * WHERE {{ SERVICE x:sparql {{ ?s ?p ?o }} }}", {403}),
        (f"BASE <{local}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}", {403}),
        (f"SELECT * WHERE {{ BIND(IRI(\"{local}/\") AS ?x) ?x ?p ?o }}", {200}),
    ]
    return out


def test_nothing_is_fetched_for_any_address(server, tally, listener):
    port = listener.getsockname()[1]
    for query, allowed in fetching_queries(port):
        for method in ("GET", "POST-form", "POST-direct"):
            if method == "GET":
                response, data = get(server, tally, "fetch attempts", query)
            elif method == "POST-form":
                response, data = send(server, tally, "fetch attempts", "POST", "/sparql",
                                      urlencode({"query": query}).encode(),
                                      {"Content-Type": "application/x-www-form-urlencoded"})
            else:
                response, data = send(server, tally, "fetch attempts", "POST", "/sparql", query.encode(),
                                      {"Content-Type": "application/sparql-query"})
            assert response.status in allowed, (query, method, response.status, data[:200])
    # the protocol's own dataset parameters with remote graphs: empty, never fetched
    response, data = send(server, tally, "fetch attempts", "GET", "/sparql?" + urlencode({
        "query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": f"http://127.0.0.1:{port}/g",
        "named-graph-uri": f"http://127.0.0.1:{port}/n"}))
    assert response.status == 200 and json.loads(data)["results"]["bindings"] == []
    assert_no_connection(listener)


# -- every SPARQL Update, every way ---------------------------------------------------------------------------

UPDATES = [
    f"INSERT DATA {{ {SENTINEL} }}",
    f"INSERT DATA {{ GRAPH <{HG}data> {{ {SENTINEL} }} }}",
    f"DELETE DATA {{ GRAPH <{HG}data> {{ <{HID}al-qaeda> a <https://w3id.org/haven/ontology#MilitantOrganization> }} }}",
    f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} INSERT {{ {SENTINEL} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
    f"WITH <{HG}data> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    f"WITH <{HG}data> INSERT {{ {SENTINEL} }} WHERE {{}}",
    f"INSERT {{ GRAPH <{HG}data> {{ {SENTINEL} }} }} USING <{HG}data> WHERE {{ ?s ?p ?o }}",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    f"LOAD SILENT <http://127.0.0.1:9/data.ttl> INTO GRAPH <{HG}data>",
    "CLEAR DEFAULT", "CLEAR NAMED", "CLEAR ALL", f"CLEAR SILENT GRAPH <{HG}data>",
    "DROP ALL", "DROP DEFAULT", f"DROP GRAPH <{HG}data>", f"DROP SILENT GRAPH <{HG}derived>",
    "CREATE GRAPH <http://attacker.example/g>", "CREATE SILENT GRAPH <http://attacker.example/g>",
    f"ADD <{HG}data> TO <http://attacker.example/g>", f"ADD SILENT GRAPH <{HG}data> TO DEFAULT",
    f"MOVE <{HG}data> TO <http://attacker.example/g>", f"MOVE DEFAULT TO GRAPH <{HG}data>",
    f"COPY <{HG}data> TO <{HG}ontology>", f"COPY SILENT DEFAULT TO <{HG}data>",
    f"PREFIX ex: <http://attacker.example/> BASE <http://attacker.example/> INSERT DATA {{ {SENTINEL} }}",
    f"CLEAR ALL ; INSERT DATA {{ {SENTINEL} }}",
    f"\\u0049NSERT DATA {{ {SENTINEL} }}",
    f"# a comment first\n  insert data {{ {SENTINEL} }}",
    f"ASK {{}} ; INSERT DATA {{ {SENTINEL} }}",
    f"SELECT * WHERE {{ ?s ?p ?o }} ; DROP ALL",
]
SENTINEL_ASK = "ASK { GRAPH ?g { <http://attacker.example/s> ?p ?o } } "


def update_requests(text: str):
    yield "query=", "GET", "/sparql?" + urlencode({"query": text}), None, {}
    yield "query= form", "POST", "/sparql", urlencode({"query": text}).encode(), {
        "Content-Type": "application/x-www-form-urlencoded"}
    yield "update= form", "POST", "/sparql", urlencode({"update": text}).encode(), {
        "Content-Type": "application/x-www-form-urlencoded"}
    yield "update= URL", "GET", "/sparql?" + urlencode({"update": text}), None, {}
    yield "sparql-update body", "POST", "/sparql", text.encode(), {"Content-Type": "application/sparql-update"}
    yield "sparql-query body", "POST", "/sparql", text.encode(), {"Content-Type": "application/sparql-query"}


def test_every_update_form_is_refused_and_changes_nothing(server, tally):
    before = count_all(server, tally)
    assert json.loads(get(server, tally, "control", SENTINEL_ASK)[1])["boolean"] is False
    for text in UPDATES:
        for how, method, path, body, headers in update_requests(text):
            response, data = send(server, tally, "updates", method, path, body, headers)
            # 403 when it is recognised as an update; 400 when the query parser rejects the text outright
            assert response.status in {400, 403}, (how, text, response.status, data[:200])
            if response.status == 403:
                assert b"read-only" in data or b"SERVICE" in data
    assert count_all(server, tally) == before
    assert json.loads(get(server, tally, "control", SENTINEL_ASK)[1])["boolean"] is False
    response, data = get(server, tally, "control", f"ASK {{ GRAPH <{HG}data> {{ <{HID}al-qaeda> ?p ?o }} }}")
    assert json.loads(data)["boolean"] is True
    # the graph store protocol's write methods are not routes at all
    for method in ("PUT", "DELETE", "PATCH"):
        response, _ = send(server, tally, "updates", method, "/sparql?graph=" + HG + "data", b"", {})
        assert response.status == 405
    assert count_all(server, tally) == before
