"""Triple Pattern Fragments at /fragments (haven.web.fragments): Hydra controls, counts and paging, the
formats, literal objects, blank nodes as skolem IRIs, 400 for what is not a pattern, validators, and the
dataset description pointing at it. The real TPF client (Comunica) is driven in test_fragments_client.py.

Expected counts come from /sparql on the same app, so each check compares two routes over one release.
"""
from __future__ import annotations

import html
import json
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, RDF, VOID, XSD

from haven.config import Settings
from haven.iris import iris_for
from haven.store.embedded import EmbeddedStore
from haven.store.remote import RemoteStore
from haven.web.app import create_app
from haven.web.fragments.fragment import PAGE_SIZE, BlankNodes, BlankNodeTable
from plugins.answers import sparql
from plugins.release import settings_for, write_release

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
NS = iris_for()
HAVEN, HID = NS.haven, NS.hid
OA = Namespace("http://www.w3.org/ns/oa#")
SKOS_PREF = URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")
TRIG = {"Accept": "application/trig"}


def url(**params) -> str:
    query = "&".join(f"{name}={quote(str(value), safe='')}" for name, value in params.items())
    return "/fragments" + ("?" + query if query else "")


def fetch(client, path: str) -> tuple[Graph, Graph, URIRef]:
    """(data, metadata, page IRI) of a TriG fragment page."""
    response = client.get(path, headers=TRIG)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/trig")
    dataset = Dataset()
    dataset.parse(data=response.get_data(as_text=True), format="trig")
    page = URIRef("http://localhost" + path)
    meta = dataset.graph(URIRef(page + "#metadata"))
    return dataset.default_graph, meta, page


def distinct_count(client, where: str) -> int:
    rows = json.loads(sparql(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT * WHERE {{ {where} }} }}")
                      .get_data(as_text=True))["results"]["bindings"]
    return int(rows[0]["n"]["value"])


def test_get_fragments_has_hydra_controls_a_tpf_client_finds(client):
    _, meta, page = fetch(client, url())
    dataset = URIRef("http://localhost/fragments#dataset")
    # Comunica's rule: the metadata graph is the primary topic of the dataset that has the page as a subset
    assert (dataset, VOID.subset, page) in meta
    assert (meta.identifier, FOAF.primaryTopic, dataset) in meta
    form = meta.value(dataset, HYDRA.search)
    assert str(meta.value(form, HYDRA.template)) == "http://localhost/fragments{?subject,predicate,object}"
    assert meta.value(form, HYDRA.variableRepresentation) == HYDRA.ExplicitRepresentation
    mapped = {str(meta.value(m, HYDRA.variable)): meta.value(m, HYDRA.property) for m in meta.objects(form, HYDRA.mapping)}
    assert mapped == {"subject": RDF.subject, "predicate": RDF.predicate, "object": RDF.object}
    assert meta.value(page, HYDRA.itemsPerPage).toPython() == PAGE_SIZE


def test_get_fragments_pages_cover_the_default_graph_once(client):
    """Following hydra:next from the first page yields every triple of the default graph exactly once, the
    count on each page is the number of distinct triples /sparql sees, and the last page has no next."""
    total = distinct_count(client, "?s ?p ?o")
    assert total > 2 * PAGE_SIZE  # at least three pages, so that first, next and previous are all exercised
    seen: list = []
    path, number = url(), 1
    while path:
        data, meta, page = fetch(client, path)
        assert meta.value(page, HYDRA.totalItems).toPython() == total
        assert meta.value(page, VOID.triples).toPython() == total
        assert meta.value(page, HYDRA.first) == URIRef("http://localhost/fragments")
        if number > 1:
            assert meta.value(page, HYDRA.previous) == URIRef(
                "http://localhost" + (url(page=number - 1) if number > 2 else url()))
        seen += list(data)
        following = meta.value(page, HYDRA.next)
        assert (following is None) == (number * PAGE_SIZE >= total)
        path = str(following).removeprefix("http://localhost") if following else None
        number += 1
    assert len(seen) == len(set(seen)) == total


def test_get_fragments_count_matches_sparql_for_a_predicate(client):
    data, meta, page = fetch(client, url(predicate=RDF.type))
    assert meta.value(page, HYDRA.totalItems).toPython() == distinct_count(client, f"?s <{RDF.type}> ?o")
    assert data and all(p == RDF.type for _, p, _ in data)


def test_get_fragments_past_the_last_page_is_empty_with_its_count(client):
    data, meta, page = fetch(client, url(predicate=RDF.type, page=999))
    assert len(data) == 0
    assert meta.value(page, HYDRA.totalItems).toPython() > 0
    assert meta.value(page, HYDRA.next) is None


@pytest.mark.parametrize("query", ["subject=%22a%20literal%22", "predicate=%22a%22",
                                   # what Comunica asked while walking CQ17's rdfs:subPropertyOf* from a literal
                                   "subject=%227730%22%5E%5Ehttp%3A%2F%2Fwww.w3.org%2F2001%2FXMLSchema%23integer"
                                   "&predicate=http%3A%2F%2Fwww.w3.org%2F2000%2F01%2Frdf-schema%23subPropertyOf"])
def test_get_fragments_literal_subject_or_predicate_is_an_empty_fragment(client, query):
    """No triple has a literal subject or predicate: the fragment is empty with a count of 0 (it was a 400,
    which stopped Comunica's property-path walk, so CQ17 had no answer through TPF)."""
    response = client.get("/fragments?" + query, headers=TRIG)
    assert response.status_code == 200
    data, meta, page = fetch(client, "/fragments?" + query)
    assert len(data) == 0 and meta.value(page, HYDRA.totalItems).toPython() == 0


@pytest.mark.parametrize("value, matches", [
    ('"al-Qaeda"@en', True),
    ('"al-Qaeda"@EN', True),  # language tags are case-insensitive
    ('"al-Qaeda"', False),  # a plain string is not the language-tagged literal
    ('"al-Qaeda"@fr', False),
])
def test_get_fragments_literal_object_with_language(client, value, matches):
    data, _, _ = fetch(client, url(predicate=SKOS_PREF, object=value))
    assert ((HID["al-qaeda"], SKOS_PREF, Literal("al-Qaeda", lang="en")) in data) == matches


@pytest.mark.parametrize("value", [
    f'"163"^^{XSD.integer}',  # as Comunica writes it
    f'"163"^^<{XSD.integer}>',  # as the specification's examples write it
])
def test_get_fragments_typed_literal_object_reaches_a_blank_node(client, value):
    data, _, _ = fetch(client, url(object=value))
    assert len(data) == distinct_count(client, f"?s ?p {value if value.endswith('>') else value.replace('^^', '^^<') + '>'}")
    assert OA.start in set(data.predicates())
    for subject, _, obj in data:
        assert obj == Literal(163, datatype=XSD.integer)
        assert NS.skolem_id(str(subject)), f"{subject} is not one of our skolem IRIs"


def test_get_fragments_skolem_iris_can_be_asked_for_in_both_positions(client):
    """evidence → its node → its selector → the selector's offsets, each step a fragment, as a TPF client
    joins them; and the skolem IRI as object leads back to the statement."""
    statement = NS.hst["taliban-sanctuary-al-qaeda"]
    data, _, _ = fetch(client, url(subject=statement, predicate=HAVEN.evidence))
    (_, _, evidence), = data
    assert NS.skolem_id(str(evidence))
    node, _, _ = fetch(client, url(subject=evidence))
    assert (evidence, RDF.type, OA.SpecificResource) in node
    selector = node.value(evidence, OA.hasSelector)
    offsets, _, _ = fetch(client, url(subject=selector))
    assert offsets.value(selector, OA.start) is not None and offsets.value(selector, OA.end) is not None
    back, _, _ = fetch(client, url(object=evidence))
    assert set(back) == {(statement, HAVEN.evidence, evidence)}
    narrowed, _, _ = fetch(client, url(subject=evidence, predicate=RDF.type, object=OA.SpecificResource))
    assert set(narrowed) == {(evidence, RDF.type, OA.SpecificResource)}
    unknown, meta, page = fetch(client, url(subject=NS.skolem_iri("0" * 32)))
    assert len(unknown) == 0 and meta.value(page, HYDRA.totalItems).toPython() == 0


def test_blank_node_ids_do_not_depend_on_the_store_labels(shared_store, release_dir):
    """pyoxigraph draws new blank node labels at every load (each replica, each restart, the on-disk copy):
    the skolem ids must come out the same from another load of the same release."""
    again = EmbeddedStore(release_dir, workers=1)
    try:
        first, second = BlankNodes.read(shared_store, NS), BlankNodes.read(again, NS)
    finally:
        again.close()
    assert set(first.id_of) != set(second.id_of)  # the labels differ...
    assert sorted(first.id_of.values()) == sorted(second.id_of.values())  # ...the ids do not
    assert first.triples == second.triples  # nor the triples, in the fragments' order
    assert len(set(first.id_of.values())) == len(first.id_of)  # and tell every blank node of the release apart


def test_get_fragments_all_three_terms_is_a_yes_or_no(client):
    triple = dict(subject=HID["al-qaeda"], predicate=SKOS_PREF, object='"al-Qaeda"@en')
    data, meta, page = fetch(client, url(**triple))
    assert len(data) == 1 and meta.value(page, HYDRA.totalItems).toPython() == 1
    data, meta, page = fetch(client, url(**{**triple, "object": '"no such name"@en'}))
    assert len(data) == 0 and meta.value(page, HYDRA.totalItems).toPython() == 0


def test_get_fragments_leaves_out_the_hedged_graph(client):
    """The default graph a fragment reads is /sparql's: the hedged graph stays out."""
    hedged = distinct_count(client, f"GRAPH <{NS.graphs['hedged']}> {{ ?s ?p ?o }}")
    everything = distinct_count(client, "?s ?p ?o")
    _, meta, page = fetch(client, url())
    assert meta.value(page, HYDRA.totalItems).toPython() == everything
    assert hedged == 0 or everything < everything + hedged


@pytest.mark.parametrize("query, reason", [
    ("subject=not%20an%20iri", "subject"),
    ("subject=relative/path", "subject"),
    ("object=_%3Ab0", "blank node"),
    ("object=%22unterminated", "literal"),
    ("object=%22x%22%40not%20a%20tag", "object"),
    ("object=%22x%22%5E%5Enot-an-iri", "datatype"),
    (f"object=%22x%22%5E%5E{quote(str(RDF.langString), safe='')}", "@lang"),
    ("object=http%3A%2F%2Fx%2F%3Ca%3E", "object"),
    ("page=0", "page"),
    ("page=-1", "page"),
    ("page=two", "page"),
    ("page=%EF%BC%92", "page"),  # a full-width digit is a digit to str.isdigit, not to the URL
    ("page=99999999999", "page"),
    ("subject=http%3A%2F%2Fa&subject=http%3A%2F%2Fb", "given 2 times"),
])
def test_get_fragments_bad_parameter_400(client, query, reason):
    response = client.get("/fragments?" + query, headers=TRIG)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert reason in response.get_data(as_text=True)


@pytest.mark.parametrize("accept, media_type, rdflib_format", [
    ("application/trig", "application/trig", "trig"),
    ("application/n-quads", "application/n-quads", "nquads"),
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
])
def test_get_fragments_rdf_formats_hold_the_same_triples(client, accept, media_type, rdflib_format):
    path = url(predicate=SKOS_PREF)
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    if rdflib_format == "json-ld":  # the published context, read from the app rather than over the network
        doc = json.loads(body)
        doc["@context"] = json.loads(client.get("/context.jsonld").data)["@context"]
        body = json.dumps(doc)
    parsed = Dataset()
    parsed.parse(data=body, format=rdflib_format, publicID="http://localhost/")
    found = {(s, p, o) for s, p, o, _ in parsed.quads((None, None, None, None))}
    data, meta, _ = fetch(client, path)
    assert set(data) | set(meta) == found


def test_get_fragments_html_is_a_form_with_the_triples(client):
    response = client.get(url(predicate=SKOS_PREF), headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<form id="triple-pattern" class="fragment-form" method="get"' in page and 'name="object"' in page
    assert f'value="{SKOS_PREF}"' in page
    assert "al-Qaeda" in page and 'href="http://localhost/page/al-qaeda"' in page
    assert f'id="fragment-total">{distinct_count(client, f"?s <{SKOS_PREF}> ?o")}<' in page
    # each term links to the fragment of the triples that have it in the same position, literals included
    links = {html.unescape(href) for href in re.findall(r'class="as-pattern" href="([^"]+)"', page)}
    literal = next(link for link in links if "object=%22al-Qaeda%22%40en" in link)
    data, _, _ = fetch(client, literal.removeprefix("http://localhost"))
    assert (HID["al-qaeda"], SKOS_PREF, Literal("al-Qaeda", lang="en")) in data


def test_get_fragments_not_acceptable_406(client):
    response = client.get(url(), headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_get_fragments_is_cacheable_per_release_and_pattern(client):
    first = client.get(url(predicate=RDF.type), headers=TRIG)
    assert "max-age=" in first.headers["Cache-Control"] and first.headers["ETag"]
    again = client.get(url(predicate=RDF.type), headers={**TRIG, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    # another pattern on the same path is another document: the client's copy of the first is not it
    other = client.get(url(predicate=SKOS_PREF), headers={**TRIG, "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]
    head = client.head(url(predicate=RDF.type), headers=TRIG)
    assert head.status_code == 200 and head.headers["ETag"] == first.headers["ETag"]


def test_get_void_advertises_the_fragments(client):
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    dataset = NS.dataset_iri
    assert graph.value(dataset, VOID.uriLookupEndpoint) == URIRef(f"{NS.fragments_iri}?subject=")
    form = graph.value(dataset, HYDRA.search)
    assert str(graph.value(form, HYDRA.template)) == f"{NS.fragments_iri}{{?subject,predicate,object}}"


def test_get_landing_links_the_fragments(client):
    page = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/fragments"' in page


@pytest.mark.live  # a real Oxigraph server
def test_get_fragments_over_a_remote_store_are_the_embedded_stores(client, oxigraph_server, build_dir):
    """Every page of the whole default graph, and the blank nodes' skolem IRIs in them, come out the same
    from a real Oxigraph server as from the embedded store (which labels its blank nodes otherwise)."""
    settings = Settings(build_dir=build_dir, store=oxigraph_server.query_url)
    store = RemoteStore(oxigraph_server.query_url, settings)
    remote = create_app(settings, store=store)
    remote.config["TESTING"] = True
    try:
        for path in (url(), url(page=2), url(page=3), url(predicate=HAVEN.evidence), url(object='"al-Qaeda"@en')):
            embedded_data, embedded_meta, _ = fetch(client, path)
            remote_data, remote_meta, _ = fetch(remote.test_client(), path)
            assert set(remote_data) == set(embedded_data) and len(embedded_data) > 0, path
            assert set(remote_meta) == set(embedded_meta), path
        (_, _, evidence), *_ = fetch(remote.test_client(), url(predicate=HAVEN.evidence))[0]
        node, _, _ = fetch(remote.test_client(), url(subject=evidence))
        assert (evidence, RDF.type, OA.SpecificResource) in node
    finally:
        store.close()


@pytest.mark.slow  # loads the release twice
def test_get_fragments_pages_of_blank_nodes_are_the_same_after_another_load(tmp_path):
    """More blank nodes than a page holds: two servers that loaded the same release (each labelling its blank
    nodes its own way, as two replicas or a restart do) cut the fragment into the same pages, so that a client
    paging across them neither misses nor repeats a triple."""
    selectors = " , ".join(f"[ oa:start {n} ]" for n in range(2 * PAGE_SIZE + 30))
    write_release(tmp_path / "build", extra_trig=f"hg:data {{ hid:al-qaeda haven:evidence {selectors} . }}")
    apps = [create_app(settings_for(tmp_path / "build")) for _ in range(2)]
    try:
        pages = [[set(fetch(app.test_client(), url(predicate=OA.start, page=n))[0]) for n in (1, 2, 3)]
                 for app in apps]
    finally:
        for app in apps:
            app.extensions["haven"].close()
    assert pages[0] == pages[1]
    assert sum(len(page) for page in pages[0]) == len(set().union(*pages[0])) >= 2 * PAGE_SIZE + 30


@pytest.mark.parametrize("query, literal", [
    ('object="al-Qaeda"@en', '"al-Qaeda"@en'),  # as curl sends it: raw quotes
    ('object="al Qaeda"@en&extra=<>{}|^`', '"al Qaeda"@en'),
    ("object=%22Mazar%C4%81%22@en", '"Mazar\u0101"@en'),
])
def test_get_fragments_raw_characters_in_the_query_still_make_a_document(client, query, literal):
    """The page's IRI is the requested URL; what an IRI cannot hold is percent-encoded, never written raw."""
    matches = distinct_count(client, f"?s ?p {literal}")
    response = client.get("/fragments?" + query, headers=TRIG)
    assert response.status_code == 200
    dataset = Dataset()
    dataset.parse(data=response.get_data(as_text=True), format="trig")
    totals = [o.toPython() for _, _, o, _ in dataset.quads((None, HYDRA.totalItems, None, None))]
    assert totals and set(totals) == {matches}
    assert len(dataset.default_graph) == matches


def test_blank_node_table_is_read_once_by_concurrent_first_requests(shared_store):
    """A TPF client opens with several requests at once; they wait for one read of the table, not one each."""
    reads = []

    class Counting:
        query_timeout = shared_store.query_timeout

        def rows(self, query, timeout=None):
            reads.append(query)
            return shared_store.rows(query, timeout)

    table = BlankNodeTable()
    with ThreadPoolExecutor(max_workers=8) as pool:
        tables = list(pool.map(lambda _: table.get(Counting(), NS), range(8)))
    assert len(reads) == 1
    assert all(t is tables[0] for t in tables) and tables[0].triples


def test_get_skolem_iri_303_to_its_fragment_and_404_when_unknown(client):
    (_, _, evidence), *_ = fetch(client, url(predicate=HAVEN.evidence))[0]
    path = str(evidence).removeprefix(NS.base[:-1])
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost" + url(subject=evidence)
    assert "max-age" in response.headers["Cache-Control"]
    data, _, _ = fetch(client, response.headers["Location"].removeprefix("http://localhost"))
    assert (evidence, RDF.type, OA.SpecificResource) in data
    assert client.get("/.well-known/genid/" + "0" * 32).status_code == 404
    assert client.get("/.well-known/genid/not-an-id").status_code == 404
