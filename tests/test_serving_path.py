"""The fixed cost of a request (issue 11): no work the answer does not need, and none done twice.

A revalidated or repeated entity document is answered without a store query; a client query is tokenized
once, by the web layer's safety checks, whose scan the store reads instead of tokenizing again; a document is
gzipped once per release; SPARQL JSON results are written from rows read by position. Counted, never timed
(speed figures: bench/run.py).
"""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from haven import sparqltext
from haven.config import Settings
from haven.store.base import Store
from haven.store.remote import RemoteStore
from haven.web.app import create_app

SLUG = "al-qaeda"
CHEAP_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 5"
DESCRIBE_QUERY = "DESCRIBE <https://w3id.org/haven/id/al-qaeda>"


class CountingStore(Store):
    """The shared store, counting every call the web layer makes on it."""

    def __init__(self, inner: Store):
        self.inner = inner
        self.calls: Counter = Counter()
        for name in ("release_id", "manifest", "release_dir", "prefixes", "query_timeout"):
            setattr(self, name, getattr(inner, name))

    def _count(self, name, *args, **kwargs):
        self.calls[name] += 1
        return getattr(self.inner, name)(*args, **kwargs)

    def rows(self, query, timeout=None):
        return self._count("rows", query, timeout)

    def graph(self, query, timeout=None):
        return self._count("graph", query, timeout)

    def ask(self, query, timeout=None):
        return self._count("ask", query, timeout)

    def execute(self, query, accept_media_type, **options):
        return self._count("execute", query, accept_media_type, **options)

    def dump_quads(self, timeout=None):
        return self._count("dump_quads", timeout)

    def shapes(self, timeout=None):
        return self._count("shapes", timeout)


@pytest.fixture
def counted(build_dir, shared_store):
    store = CountingStore(shared_store)
    app = create_app(Settings(build_dir=build_dir), store=store)
    app.config["TESTING"] = True
    return store, app.test_client()


@pytest.mark.parametrize("path", [f"/data/{SLUG}.ttl", f"/data/{SLUG}.jsonld", f"/page/{SLUG}"])
def test_get_document_revalidated_or_repeated_without_a_store_query(counted, path):
    store, client = counted
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    assert sum(store.calls.values()) > 0  # the first rendering does read the store
    store.calls.clear()
    revalidated = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304
    again = client.get(path)
    assert again.status_code == 200 and again.data == first.data
    assert sum(store.calls.values()) == 0, store.calls


def test_get_id_of_a_known_entity_without_a_store_query(counted):
    store, client = counted
    assert client.get(f"/id/{SLUG}", headers={"Accept": "text/turtle"}).status_code == 303
    store.calls.clear()
    assert client.get(f"/id/{SLUG}", headers={"Accept": "text/turtle"}).status_code == 303
    assert sum(store.calls.values()) == 0, store.calls


def test_get_unknown_entity_asks_each_time(counted):
    """Only entities that exist are remembered: a client trying slugs cannot fill the server's memory."""
    store, client = counted
    for _ in range(2):
        assert client.get("/data/no-such-entity.ttl").status_code == 404
    assert store.calls["ask"] == 2


def test_if_none_match_star_on_an_unknown_entity_is_404(counted):
    _, client = counted
    assert client.get("/data/no-such-entity.ttl", headers={"If-None-Match": "*"}).status_code == 404


@pytest.fixture
def tokenizer_passes(monkeypatch):
    """How many times each text went through the tokenizer (every function of haven.sparqltext uses it)."""
    seen: Counter = Counter()
    real = sparqltext._TOKEN

    class Counting:
        def finditer(self, text, *args):
            seen[text] += 1
            return real.finditer(text, *args)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(sparqltext, "_TOKEN", Counting())
    return seen


@pytest.mark.parametrize("query, accept", [(CHEAP_QUERY, "application/sparql-results+json"),
                                           (DESCRIBE_QUERY, "text/turtle"),
                                           ("ASK { ?s ?p ?o }", "application/sparql-results+xml")])
def test_get_sparql_tokenizes_the_query_once_embedded(client, tokenizer_passes, query, accept):
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.data
    assert tokenizer_passes[query] == 1, dict(tokenizer_passes)


def test_get_sparql_json_answer_is_complete(client):
    """The rows serialised by position carry every variable and term kind as before."""
    query = ('SELECT ?iri ?label ?lang ?none WHERE { BIND(<https://w3id.org/haven/id/al-qaeda> AS ?iri) '
             '?iri <http://www.w3.org/2004/02/skos/core#prefLabel> ?label BIND(LANG(?label) AS ?lang) '
             'OPTIONAL { ?iri <http://example.org/none> ?none } }')
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    answer = json.loads(response.data)
    assert answer["head"]["vars"] == ["iri", "label", "lang", "none"]
    (row,) = answer["results"]["bindings"]
    assert row["iri"] == {"type": "uri", "value": "https://w3id.org/haven/id/al-qaeda"}
    assert row["label"]["type"] == "literal" and row["label"]["xml:lang"] == "en"
    assert row["lang"] == {"type": "literal", "value": "en"}
    assert "none" not in row


@pytest.mark.live  # an Oxigraph server holds the release
def test_get_sparql_remote_reads_the_words_from_the_scan(build_dir, oxigraph_server, tokenizer_passes):
    """Over a remote store the query is scanned once by the safety checks and rewritten once (the rewrite
    needs token positions, which the scan does not keep): two passes, where there were five."""
    settings = Settings(build_dir=build_dir)
    store = RemoteStore(oxigraph_server.query_url, settings)
    try:
        app = create_app(settings, store=store)
        client = app.test_client()
        for query, accept in ((CHEAP_QUERY, "application/sparql-results+json"), (DESCRIBE_QUERY, "text/turtle")):
            response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
            assert response.status_code == 200, response.data
            passes = tokenizer_passes[query]
            assert passes == (2 if re.match("SELECT", query) else 3), (query, dict(tokenizer_passes))
    finally:
        store.close()


@pytest.mark.parametrize("path", [f"/data/{SLUG}.ttl", f"/page/{SLUG}"])
def test_get_document_gzipped_once_per_release(client, monkeypatch, path):
    import gzip

    from haven.web import caching

    compressed = []
    real = caching.gzip.compress
    monkeypatch.setattr(caching.gzip, "compress", lambda data, **kw: compressed.append(data) or real(data, **kw))
    answers = [client.get(path, headers={"Accept-Encoding": "gzip"}) for _ in range(3)]
    assert all(a.status_code == 200 and a.headers["Content-Encoding"] == "gzip" for a in answers)
    assert len({a.data for a in answers}) == 1 and gzip.decompress(answers[0].data) == client.get(path).data
    assert len(compressed) == 1  # each app has its own release cache: this one compressed it once
