"""Every rule of the /sparql endpoint, through the Flask test client (names: <method>_sparql_<case>)."""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import quote

import pytest
import rdflib
from rdflib.namespace import RDF

from haven.web.sparql import safety
from haven.web.sparql.routes import CAPPED_HEADER, query_admission
from plugins.release import fixture_triples

HID = "https://w3id.org/haven/id/"
HAVEN = "https://w3id.org/haven/ontology#"
HG = "https://w3id.org/haven/graph/"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
SELECT_ORGS = f"SELECT ?s WHERE {{ ?s a <{HAVEN}MilitantOrganization> }} ORDER BY ?s"
CONSTRUCT_AQ = f"CONSTRUCT {{ <{HID}al-qaeda> ?p ?o }} WHERE {{ <{HID}al-qaeda> ?p ?o }}"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
RDFLIB_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
                  "application/ld+json": "json-ld"}


def bindings(response) -> list[dict]:
    return json.loads(response.data)["results"]["bindings"]


def media_type(response) -> str:
    return response.headers["Content-Type"].split(";")[0].strip()


def parse_rdf(response) -> rdflib.Graph:
    return rdflib.Graph().parse(data=response.data, format=RDFLIB_FORMATS[media_type(response)])


# -- the three request forms -------------------------------------------------------------------------------

def test_get_sparql_query(client):
    response = client.get("/sparql", query_string={"query": SELECT_ORGS})
    assert response.status_code == 200
    assert media_type(response) == "application/sparql-results+json"
    assert [b["s"]["value"] for b in bindings(response)] == [HID + "al-qaeda", HID + "taliban"]


def test_post_sparql_form(client):
    response = client.post("/sparql", data={"query": SELECT_ORGS})
    assert response.status_code == 200
    assert len(bindings(response)) == 2


def test_post_sparql_direct(client):
    response = client.post("/sparql", data=SELECT_ORGS, content_type="application/sparql-query")
    assert response.status_code == 200
    assert len(bindings(response)) == 2


def test_post_sparql_direct_with_utf8_charset(client):
    response = client.post("/sparql", data=SELECT_ORGS.encode(), content_type="application/sparql-query; charset=UTF-8")
    assert response.status_code == 200


def test_post_sparql_direct_non_utf8_charset_415(client):
    response = client.post("/sparql", data="ASK {}".encode("utf-16"),
                           content_type="application/sparql-query; charset=UTF-16")
    assert response.status_code == 415


def test_post_sparql_direct_invalid_utf8_400(client):
    response = client.post("/sparql", data=b"ASK { ?s ?p '\xff' }", content_type="application/sparql-query")
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/form-data; boundary=x", None])
def test_post_sparql_other_body_types_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/sparql", data=b"query=ASK%20%7B%7D", headers=headers)
    assert response.status_code == 415
    assert "application/sparql-query" in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_sparql_405(client, method):
    response = getattr(client, method)("/sparql?query=ASK%20%7B%7D")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_get_sparql_with_body_400(client):
    response = client.get("/sparql?query=ASK%20%7B%7D", data=b"ASK {}", content_type="application/sparql-query")
    assert response.status_code == 400


def test_head_sparql_query(client):
    response = client.head("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 200 and response.data == b""
    assert media_type(response) == "application/sparql-results+json"


# -- parameters -----------------------------------------------------------------------------------------------

def test_get_sparql_multiple_queries_400(client):
    response = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D")
    assert response.status_code == 400


def test_post_sparql_form_query_in_url_and_body_400(client):
    response = client.post("/sparql?query=ASK%20%7B%7D", data={"query": "ASK {}"})
    assert response.status_code == 400


def test_post_sparql_direct_query_in_url_too_400(client):
    response = client.post("/sparql?query=ASK%20%7B%7D", data="ASK {}", content_type="application/sparql-query")
    assert response.status_code == 400


def count_query(client, **params):
    response = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **params})
    assert response.status_code == 200
    return int(bindings(response)[0]["n"]["value"])


def test_get_sparql_default_graph_is_union_of_named_graphs(client, release_dir):
    assert count_query(client) == json.loads((release_dir / "manifest.json").read_text())["triples"]


def test_get_sparql_default_graph_uri(client):
    assert count_query(client, **{"default-graph-uri": HG + "derived"}) == fixture_triples("derived")


def test_get_sparql_several_default_graph_uris_are_merged(client):
    merged = count_query(client, **{"default-graph-uri": [HG + "derived", HG + "metadata"]})
    assert merged == fixture_triples("derived", "metadata")


def test_get_sparql_unknown_default_graph_is_empty(client):
    assert count_query(client, **{"default-graph-uri": "http://example.org/elsewhere"}) == 0


def test_post_sparql_form_dataset_in_url_and_body_merge(client):
    response = client.post(
        f"/sparql?named-graph-uri={quote(HG + 'data')}",
        data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
              "named-graph-uri": HG + "derived"},
    )
    assert [b["g"]["value"] for b in bindings(response)] == [HG + "data", HG + "derived"]


def test_post_sparql_direct_named_graph_uri_restricts_graph(client):
    response = client.post(f"/sparql?named-graph-uri={quote(HG + 'metadata')}",
                           data="SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                           content_type="application/sparql-query")
    assert [b["g"]["value"] for b in bindings(response)] == [HG + "metadata"]


def test_get_sparql_protocol_dataset_wins_over_from(client):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{HG}data> WHERE {{ ?s ?p ?o }}"
    plain = client.get("/sparql", query_string={"query": query})
    assert int(bindings(plain)[0]["n"]["value"]) == fixture_triples("data")
    overridden = client.get("/sparql", query_string={"query": query, "default-graph-uri": HG + "metadata"})
    assert int(bindings(overridden)[0]["n"]["value"]) == fixture_triples("metadata")


# -- formats ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "accept, expected",
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
        ("*/*", "application/sparql-results+json"),
        (None, "application/sparql-results+json"),
    ],
)
def test_get_sparql_select_formats_by_accept(client, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": SELECT_ORGS}, headers=headers)
    assert response.status_code == 200
    assert media_type(response) == expected
    assert HID + "taliban" in response.get_data(as_text=True)


def test_get_sparql_text_results_declare_charset(client):
    response = client.get("/sparql", query_string={"query": SELECT_ORGS}, headers={"Accept": "text/csv"})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml"])
def test_get_sparql_ask_formats(client, accept):
    response = client.get("/sparql", query_string={"query": f"ASK {{ <{HID}taliban> ?p ?o }}"},
                          headers={"Accept": accept})
    assert media_type(response) == accept
    assert b"true" in response.data


@pytest.mark.parametrize("accept", list(RDFLIB_FORMATS))
def test_get_sparql_construct_formats_parse_with_rdflib(client, shared_store, accept):
    response = client.get("/sparql", query_string={"query": CONSTRUCT_AQ}, headers={"Accept": accept})
    assert response.status_code == 200
    assert media_type(response) == accept
    graph = parse_rdf(response)
    assert (rdflib.URIRef(HID + "al-qaeda"), RDF.type, rdflib.URIRef(HAVEN + "MilitantOrganization")) in graph
    assert graph.isomorphic(shared_store.graph(CONSTRUCT_AQ))


def test_get_sparql_construct_default_is_turtle(client):
    response = client.get("/sparql", query_string={"query": CONSTRUCT_AQ})
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"


def test_get_sparql_describe_is_rdf(client):
    response = client.get("/sparql", query_string={"query": f"DESCRIBE <{HID}taliban>"},
                          headers={"Accept": "application/n-triples"})
    assert media_type(response) == "application/n-triples"
    assert len(parse_rdf(response)) > 0


@pytest.mark.parametrize(
    "query, fmt, expected",
    [(SELECT_ORGS, "csv", "text/csv"), (SELECT_ORGS, "tsv", "text/tab-separated-values"),
     (SELECT_ORGS, "xml", "application/sparql-results+xml"), (SELECT_ORGS, "json", "application/sparql-results+json"),
     (CONSTRUCT_AQ, "ttl", "text/turtle"), (CONSTRUCT_AQ, "turtle", "text/turtle"),
     (CONSTRUCT_AQ, "nt", "application/n-triples"), (CONSTRUCT_AQ, "rdfxml", "application/rdf+xml"),
     (CONSTRUCT_AQ, "jsonld", "application/ld+json")],
)
def test_get_sparql_format_parameter(client, query, fmt, expected):
    response = client.get("/sparql", query_string={"query": query, "format": fmt},
                          headers={"Accept": "text/html,*/*;q=0.8"})
    assert media_type(response) == expected


def test_post_sparql_form_format_parameter(client):
    response = client.post("/sparql", data={"query": SELECT_ORGS, "format": "csv"})
    assert media_type(response) == "text/csv"


def test_get_sparql_unknown_format_parameter_is_ignored(client):
    """format= is an alternative to Accept: a value naming nothing leaves Accept to decide (issue 10)."""
    response = client.get("/sparql", query_string={"query": SELECT_ORGS, "format": "yaml"})
    assert response.status_code == 200 and media_type(response) == "application/sparql-results+json"


def test_get_sparql_format_parameter_does_not_override_accept(client):
    response = client.get("/sparql", query_string={"query": SELECT_ORGS, "format": "csv"},
                          headers={"Accept": "application/sparql-results+xml"})
    assert media_type(response) == "application/sparql-results+xml"


def test_get_sparql_accept_nothing_producible_406_lists_offers(client):
    response = client.get("/sparql", query_string={"query": SELECT_ORGS}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    text = response.get_data(as_text=True)
    for offered in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                    "text/tab-separated-values"):
        assert offered in text


@pytest.mark.parametrize("query, accept, expected", [
    (SELECT_ORGS, "text/turtle", "application/sparql-results+json"),
    (CONSTRUCT_AQ, "application/sparql-results+json", "text/turtle"),
    (CONSTRUCT_AQ, "text/csv", "text/turtle"),
    (f"ASK {{ <{HID}al-qaeda> ?p ?o }}", "application/rdf+xml", "application/sparql-results+json"),
])
def test_get_sparql_accept_for_another_query_form_gets_the_default(client, query, accept, expected):
    """rdflib's SPARQLStore sends one Accept header whatever the query: the form's default, as Fuseki does."""
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200 and media_type(response) == expected


@pytest.mark.parametrize("query, accept, expected", [
    (SELECT_ORGS, "application/json", "application/sparql-results+json"),
    (SELECT_ORGS, "application/xml", "application/sparql-results+xml"),
    (CONSTRUCT_AQ, "application/json", "application/ld+json"),
    (CONSTRUCT_AQ, "application/xml", "application/rdf+xml"),
    (CONSTRUCT_AQ, "text/plain", "application/n-triples"),
    (None, "application/json", "application/ld+json"),
])
def test_get_sparql_generic_media_types(client, query, accept, expected):
    response = client.get("/sparql", query_string={"query": query} if query else {}, headers={"Accept": accept})
    assert response.status_code == 200 and media_type(response) == expected


def test_get_sparql_accept_q0_excludes(client):
    response = client.get("/sparql", query_string={"query": SELECT_ORGS},
                          headers={"Accept": "application/sparql-results+json;q=0, */*;q=0.1"})
    assert media_type(response) == "application/sparql-results+xml"


@pytest.mark.parametrize("query", [SELECT_ORGS, None])
def test_sparql_responses_vary_on_accept(client, query):
    response = client.get("/sparql", query_string={"query": query} if query else {})
    assert "Accept" in response.headers["Vary"]


# -- service description ------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [None, "*/*", *RDFLIB_FORMATS])
def test_get_sparql_no_query_is_service_description(client, accept, release_dir):
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    if accept in (None, "*/*"):
        assert media_type(response) == "text/turtle"
    graph = parse_rdf(response)
    endpoint = rdflib.URIRef("http://localhost/sparql")
    assert (endpoint, RDF.type, SD.Service) in graph
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.feature, SD.UnionDefaultGraph) in graph
    formats = set(graph.objects(endpoint, SD.resultFormat))
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert rdflib.URIRef("http://www.w3.org/ns/formats/Turtle") in formats
    assert len(formats) == 8
    names = set(graph.objects(None, SD.name))
    assert names == {rdflib.URIRef(g) for g in json.loads((release_dir / "manifest.json").read_text())["graphs"]}


def test_post_sparql_form_without_query_is_service_description(client):
    response = client.post("/sparql", data={"default-graph-uri": HG + "data"})
    assert response.status_code == 200 and media_type(response) == "text/turtle"


def test_get_sparql_browser_gets_html_query_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert b"<form" in response.data or b"<textarea" in response.data


def test_get_sparql_service_description_406(client):
    response = client.get("/sparql", headers={"Accept": "application/pdf"})
    assert response.status_code == 406


# -- read-only and safe --------------------------------------------------------------------------------------

UPDATE = "INSERT DATA { GRAPH <https://w3id.org/haven/graph/data> { <http://e/s> <http://e/p> <http://e/o> } }"


def assert_unchanged(client):
    response = client.get("/sparql", query_string={"query": "ASK { GRAPH ?g { <http://e/s> ?p ?o } }"})
    assert json.loads(response.data)["boolean"] is False


def test_post_sparql_update_direct_403(client):
    response = client.post("/sparql", data=UPDATE, content_type="application/sparql-update")
    assert response.status_code == 403
    assert "read-only" in response.get_data(as_text=True)
    assert_unchanged(client)


def test_post_sparql_update_form_403(client):
    response = client.post("/sparql", data={"update": UPDATE})
    assert response.status_code == 403
    assert_unchanged(client)


def test_get_sparql_update_param_403(client):
    response = client.get("/sparql", query_string={"update": "CLEAR ALL"})
    assert response.status_code == 403
    assert count_query(client) > 0


@pytest.mark.parametrize("text", [UPDATE, "PREFIX ex: <http://e/> DELETE WHERE { ?s ?p ?o }", "LOAD <http://e/x>",
                                  "CLEAR ALL", "DROP GRAPH <https://w3id.org/haven/graph/data>",
                                  "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"])
def test_get_sparql_update_in_query_param_403(client, text):
    response = client.get("/sparql", query_string={"query": text})
    assert response.status_code == 403
    assert response.get_data(as_text=True).strip() == safety.UPDATE_MESSAGE
    assert_unchanged(client)


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<1).SERVICE#>\n<http://127.0.0.1:9/> { ?s ?p ?o } }",
])
def test_get_sparql_service_403(client, text):
    response = client.get("/sparql", query_string={"query": text})
    assert response.status_code == 403
    assert "SERVICE" in response.get_data(as_text=True)


def test_get_sparql_word_service_in_strings_and_names_is_fine(client):
    query = ('PREFIX service: <http://e/> SELECT ?service WHERE { BIND("SERVICE <http://x/> {}" AS ?service) '
             "# SERVICE <http://x/>\n }")
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200


def test_get_sparql_syntax_error_400_with_parser_message(client):
    response = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "error at 1:" in response.get_data(as_text=True)


def test_get_sparql_not_a_query_400(client):
    response = client.get("/sparql", query_string={"query": "hello"})
    assert response.status_code == 400


# -- limits ---------------------------------------------------------------------------------------------------

def test_get_sparql_result_cap_header_and_json_link(make_app):
    client = make_app(result_limit=3).test_client()
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers[CAPPED_HEADER] == "true; limit=3"
    data = json.loads(response.data)
    assert len(data["results"]["bindings"]) == 3
    assert data["head"]["link"] == ["http://localhost/sparql#result-limit"]


def test_get_sparql_result_cap_construct(make_app):
    client = make_app(result_limit=3).test_client()
    response = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/n-triples"})
    assert response.headers[CAPPED_HEADER] == "true; limit=3"
    assert len(parse_rdf(response)) == 3


def test_get_sparql_uncapped_has_no_cap_header(make_app):
    client = make_app(result_limit=3).test_client()
    response = client.get("/sparql", query_string={"query": SELECT_ORGS})
    assert CAPPED_HEADER not in response.headers
    assert "link" not in json.loads(response.data)["head"]


def test_service_description_explains_the_cap(make_app):
    client = make_app(result_limit=3).test_client()
    graph = parse_rdf(client.get("/sparql"))
    comment = graph.value(rdflib.URIRef("http://localhost/sparql#result-limit"), rdflib.RDFS.comment)
    assert "at most 3 rows" in str(comment)


def test_get_sparql_timeout_503_not_truncated(make_app):
    client = make_app(query_timeout=0.5).test_client()
    started = time.monotonic()
    response = client.get("/sparql", query_string={"query": ENDLESS})
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert "time limit" in response.get_data(as_text=True)
    # the endpoint keeps answering afterwards
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_post_sparql_body_too_large_413(make_app):
    client = make_app(max_query_bytes=200).test_client()
    big = "ASK { " + "?s ?p ?o . " * 50 + "}"
    assert client.post("/sparql", data=big, content_type="application/sparql-query").status_code == 413
    assert client.post("/sparql", data={"query": big}).status_code == 413
    assert client.get("/sparql", query_string={"query": big}).status_code == 413
    assert client.post("/sparql", data="ASK {}", content_type="application/sparql-query").status_code == 200


def _hold_a_slot(app, client_address: str, results: dict) -> threading.Thread:
    """A query from `client_address` that holds a slot until the app's time limit; returns once it holds it."""
    client = app.test_client()
    slow = threading.Thread(target=lambda: results.setdefault("slow", client.get(
        "/sparql", query_string={"query": ENDLESS}, environ_base={"REMOTE_ADDR": client_address})))
    slow.start()
    admission = query_admission(app)
    deadline = time.monotonic() + 10
    while admission.stats().running < 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # polls for the state; no assertion rests on the time
    assert admission.stats().running == 1
    return slow


def _ask(app, client_address: str):
    return app.test_client().get("/sparql", query_string={"query": "ASK {}"},
                                 environ_base={"REMOTE_ADDR": client_address})


@pytest.mark.slow  # holds the only slot until the 2 s time limit
def test_get_sparql_query_waits_for_a_slot_rather_than_refused(make_app):
    app = make_app(max_concurrent_queries=1, query_timeout=2)
    results = {}
    slow = _hold_a_slot(app, "192.0.2.1", results)
    try:
        assert _ask(app, "192.0.2.2").status_code == 200  # queued behind the slow one, then answered
    finally:
        slow.join()
    assert results["slow"].status_code == 503  # the slow one hit the time limit
    stats = query_admission(app).stats()
    assert (stats.admitted, stats.waited, stats.refused_busy) == (2, 1, 0)


@pytest.mark.slow  # holds the only slot until the 3 s time limit
def test_get_sparql_queue_wait_bounded_then_503_retry_after(make_app):
    app = make_app(max_concurrent_queries=1, query_timeout=3, query_queue_timeout=0.2)
    results = {}
    slow = _hold_a_slot(app, "192.0.2.1", results)
    try:
        refused = _ask(app, "192.0.2.2")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert query_admission(app).stats().refused_busy == 1
    finally:
        slow.join()
    assert results["slow"].status_code == 503
    assert _ask(app, "192.0.2.2").status_code == 200


@pytest.mark.slow  # holds a slot until the 2 s time limit
def test_get_sparql_client_over_its_limit_429_others_served(make_app):
    app = make_app(max_concurrent_queries=2, max_client_queries=1, query_timeout=2)
    results = {}
    slow = _hold_a_slot(app, "192.0.2.1", results)
    try:
        over = _ask(app, "192.0.2.1")
        assert over.status_code == 429
        assert over.headers["Retry-After"] == "1"
        assert "as many queries running or waiting as one client may (1)" in over.get_data(as_text=True)
        # another client gets the slot the first one may not take
        assert _ask(app, "192.0.2.2").status_code == 200
    finally:
        slow.join()
    assert _ask(app, "192.0.2.1").status_code == 200


# -- CORS ----------------------------------------------------------------------------------------------------

def test_get_sparql_cors_header(client):
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://yasgui.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert CAPPED_HEADER in response.headers["Access-Control-Expose-Headers"]


def test_error_responses_carry_cors_too(client):
    response = client.get("/sparql", query_string={"query": "ASK {"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_options_sparql_preflight_204(client):
    response = client.options("/sparql", headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "OPTIONS"}
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "accept"} <= allowed


def test_cors_off_sends_no_cors_headers(make_app):
    client = make_app(cors=False).test_client()
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert "Access-Control-Allow-Origin" not in response.headers


# -- app ------------------------------------------------------------------------------------------------------

def test_healthz(client, release_dir):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok",
                                   "release": json.loads((release_dir / "manifest.json").read_text())["id"]}


def test_unknown_path_404_plain_text(client):
    response = client.get("/no-such-thing-here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_create_app_from_dict_and_unknown_setting(build_dir, shared_store):
    from haven import create_app

    app = create_app({"build_dir": str(build_dir), "result_limit": 7, "TESTING": True}, store=shared_store)
    assert app.config["HAVEN_SETTINGS"].result_limit == 7 and app.config["TESTING"] is True
    assert app.extensions["haven"] is shared_store
    assert [key for key, value in app.extensions.items() if value is shared_store] == ["haven"]
    with pytest.raises(ValueError, match="unknown settings"):
        create_app({"resultlimit": 7}, store=shared_store)
