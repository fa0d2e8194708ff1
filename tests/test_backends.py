"""The same HTTP acceptance checks against every store backend: what a client sees must not depend on it.

Backends: `embedded` (pyoxigraph in-process), `oxigraph` (a real Oxigraph server started by the suite, the
release published into it), and `virtuoso` only when HAVEN_TEST_VIRTUOSO_URL names a running Virtuoso
(`make test-virtuoso` starts one); otherwise that parameter does not exist. Every answer is compared, parsed
(bnode labels aside), with the embedded store's answer to the same request, and checked for real content.
"""
from __future__ import annotations

import json
import os
import re
from html import unescape as html_unescape

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SKOS, VOID, Namespace

from haven.web.app import create_app
from haven.config import Settings
from plugins.answers import RESULT_PARSERS, rdf, solutions, sparql
from plugins.release import fixture_triples

BASE = "https://w3id.org/haven/"
HID = BASE + "id/"
AQ = URIRef(HID + "al-qaeda")
GRAPHS = {f"{BASE}graph/{part}" for part in ("ontology", "data", "derived", "metadata")}
PREFIXES = f"PREFIX skos: <{SKOS}> PREFIX hid: <{HID}> PREFIX hg: <{BASE}graph/>\n"
RESULT_LIMIT = 20
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

# the remote stores are real servers: live tier
BACKENDS = ["embedded", pytest.param("oxigraph", marks=pytest.mark.live)] + (
    [pytest.param("virtuoso", marks=pytest.mark.live)] if os.environ.get("HAVEN_TEST_VIRTUOSO_URL") else [])


def _app(build_dir, backend_store, **settings):
    app = create_app(Settings(build_dir=build_dir, result_limit=RESULT_LIMIT).with_overrides(**settings),
                     store=backend_store)
    app.config["TESTING"] = True
    return app


def _remote_store(url, build_dir):
    from haven.store.remote import RemoteStore

    return RemoteStore(url, Settings(build_dir=build_dir))


@pytest.fixture(scope="module")
def reference(build_dir, shared_store):
    """The embedded store's answers: what every backend must answer."""
    return _app(build_dir, shared_store).test_client()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, build_dir, shared_store, release_dir):
    """(name, Flask test client) for an app on that backend, same settings as the reference."""
    name = request.param
    if name == "embedded":
        yield name, _app(build_dir, shared_store).test_client()
        return
    if name == "oxigraph":
        url = request.getfixturevalue("oxigraph_server").query_url
    else:
        from plugins.stores import publish_to
        url = os.environ["HAVEN_TEST_VIRTUOSO_URL"]
        publish_to(release_dir, url)
    store = _remote_store(url, build_dir)
    yield name, _app(build_dir, store, store=url).test_client()
    store.close()


# -- parsing, bnode labels aside ------------------------------------------------------------------------------

def same_answer(backend, reference, query, accept="application/sparql-results+json", **params):
    name, client = backend
    got, expected = sparql(client, query, accept, **params), sparql(reference, query, accept, **params)
    assert got.status_code == expected.status_code == 200, (name, got.data[:500])
    assert got.mimetype == expected.mimetype == accept
    return got, expected


# -- /sparql ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", list(RESULT_PARSERS))
def test_select_in_every_result_format(backend, reference, accept):
    query = PREFIXES + "SELECT ?s ?label WHERE { ?s skos:prefLabel ?label } ORDER BY ?s"
    got, expected = same_answer(backend, reference, query, accept)
    rows = solutions(got)
    assert rows == solutions(expected)
    # CSV keeps only the lexical form; the other formats keep the language tag
    label = '"al-Qaeda"' if accept == "text/csv" else Literal("al-Qaeda", lang="en").n3()
    assert (("s", AQ.n3()), ("label", label)) in rows


def test_select_star_without_variables(backend, reference):
    # one solution binding nothing (Virtuoso invents a variable for it, which must not show)
    got, expected = same_answer(backend, reference, "SELECT * WHERE { FILTER(1 = 1) }")
    assert got.json["head"]["vars"] == expected.json["head"]["vars"] == []
    assert got.json["results"]["bindings"] == expected.json["results"]["bindings"] == [{}]


def test_graphs_have_their_canonical_names_and_counts(backend, reference, release_dir):
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    got, _ = same_answer(backend, reference, query)
    counts = {row["g"]["value"]: int(row["n"]["value"]) for row in got.json["results"]["bindings"]}
    manifest = json.loads((release_dir / "manifest.json").read_text())
    assert counts == manifest["graphs"] and set(counts) == GRAPHS


@pytest.mark.parametrize("query, params, expected", [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {}, fixture_triples()),
    ("SELECT (COUNT(*) AS ?n) FROM hg:data WHERE { ?s ?p ?o }", {}, fixture_triples("data")),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default-graph-uri": BASE + "graph/data"}, fixture_triples("data")),
    ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH hg:derived { ?s ?p ?o } }", {}, fixture_triples("derived")),
    # what the store keeps besides the release (its control graph, other releases) is never visible
    ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <%sgraph/control> { ?s ?p ?o } }" % BASE, {}, 0),
    ("SELECT (COUNT(*) AS ?n) FROM <%sgraph/control> WHERE { ?s ?p ?o }" % BASE, {}, 0),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default-graph-uri": BASE + "graph/control"}, 0),
    # the protocol's dataset wins over the query's FROM, and a side it leaves out is empty
    ("SELECT (COUNT(*) AS ?n) FROM <%sgraph/control> WHERE { ?s ?p ?o }" % BASE,
     {"default-graph-uri": BASE + "graph/data"}, fixture_triples("data")),
    ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH hg:derived { ?s ?p ?o } }", {"named-graph-uri": BASE + "graph/data"}, 0),
    ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {"default-graph-uri": BASE + "graph/data"}, 0),
    ("SELECT (COUNT(*) AS ?n) FROM NAMED hg:data WHERE { ?s ?p ?o }", {}, 0),
])
def test_dataset_counts(backend, reference, query, params, expected):
    got, want = same_answer(backend, reference, PREFIXES + query, **params)
    assert int(got.json["results"]["bindings"][0]["n"]["value"]) == expected
    assert solutions(got) == solutions(want)


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml"])
@pytest.mark.parametrize("query, answer", [
    (PREFIXES + 'ASK { hid:al-qaeda skos:prefLabel "al-Qaeda"@en }', True),
    (PREFIXES + "ASK { hid:al-qaeda skos:prefLabel ?l FILTER(?l = 'nothing') }", False),
])
def test_ask(backend, reference, accept, query, answer):
    got, expected = same_answer(backend, reference, query, accept)
    assert solutions(got) == solutions(expected) == [(answer,)]


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/n-triples"])
def test_construct_formats(backend, reference, accept):
    query = PREFIXES + "CONSTRUCT { ?s skos:prefLabel ?l } WHERE { ?s skos:prefLabel ?l }"
    got, expected = same_answer(backend, reference, query, accept)
    graph = rdf(got)
    assert (AQ, SKOS.prefLabel, Literal("al-Qaeda", lang="en")) in graph
    assert isomorphic(graph, rdf(expected))


def test_describe_gives_the_embedded_description(backend, reference):
    # an entity whose description fits under RESULT_LIMIT, so that no cap chooses which triples are shown
    got, expected = same_answer(backend, reference, PREFIXES + "DESCRIBE hid:osama-bin-laden", "text/turtle")
    graph = rdf(got)
    assert (URIRef(HID + "osama-bin-laden"), SKOS.prefLabel, Literal("Osama bin Laden", lang="en")) in graph
    assert len(graph) < RESULT_LIMIT and isomorphic(graph, rdf(expected))


def test_update_refused_and_nothing_changed(backend):
    name, client = backend
    count = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before = sparql(client, count).json
    insert = f"INSERT DATA {{ <{HID}x> <{HID}y> <{HID}z> }}"
    assert client.post("/sparql", data=insert, content_type="application/sparql-update").status_code == 403
    assert sparql(client, insert).status_code == 403
    assert sparql(client, f"DROP GRAPH <{BASE}graph/data>").status_code == 403
    assert sparql(client, count).json == before


def test_service_refused(backend):
    _, client = backend
    response = sparql(client, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert response.status_code == 403
    assert "SERVICE" in response.get_data(as_text=True)


def test_malformed_query_400(backend, reference):
    name, client = backend
    got, expected = sparql(client, "SELECT ?s WHERE { ?s ?p"), sparql(reference, "SELECT ?s WHERE { ?s ?p")
    assert got.status_code == expected.status_code == 400
    assert got.get_data(as_text=True) == expected.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/turtle"])
def test_result_cap_signalled(backend, accept):
    _, client = backend
    query = ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }" if accept == "text/turtle"
             else "SELECT * WHERE { ?s ?p ?o }")
    response = sparql(client, query, accept)
    assert response.status_code == 200
    assert response.headers["Haven-Result-Capped"] == f"true; limit={RESULT_LIMIT}"
    if accept == "text/turtle":
        assert len(rdf(response)) == RESULT_LIMIT
    else:
        assert len(response.json["results"]["bindings"]) == RESULT_LIMIT
        assert response.json["head"]["link"]


# -- Linked Data documents ---------------------------------------------------------------------------------

def test_id_redirects_and_data_documents(backend, reference):
    name, client = backend
    response = client.get("/id/al-qaeda", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/data/al-qaeda.ttl")
    for ext, accept in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples")):
        got, expected = client.get(f"/data/al-qaeda.{ext}"), reference.get(f"/data/al-qaeda.{ext}")
        assert got.status_code == 200 and got.mimetype == accept, (name, ext)
        graph = rdf(got, client)
        assert (AQ, SKOS.prefLabel, Literal("al-Qaeda", lang="en")) in graph
        assert any(graph.triples((None, None, AQ))), "incoming relations belong in the document"
        assert isomorphic(graph, rdf(expected, reference)), (name, ext)


def test_page_html(backend):
    _, client = backend
    response = client.get("/page/al-qaeda")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "al-Qaeda" in response.get_data(as_text=True)


def test_void_and_its_counts(backend, reference, release_dir):
    name, client = backend
    got, expected = (c.get("/.well-known/void", headers={"Accept": "text/turtle"}) for c in (client, reference))
    assert got.status_code == 200, name
    graph = rdf(got)
    assert isomorphic(graph, rdf(expected))
    assert (URIRef(BASE + "dataset"), VOID.sparqlEndpoint, None) in graph
    # the counts a consumer reads: the service description's per-graph void:triples, and the landing page
    described = client.get("/sparql", headers={"Accept": "text/turtle"})
    sizes = rdf(described)
    counts = {str(sizes.value(named, SD.name)): int(sizes.value(sizes.value(named, SD.graph), VOID.triples))
              for named in sizes.subjects(RDF.type, SD.NamedGraph)}
    assert counts == json.loads((release_dir / "manifest.json").read_text())["graphs"], name
    assert isomorphic(sizes, rdf(reference.get("/sparql", headers={"Accept": "text/turtle"})))
    landing = client.get("/").get_data(as_text=True)
    assert landing == reference.get("/").get_data(as_text=True)


# -- the query page, rendered by the server from the same store call ---------------------------------------------

PAGE_QUERIES = {
    "select": PREFIXES + "SELECT ?s ?name WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; skos:prefLabel ?name }",
    "ask": "ASK { ?s a <https://w3id.org/haven/ontology#Person> }",
    "construct": "CONSTRUCT { ?s a ?t } WHERE { ?s a <https://w3id.org/haven/ontology#Person> ; a ?t }",
    "capped": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "malformed": "SELECT ?x WHERE { ?x ",
}


def _page_answer(client, query):
    """Status, the answer section of /query (time blanked, whitespace collapsed, no rows, no Turtle), the
    table's rows sorted, and the Turtle as a graph."""
    response = client.get("/query", query_string={"query": query})
    html = response.get_data(as_text=True)
    section = html[html.index('<section id="answer"'):html.index('<section id="examples"')]
    turtle = re.search(r'<pre class="turtle">(.*?)</pre>', section, re.DOTALL)
    graph = Graph().parse(data=html_unescape(turtle[1]), format="turtle") if turtle else None
    rows = sorted(re.findall(r"<tr>.*?</tr>", section, re.DOTALL))
    section = re.sub(r'<tr>.*?</tr>|<pre class="turtle">.*?</pre>', "", section, flags=re.DOTALL)
    section = " ".join(re.sub(r"in \d+\.\d{3} s\.", "in … s.", section).split())
    return response.status_code, section, rows, graph


@pytest.mark.parametrize("name", PAGE_QUERIES)
def test_query_page_answers_alike(backend, reference, name):
    (status, section, rows, graph), (status_e, section_e, rows_e, graph_e) = (
        _page_answer(backend[1], PAGE_QUERIES[name]), _page_answer(reference, PAGE_QUERIES[name]))
    assert (status, section) == (status_e, section_e), backend[0]
    assert (graph is None) == (graph_e is None) and (graph is None or isomorphic(graph, graph_e)), backend[0]
    if name == "capped":  # which rows come first is the store's business; how many is not
        assert "The answer was cut at 20 rows" in section and len(rows) == len(rows_e) == 1 + RESULT_LIMIT
        return
    assert rows == rows_e, backend[0]
    if name == "malformed":
        assert status == 400 and "not valid SPARQL" in section
    else:
        assert status == 200 and "<h2>Answer</h2>" in section and (name == "ask" or len(rows) > 1)
