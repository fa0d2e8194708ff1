"""What the remote store and the release layout do about engine differences (docs/stores.md, engine notes).

The unit checks run everywhere; the live ones run on the suite's Oxigraph server, and on Virtuoso when
HAVEN_TEST_VIRTUOSO_URL names one (`make test-virtuoso`). test_backends.py checks the same answers end to end.
"""
from __future__ import annotations

import io
import os
import uuid

import pyoxigraph as ox
import pytest

from haven.web.app import create_app
from haven.config import Settings
from haven.store import releases
from haven.store.remote import _VirtuosoBlankNodes
from haven.store.rewrite import rewrite_graph_names

VIRTUOSO_URL = os.environ.get("HAVEN_TEST_VIRTUOSO_URL")
# real servers: live tier
STORES = [pytest.param("oxigraph", marks=pytest.mark.live)] + ([pytest.param("virtuoso", marks=pytest.mark.live)] if VIRTUOSO_URL else [])


class _Trickle(io.RawIOBase):
    """A socket-like stream that hands out at most `step` bytes per read, so patterns straddle reads."""

    def __init__(self, data: bytes, step: int):
        self._data, self._step = data, step

    def read(self, size=-1):
        size = self._step if size is None or size < 0 else min(size, self._step)
        chunk, self._data = self._data[:size], self._data[size:]
        return chunk


VIRTUOSO_JSON = (b'{ "head": { "link": [], "vars": ["b", "l"] },\n  "results": { "distinct": false, "ordered": true, '
                 b'"bindings": [\n    { "b": { "type": "bnode", "value": "nodeID://b10007" }\t, '
                 b'"l": { "type": "literal", "value": "see \\"type\\": \\"bnode\\", \\"value\\": \\"nodeID://x" }},\n'
                 b'    { "b": { "type": "bnode", "value": "nodeID://b10008" }\t, '
                 b'"l": { "type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", '
                 b'"value": "3" }} ] } }')


@pytest.mark.parametrize("step", [1, 7, 36, 1 << 20])
def test_virtuoso_blank_node_values_parse_as_blank_nodes(step):
    rows = list(ox.parse_query_results(_VirtuosoBlankNodes(_Trickle(VIRTUOSO_JSON, step)),
                                       format=ox.QueryResultsFormat.JSON))
    assert [type(r["b"]) for r in rows] == [ox.BlankNode, ox.BlankNode]
    assert rows[0]["b"] != rows[1]["b"]
    # the same characters inside a literal are data and stay as they were
    assert rows[0]["l"] == ox.Literal('see "type": "bnode", "value": "nodeID://x')
    assert rows[1]["l"] == ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))


def test_from_clauses_leave_the_text_and_graph_names_map_separately():
    query = ("PREFIX g: <http://e/graph/>\nSELECT * FROM g:a FROM NAMED <http://e/graph/b> "
             "WHERE { GRAPH g:b { ?s ?p 'FROM <http://x/>' } GRAPH <http://e/graph/c> { ?s ?p ?o } }")
    rewritten = rewrite_graph_names(query, lambda iri: iri + "/R", None,
                                    lambda iri: iri + "/R" if iri.endswith("/b") else "urn:empty")
    assert rewritten.from_graphs == ["http://e/graph/a/R"]
    assert rewritten.from_named_graphs == ["http://e/graph/b/R"]
    assert "FROM g:a" not in rewritten.text and "FROM NAMED" not in rewritten.text
    assert "GRAPH <http://e/graph/b/R>" in rewritten.text and "GRAPH <urn:empty>" in rewritten.text
    assert "'FROM <http://x/>'" in rewritten.text  # a string is not a clause
    ox.Store().query(rewritten.text)  # still a query


# -- live ------------------------------------------------------------------------------------------------

def _client(name, request):
    from haven.credentials import account
    from haven.publish import StoreClient

    url = request.getfixturevalue("oxigraph_server").query_url if name == "oxigraph" else VIRTUOSO_URL
    # the account `make test-virtuoso` names (HAVEN_STORE_USER/PASSWORD), as `haven publish` finds it
    client = StoreClient(url, account=account(None, None, [url]))
    client.connect("auto", None, None)
    return client


@pytest.mark.parametrize("name", STORES)
def test_first_pointer_then_compare_and_swap(name, request):
    """The first switch must write a pointer on a store that has none (Virtuoso's empty OPTIONAL inserted
    nothing); later switches only move it from the release they name."""
    client = _client(name, request)
    base = f"https://example.org/first-pointer-{uuid.uuid4().hex}/"
    current = lambda: releases.current_release(client.select, base)  # noqa: E731
    try:
        assert current() is None
        client.update(releases.switch_update(base, None, "r1"), "first pointer")
        assert current() == "r1"
        client.update(releases.switch_update(base, None, "r2"), "pointer replaced")
        assert current() == "r2"
        client.update(releases.switch_update(base, "r1", "r3"), "stale compare-and-swap")
        assert current() == "r2"
        client.update(releases.switch_update(base, "r2", "r3"), "compare-and-swap")
        assert current() == "r3"
    finally:
        client.update(f"DROP SILENT GRAPH <{releases.control_graph(base)}>", "cleanup")


@pytest.fixture(scope="module", params=STORES)
def remote_app(request, tmp_path_factory, release_dir):
    """(name, test client) of an app with a result limit above Virtuoso's row limit, over that store."""
    from plugins.release import make_build_dir
    from haven.store.remote import RemoteStore

    name = request.param
    if name == "oxigraph":
        url = request.getfixturevalue("oxigraph_server").query_url
    else:
        from plugins.stores import publish_to
        url = VIRTUOSO_URL
        publish_to(release_dir, url)
    build = make_build_dir(tmp_path_factory.mktemp("row-limit"), release_dir)
    settings = Settings(build_dir=build, result_limit=20_000, store=url)
    store = RemoteStore(url, settings)
    app = create_app(settings, store=store)
    app.config["TESTING"] = True
    yield name, app.test_client()
    store.close()


# 120 x 120 = 14,400 distinct rows: more than Virtuoso's ResultSetMaxRows (10,000), less than our limit
_NUMBERS = " ".join(map(str, range(120)))
WIDE = f"WHERE {{ VALUES ?i {{ {_NUMBERS} }} VALUES ?j {{ {_NUMBERS} }} BIND(?i * 120 + ?j AS ?n) }}"


@pytest.mark.parametrize("query, accept", [
    ("SELECT ?n " + WIDE, "application/sparql-results+json"),
    ("CONSTRUCT { <urn:s> <urn:p> ?n } " + WIDE, "application/n-triples"),
])
def test_store_row_limit_cut_is_signalled_as_capped(remote_app, query, accept):
    name, client = remote_app
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.data[:300]
    if accept == "application/n-triples":
        rows = len([line for line in response.get_data(as_text=True).splitlines()
                    if line and not line.startswith("#")])
    else:
        rows = len(response.json["results"]["bindings"])
    if name == "virtuoso":
        # Virtuoso stops at its own limit below ours (a 200; for CONSTRUCT without even a header, and
        # one triple past it): what it gave is passed on, flagged as capped, never as complete
        assert rows == (10_001 if accept == "application/n-triples" else 10_000)
        assert response.headers["Haven-Result-Capped"] == "true; limit=20000"
    else:
        assert rows == 120 * 120
        assert "Haven-Result-Capped" not in response.headers
