"""A remote store and the query time limit: the client's 503 comes within the limit plus at most a second,
and Haven says at start when the store itself will not stop a query it gave up on (docs/stores.md)."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from haven.store.remote import HTTP_MARGIN, engine_named
from plugins.figures import report_line
from plugins.rawhttp import timed_exchange
from plugins.servers import start_live_server
from plugins.stores import load_release, start_oxigraph_server

TIMEOUT = 2.0
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?s1 ?p1 ?o1 . ?s2 ?p2 ?o2 . ?s3 ?p3 ?o3 . ?s4 ?p4 ?o4 . ?s5 ?p5 ?o5 }"


@pytest.mark.parametrize("header, engine", [("Oxigraph/0.5.13", "oxigraph"), ("Virtuoso/07.20.3240 (Linux)", "virtuoso"),
                                            ("Apache Jena Fuseki (5.1.0)", "generic"), ("", "generic")])
def test_the_engine_is_known_by_its_server_header(header, engine):
    assert engine_named(header) == engine


def test_the_margin_past_the_limit_is_under_a_second():
    assert HTTP_MARGIN < 1.0


@pytest.fixture(scope="module")
def over_oxigraph(build_dir, release_dir, tmp_path_factory):
    store = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph"))
    load_release(release_dir, store)
    log = tmp_path_factory.mktemp("log") / "server.log"
    with open(log, "wb") as stderr:
        live = start_live_server(build_dir, stderr=stderr, store=store.query_url, query_timeout=TIMEOUT)
    yield live, log
    live.stop()
    store.stop()


@pytest.mark.live
@pytest.mark.slow
def test_a_runaway_query_over_a_remote_store_is_503_within_the_limit_plus_a_second(over_oxigraph, pytestconfig):
    live, _ = over_oxigraph
    # the syntax checkers are started (a first query waits for them; that wait is not the store's)
    assert timed_exchange(live, "GET", "/sparql?" + urlencode({"query": "ASK {}"}), timeout=30)[0].status == 200
    response, body, elapsed = timed_exchange(live, "GET", "/sparql?" + urlencode({"query": RUNAWAY}),
                                             headers={"Accept": "application/sparql-results+json"},
                                             timeout=TIMEOUT + 30)
    assert response.status == 503 and b"time limit" in body, body
    assert TIMEOUT <= elapsed < TIMEOUT + 1.0
    report_line(pytestconfig, f"remote store: runaway query 503 after {elapsed:.2f} s (limit {TIMEOUT:g} s)")


@pytest.mark.live
def test_serving_from_oxigraph_warns_that_it_does_not_stop_queries(over_oxigraph):
    _, log = over_oxigraph
    lines = [line for line in log.read_text("utf-8", "replace").splitlines() if "time limit" in line]
    assert any(line.startswith("WARNING") and "Oxigraph" in line and "does not stop a query" in line
               for line in lines), lines
